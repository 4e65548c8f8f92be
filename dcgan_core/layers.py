"""Layer-by-layer tables of a DCGAN generator or discriminator.

Shapes come from dcgan_core.arithmetic (the same formulas the convolution
lessons teach), not from running the model; forward_shapes then runs a real
forward pass with hooks so the page and the tests can check the two agree.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import torch
from torch import nn

from dcgan_core.arithmetic import (
    Explanation,
    conv_output_size,
    conv_transpose_output_size,
    explain_conv,
    explain_conv_transpose,
    explain_pool,
    pool_output_size,
)
from dcgan_core.i18n import LabError
from dcgan_core.models import DCGANConfig, Discriminator, Generator, build_models, count_parameters
from dcgan_core.presets import PRESETS

Shape = tuple[int, ...]

# Layers that keep the shape of their input.
_SHAPE_PRESERVING = (
    nn.BatchNorm1d,
    nn.BatchNorm2d,
    nn.ReLU,
    nn.LeakyReLU,
    nn.Tanh,
    nn.Sigmoid,
    nn.Dropout,
    nn.Identity,
)


@dataclass
class LayerRow:
    index: int  # position in model.main
    name: str  # module path, e.g. "main.3"
    type: str  # PyTorch class name: "ConvTranspose2d", "BatchNorm2d", "ReLU", ...
    kernel: int | None
    stride: int | None
    padding: int | None
    in_shape: Shape  # (C, H, W), or (F,) for flat vectors; no batch dimension
    out_shape: Shape
    params: int
    values: int = 0  # output values for the whole batch: batch × prod(out_shape)
    output_padding: int | None = None
    dilation: int | None = None
    detail: str = ""  # e.g. "100 → 512", "slope 0.2", "×2 nearest"
    formula: str | None = None  # LaTeX with the numbers substituted (arithmetic.Explanation.substituted)
    formula_text: str | None = None  # the same in plain text, e.g. "o′ = (4 − 1)·2 − 2·1 + 1·(4−1) + 0 + 1 = 8"
    relationship_key: str | None = None  # catalog key naming Dumoulin & Visin's case
    explanation: Explanation | None = field(default=None, repr=False)
    lesson: str | None = None  # the lesson page that teaches this layer: "transposed_conv" | "output_size"
    preset: str | None = None  # a dcgan_core.presets id that lesson can open with

    @property
    def has_arithmetic(self) -> bool:
        return self.explanation is not None


def format_shape(shape: Shape) -> str:
    return "×".join(str(n) for n in shape)


def latex_to_text(latex: str) -> str:
    """The arithmetic module's substituted LaTeX as plain text, for tables."""
    text = latex
    while r"\frac" in text:
        text = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"(\1) / \2", text)
    for old, new in [
        (r"\left\lfloor", "⌊"),
        (r"\right\rfloor", "⌋"),
        (r"\lfloor", "⌊"),
        (r"\rfloor", "⌋"),
        (r"\cdot", "·"),
        (r"\,", ""),
        ("-", "−"),
        ("'", "′"),
    ]:
        text = text.replace(old, new)
    return re.sub(r"⌊ ", "⌊", re.sub(r" ⌋", "⌋", text))


def _single(value) -> int:
    """PyTorch stores kernel/stride/padding as pairs; DCGAN layers are square."""
    if isinstance(value, (tuple, list)):
        if len(set(value)) != 1:
            raise LabError("architecture.non_square", value=str(tuple(value)))
        return int(value[0])
    return int(value)


def _preset_for(operation: str, k: int, s: int, p: int, d: int, a: int) -> str | None:
    """A lesson preset with the same kernel, stride and padding: DCGAN's own first, then conv_arithmetic's."""
    matches = [
        pr
        for pr in PRESETS
        if pr.operation == operation and (pr.k, pr.s, pr.p, pr.d, pr.output_padding) == (k, s, p, d, a)
    ]
    matches.sort(key=lambda pr: pr.group != "dcgan")
    return matches[0].id if matches else None


def _conv_row(row: LayerRow, module: nn.Module) -> None:
    c, h, w = row.in_shape
    k, s, p, d = (
        _single(module.kernel_size),
        _single(module.stride),
        _single(module.padding),
        _single(module.dilation),
    )
    row.kernel, row.stride, row.padding, row.dilation = k, s, p, d
    if isinstance(module, nn.ConvTranspose2d):
        a = _single(module.output_padding)
        row.output_padding = a
        oh, ow = conv_transpose_output_size((h, w), k, s, p, d, a)
        row.explanation = explain_conv_transpose(h, k, s, p, d, a)
        row.lesson, row.preset = "transposed_conv", _preset_for("transposed", k, s, p, d, a)
    else:
        oh, ow = conv_output_size((h, w), k, s, p, d)
        row.explanation = explain_conv(h, k, s, p, d)
        row.lesson, row.preset = "output_size", _preset_for("conv", k, s, p, d, 0)
    row.out_shape = (module.out_channels, oh, ow)
    row.detail = f"{module.in_channels} → {module.out_channels}"


def _pool_row(row: LayerRow, module: nn.MaxPool2d) -> None:
    c, h, w = row.in_shape
    k = _single(module.kernel_size)
    s = _single(module.stride) if module.stride is not None else k
    p = _single(module.padding)
    if _single(module.dilation) != 1 or module.ceil_mode:
        raise LabError("architecture.unsupported_layer", layer=repr(module))
    row.kernel, row.stride, row.padding = k, s, p
    oh, ow = pool_output_size((h, w), k, s, p)
    row.out_shape = (c, oh, ow)
    row.explanation = explain_pool(h, k, s, p)
    row.lesson = "output_size"


def _row_for(index: int, module: nn.Module, in_shape: Shape, batch: int) -> LayerRow:
    row = LayerRow(
        index=index,
        name=f"main.{index}",
        type=type(module).__name__,
        kernel=None,
        stride=None,
        padding=None,
        in_shape=in_shape,
        out_shape=in_shape,
        params=sum(p.numel() for p in module.parameters(recurse=False)),
    )
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        _conv_row(row, module)
    elif isinstance(module, nn.MaxPool2d):
        _pool_row(row, module)
    elif isinstance(module, nn.Upsample):
        factor = int(module.scale_factor) if module.scale_factor else None
        if factor is None or factor != module.scale_factor:
            raise LabError("architecture.unsupported_layer", layer=repr(module))
        c, h, w = in_shape
        row.out_shape = (c, h * factor, w * factor)
        row.detail = f"×{factor} {module.mode}"
    elif isinstance(module, nn.Linear):
        row.out_shape = (module.out_features,)
        row.detail = f"{module.in_features} → {module.out_features}"
    elif isinstance(module, nn.Flatten):
        row.out_shape = (math.prod(in_shape),)
    elif isinstance(module, nn.Unflatten):
        row.out_shape = tuple(int(n) for n in module.unflattened_size)
    elif isinstance(module, _SHAPE_PRESERVING):
        if isinstance(module, nn.LeakyReLU):
            row.detail = f"slope {module.negative_slope:g}"
    else:
        raise LabError("architecture.unsupported_layer", layer=type(module).__name__)
    if row.explanation is not None:
        row.formula = row.explanation.substituted
        row.formula_text = latex_to_text(row.formula)
        row.relationship_key = row.explanation.relationship_key
    row.values = batch * math.prod(row.out_shape)
    return row


def input_shape(model: nn.Module, cfg: DCGANConfig) -> Shape:
    """What one example looks like going in: z as nz×1×1 for G, an image for D."""
    if isinstance(model, Generator):
        return (cfg.nz, 1, 1)
    return (cfg.channels, cfg.image_size, cfg.image_size)


def layer_table(model: nn.Module, cfg: DCGANConfig, batch: int = 1) -> list[LayerRow]:
    """One row per layer of model.main, shapes from the arithmetic module."""
    rows, shape = [], input_shape(model, cfg)
    for index, module in enumerate(model.main):
        row = _row_for(index, module, shape, batch)
        rows.append(row)
        shape = row.out_shape
    return rows


def table_rows_as_dicts(rows: list[LayerRow], check: ShapeCheck | None = None) -> list[dict]:
    """Flat records for st.dataframe (keys are stable identifiers; the page labels them).

    Non-conv layers have no kernel/stride/padding: those cells are empty strings. With a
    ShapeCheck, each record also gets the forward pass's shape and whether it matches.
    """

    def cell(value: int | None) -> str:
        return "" if value is None else str(value)

    records = []
    for j, row in enumerate(rows):
        record = {
            "index": row.index,
            "layer": f"{row.type} ({row.detail})" if row.detail else row.type,
            "kernel": cell(row.kernel),
            "stride": cell(row.stride),
            "padding": cell(row.padding),
            "in_shape": format_shape(row.in_shape),
            "out_shape": format_shape(row.out_shape),
        }
        if check is not None:
            actual = check.actual[j] if j < len(check.actual) else None
            record["forward_shape"] = format_shape(actual) if actual is not None else ""
            record["match"] = actual == row.out_shape
        record["params"] = row.params
        record["formula"] = row.formula_text or ""
        records.append(record)
    return records


@dataclass
class ShapeCheck:
    expected: list[Shape]  # from the arithmetic (layer_table)
    actual: list[Shape]  # from forward hooks, batch dimension removed
    batch: int
    output_shape: Shape  # what model(x) returned, with the batch dimension

    @property
    def mismatches(self) -> list[int]:
        return [i for i, (e, a) in enumerate(zip(self.expected, self.actual, strict=False)) if e != a] + (
            [len(self.actual)] if len(self.expected) != len(self.actual) else []
        )

    @property
    def ok(self) -> bool:
        return not self.mismatches


def forward_shapes(model: nn.Module, cfg: DCGANConfig, batch: int = 2) -> tuple[list[Shape], Shape]:
    """Each layer's output shape (without batch) from a real forward pass, and the model's output shape.

    Runs in eval mode without gradients (so batchnorm accepts any batch) on the model's device.
    """
    shapes: list[Shape] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape[1:]))) for m in model.main]
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            output = model(torch.randn(batch, *input_shape(model, cfg), device=device))
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return shapes, tuple(output.shape)


def check_layer_table(
    model: nn.Module, cfg: DCGANConfig, rows: list[LayerRow] | None = None, batch: int = 2
) -> ShapeCheck:
    """Compare the arithmetic's shapes with a real forward pass."""
    rows = rows if rows is not None else layer_table(model, cfg, batch)
    actual, output_shape = forward_shapes(model, cfg, batch)
    return ShapeCheck(expected=[row.out_shape for row in rows], actual=actual, batch=batch, output_shape=output_shape)


def parameter_counts(cfg: DCGANConfig) -> tuple[int, int]:
    """(G, D) parameter counts without allocating weights (modules built on the meta device)."""
    with torch.device("meta"):
        netG, netD = Generator(cfg), Discriminator(cfg)
    return count_parameters(netG), count_parameters(netD)


@dataclass
class NetSummary:
    """What the architecture lesson shows about one network."""

    rows: list[LayerRow]
    params: int
    check: ShapeCheck
    code: str  # print(model)


def summarize_models(cfg: DCGANConfig, batch: int = 2, seed: int = 0) -> dict[str, NetSummary]:
    """{'G': ..., 'D': ...}: layer tables, parameter counts and a forward-pass check on the CPU."""
    netG, netD = build_models(cfg, seed=seed)
    summary = {}
    for key, model in (("G", netG), ("D", netD)):
        rows = layer_table(model, cfg, batch)
        summary[key] = NetSummary(
            rows=rows,
            params=count_parameters(model),
            check=check_layer_table(model, cfg, rows, batch),
            code=repr(model),
        )
    return summary
