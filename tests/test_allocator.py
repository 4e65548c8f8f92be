"""dcgan_core.allocator: glibc hands freed memory back, and the trimming thread starts once per process.

Each check runs in a fresh interpreter: the process-wide settings must not leak into the test run."""

import json
import subprocess
import sys
from pathlib import Path

from dcgan_core.allocator import glibc

ROOT = Path(__file__).resolve().parent.parent


def run_script(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
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
    result = run_script(HOLES)
    if glibc() is None:  # another C library: nothing to do, and it says so
        assert result["released"] is False
        return
    assert result["released"] is True
    # 800 freed 64 KiB blocks (50 MB) that free() alone could not return; malloc_trim gives back their pages.
    assert result["holes_mb"] - result["after_mb"] > 30, result


AFTER_A_BIG_BUFFER = """
import json, sys, threading
from pathlib import Path
from dcgan_core.allocator import limit_retained_memory

def rss_mb():
    line = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024

if sys.argv[1] == "limited":
    limit_retained_memory(every_s=3600)  # the thresholds only: no trim comes in between
big = b"x" * (16 << 20)
del big  # freed: glibc raises its mmap threshold to 16 MB and its trim threshold to 32 MB, unless fixed
result = {}

def work():  # in a thread of its own, as the server's are: its own arena
    blocks = [b"x" * 65536 for _ in range(400)]  # 25 MB
    result["held_mb"] = rss_mb()
    del blocks
    result["freed_mb"] = rss_mb()

thread = threading.Thread(target=work)
thread.start()
thread.join()
print(json.dumps(result))
"""


def test_fixed_thresholds_give_a_threads_freed_memory_back():
    default = run_script(AFTER_A_BIG_BUFFER, "default")
    limited = run_script(AFTER_A_BIG_BUFFER, "limited")
    if glibc() is None:
        return
    # glibc as it comes keeps the thread's 25 MB after free (below its raised trim threshold) ...
    assert default["held_mb"] - default["freed_mb"] < 5, default
    # ... and gives it back once the thresholds are fixed.
    assert limited["held_mb"] - limited["freed_mb"] > 12, limited


ONCE = """
import json, threading
from dcgan_core.allocator import limit_retained_memory
first, second = limit_retained_memory(), limit_retained_memory()
names = [t.name for t in threading.enumerate()]
print(json.dumps({"first": first, "second": second, "trimmers": names.count("dcgan-malloc-trim")}))
"""


def test_limit_retained_memory_starts_one_trimming_thread_per_process():
    result = run_script(ONCE)
    if glibc() is None:
        assert result == {"first": False, "second": False, "trimmers": 0}
    else:
        assert result == {"first": True, "second": False, "trimmers": 1}
