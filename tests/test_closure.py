"""Large arrays an integrand closes over (issue 22, item 2): written to shared memory once
and kept while unchanged, never stale, hashed once, cleaned up."""

from __future__ import annotations

import gc
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from closurefuncs import seen_before

from xr_spdc.engine import fanout, identity, snapshots

TESTS = Path(__file__).parent
TABLE_SIZE = 2 * 2**20 // 8  # 2 MB of float64: above the 1 MB sharing threshold

needs_shm = pytest.mark.skipif(
    snapshots.scratch_dir() is None, reason="needs /dev/shm with room (Linux)")


def _ours() -> list[str]:
    """This process's files and folders in /dev/shm (never another process's)."""
    return [e for e in os.listdir("/dev/shm") if e.startswith(f"xr_spdc-{os.getpid()}-")]


def _table(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random(TABLE_SIZE)


def _run_seen(table: np.ndarray, n: int = 40):
    arrays = [np.arange(float(n)), np.ones(n), np.zeros(n)]
    return fanout.run_blocks(seen_before, arrays, names=["phi", "xi", "mu"],
                             out_dtypes=[np.float64, np.float64, np.int64, np.float64],
                             kwargs={"table": table}, workers=2, block_size=4)


# ------------------------------------------------------------ sent once, kept while unchanged


@needs_shm
def test_an_unchanged_table_is_not_sent_again_a_worker_keeps_it_across_calls():
    table = _table()
    first_values, _, first_pids, _ = _run_seen(table)
    values, seen, pids, plain = _run_seen(table)
    np.testing.assert_array_equal(values, table[:40])
    np.testing.assert_array_equal(first_values, table[:40])
    # Every block of the second call ran in a worker that already held this very table
    # object (before: each call unpickled the function and mapped a fresh file).
    served_first = set(first_pids.tolist())
    in_both = np.isin(pids, list(served_first))
    assert in_both.any()
    np.testing.assert_array_equal(seen[in_both], 1.0)
    np.testing.assert_array_equal(plain, 1.0)  # mapped as a plain ndarray, not np.memmap


@needs_shm
def test_a_table_changed_in_place_between_calls_gives_the_new_values():
    table = _table()
    ds = xr.Dataset(coords={"a": np.arange(8.0)})

    def f(l, a):
        return table[int(a)] * l * l  # integral over [-1, 1]: 2/3 * table[a]

    before = ds.spdc.integrate(f, workers=2)
    np.testing.assert_allclose(before.values, table[:8] * 2 / 3, rtol=1e-12)
    table[:8] = np.arange(8.0) + 10.0  # in place: same object, same address
    after = ds.spdc.integrate(f, workers=2)
    np.testing.assert_allclose(after.values, (np.arange(8.0) + 10.0) * 2 / 3, rtol=1e-12)
    assert after.attrs["integrand_sha256"] != before.attrs["integrand_sha256"]
    serial = ds.spdc.integrate(f, workers=1)
    assert serial.values.tobytes() == after.values.tobytes()
    assert serial.attrs["integrand_sha256"] == after.attrs["integrand_sha256"]


@needs_shm
def test_a_changed_byte_that_compares_equal_still_makes_a_new_snapshot():
    table = np.zeros(TABLE_SIZE)
    first = snapshots.snapshot(table)
    assert snapshots.snapshot(table) is first  # unchanged: kept
    table[12345] = -0.0  # == 0.0, but another bit pattern
    second = snapshots.snapshot(table)
    assert second is not None and second is not first
    assert np.signbit(second.copy[12345]) and not os.path.exists(first.path)
    assert not second.copy.flags.writeable


@needs_shm
def test_a_snapshot_keeps_the_arrays_memory_order_and_bytes():
    table = np.asfortranarray(np.random.default_rng(1).random((600, 400)))
    snap = snapshots.snapshot(table)
    assert snap.copy.flags.f_contiguous and snap.copy.tobytes("A") == table.tobytes("A")
    loaded = snapshots.load(snap.path)
    assert type(loaded) is np.ndarray and not loaded.flags.writeable
    np.testing.assert_array_equal(loaded, table)
    assert snapshots.snapshot(table) is snap
    assert snapshots.snapshot(table[::2]) is None  # not contiguous: no snapshot


@needs_shm
def test_one_integrate_call_compares_its_table_with_the_shared_copy_once(monkeypatch):
    table = _table(3)
    ds = xr.Dataset(coords={"a": np.arange(8.0)})

    def f(l, a):
        return table[int(a)] * l * l

    ds.spdc.integrate(f, workers=2)  # the copy is made
    compared = []
    real = snapshots._same_bytes
    monkeypatch.setattr(snapshots, "_same_bytes", lambda a, b: compared.append(1) or real(a, b))
    out = ds.spdc.integrate(f, workers=2)
    # One comparison for the hash and the workers alike (each costs ~15 ms at 200 MB).
    assert len(compared) == 1
    np.testing.assert_allclose(out.values, table[:8] * 2 / 3, rtol=1e-12)


@needs_shm
def test_snapshots_stay_within_their_budget_least_recently_used_first(monkeypatch):
    monkeypatch.setattr(snapshots, "BUDGET", 5 * 2**20)  # room for two 2 MB tables
    tables = [_table(seed) for seed in range(3)]
    first, second = (snapshots.snapshot(t) for t in tables[:2])
    assert snapshots.snapshot(tables[0]) is first  # now the most recently used
    third = snapshots.snapshot(tables[2])
    assert third is not None and os.path.exists(first.path)
    assert not os.path.exists(second.path)  # the least recently used went
    assert snapshots.snapshot(np.zeros(6 * 2**20 // 8)) is None  # over the budget alone
    # Without a snapshot, the pool still gets the table (written for that call).
    big = np.random.default_rng(5).random(6 * 2**20 // 8)
    values, _, _, _ = _run_seen(big, n=8)
    np.testing.assert_array_equal(values, big[:8])


# ------------------------------------------------------------ the hash


class _CountingSha256:
    """hashlib.sha256 that adds the bytes it is fed to a shared count."""

    def __init__(self, fed: list[int], state=None) -> None:
        self.fed, self.state = fed, state or _REAL_SHA256()

    def update(self, data) -> None:
        self.fed[0] += memoryview(data).nbytes
        self.state.update(data)

    def copy(self):
        return _CountingSha256(self.fed, self.state.copy())

    def digest(self):
        return self.state.digest()

    def hexdigest(self):
        return self.state.hexdigest()


_REAL_SHA256 = hashlib.sha256


@needs_shm
def test_the_hash_of_an_unchanged_table_reads_it_once_and_equals_a_full_hash(monkeypatch):
    table = _table(2)

    def f(l, a):
        return table[int(a)] * l

    fed = [0]
    monkeypatch.setattr(hashlib, "sha256", lambda: _CountingSha256(fed))
    first = identity.code_hash(f)
    assert fed[0] >= table.nbytes
    fed[0] = 0
    again = identity.code_hash(f)
    assert again == first and fed[0] < 100_000  # before: the 2 MB again, every call
    kept = table[7]
    table[7] = kept + 1.0
    changed = identity.code_hash(f)
    assert changed != first and fed[0] >= table.nbytes
    monkeypatch.undo()
    # The same value as a process that never kept anything (here: hashing every byte).
    snapshots.clear()
    assert identity.code_hash(f) == changed
    table[7] = kept
    assert identity.code_hash(f) == first


# ------------------------------------------------------------ cleaning up


@needs_shm
def test_a_tables_shared_copy_goes_with_the_table_and_when_replaced():
    table = _table()
    _run_seen(table, n=8)
    folder = snapshots.folder()
    assert folder is not None
    before = set(os.listdir(folder))
    table[0] += 1.0
    _run_seen(table, n=8)
    after = set(os.listdir(folder))
    assert len(after) == len(before) and after != before  # the old copy went
    del table
    gc.collect()
    left = set(os.listdir(folder)) if os.path.isdir(folder) else set()
    assert left == after - (after - before)  # its copy went; others' stay


def _script(body: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS),
                                                        os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(body)], capture_output=True,
                          text=True, timeout=120, env=env)


def _left_by(pid: int) -> list[str]:
    return [e for e in os.listdir("/dev/shm") if e.startswith(f"xr_spdc-{pid}-")]


#: A process that makes a pooled call with a 2.4 MB table, then prints its pid.
A_CALL_WITH_A_TABLE = textwrap.dedent("""
    import os, signal, numpy as np, xarray as xr, xr_spdc
    from xr_spdc.engine import snapshots
    table = np.arange(300_000.0)
    ds = xr.Dataset(coords={"a": np.arange(40.0)})
    ds.spdc.integrate(lambda l, a: table[int(a)] * l, workers=2)
    print(os.getpid(), flush=True)
    """)


@pytest.mark.slow
@needs_shm
def test_nothing_of_a_process_is_left_in_shared_memory_after_it_exits_with_its_table():
    done = _script(A_CALL_WITH_A_TABLE + "print(len(os.listdir(snapshots.folder())))")
    pid, kept = map(int, done.stdout.split())
    assert kept == 1, done.stderr
    assert not _left_by(pid)


@pytest.mark.slow
@needs_shm
def test_a_killed_callers_shared_copies_are_removed_by_its_workers():
    done = _script(A_CALL_WITH_A_TABLE + "os.kill(os.getpid(), signal.SIGKILL)")
    assert done.returncode == -signal.SIGKILL, done.stderr
    pid = int(done.stdout)
    deadline = time.monotonic() + 10  # the workers look every 0.5 s
    while _left_by(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _left_by(pid)


FORK_SCRIPT = """
    import os, sys, numpy as np
    from xr_spdc.engine import identity, snapshots
    table = np.arange(300_000.0)
    f = lambda l: table[0] * l
    first = identity.code_hash(f)
    mine = snapshots.folder()
    child = os.fork()
    if child == 0:
        table[0] = 5.0  # the child's copy of the table: the parent's snapshot is untouched
        ok = identity.code_hash(f) != first and snapshots.folder() != mine
        sys.exit(0 if ok else 3)  # a normal exit: its atexit handlers run
    _, status = os.waitpid(child, 0)
    print(os.WEXITSTATUS(status), os.listdir(mine) != [], identity.code_hash(f) == first)
    """


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork")
@needs_shm
def test_a_forked_child_neither_reuses_nor_removes_its_parents_shared_copies():
    done = _script(FORK_SCRIPT)
    assert done.stdout.split() == ["0", "True", "True"], done.stderr
    # Keeping snapshots starts no thread (Python 3.12+ warns of a fork with threads).
    assert "Warning" not in done.stderr, done.stderr
