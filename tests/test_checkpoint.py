"""Checkpoints: round trip, atomic writes, and every kind of bad file refused with its own message."""

import os
import pickle

import pytest
import torch
from tiny_runs import TINY, tiny_images

from dcgan_core import checkpoint as ckpt_module
from dcgan_core.checkpoint import load_checkpoint, load_generator, save_checkpoint
from dcgan_core.config import TrainConfig
from dcgan_core.i18n import LabError
from dcgan_core.models import DCGANConfig, build_models
from dcgan_core.trainer import Trainer

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def trainer():
    t = Trainer(TrainConfig(model=TINY, batch_size=8, device="cpu", seed=2), tiny_images(32, seed=1))
    for _ in range(2):
        t.step()
    return t


def save(trainer, path):
    return save_checkpoint(path, **trainer.state(metrics={"loss_d": 1.0}))


def test_round_trip_gives_identical_generator_outputs(trainer, tmp_path):
    path = save(trainer, tmp_path / "checkpoint.pt")
    netG, cfg = load_generator(path)
    assert cfg == TINY and not netG.training
    z = torch.randn(5, TINY.nz, 1, 1, generator=torch.Generator().manual_seed(9))
    assert torch.equal(netG(z), trainer.samples(z))
    ckpt = load_checkpoint(path)
    assert ckpt.step == 2 and ckpt.metrics == {"loss_d": 1.0}
    assert torch.equal(ckpt.fixed_noise, trainer.fixed_noise)
    assert TrainConfig.from_dict(ckpt.train_config) == trainer.config


def test_the_file_loads_with_weights_only(trainer, tmp_path):
    path = save(trainer, tmp_path / "c.pt")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    assert payload["format"] == ckpt_module.FORMAT


def test_resume_continues_exactly(trainer, tmp_path):
    """Resuming from a checkpoint gives the same next step as carrying on."""
    path = save(trainer, tmp_path / "c.pt")
    resumed = Trainer(trainer.config, trainer.images, checkpoint=load_checkpoint(path))
    assert resumed.step_count == trainer.step_count
    torch.testing.assert_close(resumed.step(), trainer.step())
    for a, b in zip(resumed.netG.state_dict().values(), trainer.netG.state_dict().values(), strict=False):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("failing", ["torch.save", "os.replace"])
def test_crash_mid_save_keeps_the_previous_checkpoint(trainer, tmp_path, monkeypatch, failing):
    path = save(trainer, tmp_path / "checkpoint.pt")
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("power cut")

    if failing == "torch.save":

        def half_write(obj, f):  # write some bytes, then die
            f.write(b"PK\x03\x04 partial")
            crash()

        monkeypatch.setattr(ckpt_module.torch, "save", half_write)
    else:
        monkeypatch.setattr(ckpt_module.os, "replace", crash)
    with pytest.raises(OSError):
        save(trainer, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert load_checkpoint(path).step == trainer.step_count
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]  # no temp files left


class RunsAShellCommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("writer", ["torch.save", "pickle.dump"])
def test_a_pickle_carrying_code_is_refused_and_not_run(tmp_path, writer):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    payload = {"format": ckpt_module.FORMAT, "generator": RunsAShellCommand(marker)}
    if writer == "torch.save":
        torch.save(payload, path)
    else:
        with open(path, "wb") as f:
            pickle.dump(payload, f, protocol=2)
    with pytest.raises(LabError) as err:
        load_checkpoint(path)
    assert err.value.key == "trainer.checkpoint_unsafe"
    assert not marker.exists()


def test_truncated_and_damaged_files_are_reported_as_corrupt(trainer, tmp_path):
    path = save(trainer, tmp_path / "c.pt")
    data = path.read_bytes()
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(LabError) as err:
        load_checkpoint(truncated)
    assert err.value.key == "trainer.checkpoint_corrupt"
    flipped = bytearray(data)
    offset = data.find(b"data/0") + 200  # inside the first tensor's bytes
    flipped[offset : offset + 16] = bytes(16)
    damaged = tmp_path / "damaged.pt"
    damaged.write_bytes(bytes(flipped))
    with pytest.raises(LabError) as err:
        load_checkpoint(damaged)
    assert err.value.key == "trainer.checkpoint_corrupt"


def test_things_that_are_not_checkpoints(tmp_path):
    text = tmp_path / "notes.pt"
    text.write_text("just some notes")
    plain = tmp_path / "weights.pt"
    torch.save({"w": torch.zeros(3)}, plain)
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    for path in (text, plain, empty):
        with pytest.raises(LabError) as err:
            load_checkpoint(path)
        assert err.value.key == "trainer.checkpoint_not_checkpoint", path
    with pytest.raises(LabError) as err:
        load_checkpoint(tmp_path / "missing.pt")
    assert err.value.key == "trainer.checkpoint_missing"


def test_other_size_or_architecture_is_named_in_the_message(trainer, tmp_path):
    path = save(trainer, tmp_path / "c.pt")
    with pytest.raises(LabError) as err:
        load_checkpoint(path, expect=DCGANConfig(image_size=64, channels=3, nz=16, ngf=8, ndf=8))
    assert err.value.key == "trainer.checkpoint_size_mismatch"
    assert "32×32×1" in str(err.value) and "64×64×3" in str(err.value)
    with pytest.raises(LabError) as err:
        load_checkpoint(path, expect=DCGANConfig(image_size=32, channels=1, nz=16, ngf=16, ndf=8))
    assert err.value.key == "trainer.checkpoint_arch_mismatch" and "ngf=8" in str(err.value)
    # a resumed Trainer checks too
    with pytest.raises(LabError):
        Trainer(
            TrainConfig(model=DCGANConfig(image_size=32, channels=1, nz=16, ngf=16, ndf=8), device="cpu"),
            trainer.images,
            checkpoint=load_checkpoint(path),
        )


def test_weights_that_do_not_fit_the_claimed_architecture(tmp_path):
    netG, netD = build_models(DCGANConfig(image_size=64, channels=3, nz=16, ngf=8, ndf=8), seed=0)
    path = save_checkpoint(tmp_path / "mixed.pt", model_config=TINY, generator=netG, discriminator=netD)
    with pytest.raises(LabError) as err:
        load_checkpoint(path)
    assert err.value.key == "trainer.checkpoint_shapes" and "32×32×1" in str(err.value)
