"""The stored SPDCalc reference for the fibre-coupled joint spectrum (run by hand, once).

SPDCalc (spdcalc-py 1.0.1, Rust core 2.0.1) is a peer for comparison only: it is not a
dependency and CI does not have it.  Its joint spectrum was computed in its own venv by
``/work/scratch/peers/jsa_job.py 400`` (see /work/scratch/peers.md §4): type-II PPKTP with
ndispers' KTP_xy equations passed to SPDCalc as index expressions (identical indices to
≤ 2.2e-16), pump 775 nm with 1 nm FWHM, 10 mm, 25 °C, waists 30/42/42 µm, 'auto' poling
period (45.0325 µm) and 'auto' fibre foci (at the crystal centre for 1550 nm, fixed in
air), ``Integrator.simpson(400)`` (converged), pump threshold 1e-12, 200 × 200 points
uniform in ω over 1524.9-1575.9 nm.  Its ``js.jsa_range`` is SPDCalc's raw complex
amplitude [signal, idler].

This script keeps every third point of that grid (67 × 67, 5 points per pump FWHM) in
``tests/data/spdcalc_jsa_ppktp.npz`` and records SPDCalc's own scalar results and the
full-grid agreement measured here with xr_spdc in ``tests/data/spdcalc_jsa_ppktp.json``.
Usage: ``.venv/bin/python tests/make_spdcalc_comparison.py`` (about 20 s).
"""

from __future__ import annotations

import json
import pathlib

import numpy as np
import xarray as xr

import xr_spdc
from xr_spdc import crystals, spectrum

PEER = pathlib.Path("/work/scratch")
DATA = pathlib.Path(__file__).with_name("data")
C = 299_792_458.0
STEP = 3
LENGTH, TEMPERATURE = 10e-3, 25.0


def reference_phase(lam_s: np.ndarray, lam_i: np.ndarray, period: float) -> np.ndarray:
    """SPDCalc's phase relative to xr_spdc's (all beams referred to the crystal centre): its
    pump is referred to the entrance face, its signal and idler to the exit face and on to
    their fibre foci, L/(2 n(1550 nm)) behind it in air (phasematch_fiber_coupling's
    e^{i L/2 (k_p + k_s + k_i + k_pp)} and e^{-i k_0 z_0} terms)."""
    ls, li = np.meshgrid(lam_s, lam_i, indexing="ij")
    lp = 1 / (1 / ls + 1 / li)
    k = {}
    for beam, lam, pol in (("p", lp, "e"), ("s", ls, "e"), ("i", li, "o")):
        n = crystals.refractive_index("KTP_xy", xr.DataArray(lam), TEMPERATURE,
                                      polarization=pol)
        k[beam] = 2 * np.pi * n.values / lam
    n0 = {beam: float(crystals.refractive_index("KTP_xy", 1550e-9, TEMPERATURE,
                                                polarization=pol))
          for beam, pol in (("s", "e"), ("i", "o"))}
    z0 = {beam: -LENGTH / (2 * n0[beam]) for beam in n0}
    return np.exp(1j * (LENGTH / 2 * (k["p"] + k["s"] + k["i"] - 2 * np.pi / period)
                        + 2 * np.pi * (z0["s"] / ls + z0["i"] / li)))


def compare(ours: np.ndarray, theirs: np.ndarray) -> dict[str, float]:
    """Both normalised to Σ|ψ|² = 1 on their (common) grid, the global phase aligned by
    their inner product: max |Δψ| and max |Δ|ψ|| over the peak |ψ|."""
    a = ours / np.sqrt(np.sum(abs(ours) ** 2))
    b = theirs / np.sqrt(np.sum(abs(theirs) ** 2))
    c = np.vdot(b, a)
    b = b * c / abs(c)
    peak = float(abs(a).max())
    return {"max_abs_diff_over_peak": float(abs(a - b).max()) / peak,
            "max_modulus_diff_over_peak": float(abs(abs(a) - abs(b)).max()) / peak}


def k_of(matrix: np.ndarray) -> float:
    s = np.linalg.svd(matrix, compute_uv=False)
    lam = s**2 / np.sum(s**2)
    return float(1 / np.sum(lam**2))


def main() -> None:
    peer = np.load(PEER / "spdcalc_jsa_ppktp.npz")
    log = json.loads((PEER / "out" / "jsa_400.jsonl").read_text().splitlines()[0])
    raw, omega_s, omega_i = peer["jsa"], peer["omega_s"], peer["omega_i"]
    period = float(peer["poling_period_um"]) * 1e-6
    lam_s, lam_i = 2 * np.pi * C / omega_s, 2 * np.pi * C / omega_i
    kw = dict(pump=775e-9, temperature=TEMPERATURE, length=LENGTH, polarizations="eeo",
              pump_waist=30e-6, signal_waist=42e-6, idler_waist=42e-6, poling_period=period,
              pump_bandwidth=1e-9)
    theirs = raw * np.conj(reference_phase(lam_s, lam_i, period))
    full = {}
    for name, focus in (("foci_at_centre", None), ("foci_fixed_in_air", 1550e-9)):
        psi = spectrum.joint_spectrum("KTP_xy", signal=lam_s, idler=lam_i,
                                      focus_wavelength=focus, **kw)
        full[name] = {**compare(psi.values, theirs),
                      "K_complex": k_of(psi.values), "K_modulus": k_of(abs(psi.values))}
    keep = slice(None, None, STEP)
    np.savez_compressed(DATA / "spdcalc_jsa_ppktp.npz", jsa=raw[keep, keep],
                        omega_s=omega_s[keep], omega_i=omega_i[keep])
    record = {
        "what": "SPDCalc's raw joint spectral amplitude js.jsa_range [signal, idler], every "
                f"{STEP}rd point of its 200 x 200 grid (spdcalc_jsa_ppktp.npz)",
        "peer": "spdcalc-py 1.0.1 (Rust spdcalc 2.0.1), Integrator.simpson(400), threshold 1e-12",
        "source": "type-II PPKTP, ndispers KTP_xy as index expressions (pump y, signal y, idler "
                  "z), 775 nm pump with 1 nm intensity FWHM, L = 10 mm, 25 degC, waists "
                  "30/42/42 um, 'auto' poling period and fibre foci (centre at 1550 nm, fixed "
                  "in air), grid uniform in omega over 1524.9-1575.9 nm",
        "poling_period_m": period,
        "spdcalc_schmidt_number": log["schmidt_number"],
        "spdcalc_schmidt_number_is": "the SVD of |psi| (phase dropped): K_modulus of its JSA",
        "spdcalc_K_modulus_full_grid": k_of(abs(raw)),
        "spdcalc_K_complex_full_grid_its_phase": k_of(raw),
        "spdcalc_K_complex_full_grid_centre_phase": k_of(theirs),
        "spdcalc_jsa_range_seconds": log["timings_s"]["jsa_range"],
        "xr_spdc_full_grid": full,
        "measured_with": f"xr_spdc {xr_spdc.__version__}, tests/make_spdcalc_comparison.py",
    }
    (DATA / "spdcalc_jsa_ppktp.json").write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
