"""C @ x is F.conv2d and Cᵀ @ y is F.conv_transpose2d, checked against PyTorch."""

import itertools

import pytest
import torch
import torch.nn.functional as F

from dcgan_core.arithmetic import output_padding_for
from dcgan_core.convmatrix import (
    conv_matrix,
    conv_matrix_1d,
    conv_matrix_index,
    naive_conv_matrix,
    sparsity,
)
from dcgan_core.i18n import LabError

TOL = 1e-10


def pytorch_conv_shape(size, kernel, stride, padding, dilation):
    """Whether PyTorch accepts the configuration (None if not)."""
    try:
        x = torch.zeros(1, 1, *size, dtype=torch.float64)
        return F.conv2d(
            x, torch.zeros(1, 1, *kernel, dtype=torch.float64), stride=stride, padding=padding, dilation=dilation
        ).shape
    except RuntimeError:
        return None


SIZES = [(5, 5), (6, 4), (3, 7)]
KERNELS = [(1, 1), (3, 3), (2, 3)]
STRIDES = [1, 2, (2, 1), 3]
PADDINGS = [0, 1, (0, 2)]
DILATIONS = [1, 2, (1, 2)]


@pytest.mark.slow
def test_matrix_product_matches_conv2d_and_transpose_over_sweep():
    generator = torch.Generator().manual_seed(0)
    checked = refused = 0
    for size, ksize, stride, padding, dilation in itertools.product(SIZES, KERNELS, STRIDES, PADDINGS, DILATIONS):
        w = torch.randn(*ksize, generator=generator, dtype=torch.float64)
        case = f"i={size} k={ksize} s={stride} p={padding} d={dilation}"
        if pytorch_conv_shape(size, ksize, stride, padding, dilation) is None:
            with pytest.raises(LabError):
                conv_matrix(size, w, stride, padding, dilation)
            refused += 1
            continue
        C = conv_matrix(size, w, stride, padding, dilation)
        assert C.is_sparse, case
        # C is built with is_coalesced=True (no coalesce pass): its entries must really be sorted row-major
        # and unique, or sparse products silently go wrong.
        row, col = C.indices()
        linear = row * C.shape[1] + col
        assert bool((linear[1:] > linear[:-1]).all()), case
        x = torch.randn(1, 1, *size, generator=generator, dtype=torch.float64)
        y = F.conv2d(x, w[None, None], stride=stride, padding=padding, dilation=dilation)
        assert C.shape == (y.numel(), x.numel()), case
        assert torch.allclose(C @ x.flatten(), y.flatten(), atol=TOL), case

        a = output_padding_for(size, ksize, stride, padding, dilation)
        g = torch.randn_like(y)
        back = F.conv_transpose2d(g, w[None, None], stride=stride, padding=padding, output_padding=a, dilation=dilation)
        assert back.shape[-2:] == x.shape[-2:], case
        assert torch.allclose(C.t() @ g.flatten(), back.flatten(), atol=TOL), case
        checked += 1
    assert checked >= 250 and refused > 0


@pytest.mark.parametrize(
    "c_out, c_in, size, ksize, stride, padding, dilation",
    [
        (3, 2, (6, 5), (3, 3), 2, 1, 1),
        (2, 3, (5, 7), (2, 3), (1, 2), (1, 0), (2, 1)),
        (4, 1, (8, 8), (4, 4), 2, 1, 1),  # a DCGAN layer's shape
        (1, 4, (4, 4), (4, 4), 1, 0, 1),  # the DCGAN discriminator's last layer
        (2, 2, (7, 4), (1, 1), 3, 0, 1),
    ],
)
def test_multichannel_block_matrix(c_out, c_in, size, ksize, stride, padding, dilation):
    generator = torch.Generator().manual_seed(1)
    w = torch.randn(c_out, c_in, *ksize, generator=generator, dtype=torch.float64)
    x = torch.randn(1, c_in, *size, generator=generator, dtype=torch.float64)
    C = conv_matrix(size, w, stride, padding, dilation)
    y = F.conv2d(x, w, stride=stride, padding=padding, dilation=dilation)
    assert C.shape == (y.numel(), x.numel())
    assert torch.allclose(C @ x.flatten(), y.flatten(), atol=TOL)

    a = output_padding_for(size, ksize, stride, padding, dilation)
    g = torch.randn_like(y)
    back = F.conv_transpose2d(g, w, stride=stride, padding=padding, output_padding=a, dilation=dilation)
    assert torch.allclose(C.t() @ g.flatten(), back.flatten(), atol=TOL)
    assert torch.equal(C.to_dense(), naive_conv_matrix(size, w, stride, padding, dilation).to_dense())


@pytest.mark.slow
def test_1d_matrix_matches_conv1d_and_transpose():
    generator = torch.Generator().manual_seed(2)
    checked = 0
    for i, k, s, p, d, (c_out, c_in) in itertools.product(
        [1, 4, 7, 10], [1, 2, 3, 5], [1, 2, 3], [0, 1, 2], [1, 2], [(1, 1), (2, 3)]
    ):
        w = torch.randn(c_out, c_in, k, generator=generator, dtype=torch.float64)
        x = torch.randn(1, c_in, i, generator=generator, dtype=torch.float64)
        try:
            y = F.conv1d(x, w, stride=s, padding=p, dilation=d)
        except RuntimeError:
            with pytest.raises(LabError):
                conv_matrix_1d(i, w, s, p, d)
            continue
        C = conv_matrix_1d(i, w[0, 0] if c_out == c_in == 1 else w, s, p, d)
        assert C.shape == (y.numel(), x.numel())
        assert torch.allclose(C @ x.flatten(), y.flatten(), atol=TOL)
        a = output_padding_for(i, k, s, p, d)
        g = torch.randn_like(y)
        back = F.conv_transpose1d(g, w, stride=s, padding=p, output_padding=a, dilation=d)
        assert torch.allclose(C.t() @ g.flatten(), back.flatten(), atol=TOL)
        checked += 1
    assert checked > 250


def test_vectorised_builder_equals_naive_loops():
    generator = torch.Generator().manual_seed(3)
    for size, ksize, stride, padding, dilation in [
        ((5, 5), (3, 3), 1, 0, 1),
        ((6, 4), (2, 3), (2, 1), (1, 2), (1, 2)),
        ((9, 8), (4, 4), 2, 1, 1),
        ((7, 7), (3, 3), 3, 2, 2),
    ]:
        w = torch.rand(*ksize, generator=generator, dtype=torch.float64) + 0.5  # no zero weights
        fast = conv_matrix(size, w, stride, padding, dilation)
        slow = naive_conv_matrix(size, w, stride, padding, dilation)
        assert torch.equal(fast.indices(), slow.indices())
        assert torch.equal(fast.values(), slow.values())


def test_article_example_4x4_input_3x3_kernel():
    # Dumoulin & Visin, section 4.1: the 4 x 16 matrix with rows
    # (w00 w01 w02 0 w10 w11 w12 0 w20 w21 w22 0 0 0 0 0), shifted by 1, 4 and 5.
    w = torch.arange(1.0, 10.0).reshape(3, 3)
    C = conv_matrix(4, w).to_dense()
    assert C.shape == (4, 16)
    assert [int(n) for n in (C != 0).sum(dim=1)] == [9, 9, 9, 9]
    first_row = torch.tensor([1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0, 0], dtype=C.dtype)
    for row, shift in enumerate([0, 1, 4, 5]):
        assert torch.equal(C[row], torch.roll(first_row, shift))


@pytest.mark.parametrize(
    "size, ksize, stride, padding, dilation",
    [((4, 4), (3, 3), 1, 0, 1), ((5, 6), (3, 2), 2, 1, 1), ((7, 5), (3, 3), (1, 2), (2, 1), 2)],
)
def test_index_arrays_place_kernel_weights(size, ksize, stride, padding, dilation):
    index = conv_matrix_index(size, ksize, stride, padding, dilation)
    w = torch.rand(*ksize, dtype=torch.float64) + 0.5
    C = conv_matrix(size, w, stride, padding, dilation).to_dense()
    y_shape = pytorch_conv_shape(size, ksize, stride, padding, dilation)
    assert index.output_size == tuple(y_shape[-2:])
    assert index.input_size == size and index.shape == tuple(C.shape)
    rows, cols = torch.from_numpy(index.rows), torch.from_numpy(index.cols)
    assert torch.equal(C[rows, cols], w[torch.from_numpy(index.kernel_rows), torch.from_numpy(index.kernel_cols)])
    # no entry anywhere else: the count equals C's non-zeros
    assert len(index.rows) == int((C != 0).sum())
    # taps per output = the ones-kernel convolution of a ones image (taps in padding count 0)
    per_output = F.conv2d(
        torch.ones(1, 1, *size, dtype=torch.float64),
        torch.ones(1, 1, *ksize, dtype=torch.float64),
        stride=stride,
        padding=padding,
        dilation=dilation,
    ).flatten()
    assert torch.equal(torch.bincount(rows, minlength=index.shape[0]).double(), per_output)


def test_sparsity_counts_stored_entries():
    size, ksize, stride, padding = (8, 8), (3, 3), 2, 1
    C = conv_matrix(size, torch.ones(*ksize), stride, padding)
    stats = sparsity(C)
    taps = F.conv2d(torch.ones(1, 1, *size), torch.ones(1, 1, *ksize), stride=stride, padding=padding).sum()
    assert stats["nnz"] == int(taps)
    assert stats["shape"] == tuple(C.shape)
    assert stats["density"] == pytest.approx(int(taps) / (C.shape[0] * C.shape[1]))
    assert sparsity(C.to_dense()) == stats


def test_dtype_follows_kernel_and_bad_kernels_raise():
    assert conv_matrix(5, torch.ones(3, 3, dtype=torch.float32)).dtype == torch.float32
    assert conv_matrix(5, torch.ones(3, 3, dtype=torch.float64)).dtype == torch.float64
    with pytest.raises(LabError):
        conv_matrix(5, torch.ones(1, 3, 3))
    with pytest.raises(LabError):
        conv_matrix(2, torch.ones(3, 3))  # kernel larger than the input
    with pytest.raises(LabError):
        conv_matrix(5, torch.ones(3, 3), padding=-1)
    with pytest.raises(LabError):
        conv_matrix_1d((5, 5), torch.ones(3))
    with pytest.raises(LabError):
        conv_matrix_1d(5, torch.ones(3, 3))
