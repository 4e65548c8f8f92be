"""The command line: ``python -m dcgan_core.train …`` (see README.md).

    python -m dcgan_core.train --dataset bundled --image-size 32 --steps 200 --out runs/demo
    python -m dcgan_core.train --resume runs/demo/checkpoint.pt --steps 100 --out runs/demo
    torchrun --nproc_per_node 8 -m dcgan_core.train --dataset cifar10 --image-size 64 --out runs/c10

The only place that parses arguments: it turns them into a finished ``TrainConfig``
(and the checkpoint to resume from) and hands that to a driver: a ``job.TrainingJob``
in this process, or ``distributed.run`` on each rank when torchrun started it.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

from dcgan_core import distributed
from dcgan_core.checkpoint import Checkpoint, check_compatible, load_checkpoint
from dcgan_core.config import MODES, TrainConfig
from dcgan_core.data import DatasetSpec
from dcgan_core.device import pick_device
from dcgan_core.i18n import LabError
from dcgan_core.job import TrainingJob, format_seconds
from dcgan_core.recipes import classroom_defaults


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dcgan_core.train", description="Train a DCGAN (Radford et al. 2015)."
    )
    parser.add_argument(
        "--dataset", default="bundled", choices=["bundled", "mnist", "fashion_mnist", "cifar10", "folder", "zip"]
    )
    parser.add_argument("--data-path", default=None, help="image folder or .zip for --dataset folder/zip")
    parser.add_argument("--limit", type=int, default=None, help="use at most this many images")
    parser.add_argument("--image-size", type=int, default=32, choices=[32, 64, 128])
    parser.add_argument(
        "--channels", type=int, default=None, choices=[1, 3], help="default: 1 for MNIST-like sets, else 3"
    )
    parser.add_argument("--ngf", type=int, default=None)
    parser.add_argument("--ndf", type=int, default=None)
    parser.add_argument("--nz", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--beta1", type=float, default=None)
    parser.add_argument("--steps", type=int, default=200, help="steps to run now (added to a resumed run's count)")
    parser.add_argument("--sample-every", type=int, default=None)
    parser.add_argument("--checkpoint-every", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
    parser.add_argument("--resume", default=None, metavar="PATH", help="checkpoint to continue from")
    parser.add_argument("--out", default="runs/demo", help="folder for checkpoint.pt, metrics.jsonl and samples/")
    parser.add_argument(
        "--mode",
        default=None,
        choices=MODES,
        help="the training step: auto (default) = one CUDA graph per step on CUDA, eager elsewhere",
    )
    parser.add_argument("--amp", action="store_true", default=None, help="bf16 autocast for the forward passes")
    group = parser.add_argument_group("multi-GPU (under torchrun)")
    group.add_argument(
        "--sync-bn",
        action="store_true",
        help="batchnorm statistics over all GPUs' minibatches (SyncBatchNorm; CUDA only)",
    )
    group.add_argument(
        "--scale-lr",
        default="none",
        choices=distributed.LR_SCALING,
        help="scale the learning rate with the number of processes W: linear ×W, sqrt ×√W "
        "(default none: the paper's 2e-4 per step, whatever the batch)",
    )
    group.add_argument("--trace-weights", action="store_true", help=argparse.SUPPRESS)  # tests: per-rank weights
    return parser


def config_from_args(args: argparse.Namespace) -> tuple[TrainConfig, Checkpoint | None]:
    device = pick_device(args.device)
    base = classroom_defaults(device)
    resumed = None
    if args.resume:
        resumed = load_checkpoint(args.resume)
        base = TrainConfig.from_checkpoint(resumed)
        model = resumed.model_config
    else:
        grey = args.dataset in ("bundled", "mnist", "fashion_mnist")
        channels = args.channels or (1 if grey else 3)
        model = replace(base.model, image_size=args.image_size, channels=channels)
    model = replace(model, **{k: getattr(args, k) for k in ("ngf", "ndf", "nz") if getattr(args, k) is not None})
    if resumed is not None:
        check_compatible(resumed.model_config, model)
    dataset = base.dataset
    if not args.resume or args.dataset != "bundled" or args.data_path:
        dataset = DatasetSpec(source=args.dataset, path=args.data_path, limit=args.limit)
    start = resumed.step if resumed is not None else 0
    overrides = {
        k: getattr(args, k)
        for k in ("batch_size", "lr", "beta1", "sample_every", "checkpoint_every", "mode", "amp")
        if getattr(args, k, None) is not None
    }
    config = replace(
        base,
        model=model,
        dataset=dataset,
        seed=args.seed,
        device=args.device,
        max_steps=start + args.steps,
        **overrides,
    )
    return config, resumed


def _progress_line(snap) -> str:
    width = 30
    done = snap.step / max(1, snap.max_steps)
    bar = "#" * int(width * done) + "-" * (width - int(width * done))
    last = snap.last_metrics
    losses = f" D {last['loss_d']:.3f} G {last['loss_g']:.3f} D(x) {last['d_real']:.2f}" if last else ""
    eta = f" ETA {format_seconds(snap.eta_seconds)}" if snap.eta_seconds is not None else ""
    return f"\r[{bar}] {snap.step}/{snap.max_steps}{losses} {snap.images_per_sec:.0f} img/s{eta}   "


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    torchrun = distributed.launched_by_torchrun()
    try:
        config, resumed = config_from_args(args)
    except LabError as err:
        if not torchrun or os.environ.get("RANK") == "0":
            print(f"error: {err}", file=sys.stderr)
        return 2
    if torchrun:  # torchrun -m dcgan_core.train: DistributedDataParallel, one process per GPU
        return distributed.run(
            config,
            resumed,
            args.out,
            threads=args.threads,
            scale_lr=args.scale_lr,
            sync_bn=args.sync_bn,
            trace=args.trace_weights,
        )
    return train_in_this_process(config, resumed, Path(args.out), args.threads or os.cpu_count() or 1)


def train_in_this_process(config: TrainConfig, resumed: Checkpoint | None, out: Path, threads: int) -> int:
    """One process, one device: the Train page's ``TrainingJob``, its progress on stderr."""
    job = TrainingJob(config, run_dir=out, resume=resumed, cpu_threads=threads)
    print(
        f"DCGAN {config.model.image_size}×{config.model.image_size}×{config.model.channels} "
        f"(ngf {config.model.ngf}, ndf {config.model.ndf}, nz {config.model.nz}), batch {config.batch_size}, "
        f"lr {config.lr:g}, β1 {config.beta1:g} → {out.resolve()}",
        file=sys.stderr,
    )
    job.start()
    try:
        while not job.wait(0.5):
            print(_progress_line(job.snapshot()), end="", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        job.stop()
        job.wait()
    snap = job.snapshot()
    print(_progress_line(snap), file=sys.stderr)
    if snap.message_key:
        print(LabError(snap.message_key, **snap.message_params), file=sys.stderr)
    if snap.device:
        print(f"device: {snap.device}", file=sys.stderr)
    return 0 if snap.status in ("finished", "stopped") else 1
