"""A convolution is a multiplication by a sparse matrix C.

Flatten the input x (H×W) row by row into a vector of length H·W and the
output y (oH×oW) into a vector of length oH·oW: then ``y = C @ x`` where C
has one row per output unit. Row r holds the kernel weights at the columns of
the input units the kernel covers when it produces output r; every other
entry is zero. Multiplying by Cᵀ goes back from the output shape to the input
shape: that is the transposed convolution (Dumoulin & Visin, section 4.1).

The builders here are vectorised: one broadcast over
(output row, output column, kernel row, kernel column) finds every non-zero
at once. ``naive_conv_matrix`` is the plain loop version, kept as a baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from dcgan_core.arithmetic import Size, conv_output_size
from dcgan_core.i18n import LabError


def _pair(value: Size) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise LabError("errors.pair_length", value=value)
        return int(value[0]), int(value[1])
    return int(value), int(value)


@dataclass
class ConvMatrixIndex:
    """Where the kernel weights sit in C, for one input and one output channel.

    Entry j says C[rows[j], cols[j]] = w[kernel_rows[j], kernel_cols[j]].
    Taps that fall into the zero padding have no entry. Entries are sorted
    by row, then column.
    """

    rows: np.ndarray
    cols: np.ndarray
    kernel_rows: np.ndarray
    kernel_cols: np.ndarray
    output_size: tuple[int, int]
    input_size: tuple[int, int]
    shape: tuple[int, int]  # (oH·oW, H·W)


@dataclass
class _TapGrid:
    """Every (output position, kernel tap) pair, as small broadcastable factors.

    Each factor broadcasts to (oH, oW, kH, kW); ``valid`` (that full shape)
    is False where the tap lands in the zero padding. Nothing of the full
    size but ``valid`` is ever materialised: only the selected entries are.
    """

    out_unit: np.ndarray  # (oH, oW, 1, 1): row of C, out_r·oW + out_c
    in_row_offset: np.ndarray  # (oH, 1, kH, 1): in_r·W
    in_col: np.ndarray  # (1, oW, 1, kW): in_c; column of C = in_r·W + in_c
    kernel_row: np.ndarray  # (1, 1, kH, 1)
    kernel_col: np.ndarray  # (1, 1, 1, kW)
    valid: np.ndarray
    output_size: tuple[int, int]
    input_size: tuple[int, int]


def _tap_grid(
    input_size: Size, kernel_size: Size, stride: Size, padding: Size, dilation: Size, dtype=np.int64
) -> _TapGrid:
    (H, W), (kH, kW) = _pair(input_size), _pair(kernel_size)
    (sH, sW), (pH, pW), (dH, dW) = _pair(stride), _pair(padding), _pair(dilation)
    oH, oW = conv_output_size((H, W), (kH, kW), (sH, sW), (pH, pW), (dH, dW))

    out_r = np.arange(oH, dtype=dtype).reshape(oH, 1, 1, 1)
    out_c = np.arange(oW, dtype=dtype).reshape(1, oW, 1, 1)
    ker_r = np.arange(kH, dtype=dtype).reshape(1, 1, kH, 1)
    ker_c = np.arange(kW, dtype=dtype).reshape(1, 1, 1, kW)
    # the input unit that kernel tap (ker_r, ker_c) touches for output (out_r, out_c)
    in_r = out_r * sH - pH + ker_r * dH  # (oH, 1, kH, 1)
    in_c = out_c * sW - pW + ker_c * dW  # (1, oW, 1, kW)
    valid = ((in_r >= 0) & (in_r < H)) & ((in_c >= 0) & (in_c < W))  # (oH, oW, kH, kW)
    return _TapGrid(
        out_unit=out_r * oW + out_c,
        in_row_offset=in_r * W,
        in_col=in_c,
        kernel_row=ker_r,
        kernel_col=ker_c,
        valid=valid,
        output_size=(oH, oW),
        input_size=(H, W),
    )


def conv_matrix_index(
    input_size: Size, kernel_size: Size, stride: Size = 1, padding: Size = 0, dilation: Size = 1
) -> ConvMatrixIndex:
    """The non-zero pattern of C for a single-channel 2-D convolution."""
    grid = _tap_grid(input_size, kernel_size, stride, padding, dilation)
    (oH, oW), (H, W) = grid.output_size, grid.input_size
    full, valid = grid.valid.shape, grid.valid

    def select(factor):
        return np.broadcast_to(factor, full)[valid]

    # Boolean indexing walks the grid in C order: by output unit, then by tap,
    # and for one output unit the input column grows with the tap, so the
    # entries come out sorted by (row, column).
    return ConvMatrixIndex(
        rows=select(grid.out_unit),
        cols=select(grid.in_row_offset) + select(grid.in_col),
        kernel_rows=select(grid.kernel_row),
        kernel_cols=select(grid.kernel_col),
        output_size=(oH, oW),
        input_size=(H, W),
        shape=(oH * oW, H * W),
    )


def _as_kernel(kernel) -> torch.Tensor:
    return kernel if isinstance(kernel, torch.Tensor) else torch.as_tensor(np.asarray(kernel))


def conv_matrix(input_size: Size, kernel, stride: Size = 1, padding: Size = 0, dilation: Size = 1) -> torch.Tensor:
    """The convolution as a coalesced sparse COO matrix C.

    kernel (kH, kW) gives C of shape (oH·oW, H·W); kernel (C_out, C_in, kH, kW)
    gives (C_out·oH·oW, C_in·H·W), made of C_out × C_in blocks, one
    single-channel matrix per (output channel, input channel) pair.
    ``C @ x.flatten()`` is ``F.conv2d(x, w, ...)`` flattened, and
    ``C.T @ y.flatten()`` is ``F.conv_transpose2d(y, w, ...)`` with the
    output_padding that gives back the input size.
    """
    kernel = _as_kernel(kernel)
    if kernel.ndim == 2:
        weights = kernel.reshape(1, 1, *kernel.shape)
    elif kernel.ndim == 4:
        weights = kernel
    else:
        raise LabError("convcore.kernel_ndim", ndim=kernel.ndim)
    c_out, c_in, kH, kW = weights.shape
    (H, W) = _pair(input_size)
    oH, oW = conv_output_size((H, W), (kH, kW), _pair(stride), _pair(padding), _pair(dilation))
    # int32 intermediates halve the memory touched, where every index fits in them
    small = max(c_out * oH * oW, c_in * H * W, weights.numel()) < 2**31
    grid = _tap_grid((H, W), (kH, kW), stride, padding, dilation, np.int32 if small else np.int64)

    # Broadcast to (C_out, oH, oW, C_in, kH, kW): C order is then row-major
    # order of C (output channel, output unit, then input channel, tap).
    full = (c_out, oH, oW, c_in, kH, kW)
    dtype = grid.out_unit.dtype
    out_channel = np.arange(c_out, dtype=dtype).reshape(c_out, 1, 1, 1, 1, 1)
    in_channel = np.arange(c_in, dtype=dtype).reshape(1, 1, 1, c_in, 1, 1)
    valid = np.broadcast_to(grid.valid[None, :, :, None], full)

    def select(factor):
        return np.broadcast_to(factor, full)[valid]

    def per_channel(factor):  # (oH, oW, kH, kW)-broadcastable -> (1, oH, oW, 1, kH, kW)
        return factor[None, :, :, None]

    n = int(grid.valid.sum()) * c_out * c_in
    indices = torch.empty((2, n), dtype=torch.int64)
    rows, cols = indices.numpy()
    rows[:] = select(out_channel * (oH * oW) + per_channel(grid.out_unit))
    cols[:] = select(in_channel * (H * W) + per_channel(grid.in_row_offset))
    cols += select(per_channel(grid.in_col))
    taps = ((out_channel * c_in + in_channel) * kH + per_channel(grid.kernel_row)) * kW + per_channel(grid.kernel_col)
    values = weights.reshape(-1).index_select(0, torch.from_numpy(select(taps)))

    return torch.sparse_coo_tensor(
        indices,
        values,
        (c_out * oH * oW, c_in * H * W),
        check_invariants=False,
        is_coalesced=True,
    )


def conv_matrix_1d(input_size: int, kernel, stride: int = 1, padding: int = 0, dilation: int = 1) -> torch.Tensor:
    """C for a 1-D convolution: kernel (k,) gives (o, i); (C_out, C_in, k) gives (C_out·o, C_in·i).

    A 1-D convolution is a 2-D one on a 1-unit-high input with a 1-unit-high kernel.
    """
    if isinstance(input_size, (tuple, list)) or isinstance(input_size, float):
        raise LabError("convcore.input_size_1d", value=input_size)
    kernel = _as_kernel(kernel)
    if kernel.ndim not in (1, 3):
        raise LabError("convcore.kernel_ndim_1d", ndim=kernel.ndim)
    return conv_matrix((1, input_size), kernel.unsqueeze(-2), (1, stride), (0, padding), (1, dilation))


def naive_conv_matrix(
    input_size: Size, kernel, stride: Size = 1, padding: Size = 0, dilation: Size = 1
) -> torch.Tensor:
    """The same C built the slow, obvious way: loop over every output unit and
    every kernel tap, write into a dense matrix, then convert it to sparse.
    Only the benchmark baseline and a second reference for the tests."""
    kernel = _as_kernel(kernel)
    if kernel.ndim not in (2, 4):
        raise LabError("convcore.kernel_ndim", ndim=kernel.ndim)
    weights = kernel.reshape(1, 1, *kernel.shape) if kernel.ndim == 2 else kernel
    c_out, c_in, kH, kW = weights.shape
    (H, W), (sH, sW), (pH, pW), (dH, dW) = _pair(input_size), _pair(stride), _pair(padding), _pair(dilation)
    oH, oW = conv_output_size((H, W), (kH, kW), (sH, sW), (pH, pW), (dH, dW))

    w = weights.detach().cpu().numpy()
    dense = np.zeros((c_out * oH * oW, c_in * H * W), dtype=w.dtype)
    for co in range(c_out):
        for ci in range(c_in):
            for out_r in range(oH):
                for out_c in range(oW):
                    for ker_r in range(kH):
                        for ker_c in range(kW):
                            in_r = out_r * sH - pH + ker_r * dH
                            in_c = out_c * sW - pW + ker_c * dW
                            if 0 <= in_r < H and 0 <= in_c < W:
                                row = co * oH * oW + out_r * oW + out_c
                                col = ci * H * W + in_r * W + in_c
                                dense[row, col] = w[co, ci, ker_r, ker_c]
    return torch.from_numpy(dense).to_sparse().coalesce()


def sparsity(C: torch.Tensor) -> dict:
    """How many entries of C are stored (sparse) or non-zero (dense), and the fraction of all entries."""
    if C.is_sparse:
        nnz = int(C.coalesce()._nnz())
    else:
        nnz = int(torch.count_nonzero(C))
    rows, cols = C.shape
    return {"nnz": nnz, "density": nnz / (rows * cols) if rows * cols else 0.0, "shape": (int(rows), int(cols))}
