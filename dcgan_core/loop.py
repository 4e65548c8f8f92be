"""The one training loop, run by every driver: the Train page's thread or child process
(``job``), the command line, torchrun (``distributed``) and the guidelines lab
(``ablations``).

Between steps it asks its driver what to do (train on, pause, one step, save, stop),
brings the steps' metrics to the host in batches and stops at the first non-finite
loss, draws the fixed noise through the shown generator, saves checkpoints, and writes
everything through ``rundir.RunDir``, so every kind of run leaves the same files. A
driver subclasses ``TrainingLoop`` and overrides the hooks it needs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from dcgan_core.config import METRICS
from dcgan_core.data import sample_grid
from dcgan_core.rundir import RunDir
from dcgan_core.trainer import Trainer

READ_INTERVAL_S = 0.25  # how often the default loop reads the device's metrics
# What a driver's ``control()`` answers between two steps.
TRAIN, ONE_STEP, IDLE, SAVE, STOP = "train", "one_step", "idle", "save", "stop"


class MetricsStream:
    """Per-step device tensors, copied to the host in batches. On CUDA the copy
    is asynchronous (pinned memory + an event); results are taken once ready."""

    def __init__(self, device: torch.device):
        self.device = device
        self._steps: list[int] = []
        self._pending: list[torch.Tensor] = []
        self._in_flight: list[tuple[np.ndarray, torch.Tensor, object]] = []

    def push(self, step: int, metrics: torch.Tensor) -> None:
        self._steps.append(step)
        self._pending.append(metrics)

    def take(self) -> tuple[np.ndarray, list[torch.Tensor]]:
        """The steps and device tensors pushed since the last ``send`` or ``take``, handed over."""
        steps, pending = np.asarray(self._steps, dtype=np.float64), self._pending
        self._steps, self._pending = [], []
        return steps, pending

    def send(self) -> None:
        if not self._pending:
            return
        steps, pending = self.take()
        stacked = torch.stack(pending)
        if self.device.type == "cuda":
            host = torch.empty(stacked.shape, dtype=stacked.dtype, pin_memory=True)
            host.copy_(stacked, non_blocking=True)
            event = torch.cuda.Event()
            event.record()
            self._in_flight.append((steps, host, event))
        else:
            self._in_flight.append((steps, stacked.detach().cpu(), None))

    def receive(self, wait: bool = False) -> np.ndarray | None:
        """Rows (step, *METRICS) whose copy has finished, in order."""
        if wait:
            self.send()
        ready = []
        while self._in_flight:
            steps, host, event = self._in_flight[0]
            if event is not None:
                if wait:
                    event.synchronize()
                elif not event.query():
                    break
            ready.append(np.column_stack([steps, host.numpy().astype(np.float64)]))
            self._in_flight.pop(0)
        return np.concatenate(ready) if ready else None


@dataclass(frozen=True)
class Outcome:
    """How a loop ended: "finished", "stopped" or "failed" (a non-finite loss at ``bad_step``)."""

    status: str
    step: int
    bad_step: int | None = None


class TrainingLoop:
    """Steps ``trainer`` up to ``config.max_steps``; writes to ``run_dir`` (None: writes nothing,
    e.g. on a torchrun rank other than 0, or a guidelines-lab variant kept in memory)."""

    def __init__(
        self,
        trainer: Trainer,
        run_dir: RunDir | None,
        *,
        write_samples: bool = True,
        extra_config: dict | None = None,
    ):
        self.trainer = trainer
        self.run_dir = run_dir
        self.write_samples = write_samples
        self.extra_config = dict(extra_config or {})  # joins config.json and the checkpoint's train_config
        self.stream = MetricsStream(trainer.device)
        self.last_metrics: dict = {}  # the newest finite row read, by METRICS name
        self.saved_step: int | None = None
        self.sample_step: int | None = None  # the step of the newest grid drawn
        self.bad_step: int | None = None  # the first step whose metrics were not finite
        self.step_metrics: torch.Tensor | None = None  # the newest step's metrics, on the device
        self._last_read = self._last_sample = time.monotonic()

    @property
    def config(self):
        return self.trainer.config

    # ---- hooks a driver overrides ------------------------------------------------

    def control(self) -> str:
        """Before each step: TRAIN, ONE_STEP (one step, then show it), IDLE (ask again), SAVE or STOP."""
        return TRAIN

    def read_due(self, step: int) -> bool:
        """After a step: read the metrics that are ready (without waiting for the device)?"""
        return time.monotonic() - self._last_read >= READ_INTERVAL_S

    def sample_due(self, step: int) -> bool:
        """After a step: draw a grid to keep (a PNG file)?"""
        return step % self.config.sample_every == 0

    def live_sample_due(self) -> bool:
        """After a step: draw a grid only to show it now (no file)?"""
        return False

    def collect(self, wait: bool) -> np.ndarray | None:
        """The metrics rows (step, *METRICS) that have reached the host; ``wait``: all of them."""
        if not wait:
            self.stream.send()
        return self.stream.receive(wait=wait)

    def on_rows(self, rows: np.ndarray) -> None:
        """New rows, up to and including the first non-finite one."""

    def on_sample(self, step: int, images: torch.Tensor, grid: np.ndarray, keep: bool) -> None:
        """A finite grid was drawn (``keep``: it is also a file and a timeline frame)."""

    def after_step(self, step: int) -> None:
        """After every step (and its reads, samples and saves)."""

    def on_saved(self, step: int) -> None:
        """A checkpoint of ``step`` was written."""

    def on_broken_weights(self, step: int) -> None:
        """The weights are not finite although the losses read were: no checkpoint is written."""

    # ---- the loop ---------------------------------------------------------------------

    def begin(self, earlier_log=None) -> None:
        """Before the first step: the folder (a continued run's earlier curves carried over),
        config.json and the first grid."""
        if self.run_dir is not None:
            self.run_dir.prepare(self.trainer.step_count)
            earlier = self.run_dir.earlier_rows(earlier_log, self.trainer.step_count)
            if len(earlier):
                self.publish(earlier)
            self.run_dir.write_config(self.config, self.extra_config)
        self.sample()

    def run(self) -> Outcome:
        trainer = self.trainer
        self._last_read = self._last_sample = time.monotonic()
        while True:
            action = self.control()
            if action == STOP:
                break
            if action == SAVE:
                if not self.read(wait=True):
                    return self.failed()
                self.save()
                continue
            if action == IDLE:
                continue
            if trainer.step_count >= self.config.max_steps:
                if not self.read(wait=True):
                    return self.failed()
                self.final_sample()
                self.save()
                return Outcome("finished", trainer.step_count)

            self.step_metrics = trainer.step()
            step = trainer.step_count
            self.stream.push(step, self.step_metrics)
            if action == ONE_STEP or self.sample_due(step):
                if not self.read(wait=True):
                    return self.failed()
                self.sample()
            elif self.live_sample_due():
                self.sample(keep=False)
            if step % self.config.checkpoint_every == 0:
                if not self.read(wait=True):
                    return self.failed()
                self.save()
            if self.read_due(step):
                self._last_read = time.monotonic()
                if not self.read(wait=False):
                    return self.failed()
            self.after_step(step)
        # stopped by request: keep what was learned, if it is sound
        if not self.read(wait=True):
            return self.failed()
        self.final_sample()
        self.save()
        return Outcome("stopped", trainer.step_count)

    def failed(self) -> Outcome:
        return Outcome("failed", self.trainer.step_count, self.bad_step)

    def read(self, wait: bool) -> bool:
        """Move the metrics that reached the host to the log and the driver; False at a non-finite one."""
        rows = self.collect(wait)
        if rows is None or len(rows) == 0:
            return True
        bad = ~np.isfinite(rows[:, 1:]).all(axis=1)
        if bad.any():
            first = int(np.argmax(bad))
            self.bad_step = int(rows[first, 0])
            self.publish(rows[: first + 1])
            return False
        self.publish(rows)
        return True

    def publish(self, rows: np.ndarray) -> None:
        finite = rows[np.isfinite(rows[:, 1:]).all(axis=1)]
        if len(finite):
            self.last_metrics = {name: float(v) for name, v in zip(METRICS, finite[-1, 1:], strict=True)}
        if self.run_dir is not None:
            self.run_dir.append_metrics(rows, self.config.lr, self.config.beta1)
        self.on_rows(rows)

    def sample(self, keep: bool = True) -> None:
        """The fixed noise through the shown generator (skipped if a pixel is not finite)."""
        self._last_sample = time.monotonic()
        images = self.trainer.samples().float().cpu()
        if not torch.isfinite(images).all():
            return
        step = self.trainer.step_count
        grid = sample_grid(images, nrow=8)
        self.sample_step = step
        if keep and self.run_dir is not None and self.write_samples:
            self.run_dir.write_sample(step, grid)
        self.on_sample(step, images, grid, keep)

    def final_sample(self) -> None:
        if self.sample_step != self.trainer.step_count:
            self.sample()

    def save(self) -> None:
        trainer = self.trainer
        if self.run_dir is None or trainer.step_count == self.saved_step:
            return
        if not trainer.weights_finite():  # never replace a good checkpoint with a broken one
            self.on_broken_weights(trainer.step_count)
            return
        self.run_dir.save_checkpoint(trainer, metrics=self.last_metrics, extra_config=self.extra_config)
        self.saved_step = trainer.step_count
        self.on_saved(trainer.step_count)
