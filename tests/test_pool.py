"""The process's one pool under stress (issue 22): large captured state, threads, fork,
nested calls, unsendable objects, stalls, and how failures are reported (issue 21)."""

from __future__ import annotations

import gc
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Executor, Future
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from blockfuncs import die_in_worker, sleepy, which_process
from poolfuncs import (
    CountsItsArrivals,
    fail_where,
    nested_policy,
    returns_a_generator,
    stop_once,
    table_kind,
    uses,
)

from xr_spdc.engine import fanout
from xr_spdc.labelled.inputs import check_workers

NAMES = ["phi", "xi", "mu"]
CPUS = fanout.available_cpus()
TESTS = Path(__file__).parent


def _inputs(n: int):
    return [np.arange(float(n)), np.ones(n), np.zeros(n)]


def _run(func, arrays, **kwargs):
    kwargs.setdefault("out_dtypes", [np.complex128])
    return fanout.run_blocks(func, arrays, names=NAMES, **kwargs)


def _both_workers_up() -> None:
    """Warm the two-worker pool until both of its workers have run a block (one call can
    run every block on one worker while the other is still starting, e.g. after a test
    that killed one)."""
    seen: set[float] = set()
    for _ in range(50):
        seen |= set(_run(which_process, _inputs(8), out_dtypes=[np.float64], workers=2,
                         block_size=2)[0])
        if len(seen) >= 2:
            return
    raise AssertionError(f"the pool's two workers did not both run a block: {seen}")


# ------------------------------------------------------------ large captured state


def test_a_calls_options_reach_each_worker_once_not_with_every_block(tmp_path):
    log = tmp_path / "arrivals"
    thing = CountsItsArrivals(str(log))
    (out,) = _run(uses, _inputs(400), kwargs={"thing": thing}, workers=2, block_size=10)
    np.testing.assert_array_equal(out, np.arange(400.0) + 1j)
    arrivals = log.read_text().split()
    # 40 blocks: before, the options travelled with each block (40 arrivals).
    assert 1 <= len(arrivals) <= 2 and len(set(arrivals)) == len(arrivals)
    assert str(os.getpid()) not in arrivals


def test_a_large_array_in_the_options_is_shared_read_only_by_the_workers():
    table = np.arange(2 * 2**20 // 8, dtype=np.float64)  # 2 MB: above the sharing threshold
    (out,) = _run(table_kind, _inputs(100), out_dtypes=[np.float64],
                  kwargs={"table": table}, workers=2, block_size=10)
    np.testing.assert_array_equal(out, 1.0)  # memory-mapped in every block
    (serial,) = _run(table_kind, _inputs(10), out_dtypes=[np.float64],
                     kwargs={"table": table}, workers=1, block_size=10)
    np.testing.assert_array_equal(serial, 0.0)  # in process: the caller's own array
    # The table's shared copy is kept for the next call while the table lives.
    assert _ours_in_shm()
    del table
    gc.collect()
    assert not _ours_in_shm()


def _ours_in_shm() -> list[str]:
    return [e for e in os.listdir("/dev/shm") if e.startswith(f"xr_spdc-{os.getpid()}-")]


def test_a_calls_folder_goes_even_if_a_worker_marks_a_block_while_it_is_removed(
        monkeypatch):
    # A block dropped after a failure still computes when its call ends, and writes its
    # mark into the call's folder as it starts.  Here that mark lands at the worst instant,
    # just before the folder's rmdir (before: 6 failing calls in 100 left their folder in
    # /dev/shm, and a later test here found it).
    made: list[str] = []
    real_mkdtemp, real_rmdir = tempfile.mkdtemp, os.rmdir

    def mkdtemp(*args, **kwargs):
        made.append(real_mkdtemp(*args, **kwargs))
        return made[-1]

    def rmdir(path, *args, **kwargs):
        # (by name: rmtree may pass a name and a dir_fd)
        if made and os.path.basename(os.fspath(path)).startswith(os.path.basename(made[0])):
            try:  # what the worker does: open(<the call's folder>/<pid>.running, "w")
                open(os.path.join(made[0], "4242.running"), "w").close()
            except OSError:
                pass
        return real_rmdir(path, *args, **kwargs)

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    monkeypatch.setattr(os, "rmdir", rmdir)
    (out,) = _run(uses, _inputs(20), kwargs={"thing": None}, workers=2, block_size=10)
    monkeypatch.undo()
    np.testing.assert_array_equal(out, np.arange(20.0) + 1j)
    assert made and not [e for e in os.listdir(os.path.dirname(made[0]))
                         if e.startswith(os.path.basename(made[0]))]


def test_an_integrand_closing_over_a_table_gives_the_serial_values_on_the_pool():
    table = np.linspace(0.0, 1.0, 300_000)  # 2.4 MB, memory-mapped in the workers
    ds = xr.Dataset(coords={"a": np.linspace(0.0, 1.0, 40)})

    def f(l, a):
        return a * l + table[int(a * 1000)]

    pooled = ds.spdc.integrate(f, workers=2)
    serial = ds.spdc.integrate(f, workers=1)
    assert pooled.values.tobytes() == serial.values.tobytes()


# ------------------------------------------------------------ threads


def _in_threads(*jobs):
    results: list = [None] * len(jobs)

    def run(k, job):
        try:
            results[k] = ("ok", job())
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            results[k] = ("error", exc)

    threads = [threading.Thread(target=run, args=(k, job)) for k, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def test_threads_share_one_pool_of_at_most_the_cpus_with_bitwise_equal_results():
    arrays = _inputs(400)
    results = _in_threads(*[lambda: _run(which_process, arrays, out_dtypes=[np.float64],
                                         workers=2, block_size=10)] * 4)
    assert all(kind == "ok" for kind, _ in results), results
    pids = set().union(*(set(value[0]) for _, value in results))
    assert os.getpid() not in pids and len(pids) <= CPUS  # before: 2 per thread, 8 in all
    quad = _run(fail_where, arrays, kwargs={"bad": []}, workers=1, block_size=10)
    for kind, value in _in_threads(*[lambda: _run(fail_where, arrays, kwargs={"bad": []},
                                                   workers=2, block_size=10)] * 3):
        assert kind == "ok" and value[0].tobytes() == quad[0].tobytes()


def test_a_timeout_in_one_thread_does_not_fail_another_threads_call():
    arrays = _inputs(60)
    results = _in_threads(
        lambda: _run(sleepy, _inputs(4), kwargs={"seconds": 30.0}, workers=2, block_size=2,
                     timeout=1.0),
        lambda: (time.sleep(0.3), _run(sleepy, arrays, kwargs={"seconds": 0.1}, workers=2,
                                       block_size=4))[1])
    (kind, err), (other, value) = results
    assert kind == "error" and isinstance(err, fanout.FanoutError) and "timeout=1.0" in str(err)
    assert other == "ok", value
    np.testing.assert_array_equal(value[0], arrays[0] + 1j)


def test_a_worker_dying_in_one_threads_block_does_not_fail_another_threads_call():
    arrays = _inputs(60)
    results = _in_threads(
        lambda: (time.sleep(0.5), _run(die_in_worker, _inputs(20), workers=2,
                                       block_size=5))[1],
        lambda: _run(sleepy, arrays, kwargs={"seconds": 0.1}, workers=2, block_size=4))
    (kind, err), (other, value) = results
    assert kind == "error" and isinstance(err, fanout.WorkerDiedError), err
    assert other == "ok", value
    np.testing.assert_array_equal(value[0], arrays[0] + 1j)


# ------------------------------------------------------------ fork

FORK_SCRIPT = """
import os, sys, warnings
warnings.simplefilter("error")
# The one warning allowed: this test forks a process that has threads (the warm pool's)
# on purpose; Python >= 3.12 warns that the child may deadlock, which is what is tested.
warnings.filterwarnings("ignore", r"This process \\(pid=\\d+\\) is multi-threaded, use of "
                        r"fork\\(\\) may lead to deadlocks", DeprecationWarning)
import numpy as np
from blockfuncs import which_process
from xr_spdc.engine import fanout

arrays = [np.arange(40.0), np.ones(40), np.zeros(40)]
def pids():
    return set(fanout.run_blocks(which_process, arrays, names=["phi", "xi", "mu"],
                                 out_dtypes=[np.float64], workers=2, block_size=5)[0])
parents = pids()  # a warm pool; until both of its workers have been seen (the first call
for _ in range(50):  # can run every block on one while the other is still starting)
    if len(parents) == 2:
        break
    parents |= pids()
child = os.fork()
if child == 0:
    import signal
    signal.alarm(60)  # before the fix the child waited forever on the parent's executor
    mine = pids()
    print("child", "fresh" if not mine & parents and os.getpid() not in mine else "reused",
          flush=True)
    fanout._POOL.executor.shutdown(wait=True)  # os._exit skips it: its locks would leak
    os._exit(0)
_, status = os.waitpid(child, 0)
print("parent", "ok" if pids() <= parents else "changed", os.waitstatus_to_exitcode(status))
"""


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork")
def test_a_forked_child_of_a_warm_parent_starts_its_own_pool():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS),
                                                        os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", FORK_SCRIPT], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.stdout.split("\n")[:2] == ["child fresh", "parent ok 0"], done.stderr
    assert "Warning" not in done.stderr, done.stderr


# ------------------------------------------------------------ nested calls


def test_inside_a_pool_worker_calls_run_in_process_with_one_warning_for_an_explicit_count():
    with pytest.warns(RuntimeWarning, match=r"workers=2 runs in this process: this is a "
                                            r"worker of xr_spdc's pool") as record:
        (out,) = _run(nested_policy, _inputs(40), out_dtypes=[np.float64], workers=2,
                      block_size=10)
    np.testing.assert_array_equal(out, 11.0)  # None -> 1, explicit 2 -> 1 (before: 2, 2)
    assert len([w for w in record if "runs in this process" in str(w.message)]) == 1


def test_a_dask_worker_runs_calls_in_process():
    distributed = pytest.importorskip("distributed")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=1,
                            dashboard_address=":0") as client:
        auto, reason = client.submit(lambda: (fanout.resolve_workers(None, 10**9, 1.0),
                                              fanout.nested_reason())).result()
    assert auto == 1 and reason == "this is a dask worker"


# ------------------------------------------------------------ what cannot be sent


@pytest.mark.parametrize("make, kind", [
    (threading.Lock, "a _thread.lock"),
    (lambda: (x for x in range(3)), "a generator"),
    (lambda: open(os.devnull, "w"), "an open file '/dev/null'"),  # read-only ones pickle
])
def test_an_unsendable_capture_is_named_with_where_it_was_found(make, kind):
    thing = make()
    ds = xr.Dataset(coords={"a": [1.0, 2.0, 3.0]})

    def f(l, a):
        return a * l if thing is not None else 0.0

    try:
        with pytest.raises(TypeError, match=rf"variable 'thing' in the closure of the "
                                            rf"integrand \({kind}") as info:
            ds.spdc.integrate(f, workers=2)
    finally:
        if hasattr(thing, "close"):
            thing.close()
    assert "standard library" not in str(info.value) and "workers=1" in str(info.value)


def test_an_unsendable_result_is_named_as_the_result():
    with pytest.raises(fanout.FanoutError, match=r"its result could not be sent back: item 0 "
                                                 r"of the result \(a generator\)"):
        _run(returns_a_generator, _inputs(20), workers=2, block_size=10)


# ------------------------------------------------------------ stalls


@pytest.mark.slow
def test_a_stopped_worker_without_timeout_is_reported_once_with_its_block_and_pid(
        tmp_path, monkeypatch):
    # A warm pool first: the 1.5 s run from the call's start, and a cold pool's workers
    # take ~0.5-1.5 s to start here under load; a warning issued while they start names no
    # block ("computing nothing (the workers may be starting or stopped)"), which this test
    # would read as a failure (it did, after tests that left no pool up).
    _both_workers_up()
    monkeypatch.setattr(fanout, "STALL_SECONDS", 1.5)
    mark = tmp_path / "stopped"

    def resume():  # the test's own watchdog: SIGCONT once the warning had time to appear
        deadline = time.monotonic() + 60
        while not mark.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(4.0)
        os.kill(int(mark.read_text()), signal.SIGCONT)

    watchdog = threading.Thread(target=resume, daemon=True)
    watchdog.start()
    with pytest.warns(RuntimeWarning, match=r"no block has finished for 1\.5 s: computing the "
                                            r"block from point 0 \(phi=0\.0, xi=1\.0, mu=0\.0\)"
                                            r" in worker process \d+ \(stopped") as record:
        (out,) = _run(stop_once, _inputs(4), kwargs={"folder": str(tmp_path)}, workers=2,
                      block_size=4)
    watchdog.join()
    np.testing.assert_array_equal(out, np.arange(4.0) + 1j)
    assert len([w for w in record if "no block has finished" in str(w.message)]) == 1
    assert f"worker process {mark.read_text()}" in str(record[0].message)


# ------------------------------------------------------------ how failures are reported


@pytest.mark.slow
def test_the_first_failing_point_in_grid_order_is_reported_with_the_count_of_others(
        tmp_path, monkeypatch):
    arrays = _inputs(40)
    # Both workers up first: the block holding point 3 waits for the failure at point 12,
    # which the other worker must compute (a worker still starting would hold it back).
    _both_workers_up()
    # The block holding point 3 finishes only once this process has taken the failure at
    # point 12 (before: it slept 1 s, and under load which failure came back first, and
    # what else with it, was left to chance).
    taken = tmp_path / "later-failure-taken"
    real_failed = fanout._Run.failed

    def failed(run, block, failure):
        real_failed(run, block, failure)
        if block.start >= 10:
            taken.touch()

    monkeypatch.setattr(fanout._Run, "failed", failed)
    with pytest.raises(fanout.FanoutError) as info:
        _run(fail_where, arrays, kwargs={"bad": [3.0, 5.0, 12.0], "slow_before": 10.0,
                                         "until": str(taken)}, workers=2, block_size=10)
    err = info.value
    assert taken.exists()  # the later failure did come back first
    assert err.index == 3 and err.point["phi"] == 3.0
    assert "in worker process" in str(err) and err.where.startswith("in worker process")
    # Blocks 20-39 were sent before the failure at 12 was known, and a worker may have
    # finished them in the same instant: they are dropped all the same.
    assert "first failing point in grid order; 2 other points failed among the 20 evaluated " \
           "(20 not evaluated)" in str(err)


class _AllAtOnce(Executor):
    """An executor that runs each task as it is submitted: every block sent comes back
    finished in one wait, as when a worker runs the blocks queued for it faster than the
    calling process wakes up to take a failure."""

    _max_workers = 2  # the engine sends 2 blocks per worker: all 4 blocks at once

    def submit(self, fn, /, *args, **kwargs):
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def test_blocks_after_a_failure_that_come_back_with_it_are_dropped_not_counted():
    with pytest.raises(fanout.FanoutError) as info:
        _run(fail_where, _inputs(40), kwargs={"bad": [12.0, 25.0]}, workers=_AllAtOnce(),
             block_size=10)
    assert info.value.index == 12
    # Before: the blocks from 20, finished with the failing one, were stored and counted
    # ("1 other point failed among the 40 evaluated"), as they were in a pooled call
    # whenever this process woke up late.
    assert "first failing point in grid order; 0 other points failed among the 20 evaluated " \
           "(20 not evaluated)" in str(info.value)
    (partial,) = info.value.partial
    np.testing.assert_array_equal(partial[:10], np.arange(10.0) + 1j)
    assert np.isnan(partial[10:]).all()


def test_a_failure_in_process_says_so():
    with pytest.raises(fanout.FanoutError, match=r"at point 5 \(phi=5\.0, xi=1\.0, mu=0\.0\) "
                                                 r"in this process: ValueError") as info:
        _run(fail_where, _inputs(20), kwargs={"bad": [5.0]}, workers=1, block_size=10)
    assert "Traceback (in this process):" in str(info.value)
    assert "0 other points failed among the 10 evaluated (10 not evaluated)" in str(info.value)


def test_a_failure_names_the_point_once_with_its_coordinates():
    ds = xr.Dataset(coords={"a": [1.0, 2.0, 3.0]})
    with pytest.raises(fanout.FanoutError) as info:
        ds.spdc.integrate(lambda l, a: 1.0 / (a - 2.0), workers=1)
    first_line = str(info.value).splitlines()[0]
    assert first_line.count("a=2.0") == 1, first_line


# ------------------------------------------------------------ the workers policy


def test_the_capped_warning_points_at_the_callers_line_once_per_process():
    ds = xr.Dataset(coords={"phi": [0.0, 1.0], "xi": [1.0, 2.0]})
    with pytest.warns(RuntimeWarning, match=rf"workers={CPUS + 3} capped at {CPUS}") as record:
        ds.spdc.overlap(workers=CPUS + 3)
        ds.spdc.overlap(workers=CPUS + 3)
    capped = [w for w in record if "capped" in str(w.message)]
    assert len(capped) == 1 and capped[0].filename == __file__


@pytest.mark.parametrize("workers, expected", [(-1, CPUS), (-2, max(CPUS - 1, 1)),
                                               (-(CPUS + 5), 1)])
def test_negative_workers_count_back_from_the_cpus_as_joblib_does(workers, expected):
    assert check_workers(workers) == expected
    assert fanout.resolve_workers(workers, 10, 1.0) == expected
    ds = xr.Dataset(coords={"phi": [0.0, 1.0], "xi": [1.0, 2.0]})
    xr.testing.assert_identical(ds.spdc.overlap(workers=workers),
                                ds.spdc.overlap(workers=1))


# ------------------------------------------------------------ progress in a notebook


class _Kernel:
    """What tqdm and we look at to tell a Jupyter kernel: its shell's config."""

    config = {"IPKernelApp": {}}


def test_in_a_notebook_without_ipywidgets_the_text_bar_shows_and_updates(monkeypatch, capsys):
    IPython = pytest.importorskip("IPython")
    monkeypatch.setattr(IPython, "get_ipython", lambda: _Kernel())
    monkeypatch.setattr("tqdm.notebook.IProgress", None)  # as when ipywidgets is missing
    monkeypatch.setattr(fanout, "_IN_POOL_WORKER", False)
    _run(sleepy, [np.zeros(40), np.ones(40), np.zeros(40)], kwargs={"seconds": 0.4},
         workers=1, block_size=5, progress=None)
    err = capsys.readouterr().err
    counts = {round(float(n)) for n in re.findall(r"(\d+(?:\.\d+)?)/40", err)}
    # Before: stderr is not a terminal in a kernel, so the default showed nothing.
    assert 40 in counts and len(counts) >= 3, err
