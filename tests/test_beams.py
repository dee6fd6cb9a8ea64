"""Bennink's aggregate focus from the beams (Eqs. 11-15), computed by hand in the tests."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

from xr_spdc.beams import aggregate_focus, aggregate_focus_from_beams, beam_focus


def test_degenerate_equal_foci_give_a_plus_b_plus_2_and_the_common_xi():
    # k_s = k_i = k_p/2, dk = 0, xi_j = x: A+ = 1 + (x/2 + x/2)/x = 2,
    # B+ = 1 + 1/2 + 1/2 = 2, xi = (2/2) x x / x = x.
    ds = aggregate_focus(2.0, 1.0, 1.0, 0.7, 0.7, 0.7)
    assert float(ds.A_plus) == 2.0 and float(ds.B_plus) == 2.0
    assert float(ds.xi) == pytest.approx(0.7, rel=1e-15)
    assert float(ds.rate_factor) == pytest.approx(math.atan(0.7) / 4, rel=1e-15)


def test_non_degenerate_case_by_hand_in_exact_fractions():
    kp, ks, ki = Fraction(10), Fraction(6), Fraction(3)  # dk = 1
    xp, xs, xi = Fraction(2), Fraction(3), Fraction(5)
    dk = kp - ks - ki
    a = 1 + (ks * xs + ki * xi) / (kp * xp)
    b = (1 - dk / kp) + ((ks + dk) / kp) * (xp / xs) + ((ki + dk) / kp) * (xp / xi)
    expected = (b / a) * xs * xi / xp
    ds = aggregate_focus(10.0, 6.0, 3.0, 2.0, 3.0, 5.0)
    assert float(ds.A_plus) == pytest.approx(float(a), rel=1e-15)
    assert float(ds.B_plus) == pytest.approx(float(b), rel=1e-15)
    assert float(ds.xi) == pytest.approx(float(expected), rel=1e-15)


def test_broadcasts_over_two_dims_and_keeps_coords():
    xi_s = xr.DataArray([1.0, 2.0, 3.0], dims="waist_s", coords={"waist_s": [10, 20, 30]})
    xi_i = xr.DataArray([0.5, 1.5], dims="waist_i", coords={"waist_i": [5, 15]})
    ds = aggregate_focus(2.0, 1.0, 1.0, 1.0, xi_s, xi_i)
    assert ds.xi.sizes == {"waist_s": 3, "waist_i": 2}
    assert list(ds.waist_s.values) == [10, 20, 30]
    one = aggregate_focus(2.0, 1.0, 1.0, 1.0, 2.0, 1.5)
    assert float(ds.xi.sel(waist_s=20, waist_i=15)) == float(one.xi)
    assert ds.xi.attrs["units"] == "1" and ds.A_plus.attrs["long_name"] == "Bennink A+"


def test_wave_numbers_with_different_units_are_refused():
    kp = xr.DataArray(2.0, attrs={"units": "rad/m"})
    ks = xr.DataArray(1.0, attrs={"units": "rad/um"})
    with pytest.raises(ValueError, match="must share one unit"):
        aggregate_focus(kp, ks, 1.0, 1.0, 1.0, 1.0)


@pytest.mark.parametrize(("kwargs", "exc", "text"), [
    ({"xi_s": 0.0}, ValueError, "xi_s must be positive and finite"),
    ({"k_p": -1.0}, ValueError, "k_p must be positive"),
    ({"xi_i": np.nan}, ValueError, "xi_i must be positive"),
    ({"k_i": "1"}, TypeError, "k_i='1' names a variable, but no Dataset"),
    ({"k_i": [1.0, 2.0]}, TypeError, "k_i must be a variable name"),
])
def test_bad_values_name_the_argument(kwargs, exc, text):
    args = {"k_p": 2.0, "k_s": 1.0, "k_i": 1.0, "xi_p": 1.0, "xi_s": 1.0, "xi_i": 1.0}
    with pytest.raises(exc, match=text):
        aggregate_focus(**{**args, **kwargs})


def test_beams_path_agrees_with_per_beam_xi_by_hand():
    lam = (532e-9, 1064e-9, 1064e-9)
    n = (1.8, 1.75, 1.75)
    w = (30e-6, 40e-6, 45e-6)
    length = 0.02
    ds = aggregate_focus_from_beams(lam, n, w, length)
    for j, (lj, nj, wj) in zip("psi", zip(lam, n, w, strict=True), strict=True):
        by_hand = length / (2 * math.pi * nj / lj * wj**2)
        assert float(ds[f"xi_{j}"]) == pytest.approx(by_hand, rel=1e-14)
    k = [2 * math.pi * nj / lj for lj, nj in zip(lam, n, strict=True)]
    assert float(ds.dk) == pytest.approx(k[0] - k[1] - k[2], rel=1e-12)
    direct = aggregate_focus(*k, float(ds.xi_p), float(ds.xi_s), float(ds.xi_i))
    assert float(ds.xi) == pytest.approx(float(direct.xi), rel=1e-14)


def test_energy_conservation_typo_warns():
    with pytest.warns(UserWarning, match="energy conservation"):
        aggregate_focus_from_beams((532e-9, 1064e-9, 1065e-9), (1, 1, 1), (1e-5,) * 3, 1e-2)


def test_beam_focus_checks_its_inputs():
    with pytest.raises(ValueError, match="waist must be positive"):
        beam_focus(1e-6, 1.5, -1e-6, 1e-2)


positive = st.floats(0.05, 20.0)


@given(kp=positive, ks=positive, ki=positive, xp=positive, xs=positive, xi=positive)
def test_swapping_signal_and_idler_changes_nothing(kp, ks, ki, xp, xs, xi):
    a = aggregate_focus(kp, ks, ki, xp, xs, xi)
    b = aggregate_focus(kp, ki, ks, xp, xi, xs)
    for name in ("xi", "A_plus", "B_plus"):
        assert float(a[name]) == pytest.approx(float(b[name]), rel=1e-13)
