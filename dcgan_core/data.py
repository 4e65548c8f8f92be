"""Training images: where they come from and how they become model inputs.

Every source ends the same way: a uint8 batch goes to the target device once,
and to_model_range resizes it (antialiased bilinear), converts its channels and
scales it to [-1, 1] there — the range of the generator's Tanh output. The
whole dataset then lives on that device, so training never waits for a loader.

Sources: the bundled MNIST sample (assets/, works offline), torchvision's
MNIST / Fashion-MNIST / CIFAR-10 (downloaded into the app's data folder),
a folder of images, or an uploaded zip (see dcgan_core.uploads).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from dcgan_core.i18n import LabError
from dcgan_core.paths import ASSETS_DIR, data_path
from dcgan_core.uploads import IMAGE_EXTENSIONS, ZipLimits, extract_image_zip

BUNDLED_MNIST = ASSETS_DIR / "mnist_subset.npz"
SOURCES = ("bundled", "mnist", "fashion_mnist", "cifar10", "folder", "zip")
TORCHVISION_SOURCES = {  # source -> (torchvision.datasets class name, display name)
    "mnist": ("MNIST", "MNIST"),
    "fashion_mnist": ("FashionMNIST", "Fashion-MNIST"),
    "cifar10": ("CIFAR10", "CIFAR-10"),
}
CHUNK = 2048  # images converted at a time: bounds the float copy at the source resolution

BUNDLED_NAME = "MNIST (bundled)"  # pages show translate("data.name_bundled") for it


@dataclass
class DatasetSpec:
    source: str = "bundled"  # "bundled" | "mnist" | "fashion_mnist" | "cifar10" | "folder" | "zip"
    image_size: int = 32
    channels: int = 1
    path: str | None = None  # folder path, or a zip file path
    split: str = "train"  # "train" | "test"
    limit: int | None = None  # at most this many images


@dataclass
class ImageSet:
    images: torch.Tensor  # (N, C, S, S) float32 in [-1, 1], on `device`
    labels: torch.Tensor | None  # (N,) int64 or None
    name: str
    notice_key: str | None = None  # catalog key of a notice to show (e.g. offline fallback), or None
    notice_params: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return self.images.shape[0]


def dataset_bytes(imageset: ImageSet) -> int:
    """Bytes the dataset occupies on its device (images and labels)."""
    total = imageset.images.element_size() * imageset.images.nelement()
    if imageset.labels is not None:
        total += imageset.labels.element_size() * imageset.labels.nelement()
    return total


def estimated_bytes(count: int, image_size: int, channels: int) -> int:
    """Bytes `count` float32 images of that shape will take, before loading them."""
    return count * channels * image_size * image_size * 4


# ---------------------------------------------------------------- conversion


def _as_nchw_uint8_or_float(images) -> torch.Tensor:
    """numpy arrays are (N,H,W) or channels-last (N,H,W,C); tensors are (N,H,W) or (N,C,H,W)."""
    if isinstance(images, np.ndarray):
        array = np.ascontiguousarray(images)
        tensor = torch.from_numpy(array if array.flags.writeable else array.copy())
        if tensor.dim() == 4:
            tensor = tensor.permute(0, 3, 1, 2)
    elif isinstance(images, torch.Tensor):
        tensor = images
    else:
        raise LabError("data.bad_array", shape=str(getattr(images, "shape", type(images).__name__)))
    if tensor.dim() == 3:
        tensor = tensor[:, None]
    if tensor.dim() != 4 or tensor.shape[1] not in (1, 3, 4) or min(tensor.shape) < 1:
        raise LabError("data.bad_array", shape=str(tuple(images.shape)))
    return tensor


def _center_square(x: torch.Tensor) -> torch.Tensor:
    h, w = x.shape[-2:]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return x[..., top : top + side, left : left + side]


def _resize(x: torch.Tensor, size: int) -> torch.Tensor:
    if x.shape[-1] == size:
        return x
    try:
        return F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    except (NotImplementedError, RuntimeError):  # a backend without antialiased bilinear: do it on the CPU
        return F.interpolate(x.cpu(), size=(size, size), mode="bilinear", antialias=True, align_corners=False).to(
            x.device
        )


def _convert_chunk(x: torch.Tensor, image_size: int, channels: int) -> torch.Tensor:
    """x: float32 (n, c, h, w) in [0, 1]."""
    if x.shape[1] == 4:  # RGBA: drop alpha
        x = x[:, :3]
    if channels == 1 and x.shape[1] == 3:  # ITU-R 601-2 luma, like PIL's convert("L")
        x = (x * torch.tensor([0.299, 0.587, 0.114], device=x.device).view(1, 3, 1, 1)).sum(1, keepdim=True)
    x = _resize(_center_square(x), image_size)
    if channels == 3 and x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    return (x * 2 - 1).clamp_(-1, 1)


def to_model_range(images_uint8_or_float, image_size: int, channels: int, device=None) -> torch.Tensor:
    """(N, channels, image_size, image_size) float32 in [-1, 1].

    uint8 input is read as 0..255, float input as 0..1. Non-square images are
    centre-cropped to a square first (like torchvision's Resize + CenterCrop in
    the PyTorch DCGAN example). Work happens on the input tensor's device, or
    on `device` if given (the uint8 data moves there first: 4× less to copy).
    """
    if channels not in (1, 3):
        raise LabError("errors.channels", channels=channels)
    if image_size < 1:
        raise LabError("data.bad_image_size", size=image_size)
    source = _as_nchw_uint8_or_float(images_uint8_or_float)
    is_uint8 = source.dtype == torch.uint8
    target = torch.device(device) if device is not None else source.device
    out = torch.empty((source.shape[0], channels, image_size, image_size), dtype=torch.float32, device=target)
    for start in range(0, source.shape[0], CHUNK):
        chunk = source[start : start + CHUNK].to(target)
        chunk = chunk.float() / 255.0 if is_uint8 else chunk.float()
        out[start : start + CHUNK] = _convert_chunk(chunk, image_size, channels)
    return out


def tensor_to_uint8(images) -> np.ndarray:
    """[-1, 1] images, (N,C,H,W) or (C,H,W), as (N,H,W,C) uint8 for display."""
    x = images.detach() if isinstance(images, torch.Tensor) else torch.as_tensor(images)
    if x.dim() == 3:
        x = x[None]
    x = ((x.float().cpu() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
    return x.permute(0, 2, 3, 1).numpy()


def sample_grid(images, nrow: int = 8, padding: int = 2) -> np.ndarray:
    """An (H, W, 3) uint8 grid of [-1, 1] images, for st.image."""
    from torchvision.utils import make_grid  # lazily: torchvision takes seconds to import

    x = images.detach() if isinstance(images, torch.Tensor) else torch.as_tensor(images)
    if x.dim() == 3:
        x = x[None]
    grid = make_grid(((x.float().cpu() + 1) / 2).clamp(0, 1), nrow=nrow, padding=padding, pad_value=1.0)
    return (grid * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()


# ---------------------------------------------------------------- sources


@lru_cache(maxsize=2)
def load_bundled_mnist(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """The shipped MNIST sample: uint8 (N, 28, 28) images and int64 (N,) labels (read-only arrays)."""
    if split not in ("train", "test"):
        raise LabError("data.bad_split", split=split)
    if not BUNDLED_MNIST.is_file():
        raise LabError("data.bundled_missing", path=str(BUNDLED_MNIST))
    with np.load(BUNDLED_MNIST, allow_pickle=False) as npz:
        images, labels = npz[f"{split}_images"], npz[f"{split}_labels"].astype(np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def _limited(count: int, limit: int | None) -> int:
    if limit is None:
        return count
    if limit < 1:
        raise LabError("data.bad_limit", limit=limit)
    return min(count, limit)


def _load_torchvision(spec: DatasetSpec) -> tuple[torch.Tensor, torch.Tensor, str]:
    import torchvision.datasets  # lazily: torchvision takes seconds to import

    class_name, display = TORCHVISION_SOURCES[spec.source]
    dataset_class = getattr(torchvision.datasets, class_name)  # looked up now, so tests can replace it
    root = data_path("datasets")
    train = spec.split == "train"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dataset = dataset_class(root=str(root), train=train, download=True)
    except Exception as err:  # URLError, RuntimeError, OSError, socket errors...: all mean "could not get it"
        reason = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
        raise LabError("data.download_failed", name=display, reason=reason) from None
    images = torch.as_tensor(np.asarray(dataset.data))  # MNIST: (N,28,28); CIFAR-10: (N,32,32,3)
    if images.dim() == 4:
        images = images.permute(0, 3, 1, 2)
    labels = torch.as_tensor(np.asarray(dataset.targets), dtype=torch.int64)
    return images, labels, display


def _read_image_file(path: Path, channels: int, image_size: int) -> np.ndarray | None:
    """uint8 (H, W) or (H, W, 3), shrunk by an integer factor if far larger than needed; None if unreadable."""
    try:
        with Image.open(path) as image:
            image.load()
            image = image.convert("L" if channels == 1 else "RGB")
    except Exception:  # unreadable or not an image at all
        return None
    factor = min(image.size) // (2 * image_size)
    if factor >= 2:  # box-filter reduce first: bounded memory; the final antialiased resize happens on the device
        image = image.reduce(factor)
    return np.asarray(image)


def _square(array: np.ndarray) -> np.ndarray:
    h, w = array.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return array[top : top + side, left : left + side]


def image_files(folder: Path) -> list[Path]:
    """Every file under folder (recursively) with an image extension, in a stable order."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)


def _load_folder(folder: Path, spec: DatasetSpec, device) -> tuple[torch.Tensor, int, int]:
    """(images, kept, skipped): readable images resized once per distinct source size."""
    if not folder.exists():
        raise LabError("data.folder_missing", path=str(folder))
    if not folder.is_dir():
        raise LabError("data.folder_not_dir", path=str(folder))
    files = image_files(folder)
    not_images = sum(1 for p in folder.rglob("*") if p.is_file()) - len(files)
    by_size: dict[tuple[int, ...], list[tuple[int, np.ndarray]]] = {}
    kept, unreadable = 0, 0
    for path in files:
        if spec.limit is not None and kept >= spec.limit:
            break
        array = _read_image_file(path, spec.channels, spec.image_size)
        if array is None:
            unreadable += 1
            continue
        array = _square(array)
        by_size.setdefault(array.shape, []).append((kept, array))
        kept += 1
    if kept == 0:
        raise LabError("data.folder_empty", path=str(folder), skipped=unreadable + not_images)
    out = torch.empty((kept, spec.channels, spec.image_size, spec.image_size), dtype=torch.float32, device=device)
    for group in by_size.values():
        order = torch.tensor([index for index, _ in group], device=device)
        out[order] = to_model_range(
            np.stack([array for _, array in group]), spec.image_size, spec.channels, device=device
        )
    return out, kept, unreadable + not_images


def _check_spec(spec: DatasetSpec) -> None:
    if spec.source not in SOURCES:
        raise LabError("data.bad_source", source=spec.source, allowed=", ".join(SOURCES))
    if spec.split not in ("train", "test"):
        raise LabError("data.bad_split", split=spec.split)
    if spec.channels not in (1, 3):
        raise LabError("errors.channels", channels=spec.channels)
    if spec.image_size < 1:
        raise LabError("data.bad_image_size", size=spec.image_size)
    if spec.limit is not None and spec.limit < 1:
        raise LabError("data.bad_limit", limit=spec.limit)
    if spec.source in ("folder", "zip") and not spec.path:
        raise LabError("data.path_required", source=spec.source)


def load_images(spec: DatasetSpec, device="cpu", zip_limits: ZipLimits = ZipLimits()) -> ImageSet:
    """The images (and labels, where the source has them) that spec names, on device."""
    _check_spec(spec)
    device = torch.device(device)
    if spec.source == "bundled":
        images, labels = load_bundled_mnist(spec.split)
        n = _limited(len(images), spec.limit)
        return ImageSet(
            images=to_model_range(images[:n], spec.image_size, spec.channels, device=device),
            labels=torch.from_numpy(labels[:n].copy()).to(device),
            name=BUNDLED_NAME,
        )
    if spec.source in TORCHVISION_SOURCES:
        images, labels, display = _load_torchvision(spec)
        n = _limited(len(images), spec.limit)
        return ImageSet(
            images=to_model_range(images[:n], spec.image_size, spec.channels, device=device),
            labels=labels[:n].to(device),
            name=display,
        )
    if spec.source == "folder":
        folder = Path(spec.path).expanduser()
        images, kept, skipped = _load_folder(folder, spec, device)
        notice = ("data.folder_skipped", {"kept": kept, "skipped": skipped}) if skipped else (None, {})
        return ImageSet(
            images=images, labels=None, name=folder.name or str(folder), notice_key=notice[0], notice_params=notice[1]
        )
    # zip
    result = extract_image_zip(spec.path, dest_name=Path(spec.path).stem, limits=zip_limits)
    images, kept, _ = _load_folder(result.folder, spec, device)
    counts = result.skipped_counts()
    notice_params = {
        "kept": result.kept,
        "skipped": len(result.skipped),
        "not_image": counts.get("data.skip_not_image", 0) + counts.get("data.skip_metadata", 0),
        "corrupt": counts.get("data.skip_corrupt_image", 0) + counts.get("data.skip_encrypted", 0),
        "too_big": counts.get("data.skip_too_many_pixels", 0),
    }
    return ImageSet(
        images=images,
        labels=None,
        name=Path(spec.path).name,
        notice_key="data.zip_summary" if result.skipped else None,
        notice_params=notice_params if result.skipped else {},
    )


def load_images_or_bundled(spec: DatasetSpec, device="cpu") -> ImageSet:
    """load_images, but a failed download falls back to the bundled MNIST sample with a notice."""
    try:
        return load_images(spec, device)
    except LabError as err:
        if err.key != "data.download_failed":
            raise
        fallback = load_images(replace(spec, source="bundled", path=None), device)
        fallback.notice_key = "data.fallback_bundled"
        fallback.notice_params = dict(err.params)
        return fallback
