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


def test_a_lambda_gives_the_same_values_in_process_and_on_a_pool():
    ds = xr.Dataset(coords={"a": [1.0, 2.0]})
    serial = ds.spdc.integrate(lambda l, a: a * l * l, workers=1)
    pooled = ds.spdc.integrate(lambda l, a: a * l * l, workers=2)
    np.testing.assert_allclose(serial.values.real, 2 / 3 * ds.a.values, rtol=1e-13)
    assert serial.values.tobytes() == pooled.values.tobytes()


def test_integrand_failure_names_the_point():
    ds = xr.Dataset(coords={"a": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(xr_spdc.FanoutError, match=r"a=3\.0.*LocalError: a = 3 is not allowed"):
        ds.spdc.integrate(fails_at_three, workers=2)


@pytest.mark.parametrize(("integrand", "text"), [
    ("sin", "got the non-callable 'sin'"),
    (np.cos, "cannot be read: wrap it, e.g. lambda l, k: np.cos"),
    (lambda l, *args: l, "takes *args, which cannot be matched to variables by name"),
    (lambda l: l * l, "has no parameters and the limits are numbers"),
    (lambda: 1.0, "takes no integration variable"),
])
def test_an_integrand_of_the_wrong_shape_is_told_what_it_must_look_like(integrand, text):
    with pytest.raises(TypeError) as info:
        xr_spdc.integrate(None, integrand, workers=1)
    assert str(info.value).startswith("the integrand must be a Python function of the "
                                      "integration variable and named parameters, f(l, a, b)")
    assert text in str(info.value)


def test_params_the_integrand_cannot_take_are_named():
    with pytest.raises(TypeError, match=r"cannot be called as f\(l, a, b\).*'b'"):
        xr.Dataset(coords={"b": [1.0]}).spdc.integrate(lambda l, a: a, params={"b": "b"})


def test_an_integrand_without_parameters_integrates_over_per_point_limits():
    ds = xr.Dataset(coords={"top": [1.0, 2.0]})
    out = ds.spdc.integrate(lambda l: l * l, lower=0.0, upper="top", workers=1)
    np.testing.assert_allclose(out.values.real, ds.top.values ** 3 / 3, rtol=1e-13)


def test_scalar_parameters_give_a_single_value():
    out = xr_spdc.integrate(None, gaussian, params={"width": 1.0}, lower=0.0, upper=np.inf)
    assert out.dims == () and float(out.width) == 1.0
    np.testing.assert_allclose(out.values.real, math.sqrt(math.pi) / 2, rtol=1e-10)


def test_nan_limit_is_refused():
    with pytest.raises(ValueError, match="upper must be a number"):
        xr.Dataset(coords={"a": [1.0]}).spdc.integrate(fails_at_three, upper=np.nan)


def test_breakpoints_reach_quadpack_where_they_lie_inside_the_limits():
    from scipy.integrate import IntegrationWarning

    # A peak of width 1e-5 at l = 0.3: QUADPACK misses it without the breakpoint.
    def peak(l, a):
        return a / (1 + ((l - 0.3) / 1e-5) ** 2)

    ds = xr.Dataset(coords={"a": [1.0]})
    exact = 1e-5 * (math.atan(0.7 / 1e-5) + math.atan(1.3 / 1e-5))
    out = ds.spdc.integrate(peak, points=[5.0, 0.3], workers=1)  # 5.0: outside, unused
    assert out.attrs["points"] == [0.3, 5.0] and out.attrs["quad_failed_points"] == 0
    np.testing.assert_allclose(out.values.real, exact, rtol=1e-10)
    with pytest.warns(IntegrationWarning, match="quad did not reach"):
        missed = ds.spdc.integrate(peak, workers=1)
    assert abs(missed.values.real[0] - exact) > 0.5 * exact


@pytest.mark.parametrize(("points", "exc"), [("0.3", TypeError), ([np.nan], ValueError),
                                             ([True], TypeError)])
def test_bad_breakpoints_are_refused(points, exc):
    with pytest.raises(exc, match="points must be"):
        xr.Dataset(coords={"a": [1.0]}).spdc.integrate(gaussian_a, points=points)


def gaussian_a(l, a):
    return math.exp(-a * l * l)


def test_a_nan_parameter_is_refused_eagerly_and_lazily():
    pytest.importorskip("dask")
    ds = xr.Dataset({"a": ("p", [1.0, np.nan, 2.0])})
    with pytest.raises(ValueError, match=r"a must be finite; 1 of 3 values of 'a' are not: "
                                         r"nan at p\[1\]"):
        ds.spdc.integrate(gaussian_a, workers=1)
    lazy = ds.chunk(p=2).spdc.integrate(gaussian_a)
    with pytest.raises(ValueError, match=r"a must be finite; 1 of 2 values of 'a' in a chunk "
                                         r"are not: nan at p\[1\]"):
        lazy.compute()


def test_a_hanging_integrand_is_stopped_by_timeout_naming_the_block():
    import time

    ds = xr.Dataset(coords={"a": [1.0, 2.0]})
    start = time.monotonic()
    with pytest.raises(xr_spdc.FanoutError, match=r"from point 0 \(a=1\.0.*did not finish "
                                                  r"within timeout=0\.5 s"):
        ds.spdc.integrate(lambda l, a: time.sleep(60) or a, workers=1, timeout=0.5)
    assert time.monotonic() - start < 5.0


def test_a_stdlib_executor_that_cannot_send_a_lambda_says_why():
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ds = xr.Dataset(coords={"k": [1.0, 2.0]})
    # forkserver: forking this multi-threaded test process would warn (Python >= 3.12).
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver")
                             ) as executor, pytest.raises(
            TypeError, match=r"the executor passed as workers= could not send the work"):
        ds.spdc.integrate(lambda l, k: np.cos(k * l), workers=executor)


def test_params_maps_one_name_and_the_others_are_found_by_name():
    ds = xr.Dataset(coords={"dk_L": [-1.0, 0.5], "xi": [0.5, 2.0]})

    def f(l, phi, xi):
        return math.cos(phi * l) / (1 + xi * l * l)

    got = ds.spdc.integrate(f, params={"phi": "dk_L"}, workers=1)
    want = ds.spdc.integrate(f, params={"phi": "dk_L", "xi": "xi"}, workers=1)
    xr.testing.assert_identical(got, want)
