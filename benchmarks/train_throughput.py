"""Training throughput: the textbook loop, the app's fast path, and the fast path watched.

    python benchmarks/train_throughput.py [--device auto] [--mode auto] [--steps N] [--quick]

One process, one model and one set of hyperparameters (the classroom
defaults for the device unless --image-size/--channels/--ngf/--batch say
otherwise), three ways of running it, one JSON line on stdout:

(a) baseline: the pytorch/examples DCGAN recipe written out here: a
    DataLoader over the same images in host memory (shuffled, drop_last),
    each batch copied to the device, Sigmoid + BCELoss, default Adam, noise
    drawn per step, and the example's per-step ``.item()`` reads for its log
    line (D(x), D(G(z)) twice, both losses). The images are already
    converted, which spares the baseline the example's per-image transforms.
(b) fast_path: ``Trainer.step()``, what the app and the CLI run: dataset
    resident on the device, indices and noise drawn there, fused Adam, no
    host reads, one CUDA graph per step on CUDA (``--mode``).
(c) observed: the real ``TrainingJob`` (metrics streamed to the host 4×/s,
    sample grids every ``sample_every`` steps, checkpoints) while an observer
    thread does what the Train page does 4 times a second: ``snapshot()``,
    and when something changed, the loss and probability figures (built and
    serialised to JSON) and the sample grid's PNG.

Each part runs in its own thread that first sets ``torch.set_num_threads``
(default: the app's count, all cores but one), as the job's training thread does: on a busy CPU the main thread's OpenMP
pool can be many times slower than a fresh thread's (see RESULTS.md), and
the comparison must not hinge on that. Each part runs warm-up steps first;
timing starts and ends on a device sync.
Ratios: fast_vs_baseline = b / a and observed_vs_fast = c / b (images/s).
CPU numbers depend on what else the machine does: the load average is in the output.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a file: the repository root

from benchmarks.record import start_record
from dcgan_core.data import DatasetSpec, load_images
from dcgan_core.device import device_name, pick_device
from dcgan_core.job import TrainingJob, default_cpu_threads
from dcgan_core.models import build_models
from dcgan_core.recipes import classroom_defaults
from dcgan_core.rundir import png_bytes
from dcgan_core.trainer import Trainer

OBSERVER_INTERVAL_S = 0.25  # the Train page's refresh


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return {
        "cpu": cpu,
        "cores": cores,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "load_average_1m": os.getloadavg()[0],
    }


def in_thread(threads: int, fn, *args):
    """fn(*args) in a fresh thread with ``threads`` CPU threads; its result, or its exception."""
    box = {}

    def run():
        torch.set_num_threads(threads)
        try:
            box["result"] = fn(*args)
        except BaseException as err:  # noqa: BLE001 — re-raised in the caller
            box["error"] = err

    worker = threading.Thread(target=run, name="benchmark-part")
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]
    return box["result"]


def rate(steps: int, batch: int, seconds: float) -> dict:
    return {
        "images_per_s": round(steps * batch / seconds, 2),
        "steps_per_s": round(steps / seconds, 3),
        "seconds": round(seconds, 3),
        "steps": steps,
    }


# ---- (a) the textbook loop -------------------------------------------------------


def baseline(config, images_cpu: torch.Tensor, device: torch.device, warmup: int, steps: int, workers: int) -> dict:
    from torch.utils.data import DataLoader, TensorDataset

    b, nz = config.batch_size, config.model.nz
    netG, netD = build_models(config.model, seed=config.seed)
    netG.to(device).train()
    netD.to(device).train()
    criterion = nn.BCELoss()
    optimizerD = torch.optim.Adam(netD.parameters(), lr=config.lr, betas=(config.beta1, 0.999))
    optimizerG = torch.optim.Adam(netG.parameters(), lr=config.lr, betas=(config.beta1, 0.999))
    loader = DataLoader(
        TensorDataset(images_cpu),
        batch_size=b,
        shuffle=True,
        drop_last=True,
        num_workers=workers,
        persistent_workers=workers > 0,
    )

    def batches():
        while True:
            yield from loader

    source = batches()

    def step():
        (data,) = next(source)
        netD.zero_grad()
        real = data.to(device)
        label = torch.full((b,), 1.0, device=device)
        output = torch.sigmoid(netD(real))
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()
        noise = torch.randn(b, nz, 1, 1, device=device)
        fake = netG(noise)
        label.fill_(0.0)
        output = torch.sigmoid(netD(fake.detach()))
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        optimizerD.step()
        netG.zero_grad()
        label.fill_(1.0)
        output = torch.sigmoid(netD(fake))
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        optimizerG.step()
        return errD.item(), errG.item(), D_x, D_G_z1, D_G_z2  # the example's log line

    for _ in range(warmup):
        step()
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    return rate(steps, b, time.perf_counter() - start)


# ---- (b) the app's step ----------------------------------------------------------


def fast_path(config, images: torch.Tensor, device: torch.device, warmup: int, steps: int) -> tuple[dict, Trainer]:
    trainer = Trainer(config, images, device=device)
    for _ in range(warmup):
        trainer.step()
    sync(device)
    start = time.perf_counter()
    metrics = [trainer.step() for _ in range(steps)]
    torch.stack(metrics).cpu()  # the host receives every step's metrics, as the job does
    sync(device)
    return rate(steps, config.batch_size, time.perf_counter() - start), trainer


# ---- (c) the job, watched ----------------------------------------------------------


class TimedJob(TrainingJob):
    """The real job; its trainer's step notes the time (after a device sync) at two steps."""

    def __init__(self, *args, marks: tuple[int, int], **kwargs):
        super().__init__(*args, **kwargs)
        self.marks, self.times = marks, {}

    def _prepare(self):
        loop = super()._prepare()
        trainer, plain_step = self.trainer, self.trainer.step

        def step():
            metrics = plain_step()
            if trainer.step_count in self.marks:
                sync(trainer.device)
                self.times[trainer.step_count] = time.perf_counter()
            return metrics

        trainer.step = step
        return loop


def observe(job: TrainingJob, stop: threading.Event, counts: dict) -> None:
    from dcgan_core.viz import training as viz

    rows_seen, grid_seen = -1, None
    while not stop.is_set():
        snap = job.snapshot()
        counts["polls"] += 1
        if len(snap.history) != rows_seen:
            rows_seen = len(snap.history)
            viz.loss_figure(snap.history, "en").to_json()
            viz.probability_figure(snap.history, "en").to_json()
            counts["figures"] += 2
        if snap.latest_grid is not None and snap.latest_grid_step != grid_seen:
            grid_seen = snap.latest_grid_step
            png_bytes(viz.upscale(snap.latest_grid, viz.display_factor(snap.latest_grid, 560)))
            counts["grids"] += 1
        stop.wait(OBSERVER_INTERVAL_S)


def observed(config, images: torch.Tensor, warmup: int, steps: int, threads: int) -> dict:
    config = replace(config, max_steps=warmup + steps)
    with tempfile.TemporaryDirectory(prefix="dcgan-throughput-") as folder:
        job = TimedJob(config, run_dir=folder, images=images, cpu_threads=threads, marks=(warmup, warmup + steps))
        stop, counts = threading.Event(), {"polls": 0, "figures": 0, "grids": 0}
        watcher = threading.Thread(target=observe, args=(job, stop, counts), daemon=True)
        job.start()
        watcher.start()
        job.wait()
        stop.set()
        watcher.join()
        snap = job.snapshot()
    if snap.status != "finished" or len(job.times) != 2:
        raise RuntimeError(f"the job ended {snap.status}: {snap.message_key} {snap.message_params}")
    result = rate(steps, config.batch_size, job.times[warmup + steps] - job.times[warmup])
    result.update(observer=counts, sample_every=config.sample_every, checkpoint_every=config.checkpoint_every)
    return result


# ---- main ----------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--mode", default="auto", choices=["auto", "eager", "cuda_graph", "compile"])
    parser.add_argument("--amp", action="store_true", help="bf16 autocast in the fast path (b, c)")
    parser.add_argument("--image-size", type=int, default=None, choices=[32, 64, 128])
    parser.add_argument("--channels", type=int, default=None, choices=[1, 3])
    parser.add_argument("--ngf", type=int, default=None, help="also sets ndf")
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument(
        "--steps", type=int, default=None, help="timed steps per part (default 200 on a GPU, 30 on a CPU)"
    )
    parser.add_argument("--warmup", type=int, default=None)
    parser.add_argument(
        "--threads", type=int, default=None, help="CPU threads (default: the app's choice, all cores but one)"
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="baseline DataLoader workers (default 2 on CUDA, 0 on CPU)"
    )
    parser.add_argument("--quick", action="store_true", help="a few steps: checks that the script runs")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    record = start_record("train_throughput", None if argv is None else ["train_throughput.py", *argv])
    device = pick_device(args.device)
    info = machine()
    threads = args.threads or default_cpu_threads()
    torch.set_num_threads(threads)
    config = classroom_defaults(device)
    model = config.model
    model = replace(model, image_size=args.image_size or model.image_size, channels=args.channels or model.channels)
    if args.ngf:
        model = replace(model, ngf=args.ngf, ndf=args.ngf)
    config = replace(
        config,
        model=model,
        batch_size=args.batch or config.batch_size,
        device=str(device),
        mode=args.mode,
        amp=args.amp,
        dataset=DatasetSpec(source="bundled"),
    )
    default_steps = 200 if device.type == "cuda" else 30
    steps = args.steps or (8 if args.quick else default_steps)
    warmup = args.warmup if args.warmup is not None else (2 if args.quick else (20 if device.type == "cuda" else 3))
    workers = args.workers if args.workers is not None else (2 if device.type == "cuda" else 0)

    images_cpu = load_images(config.dataset, device="cpu").images  # bundled MNIST, at the model's size
    images = images_cpu.to(device)

    a = in_thread(threads, baseline, config, images_cpu, device, warmup, steps, workers)
    b, trainer = in_thread(threads, fast_path, config, images, device, warmup, steps)
    mode_used, mode_reason = trainer.mode_used, trainer.mode_reason
    del trainer
    c = observed(config, images, warmup, steps, threads)

    result = {
        "benchmark": "train_throughput",
        **info,
        "device": str(device),
        "device_name": device_name(device),
        "threads": threads,
        "dataloader_workers": workers,
        "image_size": model.image_size,
        "channels": model.channels,
        "nz": model.nz,
        "ngf": model.ngf,
        "ndf": model.ndf,
        "batch": config.batch_size,
        "lr": config.lr,
        "beta1": config.beta1,
        "warmup_steps": warmup,
        "steps": steps,
        "mode_requested": args.mode,
        "mode_used": mode_used,
        "mode_reason": mode_reason,
        "amp": args.amp,
        "dataset_images": int(images_cpu.shape[0]),
        "baseline": a,
        "fast_path": b,
        "observed": c,
        "fast_vs_baseline": round(b["images_per_s"] / a["images_per_s"], 3),
        "observed_vs_fast": round(c["images_per_s"] / b["images_per_s"], 3),
        "load_average_1m_end": os.getloadavg()[0],
        "quick": args.quick,
    }
    record.finish(result)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
