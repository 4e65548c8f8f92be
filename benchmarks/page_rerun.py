"""Rerun time of the convolution lesson pages after a slider change.

    python benchmarks/page_rerun.py [--changes 20] [--warmup 1]

For each page: load it once under Streamlit's AppTest, then move one slider
--changes times and time every `.run()`. The slider walks through its range
(one step at a time, back and forth), so most reruns see settings the page has
not computed yet, as a student dragging a slider would. Prints the median and
95th percentile in ms per page, then one JSON line, appended to
benchmarks/results/page_rerun.jsonl (benchmarks/record.py). Goal: median ≤ 200 ms.
This is the server's share of a slider change, inside the process: no websocket, no browser,
no drawing. benchmarks/slider_latency.py times what a student waits for, in Chromium.
Wall-clock times depend on what else the machine runs; the CPU time this
process used per rerun (all its threads) is printed too, and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a file: the repository root

from benchmarks.record import start_record
from dcgan_core.paths import ROOT

# page file -> the slider each benchmark moves (the one that changes the most on the page)
PAGES = {
    "pages/output_size.py": "os_i",
    "pages/conv_matrix.py": "cm_h",
    "pages/transposed_conv.py": None,  # first slider on the page
    "pages/checkerboard.py": "cb_k",
}
GOAL_MS = 200


def slider_walk(low: int, high: int, start: int, n: int) -> list[int]:
    """n values stepping by one from start, bouncing between low and high."""
    values, value, step = [], start, 1
    for _ in range(n):
        if not low <= value + step <= high:
            step = -step
        value += step
        values.append(value)
    return values


def bench_page(page: str, key: str | None, changes: int, warmup: int) -> dict:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state["lang"] = "en"
    at.switch_page(page).run()
    if at.exception:
        return {"page": page, "error": str(at.exception[0].value)}
    slider = at.slider(key=key) if key else at.slider[0]
    low, high = int(slider.min), int(slider.max)
    values = slider_walk(low, high, int(slider.value), changes + warmup)
    times, cpu_times = [], []
    for n, value in enumerate(values):
        (at.slider(key=slider.key) if slider.key else at.slider[0]).set_value(value)
        start, cpu_start = time.perf_counter(), time.process_time()
        at.run()
        elapsed, cpu = (time.perf_counter() - start) * 1000, (time.process_time() - cpu_start) * 1000
        if at.exception:
            return {"page": page, "error": str(at.exception[0].value)}
        if n >= warmup:
            times.append(elapsed)
            cpu_times.append(cpu)
    return {
        "page": page,
        "slider": slider.key,
        "changes": len(times),
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(float(np.percentile(times, 95)), 1),
        "max_ms": round(max(times), 1),
        "cpu_median_ms": round(statistics.median(cpu_times), 1),
        "goal_met": statistics.median(times) <= GOAL_MS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changes", type=int, default=20, help="slider changes timed per page")
    parser.add_argument("--warmup", type=int, default=1, help="untimed changes first (imports, first torch call)")
    parser.add_argument("--pages", nargs="*", default=None, help="only these page files (default: all four)")
    args = parser.parse_args()
    record = start_record("page_rerun")
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = None
    print(f"CPU cores: {os.cpu_count()}, 1-minute load average: {load}")
    results = []
    for page, key in PAGES.items():
        if args.pages and page not in args.pages:
            continue
        if not (ROOT / page).exists():
            print(f"{page}: not written yet, skipped")
            continue
        result = bench_page(page, key, args.changes, args.warmup)
        results.append(result)
        if "error" in result:
            print(f"{page}: ERROR {result['error']}")
        else:
            verdict = "ok" if result["goal_met"] else f"over the {GOAL_MS} ms goal"
            print(
                f"{page:28s} slider {result['slider']:8s} median {result['median_ms']:7.1f} ms   "
                f"p95 {result['p95_ms']:7.1f} ms   max {result['max_ms']:7.1f} ms   "
                f"CPU median {result['cpu_median_ms']:7.1f} ms   ({verdict})"
            )
    result = {
        "benchmark": "page_rerun",
        "goal_ms": GOAL_MS,
        "changes": args.changes,
        "load_average": load,
        "results": results,
    }
    record.finish(result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
