"""roomy_malloc in a dask worker's environment (``MALLOC_TRIM_THRESHOLD_=65536``): the heap
is kept between chunks and trimmed once the process is idle; eager calls there use it too.

The probe runs in a fresh interpreter with that variable set (glibc reads it at start-up)
and reads glibc's own accounting (``mallinfo2``), not timings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
    reason="glibc's malloc only")

PROBE = textwrap.dedent("""
    import ctypes, json, sys, time
    import numpy as np
    from xr_spdc.engine import allocator

    class Info(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
            "uordblks", "fordblks", "keepcost")]

    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = Info
    MIB = 1 << 20
    allocator.TRIM_AFTER_IDLE = 0.3

    def state():
        i = libc.mallinfo2()
        return {"heap": i.arena, "mmapped": i.hblkhd}

    def big():  # 8 MiB: above the 128 KiB mmap threshold the variable pins
        return np.ones(MIB)

    out = {}
    before = state(); a = big(); out["outside"] = state()["mmapped"] - before["mmapped"]
    del a
    with allocator.roomy_malloc():
        before = state(); a = big(); during = state()
        out["inside_mmapped"] = during["mmapped"] - before["mmapped"]
        del a
    heap = state()["heap"]
    out["kept_after_chunk"] = heap - before["heap"]
    with allocator.roomy_malloc():  # the next chunk at once: the same heap, no new pages
        a = big(); out["next_chunk_growth"] = state()["heap"] - heap
        del a
    time.sleep(1.0)  # idle: trimmed, the thresholds set back
    out["trimmed"] = heap - state()["heap"]
    before = state(); a = big(); out["after_idle"] = state()["mmapped"] - before["mmapped"]
    out = {k: v / MIB for k, v in out.items()}
    # A child forked while a chunk computes starts with none running and no trimmer.
    import os
    with allocator.roomy_malloc():
        pid = os.fork()
        if pid == 0:
            state = allocator._ROOMY_STATE
            os._exit(0 if state.users == 0 and state.thread is None else 1)
        out["fork"] = os.waitpid(pid, 0)[1]
    # An eager call (not a chunk) enters it too: the thresholds raised, the trim pending.
    import xarray as xr, xr_spdc
    ds = xr.Dataset(coords={"phi": np.linspace(-7, 3, 400) * np.pi,
                            "xi": np.logspace(-1.5, 2.5, 300)})
    ds.spdc.overlap(workers=1, progress=False)
    out["eager"] = {"raised": allocator._ROOMY_STATE.raised,
                    "pending": allocator._ROOMY_STATE.idle_since is not None}
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def mib() -> dict:
    """The probe's readings, in MiB, from an interpreter in a worker's environment."""
    env = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536"}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                          text=True, timeout=60, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_heap_is_kept_between_chunks_and_trimmed_once_idle(mib):
    assert mib["outside"] >= 8  # the worker's environment: a large array is an mmap
    assert mib["inside_mmapped"] == 0  # while a chunk computes: from the heap
    assert mib["kept_after_chunk"] >= 8  # freed, but kept for the next chunk
    assert mib["next_chunk_growth"] < 1  # ... which reuses it
    assert mib["trimmed"] >= 8  # idle: handed back to the system
    assert mib["after_idle"] >= 8  # and the environment's thresholds are back


def test_a_forked_child_starts_with_no_chunk_and_no_trimmer(mib):
    assert mib["fork"] == 0


def test_an_eager_call_in_a_worker_environment_uses_the_heap(mib):
    assert mib["eager"] == {"raised": True, "pending": True}
