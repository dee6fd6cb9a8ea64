"""The optimum against mpmath-refined numbers, the published ones, and brute
force over side lobes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import xarray as xr
from scipy.special import sici

from xr_spdc.numerics.overlap import overlap
from xr_spdc.numerics.walkoff import focusing_function
from xr_spdc.physics.optimum import H_INF, XI_INF, find_optimum, optimum_per_xi, walkoff_optimum

# mpmath-refined (30+ digits), Boyd and Kleinman's published 2.84, 1.068 to their digits
XI_STAR = 2.8375191194941384
PHI_STAR = -3.2551381153733029
O_STAR = 2.0666155663454307
O_SQ_STAR = 4.2708998990612455
H_MM = 1.0677249747653114
SIGMA_M = 0.5735887545232851


@pytest.fixture(scope="module")
def best():
    return find_optimum()


def test_global_optimum_matches_the_refined_reference(best):
    assert best.xi == pytest.approx(XI_STAR, rel=1e-8)
    assert best.phi == pytest.approx(PHI_STAR, rel=1e-8)
    assert best.overlap == pytest.approx(O_STAR, rel=1e-8)
    assert best.overlap_sq == pytest.approx(O_SQ_STAR, rel=1e-8)
    assert best.h == pytest.approx(H_MM, rel=1e-8)
    assert best.sigma == pytest.approx(SIGMA_M, rel=1e-8)


def test_global_optimum_matches_the_published_values(best):
    assert round(best.h, 3) == 1.068 and round(best.xi, 2) == 2.84  # Boyd & Kleinman 1968
    assert round(best.sigma, 2) == 0.57
    assert round(best.phi / np.pi, 2) == -1.04  # Bennink 2010


def test_optimum_fields_are_consistent(best):
    assert best.overlap_sq == abs(best.overlap) ** 2
    assert best.h == best.overlap_sq / 4
    assert best.sigma == -best.phi / (2 * best.xi)
    assert best.mu == 0.0 and isinstance(best.overlap, complex)


def test_optimum_is_frozen(best):
    with pytest.raises(dataclasses.FrozenInstanceError):
        best.xi = 1.0


@pytest.mark.parametrize(("xi", "h_m"), [
    (0.1, 0.0996684328469664), (1.0, 0.776134088723988), (10.0, 0.719754973753351),
    (100.0, 0.110784072054529), (1000.0, 0.0116486652765179)])
def test_h_m_per_xi_matches_the_refined_reference(xi, h_m):
    assert float(optimum_per_xi([xi]).h_m[0]) == pytest.approx(h_m, rel=1e-8)


def test_h_m_at_the_optimal_focus_is_h_mm(best):
    assert float(optimum_per_xi(best.xi).h_m[0]) == pytest.approx(H_MM, rel=1e-12)


@pytest.mark.parametrize(("mu", "h_max", "sigma"), [
    (0.25, 1.023624, None), (0.5, 0.901809, 0.48400), (1.0, 0.505190, None)])
def test_displaced_focus_maxima_at_xi_2_84(mu, h_max, sigma):
    found = optimum_per_xi([2.84], mu=mu)
    assert float(found.h_m[0]) == pytest.approx(h_max, abs=1e-6)
    if sigma is not None:
        assert float(found.sigma_m[0]) == pytest.approx(sigma, abs=1e-5)


@pytest.mark.parametrize(("mu", "xi"), [(0.7, 1e3), (0.9, 1e4), (0.5, 1e5)])
def test_global_maximum_is_found_among_far_side_lobes(mu, xi):
    # Here the largest lobe lies at phi ~ -6 pi, -20 pi, -4 pi, far from the main one.
    phis = np.linspace(-60 * np.pi, 60 * np.pi, 120_001)
    brute = np.abs(overlap(phis, xi, mu)) ** 2
    found = optimum_per_xi([xi], mu=mu)
    assert 4 * float(found.h_m[0]) >= brute.max() * (1 - 1e-12)
    assert float(found.phi_m[0]) == pytest.approx(phis[np.argmax(brute)], abs=1e-2)


def test_per_xi_maximum_is_even_in_mu():
    plus, minus = optimum_per_xi([0.5, 5.0], mu=0.6), optimum_per_xi([0.5, 5.0], mu=-0.6)
    np.testing.assert_allclose(plus.h_m, minus.h_m, rtol=1e-12)
    np.testing.assert_allclose(plus.phi_m, minus.phi_m, rtol=1e-9)


def test_displaced_optimum_is_a_maximum_over_both_xi_and_phi():
    best = find_optimum(mu=0.5)
    assert best.h > 0.901809  # the maximum over sigma at xi = 2.84 alone
    nearby = optimum_per_xi(best.xi * np.array([0.99, 1.0, 1.01]), mu=0.5).h_m.values
    assert nearby[1] == pytest.approx(best.h, rel=1e-12)
    assert nearby[0] < best.h and nearby[2] < best.h
    assert abs(best.overlap.imag) > 0  # genuinely complex off centre


def test_small_xi_asymptote():
    (small,) = optimum_per_xi([1e-3]).h_m.values
    assert small == pytest.approx(1e-3 * (1 - 1e-6 / 3), rel=1e-6)


def test_large_xi_asymptote():
    (large,) = optimum_per_xi([1e5]).h_m.values
    assert large == pytest.approx((np.pi + 2 * sici(np.pi)[0]) ** 2 / (4 * 1e5), rel=1e-3)


def test_phi_m_and_sigma_m_agree():
    found = optimum_per_xi([0.3, 3.0, 30.0])
    np.testing.assert_allclose(found.phi_m, -2 * found.xi * found.sigma_m, rtol=1e-15)


def test_per_xi_result_is_labelled_over_xi():
    found = optimum_per_xi([1.0, 2.0])
    assert found.h_m.dims == ("xi",)
    assert found.xi.attrs == {"long_name": "aggregate focus", "units": "1"}
    assert found.mu.attrs["long_name"] == "focal displacement" and float(found.mu) == 0.0
    for name in ("h_m", "sigma_m", "phi_m"):
        assert set(found[name].attrs) >= {"long_name", "units"}
    assert found.phi_m.attrs["units"] == "rad" and found.h_m.attrs["units"] == "1"


def test_per_xi_keeps_a_dataarrays_dim_coords_and_attrs():
    xi = xr.DataArray([1.0, 2.0], dims="focus", name="xi",
                      coords={"focus": ["loose", "tight"]}, attrs={"units": "1", "note": "x"})
    found = optimum_per_xi(xi)
    assert found.h_m.dims == ("focus",)
    assert list(found.focus.values) == ["loose", "tight"]
    np.testing.assert_array_equal(found.xi.values, [1.0, 2.0])
    assert found.xi.attrs["note"] == "x" and found.xi.attrs["long_name"] == "aggregate focus"


def test_per_xi_accepts_a_scalar():
    assert optimum_per_xi(1.0).h_m.shape == (1,)


@pytest.mark.parametrize("xi", [-1.0, 0.0, np.nan, np.inf])
def test_invalid_xi_is_refused_with_the_value(xi):
    with pytest.raises(ValueError, match=rf"xi must be positive and finite; 1 of 2 values of "
                                         rf"'xi' are not: {float(xi)!r} at xi\[1\]"):
        optimum_per_xi([1.0, xi])


def test_non_finite_mu_is_refused():
    with pytest.raises(ValueError, match="mu must be finite"):
        find_optimum(mu=np.nan)


# ------------------------------------------------------------------------ walk-off

@pytest.fixture(scope="module")
def walkoff_best():
    return walkoff_optimum([0.0, 1.0, 16.0, 64.0])


def test_walkoff_optimum_without_walk_off_is_boyd_kleinman(walkoff_best):
    row = walkoff_best.sel(B=0.0)
    assert float(row.h_mm) == pytest.approx(H_MM, rel=1e-10)
    assert float(row.xi_m) == pytest.approx(XI_STAR, rel=1e-8)
    assert float(row.sigma_m) == pytest.approx(SIGMA_M, rel=1e-8)
    assert float(row.phi_m) == pytest.approx(PHI_STAR, rel=1e-8)


def test_walkoff_optimum_is_a_stationary_maximum(walkoff_best):
    for b in (1.0, 16.0):
        row = walkoff_best.sel(B=b)
        sigma, xi, h = float(row.sigma_m), float(row.xi_m), float(row.h_mm)
        assert float(focusing_function(sigma, xi, b)) == pytest.approx(h, rel=1e-14)
        # A quadratic maximum: 1e-4 away in each direction costs ~1e-8 relative, and the
        # first-order terms cancel to the position's accuracy.
        for ds, dx in ((1e-4, 0), (-1e-4, 0), (0, 1e-4), (0, -1e-4)):
            nearby = float(focusing_function(sigma + ds, xi * (1 + dx), b))
            assert nearby < h
        up = float(focusing_function(sigma + 1e-4, xi, b))
        down = float(focusing_function(sigma - 1e-4, xi, b))
        assert abs(up - down) / h < 1e-11  # slope ~0 at sigma_m (position to ~1e-8)
        per_xi = optimum_per_xi([xi], B=b)
        assert float(per_xi.h_m[0]) == pytest.approx(h, rel=1e-12)


def test_walkoff_h_m_beats_a_brute_force_scan():
    xi, b = 10.0, 2.0
    sigma = np.linspace(-3, 3, 6001)
    brute = focusing_function(sigma, xi, b)
    found = optimum_per_xi([xi], B=b)
    assert float(found.h_m[0]) >= brute.max() * (1 - 1e-12)
    assert float(found.sigma_m[0]) == pytest.approx(sigma[np.argmax(brute)], abs=2e-3)
    assert float(found.B) == b and found.B.attrs["long_name"] == "walk-off parameter B"


def test_large_walkoff_law(walkoff_best):
    # B h_mm = H_INF - 1/(4 B (1 + XI_INF^2)) + O(1/B^2) (walkoff_optimum's Notes)
    assert 2 * XI_INF / (1 + XI_INF**2) == pytest.approx(np.arctan(XI_INF), rel=1e-15)
    assert H_INF == pytest.approx(np.sqrt(np.pi) / 2 * np.arctan(XI_INF) / np.sqrt(XI_INF),
                                  rel=1e-15)
    for b in (16.0, 64.0):
        row = walkoff_best.sel(B=b)
        law = H_INF - 1 / (4 * b * (1 + XI_INF**2))
        assert abs(b * float(row.h_mm) - law) < 0.1 / b**2
        assert abs(float(row.xi_m) - XI_INF) < 1 / b


def test_walkoff_optimum_is_labelled(walkoff_best):
    assert walkoff_best.h_mm.dims == ("B",)
    for name in ("h_mm", "xi_m", "sigma_m", "phi_m"):
        assert walkoff_best[name].attrs["units"] in ("1", "rad")
        assert walkoff_best[name].attrs["long_name"]
    assert float(walkoff_best.kappa) == 0.0 and float(walkoff_best.mu) == 0.0


def test_walkoff_optimum_refuses_negative_walk_off():
    with pytest.raises(ValueError, match="B must be >= 0"):
        walkoff_optimum([1.0, -2.0])


def test_per_xi_takes_mu_from_the_overlap_it_is_asked_about():
    # Issue 12: o.xi of an overlap computed at mu = 0.5 carries mu; the optimum must use it.
    o = xr.Dataset(coords={"phi": [0.0], "xi": [1.0, 10.0], "mu": 0.5}).spdc.overlap(workers=1)
    from_o = optimum_per_xi(o.xi)
    assert float(from_o.mu) == 0.5
    xr.testing.assert_identical(from_o, optimum_per_xi(o.xi, 0.5))
    assert not np.allclose(from_o.h_m, optimum_per_xi([1.0, 10.0], 0.0).h_m)
    with pytest.raises(ValueError, match=r"mu: xi carries 2 values of 'mu'"):
        optimum_per_xi(xr.DataArray([1.0, 2.0], dims="xi", coords={"mu": ("xi", [0.0, 0.5])}))
