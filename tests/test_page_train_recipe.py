"""The Train page's settings say which training recipe they are and how it differs from the
paper, in both languages; "The paper's settings" is one click away and turns the average off;
a run started with the average switched on names its recipe and saves the average."""

import pytest
from page_helpers import open_app_page
from tiny_runs import wait_until

from dcgan_core import paths
from dcgan_core import registry as registry_module
from dcgan_core.checkpoint import load_checkpoint
from dcgan_core.i18n import translate
from dcgan_core.registry import TrainingRegistry


@pytest.fixture
def registry(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "DATA_DIR", tmp_path)
    reg = TrainingRegistry(runs_folder=tmp_path / "runs")
    monkeypatch.setattr(registry_module, "_REGISTRY", reg)
    yield reg
    reg.stop_all()


def captions(at):
    return [c.value for c in at.caption]


def recipe_caption(at, lang):
    prefix = translate("recipes.these_settings", lang, name="").split("**")[0]
    found = [c for c in captions(at) if c.startswith(prefix)]
    assert len(found) == 1, captions(at)
    return found[0]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_settings_name_their_recipe_and_the_papers_is_one_click_away(registry, lang):
    at = open_app_page("pages/train.py", lang, state={"train_device": "cpu"})
    text = recipe_caption(at, lang)
    assert translate("recipes.name_classroom", lang) in text
    assert translate("recipes.diff_lr", lang, value="0.001", paper="0.0002") in text
    assert at.toggle(key="train_ema").value is False

    at.toggle(key="train_ema").set_value(True).run()
    text = recipe_caption(at, lang)
    assert translate("recipes.name_custom", lang) in text
    assert translate("recipes.diff_ema", lang, decay="0.98") in text

    at.button(key="train_paper_btn").click().run()
    assert not at.exception
    text = recipe_caption(at, lang)
    assert translate("recipes.name_paper", lang) in text
    assert translate("recipes.diff_lr", lang, value="0.001", paper="0.0002") not in text
    assert at.toggle(key="train_ema").value is False
    assert (at.session_state["train_lr"], at.session_state["train_beta1"], at.session_state["train_batch"]) == (
        2e-4,
        0.5,
        128,
    )

    at.button(key="train_defaults_btn").click().run()
    assert translate("recipes.name_classroom", lang) in recipe_caption(at, lang)


@pytest.mark.slow
def test_a_run_with_the_average_on_names_its_recipe_and_saves_the_average(registry):
    tiny = {
        "train_ngf": 8,
        "train_ndf": 8,
        "train_nz": 16,
        "train_batch": 8,
        "train_steps": 100_000,
        "train_sample_every": 5,
        "train_device": "cpu",
        "train_ema": True,
    }
    at = open_app_page("pages/train.py", "en", state=tiny, check=False)
    at.button(key="train_start_btn").click().run()
    record = registry.current()
    assert record is not None and record.job.config.ema == 0.98 and record.job.config.channels_last
    running = [c for c in captions(at) if c.startswith(translate("recipes.running", "en", name="").split("**")[0])]
    assert running and translate("recipes.name_custom", "en") in running[0]
    assert translate("recipes.diff_ema", "en", decay="0.98") in running[0]
    wait_until(lambda: record.job.snapshot().step >= 3, timeout=180)
    record.job.stop()
    assert record.job.wait(120)
    snap = record.job.snapshot()
    ckpt = load_checkpoint(snap.checkpoint_path)
    assert ckpt.generator_average is not None and ckpt.generator_average["decay"] == 0.98
    assert ckpt.generator_average["updates"] == ckpt.step > 0
