"""What the trainer, job and registry tests share: a tiny DCGAN, random images in its
range, a training config around it, and a bounded wait."""

import time

import torch

from dcgan_core.config import TrainConfig
from dcgan_core.models import DCGANConfig

TINY = DCGANConfig(image_size=32, channels=1, nz=16, ngf=8, ndf=8)


def tiny_images(n: int, seed: int = 0) -> torch.Tensor:
    """``n`` random 32x32 grey images in [-1, 1], the same for the same seed."""
    return torch.rand(n, 1, 32, 32, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def tiny_config(**overrides) -> TrainConfig:
    """A run of TINY on the CPU, long enough to outlast a test, sampling and saving every 5 steps."""
    values = dict(model=TINY, batch_size=8, device="cpu", max_steps=10_000, sample_every=5, checkpoint_every=5)
    values.update(overrides)
    return TrainConfig(**values)


def wait_until(predicate, timeout: float = 30.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    raise AssertionError("timed out")
