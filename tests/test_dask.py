"""Dask-backed inputs: lazy results, equal to the eager ones, on every scheduler."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import xarray as xr

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


def test_bad_values_in_dask_input_name_the_point_when_computed(scattered):
    bad = scattered.copy(deep=True)
    bad["xi"][33] = -1.0
    o = bad.chunk(point=10).spdc.overlap()  # values cannot be checked before computing
    with pytest.raises(xr_spdc.FanoutError, match=r"xi=-1\.0.*xi positive and finite"):
        o.compute()


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
