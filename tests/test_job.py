"""The background job: start, pause, one step, resume, stop; NaN and out-of-memory endings."""

import time

import numpy as np
import pytest
import torch
from tiny_runs import tiny_config, tiny_images, wait_until

from dcgan_core import job as job_module
from dcgan_core.checkpoint import load_checkpoint
from dcgan_core.job import TrainingJob
from dcgan_core.trainer import Trainer

IMAGES = tiny_images(64)


@pytest.fixture
def jobs(tmp_path):
    started = []

    def make(cfg=None, **kwargs):
        job = TrainingJob(cfg or tiny_config(), tmp_path / f"run{len(started)}", images=IMAGES, cpu_threads=1, **kwargs)
        started.append(job)
        return job

    yield make
    for job in started:  # never leave a thread training after a test
        job.stop()
        assert job.wait(30)


def test_start_pause_step_once_resume_stop(jobs):
    job = jobs().start()
    wait_until(lambda: job.snapshot().step >= 3)
    job.pause()
    wait_until(lambda: job.snapshot().status == "paused")
    paused_at = job.snapshot().step
    time.sleep(0.3)
    assert job.snapshot().step == paused_at  # really paused

    assert job.step_once()
    wait_until(lambda: job.snapshot().step == paused_at + 1)
    snap = job.snapshot()
    time.sleep(0.3)
    assert job.snapshot().step == paused_at + 1  # exactly one D and one G update
    assert snap.status == "paused"
    assert snap.history[-1, 0] == paused_at + 1  # its metrics are already on the host
    assert snap.latest_grid_step == paused_at + 1  # and the grid shows its result

    job.resume()
    wait_until(lambda: job.snapshot().step >= paused_at + 4)
    assert not job.step_once()  # only while paused
    job.stop()
    assert job.wait(30)
    snap = job.snapshot()
    assert snap.status == "stopped" and snap.message_key == "trainer.stopped"
    assert snap.checkpoint_step == snap.step
    assert load_checkpoint(snap.checkpoint_path).step == snap.step
    steps = snap.history[:, 0]
    assert np.array_equal(steps, np.arange(1, snap.step + 1))  # every step recorded once, in order
    assert np.isfinite(snap.history).all()
    assert snap.real_grid is not None and snap.real_grid.dtype == np.uint8
    assert snap.frames and snap.frames[0][0] == 0


def test_runs_to_max_steps_and_writes_its_files(jobs):
    job = jobs(tiny_config(max_steps=12)).start()
    assert job.wait(60)
    snap = job.snapshot()
    assert snap.status == "finished" and snap.step == 12 and snap.progress == 1.0
    run = job.run_dir
    assert load_checkpoint(run / "checkpoint.pt").step == 12
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 12
    assert sorted(p.name for p in (run / "samples").iterdir())[-1] == "step_000012.png"


def test_lr_change_while_running_reaches_the_optimizers(jobs):
    job = jobs().start()
    wait_until(lambda: job.snapshot().step >= 2)
    job.set_hyperparameters(lr=1e-3, beta1=0.7)
    wait_until(lambda: job.snapshot().lr == 1e-3)
    wait_until(lambda: job.trainer is not None and job.trainer.opt_g.param_groups[0]["lr"] == 1e-3)
    assert job.trainer.opt_d.param_groups[0]["betas"][0] == 0.7
    assert job.snapshot().beta1 == 0.7


def test_nan_stops_the_job_and_keeps_the_last_good_checkpoint(jobs, monkeypatch):
    real_step = Trainer.step

    def diverging_step(self):
        metrics = real_step(self)
        if self.step_count >= 12:
            with torch.no_grad():
                for p in self.netG.parameters():
                    p.fill_(float("nan"))
            return metrics * float("nan")
        return metrics

    monkeypatch.setattr(Trainer, "step", diverging_step)
    job = jobs().start()
    assert job.wait(60)
    snap = job.snapshot()
    assert snap.status == "failed" and snap.message_key == "trainer.nan"
    assert snap.message_params["step"] == 12
    assert snap.checkpoint_step == 10
    good = load_checkpoint(job.checkpoint_path)
    assert good.step == 10
    assert all(torch.isfinite(t).all() for t in good.generator.values() if t.is_floating_point())


@pytest.mark.parametrize(
    "error",
    [
        lambda: torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
        lambda: RuntimeError("MPS backend out of memory (MPS allocated: 1 GB)"),
    ],
)
def test_out_of_memory_ends_cleanly_with_advice(jobs, monkeypatch, error):
    real_step = Trainer.step

    def step(self):
        if self.step_count >= 3:
            raise error()
        return real_step(self)

    monkeypatch.setattr(Trainer, "step", step)
    job = jobs(tiny_config(batch_size=8)).start()
    assert job.wait(60)
    snap = job.snapshot()
    assert snap.status == "failed" and snap.message_key == "trainer.oom"
    assert snap.message_params == {"batch": 8, "smaller": 4}
    assert job.trainer is None  # memory released


def test_bad_data_ends_with_the_data_message(tmp_path):
    job = TrainingJob(tiny_config(), tmp_path / "r", images=torch.zeros(4, 3, 32, 32), cpu_threads=1).start()
    assert job.wait(30)
    snap = job.snapshot()
    assert snap.status == "failed" and snap.message_key == "trainer.data_shape"


@pytest.mark.slow
def test_frame_history_is_bounded_and_spans_the_run(jobs, monkeypatch):
    monkeypatch.setattr(job_module, "MAX_FRAMES", 6)
    job = jobs(tiny_config(max_steps=40, sample_every=1, checkpoint_every=100)).start()
    assert job.wait(60)
    snap = job.snapshot()
    steps = [s for s, _ in snap.frames]
    assert len(steps) <= 7 and steps[0] == 0 and steps == sorted(steps)
    assert steps[-1] >= 20  # thinned evenly, not just the first few
    assert snap.latest_grid_step == 40


def test_save_while_paused_writes_a_checkpoint_at_once(jobs):
    job = jobs(tiny_config(checkpoint_every=10_000)).start()
    wait_until(lambda: job.snapshot().step >= 3)
    job.pause()
    wait_until(lambda: job.snapshot().status == "paused")
    job.request_checkpoint()
    wait_until(lambda: job.snapshot().checkpoint_step == job.snapshot().step)
    assert load_checkpoint(job.checkpoint_path).step == job.snapshot().step
    assert job.snapshot().status == "paused"


def test_fewer_images_than_a_batch_is_refused_with_both_numbers(tmp_path):
    job = TrainingJob(tiny_config(batch_size=16), tmp_path, images=tiny_images(10), cpu_threads=1).start()
    assert job.wait(60)
    snap = job.snapshot()
    assert snap.status == "failed" and snap.failed_to_start
    assert (snap.message_key, snap.message_params) == ("data.too_few_for_batch", {"count": 10, "batch": 16})
