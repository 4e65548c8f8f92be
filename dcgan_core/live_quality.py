"""The MNIST classifier's view of a generator while it trains (Train page)."""
from __future__ import annotations

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
    """One score of the live run for every viewer: thirty browsers asking every
    ``max_age_s`` cost one classifier pass, not thirty (the first asker computes,
    the others wait for it and reuse it)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entry: tuple | None = None  # (run_id, when, step, report)

    def get(self, run_id: str, job, max_age_s: float) -> tuple[int, QualityReport] | None:
        """(step, report) for the run's generator, at most ``max_age_s`` old; None while there is no generator."""
        with self._lock:
            entry = self._entry
            if entry is not None and entry[0] == run_id and time.monotonic() - entry[1] < max_age_s:
                return entry[2], entry[3]
            exported = job.generator()
            if exported is None:
                return None
            step, netG = exported
            report = live_quality(netG)
            self._entry = (run_id, time.monotonic(), step, report)
            return step, report


SHARED = SharedLiveQuality()
