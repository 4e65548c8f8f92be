"""Layer tables: the arithmetic's shapes equal a real forward pass, parameter counts equal
PyTorch's, and the 64×64×3 nets equal pytorch/examples' DCGAN (rebuilt here as the reference)."""

import itertools

import pytest
import torch
from torch import nn

from dcgan_core.i18n import load_catalog
from dcgan_core.layers import (
    check_layer_table,
    forward_shapes,
    latex_to_text,
    layer_table,
    parameter_counts,
    summarize_models,
    table_rows_as_dicts,
)
from dcgan_core.models import DCGANConfig, Discriminator, Generator, build_models, count_parameters
from dcgan_core.presets import preset_by_id
from dcgan_core.viz.architecture import architecture_figure, stages_from_rows

pytestmark = pytest.mark.usefixtures("one_thread")


def reference_nets(nz=100, ngf=64, ndf=64, nc=3):
    """pytorch/examples dcgan/main.py, layer for layer (its D ends in a Sigmoid)."""
    netG = nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
        nn.BatchNorm2d(ngf * 8),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
        nn.BatchNorm2d(ngf * 4),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
        nn.BatchNorm2d(ngf * 2),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
        nn.BatchNorm2d(ngf),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
        nn.Tanh(),
    )
    netD = nn.Sequential(
        nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
        nn.BatchNorm2d(ndf * 2),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
        nn.BatchNorm2d(ndf * 4),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False),
        nn.BatchNorm2d(ndf * 8),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),
        nn.Sigmoid(),
    )
    return netG, netD


def hook_shapes(seq, x):
    shapes = []
    for layer in seq:
        x = layer(x)
        shapes.append(tuple(x.shape[1:]))
    return shapes


def test_reference_64x64x3_counts_and_shapes():
    cfg = DCGANConfig()
    netG, netD = build_models(cfg)
    refG, refD = reference_nets()
    assert count_parameters(netG) == count_parameters(refG) == 3_576_704  # the counts pytorch/examples' nets have
    assert count_parameters(netD) == count_parameters(refD) == 2_765_568
    assert parameter_counts(cfg) == (count_parameters(refG), count_parameters(refD))
    with torch.no_grad():
        refG.eval(), refD.eval()
        g_shapes = hook_shapes(refG, torch.randn(2, 100, 1, 1))
        d_shapes = hook_shapes(refD, torch.randn(2, 3, 64, 64))
    assert [row.out_shape for row in layer_table(netG, cfg)] == g_shapes
    assert [row.out_shape for row in layer_table(netD, cfg)] == d_shapes[:-1]  # ours returns logits: no Sigmoid
    assert [row.params for row in layer_table(netG, cfg)] == [sum(p.numel() for p in m.parameters()) for m in refG]


VARIANTS = [
    {},
    {"batchnorm": "none"},
    {"batchnorm": "all"},
    {"resampling": "pooling"},
    {"fc_hidden": True},
    {"g_activation": "leaky_relu", "d_activation": "relu", "g_output": "linear"},
]


@pytest.mark.parametrize("size, channels", list(itertools.product([32, 64, 128], [1, 3])))
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: ",".join(f"{k}={x}" for k, x in v.items()) or "paper")
def test_table_matches_forward_hooks_and_parameter_counts(size, channels, variant):
    cfg = DCGANConfig(image_size=size, channels=channels, nz=12, ngf=4, ndf=4, **variant)
    for model in Generator(cfg), Discriminator(cfg):
        rows = layer_table(model, cfg, batch=3)
        actual, output_shape = forward_shapes(model, cfg, batch=3)
        assert [row.out_shape for row in rows] == actual
        assert all(rows[j].in_shape == rows[j - 1].out_shape for j in range(1, len(rows)))
        assert sum(row.params for row in rows) == count_parameters(model)
        assert all(row.values == 3 * torch.Size(row.out_shape).numel() for row in rows)
        check = check_layer_table(model, cfg, rows, batch=3)
        assert check.ok and check.mismatches == []
        if isinstance(model, Generator):
            assert output_shape == (3, channels, size, size) == check.output_shape
        else:
            assert output_shape == (3,)
    assert model.training  # the check restores training mode


def test_formulas_are_the_arithmetic_modules_and_match_shapes():
    cfg = DCGANConfig(image_size=128, channels=1, resampling="strided")
    netG, netD = build_models(cfg)
    catalog = load_catalog("en")
    for rows in layer_table(netG, cfg), layer_table(netD, cfg):
        conv_rows = [r for r in rows if r.type in ("Conv2d", "ConvTranspose2d")]
        assert conv_rows and all(r.has_arithmetic for r in conv_rows)
        for row in conv_rows:
            assert row.explanation.result == row.out_shape[1]
            assert row.formula == row.explanation.substituted
            assert row.formula_text.endswith(f"= {row.out_shape[1]}") and "\\" not in row.formula_text
            assert row.relationship_key in catalog
            preset = preset_by_id(row.preset)
            assert preset is not None and (preset.k, preset.s, preset.p) == (row.kernel, row.stride, row.padding)
        assert all(not r.has_arithmetic for r in rows if r.type not in ("Conv2d", "ConvTranspose2d", "MaxPool2d"))
    pooled = DCGANConfig(image_size=32, resampling="pooling")
    pool_rows = [r for r in layer_table(Discriminator(pooled), pooled) if r.type == "MaxPool2d"]
    assert pool_rows and all(r.relationship_key == "arith.rel7" and r.lesson == "output_size" for r in pool_rows)


def test_latex_to_text():
    assert (
        latex_to_text(r"o = \left\lfloor \frac{64 + 2\cdot1 - 1\cdot(4-1) - 1}{2} \right\rfloor + 1 = 32")
        == "o = ⌊(64 + 2·1 − 1·(4−1) − 1) / 2⌋ + 1 = 32"
    )
    assert (
        latex_to_text(r"o' = (4 - 1)\cdot2 - 2\cdot1 + 1\cdot(4-1) + 0 + 1 = 8")
        == "o′ = (4 − 1)·2 − 2·1 + 1·(4−1) + 0 + 1 = 8"
    )


def test_table_dicts_and_summary():
    cfg = DCGANConfig(image_size=32, channels=1, ngf=8, ndf=8)
    summary = summarize_models(cfg)
    records = table_rows_as_dicts(summary["G"].rows, summary["G"].check)
    assert len(records) == len(summary["G"].rows)
    assert all(r["match"] and r["forward_shape"] == r["out_shape"] for r in records)
    assert records[0]["layer"] == "ConvTranspose2d (100 → 32)" and records[0]["kernel"] == "4"
    assert records[1]["kernel"] == "" and records[1]["formula"] == ""
    g, d = build_models(cfg)
    assert (summary["G"].params, summary["D"].params) == (count_parameters(g), count_parameters(d))
    assert "ConvTranspose2d" in summary["G"].code


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: ",".join(f"{k}={x}" for k, x in v.items()) or "paper")
def test_figure_has_a_block_per_feature_map(variant):
    cfg = DCGANConfig(image_size=64, ngf=8, ndf=8, **variant)
    for net, model in (("G", Generator(cfg)), ("D", Discriminator(cfg))):
        rows = layer_table(model, cfg)
        stages = stages_from_rows(rows, net)
        assert stages[0].shape == rows[0].in_shape and stages[-1].shape == rows[-1].out_shape
        assert sum(len(s.rows) for s in stages) == len(rows)  # every layer drawn exactly once
        for orientation in ("horizontal", "vertical"):
            figure = architecture_figure(rows, net, "zh", orientation=orientation)
            assert len(figure.layout.shapes) == 3 * len(stages)  # three visible faces per block
            labels = [a.text for a in figure.layout.annotations]
            for stage in stages:
                assert f"<b>{'×'.join(map(str, stage.shape))}</b>" in labels
            assert ("噪声 z" if net == "G" else "图像") in labels
            arrows = [a for a in figure.layout.annotations if a.showarrow]
            assert len(arrows) == len(stages) - 1
