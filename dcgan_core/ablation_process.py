"""The guidelines lab's live rerun in a child process, with ``AblationPairJob``'s surface.

Like a Train-page run (``job_process.TrainingProcess``), the rerun trains in its
own interpreter so that the web server never waits for it; the registry
(``registry.start_rerun``) lets one heavy job run per server. The child runs an
ordinary ``AblationPairJob`` and reports its progress a few times a second, then
each finished ``AblationResult``; "stop" travels the other way.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

from dcgan_core import paths
from dcgan_core.ablations import AblationPairJob, AblationResult, ablation_config
from dcgan_core.classifier import load_classifier
from dcgan_core.i18n import LabError
from dcgan_core.job_process import PUBLISH_INTERVAL_S, Channel
from dcgan_core.registry import get_registry


def _child_main() -> None:
    """``python -m dcgan_core.ablation_process``: read the rerun from stdin, train, report on stdout."""
    messages_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints must not corrupt the message stream
    sys.stdout = sys.stderr
    channel = Channel(sys.stdin.buffer, messages_out)
    job = None
    try:
        options, data_dir = channel.recv()
        paths.DATA_DIR = Path(data_dir)
        classifier = None
        if options.pop("with_classifier"):
            try:
                classifier = load_classifier()
            except LabError:
                classifier = None  # no metrics, but the curves and samples still come
        job = AblationPairJob(classifier=classifier, **options).start()

        def listen():
            try:
                while True:
                    command = channel.recv()
                    if command == "stop":
                        job.stop()
            except (EOFError, OSError, pickle.UnpicklingError):
                job.stop()  # the server went away

        threading.Thread(target=listen, name="commands", daemon=True).start()
        sent: set[str] = set()
        while True:
            ended = job.wait(PUBLISH_INTERVAL_S)
            for name, result in list(job.results.items()):
                if name not in sent:
                    channel.send(("result", result))
                    sent.add(name)
            channel.send(("progress", job.current, job.progress))
            if ended:
                failure = job.failure
                channel.send(("ended", job.status, None if failure is None else (failure.key, failure.params)))
                return
    except BrokenPipeError:
        if job is not None:
            job.stop()
            job.wait(60)
    except Exception:  # noqa: BLE001 — the parent must hear why, never wait forever
        try:
            channel.send(("ended", "failed", ("common.unexpected_error", {"detail": traceback.format_exc()[-300:]})))
        except OSError:
            pass


class AblationPairProcess:
    """The recipe and one broken variant, trained one after the other in a child process."""

    def __init__(
        self,
        name: str,
        steps: int,
        seed: int = 0,
        device: str = "auto",
        base_cfg=None,
        with_classifier: bool = True,
        images=None,
    ):
        ablation_config(name)  # an unknown name fails here, not in the child
        if steps < 1:
            raise LabError("errors.config_positive", name="steps", value=steps)
        self.name, self.steps, self.seed = name, steps, seed
        self.names = ["paper", name] if name != "paper" else ["paper"]
        self._options = dict(
            name=name,
            steps=steps,
            seed=seed,
            device=device,
            base_cfg=base_cfg,
            images=images,
            with_classifier=with_classifier,
        )
        self.results: dict[str, AblationResult] = {}
        self.status = "idle"  # idle | running | finished | stopped | failed
        self.failure: LabError | None = None
        self.current: str | None = None
        self.progress = 0.0
        self.started_at: float | None = None
        self._process: subprocess.Popen | None = None
        self._channel: Channel | None = None
        self._receiver: threading.Thread | None = None

    @property
    def active(self) -> bool:
        return self.status == "running"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> AblationPairProcess:
        root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
        self.status, self.started_at = "running", time.monotonic()
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "dcgan_core.ablation_process"],
                cwd=root,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        except OSError as err:
            self.failure = LabError("common.unexpected_error", detail=f"could not start the training process: {err}")
            self.status = "failed"
            return self
        self._channel = Channel(self._process.stdout, self._process.stdin)
        self._channel.send((self._options, str(paths.DATA_DIR)))
        self._options = None
        self._receiver = threading.Thread(target=self._receive, name="dcgan-rerun-receiver", daemon=True)
        self._receiver.start()
        return self

    def stop(self) -> None:
        try:
            self._channel.send("stop")
        except (OSError, AttributeError, ValueError):
            pass  # the child has ended

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the child has ended and its last report arrived (or ``timeout``)."""
        if self._receiver is None:
            return True
        self._receiver.join(timeout)
        return not self._receiver.is_alive()

    def _receive(self) -> None:
        ended = False
        while True:
            try:
                message = self._channel.recv()
            except (EOFError, OSError, pickle.UnpicklingError):
                break
            if message[0] == "result":
                self.results[message[1].name] = message[1]
            elif message[0] == "progress":
                _, self.current, self.progress = message
            elif message[0] == "ended":
                _, status, failure = message
                if failure is not None:
                    self.failure = LabError(failure[0], **failure[1])
                self.status, ended = status, True
        try:
            code = self._process.wait(10)
        except subprocess.TimeoutExpired:
            code = None
        if not ended:
            self.failure = LabError("common.unexpected_error", detail=f"the training process ended (exit code {code})")
            self.status = "failed"


def other_training_active() -> bool:
    """Is a run of the training registry (the Train page) or a live rerun using the machine?"""
    return get_registry().machine_busy()


def start_live_pair(
    name: str, steps: int, seed: int = 0, device: str = "auto", base_cfg=None, with_classifier: bool = True, images=None
) -> AblationPairProcess:
    """Start the live rerun of the recipe and ``name`` in a child process, through the
    server's training registry: one heavy job per server, so it is refused (LabError
    guidelines_lab.live_busy) while another rerun or a Train-page run is active."""
    job = AblationPairProcess(
        name, steps, seed=seed, device=device, base_cfg=base_cfg, with_classifier=with_classifier, images=images
    )
    try:
        return get_registry().start_rerun(job)
    except LabError as err:
        if err.key == "train.busy":
            raise LabError("guidelines_lab.live_busy") from None
        raise


def live_job() -> AblationPairProcess | None:
    """The server's current (or last) live rerun, if any."""
    return get_registry().rerun()


if __name__ == "__main__":
    _child_main()
    sys.stderr.flush()
    os._exit(0)  # the command thread may still be blocked reading stdin
