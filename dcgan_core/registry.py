"""One training registry per server process: the run every browser sees.

A classroom shares one machine, so one heavy job runs at a time; a second
start is refused (LabError "train.busy"), never silently queued. Starting a
job hands out a short control token: only a caller presenting it may pause,
step, stop or retune the run (the teacher can type it on another device);
everyone else watches. The job lives here, not in a browser session, so it
survives reloads and closed tabs.
"""

from __future__ import annotations

import os
import secrets
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from dcgan_core import paths
from dcgan_core.checkpoint import Checkpoint
from dcgan_core.config import TrainConfig
from dcgan_core.i18n import LabError
from dcgan_core.job import TrainingJob, apply_control
from dcgan_core.job_process import TrainingProcess
from dcgan_core.paths import data_path

TOKEN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed on a phone
TOKEN_LENGTH = 6
ACTIONS = ("pause", "resume", "stop", "step", "set_hyperparameters", "save")


ADMIN_CODE_ENV = "DCGAN_LAB_ADMIN_CODE"
TRAINING_MODE_ENV = "DCGAN_LAB_TRAINING"
TRAINING_MODES = {"process": TrainingProcess, "thread": TrainingJob}


def training_mode(mode: str | None = None) -> str:
    """Where runs train: "process" (the default: a child process, so the web server and
    the run never wait for each other's GIL) or "thread" (inside the server process)."""
    mode = (mode or os.environ.get(TRAINING_MODE_ENV) or "process").strip().lower()
    if mode not in TRAINING_MODES:
        raise ValueError(f"{TRAINING_MODE_ENV}={mode!r}: choose one of {', '.join(TRAINING_MODES)}")
    return mode


@dataclass
class RunRecord:
    run_id: str
    job: TrainingJob | TrainingProcess
    started_at: float  # time.time()


IMAGE_FOLDERS_ENV = "DCGAN_LAB_IMAGE_FOLDERS"


def image_folder_roots() -> list[Path]:
    """Where the app may read a folder of training images: its data folder's
    datasets/, plus the roots the server's owner lists in $DCGAN_LAB_IMAGE_FOLDERS
    (os.pathsep-separated). Any student could type a path, and the real images are
    shown to everyone: the teacher's photo folder must not be one step away."""
    roots = [Path(paths.DATA_DIR) / "datasets"]
    roots += [Path(p).expanduser() for p in os.environ.get(IMAGE_FOLDERS_ENV, "").split(os.pathsep) if p.strip()]
    return [root.resolve() for root in roots]


def check_image_folder(path: str) -> Path:
    """The folder, resolved, if it lies under an allowed root; else LabError train.folder_not_allowed."""
    folder = Path(path).expanduser().resolve()
    roots = image_folder_roots()
    if not any(folder.is_relative_to(root) for root in roots):
        raise LabError(
            "train.folder_not_allowed", path=str(folder), roots=", ".join(map(str, roots)), env=IMAGE_FOLDERS_ENV
        )
    return folder


def new_token() -> str:
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


def normalise_token(token: str | None) -> str:
    return (token or "").strip().upper().replace(" ", "").replace("-", "")


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


class TrainingRegistry:
    def __init__(self, runs_folder: Path | None = None, mode: str | None = None):
        self.mode = training_mode(mode)
        self._lock = threading.Lock()
        self._current: RunRecord | None = None
        self._token: str | None = None
        self._history: list[RunRecord] = []
        self._runs_folder = runs_folder
        self._rerun = None  # the guidelines lab's live rerun (an AblationPairProcess), if one was started

    def _run_dir(self, run_id: str) -> Path:
        if self._runs_folder is not None:
            return Path(self._runs_folder) / run_id
        return data_path("runs", run_id)

    def start(self, config: TrainConfig, resume: Checkpoint | None = None, **job_options) -> tuple[RunRecord, str]:
        """Start a run; returns it and its control token. Refused while another is active."""
        with self._lock:
            if self._rerun is not None and self._rerun.active:
                raise LabError("guidelines_lab.rerun_holds_machine")
            if self._busy():
                raise LabError("train.busy")
            run_id = new_run_id()
            job = TRAINING_MODES[self.mode](config, run_dir=self._run_dir(run_id), resume=resume, **job_options)
            record = RunRecord(run_id=run_id, job=job, started_at=time.time())
            if self._current is not None:
                self._history.append(self._current)
                self._keep_what_shown_needs()
            self._current = record
            self._token = new_token()
            job.start()
            # The teacher's terminal keeps the code too, whatever happens to the browser tab.
            print(f"DCGAN Lab: run {run_id} started; its control code is {self._token}", file=sys.stderr, flush=True)
            return record, self._token

    def _keep_what_shown_needs(self) -> None:
        """Earlier runs stay only for ``shown()``: the newest one that trained. Each record holds its
        run's curves, and a run continued again and again carries all earlier steps: keeping twenty
        made the server grow by 70 % in an hour of continuations (benchmarks/classroom_soak.py)."""
        trained = [r for r in self._history if not r.job.snapshot().failed_to_start]
        self._history = trained[-1:]

    def _busy(self) -> bool:
        return (self._current is not None and self._current.job.snapshot().active) or (
            self._rerun is not None and self._rerun.active
        )

    def machine_busy(self) -> bool:
        """Is a training run or a live rerun using the machine?"""
        with self._lock:
            return self._busy()

    def start_rerun(self, job):
        """Start the guidelines lab's live rerun (an ``AblationPairProcess``): it trains like a run and
        shares its one slot, so it is refused (LabError "train.busy") while a run or another rerun is active."""
        with self._lock:
            if self._busy():
                raise LabError("train.busy")
            self._rerun = job
            job.start()
            return job

    def rerun(self):
        """The current (or last) live rerun, if any."""
        with self._lock:
            return self._rerun

    def current(self) -> RunRecord | None:
        with self._lock:
            return self._current

    def shown(self) -> RunRecord | None:
        """The run to show: the current one, unless it failed before training (a refused
        dataset), then the newest earlier run that did not, with its samples and downloads."""
        with self._lock:
            records = [self._current, *reversed(self._history)] if self._current is not None else []
        for record in records:
            if not record.job.snapshot().failed_to_start:
                return record
        return None

    def history(self) -> list[RunRecord]:
        """The earlier run kept for ``shown()`` (the newest one that trained), if any."""
        with self._lock:
            return list(reversed(self._history))

    def is_controller(self, token: str | None) -> bool:
        """The current run's code, or the server owner's $DCGAN_LAB_ADMIN_CODE (for a run whose
        starter left with the code, e.g. paused on a closed laptop)."""
        given = normalise_token(token)
        if not given:
            return False
        admin = normalise_token(os.environ.get(ADMIN_CODE_ENV))
        if admin and secrets.compare_digest(given, admin):
            return True
        with self._lock:
            return self._token is not None and secrets.compare_digest(given, self._token)

    def control(self, token: str | None, action: str, **params) -> bool:
        """Apply a control action to the current run, if ``token`` is its controller's."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}; choose one of {ACTIONS}")
        if not self.is_controller(token):
            raise LabError("train.not_controller")
        record = self.current()
        if record is None:
            raise LabError("train.no_job")
        result = apply_control(record.job, action, **params)
        return True if result is None else result

    def stop_all(self, timeout: float = 30.0) -> None:
        """Stop the current run and wait for it (tests, server shutdown)."""
        record = self.current()
        if record is not None:
            record.job.stop()
            record.job.wait(timeout)
        rerun = self.rerun()
        if rerun is not None:
            rerun.stop()
            rerun.wait(timeout)


_REGISTRY = TrainingRegistry()


def get_registry() -> TrainingRegistry:
    """The process-wide registry (a module global: Streamlit reruns do not re-import modules)."""
    return _REGISTRY
