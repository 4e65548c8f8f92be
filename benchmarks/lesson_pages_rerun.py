"""How long lessons 2 and 3 take to re-run after a slider change.

    python benchmarks/lesson_pages_rerun.py           # 12 slider changes per page
    python benchmarks/lesson_pages_rerun.py --quick   # 4

Runs each page under Streamlit's AppTest (script time as the server sees it,
without the browser), moves one slider back and forth between values, and
prints the median and worst re-run time, then one JSON line. The first visit
of a setting builds its figures; moving back hits the page's caches, so the
cycle mixes fresh and cached settings like a student dragging a slider.
Goal: median ≤ 200 ms.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from streamlit.testing.v1 import AppTest  # noqa: E402

GOAL_MS = 200.0
# (page, slider key, values to cycle through)
CASES = [
    ("pages/conv_matrix.py", "cm_w", [5, 6, 4, 7]),
    ("pages/conv_matrix.py", "cm_p", [1, 2, 0]),
    ("pages/transposed_conv.py", "tc_i", [3, 5, 4, 6]),
    ("pages/transposed_conv.py", "tc_p", [0, 2, 1]),
]


def measure(page: str, key: str, values: list[int], changes: int) -> list[float]:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state["lang"] = "en"
    at.switch_page(page).run()
    times = []
    for n in range(changes):
        at.slider(key=key).set_value(values[n % len(values)])
        start = time.perf_counter()
        at.run()
        times.append(1000 * (time.perf_counter() - start))
        if at.exception:
            raise RuntimeError(at.exception[0].value)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    changes = 4 if args.quick else 12
    results = {}
    print(f"{'page':28} {'slider':7} {'median ms':>10} {'worst ms':>9}")
    for page, key, values in CASES:
        times = measure(page, key, values, changes)
        results[f"{Path(page).stem}:{key}"] = {"median_ms": statistics.median(times), "max_ms": max(times)}
        print(f"{Path(page).stem:28} {key:7} {statistics.median(times):10.0f} {max(times):9.0f}")
    overall = statistics.median(r["median_ms"] for r in results.values())
    print(f"median of medians: {overall:.0f} ms (goal ≤ {GOAL_MS:.0f} ms) on {platform.processor() or platform.machine()}")
    print(json.dumps({"benchmark": "lesson_pages_rerun", "goal_ms": GOAL_MS, "median_ms": overall,
                      "cases": results}))


if __name__ == "__main__":
    main()
