"""How much faster the vectorised builder of C is than the plain loops.

    python benchmarks/convmatrix_build.py          # both cases, 5 repeats each
    python benchmarks/convmatrix_build.py --quick  # 1 repeat of the naive builder, 3 of the fast one

Prints a table, then one JSON line, and appends it to benchmarks/results/convmatrix_build.jsonl
(benchmarks/record.py). Goal: speed-up ≥ 30×.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a file: the repository root

from benchmarks.record import start_record
from dcgan_core.convmatrix import conv_matrix, naive_conv_matrix

CASES = [  # (input size, kernel size, stride, padding)
    (128, 5, 2, 2),
    (64, 4, 2, 1),
]
GOAL = 30.0


def median_seconds(build, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        build()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    fast_repeats, naive_repeats = (3, 1) if args.quick else (7, 3)
    record = start_record("convmatrix_build")

    torch.manual_seed(0)
    rows = []
    for i, k, s, p in CASES:
        kernel = torch.randn(k, k)
        C = conv_matrix(i, kernel, s, p)
        assert torch.equal(C.to_dense(), naive_conv_matrix(i, kernel, s, p).to_dense()), "builders disagree"
        fast = median_seconds(partial(conv_matrix, i, kernel, s, p), fast_repeats)
        naive = median_seconds(partial(naive_conv_matrix, i, kernel, s, p), naive_repeats)
        rows.append(
            dict(
                i=i,
                k=k,
                s=s,
                p=p,
                shape=list(C.shape),
                nnz=int(C._nnz()),
                vectorised_ms=fast * 1e3,
                naive_ms=naive * 1e3,
                speedup=naive / fast,
            )
        )

    print(
        f"torch {torch.__version__}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"{torch.get_num_threads()} torch threads; median of {fast_repeats} (vectorised) / {naive_repeats} (naive) runs"
    )
    print(
        "vectorised: conv_matrix (numpy broadcasting, index_select); "
        "naive: naive_conv_matrix (Python loops into a dense matrix, then .to_sparse())"
    )
    print(
        f"{'i':>4} {'k':>2} {'s':>2} {'p':>2} {'C shape':>15} {'nnz':>8} "
        f"{'vectorised ms':>14} {'naive ms':>10} {'speed-up':>9}"
    )
    for r in rows:
        shape = f"{r['shape'][0]}x{r['shape'][1]}"
        print(
            f"{r['i']:>4} {r['k']:>2} {r['s']:>2} {r['p']:>2} {shape:>15} {r['nnz']:>8} "
            f"{r['vectorised_ms']:>14.2f} {r['naive_ms']:>10.1f} {r['speedup']:>8.0f}x"
        )
    worst = min(r["speedup"] for r in rows)
    result = {
        "benchmark": "convmatrix_build",
        "torch": torch.__version__,
        "cpus": os.cpu_count(),
        "quick": args.quick,
        "fast_repeats": fast_repeats,
        "naive_repeats": naive_repeats,
        "cases": rows,
        "min_speedup": round(worst, 1),
        "goal": GOAL,
        "goal_met": worst >= GOAL,
    }
    record.finish(result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
