"""The optimum against physics.md's mpmath-refined numbers and the published ones."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy.special import sici

from xr_spdc.optimum import find_optimum, optimum_per_xi


@pytest.fixture(scope="module")
def best():
    return find_optimum()


def test_global_optimum_matches_the_refined_reference(best):
    assert best.xi == pytest.approx(2.8375191194941384, rel=1e-8)
    assert best.phi == pytest.approx(-3.2551381153733029, rel=1e-8)
    assert best.overlap == pytest.approx(2.0666155663454307, rel=1e-8)
    assert best.overlap_sq == pytest.approx(4.2708998990612455, rel=1e-8)
    assert best.h == pytest.approx(1.0677249747653114, rel=1e-8)
    assert best.sigma == pytest.approx(0.5735887545232851, rel=1e-8)


def test_global_optimum_matches_the_published_values(best):
    assert round(best.h, 3) == 1.068 and round(best.xi, 2) == 2.84  # Boyd & Kleinman 1968
    assert round(best.sigma, 2) == 0.57
    assert round(best.phi / np.pi, 2) == -1.04  # Bennink 2010


@pytest.mark.parametrize(("xi", "h_m"), [
    (0.1, 0.0996684328469664), (1.0, 0.776134088723988), (10.0, 0.719754973753351),
    (100.0, 0.110784072054529), (1000.0, 0.0116486652765179)])
def test_h_m_per_xi(xi, h_m):
    assert float(optimum_per_xi([xi]).h_m[0]) == pytest.approx(h_m, rel=1e-8)


@pytest.mark.parametrize(("mu", "h_max", "sigma"), [
    (0.25, 1.023624, None), (0.5, 0.901809, 0.48400), (1.0, 0.505190, None)])
def test_displaced_focus_maxima_at_xi_2_84(mu, h_max, sigma):
    found = optimum_per_xi([2.84], mu=mu)
    assert float(found.h_m[0]) == pytest.approx(h_max, abs=1e-6)
    if sigma is not None:
        assert float(found.sigma_m[0]) == pytest.approx(sigma, abs=1e-5)


def test_asymptotes():
    small, large = optimum_per_xi([1e-3, 1e5]).h_m.values
    assert small == pytest.approx(1e-3 * (1 - 1e-6 / 3), rel=1e-6)
    assert large == pytest.approx((np.pi + 2 * sici(np.pi)[0]) ** 2 / (4 * 1e5), rel=1e-3)


def test_per_xi_result_is_labelled_and_keeps_a_dataarrays_coords():
    xi = xr.DataArray([1.0, 2.0], dims="focus", coords={"focus": [1.0, 2.0]})
    found = optimum_per_xi(xi)
    assert found.h_m.dims == ("focus",)
    assert found.phi_m.attrs["units"] == "rad" and found.h_m.attrs["units"] == "1"
    assert optimum_per_xi([1.0]).xi.attrs["long_name"] == "aggregate focus"
