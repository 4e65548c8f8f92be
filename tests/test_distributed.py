"""torchrun + DistributedDataParallel on two CPU processes (gloo): identical weights on
both ranks after every step, each step equal to averaging the two ranks' gradients
(computed here with plain PyTorch), rank-0 files in the one-process format, and a
checkpoint that the app's single-process code loads and resumes."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dcgan_core import distributed
from dcgan_core.checkpoint import load_checkpoint, load_generator
from dcgan_core.config import METRICS, TrainConfig
from dcgan_core.data import DatasetSpec, load_images
from dcgan_core.i18n import LabError
from dcgan_core.models import DCGANConfig, Discriminator, Generator, build_models
from dcgan_core.trainer import Trainer

ROOT = Path(__file__).resolve().parent.parent
STEPS, BATCH, LIMIT, WORLD = 3, 8, 64, 2
TINY = ["--ngf", "8", "--ndf", "8", "--nz", "16", "--batch-size", str(BATCH), "--device", "cpu", "--threads", "1"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ddp")
    out = tmp / "run"
    env = dict(os.environ, DCGAN_LAB_DATA=str(tmp / "data"), OMP_NUM_THREADS="1")
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        str(WORLD),
        "--nnodes",
        "1",
        "--rdzv_backend",
        "c10d",
        "--rdzv_endpoint",
        f"127.0.0.1:{free_port()}",
        "-m",
        "dcgan_core.train",
        "--dataset",
        "bundled",
        "--limit",
        str(LIMIT),
        "--steps",
        str(STEPS),
        "--sample-every",
        "2",
        "--checkpoint-every",
        str(STEPS),
        "--out",
        str(out),
        "--trace-weights",
        *TINY,
    ]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=150)
    assert result.returncode == 0, result.stderr[-3000:]
    traces = [torch.load(out / "trace" / f"rank{r}.pt", weights_only=True) for r in range(WORLD)]
    return out, traces, result.stderr


def test_both_ranks_hold_identical_weights_after_every_step_but_see_different_data(run):
    _, (rank0, rank1), _ = run
    assert rank0["params"].shape[0] == STEPS + 1  # the start, then after each step
    for step in range(STEPS + 1):
        assert torch.equal(rank0["params"][step], rank1["params"][step]), f"weights differ after step {step}"
    assert not torch.equal(rank0["params"][0], rank0["params"][-1])  # and they did train
    # different shards and streams: the local losses differ although the weights agree
    assert not torch.equal(rank0["metrics"], rank1["metrics"])
    assert torch.isfinite(rank0["metrics"]).all() and torch.isfinite(rank1["metrics"]).all()
    bundled = load_images(DatasetSpec(source="bundled", limit=LIMIT), device="cpu").images
    assert torch.equal(rank0["shard"], bundled[0::2]) and torch.equal(rank1["shard"], bundled[1::2])
    assert rank0["mode_used"] == "eager"


def reference_step(models, optimizers, batches):
    """One DDP step written out: each rank's D loss on its own real and fake minibatches
    (separate passes, its own batchnorm statistics), gradients averaged over the ranks, the
    same Adam update everywhere; then G's update the same way through the updated D."""
    fakes = [G(noise) for (G, _), (_, noise) in zip(models, batches, strict=False)]
    d_grads = []
    for (_, D), (real, _), fake in zip(models, batches, fakes, strict=False):
        real_logits, fake_logits = D(real), D(fake.detach())
        loss = F.binary_cross_entropy_with_logits(
            real_logits, torch.ones_like(real_logits)
        ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
        d_grads.append(torch.autograd.grad(loss, list(D.parameters())))
    for (_, D), (_, opt_d) in zip(models, optimizers, strict=False):
        for p, *grads in zip(D.parameters(), *d_grads, strict=False):
            p.grad = sum(grads) / len(grads)
        opt_d.step()
    g_grads = []
    for (G, D), fake in zip(models, fakes, strict=False):
        logits = D(fake)
        loss = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        g_grads.append(torch.autograd.grad(loss, list(G.parameters())))
    for (G, _), (opt_g, _) in zip(models, optimizers, strict=False):
        for p, *grads in zip(G.parameters(), *g_grads, strict=False):
            p.grad = sum(grads) / len(grads)
        opt_g.step()


def flat(modules, buffers=False):
    return torch.cat(
        [t.detach().float().flatten() for m in modules for t in (m.buffers() if buffers else m.parameters())]
    )


def test_each_step_equals_averaging_the_ranks_gradients(run):
    out, traces, _ = run
    checkpoint = load_checkpoint(out / "checkpoint.pt")
    cfg, train_config = checkpoint.model_config, checkpoint.train_config
    betas = (train_config["beta1"], train_config["beta2"])
    models, optimizers = [], []
    for trace in traces:
        G, D = Generator(cfg), Discriminator(cfg)
        G.load_state_dict(trace["initial"]["G"])
        D.load_state_dict(trace["initial"]["D"])
        models.append((G.train(), D.train()))
        optimizers.append(
            tuple(torch.optim.Adam(m.parameters(), lr=train_config["lr"], betas=betas, foreach=False) for m in (G, D))
        )
    assert torch.equal(flat(models[0]), traces[0]["params"][0])
    for step in range(STEPS):
        batches = []
        for trace in traces:
            rng = torch.Generator().manual_seed(0)
            rng.set_state(trace["rng_states"][step])
            index = torch.randint(trace["shard"].shape[0], (BATCH,), generator=rng)
            noise = torch.randn(BATCH, cfg.nz, 1, 1, generator=rng)
            batches.append((trace["shard"][index], noise))
        reference_step(models, optimizers, batches)
        for rank, trace in enumerate(traces):
            torch.testing.assert_close(trace["params"][step + 1], flat(models[rank]), rtol=1e-4, atol=1e-6)
            torch.testing.assert_close(
                trace["buffers"][step + 1], flat(models[rank], buffers=True), rtol=1e-4, atol=1e-6
            )


def test_rank_zero_writes_the_single_process_files(run):
    out, (rank0, rank1), stderr = run
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines] == list(range(1, STEPS + 1))  # once, not once per rank
    logged = np.array([[line[name] for name in METRICS] for line in lines])
    np.testing.assert_allclose(logged, ((rank0["metrics"] + rank1["metrics"]) / 2).numpy(), rtol=1e-6)
    samples = sorted(p.name for p in (out / "samples").glob("*.png"))
    assert samples == ["step_000000.png", "step_000002.png", f"step_{STEPS:06d}.png"]
    config = json.loads((out / "config.json").read_text())
    assert config["distributed"]["world_size"] == WORLD and config["distributed"]["effective_batch"] == WORLD * BATCH
    assert stderr.count("Finished:") == 1


def test_the_checkpoint_loads_and_resumes_in_one_process(run):
    out, (rank0, _), _ = run
    ckpt = load_checkpoint(out / "checkpoint.pt")
    assert ckpt.step == STEPS
    assert ckpt.train_config["distributed"]["world_size"] == WORLD
    netG, cfg = load_generator(out / "checkpoint.pt")
    netD = ckpt.build_discriminator()
    assert torch.equal(flat([netG, netD]), rank0["params"][-1])
    assert torch.equal(flat([netG, netD], buffers=True), rank0["buffers"][-1])  # rank 0's statistics

    config = TrainConfig.from_dict(
        {**ckpt.train_config, "model": cfg.to_dict(), "device": "cpu", "max_steps": STEPS + 2}
    )
    images = load_images(DatasetSpec(source="bundled", limit=LIMIT), device="cpu").images
    trainer = Trainer(config, images, checkpoint=ckpt)
    metrics = torch.stack([trainer.step() for _ in range(2)])
    assert trainer.step_count == STEPS + 2
    assert torch.isfinite(metrics).all() and trainer.weights_finite()


# ---- pieces, without processes ---------------------------------------------------


def test_shards_seeds_and_learning_rate_rules():
    images = torch.arange(10.0).view(10, 1, 1, 1)
    shards = [distributed.shard(images, r, 3) for r in range(3)]
    assert [s.flatten().tolist() for s in shards] == [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]
    with pytest.raises(LabError):
        distributed.shard(images[:2], 0, 3)
    assert len({distributed.rank_seed(0, r) for r in range(8)}) == 8
    assert distributed.rank_seed(5, 0) == 5  # rank 0 keeps a one-process run's seed
    assert distributed.scaled_lr(2e-4, 8, "none") == 2e-4
    assert distributed.scaled_lr(2e-4, 8, "linear") == pytest.approx(1.6e-3)
    assert distributed.scaled_lr(2e-4, 4, "sqrt") == pytest.approx(4e-4)


def test_outside_torchrun_nothing_is_initialised(monkeypatch):
    for key in distributed.ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    ctx = distributed.init_from_env("cpu")
    assert (ctx.rank, ctx.world_size, ctx.backend, ctx.is_main) == (0, 1, "none", True)
    assert not torch.distributed.is_initialized()
    assert distributed.launched_by_torchrun({"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1"})


def test_sync_batchnorm_keeps_the_optimizer_and_the_checkpoint_keys():
    cfg = DCGANConfig(image_size=32, channels=1, nz=16, ngf=8, ndf=8)
    netG, _ = build_models(cfg, seed=0)
    keys, params = list(netG.state_dict()), list(netG.parameters())
    converted = distributed.convert_sync_batchnorm(netG)
    assert any(isinstance(m, torch.nn.SyncBatchNorm) for m in converted.modules())
    assert list(converted.state_dict()) == keys
    assert all(a is b for a, b in zip(converted.parameters(), params, strict=False))  # Adam still holds these


def test_sync_bn_on_the_cpu_is_refused_with_a_sentence():
    cfg = TrainConfig(
        model=DCGANConfig(image_size=32, channels=1, nz=16, ngf=8, ndf=8), batch_size=4, device="cpu", max_steps=2
    )
    trainer = Trainer(cfg, torch.zeros(8, 1, 32, 32))
    with pytest.raises(LabError) as err:
        distributed.wrap_trainer(trainer, distributed.DistContext(backend="gloo", world_size=2), sync_bn=True)
    assert err.value.key == "scaling.sync_bn_needs_cuda" and "CUDA" in str(err.value)
