"""Bad input: each case raises the right exception, naming the argument and the values."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import xr_spdc


def grid(phi=(0.0, 1.0), xi=(1.0, 2.0)) -> xr.Dataset:
    return xr.Dataset(coords={"phi": list(phi), "xi": list(xi)})


def test_missing_phi_names_what_the_dataset_has():
    ds = xr.Dataset({"focus": ("x", [1.0])}, coords={"dk": [0.0]})
    with pytest.raises(ValueError, match=r"phi: the Dataset has no variable 'phi'; it has "
                                         r"coordinates \['dk'\] and data variables \['focus'\]; "
                                         r"pass phi='<name>'"):
        ds.spdc.overlap()


def test_missing_overridden_name_is_named():
    with pytest.raises(ValueError, match="xi: the Dataset has no variable 'focus'"):
        grid().spdc.overlap(xi="focus")


@pytest.mark.parametrize(("values", "dtype_text"), [
    (["a", "b"], "<U1"), ([b"a", b"b"], r"\|S1"), ([object(), object()], "object"),
    ([True, False], "bool"), (np.array(["2020-01-01", "2020-01-02"], "datetime64[D]"),
                              "datetime64"),
])
def test_non_numeric_xi_is_a_type_error_showing_the_dtype(values, dtype_text):
    ds = xr.Dataset(coords={"phi": [0.0], "xi": values})
    with pytest.raises(TypeError, match=rf"xi must hold real numbers, but 'xi' has dtype "
                                        rf"{dtype_text}"):
        ds.spdc.overlap()


def test_complex_phi_is_a_type_error():
    ds = xr.Dataset(coords={"phi": [0.0 + 1j], "xi": [1.0]})
    with pytest.raises(TypeError, match=r"phi must be real, but 'phi' is complex"):
        ds.spdc.overlap()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_phi_shows_value_and_position(bad):
    with pytest.raises(ValueError, match=rf"phi must be finite; 1 of 3 values of 'phi' are "
                                         rf"not: {bad} at phi\[1\]"):
        grid(phi=(0.0, bad, 2.0)).spdc.overlap()


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan, np.inf])
def test_xi_must_be_positive_and_finite(bad):
    with pytest.raises(ValueError, match=rf"xi must be positive and finite; 1 of 2 values of "
                                         rf"'xi' are not: {float(bad)!r} at xi\[0\]"):
        grid(xi=(bad, 2.0)).spdc.overlap()


def test_many_offending_values_are_counted_not_all_listed():
    with pytest.raises(ValueError, match=r"20 of 20 values .* and 15 more"):
        xr.Dataset(coords={"phi": [0.0], "xi": -np.arange(1.0, 21.0)}).spdc.overlap()


@pytest.mark.parametrize("workers", [0])  # negative counts back from the CPUs (test_pool.py)
def test_non_positive_workers_is_a_value_error(workers):
    with pytest.raises(ValueError, match=rf"workers must be >= 1 .* not {workers}"):
        grid().spdc.overlap(workers=workers)


@pytest.mark.parametrize("workers", [1.5, "2", True, [2]])
def test_non_int_workers_is_a_type_error(workers):
    with pytest.raises(TypeError, match="workers must be a positive int, None or a "
                                        "concurrent.futures.Executor"):
        grid().spdc.overlap(workers=workers)


def test_unknown_method_lists_the_choices():
    with pytest.raises(ValueError, match=r"method must be one of 'auto', 'quad'.*not 'simpson'"):
        grid().spdc.overlap(method="simpson")


@pytest.mark.parametrize(("name", "value", "exc"), [
    ("epsabs", -1.0, ValueError), ("epsrel", np.nan, ValueError), ("limit", 0, ValueError),
    ("limit", 2.5, TypeError), ("epsabs", "tiny", TypeError),
])
def test_bad_quad_options_are_refused(name, value, exc):
    with pytest.raises(exc, match=name):
        grid().spdc.overlap(method="quad", **{name: value})


@pytest.mark.parametrize("start_method", ["threads", "fork", "spawn", "forkserver"])
def test_start_method_is_refused_as_removed(start_method):
    # Removed from every signature: Python itself names the keyword.
    with pytest.raises(TypeError, match="unexpected keyword argument 'start_method'"):
        grid().spdc.overlap(start_method=start_method)


@pytest.mark.parametrize(("kwargs", "text"), [
    ({"epsabs": 0, "epsrel": 0}, "epsabs=0.0 and epsrel=0.0 cannot be met"),
    ({"epsabs": 0.0, "epsrel": 1e-20}, "needs epsabs > 0 or epsrel >= 1.11e-14"),
    ({"limit": 10**12}, "limit must be between 1 and 1000000 subintervals"),
])
def test_quad_options_quadpack_would_refuse_are_refused_up_front(kwargs, text):
    with pytest.raises(ValueError, match=text):
        grid().spdc.overlap(method="quad", **kwargs)
    with pytest.raises(ValueError, match=text):
        xr_spdc.integrate(grid(), lambda l, phi: phi, **kwargs)


@pytest.mark.parametrize(("timeout", "exc"), [(0, ValueError), (-1.0, ValueError),
                                              (np.inf, ValueError), ("5", TypeError)])
def test_bad_timeout_is_refused(timeout, exc):
    with pytest.raises(exc, match="timeout must be"):
        grid().spdc.overlap(timeout=timeout)


def test_same_variable_for_two_roles_is_refused():
    ds = xr.Dataset(coords={"x": [1.0, 2.0]})
    with pytest.raises(ValueError, match="phi and xi both name the variable 'x'"):
        ds.spdc.overlap(phi="x", xi="x")


def test_mismatched_sizes_on_one_dim_name_the_arguments():
    ds = xr.Dataset({"phi": ("point", [0.0, 1.0, 2.0]), "xi": ("point2", [1.0, 2.0])})
    bad = xr.DataArray([1.0, 2.0], dims="point", name="focus")
    with pytest.raises(ValueError, match=r"the inputs phi, xi do not align: .*\(phi has sizes "
                                         r"\{'point': 3\}; xi 'focus' has sizes \{'point': 2\}"):
        ds.spdc.overlap(xi=bad)


def test_misaligned_coordinate_labels_are_refused_not_filled_with_nan():
    phi = xr.DataArray([0.0, 1.0], dims="point", coords={"point": [0, 1]}, name="phi")
    xi = xr.DataArray([1.0, 2.0], dims="point", coords={"point": [1, 2]}, name="xi")
    with pytest.raises(ValueError, match="the inputs phi, xi do not align"):
        xr_spdc.overlap(phi=phi, xi=xi)


def test_empty_input_is_refused():
    with pytest.raises(ValueError, match=r"phi \('phi'\) is empty"):
        xr.Dataset(coords={"phi": np.array([], float), "xi": [1.0]}).spdc.overlap()


def test_huge_grid_is_refused_before_allocating():
    phi = xr.DataArray(np.zeros(1), dims="phi").expand_dims(a=100_000)  # a view: no memory
    xi = xr.DataArray(np.ones(1), dims="xi").expand_dims(b=100_000)
    with pytest.raises(ValueError, match=r"1e\+10 points .* chunk them with dask"):
        xr_spdc.overlap(phi=phi, xi=xi)


def test_non_dataset_is_a_type_error():
    with pytest.raises(TypeError, match="ds must be an xarray.Dataset"):
        xr_spdc.overlap({"phi": [0.0], "xi": [1.0]})


def test_bare_numpy_array_asks_for_dims():
    with pytest.raises(TypeError, match=r"xi must be a variable name, a DataArray or a real "
                                        r"number, not ndarray; wrap arrays"):
        grid().spdc.overlap(xi=np.array([1.0, 2.0]))


def test_progress_must_be_a_flag():
    with pytest.raises(TypeError, match="progress must be True, False or None"):
        grid().spdc.overlap(progress="yes")


def test_the_callers_dataset_is_unchanged_by_a_failed_call():
    ds = grid(xi=(1.0, -2.0))
    before = ds.copy(deep=True)
    with pytest.raises(ValueError):
        ds.spdc.overlap()
    xr.testing.assert_identical(ds, before)


def test_nonnegative_inputs_are_checked_with_positions():
    from xr_spdc.labelled import inputs

    kappa = xr.DataArray([0.0, -0.5, 1.0], dims="kappa", coords={"kappa": [0.0, -0.5, 1.0]},
                         name="kappa")
    with pytest.raises(ValueError, match=r"kappa must be >= 0 and finite; 1 of 3 values of "
                                         r"'kappa' are not: -0.5 at kappa\[1\]"):
        inputs.check_real(kappa, "kappa", nonnegative=True)
    assert inputs.check_real(abs(kappa), "kappa", nonnegative=True).dtype == np.float64


def test_integrate_refuses_a_parameter_dim_named_like_another_parameter():
    # On main: "a" on a dim "k" while k = 2.0 gave a result labelled k = [5, 6] computed at
    # k = 2.

    a = xr.DataArray([1.0, 2.0], dims="k", coords={"k": [5.0, 6.0]})
    with pytest.raises(ValueError, match="a has a dim named 'k', but k is the single value 2.0"):
        xr_spdc.integrate(None, lambda l, a, k: a * k, params={"a": a, "k": 2.0}, workers=1)
    ok = xr_spdc.integrate(None, lambda l, a, k: a * k, params={"a": a, "k": a["k"]},
                           workers=1)
    np.testing.assert_allclose(ok.values.real, 2 * a.values * a["k"].values)


def test_the_removed_start_method_appears_in_no_signature_or_docstring():
    import inspect

    import xarray as xr

    import xr_spdc

    for func in (xr_spdc.overlap, xr_spdc.integrate, xr_spdc.focusing,
                 xr.Dataset.spdc.overlap, xr.Dataset.spdc.integrate, xr.Dataset.spdc.focusing):
        assert "start_method" not in inspect.signature(func).parameters
        assert "start_method" not in func.__doc__
