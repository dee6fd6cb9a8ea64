"""Memory on the pool's result path: the workers' allocator and the outputs' allocation.

The workers start with glibc's malloc told to keep a block's freed temporaries (without it
the overlap kernel faulted in ~21,000 pages a 10^6 points, ~12 % of its time), and
``run_blocks`` allocates its outputs uninitialised, filling only what no block wrote.
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import resource
import signal
import sys
from pathlib import Path

import numpy as np
import pytest
from poolfuncs import fail_where

from xr_spdc.engine import allocator, fanout
from xr_spdc.engine.methods import overlap_exact_block

NAMES = ["phi", "xi", "mu"]
GLIBC = platform.libc_ver()[0] == "glibc"
USER_MALLOC = "malloc" in os.environ.get("GLIBC_TUNABLES", "") or any(
    name.startswith("MALLOC_") for name in os.environ)


def _grid(n: int) -> list[np.ndarray]:
    phi = np.linspace(-7.0 * np.pi, 3.0 * np.pi, n)
    xi = 10.0 ** np.linspace(-1.5, 2.5, n)[::-1].copy()
    return [phi, xi, np.zeros(1)]


def trim_threshold(phi, xi, mu):
    """The worker's MALLOC_TRIM_THRESHOLD_ (-1 where unset)."""
    return (np.full(len(phi), float(os.environ.get("MALLOC_TRIM_THRESHOLD_", -1))),)


def faults_of_a_second_kernel_run(phi, xi, mu):
    """Minor page faults of the overlap kernel on this block, run a second time in this
    process (the first run sized the heap)."""
    overlap_exact_block(phi, xi, mu)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    overlap_exact_block(phi, xi, mu)
    return (np.full(len(phi), resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before,
                    dtype=np.int64),)


def die_at(phi, xi, mu, *, start):
    """The worker evaluating the block that starts at phi == ``start`` is killed (SIGKILL,
    as the OOM killer sends); never this process."""
    if phi[0] == start and multiprocessing.parent_process() is not None:
        os.kill(os.getpid(), signal.SIGKILL)
    return (phi + 1j * xi,)


def ints_failing_at(phi, xi, mu, *, bad):
    """Integer outputs; fails at every phi in ``bad``."""
    if np.isin(phi, bad).any():
        raise ValueError("bad phi")
    return (phi.astype(np.int64) + 1,)


@pytest.mark.skipif(USER_MALLOC, reason="the user's own malloc settings are kept")
def test_the_pools_workers_start_with_the_allocator_settings():
    (out,) = fanout.run_blocks(trim_threshold, _grid(40), names=NAMES,
                               out_dtypes=[np.float64], workers=2, block_size=10)
    np.testing.assert_array_equal(out, float(32 << 20))


def test_a_users_own_malloc_settings_are_left_to_the_workers(monkeypatch):
    for name in [n for n in os.environ if n.startswith("MALLOC_")]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    assert allocator.worker_env() == {"MALLOC_MMAP_THRESHOLD_": str(4 << 20),
                                    "MALLOC_TRIM_THRESHOLD_": str(32 << 20)}
    monkeypatch.setenv("MALLOC_ARENA_MAX", "2")
    assert allocator.worker_env() == {}
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=0")
    assert allocator.worker_env() == {}


@pytest.mark.skipif(not GLIBC or USER_MALLOC, reason="glibc's malloc, with our settings")
def test_a_warm_worker_runs_the_overlap_kernel_without_page_faults():
    # Before: a second run of a 65536-point block took ~500 fresh pages from the OS in
    # some workers (its temporaries, given back to the OS at the end of the first run).
    (faults,) = fanout.run_blocks(faults_of_a_second_kernel_run, _grid(2 * 65536),
                                  names=NAMES, out_dtypes=[np.int64], workers=2,
                                  block_size=65536)
    assert faults.max() < 100, np.unique(faults)


def test_the_overlap_kernel_on_the_pool_is_bitwise_the_serial_result():
    arrays = _grid(3 * 65536 + 123)  # three full blocks and a short one
    kwargs = {"names": NAMES, "out_dtypes": [np.complex128], "block_size": 65536,
              "isolate": False}
    (pooled,) = fanout.run_blocks(overlap_exact_block, arrays, workers=2, **kwargs)
    (serial,) = fanout.run_blocks(overlap_exact_block, arrays, workers=1, **kwargs)
    assert pooled.tobytes() == serial.tobytes()
    assert np.isfinite(pooled).all()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_partial_result_holds_the_finished_blocks_and_nan_elsewhere(workers):
    n, size = 200, 10
    arrays = [np.arange(float(n)), np.ones(n), np.zeros(n)]
    with pytest.raises(fanout.FanoutError) as info:
        fanout.run_blocks(fail_where, arrays, names=NAMES, out_dtypes=[np.complex128],
                          kwargs={"bad": [125.0]}, workers=workers, block_size=size)
    (partial,) = info.value.partial
    expected = arrays[0] + 1j
    # Every block before the failing one finished; the failing block is NaN; a later one
    # either finished (already computing on the pool) or is NaN: never anything else.
    np.testing.assert_array_equal(partial[:120], expected[:120])
    assert np.isnan(partial[120:130]).all()
    later = partial[130:]
    assert (np.isnan(later) | (later == expected[130:])).all()
    if workers == 1:
        assert np.isnan(later).all()


def test_a_worker_killed_in_its_block_leaves_finished_blocks_and_nan_in_partial():
    n = 200
    arrays = [np.arange(float(n)), np.ones(n), np.zeros(n)]
    with pytest.raises(fanout.WorkerDiedError) as info:
        fanout.run_blocks(die_at, arrays, names=NAMES, out_dtypes=[np.complex128],
                          kwargs={"start": 100.0}, workers=2, block_size=10)
    (partial,) = info.value.partial
    expected = arrays[0] + 1j
    assert np.isnan(partial[100:110]).all()
    # Blocks lost with the pool are NaN, never the uninitialised memory they start as.
    assert (np.isnan(partial) | (partial == expected)).all()
    assert (partial[:60] == expected[:60]).all()  # long finished before the kill


def test_an_integer_partial_result_is_zero_where_no_block_wrote():
    n = 100
    arrays = [np.arange(float(n)), np.ones(n), np.zeros(n)]
    with pytest.raises(fanout.FanoutError) as info:
        fanout.run_blocks(ints_failing_at, arrays, names=NAMES, out_dtypes=[np.int64],
                          kwargs={"bad": [55.0]}, workers=1, block_size=10)
    (partial,) = info.value.partial
    np.testing.assert_array_equal(partial[:50], np.arange(50) + 1)
    np.testing.assert_array_equal(partial[50:], 0)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="F_SETPIPE_SZ is Linux's")
def test_the_pools_pipes_hold_a_whole_block():
    import fcntl

    fanout.run_blocks(trim_threshold, _grid(40), names=NAMES, out_dtypes=[np.float64],
                      workers=2, block_size=10)
    executor = fanout._POOL.executor
    if int(Path("/proc/sys/fs/pipe-max-size").read_text()) < 1 << 20:
        pytest.skip("this machine caps pipes below 1 MB")
    for end in (executor._call_queue._writer, executor._result_queue._reader):
        # Before: 64 kB, so a 1 MB block crossed in sixteen writes.
        assert fcntl.fcntl(end.fileno(), fcntl.F_GETPIPE_SZ) == 1 << 20
