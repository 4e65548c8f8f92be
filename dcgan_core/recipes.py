"""Which training recipe a configuration is, and how it differs from the paper's.

The paper (Radford et al. 2015, §4): Adam with lr 0.0002 and β1 0.5, minibatch 128,
ngf = ndf = 64 (the reference code's widths), z of 100 dimensions, and the
samples drawn by the trained G itself. Each difference is a catalog key and its
parameters, for ``ui.t(key, **params)`` in either language.
"""

from __future__ import annotations

import math
from dataclasses import replace

from dcgan_core.train import (
    PAPER_BATCH,
    PAPER_BETA1,
    PAPER_BETA2,
    PAPER_LR,
    TrainConfig,
    classroom_defaults,
    with_paper_recipe,
)

PAPER_WIDTH = 64
PAPER_NZ = 100


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
