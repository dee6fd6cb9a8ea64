"""xr_spdc.crystals.source_rates: absolute rates and heralding from the lab's parameters.

Checks: the absolute normalisation against Boyd & Kleinman's classical SHG power through
reciprocity (independent of the Hamiltonian's conventions); the spectral integral against an
independent closed-form limit (Parseval over φ, docs/physics/coupling.md §9, written out here
from the formula, not from the package's code); exact scalings (power, d_eff, QPM order, per-arm
efficiencies); heralding against SPDCalc's converged values (tests/data/spdcalc_rates.json,
copied from the peers' runs: spdcalc-py 1.0.1, see benchmarks/compare_spdcalc_rates.py);
bad input.
"""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest
import xarray as xr
from scipy.integrate import quad

pytest.importorskip("ndispers")

import xr_spdc  # noqa: E402
from xr_spdc.crystals import medium, source_rates  # noqa: E402

SPDCALC = json.loads((pathlib.Path(__file__).parent / "data" / "spdcalc_rates.json")
                     .read_text())
C, EPS0 = 299792458.0, 8.8541878128e-12
PPKTP = {"pump": 775e-9, "signal": 1550e-9, "temperature": 25.0, "length": 10e-3,
         "polarizations": "eeo", "pump_power": 1e-3, "d_eff": 1e-12}


def parseval_pair_rate(waists: tuple[float, float, float]) -> float:
    """Type-II PPKTP, monochromatic pump: Eq. 15 with every slowly varying factor frozen at
    the central frequencies and φ linear in ω_s, so that ∫|∫e^{iφl/2}/D dl|² dφ
    = 4π∫|1/D|² dl (Parseval).  Independent of the package's spectral integration."""
    med = medium("KTP_xy")
    lam = {"p": 775e-9, "s": 1550e-9, "i": 1550e-9}
    pol = {"p": "e", "s": "e", "i": "o"}
    n = {j: float(med.n(lam[j] * 1e6, 0.0, 25.0, pol=pol[j])) for j in lam}
    k = {j: 2 * np.pi * n[j] / lam[j] for j in lam}
    w = dict(zip("psi", waists, strict=True))
    length = 10e-3
    c = {j: k["p"] * w[j] ** 2 / length for j in "psi"}
    r = {j: k[j] / k["p"] for j in "si"}

    def inv_d2(l: float) -> float:
        a_p = c["p"] + 1j * l
        a_s, a_i = c["s"] - 1j * l / r["s"], c["i"] - 1j * l / r["i"]
        return 1.0 / abs(a_p * a_s + a_p * a_i + a_s * a_i) ** 2

    integral = 4 * np.pi * quad(inv_d2, -1, 1, epsabs=0, epsrel=1e-12)[0]
    # dφ/dω_s at fixed ω_p = L (1/v_i − 1/v_s) (group indices by central differences)
    h = 1e-4
    def k_at(j: str, lam_j: float) -> float:
        return 2 * np.pi * float(med.n(lam_j * 1e6, 0.0, 25.0, pol=pol[j])) / lam_j
    omega = 2 * np.pi * C / lam["s"]
    dk = {j: (k_at(j, 2 * np.pi * C / (omega * (1 + h))) -
              k_at(j, 2 * np.pi * C / (omega * (1 - h)))) / (2 * h * omega) for j in "si"}
    slope = abs(length * (dk["i"] - dk["s"]))
    pair_per_phi = 16 * np.pi ** 2 * c["s"] * c["i"] * k["p"] ** 2 * integral
    density = eq15(d_q=2e-12 / np.pi, omega_s=omega, omega_i=omega, power=1e-3,
                   pump_waist=w["p"], pair=pair_per_phi, indices=(n["p"], n["s"], n["i"]))
    return density / slope


def eq15(*, d_q: float, omega_s: float, omega_i: float, power: float, pump_waist: float,
         pair: float, indices: tuple[float, float, float]) -> float:
    """dR_c/dω_s, docs/physics/coupling.md Eq. 15, transcribed from the formula."""
    n_p, n_s, n_i = indices
    return (d_q ** 2 * omega_s * omega_i * power * pump_waist ** 2 * pair
            / (8 * np.pi ** 4 * EPS0 * C ** 3 * n_p * n_s * n_i))


def test_absolute_pair_rate_against_the_parseval_limit():
    waists = (100e-6, 100e-6, 100e-6)
    r = source_rates("KTP_xy", **PPKTP, pump_waist=waists[0], signal_waist=waists[1],
                     idler_waist=waists[2], rtol=1e-6)
    # Frozen factors and linear φ (measured: 3.7e-4 apart, mostly the asymptotic tails).
    assert float(r.pair_rate) == pytest.approx(parseval_pair_rate(waists), rel=1e-3)
    assert 0 < float(r.tail_fraction) < 0.01
    assert r.pair_rate.attrs["units"] == "s-1"


def boyd_kleinman_h(sigma: float, xi: float) -> float:
    """h(σ, B=0, ξ) = |∫_{−ξ}^{ξ} e^{iστ}/(1 + iτ) dτ|²/(4ξ) (Boyd & Kleinman 1968), mpmath."""
    import mpmath

    mpmath.mp.dps = 30
    value = mpmath.quad(lambda t: mpmath.exp(1j * sigma * t) / (1 + 1j * t), [-xi, 0, xi])
    return float(abs(value) ** 2 / (4 * xi))


@pytest.mark.parametrize(("waist", "phi"), [(40e-6, 0.0), (40e-6, -3.0), (20e-6, -3.24),
                                            (100e-6, 1.0), (15e-6, -6.0)])
def test_absolute_normalisation_against_boyd_kleinman_shg(waist, phi):
    # Independent of the Hamiltonian's normalisation: classical SHG (Boyd & Kleinman,
    # J. Appl. Phys. 39, 3597 (1968): P_2ω = 16π²d²L h P_ω²/(ε₀cλ³n_ωn_2ω), SI, Boyd's d)
    # gives sum-frequency generation of two distinguishable beams of waist w into the pump
    # mode of waist w/√2 (the generated field is exactly that mode): η_SFG = 4η_SHG.  The
    # spontaneous rate per unit angular bandwidth is that classical gain seeded by one
    # vacuum photon per mode (Klyshko; Mitchell, PRA 79, 043835 (2009)):
    # dR/dω_s = η_SFG P ω_sω_i/(2πω_p²).  Equal indices make k_p = k_s + k_i exactly.
    n, lam, length, power, d = 2.2, 1550e-9, 10e-3, 1e-3, 1e-12
    out = xr_spdc.fiber_coupling(
        pump_wavelength=lam / 2, signal_wavelength=lam, pump_index=n, signal_index=n,
        idler_index=n, pump_waist=waist / np.sqrt(2), signal_waist=waist,
        idler_waist=waist, length=length, phi=phi, workers=1)
    omega = 2 * np.pi * C / lam
    ours = eq15(d_q=d, omega_s=omega, omega_i=omega, power=power,
                pump_waist=waist / np.sqrt(2), pair=float(out.pair), indices=(n, n, n))
    xi = length / (2 * np.pi * n / lam * waist ** 2)
    sigma = -phi / (2 * xi)  # BK's σ = Δk b/2 with their sign of Δk
    eta_shg = 16 * np.pi ** 2 * d ** 2 * length * boyd_kleinman_h(sigma, xi) / (
        EPS0 * C * lam ** 3 * n * n)
    classical = 4 * eta_shg * power * omega * omega / (2 * np.pi * (2 * omega) ** 2)
    assert ours == pytest.approx(classical, rel=1e-10)


def test_heralding_agrees_with_spdcalc():
    # PPKTP's monochromatic rates vary by < 1 % over a 1 nm pump (so the heralding of the
    # CW and of the 1 nm pump agree to 1e-5); SPDCalc's are its converged 1 nm values.
    row = SPDCALC["ppktp_100_100_100"]
    r = source_rates("KTP_xy", **PPKTP, pump_waist=100e-6, signal_waist=100e-6,
                     idler_waist=100e-6, rtol=1e-5)
    assert float(r.signal_heralding) == pytest.approx(row["signal_heralding"], rel=5e-3)
    assert float(r.idler_heralding) == pytest.approx(row["idler_heralding"], rel=5e-3)
    assert float(r.signal_heralding) <= 1 and float(r.idler_heralding) <= 1


def test_exact_scalings():
    power = xr.DataArray([1e-3, 3e-3], dims="pump_power", name="pump_power")
    base = {**PPKTP, "pump_power": power, "pump_waist": 60e-6, "signal_waist": 60e-6,
            "idler_waist": 60e-6, "rtol": 1e-4}
    one = source_rates("KTP_xy", **base)
    np.testing.assert_allclose(one.pair_rate[1] / one.pair_rate[0], 3.0, rtol=1e-12)
    np.testing.assert_allclose(one.signal_heralding[1], one.signal_heralding[0], rtol=1e-12)
    lossy = source_rates("KTP_xy", **{**base, "pump_power": 1e-3, "d_eff": 2e-12},
                         signal_efficiency=0.5, idler_efficiency=0.8)
    np.testing.assert_allclose(lossy.pair_rate, 4 * 0.4 * one.pair_rate[0], rtol=1e-12)
    np.testing.assert_allclose(lossy.signal_heralding, 0.5 * one.signal_heralding[0],
                               rtol=1e-12)
    np.testing.assert_allclose(lossy.idler_heralding, 0.8 * one.idler_heralding[0],
                               rtol=1e-12)
    # the inputs are recorded
    assert "pump_power" in one.coords and one.attrs["crystal"] == "KTP_xy"
    assert one.attrs["polarizations"] == "eeo" and one.attrs["d_eff"] == 1e-12
    assert one.attrs["poling_period"] == pytest.approx(45.0325e-6, rel=1e-5)


@pytest.mark.slow
def test_third_order_qpm_is_a_ninth():
    base = {**PPKTP, "pump_waist": 60e-6, "signal_waist": 60e-6, "idler_waist": 60e-6,
            "rtol": 1e-6}
    first = source_rates("KTP_xy", **base)
    third = source_rates("KTP_xy", **base, order=3)
    np.testing.assert_allclose(third.pair_rate, first.pair_rate / 9, rtol=1e-9)


@pytest.mark.slow
def test_dataset_accessor_and_netcdf_round_trip(tmp_path):
    ds = xr.Dataset({key: value for key, value in PPKTP.items() if key != "polarizations"},
                    coords={"pump_waist": [50e-6, 80e-6]},
                    attrs={"crystal": "KTP_xy", "polarizations": "eeo"})
    ds["signal_waist"] = 60e-6
    ds["idler_waist"] = 60e-6
    out = ds.spdc.source_rates(rtol=1e-4)
    assert out.pair_rate.dims == ("pump_waist",)
    path = tmp_path / "source.nc"
    xr_spdc.to_netcdf(ds, path)
    again = xr_spdc.open_dataset(path).spdc.source_rates(rtol=1e-4)
    xr.testing.assert_allclose(again, out, rtol=1e-12)


@pytest.mark.parametrize(("change", "named"), [
    ({"pump_waist": -30e-6}, "pump_waist"),
    ({"signal": 700e-9}, "signal"),
    ({"pump_power": 0.0}, "pump_power"),
    ({"poling_period": 10e-6}, "poling_period"),
    ({"signal_efficiency": 1.5}, "signal_efficiency"),
    ({"pump_bandwidth": 1.0}, "pump_bandwidth"),  # 1 nm given as 1 (m)
])
def test_bad_input_names_the_argument(change, named):
    args = {**PPKTP, "pump_waist": 60e-6, "signal_waist": 60e-6, "idler_waist": 60e-6,
            **change}
    with pytest.raises(ValueError, match=named):
        source_rates("KTP_xy", **args)


def test_walkoff_is_named_not_hidden():
    # Angle-tuned BBO (theta = 0.5 rad): the extraordinary pump walks off; the model has
    # none, so source_rates warns with B (then fails here on a period that cannot
    # phase-match, to stay fast).
    with pytest.warns(UserWarning, match="B = "), pytest.raises(ValueError):
        source_rates("BetaBBO_Eimerl1987", pump=405e-9, signal=810e-9, temperature=25.0,
                     length=2e-3, polarizations="eoo", pump_waist=100e-6,
                     signal_waist=100e-6, idler_waist=100e-6, pump_power=1e-3,
                     d_eff=2e-12, angle=0.5, poling_period=1e-6)


def test_optimal_waists_at_a_heralding_floor_agrees_with_source_rates():
    n = {"pump_index": 1.7581790048006931, "signal_index": 1.7349440957853777,
         "idler_index": 1.815833507986423}  # KTP_xy at 25 °C (peers' check, to 2e-16)
    best = xr_spdc.optimal_waists(target="pair_rate_at_heralding", heralding_floor=0.9,
                                  pump_wavelength=775e-9, signal_wavelength=1550e-9,
                                  length=10e-3, **n)
    assert float(best.symmetric_heralding) == pytest.approx(0.9, abs=1e-6)
    r = source_rates("KTP_xy", **PPKTP, pump_waist=float(best.pump_waist),
                     signal_waist=float(best.signal_waist),
                     idler_waist=float(best.idler_waist), rtol=1e-5)
    # frozen slow factors against the full spectral integral
    assert float(r.symmetric_heralding) == pytest.approx(0.9, rel=1e-3)
    curve = xr_spdc.heralding_tradeoff([0.85, 0.95], pump_wavelength=775e-9,
                                       signal_wavelength=1550e-9, length=10e-3, **n)
    assert curve.pair_rate_factor.dims == ("heralding_floor",)
    assert float(curve.pair_rate_factor[0]) > float(curve.pair_rate_factor[1])


def test_optimal_waists_bad_input():
    kw = {"pump_wavelength": 775e-9, "signal_wavelength": 1550e-9, "pump_index": 1.76,
          "signal_index": 1.73, "idler_index": 1.82, "length": 10e-3}
    with pytest.raises(ValueError, match="target"):
        xr_spdc.optimal_waists(target="brightest", **kw)
    with pytest.raises(ValueError, match="heralding_floor"):
        xr_spdc.optimal_waists(target="pair_rate_at_heralding", heralding_floor=1.2, **kw)
    with pytest.raises(ValueError, match="length"):
        xr_spdc.optimal_waists(**{**kw, "length": -1.0})


@pytest.mark.slow
def test_a_narrow_pump_spectrum_gives_the_monochromatic_rates():
    base = {**PPKTP, "pump_waist": 60e-6, "signal_waist": 60e-6, "idler_waist": 60e-6,
            "rtol": 1e-6}
    cw = source_rates("KTP_xy", **base)
    narrow = source_rates("KTP_xy", **base, pump_bandwidth=1e-13)  # 0.1 pm FWHM
    np.testing.assert_allclose(narrow.pair_rate, cw.pair_rate, rtol=1e-5)
    np.testing.assert_allclose(narrow.signal_heralding, cw.signal_heralding, rtol=1e-5)
