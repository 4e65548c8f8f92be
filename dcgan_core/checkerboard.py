"""Checkerboard artifacts of transposed convolutions (Odena, Dumoulin & Olah,
"Deconvolution and Checkerboard Artifacts", Distill 2016).

A stride-s transposed convolution stamps a k×k copy of the kernel, scaled by
each input unit, every s output units. When k is not a multiple of s the
stamps overlap unevenly: some output units are covered by more stamps than
their neighbours, and even a constant image comes out with a grid pattern.
Resizing first (nearest neighbour or bilinear) and then convolving with unit
stride covers every output unit equally.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from dcgan_core.arithmetic import conv_transpose_output_size
from dcgan_core.i18n import LabError


def _check_kernel_stride(k: int, s: int) -> None:
    if k < 1:
        raise LabError("errors.kernel_size", k=k)
    if s < 1:
        raise LabError("errors.stride", s=s)


def is_even_overlap(k: int, s: int) -> bool:
    """Stamps overlap evenly exactly when the kernel size is a multiple of the stride."""
    _check_kernel_stride(k, s)
    return k % s == 0


def _stamp_sizes(k: int, s: int, input_size: int, layers: int, padding: int) -> tuple[int, int]:
    """(output size, edge units to crop on each side) after `layers` transposed convolutions.

    An output unit is at the edge when a stamp from an input unit beyond the
    image border (as if the input went on for ever) would reach it. Input
    unit i stamps units i·s … i·s + k − 1, so the stamp of unit −1 reaches
    the first k − s output units (none when k ≤ s), and likewise at the far
    end. Every other unit gets exactly the stamps it would get from an
    endless input. Layer by layer, e edge units of input become
    e·s + k − s edge units of output, of which the padding p crops p.
    """
    size, edge = input_size, 0
    for _ in range(layers):
        size = conv_transpose_output_size(size, k, s, padding)
        edge = max(edge * s + k - s - padding, 0)
    return size, edge


def overlap_counts(
    k: int, s: int, input_size: int = 8, layers: int = 1, dims: int = 2, padding: int = 0, crop: bool = True
) -> np.ndarray:
    """How many kernel stamps cover each output unit of a stride-s, size-k
    transposed convolution applied to an all-ones input with an all-ones kernel.

    With ``layers`` > 1 the same transposed convolution is applied that many
    times; each unit then counts the paths from the input to it.
    ``crop=True`` removes, on every side, the edge units that a stamp from an
    input unit beyond the image border could reach (see ``_stamp_sizes``): what
    remains is the pattern an endlessly large input would give, set by k and s
    alone, and it repeats with period s**layers.
    """
    _check_kernel_stride(k, s)
    if dims not in (1, 2):
        raise LabError("convcore.dims", dims=dims)
    if layers < 1:
        raise LabError("convcore.layers", layers=layers)
    size, edge = _stamp_sizes(k, s, input_size, layers, padding)
    if crop and size - 2 * edge < 1:
        candidates = range(input_size + 1, input_size + 10_000)
        minimum = next((n for n in candidates if _interior(k, s, n, layers, padding) >= 1), candidates[-1])
        raise LabError(
            "convcore.overlap_input_too_small", k=k, s=s, layers=layers, crop=edge, size=size, minimum=minimum
        )

    transpose = F.conv_transpose1d if dims == 1 else F.conv_transpose2d
    counts = torch.ones((1, 1) + (input_size,) * dims, dtype=torch.float64)
    stamp = torch.ones((1, 1) + (k,) * dims, dtype=torch.float64)
    for _ in range(layers):
        counts = transpose(counts, stamp, stride=s, padding=padding)
    counts = counts[0, 0].round().to(torch.int64).numpy()
    if crop and edge:
        counts = counts[(slice(edge, size - edge),) * dims]
    return counts


def _interior(k: int, s: int, n: int, layers: int, padding: int) -> int:
    try:
        size, edge = _stamp_sizes(k, s, n, layers, padding)
    except LabError:
        return 0
    return size - 2 * edge


def _as_image(image) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(image, dtype=np.float64))
    if x.ndim != 2:
        raise LabError("convcore.image_2d", shape=tuple(x.shape))
    return x


def deconv_upsample(image, k: int, s: int, seed: int | None = None) -> np.ndarray:
    """Upsample an (H, W) image to (s·H, s·W) with one stride-s transposed convolution.

    The kernel is constant (seed=None) or, with a seed, uniformly random and
    positive; either way its weights sum to s², so that the output keeps the
    image's mean brightness (each input unit spreads its value over s² output
    units). A constant kernel gives a flat output exactly when k % s == 0.

    Size: the full output has (H − 1)s + k units; we keep s·H of them,
    dropping ⌈(k − s)/2⌉ at the top/left (the same as PyTorch's
    padding = ⌈(k − s)/2⌉ with output_padding = 2·padding − (k − s)), so that
    each input unit's stamp is centred on the s×s block it becomes.
    Edges: the image is first extended by ⌈k/s⌉ replicated units on every
    side and the extension cut off afterwards, so that border units get all
    their stamps; any pattern left is the k-versus-s overlap, not a dark
    frame from zero padding. ``resize_conv_upsample`` treats edges the same way.
    """
    _check_kernel_stride(k, s)
    x = _as_image(image)
    H, W = x.shape
    if seed is None:
        kernel = torch.full((k, k), 1.0, dtype=torch.float64)
    else:
        kernel = torch.rand(k, k, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) + 1e-3
    kernel = kernel * (s * s / kernel.sum())

    margin = math.ceil(k / s)
    extended = F.pad(x[None, None], (margin,) * 4, mode="replicate")
    full = F.conv_transpose2d(extended, kernel[None, None], stride=s)[0, 0]
    start = margin * s + math.ceil((k - s) / 2)
    return full[start : start + s * H, start : start + s * W].numpy()


def resize_conv_upsample(image, scale: int, k: int, mode: str = "nearest") -> np.ndarray:
    """Upsample an (H, W) image to (scale·H, scale·W): resize (nearest or
    bilinear), then a unit-stride convolution with a constant k×k kernel
    whose weights sum to 1, with 'same' padding (⌊(k − 1)/2⌋ before,
    ⌈(k − 1)/2⌉ after, as PyTorch's padding='same') filled by replicating
    the border, like ``deconv_upsample``."""
    if not isinstance(scale, (int, np.integer)) or scale < 1:
        raise LabError("convcore.scale", scale=scale)
    if mode not in ("nearest", "bilinear"):
        raise LabError("convcore.upsample_mode", mode=mode)
    _check_kernel_stride(k, 1)
    x = _as_image(image)[None, None]
    if mode == "nearest":
        resized = F.interpolate(x, scale_factor=scale, mode="nearest")
    else:
        resized = F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)
    before, after = (k - 1) // 2, k - 1 - (k - 1) // 2
    padded = F.pad(resized, (before, after, before, after), mode="replicate")
    kernel = torch.full((1, 1, k, k), 1.0 / (k * k), dtype=torch.float64)
    return F.conv2d(padded, kernel)[0, 0].numpy()


def artifact_strength(image, border: int = 0) -> float:
    """The spread of the values relative to their size: std / mean(|value|).

    Meant for the upsampled copy of a constant image, where any variation is
    artifact: 0 means perfectly flat; 0.3 means units typically differ from
    the mean by 30 %. ``border`` units are left out on every side.
    """
    x = np.asarray(image, dtype=np.float64)
    if border:
        x = x[(slice(border, -border),) * x.ndim]
    scale = float(np.abs(x).mean()) if x.size else 0.0
    return 0.0 if scale == 0.0 else float(x.std() / scale)


def checkerboard_energy(image, period: int) -> float:
    """Share of an image's varying power (all but the mean) that sits at the frequencies of a
    stride-``period`` pattern: k/period cycles per unit along either axis, k = 1 … period − 1.

    Uneven overlap of a stride-s transposed convolution repeats every s units, so it puts power
    exactly there; an even route (k a multiple of s, or resize-then-convolve) leaves none beyond
    what the picture itself has. The image's sides should be multiples of ``period``."""
    x = np.asarray(image, dtype=np.float64)
    if x.ndim != 2:
        raise LabError("convcore.image_2d", shape=tuple(x.shape))
    power = np.abs(np.fft.fft2(x - x.mean())) ** 2
    total = power.sum()
    if total == 0:
        return 0.0
    h, w = x.shape
    rows = [h * j // period for j in range(1, period) if (h * j) % period == 0]
    cols = [w * j // period for j in range(1, period) if (w * j) % period == 0]
    mask = np.zeros_like(power, dtype=bool)
    mask[rows, :] = True
    mask[:, cols] = True
    return float(power[mask].sum() / total)
