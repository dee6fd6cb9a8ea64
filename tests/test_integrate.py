"""ds.spdc.integrate: any picklable integrand over a labelled grid, on the same engine."""

from __future__ import annotations

import cmath
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


# --- the loop it replaces: one QUADPACK call a point, the loop's values, real stays real ---


def _quad_loop(f, ds, **options):
    from scipy.integrate import quad

    return np.array([[quad(f, -1.0, 1.0, args=(float(p), float(x)), **options)[0]
                      for x in ds.xi.values] for p in ds.phi.values])


def _seed_integrand(l, phi, xi):
    """The seed blog post's integrand, as it writes it (numpy complex scalars)."""
    return np.sqrt(xi) * np.exp(1j * phi * l / 2.0) / (1.0 - 1j * xi * l)


def _seed_real_part(l, phi, xi):
    t, xl = phi * l / 2.0, xi * l
    return np.sqrt(xi) * (np.cos(t) - xl * np.sin(t)) / (1.0 + xl * xl)


QUAD_DEFAULTS = {"epsabs": 1.49e-8, "epsrel": 1.49e-8, "limit": 50}


@pytest.mark.parametrize(("integrand", "complex_func", "calls_a_point"),
                         [(_seed_real_part, False, 1), (_seed_integrand, True, 2)])
def test_quadpack_is_called_as_often_as_by_a_plain_quad_loop(monkeypatch, small_grid,
                                                              integrand, complex_func,
                                                              calls_a_point):
    """Issue 22 item 1: a real integrand costs one QUADPACK call a point (main: two, real and
    imaginary parts apart), a complex one quad(complex_func=True)'s two; the values are the
    loop's, bit for bit, at the same tolerances."""
    import scipy.integrate

    want = _quad_loop(integrand, small_grid, complex_func=complex_func, **QUAD_DEFAULTS)
    calls = []
    real_quad = scipy.integrate.quad
    monkeypatch.setattr(scipy.integrate, "quad",
                        lambda *a, **k: calls.append(1) or real_quad(*a, **k))
    got = small_grid.spdc.integrate(integrand, workers=1, **QUAD_DEFAULTS)
    assert len(calls) == calls_a_point * small_grid.phi.size * small_grid.xi.size
    assert got.dtype == want.dtype and np.array_equal(got.values, want)


def test_a_real_integrand_calls_the_integrand_as_often_as_the_loop(small_grid):
    """Issue 22 item 1: no second pass over the nodes for the imaginary part of a real
    integrand (main: 234 integrand calls a point where the loop makes about half)."""
    calls = []

    def counted(l, phi, xi):
        calls.append(l)
        return _seed_real_part(l, phi, xi)

    _quad_loop(counted, small_grid)
    in_the_loop = len(calls)
    calls.clear()
    small_grid.spdc.integrate(counted, workers=1, **QUAD_DEFAULTS)
    assert len(calls) == in_the_loop + 1  # and one probe a block (42 points: one block)


def test_a_real_integrand_gives_a_real_result_that_float_takes():
    """Issue 21 item 9: main returned complex128 with +0j, and float(o) failed."""
    o = xr_spdc.integrate(None, lambda l, a: a * l * l, params={"a": 3.0}, workers=1)
    assert o.dtype == np.float64 and float(o) == pytest.approx(2.0, rel=1e-14)
    grid = xr.Dataset(coords={"a": [1.0, 2.0]}).spdc.integrate(gaussian_a, workers=1)
    assert grid.dtype == np.float64


def test_complex_func_true_and_false_choose_the_dtype():
    """Issue 21 item 9: scipy's complex_func= (main: an unexpected keyword)."""
    ds = xr.Dataset(coords={"k": [1.0, 2.0]})
    real = ds.spdc.integrate(lambda l, k: math.cos(k * l), complex_func=True, workers=1)
    assert real.dtype == np.complex128 and (real.values.imag == 0).all()
    wave = ds.spdc.integrate(lambda l, k: np.exp(1j * k * l), complex_func=None, workers=1)
    assert wave.dtype == np.complex128 and (wave.values.imag == 0).all()  # odd: sin
    np.testing.assert_allclose(wave.values.real, 2 * np.sin(ds.k.values) / ds.k.values,
                               rtol=1e-12)
    cos = ds.spdc.integrate(lambda l, k: math.cos(k * l), complex_func=False, workers=1)
    assert cos.dtype == np.float64
    np.testing.assert_array_equal(cos.values, real.values.real)


@pytest.mark.parametrize("integrand", [lambda l, k: cmath.exp(1j * k * l),
                                       lambda l, k: np.exp(1j * k * l)])
def test_complex_func_false_refuses_a_complex_value_instead_of_dropping_it(integrand):
    """Python complex and numpy complex scalars alike (numpy's would be cast with only a
    ComplexWarning)."""
    ds = xr.Dataset(coords={"k": [1.0, 2.0]})
    with pytest.raises(xr_spdc.FanoutError, match=r"k=1\.0.*TypeError: the integrand "
                                                  r"returned a complex value, but "
                                                  r"complex_func=False"):
        ds.spdc.integrate(integrand, complex_func=False, workers=1)


def test_complex_func_is_checked():
    with pytest.raises(TypeError, match="complex_func must be True, False or None"):
        xr.Dataset(coords={"k": [1.0]}).spdc.integrate(lambda l, k: k, complex_func="yes")


def test_a_lazy_result_is_complex_unless_complex_func_is_false():
    """Issue 21 item 9: lazily the dtype is known before anything runs."""
    pytest.importorskip("dask")
    ds = xr.Dataset(coords={"k": [1.0, 2.0, 3.0]})
    lazy = ds.spdc.integrate(lambda l, k: math.cos(k * l), chunks={"k": 2})
    assert lazy.dtype == np.complex128
    eager = ds.spdc.integrate(lambda l, k: math.cos(k * l), workers=1)
    np.testing.assert_array_equal(lazy.values.real, eager.values)
    real = ds.spdc.integrate(lambda l, k: math.cos(k * l), chunks={"k": 2},
                             complex_func=False)
    assert real.dtype == np.float64 and real.chunks is not None
    np.testing.assert_array_equal(real.values, eager.values)


def test_an_integrand_that_turns_complex_midway_gives_a_complex_result():
    ds = xr.Dataset(coords={"k": [1.0, 2.0, 3.0]})
    out = ds.spdc.integrate(lambda l, k: math.cos(l) if k < 2 else cmath.exp(1j * k * l),
                            workers=1)
    assert out.dtype == np.complex128
    np.testing.assert_allclose(out.values, [2 * math.sin(1.0), math.sin(2.0), 2 / 3 *
                                            math.sin(3.0)], rtol=1e-12, atol=1e-15)


def test_the_integrands_own_warnings_reach_the_caller_and_quads_do_not():
    import warnings

    def noisy(l, k):
        warnings.warn("the integrand's own", UserWarning, stacklevel=2)
        return np.complex128(np.cos(k * l))  # a numpy complex: QUADPACK must not cast it

    ds = xr.Dataset(coords={"k": [1.0, 2.0]})
    with pytest.warns(UserWarning, match="the integrand's own") as seen:
        out = ds.spdc.integrate(noisy, workers=1)
    assert {w.category for w in seen} == {UserWarning}  # no ComplexWarning: nothing dropped
    assert out.dtype == np.complex128
    np.testing.assert_allclose(out.values.real, 2 * np.sin(ds.k.values) / ds.k.values,
                               rtol=1e-12)


def test_quadpacks_failures_are_reported_without_full_output():
    from scipy.integrate import IntegrationWarning

    ds = xr.Dataset(coords={"k": [30.0, 0.0]})
    with pytest.warns(IntegrationWarning, match=r"at 2 of 2 points; worst: k=30\.0, lower=-1\.0, "
                                                r"upper=1\.0 \(abserr 1\.1: the maximum "
                                                r"number of subdivisions"):
        out = ds.spdc.integrate(lambda l, k: math.cos(k * l), limit=1, workers=1)
    assert out.attrs["quad_failed_points"] == 2
    with pytest.warns(IntegrationWarning) as seen:
        ds.spdc.integrate(lambda l, k: math.cos(k * l), limit=1, workers=1)
    assert len(seen) == 1  # the summary: scipy's own warnings became the status
    fine = ds.spdc.integrate(lambda l, k: math.cos(k * l), workers=1)
    assert fine.attrs["quad_failed_points"] == 0
    with pytest.warns(IntegrationWarning, match=r"the integral or its error estimate is not "
                                                r"finite"):
        inf = ds.spdc.integrate(lambda l, k: math.inf, workers=1)
    assert inf.attrs["quad_failed_points"] == 2


def test_keyword_only_and_mapped_parameters_are_passed_by_keyword():
    ds = xr.Dataset(coords={"k": [1.0, 2.0], "w": [3.0]})

    def f(l, *, k, a):
        return a * math.cos(k * l)

    out = ds.spdc.integrate(f, params={"a": "w"}, workers=1)
    np.testing.assert_allclose(out.values.ravel(), 3 * 2 * np.sin(ds.k.values) / ds.k.values,
                               rtol=1e-12)


# --- issue 23 item 18: parameters with defaults ------------------------------------------


def test_a_parameter_with_a_default_comes_from_the_dataset_when_it_has_it():
    ds = xr.Dataset(coords={"a": [1.0, 4.0]})
    out = ds.spdc.integrate(lambda l, a=2.0: a, workers=1)
    assert out.dims == ("a",)
    np.testing.assert_allclose(out.values, 2 * ds.a.values, rtol=1e-14)


def test_a_parameter_with_a_default_keeps_it_when_the_dataset_lacks_it():
    ds = xr.Dataset(coords={"k": [1.0, 2.0]})
    out = ds.spdc.integrate(lambda l, k, a=2.0: a * k, workers=1)
    assert out.dims == ("k",) and "a" not in out.coords
    np.testing.assert_allclose(out.values, 4 * ds.k.values, rtol=1e-14)


def test_only_defaulted_parameters_and_no_grid_is_refused_for_what_it_is():
    """Main said the integrand "has no parameters", though it has one, with a default."""
    with pytest.raises(TypeError) as info:
        xr_spdc.integrate(None, lambda l, a=2.0: a, workers=1)
    message = str(info.value)
    assert "has no parameters" not in message
    assert "its parameters all have defaults (a)" in message
    assert "no grid to integrate over" in message


# --- issue 20 item 2: the route knows no method's diagnostics -----------------------------


def test_a_methods_check_and_finish_are_the_routes_only_diagnostics(monkeypatch, small_grid):
    """Main special-cased outputs named "status" and "abserr" in the route; a Method now
    says what its diagnostics report."""
    from xr_spdc.engine import methods

    seen = []

    def finish(outputs, options, lazy):
        return outputs["value"] * 2, {"largest": float(abs(outputs["value"]).max())}

    monkeypatch.setitem(methods.METHODS["overlap"], "twice", methods.Method(
        methods.overlap_exact_block, (("value", np.complex128),), block_size=7,
        seconds_per_point=1e-6, isolate=False,
        check=lambda outputs, points: seen.append(sorted(points)), finish=finish))
    got = small_grid.spdc.overlap(method="twice", workers=1)
    want = small_grid.spdc.overlap(workers=1)
    np.testing.assert_array_equal(got.values, 2 * want.values)
    assert got.attrs["largest"] == float(abs(want).max())
    assert seen == [["mu", "phi", "xi"]]


def test_dask_inputs_are_checked_as_an_explicit_step_not_through_encoding():
    """Main stashed the deferred check in ``encoding`` (which a save would try to write)."""
    pytest.importorskip("dask")
    from xr_spdc.labelled import inputs

    da = xr.DataArray([1.0, np.nan], dims="p", name="a").chunk(p=1)
    checked = inputs.check_real(da, "a")
    assert checked.encoding == {}
    with pytest.raises(ValueError, match=r"a must be finite; 1 of 1 values of 'a' in a chunk"):
        inputs.check_chunks(checked, "a").compute()
