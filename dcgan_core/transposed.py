"""A transposed convolution as an ordinary convolution (Dumoulin & Visin, section 4).

The direct route to the same numbers as ``F.conv_transpose2d``:

1. insert s − 1 zeros between neighbouring input units (the "fractional stride"),
2. pad d(k − 1) − p zeros on each side, plus output_padding more on the
   bottom/right (a negative amount crops instead),
3. rotate the kernel by 180° (and swap its in/out channel axes),
4. slide it with unit stride (and the same dilation) over the result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from dcgan_core.arithmetic import Size, conv_transpose_output_size
from dcgan_core.convmatrix import _pair
from dcgan_core.i18n import LabError


def zero_insert(y, stride: Size):
    """Insert s − 1 zeros between neighbouring units along the last two axes:
    (..., H, W) → (..., (H − 1)s + 1, (W − 1)s + 1). Returns the same kind
    (torch tensor or numpy array) it was given."""
    sH, sW = _pair(stride)
    for s in (sH, sW):
        if s < 1:
            raise LabError("errors.stride", s=s)
    is_numpy = not isinstance(y, torch.Tensor)
    t = torch.as_tensor(np.asarray(y)) if is_numpy else y
    H, W = t.shape[-2:]
    out = t.new_zeros(*t.shape[:-2], (H - 1) * sH + 1, (W - 1) * sW + 1)
    out[..., ::sH, ::sW] = t
    return out.numpy() if is_numpy else out


def _pads(kernel_size, padding, dilation, output_padding):
    """Zeros added before and after, per axis: d(k − 1) − p and d(k − 1) − p + a."""
    before = tuple(d * (k - 1) - p for k, p, d in zip(kernel_size, padding, dilation, strict=False))
    after = tuple(b + a for b, a in zip(before, output_padding, strict=False))
    return before, after


def transposed_as_conv(y, kernel, stride: Size = 1, padding: Size = 0, dilation: Size = 1, output_padding: Size = 0):
    """F.conv_transpose2d computed as zero insertion + padding + a flipped-kernel convolution.

    y (H, W) with kernel (kH, kW) returns (oH, oW); y (C_in, H, W) or
    (N, C_in, H, W) with kernel (C_in, C_out, kH, kW) — conv_transpose2d's
    layout — returns (C_out, oH, oW) or (N, C_out, oH, oW).
    """
    y = torch.as_tensor(y)
    if not y.is_floating_point():
        y = y.double()
    kernel = torch.as_tensor(kernel).to(y.dtype)
    single_channel = y.ndim == 2 and kernel.ndim == 2
    if not single_channel and not (y.ndim in (3, 4) and kernel.ndim == 4):
        raise LabError("convcore.transposed_shapes", input_shape=tuple(y.shape), kernel_shape=tuple(kernel.shape))
    if single_channel:
        y, kernel = y[None, None], kernel[None, None]
    unbatched = y.ndim == 3
    if unbatched:
        y = y[None]
    if y.shape[1] != kernel.shape[0]:
        raise LabError("convcore.channel_mismatch", got=y.shape[1], expected=kernel.shape[0])

    kernel_size = tuple(kernel.shape[-2:])
    s, p, d, a = _pair(stride), _pair(padding), _pair(dilation), _pair(output_padding)
    conv_transpose_output_size(tuple(y.shape[-2:]), kernel_size, s, p, d, a)  # raises LabError like PyTorch
    before, after = _pads(kernel_size, p, d, a)

    stretched = zero_insert(y, s)
    padded = F.pad(stretched, (before[1], after[1], before[0], after[0]))  # negative amounts crop
    flipped = kernel.flip(-2, -1).transpose(0, 1)  # (C_out, C_in, kH, kW)
    out = F.conv2d(padded, flipped, stride=1, dilation=d)
    if single_channel:
        return out[0, 0]
    return out[0] if unbatched else out


@dataclass
class TransposedSteps:
    """Every intermediate array of ``transposed_as_conv`` for one channel, for the animation."""

    input: np.ndarray
    zero_inserted: np.ndarray
    padded: np.ndarray
    kernel: np.ndarray
    flipped_kernel: np.ndarray
    output: np.ndarray
    pad_before: tuple[int, int]  # (top, left) zeros added; negative = rows/columns cropped
    pad_after: tuple[int, int]  # (bottom, right), output_padding included
    windows: list[tuple[int, int, int, int]]  # (out_row, out_col, row_start, col_start) on `padded`
    stride: tuple[int, int]
    dilation: tuple[int, int]
    source: np.ndarray  # bool, shape of `padded`: True where an input unit sits (not an inserted or padded zero)


def transposed_steps(
    y, kernel, stride: Size = 1, padding: Size = 0, dilation: Size = 1, output_padding: Size = 0
) -> TransposedSteps:
    """The four steps of the direct route for a 2-D input and a 2-D kernel.

    For output cell (r, c) the flipped kernel's tap (u, v) sits on
    padded[row_start + u·dH, col_start + v·dW]; with unit stride,
    row_start = r and col_start = c.
    """
    y_np = np.asarray(y.detach().cpu() if isinstance(y, torch.Tensor) else y, dtype=np.float64)
    k_np = np.asarray(kernel.detach().cpu() if isinstance(kernel, torch.Tensor) else kernel, dtype=np.float64)
    if y_np.ndim != 2 or k_np.ndim != 2:
        raise LabError("convcore.steps_2d", input_ndim=y_np.ndim, kernel_ndim=k_np.ndim)
    s, p, d, a = _pair(stride), _pair(padding), _pair(dilation), _pair(output_padding)
    oH, oW = conv_transpose_output_size(y_np.shape, k_np.shape, s, p, d, a)
    before, after = _pads(k_np.shape, p, d, a)

    def pad_or_crop(array):
        return F.pad(torch.from_numpy(array)[None], (before[1], after[1], before[0], after[0]))[0].numpy()

    zero_inserted = zero_insert(y_np, s)
    source = pad_or_crop(zero_insert(np.ones_like(y_np), s)) == 1
    output = transposed_as_conv(torch.from_numpy(y_np), torch.from_numpy(k_np), s, p, d, a).numpy()
    return TransposedSteps(
        input=y_np,
        zero_inserted=zero_inserted,
        padded=pad_or_crop(zero_inserted),
        kernel=k_np,
        flipped_kernel=k_np[::-1, ::-1].copy(),
        output=output,
        pad_before=before,
        pad_after=after,
        windows=[(r, c, r, c) for r in range(oH) for c in range(oW)],
        stride=s,
        dilation=d,
        source=source,
    )
