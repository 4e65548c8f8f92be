"""Checkpoints: plain tensors and primitives only, so ``torch.load(weights_only=True)``
reads them and a file carrying code is refused instead of run.

Writes are atomic (temp file in the same folder, fsync, os.replace): a crash
mid-save leaves the previous checkpoint intact.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import torch

from dcgan_core.i18n import LabError
from dcgan_core.models import DCGANConfig, Discriminator, Generator

FORMAT = "dcgan-lab-checkpoint"
FORMAT_VERSION = 1
ZIP_MAGIC = b"PK\x03\x04"
PICKLE_PROTOCOL_MARK = 0x80


@dataclass
class Checkpoint:
    model_config: DCGANConfig
    generator: dict
    discriminator: dict
    step: int = 0
    opt_g: dict | None = None
    opt_d: dict | None = None
    fixed_noise: torch.Tensor | None = None
    train_config: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    rng_state: torch.Tensor | None = None
    # A moving average of G's weights (dcgan_core.averaging): {"decay", "updates", "weights"}, or None.
    generator_average: dict | None = None

    def build_generator(self, device: str | torch.device = "cpu", averaged: bool = True) -> Generator:
        """G in the state the run showed it: the moving average of its weights if the run kept one
        (``averaged=False``: the trained G itself)."""
        netG = Generator(self.model_config)
        use_average = averaged and self.generator_average is not None
        _load_state(netG, self.generator_average["weights"] if use_average else self.generator, self.model_config)
        return netG.to(device)

    def build_discriminator(self, device: str | torch.device = "cpu") -> Discriminator:
        netD = Discriminator(self.model_config)
        _load_state(netD, self.discriminator, self.model_config)
        return netD.to(device)


def shape_text(cfg: DCGANConfig) -> str:
    return f"{cfg.image_size}×{cfg.image_size}×{cfg.channels}"


def _cpu_state(state: dict) -> dict:
    return {k: v.detach().cpu() if isinstance(v, torch.Tensor) else v for k, v in state.items()}


def cpu_copy(module: torch.nn.Module) -> dict:
    """A copy of ``module``'s state dict on the CPU that later training steps cannot change."""
    return {k: v.detach().to("cpu", copy=True) for k, v in module.state_dict().items()}


def save_checkpoint(
    path: str | Path,
    *,
    model_config: DCGANConfig,
    generator: torch.nn.Module | dict,
    discriminator: torch.nn.Module | dict,
    step: int = 0,
    opt_g: torch.optim.Optimizer | dict | None = None,
    opt_d: torch.optim.Optimizer | dict | None = None,
    fixed_noise: torch.Tensor | None = None,
    train_config: dict | None = None,
    metrics: dict | None = None,
    rng_state: torch.Tensor | None = None,
    generator_average: dict | None = None,
) -> Path:
    """Write a checkpoint atomically; returns its path."""

    def state(obj):
        return obj.state_dict() if hasattr(obj, "state_dict") else obj

    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model_config": model_config.to_dict(),
        "train_config": dict(train_config or {}),
        "generator": _cpu_state(state(generator)),
        "discriminator": _cpu_state(state(discriminator)),
        "opt_g": state(opt_g) if opt_g is not None else None,
        "opt_d": state(opt_d) if opt_d is not None else None,
        "step": int(step),
        "fixed_noise": fixed_noise.detach().cpu() if fixed_noise is not None else None,
        "metrics": dict(metrics or {}),
        "rng_state": rng_state.detach().cpu() if rng_state is not None else None,
        "generator_average": (
            None
            if generator_average is None
            else {**generator_average, "weights": _cpu_state(generator_average["weights"])}
        ),
    }
    return atomic_torch_save(payload, path)


def atomic_torch_save(obj, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(path.parent)
    return path


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); harmless to skip where unsupported."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _read_payload(path: Path, map_location) -> dict:
    name = path.name
    if not path.is_file():
        raise LabError("trainer.checkpoint_missing", name=name)
    with open(path, "rb") as f:
        head = f.read(4)
    if head[:4] == ZIP_MAGIC:
        try:
            with zipfile.ZipFile(path) as archive:
                damaged = archive.testzip()  # checks every entry's CRC32
        except (zipfile.BadZipFile, OSError, EOFError):
            raise LabError("trainer.checkpoint_corrupt", name=name) from None
        if damaged is not None:
            raise LabError("trainer.checkpoint_corrupt", name=name)
    elif not head or head[0] != PICKLE_PROTOCOL_MARK:
        raise LabError("trainer.checkpoint_not_checkpoint", name=name)
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        text = str(err)
        if "Weights only load failed" in text or "GLOBAL" in text:
            raise LabError("trainer.checkpoint_unsafe", name=name) from None
        raise LabError("trainer.checkpoint_corrupt", name=name) from None
    except (EOFError, OSError, RuntimeError, KeyError, ValueError, zipfile.BadZipFile):
        raise LabError("trainer.checkpoint_corrupt", name=name) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise LabError("trainer.checkpoint_not_checkpoint", name=name)
    return payload


def load_checkpoint(
    path: str | Path,
    map_location: str | torch.device = "cpu",
    expect: DCGANConfig | None = None,
) -> Checkpoint:
    """Read and validate a checkpoint. With ``expect``, refuse one made for
    another image size, channel count or architecture."""
    path = Path(path)
    payload = _read_payload(path, map_location)
    try:
        cfg = DCGANConfig.from_dict(payload["model_config"])
        ckpt = Checkpoint(
            model_config=cfg,
            generator=dict(payload["generator"]),
            discriminator=dict(payload["discriminator"]),
            step=int(payload.get("step", 0)),
            opt_g=payload.get("opt_g"),
            opt_d=payload.get("opt_d"),
            fixed_noise=payload.get("fixed_noise"),
            train_config=dict(payload.get("train_config") or {}),
            metrics=dict(payload.get("metrics") or {}),
            rng_state=payload.get("rng_state"),
            generator_average=_average_of(payload.get("generator_average")),
        )
    except LabError:
        raise
    except (KeyError, TypeError, ValueError):
        raise LabError("trainer.checkpoint_not_checkpoint", name=path.name) from None
    if expect is not None:
        check_compatible(cfg, expect)
    # Shapes must fit the architecture the file claims: catches edited or mixed-up files.
    _load_state(Generator(cfg), ckpt.generator, cfg)
    _load_state(Discriminator(cfg), ckpt.discriminator, cfg)
    if ckpt.generator_average is not None:
        _load_state(Generator(cfg), ckpt.generator_average["weights"], cfg)
    return ckpt


def _average_of(saved) -> dict | None:
    if saved is None:
        return None
    return {"decay": float(saved["decay"]), "updates": int(saved["updates"]), "weights": dict(saved["weights"])}


def check_compatible(found: DCGANConfig, expect: DCGANConfig) -> None:
    if (found.image_size, found.channels) != (expect.image_size, expect.channels):
        raise LabError("trainer.checkpoint_size_mismatch", made_for=shape_text(found), requested=shape_text(expect))
    if found.to_dict() != expect.to_dict():
        differences = ", ".join(
            f"{k}={v} (≠ {getattr(expect, k)})" for k, v in found.to_dict().items() if getattr(expect, k) != v
        )
        raise LabError("trainer.checkpoint_arch_mismatch", differences=differences)


def _load_state(module: torch.nn.Module, state: dict, cfg: DCGANConfig) -> None:
    try:
        module.load_state_dict(state, strict=True)
    except (RuntimeError, KeyError, TypeError, AttributeError):
        raise LabError("trainer.checkpoint_shapes", made_for=shape_text(cfg)) from None


def load_generator(
    path: str | Path,
    map_location: str | torch.device = "cpu",
    expect: DCGANConfig | None = None,
) -> tuple[Generator, DCGANConfig]:
    """The trained generator in eval mode, and its architecture."""
    ckpt = load_checkpoint(path, map_location=map_location, expect=expect)
    netG = ckpt.build_generator(map_location)
    netG.eval()
    return netG, ckpt.model_config
