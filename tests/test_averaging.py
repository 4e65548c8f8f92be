"""The moving average of G's weights: its formula against a hand computation, what the trainer shows
with it, and that checkpoints carry it."""

import pytest
import torch
from tiny_runs import TINY, tiny_config, tiny_images
from torch import nn

from dcgan_core.averaging import WeightAverage, step_weight
from dcgan_core.checkpoint import load_checkpoint, load_generator, save_checkpoint
from dcgan_core.config import TrainConfig
from dcgan_core.i18n import LabError
from dcgan_core.trainer import Trainer

pytestmark = pytest.mark.usefixtures("one_thread")


def test_average_is_the_decay_weighted_mean_of_the_weights_seen():
    decay = 0.9
    net = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    average = WeightAverage(net, decay)
    seen = []
    gen = torch.Generator().manual_seed(0)
    for _ in range(5):
        with torch.no_grad():
            for p in net.parameters():
                p.copy_(torch.randn(p.shape, generator=gen))
        net(torch.randn(4, 3, generator=gen))  # moves batchnorm's running statistics
        seen.append({k: v.clone() for k, v in net.state_dict().items()})
        average.update(net)
    t = len(seen)
    weights = torch.tensor([decay ** (t - 1 - i) for i in range(t)], dtype=torch.float64)
    for name, value in average.module.state_dict().items():
        if value.is_floating_point():
            by_hand = sum(w * s[name].double() for w, s in zip(weights, seen, strict=False)) / weights.sum()
            torch.testing.assert_close(value.double(), by_hand, rtol=1e-6, atol=1e-6)
        else:  # the batch counter is copied
            assert torch.equal(value, seen[-1][name])
    assert average.updates == 5


def test_first_update_copies_and_the_average_never_trains():
    assert step_weight(0.99, 1) == 0.0
    assert step_weight(0.99, 10_000) == pytest.approx(0.99)
    net = nn.Linear(2, 2)
    average = WeightAverage(net, 0.99)
    with torch.no_grad():
        net.weight.add_(1.0)
    average.update(net)
    assert torch.equal(average.module.weight, net.weight)
    assert not average.module.training and not any(p.requires_grad for p in average.module.parameters())


@pytest.mark.parametrize("decay", [-0.1, 1.0, 1.5, float("nan")])
def test_bad_decay_is_refused_with_a_sentence(decay):
    with pytest.raises(LabError, match="decay"):
        tiny_config(ema=decay)


def test_trainer_shows_the_average_and_trains_the_generator():
    images = tiny_images(32, seed=1)
    plain = Trainer(tiny_config(seed=3), images)
    averaged = Trainer(tiny_config(seed=3, ema=0.9), images)
    assert plain.average is None and plain.shown_generator is plain.netG
    for _ in range(4):
        plain.step()
        averaged.step()
    # The average changes nothing about training: the same seed trains the same G.
    for a, b in zip(plain.netG.parameters(), averaged.netG.parameters(), strict=False):
        torch.testing.assert_close(a, b)
    z = torch.randn(6, TINY.nz, 1, 1, generator=torch.Generator().manual_seed(4))
    assert averaged.average.updates == 4
    assert torch.equal(averaged.samples(z), averaged.average.module(z))
    assert not torch.allclose(averaged.samples(z), plain.samples(z))
    assert averaged.netG.training  # sampling leaves the trained G in training mode


def test_checkpoint_saves_and_resumes_the_average(tmp_path):
    images = tiny_images(32, seed=1)
    trainer = Trainer(tiny_config(seed=5, ema=0.95), images)
    for _ in range(3):
        trainer.step()
    path = save_checkpoint(tmp_path / "checkpoint.pt", **trainer.state())
    ckpt = load_checkpoint(path)
    assert ckpt.generator_average["updates"] == 3 and ckpt.generator_average["decay"] == 0.95
    z = torch.randn(5, TINY.nz, 1, 1, generator=torch.Generator().manual_seed(6))
    shown, _ = load_generator(path)  # other pages get the generator the run showed
    assert torch.equal(shown(z), trainer.samples(z))
    trained = ckpt.build_generator(averaged=False).eval()
    trainer.netG.eval()
    assert torch.equal(trained(z), trainer.netG(z))
    trainer.netG.train()

    resumed = Trainer(TrainConfig.from_dict({**ckpt.train_config, "model": TINY.to_dict()}), images, checkpoint=ckpt)
    assert resumed.config.ema == 0.95 and resumed.average.updates == 3
    assert torch.equal(resumed.samples(z), trainer.samples(z))
    resumed.step()
    trainer.step()
    assert resumed.average.updates == trainer.average.updates == 4
    torch.testing.assert_close(resumed.samples(z), trainer.samples(z))


def test_a_run_without_average_saves_none(tmp_path):
    trainer = Trainer(tiny_config(seed=5), tiny_images(16))
    trainer.step()
    ckpt = load_checkpoint(save_checkpoint(tmp_path / "c.pt", **trainer.state()))
    assert ckpt.generator_average is None
    resumed_with = Trainer(tiny_config(seed=5, ema=0.9), tiny_images(16), checkpoint=ckpt)
    z = torch.randn(3, TINY.nz, 1, 1)
    assert resumed_with.average.updates == 0  # starts from the loaded G
    assert torch.equal(resumed_with.samples(z), trainer.samples(z))
