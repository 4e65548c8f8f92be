"""A run's folder on disk, written and read only here.

    <run>/config.json                 the TrainConfig (and, for a multi-GPU run, how it was spread)
    <run>/metrics.jsonl               one line per step: {"step", *METRICS, "lr", "beta1"}
    <run>/samples/step_NNNNNN.png     the fixed noise through the shown generator, 8 per row
    <run>/checkpoint.pt               dcgan_core.checkpoint's format, written atomically

Every kind of run (the Train page's, the command line's, torchrun's) writes this same
layout, so every page and the command line's ``--resume`` read any of them.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
from PIL import Image

from dcgan_core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from dcgan_core.config import METRICS, TrainConfig

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"
SAMPLES_FOLDER = "samples"
CHECKPOINT_FILE = "checkpoint.pt"


def png_bytes(grid: np.ndarray, compress_level: int = 6) -> bytes:
    """An (H, W, 3) uint8 image as PNG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(grid).save(buffer, format="PNG", compress_level=compress_level)
    return buffer.getvalue()


def read_metrics_log(path: str | Path) -> np.ndarray:
    """The rows (step, *METRICS) of a metrics.jsonl whose values are all finite, in file order;
    (0, 1 + len(METRICS)) if the file is missing or holds none."""
    rows = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    for line in lines:
        try:
            entry = json.loads(line)
            row = [int(entry["step"])] + [float(entry[name]) for name in METRICS]
        except (ValueError, KeyError, TypeError):
            continue
        if all(math.isfinite(v) for v in row):
            rows.append(row)
    return np.asarray(rows, dtype=np.float64).reshape(-1, 1 + len(METRICS))


class RunDir:
    """The folder of one run."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS_FILE

    @property
    def samples_folder(self) -> Path:
        return self.path / SAMPLES_FOLDER

    @property
    def checkpoint_path(self) -> Path:
        return self.path / CHECKPOINT_FILE

    def sample_path(self, step: int) -> Path:
        return self.samples_folder / f"step_{step:06d}.png"

    # ---- writing ------------------------------------------------------------

    def prepare(self, start_step: int) -> None:
        """Create the folder; a reused one keeps only what belongs to this run's past: log lines
        and sample grids up to the step it starts from (0 for a fresh run)."""
        self.path.mkdir(parents=True, exist_ok=True)
        if self.metrics_path.exists():
            kept = []
            for line in self.metrics_path.read_text(encoding="utf-8").splitlines():
                try:
                    if int(json.loads(line)["step"]) <= start_step:
                        kept.append(line)
                except (ValueError, KeyError, TypeError):
                    continue
            self.metrics_path.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")
        for png in self.samples_folder.glob("step_*.png"):
            try:
                if int(png.stem.removeprefix("step_")) > start_step or start_step == 0:
                    png.unlink()
            except ValueError:
                continue

    def earlier_rows(self, earlier_log: str | Path | None, start_step: int) -> np.ndarray:
        """A continued run shows its curves from step 1, not from where it resumed: the finite rows
        up to ``start_step`` of the earlier run's log (none if that log is this folder's own, which
        ``prepare`` already kept)."""
        empty = np.zeros((0, 1 + len(METRICS)))
        if earlier_log is None or start_step == 0 or Path(earlier_log).resolve() == self.metrics_path.resolve():
            return empty
        rows = read_metrics_log(earlier_log)
        return rows[rows[:, 0] <= start_step]

    def write_config(self, config: TrainConfig, extra: dict | None = None) -> None:
        self.config_path.write_text(json.dumps({**config.to_dict(), **(extra or {})}, indent=2), encoding="utf-8")

    def append_metrics(self, rows: np.ndarray, lr: float, beta1: float) -> None:
        """Rows (step, *METRICS); a non-finite value is written as null."""
        if len(rows) == 0:
            return
        lines = []
        for row in rows:
            entry = {"step": int(row[0])}
            entry.update(
                {name: (float(v) if math.isfinite(v) else None) for name, v in zip(METRICS, row[1:], strict=True)}
            )
            entry.update(lr=lr, beta1=beta1)
            lines.append(json.dumps(entry))
        with open(self.metrics_path, "a", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")

    def write_sample(self, step: int, grid: np.ndarray) -> Path:
        self.samples_folder.mkdir(parents=True, exist_ok=True)
        path = self.sample_path(step)
        path.write_bytes(png_bytes(grid))
        return path

    def save_checkpoint(self, trainer, metrics: dict | None = None, extra_config: dict | None = None) -> Path:
        """The trainer's whole state (``Trainer.state``); ``extra_config`` joins its train_config."""
        state = trainer.state(metrics=metrics)
        state["train_config"] = {**state["train_config"], **(extra_config or {})}
        return save_checkpoint(self.checkpoint_path, **state)

    # ---- reading ------------------------------------------------------------

    def metrics(self) -> np.ndarray:
        return read_metrics_log(self.metrics_path)

    def sample_steps(self) -> list[int]:
        steps = []
        for png in self.samples_folder.glob("step_*.png"):
            try:
                steps.append(int(png.stem.removeprefix("step_")))
            except ValueError:
                continue
        return sorted(steps)

    def load_checkpoint(self, **options) -> Checkpoint:
        return load_checkpoint(self.checkpoint_path, **options)
