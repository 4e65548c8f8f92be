"""A run in a child process behaves like one in a thread, seen from the server:
the same controls, the same snapshot (every history row and sample grid arrives),
the same endings, and a clear message when the child dies."""

import json
import os
import time

import numpy as np
import pytest
import torch
from tiny_runs import TINY, tiny_config, tiny_images
from tiny_runs import wait_until as wait_for

from dcgan_core.checkpoint import load_checkpoint
from dcgan_core.job_process import TrainingProcess
from dcgan_core.latent import generate, z_from_seed
from dcgan_core.registry import TrainingRegistry, training_mode

IMAGES = tiny_images(64)


def wait_until(predicate, timeout=60.0):  # a child process first imports PyTorch
    return wait_for(predicate, timeout)


@pytest.fixture
def jobs(tmp_path):
    started = []

    def make(cfg=None, images=IMAGES, **kwargs):
        job = TrainingProcess(
            cfg or tiny_config(), tmp_path / f"run{len(started)}", images=images, cpu_threads=1, **kwargs
        )
        started.append(job)
        return job.start()

    yield make
    for job in started:  # never leave a child training after a test
        job.stop()
        assert job.wait(60)


def logged_rows(run_dir):
    lines = (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_controls_reach_the_child_and_every_update_arrives(jobs, tmp_path):
    job = jobs()
    assert job.snapshot().status == "starting"
    assert job.pid is not None and job.pid != os.getpid()  # it trains elsewhere
    wait_until(lambda: job.snapshot().step >= 12)
    job.pause()
    wait_until(lambda: job.snapshot().status == "paused")
    time.sleep(0.5)
    paused_at = job.snapshot().step
    assert job.step_once()
    wait_until(lambda: job.snapshot().step == paused_at + 1)
    wait_until(lambda: job.snapshot().latest_grid_step == paused_at + 1)  # one step shows its samples
    job.set_hyperparameters(lr=1e-3, beta1=0.7)
    wait_until(lambda: job.snapshot().lr == 1e-3)
    assert job.config.lr == 1e-3 and job.config.beta1 == 0.7
    job.request_checkpoint()
    wait_until(lambda: job.snapshot().checkpoint_step == paused_at + 1)
    assert load_checkpoint(job.checkpoint_path).step == paused_at + 1
    job.resume()
    wait_until(lambda: job.snapshot().step > paused_at + 3)
    job.stop()
    assert job.wait(60)

    snap = job.snapshot()
    assert snap.status == "stopped" and snap.message_key == "trainer.stopped"
    assert snap.message_params == {"step": snap.step}
    # the parent's history is the child's, row for row (the child also logs every row to disk)
    logged = logged_rows(job.run_dir)
    assert [int(r["step"]) for r in logged] == [int(s) for s in snap.history[:, 0]] == list(range(1, snap.step + 1))
    assert np.allclose([r["loss_d"] for r in logged], snap.history[:, 1])
    # the sample grids shown are the ones written by the child, in step order
    steps = [step for step, _ in snap.frames]
    assert steps == sorted(steps) and steps[-1] == snap.step
    assert snap.latest_grid_step == snap.step and snap.real_grid is not None
    assert load_checkpoint(job.checkpoint_path).step == snap.step == snap.checkpoint_step


def test_the_live_generator_comes_back_between_steps(jobs):
    job = jobs()
    wait_until(lambda: job.snapshot().step >= 3)
    job.pause()
    wait_until(lambda: job.snapshot().status == "paused")
    step, netG = job.generator()
    assert step == job.snapshot().step and not netG.training
    job.stop()
    assert job.wait(60)
    # paused, nothing moved: the copy is the weights the run saved when it stopped
    saved = load_checkpoint(job.checkpoint_path).build_generator().eval()
    z = z_from_seed(0, TINY.nz, n=8)
    assert torch.equal(generate(netG, z), generate(saved, z))
    ended_step, ended = job.generator()  # after the end: from the checkpoint
    assert ended_step == step and torch.equal(generate(ended, z), generate(saved, z))


def test_a_run_that_reaches_its_steps_finishes(jobs):
    job = jobs(tiny_config(max_steps=12))
    assert job.wait(60)
    snap = job.snapshot()
    assert snap.status == "finished" and snap.step == 12 and len(snap.history) == 12
    assert snap.checkpoint_step == 12


def test_errors_inside_the_child_arrive_as_messages(jobs):
    bad_shape = jobs(images=torch.zeros(4, 3, 32, 32))
    nan_data = jobs(images=torch.full((64, 1, 32, 32), float("nan")))
    assert bad_shape.wait(60) and nan_data.wait(60)
    assert (bad_shape.snapshot().status, bad_shape.snapshot().message_key) == ("failed", "trainer.data_shape")
    assert (nan_data.snapshot().status, nan_data.snapshot().message_key) == ("failed", "trainer.nan")


def test_a_killed_child_ends_the_run_with_a_message(jobs):
    job = jobs()
    wait_until(lambda: job.snapshot().step >= 2)
    job._process.kill()  # as the OS's out-of-memory killer would
    assert job.wait(60)
    snap = job.snapshot()
    assert snap.status == "failed" and snap.message_key == "trainer.crashed"
    assert "exit code" in snap.message_params["detail"]
    assert not job.step_once()  # nothing left to control, and no error either
    job.pause()
    job.stop()


def test_the_registry_trains_in_a_child_process_by_default(tmp_path, monkeypatch):
    monkeypatch.delenv("DCGAN_LAB_TRAINING", raising=False)
    assert training_mode() == "process"
    monkeypatch.setenv("DCGAN_LAB_TRAINING", "thread")
    assert training_mode() == "thread"
    monkeypatch.setenv("DCGAN_LAB_TRAINING", "gpu-please")
    with pytest.raises(ValueError, match="DCGAN_LAB_TRAINING"):
        training_mode()
    registry = TrainingRegistry(runs_folder=tmp_path, mode="process")
    record, _ = registry.start(tiny_config(max_steps=3), images=IMAGES, cpu_threads=1)
    assert isinstance(record.job, TrainingProcess)
    assert record.job.wait(60) and record.job.snapshot().status == "finished"


def test_a_child_whose_server_went_away_saves_and_exits(jobs):
    job = jobs()
    wait_until(lambda: job.snapshot().step >= 3)
    job._process.stdin.close()  # what the child sees when the server process dies
    assert job.wait(60)
    assert job._process.returncode == 0
    snap = job.snapshot()
    assert snap.status == "stopped"
    assert load_checkpoint(job.checkpoint_path).step == snap.step  # what it learned is kept


def test_a_continued_run_keeps_its_earlier_curves(jobs):
    first = jobs(tiny_config(max_steps=8))
    assert first.wait(60) and first.snapshot().status == "finished"
    checkpoint = load_checkpoint(first.checkpoint_path)
    more = jobs(tiny_config(max_steps=12), resume=checkpoint, earlier_log=first.run_dir / "metrics.jsonl")
    assert more.wait(60)
    snap = more.snapshot()
    assert snap.status == "finished" and snap.start_step == 8
    assert [int(s) for s in snap.history[:, 0]] == list(range(1, 13))  # steps 1-8 from the first run, 9-12 new
    assert np.array_equal(snap.history[:8], first.snapshot().history)
    assert [int(r["step"]) for r in logged_rows(more.run_dir)] == list(range(1, 13))


def test_a_child_that_cannot_start_ends_the_run_with_a_message(tmp_path, monkeypatch):
    import sys

    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python-here"))
    job = TrainingProcess(tiny_config(), tmp_path / "run", images=IMAGES, cpu_threads=1).start()
    assert job.wait(5)
    snap = job.snapshot()
    assert snap.status == "failed" and snap.message_key == "trainer.crashed" and not snap.active
    assert "could not start the training process" in snap.message_params["detail"]
    job.pause()
    job.stop()
    assert not job.step_once()
