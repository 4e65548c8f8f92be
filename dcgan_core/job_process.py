"""A training run in a child process, with the same surface as ``TrainingJob``.

Why a process: in one interpreter the training thread and the web server share
the GIL. Every PyTorch call re-takes it, so while thirty browsers are being
redrawn a CPU run slows to a crawl (240 -> 10 images/s measured with five
viewers). In its own process the run keeps its speed and the server keeps its
responsiveness.

The child runs an ordinary ``TrainingJob`` and, a few times a second, sends the
parent what changed in its snapshot (new history rows, new sample grids, the
small fields). The parent keeps the latest ``JobSnapshot`` ready, so reading it
costs nothing however many pages ask. Control requests travel the other way.
If the child dies, the run ends as "failed" with a message; if the server dies,
the child sees its pipe close, saves a checkpoint and exits.
"""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import replace
from pathlib import Path

import numpy as np

from dcgan_core import paths
from dcgan_core.checkpoint import Checkpoint, load_checkpoint
from dcgan_core.config import TrainConfig, check_optimizer_settings
from dcgan_core.job import (
    ACTIVE,
    HISTORY_COLUMNS,
    JobSnapshot,
    TrainingJob,
    _History,
    apply_control,
    generator_from_export,
)

PUBLISH_INTERVAL_S = 0.2


# ---- the child ---------------------------------------------------------------


class _Publisher:
    """Turns successive snapshots into small updates: only what is new is sent."""

    def __init__(self):
        self.rows_sent = 0
        self.frame_steps: tuple = ()
        self.grid_step = None
        self.real_sent = False

    def update(self, snap: JobSnapshot) -> dict:
        history = snap.history
        frames_now = tuple(step for step, _ in snap.frames)
        sent = set(self.frame_steps)
        small = {
            name: getattr(snap, name)
            for name in JobSnapshot.__dataclass_fields__
            if name not in ("history", "frames", "latest_grid", "real_grid")
        }
        update = {
            "fields": small,
            "rows": np.array(history[self.rows_sent :]),
            "frame_steps": frames_now,
            "new_frames": [(step, grid) for step, grid in snap.frames if step not in sent],
        }
        self.rows_sent = len(history)
        self.frame_steps = frames_now
        if snap.latest_grid_step != self.grid_step:
            update["latest_grid"] = snap.latest_grid
            self.grid_step = snap.latest_grid_step
        if snap.real_grid is not None and not self.real_sent:
            update["real_grid"] = snap.real_grid
            self.real_sent = True
        return update


def _child_main() -> None:
    """``python -m dcgan_core.job_process``: read the job from stdin, train, report on stdout."""
    messages_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints (PyTorch's warnings) must not corrupt the message stream
    sys.stdout = sys.stderr
    channel = Channel(sys.stdin.buffer, messages_out)
    job = None
    try:
        job_kwargs, data_dir = channel.recv()
        paths.DATA_DIR = Path(data_dir)  # the parent's, even when a test or the server moved it
        job = TrainingJob(**job_kwargs).start()
        orphaned = threading.Event()

        def listen():  # commands arrive on their own thread: a pipe cannot be polled on every OS
            try:
                while True:
                    command, params = channel.recv()
                    try:
                        apply_control(job, command, **params)
                    except Exception:  # noqa: BLE001 — a bad request must not end the listening
                        traceback.print_exc()
            except (EOFError, OSError, pickle.UnpicklingError):
                orphaned.set()  # the server went away: keep what was learned
                job.stop()

        threading.Thread(target=listen, name="commands", daemon=True).start()
        publisher = _Publisher()
        while True:
            orphaned.wait(PUBLISH_INTERVAL_S)
            exported = job.take_generator()
            if exported is not None:
                channel.send(("generator", exported))
            snap = job.snapshot()
            ended = not snap.active and job.wait(0)
            channel.send(("update", publisher.update(snap)))
            if ended:
                return
    except BrokenPipeError:
        if job is not None:
            job.stop()
            job.wait(60)
    except Exception:  # noqa: BLE001 — the parent must hear why, never wait forever
        try:
            channel.send(("crashed", traceback.format_exc()[-2000:]))
        except OSError:
            pass


class Channel:
    """Length-prefixed pickles over a pair of byte streams (the child's stdin and stdout)."""

    def __init__(self, reader, writer):
        self._reader, self._writer = reader, writer
        self._write_lock = threading.Lock()

    def send(self, message) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        with self._write_lock:
            self._writer.write(struct.pack("<Q", len(data)) + data)
            self._writer.flush()

    def recv(self):
        header = self._read_exactly(8)
        return pickle.loads(self._read_exactly(struct.unpack("<Q", header)[0]))

    def _read_exactly(self, n: int) -> bytes:
        chunks, left = [], n
        while left:
            chunk = self._reader.read(left)
            if not chunk:
                raise EOFError("the other side closed the stream")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)


# ---- the parent --------------------------------------------------------------


class TrainingProcess:
    """``TrainingJob``'s methods, for a run that trains in a child process."""

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
        self.run_dir = Path(run_dir)
        self.checkpoint_path = self.run_dir / "checkpoint.pt"
        self._kwargs = dict(
            config=config,
            run_dir=str(run_dir),
            resume=resume,
            images=images,
            write_samples=write_samples,
            cpu_threads=cpu_threads,
            earlier_log=str(earlier_log) if earlier_log else None,
        )
        self._lock = threading.Lock()
        self._process = None
        self._started_at: float | None = None
        self._channel: Channel | None = None
        self._receiver: threading.Thread | None = None
        self._history = _History(len(HISTORY_COLUMNS))
        self._frames: dict[int, np.ndarray] = {}
        self._generator: tuple[int, dict] | None = None
        self._generator_arrived = threading.Condition(self._lock)
        # What an unstarted job shows: the same fields a thread-mode run starts from.
        self._snapshot = TrainingJob(config, self.run_dir, resume=resume).snapshot()

    # ---- control ------------------------------------------------------------

    def start(self) -> TrainingProcess:
        with self._lock:
            if self._process is not None:
                return self
            # A fresh interpreter, not fork: the server has threads (and perhaps CUDA).
            root = str(Path(__file__).resolve().parent.parent)
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
            try:
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "dcgan_core.job_process"],
                    cwd=root,
                    env=env,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                )
            except OSError as err:  # no interpreter to start: the run ends with the reason, the app carries on
                self._snapshot = replace(
                    self._snapshot,
                    status="failed",
                    message_key="trainer.crashed",
                    message_params={"detail": f"could not start the training process: {err}"},
                )
                return self
            self._channel = Channel(self._process.stdout, self._process.stdin)
            self._snapshot = replace(self._snapshot, status="starting")
            self._started_at = time.monotonic()
        self._channel.send((self._kwargs, str(paths.DATA_DIR)))
        self._kwargs = None  # the images and checkpoint now live in the child
        self._receiver = threading.Thread(target=self._receive, name="dcgan-training-receiver", daemon=True)
        self._receiver.start()
        return self

    def _send(self, command: str, params: dict | None = None) -> None:
        try:
            self._channel.send((command, params or {}))
        except (OSError, AttributeError, ValueError):
            pass  # the child has ended: nothing left to control

    def pause(self) -> None:
        self._send("pause")

    def resume(self) -> None:
        self._send("resume")

    def stop(self) -> None:
        with self._lock:
            if self._snapshot.status in ("starting", "running", "paused"):
                self._snapshot = replace(self._snapshot, status="stopping")
        self._send("stop")

    def step_once(self) -> bool:
        if self._snapshot.status != "paused":
            return False
        self._send("step")
        return True

    def set_hyperparameters(self, lr: float | None = None, beta1: float | None = None) -> None:
        current = self.config
        check_optimizer_settings(
            current.lr if lr is None else lr, current.beta1 if beta1 is None else beta1, current.beta2
        )
        self._send("set_hyperparameters", {"lr": lr, "beta1": beta1})

    def request_checkpoint(self) -> None:
        self._send("save")

    def generator(self, timeout: float = 10.0):
        """(step, a CPU copy of the live generator in eval mode) taken between two steps; None if none came."""
        with self._lock:
            self._generator = None
        self._send("generator")
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._generator is None and self._receiver is not None and self._receiver.is_alive():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._generator_arrived.wait(left)
            exported = self._generator
        if exported is None:
            return self._generator_from_checkpoint()
        return generator_from_export(self.config, exported)

    def _generator_from_checkpoint(self):
        """An ended run's generator is its last checkpoint's."""
        snap = self.snapshot()
        if snap.active or snap.checkpoint_step is None:
            return None
        return snap.checkpoint_step, load_checkpoint(self.checkpoint_path).build_generator().eval()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has ended and its last update arrived (or ``timeout``)."""
        if self._process is None:
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        self._receiver.join(left)
        return not self._receiver.is_alive()

    @property
    def status(self) -> str:
        return self._snapshot.status

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def snapshot(self) -> JobSnapshot:
        with self._lock:
            snap = self._snapshot
        if snap.status == "starting" and self._started_at is not None:  # the child is still importing torch
            snap = replace(snap, elapsed_seconds=time.monotonic() - self._started_at)
        return snap

    # ---- the receiver thread -----------------------------------------------

    def _receive(self) -> None:
        crashed = None
        while True:
            try:
                kind, payload = self._channel.recv()
            except (EOFError, OSError, pickle.UnpicklingError):
                break
            if kind == "update":
                self._merge(payload)
            elif kind == "generator":
                with self._lock:
                    self._generator = payload
                    self._generator_arrived.notify_all()
            elif kind == "crashed":
                crashed = payload
        try:
            code = self._process.wait(10)
        except subprocess.TimeoutExpired:
            code = None
        with self._lock:
            if self._snapshot.status in ACTIVE:  # the child ended without saying how
                detail = (crashed or f"the training process ended (exit code {code})").strip().splitlines()[-1]
                self._snapshot = replace(
                    self._snapshot,
                    status="failed",
                    message_key="trainer.crashed",
                    message_params={"detail": detail[:300]},
                )
            self._generator_arrived.notify_all()

    def _merge(self, update: dict) -> None:
        with self._lock:
            if len(update["rows"]):
                self._history.extend(update["rows"])
            for step, grid in update["new_frames"]:
                self._frames[step] = grid
            self._frames = {step: self._frames[step] for step in update["frame_steps"] if step in self._frames}
            fields = dict(update["fields"])
            latest = update.get("latest_grid", self._snapshot.latest_grid)
            real = update.get("real_grid", self._snapshot.real_grid)
            self._snapshot = JobSnapshot(
                history=self._history.view(),
                frames=tuple(self._frames.items()),
                latest_grid=latest,
                real_grid=real,
                **fields,
            )
            self.config = TrainConfig.from_dict(fields["config"])  # lr and β1 may have been retuned


if __name__ == "__main__":
    _child_main()
    sys.stderr.flush()
    os._exit(0)  # the command thread may still be blocked reading stdin: do not wait for it
