"""What a dataset must have before a GAN trains on it: enough images for one batch
(refused otherwise), enough to learn from (a warning the user must confirm), and the
colour channels its images really have."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from dcgan_core.i18n import LabError
from dcgan_core.uploads import survey_image_zip

MIN_IMAGES_ADVISED = 500
CHANNEL_SAMPLE = 64  # images looked at to tell grey data from colour data
KNOWN_CHANNELS = {"bundled": 1, "mnist": 1, "fashion_mnist": 1, "cifar10": 3}  # grey digits and clothes; colour


def known_channels(source: str) -> int | None:
    """The channels a known dataset has; None for a zip or folder, whose images must be looked at."""
    return KNOWN_CHANNELS.get(source)


@dataclass(frozen=True)
class SizeCheck:
    verdict: str  # "ok", "warn" (train only after the user confirms) or "refuse"
    key: str | None = None  # catalog key of the sentence that says why
    params: dict = field(default_factory=dict)


def size_check(count: int, batch_size: int) -> SizeCheck:
    """Fewer images than one batch: refused. Fewer than MIN_IMAGES_ADVISED: a warning to confirm."""
    if count < batch_size:
        return SizeCheck("refuse", "data.too_few_for_batch", {"count": count, "batch": batch_size})
    if count < MIN_IMAGES_ADVISED:
        return SizeCheck("warn", "data.few_images", {"count": count, "advised": MIN_IMAGES_ADVISED})
    return SizeCheck("ok")


def require_one_batch(count: int, batch_size: int) -> None:
    """LabError data.too_few_for_batch unless ``count`` images fill at least one batch."""
    check = size_check(count, batch_size)
    if check.verdict == "refuse":
        raise LabError(check.key, **check.params)


def is_grey(image: np.ndarray) -> bool:
    """One channel, or colour channels that are all equal (a grey picture saved as RGB)."""
    image = np.asarray(image)
    if image.ndim == 2 or (image.ndim == 3 and image.shape[-1] == 1):
        return True
    colour = image[..., :3]
    return bool((colour == colour[..., :1]).all())


def channels_of(images) -> int | None:
    """1 if every image is grey, 3 if any has colour; None for no images at all."""
    images = list(images)
    if not images:
        return None
    return 1 if all(is_grey(image) for image in images) else 3


@dataclass(frozen=True)
class DataSurvey:
    count: int  # images found (before decoding them all)
    channels: int | None  # what the looked-at images have


def survey_zip(source) -> DataSurvey:
    """A zip (bytes, path or upload) without extracting it; LabError for a zip that would be refused."""
    count, sample = survey_image_zip(source, sample=CHANNEL_SAMPLE)
    return DataSurvey(count, channels_of(sample))


def survey_folder(folder: Path) -> DataSurvey:
    from dcgan_core.data import image_files  # lazily: data imports torch

    files = image_files(Path(folder)) if Path(folder).is_dir() else []
    sample = []
    for path in files[:CHANNEL_SAMPLE]:
        try:
            with Image.open(path) as image:
                sample.append(np.asarray(image.convert("RGB") if image.mode not in ("L", "RGB") else image))
        except Exception:  # noqa: BLE001 — unreadable files are skipped when training, too
            continue
    return DataSurvey(len(files), channels_of(sample))
