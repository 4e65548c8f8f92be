"""Zero insertion + padding + a flipped kernel gives F.conv_transpose2d."""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dcgan_core.i18n import LabError
from dcgan_core.transposed import transposed_as_conv, transposed_steps, zero_insert

TOL = 1e-10


def test_zero_insert_shape_and_content():
    y = torch.arange(1.0, 25.0).reshape(2, 3, 4)
    z = zero_insert(y, (2, 3))
    assert z.shape == (2, (3 - 1) * 2 + 1, (4 - 1) * 3 + 1)
    assert torch.equal(z[..., ::2, ::3], y)
    assert int((z != 0).sum()) == y.numel()  # everything else is an inserted zero
    # zero insertion is what a stride-s transposed convolution does with a 1x1 identity kernel
    expected = F.conv_transpose2d(y[:, None], torch.ones(1, 1, 1, 1), stride=(2, 3))[:, 0]
    assert torch.equal(z, expected)
    assert torch.equal(zero_insert(y, 1), y)
    square = zero_insert(np.ones((3, 3)), 2)
    assert isinstance(square, np.ndarray) and square.shape == (5, 5) and square.sum() == 9
    with pytest.raises(LabError):
        zero_insert(y, 0)


def _pytorch_or_none(y, w, **settings):
    try:
        return F.conv_transpose2d(y, w, **settings)
    except RuntimeError:
        return None


@pytest.mark.slow
def test_transposed_as_conv_matches_pytorch_over_sweep():
    generator = torch.Generator().manual_seed(0)
    checked = cropped = refused = 0
    for size, ksize, stride, padding, dilation, output_padding in itertools.product(
        [(3, 3), (4, 2)], [(1, 1), (3, 3), (2, 4)], [1, 2, (3, 2)], [0, 1, 3, (4, 1)], [1, 2], [0, 1, (1, 0)]
    ):
        settings = dict(stride=stride, padding=padding, dilation=dilation, output_padding=output_padding)
        y = torch.randn(1, 1, *size, generator=generator, dtype=torch.float64)
        w = torch.randn(1, 1, *ksize, generator=generator, dtype=torch.float64)
        expected = _pytorch_or_none(y, w, **settings)
        if expected is None:
            with pytest.raises(LabError):
                transposed_as_conv(y, w, **settings)
            refused += 1
            continue
        got = transposed_as_conv(y, w, **settings)
        assert got.shape == expected.shape, settings
        assert torch.allclose(got, expected, atol=TOL), settings
        # the single-channel 2-D form returns the same numbers
        assert torch.allclose(transposed_as_conv(y[0, 0], w[0, 0], **settings), expected[0, 0], atol=TOL)
        p, d = np.broadcast_to(padding, 2), np.broadcast_to(dilation, 2)
        k = np.array(ksize)
        cropped += bool(np.any(p > d * (k - 1)))
        checked += 1
    assert checked > 200 and cropped > 50 and refused > 0


@pytest.mark.parametrize(
    "batch, c_in, c_out, size, ksize, settings",
    [
        (2, 3, 2, (4, 4), (4, 4), dict(stride=2, padding=1)),  # a DCGAN generator layer
        (1, 4, 3, (1, 1), (4, 4), dict(stride=1, padding=0)),  # the generator's first layer: z -> 4x4
        (3, 2, 1, (3, 5), (3, 2), dict(stride=(2, 3), padding=(1, 0), dilation=(2, 1), output_padding=(1, 2))),
        (1, 1, 4, (6, 7), (3, 3), dict(stride=1, padding=3, dilation=1)),  # cropping
    ],
)
def test_multichannel_matches_pytorch(batch, c_in, c_out, size, ksize, settings):
    generator = torch.Generator().manual_seed(1)
    y = torch.randn(batch, c_in, *size, generator=generator, dtype=torch.float64)
    w = torch.randn(c_in, c_out, *ksize, generator=generator, dtype=torch.float64)
    expected = F.conv_transpose2d(y, w, **settings)
    assert torch.allclose(transposed_as_conv(y, w, **settings), expected, atol=TOL)
    assert torch.allclose(transposed_as_conv(y[0], w, **settings), expected[0], atol=TOL)  # unbatched


def test_shape_and_channel_errors():
    with pytest.raises(LabError):
        transposed_as_conv(torch.ones(2, 3, 3), torch.ones(3, 3))
    with pytest.raises(LabError):
        transposed_as_conv(torch.ones(1, 2, 3, 3), torch.ones(3, 1, 3, 3))
    with pytest.raises(LabError):
        transposed_as_conv(torch.ones(3, 3), torch.ones(3, 3), stride=2, output_padding=2)
    with pytest.raises(LabError):
        transposed_steps(torch.ones(1, 3, 3), torch.ones(3, 3))


@pytest.mark.parametrize(
    "size, ksize, settings",
    [
        ((3, 3), (3, 3), dict(stride=2, padding=1, output_padding=1)),
        ((2, 4), (3, 2), dict(stride=(3, 1), padding=(0, 1), dilation=(1, 2))),
        ((4, 4), (3, 3), dict(stride=1, padding=2)),  # p = k − 1: crops nothing, pads nothing
        ((4, 3), (2, 2), dict(stride=2, padding=2, output_padding=1)),  # p > k − 1: crops
    ],
)
def test_transposed_steps_match_pytorch(size, ksize, settings):
    generator = torch.Generator().manual_seed(2)
    y = torch.randn(*size, generator=generator, dtype=torch.float64)
    w = torch.randn(*ksize, generator=generator, dtype=torch.float64)
    steps = transposed_steps(y, w, **settings)
    expected = F.conv_transpose2d(y[None, None], w[None, None], **settings)[0, 0].numpy()
    assert steps.output.shape == expected.shape
    assert np.allclose(steps.output, expected, atol=TOL)
    assert np.array_equal(steps.input, y.numpy())
    assert np.array_equal(steps.flipped_kernel, np.rot90(w.numpy(), 2))
    assert np.array_equal(steps.zero_inserted, zero_insert(y, settings["stride"]).numpy())
    assert steps.padded.shape == tuple(
        z + b + a for z, b, a in zip(steps.zero_inserted.shape, steps.pad_before, steps.pad_after, strict=False)
    )
    assert steps.source.shape == steps.padded.shape
    assert np.array_equal(steps.padded[~steps.source], np.zeros(int((~steps.source).sum())))
    assert len(steps.windows) == expected.size
    # recompute every output cell from its window on `padded`
    dH, dW = steps.dilation
    kH, kW = ksize
    for out_r, out_c, r0, c0 in steps.windows:
        patch = steps.padded[r0 : r0 + dH * (kH - 1) + 1 : dH, c0 : c0 + dW * (kW - 1) + 1 : dW]
        assert patch.shape == (kH, kW)
        assert np.isclose((patch * steps.flipped_kernel).sum(), expected[out_r, out_c], atol=TOL)
    assert [(r, c) for r, c, _, _ in steps.windows] == [
        (r, c) for r in range(expected.shape[0]) for c in range(expected.shape[1])
    ]
