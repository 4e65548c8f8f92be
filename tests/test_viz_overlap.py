"""Checkerboard figures: stamps painted by hand against PyTorch's conv_transpose,
figures carrying exactly those counts, GIF frames, and the upsampling code."""

import io

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from dcgan_core.checkerboard import overlap_counts, resize_conv_upsample
from dcgan_core.viz import overlap

CASES = [(3, 2, 6, 1, 2), (4, 2, 5, 1, 2), (5, 3, 4, 2, 2), (3, 2, 8, 3, 1), (1, 2, 4, 1, 1), (7, 4, 3, 2, 1)]


def conv_transpose_counts(k, s, n, layers, dims):
    """PyTorch's answer, computed here: all-ones input through `layers` all-ones transposed convolutions."""
    transpose = F.conv_transpose1d if dims == 1 else F.conv_transpose2d
    x = torch.ones((1, 1) + (n,) * dims, dtype=torch.float64)
    for _ in range(layers):
        x = transpose(x, torch.ones((1, 1) + (k,) * dims, dtype=torch.float64), stride=s)
    return x[0, 0].numpy()


@pytest.mark.parametrize("k,s,n,layers,dims", CASES)
def test_painted_stamps_equal_conv_transpose(k, s, n, layers, dims):
    painted = overlap.stamp_counts(k, s, n, layers, dims)
    np.testing.assert_array_equal(painted, conv_transpose_counts(k, s, n, layers, dims))
    cropped = overlap_counts(k, s, n, layers, dims)  # the map the page shows is the middle of it
    np.testing.assert_array_equal(overlap.centre_crop(painted, cropped.shape), cropped)


@pytest.mark.parametrize("k,s,n,layers,dims", CASES)
def test_overlap_figure_shows_the_counts(k, s, n, layers, dims):
    counts = overlap_counts(k, s, n, layers, dims)
    fig = overlap.overlap_figure(counts)
    trace = fig.data[0]
    if dims == 1:
        assert trace.type == "bar"
        np.testing.assert_array_equal(np.asarray(trace.y), counts)
    else:
        assert trace.type == "heatmap" and trace.texttemplate == "%{z}"
        np.testing.assert_array_equal(np.asarray(trace.z), counts)


@pytest.mark.parametrize("dims", [1, 2])
def test_buildup_frames_add_one_stamp_each_and_end_at_the_full_count(dims):
    k, s, n = 3, 2, 4
    fig = overlap.buildup_figure(k, s, n, dims)
    assert len(fig.frames) == n**dims
    # 2-D frames leave not-yet-stamped cells out (None)
    values = [np.nan_to_num(np.asarray(f.data[0].y if dims == 1 else f.data[0].z, dtype=float)) for f in fig.frames]
    assert all(v.sum() == (m + 1) * k**dims for m, v in enumerate(values))  # one k^dims stamp per frame
    np.testing.assert_array_equal(values[-1], conv_transpose_counts(k, s, n, 1, dims))


def test_pattern_period_is_the_stride_for_uneven_overlap():
    assert overlap.pattern_period(overlap_counts(3, 2, 8, 1, 1)) == 2
    assert overlap.pattern_period(overlap_counts(5, 3, 8, 1, 1)) == 3
    assert overlap.pattern_period(overlap_counts(4, 2, 8, 1, 1)) == 1  # even overlap: flat


@pytest.mark.parametrize("dims", [1, 2])
def test_gif_has_one_frame_per_stamp(dims):
    data = overlap.overlap_gif(3, 2, 3, dims)
    image = Image.open(io.BytesIO(data))
    assert image.format == "GIF" and image.n_frames == 3**dims


@pytest.mark.parametrize("k,s", [(3, 2), (4, 2), (1, 2), (2, 1), (5, 3), (8, 4)])
def test_upsampling_code_runs_and_states_the_shapes_pytorch_gives(k, s):
    code = overlap.upsampling_code(k, s)
    namespace = {}
    exec(
        code.replace("deconv(x).shape", "a = deconv(x).shape").replace(
            "resize_conv(x).shape", "b = resize_conv(x).shape"
        ),
        namespace,
    )
    for shape in (namespace["a"], namespace["b"]):
        assert f"torch.Size([1, 64, {shape[-1]}, {shape[-1]}])" in code
    assert namespace["b"][-1] == 16 * s
    if k >= s and not (s == 1 and k % 2 == 0):
        assert namespace["a"][-1] == 16 * s  # the deconvolution route upsamples exactly by s too


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_pytorch_resize_conv_reference_matches_the_core(mode):
    picture = overlap.synthetic_picture(12)
    np.testing.assert_allclose(
        overlap.pytorch_resize_conv(picture, 2, 3, mode), resize_conv_upsample(picture, 2, 3, mode), atol=1e-12
    )


def test_grey_tiles_share_a_range_per_row_and_keep_pixels_sharp():
    flat, ramp = np.full((4, 4), 0.5), np.arange(64, dtype=float).reshape(8, 8)
    tiles = overlap.grey_tiles([[flat, ramp], [np.ones((4, 4)), np.ones((8, 8))]], display_px=32)
    assert [t.shape for t in tiles[0]] == [(32, 32), (32, 32)]
    assert tiles[0][1].min() == 0 and tiles[0][1].max() == 255  # the row's darkest and brightest
    np.testing.assert_array_equal(tiles[0][1][::4, ::4], np.round(ramp / 63 * 255))  # 4× nearest enlargement
    assert (tiles[1][0] == 128).all()  # a perfectly flat row is mid-grey, not an error
