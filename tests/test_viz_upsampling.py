"""The checkerboard lesson's comparison pictures: every route upsamples to the same size, and on
a flat image only the uneven transposed convolution leaves a pattern."""

import numpy as np
import pytest

from dcgan_core.checkerboard import artifact_strength
from dcgan_core.viz.upsampling import upsampling_routes


@pytest.mark.parametrize("k, s, layers", [(3, 2, 1), (4, 2, 2), (3, 3, 1)])
def test_every_route_upsamples_by_s_per_layer(k, s, layers):
    size, results = upsampling_routes(k, s, layers)
    assert size == max(4, 96 // s**layers)
    for images in results.values():
        assert images[0].shape == (size, size)
        assert all(image.shape == (size * s**layers,) * 2 for image in images[1:])


def test_on_a_flat_image_only_an_uneven_transposed_convolution_makes_a_pattern():
    _, uneven = upsampling_routes(3, 2, 1)
    _, even = upsampling_routes(4, 2, 1)
    flat, deconv, nearest, bilinear = uneven["constant"]
    assert artifact_strength(flat) == 0
    assert artifact_strength(deconv) > 0.1
    assert artifact_strength(nearest) == pytest.approx(0, abs=1e-12)
    assert artifact_strength(bilinear) == pytest.approx(0, abs=1e-12)
    interior = even["constant"][1][4:-4, 4:-4]  # k % s == 0: flat away from the border
    assert np.ptp(interior) == pytest.approx(0, abs=1e-12)
