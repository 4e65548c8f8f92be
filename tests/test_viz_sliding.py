"""The sliding-window animation against PyTorch: every frame's taps, the drawn
grid of a transposed convolution, receptive fields, GIF frames and presets."""

import io
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from dcgan_core.arithmetic import conv_output_size
from dcgan_core.i18n import LabError
from dcgan_core.presets import PRESETS, preset_by_id
from dcgan_core.viz import sliding

CONV_CASES = [  # (i, k, s, p, d)
    (4, 3, 1, 0, 1),
    (5, 4, 1, 2, 1),
    (5, 3, 1, 1, 1),
    (5, 3, 1, 2, 1),
    (5, 3, 2, 0, 1),
    (5, 3, 2, 1, 1),
    (6, 3, 2, 1, 1),
    (7, 3, 1, 0, 2),
    (9, 2, 3, 1, 3),
    (8, 4, 2, 1, 1),
    (1, 1, 1, 0, 1),
]
TRANSPOSED_CASES = [  # (i, k, s, p, d, output_padding); includes p > d(k-1) (cropping) and a > 0
    (2, 3, 1, 0, 1, 0),
    (3, 3, 2, 1, 1, 1),
    (4, 4, 2, 1, 1, 0),
    (1, 4, 1, 0, 1, 0),
    (3, 3, 2, 0, 2, 1),
    (4, 3, 2, 3, 1, 1),
    (5, 2, 3, 2, 1, 2),
    (3, 3, 1, 2, 2, 0),
    (2, 5, 4, 1, 1, 3),
]


def grid_values(geometry, x):
    """The drawn input grid with x's values at the input cells and zeros elsewhere."""
    grid = np.zeros((geometry.grid_size, geometry.grid_size))
    rows = np.flatnonzero(geometry.input_index >= 0)
    grid[np.ix_(rows, rows)] = x[np.ix_(geometry.input_index[rows], geometry.input_index[rows])]
    return grid


@pytest.mark.parametrize("i,k,s,p,d", CONV_CASES)
def test_conv_frames_are_the_windows_pytorch_uses(i, k, s, p, d):
    torch.manual_seed(0)
    x, w = torch.randn(i, i, dtype=torch.float64), torch.randn(k, k, dtype=torch.float64)
    y = F.conv2d(x[None, None], w[None, None], stride=s, padding=p, dilation=d)[0, 0].numpy()
    geometry = sliding.sliding_geometry(i, k, s, p, d)
    frames = sliding.frames_for(geometry)
    assert len(frames) == y.size
    grid = grid_values(geometry, x.numpy())
    for frame in frames:  # the taps times the kernel give exactly PyTorch's output cell
        taps = grid[np.ix_(frame.rows, frame.cols)]
        assert np.isclose((taps * w.numpy()).sum(), y[frame.out_row, frame.out_col])


@pytest.mark.parametrize("i,k,s,p,d,a", TRANSPOSED_CASES)
def test_transposed_frames_reproduce_conv_transpose2d(i, k, s, p, d, a):
    torch.manual_seed(1)
    x, w = torch.randn(i, i, dtype=torch.float64), torch.randn(k, k, dtype=torch.float64)
    y = F.conv_transpose2d(x[None, None], w[None, None], stride=s, padding=p, output_padding=a, dilation=d)[0, 0]
    geometry = sliding.sliding_geometry(i, k, s, p, d, transposed=True, output_padding=a)
    frames = sliding.frames_for(geometry)
    assert geometry.output_size == y.shape[-1] and len(frames) == y.numel()
    grid = grid_values(geometry, x.numpy())
    flipped = w.numpy()[::-1, ::-1]  # the equivalent direct convolution uses the flipped kernel
    for frame in frames:
        taps = grid[np.ix_(frame.rows, frame.cols)]
        assert np.isclose((taps * flipped).sum(), y[frame.out_row, frame.out_col].item())


def gradient_mask(x_shape, forward, out_row, out_col):
    x = torch.rand(*x_shape, dtype=torch.float64, requires_grad=True)
    forward(x)[0, 0, out_row, out_col].backward()
    return (x.grad[0, 0] != 0).numpy()


@pytest.mark.parametrize("i,k,s,p,d", CONV_CASES)
def test_receptive_field_is_the_nonzero_gradient_of_conv2d(i, k, s, p, d):
    o = conv_output_size(i, k, s, p, d)
    w = torch.ones(1, 1, k, k, dtype=torch.float64)
    for r, c in itertools.product(range(o), repeat=2):
        reference = gradient_mask((1, 1, i, i), lambda x: F.conv2d(x, w, stride=s, padding=p, dilation=d), r, c)
        assert np.array_equal(sliding.receptive_field(i, k, s, p, d, r, c), reference), (r, c)


@pytest.mark.parametrize("i,k,s,p,d,a", TRANSPOSED_CASES)
def test_receptive_field_is_the_nonzero_gradient_of_conv_transpose2d(i, k, s, p, d, a):
    w = torch.ones(1, 1, k, k, dtype=torch.float64)
    forward = lambda x: F.conv_transpose2d(x, w, stride=s, padding=p, output_padding=a, dilation=d)  # noqa: E731
    o = forward(torch.zeros(1, 1, i, i, dtype=torch.float64)).shape[-1]
    for r, c in itertools.product(range(o), repeat=2):
        mask = sliding.receptive_field(i, k, s, p, d, r, c, transposed=True, output_padding=a)
        assert np.array_equal(mask, gradient_mask((1, 1, i, i), forward, r, c)), (r, c)


def test_receptive_field_rejects_cells_outside_the_output():
    with pytest.raises(IndexError):
        sliding.receptive_field(5, 3, 2, 1, 1, 3, 0)


@pytest.mark.parametrize("operation", ["conv", "transposed", "pool"])
def test_pytorch_helpers_agree_with_the_explanation_and_the_code_runs(operation):
    i, k, s, p, d, a = 7, 3, 2, 1, 1, 1 if operation == "transposed" else 0
    expl = sliding.explain_operation(operation, i, k, s, p, d, a)
    assert sliding.pytorch_output_size(operation, i, k, s, p, d, a) == expl.result
    code = sliding.pytorch_code(operation, i, k, s, p, d, a, o=expl.result)
    namespace = {}
    exec(code.replace("layer(x).shape", "shape = layer(x).shape"), namespace)
    assert tuple(namespace["shape"]) == (1, 1, expl.result, expl.result)
    assert f"torch.Size([1, 1, {expl.result}, {expl.result}])" in code


def test_pool_padding_limit_is_where_pytorch_refuses():
    with pytest.raises(RuntimeError):
        F.max_pool2d(torch.zeros(1, 1, 8, 8), 3, stride=1, padding=2)
    with pytest.raises(LabError) as err:
        sliding.explain_operation("pool", 8, 3, 1, 2)
    assert err.value.key == "errors.pool_padding"
    assert (
        sliding.explain_operation("pool", 8, 3, 1, 1).result
        == F.max_pool2d(torch.zeros(1, 1, 8, 8), 3, stride=1, padding=1).shape[-1]
    )


def test_figure_has_one_plotly_frame_per_output_cell_with_play_controls():
    fig = sliding.sliding_window_figure(6, 3, 2, 1, 1)
    o = F.conv2d(torch.zeros(1, 1, 6, 6), torch.zeros(1, 1, 3, 3), stride=2, padding=1).shape[-1]
    assert len(fig.frames) == o * o
    assert len(fig.layout.sliders[0].steps) == o * o
    assert [b.method for b in fig.layout.updatemenus[0].buttons] == ["animate", "animate"]
    # the last frame's taps end where PyTorch's last window ends: (o−1)s + d(k−1) on the padded grid
    grid = 6 + 2 * 1  # the padded input; the output cell's square lies to the right of it
    last_x = [v for v in fig.frames[-1].data[0].x if v is not None and v < grid]
    assert max(last_x) == pytest.approx((o - 1) * 2 + (3 - 1) + 0.5 - 0.04)


def test_figure_without_animation_when_too_many_cells():
    big = int(np.ceil(np.sqrt(sliding.ANIMATION_MAX_FRAMES))) + 3
    fig = sliding.sliding_window_figure(big, 1)
    assert not fig.frames and not fig.layout.sliders


def test_receptive_field_figure_click_targets_and_selection_parsing():
    fig = sliding.receptive_field_figure(5, 3, 2, 1, 1, 1, 2)
    targets = fig.data[-1]
    assert len(targets.customdata) == 9 and list(targets.customdata[5]) == [1, 2]
    assert sliding.output_cell_from_selection([{"customdata": [2, 1]}], 3) == (2, 1)
    assert sliding.output_cell_from_selection([{"customdata": {"0": 0, "1": 2}}], 3) == (0, 2)
    assert sliding.output_cell_from_selection([{"x": 4.0, "y": 1.0}], 3) is None
    assert sliding.output_cell_from_selection([{"customdata": [7, 0]}], 3) is None


@pytest.mark.parametrize("transposed", [False, True])
def test_gif_has_one_frame_per_output_cell(transposed):
    data = sliding.sliding_window_gif(3, 3, 2, 1, 1, transposed=transposed, output_padding=int(transposed))
    reference = (
        F.conv_transpose2d(torch.zeros(1, 1, 3, 3), torch.zeros(1, 1, 3, 3), stride=2, padding=1, output_padding=1)
        if transposed
        else F.conv2d(torch.zeros(1, 1, 3, 3), torch.zeros(1, 1, 3, 3), stride=2, padding=1)
    )
    image = Image.open(io.BytesIO(data))
    assert image.format == "GIF" and image.n_frames == reference.shape[-1] ** 2


def test_transposed_presets_give_the_convolution_input_size_back():
    for preset in PRESETS:
        assert preset_by_id(preset.id) is preset
        if preset.group != "transposed":
            continue
        conv = preset_by_id(preset.id.removesuffix("_transposed"))
        x = torch.zeros(1, 1, conv.i, conv.i)
        y = F.conv2d(x, torch.zeros(1, 1, conv.k, conv.k), stride=conv.s, padding=conv.p, dilation=conv.d)
        assert y.shape[-1] == preset.i
        back = F.conv_transpose2d(
            y,
            torch.zeros(1, 1, preset.k, preset.k),
            stride=preset.s,
            padding=preset.p,
            output_padding=preset.output_padding,
            dilation=preset.d,
        )
        assert back.shape[-1] == conv.i, preset.id


def test_dcgan_presets_match_the_dcgan_layer_sizes():
    sizes = {"dcgan_g_first": (1, 4), "dcgan_g_upsample": (4, 8), "dcgan_d_downsample": (8, 4), "dcgan_d_last": (4, 1)}
    for preset_id, (size_in, size_out) in sizes.items():
        preset = preset_by_id(preset_id)
        assert preset.i == size_in
        assert sliding.pytorch_output_size(preset.operation, **preset.params()) == size_out
    assert preset_by_id("no_such_preset") is None and preset_by_id(None) is None


@pytest.mark.parametrize("i,k,s,p,d,a", TRANSPOSED_CASES)
def test_blue_input_cells_are_the_inputs_that_reach_the_output(i, k, s, p, d, a):
    """Cells drawn as input are exactly the units with a non-zero gradient of the whole output
    (cropped units are drawn grey)."""
    w = torch.ones(1, 1, k, k, dtype=torch.float64)
    x = torch.rand(1, 1, i, i, dtype=torch.float64, requires_grad=True)
    F.conv_transpose2d(x, w, stride=s, padding=p, output_padding=a, dilation=d).sum().backward()
    geometry = sliding.sliding_geometry(i, k, s, p, d, transposed=True, output_padding=a)
    rows, cols = np.nonzero(geometry.cell_kind == sliding.CELL_INPUT)
    drawn = np.zeros((i, i), dtype=bool)
    drawn[geometry.input_index[rows], geometry.input_index[cols]] = True
    assert len(rows) == drawn.sum()
    assert np.array_equal(drawn, (x.grad[0, 0] != 0).numpy())
