"""The CPU classroom recipe that benchmarks/time_to_digits.py measured, the paper's recipe one call
away, how the page names a recipe and lists its differences from the paper, and channels-last."""

from dataclasses import replace

import pytest
import torch
from tiny_runs import tiny_config, tiny_images

from dcgan_core.config import PAPER_BATCH, PAPER_BETA1, PAPER_LR
from dcgan_core.i18n import translate
from dcgan_core.recipes import (
    classroom_defaults,
    differences_from_paper,
    paper_defaults,
    paper_recipe_at_classroom_size,
    recipe_name,
    with_paper_recipe,
)
from dcgan_core.trainer import Trainer

pytestmark = pytest.mark.usefixtures("one_thread")


def test_cpu_classroom_default_is_the_configuration_the_benchmark_measured():
    """benchmarks/results/time_to_digits.jsonl measured exactly this; change it only with a new record."""
    cpu = classroom_defaults("cpu")
    model = cpu.model
    assert (model.image_size, model.channels, model.nz, model.ngf, model.ndf) == (32, 1, 64, 32, 16)
    assert (model.batchnorm, model.g_activation, model.d_activation) == ("paper", "relu", "leaky_relu")
    assert (cpu.batch_size, cpu.lr, cpu.beta1, cpu.beta2, cpu.ema) == (32, 1e-3, 0.5, 0.999, 0.0)
    assert cpu.channels_last is True and cpu.dataset.source == "bundled" and cpu.mode == "auto"


def test_paper_recipe_keeps_the_size_and_trains_the_papers_way():
    cpu = replace(classroom_defaults("cpu"), ema=0.98)
    paper = with_paper_recipe(cpu)
    assert (paper.lr, paper.beta1, paper.beta2, paper.ema) == (PAPER_LR, PAPER_BETA1, 0.999, 0.0)
    assert (paper.model, paper.batch_size, paper.dataset) == (cpu.model, cpu.batch_size, cpu.dataset)
    assert Trainer(with_paper_recipe(tiny_config(ema=0.9)), tiny_images(16)).average is None


def test_the_benchmarks_paper_recipe_is_the_earlier_cpu_default():
    earlier = paper_recipe_at_classroom_size("cpu")
    model = earlier.model
    assert (model.image_size, model.nz, model.ngf, model.ndf) == (32, 64, 32, 32)
    assert (earlier.batch_size, earlier.lr, earlier.beta1, earlier.ema) == (64, PAPER_LR, PAPER_BETA1, 0.0)
    assert earlier.dataset == classroom_defaults("cpu").dataset


def test_recipe_names():
    cpu = classroom_defaults("cpu")
    assert recipe_name(cpu, "cpu") == "classroom"
    assert recipe_name(with_paper_recipe(cpu), "cpu") == "paper"
    assert recipe_name(paper_defaults(), "cpu") == "paper"
    assert recipe_name(replace(cpu, lr=3e-4), "cpu") == "custom"
    assert recipe_name(replace(with_paper_recipe(cpu), ema=0.98), "cpu") == "custom"


def test_differences_from_the_paper_read_in_both_languages():
    assert differences_from_paper(paper_defaults()) == []
    config = replace(classroom_defaults("cpu"), ema=0.98)
    found = dict(differences_from_paper(config))
    assert found["recipes.diff_lr"] == {"value": "0.001", "paper": "0.0002"}
    assert found["recipes.diff_ema"] == {"decay": "0.98"}
    assert found["recipes.diff_widths"] == {"ngf": 32, "ndf": 16, "paper": 64}
    assert found["recipes.diff_batch"] == {"value": 32, "paper": PAPER_BATCH}
    assert "recipes.diff_beta1" not in found and "recipes.diff_beta2" not in found
    for lang in ("en", "zh"):
        text = translate("recipes.separator", lang).join(translate(k, lang, **p) for k, p in found.items())
        assert "0.001" in text and "0.0002" in text and "0.98" in text and "{" not in text


def test_channels_last_trains_the_same_networks_up_to_rounding():
    images = tiny_images(32, seed=1)
    plain, fast = Trainer(tiny_config(seed=4), images), Trainer(tiny_config(seed=4, channels_last=True), images)
    conv = next(m for m in fast.netD.modules() if isinstance(m, torch.nn.Conv2d) and m.in_channels > 1)
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    for _ in range(3):
        torch.testing.assert_close(fast.step(), plain.step(), rtol=1e-4, atol=1e-5)
    for a, b in zip(fast.netG.state_dict().values(), plain.netG.state_dict().values(), strict=False):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-5)
