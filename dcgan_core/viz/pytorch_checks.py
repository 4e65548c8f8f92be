"""Each lesson's check against PyTorch: our result, PyTorch's, and the largest difference.

A page shows ``Comparison.max_difference`` with ``ui.verification``. Every function computes
our result itself, or takes it as ``ours`` (a test feeds a wrong one to see the check fail).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from dcgan_core.arithmetic import conv_output_size
from dcgan_core.checkerboard import overlap_counts, resize_conv_upsample
from dcgan_core.convmatrix import conv_matrix
from dcgan_core.transposed import transposed_steps
from dcgan_core.viz import overlap, sliding


class Comparison(NamedTuple):
    ours: Any
    torch: Any
    max_difference: float


def max_difference(ours, theirs) -> float:
    """Largest absolute difference of two equally shaped arrays (or numbers); inf if the shapes differ."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    if ours.shape != theirs.shape:
        return float("inf")
    return float(np.abs(ours - theirs).max()) if ours.size else 0.0


def compared(ours, theirs) -> Comparison:
    return Comparison(ours, theirs, max_difference(ours, theirs))


# ---- lesson 1: output size ---------------------------------------------------------------------


def output_size(mode: str, i: int, k: int, s: int, p: int, d: int, a: int = 0, ours: int | None = None) -> Comparison:
    """The arithmetic's output side against the side PyTorch produces (raises PyTorch's RuntimeError
    where PyTorch refuses the settings)."""
    if ours is None:
        ours = sliding.explain_operation(mode, i, k, s, p, d, a).result
    return compared(ours, sliding.pytorch_output_size(mode, i, k, s, p, d, a))


def receptive_field(
    mode: str, i: int, k: int, s: int, p: int, d: int, a: int, row: int, col: int, ours: np.ndarray | None = None
) -> Comparison:
    """The input units we say output cell (row, col) sees against those with a gradient in PyTorch."""
    if ours is None:
        ours = sliding.receptive_field(i, k, s, p, d, row, col, transposed=mode == "transposed", output_padding=a)
    return compared(ours, sliding.pytorch_receptive_field(mode, i, k, s, p, d, row, col, output_padding=a))


# ---- lesson 2: the convolution matrix ----------------------------------------------------------


def conv_by_matrix(x: np.ndarray, kernel: np.ndarray, s: int, p: int, d: int, ours=None) -> Comparison:
    """C·x with our sparse C, reshaped to the output grid, against F.conv2d."""
    xt = torch.as_tensor(x, dtype=torch.float32)
    wt = torch.as_tensor(kernel, dtype=torch.float32)
    by_torch = F.conv2d(xt[None, None], wt[None, None], stride=s, padding=p, dilation=d)[0, 0].numpy()
    if ours is None:
        C = conv_matrix(tuple(xt.shape), wt, s, p, d)
        ours = torch.sparse.mm(C, xt.reshape(-1, 1)).reshape(by_torch.shape).numpy()
    return compared(ours, by_torch)


# ---- lesson 3: the transposed convolution ------------------------------------------------------


def _conv_transpose(y, kernel, s: int, p: int, d: int, a: int) -> np.ndarray:
    yt = torch.as_tensor(y, dtype=torch.float32)
    wt = torch.as_tensor(kernel, dtype=torch.float32)
    return F.conv_transpose2d(yt[None, None], wt[None, None], stride=s, padding=p, output_padding=a, dilation=d)[0, 0]


def transposed_by_steps(y, kernel, s: int, p: int, d: int, a: int = 0, ours=None) -> Comparison:
    """Insert zeros, pad, flip, slide (dcgan_core.transposed) against F.conv_transpose2d."""
    if ours is None:
        ours = transposed_steps(y, kernel, s, p, d, a).output
    return compared(ours, _conv_transpose(y, kernel, s, p, d, a).numpy())


def transposed_by_matrix(y, kernel, s: int, p: int, d: int, a: int = 0, ours=None) -> Comparison | None:
    """Cᵀ·y, with C the convolution that maps the transposed output back to y's size, against
    F.conv_transpose2d; None where no such convolution exists (output_padding gave a size no
    convolution with these settings turns back into y's)."""
    reference = _conv_transpose(y, kernel, s, p, d, a)
    o, i = reference.shape[-1], np.shape(y)[-1]
    if conv_output_size(o, np.shape(kernel)[-1], s, p, d) != i:
        return None
    C = conv_matrix((o, o), torch.as_tensor(kernel, dtype=torch.float32), s, p, d)
    if ours is None:
        yt = torch.as_tensor(y, dtype=torch.float32)
        ours = torch.sparse.mm(C.t(), yt.reshape(-1, 1)).reshape(o, o).numpy()
    return compared(ours, reference.numpy())


# ---- lesson 4: checkerboard artifacts ----------------------------------------------------------


def stamp_overlaps(k: int, s: int, n: int, layers: int, dims: int, crop: bool, ours=None) -> Comparison:
    """Stamps counted by painting each one (ours: plain numpy) against the counts PyTorch's
    conv_transpose gives, as shown (cropped or not); the difference also covers the uncropped counts."""
    shown = overlap_counts(k, s, n, layers, dims, crop=crop)
    painted = overlap.stamp_counts(k, s, n, layers, dims) if ours is None else np.asarray(ours)
    full = overlap_counts(k, s, n, layers, dims, crop=False)
    ours_shown = overlap.centre_crop(painted, shown.shape)
    return Comparison(ours_shown, shown, max(max_difference(painted, full), max_difference(ours_shown, shown)))


def resize_conv(image: np.ndarray, s: int, k: int, mode: str = "nearest", ours=None) -> Comparison:
    """Our resize-convolution against nn.Upsample followed by nn.Conv2d."""
    if ours is None:
        ours = resize_conv_upsample(image, s, k, mode)
    return compared(ours, overlap.pytorch_resize_conv(image, s, k, mode))
