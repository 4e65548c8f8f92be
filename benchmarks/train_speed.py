"""Training throughput (images/s) for a few widths and batch sizes on this machine.

    python benchmarks/train_speed.py [--device cpu] [--steps 30]

Prints one line per setting; the classroom default is marked with *. The figures are appended
to benchmarks/results/train_speed.jsonl (benchmarks/record.py).
Numbers depend on what else the machine is doing: note the load average.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a file: the repository root

from benchmarks.record import start_record
from dcgan_core.device import device_description, pick_device
from dcgan_core.models import count_parameters
from dcgan_core.recipes import classroom_defaults
from dcgan_core.trainer import Trainer


def measure(config, images, steps: int) -> float:
    trainer = Trainer(config, images)
    for _ in range(3):  # warm-up
        trainer.step()
    sync(trainer.device)
    start = time.perf_counter()
    for _ in range(steps):
        metrics = trainer.step()
    metrics.cpu()
    sync(trainer.device)
    return steps * config.batch_size / (time.perf_counter() - start), trainer


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="auto")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: PyTorch's choice)")
    parser.add_argument("--only-default", action="store_true", help="measure the classroom default only")
    args = parser.parse_args()
    record = start_record("train_speed")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    default = replace(classroom_defaults(device), device=str(device))
    images = torch.rand(4096, 1, 32, 32, device=device) * 2 - 1
    print(f"device: {device_description(device)}; load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    settings = [(default.model.ngf, default.batch_size)]
    if not args.only_default:
        settings += [(w, b) for w in (16, 32, 64) for b in (32, 64, 128) if (w, b) != settings[0]]
    rows = []
    for width, batch in settings:
        config = replace(default, model=replace(default.model, ngf=width, ndf=width), batch_size=batch)
        rate, trainer = measure(config, images, args.steps)
        mark = "*" if (width, batch) == settings[0] else " "
        print(
            f"{mark} ngf=ndf={width:3d} nz={config.model.nz} batch {batch:4d}: {rate:8.0f} images/s "
            f"({rate / batch:6.1f} steps/s; "
            f"G {count_parameters(trainer.netG):,} D {count_parameters(trainer.netD):,} params)"
        )
        rows.append(
            {
                "ngf": width,
                "ndf": width,
                "nz": config.model.nz,
                "batch": batch,
                "default": mark == "*",
                "images_per_s": round(rate, 1),
                "steps_per_s": round(rate / batch, 2),
            }
        )
    record.finish({"device": str(device), "steps": args.steps, "threads": torch.get_num_threads(), "settings": rows})


if __name__ == "__main__":
    main()
