"""Which trained generators the exploration lessons can use."""
from __future__ import annotations

from pathlib import Path

from dcgan_core.paths import ASSETS_DIR, DATA_DIR

PRETRAINED_PATH = ASSETS_DIR / "pretrained" / "mnist_dcgan.pt"


def available_checkpoints() -> list[Path]:
    """The shipped model first, then the user's own runs, newest first."""
    found = [PRETRAINED_PATH] if PRETRAINED_PATH.exists() else []
    runs = sorted(DATA_DIR.glob("runs/*/checkpoint.pt"), key=lambda p: p.stat().st_mtime, reverse=True)
    uploads = sorted(DATA_DIR.glob("uploads/checkpoints/*.pt"), key=lambda p: p.stat().st_mtime, reverse=True)
    return found + runs + uploads
