"""Regression tests for what the QA pass found broken (each fails on this branch's code).

The lead decides which behaviour is wanted; each test states the one the README or the
issue describes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr
from scipy.integrate import dblquad

import xr_spdc
from xr_spdc.fanout import FanoutError


def _h_double_integral(sigma: float, xi: float, kappa: float, mu: float) -> float:
    """Boyd–Kleinman's h (B = 0) with the crystal where ``overlap`` puts it.

    overlap's convention (README, the mu coordinate's CF comment): the crystal spans
    l = 2z/L in [-1 - mu, 1 - mu], z along the beams from the focus, so tau = xi*l runs
    from a = -xi(1 + mu) (entrance face) to b = xi(1 - mu) (exit face)."""
    a, b = -xi * (1 + mu), xi * (1 - mu)

    def f(tp: float, t: float) -> float:
        return (np.exp(-kappa * (t + tp) + 1j * sigma * (t - tp))
                / ((1 + 1j * t) * (1 - 1j * tp))).real

    value, _ = dblquad(f, a, b, a, b, epsabs=1e-12, epsrel=1e-11)
    return value / (4 * xi)


def test_focusing_mu_is_overlaps_mu_also_with_absorption():
    """focusing's docstring: "mu: Focal position as for xr_spdc.overlap", and its result's mu
    coordinate carries overlap's CF comment; but it integrates over BK's a = -xi(1 - mu),
    b = xi(1 + mu), the mirror image.  With kappa = 0 |O| is even in mu and hides it; with
    kappa > 0 the two differ (0.4205 vs 0.6676 here)."""
    sigma, xi, kappa, mu = 0.5, 1.0, 0.5, 0.3
    h = float(xr_spdc.focusing(sigma=sigma, xi=xi, B=0.0, kappa=kappa, mu=mu))
    assert h == pytest.approx(_h_double_integral(sigma, xi, kappa, mu), rel=1e-8)


def test_focusing_accepts_stacked_points():
    """Issue 15.7 for focusing (issue 13.1: inputs "exactly as overlap has them"):
    ds.stack(...).spdc.focusing() fails with xarray's "would corrupt the following index"."""
    ds = xr.Dataset(coords={"sigma": np.linspace(-1.0, 2.0, 4), "xi": [0.5, 2.0, 8.0]})
    grid = ds.spdc.focusing(workers=1)
    stacked = ds.stack(pt=("sigma", "xi")).spdc.focusing(workers=1)
    assert stacked.dims == ("pt",)
    np.testing.assert_array_equal(stacked.unstack("pt").transpose(*grid.dims).values,
                                  grid.values)


def test_overlap_quad_limit_1_is_refused_up_front_or_answered():
    """limit=1 passes the up-front check ("between 1 and 1000000") and then fails in the
    first block with scipy's "Number of break points (1) must be less than subinterval
    limit (1)" (issue 15.5's kind of late failure)."""
    ds = xr.Dataset(coords={"phi": [-3.0, 0.0], "xi": [1.0, 10.0]})
    try:
        ds.spdc.overlap(method="quad", limit=1, workers=1)
    except FanoutError as err:  # pragma: no cover - the failure this test records
        pytest.fail(f"limit=1 accepted up front, then failed in a block: {err}")
    except ValueError as err:
        assert "limit" in str(err)


def test_integrate_params_maps_one_name_and_finds_the_others_by_name():
    """README: "integrate looks each parameter of the integrand up in the Dataset by name
    (or takes params={"phi": "dk_L"})"; today params={"phi": "dk_L"} drops xi."""
    ds = xr.Dataset(coords={"dk_L": [-1.0, 0.5], "xi": [0.5, 2.0]})

    def f(l, phi, xi):
        return math.cos(phi * l) / (1 + xi * l * l)

    got = ds.spdc.integrate(f, params={"phi": "dk_L"}, workers=1)
    want = ds.spdc.integrate(f, params={"phi": "dk_L", "xi": "xi"}, workers=1)
    xr.testing.assert_identical(got, want)


def test_focusing_quad_answers_where_h_overflows_as_auto_does():
    """Inside issue 13's domain (kappa <= 2, xi <= 1e3), 2 kappa xi (1 - mu) > 709 makes
    math.exp overflow in walkoff._quad_point: method="quad" raises FanoutError(OverflowError:
    math range error) where method="auto" returns inf (documented)."""
    kw = dict(sigma=0.5, xi=1000.0, B=0.0, kappa=0.6, mu=0.0)
    auto = float(xr_spdc.focusing(**kw))
    try:
        quad = float(xr_spdc.focusing(method="quad", workers=1, **kw))
    except FanoutError as err:
        pytest.fail(f"quad failed where auto answers {auto}: {str(err).splitlines()[0]}")
    except ValueError as err:  # a clear refusal stating the domain is fine too
        assert "kappa" in str(err)
    else:
        assert quad == auto
