"""The MNIST classifier's view of a generator while it trains (Train page)."""

from __future__ import annotations

import atexit
import copy
import threading
import time
from functools import lru_cache

import torch

from dcgan_core.classifier import load_classifier
from dcgan_core.data import DatasetSpec, load_images
from dcgan_core.latent import generate, z_from_seed
from dcgan_core.metrics import QualityReport, RealReference, quality_report, real_reference
from dcgan_core.models import Generator

SAMPLES = 500  # the mode-collapse check needs ≥ 50; FCD settles with a few hundred


@lru_cache(maxsize=4)
def _bundled_reference(image_size: int) -> RealReference:
    real = load_images(DatasetSpec(source="bundled", split="test", image_size=image_size, channels=1)).images
    return real_reference(real, load_classifier())


def scoreable(netG: Generator) -> bool:
    """Only grey generators can be read by the MNIST classifier."""
    return netG.cfg.channels == 1


def live_quality(netG: Generator, samples: int = SAMPLES, seed: int = 0) -> QualityReport:
    """Score a frozen copy: the live generator keeps training in its own thread."""
    with torch.no_grad():
        frozen = copy.deepcopy(netG).cpu().eval()
    fake = generate(frozen, z_from_seed(seed, frozen.cfg.nz, n=samples))
    return quality_report(fake, _bundled_reference(frozen.cfg.image_size), load_classifier(), baseline=False)


class SharedLiveQuality:
    """One score of the live run for every viewer, computed off the request path.

    Thirty browsers asking every ``max_age_s`` cost one classifier pass, not thirty,
    and none of them waits for it: a stale score starts a fresh one in a background
    thread and is shown until the fresh one is ready (a viewer that waited ~2 s for
    the classifier made the slowest 5 % of all live updates)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entry: tuple | None = None  # (run_id, when, step, report)
        self._working_on: str | None = None  # the run being scored right now

    def get(self, run_id: str, job, max_age_s: float) -> tuple[int, QualityReport] | None:
        """The newest (step, report) for this run, None before the first is ready."""
        with self._lock:
            entry = self._entry if self._entry is not None and self._entry[0] == run_id else None
            fresh = entry is not None and time.monotonic() - entry[1] < max_age_s
            if not fresh and self._working_on is None:
                self._working_on = run_id
                threading.Thread(target=self._score, args=(run_id, job), name="live-quality", daemon=True).start()
        return (entry[2], entry[3]) if entry is not None else None

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until no score is being computed (tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._working_on is None:
                    return True
            time.sleep(0.02)
        return False

    def _score(self, run_id: str, job) -> None:
        try:
            exported = job.generator()
            if exported is not None:
                step, netG = exported
                report = live_quality(netG)
                with self._lock:
                    self._entry = (run_id, time.monotonic(), step, report)
        finally:
            with self._lock:
                self._working_on = None


SHARED = SharedLiveQuality()
# A score still running when the interpreter exits would be killed inside PyTorch's
# C++ code ("terminate called without an active exception", exit code 134): let it end.
atexit.register(SHARED.wait_idle, 60.0)
