"""The training recipes (the paper's, the classroom's), which one a configuration is, and how
it differs from the paper's.

The paper (Radford et al. 2015, §4): Adam with lr 0.0002 and β1 0.5, minibatch 128,
ngf = ndf = 64 (the reference code's widths), z of 100 dimensions, and the
samples drawn by the trained G itself. Each difference is a catalog key and its
parameters, for ``ui.t(key, **params)`` in either language.
"""

from __future__ import annotations

import math
from dataclasses import replace

import torch

from dcgan_core.config import PAPER_BATCH, PAPER_BETA1, PAPER_BETA2, PAPER_LR, TrainConfig
from dcgan_core.data import DatasetSpec
from dcgan_core.device import pick_device
from dcgan_core.models import DCGANConfig

PAPER_WIDTH = 64
PAPER_NZ = 100


def paper_defaults(**overrides) -> TrainConfig:
    """The paper's settings at 64×64 colour."""
    values = dict(
        model=DCGANConfig(image_size=64, channels=3),
        dataset=DatasetSpec(source="cifar10"),
        batch_size=PAPER_BATCH,
        lr=PAPER_LR,
        beta1=PAPER_BETA1,
        max_steps=20000,
        sample_every=100,
        checkpoint_every=1000,
    )
    values.update(overrides)
    return TrainConfig(**values)


def with_paper_recipe(config: TrainConfig) -> TrainConfig:
    """The same networks, data and batch trained the paper's way (§4): Adam with lr 0.0002 and
    β1 0.5 for both networks, and the samples drawn by the trained G itself (no weight average)."""
    return replace(config, lr=PAPER_LR, beta1=PAPER_BETA1, beta2=PAPER_BETA2, ema=0.0)


def classroom_defaults(device: str | torch.device = "auto") -> TrainConfig:
    """Settings that show digits quickly on the device at hand (32×32 MNIST).

    On a GPU: the paper's widths (ngf = ndf = 64, nz 100), batch 128 and optimiser.

    On a CPU (issue 15: recognisable digits in under 45 s of training on two cores): G keeps
    ngf 32 but D is halved to ndf 16 and the batch to 32, so a step costs a fraction of the
    earlier ngf = ndf = 32, batch 64; Adam's rate is 0.001 (the paper found 0.001 too high for
    its long runs; here it reaches digits in fewer steps); weights and activations are
    channels-last. No weight average (``ema``): in trials it did not reach digits sooner.
    benchmarks/time_to_digits.py measures it against the paper's recipe at the earlier size
    (``paper_recipe_at_classroom_size``); the figures are in benchmarks/results/time_to_digits.jsonl.
    """
    device = pick_device(device)
    if device.type == "cuda":
        model = DCGANConfig(image_size=32, channels=1, nz=100, ngf=64, ndf=64)
        return TrainConfig(
            model=model,
            dataset=DatasetSpec(source="bundled"),
            batch_size=PAPER_BATCH,
            device="auto",
            max_steps=3000,
            sample_every=50,
            checkpoint_every=500,
        )
    model = DCGANConfig(image_size=32, channels=1, nz=64, ngf=32, ndf=16)
    return TrainConfig(
        model=model,
        dataset=DatasetSpec(source="bundled"),
        batch_size=32,
        lr=1e-3,
        beta1=PAPER_BETA1,
        channels_last=True,
        device="auto",
        max_steps=1500,
        sample_every=25,
        checkpoint_every=250,
    )


def paper_recipe_at_classroom_size(device: str | torch.device = "auto") -> TrainConfig:
    """The paper's recipe (``with_paper_recipe``) on the classroom's data, at the size the CPU
    classroom default had before issue 15 (ngf = ndf = 32, nz 64, batch 64): what
    ``classroom_defaults`` gave until then. On a GPU, the GPU classroom default."""
    config = with_paper_recipe(classroom_defaults(device))
    if pick_device(device).type == "cuda":
        return config
    return replace(config, model=replace(config.model, ngf=32, ndf=32, nz=64), batch_size=64)


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def same_training(a: TrainConfig, b: TrainConfig) -> bool:
    """Same optimiser settings and the same weight averaging (sizes aside)."""
    return _same(a.lr, b.lr) and _same(a.beta1, b.beta1) and _same(a.beta2, b.beta2) and _same(a.ema, b.ema)


def recipe_name(config: TrainConfig, device="auto") -> str:
    """ "paper": trained the paper's way; "classroom": the app's default recipe for ``device``;
    else "custom"."""
    if same_training(config, with_paper_recipe(config)):
        return "paper"
    if same_training(config, classroom_defaults(device)):
        return "classroom"
    return "custom"


def differences_from_paper(config: TrainConfig) -> list[tuple[str, dict]]:
    """How ``config`` departs from the paper: (catalog key, parameters), training first, then sizes."""
    found: list[tuple[str, dict]] = []
    if not _same(config.lr, PAPER_LR):
        found.append(("recipes.diff_lr", {"value": f"{config.lr:g}", "paper": f"{PAPER_LR:g}"}))
    if not _same(config.beta1, PAPER_BETA1):
        found.append(("recipes.diff_beta1", {"value": f"{config.beta1:g}", "paper": f"{PAPER_BETA1:g}"}))
    if not _same(config.beta2, PAPER_BETA2):
        found.append(("recipes.diff_beta2", {"value": f"{config.beta2:g}", "paper": f"{PAPER_BETA2:g}"}))
    if config.ema:
        found.append(("recipes.diff_ema", {"decay": f"{config.ema:g}"}))
    model = config.model
    if (model.ngf, model.ndf) != (PAPER_WIDTH, PAPER_WIDTH):
        found.append(("recipes.diff_widths", {"ngf": model.ngf, "ndf": model.ndf, "paper": PAPER_WIDTH}))
    if model.nz != PAPER_NZ:
        found.append(("recipes.diff_nz", {"value": model.nz, "paper": PAPER_NZ}))
    if config.batch_size != PAPER_BATCH:
        found.append(("recipes.diff_batch", {"value": config.batch_size, "paper": PAPER_BATCH}))
    return found


def with_paper_settings(config: TrainConfig) -> TrainConfig:
    """``config`` with the paper's widths, z size, minibatch and optimizer (image size and data kept)."""
    model = replace(config.model, ngf=PAPER_WIDTH, ndf=PAPER_WIDTH, nz=PAPER_NZ)
    return replace(with_paper_recipe(config), model=model, batch_size=PAPER_BATCH)


CHECKPOINTS_PER_RUN = 6  # a run the app starts saves about this many checkpoints to resume from


def run_intervals(max_steps: int, sample_every: int) -> tuple[int, int]:
    """(sample_every, checkpoint_every) for a run the app starts: samples at least once, and
    checkpoints about CHECKPOINTS_PER_RUN times, never more often than samples."""
    sample_every = max(1, min(sample_every, max_steps))
    return sample_every, max(sample_every, max_steps // CHECKPOINTS_PER_RUN)
