"""The quad reference path against mpmath: within 1e-10 of the envelope, complex-safe,
diagnostics kept, failures (including inf and NaN) flagged.

References: tests/data/overlap_references.npz (see tests/make_references.py).
"""

from __future__ import annotations

import math
import pathlib
import warnings

import numpy as np
import pytest
import xarray as xr
from references import envelope_mp, overlap_reference
from scipy.integrate import IntegrationWarning

from xr_spdc.numerics.quadrature import STATUS_MEANINGS, integrate_points, overlap_quad

PROMISE = 1e-10  # README: method="quad" is within 1e-10 of the envelope E(xi, mu)
DATA = np.load(pathlib.Path(__file__).parent / "data" / "overlap_references.npz")


def quad_errors(name: str, every: int = 1) -> tuple[np.ndarray, np.ndarray]:
    phi, xi, mu, ref, env = (DATA[f"{name}_{key}"][::every]
                             for key in ("phi", "xi", "mu", "ref", "env"))
    res = overlap_quad(phi, xi, mu)
    return np.abs(res.value - ref) / env, res.status


@pytest.mark.parametrize(("name", "every"), [("classic", 1), ("displaced", 1), ("wide", 3)])
def test_quad_meets_its_promise_against_mpmath(name, every):
    # 5,000 random points of the classic domain (phi/pi in [-7, 3), log10 xi in [-1.5, 2.5)),
    # 1,000 with mu in [-1.5, 1.5], and a third of 1,000 over xi in [1e-6, 1e6], |mu| <= 2,
    # |phi| <= 200 pi: within the promise and reported as converged.
    errors, status = quad_errors(name, every)
    assert errors.max() <= PROMISE
    assert (status == 0).all()


@pytest.mark.parametrize(("phi", "xi", "mu"), [(-10.0, 1e15, 0.0), (-10.0, 1e5, 0.0),
                                               (0.0, 1e8, 0.0), (-3.0, 1e8, 0.3),
                                               (-6.0, 1e12, -1.0), (2.0, 1e-300, 0.5)])
def test_quad_is_right_at_large_and_tiny_focus(phi, xi, mu):
    # The peak of width 1/xi at l = 0 once hid from QUADPACK (4-13 % off with ier = 0 for
    # xi >= 1e5); in s = asinh(xi l) it is gone.
    res = overlap_quad(np.array(phi), np.array(xi), np.array(mu))
    assert abs(complex(res.value) - overlap_reference(phi, xi, mu)) <= PROMISE * envelope_mp(
        xi, mu)
    assert res.status == 0


def test_quad_keeps_the_imaginary_part_of_a_displaced_focus():
    res = overlap_quad(np.array([-3.27]), np.array([2.84]), np.array([0.5]))
    np.testing.assert_allclose(res.value[0], 1.8749364636075691 + 0.1799436008783811j,
                               rtol=1e-12)


def test_quad_raises_no_complex_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        overlap_quad(np.array([-3.0, 5.0]), np.array([0.5, 50.0]))


def test_quad_reports_status_instead_of_printing_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = overlap_quad(np.array([-600.0, 0.0]), np.array([2.0, 1.0]), limit=5)
    assert res.status.tolist() == [1, 0]  # ier=1: subdivision limit reached
    assert res.abserr[0] > res.abserr[1]


def test_quad_flags_points_beyond_its_promise():
    # |mu| = 1e6: rounding the substitution alone (~eps (|mu| + |phi|(1 + |mu|)) of E)
    # exceeds 1e-10, so the point is flagged although QUADPACK converged.
    res = overlap_quad(np.array([1.0, 1.0]), np.array([10.0, 10.0]), np.array([1e6, 1.0]))
    assert res.status.tolist() == [6, 0]
    assert "domain" in STATUS_MEANINGS[6]


def test_accessor_warns_once_with_count_and_worst_points_and_records_attrs():
    ds = xr.Dataset(coords={"phi": [-600.0, -300.0, 0.0], "xi": [2.0]})
    reached = r"the maximum number of subdivisions \(limit\) was reached"
    with pytest.warns(IntegrationWarning, match=r"at 2 of 3 points; worst: phi=-600.0, xi=2.0, "
                                                rf"mu=0.0 \(abserr .*: {reached}\)") as rec:
        o = ds.spdc.overlap(method="quad", limit=5, workers=1)
    assert len(rec) == 1
    assert o.attrs["quad_failed_points"] == 2
    assert o.attrs["quad_max_abserr"] > 1e-8


# --- integrate_points: breakpoints and non-finite integrands -----------------------------

def _peak(l: float, centre: float) -> float:
    # A Lorentzian of width 1e-5 (area pi): QUADPACK on [-1, 1] undersamples it.
    return 1e-5 / ((l - centre) ** 2 + 1e-10)


def _zero(l: float, centre: float) -> float:
    return 0.0


def test_breakpoints_let_quadpack_see_a_narrow_peak():
    exact = math.atan(1.3e5) + math.atan(0.7e5)  # integral of _peak over [-1, 1], centre 0.3
    args = (np.array([0.3]),)
    blind = integrate_points(_peak, _zero, np.array([-1.0]), np.array([1.0]), args)
    seen = integrate_points(_peak, _zero, np.array([-1.0]), np.array([1.0]), args,
                            points=(0.3, 5.0, -1.0))  # 5 and the end -1 are not inside
    assert abs(blind.value[0].real - exact) > 1e-8  # the failure the breakpoint prevents
    assert abs(seen.value[0].real - exact) <= 1e-10 * exact and seen.status[0] == 0


def test_breakpoints_with_reversed_and_infinite_limits():
    exact = math.pi  # integral of _peak over the real line
    args = (np.array([0.3, 0.3]),)
    res = integrate_points(_peak, _zero, np.array([-np.inf, 1.0]), np.array([np.inf, -1.0]),
                           args, points=(0.3,))
    assert res.value[0].real == pytest.approx(exact, rel=1e-9)
    assert res.value[1].real == pytest.approx(-(math.atan(1.3e5) + math.atan(0.7e5)),
                                              rel=1e-10)
    assert res.status.tolist() == [0, 0]


def _inf_at_zero(l: float) -> float:
    return math.inf if l == 0.0 else 1.0


def _nan_near_zero(l: float) -> float:
    return math.nan if abs(l) < 0.1 else 1.0


def _one(l: float) -> float:
    return 1.0


@pytest.mark.parametrize("bad", [_inf_at_zero, _nan_near_zero])
@pytest.mark.parametrize("part", ["real", "imag"])
def test_an_integrand_returning_inf_or_nan_is_a_failed_point(bad, part):
    real, imag = (bad, _one) if part == "real" else (_one, bad)
    res = integrate_points(real, imag, np.array([-1.0, 0.5]), np.array([1.0, 1.0]), ())
    assert res.status.tolist() == [8, 0]  # the point whose nodes hit l = 0 only
    assert not np.isfinite(res.value[0]) and res.value[1] == pytest.approx(0.5 + 0.5j)
    assert "not finite" in STATUS_MEANINGS[8]


def test_quad_over_the_whole_domain_is_right_or_flagged():
    # A sample of the log-spaced grid over |phi|, |mu| <= 1e100, 5e-324 <= xi <= 1e100
    # (tests/make_references.py): where quad reports success it keeps its promise; elsewhere
    # (1e100 oscillations, an interval of zero width in floats, ...) the status says so.
    errors, status = quad_errors("extremes", every=25)
    assert errors.size == 60
    assert (errors[status == 0] <= PROMISE).all()
    assert 0 < (status != 0).sum() < errors.size  # both kinds occur in the sample


@pytest.mark.parametrize(("options", "message"), [
    ({"epsabs": 0.0, "epsrel": 0.0}, r"epsabs=0\.0 and epsrel=0\.0 cannot be met: QUADPACK "
                                     r"needs epsabs > 0 or epsrel >= 1\.11e-14"),
    ({"epsabs": 0.0, "epsrel": 1e-15}, r"cannot be met"),
    ({"limit": 10**12}, r"limit must be between 1 and 1000000 subintervals .*, not "
                        r"1000000000000"),
    ({"limit": 0}, r"limit must be between 1"),
])
def test_tolerances_quadpack_cannot_run_with_are_refused_up_front(options, message):
    with pytest.raises(ValueError, match=message):
        integrate_points(_one, _one, np.array([0.0]), np.array([1.0]), (), **options)
    with pytest.raises(ValueError, match=message):
        overlap_quad(np.array([0.0]), np.array([1.0]), **options)
    integrate_points(_one, _one, np.array([0.0]), np.array([1.0]), (), epsabs=0.0,
                     epsrel=1e-10)  # epsrel alone is enough


def test_a_limit_below_the_breakpoints_subintervals_is_answered():
    # The s = 0 breakpoint needs limit >= 2; limit=1 means "no further splitting", not a
    # failure in the first block.
    ds = xr.Dataset(coords={"phi": [-3.0, 0.0], "xi": [1.0, 10.0]})
    # limit=1 cannot reach the default tolerances: the warning is part of the answer.
    with pytest.warns(IntegrationWarning, match="quad did not reach epsabs/epsrel"):
        o = ds.spdc.overlap(method="quad", limit=1, workers=1)
    assert np.isfinite(o.values).all()
