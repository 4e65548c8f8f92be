"""Training time until the generator draws recognisable digits, over several seeds and recipes.

    python benchmarks/time_to_digits.py --seeds 0-4                  # the app's classroom default
    python benchmarks/time_to_digits.py --seeds 0-4 --recipe paper   # the paper's optimiser recipe
    python benchmarks/time_to_digits.py --seeds 0-4 --recipe both    # both, seed by seed, side by side
    python benchmarks/time_to_digits.py --quick                       # a short bounded run (CI)

Recipes (``dcgan_core.recipes``): ``classroom`` is ``classroom_defaults(device)``, what the
Train page starts with; ``paper`` is ``paper_recipe_at_classroom_size(device)``: the same
data trained the paper's way (Adam lr 2e-4, β1 0.5, no weight averaging) at the size the CPU
classroom default had before issue 15 (ngf = ndf = 32, nz 64, batch 64), i.e. that earlier
default, with today's CPU kernels (channels-last). --ngf/--nz/--batch/--lr/--ema override
both recipes, to compare settings. With ``both`` the runs alternate (seed 0
classroom, seed 0 paper, seed 1 …) so that a change in the machine's load hits both.

Each run trains on the bundled MNIST sample with the app's fast path in a fresh thread
with ``torch.set_num_threads(--threads)`` (default: the app's count, all cores but one),
and every --check-every steps from --first-check on asks the shipped MNIST classifier about
--samples fresh samples of the generator the app shows (eval mode; the weight average if
the recipe keeps one). The criterion is ``dcgan_core.metrics.recognisable_digits``: mean
top-class confidence ≥ 0.8 and at least 9 of the 10 digits present, unchanged.

Checks are not training: the clock stops during them. Per run: the step where the
criterion first held, train_seconds (wall time of training, the figure of merit),
train_cpu_seconds (CPU time the process spent training: on a machine shared with other
work the wall time is inflated and CPU seconds are the steadier figure), check_seconds,
and the FCD and confidence of that check. Per recipe: the medians over the seeds.
A table goes to stderr, one JSON line to stdout, and the figures are appended to
benchmarks/results/time_to_digits.jsonl through benchmarks/record.py (with the load at
start and end), except for --quick and --no-record runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a file: the repository root

from benchmarks.record import load_1m, start_record
from benchmarks.train_throughput import in_thread, sync
from dcgan_core import metrics
from dcgan_core.classifier import load_classifier
from dcgan_core.data import DatasetSpec, load_images
from dcgan_core.device import device_name, pick_device
from dcgan_core.job import default_cpu_threads
from dcgan_core.recipes import classroom_defaults, paper_recipe_at_classroom_size
from dcgan_core.trainer import Trainer

REAL_REFERENCE_IMAGES = 1000
RECIPES = ("classroom", "paper")
CRITERION = {"min_mean_confidence": 0.8, "min_classes": 9}


def parse_seeds(text: str) -> list[int]:
    """'0-4' → [0, 1, 2, 3, 4]; '0,2,5' → [0, 2, 5]; '3' → [3]."""
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            first, last = (int(x) for x in part.split("-", 1))
            if last < first:
                raise argparse.ArgumentTypeError(f"seed range {part!r} runs backwards")
            seeds.extend(range(first, last + 1))
        elif part:
            seeds.append(int(part))
    if not seeds:
        raise argparse.ArgumentTypeError("no seeds given")
    return seeds


def build_config(recipe: str, seed: int, args, device):
    config = paper_recipe_at_classroom_size(device) if recipe == "paper" else classroom_defaults(device)
    model = config.model
    if args.ngf:
        model = replace(model, ngf=args.ngf, ndf=args.ngf)
    if args.nz:
        model = replace(model, nz=args.nz)
    overrides = {k: v for k, v in (("batch_size", args.batch), ("lr", args.lr), ("ema", args.ema)) if v is not None}
    return replace(
        config,
        model=model,
        seed=seed,
        device=str(device),
        mode=args.mode,
        dataset=DatasetSpec(source="bundled"),
        **overrides,
    )


def config_summary(config, trainer) -> dict:
    return {
        "ngf": config.model.ngf,
        "ndf": config.model.ndf,
        "nz": config.model.nz,
        "image_size": config.model.image_size,
        "batch": config.batch_size,
        "lr": config.lr,
        "beta1": config.beta1,
        "beta2": config.beta2,
        "ema": config.ema,
        "mode_used": trainer.mode_used,
        "dataset_images": trainer.num_images,
    }


def train_until_digits(recipe: str, seed: int, args, device, images, classifier, reference) -> dict:
    config = build_config(recipe, seed, args, device)
    trainer = Trainer(config, images, device=device)
    check_noise = torch.randn(
        args.samples, config.model.nz, 1, 1, device=device, generator=torch.Generator(device=device).manual_seed(12345)
    )
    train_seconds = check_seconds = train_cpu = 0.0
    checks, reached_at = [], None
    wall_start = time.perf_counter()
    load_start = load_1m()
    next_check = max(args.first_check, 1)
    while trainer.step_count < args.steps and train_seconds < args.max_seconds:
        start, cpu_start = time.perf_counter(), time.process_time()
        for _ in range(min(next_check, args.steps) - trainer.step_count):
            trainer.step()
        sync(device)
        train_seconds += time.perf_counter() - start
        train_cpu += time.process_time() - cpu_start
        next_check = trainer.step_count + args.check_every

        start = time.perf_counter()
        report = metrics.quality_report(
            trainer.samples(check_noise).float().cpu(), reference, classifier, baseline=False
        )
        ok = metrics.recognisable_digits(report, CRITERION["min_mean_confidence"], CRITERION["min_classes"])
        check_seconds += time.perf_counter() - start
        checks.append(
            {
                "step": trainer.step_count,
                "train_seconds": round(train_seconds, 2),
                "train_cpu_seconds": round(train_cpu, 2),
                "mean_confidence": round(report.mean_confidence, 4),
                "classes_present": report.classes_present,
                "fcd": round(report.fcd, 1),
                "recognisable": ok,
            }
        )
        if args.verbose:
            print(json.dumps({"recipe": recipe, "seed": seed, **checks[-1]}), file=sys.stderr, flush=True)
        if ok and reached_at is None:
            reached_at = checks[-1]
            if not args.keep_going:
                break

    return {
        "recipe": recipe,
        "seed": seed,
        "reached": reached_at is not None,
        "steps": reached_at["step"] if reached_at else None,
        "train_seconds": reached_at["train_seconds"] if reached_at else None,
        "train_cpu_seconds": reached_at["train_cpu_seconds"] if reached_at else None,
        "fcd": reached_at["fcd"] if reached_at else None,
        "mean_confidence": reached_at["mean_confidence"] if reached_at else None,
        "classes_present": reached_at["classes_present"] if reached_at else None,
        "steps_run": trainer.step_count,
        "epochs_run": round(trainer.epoch, 3),
        "images_seen": trainer.step_count * config.batch_size,
        "train_seconds_run": round(train_seconds, 2),
        "train_cpu_seconds_run": round(train_cpu, 2),
        "check_seconds": round(check_seconds, 2),
        "wall_seconds": round(time.perf_counter() - wall_start, 2),
        "load_1m_start": load_start,
        "load_1m_end": load_1m(),
        "final": checks[-1] if checks else None,
        "checks": checks if args.keep_checks else None,
        "config": config_summary(config, trainer),
    }


def median_of(runs: list[dict], key: str):
    """The median over the seeds, or None unless every seed reached the criterion."""
    values = [run[key] for run in runs]
    if not values or any(v is None for v in values):
        return None
    return round(statistics.median(values), 2)


def summarise(runs: list[dict]) -> dict:
    return {
        "seeds": len(runs),
        "reached": sum(run["reached"] for run in runs),
        **{
            f"median_{key}": median_of(runs, key)
            for key in ("steps", "train_seconds", "train_cpu_seconds", "fcd", "mean_confidence")
        },
        "config": runs[0]["config"] if runs else None,
    }


def run_all(args) -> dict:
    device = pick_device(args.device)
    images = load_images(DatasetSpec(source="bundled", image_size=32, channels=1), device=device).images
    classifier = load_classifier(device="cpu")
    test_digits = load_images(DatasetSpec(source="bundled", split="test", limit=REAL_REFERENCE_IMAGES), device="cpu")
    reference = metrics.real_reference(test_digits.images, classifier)
    recipes = RECIPES if args.recipe == "both" else (args.recipe,)
    runs = []
    for seed in args.seeds:
        for recipe in recipes:
            run = train_until_digits(recipe, seed, args, device, images, classifier, reference)
            print(table_row(run), file=sys.stderr, flush=True)
            runs.append(run)
    return {
        "benchmark": "time_to_digits",
        "device": str(device),
        "device_name": device_name(device),
        "threads": torch.get_num_threads(),
        "seeds": args.seeds,
        "recipes": list(recipes),
        "criterion": {**CRITERION, "samples": args.samples},
        "check_every": args.check_every,
        "first_check": args.first_check,
        "max_steps": args.steps,
        "max_seconds": args.max_seconds,
        "quick": args.quick,
        "summary": {recipe: summarise([r for r in runs if r["recipe"] == recipe]) for recipe in recipes},
        "runs": runs,
    }


def table_row(run: dict) -> str:
    def cell(value, digits=1):
        return "–" if value is None else f"{value:.{digits}f}"

    return (
        f"{run['recipe']:>9}  seed {run['seed']}  "
        + (f"step {run['steps']:>5}" if run["reached"] else f"not reached in {run['steps_run']} steps")
        + f"  train {cell(run['train_seconds'])} s  CPU {cell(run['train_cpu_seconds'])} s"
        f"  FCD {cell(run['fcd'])}  (checks {run['check_seconds']:.1f} s, load {run['load_1m_start']}"
        f" → {run['load_1m_end']})"
    )


def summary_lines(result: dict) -> list[str]:
    lines = []
    for recipe, s in result["summary"].items():
        lines.append(
            f"{recipe:>9}  median over {s['seeds']} seeds ({s['reached']} reached): "
            f"step {median_cell(s, 'steps', 0)}  train {median_cell(s, 'train_seconds')} s  "
            f"CPU {median_cell(s, 'train_cpu_seconds')} s  FCD {median_cell(s, 'fcd')}"
        )
    return lines


def median_cell(summary: dict, key: str, digits: int = 1) -> str:
    value = summary[f"median_{key}"]
    return "–" if value is None else f"{value:.{digits}f}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=parse_seeds, default=[0], help="e.g. 0-4 or 0,2 (default 0)")
    parser.add_argument("--recipe", default="classroom", choices=[*RECIPES, "both"])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--mode", default="auto", choices=["auto", "eager", "cuda_graph", "compile"])
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=3600.0,
        help="per run: stop after this much training wall time (on a loaded machine a run that "
        "needs 30 CPU seconds can take 10 minutes)",
    )
    parser.add_argument("--steps", type=int, default=5000, help="per run: stop after this many steps")
    parser.add_argument("--check-every", type=int, default=25)
    parser.add_argument(
        "--first-check",
        type=int,
        default=None,
        help="step of the first check (default: --check-every); later ones every --check-every",
    )
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument(
        "--threads", type=int, default=None, help="CPU threads (default: the app's choice, all cores but one)"
    )
    parser.add_argument("--ngf", type=int, default=None, help="override the width (ngf = ndf)")
    parser.add_argument("--nz", type=int, default=None)
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--ema", type=float, default=None, help="decay of G's weight average (0 = off)")
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help="train on to --steps / --max-seconds after the criterion holds (do the digits stay?)",
    )
    parser.add_argument("--keep-checks", action="store_true", help="every check of every run in the JSON")
    parser.add_argument("--verbose", action="store_true", help="print each check to stderr")
    parser.add_argument("--no-record", action="store_true", help="do not append to benchmarks/results")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a short bounded run that checks the script works (30 s per run, 200 samples; not recorded)",
    )
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.quick:
        args.max_seconds = min(args.max_seconds, 30.0)
        args.check_every = min(args.check_every, 10)
        args.samples = min(args.samples, 200)
    if args.first_check is None:
        args.first_check = args.check_every
    record = start_record("time_to_digits", ["time_to_digits.py", *(sys.argv[1:] if argv is None else argv)])
    threads = args.threads or default_cpu_threads()
    result = in_thread(threads, run_all, args)  # a fresh thread, as the app trains (RESULTS.md on threads)
    for line in summary_lines(result):
        print(line, file=sys.stderr)
    if not (args.quick or args.no_record):
        record.finish(result)
        result["recorded"] = True
    else:
        result["recorded"] = False
    result["load_1m_start"], result["load_1m_end"] = record.load_start, load_1m()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
