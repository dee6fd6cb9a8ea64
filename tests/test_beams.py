"""Bennink's aggregate focus from the beams (Eqs. 11-15, 40-41): references by hand."""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from xr_spdc.physics.beams import (
    aggregate_focus,
    aggregate_focus_from_beams,
    beam_focus,
    wave_number,
)

ARGS = {"pump_wave_number": 2.0, "signal_wave_number": 1.0, "idler_wave_number": 1.0,
        "pump_focus": 1.0, "signal_focus": 1.0, "idler_focus": 1.0}

focus = st.floats(0.05, 20.0)
fraction_of_pump = st.floats(0.05, 0.95)  # k_s/k_p, k_i/k_p: each beam slower than the pump


def by_hand(kp, ks, ki, xp, xs, xi):
    """Bennink Eqs. 12-15 and 40-41 written out; exact when given Fractions."""
    dk = kp - ks - ki
    a = 1 + (ks * xs + ki * xi) / (kp * xp)
    b = (1 - dk / kp) + ((ks + dk) / kp) * (xp / xs) + ((ki + dk) / kp) * (xp / xi)
    return {"A_plus": a, "B_plus": b, "xi": (b / a) * xs * xi / xp}


def test_degenerate_phase_matched_equal_foci_give_a_plus_b_plus_two_and_the_common_xi():
    # k_s = k_i = k_p/2 so dk = 0; xi_j = x for all j:
    #   A+ = 1 + (x/2 + x/2)/x = 2,  B+ = (1 - 0) + (1/2)(1) + (1/2)(1) = 2,
    #   xi = (2/2) x x / x = x,      rate = atan(x)/4.
    ds = aggregate_focus(2.0, 1.0, 1.0, 0.7, 0.7, 0.7)
    assert float(ds.A_plus) == 2.0
    assert float(ds.B_plus) == 2.0
    assert float(ds.xi) == pytest.approx(0.7, rel=1e-15)
    assert float(ds.rate_factor) == pytest.approx(math.atan(0.7) / 4, rel=1e-15)


@given(ks=st.floats(0.01, 100.0), ki=st.floats(0.01, 100.0), x=focus)
def test_equal_foci_and_delta_k_zero_give_the_common_xi_for_any_split(ks, ki, x):
    # k_p = k_s + k_i: A+ = 1 + (k_s + k_i)/k_p = 2 = B+, so xi = x, whatever k_s/k_i.
    ds = aggregate_focus(ks + ki, ks, ki, x, x, x)
    assert float(ds.A_plus) == pytest.approx(2.0, rel=1e-13)
    assert float(ds.B_plus) == pytest.approx(2.0, rel=1e-13)
    assert float(ds.xi) == pytest.approx(x, rel=1e-13)


@given(ks=fraction_of_pump, xp=focus, x=focus)
def test_equal_signal_and_idler_foci_make_xi_independent_of_the_pump_focus(ks, xp, x):
    # dk = 0, xi_s = xi_i = x, k_s + k_i = k_p = 1:  A+ = 1 + x/xp, B+ = 1 + xp/x,
    # so xi = ((x + xp)/x) / ((xp + x)/xp) * x^2/xp = x.
    ds = aggregate_focus(1.0, ks, 1.0 - ks, xp, x, x)
    assert float(ds.xi) == pytest.approx(x, rel=1e-13)


@given(ks=fraction_of_pump, xp=focus, xs=focus, xi=focus)
def test_a_plus_b_plus_is_at_least_four_when_phase_matched(ks, xp, xs, xi):
    # dk = 0, alpha = k_s/k_p, beta = 1 - alpha, u_j = xi_j/xi_p:
    # A+ B+ = (1 + alpha u_s + beta u_i)(1 + alpha/u_s + beta/u_i) >= (1 + alpha + beta)^2 = 4
    # by Cauchy-Schwarz, equality only at u_s = u_i = 1; so rate_factor <= atan(xi)/4.
    ds = aggregate_focus(1.0, ks, 1.0 - ks, xp, xs, xi)
    assert float(ds.A_plus * ds.B_plus) >= 4.0 * (1 - 1e-14)
    assert float(ds.rate_factor) <= math.atan(float(ds.xi)) / 4 * (1 + 1e-14)


def test_non_degenerate_mismatched_case_matches_exact_fractions():
    kp, ks, ki = Fraction(10), Fraction(6), Fraction(3)  # dk = 1
    xp, xs, xi = Fraction(2), Fraction(3), Fraction(5)
    # A+ = 1 + (18 + 15)/20 = 53/20;  B+ = 9/10 + (7/10)(2/3) + (4/10)(2/5) = 229/150;
    # xi = (229/150)/(53/20) * 15/2 = 229/53.
    expected = by_hand(kp, ks, ki, xp, xs, xi)
    assert expected == {"A_plus": Fraction(53, 20), "B_plus": Fraction(229, 150),
                        "xi": Fraction(229, 53)}
    ds = aggregate_focus(10.0, 6.0, 3.0, 2.0, 3.0, 5.0)
    for name, value in expected.items():
        assert float(ds[name]) == pytest.approx(float(value), rel=1e-15)
    rate = math.atan(229 / 53) / (53 / 20 * 229 / 150)
    assert float(ds.rate_factor) == pytest.approx(rate, rel=1e-15)


def test_broadcasts_over_two_dims_and_keeps_coords():
    xi_s = xr.DataArray([1.0, 2.0, 3.0], dims="waist_s", coords={"waist_s": [10, 20, 30]})
    xi_i = xr.DataArray([0.5, 1.5], dims="waist_i", coords={"waist_i": [5, 15]})
    ds = aggregate_focus(2.0, 1.0, 1.0, 1.0, xi_s, xi_i)
    assert ds.xi.dims == ("waist_s", "waist_i")
    assert ds.xi.shape == (3, 2)
    assert ds.waist_s.values.tolist() == [10, 20, 30]
    assert ds.waist_i.values.tolist() == [5, 15]
    for name in ("xi", "A_plus", "B_plus", "rate_factor"):
        assert ds[name].dims == ("waist_s", "waist_i")
    # dk = 0, k = (2, 1, 1), xi_p = 1: xi = (2 xs xi + xi + xs)/(2 + xs + xi).
    xs, xi = np.meshgrid([1.0, 2.0, 3.0], [0.5, 1.5], indexing="ij")
    np.testing.assert_allclose(ds.xi.values, (2 * xs * xi + xi + xs) / (2 + xs + xi),
                               rtol=1e-14)


def test_outputs_carry_long_name_units_description_and_formula():
    ds = aggregate_focus(**ARGS)
    assert ds.xi.attrs["long_name"] == "aggregate focus"
    for name in ("xi", "A_plus", "B_plus", "rate_factor"):
        assert ds[name].attrs["units"] == "1"
        assert {"long_name", "description", "formula"} <= set(ds[name].attrs)
    assert "Phys. Rev. A 81, 053805" in ds.attrs["references"]


def test_inputs_are_neither_changed_nor_their_attrs_copied_to_the_results():
    k_p = xr.DataArray(2.0, attrs={"units": "rad/m", "note": "mine"})
    ds = aggregate_focus(k_p, 1.0, 1.0, 1.0, 1.0, 1.0)
    assert k_p.attrs == {"units": "rad/m", "note": "mine"}
    assert "note" not in ds.xi.attrs


def test_wave_numbers_in_different_units_are_refused_naming_them():
    kp = xr.DataArray(2.0, attrs={"units": "rad/m"})
    ks = xr.DataArray(1.0, attrs={"units": "rad/um"})
    with pytest.raises(ValueError, match=r"pump_wave_number, signal_wave_number, "
                       r"idler_wave_number .*must share one unit.*'rad/um'"):
        aggregate_focus(kp, ks, 1.0, 1.0, 1.0, 1.0)


def test_wave_numbers_in_one_unit_other_than_rad_per_m_give_the_same_result():
    # Only the ratios of the k's enter.
    per_um = {k: xr.DataArray(v * 1e-6, attrs={"units": "rad/um"})
              for k, v in {"pump_wave_number": 2.0e7, "signal_wave_number": 1.2e7,
                           "idler_wave_number": 0.7e7}.items()}
    per_m = aggregate_focus(2.0e7, 1.2e7, 0.7e7, 1.0, 2.0, 3.0)
    ds = aggregate_focus(**per_um, pump_focus=1.0, signal_focus=2.0, idler_focus=3.0)
    assert float(ds.xi) == pytest.approx(float(per_m.xi), rel=1e-14)


@pytest.mark.parametrize(("name", "value", "shown"), [
    ("signal_focus", 0.0, "0.0"),
    ("pump_wave_number", -1.0, "-1.0"),
    ("idler_focus", np.nan, "nan"),
    ("signal_wave_number", np.inf, "inf"),
    ("pump_focus", np.float32(-2.5), "-2.5"),
])
def test_a_non_positive_or_non_finite_value_is_a_value_error_naming_it(name, value, shown):
    with pytest.raises(ValueError, match=rf"{name} must be positive and finite; .*: {shown}"):
        aggregate_focus(**{**ARGS, name: value})


def test_bad_values_in_a_dataarray_are_shown_with_their_coordinates():
    xi_s = xr.DataArray([1.0, -2.0, np.nan], dims="waist_s", coords={"waist_s": [10, 20, 30]})
    with pytest.raises(ValueError, match=r"signal_focus .* 2 of 3 values of 'signal_focus' are "
                                         r"not: -2.0 at waist_s=20; nan at waist_s=30"):
        aggregate_focus(**{**ARGS, "signal_focus": xi_s})


@pytest.mark.parametrize(("value", "text"), [
    ("1", "idler_wave_number must be a DataArray or a real number, not the string '1'"),
    (None, "idler_wave_number must be a DataArray, a 1-D array or a real number, not "
           "NoneType"),
    # 1-D arrays are dims named after the argument; more dims need a DataArray's names.
    ([[1.0, 2.0]], "idler_wave_number must be a DataArray, a 1-D array or a real number, not "
                   r"list of shape \(1, 2\); wrap arrays of more dimensions as "
                   r"xr.DataArray\(values, dims=...\)"),
    (np.ones((2, 2)), r"not ndarray of shape \(2, 2\); wrap arrays of more dimensions as "
                      "xr.DataArray"),
    (True, "idler_wave_number must hold real numbers, but 'idler_wave_number' has dtype bool"),
    (1 + 2j, "idler_wave_number must be a DataArray, a 1-D array or a real number, not "
             "complex"),
    (xr.DataArray(["a"], dims="x"),
     "idler_wave_number must hold real numbers, but 'idler_wave_number' has dtype <U1"),
])
def test_a_non_numeric_value_is_a_type_error_naming_it(value, text):
    with pytest.raises(TypeError, match=text):
        aggregate_focus(**{**ARGS, "idler_wave_number": value})


def test_a_one_dimensional_array_is_a_dim_named_after_its_argument():
    ds = aggregate_focus(**{**ARGS, "idler_wave_number": [1.0, 1.1]})
    assert ds["idler_wave_number"].values.tolist() == [1.0, 1.1]
    assert "idler_wave_number" in ds.dims


def test_numbers_of_other_kinds_are_accepted():
    ds = aggregate_focus(2, np.int64(1), Fraction(1), np.array(0.7), np.float32(0.7), 0.7)
    assert float(ds.xi) == pytest.approx(0.7, rel=1e-7)


def test_shared_dims_with_different_coords_are_refused_naming_the_arguments():
    xi_s = xr.DataArray([1.0, 2.0], dims="w", coords={"w": [1, 2]})
    xi_i = xr.DataArray([1.0, 2.0], dims="w", coords={"w": [1, 3]})
    with pytest.raises(ValueError, match=r"do not align.*signal_focus has sizes \{'w': 2\}"):
        aggregate_focus(**{**ARGS, "signal_focus": xi_s, "idler_focus": xi_i})


def test_wave_number_is_two_pi_n_over_lambda():
    k = wave_number(1.064e-6, 1.83)
    assert float(k) == pytest.approx(2 * math.pi * 1.83 / 1.064e-6, rel=1e-15)
    assert k.attrs["units"] == "rad/m"


def test_beam_focus_is_length_over_k_waist_squared():
    xi = beam_focus(1.064e-6, 1.83, 40e-6, 0.02)
    assert float(xi) == pytest.approx(0.02 * 1.064e-6 / (2 * math.pi * 1.83 * 40e-6**2),
                                      rel=1e-14)
    assert xi.attrs["units"] == "1"


def test_beam_focus_refuses_a_negative_waist_naming_it():
    with pytest.raises(ValueError, match="waist must be positive and finite; .*: -1e-06"):
        beam_focus(1e-6, 1.5, -1e-6, 1e-2)


def test_beams_path_agrees_with_xi_j_and_dk_by_hand():
    lam = (532e-9, 1064e-9, 1064e-9)
    n = (1.80, 1.75, 1.74)
    w = (30e-6, 40e-6, 45e-6)
    length = 0.02
    ds = aggregate_focus_from_beams(wavelengths=lam, indices=n, waists=w, length=length)
    k = [2 * math.pi * nj / lj for lj, nj in zip(lam, n, strict=True)]
    xi = [length / (kj * wj**2) for kj, wj in zip(k, w, strict=True)]
    for j, xi_j in zip("psi", xi, strict=True):
        assert float(ds[f"xi_{j}"]) == pytest.approx(xi_j, rel=1e-14)
    assert float(ds.dk) == pytest.approx(k[0] - k[1] - k[2], rel=1e-12)
    assert ds.dk.attrs["units"] == "rad/m"
    for name, value in by_hand(*k, *xi).items():
        assert float(ds[name]) == pytest.approx(value, rel=1e-12)


def test_beams_path_broadcasts_each_beam_over_its_own_dims():
    w_s = xr.DataArray([30e-6, 40e-6, 50e-6], dims="w_s", coords={"w_s": [30, 40, 50]})
    w_i = xr.DataArray([35e-6, 45e-6], dims="w_i", coords={"w_i": [35, 45]})
    ds = aggregate_focus_from_beams((532e-9, 1064e-9, 1064e-9), (1.8, 1.75, 1.75),
                                    (30e-6, w_s, w_i), 0.02)
    assert ds.xi.dims == ("w_s", "w_i")
    assert ds.xi_s.dims == ("w_s",)
    assert ds.xi_p.dims == ()


@pytest.mark.parametrize(("change", "exc", "text"), [
    ({"waists": (30e-6, -40e-6, 40e-6)}, ValueError, "waist_s must be positive and finite"),
    ({"indices": (1.8, 1.75, 0.0)}, ValueError, "index_i must be positive and finite"),
    ({"wavelengths": (np.nan, 1064e-9, 1064e-9)}, ValueError, "wavelength_p must be positive"),
    ({"length": -0.02}, ValueError, "length must be positive and finite; .*: -0.02"),
    ({"waists": (30e-6, 40e-6)}, ValueError, "waists must hold three values .* not 2"),
    ({"indices": 1.8}, TypeError, "indices must be a .*sequence of three, not float"),
    ({"wavelengths": ("532e-9", 1064e-9, 1064e-9)}, TypeError,
     "wavelength_p must be a DataArray or a real number, not the string '532e-9'"),
])
def test_beams_path_errors_name_the_beam(change, exc, text):
    args = {"wavelengths": (532e-9, 1064e-9, 1064e-9), "indices": (1.8, 1.75, 1.75),
            "waists": (30e-6, 40e-6, 40e-6), "length": 0.02}
    with pytest.raises(exc, match=text):
        aggregate_focus_from_beams(**{**args, **change})


def test_lengths_in_different_units_are_refused():
    w_p = xr.DataArray(30.0, attrs={"units": "um"})
    length = xr.DataArray(0.02, attrs={"units": "m"})
    with pytest.raises(ValueError, match="must share one unit"):
        aggregate_focus_from_beams((532e-9, 1064e-9, 1064e-9), (1, 1, 1), (w_p, 4e-5, 4e-5),
                                   length)


def test_broken_energy_conservation_warns():
    with pytest.warns(UserWarning, match=r"energy conservation.*up to 0\.000469"):
        aggregate_focus_from_beams((532e-9, 1064e-9, 1065e-9), (1, 1, 1), (1e-5,) * 3, 1e-2)


def test_energy_conservation_within_one_part_per_million_does_not_warn():
    # 1/532 - 1/1064 - 1/(1064 (1 + 1e-7)): relative mismatch ~5e-8.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        aggregate_focus_from_beams((532e-9, 1064e-9, 1064e-9 * (1 + 1e-7)), (1, 1, 1),
                                   (1e-5,) * 3, 1e-2)


@settings(max_examples=60)
@given(kp=st.floats(1.0, 2.0), ks=fraction_of_pump, ki=fraction_of_pump, xp=focus, xs=focus,
       xi=focus)
def test_swapping_signal_and_idler_changes_nothing(kp, ks, ki, xp, xs, xi):
    # Eqs. 12-15 are symmetric under (k_s, xi_s) <-> (k_i, xi_i); the implementation groups
    # the two terms symmetrically, so the results agree to the bit.
    a = aggregate_focus(kp, ks * kp, ki * kp, xp, xs, xi)
    b = aggregate_focus(kp, ki * kp, ks * kp, xp, xi, xs)
    for name in ("xi", "A_plus", "B_plus", "rate_factor"):
        assert float(a[name]) == float(b[name])


@settings(max_examples=60)
@given(ks=fraction_of_pump, ki=fraction_of_pump, xp=focus, xs=focus, xi=focus,
       scale=st.floats(1e-3, 1e3))
def test_scaling_the_wave_numbers_changes_nothing_and_scaling_the_foci_scales_xi(
        ks, ki, xp, xs, xi, scale):
    # A+, B+ hold only ratios k_j/k_p and xi_j/xi_p; xi = (B+/A+) xs xi/xp is then of
    # degree one in the xi_j (scaling the crystal length L scales every xi_j alike).
    base = aggregate_focus(1.0, ks, ki, xp, xs, xi)
    k_scaled = aggregate_focus(scale, ks * scale, ki * scale, xp, xs, xi)
    xi_scaled = aggregate_focus(1.0, ks, ki, xp * scale, xs * scale, xi * scale)
    for name in ("xi", "A_plus", "B_plus"):
        assert float(k_scaled[name]) == pytest.approx(float(base[name]), rel=1e-12)
    assert float(xi_scaled.A_plus) == pytest.approx(float(base.A_plus), rel=1e-12)
    assert float(xi_scaled.B_plus) == pytest.approx(float(base.B_plus), rel=1e-12)
    assert float(xi_scaled.xi) == pytest.approx(scale * float(base.xi), rel=1e-12)


# ------------------------------------------------------------ walk-off and absorption


def test_walkoff_parameters_by_hand():
    from xr_spdc.physics.beams import walkoff_parameters

    rho, L, lam, n, w, alpha = 0.05, 0.02, 1e-6, 1.5, 25e-6, 10.0
    k = 2 * math.pi * n / lam
    b = k * w * w
    ds = walkoff_parameters(rho, L, lam, n, w, absorption=alpha)
    assert float(ds.k) == pytest.approx(k, rel=1e-15)
    assert float(ds.confocal_parameter) == pytest.approx(b, rel=1e-15)
    assert float(ds.B) == pytest.approx(rho * math.sqrt(L * k) / 2, rel=1e-15)
    assert float(ds.kappa) == pytest.approx(alpha * b / 2, rel=1e-15)
    assert float(ds.xi) == pytest.approx(L / b, rel=1e-15)
    # B^2/xi = (rho k w/2)^2: the walk-off over a confocal parameter against the waist
    assert float(ds.B**2 / ds.xi) == pytest.approx((rho * k * w / 2) ** 2, rel=1e-14)
    for name, units in (("B", "1"), ("kappa", "1"), ("xi", "1"), ("confocal_parameter", "m"),
                        ("k", "rad/m")):
        assert ds[name].attrs["units"] == units and ds[name].attrs["long_name"]


def test_walkoff_parameters_allow_zero_angle_and_absorption_and_broadcast():
    from xr_spdc.physics.beams import walkoff_parameters

    length = xr.DataArray([0.01, 0.04], dims="L", coords={"L": [1, 4]})
    ds = walkoff_parameters(0.0, length, 1e-6, 1.5, 20e-6)
    assert ds.B.dims == ("L",) and float(abs(ds.B).max()) == 0.0
    assert float(ds.kappa.max()) == 0.0
    ds = walkoff_parameters(0.02, length, 1e-6, 1.5, 20e-6)
    assert float(ds.B[1] / ds.B[0]) == pytest.approx(2.0, rel=1e-15)  # B ~ sqrt(L)
    assert float(ds.xi[1] / ds.xi[0]) == pytest.approx(4.0, rel=1e-15)  # xi ~ L


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"walkoff_angle": -0.01}, r"walkoff_angle must be >= 0.*-0.01"),
    ({"absorption": -1.0}, "absorption must be >= 0"),
    ({"length": 0.0}, "length must be positive"),
    ({"waist": float("nan")}, "waist must be positive and finite"),
])
def test_walkoff_parameters_refuse_bad_values_by_name(kwargs, match):
    from xr_spdc.physics.beams import walkoff_parameters

    args = {"walkoff_angle": 0.05, "length": 0.01, "wavelength": 1e-6,
            "refractive_index": 1.5, "waist": 2e-5, **kwargs}
    with pytest.raises(ValueError, match=match):
        walkoff_parameters(**args)


@pytest.mark.parametrize("slip, match", [
    ({"walkoff_angle": 3.2}, "walkoff_angle must be in rad.*3.2.*degrees"),
    ({"length": 10.0}, "length must be in metres.*10.0.*millimetres"),
    ({"refractive_index": 0.5}, "refractive_index must be a refractive index.*0.5"),
    ({"wavelength": 1064.0}, "wavelength must be in metres.*nanometres"),
    ({"waist": 30.0}, "waist must be in metres.*micrometres"),
])
def test_walkoff_parameters_refuses_unit_slips_naming_the_argument(slip, match):
    # On main: walkoff_angle=3.2 gave B = 500, length=10.0 gave xi = 1137, without a word.
    from xr_spdc.physics.beams import walkoff_parameters

    args = dict(walkoff_angle=0.056, length=10e-3, wavelength=1064e-9,
                refractive_index=1.655, waist=30e-6)
    with pytest.raises(ValueError, match=match):
        walkoff_parameters(**{**args, **slip})


def test_the_old_per_beam_names_work_for_one_release_with_a_warning():
    with pytest.warns(DeprecationWarning) as caught:
        old = aggregate_focus(k_p=2.0, k_s=1.0, k_i=1.0, xi_p=1.0, xi_s=2.0, xi_i=3.0)
    said = " ".join(str(w.message) for w in caught)
    for before, after in [("k_p", "pump_wave_number"), ("k_s", "signal_wave_number"),
                          ("k_i", "idler_wave_number"), ("xi_p", "pump_focus"),
                          ("xi_s", "signal_focus"), ("xi_i", "idler_focus")]:
        assert f"{before}= is renamed {after}=" in said
    new = aggregate_focus(pump_wave_number=2.0, signal_wave_number=1.0, idler_wave_number=1.0,
                          pump_focus=1.0, signal_focus=2.0, idler_focus=3.0)
    xr.testing.assert_identical(old, new)
    with pytest.raises(TypeError, match="pass pump_focus= only"):
        aggregate_focus(2.0, 1.0, 1.0, pump_focus=1.0, signal_focus=2.0, idler_focus=3.0,
                        xi_p=1.0)
