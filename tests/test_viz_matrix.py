"""The matrix figures show PyTorch's numbers: C is the Jacobian of F.conv2d, C·x is F.conv2d,
Cᵀ·y is F.conv_transpose2d."""

import io

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from dcgan_core.arithmetic import output_padding_for
from dcgan_core.convmatrix import conv_matrix_index
from dcgan_core.viz import matrix as mviz

# (H, W, k, s, p, d): the article's 4×4 example, padding, strides, dilation, a rectangle.
CONFIGS = [
    (4, 4, 3, 1, 0, 1),
    (5, 5, 3, 2, 1, 1),
    (6, 5, 3, 2, 1, 1),
    (7, 7, 3, 1, 0, 2),
    (3, 6, 2, 1, 1, 1),
    (5, 4, 4, 3, 2, 1),
]


def example(H, W, k, seed=3):
    return mviz.example_values((H, W), seed, True, "input"), mviz.example_values((k, k), seed, True, "kernel")


def torch_conv(x, kernel, s, p, d):
    xt, wt = torch.tensor(x)[None, None], torch.tensor(kernel)[None, None]
    return F.conv2d(xt, wt, stride=s, padding=p, dilation=d)[0, 0].numpy()


def jacobian(H, W, kernel, s, p, d):
    """C as PyTorch sees it: the derivative of conv2d's flat output with respect to the flat input."""
    wt = torch.tensor(kernel)[None, None]

    def conv(v):
        return F.conv2d(v.reshape(1, 1, H, W), wt, stride=s, padding=p, dilation=d).reshape(-1)

    return torch.autograd.functional.jacobian(conv, torch.zeros(H * W, dtype=torch.float64)).numpy()


def trace_named(fig, name):
    return next(t for t in fig.data if t.name == name)


@pytest.mark.parametrize("H, W, k, s, p, d", CONFIGS)
def test_matrix_figure_shows_the_jacobian_and_conv2d(H, W, k, s, p, d):
    x, kernel = example(H, W, k)
    index = conv_matrix_index((H, W), k, s, p, d)
    fig = mviz.matrix_figure(
        index, kernel, x.reshape(-1), labels=mviz.MatrixLabels(matrix="C", result="y"), cell_text="value"
    )
    C = jacobian(H, W, kernel, s, p, d)
    shown = np.nan_to_num(np.array(trace_named(fig, "C").z, dtype=float))
    np.testing.assert_array_equal(shown, C)
    if C.shape[1] <= mviz.TEXT_LIMIT:  # every non-zero cell is labelled with its value
        text = np.array(trace_named(fig, "C").text)
        assert all(float(text[r, c]) == C[r, c] for r, c in zip(*np.nonzero(C), strict=False))
    result = np.array([float(row[0]) for row in trace_named(fig, "y").text])
    np.testing.assert_allclose(result, torch_conv(x, kernel, s, p, d).reshape(-1))


def test_symbols_name_the_kernel_weight_of_each_entry():
    H, W, k = 4, 4, 3
    x, kernel = example(H, W, k)
    kernel = np.arange(1.0, 10.0).reshape(3, 3)  # distinct weights: the value identifies the symbol
    fig = mviz.matrix_figure(conv_matrix_index((H, W), k), kernel, x.reshape(-1))
    C = jacobian(H, W, kernel, 1, 0, 1)
    text = np.array(trace_named(fig, "C").text)
    for r, c in zip(*np.nonzero(C), strict=False):
        kr, kc = divmod(int(C[r, c]) - 1, 3)
        assert text[r, c] == mviz.kernel_symbol(kr, kc)
    assert C.shape == (4, 16)


@pytest.mark.parametrize("H, W, k, s, p, d", CONFIGS)
def test_transposed_figure_is_conv_transpose2d(H, W, k, s, p, d):
    x, kernel = example(H, W, k)
    index = conv_matrix_index((H, W), k, s, p, d)
    oH, oW = index.output_size
    y = mviz.example_values((oH, oW), 5, True, "input")
    fig = mviz.matrix_figure(
        index, kernel, y.reshape(-1), transpose=True, labels=mviz.MatrixLabels(matrix="Ct", result="out")
    )
    np.testing.assert_array_equal(
        np.nan_to_num(np.array(trace_named(fig, "Ct").z, dtype=float)), jacobian(H, W, kernel, s, p, d).T
    )
    a = output_padding_for((H, W), k, s, p, d)
    reference = F.conv_transpose2d(
        torch.tensor(y)[None, None], torch.tensor(kernel)[None, None], stride=s, padding=p, output_padding=a, dilation=d
    )[0, 0].numpy()
    assert reference.shape == (H, W)
    result = np.array([float(row[0]) for row in trace_named(fig, "out").text])
    np.testing.assert_allclose(result, reference.reshape(-1))


@pytest.mark.slow
def test_highlighted_row_outlines_the_inputs_it_reads():
    H, W, k, s, p, d = 5, 5, 3, 2, 1, 1
    x, kernel = example(H, W, k)
    index = conv_matrix_index((H, W), k, s, p, d)
    C = jacobian(H, W, kernel, s, p, d)
    for row in range(C.shape[0]):
        fig = mviz.matrix_figure(index, kernel, x.reshape(-1), highlight_row=row)
        vector_trace = trace_named(fig, "x")
        lit = np.flatnonzero(np.array(vector_trace.z)[0])
        np.testing.assert_array_equal(lit, np.flatnonzero(C[row]))
        np.testing.assert_array_equal(np.sort(mviz.row_columns(index, row)), np.flatnonzero(C[row]))


@pytest.mark.parametrize("H, W, k, s, p, d", CONFIGS)
def test_window_taps_and_row_expression_give_each_output(H, W, k, s, p, d):
    x, kernel = example(H, W, k)
    index = conv_matrix_index((H, W), k, s, p, d)
    reference = torch_conv(x, kernel, s, p, d)
    padded = np.pad(x, p)
    for row in range(index.shape[0]):
        out_r, out_c = divmod(row, reference.shape[1])
        taps = mviz.window_taps(out_r, out_c, (k, k), s, p, d)
        assert len(taps) == k * k
        by_taps = sum(padded[r, c] * w for (r, c), w in zip(taps, kernel.reshape(-1), strict=False))
        _, _, value = mviz.row_expression(index, kernel, x, row)
        assert by_taps == pytest.approx(reference[out_r, out_c])
        assert value == pytest.approx(reference[out_r, out_c])


def test_large_configurations_switch_to_the_sparsity_view():
    assert not mviz.use_sparsity_view((4, 16))
    assert not mviz.use_sparsity_view((64, 16))  # Cᵀ of the DCGAN 4→8 layer: tall but readable
    assert mviz.use_sparsity_view((1024, 4096))  # a 64×64 DCGAN discriminator layer
    H = W = 20
    kernel = mviz.example_values((3, 3), 0, True, "kernel")
    index = conv_matrix_index((H, W), 3, 1, 1)
    assert mviz.use_sparsity_view(index.shape)
    C = jacobian(H, W, kernel, 1, 1, 1)
    fig = mviz.sparsity_figure(index, highlight_row=7)
    points = {(int(y), int(x)) for trace in fig.data for x, y in zip(trace.x, trace.y, strict=False)}
    assert points == set(zip(*np.nonzero(C), strict=False))
    highlighted = {(int(y), int(x)) for x, y in zip(fig.data[1].x, fig.data[1].y, strict=False)}
    assert highlighted == {(7, int(c)) for c in np.flatnonzero(C[7])}
    sparse = torch.tensor(C).to_sparse()
    fig_from_torch = mviz.sparsity_figure(sparse)
    assert len(fig_from_torch.data[0].x) == int(np.count_nonzero(C))


def test_grid_figure_draws_padding_and_outlines():
    x, _ = example(3, 4, 3)
    fig = mviz.grid_figure(x, padding=2, outlined=[(0, 0), (1, 1)], clickable=True)
    padding_trace, value_trace, clicks = fig.data
    assert np.isfinite(np.array(padding_trace.z, dtype=float)).sum() == (3 + 4) * (4 + 4) - 12
    np.testing.assert_array_equal(np.array(value_trace.z, dtype=float)[2:5, 2:6], x)
    assert len(clicks.x) == 12 and len(fig.layout.shapes) == 2


@pytest.mark.parametrize(
    "H, W, k, s, p, d, max_frames, frames",
    [(4, 4, 3, 1, 0, 1, 64, 4), (5, 5, 3, 2, 1, 1, 64, 9), (10, 10, 1, 1, 0, 1, 20, 20)],
)
def test_gif_has_one_frame_per_output_unit(H, W, k, s, p, d, max_frames, frames):
    x, kernel = example(H, W, k)
    index = conv_matrix_index((H, W), k, s, p, d)
    assert frames == min(index.shape[0], max_frames)
    data = mviz.conv_matrix_gif(index, kernel, x, stride=s, padding=p, dilation=d, max_frames=max_frames)
    image = Image.open(io.BytesIO(data))
    assert image.format == "GIF" and image.n_frames == frames
    assert mviz.frame_units(index.shape[0], max_frames)[-1] == index.shape[0] - 1


def test_example_values_are_readable_and_repeatable():
    a = mviz.example_values((4, 4), 7, True, "input")
    assert np.array_equal(a, mviz.example_values((4, 4), 7, True, "input"))
    assert np.all(a == np.round(a)) and a.min() >= 0 and a.max() <= 4
    kernel = mviz.example_values((3, 3), 7, True, "kernel")
    assert np.all(kernel != 0)
    decimals = mviz.example_values((3, 3), 7, False, "kernel")
    assert np.all(decimals != 0) and np.allclose(decimals, np.round(decimals, 1))
    assert not np.array_equal(
        mviz.example_values((5, 5), 7, True, "input"), mviz.example_values((5, 5), 8, True, "input")
    )


def test_figures_are_plain_plotly():
    x, kernel = example(4, 4, 3)
    fig = mviz.matrix_figure(conv_matrix_index((4, 4), 3), kernel, x.reshape(-1), highlight_row=2)
    assert isinstance(fig, go.Figure)
    fig.to_json()


def test_a_sparsity_pattern_uses_webgl_only_beyond_the_svg_limit():
    small = conv_matrix_index((20, 20), 3, 1, 1)  # 3,364 non-zeros: SVG
    large = conv_matrix_index((40, 40), 3, 1, 1)  # 13,924: WebGL
    assert len(small.rows) <= mviz.SVG_POINT_LIMIT < len(large.rows)
    assert {trace.type for trace in mviz.sparsity_figure(small, highlight_row=3).data} == {"scatter"}
    assert {trace.type for trace in mviz.sparsity_figure(large, highlight_row=3).data} == {"scattergl"}
