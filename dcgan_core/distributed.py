"""Training on several GPUs, on one machine or many, with torchrun and DistributedDataParallel.

    torchrun --nproc_per_node 8 -m dcgan_core.train --dataset cifar10 --image-size 64 --steps 20000 --out runs/c10
    # two machines, 8 GPUs each (run on both, --node_rank 0 and 1):
    torchrun --nnodes 2 --node_rank 0 --nproc_per_node 8 --rdzv_id dcgan --rdzv_backend c10d \\
        --rdzv_endpoint host0:29400 -m dcgan_core.train --dataset cifar10 --image-size 64 --out runs/c10

The command line (``dcgan_core.cli``) notices torchrun (RANK, WORLD_SIZE and LOCAL_RANK in the
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
- Every rank runs the one training loop (``loop.TrainingLoop``); rank 0 alone
  prints and writes the run folder (``rundir.RunDir``: metrics.jsonl, sample
  grids, checkpoints) in the single-process format (the unwrapped networks'
  state dicts), so the app can load, explore and resume a multi-GPU run on a
  laptop.
- Every few steps the ranks exchange their metrics (averaged for the log),
  a finiteness check and a stop flag in one all-reduce, so they stop at the
  same step when a loss diverges or someone presses Ctrl-C.
"""

from __future__ import annotations

import inspect
import math
import os
import signal
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

from dcgan_core import data
from dcgan_core.checkpoint import Checkpoint, cpu_copy
from dcgan_core.config import METRICS, TrainConfig
from dcgan_core.device import pick_device
from dcgan_core.i18n import LabError
from dcgan_core.job import format_seconds
from dcgan_core.loop import STOP, TRAIN, TrainingLoop
from dcgan_core.rundir import RunDir
from dcgan_core.trainer import Trainer

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


# ---- the run --------------------------------------------------------------------


def run(
    config: TrainConfig,
    resumed: Checkpoint | None,
    out: str | Path,
    *,
    threads: int | None = None,
    scale_lr: str = "none",
    sync_bn: bool = False,
    trace: bool = False,
) -> int:
    """Train ``config`` on this rank of a torchrun launch (``config.device`` stays as given: the
    checkpoint must load anywhere); the process's exit code."""
    try:
        ctx = init_from_env(config.device)
    except LabError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        try:
            if threads:
                torch.set_num_threads(threads)
            config, base_lr = _scale_config(config, resumed, ctx, scale_lr)
            trainer = _build_trainer(config, resumed, ctx, sync_bn)
        except LabError as err:
            if ctx.is_main:
                print(f"error: {err}", file=sys.stderr)
            return 2
        return _DistributedLoop(trainer, ctx, Path(out), base_lr, scale_lr, sync_bn, trace).main()
    finally:
        shutdown()


def _scale_config(config, resumed, ctx: DistContext, rule: str):
    if rule == "none":
        return config, config.lr
    base = config.lr
    if resumed is not None:  # scale from the unscaled rate, not from the last run's scaled one
        base = float((resumed.train_config.get("distributed") or {}).get("base_lr", base))
    return replace(config, lr=scaled_lr(base, ctx.world_size, rule)), base


def _build_trainer(config, resumed, ctx: DistContext, sync_bn: bool) -> Trainer:
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


class _DistributedLoop(TrainingLoop):
    """The training loop in step on every rank: the metrics are read, averaged over the ranks,
    every ``LOG_EVERY`` steps (and before every sample and save), in one all-reduce that also
    carries the stop flag; rank 0 writes."""

    def __init__(self, trainer, ctx: DistContext, out: Path, base_lr: float, lr_rule: str, sync_bn: bool, trace: bool):
        distributed_info = {
            "world_size": ctx.world_size,
            "backend": ctx.backend,
            "per_rank_batch": trainer.config.batch_size,
            "effective_batch": trainer.config.batch_size * ctx.world_size,
            "base_lr": base_lr,
            "lr_scaling": lr_rule,
            "sync_bn": sync_bn,
        }
        super().__init__(trainer, RunDir(out) if ctx.is_main else None, extra_config={"distributed": distributed_info})
        self.ctx, self.out = ctx, out
        self.stop_requested = False  # by a signal to this rank
        self.stop_agreed = False  # by any rank, as the last exchange told
        self.trace = _Trace(trainer, ctx, out) if trace else None

    def main(self) -> int:
        trainer, ctx, config = self.trainer, self.ctx, self.config
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._request_stop)
        self.begin()
        if ctx.is_main:
            print(
                f"DCGAN {config.model.image_size}×{config.model.image_size}×{config.model.channels} on "
                f"{ctx.world_size} × {ctx.device.type} ({ctx.backend}), batch {config.batch_size} per rank "
                f"= {config.batch_size * ctx.world_size}, lr {config.lr:g}, step {trainer.mode_used} "
                f"→ {self.out.resolve()}",
                file=sys.stderr,
            )
        self._started, self._start_step = time.monotonic(), trainer.step_count
        outcome = self.run()
        if self.trace is not None:
            self.trace.write()
        if ctx.distributed:
            dist.barrier()
        if ctx.is_main:
            print(file=sys.stderr)
            if outcome.status == "failed":
                print(
                    LabError("trainer.nan", step=outcome.bad_step, checkpoint_step=self.saved_step or 0),
                    file=sys.stderr,
                )
            else:
                print(LabError(f"trainer.{outcome.status}", step=outcome.step), file=sys.stderr)
        return 1 if outcome.status == "failed" else 0

    def _request_stop(self, signum, frame) -> None:
        self.stop_requested = True

    # ---- the loop's hooks ---------------------------------------------------------

    def control(self) -> str:
        return STOP if self.stop_agreed else TRAIN

    def read_due(self, step: int) -> bool:
        return step % LOG_EVERY == 0

    def sample(self, keep: bool = True) -> None:
        if self.ctx.is_main:  # only rank 0 shows and writes grids
            super().sample(keep)

    def after_step(self, step: int) -> None:
        if self.trace is not None:
            self.trace.record(self.step_metrics)

    def collect(self, wait: bool) -> np.ndarray | None:
        """Average the pending steps' metrics over the ranks, and share the stop flag: one
        all-reduce, one host read, on every rank at the same steps."""
        steps, pending = self.stream.take()
        rows = torch.stack(pending).float() if pending else torch.zeros(0, len(METRICS), device=self.trainer.device)
        flag = torch.tensor([1.0 if self.stop_requested else 0.0], device=rows.device)
        payload = torch.cat([rows.flatten(), flag])
        if self.ctx.distributed:
            dist.all_reduce(payload, op=dist.ReduceOp.SUM)
        averaged = (payload[:-1] / self.ctx.world_size).view_as(rows).cpu().double().numpy()
        self.stop_agreed = self.stop_agreed or bool(payload[-1].item() > 0)
        return np.column_stack([steps, averaged]) if len(steps) else None

    def on_rows(self, rows: np.ndarray) -> None:
        if self.ctx.is_main:
            self._progress(int(rows[-1, 0]))

    def _progress(self, step: int) -> None:
        elapsed = max(1e-9, time.monotonic() - self._started)
        steps_per_s = (step - self._start_step) / elapsed
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
        self.initial = {"G": cpu_copy(trainer.netG), "D": cpu_copy(trainer.netD)}
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
