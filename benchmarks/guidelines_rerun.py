"""How many steps the guidelines lab's live rerun needs before the paper's recipe draws digits.

    python benchmarks/guidelines_rerun.py [--steps 1200] [--every 100] [--seed 0] [--threads 1]

Trains the "paper" variant exactly as the live rerun does (``ablations.run_ablation`` on the
lab's settings, ``ablations.lab_base_config('cpu')``, seed 0) and scores 500 samples
with the shipped MNIST classifier every --every steps. The criterion is the project's
(``metrics.recognisable_digits``: mean confidence >= 0.8 and >= 9 of 10 digits present);
``reached_at`` is the first checked step where it held. The page's default step count
(``ablations.LIVE_DEFAULT_STEPS``) must be at least that.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a file: the repository root

from benchmarks.record import start_record
from dcgan_core import ablations
from dcgan_core.classifier import load_classifier


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    run = start_record("guidelines_rerun", argv)
    result = ablations.run_ablation(
        "paper", args.steps, seed=args.seed, classifier=load_classifier(), grid_count=args.steps // args.every + 1
    )
    reached = next((h["step"] for h in result.metrics_history if ablations.reached_digits(h)), None)
    figures = {
        "variant": "paper",
        "steps": args.steps,
        "seed": args.seed,
        "threads": args.threads,
        "reached_at": reached,
        "live_default_steps": ablations.LIVE_DEFAULT_STEPS,
        "history": [
            {k: round(v, 3) if isinstance(v, float) else v for k, v in h.items()} for h in result.metrics_history
        ],
        "wall_seconds": round(result.wall_seconds, 1),
        "cpu_seconds": round(result.cpu_seconds, 1),
    }
    print(run.finish(figures))
    return figures


if __name__ == "__main__":
    main()
