"""A small MNIST classifier shipped with the app, used to judge GAN samples.

It plays the role Inception-v3 plays for FID on natural images: its
penultimate layer (128 numbers per image) is the feature space in which
``metrics.frechet_classifier_distance`` compares fake and real digits, and
its softmax says which digit a sample looks like and how sure it is.

Inputs are in the GAN's range [-1, 1] (white digit on black, like MNIST).
``prepare`` brings 32×32 (or any size) generator samples to the 28×28 the
classifier was trained on. The weights come from scripts/train_classifier.py
(full 60k MNIST training set); assets/mnist_classifier.md is the model card.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from dcgan_core.i18n import LabError
from dcgan_core.paths import ASSETS_DIR

INPUT_SIZE = 28
FEATURE_DIM = 128
NUM_CLASSES = 10
DEFAULT_WEIGHTS = ASSETS_DIR / "mnist_classifier.pt"


def _block(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True), nn.MaxPool2d(2)]


class MnistClassifier(nn.Module):
    """Three conv blocks and two linear layers; about 240k parameters."""

    def __init__(self, width: int = 32, feature_dim: int = FEATURE_DIM):
        super().__init__()
        self.body = nn.Sequential(
            *_block(1, width),  # width x 14 x 14
            *_block(width, 2 * width),  # (2*width) x 7 x 7
            *_block(2 * width, 4 * width),  # (4*width) x 3 x 3
            nn.Flatten(),
            nn.Linear(4 * width * 9, feature_dim),
            nn.ReLU(inplace=True),  # features: feature_dim
        )
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(feature_dim, NUM_CLASSES)

    @staticmethod
    def prepare(images: torch.Tensor) -> torch.Tensor:
        """(N,1,H,W) or (N,H,W) images in [-1, 1] → (N,1,28,28) float32 in [-1, 1].

        Other sizes (the GAN's 32×32) are resized with antialiased bilinear
        interpolation, the same operation the training script uses when it
        presents digits at other sizes (its 28→32→28 round-trip augmentation).
        """
        if images.dim() == 3:
            images = images[:, None]
        if images.dim() != 4 or images.shape[1] != 1:
            raise LabError("metrics.bad_image_shape", shape=tuple(images.shape))
        images = images.float()
        if images.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
            images = F.interpolate(
                images, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False, antialias=True
            )
        return images.clamp(-1.0, 1.0)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer embedding, (N, feature_dim); x is (N,1,28,28) in [-1, 1]."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))  # logits, (N, 10)


@lru_cache(maxsize=4)
def _load(path: str, device: str) -> tuple[MnistClassifier, dict]:
    if not Path(path).is_file():
        raise LabError("metrics.classifier_missing", path=path)
    saved = torch.load(path, map_location=device, weights_only=True)
    model = MnistClassifier(**saved.get("architecture", {}))
    model.load_state_dict(saved["state_dict"])
    model.to(device).eval()
    model.requires_grad_(False)
    return model, saved.get("metadata", {})


def load_classifier(path: str | Path = DEFAULT_WEIGHTS, device: str | torch.device = "cpu") -> MnistClassifier:
    """The shipped classifier in eval mode (loaded once per path and device, then cached).

    The cached module is shared: do not train it or change it in place.
    """
    return _load(str(Path(path).resolve()), str(device))[0]


def classifier_metadata(path: str | Path = DEFAULT_WEIGHTS) -> dict:
    """What the training script recorded: accuracies, epochs, seed, torch version, date."""
    return dict(_load(str(Path(path).resolve()), "cpu")[1])


@torch.no_grad()
def predict(images: torch.Tensor, classifier: MnistClassifier | None = None) -> torch.Tensor:
    """Predicted digit for each (N,1,H,W) image in [-1, 1]."""
    classifier = classifier or load_classifier()
    device = next(classifier.parameters()).device
    return classifier(classifier.prepare(images).to(device)).argmax(1).cpu()
