"""xr_spdc.crystals: φ from the lab's parameters, checked by hand, against overlap's sign
convention, and against published phase-matching designs."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
import xarray as xr
from scipy.optimize import brentq

import xr_spdc
from xr_spdc import crystals

nd = pytest.importorskip("ndispers")  # the crystals extra is in the test command

# the global optimum of |O| (centred focus; mpmath-refined)
XI_STAR = 2.8375191194941384
PHI_STAR = -3.2551381153733029
O2_STAR = 4.2708998990612455

# Gayer et al. (Appl. Phys. B 91, 343 (2008)) grow their period with the a-axis expansion.
LN_EXPANSION = 1.54e-5  # 1/K, as in ndispers' own regression test of Gayer's Fig. 4


def gayer_period(t_degc: float) -> float:
    return 19.36e-6 * (1 + LN_EXPANSION * (t_degc - 25))


# ---------------------------------------------------------------------------- by hand


def test_phi_is_delta_k_times_length_worked_by_hand():
    """Type-0 PPLN (Jundt), 775 -> 1550 nm at 25 degC: indices from ndispers' published
    equation, the rest by hand (k = 2 pi n/lambda, idler by energy conservation)."""
    ln = nd.media.crystals.CLN_Jundt1997()
    lp, ls = 0.775, 1.600                       # um
    li = 1 / (1 / lp - 1 / ls)                  # 1.5025... um
    n = [ln.n(w, np.pi / 2, 25.0, pol="e") for w in (lp, ls, li)]
    dk0 = 2 * np.pi * (n[0] / lp - n[1] / ls - n[2] / li) * 1e6  # rad/m, > 0 for PPLN
    period, length = 19.0e-6, 0.01
    expected = (dk0 - 2 * np.pi / period) * length
    phi = crystals.phase_mismatch("CLN_Jundt1997", pump=775e-9, signal=1600e-9,
                                  temperature=25.0, length=length, poling_period=period,
                                  polarizations="eee")
    assert dk0 > 0
    # phi is a difference of ~1e5 rad terms (k_p L): its rounding scale is eps k_p L ~ 1e-11
    assert float(phi) == pytest.approx(expected, abs=1e-9)
    # without poling, phi is the material mismatch alone
    bare = crystals.phase_mismatch("CLN_Jundt1997", pump=775e-9, signal=1600e-9,
                                   temperature=25.0, length=length, polarizations="eee")
    assert float(bare) == pytest.approx(dk0 * length, abs=1e-9)


def test_grating_sign_follows_the_material_mismatch_type_ii_ppktp():
    """Type-II PPKTP (pump y, signal y, idler z): k_p < k_s + k_i, so the grating vector
    that phase-matches is +2 pi/Lambda in dk (m = -1); by hand with ndispers' indices."""
    ktp = nd.media.crystals.KTP_xy()
    lp, ls = 0.775, 1.55
    n = [ktp.n(lp, 0.0, 30.0, pol="e"), ktp.n(ls, 0.0, 30.0, pol="e"),
         ktp.n(ls, 0.0, 30.0, pol="o")]
    assert n[2] > n[1]  # z (o in the xy plane) is the slow axis
    dk0 = 2 * np.pi * (n[0] / lp - n[1] / ls - n[2] / ls) * 1e6
    assert dk0 < 0
    period = 46.0e-6
    phi = crystals.phase_mismatch("KTP_xy", pump=775e-9, signal=1550e-9, temperature=30.0,
                                  length=0.02, poling_period=period, polarizations="eeo")
    assert float(phi) == pytest.approx((dk0 + 2 * np.pi / period) * 0.02, abs=1e-9)
    lam0 = crystals.poling_period("KTP_xy", pump=775e-9, signal=1550e-9, temperature=30.0,
                                  polarizations="eeo")
    assert float(lam0) == pytest.approx(2 * np.pi / abs(dk0), rel=1e-9)


@pytest.mark.parametrize("crystal,pols", [("CLN_Jundt1997", "eee"), ("KTP_xy", "eeo")])
def test_phase_matching_period_gives_zero_phi(crystal, pols):
    lam0 = crystals.poling_period(crystal, pump=775e-9, signal=1550e-9, temperature=40.0,
                                  polarizations=pols)
    phi = crystals.phase_mismatch(crystal, pump=775e-9, signal=1550e-9, temperature=40.0,
                                  length=0.01, poling_period=lam0, polarizations=pols)
    assert abs(float(phi)) < 1e-8


@pytest.mark.parametrize("crystal,pols,sign", [("CLN_Jundt1997", "eee", 1),
                                               ("KTP_xy", "eeo", -1)])
def test_brightest_period_has_negative_phi_as_overlap_says(crystal, pols, sign):
    """The sign ties to overlap's: scanning the period of a 10 mm crystal at the focus
    xi*, |O|^2 peaks where phi = phi* < 0 (-1.04 pi), i.e. where k_p falls short of
    k_s + k_i + 2 pi m/Lambda (the Gouy phase makes it up).  By hand, with
    s = sign(k_p - k_s - k_i): 2 pi/Lambda' = 2 pi/Lambda0 - s phi*/L, a shorter period for
    PPLN (s = +1) and a longer one for type-II PPKTP (s = -1)."""
    kw = dict(pump=775e-9, signal=1550e-9, temperature=25.0, polarizations=pols)
    lam0 = float(crystals.poling_period(crystal, **kw))
    # 2 pi/Lambda L ~ 1e3-3e3 rad: a relative change of 1e-3 in Lambda moves phi by 1-3 rad
    periods = xr.DataArray(lam0 * (1 + np.linspace(-6e-3, 6e-3, 4001)), dims="period")
    phi = crystals.phase_mismatch(crystal, length=0.01, poling_period=periods, **kw)
    o = xr_spdc.overlap(phi=phi, xi=XI_STAR, workers=1)
    best = int(np.argmax(abs(o).values))
    step = float(abs(phi.diff("period")).max())
    assert float(phi[best]) == pytest.approx(PHI_STAR, abs=step)
    by_hand = 1 / (1 / lam0 - sign * PHI_STAR / (2 * np.pi * 0.01))
    assert float(periods[best]) == pytest.approx(by_hand, abs=float(abs(periods.diff(
        "period")).max()))
    assert (float(periods[best]) < lam0) == (sign > 0)
    assert float(abs(o[best]) ** 2) == pytest.approx(O2_STAR, rel=1e-4)


# ---------------------------------------------------------------------------- labels


def test_phi_broadcasts_by_name_and_carries_its_labels():
    t = xr.DataArray([20.0, 30.0, 40.0], dims="temperature",
                     coords={"temperature": [20.0, 30.0, 40.0]})
    length = xr.DataArray([5e-3, 10e-3], dims="length", coords={"length": [5e-3, 10e-3]})
    phi = crystals.phase_mismatch("KTP_xy", pump=775e-9, signal=1550e-9, temperature=t,
                                  length=length, poling_period=45e-6, polarizations="eeo")
    assert phi.name == "phi"
    assert set(phi.dims) == {"temperature", "length"}
    np.testing.assert_array_equal(phi.temperature, t.values)
    assert phi.attrs["units"] == "rad"
    assert phi.attrs["long_name"] == "phase mismatch"
    assert phi.attrs["crystal"] == "KTP_xy"
    assert "KTP_xy" in phi.attrs["sellmeier_source"]
    assert "10.1364/ao.41.005040" in phi.attrs["sellmeier_dois"]  # Kato & Takaoka 2002
    assert phi.attrs["polarizations"] == "pump e, signal e, idler o"
    # phi is linear in L
    ratio = phi.sel(length=10e-3) / phi.sel(length=5e-3)
    np.testing.assert_allclose(ratio, 2.0, rtol=1e-12)


def test_phi_drops_into_a_dataset_for_the_accessor():
    t = xr.DataArray(np.linspace(20, 60, 5), dims="temperature")
    phi = crystals.phase_mismatch("KTP_xy", pump=775e-9, signal=1550e-9, temperature=t,
                                  length=0.01, poling_period=45e-6, polarizations="eeo")
    ds = xr.Dataset({"phi": phi}, coords={"xi": [0.5, 2.84]})
    o = ds.spdc.overlap(workers=1)
    assert o.sizes == {"temperature": 5, "xi": 2}
    direct = xr_spdc.overlap(phi=phi, xi=ds.xi, workers=1)
    np.testing.assert_array_equal(o.values, direct.transpose(*o.dims).values)


def test_refractive_index_is_ndispers_n_in_metres():
    n = crystals.refractive_index("KTP_xy", 1.55e-6, 25.0, polarization="o")
    assert float(n) == nd.media.crystals.KTP_xy().n(1.55, 0.0, 25.0, pol="o")
    assert n.attrs["units"] == "1"


# ---------------------------------------------------------------------------- published designs


@pytest.mark.parametrize("t_degc,fundamental_nm", [(40.0, 1544.0), (200.0, 1571.0)])
def test_sln_shg_wavelength_matches_gayer_2008_fig4(t_degc, fundamental_nm):
    """Gayer, Sacks, Galun & Arie, Appl. Phys. B 91, 343 (2008), Fig. 4: a 19.36 um MgO:SLN
    grating doubles 1544 nm at 40 degC and 1571 nm at 200 degC.  SHG is SPDC reversed
    (pump = fundamental/2, degenerate signal).  Tolerance 3 nm: the values are read off a
    figure (ndispers' own regression test uses the same)."""
    def phi(fundamental_m):
        return float(crystals.phase_mismatch(
            "SLN", pump=fundamental_m / 2, signal=fundamental_m, temperature=t_degc,
            length=1e-2, poling_period=gayer_period(t_degc), polarizations="eee"))
    root = brentq(phi, 1.40e-6, 1.70e-6, xtol=1e-13)
    assert root * 1e9 == pytest.approx(fundamental_nm, abs=3.0)


def test_sln_third_order_temperature_matches_gayer_2008_text():
    """Gayer et al. 2008, Sec. 4.1: the same 19.36 um crystal doubles 1047.5 nm in third
    order at 166 degC.  Tolerance 3 K: the fit's own residual at that point (its
    temperature slope is ~0.2 nm/K of fundamental, so 3 K is < 1 nm)."""
    t = crystals.phase_matching_temperature(
        "SLN", pump=1047.5e-9 / 2, signal=1047.5e-9, poling_period=gayer_period(166.0),
        order=3, polarizations="eee", bounds=(30.0, 250.0))
    assert float(t) == pytest.approx(166.0, abs=3.0)
    assert t.attrs["units"] == "degC"


def test_type_ii_ppktp_period_matches_published_design():
    """Type-II PPKTP for degenerate 792 nm -> 1584 nm pairs is poled at 46.1 um (Jin et al.,
    Opt. Express 21, 10659 (2013) and 22, 11498 (2014), experimental sections; the copies
    reachable when this was written show only their abstracts, so the number is quoted,
    not re-read).  ndispers' KTP is Kato & Takaoka
    (Appl. Opt. 41, 5040 (2002)), whose infrared n_y, n_z differ from the sets behind those
    designs (Fradkin et al. 1999, Koenig & Wong 2004) by a few 1e-4: at degeneracy
    1/Lambda = (n_p - (n_s + n_i)/2)/lambda_p with n_s - n_i ~ 0.08, so the period comes
    out 2.5 % shorter (44.95 um).  Tolerance 3 %; a wrong polarisation assignment is off
    by 40-80 % (type-0 zzz: 26 um; e.g. ('o', 'e', 'o'): 10.8 um)."""
    lam = crystals.poling_period("KTP_xy", pump=792e-9, signal=1584e-9, temperature=25.0,
                                 polarizations="eeo")
    assert float(lam) == pytest.approx(46.1e-6, rel=0.03)
    # swapping which photon is y- and which z-polarised at degeneracy changes nothing
    swapped = crystals.poling_period("KTP_xy", pump=792e-9, signal=1584e-9, temperature=25.0,
                                     polarizations="eoe")
    assert float(swapped) == pytest.approx(float(lam), rel=1e-12)
    wrong = crystals.poling_period("KTP_xy", pump=792e-9, signal=1584e-9, temperature=25.0,
                                   polarizations="ooo")
    assert not 0.9 < float(wrong) / 46.1e-6 < 1.1


# ---------------------------------------------------------------------------- design maps


def test_tuning_curve_of_a_type0_source_splits_above_degeneracy():
    """SLN, 772 nm pump, 19.36 um: degenerate at one temperature T0; above it signal and
    idler separate symmetrically in frequency, below it nothing phase-matches."""
    t0 = float(crystals.phase_matching_temperature(
        "SLN", pump=772e-9, signal=1544e-9, poling_period=19.36e-6, polarizations="eee"))
    temps = xr.DataArray(t0 + np.array([-5.0, 2.0, 10.0, 30.0]), dims="temperature")
    ds = crystals.tuning_curve("SLN", pump=772e-9, temperature=temps,
                               poling_period=19.36e-6, polarizations="eee")
    assert np.isnan(ds.signal[0])
    s, i = ds.signal[1:].values, ds.idler[1:].values
    assert np.all(s < 1544e-9) and np.all(i > 1544e-9)
    assert np.all(np.diff(s) < 0)  # the further from T0, the further apart
    np.testing.assert_allclose(1 / s + 1 / i, 1 / 772e-9, rtol=1e-14)
    # each point is phase-matched
    phi = crystals.phase_mismatch("SLN", pump=772e-9, signal=ds.signal[1:],
                                  temperature=temps[1:], length=0.01,
                                  poling_period=19.36e-6, polarizations="eee")
    np.testing.assert_allclose(phi, 0.0, atol=1e-6)
    assert ds.signal.attrs["units"] == "m"


def test_tuning_curve_agrees_with_ndispers_own_qpm_tuning():
    """An independent solver: ndispers' tuning_dfg(qpm_period=...) (its own grid and
    Brent refinement to 1e-6 um) gives the same signal for the SLN source above T0."""
    ours = crystals.tuning_curve("SLN", pump=772e-9, temperature=50.0, poling_period=19.36e-6,
                                 polarizations="eee")
    (theirs_s, theirs_i), = nd.media.crystals.SLN().tuning_dfg(
        0.772, np.pi / 2, 50.0, "e", "e", "e", wl_i_max=2.0, qpm_period=19.36)
    assert float(ours.signal) == pytest.approx(theirs_s * 1e-6, rel=1e-6)
    assert float(ours.idler) == pytest.approx(theirs_i * 1e-6, rel=1e-6)


def test_tuning_curve_type_ii_crosses_degeneracy():
    lam0 = float(crystals.poling_period("KTP_xy", pump=775e-9, signal=1550e-9,
                                        temperature=30.0, polarizations="eeo"))
    temps = xr.DataArray([10.0, 30.0, 50.0], dims="temperature")
    ds = crystals.tuning_curve("KTP_xy", pump=775e-9, temperature=temps,
                               poling_period=lam0, polarizations="eeo")
    assert float(ds.signal.isel(temperature=1)) == pytest.approx(1550e-9, rel=1e-9)
    assert ds.signal[0] > 1550e-9 > ds.signal[2]  # the signal tunes through degeneracy


def test_brightness_map_over_temperature_and_pump_waist():
    lam0 = float(crystals.poling_period("KTP_xy", pump=775e-9, signal=1550e-9,
                                        temperature=30.0, polarizations="eeo"))
    temps = xr.DataArray(np.linspace(20, 40, 41), dims="temperature",
                         coords={"temperature": np.linspace(20, 40, 41)})
    waists = xr.DataArray([15e-6, 30e-6, 60e-6], dims="pump_waist")
    ds = crystals.brightness_map("KTP_xy", pump=775e-9, signal=1550e-9, temperature=temps,
                                 length=0.01, pump_waist=waists, poling_period=lam0,
                                 polarizations="eeo")
    assert ds.intensity.sizes == {"temperature": 41, "pump_waist": 3}
    assert ds.intensity.dtype == np.float64 and ds.overlap.dtype == np.complex128
    np.testing.assert_allclose(ds.intensity, abs(ds.overlap) ** 2, rtol=1e-15)
    # matched confocal parameters: xi = xi_p up to the B+ correction dk/k_p ~ 1 %
    k_p = 2 * np.pi * float(crystals.refractive_index("KTP_xy", 775e-9, 30.0,
                                                      polarization="e")) / 775e-9
    xi_p = 0.01 / (k_p * waists**2)
    np.testing.assert_allclose(ds.xi.sel(temperature=30.0), xi_p, rtol=0.02)
    # never brighter than the global optimum, and the focus scales as 1/w^2
    assert float(ds.intensity.max()) <= O2_STAR
    assert ds.xi.attrs["long_name"] == "aggregate focus"


def test_bad_inputs_name_the_argument():
    kw = dict(signal=1550e-9, temperature=25.0, length=0.01, polarizations="eee")
    with pytest.raises(ValueError, match="pump must be in metres.*nanometres"):
        crystals.phase_mismatch("CLN_Jundt1997", pump=775.0, **kw)
    with pytest.raises(ValueError, match="signal must be longer than pump"):
        crystals.phase_mismatch("CLN_Jundt1997", pump=1600e-9, **kw)
    with pytest.raises(ValueError, match="no crystal 'PPKTP'.*KTP_xy"):
        crystals.phase_mismatch("PPKTP", pump=775e-9, **kw)
    with pytest.raises(ValueError, match="polarizations \\(idler\\)"):
        crystals.phase_mismatch("KTP_xy", pump=775e-9, **{**kw, "polarizations": "eex"})
    with pytest.raises(ValueError, match="length must be in metres"):
        crystals.phase_mismatch("KTP_xy", pump=775e-9, **{**kw, "length": 10.0})
    with pytest.raises(ValueError, match="order"):
        crystals.phase_mismatch("KTP_xy", pump=775e-9, poling_period=45e-6, order=0, **kw)
    with pytest.raises(ValueError, match="temperature must be in degC"):
        crystals.phase_mismatch("KTP_xy", pump=775e-9, **{**kw, "temperature": -300.0})
    with pytest.raises(TypeError, match="crystal must be"):
        crystals.phase_mismatch(3.0, pump=775e-9, **kw)


def test_missing_ndispers_says_how_to_install(monkeypatch):
    """The modules import without ndispers (the core does not need it); using them says
    how to install it."""
    import importlib

    from xr_spdc import spectrum

    monkeypatch.setitem(sys.modules, "ndispers", None)
    importlib.reload(crystals)
    importlib.reload(spectrum)
    with pytest.raises(ImportError, match=r'pip install -e "\.\[crystals\]"'):
        crystals.medium("KTP_xy")
    with pytest.raises(ImportError, match="ndispers"):
        spectrum.joint_spectrum("KTP_xy", pump=775e-9, signal=[1.5e-6, 1.55e-6, 1.6e-6],
                                temperature=25.0, length=0.01, xi=1.0, polarizations="eeo")


def test_brightness_prefers_the_matched_pump_waist():
    """With the signal and idler waists fixed, xi (and |O|^2) hardly depend on the pump
    waist, but the brightness 4|O|^2/(A+ B+) peaks where the pump's confocal parameter
    matches theirs (A+ B+ >= 4, Cauchy-Schwarz): w_p = w_s sqrt(k_s/k_p) ~ w_s/sqrt(2)
    at degeneracy."""
    kw = dict(pump=775e-9, signal=1550e-9, polarizations="eee")
    lam0 = crystals.poling_period("CLN_Jundt1997", temperature=25.0, **kw)
    waists = xr.DataArray(np.geomspace(10e-6, 100e-6, 121), dims="pump_waist")
    ds = crystals.brightness_map("CLN_Jundt1997", temperature=25.0, length=0.01,
                                 pump_waist=waists, signal_waist=40e-6, idler_waist=40e-6,
                                 poling_period=lam0, **kw)
    assert float(ds.intensity.max() / ds.intensity.min()) < 1.05
    n = {j: float(crystals.refractive_index("CLN_Jundt1997", lam, 25.0, polarization="e"))
         for j, lam in (("p", 775e-9), ("s", 1550e-9))}
    matched = 40e-6 * np.sqrt((n["s"] / 1550e-9) / (n["p"] / 775e-9))
    best = float(waists[int(np.argmax(ds.brightness.values))])
    assert best == pytest.approx(matched, rel=0.03)  # grid step 2 %
    assert ds.brightness.attrs["formula"] == "4 |O|^2/(A+ B+)"


def test_no_phase_matching_temperature_in_bounds_is_nan():
    t = crystals.phase_matching_temperature("SLN", pump=772e-9, signal=1544e-9,
                                            poling_period=19.36e-6, polarizations="eee",
                                            bounds=(100.0, 150.0))
    assert np.isnan(float(t))


def test_validity_warning_passes_through():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        crystals.refractive_index("KTP_xy", 6e-6, 25.0, polarization="o")
    assert any(issubclass(w.category, nd.ValidityWarning) for w in caught)


def test_an_angle_in_degrees_is_refused_naming_the_likely_unit():
    # On main, angle=29.2 (BBO's type-I angle, in degrees) gave phi = -796.66 silently.
    with pytest.raises(ValueError, match="angle must be in rad.*29.2.*degrees"):
        crystals.phase_mismatch("BetaBBO_Eimerl1987", angle=29.2, pump=405e-9,
                                signal=810e-9, temperature=25.0, length=1e-3,
                                polarizations="eoo")
    phi = crystals.phase_mismatch("BetaBBO_Eimerl1987", angle=np.radians(29.2), pump=405e-9,
                                  signal=810e-9, temperature=25.0, length=1e-3,
                                  polarizations="eoo")
    assert np.isfinite(float(phi))


@pytest.mark.parametrize("signal", [200e-9, 10e-6, 50e-6])
def test_outside_the_sellmeier_equation_phi_is_refused_with_its_range(signal):
    # On main: phi = NaN, with only ndispers' "the result is an extrapolation" warning.
    pump = 100e-9 if signal < 775e-9 else 775e-9
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nd.ValidityWarning)
        with pytest.raises(ValueError, match="no real refractive index.*range is 5e-07 to "
                                             "4e-06 m"):
            crystals.phase_mismatch("SLN", pump=pump, signal=signal, temperature=25.0,
                                    length=1e-2, polarizations="eee")


def test_brightness_map_names_the_arguments_whose_dims_conflict():
    # On main: xarray's raw AlignmentError, naming no argument.
    temps = xr.DataArray([20.0, 30.0, 40.0], dims="temperature")
    waists = xr.DataArray([15e-6, 30e-6], dims="temperature")
    with pytest.raises(ValueError, match="temperature, pump_waist do not align.*temperature "
                                         "has sizes \\{'temperature': 3\\}"):
        crystals.brightness_map("KTP_xy", pump=775e-9, signal=1550e-9, temperature=temps,
                                length=0.01, pump_waist=waists, poling_period=45e-6,
                                polarizations="eeo")


def test_brightness_map_refuses_a_grid_beyond_the_memory_cap_before_allocating():
    temps = xr.DataArray(np.linspace(20, 40, 20_000), dims="temperature")
    waists = xr.DataArray(np.linspace(10e-6, 90e-6, 20_000), dims="pump_waist")
    with pytest.raises(ValueError, match="4e\\+08 points.*in pieces"):
        crystals.brightness_map("KTP_xy", pump=775e-9, signal=1550e-9, temperature=temps,
                                length=0.01, pump_waist=waists, poling_period=45e-6,
                                polarizations="eeo")


def test_brightness_map_takes_workers_as_overlap_does():
    import inspect
    from concurrent.futures import ThreadPoolExecutor

    assert inspect.signature(crystals.brightness_map).parameters["workers"].default is None
    kw = dict(pump=775e-9, signal=1550e-9, temperature=25.0, length=0.01,
              pump_waist=30e-6, poling_period=45e-6, polarizations="eeo")
    with ThreadPoolExecutor(1) as pool:  # main refused an Executor
        pooled = crystals.brightness_map("KTP_xy", workers=pool, **kw)
    xr.testing.assert_identical(pooled, crystals.brightness_map("KTP_xy", **kw))
