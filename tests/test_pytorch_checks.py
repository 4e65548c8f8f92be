"""Each lesson's check against PyTorch: it agrees where our code is right, and reports the
difference when it is fed a wrong result."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dcgan_core.viz import pytorch_checks as checks
from dcgan_core.viz.matrix import example_values


def values(shape, seed, kind):
    return example_values(shape, seed, integers=False, kind=kind)


def test_max_difference_of_numbers_arrays_and_mismatched_shapes():
    assert checks.max_difference(3, 5) == 2
    assert checks.max_difference(np.array([1.0, 2.0]), np.array([1.0, 2.5])) == 0.5
    assert checks.max_difference(np.zeros((2, 2)), np.zeros((3, 3))) == float("inf")


@pytest.mark.parametrize(
    "mode, i, k, s, p, d, a",
    [
        ("conv", 5, 3, 2, 1, 1, 0),
        ("transposed", 4, 4, 2, 1, 1, 0),
        ("transposed", 3, 3, 2, 1, 1, 1),
        ("pool", 7, 3, 2, 1, 1, 0),
    ],
)
def test_output_size_matches_pytorch_and_reports_a_wrong_size(mode, i, k, s, p, d, a):
    check = checks.output_size(mode, i, k, s, p, d, a)
    op = {"conv": "conv2d", "transposed": "conv_transpose2d", "pool": "max_pool2d"}[mode]
    x = torch.zeros(1, 1, i, i)
    if op == "conv2d":
        expected = F.conv2d(x, torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d).shape[-1]
    elif op == "conv_transpose2d":
        expected = F.conv_transpose2d(
            x, torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d, output_padding=a
        ).shape[-1]
    else:
        expected = F.max_pool2d(x, k, stride=s, padding=p).shape[-1]
    assert check.torch == expected
    assert check.ours == expected and check.max_difference == 0
    wrong = checks.output_size(mode, i, k, s, p, d, a, ours=expected + 1)
    assert wrong.max_difference == 1


def test_output_size_passes_on_pytorchs_refusal():
    with pytest.raises(RuntimeError):
        checks.output_size("conv", 2, 5, 1, 0, 1, 0, ours=1)


@pytest.mark.parametrize("mode, a", [("conv", 0), ("transposed", 1)])
def test_receptive_field_matches_pytorchs_gradient_and_reports_a_wrong_mask(mode, a):
    check = checks.receptive_field(mode, 6, 3, 2, 1, 1, a, 1, 2)
    assert check.ours.shape == check.torch.shape == (6, 6)
    assert check.torch.any() and check.max_difference == 0
    wrong = check.ours.copy()
    wrong[0, 0] = not wrong[0, 0]
    assert checks.receptive_field(mode, 6, 3, 2, 1, 1, a, 1, 2, ours=wrong).max_difference == 1


@pytest.mark.parametrize("h, w, k, s, p, d", [(4, 4, 3, 1, 0, 1), (7, 5, 3, 2, 1, 2), (6, 6, 2, 3, 2, 1)])
def test_conv_by_matrix_matches_conv2d_and_reports_a_wrong_product(h, w, k, s, p, d):
    x, kernel = values((h, w), 3, "input"), values((k, k), 3, "kernel")
    check = checks.conv_by_matrix(x, kernel, s, p, d)
    expected = F.conv2d(
        torch.tensor(x, dtype=torch.float32)[None, None],
        torch.tensor(kernel, dtype=torch.float32)[None, None],
        stride=s,
        padding=p,
        dilation=d,
    )[0, 0]
    np.testing.assert_array_equal(check.torch, expected.numpy())
    assert check.max_difference < 1e-5
    wrong = check.ours.copy()
    wrong[-1, -1] += 0.25
    assert checks.conv_by_matrix(x, kernel, s, p, d, ours=wrong).max_difference == pytest.approx(0.25, abs=1e-5)


@pytest.mark.parametrize("i, k, s, p, d, a", [(4, 4, 2, 1, 1, 0), (3, 3, 2, 1, 1, 1), (5, 3, 1, 0, 2, 0)])
def test_transposed_routes_match_conv_transpose2d_and_report_a_wrong_result(i, k, s, p, d, a):
    y, kernel = values((i, i), 5, "input"), values((k, k), 5, "kernel")
    expected = F.conv_transpose2d(
        torch.tensor(y, dtype=torch.float32)[None, None],
        torch.tensor(kernel, dtype=torch.float32)[None, None],
        stride=s,
        padding=p,
        output_padding=a,
        dilation=d,
    )[0, 0].numpy()
    by_steps = checks.transposed_by_steps(y, kernel, s, p, d, a)
    by_matrix = checks.transposed_by_matrix(y, kernel, s, p, d, a)
    np.testing.assert_array_equal(by_steps.torch, expected)
    assert by_steps.max_difference < 1e-5
    assert by_matrix is not None and by_matrix.max_difference < 1e-5
    wrong = expected.copy()
    wrong[0, 0] -= 1
    assert checks.transposed_by_steps(y, kernel, s, p, d, a, ours=wrong).max_difference == pytest.approx(1)
    assert checks.transposed_by_matrix(y, kernel, s, p, d, a, ours=wrong).max_difference == pytest.approx(1)


def test_transposed_by_matrix_is_none_where_no_convolution_gives_back_the_input_size():
    # The convolution of the transposed output has side i + floor(a / s): with s=1, d=2, a=1 it is i + 1.
    y, kernel = values((3, 3), 0, "input"), values((3, 3), 0, "kernel")
    assert checks.transposed_by_matrix(y, kernel, 1, 0, 2, 1) is None
    assert checks.transposed_by_steps(y, kernel, 1, 0, 2, 1).max_difference < 1e-5


def test_stamp_overlaps_match_conv_transpose_counts_and_report_a_wrong_painting():
    check = checks.stamp_overlaps(3, 2, 6, 1, 2, crop=True)
    assert check.max_difference == 0 and check.ours.shape == check.torch.shape
    assert check.torch.min() == 1 and check.torch.max() == 4  # k=3, s=2: uneven overlap
    painted = checks.stamp_overlaps(3, 2, 6, 1, 2, crop=False).ours.copy()
    assert painted.shape == (13, 13)  # (n - 1)s + k
    painted[0, 0] += 2
    assert checks.stamp_overlaps(3, 2, 6, 1, 2, crop=False, ours=painted).max_difference == 2


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_resize_conv_matches_upsample_then_conv2d_and_reports_a_wrong_result(mode):
    image = np.random.default_rng(0).random((6, 6))
    check = checks.resize_conv(image, 2, 3, mode)
    assert check.torch.shape == (12, 12) and check.max_difference < 1e-9
    wrong = check.ours + 1e-3
    assert checks.resize_conv(image, 2, 3, mode, ours=wrong).max_difference == pytest.approx(1e-3)
