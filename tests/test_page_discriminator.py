"""The discriminator lesson under AppTest: verdict, activations, saliency and the
representation chart, in both languages.

Uses the shipped pretrained model when it exists; otherwise a random-init
MNIST-shaped checkpoint stands in for it (same code paths)."""

import base64

import numpy as np
import pytest
import torch
from page_helpers import open_app_page, shipped_or_stand_in

import ui
from dcgan_core.checkpoint import load_checkpoint
from dcgan_core.data import DatasetSpec, load_images

PAGE = "pages/discriminator.py"


@pytest.fixture
def model_path(tmp_path, monkeypatch):
    return shipped_or_stand_in(tmp_path, monkeypatch, nz=64)


def open_page(lang="en"):
    return open_app_page(PAGE, lang)


def metric(at, key):
    label = ui.translate(key, at.session_state["lang"])
    return next(m.value for m in at.metric if m.label == label)


def reference_probability(path, index, batch_statistics=True):
    """D's probability for bundled test digit ``index``, computed directly with PyTorch:
    in a minibatch with the next 63 test digits in train mode (as in training), or alone in eval mode."""
    ckpt = load_checkpoint(path)
    netD = ckpt.build_discriminator().train(batch_statistics)
    cfg = ckpt.model_config
    images = load_images(
        DatasetSpec(source="bundled", split="test", image_size=cfg.image_size, channels=cfg.channels)
    ).images
    batch = images[(index + torch.arange(64)) % len(images)] if batch_statistics else images[index : index + 1]
    with torch.no_grad():
        return torch.sigmoid(netD(batch))[0].item()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_shows_verdict_layers_and_saliency(model_path, lang):
    at = open_page(lang)
    assert at.title[0].value == ui.translate("discriminator.title", lang)
    assert float(metric(at, "discriminator.probability")) == pytest.approx(
        reference_probability(model_path, 0), abs=1e-3
    )
    tabs = at.tabs
    assert len(tabs) >= 3  # one per conv block of a 32×32 discriminator
    charts = [c for c in at.get("plotly_chart")]
    assert len(charts) >= 2 + len(tabs)  # image, one activation grid per layer, saliency (+ probe chart if recorded)


def test_changing_the_image_changes_picture_and_verdict(model_path):
    at = open_page("en")
    first = _z(_figure(at, "disc_image"))
    at.number_input(key="disc_index").set_value(7).run()
    assert not at.exception
    assert float(metric(at, "discriminator.probability")) == pytest.approx(
        reference_probability(model_path, 7), abs=1e-3
    )
    seventh = _z(_figure(at, "disc_image"))
    cfg = load_checkpoint(model_path).model_config
    images = load_images(
        DatasetSpec(source="bundled", split="test", image_size=cfg.image_size, channels=cfg.channels)
    ).images
    assert torch.from_numpy(seventh).float().allclose(images[7, 0], atol=1e-5)
    assert not np.array_equal(first, seventh)
    at.radio(key="disc_source").set_value("noise").run()
    assert not at.exception
    generator = torch.Generator().manual_seed(0)
    noise = torch.rand(cfg.channels, cfg.image_size, cfg.image_size, generator=generator) * 2 - 1
    others = torch.rand(63, cfg.channels, cfg.image_size, cfg.image_size, generator=generator) * 2 - 1
    netD = load_checkpoint(model_path).build_discriminator().train()
    with torch.no_grad():
        expected = torch.sigmoid(netD(torch.cat([noise[None], others])))[0].item()
    assert float(metric(at, "discriminator.probability")) == pytest.approx(expected, abs=1e-3)
    assert torch.from_numpy(_z(_figure(at, "disc_image"))).float().allclose(noise[0], atol=1e-5)


def test_running_statistics_judge_the_image_alone(model_path):
    at = open_page("en")
    at.number_input(key="disc_index").set_value(3).run()
    at.radio(key="disc_bn").set_value("running").run()
    assert not at.exception
    expected = reference_probability(model_path, 3, batch_statistics=False)
    assert float(metric(at, "discriminator.probability")) == pytest.approx(expected, abs=1e-3)


def test_channel_picker_and_plain_gradient(model_path):
    at = open_page("en")
    picker = at.multiselect(key="disc_channels_conv1")
    assert len(picker.value) == 8
    picker.set_value([0, 1]).run()
    assert not at.exception
    assert at.multiselect(key="disc_channels_conv1").value == [0, 1]
    titles = [a["text"] for a in _figure(at, "disc_act_conv1")["layout"]["annotations"]]
    assert titles == ["ch 0", "ch 1"]
    at.toggle(key="disc_plain").set_value(True).run()
    assert not at.exception
    saliency_titles = [a["text"] for a in _figure(at, "disc_saliency")["layout"]["annotations"]]
    assert ui.translate("discriminator.saliency_plain", "en") in saliency_titles


def _figure(at, key):
    import json

    for chart in at.get("plotly_chart"):
        if chart.proto.id.endswith(key) or key in chart.proto.id:
            return json.loads(chart.proto.spec)
    raise AssertionError(f"no chart {key}")


def _z(figure):
    """The first trace's z as an array (Plotly sends numpy arrays as base64 typed arrays)."""
    z = figure["data"][0]["z"]
    if isinstance(z, dict):
        shape = [int(n) for n in str(z["shape"]).split(",")] if "shape" in z else [-1]
        return np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"])).reshape(shape).copy()
    return np.asarray(z, dtype=np.float64)


def test_representation_experiment_runs_on_the_chosen_model(model_path, monkeypatch):
    from dcgan_core import features

    original = features.representation_experiment
    calls = []

    def smaller(netD, train_images, train_labels, test_images, test_labels, progress=None, **kwargs):
        # the same experiment on a slice, so the test stays quick
        calls.append((netD, len(train_images), len(test_images)))
        return original(
            netD,
            train_images[:300],
            train_labels[:300],
            test_images[:200],
            test_labels[:200],
            label_counts=(100, "all"),
            repeats=1,
            progress=progress,
        )

    monkeypatch.setattr(features, "representation_experiment", smaller)
    at = open_page("en")
    at.button(key="disc_run_probe").click().run()
    assert not at.exception, [e.value for e in at.exception]
    ((netD, n_train, n_test),) = calls
    assert (n_train, n_test) == (12000, 2000)
    reference = load_checkpoint(model_path).discriminator
    assert all(torch.equal(v, reference[k]) for k, v in netD.state_dict().items())
    bars = _figure(at, "disc_probe_chart")["data"]
    assert [b["name"] for b in bars] == ["Trained D's features", "Untrained D (random weights)", "Raw pixels"]
    assert list(bars[0]["x"]) == ["100 labels", "300 labels"]
    table = at.table[0].value
    assert list(table.index) == ["100", "300"]
    shown = float(table.iloc[1, 2].split("%")[0]) / 100
    assert shown == pytest.approx(bars[2]["y"][1], abs=0.0006)
