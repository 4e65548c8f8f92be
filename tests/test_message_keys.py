"""The key scanner of tests/message_keys.py, on small synthetic apps: it finds planted unused and
missing keys, reads f-string families, and leaves alone strings that only look like keys."""

from pathlib import Path

from message_keys import ALLOWLIST, ROOT, app_sources, scan

from dcgan_core.i18n import load_catalog

CATALOGS = {
    "en": {
        "lesson.title": "Title",
        "lesson.mode_conv": "Convolution",
        "lesson.mode_pool": "Pooling",
        "lesson.slider_k": "Kernel",
        "lesson.slider_s": "Stride",
        "lesson.col_in": "In",
        "lesson.orphan": "Nobody shows this",
        "errors.bad": "Bad {value}",
    },
}
CATALOGS["zh"] = dict(CATALOGS["en"])


def write_app(tmp_path: Path, **files: str) -> list[Path]:
    paths = []
    for name, source in files.items():
        path = tmp_path / f"{name}.py"
        path.write_text(source, encoding="utf-8")
        paths.append(path)
    return paths


USES_ALL_BUT_ORPHAN = """
ui.t("lesson.title")
modes = {m: ui.t(f"lesson.mode_{m}") for m in ("conv", "pool")}
for name in ("k", "s"):
    ui.t(f"lesson.{f'slider_{name}'}")
COLUMNS = {"in_shape": "col_in"}
ui.t(f"lesson.{COLUMNS[column]}")
raise LabError("errors.bad", value=3)
"""


def test_a_planted_unused_key_is_found(tmp_path):
    report = scan(write_app(tmp_path, page=USES_ALL_BUT_ORPHAN), CATALOGS)
    assert report.unused == {"lesson.orphan"}
    assert report.missing == {}


def test_the_allowlist_counts_as_a_use(tmp_path):
    report = scan(write_app(tmp_path, page=USES_ALL_BUT_ORPHAN), CATALOGS, allowlist=["lesson.orphan"])
    assert report.unused == set()


def test_a_planted_missing_key_is_found(tmp_path):
    files = write_app(tmp_path, page=USES_ALL_BUT_ORPHAN, other='ui.t("lesson.orphan")\nui.t("lesson.titel")\n')
    report = scan(files, CATALOGS)
    assert report.unused == set()
    assert set(report.missing) == {"lesson.titel"}
    assert report.missing["lesson.titel"] == {str(tmp_path / "other.py")}


def test_a_key_only_one_language_has_is_missing(tmp_path):
    catalogs = {"en": CATALOGS["en"], "zh": {k: v for k, v in CATALOGS["zh"].items() if k != "lesson.title"}}
    report = scan(write_app(tmp_path, page=USES_ALL_BUT_ORPHAN), catalogs)
    assert "lesson.title" in report.missing


def test_a_family_that_matches_no_key_is_missing(tmp_path):
    report = scan(write_app(tmp_path, page='ui.t(f"lesson.shape_{m}")\n'), CATALOGS)
    assert set(report.missing) == {"lesson.shape_{…}"}


def test_a_family_counts_only_the_keys_it_matches(tmp_path):
    report = scan(write_app(tmp_path, page='ui.t(f"lesson.mode_{m}")\n'), CATALOGS)
    assert report.used == {"lesson.mode_conv", "lesson.mode_pool"}


def test_an_open_family_takes_its_endings_from_its_own_file(tmp_path):
    files = write_app(
        tmp_path,
        page='ui.t(f"lesson.{label}")\nLABELS = ["col_in"]\n',
        elsewhere='OTHER = ["slider_k", "orphan"]\n',
    )
    report = scan(files, CATALOGS)
    assert report.used == {"lesson.col_in"}


def test_an_open_family_is_also_completed_by_the_app_modules_its_file_imports(tmp_path):
    (tmp_path / "core").mkdir()
    (tmp_path / "pages").mkdir()
    (tmp_path / "core" / "sliders.py").write_text('SLIDERS = [("slider_k", 3), ("slider_s", 1)]\n')
    (tmp_path / "core" / "unrelated.py").write_text('COLUMNS = ["col_in"]\n')
    (tmp_path / "pages" / "lesson.py").write_text('from core.sliders import SLIDERS\nui.t(f"lesson.{name}")\n')
    report = scan(sorted(tmp_path.rglob("*.py")), CATALOGS)
    assert report.used == {"lesson.slider_k", "lesson.slider_s"}


def test_an_open_family_nothing_completes_is_missing(tmp_path):
    report = scan(write_app(tmp_path, page='ui.t(f"lesson.{label}")\n'), CATALOGS)
    assert set(report.missing) == {"lesson.{…}"}


def test_a_key_passed_to_t_is_a_key_whatever_its_namespace(tmp_path):
    report = scan(write_app(tmp_path, page='ui.t("lessen.title")\nLabError(f"nowhere.{x}")\n'), CATALOGS)
    assert set(report.missing) == {"lessen.title", "nowhere.{…}"}


def test_file_names_and_claim_ids_are_not_keys(tmp_path):
    source = 'open("lesson.json")\nClaim("lesson.claim_holds", "lesson", True, {}, {})\nClaim(f"lesson.k{k}", "x")\n'
    report = scan(write_app(tmp_path, page=source), CATALOGS)
    assert report.missing == {} and report.used == set()


def test_a_file_name_that_is_a_key_is_a_use(tmp_path):
    catalogs = {lang: {**c, "lesson.zip": "Zip"} for lang, c in CATALOGS.items()}
    report = scan(write_app(tmp_path, page='SOURCES = ["lesson.zip"]\n'), catalogs)
    assert report.used == {"lesson.zip"}


def test_allowlisted_keys_exist_and_say_why():
    catalog = load_catalog("en")
    assert all(key in catalog and len(reason) > 20 for key, reason in ALLOWLIST.items())


def test_app_sources_cover_the_app():
    names = {path.relative_to(ROOT).as_posix() for path in app_sources()}
    assert {
        "app.py",
        "ui.py",
        "classroom_ui.py",
        "pages/train.py",
        "dcgan_core/i18n.py",
        "dcgan_core/viz/sliding.py",
    } <= names
    assert not any(name.startswith(("tests/", "benchmarks/", "scripts/")) for name in names)
