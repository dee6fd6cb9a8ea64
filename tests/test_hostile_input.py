"""Hypothesis drives the accessor with many kinds of bad input: each must give a clear
exception of the right type naming the argument; valid input must never raise."""

from __future__ import annotations

import re

import numpy as np
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

import xr_spdc

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
positive = st.floats(1e-6, 1e6, allow_nan=False, allow_infinity=False)


def _grid(phi, xi) -> xr.Dataset:
    return xr.Dataset(coords={"phi": ("phi", np.asarray(phi)), "xi": ("xi", np.asarray(xi))})


def _call(ds=None, **kwargs):
    return lambda: xr_spdc.overlap(ds, **kwargs)


# Each entry: a strategy of (description, call, exception type, text the message must hold).
BAD_INPUTS = [
    st.builds(lambda v: ("string xi", _call(_grid([0.0], [v])), TypeError, "xi must hold real"),
              st.text(min_size=1, max_size=5)),
    st.builds(lambda v: ("bytes phi", _call(_grid([v], [1.0])), TypeError, "phi must hold real"),
              st.binary(min_size=1, max_size=5)),
    st.just(("object xi", _call(_grid([0.0], np.array([1.0, None], dtype=object))), TypeError,
             "dtype object")),
    st.just(("bool phi", _call(_grid([True], [1.0])), TypeError, "phi must hold real")),
    st.builds(lambda v: ("complex phi", _call(_grid([complex(v, 1.0)], [1.0])), TypeError,
                         "phi must be real"), finite),
    st.builds(lambda v: ("nan/inf phi", _call(_grid([0.0, v], [1.0])), ValueError,
                         "phi must be finite"), st.sampled_from([np.nan, np.inf, -np.inf])),
    st.builds(lambda v: ("non-positive xi", _call(_grid([0.0], [1.0, v])), ValueError,
                         "xi must be positive and finite"), st.floats(-1e6, 0.0)),
    st.builds(lambda v: ("nan/inf xi", _call(_grid([0.0], [v])), ValueError,
                         "xi must be positive"), st.sampled_from([np.nan, np.inf, -np.inf])),
    st.builds(lambda v: ("nan mu", _call(_grid([0.0], [1.0]), mu=v), ValueError,
                         "mu must be finite"), st.sampled_from([np.nan, np.inf])),
    st.just(("empty phi", _call(_grid(np.array([], float), [1.0])), ValueError, "is empty")),
    st.just(("empty xi", _call(_grid([0.0], np.array([], float))), ValueError, "is empty")),
    st.builds(lambda n: ("mismatched dims", _call(
        xr.Dataset({"phi": ("p", np.zeros(n)), "xi": ("x", np.ones(2))}),
        xi=xr.DataArray(np.ones(n + 1), dims="p")), ValueError, "do not align"),
        st.integers(1, 5)),
    st.just(("huge grid", _call(phi=xr.DataArray(np.zeros(1), dims="a").expand_dims(b=10**5),
                                xi=xr.DataArray(np.ones(1), dims="c").expand_dims(d=10**5)),
             ValueError, "chunk them with dask")),
    st.just(("duplicate names", _call(xr.Dataset(coords={"x": [1.0]}), phi="x", xi="x"),
             ValueError, "both name the variable")),
    st.builds(lambda name: ("missing name", _call(_grid([0.0], [1.0]), phi=name), ValueError,
                            "has no variable"),
              st.text(min_size=1, max_size=8).filter(lambda s: s not in ("phi", "xi"))),
    st.builds(lambda obj: ("non-Dataset", _call(obj), TypeError, "ds must be an xarray.Dataset"),
              st.one_of(st.integers(), st.text(), st.lists(st.floats()),
                        st.just(xr.DataArray([1.0])), st.just(np.zeros(3)))),
    st.builds(lambda obj: ("bare array phi", _call(_grid([0.0], [1.0]), phi=obj), TypeError,
                           "phi must be a variable name"),
              st.one_of(st.lists(finite, min_size=1).map(np.array), st.lists(finite, min_size=1),
                        st.just({"a": 1}))),
    st.builds(lambda w: ("workers < 1", _call(_grid([0.0], [1.0]), workers=w), ValueError,
                         "workers must be >= 1"), st.just(0)),  # -N counts back from the CPUs
    st.builds(lambda w: ("workers not int", _call(_grid([0.0], [1.0]), workers=w), TypeError,
                         "workers must be a positive int"),
              st.one_of(st.floats(), st.text(), st.booleans())),
    st.builds(lambda m: ("bad method", _call(_grid([0.0], [1.0]), method=m), ValueError,
                         "method must be one of"),
              st.text(max_size=8).filter(lambda s: s not in ("auto", "quad"))),
    st.builds(lambda c: ("bad chunk value", _call(_grid([0.0], [1.0]), chunks=c), ValueError,
                         "chunk sizes must be >= 1"), st.integers(-100, 0)),
    st.builds(lambda c: ("bad chunk type", _call(_grid([0.0], [1.0]), chunks=c), TypeError,
                         "chunks must be a positive int"),
              st.one_of(st.floats(), st.booleans(), st.text().filter(lambda s: s != "auto"))),
    st.just(("chunk dim unknown", _call(_grid([0.0], [1.0]), chunks={"nope": 2}), ValueError,
             "chunks names dims 'nope'")),
    st.builds(lambda e: ("negative epsabs", _call(_grid([0.0], [1.0]), method="quad",
                                                  epsabs=e), ValueError, "epsabs"),
              st.floats(max_value=-1e-300)),
    st.builds(lambda s: ("any start method", _call(_grid([0.0], [1.0]), start_method=s),
                         TypeError, "unexpected keyword argument 'start_method'"),
              st.text(max_size=10)),
    st.builds(lambda p: ("bad progress", _call(_grid([0.0], [1.0]), progress=p), TypeError,
                         "progress must be"), st.one_of(st.text(), st.integers())),
]


def test_there_are_at_least_20_kinds_of_bad_input():
    assert len(BAD_INPUTS) >= 20


@given(case=st.one_of(*BAD_INPUTS))
def test_bad_input_raises_a_clear_exception_of_the_right_type(case):
    description, call, exc_type, text = case
    with pytest.raises(exc_type) as info:
        call()
    assert text in str(info.value), description


# quad may fall short of its tolerance at xi ~ 1e5 and beyond (it warns; values stay finite).
@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
@given(phi=st.lists(finite, min_size=1, max_size=5),
       xi=st.lists(positive, min_size=1, max_size=5),
       mu=st.one_of(st.none(), st.floats(-2, 2)),
       method=st.sampled_from(["auto", "quad"]))
def test_valid_input_never_raises(phi, xi, mu, method):
    o = xr_spdc.overlap(_grid(phi, xi), mu=mu, method=method, workers=1)
    assert o.shape == (len(phi), len(xi))
    assert np.isfinite(o.values).all()


@pytest.mark.parametrize(("kwargs", "role", "shown"), [
    ({"phi": 0.0, "xi": 1e300}, "xi", "1e+300"),
    ({"phi": -1e200, "xi": 1.0}, "phi", "-1e+200"),
    ({"phi": 0.0, "xi": 7500.0, "mu": 1e300}, "mu", "1e+300"),
])
@pytest.mark.parametrize("lazy", [False, True])
def test_beyond_the_kernels_domain_is_refused_stating_it(kwargs, role, shown, lazy):
    # Issue 15: these gave NaN imaginary parts; now eager and lazy refuse them alike.
    if lazy:
        pytest.importorskip("dask")
        kwargs = {k: xr.DataArray([v], dims="pt").chunk() for k, v in kwargs.items()}
    with pytest.raises(ValueError, match=rf"{role} must be .*\|{role}\| <= 1e\+100 \(the "
                                         rf"supported domain: .*\).* {re.escape(shown)}"):
        xr_spdc.overlap(workers=1 if not lazy else None, **kwargs).compute()


def test_an_int_too_large_for_a_float_is_a_clear_value_error():
    with pytest.raises(ValueError, match=r"phi = 1000000.* is too large for a float"):
        xr_spdc.overlap(phi=10**400, xi=1.0)


def test_the_tiniest_focus_is_answered_not_zero():
    # Issue 15: overlap(phi=-10, xi=1e-320) gave 0; 2 sqrt(xi) sinc(phi/2) is the limit.
    value = complex(xr_spdc.overlap(phi=-10.0, xi=1e-320).values)
    expected = 2 * np.sqrt(1e-320) * np.sin(5.0) / 5.0
    assert value.real == pytest.approx(expected, rel=1e-12) and value.imag == 0.0


# ---------------------------------------------------------------- a dim named like an input


@pytest.mark.parametrize("dim, call", [
    ("mu", lambda a: xr_spdc.overlap(phi=a, xi=1.0, workers=1)),
    ("xi", lambda a: xr_spdc.overlap(phi=a, xi=1.0, workers=1)),
    ("phi", lambda a: xr_spdc.overlap(phi=1.0, xi=abs(a) + 1, workers=1)),
    ("B", lambda a: xr_spdc.focusing(sigma=a, xi=1.0, workers=1)),
    ("mu", lambda a: xr_spdc.focusing(sigma=a, xi=1.0, B=0.5, workers=1)),
    ("sigma", lambda a: xr_spdc.focusing(phi=a, xi=1.0, workers=1)),
])
def test_a_dim_named_like_another_input_is_refused_not_mislabelled(dim, call):
    # On main, phi on a dim "mu" with coordinates [5, 6] was computed at mu = 0 and
    # labelled mu = [5, 6]: O(1, 1, mu=0) = 1.30806 where O(1, 1, mu=6) = 0.31653.
    a = xr.DataArray([1.0, 1.0], dims=dim, coords={dim: [5.0, 6.0]})
    with pytest.raises(ValueError, match=f"has a dim named '{dim}'.*rename the dim"):
        call(a)


def test_a_dim_named_like_an_input_is_used_when_it_is_that_input():
    phi = xr.DataArray([1.0, 1.0], dims="mu", coords={"mu": [0.0, 6.0]})
    o = xr_spdc.overlap(phi=phi, xi=1.0, mu=phi["mu"], workers=1)
    assert abs(complex(o.sel(mu=6.0))) == pytest.approx(0.31653, abs=1e-5)
    ds = xr.Dataset({"dk_L": phi})
    o = xr_spdc.overlap(ds, phi="dk_L", xi=1.0, workers=1)  # the Dataset's mu, by name
    assert abs(complex(o.sel(mu=6.0))) == pytest.approx(0.31653, abs=1e-5)


def test_mu_none_ignores_a_datasets_mu_as_the_readme_says():
    ds = xr.Dataset(coords={"phi": [0.0, 1.0], "xi": [1.0], "mu": [0.0, 0.5]})
    o = xr_spdc.overlap(ds, mu=None, workers=1)
    assert float(o.mu) == 0.0 and o.dims == ("phi", "xi")
    # A phi that varies along a dim named mu, without coordinates: main raised xarray's
    # "dimension 'mu' already exists as a scalar variable", naming no argument.
    ds = xr.Dataset({"phi": (("p", "mu"), np.zeros((2, 2)))}, coords={"xi": [1.0]})
    with pytest.raises(ValueError, match="phi has a dim named 'mu', but mu is the single"):
        xr_spdc.overlap(ds, mu=None, workers=1)


# ---------------------------------------------------------------- focusing's domain


@pytest.mark.parametrize("kwargs, named", [
    ({"sigma": 0.0, "xi": 1e101}, "xi"), ({"sigma": 1e300, "xi": 1.0}, "sigma"),
    ({"phi": 1e300, "xi": 1.0}, "phi"), ({"sigma": 0.0, "xi": 1.0, "mu": 1e300}, "mu"),
    ({"sigma": 1e99, "xi": 100.0}, "2 sigma xi"),
    ({"sigma": 0.0, "xi": 1.0, "kappa": 400.0}, "kappa xi \\(1 \\+ mu\\) = 400"),
    ({"sigma": 0.0, "xi": 1.0, "kappa": 1e300}, "kappa"),
])
def test_focusing_refuses_beyond_its_domain_up_front_naming_what_was_passed(kwargs, named):
    # On main: inf or NaN with a RuntimeWarning (kappa), or a FanoutError from a worker
    # naming a derived phi = -2e300 that was never passed (sigma).
    with pytest.raises(ValueError, match=named) as err:
        xr_spdc.focusing(**kwargs, workers=1)
    assert "supported domain" in str(err.value)
    if "sigma" in kwargs and "phi" not in named:
        assert "phi =" not in str(err.value)


def test_focusing_answers_finitely_up_to_the_edge_of_its_kappa_domain():
    h = xr_spdc.focusing(sigma=0.0, xi=1.0, kappa=349.0, workers=1)
    assert np.isfinite(float(h)) and float(h) > 1e290
