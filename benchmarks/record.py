"""One record per measurement: every benchmark appends one JSON line to
``benchmarks/results/<benchmark>.jsonl`` with its figures and the conditions they ran under.

    run = start_record("convmatrix_build")      # notes the load before the work
    ...measure...
    run.finish({"min_speedup": 36.2, ...})       # appends the line, returns it

A line holds: benchmark, figures, command, git commit, date (UTC), torch version, CPU model and
cores, GPU (if any), and the 1-minute load average at start and at end. ``benchmarks/report.py``
renders RESULTS.md and the README's performance table from these files.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
# Tests that run a benchmark's quick variant point this at a temporary folder, so that a test run
# never adds lines to the committed records.
RESULTS_DIR_ENV = "DCGAN_LAB_BENCH_RESULTS"


def default_results_dir() -> Path:
    return Path(os.environ.get(RESULTS_DIR_ENV) or RESULTS_DIR)


def load_1m() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parent,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent,
        timeout=10,
    ).stdout.strip()
    return out.stdout.strip() + ("+dirty" if dirty else "")


def gpu_name() -> str | None:
    try:
        import torch  # lazy: a record without torch is still a record
    except ImportError:
        return None
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return None


def machine() -> dict:
    try:
        import torch

        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "gpu": gpu_name(),
        "torch": torch_version,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


@dataclass
class Run:
    benchmark: str
    command: str
    load_start: float | None
    started: str
    results_dir: Path = field(default_factory=default_results_dir)

    def finish(self, figures: dict, write: bool = True) -> dict:
        line = {
            "benchmark": self.benchmark,
            "date": self.started,
            "command": self.command,
            "commit": git_commit(),
            **machine(),
            "load_1m_start": self.load_start,
            "load_1m_end": load_1m(),
            "figures": figures,
        }
        if write:
            self.results_dir.mkdir(parents=True, exist_ok=True)
            with open(self.results_dir / f"{self.benchmark}.jsonl", "a") as f:
                f.write(json.dumps(line) + "\n")
        return line


def start_record(benchmark: str, argv: list[str] | None = None, results_dir: Path | None = None) -> Run:
    argv = sys.argv if argv is None else argv
    script = Path(argv[0]).name if argv else benchmark
    command = " ".join(["python", f"benchmarks/{script}", *map(shlex.quote, argv[1:])])
    started = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Run(benchmark, command, load_1m(), started, Path(results_dir) if results_dir else default_results_dir())


def read_records(benchmark: str, results_dir: Path | None = None) -> list[dict]:
    path = Path(results_dir or RESULTS_DIR) / f"{benchmark}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
