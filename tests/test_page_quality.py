"""The quality page under AppTest: the numbers shown are the metrics module's, the
references are ordered sensibly, controls change them, and colour generators are refused.

Uses the shipped pretrained generator when it exists; otherwise a random-init
MNIST-shaped checkpoint stands in for it."""

import numpy as np
import pytest
from page_helpers import open_app_page, random_checkpoint, shipped_or_stand_in

import dcgan_core.model_source as model_source
import dcgan_core.paths as paths
import ui
from dcgan_core import latent, metrics
from dcgan_core.checkpoint import load_generator
from dcgan_core.classifier import load_classifier
from dcgan_core.data import load_bundled_mnist
from dcgan_core.viz.quality import reference_images

PAGE = "pages/quality.py"


@pytest.fixture
def generator(tmp_path, monkeypatch):
    return shipped_or_stand_in(tmp_path, monkeypatch)


def open_page(lang="en", **state):
    return open_app_page(PAGE, lang, state=state, timeout=180)


def metric(at, key, **params):
    label = ui.translate(key, at.session_state["lang"], **params)
    return float(next(m for m in at.metric if m.label == label).value.split()[0].rstrip("%"))


COUNT = 64  # samples per set in these tests: enough for every code path, quick on a CPU


@pytest.fixture(scope="module")
def bundled():
    test_images, _ = load_bundled_mnist("test")
    train_images, _ = load_bundled_mnist("train")
    classifier = load_classifier()
    return train_images, test_images, classifier, metrics.real_reference(test_images, classifier)


def test_defaults_show_the_metrics_modules_numbers_in_both_languages(generator, bundled):
    train_images, test_images, classifier, reference = bundled
    netG, cfg = load_generator(generator)
    fake = latent.generate(netG, latent.z_from_seed(0, cfg.nz, COUNT))
    report = metrics.quality_report(fake, reference, classifier, baseline=False)
    refs = {
        name: metrics.quality_report(images, reference, classifier, baseline=False).fcd
        for name, images in reference_images(train_images, COUNT, 0).items()
    }
    _, fake_d = metrics.nearest_real_neighbours(fake, train_images, 1, "pixel")
    _, real_d = metrics.nearest_real_neighbours(test_images[:COUNT], train_images, 1, "pixel")
    assert refs["real"] < refs["blurred"] < refs["noise"]  # the scale makes sense
    assert report.fcd > refs["real"]
    for lang in ("en", "zh"):
        at = open_page(lang, q_count=COUNT)
        assert metric(at, "quality.fcd_model") == pytest.approx(report.fcd, rel=6e-3)
        assert metric(at, "quality.fcd_real") == pytest.approx(refs["real"], rel=6e-3)
        assert metric(at, "quality.fcd_blurred") == pytest.approx(refs["blurred"], rel=6e-3)
        assert metric(at, "quality.fcd_noise") == pytest.approx(refs["noise"], rel=6e-3)
        assert metric(at, "metrics.mean_confidence_name") == pytest.approx(report.mean_confidence, abs=0.006)
        assert metric(at, "metrics.classes_present_name") == report.classes_present
        # memorisation check: the first COUNT (< 200) samples against as many held-out digits
        assert metric(at, "quality.nn_median_fake") == pytest.approx(np.median(fake_d), abs=0.006)
        assert metric(at, "quality.nn_median_real") == pytest.approx(np.median(real_d), abs=0.006)
        assert at.get("plotly_chart"), "figures missing"
        texts = [s.value for s in at.success] + [w.value for w in at.warning]
        if report.mode_collapse:
            assert any(ui.translate("quality.collapse_warning", lang) in t for t in texts)
        else:
            assert ui.translate("quality.no_collapse", lang, present=report.classes_present) in texts


def test_controls_change_the_numbers(generator, bundled):
    at = open_page(q_count=COUNT)
    real_64 = metric(at, "quality.fcd_real")
    at.select_slider(key="q_count").set_value(128).run()
    assert not at.exception
    assert ui.translate("quality.fcd_caption", "en", count=128, real=2000) in [c.value for c in at.caption]
    assert metric(at, "quality.fcd_real") < real_64  # more images, lower small-sample bias
    neighbours = at.get("plotly_chart")[-1].proto.spec
    at.slider(key="q_nn_count").set_value(5).run()
    assert not at.exception
    assert at.get("plotly_chart")[-1].proto.spec != neighbours


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_colour_generator_is_refused_with_a_sentence(tmp_path, monkeypatch, lang):
    path = random_checkpoint(tmp_path / "colour.pt", channels=3)
    monkeypatch.setattr(model_source, "PRETRAINED_PATH", path)
    monkeypatch.setattr(paths, "DATA_DIR", tmp_path / "no_runs")
    at = open_page(lang)
    assert [w.value for w in at.warning] == [ui.translate("quality.not_grey", lang, channels=3, size=32)]
    assert not at.metric


# ---- the figure builders the Train page reuses --------------------------------------------------


def test_class_histogram_figure_shows_shares_and_flags_collapse():
    from dcgan_core.viz.quality import WARN, class_histogram_figure

    hist = [50, 0, 10, 10, 10, 10, 10, 0, 0, 0]
    fig = class_histogram_figure(hist, x_title="digit", y_title="%")
    bars = fig.data[0]
    np.testing.assert_allclose(bars.y, 100 * np.array(hist) / 100)
    assert bars.marker.color[0] == WARN and bars.marker.color[2] != WARN  # 50% > 30% is flagged
    missing = fig.data[1]
    assert list(missing.x) == ["1", "7", "8", "9"]


def test_neighbours_grid_puts_each_fake_above_its_neighbour():
    from dcgan_core.viz.quality import neighbours_grid

    fake = -torch_ones(3, 1, 32, 32)
    real = torch_ones(3, 1, 28, 28)  # resized to 32×32 for display
    fig = neighbours_grid(fake, real, [1.0, 2.5, 3.25], fake_label="g", real_label="r", scale=1)
    picture = fig.data[0].z
    assert picture.shape == (2 * 34 + 2, 3 * 34 + 2, 3)
    assert picture[2 + 16, 2 + 16, 0] == 0 and picture[36 + 16, 2 + 16, 0] == 255
    assert list(fig.layout.xaxis.ticktext) == ["1.00", "2.50", "3.25"]
    assert list(fig.layout.yaxis.ticktext) == ["g", "r"]


def test_reference_images_are_real_blurred_and_noise():
    train, _ = load_bundled_mnist("train")
    refs = reference_images(train, 50, seed=1)
    assert all(r.shape == (50, 1, 28, 28) for r in refs.values())
    assert all(r.min() >= -1 and r.max() <= 1 for r in refs.values())
    flat = train.reshape(len(train), -1)
    first = ((refs["real"][0, 0].numpy() + 1) * 127.5).round().astype(np.uint8).reshape(-1)
    assert (flat == first).all(1).any(), "real references must be training digits"
    assert (refs["blurred"] - refs["real"]).abs().mean() > 0.02
    assert abs(float(refs["noise"].mean())) < 0.05


def torch_ones(*shape):
    import torch

    return torch.ones(*shape)
