"""core.memory: the malloc arena cap that keeps a long run's RSS flat (docs/RELIABILITY.md, soak)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Starts 12 threads that each malloc while all are alive, then counts glibc's
# arenas (<heap nr=...> in malloc_info). Without a cap glibc gives each new
# thread its own arena (up to 8 per core).
PROBE = r"""
import ctypes, re, sys, tempfile, threading
sys.path.insert(0, sys.argv[1])
from core.memory import limit_malloc_arenas
applied = limit_malloc_arenas() if sys.argv[2] == "cap" else False
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.fopen.restype = ctypes.c_void_p
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
go, ready = threading.Event(), threading.Barrier(13)
def work():
    libc.malloc(4096)
    ready.wait()
    go.wait()
threads = [threading.Thread(target=work) for _ in range(12)]
for t in threads: t.start()
ready.wait()
with tempfile.NamedTemporaryFile("r") as f:
    fp = libc.fopen(f.name.encode(), b"w")
    libc.malloc_info(0, fp)
    libc.fclose(fp)
    heaps = len(re.findall(r'<heap nr="\d+"', f.read()))
go.set()
for t in threads: t.join()
print(applied, heaps)
"""


def _arenas(mode: str) -> tuple[str, int]:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    out = subprocess.run([sys.executable, "-c", PROBE, str(ROOT), mode], env=env, capture_output=True,
                         text=True, timeout=60, check=True).stdout.split()
    return out[0], int(out[1])


def test_twelve_threads_share_at_most_two_malloc_arenas_once_capped() -> None:
    applied, heaps = _arenas("cap")
    assert applied == "True"
    assert heaps <= 2


def test_without_the_cap_the_same_threads_spread_over_more_arenas() -> None:
    # The probe can tell the difference: otherwise the test above proves nothing.
    applied, heaps = _arenas("nocap")
    assert applied == "False"
    assert heaps > 2


def test_the_startup_heap_is_frozen_out_of_full_collections():
    import gc

    from core.memory import freeze_startup_heap
    before = gc.get_freeze_count()
    try:
        freeze_startup_heap()
        # pytest, the app's modules and this test's frames: all moved to the permanent generation.
        assert gc.get_freeze_count() > max(before, 10_000)
    finally:
        gc.unfreeze()
