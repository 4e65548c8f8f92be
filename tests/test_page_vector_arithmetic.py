"""The vector-arithmetic lesson under AppTest.

Uses the shipped pretrained generator when it exists; otherwise a random-init
MNIST-shaped checkpoint stands in for it."""

import pytest
import torch
from page_helpers import open_app_page, shipped_or_stand_in

import ui
from dcgan_core import latent
from dcgan_core.checkpoint import load_generator

PAGE = "pages/vector_arithmetic.py"


@pytest.fixture
def generator(tmp_path, monkeypatch):
    return shipped_or_stand_in(tmp_path, monkeypatch)


def open_page(lang="en", **state):
    return open_app_page(PAGE, lang, state=state)


def result_table(at):
    return at.dataframe[0].value


def column(at, key):
    return result_table(at)[ui.translate(f"vector_arithmetic.col_{key}", at.session_state["lang"])]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_custom_groups_give_the_arithmetic_and_its_measurements(generator, lang):
    at = open_page(lang, va_preset="custom", va_A="10, 11, 12", va_B="13, 14, 15", va_C="16, 17, 18")
    netG, cfg = load_generator(generator)
    # the only warning allowed: that the result missed the digit group C reads as (and then it must say so)
    if at.warning:
        from dcgan_core import arithmetic_presets
        from dcgan_core.classifier import load_classifier

        classifier = load_classifier()
        target = arithmetic_presets.read_digits(
            latent.generate(netG, latent.z_from_seeds([16, 17, 18], cfg.nz)), classifier
        ).digit
        check = arithmetic_presets.check_arithmetic(
            netG, classifier, {"A": [10, 11, 12], "B": [13, 14, 15], "C": [16, 17, 18]}, target
        )
        assert not check.works
        assert [w.value for w in at.warning] == [
            ui.translate(
                "vector_arithmetic.target_missed",
                lang,
                target=target,
                votes=check.target_votes,
                total=9,
                digit=check.result.digit,
                minimum=7,
            )
        ]
        assert at.button(key="va_other_samples")
    groups = {
        g: latent.generate(netG, latent.z_from_seeds(s, cfg.nz))
        for g, s in {"A": [10, 11, 12], "B": [13, 14, 15], "C": [16, 17, 18]}.items()
    }
    z = latent.vector_arithmetic(*(latent.z_from_seeds(s, cfg.nz) for s in ([10, 11, 12], [13, 14, 15], [16, 17, 18])))
    nearby = latent.neighbours(z, 8, 0.25, seed=0)
    result = latent.generate(netG, torch.cat([nearby[:4], z[None], nearby[4:]]))
    for attribute, row in zip(latent.ATTRIBUTES, range(3), strict=False):
        assert column(at, "a").iloc[row] == pytest.approx(latent.measure(groups["A"])[attribute], abs=1e-5)
        assert column(at, "result").iloc[row] == pytest.approx(latent.measure(result)[attribute], abs=1e-5)
        pixel = latent.pixel_arithmetic(groups["A"], groups["B"], groups["C"])[None]
        assert column(at, "pixel").iloc[row] == pytest.approx(latent.measure(pixel)[attribute], abs=1e-5)
        expected = sum(s * latent.measure(groups[g])[attribute] for g, s in (("C", 1), ("A", 1), ("B", -1)))
        assert column(at, "expected").iloc[row] == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_fewer_than_three_in_a_group_says_so(generator, lang):
    at = open_page(lang, va_preset="custom", va_A="1, 2, 3", va_B="4, 5", va_C="")
    warnings = [w.value for w in at.warning]
    assert ui.translate("latent.too_few_in_group", lang, group="B", count=2, minimum=3) in warnings
    assert ui.translate("latent.too_few_in_group", lang, group="C", count=0, minimum=3) in warnings
    assert not at.dataframe, "no result may be shown with an incomplete group"


def test_editing_a_group_changes_the_result(generator):
    at = open_page(va_preset="custom", va_A="10, 11, 12", va_B="13, 14, 15", va_C="16, 17, 18")
    before = column(at, "result").tolist()
    at.text_input(key="va_C").input("20, 21, 22, 23").run()
    assert not at.exception
    assert column(at, "result").tolist() != before
    at.number_input(key="va_noise_seed").set_value(5).run()
    after_noise = column(at, "result").tolist()
    assert after_noise != before
    at.text_input(key="va_A").input("10, 11").run()
    assert ui.translate("latent.too_few_in_group", "en", group="A", count=2, minimum=3) in [w.value for w in at.warning]


def test_presets_pick_exemplars_by_class_and_attribute(generator):
    at = open_page()
    preset = at.selectbox(key="va_preset").value
    if preset == "custom":  # no classifier weights (a fresh checkout before scripts/train_classifier.py)
        assert at.info, "the page must say why presets are unavailable"
        return
    at.selectbox(key="va_preset").set_value("thickness").run()
    assert not at.exception
    if at.warning:  # this generator lacks confident 7s and 1s (e.g. the random-init stand-in)
        assert ui.translate(
            "vector_arithmetic.preset_failed", "en", preset=ui.translate("vector_arithmetic.preset_thickness", "en")
        ) in [w.value for w in at.warning]
        return
    from dcgan_core.classifier import load_classifier, predict

    netG, cfg = load_generator(generator)
    seeds = {g: latent.parse_seeds(at.text_input(key=f"va_{g}").value) for g in "ABC"}
    assert all(len(s) == 3 for s in seeds.values())
    images = {g: latent.generate(netG, latent.z_from_seeds(s, cfg.nz)) for g, s in seeds.items()}
    classifier = load_classifier()
    assert predict(images["A"], classifier).tolist() == [7, 7, 7]
    assert predict(images["B"], classifier).tolist() == [7, 7, 7]
    assert predict(images["C"], classifier).tolist() == [1, 1, 1]
    assert latent.ink(images["A"]).min() > latent.ink(images["B"]).max()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_shipped_presets_reach_their_target_and_say_so(lang):
    from dcgan_core import arithmetic_presets
    from dcgan_core.model_source import PRETRAINED_PATH

    presets = arithmetic_presets.presets_for_model(PRETRAINED_PATH)
    assert set(presets) == set(latent.PRESETS)
    for key, preset in presets.items():
        at = open_page(lang, va_preset=key)
        assert not at.warning, [w.value for w in at.warning]
        assert {g: latent.parse_seeds(at.text_input(key=f"va_{g}").value) for g in "ABC"} == preset.groups
        assert [s.value for s in at.success] == [
            ui.translate(
                "vector_arithmetic.target_reached",
                lang,
                target=preset.digit_c,
                votes=preset.found["target_votes"],
                total=9,
            )
        ]
        reads = ui.translate(
            "vector_arithmetic.result_reads", lang, digit=preset.digit_c, votes=preset.found["target_votes"], total=9
        )
        assert any(reads in im.proto.imgs[0].caption for im in at.get("image"))


def test_a_missed_target_offers_other_samples(monkeypatch):
    """A shuffled preset (A and C swapped) no longer gives its digit: the page says so and offers new neighbours."""
    from dcgan_core import arithmetic_presets
    from dcgan_core.model_source import PRETRAINED_PATH

    preset = arithmetic_presets.presets_for_model(PRETRAINED_PATH)["width"]
    groups = {"A": preset.groups["C"], "B": preset.groups["B"], "C": preset.groups["A"]}
    at = open_page("en", va_preset="custom", **{f"va_{g}": latent.seeds_text(s) for g, s in groups.items()})
    assert (
        at.warning
        and ui.translate("vector_arithmetic.target_missed", "en", target=0, votes=0, total=9, digit=0, minimum=7).split(
            "**"
        )[0]
        in at.warning[0].value
    )
    seed = at.number_input(key="va_noise_seed").value
    at.button(key="va_other_samples").click().run()
    assert at.number_input(key="va_noise_seed").value == seed + 1
