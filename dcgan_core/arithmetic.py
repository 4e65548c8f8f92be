"""Output-size arithmetic of convolutions, transposed convolutions and pooling.

One source of truth for every size formula in the app (Dumoulin & Visin,
"A guide to convolution arithmetic for deep learning", arXiv 1603.07285).
Each function takes ints, or (h, w) pairs, and then returns a pair.
Invalid configurations raise ``LabError`` (a ``ValueError``) exactly where
PyTorch refuses them, with a sentence that says what to change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dcgan_core.i18n import LabError

Size = int | tuple[int, int]


def _pairs(*values: Size) -> tuple[list[tuple[int, int]], bool]:
    is_pair = any(isinstance(v, (tuple, list)) for v in values)
    out = []
    for v in values:
        if isinstance(v, (tuple, list)):
            if len(v) != 2:
                raise LabError("errors.pair_length", value=v)
            out.append((int(v[0]), int(v[1])))
        else:
            out.append((int(v), int(v)))
    return out, is_pair


def _per_dim(fn, *values: Size, **keywords: Size) -> Size:
    names = list(keywords)
    pairs, is_pair = _pairs(*values, *keywords.values())
    n = len(values)
    results = tuple(
        fn(*(p[dim] for p in pairs[:n]), **{name: p[dim] for name, p in zip(names, pairs[n:], strict=False)})
        for dim in range(2)
    )
    return results if is_pair else results[0]


def _check_common(i: int, k: int, s: int, p: int, d: int) -> None:
    if i < 1:
        raise LabError("errors.input_size", i=i)
    if k < 1:
        raise LabError("errors.kernel_size", k=k)
    if s < 1:
        raise LabError("errors.stride", s=s)
    if d < 1:
        raise LabError("errors.dilation", d=d)
    if p < 0:
        raise LabError("errors.padding", p=p)


def effective_kernel_size(k: int, d: int = 1) -> int:
    """A dilated kernel spans d(k−1)+1 input units."""
    return d * (k - 1) + 1


def _conv_1d(i: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    _check_common(i, k, s, p, d)
    span = effective_kernel_size(k, d)
    if span > i + 2 * p:
        raise LabError("errors.kernel_too_large", span=span, k=k, d=d, padded=i + 2 * p, i=i, p=p)
    return (i + 2 * p - span) // s + 1


def _conv_transpose_1d(i: int, k: int, s: int = 1, p: int = 0, d: int = 1, output_padding: int = 0) -> int:
    _check_common(i, k, s, p, d)
    if output_padding < 0:
        raise LabError("errors.output_padding_negative", a=output_padding)
    if output_padding >= s and output_padding >= d:
        raise LabError("errors.output_padding_too_large", a=output_padding, s=s, d=d)
    o = (i - 1) * s - 2 * p + d * (k - 1) + output_padding + 1
    if o < 1:
        raise LabError("errors.transposed_too_small", o=o, i=i, k=k, s=s, p=p)
    return o


def conv_output_size(i: Size, k: Size, s: Size = 1, p: Size = 0, d: Size = 1) -> Size:
    """o = ⌊(i + 2p − d(k−1) − 1) / s⌋ + 1 (relationship 15, which contains 1–6)."""
    return _per_dim(_conv_1d, i, k, s, p, d)


def conv_transpose_output_size(
    i: Size, k: Size, s: Size = 1, p: Size = 0, d: Size = 1, output_padding: Size = 0
) -> Size:
    """o' = (i' − 1)s − 2p + d(k−1) + a + 1 (relationship 14 with dilation)."""
    return _per_dim(_conv_transpose_1d, i, k, s, p, d, output_padding=output_padding)


def _pool_1d(i: int, k: int, s: int, p: int) -> int:
    if 2 * p > k:  # PyTorch: a window may not start wholly inside the padding
        raise LabError("errors.pool_padding", p=p, k=k)
    return _conv_1d(i, k, s, p, 1)


def pool_output_size(i: Size, k: Size, s: Size | None = None, p: Size = 0) -> Size:
    """Pooling windows slide like a convolution; PyTorch's stride defaults to k."""
    return _per_dim(_pool_1d, i, k, k if s is None else s, p)


def output_padding_for(i: Size, k: Size, s: Size = 1, p: Size = 0, d: Size = 1) -> Size:
    """a = (i + 2p − d(k−1) − 1) mod s: the output_padding with which the
    transposed convolution gives back exactly the size i."""

    def one(i, k, s, p, d):
        _conv_1d(i, k, s, p, d)
        return (i + 2 * p - effective_kernel_size(k, d)) % s

    return _per_dim(one, i, k, s, p, d)


def input_sizes_for_output(o: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> range:
    """Every input size i whose convolution has output size o.

    With s > 1 the floor in the formula maps s consecutive sizes to one o,
    which is why a transposed convolution needs output_padding to choose.
    """
    _check_common(1, k, s, p, d)
    if o < 1:
        raise LabError("errors.output_size", o=o)
    smallest = (o - 1) * s + effective_kernel_size(k, d) - 2 * p
    return range(max(smallest, 1), smallest + s)


@dataclass
class Explanation:
    """What the UI shows beside an output size: the formula, then each step."""

    operation: str  # "conv", "transposed" or "pool"
    relationship: int | None  # Dumoulin & Visin's number, None where none fits
    relationship_key: str  # catalog key naming the case
    formula: str  # LaTeX with symbols
    substituted: str  # LaTeX with the numbers in
    steps: list[tuple[str, str]] = field(default_factory=list)  # (catalog key, LaTeX)
    result: int = 0


def _conv_relationship(k: int, s: int, p: int, d: int) -> int:
    if d > 1:
        return 15
    if s == 1:
        if p == 0:
            return 1
        if k % 2 == 1 and p == k // 2:
            return 3
        if p == k - 1:
            return 4
        return 2
    return 5 if p == 0 else 6


def explain_conv(i: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> Explanation:
    o = _conv_1d(i, k, s, p, d)
    span = effective_kernel_size(k, d)
    rel = _conv_relationship(k, s, p, d)
    numerator = i + 2 * p - span
    return Explanation(
        operation="conv",
        relationship=rel,
        relationship_key=f"arith.rel{rel}",
        formula=r"o = \left\lfloor \frac{i + 2p - d(k-1) - 1}{s} \right\rfloor + 1",
        substituted=(
            rf"o = \left\lfloor \frac{{{i} + 2\cdot{p} - {d}\cdot({k}-1) - 1}}{{{s}}} \right\rfloor + 1 = {o}"
        ),
        steps=[
            ("arith.step_padded", rf"i + 2p = {i} + 2\cdot{p} = {i + 2 * p}"),
            ("arith.step_span", rf"d(k-1)+1 = {d}\cdot({k}-1)+1 = {span}"),
            ("arith.step_room", rf"(i + 2p) - (d(k-1)+1) = {i + 2 * p} - {span} = {numerator}"),
            ("arith.step_moves", rf"\lfloor {numerator} / {s} \rfloor = {numerator // s}"),
            ("arith.step_positions", rf"o = {numerator // s} + 1 = {o}"),
        ],
        result=o,
    )


def _transposed_relationship(k: int, s: int, p: int, d: int, a: int) -> int | None:
    if d > 1:
        return None
    if s == 1:
        return {1: 8, 2: 9, 3: 10, 4: 11}[_conv_relationship(k, s, p, d)]
    if a == 0:
        return 12 if p == 0 else 13
    return 14


def explain_conv_transpose(i: int, k: int, s: int = 1, p: int = 0, d: int = 1, output_padding: int = 0) -> Explanation:
    a = output_padding
    o = _conv_transpose_1d(i, k, s, p, d, a)
    rel = _transposed_relationship(k, s, p, d, a)
    stretched = (i - 1) * s + 1
    return Explanation(
        operation="transposed",
        relationship=rel,
        relationship_key=f"arith.rel{rel}" if rel else "arith.rel_dilated_transposed",
        formula=r"o' = (i' - 1)\,s - 2p + d(k-1) + a + 1",
        substituted=rf"o' = ({i} - 1)\cdot{s} - 2\cdot{p} + {d}\cdot({k}-1) + {a} + 1 = {o}",
        steps=[
            ("arith.step_stretched", rf"(i'-1)s + 1 = ({i}-1)\cdot{s} + 1 = {stretched}"),
            ("arith.step_zero_pad", rf"d(k-1) - p = {d}\cdot({k}-1) - {p} = {d * (k - 1) - p}"),
            ("arith.step_output_padding", rf"a = {a}"),
            (
                "arith.step_transposed_result",
                rf"o' = {stretched} + 2\cdot{d * (k - 1) - p} + {a} - {d}\cdot({k}-1) = {o}",
            ),
        ],
        result=o,
    )


def explain_pool(i: int, k: int, s: int | None = None, p: int = 0) -> Explanation:
    s = k if s is None else s
    o = _pool_1d(i, k, s, p)
    return Explanation(
        operation="pool",
        relationship=7,
        relationship_key="arith.rel7",
        formula=r"o = \left\lfloor \frac{i + 2p - k}{s} \right\rfloor + 1",
        substituted=rf"o = \left\lfloor \frac{{{i} + 2\cdot{p} - {k}}}{{{s}}} \right\rfloor + 1 = {o}",
        steps=[
            ("arith.step_padded", rf"i + 2p = {i + 2 * p}"),
            ("arith.step_moves", rf"\lfloor ({i + 2 * p} - {k}) / {s} \rfloor = {(i + 2 * p - k) // s}"),
            ("arith.step_positions", rf"o = {(i + 2 * p - k) // s} + 1 = {o}"),
        ],
        result=o,
    )
