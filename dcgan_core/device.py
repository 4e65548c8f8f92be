"""Which accelerator trains the models: CUDA, then Apple MPS, then the CPU."""

from __future__ import annotations

import torch

from dcgan_core.i18n import LabError, translate

DEVICE_CHOICES = ("auto", "cuda", "mps", "cpu")
GIB = 1024**3


def mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def available_devices() -> list[str]:
    """The choices that would work on this machine, 'auto' first."""
    found = ["auto"]
    if torch.cuda.is_available():
        found.append("cuda")
    if mps_available():
        found.append("mps")
    return found + ["cpu"]


def pick_device(name: str | torch.device = "auto") -> torch.device:
    """'auto' picks the fastest device present; a named one must exist."""
    name = str(name).strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    kind = name.split(":")[0]
    if kind not in DEVICE_CHOICES:
        raise LabError("trainer.device_unknown", name=name, allowed=", ".join(DEVICE_CHOICES))
    if kind == "cuda" and not torch.cuda.is_available():
        raise LabError("trainer.device_unavailable", name=name)
    if kind == "mps" and not mps_available():
        raise LabError("trainer.device_unavailable", name=name)
    device = torch.device(name)
    if kind == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise LabError("trainer.device_unavailable", name=name)
    return device


def device_memory(device: torch.device) -> tuple[float, float] | None:
    """(GiB allocated by PyTorch, GiB total) where the backend reports it; no host sync."""
    device = torch.device(device)
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        total = torch.cuda.get_device_properties(index).total_memory
        return torch.cuda.memory_allocated(index) / GIB, total / GIB
    if device.type == "mps":
        try:
            return torch.mps.current_allocated_memory() / GIB, torch.mps.recommended_max_memory() / GIB
        except (AttributeError, RuntimeError):
            return None
    return None


def device_name(device: torch.device, lang: str = "en") -> str:
    device = torch.device(device)
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return torch.cuda.get_device_name(index)
    if device.type == "mps":
        return "Apple MPS"
    threads = torch.get_num_threads()  # this thread's pool
    return (
        translate("trainer.cpu_thread", lang)
        if threads == 1
        else translate("trainer.cpu_threads", lang, threads=threads)
    )


def device_description(device: torch.device, lang: str = "en") -> str:
    """e.g. 'NVIDIA H100 80GB HBM3 · 1.2 / 79.1 GiB' or 'CPU (2 threads)'."""
    text = device_name(device, lang)
    memory = device_memory(device)
    if memory is not None:
        used, total = memory
        text += f" · {used:.1f} / {total:.1f} GiB"
    return text
