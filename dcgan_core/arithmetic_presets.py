"""Ready-made vector-arithmetic equations for the shipped generator, and the check that they work.

``scripts/find_presets.py`` searches the shipped generator's samples with the MNIST
classifier for groups A, B, C whose arithmetic gives the target digit, and writes
them to ``assets/pretrained/arithmetic_presets.json`` with the checksum of the model
they were found for. The vector-arithmetic page, the script and the claims register
(``dcgan_core.claims``) all judge a result with ``check_arithmetic``:

    check = check_arithmetic(netG, classifier, preset.groups, target=preset.digit_c)
    check.works        # the target digit in >= 7 of the 9 result samples
    check.pixel_misses # while the same sum of pixels is not read as the target
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from dcgan_core import latent
from dcgan_core.metrics import classifier_features
from dcgan_core.paths import ASSETS_DIR

PRESETS_PATH = ASSETS_DIR / "pretrained" / "arithmetic_presets.json"
FORMAT = "dcgan-lab-arithmetic-presets"
RESULT_SAMPLES = 9  # the exact result and 8 neighbours (paper Fig. 7), shown 3 × 3
MIN_TARGET_VOTES = 7  # of RESULT_SAMPLES: the equation "works"
PIXEL_MAX_CONFIDENCE = 0.5  # a pixel sum read as the target with less confidence than this is not that digit
GROUPS = ("A", "B", "C")


@dataclass(frozen=True)
class Reading:
    """The classifier's majority reading of a batch: ``digit`` in ``votes`` of ``total``."""

    digit: int
    votes: int
    total: int
    confidence: float  # mean top-class probability over the batch
    predicted: tuple[int, ...]  # each image's reading

    def votes_for(self, digit: int) -> int:
        return sum(1 for p in self.predicted if p == digit)


def read_digits(images: torch.Tensor, classifier) -> Reading:
    _, probs = classifier_features(images, classifier)
    predicted = probs.argmax(1)
    votes = np.bincount(predicted, minlength=probs.shape[1])
    digit = int(votes.argmax())
    return Reading(
        digit=digit,
        votes=int(votes[digit]),
        total=len(predicted),
        confidence=float(probs.max(1).mean()),
        predicted=tuple(int(p) for p in predicted),
    )


def result_grid_z(z_result: torch.Tensor, noise_seed: int = 0) -> torch.Tensor:
    """(9, nz): the exact result in the middle of a 3 × 3 grid, eight neighbours around it
    (uniform noise of ±latent.NEIGHBOUR_SCALE per coordinate, drawn with ``noise_seed``)."""
    nearby = latent.neighbours(z_result, RESULT_SAMPLES - 1, latent.NEIGHBOUR_SCALE, seed=noise_seed)
    middle = (RESULT_SAMPLES - 1) // 2
    return torch.cat([nearby[:middle], z_result[None], nearby[middle:]])


@dataclass(frozen=True)
class ArithmeticCheck:
    target: int
    result: Reading  # the 9 result samples
    pixel: Reading  # the pixel-space sum (one image)
    pixel_target_probability: float  # the classifier's probability that the pixel sum is the target

    @property
    def target_votes(self) -> int:
        return self.result.votes_for(self.target)

    @property
    def works(self) -> bool:
        return self.target_votes >= MIN_TARGET_VOTES

    @property
    def pixel_misses(self) -> bool:
        return self.pixel.digit != self.target or self.pixel_target_probability < PIXEL_MAX_CONFIDENCE


def check_arithmetic(
    netG, classifier, groups: dict[str, list[int]], target: int, noise_seed: int = 0
) -> ArithmeticCheck:
    """Judge mean(A) − mean(B) + mean(C) on the z's of the groups' seeds, and the same sum of pixels."""
    nz = netG.cfg.nz
    zs = {g: latent.z_from_seeds(groups[g], nz) for g in GROUPS}
    z_result = latent.vector_arithmetic(zs["A"], zs["B"], zs["C"])
    result_images = latent.generate(netG, result_grid_z(z_result, noise_seed))
    group_images = {g: latent.generate(netG, zs[g]) for g in GROUPS}
    pixel = latent.pixel_arithmetic(group_images["A"], group_images["B"], group_images["C"])[None]
    _, pixel_probs = classifier_features(pixel, classifier)
    return ArithmeticCheck(
        target=target,
        result=read_digits(result_images, classifier),
        pixel=read_digits(pixel, classifier),
        pixel_target_probability=float(pixel_probs[0, target]),
    )


@dataclass(frozen=True)
class ArithmeticPresetSeeds:
    key: str  # "thickness", "slant", "width": names the catalog strings
    attribute: str  # a latent.ATTRIBUTES name
    digit_ab: int
    digit_c: int  # the target
    groups: dict[str, list[int]]  # "A", "B", "C" -> seeds
    found: dict  # what the search measured: target_votes, pixel digit and probability


def file_checksum(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_presets(path: str | Path = PRESETS_PATH) -> dict:
    """The preset file's payload ({"model_sha256", "presets": {...}, ...}); {} if absent or unreadable."""
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
        return payload if payload.get("format") == FORMAT else {}
    except (OSError, ValueError):
        return {}


def presets_for_model(model_path: str | Path, path: str | Path = PRESETS_PATH) -> dict[str, ArithmeticPresetSeeds]:
    """The committed presets when ``model_path`` is the generator they were found for, else {}."""
    payload = load_presets(path)
    try:
        if not payload or payload["model_sha256"] != file_checksum(model_path):
            return {}
        return {
            key: ArithmeticPresetSeeds(
                key=key,
                attribute=p["attribute"],
                digit_ab=p["digit_ab"],
                digit_c=p["digit_c"],
                groups={g: [int(s) for s in p["groups"][g]] for g in GROUPS},
                found=p["found"],
            )
            for key, p in payload["presets"].items()
        }
    except (OSError, KeyError, TypeError):
        return {}
