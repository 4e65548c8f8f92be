"""The run folder (``rundir``) and the one training loop (``loop``): every driver leaves the same files."""

import io
import json

import numpy as np
import pytest
import torch
from PIL import Image
from tiny_runs import TINY, tiny_config, tiny_images

from dcgan_core import ablations
from dcgan_core.config import METRICS, TrainConfig
from dcgan_core.job import TrainingJob
from dcgan_core.loop import STOP, TRAIN, TrainingLoop
from dcgan_core.rundir import RunDir, png_bytes, read_metrics_log
from dcgan_core.trainer import Trainer

pytestmark = pytest.mark.usefixtures("one_thread")
IMAGES = tiny_images(64)


def test_metrics_lines_round_trip_and_non_finite_values_are_null(tmp_path):
    run = RunDir(tmp_path / "run")
    run.prepare(0)
    rows = np.array([[1, 0.5, 2.0, 0.9, 0.1, 0.2], [2, np.nan, 2.0, 0.9, 0.1, 0.2], [3, 0.4, 1.5, 0.8, 0.2, 0.3]])
    run.append_metrics(rows, lr=2e-4, beta1=0.5)
    lines = [json.loads(line) for line in run.metrics_path.read_text().splitlines()]
    assert [set(line) for line in lines] == [{"step", *METRICS, "lr", "beta1"}] * 3
    assert lines[1]["loss_d"] is None and lines[0]["lr"] == 2e-4
    np.testing.assert_array_equal(run.metrics(), rows[[0, 2]])  # the reader keeps the finite rows


def test_a_reused_folder_keeps_only_the_past_of_the_step_it_starts_from(tmp_path):
    run = RunDir(tmp_path)
    run.prepare(0)
    run.append_metrics(np.array([[s, 1, 1, 0.5, 0.5, 0.5] for s in (1, 2, 3, 4)], dtype=float), 1e-3, 0.5)
    grid = np.zeros((10, 10, 3), dtype=np.uint8)
    for step in (0, 2, 4):
        run.write_sample(step, grid)
    run.prepare(2)  # continuing from step 2
    assert list(run.metrics()[:, 0]) == [1, 2] and run.sample_steps() == [0, 2]
    run.prepare(0)  # a fresh run
    assert len(run.metrics()) == 0 and run.sample_steps() == []


def test_earlier_rows_come_from_another_folder_up_to_the_start(tmp_path):
    earlier = RunDir(tmp_path / "earlier")
    earlier.prepare(0)
    earlier.append_metrics(np.array([[s, 1, 1, 0.5, 0.5, 0.5] for s in (1, 2, 3)], dtype=float), 1e-3, 0.5)
    here = RunDir(tmp_path / "here")
    assert list(here.earlier_rows(earlier.metrics_path, 2)[:, 0]) == [1, 2]
    assert len(here.earlier_rows(earlier.metrics_path, 0)) == 0  # a fresh run carries nothing
    assert len(earlier.earlier_rows(earlier.metrics_path, 2)) == 0  # its own log is kept by prepare
    assert read_metrics_log(tmp_path / "missing.jsonl").shape == (0, 1 + len(METRICS))


def test_png_bytes_decode_to_the_grid():
    grid = np.random.default_rng(0).integers(0, 256, (6, 9, 3), dtype=np.uint8)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png_bytes(grid)))), grid)


def _files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_the_thread_job_and_a_guidelines_lab_variant_leave_the_same_kind_of_folder(tmp_path):
    config = tiny_config(max_steps=4, sample_every=2, checkpoint_every=4, n_fixed=4)
    job = TrainingJob(config, tmp_path / "job", images=IMAGES, cpu_threads=1).start()
    assert job.wait(60) and job.snapshot().status == "finished"
    ablations.run_ablation(
        "paper", 4, device="cpu", base_cfg=config, dataset=IMAGES, grid_count=3, n_grid=4, run_dir=tmp_path / "lab"
    )
    assert _files(tmp_path / "job") == _files(tmp_path / "lab")
    for name in ("job", "lab"):
        run = RunDir(tmp_path / name)
        assert list(run.metrics()[:, 0]) == [1, 2, 3, 4] and run.sample_steps() == [0, 2, 4]
        checkpoint = run.load_checkpoint()
        assert checkpoint.step == 4 and set(checkpoint.metrics) == set(METRICS)
        assert TrainConfig.from_checkpoint(checkpoint).model == checkpoint.model_config


def test_the_loop_stops_at_the_first_non_finite_loss_and_keeps_the_checkpoint_before_it(tmp_path):
    class Diverging(Trainer):
        def step(self):
            metrics = super().step()
            return metrics * float("nan") if self.step_count >= 5 else metrics

    config = TrainConfig(model=TINY, batch_size=8, device="cpu", max_steps=20, sample_every=2, checkpoint_every=2)
    loop = TrainingLoop(Diverging(config, IMAGES), RunDir(tmp_path))
    loop.begin()
    outcome = loop.run()
    assert (outcome.status, outcome.bad_step) == ("failed", 5)
    assert RunDir(tmp_path).load_checkpoint().step == 4
    assert list(RunDir(tmp_path).metrics()[:, 0]) == [1, 2, 3, 4]  # the reader skips the null line of step 5


def test_a_driver_stops_the_loop_between_steps_and_it_saves_where_it_stopped(tmp_path):
    class StopAtThree(TrainingLoop):
        def control(self):
            return STOP if self.trainer.step_count >= 3 else TRAIN

    config = TrainConfig(model=TINY, batch_size=8, device="cpu", max_steps=50, sample_every=10, checkpoint_every=10)
    loop = StopAtThree(Trainer(config, IMAGES), RunDir(tmp_path))
    loop.begin()
    outcome = loop.run()
    assert (outcome.status, outcome.step) == ("stopped", 3)
    run = RunDir(tmp_path)
    assert run.load_checkpoint().step == 3 and run.sample_steps() == [0, 3]
    saved = run.load_checkpoint().generator
    assert all(torch.equal(saved[k], v) for k, v in loop.trainer.netG.state_dict().items())
