"""The zero-insertion animation shows PyTorch's transposed convolution, cell by cell."""

import io

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from dcgan_core.transposed import transposed_steps
from dcgan_core.viz import zero_insertion as zviz
from dcgan_core.viz.matrix import example_values, kernel_symbol

# (i, k, s, p, d, a): DCGAN 4→8, k3 s2 p1 with a = 0 and 1, full padding, dilation, cropping (p > d(k−1)).
CONFIGS = [
    (4, 4, 2, 1, 1, 0),
    (3, 3, 2, 1, 1, 0),
    (3, 3, 2, 1, 1, 1),
    (2, 3, 1, 0, 1, 0),
    (3, 3, 1, 0, 2, 0),
    (3, 3, 2, 0, 2, 1),
    (4, 3, 2, 3, 1, 1),
    (1, 4, 1, 0, 1, 0),
]


def example(i, k, seed=2):
    return example_values((i, i), seed, True, "input"), example_values((k, k), seed, True, "kernel")


def reference(y, kernel, s, p, d, a):
    return F.conv_transpose2d(
        torch.tensor(y)[None, None], torch.tensor(kernel)[None, None], stride=s, padding=p, output_padding=a, dilation=d
    )[0, 0].numpy()


@pytest.mark.parametrize("i, k, s, p, d, a", CONFIGS)
def test_every_slide_frame_computes_pytorchs_output_unit(i, k, s, p, d, a):
    y, kernel = example(i, k)
    expected = reference(y, kernel, s, p, d, a)
    frames = zviz.zero_insertion_frames(transposed_steps(y, kernel, s, p, d, a))
    assert [f.stage for f in frames[:4]] == ["input", "insert", "pad", "flip"]
    slides = frames[4:]
    assert len(slides) == expected.size
    for frame in slides:
        # the value is the outlined canvas cells times the flipped kernel: it checks where the window sits
        under = np.array([frame.values[r, c] for r, c in frame.taps])
        assert under @ frame.kernel.reshape(-1) == pytest.approx(frame.value)
        assert frame.value == pytest.approx(expected[frame.cell])
    np.testing.assert_allclose(slides[-1].output, expected)
    assert np.isnan(slides[0].output).sum() == expected.size - 1


@pytest.mark.parametrize("i, k, s, p, d, a", CONFIGS)
def test_canvas_shows_zero_insertion_and_padding(i, k, s, p, d, a):
    y, kernel = example(i, k)
    frames = zviz.zero_insertion_frames(transposed_steps(y, kernel, s, p, d, a))
    start, inserted, padded, flipped = frames[:4]
    assert (start.kinds == zviz.UNIT).sum() == i * i
    np.testing.assert_array_equal(start.values[start.kinds == zviz.UNIT], y.reshape(-1))
    n = (i - 1) * s + 1
    assert (inserted.kinds == zviz.UNIT).sum() == i * i
    assert (inserted.kinds == zviz.INSERTED).sum() == n * n - i * i
    # what the padded canvas holds is exactly the zero-stuffed, padded (or cropped) input PyTorch-style
    stuffed = torch.zeros(1, 1, n, n, dtype=torch.float64)
    stuffed[..., ::s, ::s] = torch.tensor(y)
    q = d * (k - 1) - p
    expected = F.pad(stuffed, (q, q + a, q, q + a))[0, 0].numpy()
    shown = padded.kinds != zviz.EMPTY
    shown &= padded.kinds != zviz.CROPPED
    rows, cols = np.nonzero(shown)
    block = padded.values[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    np.testing.assert_array_equal(block, expected)
    assert (padded.kinds == zviz.PADDING).sum() == expected.size - (
        (padded.kinds == zviz.UNIT) | (padded.kinds == zviz.INSERTED)
    ).sum()
    if q < 0:
        assert (padded.kinds == zviz.CROPPED).any()
    np.testing.assert_array_equal(flipped.kernel, kernel[::-1, ::-1])
    assert flipped.kernel_names[0, 0] == kernel_symbol(k - 1, k - 1)


def test_long_slides_are_grouped_but_end_on_the_full_output():
    y, kernel = example(6, 4)
    steps = transposed_steps(y, kernel, 4, 0, 1, 3)  # 6 → 27: 729 output units
    frames = zviz.zero_insertion_frames(steps, max_slide_frames=50)
    slides = frames[4:]
    assert len(slides) <= 51
    np.testing.assert_allclose(slides[-1].output, reference(y, kernel, 4, 0, 1, 3))
    filled = [np.isfinite(f.output).sum() for f in slides]
    assert filled == sorted(filled) and filled[-1] == 27 * 27


def test_slide_figure_animates_one_frame_per_output_unit():
    i, k, s, p, d, a = 4, 4, 2, 1, 1, 0
    y, kernel = example(i, k)
    labels = zviz.ZeroInsertionLabels(stage_slide="SLIDE", output="OUT", play="go", pause="stop")
    fig = zviz.zero_insertion_figure(transposed_steps(y, kernel, s, p, d, a), labels, stage="slide")
    expected = reference(y, kernel, s, p, d, a)
    frames = fig.to_dict()["frames"]
    assert len(frames) == expected.size == len(fig.layout.sliders[0].steps)
    for frame in frames:
        go.Frame(frame)  # each plain frame is a valid Plotly frame
    np.testing.assert_allclose(np.array(frames[-1]["data"][0]["z"], dtype=float), expected)
    np.testing.assert_allclose(np.array(fig.data[3].z, dtype=float), expected)  # first picture: finished
    assert "SLIDE" in fig.layout.title.text
    assert [b.label for b in fig.layout.updatemenus[0].buttons] == ["▶ go", "❚❚ stop"]
    spec = pio.from_json(pio.to_json(fig))  # serialises with its frames, as Streamlit does
    assert len(spec.frames) == expected.size


@pytest.mark.parametrize("stage", ["input", "insert", "pad", "flip"])
def test_static_stages_show_their_step(stage):
    y, kernel = example(3, 3)
    steps = transposed_steps(y, kernel, 2, 1, 1, 1)
    labels = zviz.ZeroInsertionLabels(stage_input="IN", stage_insert="INS", stage_pad="PAD", stage_flip="FLIP")
    fig = zviz.zero_insertion_figure(steps, labels, stage=stage)
    assert not fig.frames
    assert fig.layout.title.text == {"input": "IN", "insert": "INS", "pad": "PAD", "flip": "FLIP"}[stage]
    kernel_shown = np.array(fig.data[2].z, dtype=float)
    np.testing.assert_array_equal(kernel_shown, kernel[::-1, ::-1] if stage == "flip" else kernel)


@pytest.mark.parametrize(
    "i, k, s, p, d, a, pictures",
    [
        (3, 3, 2, 1, 1, 1, 4 + 36),
        # s = 1 inserts nothing: that picture repeats the input
        # and the GIF shows it once, for twice as long
        (2, 3, 1, 0, 1, 0, 3 + 16),
    ],
)
def test_gif_has_every_picture(i, k, s, p, d, a, pictures):
    y, kernel = example(i, k)
    assert reference(y, kernel, s, p, d, a).size == pictures - (4 if s > 1 else 3)
    data = zviz.zero_insertion_gif(transposed_steps(y, kernel, s, p, d, a))
    image = Image.open(io.BytesIO(data))
    assert image.format == "GIF" and image.n_frames == pictures


def test_slide_frames_say_which_position_of_how_many():
    y, kernel = np.arange(4.0).reshape(2, 2), np.ones((3, 3))
    steps = transposed_steps(y, kernel, 2, 1, 1, 1)
    labels = zviz.ZeroInsertionLabels(stage_slide="position {n} of {total}")
    fig = zviz.zero_insertion_figure(steps, labels, stage="slide")
    o_h, o_w = steps.output.shape
    titles = [frame["layout"]["title"]["text"] for frame in fig.to_dict()["frames"]]
    assert titles[0] == f"position 1 of {o_h * o_w}" and titles[-1] == f"position {o_h * o_w} of {o_h * o_w}"
    assert len(set(titles)) == len(titles)


def test_gif_is_readable_and_numbers_its_frames():
    from PIL import Image

    from dcgan_core.viz.gif import MIN_LONG_SIDE

    y, kernel = np.arange(4.0).reshape(2, 2), np.ones((3, 3))
    with Image.open(io.BytesIO(zviz.zero_insertion_gif(transposed_steps(y, kernel, 2, 1, 1, 1)))) as gif:
        assert max(gif.size) >= MIN_LONG_SIDE
