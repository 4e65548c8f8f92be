"""How long the quick test loop takes: `python -m pytest -m "not e2e and not slow"`.

    python benchmarks/quick_loop.py              # runs the loop once, records benchmarks/results/quick_loop.jsonl
    python benchmarks/quick_loop.py --no-record

The goal (issue 12): under 90 s on two cores. Wall time depends on the machine's load, which the
record carries; the CPU seconds (user + system of pytest and its children) depend on it much less.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a file: the repository root

from benchmarks.record import start_record
from dcgan_core.paths import ROOT

GOAL_S = 90.0
COMMAND = [sys.executable, "-m", "pytest", "-m", "not e2e and not slow", "-p", "no:cacheprovider"]


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)
    run = start_record("quick_loop", argv)
    cpu_before, started = children_cpu_seconds(), time.monotonic()
    done = subprocess.run(COMMAND, cwd=ROOT, capture_output=True, text=True)
    wall, cpu = time.monotonic() - started, children_cpu_seconds() - cpu_before
    counts = {kind: int(n) for n, kind in re.findall(r"(\d+) (passed|failed|errors?|skipped|deselected)", done.stdout)}
    figures = {
        "exit_code": done.returncode,
        "passed": counts.get("passed", 0),
        "failed": counts.get("failed", 0),
        "deselected": counts.get("deselected", 0),
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "goal_seconds": GOAL_S,
        "goal_met": done.returncode == 0 and wall <= GOAL_S,
    }
    if not args.no_record:
        figures = run.finish(figures)["figures"]
    print(json.dumps(figures))
    return 0 if done.returncode == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
