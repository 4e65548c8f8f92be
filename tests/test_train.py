"""The training step against a plain PyTorch DCGAN step, hyperparameter changes,
seeding, the no-host-sync promise, defaults and the curve diagnosis."""

import math

import numpy as np
import pytest
import torch
from tiny_runs import TINY
from torch import nn

from dcgan_core.config import METRICS, PAPER_BATCH, PAPER_BETA1, PAPER_LR, TrainConfig
from dcgan_core.i18n import LabError
from dcgan_core.models import build_models
from dcgan_core.recipes import classroom_defaults, paper_defaults
from dcgan_core.trainer import Trainer, diagnose

pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_config(**overrides):
    values = dict(model=TINY, batch_size=8, device="cpu", seed=3, max_steps=10)
    values.update(overrides)
    return TrainConfig(**values)


@pytest.fixture(scope="module")
def images():
    g = torch.Generator().manual_seed(0)
    return torch.rand(64, 1, 32, 32, generator=g) * 2 - 1


def test_a_few_steps_give_finite_losses_and_probabilities(images):
    trainer = Trainer(tiny_config(), images)
    rows = torch.stack([trainer.step() for _ in range(4)])
    assert rows.shape == (4, len(METRICS))
    assert torch.isfinite(rows).all()
    assert (rows[:, :2] > 0).all()  # BCE losses are positive
    assert ((rows[:, 2:] > 0) & (rows[:, 2:] < 1)).all()  # probabilities
    assert trainer.step_count == 4
    assert trainer.epoch == pytest.approx(4 * 8 / 64)


def test_step_matches_the_pytorch_example_recipe(images):
    """One step of ours equals the textbook step: Sigmoid + BCELoss, separate real and
    fake D passes, plain (non-fused) Adam, G trained with labels 'real'."""
    cfg = tiny_config()
    trainer = Trainer(cfg, images)
    # Replay the trainer's random draws to get the same minibatch and noise.
    rng = torch.Generator().manual_seed(cfg.seed)
    torch.randn(cfg.n_fixed, TINY.nz, 1, 1, generator=rng)  # the fixed noise comes first
    index = torch.randint(images.shape[0], (cfg.batch_size,), generator=rng)
    noise = torch.randn(cfg.batch_size, TINY.nz, 1, 1, generator=rng)
    real = images[index]

    netG, netD = build_models(TINY, seed=cfg.seed)
    opt_d = torch.optim.Adam(netD.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999), foreach=False)
    opt_g = torch.optim.Adam(netG.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999), foreach=False)
    bce = nn.BCELoss()
    netD.zero_grad()
    out_real = torch.sigmoid(netD(real))
    err_real = bce(out_real, torch.ones_like(out_real))
    err_real.backward()
    fake = netG(noise)
    out_fake = torch.sigmoid(netD(fake.detach()))
    err_fake = bce(out_fake, torch.zeros_like(out_fake))
    err_fake.backward()
    opt_d.step()
    netG.zero_grad()
    out_gen = torch.sigmoid(netD(fake))
    err_g = bce(out_gen, torch.ones_like(out_gen))
    err_g.backward()
    opt_g.step()

    metrics = trainer.step()
    expected = torch.stack([err_real + err_fake, err_g, out_real.mean(), out_fake.mean(), out_gen.mean()]).detach()
    torch.testing.assert_close(metrics, expected, rtol=1e-4, atol=1e-5)
    for ours, theirs in zip(trainer.netG.state_dict().values(), netG.state_dict().values(), strict=False):
        torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-6)
    for ours, theirs in zip(trainer.netD.state_dict().values(), netD.state_dict().values(), strict=False):
        torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-6)


def test_lr_and_beta1_changes_reach_both_optimizers(images):
    trainer = Trainer(tiny_config(), images)
    trainer.step()
    trainer.set_hyperparameters(lr=1e-3, beta1=0.9)
    for opt in (trainer.opt_g, trainer.opt_d):
        for group in opt.param_groups:
            assert group["lr"] == 1e-3 and group["betas"] == (0.9, 0.999)
    assert (trainer.config.lr, trainer.config.beta1) == (1e-3, 0.9)
    # and they act: the next step moves the weights more than a step at lr 2e-4 does
    slow = Trainer(tiny_config(), images)
    slow.step()
    before_fast = [p.detach().clone() for p in trainer.netG.parameters()]
    before_slow = [p.detach().clone() for p in slow.netG.parameters()]
    trainer.step()
    slow.step()
    moved_fast = sum((p - b).abs().sum() for p, b in zip(trainer.netG.parameters(), before_fast, strict=False))
    moved_slow = sum((p - b).abs().sum() for p, b in zip(slow.netG.parameters(), before_slow, strict=False))
    assert moved_fast > 2 * moved_slow
    with pytest.raises(LabError):
        trainer.set_hyperparameters(lr=-1)
    with pytest.raises(LabError):
        trainer.set_hyperparameters(beta1=1.0)


def test_same_seed_same_run_other_seed_other_run(images):
    def run(seed):
        trainer = Trainer(tiny_config(seed=seed), images)
        metrics = [trainer.step() for _ in range(3)]
        return torch.stack(metrics), trainer.samples()

    m1, s1 = run(5)
    m2, s2 = run(5)
    m3, s3 = run(6)
    assert torch.equal(m1, m2) and torch.equal(s1, s2)
    assert not torch.equal(s1, s3)


def test_step_never_reads_a_tensor_on_the_host(images, monkeypatch):
    trainer = Trainer(tiny_config(), images)
    trainer.step()  # warm-up outside the guard

    def host_read(*args, **kwargs):
        raise AssertionError("step() read a tensor value on the host")

    for name in ("item", "tolist", "numpy", "__bool__", "__float__", "__int__"):
        monkeypatch.setattr(torch.Tensor, name, host_read)
    metrics = [trainer.step() for _ in range(2)]
    monkeypatch.undo()
    assert torch.isfinite(torch.stack(metrics)).all()


def test_images_of_the_wrong_shape_are_refused():
    with pytest.raises(LabError) as err:
        Trainer(tiny_config(), torch.zeros(10, 3, 32, 32))
    assert "1×32×32" in str(err.value) and err.value.key == "trainer.data_shape"


def test_config_round_trip_and_validation():
    cfg = tiny_config(lr=1e-3)
    again = TrainConfig.from_dict(cfg.to_dict())
    assert again == cfg
    assert cfg.dataset.image_size == 32 and cfg.dataset.channels == 1  # follows the model
    with pytest.raises(LabError):
        tiny_config(batch_size=0)
    with pytest.raises(LabError):
        tiny_config(lr=float("nan"))


def test_defaults_cpu_classroom_vs_paper_on_gpu(monkeypatch):
    cpu = classroom_defaults("cpu")
    assert cpu.model.image_size == 32 and cpu.model.channels == 1
    assert cpu.model.ngf < 64 and cpu.model.ndf < 64 and cpu.batch_size < PAPER_BATCH
    assert cpu.beta1 == PAPER_BETA1 and cpu.lr > PAPER_LR  # a quicker rate on the CPU: tests/test_classroom_recipe.py
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    gpu = classroom_defaults("auto")
    assert (gpu.model.ngf, gpu.model.ndf, gpu.model.nz) == (64, 64, 100)
    assert (gpu.batch_size, gpu.lr, gpu.beta1) == (128, 2e-4, 0.5)
    paper = paper_defaults()
    assert (paper.model.image_size, paper.batch_size, paper.lr, paper.beta1) == (64, 128, 2e-4, 0.5)


def history(loss_d, loss_g, d_real, d_fake):
    n = len(loss_d)
    return np.column_stack([np.arange(1, n + 1), loss_d, loss_g, d_real, d_fake, d_fake])


def test_diagnose_spots_a_winning_discriminator_and_explosions():
    n = 120
    healthy = history(np.full(n, 1.2), np.full(n, 1.0), np.full(n, 0.6), np.full(n, 0.4))
    assert diagnose(healthy) == []
    d_wins = history(np.linspace(0.5, 0.01, n), np.linspace(2, 9, n), np.full(n, 0.99), np.full(n, 0.01))
    assert "trainer.warn_d_wins" in diagnose(d_wins)
    exploding = healthy.copy()
    exploding[-1, 2] = math.inf
    assert diagnose(exploding) == ["trainer.warn_exploding"]
    huge = healthy.copy()
    huge[-5:, 1] = 1e3
    assert "trainer.warn_exploding" in diagnose(huge)
    assert diagnose(np.zeros((0, 6))) == []
