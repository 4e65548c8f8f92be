"""A training run in a background thread, observed through ``snapshot()``.

The thread owns the Trainer; everyone else sends requests (pause, resume,
stop, one step, new lr/β1, save now) that the thread applies between steps,
and reads an immutable ``JobSnapshot``. Metrics reach the host in batches,
a few times a second, never inside a step. The thread runs the one training
loop (``loop.TrainingLoop``), steered through its hooks.
"""

from __future__ import annotations

import math
import os
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from dcgan_core import data
from dcgan_core.checkpoint import Checkpoint, cpu_copy
from dcgan_core.config import METRICS, TrainConfig, check_optimizer_settings
from dcgan_core.data_sanity import require_one_batch
from dcgan_core.device import device_description, device_memory, pick_device
from dcgan_core.i18n import LANGUAGES, LabError
from dcgan_core.loop import IDLE, ONE_STEP, SAVE, STOP, TRAIN, TrainingLoop
from dcgan_core.models import Generator
from dcgan_core.rundir import RunDir
from dcgan_core.trainer import Trainer, diagnose, sample_diversity

STATUSES = ("idle", "starting", "running", "paused", "stopping", "stopped", "finished", "failed")
ACTIVE = ("starting", "running", "paused", "stopping")
HISTORY_COLUMNS = ("step", *METRICS)
RATE_WINDOW_S = 3.0  # images/s is averaged over this much recent time
MAX_FRAMES = 120  # sample grids kept for the timeline (thinned evenly beyond this)
COLLAPSE_RATIO = 0.15  # samples this much less varied than real images: mode collapse
COLLAPSE_MIN_STEPS = 200  # a fresh generator draws near-identical images; judge only later
LIVE_SAMPLE_EVERY_S = 0.75  # the live grid is redrawn at least this often (a browser asks every 1 s)


def default_cpu_threads() -> int:
    """All cores but one: the web server and the browsers need the other."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, cores - 1)


# The requests a run takes from outside, by name (the registry's control actions, the
# messages a training process receives), and the job method that carries each out.
CONTROL_METHODS = {
    "pause": "pause",
    "resume": "resume",
    "stop": "stop",
    "step": "step_once",
    "set_hyperparameters": "set_hyperparameters",
    "save": "request_checkpoint",
    "generator": "request_generator",
}


def apply_control(job, action: str, **params):
    """Carry out a named request on a ``TrainingJob`` or ``TrainingProcess``; the method's result."""
    return getattr(job, CONTROL_METHODS[action])(**params)


@dataclass(frozen=True)
class JobSnapshot:
    status: str
    message_key: str | None
    message_params: dict
    step: int
    start_step: int
    max_steps: int
    epoch: float
    history: np.ndarray  # (n, len(HISTORY_COLUMNS)): step, loss_d, loss_g, d_real, d_fake_before, d_fake_after
    images_per_sec: float
    eta_seconds: float | None
    elapsed_seconds: float
    device: str  # in English (CLI); device_by_lang for the UI
    device_by_lang: dict
    memory_gib: tuple[float, float] | None
    latest_grid: np.ndarray | None  # (H, W, 3) uint8, fixed noise through G
    latest_grid_step: int | None
    frames: tuple  # ((step, grid), ...) for the timeline
    real_grid: np.ndarray | None
    warnings: tuple
    lr: float
    beta1: float
    config: dict
    run_dir: str
    checkpoint_path: str | None
    checkpoint_step: int | None
    dataset_name: str
    dataset_size: int
    data_notice_key: str | None
    data_notice_params: dict

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def failed_to_start(self) -> bool:
        """Failed before its first sample grid (a refused dataset, say): it has nothing to show."""
        return self.status == "failed" and self.latest_grid_step is None

    @property
    def progress(self) -> float:
        return min(1.0, self.step / max(1, self.max_steps))

    @property
    def last_metrics(self) -> dict | None:
        if len(self.history) == 0:
            return None
        return dict(zip(METRICS, (float(v) for v in self.history[-1, 1:]), strict=False))


class _History:
    """Append-only rows in a growing buffer; ``view()`` shares rows without copying
    (rows below the current length never change again)."""

    def __init__(self, columns: int):
        self._rows = np.zeros((1024, columns))
        self._n = 0

    def extend(self, rows: np.ndarray) -> None:
        need = self._n + len(rows)
        if need > len(self._rows):
            grown = np.zeros((max(need, 2 * len(self._rows)), self._rows.shape[1]))
            grown[: self._n] = self._rows[: self._n]
            self._rows = grown
        self._rows[self._n : need] = rows
        self._n = need

    def view(self) -> np.ndarray:
        out = self._rows[: self._n]
        out.flags.writeable = False
        return out


def device_texts(device: torch.device) -> dict:
    return {lang: device_description(device, lang) for lang in LANGUAGES}


def is_out_of_memory(err: BaseException) -> bool:
    oom_type = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom_type is not None and isinstance(err, oom_type):
        return True
    return isinstance(err, RuntimeError) and "out of memory" in str(err).lower()


def generator_from_export(config: TrainConfig, exported: tuple[int, dict]):
    """(step, G in eval mode) from what ``take_generator()`` gave."""
    step, state = exported
    netG = Generator(config.model)
    netG.load_state_dict(state)
    return step, netG.eval()


def format_seconds(seconds: float | None) -> str:
    """A duration as m:ss or h:mm:ss; "–" when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "–"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class TrainingJob:
    """One run: ``start()`` it, steer it, read ``snapshot()``."""

    def __init__(
        self,
        config: TrainConfig,
        run_dir: str | Path,
        resume: Checkpoint | None = None,
        images=None,
        write_samples: bool = True,
        cpu_threads: int | None = None,
        earlier_log: str | Path | None = None,
    ):
        self.config = config
        self.earlier_log = Path(earlier_log) if earlier_log else None  # a resumed run's curves so far
        self.run_dir = Path(run_dir)
        self.folder = RunDir(self.run_dir)
        self.resume_from = resume
        self._given_images = images  # an ImageSet or tensor (tests, or data already loaded)
        self.write_samples = write_samples
        self.cpu_threads = cpu_threads or default_cpu_threads()
        self.checkpoint_path = self.folder.checkpoint_path
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        # requests from other threads, applied between steps
        self._paused = False
        self._stop = False
        self._step_requests = 0
        self._pending_hparams: dict = {}
        self._save_requested = False
        self._generator_requested = False
        self._exported_generator: tuple[int, dict] | None = None
        # state published to snapshot()
        self._status = "idle"
        self._message_key: str | None = None
        self._message_params: dict = {}
        start = resume.step if resume is not None else 0
        self._step = start
        self._start_step = start
        self._epoch = 0.0
        self._history = _History(len(HISTORY_COLUMNS))
        self._rate = 0.0
        self._rate_marks: list[tuple[float, int]] = []
        self._started_at: float | None = None
        self._ended_at: float | None = None
        self._device_texts: dict = {}
        self._memory = None
        self._latest_grid = None
        self._latest_grid_step = None
        self._frames: list[tuple[int, np.ndarray]] = []
        self._frame_stride = 1
        self._samples_seen = 0
        self._real_grid = None
        self._warnings: tuple = ()
        self._checkpoint_step = None
        self._dataset_name = ""
        self._dataset_size = 0
        self._notice_key = None
        self._notice_params: dict = {}
        self.trainer: Trainer | None = None

    # ---- control (any thread) ----------------------------------------------

    def start(self) -> TrainingJob:
        with self._lock:
            if self._thread is not None:
                return self
            self._status = "starting"
            self._started_at = time.monotonic()
            self._thread = threading.Thread(target=self._run, name="dcgan-training", daemon=True)
        self._thread.start()
        return self

    def pause(self) -> None:
        with self._wake:
            if self._status in ("starting", "running"):
                self._paused = True
                self._wake.notify_all()

    def resume(self) -> None:
        with self._wake:
            self._paused = False
            self._wake.notify_all()

    def stop(self) -> None:
        with self._wake:
            self._stop = True
            if self._status in ("starting", "running", "paused"):
                self._status = "stopping"
            self._wake.notify_all()

    def step_once(self) -> bool:
        """Exactly one D and one G update, while paused. False if not paused."""
        with self._wake:
            if not (self._paused and self._status == "paused"):
                return False
            self._step_requests += 1
            self._wake.notify_all()
            return True

    def set_hyperparameters(self, lr: float | None = None, beta1: float | None = None) -> None:
        current = self.config
        check_optimizer_settings(
            current.lr if lr is None else lr, current.beta1 if beta1 is None else beta1, current.beta2
        )
        with self._wake:
            if lr is not None:
                self._pending_hparams["lr"] = float(lr)
            if beta1 is not None:
                self._pending_hparams["beta1"] = float(beta1)
            self._wake.notify_all()

    def request_checkpoint(self) -> None:
        with self._wake:
            self._save_requested = True
            self._wake.notify_all()

    def request_generator(self) -> None:
        """Ask for a copy of G's weights, taken between two steps (never mid-update)."""
        with self._wake:
            self._generator_requested = True
            self._wake.notify_all()

    def take_generator(self) -> tuple[int, dict] | None:
        """(step, CPU state_dict) exported since the last call, or None."""
        with self._lock:
            exported, self._exported_generator = self._exported_generator, None
            return exported

    def generator(self, timeout: float = 10.0):
        """(step, a frozen CPU copy of the live generator in eval mode), or None if there is none yet."""
        if self.trainer is None:
            return None
        exported = None
        if self.snapshot().active:
            self.request_generator()
            deadline = time.monotonic() + timeout
            while (exported := self.take_generator()) is None and self.snapshot().active:
                if time.monotonic() > deadline:
                    return None
                time.sleep(0.02)
        if exported is None:  # ended: nothing is changing the weights any more
            exported = (self.trainer.step_count, cpu_copy(self.trainer.shown_generator))
        return generator_from_export(self.config, exported)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the thread ends (or ``timeout``); True if it has ended."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def status(self) -> str:
        return self._status

    def snapshot(self) -> JobSnapshot:
        with self._lock:
            now = self._ended_at or time.monotonic()
            elapsed = now - self._started_at if self._started_at else 0.0
            remaining = self.config.max_steps - self._step
            eta = (
                remaining / (self._rate / self.config.batch_size)
                if self._rate > 0 and self._status == "running"
                else None
            )
            return JobSnapshot(
                status=self._status,
                message_key=self._message_key,
                message_params=dict(self._message_params),
                step=self._step,
                start_step=self._start_step,
                max_steps=self.config.max_steps,
                epoch=self._epoch,
                history=self._history.view(),
                images_per_sec=self._rate,
                eta_seconds=eta,
                elapsed_seconds=elapsed,
                device=self._device_texts.get("en", ""),
                device_by_lang=dict(self._device_texts),
                memory_gib=self._memory,
                latest_grid=self._latest_grid,
                latest_grid_step=self._latest_grid_step,
                frames=tuple(self._frames),
                real_grid=self._real_grid,
                warnings=self._warnings,
                lr=self.config.lr,
                beta1=self.config.beta1,
                config=self.config.to_dict(),
                run_dir=str(self.run_dir),
                checkpoint_path=str(self.checkpoint_path) if self._checkpoint_step is not None else None,
                checkpoint_step=self._checkpoint_step,
                dataset_name=self._dataset_name,
                dataset_size=self._dataset_size,
                data_notice_key=self._notice_key,
                data_notice_params=dict(self._notice_params),
            )

    # ---- the training thread --------------------------------------------------

    def _run(self) -> None:
        # Per thread: the training thread's own pool, other threads keep theirs.
        # Oversubscribed cores make PyTorch's CPU kernels many times slower.
        torch.set_num_threads(self.cpu_threads)
        try:
            loop = self._prepare()
            outcome = loop.run()
        except LabError as err:
            self._finish("failed", err.key, err.params)
        except Exception as err:  # noqa: BLE001 — the job must end with a message, never hang
            if is_out_of_memory(err):
                self._release_memory()
                self._finish(
                    "failed",
                    "trainer.oom",
                    {"batch": self.config.batch_size, "smaller": max(1, self.config.batch_size // 2)},
                )
            else:
                traceback.print_exc()
                self._finish("failed", "trainer.crashed", {"detail": f"{type(err).__name__}: {err}"[:300]})
        else:
            if outcome.status == "failed":
                params = {"step": outcome.bad_step, "checkpoint_step": self._checkpoint_step or 0}
                self._finish("failed", "trainer.nan", params)
            else:
                self._finish(outcome.status, f"trainer.{outcome.status}", {"step": outcome.step})

    def _prepare(self) -> _JobLoop:
        device = pick_device(self.config.device)
        if self._given_images is not None:
            image_set = self._given_images
        else:
            image_set = data.load_images_or_bundled(self.config.dataset, device=device)
        images = image_set.images if hasattr(image_set, "images") else image_set
        trainer = Trainer(self.config, images, device=device, checkpoint=self.resume_from)  # checks their shape
        require_one_batch(trainer.num_images, self.config.batch_size)
        real = trainer.images[: self.config.n_fixed]
        real_grid = data.sample_grid(real.cpu(), nrow=8)
        self._real_diversity = sample_diversity(real)
        with self._lock:
            self.trainer = trainer
            self._dataset_name = getattr(image_set, "name", "tensor")
            self._dataset_size = trainer.num_images
            self._notice_key = getattr(image_set, "notice_key", None)
            self._notice_params = dict(getattr(image_set, "notice_params", None) or {})
            self._real_grid = real_grid
            self._device_texts = device_texts(trainer.device)
            self._memory = device_memory(trainer.device)
            self._epoch = trainer.epoch
        loop = _JobLoop(self, trainer)
        loop.begin(earlier_log=self.earlier_log)
        self._rate_marks = [(time.monotonic(), trainer.step_count)]
        with self._lock:
            if self._status == "starting":
                self._status = "paused" if self._paused else "running"
        return loop

    # ---- what the loop reports (the training thread) ----------------------------

    def _take_rows(self, rows: np.ndarray) -> None:
        bad = ~np.isfinite(rows[:, 1:]).all(axis=1)
        now = time.monotonic()
        with self._lock:
            self._history.extend(rows)
            if not bad.any():
                self._rate_marks.append((now, int(rows[-1, 0])))
                recent = [m for m in self._rate_marks if now - m[0] <= RATE_WINDOW_S]
                self._rate_marks = recent or self._rate_marks[-1:]
                (t0, s0), (t1, s1) = self._rate_marks[0], self._rate_marks[-1]
                if t1 > t0 and s1 > s0:
                    self._rate = (s1 - s0) * self.config.batch_size / (t1 - t0)
                self._warnings = tuple(diagnose(self._history.view())) + self._collapse_warning()
            if self.trainer is not None:
                self._memory = device_memory(self.trainer.device)
                self._device_texts = device_texts(self.trainer.device)

    def _collapse_warning(self) -> tuple:
        diversity = getattr(self, "_diversity", None)
        if diversity is None or self._latest_grid_step is None or self._latest_grid_step < COLLAPSE_MIN_STEPS:
            return ()
        return ("trainer.warn_collapse",) if diversity < COLLAPSE_RATIO * self._real_diversity else ()

    def _take_sample(self, step: int, images: torch.Tensor, grid: np.ndarray, keep: bool) -> None:
        """The fixed noise through G as the live grid; ``keep``: also a timeline frame."""
        self._diversity = sample_diversity(images)
        with self._lock:
            self._latest_grid, self._latest_grid_step = grid, step
            if not keep:
                return
            if self._samples_seen % self._frame_stride == 0:
                self._frames.append((step, grid))
                if len(self._frames) > MAX_FRAMES:  # keep the whole run, at half the density
                    self._frames = self._frames[::2]
                    self._frame_stride *= 2
            self._samples_seen += 1

    def _finish(self, status: str, key: str | None, params: dict) -> None:
        with self._lock:
            self._status = status
            self._message_key = key
            self._message_params = params
            self._ended_at = time.monotonic()
            if self.trainer is not None:
                self._step = self.trainer.step_count
                self._epoch = self.trainer.epoch

    def _release_memory(self) -> None:
        self.trainer = None
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


class _JobLoop(TrainingLoop):
    """The training loop steered by a ``TrainingJob``'s requests, reporting to its snapshot."""

    def __init__(self, job: TrainingJob, trainer: Trainer):
        super().__init__(trainer, job.folder, write_samples=job.write_samples)
        self.job = job

    def control(self) -> str:
        job, trainer = self.job, self.trainer
        with job._wake:
            if job._pending_hparams:
                trainer.set_hyperparameters(**job._pending_hparams)
                job.config = trainer.config
                job._pending_hparams = {}
            save_now, job._save_requested = job._save_requested, False
            if job._generator_requested:
                job._generator_requested = False
                job._exported_generator = (trainer.step_count, cpu_copy(trainer.shown_generator))
            if job._stop:
                return STOP
            if save_now:
                return SAVE
            if not job._paused:
                job._status = "running"
                return TRAIN
            if job._step_requests:
                job._step_requests -= 1
                return ONE_STEP
            job._status = "paused"
            job._wake.wait(timeout=0.5)  # woken by any request
            return IDLE

    def live_sample_due(self) -> bool:
        return time.monotonic() - self._last_sample >= LIVE_SAMPLE_EVERY_S

    def on_rows(self, rows: np.ndarray) -> None:
        self.job._take_rows(rows)

    def on_sample(self, step: int, images: torch.Tensor, grid: np.ndarray, keep: bool) -> None:
        self.job._take_sample(step, images, grid, keep)

    def on_saved(self, step: int) -> None:
        with self.job._lock:
            self.job._checkpoint_step = step

    def on_broken_weights(self, step: int) -> None:
        raise LabError("trainer.nan", step=step, checkpoint_step=self.job._checkpoint_step or 0)

    def after_step(self, step: int) -> None:
        with self.job._lock:
            self.job._step = step
            self.job._epoch = self.trainer.epoch
