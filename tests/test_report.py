"""benchmarks/report.py: RESULTS.md and the README's table come from the records, and --check catches a
figure edited by hand. Every benchmark script appends its record through benchmarks/record.py."""

import json
from pathlib import Path

import numpy as np

from benchmarks import classroom_load, report
from benchmarks.record import start_record

ROOT = Path(__file__).resolve().parent.parent

README_TEXT = f"# Lab\n\n## Performance\n\nprose\n\n{report.BEGIN}\n{report.END}\n\n## Next\n"


def convmatrix_figures(speedups, quick=False):
    cases = [{"i": 64, "k": 4, "s": 2, "p": 1, "vectorised_ms": 1.0, "naive_ms": s, "speedup": s} for s in speedups]
    return {"quick": quick, "cases": cases, "min_speedup": min(speedups)}


def write_records(folder, name, figures_list, loads):
    for figures, (start, _) in zip(figures_list, loads, strict=False):
        run = start_record(name, ["x.py", "--flag"], results_dir=folder)
        run.load_start = start
        line = run.finish(figures)
        assert line["figures"] == figures
    path = folder / f"{name}.jsonl"
    lines = path.read_text().splitlines()
    for n, (_, end) in enumerate(loads):  # the load at the end, as if the machine had been that busy
        entry = json.loads(lines[n])
        entry["load_1m_end"] = end
        lines[n] = json.dumps(entry)
    path.write_text("\n".join(lines) + "\n")


def paths(tmp_path):
    readme, results_md = tmp_path / "README.md", tmp_path / "RESULTS.md"
    readme.write_text(README_TEXT)
    return ["--results", str(tmp_path / "results"), "--readme", str(readme), "--results-md", str(results_md)]


def test_median_range_and_load_come_from_the_records_and_quick_runs_are_left_out(tmp_path):
    results = tmp_path / "results"
    write_records(
        results,
        "convmatrix_build",
        [
            convmatrix_figures([40.0]),
            convmatrix_figures([100.0]),
            convmatrix_figures([61.0]),
            convmatrix_figures([5.0], quick=True),
        ],
        [(1.5, 2.0), (3.25, 4.0), (0.5, 0.75), (30.0, 30.0)],
    )
    args = paths(tmp_path)
    assert report.main(args) == 0
    readme = (tmp_path / "README.md").read_text()
    row = next(line for line in readme.splitlines() if "convmatrix_build.py" in line)
    assert f"**{np.percentile([40, 100, 61], 50):.1f}× (40.0–100, 3 runs)**" in row
    assert "load 0.5–4.0" in row and "5.0" not in row  # the quick run is not a figure
    assert readme.startswith("# Lab\n\n## Performance\n\nprose\n\n") and readme.endswith("\n\n## Next\n")
    assert "no record yet" in next(line for line in readme.splitlines() if "page_rerun.py" in line)
    results_md = (tmp_path / "RESULTS.md").read_text()
    assert results_md.count("`python benchmarks/x.py --flag`") == 3
    assert report.main(["--check", *args]) == 0


def test_check_fails_when_a_figure_is_edited_by_hand_or_a_record_is_added(tmp_path, capsys):
    results = tmp_path / "results"
    write_records(
        results, "convmatrix_build", [convmatrix_figures([40.0]), convmatrix_figures([80.0])], [(1.0, 1.0), (1.0, 1.0)]
    )
    args = paths(tmp_path)
    report.main(args)
    readme = tmp_path / "README.md"
    good = readme.read_text()
    readme.write_text(good.replace("60.0×", "1,107×"))
    assert report.main(["--check", *args]) == 1
    assert "1,107×" in capsys.readouterr().out
    readme.write_text(good)
    assert report.main(["--check", *args]) == 0
    write_records(results, "convmatrix_build", [convmatrix_figures([90.0])], [(1.0, 1.0)])
    assert report.main(["--check", *args]) == 1  # a new record changes the median: render again


def test_check_fails_without_the_table_markers(tmp_path):
    args = paths(tmp_path)
    (tmp_path / "README.md").write_text("# Lab\n\nno table here\n")
    try:
        report.main(["--check", *args])
    except SystemExit as err:
        assert "markers" in str(err)
    else:
        raise AssertionError("a README without the markers passed the check")


def test_every_benchmark_appends_a_record():
    helpers = {"record.py", "report.py", "protocol_viewer.py", "live_http.py"}  # libraries, not benchmarks
    scripts = [p for p in (ROOT / "benchmarks").glob("*.py") if p.name not in helpers]
    assert len(scripts) >= 8
    for script in scripts:
        source = script.read_text()
        assert "start_record(" in source and ".finish(" in source, script.name


def test_percentiles_are_numpys(tmp_path):
    values = [0.1, 0.2, 0.4, 0.8, 3.0]
    assert report.median(values) == float(np.percentile(values, 50))
    assert classroom_load.percentile(values, 0.95) == float(np.percentile(values, 95))
