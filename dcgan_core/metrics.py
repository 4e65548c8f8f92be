"""Offline quality metrics for GAN digits, built on the shipped MNIST classifier.

- Fréchet classifier distance (FCD): FID's formula (Heusel et al. 2017)
  applied to the 128-d penultimate features of ``classifier.MnistClassifier``
  instead of Inception-v3's 2048-d pool features. It is *not* Inception FID:
  its values are only comparable with other FCDs from this classifier, and,
  like FID, it is biased upward for small samples, so compare FCDs computed
  with the same numbers of images (``QualityReport.fcd_real_baseline`` is what
  real digits of the same count score).
- Class histogram, mean confidence and a mode-collapse check from the
  classifier's softmax.
- Nearest real neighbours (pixels or features): is a sample a copy of a
  training digit (memorisation)?

Images are (N,1,H,W) or (N,H,W) tensors or arrays in the GAN's range [-1, 1];
uint8 arrays (0..255, as ``data.load_bundled_mnist`` returns) are accepted
and rescaled. Nothing here imports streamlit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from dcgan_core.classifier import NUM_CLASSES, MnistClassifier
from dcgan_core.i18n import LabError


def as_gan_images(images) -> torch.Tensor:
    """Tensor or array → float32 CPU tensor (N,1,H,W) in [-1, 1]; uint8 0..255 is rescaled."""
    if isinstance(images, torch.Tensor):
        x = images.detach().cpu()
    else:
        array = np.asarray(images)
        x = torch.from_numpy(array if array.flags.writeable else array.copy())  # cached arrays are read-only
    if x.dim() == 3:
        x = x[:, None]
    if x.dim() != 4 or x.shape[1] != 1:
        raise LabError("metrics.bad_image_shape", shape=tuple(x.shape))
    x = x.float() / 127.5 - 1.0 if x.dtype == torch.uint8 else x.float()
    if not torch.isfinite(x).all():
        raise LabError("metrics.non_finite")
    return x


@torch.no_grad()
def classifier_features(images, classifier: MnistClassifier, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Penultimate features (N, 128) and softmax probabilities (N, 10), as float64 arrays."""
    x = as_gan_images(images)
    device = next(classifier.parameters()).device
    was_training = classifier.training
    classifier.eval()
    feats, probs = [], []
    for i in range(0, len(x), batch_size):
        batch = classifier.prepare(x[i : i + batch_size]).to(device)
        f = classifier.features(batch)
        feats.append(f.double().cpu())
        probs.append(torch.softmax(classifier.head(f).double(), dim=1).cpu())
    classifier.train(was_training)
    if not feats:
        raise LabError("metrics.too_few_images", count=0, minimum=1)
    return torch.cat(feats).numpy(), torch.cat(probs).numpy()


# --- Fréchet distance ---------------------------------------------------------------------------


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and unbiased covariance (D, D) of (N, D) features; N ≥ 2."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise LabError("metrics.too_few_images", count=len(features), minimum=2)
    return features.mean(axis=0), np.cov(features, rowvar=False)


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix via eigh (negative round-off clipped)."""
    eigenvalues, eigenvectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """||μ1 − μ2||² + Tr(Σ1 + Σ2 − 2 (Σ1 Σ2)^½): the Fréchet (2-Wasserstein) distance² between Gaussians.

    Σ1 Σ2 is not symmetric, so its square root is awkward (scipy's sqrtm can
    return complex round-off). But Σ1 Σ2 is similar to the symmetric PSD
    matrix M = Σ1^½ Σ2 Σ1^½ (conjugate by Σ1^½), so Tr (Σ1 Σ2)^½ = Tr M^½ =
    Σ √λ_i(M). Both steps use ``eigh`` on symmetric matrices, in float64,
    with eigenvalues below zero (round-off) clipped to 0: stable even for
    singular covariances (fewer samples than dimensions).
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    d = mu1.shape[0]
    if mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise LabError(
            "metrics.shape_mismatch", shape1=f"{mu1.shape}, {sigma1.shape}", shape2=f"{mu2.shape}, {sigma2.shape}"
        )
    root1 = _sqrt_psd(sigma1)
    middle = root1 @ sigma2 @ root1
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0.0, None)).sum()
    distance = np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt
    return float(max(distance, 0.0))


def frechet_classifier_distance(fake_images, real_images, classifier: MnistClassifier) -> float:
    """FCD: the Fréchet distance between Gaussians fitted to the classifier features of both sets."""
    fake_features, _ = classifier_features(fake_images, classifier)
    real_features, _ = classifier_features(real_images, classifier)
    return frechet_distance(*feature_statistics(fake_features), *feature_statistics(real_features))


# --- classes, confidence, mode collapse ---------------------------------------------------------


def class_histogram(probs: np.ndarray) -> np.ndarray:
    """How many samples the classifier assigns to each digit 0..9, (10,) int64."""
    probs = np.asarray(probs)
    return np.bincount(probs.argmax(axis=1), minlength=NUM_CLASSES).astype(np.int64)


def mean_confidence(probs: np.ndarray) -> float:
    """Mean over samples of the top softmax probability (1.0 = the classifier is sure of every sample)."""
    return float(np.asarray(probs).max(axis=1).mean())


@dataclass
class ModeCollapseCheck:
    """``collapsed`` plus why: each reason is (catalog key, parameters) for ``ui.t(key, **params)``."""

    collapsed: bool
    classes_present: int
    largest_share: float
    reasons: list[tuple[str, dict]] = field(default_factory=list)


def mode_collapse_check(hist, min_classes: int = 9, max_share: float = 0.3) -> ModeCollapseCheck:
    """Flags a class histogram with fewer than ``min_classes`` digits present or one digit above ``max_share``.

    Real MNIST is close to uniform (each digit 9–11 %). The thresholds need a
    sample of at least ~50 images: with 16 uniform samples about 2 digits are
    missing by chance.
    """
    hist = np.asarray(hist, dtype=np.float64)
    total = hist.sum()
    present = int((hist > 0).sum())
    share = float(hist.max() / total) if total > 0 else 0.0
    reasons: list[tuple[str, dict]] = []
    if present < min_classes:
        reasons.append(("metrics.reason_too_few_classes", {"present": present, "minimum": min_classes}))
    if share > max_share:
        reasons.append(
            (
                "metrics.reason_dominant_class",
                {"digit": int(hist.argmax()), "percent": round(100 * share), "limit": round(100 * max_share)},
            )
        )
    return ModeCollapseCheck(bool(reasons), present, share, reasons)


def mode_collapse_warning(hist, min_classes: int = 9, max_share: float = 0.3) -> bool:
    return mode_collapse_check(hist, min_classes, max_share).collapsed


# --- memorisation: nearest real neighbours ------------------------------------------------------


def _flatten_pixels(fake: torch.Tensor, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if fake.shape[-2:] != real.shape[-2:]:  # e.g. 32×32 samples vs 28×28 MNIST: compare both at 28×28
        fake, real = MnistClassifier.prepare(fake), MnistClassifier.prepare(real)
    return fake.flatten(1).double(), real.flatten(1).double()


def _topk_smallest_distances(queries: torch.Tensor, keys: torch.Tensor, k: int, chunk: int = 4096):
    """Exact k nearest keys (Euclidean) for each query, scanning keys in chunks: memory O(N·chunk)."""
    best_d = torch.full((len(queries), k), float("inf"), dtype=torch.float64)
    best_i = torch.zeros((len(queries), k), dtype=torch.int64)
    q_sq = (queries**2).sum(1, keepdim=True)
    for start in range(0, len(keys), chunk):
        block = keys[start : start + chunk]
        d2 = (q_sq + (block**2).sum(1)[None] - 2 * queries @ block.T).clamp_min_(0)
        cand_d = torch.cat([best_d, d2], 1)
        cand_i = torch.cat([best_i, torch.arange(start, start + len(block)).expand(len(queries), -1)], 1)
        best_d, order = cand_d.topk(k, dim=1, largest=False)  # best_d holds squared distances
        best_i = cand_i.gather(1, order)
    return best_i, best_d.sqrt()


def nearest_real_neighbours(
    fake_images, real_images, k: int = 1, space: str = "pixel", classifier: MnistClassifier | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Indices into ``real_images`` and Euclidean distances of each fake image's k nearest real ones, (N, k) each.

    space="pixel": distance between images in [-1, 1] (both brought to 28×28
    if their sizes differ); space="features": distance between classifier
    features (needs ``classifier``). Sorted nearest first.
    """
    fake, real = as_gan_images(fake_images), as_gan_images(real_images)
    if not 1 <= k <= len(real):
        raise LabError("metrics.bad_k", k=k, count=len(real))
    if space == "pixel":
        queries, keys = _flatten_pixels(fake, real)
    elif space == "features":
        if classifier is None:
            raise LabError("metrics.needs_classifier")
        queries, keys = (torch.from_numpy(classifier_features(x, classifier)[0]) for x in (fake, real))
    else:
        raise LabError("metrics.bad_space", space=space)
    indices, distances = _topk_smallest_distances(queries, keys, k)
    return indices.numpy(), distances.numpy()


# --- the report ----------------------------------------------------------------------------------


@dataclass
class RealReference:
    """Classifier features of a real set and their statistics, computed once and reused across reports."""

    features: np.ndarray  # (M, 128)
    mu: np.ndarray
    sigma: np.ndarray

    def __len__(self) -> int:
        return len(self.features)


def real_reference(real_images, classifier: MnistClassifier) -> RealReference:
    features, _ = classifier_features(real_images, classifier)
    return RealReference(features, *feature_statistics(features))


@dataclass
class QualityReport:
    fcd: float  # Fréchet classifier distance, fake vs real
    fcd_real_baseline: float | None  # FCD of as many held-out real digits as fakes vs the other real digits
    class_histogram: list[int]  # predicted digit counts, 0..9
    mean_confidence: float  # mean top softmax probability
    confident_share: float  # share of samples with top probability ≥ 0.8
    classes_present: int
    mode_collapse: bool
    collapse_reasons: list[tuple[str, dict]]
    num_fake: int
    num_real: int
    timings: dict[str, float]  # seconds: features, fcd, total


def quality_report(
    fake_images,
    real_images,
    classifier: MnistClassifier,
    *,
    baseline: bool = True,
    seed: int = 0,
    min_classes: int = 9,
    max_share: float = 0.3,
) -> QualityReport:
    """Every metric for a batch of GAN samples against a set of real digits.

    ``real_images`` may be a ``RealReference`` (from ``real_reference``) so
    that repeated reports, e.g. during training, skip the real features.

    ``baseline`` also scores a random subset of the real digits (as many as
    fakes, chosen with ``seed``) against the remaining real digits: roughly
    the FCD a perfect generator would get at this sample size (needs at least
    twice as many real digits as fakes). Pass ≥ 64 fakes.
    """
    start = time.perf_counter()
    fake = as_gan_images(fake_images)
    fake_features, fake_probs = classifier_features(fake, classifier)
    real = real_images if isinstance(real_images, RealReference) else real_reference(real_images, classifier)
    features_done = time.perf_counter()

    fcd = frechet_distance(*feature_statistics(fake_features), real.mu, real.sigma)
    fcd_baseline = None
    if baseline and len(real) >= 2 * len(fake):
        held_out = np.zeros(len(real), dtype=bool)
        held_out[np.random.default_rng(seed).choice(len(real), size=len(fake), replace=False)] = True
        fcd_baseline = frechet_distance(
            *feature_statistics(real.features[held_out]), *feature_statistics(real.features[~held_out])
        )
    fcd_done = time.perf_counter()

    hist = class_histogram(fake_probs)
    check = mode_collapse_check(hist, min_classes, max_share)
    return QualityReport(
        fcd=fcd,
        fcd_real_baseline=fcd_baseline,
        class_histogram=[int(c) for c in hist],
        mean_confidence=mean_confidence(fake_probs),
        confident_share=float((fake_probs.max(axis=1) >= 0.8).mean()),
        classes_present=check.classes_present,
        mode_collapse=check.collapsed,
        collapse_reasons=check.reasons,
        num_fake=len(fake),
        num_real=len(real),
        timings={
            "features": features_done - start,
            "fcd": fcd_done - features_done,
            "total": time.perf_counter() - start,
        },
    )


def recognisable_digits(
    report: QualityReport, min_confidence: float = 0.8, min_classes: int = 9, max_fcd: float | None = None
) -> bool:
    """Issue 7's time-to-digits criterion: mean confidence ≥ 0.8 and at least 9 of 10 digits present.

    The classifier can be confidently wrong on images unlike any digit (it
    calls uniform noise an 8 with near-certainty), so the class spread is what
    rules such samples out; ``max_fcd`` optionally adds an FCD ceiling.
    """
    return (
        report.mean_confidence >= min_confidence
        and report.classes_present >= min_classes
        and (max_fcd is None or report.fcd <= max_fcd)
    )
