"""dcgan_core.allocator: glibc hands freed memory back, and the trimming thread starts once per process.

Each check runs in a fresh interpreter: the process-wide settings must not leak into the test run."""

import json
import subprocess
import sys
from pathlib import Path

from dcgan_core.allocator import glibc

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


HOLES = """
import json
from pathlib import Path
from dcgan_core.allocator import release_free_memory

def rss_mb():
    line = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024

blocks = [b"x" * 65536 for _ in range(1600)]  # 100 MB in malloc's heap (under the mmap threshold)
del blocks[0:-1:2]  # every other one freed: holes between live blocks, nothing free at the top
holes = rss_mb()
released = release_free_memory()
print(json.dumps({"holes_mb": holes, "after_mb": rss_mb(), "released": released}))
"""


def test_release_free_memory_returns_the_holes_to_the_system():
    result = run_python(HOLES)
    if glibc() is None:  # another C library: nothing to do, and it says so
        assert result["released"] is False
        return
    assert result["released"] is True
    # 800 freed 64 KiB blocks (50 MB) that free() alone could not return; malloc_trim gives back their pages.
    assert result["holes_mb"] - result["after_mb"] > 30, result


ONCE = """
import json, threading
from dcgan_core.allocator import limit_retained_memory
first, second = limit_retained_memory(), limit_retained_memory()
names = [t.name for t in threading.enumerate()]
print(json.dumps({"first": first, "second": second, "trimmers": names.count("dcgan-malloc-trim")}))
"""


def test_limit_retained_memory_starts_one_trimming_thread_per_process():
    result = run_python(ONCE)
    if glibc() is None:
        assert result == {"first": False, "second": False, "trimmers": 0}
    else:
        assert result == {"first": True, "second": False, "trimmers": 1}
