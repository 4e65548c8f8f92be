"""The latent-space lesson under AppTest: defaults, controls, messages, both languages.

Uses the shipped pretrained generator when it exists; otherwise a random-init
MNIST-shaped checkpoint stands in for it (same code paths, meaningless pictures)."""

import math

import pytest
from page_helpers import open_app_page, shipped_or_stand_in

import ui

PAGE = "pages/latent_space.py"


@pytest.fixture
def generator(tmp_path, monkeypatch):
    return shipped_or_stand_in(tmp_path, monkeypatch)


def open_page(lang="en", **state):
    """Render the page once; ``state`` presets widget values by key.

    Chinese runs set inputs before the first run instead of rerunning: AppTest
    re-evaluates the model picker's translated labels outside the script, in English.
    """
    return open_app_page(PAGE, lang, state=state)


def metric(at, label_key):
    label = ui.translate(label_key, at.session_state["lang"])
    return float(next(m for m in at.metric if m.label == label).value)


def images(at):
    return {im.proto.imgs[0].caption: im.proto.imgs[0].url for im in at.get("image")}


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_defaults_show_both_interpolations_and_the_shell(generator, lang):
    at = open_page(lang)
    captions = list(images(at))
    assert any(ui.translate("latent.linear_caption", lang, seeds="0, 1, 2") == c for c in captions)
    assert any(ui.translate("latent.spherical_caption", lang, seeds="0, 1, 2") == c for c in captions)
    shell = metric(at, "latent.shell_radius")
    assert shell == pytest.approx(math.sqrt(100), abs=0.01)
    # slerp between z's of nearly equal length stays near the shell; lerp sags into it
    assert metric(at, "latent.min_norm_linear") < 0.85 * shell
    assert metric(at, "latent.min_norm_spherical") > 0.9 * shell
    assert at.get("download_button"), "the GIF download is missing"
    assert not at.warning and not at.error


@pytest.mark.slow
def test_changing_the_path_changes_the_pictures(generator):
    at = open_page()
    before = images(at)
    linear_before = metric(at, "latent.min_norm_linear")
    at.text_input(key="ls_path").input("7, 40").run()
    assert not at.exception
    after = images(at)
    caption = ui.translate("latent.linear_caption", "en", seeds="7, 40")
    assert caption in after and caption not in before
    assert metric(at, "latent.min_norm_linear") != linear_before
    at.slider(key="ls_steps").set_value(4).run()
    assert images(at)[caption] != after[caption]


@pytest.mark.slow
def test_walk_grid_and_sweep_follow_their_controls(generator):
    at = open_page()
    walk_caption = ui.translate("latent.walk_caption", "en", tl=0, tr=1, bl=2, br=3)
    walk_before = images(at)[walk_caption]
    at.radio(key="ls_walk_method").set_value("linear").run()
    assert images(at)[walk_caption] != walk_before
    at.text_input(key="ls_corners").input("4, 5, 6, 7").run()
    assert ui.translate("latent.walk_caption", "en", tl=4, tr=5, bl=6, br=7) in images(at)

    sweep_before = [c for c in images(at) if c.startswith("z[")]
    at.number_input(key="ls_dim").set_value(42).run()
    sweep_after = [c for c in images(at) if c.startswith("z[")]
    assert sweep_after and sweep_after != sweep_before and sweep_after[0].startswith("z[42]")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_bad_inputs_give_sentences_not_tracebacks(generator, lang):
    at = open_page(lang, ls_path="5")
    assert [w.value for w in at.warning] == [ui.translate("latent.need_two", lang, count=1)]
    at = open_page(lang, ls_path="5, seven", ls_corners="1, 2, 3")
    assert ui.translate("latent.bad_seeds", lang, text="5, seven") in [e.value for e in at.error]
    assert ui.translate("latent.need_four", lang, count=3) in [w.value for w in at.warning]


def test_too_short_path_after_editing(generator):
    at = open_page()
    at.text_input(key="ls_path").input("5").run()
    assert not at.exception
    assert ui.translate("latent.need_two", "en", count=1) in [w.value for w in at.warning]
    assert not any(c.startswith("Linear interpolation") for c in images(at))
