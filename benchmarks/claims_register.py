"""How long the claims register takes (it must stay under a minute on two cores: CI runs it).

    python benchmarks/claims_register.py

Runs ``python -m dcgan_core.claims`` in this process and records its wall time, the CPU time
of this process (torch uses every core it is given), the claim count and how many held. On a
machine shared with other work the wall time is inflated; the load average is in the record.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the register itself sets it when run alone

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a file: the repository root

from benchmarks.record import start_record


def main(argv=None) -> dict:
    run = start_record("claims_register", argv)
    lines: list[str] = []
    started, started_cpu = time.perf_counter(), time.process_time()
    from dcgan_core import claims  # imported here: the import of torch-side modules counts too

    status = claims.main([], out=lines.append)
    figures = {
        "wall_seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(time.process_time() - started_cpu, 1),
        "torch_threads": torch.get_num_threads(),
        "claims": len(lines) - 1,
        "exit_status": status,
    }
    print(run.finish(figures))
    return figures


if __name__ == "__main__":
    main()
