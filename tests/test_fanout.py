"""The engine: blocks, loky's reusable pool, failures and warnings, independent of physics."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest
from blockfuncs import (
    die_in_worker,
    exit_in_worker,
    fail_at,
    sleepy,
    warn_always,
    which_process,
)

from xr_spdc.engine import fanout
from xr_spdc.engine.methods import overlap_quad_block as quad_block

NAMES = ["phi", "xi", "mu"]


def _inputs(n: int = 1000):
    return [np.linspace(-3.0, 3.0, n), np.linspace(0.1, 10.0, n), np.zeros(n)]


def _run(func, arrays, **kwargs):
    kwargs.setdefault("out_dtypes", [np.complex128])
    return fanout.run_blocks(func, arrays, names=NAMES, **kwargs)


def test_block_slices_cover_every_point_once():
    slices = list(fanout.block_slices(10, 4))
    assert [(s.start, s.stop) for s in slices] == [(0, 4), (4, 8), (8, 10)]
    assert list(fanout.block_slices(0, 4)) == []


@pytest.mark.parametrize("workers", [1, 2])
def test_run_blocks_reassembles_outputs_in_order(workers):
    arrays = _inputs(1000)
    (out,) = _run(fail_at, arrays, kwargs={"bad_xi": -1.0}, workers=workers, block_size=64)
    np.testing.assert_array_equal(out, arrays[0] + 1j * arrays[1])


def test_pool_is_bitwise_equal_to_serial():
    arrays = _inputs(200)
    options = {"epsabs": 1e-10, "epsrel": 1e-10, "limit": 200}
    dtypes = [np.complex128, np.float64, np.int8]
    serial = _run(quad_block, arrays, out_dtypes=dtypes, kwargs=options, workers=1,
                  block_size=50)
    pooled = _run(quad_block, arrays, out_dtypes=dtypes, kwargs=options, workers=2,
                  block_size=50)
    for a, b in zip(serial, pooled, strict=True):
        assert a.tobytes() == b.tobytes()


def test_user_code_runs_only_in_the_workers_and_the_pool_is_reused():
    (first,) = _run(which_process, _inputs(200), out_dtypes=[np.float64], workers=2,
                    block_size=10)
    (second,) = _run(which_process, _inputs(200), out_dtypes=[np.float64], workers=2,
                     block_size=10)
    assert os.getpid() not in set(first) | set(second)
    assert len(set(first)) == 2 and set(first) == set(second)  # the same two processes
    (alone,) = _run(which_process, _inputs(20), out_dtypes=[np.float64], workers=1,
                    block_size=10)
    assert set(alone) == {os.getpid()}


def test_lambdas_and_local_functions_run_on_the_pool():
    offset = 3.0

    def local_block(phi, xi, mu):
        return (phi + offset + 0j,)

    arrays = _inputs(100)
    (out,) = _run(local_block, arrays, workers=2, block_size=10)
    np.testing.assert_array_equal(out, arrays[0] + offset)
    (out,) = _run(lambda phi, xi, mu: (phi * xi + 0j,), arrays, workers=2, block_size=10)
    np.testing.assert_array_equal(out, arrays[0] * arrays[1])


def test_fanout_error_pickles_with_all_its_fields():
    err = fanout.FanoutError("failed at point 3", {"phi": 1.0, "xi": 2.0}, 3, "Traceback...",
                             {"point": 7}, "in worker process 123")
    back = pickle.loads(pickle.dumps(err))
    assert (back.message, back.point, back.index, back.worker_traceback, back.position,
            back.where) == (err.message, err.point, err.index, err.worker_traceback,
                            err.position, err.where)
    assert "Traceback (in worker process 123):" in str(back)


@pytest.mark.parametrize("workers", [1, 2])
def test_unpicklable_worker_exception_names_the_point(workers):
    arrays = _inputs(1000)
    bad = arrays[1][737]
    with pytest.raises(fanout.FanoutError) as info:
        _run(fail_at, arrays, kwargs={"bad_xi": bad}, workers=workers, block_size=100)
    err = info.value
    assert err.index == 737
    assert err.point == {"phi": arrays[0][737], "xi": bad, "mu": 0.0}
    assert f"xi={float(bad)!r}" in str(err)
    assert "QuadpackLikeError: Supplied function does not return a valid float." in str(err)
    where = "in this process" if workers == 1 else "in worker process "
    assert where in err.where and f"Traceback ({where}" in str(err)
    assert str(err).count(f"xi={float(bad)!r}") == 1  # the point, named once
    assert "fail_at" in err.worker_traceback


def test_failure_keeps_completed_blocks_in_partial():
    arrays = _inputs(1000)
    with pytest.raises(fanout.FanoutError) as info:
        _run(fail_at, arrays, kwargs={"bad_xi": arrays[1][950]}, workers=1, block_size=100)
    (partial,) = info.value.partial
    np.testing.assert_array_equal(partial[:900], arrays[0][:900] + 1j * arrays[1][:900])
    assert np.isnan(partial[900:]).all()


def test_locate_gives_the_index_and_position_in_the_whole_array():
    arrays = _inputs(100)
    with pytest.raises(fanout.FanoutError) as info:
        _run(fail_at, arrays, kwargs={"bad_xi": arrays[1][42]}, workers=1, block_size=10,
             locate=lambda i: (1000 + i, {"point": f"p{i}"}))
    assert info.value.index == 1042 and info.value.position == {"point": "p42"}
    assert "at point 1042" in str(info.value) and "point='p42'" in str(info.value)


def test_killed_worker_raises_quickly_and_the_next_call_gets_a_fresh_pool():
    arrays = _inputs(400)
    start = time.monotonic()
    with pytest.raises(fanout.WorkerDiedError, match="worker process died") as info:
        _run(die_in_worker, arrays, workers=2, block_size=50)
    assert time.monotonic() - start < 5.0
    assert info.value.index in range(0, 400, 50) and "from point" in str(info.value)
    assert info.value.partial is not None and info.value.partial[0].shape == (400,)
    (out,) = _run(fail_at, arrays, kwargs={"bad_xi": -1.0}, workers=2, block_size=50)
    np.testing.assert_array_equal(out, arrays[0] + 1j * arrays[1])


@pytest.mark.parametrize("how, error", [("os._exit", fanout.WorkerDiedError),
                                        ("sys.exit", fanout.FanoutError)])
def test_user_code_ending_its_process_ends_the_call_not_the_caller(how, error):
    with pytest.raises(error) as info:
        _run(exit_in_worker, _inputs(100), kwargs={"how": how}, workers=2, block_size=50)
    if error is fanout.FanoutError:
        assert "SystemExit: 3" in str(info.value) and info.value.index == 0


def test_worker_warnings_reach_the_caller_once_with_a_count():
    with pytest.warns(UserWarning, match=r"a warning from the block \(in 8 blocks\)") as rec:
        _run(warn_always, _inputs(400), workers=2, block_size=50)
    assert len([w for w in rec if "a warning from the block" in str(w.message)]) == 1


def test_a_block_over_its_timeout_is_named_and_its_worker_stopped():
    arrays = [np.arange(6.0), np.ones(6), np.zeros(6)]
    start = time.monotonic()
    with pytest.raises(fanout.FanoutError, match=r"block of 2 points from point 0 \(phi=0\.0"
                                                 r".*did not finish within timeout=0\.3 s"):
        _run(sleepy, arrays, kwargs={"seconds": 30.0}, workers=2, block_size=2, timeout=0.3)
    assert time.monotonic() - start < 5.0
    (out,) = _run(sleepy, arrays, kwargs={"seconds": 0.0}, workers=1, block_size=2,
                  timeout=5.0)  # a fresh pool; workers=1 with a timeout uses one worker
    np.testing.assert_array_equal(out, arrays[0] + 1j)


# forkserver: forking this multi-threaded test process would warn (Python >= 3.12).
@pytest.mark.parametrize("make", [lambda: ThreadPoolExecutor(2), lambda: ProcessPoolExecutor(
    2, mp_context=multiprocessing.get_context("forkserver"))])
def test_a_users_executor_is_used_as_given_and_left_running(make):
    arrays = _inputs(300)
    with make() as executor:
        (out,) = _run(fail_at, arrays, kwargs={"bad_xi": -1.0}, workers=executor,
                      block_size=50)
        np.testing.assert_array_equal(out, arrays[0] + 1j * arrays[1])
        assert executor.submit(abs, -2).result() == 2  # not shut down by us


def test_workers_above_the_cpus_are_capped_with_one_warning():
    cpus = fanout.available_cpus()
    with pytest.warns(RuntimeWarning, match=rf"workers={cpus + 5} capped at {cpus}") as rec:
        assert fanout.resolve_workers(cpus + 5, 10**6, 1.0) == cpus
    assert len(rec) == 1


def test_workers_none_uses_a_pool_only_when_it_pays():
    executor = ThreadPoolExecutor(1)
    assert fanout.resolve_workers(executor, 10, 1.0) is executor
    assert fanout.resolve_workers(None, 10**7, 1e-6) == fanout.available_cpus()
    assert fanout.resolve_workers(2, 1, 1.0) == min(2, fanout.available_cpus())


def test_available_cpus_is_positive():
    assert fanout.available_cpus() >= 1


def test_progress_bar_moves_block_by_block_on_a_pool(capsys):
    import re

    arrays = [np.zeros(60), np.ones(60), np.zeros(60)]
    _run(sleepy, arrays, kwargs={"seconds": 0.15}, workers=2, block_size=10, progress=True)
    counts = {round(float(n)) for n in re.findall(r"(\d+(?:\.\d+)?)/60",
                                                   capsys.readouterr().err)}
    assert 60 in counts and counts & set(range(1, 60))  # it moved before the end


def test_the_packages_own_kernel_keeps_a_single_block_in_this_process():
    (one,) = _run(which_process, _inputs(10), out_dtypes=[np.float64], workers=2,
                  block_size=10, isolate=False)
    assert set(one) == {os.getpid()}
    (two,) = _run(which_process, _inputs(20), out_dtypes=[np.float64], workers=2,
                  block_size=10, isolate=False)
    assert os.getpid() not in set(two)
    (user,) = _run(which_process, _inputs(10), out_dtypes=[np.float64], workers=2,
                   block_size=10)
    assert os.getpid() not in set(user)
