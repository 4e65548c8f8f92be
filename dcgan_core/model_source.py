"""Which trained generators the exploration lessons can use."""

from __future__ import annotations

from pathlib import Path

import dcgan_core.paths as paths
from dcgan_core.paths import ASSETS_DIR

PRETRAINED_PATH = ASSETS_DIR / "pretrained" / "mnist_dcgan.pt"


def _newest_first(pattern: str) -> list[Path]:
    return sorted(Path(paths.DATA_DIR).glob(pattern), key=lambda p: p.stat().st_mtime, reverse=True)


def run_checkpoints() -> list[Path]:
    """Checkpoints of the runs trained on this server, newest first."""
    return _newest_first("runs/*/checkpoint.pt")


def available_checkpoints() -> list[Path]:
    """The shipped model first, then the user's own runs, newest first."""
    found = [PRETRAINED_PATH] if PRETRAINED_PATH.exists() else []
    return found + run_checkpoints() + _newest_first("uploads/checkpoints/*.pt")
