"""Sweeps on dask.distributed: graphs that never hold the grid, to_zarr on a process cluster,
a lost worker, a failing point, memory:// refused."""

from __future__ import annotations

import os
import pickle
import signal
import threading
import time

import numpy as np
import pytest
import xarray as xr

import xr_spdc
from xr_spdc.labelled import sweep

dask = pytest.importorskip("dask")
zarr = pytest.importorskip("zarr")

from dask.core import get_dependencies  # noqa: E402

from xr_spdc import zarr_io  # noqa: E402  (needs zarr)


def big_grid(n_phi: int = 10_000, n_xi: int = 10_000) -> xr.Dataset:
    return xr.Dataset(coords={"phi": np.linspace(-7, 3, n_phi) * np.pi,
                              "xi": np.logspace(-1.5, 2.5, n_xi)})


def integrand(l, phi, xi):
    return np.exp(0.5j * phi * l) / (1 - 1j * xi * l)


@pytest.mark.parametrize("family", ["overlap", "overlap quad", "focusing", "integrate"])
def test_a_1e8_point_graph_has_few_tasks_and_no_full_size_input(family):
    """10⁸ points: ≤ 10⁴ tasks, and no task of the graph holds a broadcast input (each chunk
    forms its own outer product of the 1-D coordinates)."""
    ds = big_grid()
    if family == "overlap":
        lazy = ds.spdc.overlap(chunks="auto")
    elif family == "overlap quad":
        lazy = ds.spdc.overlap(chunks={"phi": 100}, method="quad")
    elif family == "focusing":
        lazy = ds.rename(phi="sigma").spdc.focusing(chunks="auto", B=1.5)
    else:
        lazy = ds.spdc.integrate(integrand, chunks="auto")
    assert lazy.size == 10**8
    graph = dict(lazy.data.__dask_graph__())
    assert len(graph) <= 10**4
    # "auto": chunks of ~1 s of the method's estimated work, ≤ 2²⁰ points, ≤ ~3072 chunks
    assert lazy.data.npartitions <= 2 * sweep.AUTO_MAX_CHUNKS  # whole rows
    # The graph holds the 1-D coordinates (160 KB), never a broadcast input (800 MB each):
    # every chunk's task takes its part of them.
    assert len(pickle.dumps(graph)) < 2 * 2**20
    # The chunks depend on no other task, so dask.distributed spreads them over all its
    # workers (a task with dependencies goes only to a worker holding one of them).
    chunk_tasks = [k for k in graph if k[0].startswith("_call_")]
    assert len(chunk_tasks) == lazy.data.npartitions
    assert all(not get_dependencies(graph, k) for k in chunk_tasks)
    # and a chunk is one task once dask has optimised the graph, for methods with several
    # outputs too (quad's value, abserr and status: the value's field is fused in)
    (optimised,) = dask.optimize(lazy.data)
    assert len(dict(optimised.__dask_graph__())) == lazy.data.npartitions


def test_focusing_from_phi_forms_sigma_chunk_by_chunk():
    """focusing(phi=..., chunks=): σ = −φ/(2ξ) is lazy, formed per chunk (10⁸ points: never
    800 MB in memory or in the graph), and gives the eager values of h and σ bitwise."""
    big = big_grid().spdc.focusing(phi="phi", chunks="auto", B=1.0)
    assert big.sigma.chunks is not None and big.sigma.shape == (10_000, 10_000)
    graph = dict(xr.Dataset({"h": big}).__dask_graph__())
    assert len(pickle.dumps(graph)) < 4 * 2**20
    small = big_grid(60, 40)
    lazy = small.spdc.focusing(phi="phi", chunks={"phi": 25}, B=1.0)
    eager = small.spdc.focusing(phi="phi", B=1.0, workers=1)
    assert lazy.sigma.chunks == ((25, 25, 10), (40,))
    computed = lazy.compute()
    assert computed.values.tobytes() == eager.values.tobytes()
    assert computed.sigma.values.tobytes() == eager.sigma.values.tobytes()
    assert computed.attrs == eager.attrs


def test_dask_kappa_beyond_the_domain_is_refused_as_eagerly():
    """κξ(1+μ) beyond the float64 domain from a dask-backed input: the eager error, raised as
    the chunk computes, naming the point (before: inf, silently)."""
    ds = xr.Dataset({"k": ("n", [0.0, 2.0])}, coords={"sigma": [0.0, 0.5], "xi": [1.0, 300.0]})
    with pytest.raises(ValueError, match="kappa is too large") as eager:
        ds.spdc.focusing(kappa="k", workers=1)
    lazy = ds.chunk({"n": 1}).spdc.focusing(kappa="k")
    with pytest.raises(ValueError, match="kappa is too large") as raised:
        lazy.compute()
    assert "600" in str(raised.value) and "xi=300" in str(raised.value)
    assert "n=1" in str(raised.value)
    assert str(raised.value).split(" = ")[0] == str(eager.value).split(" = ")[0]
    # inside the domain, the same values as eagerly
    ok = ds.assign(k=("n", [0.0, 0.2]))
    np.testing.assert_array_equal(ok.chunk({"n": 1}).spdc.focusing(kappa="k").values,
                                  ok.spdc.focusing(kappa="k", workers=1).values)


def test_in_memory_and_dask_inputs_mixed_give_the_eager_values():
    """A dask-backed input beside in-memory ones, chunked or not: each chunk takes its part of
    the in-memory ones."""
    ds = big_grid(30, 20)
    ds = ds.assign(x2=("xi", ds.xi.values)).swap_dims(xi="xi")
    eager = ds.spdc.overlap(xi="x2", workers=1)
    lazy_xi = ds.assign(x2=ds.x2.chunk({"xi": 7}))
    for lazy in (lazy_xi.spdc.overlap(xi="x2"), lazy_xi.spdc.overlap(xi="x2", chunks={"phi": 8}),
                 lazy_xi.spdc.overlap(xi="x2", chunks={"phi": 8, "xi": 5})):
        assert lazy.chunks is not None
        assert lazy.values.tobytes() == eager.values.tobytes()


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0", timeout="60s") as cluster, \
            distributed.Client(cluster, timeout="60s") as client:
        yield client


@pytest.fixture
def grid() -> xr.Dataset:
    return big_grid(120, 50)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_to_zarr_on_a_process_cluster_is_bitwise_the_eager_result(cluster, grid, tmp_path,
                                                                   capsys):
    lazy = grid.spdc.overlap(chunks={"phi": 20})
    report = xr_spdc.to_zarr(lazy, tmp_path / "c.zarr", progress=True)
    assert (report.chunks, report.written) == (6, 6)
    bar = capsys.readouterr().err
    assert "6/6" in bar and f"dashboard {cluster.dashboard_link}" in bar
    eager = grid.spdc.overlap(workers=1)
    back = xr.open_zarr(tmp_path / "c.zarr", consolidated=False)["overlap"]
    assert back.values.tobytes() == eager.values.tobytes() and back.attrs == eager.attrs
    # quad and a user integrand through the cluster too
    quad = grid.isel(phi=slice(0, 16), xi=slice(0, 8))
    xr_spdc.to_zarr(quad.spdc.integrate(integrand, chunks={"phi": 4}), tmp_path / "i.zarr",
                    progress=False)
    np.testing.assert_array_equal(
        xr_spdc.open_zarr(tmp_path / "i.zarr")["integral"].values,
        quad.spdc.integrate(integrand, workers=1).values)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_memory_store_is_refused_on_a_process_cluster(cluster, grid):
    with pytest.raises(ValueError, match=r"memory:// lives inside one process, but the "
                                         r"dask.distributed cluster at tcp://"):
        xr_spdc.to_zarr(grid.spdc.overlap(chunks={"phi": 20}), "memory://c.zarr")


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_memory_store_works_on_a_thread_cluster(grid):
    distributed = pytest.importorskip("distributed")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=":0"):
        url = f"memory://threads-{os.getpid()}.zarr"
        assert xr_spdc.to_zarr(grid.spdc.overlap(chunks={"phi": 40}), url,
                               progress=False).written == 3
    # Read after the thread client is gone (the process cluster is the default again):
    # memory:// is read in this process, not by dask's workers.
    back = xr_spdc.open_zarr(url)["overlap"]
    assert back.chunks is None
    assert back.values.tobytes() == grid.spdc.overlap(workers=1).values.tobytes()


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_failing_point_is_named_by_its_coordinates_from_a_worker(cluster, tmp_path):
    from integrands import fails_at_three

    ds = xr.Dataset(coords={"a": np.arange(1.0, 13.0)})
    with pytest.raises(xr_spdc.FanoutError, match=r"a=3\.0") as info:
        xr_spdc.to_zarr(ds.spdc.integrate(fails_at_three, chunks={"a": 2}),
                        tmp_path / "f.zarr", progress=False)
    assert info.value.position == {"a": 3.0}


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_worker_killed_mid_run_is_retried_and_the_store_completes(cluster, tmp_path):
    """SIGKILL one worker process while chunks run: dask reschedules its tasks."""
    ds = big_grid(48, 40)
    lazy = ds.spdc.overlap(method="quad", chunks={"phi": 4})  # 12 chunks of ~0.3 s
    path = tmp_path / "k.zarr"
    pids = cluster.run(os.getpid)
    killed: list[int] = []

    def kill_one_worker_midway() -> None:
        marks = path / zarr_io.PROGRESS / "overlap"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if marks.exists() and sum(1 for p in marks.rglob("*")
                                      if p.is_file() and p.name != "zarr.json") >= 3:
                pid = next(iter(pids.values()))
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_one_worker_midway)
    killer.start()
    report = xr_spdc.to_zarr(lazy, path, progress=False)
    killer.join()
    assert killed, "no worker was killed"
    assert (report.chunks, report.written) == (12, 12)
    eager = ds.spdc.overlap(method="quad", workers=1)
    assert xr_spdc.open_zarr(path)["overlap"].values.tobytes() == eager.values.tobytes()
    cluster.wait_for_workers(2, timeout=60)  # the nanny restarts it, for the next tests


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_compute_on_a_cluster_gives_the_eager_values(cluster, grid):
    distributed = pytest.importorskip("distributed")
    """.compute() back to the client through map_outer's chunks (1-D inputs, broadcast in
    each task) gives the eager values."""
    lazy = grid.spdc.overlap(chunks={"phi": 30})
    with distributed.get_task_stream() as stream:
        computed = lazy.compute()
    np.testing.assert_array_equal(computed.values, grid.spdc.overlap(workers=1).values)
    # The chunks depend on no shared task, so both workers computed some (before, all four
    # could queue on the one worker that held the ξ axis).
    ran = {t["worker"] for t in stream.data if "_call_one" in str(t["key"])}
    assert len(ran) == 2


def test_auto_chunks_follow_the_methods_cost():
    # 2²⁰-point chunks gave a 10⁶-point quad sweep one task (~60 s, one worker busy);
    # "auto" now aims at ~1 s of the method's estimated work a chunk.
    ds = big_grid(1000, 1000)
    fast = ds.spdc.overlap(chunks="auto")
    quad = ds.spdc.overlap(chunks="auto", method="quad")
    # 10⁶ points of the exact kernel are ~1 s of estimated work: cut into 10 chunks of 10⁵
    # (≥ 0.1 s each), where one chunk left a cluster's other workers idle.
    assert fast.chunksizes["phi"] == (100,) * 10
    assert quad.data.npartitions >= 32
    assert quad.chunksizes["xi"] == (1000,)  # rows stay whole, as stores keep them


def test_auto_chunks_spread_a_small_sweep_of_a_slow_method():
    # A 100 × 100 grid of a user's integrand (~1-3 s of work) was one 2¹⁵-point chunk: one
    # worker of a cluster computed it all.  Now ≥ 32 chunks of ~0.1 s of estimated work
    # (0.1 s / 3e-4 s a point = 333 points: 3 whole rows).
    ds = big_grid(100, 100)
    lazy = ds.spdc.integrate(lambda l, phi, xi: np.cos(phi * l) * xi, chunks="auto")
    assert lazy.data.npartitions >= 32
    assert lazy.chunksizes["xi"] == (100,)
    assert lazy.chunksizes["phi"][0] == int(sweep.AUTO_MIN_SECONDS / 3e-4) // 100 == 3
    # the exact kernel's 10⁴ points (~10 ms of work) stay one chunk
    assert ds.spdc.overlap(chunks="auto").data.npartitions == 1


def _table_integrand(table: np.ndarray):
    def f(l, phi, xi):
        return np.cos(phi * l) * xi * (1.0 + 1e-3 * table[int(abs(phi) * 7919) % table.size])
    return f


def test_a_large_closure_enters_the_graph_once_not_in_every_chunk():
    # dask.distributed pickles every task it sends: a 2 MB table closed over by the integrand
    # went once per chunk (34 × here; 5 s against 0.4 s eagerly for 200 MB, measured).
    pickle_ = pytest.importorskip("cloudpickle")
    table = np.random.default_rng(0).random(2 * 2**20 // 8)
    ds = big_grid(40, 30)
    lazy = ds.spdc.integrate(_table_integrand(table), chunks={"phi": 4})
    graph = dict(lazy.data.__dask_graph__())
    held = [k for k in graph if str(k).startswith("xr_spdc-shared-")]
    assert len(held) == 1
    chunk_tasks = [v for k, v in graph.items() if k not in held]
    assert len(chunk_tasks) >= 10
    assert max(len(pickle_.dumps(task)) for task in chunk_tasks) < sweep.SHARED_BYTES // 8
    assert len(pickle_.dumps(graph)) < 1.5 * table.nbytes  # the table once in all
    eager = ds.spdc.integrate(_table_integrand(table), workers=1)
    np.testing.assert_array_equal(lazy.compute(scheduler="synchronous").values.real,
                                  eager.values)
    # a small closure stays inside each chunk's task (no shared task: spread from the start)
    small = ds.spdc.integrate(_table_integrand(table[:1000]), chunks={"phi": 4})
    assert not [k for k in small.data.__dask_graph__() if str(k).startswith("xr_spdc-shared")]


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_large_closure_on_a_cluster_gives_the_eager_values(cluster):
    table = np.random.default_rng(1).random(4 * 2**20 // 8)
    ds = big_grid(40, 30)
    eager = ds.spdc.integrate(_table_integrand(table), workers=1)
    lazy = ds.spdc.integrate(_table_integrand(table), chunks="auto").compute()
    np.testing.assert_array_equal(lazy.values.real, eager.values)
    assert not lazy.values.imag.any()
