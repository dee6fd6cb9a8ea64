"""ds.spdc.integrate: any picklable integrand over a labelled grid, on the same engine."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr
from integrands import fails_at_three, gaussian, overlap_integrand
from references import envelope, overlap_mpmath

import xr_spdc


def test_users_overlap_integrand_reproduces_the_overlap(small_grid):
    mine = small_grid.spdc.integrate(overlap_integrand, workers=1)
    ref = np.array([[overlap_mpmath(p, x) for x in small_grid.xi.values]
                    for p in small_grid.phi.values])
    scale = np.array([envelope(x) for x in small_grid.xi.values])
    assert mine.dims == ("phi", "xi") and mine.dtype == np.complex128
    assert (np.abs(mine.values - ref) / scale).max() <= 1e-10


def test_per_point_limits_give_the_displaced_focus_with_its_imaginary_part():
    ds = xr.Dataset(coords={"phi": [-3.27], "xi": [2.84], "mu": [0.0, 0.5]})
    out = ds.spdc.integrate(overlap_integrand, lower=-1 - ds.mu, upper=1 - ds.mu, workers=1)
    np.testing.assert_allclose(out.sel(mu=0.5).values.ravel(),
                               [1.8749364636075691 + 0.1799436008783811j], rtol=1e-11)
    assert out.attrs["quad_failed_points"] == 0


def test_parameters_default_to_the_integrands_own_names_and_can_be_mapped():
    ds = xr.Dataset(coords={"w": [0.5, 1.0, 2.0]})
    out = ds.spdc.integrate(gaussian, params={"width": "w"}, lower=-np.inf, upper=np.inf,
                            workers=1)
    np.testing.assert_allclose(out.values.real, math.sqrt(math.pi) * ds.w.values, rtol=1e-10)
    assert (out.values.imag == 0).all()
    assert out.attrs["integrand"] == "integrands.gaussian"
    assert (out.attrs["lower"], out.attrs["upper"]) == (-np.inf, np.inf)


def test_missing_parameter_is_named():
    with pytest.raises(ValueError, match="width: the Dataset has no variable 'width'"):
        xr.Dataset(coords={"w": [1.0]}).spdc.integrate(gaussian)


def test_pool_equals_serial_bitwise(small_grid):
    serial = small_grid.spdc.integrate(overlap_integrand, workers=1)
    pooled = small_grid.spdc.integrate(overlap_integrand, workers=2)
    assert serial.values.tobytes() == pooled.values.tobytes()


def test_lambda_works_in_process_but_is_refused_for_a_pool_with_advice():
    ds = xr.Dataset(coords={"a": [1.0, 2.0]})
    out = ds.spdc.integrate(lambda l, a: a * l * l, workers=1)  # noqa: E731
    np.testing.assert_allclose(out.values.real, 2 / 3 * ds.a.values)
    with pytest.raises(TypeError, match="top level of an importable module"):
        ds.spdc.integrate(lambda l, a: a * l * l, workers=2)


def test_integrand_failure_names_the_point():
    ds = xr.Dataset(coords={"a": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(xr_spdc.FanoutError, match=r"a=3\.0.*LocalError: a = 3 is not allowed"):
        ds.spdc.integrate(fails_at_three, workers=2)


def test_not_callable_is_a_type_error():
    with pytest.raises(TypeError, match="integrand must be callable"):
        xr.Dataset(coords={"a": [1.0]}).spdc.integrate("sin")


def test_scalar_parameters_give_a_single_value():
    out = xr_spdc.integrate(None, gaussian, params={"width": 1.0}, lower=0.0, upper=np.inf)
    assert out.dims == () and float(out.width) == 1.0
    np.testing.assert_allclose(out.values.real, math.sqrt(math.pi) / 2, rtol=1e-10)


def test_nan_limit_is_refused():
    with pytest.raises(ValueError, match="upper must be a number"):
        xr.Dataset(coords={"a": [1.0]}).spdc.integrate(fails_at_three, upper=np.nan)
