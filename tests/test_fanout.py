"""The fan-out engine: blocks, pools, failures and warnings, independent of the physics."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sys
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pytest
from blockfuncs import die_in_worker, fail_at, warn_always, which_process

from xr_spdc import fanout
from xr_spdc.methods import quad_block


def _inputs(n: int = 1000):
    phi = np.linspace(-3.0, 3.0, n)
    xi = np.linspace(0.1, 10.0, n)
    return [phi, xi, np.zeros(n)]


def test_block_slices_cover_every_point_once():
    slices = list(fanout.block_slices(10, 4))
    assert [(s.start, s.stop) for s in slices] == [(0, 4), (4, 8), (8, 10)]
    assert list(fanout.block_slices(0, 4)) == []


@pytest.mark.parametrize("workers", [1, 2])
def test_run_blocks_reassembles_outputs_in_order(workers):
    arrays = _inputs(1000)
    (out,) = fanout.run_blocks(fail_at, arrays, names=["phi", "xi", "mu"],
                               out_dtypes=[np.complex128], kwargs={"bad_xi": -1.0},
                               workers=workers, block_size=64)
    np.testing.assert_array_equal(out, arrays[0] + 1j * arrays[1])


def test_fanout_error_pickles_with_all_its_fields():
    err = fanout.FanoutError("failed at point 3", {"phi": 1.0, "xi": 2.0}, 3, "Traceback...")
    back = pickle.loads(pickle.dumps(err))
    assert (back.message, back.point, back.index, back.worker_traceback) == (
        err.message, err.point, err.index, err.worker_traceback)
    assert "Traceback in the worker" in str(back)


@pytest.mark.parametrize("workers", [1, 2])
def test_unpicklable_worker_exception_names_the_point(workers):
    arrays = _inputs(1000)
    bad = arrays[1][737]
    with pytest.raises(fanout.FanoutError) as info:
        fanout.run_blocks(fail_at, arrays, names=["phi", "xi", "mu"],
                          out_dtypes=[np.complex128], kwargs={"bad_xi": bad},
                          workers=workers, block_size=100)
    err = info.value
    assert err.index == 737
    assert err.point == {"phi": arrays[0][737], "xi": bad, "mu": 0.0}
    assert f"xi={float(bad)!r}" in str(err)
    assert "QuadpackLikeError: Supplied function does not return a valid float." in str(err)
    assert "Traceback in the worker" in str(err) and "fail_at" in err.worker_traceback
    assert "MaybeEncodingError" not in str(err)


def test_failure_keeps_completed_blocks_in_partial():
    arrays = _inputs(1000)
    with pytest.raises(fanout.FanoutError) as info:
        fanout.run_blocks(fail_at, arrays, names=["phi", "xi", "mu"],
                          out_dtypes=[np.complex128], kwargs={"bad_xi": arrays[1][950]},
                          workers=1, block_size=100)
    (partial,) = info.value.partial
    # Blocks before the failing one (in-process, in order) are kept; the rest are NaN.
    np.testing.assert_array_equal(partial[:900], arrays[0][:900] + 1j * arrays[1][:900])
    assert np.isnan(partial[900:]).all()


def test_killed_worker_raises_quickly_without_hanging():
    arrays = _inputs(400)
    with pytest.raises(fanout.WorkerDiedError, match="worker process died") as info:
        fanout.run_blocks(die_in_worker, arrays, names=["phi", "xi", "mu"],
                          out_dtypes=[np.complex128], workers=2, block_size=50)
    # The worker died on its first block, points 0..49; blocks done in this process are kept.
    (partial,) = info.value.partial
    assert info.value.index == 0 and "points 0..49" in str(info.value)
    assert np.isnan(partial[:50]).all()
    done = ~np.isnan(partial)
    np.testing.assert_array_equal(partial[done], (arrays[0] + 1j * arrays[1])[done])


def test_worker_warnings_reach_the_caller_once_with_a_count():
    arrays = _inputs(400)
    with pytest.warns(UserWarning, match=r"a warning from the block \(in 8 blocks\)") as rec:
        fanout.run_blocks(warn_always, arrays, names=["phi", "xi", "mu"],
                          out_dtypes=[np.complex128], workers=2, block_size=50)
    assert len([w for w in rec if "a warning from the block" in str(w.message)]) == 1


def test_unpicklable_function_is_refused_with_advice():
    def local_block(phi, xi, mu):
        return (phi + 0j,)

    with pytest.raises(TypeError, match="top level of an importable module"):
        fanout.run_blocks(local_block, _inputs(10), names=["phi", "xi", "mu"],
                          out_dtypes=[np.complex128], workers=2, block_size=5)


@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_pool_runs_under_spawn_and_forkserver_bitwise_equal_to_serial(start_method):
    arrays = _inputs(200)
    options = {"epsabs": 1e-10, "epsrel": 1e-10, "limit": 200}
    dtypes = [np.complex128, np.float64, np.int8]
    serial = fanout.run_blocks(quad_block, arrays, names=["phi", "xi", "mu"],
                               out_dtypes=dtypes, kwargs=options, workers=1, block_size=50)
    pooled = fanout.run_blocks(quad_block, arrays, names=["phi", "xi", "mu"],
                               out_dtypes=dtypes, kwargs=options, workers=2, block_size=50,
                               start_method=start_method)
    for a, b in zip(serial, pooled, strict=True):
        assert a.tobytes() == b.tobytes()


def test_available_cpus_is_positive():
    assert fanout.available_cpus() >= 1


def test_workers_counts_the_calling_process_which_computes_too():
    # Once the pool has started a first time (the forkserver's ~1 s): a cold start could
    # let this process finish every block before the worker is up, and rightly so.
    fanout.run_blocks(which_process, _inputs(10), names=["phi", "xi", "mu"],
                      out_dtypes=[np.float64], workers=2, block_size=5)
    (pids,) = fanout.run_blocks(which_process, _inputs(2000), names=["phi", "xi", "mu"],
                                out_dtypes=[np.float64], workers=2, block_size=50)
    by_process = {int(pid): int((pids == pid).sum()) for pid in np.unique(pids)}
    assert len(by_process) == 2 and os.getpid() in by_process, by_process


def _shared_segments() -> set[str]:
    return {name for name in os.listdir("/dev/shm") if name.startswith("psm_")}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/dev/shm is Linux's")
@pytest.mark.parametrize("block_func, kwargs, error", [
    (fail_at, {"bad_xi": -1.0}, None),
    (fail_at, {"bad_xi": 5.0}, fanout.FanoutError),
    (die_in_worker, {}, fanout.WorkerDiedError),
])
def test_shared_memory_is_released_after_success_and_failure(block_func, kwargs, error):
    arrays = [np.linspace(-3.0, 3.0, 1000), np.linspace(0.1, 10.0, 1000), np.zeros(1000)]
    arrays[1][500] = 5.0
    before = _shared_segments()
    try:
        fanout.run_blocks(block_func, arrays, names=["phi", "xi", "mu"],
                          out_dtypes=[np.complex128], kwargs=kwargs, workers=2, block_size=50)
    except Exception as exc:  # noqa: BLE001 - the expected type is checked below
        assert error is not None and isinstance(exc, error), exc
    else:
        assert error is None
    assert _shared_segments() <= before


def test_no_shared_memory_falls_back_to_this_process_with_a_warning(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("/dev/shm has less than the 1000 bytes needed free")

    monkeypatch.setattr(fanout, "_Slots", refuse)
    arrays = _inputs(300)
    with pytest.warns(RuntimeWarning, match=r"workers=2 ignored: no shared memory .*/dev/shm"):
        (pids,) = fanout.run_blocks(which_process, arrays, names=["phi", "xi", "mu"],
                                    out_dtypes=[np.float64], workers=2, block_size=50)
    assert set(pids) == {os.getpid()}


def test_a_worker_gets_no_block_before_it_is_up_and_is_stopped_if_never_needed():
    # Under spawn a worker needs ~1 s to start; two 10 ms blocks are done here long before,
    # so none may have gone to it (it would hold the call up), and it is gone afterwards.
    (pids,) = fanout.run_blocks(which_process, _inputs(100), names=["phi", "xi", "mu"],
                                out_dtypes=[np.float64], workers=2, block_size=50,
                                start_method="spawn")
    assert set(pids) == {os.getpid()}
    assert multiprocessing.active_children() == []


def test_a_pool_that_cannot_start_raises_instead_of_hanging(monkeypatch):
    def refuse(self, *args, **kwargs):
        raise OSError("Too many open files")

    monkeypatch.setattr(fanout.ProcessPoolExecutor, "submit", refuse)
    with pytest.raises(OSError, match="Too many open files"):
        fanout.run_blocks(which_process, _inputs(1000), names=["phi", "xi", "mu"],
                          out_dtypes=[np.float64], workers=2, block_size=50)


def test_a_pool_broken_between_blocks_is_a_worker_died_error_keeping_the_work(monkeypatch):
    # The pool can break (a worker killed) after the last result was collected and before
    # the next block is sent: submit itself raises then.
    original = fanout.ProcessPoolExecutor.submit
    sent = []

    def breaks_on_the_third_block(self, fn, *args, **kwargs):
        if fn is fanout._run_slot:
            sent.append(args[1])
            if len(sent) == 3:
                raise BrokenProcessPool("A child process terminated abruptly")
        return original(self, fn, *args, **kwargs)

    fanout.run_blocks(which_process, _inputs(10), names=["phi", "xi", "mu"],  # warm start
                      out_dtypes=[np.float64], workers=2, block_size=5)
    monkeypatch.setattr(fanout.ProcessPoolExecutor, "submit", breaks_on_the_third_block)
    arrays = _inputs(4000)
    with pytest.raises(fanout.WorkerDiedError, match="died .* between blocks") as info:
        fanout.run_blocks(which_process, arrays, names=["phi", "xi", "mu"],
                          out_dtypes=[np.float64], workers=2, block_size=50)
    assert isinstance(info.value.__cause__, BrokenProcessPool)
    # The two blocks sent before the break, and this process's own, are kept.
    (partial,) = info.value.partial
    done = ~np.isnan(partial)
    assert 0 < done.sum() < partial.size
    assert (partial[:100] != os.getpid()).all() and np.isfinite(partial[:100]).all()
