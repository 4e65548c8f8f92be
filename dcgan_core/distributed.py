"""Training on several GPUs, on one machine or many, with torchrun and DistributedDataParallel.

    torchrun --nproc_per_node 8 -m dcgan_core.train --dataset cifar10 --image-size 64 --steps 20000 --out runs/c10
    # two machines, 8 GPUs each (run on both, --node_rank 0 and 1):
    torchrun --nnodes 2 --node_rank 0 --nproc_per_node 8 --rdzv_id dcgan --rdzv_backend c10d \\
        --rdzv_endpoint host0:29400 -m dcgan_core.train --dataset cifar10 --image-size 64 --out runs/c10

``dcgan_core.train`` notices torchrun (RANK, WORLD_SIZE and LOCAL_RANK in the
environment) and comes here. Each process ("rank") drives one GPU,
cuda:LOCAL_RANK, with the NCCL backend; without GPUs the ranks are CPU
processes talking over gloo (how the tests run it).

What each rank does, and why
- The same networks: every rank builds them from the same seed, and DDP
  copies rank 0's weights to all others when it wraps them. After that the
  gradients are averaged across ranks in every backward pass (all-reduce),
  so every rank applies the same Adam update and the weights stay identical.
- Its own data: the resident dataset is split into strided shards
  (rank r keeps images r, r + W, r + 2W, …), and each rank draws its
  minibatch indices from its own shard, with its own random stream (seed +
  rank) for indices and noise. Per-GPU batch B on W ranks makes an
  effective batch of B × W per step.
- The learning rate: the paper's 2e-4 stays by default: Adam's step size
  hardly depends on the batch size, and GANs are fragile at higher rates.
  ``--scale-lr linear`` multiplies it by W (Goyal et al. 2017's rule for
  SGD), ``--scale-lr sqrt`` by √W (the usual rule for Adam); both are
  experiments, not recommendations. To keep the paper's global batch of
  128, pass ``--batch-size 128/W`` instead.
- Batchnorm: D sees real and fake images in separate forward passes, as in
  the single-process step (mixing them in one batch changes what batchnorm
  normalises). Two DDP forwards before one backward only work without
  DDP's buffer broadcast before each forward (``broadcast_buffers=False``,
  ``forward_sync_buffers=False`` in newer PyTorch): with it, DDP would
  overwrite the running statistics in place between the passes, and
  autograd refuses.
  So each rank normalises with its own minibatch's statistics and keeps its
  own running averages; rank 0's are saved. ``--sync-bn`` (CUDA only)
  turns every BatchNorm into SyncBatchNorm: statistics over the whole
  effective batch, as if one GPU ran it, at the price of an all-gather per
  batchnorm layer and pass.
- D's pass inside G's update runs on the unwrapped D: its weights are frozen
  there, so no gradient of D must be synchronised, and G's gradients still
  flow through it.
- Rank 0 alone prints, writes metrics.jsonl, sample grids and checkpoints,
  in the single-process format (the unwrapped networks' state dicts), so the
  app can load, explore and resume a multi-GPU run on a laptop.
- Every few steps the ranks exchange their metrics (averaged for the log),
  a finiteness check and a stop flag in one all-reduce, so they stop at the
  same step when a loss diverges or someone presses Ctrl-C.
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import signal
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from dcgan_core.i18n import LabError

ENV_KEYS = ("RANK", "WORLD_SIZE", "LOCAL_RANK")
LR_SCALING = ("none", "linear", "sqrt")
LOG_EVERY = 10  # steps between metric exchanges (one all-reduce and one host read)


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")
    backend: str = "none"  # "nccl" | "gloo" | "none" (single process)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.backend != "none"


def launched_by_torchrun(env=None) -> bool:
    env = os.environ if env is None else env
    return all(key in env for key in ENV_KEYS)


def init_from_env(device: str = "auto") -> DistContext:
    """Join the process group that torchrun prepared: NCCL and cuda:LOCAL_RANK with
    GPUs, gloo and the CPU without. Outside torchrun: a one-process context."""
    from dcgan_core.device import pick_device

    if not launched_by_torchrun():
        return DistContext(device=pick_device(device))
    rank, world, local = (int(os.environ[key]) for key in ENV_KEYS)
    name = str(device).strip().lower()
    if name in ("auto", "cuda") and torch.cuda.is_available():
        if local >= torch.cuda.device_count():
            raise LabError("scaling.not_enough_gpus", local_rank=local, count=torch.cuda.device_count())
        chosen = torch.device("cuda", local)
        torch.cuda.set_device(chosen)
        backend = "nccl"
    elif name in ("auto", "cpu"):
        chosen, backend = torch.device("cpu"), "gloo"
    else:  # "cuda" without GPUs, "mps", "cuda:3": one device per rank is chosen here, not by name
        raise LabError("scaling.ddp_device", name=name)
    if not dist.is_initialized():
        options = {"device_id": chosen} if backend == "nccl" else {}
        dist.init_process_group(backend=backend, init_method="env://", **options)
    return DistContext(rank=rank, local_rank=local, world_size=world, device=chosen, backend=backend)


def shutdown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def rank_seed(seed: int, rank: int, step: int = 0) -> int:
    """The seed of rank ``rank``'s index and noise stream (a resumed run mixes in its step)."""
    return seed + rank + 1_000_003 * step


def shard(images: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """Rank ``rank``'s strided share of the dataset: images rank, rank + W, rank + 2W, …"""
    if images.shape[0] < world_size:
        raise LabError("scaling.too_few_images", count=images.shape[0], world_size=world_size)
    return images[rank::world_size].contiguous()


def scaled_lr(lr: float, world_size: int, rule: str) -> float:
    if rule not in LR_SCALING:
        raise LabError("scaling.bad_lr_rule", rule=rule, allowed=", ".join(LR_SCALING))
    factor = {"none": 1.0, "linear": float(world_size), "sqrt": math.sqrt(world_size)}[rule]
    return lr * factor


def convert_sync_batchnorm(module: nn.Module) -> nn.Module:
    """BatchNorm → SyncBatchNorm in place. The new layers share the old parameter and
    buffer tensors, so optimizers keep working and state-dict keys stay the same."""
    return nn.SyncBatchNorm.convert_sync_batchnorm(module)


def wrap_trainer(trainer, ctx: DistContext, sync_bn: bool = False) -> None:
    """Wrap the trainer's networks in DDP and rebuild its step to run through them.
    ``trainer.netG`` / ``trainer.netD`` stay the plain modules (what checkpoints save)."""
    from torch.nn.parallel import DistributedDataParallel as DDP

    if sync_bn:
        if trainer.device.type != "cuda":
            raise LabError("scaling.sync_bn_needs_cuda")
        trainer.netG = convert_sync_batchnorm(trainer.netG)
        trainer.netD = convert_sync_batchnorm(trainer.netD)
    options = dict(device_ids=[ctx.device.index] if ctx.device.type == "cuda" else None)
    options[_no_buffer_sync_option()] = False  # see the module docstring
    trainer.ddp_modules = (DDP(trainer.netG, **options), DDP(trainer.netD, **options))
    trainer.build_step()


def _no_buffer_sync_option() -> str:
    """DDP's switch for "do not broadcast buffers before each forward": ``forward_sync_buffers``
    in newer PyTorch (``broadcast_buffers`` is deprecated there), ``broadcast_buffers`` before."""
    from torch.nn.parallel import DistributedDataParallel as DDP

    parameters = inspect.signature(DDP.__init__).parameters
    return "forward_sync_buffers" if "forward_sync_buffers" in parameters else "broadcast_buffers"


def seed_rank_stream(trainer, ctx: DistContext, resumed) -> None:
    """Rank 0 keeps the stream a one-process run would have (or the checkpoint's);
    other ranks get their own, skipping the fixed noise the same way."""
    if ctx.rank == 0:
        return
    seed = rank_seed(trainer.config.seed, ctx.rank, trainer.step_count if resumed is not None else 0)
    trainer.rng.manual_seed(seed)
    torch.randn(trainer.fixed_noise.shape, generator=trainer.rng, device=trainer.device)


# ---- command line ----------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("multi-GPU (under torchrun)")
    group.add_argument(
        "--sync-bn",
        action="store_true",
        help="batchnorm statistics over all GPUs' minibatches (SyncBatchNorm; CUDA only)",
    )
    group.add_argument(
        "--scale-lr",
        default="none",
        choices=LR_SCALING,
        help="scale the learning rate with the number of processes W: linear ×W, sqrt ×√W "
        "(default none: the paper's 2e-4 per step, whatever the batch)",
    )
    group.add_argument(
        "--trace-weights", action="store_true", help=argparse.SUPPRESS
    )  # tests: per-rank weights per step


def main(args: argparse.Namespace) -> int:
    """The torchrun entry of ``python -m dcgan_core.train``."""
    from dcgan_core.train import config_from_args

    try:
        ctx = init_from_env(args.device)
    except LabError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        try:
            if args.threads:
                torch.set_num_threads(args.threads)
            config, resumed = config_from_args(args)  # config.device stays as given: the checkpoint must load anywhere
            config, base_lr = _scale_config(config, resumed, ctx, args.scale_lr)
            trainer = _build_trainer(config, resumed, ctx, args.sync_bn)
        except LabError as err:
            if ctx.is_main:
                print(f"error: {err}", file=sys.stderr)
            return 2
        run = _DistributedRun(trainer, ctx, Path(args.out), base_lr, args.scale_lr, args.sync_bn, args.trace_weights)
        return run.loop()
    finally:
        shutdown()


def _scale_config(config, resumed, ctx: DistContext, rule: str):
    if rule == "none":
        return config, config.lr
    base = config.lr
    if resumed is not None:  # scale from the unscaled rate, not from the last run's scaled one
        base = float((resumed.train_config.get("distributed") or {}).get("base_lr", base))
    return replace(config, lr=scaled_lr(base, ctx.world_size, rule)), base


def _build_trainer(config, resumed, ctx: DistContext, sync_bn: bool):
    from dcgan_core import data
    from dcgan_core.train import Trainer

    # Rank 0 loads (and downloads, if needed) first; the others then find the files in place.
    if ctx.distributed and not ctx.is_main:
        dist.barrier()
    image_set = data.load_images_or_bundled(config.dataset, device=ctx.device)
    if ctx.distributed and ctx.is_main:
        dist.barrier()
    images = shard(image_set.images, ctx.rank, ctx.world_size)
    del image_set
    trainer = Trainer(config, images, device=ctx.device, checkpoint=resumed)
    seed_rank_stream(trainer, ctx, resumed)
    if ctx.distributed:
        wrap_trainer(trainer, ctx, sync_bn=sync_bn)
    return trainer


class _DistributedRun:
    """The rank-synchronous loop: the same steps on every rank; rank 0 writes."""

    def __init__(self, trainer, ctx: DistContext, out: Path, base_lr: float, lr_rule: str, sync_bn: bool, trace: bool):
        self.trainer, self.ctx, self.out = trainer, ctx, out
        self.config = trainer.config
        self.stop_requested = False
        self.last_metrics: dict = {}
        self._saved_step = 0
        self.distributed_info = {
            "world_size": ctx.world_size,
            "backend": ctx.backend,
            "per_rank_batch": self.config.batch_size,
            "effective_batch": self.config.batch_size * ctx.world_size,
            "base_lr": base_lr,
            "lr_scaling": lr_rule,
            "sync_bn": sync_bn,
        }
        self.trace = _Trace(trainer, ctx, out) if trace else None

    def loop(self) -> int:
        trainer, ctx, config = self.trainer, self.ctx, self.config
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._request_stop)
        if ctx.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            (self.out / "config.json").write_text(
                json.dumps({**config.to_dict(), "distributed": self.distributed_info}, indent=2), encoding="utf-8"
            )
            self._sample()
            print(
                f"DCGAN {config.model.image_size}×{config.model.image_size}×{config.model.channels} on "
                f"{ctx.world_size} × {ctx.device.type} ({ctx.backend}), batch {config.batch_size} per rank "
                f"= {config.batch_size * ctx.world_size}, lr {config.lr:g}, step {trainer.mode_used} "
                f"→ {self.out.resolve()}",
                file=sys.stderr,
            )
        pending: list[torch.Tensor] = []
        started, start_step = time.monotonic(), trainer.step_count
        status = "finished"
        while trainer.step_count < config.max_steps:
            pending.append(trainer.step())
            if self.trace is not None:
                self.trace.record(pending[-1])
            step = trainer.step_count
            due_sample = step % config.sample_every == 0
            due_save = step % config.checkpoint_every == 0
            if step % LOG_EVERY and not due_sample and not due_save and step < config.max_steps:
                continue
            finite, stop = self._exchange(pending, step)
            pending = []
            if not finite:
                status = "failed"
                break
            if due_sample and ctx.is_main:
                self._sample()
            if due_save and ctx.is_main:
                self._save()
            if ctx.is_main:
                self._progress(step, started, start_step)
            if stop:
                status = "stopped"
                break
        if status != "failed" and ctx.is_main:
            if trainer.step_count % config.sample_every:
                self._sample()
            self._save()
        if self.trace is not None:
            self.trace.write()
        if ctx.distributed:
            dist.barrier()
        if ctx.is_main:
            print(file=sys.stderr)
            if status == "failed":
                print(
                    LabError("trainer.nan", step=trainer.step_count, checkpoint_step=self._saved_step), file=sys.stderr
                )
            else:
                key = "trainer.finished" if status == "finished" else "trainer.stopped"
                print(LabError(key, step=trainer.step_count), file=sys.stderr)
        return 1 if status == "failed" else 0

    def _request_stop(self, signum, frame) -> None:
        self.stop_requested = True

    def _exchange(self, pending: list[torch.Tensor], step: int) -> tuple[bool, bool]:
        """Average the pending steps' metrics over the ranks, and share the stop flag;
        rank 0 appends the rows to metrics.jsonl. One all-reduce, one host read."""
        from dcgan_core.train import METRICS

        rows = torch.stack(pending).float()
        flag = torch.tensor([1.0 if self.stop_requested else 0.0], device=rows.device)
        payload = torch.cat([rows.flatten(), flag])
        if self.ctx.distributed:
            dist.all_reduce(payload, op=dist.ReduceOp.SUM)
        rows = (payload[:-1] / self.ctx.world_size).view_as(rows).cpu().double().numpy()
        stop = bool(payload[-1].item() > 0)
        finite = bool(torch.isfinite(torch.from_numpy(rows)).all())
        if self.ctx.is_main:
            first = step - len(rows) + 1
            lines = []
            for i, row in enumerate(rows):
                entry = {"step": first + i}
                entry.update({name: (float(v) if math.isfinite(v) else None) for name, v in zip(METRICS, row, strict=False)})
                entry.update(lr=self.config.lr, beta1=self.config.beta1)
                lines.append(json.dumps(entry))
            with open(self.out / "metrics.jsonl", "a", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
            self.last_metrics = dict(zip(METRICS, (float(v) for v in rows[-1]), strict=False))
        return finite, stop

    def _sample(self) -> None:
        from dcgan_core.data import sample_grid
        from dcgan_core.job import png_bytes

        images = self.trainer.samples().float().cpu()
        if not torch.isfinite(images).all():
            return
        folder = self.out / "samples"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"step_{self.trainer.step_count:06d}.png").write_bytes(png_bytes(sample_grid(images, nrow=8)))

    def _save(self) -> None:
        from dcgan_core.checkpoint import save_checkpoint

        trainer = self.trainer
        if trainer.step_count == self._saved_step and (self.out / "checkpoint.pt").exists():
            return
        if not trainer.weights_finite():
            return
        state = trainer.state(metrics=self.last_metrics)
        state["train_config"] = {**state["train_config"], "distributed": self.distributed_info}
        save_checkpoint(self.out / "checkpoint.pt", **state)
        self._saved_step = trainer.step_count

    def _progress(self, step: int, started: float, start_step: int) -> None:
        from dcgan_core.train import format_seconds

        elapsed = max(1e-9, time.monotonic() - started)
        steps_per_s = (step - start_step) / elapsed
        images_per_s = steps_per_s * self.config.batch_size * self.ctx.world_size
        eta = (self.config.max_steps - step) / steps_per_s if steps_per_s > 0 else None
        m = self.last_metrics
        print(
            f"\rstep {step}/{self.config.max_steps} D {m.get('loss_d', float('nan')):.3f} "
            f"G {m.get('loss_g', float('nan')):.3f} D(x) {m.get('d_real', float('nan')):.2f} "
            f"{images_per_s:.0f} img/s (all ranks) ETA {format_seconds(eta)}   ",
            end="",
            file=sys.stderr,
            flush=True,
        )


class _Trace:
    """Test-only (--trace-weights): per-rank parameters after every step, the shard, the
    random states before each step and the local metrics, written to out/trace/rank<r>.pt."""

    def __init__(self, trainer, ctx: DistContext, out: Path):
        self.trainer, self.ctx, self.out = trainer, ctx, out
        self.initial = {"G": _cpu_state(trainer.netG), "D": _cpu_state(trainer.netD)}
        self.params = [self._flat()]
        self.buffers = [self._flat(buffers=True)]
        self.rng_states = [trainer.rng.get_state()]
        self.metrics: list[torch.Tensor] = []

    def _flat(self, buffers: bool = False) -> torch.Tensor:
        tensors = []
        for net in (self.trainer.netG, self.trainer.netD):
            source = net.buffers() if buffers else net.parameters()
            tensors += [t.detach().float().flatten().cpu() for t in source]
        return torch.cat(tensors)

    def record(self, metrics: torch.Tensor) -> None:
        self.params.append(self._flat())
        self.buffers.append(self._flat(buffers=True))
        self.rng_states.append(self.trainer.rng.get_state())
        self.metrics.append(metrics.detach().cpu())

    def write(self) -> None:
        folder = self.out / "trace"
        folder.mkdir(parents=True, exist_ok=True)
        torch.save(
            {
                "rank": self.ctx.rank,
                "world_size": self.ctx.world_size,
                "initial": self.initial,
                "shard": self.trainer.images.detach().cpu(),
                "rng_states": self.rng_states,
                "params": torch.stack(self.params),
                "buffers": torch.stack(self.buffers),
                "metrics": torch.stack(self.metrics) if self.metrics else torch.zeros(0, 5),
                "mode_used": self.trainer.mode_used,
            },
            folder / f"rank{self.ctx.rank}.pt",
        )


def _cpu_state(module: nn.Module) -> dict:
    return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}
