"""Wall time until the generator draws recognisable digits.

    python benchmarks/time_to_digits.py [--device auto] [--max-seconds 600] [--check-every 25] [--quick]

Trains the classroom default configuration (``dcgan_core.train.classroom_defaults``
for the device; --ngf/--batch/--lr/--nz override it, to compare settings) on the
bundled MNIST sample with the app's fast path, and every --check-every steps
asks the shipped MNIST classifier about --samples fresh samples (G in eval
mode, as the app shows them). The criterion is
``dcgan_core.metrics.recognisable_digits``: mean top-class confidence ≥ 0.8
and at least 9 of the 10 digits present.

Checks are not training: the clock stops during them. The JSON line reports
train_seconds (the figure of merit), check_seconds and wall_seconds, the step
and epoch where the criterion first held (``reached_at``; with --keep-going
the run goes on and ``final`` is the last check), and train_cpu_seconds (CPU time the
process spent in training; on a machine shared with other work, the wall
time is inflated and train_cpu_seconds / threads is a rough idle-machine
estimate, not a measurement). The load average is recorded at start and end.
Training runs in its own thread with ``torch.set_num_threads(--threads)``, as
the app's training thread does, by default with the app's thread count (all
cores but one: the web server and the browsers need the other).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dcgan_core import metrics  # noqa: E402
from dcgan_core.classifier import load_classifier  # noqa: E402
from dcgan_core.data import DatasetSpec, load_images  # noqa: E402
from dcgan_core.device import device_name, pick_device  # noqa: E402
from dcgan_core.job import default_cpu_threads  # noqa: E402
from train_throughput import in_thread  # noqa: E402
from dcgan_core.train import Trainer, classroom_defaults  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_throughput import machine, sync  # noqa: E402
from record import start_record  # noqa: E402

REAL_REFERENCE_IMAGES = 1000


def build_config(args, device):
    config = classroom_defaults(device)
    model = config.model
    if args.ngf:
        model = replace(model, ngf=args.ngf, ndf=args.ngf)
    if args.nz:
        model = replace(model, nz=args.nz)
    return replace(config, model=model, batch_size=args.batch or config.batch_size, lr=args.lr or config.lr,
                   seed=args.seed, device=str(device), mode=args.mode, dataset=DatasetSpec(source="bundled"))


def run(args) -> dict:
    device = pick_device(args.device)
    info = machine()
    threads = args.threads or default_cpu_threads()
    torch.set_num_threads(threads)
    config = build_config(args, device)
    images = load_images(config.dataset, device=device).images
    classifier = load_classifier(device="cpu")
    test_digits = load_images(DatasetSpec(source="bundled", split="test", limit=REAL_REFERENCE_IMAGES), device="cpu")
    reference = metrics.real_reference(test_digits.images, classifier)
    trainer = Trainer(config, images, device=device)
    check_noise = torch.randn(args.samples, config.model.nz, 1, 1, device=device,
                              generator=torch.Generator(device=device).manual_seed(12345))

    train_seconds = check_seconds = train_cpu = 0.0
    checks, reached_at = [], None
    wall_start = time.perf_counter()
    while trainer.step_count < args.steps and train_seconds < args.max_seconds:
        start, cpu_start = time.perf_counter(), time.process_time()
        for _ in range(min(args.check_every, args.steps - trainer.step_count)):
            trainer.step()
        sync(device)
        chunk_seconds, chunk_cpu = time.perf_counter() - start, time.process_time() - cpu_start
        train_seconds += chunk_seconds
        train_cpu += chunk_cpu

        start = time.perf_counter()
        report = metrics.quality_report(trainer.samples(check_noise).float().cpu(), reference, classifier,
                                        baseline=False)
        ok = metrics.recognisable_digits(report)
        check_seconds += time.perf_counter() - start
        checks.append({"step": trainer.step_count, "train_seconds": round(train_seconds, 2),
                       "chunk_cpu_share": round(chunk_cpu / chunk_seconds, 2),  # CPU time / wall time while training
                       "mean_confidence": round(report.mean_confidence, 4),
                       "classes_present": report.classes_present, "fcd": round(report.fcd, 2), "recognisable": ok})
        if args.verbose:
            print(json.dumps(checks[-1]), file=sys.stderr, flush=True)
        if ok and reached_at is None:
            reached_at = checks[-1]
        if ok and not args.keep_going:
            break

    return {
        "benchmark": "time_to_digits", **info, "device": str(device), "device_name": device_name(device),
        "threads": threads, "reached": reached_at is not None, "reached_at": reached_at,
        "train_seconds": round(train_seconds, 2), "check_seconds": round(check_seconds, 2),
        "wall_seconds": round(time.perf_counter() - wall_start, 2),
        "train_cpu_seconds": round(train_cpu, 2),
        "steps": trainer.step_count, "epochs": round(trainer.epoch, 3),
        "images_seen": trainer.step_count * config.batch_size,
        "criterion": {"min_mean_confidence": 0.8, "min_classes": 9, "samples": args.samples},
        "final": checks[-1] if checks else None, "checks": checks,
        "config": {"ngf": config.model.ngf, "ndf": config.model.ndf, "nz": config.model.nz,
                   "batch": config.batch_size, "lr": config.lr, "beta1": config.beta1, "seed": config.seed,
                   "image_size": config.model.image_size, "mode_used": trainer.mode_used,
                   "dataset_images": trainer.num_images},
        "max_seconds": args.max_seconds, "max_steps": args.steps, "check_every": args.check_every,
        "load_average_1m_end": os.getloadavg()[0],
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--mode", default="auto", choices=["auto", "eager", "cuda_graph", "compile"])
    parser.add_argument("--max-seconds", type=float, default=600.0, help="stop after this much training time")
    parser.add_argument("--steps", type=int, default=5000, help="stop after this many steps")
    parser.add_argument("--check-every", type=int, default=25)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: the app's choice, all cores but one)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ngf", type=int, default=None, help="override the classroom width (ngf = ndf)")
    parser.add_argument("--nz", type=int, default=None)
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--keep-going", action="store_true",
                        help="train on to --steps / --max-seconds after the criterion holds (do the digits stay?)")
    parser.add_argument("--verbose", action="store_true", help="print each check to stderr")
    parser.add_argument("--quick", action="store_true", help="a short bounded run: checks that the script works")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    record = start_record("time_to_digits", None if argv is None else ["time_to_digits.py", *argv])
    if args.quick:
        args.max_seconds = min(args.max_seconds, 30.0)
        args.check_every = min(args.check_every, 10)
        args.samples = min(args.samples, 200)
    # a fresh thread, as the app trains (see benchmarks/RESULTS.md on threads)
    result = in_thread(args.threads or default_cpu_threads(), run, args)
    result["quick"] = args.quick
    record.finish(result)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
