"""Keeps a long-running server's resident memory close to what it really holds (glibc's malloc).

Measured in benchmarks/classroom_soak.py (30 viewers, a run continued every ~1.5 min): the server's
resident memory grew by 23 % in an hour, while what its Python objects held grew by a few tens of MB.
The rest was memory that glibc's malloc had been given back but kept: after 8 minutes its arenas held
238 MB free beside 217 MB in use, and the free part kept growing. Many threads (the static file
server's pool, the script threads, the live view's writer) each allocate and free large buffers
(gzip's compressor, sample grids, the live state) in arenas of their own, and glibc only returns
memory at the top of an arena.

``limit_retained_memory()`` (once per process, from app.py) caps the arenas at ``ARENA_MAX`` and
starts a thread that calls ``malloc_trim(0)`` every ``TRIM_EVERY_S``: glibc then hands the free pages
inside its arenas back to the system. Elsewhere (macOS, Windows, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
import threading
import time

ARENA_MAX = 2
TRIM_EVERY_S = 30.0
_M_ARENA_MAX = -8  # glibc's mallopt parameter numbers (malloc.h)

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
    """Cap glibc's arenas and trim them every ``every_s`` in a daemon thread; once per process.
    False where there is no glibc (nothing to do) or when it was already started."""
    global _started
    libc = glibc()
    if libc is None:
        return False
    with _start_lock:
        if _started:
            return False
        _started = True
    libc.mallopt(_M_ARENA_MAX, ARENA_MAX)

    def trim_forever() -> None:
        while True:
            time.sleep(every_s)
            libc.malloc_trim(0)  # ctypes releases the GIL: the server's threads go on meanwhile

    threading.Thread(target=trim_forever, name="dcgan-malloc-trim", daemon=True).start()
    return True
