"""What the AppTest page tests share: opening one page of the app, reading its lesson charts, and
the shipped generator checkpoint (a random stand-in only when a developer asks for it explicitly)."""

import json
import os

import pytest
from streamlit.testing.v1 import AppTest

import dcgan_core.model_source as model_source
import ui
from dcgan_core.checkpoint import save_checkpoint
from dcgan_core.models import DCGANConfig, build_models


def open_app_page(page, lang="en", *, state=None, query=None, timeout=120, check=True):
    """Run app.py, switch to ``page`` and render it once; ``state`` presets session keys,
    ``query`` the URL's query parameters. ``check``: fail on any exception shown."""
    at = AppTest.from_file(str(ui.ROOT / "app.py"), default_timeout=timeout)
    at.session_state["lang"] = lang
    for key, value in (state or {}).items():
        at.session_state[key] = value
    for name, value in (query or {}).items():
        at.query_params[name] = value
    at.switch_page(page).run()
    if check:
        assert not at.exception, [e.value for e in at.exception]
    return at


def instant_charts(at) -> dict:
    """The lesson charts the browser redraws as their sliders move (classroom_ui.SliderFrames):
    chart key -> the data the page sent (dcgan_core.viz.instant_chart.instant_chart_data)."""
    found = {}
    for element in at.get("bidi_component"):
        if element.proto.component_name == "dcgan_lab_instant_chart":
            data = json.loads(element.proto.json)
            found[data["key"]] = data
    return found


def lesson_charts(at) -> dict:
    """Every chart on the page, Streamlit's or an instant one: key -> the figure drawn (as a dict)."""
    charts = {chart.proto.id.rsplit("-", 1)[-1]: json.loads(chart.proto.spec) for chart in at.get("plotly_chart")}
    for key, data in instant_charts(at).items():
        charts[key] = json.loads(data["figures"][data["current"]])
    return charts


def random_checkpoint(path, channels=1, nz=100):
    """An MNIST-shaped DCGAN checkpoint with random weights (same code paths, meaningless pictures)."""
    cfg = DCGANConfig(image_size=32, channels=channels, nz=nz, ngf=16, ndf=16)
    netG, netD = build_models(cfg, seed=0)
    return save_checkpoint(path, model_config=cfg, generator=netG, discriminator=netD)


# Test-only switch: a developer without the shipped generator (e.g. while re-training it) may set
# this to run the page tests on a random checkpoint. Without it, a missing asset fails the tests.
STAND_IN_SWITCH = "DCGAN_LAB_TEST_STAND_IN_GENERATOR"


def shipped_or_stand_in(tmp_path, monkeypatch, nz=100):
    """The shipped pretrained checkpoint. A random one is put in its place only when
    ``DCGAN_LAB_TEST_STAND_IN_GENERATOR=1`` is set; otherwise a missing checkpoint fails the test."""
    if model_source.PRETRAINED_PATH.exists():
        return model_source.PRETRAINED_PATH
    if os.environ.get(STAND_IN_SWITCH) != "1":
        pytest.fail(
            f"{model_source.PRETRAINED_PATH} is missing: the app ships it (scripts/train_pretrained.py "
            f"makes it). Set {STAND_IN_SWITCH}=1 to test the pages with a random stand-in.",
            pytrace=False,
        )
    path = random_checkpoint(tmp_path / "pretrained" / "mnist_dcgan.pt", nz=nz)
    monkeypatch.setattr(model_source, "PRETRAINED_PATH", path)
    return path
