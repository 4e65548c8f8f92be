"""The Train page under AppTest: start a tiny run, watch it progress, pause, step, stop;
a second browser watches without controls until it enters the control code."""

import json
import re
import time
from pathlib import Path

import pytest
from page_helpers import open_app_page

from dcgan_core import paths
from dcgan_core import registry as registry_module
from dcgan_core.i18n import translate
from dcgan_core.live_quality import SHARED as SHARED_QUALITY
from dcgan_core.registry import TrainingRegistry

TINY_WIDGETS = {
    "train_ngf": 8,
    "train_ndf": 8,
    "train_nz": 16,
    "train_batch": 8,
    "train_steps": 100_000,
    "train_sample_every": 5,
    "train_device": "cpu",
}


@pytest.fixture
def registry(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "DATA_DIR", tmp_path)
    reg = TrainingRegistry(runs_folder=tmp_path / "runs")
    monkeypatch.setattr(registry_module, "_REGISTRY", reg)
    yield reg
    reg.stop_all()


def open_page(lang):
    return open_app_page("pages/train.py", lang, state=TINY_WIDGETS, check=False)


STATIC = Path(__file__).resolve().parent.parent / "static"


def live_state(at):
    """What the page's live view shows: the state file its iframe polls (the browser draws it as it is)."""
    pages = [frame.proto.srcdoc for frame in at.get("iframe") if "data-live-state" in frame.proto.srcdoc]
    if not pages:
        return None
    url = re.search(r'data-live-state="([^"]+)"', pages[0]).group(1)
    path = STATIC / url.split("/app/static/", 1)[1]
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def step_shown(at):
    """The step number in the live view's progress text, as the reader sees it."""
    state = live_state(at)
    if state is None:
        return None
    numbers = re.findall(r"\d[\d,]*", state["progress_text"])
    return int(numbers[0].replace(",", "")) if numbers else None


def rerun_until(at, predicate, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        if predicate(at):
            return at
        time.sleep(0.3)
    raise AssertionError("the page never showed the expected state")


def progress_value(at):
    return at.get("progress")[0].value if at.get("progress") else None


def job_step(reg):
    return reg.current().job.snapshot().step


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_start_watch_pause_step_stop(registry, lang):
    at = open_page(lang)
    assert not at.exception
    assert registry.current() is None
    at.button(key="train_start_btn").click().run()
    assert not at.exception, [e.value for e in at.exception]
    record = registry.current()
    assert record is not None and registry.is_controller(at.session_state["train_token"])
    assert record.job.config.model.ngf == 8  # the page's settings reached the job

    # live: the step counter climbs and the generated grid is shown next to the real one
    rerun_until(at, lambda a: (step_shown(a) or 0) >= 6 and live_state(a)["grid"] and live_state(a)["real"])
    first = step_shown(at)
    time.sleep(1.0)
    rerun_until(at, lambda a: step_shown(a) > first)
    state = live_state(at)
    assert state["numbers"][1][0] == translate("trainer.loss_d", lang) and float(state["numbers"][1][1]) > 0
    for name, traces in (("loss", 4), ("prob", 3)):  # both charts' data, one series per trace
        series = state["series"][name]
        assert len(series["y"]) == traces and len(series["x"]) > 0
        assert all(len(y) == len(series["x"]) for y in series["y"])
    # the classifier reads the live generator in the background, once for every viewer
    assert SHARED_QUALITY.wait_idle(60)
    rerun_until(at, lambda a: "train_quality_hist" in {chart.key for chart in a.get("plotly_chart")})
    # the classifier's reading of the live generator: the shown numbers are a real report's
    fcd_label = translate("metrics.fcd_name", lang)
    fcd = [m for m in at.metric if m.label == fcd_label]
    assert len(fcd) == 1 and float(fcd[0].value) > 0
    classes = [m for m in at.metric if m.label == translate("metrics.classes_present_name", lang)]
    assert 1 <= int(classes[0].value.split("/")[0]) <= 10
    assert at.subheader[0].value == translate("train.live_title", lang, status=translate("train.status_running", lang))

    at.button(key="train_pause_btn").click().run()
    rerun_until(
        at, lambda a: record.job.snapshot().status == "paused" and a.button(key="train_step_btn").disabled is False
    )
    paused_at = job_step(registry)
    at.button(key="train_step_btn").click().run()
    stepped = translate("train.fake_images", lang, step=paused_at + 1)
    rerun_until(at, lambda a: live_state(a)["grid_label"] == stepped)  # the new samples are shown
    time.sleep(0.3)
    assert job_step(registry) == paused_at + 1  # exactly one step

    # look back through the timeline: it starts at the newest grid; drag to 0, the grid from step 0 returns
    def timeline_slider(a):
        return [s for s in a.slider if (s.key or "").startswith("train_frame_step_")][0]

    at.run()
    assert timeline_slider(at).value == paused_at + 1
    timeline_slider(at).set_value(0).run()
    assert translate("train.fake_images", lang, step=0) in [m.value.strip("*") for m in at.markdown]
    at.run()
    assert translate("train.fake_images", lang, step=0) in [m.value.strip("*") for m in at.markdown]

    at.button(key="train_stop_btn").click().run()
    rerun_until(at, lambda a: record.job.snapshot().status == "stopped" and a.success)
    assert translate("trainer.stopped", lang, step=paused_at + 1) in at.success[0].value
    assert not at.button(key="train_start_btn").disabled  # a new run may start now


def test_viewers_watch_and_need_the_code_to_control(registry):
    teacher = open_page("en")
    teacher.button(key="train_start_btn").click().run()
    token = teacher.session_state["train_token"]
    student = open_page("en")
    rerun_until(student, lambda a: a.subheader and registry.current() is not None)
    student_buttons = {b.key for b in student.button}
    assert not student_buttons & {"train_pause_btn", "train_stop_btn", "train_save_btn"}  # nothing to press
    assert student.button(key="train_start_btn").disabled  # one run at a time
    assert any(translate("train.viewer_note", "en") == c.value for c in student.caption)

    student.text_input(key="train_code_input").input("WRONG1")
    student.button(key="train_take_btn").click().run()
    assert student.error and student.error[0].value == translate("train.code_wrong", "en")
    assert "train_stop_btn" not in {b.key for b in student.button}

    student.text_input(key="train_code_input").input(token.lower())
    student.button(key="train_take_btn").click().run()
    rerun_until(
        student, lambda a: "train_stop_btn" in {b.key for b in a.button} and not a.button(key="train_stop_btn").disabled
    )
    student.button(key="train_stop_btn").click().run()
    assert not student.exception
    assert registry.current().job.wait(30)
    assert registry.current().job.snapshot().status == "stopped"


def tiny_checkpoint_bytes(tmp_path, steps=3):
    import torch

    from dcgan_core.checkpoint import save_checkpoint
    from dcgan_core.config import TrainConfig
    from dcgan_core.models import DCGANConfig
    from dcgan_core.trainer import Trainer

    config = TrainConfig(
        model=DCGANConfig(image_size=32, channels=1, nz=16, ngf=8, ndf=8), batch_size=8, device="cpu", sample_every=5
    )
    trainer = Trainer(config, torch.rand(16, 1, 32, 32) * 2 - 1)
    for _ in range(steps):
        trainer.step()
    return save_checkpoint(tmp_path / "uploaded.pt", **trainer.state()).read_bytes()


def test_continue_from_an_uploaded_checkpoint_and_refuse_a_booby_trapped_one(registry, tmp_path):
    import os
    import pickle

    at = open_page("en")

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    at.file_uploader(key="train_resume_upload").upload("evil.pt", pickle.dumps({"x": Payload()}, protocol=2)).run()
    at.button(key="train_ckpt_btn").click().run()
    assert not at.exception
    assert at.error and "refused" in at.error[0].value
    assert registry.current() is None and not (tmp_path / "pwned").exists()

    at.file_uploader(key="train_resume_upload").set_value(None).run()
    at.file_uploader(key="train_resume_upload").upload("good.pt", tiny_checkpoint_bytes(tmp_path)).run()
    at.number_input(key="train_resume_steps").set_value(10_000)
    at.button(key="train_ckpt_btn").click().run()
    assert not at.exception, [e.value for e in at.exception]
    record = registry.current()
    assert record is not None and record.job.snapshot().start_step == 3
    assert record.job.config.max_steps == 10_003 and record.job.config.model.ngf == 8
    assert list((tmp_path / "uploads" / "checkpoints").glob("good-*.pt"))  # saved under the data folder
    rerun_until(at, lambda a: (step_shown(a) or 0) > 3)


def test_train_on_an_uploaded_zip_of_images(registry):
    import io
    import zipfile

    import numpy as np
    from PIL import Image

    buffer = io.BytesIO()
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(12):
            png = io.BytesIO()
            Image.fromarray(rng.integers(0, 255, (40, 40), dtype=np.uint8)).save(png, format="PNG")
            archive.writestr(f"faces/{i}.png", png.getvalue())
        archive.writestr("notes.txt", "not an image")
    at = open_page("en")
    at.selectbox(key="train_source").set_value("zip").run()
    at.button(key="train_start_btn").click().run()
    assert at.error and at.error[0].value == translate("train.zip_missing", "en")
    assert registry.current() is None
    at.file_uploader(key="train_zip").upload("my_images.zip", buffer.getvalue(), "application/zip").run()
    assert at.segmented_control(key="train_channels").value == 1  # grey pictures stay grey
    at.button(key="train_start_btn").click().run()
    # 12 images: enough for a batch of 8, far too few for a GAN; it trains only once the user confirms
    assert registry.current() is None
    assert at.warning and at.warning[0].value == translate("data.few_images", "en", count=12, advised=500)
    at.button(key="train_few_confirm_btn").click().run()
    assert not at.exception, [e.value for e in at.exception]
    record = registry.current()
    rerun_until(at, lambda a: record.job.snapshot().step >= 2)
    snap = record.job.snapshot()
    assert snap.dataset_size == 12 and snap.dataset_name.startswith("my_images")
    assert snap.data_notice_key == "data.zip_summary"  # the text file was skipped, and we say so
    notice = translate("data.zip_summary", "en", **snap.data_notice_params)
    rerun_until(at, lambda a: any(notice == i.value for i in a.info))  # a page drawn after the run read the zip


def test_a_folder_outside_the_allowed_roots_is_refused(registry):
    at = open_page("en")
    at.selectbox(key="train_source").set_value("folder").run()
    at.text_input(key="train_folder").input("/etc").run()
    at.button(key="train_start_btn").click().run()
    assert not at.exception
    assert at.error and "/etc" in at.error[0].value
    assert registry.current() is None


def test_a_click_is_not_lost_when_the_run_changes_state_in_the_same_rerun(registry):
    """The live panel redraws the whole page when the run's state changes (a new checkpoint,
    the first samples). A Stop click that arrives in that same rerun must still stop the run."""
    at = open_page("en")
    at.button(key="train_start_btn").click().run()
    rerun_until(at, lambda a: not a.button(key="train_stop_btn").disabled)
    at.session_state["train_seen_state"] = ("a state the panel has not seen",)  # forces the redraw
    at.button(key="train_stop_btn").click().run()
    assert not at.exception
    assert registry.current().job.wait(30)
    assert registry.current().job.snapshot().status == "stopped"


def test_continue_after_stop_keeps_the_curves(registry):
    at = open_page("en")
    at.button(key="train_start_btn").click().run()
    first = registry.current()
    rerun_until(at, lambda a: first.job.snapshot().step >= 4)
    at.button(key="train_stop_btn").click().run()
    assert first.job.wait(30)
    stopped = first.job.snapshot()
    rerun_until(at, lambda a: bool(a.get("button")) and any(b.key == "train_continue_btn" for b in a.button))
    at.number_input(key="train_more_steps").set_value(10).run()
    at.button(key="train_continue_btn").click().run()
    assert not at.exception
    second = registry.current()
    assert second.run_id != first.run_id
    assert second.job.wait(60) and second.job.snapshot().status == "finished"
    snap = second.job.snapshot()
    assert snap.start_step == stopped.step and snap.step == stopped.step + 10
    steps = [int(s) for s in snap.history[:, 0]]
    assert steps == list(range(1, stopped.step + 11))  # the stopped run's curve, then the new steps
    assert (snap.history[: stopped.step] == stopped.history).all()


def zip_of(count: int, mode: str) -> bytes:
    import io
    import zipfile

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(1)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(count):
            shape = (16, 16) if mode == "L" else (16, 16, 3)
            png = io.BytesIO()
            Image.fromarray(rng.integers(0, 255, shape, dtype=np.uint8), mode=mode).save(png, format="PNG")
            archive.writestr(f"{i}.png", png.getvalue())
    return buffer.getvalue()


def test_a_zip_with_fewer_images_than_a_batch_is_refused_beside_start(registry):
    at = open_page("zh")
    at.selectbox(key="train_source").set_value("zip").run()
    at.file_uploader(key="train_zip").upload("few.zip", zip_of(5, "L"), "application/zip").run()
    at.button(key="train_start_btn").click().run()
    assert not at.exception
    assert registry.current() is None
    assert [e.value for e in at.error] == [translate("data.too_few_for_batch", "zh", count=5, batch=8)]


def test_channels_follow_the_zip_unless_the_user_chose_them(registry):
    at = open_page("en")
    at.selectbox(key="train_source").set_value("zip").run()
    at.file_uploader(key="train_zip").upload("colour.zip", zip_of(3, "RGB"), "application/zip").run()
    assert at.segmented_control(key="train_channels").value == 3
    at.file_uploader(key="train_zip").upload("grey.zip", zip_of(3, "L"), "application/zip").run()
    assert at.segmented_control(key="train_channels").value == 1
    at.segmented_control(key="train_channels").set_value(3).run()  # the user's own choice
    at.file_uploader(key="train_zip").upload("grey2.zip", zip_of(4, "L"), "application/zip").run()
    assert at.segmented_control(key="train_channels").value == 3


def test_a_failed_start_keeps_the_last_good_run_and_says_why_beside_start(registry, tmp_path):
    at = open_page("en")
    at.button(key="train_start_btn").click().run()
    good = registry.current()
    rerun_until(at, lambda a: good.job.snapshot().latest_grid_step is not None)
    at.button(key="train_stop_btn").click().run()
    assert good.job.wait(30)
    rerun_until(at, lambda a: any(b.key == "train_dl_ckpt" for b in a.get("download_button")))
    # A start that fails only once the run reads its data (a folder that vanished)
    folder = tmp_path / "datasets" / "gone"
    folder.mkdir(parents=True)
    from dataclasses import replace

    from dcgan_core.data import DatasetSpec

    config = replace(good.job.config, dataset=DatasetSpec(source="folder", path=str(folder)), max_steps=5)
    failed, _ = registry.start(config)
    assert failed.job.wait(60) and failed.job.snapshot().failed_to_start
    assert registry.shown() is good
    rerun_until(at, lambda a: a.error)
    reason = translate("data.folder_empty", "en", path=str(folder), skipped=0)
    assert at.error[-1].value == translate("train.start_failed", "en", reason=reason)
    assert any(b.key == "train_dl_ckpt" for b in at.get("download_button"))  # the good run's downloads stay
    assert at.subheader[0].value == translate("train.live_title", "en", status=translate("train.status_stopped", "en"))
