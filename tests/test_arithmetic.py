"""The size formulas against the shapes PyTorch actually produces, and its refusals."""

import itertools

import pytest
import torch
import torch.nn.functional as F

from dcgan_core.arithmetic import (
    conv_output_size,
    conv_transpose_output_size,
    explain_conv,
    explain_conv_transpose,
    explain_pool,
    input_sizes_for_output,
    output_padding_for,
    pool_output_size,
)
from dcgan_core.i18n import translate


def pytorch_size(op, size, *args, **kwargs):
    """The spatial output size PyTorch produces, or None when it refuses."""
    size = (size,) if isinstance(size, int) else tuple(size)
    try:
        return tuple(op(torch.zeros(1, 1, *size), *args, **kwargs).shape[2:])
    except RuntimeError:
        return None


def ours(fn, *args, **kwargs):
    try:
        result = fn(*args, **kwargs)
    except ValueError:
        return None
    return tuple(result) if isinstance(result, tuple) else (result,)


@pytest.mark.slow
def test_conv_output_size_1d_sweep():
    compared = refused = 0
    for i, k, s, p, d in itertools.product(range(1, 8), range(1, 5), [1, 2, 3], range(-1, 4), [1, 2, 3]):
        expected = pytorch_size(F.conv1d, i, torch.zeros(1, 1, k), stride=s, padding=p, dilation=d)
        assert ours(conv_output_size, i, k, s, p, d) == expected, (i, k, s, p, d)
        compared += 1
        refused += expected is None
    assert refused > 100 and compared - refused > 400


def test_conv_output_size_rectangular_sweep():
    for i, k, s, p, d in itertools.product(
        [(3, 5), (6, 2), 4], [(1, 3), (2, 2), (4, 1)], [1, (2, 3)], [0, (1, 0), (2, -1)], [1, (2, 1)]
    ):
        expected = pytorch_size(
            F.conv2d, i if isinstance(i, tuple) else (i, i), torch.zeros(1, 1, *k), stride=s, padding=p, dilation=d
        )
        assert ours(conv_output_size, i, k, s, p, d) == expected, (i, k, s, p, d)


def test_conv_transpose_output_size_1d_sweep():
    refused_for = set()
    for i, k, s, p, d, a in itertools.product(range(1, 6), range(1, 5), [1, 2, 3], range(-1, 4), [1, 2, 3], range(4)):
        expected = pytorch_size(
            F.conv_transpose1d, i, torch.zeros(1, 1, k), stride=s, padding=p, dilation=d, output_padding=a
        )
        assert ours(conv_transpose_output_size, i, k, s, p, d, a) == expected, (i, k, s, p, d, a)
        if expected is None:
            refused_for.add("negative padding" if p < 0 else "output_padding" if a >= s and a >= d else "too small")
    assert refused_for == {"negative padding", "output_padding", "too small"}


def test_conv_transpose_output_size_rectangular_sweep():
    for i, k, s, p, d, a in itertools.product(
        [(2, 5), (4, 1)], [(3, 2), (1, 4)], [(2, 1), 3], [0, (2, 1), (0, 3)], [1, (1, 2)], [0, (1, 0), (0, 1), 2]
    ):
        expected = pytorch_size(
            F.conv_transpose2d, i, torch.zeros(1, 1, *k), stride=s, padding=p, dilation=d, output_padding=a
        )
        assert ours(conv_transpose_output_size, i, k, s, p, d, a) == expected, (i, k, s, p, d, a)


@pytest.mark.slow
def test_pool_output_size_where_pytorch_allows_the_padding():
    for i, k, s, p in itertools.product(range(1, 8), range(1, 5), [None, 1, 2, 3], range(0, 3)):
        if 2 * p > k:
            continue  # see the next test
        for op in (F.max_pool1d, F.avg_pool1d):
            assert ours(pool_output_size, i, k, s, p) == pytorch_size(op, i, k, s, p), (op.__name__, i, k, s, p)
    for i, k, s in itertools.product([(5, 7), (4, 3)], [(2, 3), (3, 1)], [None, (1, 2)]):
        assert ours(pool_output_size, i, k, s, (1, 0)) == pytorch_size(F.max_pool2d, i, k, s, (1, 0)), (i, k, s)


@pytest.mark.slow
def test_pool_refuses_exactly_what_pytorch_refuses():
    for i, k, s, p in itertools.product(range(1, 8), range(1, 5), [None, 1, 2, 3], range(-1, 4)):
        for op in (F.max_pool1d, F.avg_pool1d):
            assert ours(pool_output_size, i, k, s, p) == pytorch_size(op, i, k, s, p), (op.__name__, i, k, s, p)


def test_output_padding_restores_the_input_size():
    checked = 0
    for i, k, s, p, d in itertools.product(range(1, 9), range(1, 5), [1, 2, 3], range(3), [1, 2]):
        w = torch.zeros(1, 1, k)
        x = torch.zeros(1, 1, i)
        try:
            y = F.conv1d(x, w, stride=s, padding=p, dilation=d)
        except RuntimeError:
            continue
        a = output_padding_for(i, k, s, p, d)
        back = F.conv_transpose1d(y, w, stride=s, padding=p, dilation=d, output_padding=a)
        assert back.shape[-1] == i, (i, k, s, p, d, a)
        checked += 1
    assert checked > 300
    a = output_padding_for((7, 6), (3, 2), (2, 3), (1, 0))
    y = F.conv2d(torch.zeros(1, 1, 7, 6), torch.zeros(1, 1, 3, 2), stride=(2, 3), padding=(1, 0))
    back = F.conv_transpose2d(y, torch.zeros(1, 1, 3, 2), stride=(2, 3), padding=(1, 0), output_padding=a)
    assert back.shape[-2:] == (7, 6)


@pytest.mark.slow
def test_input_sizes_for_output_match_brute_force():
    assert list(input_sizes_for_output(3, 3, 2, 1)) == [5, 6]
    for o, k, s, p, d in itertools.product(range(1, 5), range(1, 5), [1, 2, 3], range(3), [1, 2]):
        brute = [
            i
            for i in range(1, 40)
            if pytorch_size(F.conv1d, i, torch.zeros(1, 1, k), stride=s, padding=p, dilation=d) == (o,)
        ]
        assert list(input_sizes_for_output(o, k, s, p, d)) == brute, (o, k, s, p, d)
    with pytest.raises(ValueError):
        input_sizes_for_output(0, 3)


# (relationship, keyword arguments, the relationship's own closed form in Dumoulin & Visin)
CONV_CASES = [
    (1, dict(i=5, k=3), lambda i, k, s, p, d: i - k + 1),
    (2, dict(i=5, k=4, p=2), lambda i, k, s, p, d: i - k + 2 * p + 1),
    (3, dict(i=5, k=3, p=1), lambda i, k, s, p, d: i),
    (3, dict(i=6, k=5, p=2), lambda i, k, s, p, d: i),
    (4, dict(i=5, k=3, p=2), lambda i, k, s, p, d: i + k - 1),
    (5, dict(i=5, k=3, s=2), lambda i, k, s, p, d: (i - k) // s + 1),
    (6, dict(i=5, k=3, s=2, p=1), lambda i, k, s, p, d: (i + 2 * p - k) // s + 1),
    (6, dict(i=6, k=3, s=2, p=1), lambda i, k, s, p, d: (i + 2 * p - k) // s + 1),
    (15, dict(i=7, k=3, d=2), lambda i, k, s, p, d: (i + 2 * p - k - (k - 1) * (d - 1)) // s + 1),
    (15, dict(i=9, k=3, s=2, p=1, d=3), lambda i, k, s, p, d: (i + 2 * p - k - (k - 1) * (d - 1)) // s + 1),
]

TRANSPOSED_CASES = [
    (8, dict(i=2, k=3), lambda i, k, s, p, a: i + k - 1),
    (9, dict(i=6, k=4, p=2), lambda i, k, s, p, a: i + (k - 1) - 2 * p),
    (10, dict(i=5, k=3, p=1), lambda i, k, s, p, a: i),
    (11, dict(i=7, k=3, p=2), lambda i, k, s, p, a: i - (k - 1)),
    (12, dict(i=2, k=3, s=2), lambda i, k, s, p, a: s * (i - 1) + k),
    (13, dict(i=3, k=3, s=2, p=1), lambda i, k, s, p, a: s * (i - 1) + k - 2 * p),
    (14, dict(i=3, k=3, s=2, p=1, output_padding=1), lambda i, k, s, p, a: s * (i - 1) + a + k - 2 * p),
]


def _filled(kwargs):
    return dict(dict(s=1, p=0, d=1), **kwargs)


@pytest.mark.parametrize("relationship, kwargs, closed_form", CONV_CASES)
def test_explain_conv(relationship, kwargs, closed_form):
    args = _filled(kwargs)
    e = explain_conv(**kwargs)
    torch_size = pytorch_size(
        F.conv1d, args["i"], torch.zeros(1, 1, args["k"]), stride=args["s"], padding=args["p"], dilation=args["d"]
    )
    assert (e.result,) == torch_size
    assert e.result == closed_form(args["i"], args["k"], args["s"], args["p"], args["d"])
    assert e.relationship == relationship and e.operation == "conv"
    assert e.substituted.endswith(f"= {e.result}")
    for key in [e.relationship_key] + [key for key, _ in e.steps]:
        assert translate(key, "en") and translate(key, "zh")


@pytest.mark.parametrize("relationship, kwargs, closed_form", TRANSPOSED_CASES)
def test_explain_conv_transpose(relationship, kwargs, closed_form):
    args = dict(_filled(kwargs), output_padding=kwargs.get("output_padding", 0))
    e = explain_conv_transpose(**kwargs)
    torch_size = pytorch_size(
        F.conv_transpose1d,
        args["i"],
        torch.zeros(1, 1, args["k"]),
        stride=args["s"],
        padding=args["p"],
        output_padding=args["output_padding"],
    )
    assert (e.result,) == torch_size
    assert e.result == closed_form(args["i"], args["k"], args["s"], args["p"], args["output_padding"])
    assert e.relationship == relationship and e.operation == "transposed"
    assert e.substituted.endswith(f"= {e.result}")
    for key in [e.relationship_key] + [key for key, _ in e.steps]:
        assert translate(key, "en") and translate(key, "zh")


def test_explain_dilated_transposed_and_pool():
    e = explain_conv_transpose(i=4, k=3, s=2, p=1, d=2, output_padding=1)
    expected = pytorch_size(
        F.conv_transpose1d, 4, torch.zeros(1, 1, 3), stride=2, padding=1, dilation=2, output_padding=1
    )
    assert (e.result,) == expected and e.relationship is None
    assert translate(e.relationship_key, "zh")
    for i, k, s, p in [(5, 3, 2, 0), (7, 2, None, 1), (6, 3, 1, 1)]:
        e = explain_pool(i, k, s, p)
        assert (e.result,) == pytorch_size(F.max_pool1d, i, k, s, p)
        assert e.result == (i + 2 * p - k) // (k if s is None else s) + 1  # relationship 7, with padding
        assert e.relationship == 7 and e.operation == "pool"
    with pytest.raises(ValueError):
        explain_conv(i=2, k=5)
