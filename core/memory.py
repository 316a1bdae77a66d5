"""Keep glibc's allocator from hoarding freed memory in a long-running, many-threaded process.

glibc malloc gives threads their own arenas (up to 8 per core) and memory freed
in an arena is reused only by that arena and seldom returned to the OS. Lookout
runs ~50 scheduler threads, waitress threads and a thread per collection, so
freed memory piles up across arenas: in the soak (docs/RELIABILITY.md, 50 targets)
RSS rose ~2 MiB/min while the Python heap (tracemalloc) and SQLite's own memory
(sqlite3_memory_used) stayed flat; mallinfo2 showed malloc's *in-use* bytes flat
at ~38 MiB and its *free-but-kept* bytes climbing 32 -> 62 MiB in 4 minutes.
Reusing collection threads did not change that; capping the arenas at 2 did
(free-but-kept 4-12 MiB, RSS flat). Python objects themselves (pymalloc) are
not affected, only malloc users: big strings/bytes (/metrics bodies), SQLite,
libpq, JSON.

Call :func:`limit_malloc_arenas` first thing in the process, before threads
start: the cap applies to arenas created afterwards. An explicit
``MALLOC_ARENA_MAX`` in the environment wins (glibc read it at start-up).
"""
from __future__ import annotations

import ctypes
import gc
import os
import sys

M_ARENA_MAX = -8  # glibc <malloc.h>
ARENAS = 2


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc malloc arenas; True if applied (False: not glibc, or set by the environment)."""
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the libc the interpreter already uses
    except (OSError, AttributeError):
        return False
    if not hasattr(ctypes.CDLL(None), "gnu_get_libc_version"):
        return False  # musl's mallopt is a no-op; its allocator has no per-thread arenas
    return bool(mallopt(M_ARENA_MAX, arenas))


def freeze_startup_heap() -> None:
    """Move every object alive after start-up (modules, Dash layouts, config) out of the GC's reach.

    A full collection walks every tracked object; the imported libraries
    (Dash, plotly, SQLAlchemy, pydantic) are most of them and live for the
    whole process. Measured: a full collection took ~66 ms and caused most of
    the slowest dashboard refreshes (docs/BENCHMARKS.md, Dashboards). Call once,
    after the app is built and before it serves.
    """
    gc.collect()
    gc.freeze()
