"""ds.spdc.overlap: inputs found and broadcast the xarray way, results labelled for netCDF."""

from __future__ import annotations

import numbers
import pickle
import sys

import numpy as np
import pytest
import xarray as xr
from blockfuncs import fail_quad_at

import xr_spdc
from xr_spdc.engine import methods
from xr_spdc.engine.methods import Method

QUAD = {"method": "quad", "workers": 1}


def test_grid_gives_labelled_complex_overlap(small_grid):
    o = small_grid.spdc.overlap(**QUAD)
    assert o.name == "overlap"
    assert o.dtype == np.complex128
    assert o.dims == ("phi", "xi") and o.shape == (7, 6)
    np.testing.assert_array_equal(o.phi.values, small_grid.phi.values)
    assert o.attrs["long_name"] == "spatial-mode overlap" and o.attrs["units"] == "1"
    assert o.attrs["method"] == "quad" and o.attrs["xr_spdc_version"] == xr_spdc.__version__
    assert "exp(i*phi*l/2)" in o.attrs["formula"]
    assert (o.attrs["epsabs"], o.attrs["epsrel"], o.attrs["limit"]) == (1e-10, 1e-10, 200)


def test_attrs_are_netcdf_safe_values(small_grid):
    o = small_grid.spdc.overlap(**QUAD)
    for obj in [o, o.phi, o.xi]:
        for key, value in obj.attrs.items():
            assert isinstance(value, (str, numbers.Number)) and not isinstance(value, bool), key


def test_dims_follow_xarray_broadcasting_order():
    ds = xr.Dataset(coords={"xi": [1.0, 2.0], "phi": [0.0, 1.0, 2.0]})
    o = ds.spdc.overlap(**QUAD)
    assert o.dims == xr.broadcast(ds.phi, ds.xi)[0].dims == ("phi", "xi")
    swapped = ds.spdc.overlap(phi="phi", xi="xi", **QUAD)
    np.testing.assert_array_equal(swapped.values, o.values)


def test_input_coords_gain_long_name_and_units_without_touching_the_dataset(small_grid):
    o = small_grid.spdc.overlap(**QUAD)
    assert o.phi.attrs == {"long_name": "phase mismatch", "units": "rad"}
    assert o.xi.attrs == {"long_name": "aggregate focus", "units": "1"}
    assert small_grid.phi.attrs == {} and small_grid.xi.attrs == {}


def test_existing_coord_attrs_are_kept(small_grid):
    ds = small_grid.assign_coords(phi=small_grid.phi.assign_attrs(long_name="Φ"))
    o = ds.spdc.overlap(**QUAD)
    assert o.phi.attrs == {"long_name": "Φ", "units": "rad"}


def test_points_along_one_dim_are_scattered_points():
    ds = xr.Dataset({"phi": ("point", [0.0, -np.pi, 2 * np.pi]),
                     "xi": ("point", [1.0, 1.0, 2.84])}, coords={"point": [10, 11, 12]})
    o = ds.spdc.overlap(**QUAD)
    assert o.dims == ("point",)
    assert list(o.point.values) == [10, 11, 12]
    np.testing.assert_array_equal(o.phi.values, ds.phi.values)  # the inputs ride along
    np.testing.assert_allclose(o.values.real, [np.pi / 2, 1.6314352236527800,
                                               -0.26631083505093987], rtol=1e-12)


def test_extra_dims_are_kept(small_grid):
    ds = small_grid.assign(xi_per_crystal=small_grid.xi * xr.DataArray([1.0, 2.0],
                                                                       dims="crystal"))
    o = ds.spdc.overlap(xi="xi_per_crystal", **QUAD)
    assert set(o.dims) == {"phi", "xi", "crystal"}
    assert o.sizes == {"phi": 7, "xi": 6, "crystal": 2}
    expected = ds.spdc.overlap(xi=ds.xi_per_crystal.isel(crystal=1), **QUAD)
    np.testing.assert_array_equal(o.isel(crystal=1).values, expected.values)


def test_names_can_be_overridden():
    ds = xr.Dataset(coords={"dk_L": [0.0, -np.pi], "focus": [1.0]})
    o = ds.spdc.overlap(phi="dk_L", xi="focus", **QUAD)
    assert o.dims == ("dk_L", "focus")
    assert o.dk_L.attrs["units"] == "rad"
    np.testing.assert_allclose(o.values.real.ravel(), [np.pi / 2, 1.6314352236527800],
                               rtol=1e-12)


def test_scalar_input_becomes_a_scalar_coordinate(small_grid):
    o = xr_spdc.overlap(small_grid, xi=2.84, **QUAD)
    assert o.dims == ("phi",)
    assert float(o.xi) == 2.84 and o.xi.attrs["units"] == "1"


def test_module_function_and_accessor_agree(small_grid):
    xr.testing.assert_identical(xr_spdc.overlap(small_grid, **QUAD),
                                small_grid.spdc.overlap(**QUAD))


def test_dataset_with_accessor_still_pickles(small_grid):
    small_grid.spdc.overlap(**QUAD)  # creates and caches the accessor
    xr.testing.assert_identical(pickle.loads(pickle.dumps(small_grid)), small_grid)


@pytest.mark.parametrize("method", ["quad", "auto"])
def test_pool_results_bitwise_equal_to_serial(classic, method):
    ds = classic.isel(phi=slice(0, 100, 3), xi=slice(0, 100, 2)) if method == "quad" else classic
    serial = ds.spdc.overlap(method=method, workers=1)
    pooled = ds.spdc.overlap(method=method, workers=2)
    assert serial.values.tobytes() == pooled.values.tobytes()
    xr.testing.assert_identical(serial, pooled)


@pytest.mark.parametrize("workers", [1, 2])
def test_worker_failure_through_the_accessor_names_the_point(monkeypatch, workers):
    monkeypatch.setitem(methods.METHODS["overlap"], "failing", Method(
        fail_quad_at, methods.METHODS["overlap"]["quad"].outputs, block_size=4,
        seconds_per_point=1e-4,
        options=("epsabs", "epsrel", "limit")))
    xi = np.linspace(0.1, 3.0, 40)
    xi[30] = 0.5  # fail_quad_at fails here
    ds = xr.Dataset({"phi": ("point", np.linspace(-5, 5, 40)), "xi": ("point", xi)})
    with pytest.raises(xr_spdc.FanoutError) as info:
        ds.spdc.overlap(method="failing", workers=workers)
    err = info.value
    assert err.point == {"phi": ds.phi.values[30], "xi": 0.5, "mu": 0.0}
    assert err.index == 30
    assert "xi=0.5" in str(err) and "Traceback (in " in str(err)
    partial = err.partial[0]
    assert partial.dims == ("point",) and partial.phi.attrs["units"] == "rad"
    assert np.isnan(partial.values[28:32]).all()  # the failing block
    finished = np.isfinite(partial.values)
    expected = ds.spdc.overlap(method="quad", workers=1)
    np.testing.assert_array_equal(partial.values[finished], expected.values[finished])
    if workers == 1:  # in-process, blocks run in order: everything before the failure is kept
        assert finished[:28].all() and not finished[28:].any()


def test_a_mu_coordinate_in_the_dataset_is_used_and_mu_none_ignores_it():
    ds = xr.Dataset(coords={"phi": [-3.0], "xi": [2.84], "mu": [0.0, 1.0]})
    o = ds.spdc.overlap(**QUAD)
    assert o.dims == ("phi", "xi", "mu")
    one = xr_spdc.overlap(phi=-3.0, xi=2.84, mu=1.0, **QUAD)
    assert o.sel(mu=1.0).values.item() == one.values.item() != o.sel(mu=0.0).values.item()
    ignored = ds.spdc.overlap(mu=None, **QUAD)
    assert ignored.dims == ("phi", "xi") and float(ignored.mu) == 0.0


def test_a_mu_data_variable_is_used_too():
    ds = xr.Dataset({"mu": ("crystal", [0.5, -0.5])}, coords={"phi": [-3.0], "xi": [2.84]})
    o = ds.spdc.overlap(**QUAD)
    assert o.sizes == {"phi": 1, "xi": 1, "crystal": 2}
    np.testing.assert_array_equal(o.mu.values, [0.5, -0.5])
    assert o.mu.attrs["long_name"] == "focal displacement"


def test_mu_is_recorded_also_when_zero(small_grid):
    o = small_grid.spdc.overlap(**QUAD)
    assert o.mu.dims == () and float(o.mu) == 0.0
    assert o.mu.attrs["long_name"] == "focal displacement" and o.mu.attrs["units"] == "1"
    assert "the focus lies mu*L/2 beyond the crystal's centre" in o.mu.attrs["comment"]


def test_the_result_records_which_coordinates_played_phi_xi_mu():
    ds = xr.Dataset(coords={"dk_L": [0.0, -1.0], "focus": [1.0], "shift": [0.25]})
    o = ds.spdc.overlap(phi="dk_L", xi="focus", mu="shift", **QUAD)
    assert o.attrs["xr_spdc_inputs"] == "phi: dk_L xi: focus mu: shift"
    from xr_spdc.labelled.names import input_names

    assert input_names(o) == {"phi": "dk_L", "xi": "focus", "mu": "shift"}


@pytest.mark.parametrize("method", ["auto", "quad"])
def test_stacked_points_keep_their_multiindex_and_unstack_to_the_grid(small_grid, method):
    grid = small_grid.spdc.overlap(method=method, workers=1)
    stacked = small_grid.stack(pt=("phi", "xi")).spdc.overlap(method=method, workers=1)
    assert stacked.dims == ("pt",) and "pt" in stacked.xindexes
    xr.testing.assert_identical(stacked.unstack("pt").transpose("phi", "xi"), grid)


def test_the_accessor_shows_the_full_signature_and_docstring(small_grid):
    import inspect

    overlap_params = inspect.signature(small_grid.spdc.overlap).parameters
    assert {"phi", "xi", "mu", "method", "workers", "chunks", "timeout"} <= set(overlap_params)
    assert "ds" not in overlap_params
    # The function's docstring, less the entry of the Dataset the accessor supplies.
    indent = "" if sys.version_info >= (3, 13) else "    "  # 3.13 dedents docstrings
    supplied = (f"{indent}ds : xarray.Dataset, optional\n"
                f"{indent}    Holds the inputs as coordinates or data variables.\n")
    assert supplied in xr_spdc.overlap.__doc__
    assert small_grid.spdc.overlap.__doc__ == xr_spdc.overlap.__doc__.replace(supplied, "")
    assert "integrand" in inspect.signature(small_grid.spdc.integrate).parameters
    o = small_grid.spdc.overlap(**QUAD)
    assert list(inspect.signature(o.spdc.h).parameters) == ["phi", "xi"]
    import pydoc

    assert "workers : int, concurrent.futures.Executor or None" in pydoc.render_doc(
        small_grid.spdc.overlap)


def test_accessors_hold_nothing_but_forwards():
    from xr_spdc import accessor

    for cls in (accessor.SpdcDatasetAccessor, accessor.SpdcDataArrayAccessor):
        own = {k for k in vars(cls) if not k.startswith("__")}
        assert all(isinstance(vars(cls)[k], accessor._Forward) for k in own), own


@pytest.mark.parametrize("method", ["auto", "quad"])
def test_eager_and_lazy_give_the_same_values_attrs_and_coords(small_grid, method):
    pytest.importorskip("dask")
    eager = small_grid.spdc.overlap(method=method, workers=1)
    lazy = small_grid.spdc.overlap(method=method, chunks={"phi": 3}).compute()
    quad_attrs = {"quad_max_abserr", "quad_failed_points"}
    assert {k: v for k, v in eager.attrs.items() if k not in quad_attrs} == lazy.attrs
    lazy.attrs = eager.attrs
    xr.testing.assert_identical(eager, lazy)
