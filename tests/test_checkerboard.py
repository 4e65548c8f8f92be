"""Stamp counts of transposed convolutions, and the two ways of upsampling."""

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from dcgan_core.checkerboard import (
    artifact_strength,
    deconv_upsample,
    is_even_overlap,
    overlap_counts,
    resize_conv_upsample,
)
from dcgan_core.i18n import LabError


def stamp_by_hand(k, s, n, layers=1, dims=2, padding=0):
    """Count stamps with plain loops: input unit i adds its value to units i·s … i·s + k − 1."""
    values = np.ones((n,) * dims, dtype=np.int64)
    for _ in range(layers):
        size = values.shape[0]
        full = np.zeros(((size - 1) * s + k,) * dims, dtype=np.int64)
        for index in itertools.product(range(size), repeat=dims):
            block = tuple(slice(i * s, i * s + k) for i in index)
            full[block] += values[index]
        values = full[(slice(padding, full.shape[0] - padding),) * dims]
    return values


@pytest.mark.parametrize("dims", [1, 2])
def test_uncropped_counts_match_stamping_by_hand(dims):
    sweep = itertools.product([1, 2, 3, 4, 5], [1, 2, 3], [1, 2], [0, 1], [3, 4])
    for k, s, layers, padding, n in sweep:
        if dims == 2 and (layers == 2 and n == 4):
            continue  # keep the 2-D loops short
        expected = stamp_by_hand(k, s, n, layers, dims, padding)
        if expected.shape[0] < 1:
            with pytest.raises(LabError):
                overlap_counts(k, s, n, layers, dims, padding, crop=False)
            continue
        got = overlap_counts(k, s, n, layers, dims, padding, crop=False)
        assert got.shape == expected.shape and np.array_equal(got, expected), (k, s, layers, padding, n)


def test_crop_keeps_exactly_the_endless_input_pattern():
    for k, s, layers, padding in itertools.product([1, 2, 3, 4, 5, 7], [1, 2, 3], [1, 2, 3], [0, 1]):
        n, extra = 6, 6
        try:
            cropped = overlap_counts(k, s, n, layers, dims=1, padding=padding)
        except LabError:
            continue
        uncropped = overlap_counts(k, s, n, layers, dims=1, padding=padding, crop=False)
        edge = (len(uncropped) - len(cropped)) // 2
        assert np.array_equal(uncropped[edge : edge + len(cropped)], cropped)
        # the same output units of a much larger input (extra units on each side): shifted by extra·s^layers
        big = stamp_by_hand(k, s, n + 2 * extra, layers, dims=1, padding=padding)
        shift = extra * s**layers
        assert np.array_equal(big[shift + edge : shift + edge + len(cropped)], cropped), (k, s, layers, padding)
        if edge:  # and nothing more is cropped than needed: the first dropped unit misses stamps
            assert uncropped[edge - 1] < big[shift + edge - 1], (k, s, layers, padding)
            assert uncropped[-edge] < big[shift + edge + len(cropped)], (k, s, layers, padding)


def test_interior_is_uniform_exactly_when_k_is_a_multiple_of_s():
    for k, s in itertools.product(range(1, 7), range(1, 4)):
        assert is_even_overlap(k, s) == (k % s == 0)
        for dims in (1, 2):
            counts = overlap_counts(k, s, input_size=8, dims=dims)
            uniform = counts.min() == counts.max()
            assert uniform == (k % s == 0), (k, s, dims, counts)
            if uniform:  # every unit sits under k/s stamps per axis
                assert counts.flat[0] == (k // s) ** dims
            else:  # the pattern repeats every s units
                assert np.array_equal(counts[s:], counts[:-s])


def test_stacked_layers():
    # k4 s2 twice: still even, every unit reached by (k/s)^2 paths per axis
    even = overlap_counts(4, 2, input_size=6, layers=2, dims=1)
    assert np.all(even == 4)
    for layers in (1, 2, 3):
        uneven = overlap_counts(3, 2, input_size=6, layers=layers, dims=1)
        period = 2**layers
        assert uneven.min() < uneven.max()
        assert np.array_equal(uneven[period:], uneven[:-period])
    # 2-D counts of one axis multiply: the 2-D pattern is the outer product of the 1-D one
    one_axis = overlap_counts(3, 2, input_size=5, layers=2, dims=1)
    assert np.array_equal(overlap_counts(3, 2, input_size=5, layers=2, dims=2), np.outer(one_axis, one_axis))


def test_overlap_errors():
    with pytest.raises(LabError):
        overlap_counts(3, 2, dims=3)
    with pytest.raises(LabError):
        overlap_counts(3, 2, layers=0)
    with pytest.raises(LabError):
        overlap_counts(0, 2)
    with pytest.raises(LabError):
        overlap_counts(9, 1, input_size=2, layers=1)  # the crop leaves nothing


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_resize_conv_is_flat_on_a_constant_image(mode):
    for k, scale in itertools.product([1, 2, 3, 4, 5], [1, 2, 3]):
        out = resize_conv_upsample(np.full((5, 6), 0.7), scale, k, mode)
        assert out.shape == (5 * scale, 6 * scale)
        assert np.allclose(out, 0.7, atol=1e-12)
        assert artifact_strength(out) < 1e-12


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_resize_conv_matches_pytorch_layers(mode):
    image = torch.rand(6, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for k, scale in [(3, 2), (4, 2), (5, 3)]:
        conv = nn.Conv2d(1, 1, k, padding="same", padding_mode="replicate", bias=False).double()
        nn.init.constant_(conv.weight, 1.0 / k**2)
        upsample = nn.Upsample(scale_factor=scale, mode=mode)
        with torch.no_grad():
            expected = conv(upsample(image[None, None]))[0, 0].numpy()
        assert np.allclose(resize_conv_upsample(image.numpy(), scale, k, mode), expected, atol=1e-12)


def test_deconv_shows_a_checkerboard_only_when_overlap_is_uneven():
    constant = np.full((6, 6), 2.0)
    for k, s in itertools.product([1, 2, 3, 4, 5, 6], [1, 2, 3]):
        out = deconv_upsample(constant, k, s)
        assert out.shape == (6 * s, 6 * s)
        assert np.isclose(out.mean(), 2.0)  # weights summing to s² keep the brightness
        if k % s == 0:
            assert np.allclose(out, 2.0, atol=1e-12) and artifact_strength(out) < 1e-12
        else:
            assert artifact_strength(out) > 0.1, (k, s)
            assert np.allclose(out[s:], out[:-s]) and np.allclose(out[:, s:], out[:, :-s])
    # k3 s2: stamps overlap on every other row and column -> 4 : 2 : 1 pattern
    out = deconv_upsample(constant, 3, 2)
    assert sorted({round(v / out.min(), 9) for v in out.flat}) == [1, 2, 4]


def test_deconv_matches_pytorch_padding_and_output_padding_inside():
    image = torch.rand(7, 7, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    for k, s in [(3, 2), (4, 2), (5, 2), (5, 3), (6, 4)]:
        padding = math.ceil((k - s) / 2)
        output_padding = 2 * padding - (k - s)
        weight = torch.full((1, 1, k, k), s * s / k**2, dtype=torch.float64)
        expected = F.conv_transpose2d(
            image[None, None], weight, stride=s, padding=padding, output_padding=output_padding
        )[0, 0].numpy()
        got = deconv_upsample(image.numpy(), k, s)
        assert got.shape == expected.shape
        inner = slice(k, 7 * s - k)  # PyTorch's zero border differs from the replicated one only at the edge
        assert np.allclose(got[inner, inner], expected[inner, inner], atol=1e-12)


def test_random_kernel_is_seeded_and_keeps_brightness():
    constant = np.ones((5, 5))
    a, b = deconv_upsample(constant, 4, 2, seed=3), deconv_upsample(constant, 4, 2, seed=3)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, deconv_upsample(constant, 4, 2, seed=4))
    assert np.isclose(a.mean(), 1.0)


def test_artifact_strength_and_input_errors():
    assert artifact_strength(np.array([[1.0, 3.0], [1.0, 3.0]])) == pytest.approx(0.5)  # std 1 / mean 2
    assert artifact_strength(np.zeros((3, 3))) == 0.0
    framed = np.ones((6, 6))
    framed[0] = 5.0
    assert artifact_strength(framed) > 0.5 and artifact_strength(framed, border=1) == 0.0
    with pytest.raises(LabError):
        deconv_upsample(np.ones((2, 3, 3)), 3, 2)
    with pytest.raises(LabError):
        resize_conv_upsample(np.ones((3, 3)), 2, 3, mode="bicubic")
    with pytest.raises(LabError):
        resize_conv_upsample(np.ones((3, 3)), 0, 3)
    with pytest.raises(LabError):
        deconv_upsample(np.ones((3, 3)), 3, 0)
