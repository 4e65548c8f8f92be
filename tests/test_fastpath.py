"""The fast training step: eager is bit-identical to the step written out here; capture and
compile fall back to eager with a reason and leave the run exactly where it was; no host
reads inside a step; bf16 autocast really applies."""

import pytest
import torch
import torch.nn.functional as F
from tiny_runs import TINY, tiny_images

from dcgan_core import fastpath
from dcgan_core.checkpoint import load_checkpoint, save_checkpoint
from dcgan_core.config import TrainConfig
from dcgan_core.i18n import LabError
from dcgan_core.models import Discriminator, build_models
from dcgan_core.step import make_adam
from dcgan_core.trainer import Trainer

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def images():
    return tiny_images(48, seed=1)


def config(**overrides):
    values = dict(model=TINY, batch_size=8, device="cpu", seed=4, max_steps=10, mode="eager")
    values.update(overrides)
    return TrainConfig(**values)


def weights(trainer):
    return [t.clone() for m in (trainer.netG, trainer.netD) for t in m.state_dict().values()]


def assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=False):
        assert torch.equal(x, y)


def test_eager_step_is_bit_identical_to_the_step_written_out(images):
    cfg = config()
    trainer = Trainer(cfg, images)
    assert (trainer.mode_used, trainer.mode_reason) == ("eager", "")

    netG, netD = build_models(TINY, seed=cfg.seed)
    opt_g = make_adam(netG.parameters(), cfg.lr, cfg.beta1, cfg.beta2, torch.device("cpu"))
    opt_d = make_adam(netD.parameters(), cfg.lr, cfg.beta1, cfg.beta2, torch.device("cpu"))
    rng = torch.Generator().manual_seed(cfg.seed)
    torch.randn(cfg.n_fixed, TINY.nz, 1, 1, generator=rng)  # the fixed noise is drawn first
    for _ in range(3):
        index = torch.randint(images.shape[0], (cfg.batch_size,), generator=rng)
        real = images.index_select(0, index)
        noise = torch.randn(cfg.batch_size, TINY.nz, 1, 1, generator=rng)
        fake = netG(noise)
        real_logits, fake_logits = netD(real), netD(fake.detach())
        loss_d = F.binary_cross_entropy_with_logits(
            real_logits, torch.ones_like(real_logits)
        ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        netD.requires_grad_(False)
        gen_logits = netD(fake)
        loss_g = F.binary_cross_entropy_with_logits(gen_logits, torch.ones_like(gen_logits))
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        netD.requires_grad_(True)
        expected = torch.stack(
            [
                loss_d,
                loss_g,
                torch.sigmoid(real_logits).mean(),
                torch.sigmoid(fake_logits).mean(),
                torch.sigmoid(gen_logits).mean(),
            ]
        ).detach()
        assert torch.equal(trainer.step(), expected)
    assert_same(weights(trainer), [t for m in (netG, netD) for t in m.state_dict().values()])


def test_auto_is_eager_off_cuda_and_a_cuda_graph_request_falls_back_with_a_reason(images):
    auto = Trainer(config(mode="auto"), images)
    assert (auto.mode_used, auto.mode_reason) == ("eager", "")
    graph = Trainer(config(mode="cuda_graph"), images)
    assert graph.mode_used == "eager" and "CUDA" in graph.mode_reason and "cpu" in graph.mode_reason
    eager = Trainer(config(), images)
    for _ in range(2):
        assert torch.equal(graph.step(), eager.step())
    assert_same(weights(graph), weights(eager))


def test_ddp_wrapped_steps_stay_eager(images):
    trainer = Trainer(config(), images)
    parts = fastpath.parts_of(trainer)
    parts.wrapped = (trainer.netG, trainer.netD)
    _, mode_used, reason = fastpath.make_fast_step(parts, mode="cuda_graph")
    assert mode_used == "eager" and "DistributedDataParallel" in reason


def compile_that_fails_mid_step():
    """A stand-in for torch.compile whose compiled modules run until D's third call in a
    step (inside G's update, after D's Adam step has changed weights and moments), then break."""
    calls = {"D": 0}

    def fake_compile(module, **kwargs):
        def compiled(*args):
            if isinstance(module, Discriminator):
                calls["D"] += 1
                if calls["D"] == 3:
                    raise RuntimeError("inductor exploded")
            return module(*args)

        compiled.parameters = module.parameters
        return compiled

    return fake_compile


@pytest.mark.parametrize("warm_steps", [0, 2])
def test_a_failing_compile_falls_back_and_undoes_its_trial_step(images, monkeypatch, warm_steps):
    reference, trainer = Trainer(config(), images), Trainer(config(), images)
    for _ in range(warm_steps):  # with and without Adam state to restore
        reference.step(), trainer.step()
    monkeypatch.setattr(torch, "compile", compile_that_fails_mid_step())
    trainer.config = trainer.config.__class__(**{**trainer.config.__dict__, "mode": "compile"})
    trainer.build_step()
    assert trainer.mode_used == "eager" and "torch.compile failed" in trainer.mode_reason
    assert "inductor exploded" in trainer.mode_reason
    for _ in range(2):
        assert torch.equal(trainer.step(), reference.step())
    assert_same(weights(trainer), weights(reference))


def test_a_working_compile_runs_its_trial_step_and_puts_everything_back(images, monkeypatch):
    monkeypatch.setattr(torch, "compile", lambda fn, **kwargs: fn)  # 'compiles' to itself
    compiled, eager = Trainer(config(mode="compile"), images), Trainer(config(), images)
    assert (compiled.mode_used, compiled.mode_reason) == ("compile", "")
    for _ in range(3):
        assert torch.equal(compiled.step(), eager.step())
    assert_same(weights(compiled), weights(eager))
    # a new lr rebuilds a non-eager step (a CUDA graph would hold the old one)
    before = compiled._fast_step
    compiled.set_hyperparameters(lr=1e-3)
    assert compiled._fast_step is not before and compiled.mode_used == "compile"
    assert all(g["lr"] == 1e-3 for opt in (compiled.opt_g, compiled.opt_d) for g in opt.param_groups)


def test_no_host_reads_or_syncs_inside_a_step(images, monkeypatch):
    for amp in (False, True):
        trainer = Trainer(config(amp=amp), images)
        trainer.step()  # warm-up outside the guard

        def host_read(*args, **kwargs):
            raise AssertionError("the step waited for the device")

        with monkeypatch.context() as patch:
            for name in ("item", "tolist", "numpy", "cpu", "__bool__", "__float__", "__int__"):
                patch.setattr(torch.Tensor, name, host_read)
            patch.setattr(torch.cuda, "synchronize", host_read)
            metrics = [trainer.step() for _ in range(2)]
        assert torch.isfinite(torch.stack(metrics)).all()


def test_bf16_autocast_applies_to_the_forward_passes(images):
    fp32, bf16 = Trainer(config(), images), Trainer(config(amp=True), images)
    a, b = fp32.step(), bf16.step()
    assert b.dtype == torch.float32 and torch.isfinite(b).all()
    assert not torch.equal(a, b)  # bf16 matmuls round differently
    torch.testing.assert_close(a, b, rtol=0.05, atol=0.05)  # but compute the same thing
    assert all(p.dtype == torch.float32 for p in bf16.netG.parameters())  # weights stay fp32


def test_unknown_modes_are_refused():
    with pytest.raises(LabError) as err:
        config(mode="turbo")
    assert err.value.key == "scaling.bad_mode" and "cuda_graph" in str(err.value)


def test_a_checkpoint_from_a_captured_run_trains_eagerly_on_the_cpu(images, tmp_path):
    """A CUDA-graph run saves Adam groups with capturable=True; on a CPU that flag must go."""
    trainer = Trainer(config(), images)
    trainer.step()
    for opt in (trainer.opt_g, trainer.opt_d):
        for group in opt.param_groups:
            group["capturable"] = True
    save_checkpoint(tmp_path / "c.pt", **trainer.state())
    resumed = Trainer(config(mode="auto"), images, checkpoint=load_checkpoint(tmp_path / "c.pt"))
    assert not any(g["capturable"] for opt in (resumed.opt_g, resumed.opt_d) for g in opt.param_groups)
    metrics = torch.stack([resumed.step() for _ in range(2)])
    assert torch.isfinite(metrics).all() and resumed.step_count == 3
