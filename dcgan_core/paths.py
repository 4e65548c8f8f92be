"""Where the app reads shipped files and writes its own.

Everything the app writes (runs, checkpoints, uploads, dataset downloads)
goes under DATA_DIR; ``inside_data_dir`` is the guard every writer uses.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = ROOT / "assets"
DATA_DIR = Path(os.environ.get("DCGAN_LAB_DATA", ROOT / "data")).resolve()


def data_path(*parts: str) -> Path:
    """A path under DATA_DIR (created); refuses anything that escapes it."""
    path = DATA_DIR.joinpath(*parts).resolve()
    if not inside_data_dir(path):
        raise ValueError(f"{path} is outside the app's data folder {DATA_DIR}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def inside_data_dir(path: Path) -> bool:
    return Path(path).resolve().is_relative_to(DATA_DIR)
