"""The checkerboard lesson's side-by-side: a flat grey image and a smooth picture, upsampled
by a transposed convolution and by resize-then-convolve (nearest and bilinear)."""

from __future__ import annotations

import numpy as np

from dcgan_core.checkerboard import deconv_upsample, resize_conv_upsample
from dcgan_core.viz.overlap import synthetic_picture

ROUTES = ("input", "deconv", "nearest", "bilinear")


def upsampling_routes(k: int, s: int, layers: int, seed: int | None = None, side: int = 96):
    """(input size, {"constant": images, "picture": images}), each images a tuple in ROUTES order:
    the input, then `layers` upsamplings by each route. The input is sized so the result is about
    `side` wide. ``seed``: a random positive kernel for the transposed convolution (None: constant)."""
    size = max(4, side // s**layers)
    inputs = {"constant": np.full((size, size), 0.5), "picture": synthetic_picture(size)}
    results = {}
    for name, image in inputs.items():
        deconv, nearest, bilinear = image, image, image
        for _ in range(layers):
            deconv = deconv_upsample(deconv, k, s, seed=seed)
            nearest = resize_conv_upsample(nearest, s, k, "nearest")
            bilinear = resize_conv_upsample(bilinear, s, k, "bilinear")
        results[name] = (image, deconv, nearest, bilinear)
    return size, results
