"""Dask-backed inputs: lazy results, equal to the eager ones, on every scheduler."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import xarray as xr
from scipy.integrate import IntegrationWarning

import xr_spdc

dask = pytest.importorskip("dask")


class _RaiseOnCompute:
    """A dask scheduler that fails if anything is computed (cf_xarray's pattern)."""

    def __init__(self) -> None:
        self.computes = 0

    def __call__(self, dsk, keys, **kwargs):
        self.computes += 1
        raise RuntimeError("dask computed something it should have left lazy")


@pytest.fixture
def scattered() -> xr.Dataset:
    """Points along one dim, as data variables (index coordinates never become dask)."""
    rng = np.random.default_rng(1)
    return xr.Dataset({"phi": ("point", rng.uniform(-7, 3, 60) * np.pi),
                       "xi": ("point", 10 ** rng.uniform(-1.5, 2.5, 60))})


@pytest.mark.parametrize("method", ["auto", "quad"])
def test_chunked_input_gives_a_lazy_result_without_computing(scattered, method):
    chunked = scattered.chunk(point=16)
    with dask.config.set(scheduler=_RaiseOnCompute()):
        o = chunked.spdc.overlap(method=method)
    assert o.chunks == ((16, 16, 16, 12),)
    assert o.dtype == np.complex128 and o.name == "overlap"
    assert o.attrs["long_name"] == "spatial-mode overlap" and o.phi.attrs["units"] == "rad"


@pytest.mark.parametrize("method", ["auto", "quad"])
def test_lazy_equals_eager_bitwise(scattered, method):
    eager = scattered.spdc.overlap(method=method, workers=1)
    lazy = scattered.chunk(point=7).spdc.overlap(method=method).compute()
    assert eager.values.tobytes() == lazy.values.tobytes()
    assert lazy.attrs["method"] == eager.attrs["method"]
    xr.testing.assert_identical(eager.mu, lazy.mu)
    assert lazy.attrs["xr_spdc_inputs"] == eager.attrs["xr_spdc_inputs"]


def test_chunks_argument_evaluates_a_grid_lazily(small_grid):
    with dask.config.set(scheduler=_RaiseOnCompute()):
        o = small_grid.spdc.overlap(method="quad", chunks={"phi": 3})
    assert o.chunks == ((3, 3, 1), (6,))
    eager = small_grid.spdc.overlap(method="quad", workers=1)
    assert o.compute().values.tobytes() == eager.values.tobytes()


def test_processes_scheduler_gives_the_same_values(scattered):
    eager = scattered.spdc.overlap(method="quad", workers=1)
    lazy = scattered.chunk(point=20).spdc.overlap(method="quad")
    np.testing.assert_array_equal(lazy.compute(scheduler="processes").values, eager.values)


@pytest.mark.timeout(120)
def test_distributed_local_cluster_gives_the_same_values(scattered):
    distributed = pytest.importorskip("distributed")
    eager = scattered.spdc.overlap(method="auto", workers=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, timeout="60s") as cluster, \
            distributed.Client(cluster, timeout="60s") as client:
        lazy = scattered.chunk(point=15).spdc.overlap()
        values = client.compute(lazy).result(timeout=60)
    np.testing.assert_array_equal(values.values, eager.values)


def test_workers_with_dask_input_is_refused(scattered):
    with pytest.raises(ValueError, match="workers=2 cannot be used with dask-backed inputs"):
        scattered.chunk(point=10).spdc.overlap(workers=2)


@pytest.mark.parametrize("call", [
    lambda ds: ds.spdc.overlap(),
    lambda ds: ds.spdc.overlap(method="quad"),
    lambda ds: ds.spdc.integrate(lambda l, phi, xi: phi * xi * l),
])
def test_bad_values_in_dask_input_raise_what_eager_input_raises(scattered, call):
    bad = scattered.assign_coords(point=np.arange(100, 160)).copy(deep=True)
    bad["xi"][33] = np.nan
    with pytest.raises(ValueError, match=r"xi must be (positive and )?finite; 1 of 60 values of "
                                         r"'xi' are not: nan at point=133"):
        call(bad)
    lazy = call(bad.chunk(point=10))  # values cannot be checked before computing
    with pytest.raises(ValueError, match=r"xi must be (positive and )?finite; 1 of 10 values of "
                                         r"'xi' in a chunk are not: nan at point=133"):
        lazy.compute()


@pytest.mark.parametrize("workers", [1, None])
def test_a_failing_point_is_named_by_its_place_in_the_whole_array(monkeypatch, scattered,
                                                                  workers):
    from blockfuncs import fail_quad_at

    from xr_spdc.engine import methods

    monkeypatch.setitem(methods.METHODS["overlap"], "failing", methods.Method(
        fail_quad_at, methods.QUAD_OUTPUTS, block_size=4, seconds_per_point=1e-4,
        options=("epsabs", "epsrel", "limit")))
    ds = scattered.assign_coords(point=np.arange(100, 160))
    ds["xi"][45] = 0.5  # fail_quad_at fails here
    chunked = ds.chunk(point=10) if workers is None else ds
    with pytest.raises(xr_spdc.FanoutError) as info:
        chunked.spdc.overlap(method="failing", workers=workers).compute()
    assert info.value.index == 45 and info.value.position == {"point": 145}
    assert "at point 45" in str(info.value) and "point=145" in str(info.value)


def test_a_lazy_quad_result_warns_when_computed(scattered):
    hard = scattered.assign(xi=scattered.xi * 0 + 1e6)  # quad falls short at huge xi
    lazy = hard.chunk(point=30).spdc.overlap(method="quad", limit=3)
    assert "quad_failed_points" not in lazy.attrs
    with pytest.warns(IntegrationWarning, match="quad did not reach epsabs/epsrel"):
        lazy = lazy.compute()
    with pytest.warns(IntegrationWarning, match="quad did not reach epsabs/epsrel"):
        eager = hard.spdc.overlap(method="quad", limit=3, workers=1)
    assert eager.attrs["quad_failed_points"] > 0
    assert eager.values.tobytes() == lazy.values.tobytes()


def test_integrate_lazy_equals_eager_with_the_same_attrs(scattered):
    def f(l, phi, xi):
        return np.exp(0.5j * phi * l) / (1 - 1j * xi * l) ** 2

    eager = scattered.spdc.integrate(f, workers=1)
    lazy = scattered.chunk(point=25).spdc.integrate(f)
    assert eager.values.tobytes() == lazy.compute().values.tobytes()
    assert {k: v for k, v in eager.attrs.items() if not k.startswith("quad_")} == lazy.attrs


def test_missing_dask_gives_an_install_hint(monkeypatch, small_grid):
    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.setitem(sys.modules, "dask.array", None)
    with pytest.raises(ImportError, match=r"pip install 'xr_spdc\[dask\]'"):
        small_grid.spdc.overlap(chunks=3)
    assert small_grid.spdc.overlap(method="quad", workers=1).shape == (7, 6)  # eager works


def test_chunks_lift_the_in_memory_size_limit():
    phi = xr.DataArray(np.linspace(-7, 3, 20_000) * np.pi, dims="phi", name="phi")
    xi = xr.DataArray(np.logspace(-1.5, 2.5, 10_000), dims="xi", name="xi")
    with pytest.raises(ValueError, match=r"2e\+08 points .* chunk them with dask"):
        xr_spdc.overlap(phi=phi, xi=xi)
    with dask.config.set(scheduler=_RaiseOnCompute()):
        lazy = xr_spdc.overlap(phi=phi, xi=xi, chunks={"phi": 1000})
    assert lazy.shape == (20_000, 10_000) and lazy.chunks is not None
    corner = lazy.isel(phi=slice(0, 2), xi=slice(0, 3)).compute()
    assert corner.values.tobytes() == xr_spdc.overlap(
        phi=phi[:2], xi=xi[:3], workers=1).values.tobytes()


@pytest.mark.timeout(120)
def test_a_distributed_clients_executor_can_be_the_workers(scattered):
    distributed = pytest.importorskip("distributed")
    eager = scattered.spdc.overlap(method="quad", workers=1)
    from concurrent.futures import Executor

    class Counting(Executor):
        def __init__(self, inner):
            self.inner, self.submitted = inner, 0

        def submit(self, fn, /, *args, **kwargs):
            self.submitted += 1
            return self.inner.submit(fn, *args, **kwargs)

    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None) as client:
        executor = Counting(client.get_executor())
        pooled = scattered.spdc.overlap(method="quad", workers=executor)
        assert executor.submitted == 1  # the one block went to the cluster
        assert client.get_executor().submit(abs, -1).result() == 1  # never shut down by us
    xr.testing.assert_identical(pooled, eager)
