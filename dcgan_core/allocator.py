"""Keeps a long-running server's resident memory close to what it really holds (glibc's malloc).

Measured in benchmarks/classroom_soak.py (30 viewers, a run continued every ~1.5 min): the server's
resident memory grew by 23 % in an hour while what it held in use settled after ten minutes. The rest
was memory freed but kept by glibc's malloc, in the 16 arenas that the server's threads (the static
file server's pool, the script threads, the live view's writer) allocate from. glibc raises its mmap
and trim thresholds each time a large buffer is freed (up to 32 and 64 MB), so big transient buffers
(sample grids, pickled updates from the training process, the live state, gzip's compressors) come
from the arenas, and an arena gives memory back only when the free space at its top exceeds the
raised trim threshold: nearly never.

``limit_retained_memory()`` (once per process, from app.py) fixes both thresholds (which also stops
glibc raising them): buffers from ``MMAP_THRESHOLD`` up are mapped and unmapped on their own, and an
arena returns its top once ``TRIM_THRESHOLD`` of it is free. A daemon thread also calls
``malloc_trim(0)`` every ``TRIM_EVERY_S``, which returns the free pages inside the arenas (alone it did
not stop the growth: 686 -> 858 MB in ten minutes). Setting the thresholds in that running soak server
took it back to 698 MB within 40 s, where it stayed. Elsewhere (macOS, Windows, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
import threading
import time

MMAP_THRESHOLD = 256 * 1024
TRIM_THRESHOLD = 1024 * 1024
TRIM_EVERY_S = 30.0
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (glibc's malloc.h)

_started = False
_start_lock = threading.Lock()


def glibc():
    """The C library if it is glibc (with mallopt and malloc_trim), else None."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt, libc.malloc_trim  # noqa: B018 — both must exist
    except (OSError, AttributeError):
        return None
    return libc


def release_free_memory() -> bool:
    """Hand malloc's free pages back to the system now; True if glibc did (it returns 1 when it could)."""
    libc = glibc()
    return bool(libc is not None and libc.malloc_trim(0))


def limit_retained_memory(every_s: float = TRIM_EVERY_S) -> bool:
    """Fix glibc's mmap and trim thresholds, and trim its arenas every ``every_s`` in a daemon thread,
    once per process. False where there is no glibc (nothing to do) or when it was already done."""
    global _started
    libc = glibc()
    if libc is None:
        return False
    with _start_lock:
        if _started:
            return False
        _started = True
    libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)

    def trim_forever() -> None:
        while True:
            time.sleep(every_s)
            libc.malloc_trim(0)  # ctypes releases the GIL: the server's threads go on meanwhile

    threading.Thread(target=trim_forever, name="dcgan-malloc-trim", daemon=True).start()
    return True
