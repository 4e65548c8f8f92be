"""The PyTorch code the convolution lessons show runs, and its own assert compares two routes."""

import re

import pytest
import torch

from dcgan_core.arithmetic import conv_output_size, conv_transpose_output_size
from dcgan_core.viz.lesson_code import conv_matrix_code, transposed_code


def run(code: str) -> dict:
    torch.manual_seed(0)
    scope: dict = {}
    exec(code, scope)  # noqa: S102 - the lesson's own snippet, built from integers
    return scope


@pytest.mark.parametrize("h, w, k, s, p, d", [(4, 4, 3, 1, 0, 1), (6, 5, 3, 2, 1, 2)])
def test_conv_matrix_code_runs_and_its_matrix_has_the_shape_it_says(h, w, k, s, p, d):
    code = conv_matrix_code(h, w, k, s, p, d)
    scope = run(code)
    oh, ow = conv_output_size(h, k, s, p, d), conv_output_size(w, k, s, p, d)
    assert tuple(scope["C"].shape) == (oh * ow, h * w)
    assert f"# {oh * ow} x {h * w}" in code and f"1 x 1 x {oh} x {ow}" in code


@pytest.mark.parametrize("i, k, s, p, d, a", [(4, 4, 2, 1, 1, 0), (3, 3, 2, 1, 1, 1), (6, 3, 1, 3, 1, 0)])
def test_transposed_code_runs_and_both_routes_give_the_size_it_says(i, k, s, p, d, a):
    code = transposed_code(i, k, s, p, d, a)
    scope = run(code)
    o = conv_transpose_output_size(i, k, s, p, d, a)
    assert scope["x"].shape[-1] == scope["x2"].shape[-1] == o
    assert f"1 x 1 x {o} x {o}" in code


def test_the_transposed_codes_assert_fails_without_the_flip():
    unflipped = re.sub(r"w\.flip\(-2, -1\)", "w", transposed_code(4, 4, 2, 1, 1, 0))
    with pytest.raises(AssertionError):
        run(unflipped)
