"""Absolute rates and heralding: ``xr_spdc.crystals.source_rates`` beside spdcalc-py (issue 24 §4).

spdcalc-py is a PEER (never a dependency): it runs in its scratch venv through
/work/scratch/run_spdcalc.py (override with SPDCALC_PYTHON / SPDCALC_SCRIPT), with the same
Sellmeier equations (ndispers' SLN and KTP_xy passed to it as index expressions).  Inputs:
775 nm pump, 1 nm FWHM, 1 mW, d = 1 pm/V (×2/π for QPM), L = 10 mm, foci at the centre,
period that phase-matches at the temperature.

    .venv/bin/python benchmarks/compare_spdcalc_rates.py [--run-spdcalc] [--rows 0,1,2,3]
        [--rtol 1e-6] [--cw]

Without --run-spdcalc it compares with spdcalc's numbers stored in
tests/data/spdcalc_rates.json ("default": its default Simpson-50 integrator on the issue's
windows; and its converged values: window-extrapolated, N = 400).  With it, spdcalc is run
here at its defaults side by side (minutes per row) and timed.

What it shows (docs/physics/coupling.md §9): the heralding efficiencies agree to ≤ 2e-4;
the rates differ by a factor that depends on the crystal, which is SPDCalc's normalisation:
its JSI prefactor is ∝ ω_sω_i/(n_sn_i)² and its counts carry a "counts correction" with
group indices, so that its rates are ours × 2 n_g,s n_g,p/(n_s n_i)³ — the column
"ours, spdcalc-normalised" applies that factor (n, n_g from the same Sellmeier equations)
and agrees with SPDCalc's converged rates to ~1e-3 (the rest: its window and grid).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import time

from xr_spdc.crystals import medium, source_rates

ROOT = pathlib.Path(__file__).resolve().parents[1]
STORED = json.loads((ROOT / "tests" / "data" / "spdcalc_rates.json").read_text())
SPDCALC = os.environ.get("SPDCALC_PYTHON", "/work/scratch/peers-venv/bin/python")
SCRIPT = os.environ.get("SPDCALC_SCRIPT", "/work/scratch/run_spdcalc.py")

ROWS = [  # (key, spdcalc case, crystal, polarizations, temperature, waists in µm)
    ("ppln_100_100_100", "ppln", "SLN", "eee", 40.0, (100, 100, 100)),
    ("ppln_30_42_42", "ppln", "SLN", "eee", 40.0, (30, 42, 42)),
    ("ppktp_100_100_100", "ppktp", "KTP_xy", "eeo", 25.0, (100, 100, 100)),
    ("ppktp_30_42_42", "ppktp", "KTP_xy", "eeo", 25.0, (30, 42, 42)),
]


def ours(row: tuple, rtol: float, cw: bool) -> tuple[dict[str, float], float]:
    _, _, crystal, pols, temperature, w = row
    start = time.perf_counter()
    r = source_rates(crystal, pump=775e-9, signal=1550e-9, temperature=temperature,
                     length=10e-3, polarizations=pols, pump_waist=w[0] * 1e-6,
                     signal_waist=w[1] * 1e-6, idler_waist=w[2] * 1e-6, pump_power=1e-3,
                     d_eff=1e-12, pump_bandwidth=None if cw else 1e-9, rtol=rtol)
    return {k: float(r[k]) for k in r.data_vars}, time.perf_counter() - start


def spdcalc_factor(row: tuple) -> float:
    """2 n_g,s n_g,p/(n_s n_i)³ at the central wavelengths: SPDCalc's rates over ours."""
    _, _, crystal, pols, temperature, _ = row
    med = medium(crystal)
    angle = 0.0 if med.phi_rad == "var" else 1.5707963267948966

    def n(lam: float, pol: str) -> float:
        return float(med.n(lam * 1e6, angle, temperature, pol=pol))

    def group(lam: float, pol: str, h: float = 1e-4) -> float:
        return n(lam, pol) - (n(lam * (1 + h), pol) - n(lam * (1 - h), pol)) / (2 * h)

    n_s, n_i = n(1550e-9, pols[1]), n(1550e-9, pols[2])
    return 2 * group(1550e-9, pols[1]) * group(775e-9, pols[0]) / (n_s * n_i) ** 3


def spdcalc(row: tuple) -> tuple[dict[str, float], float]:
    _, case, *_, w = row
    out = subprocess.run([SPDCALC, SCRIPT, case, "--waists", *map(str, w), "--what", "rates"],
                         capture_output=True, text=True, check=True, timeout=3600)
    e = json.loads(out.stdout)
    eff = e["efficiencies"]
    return ({"pair_rate": eff["coincidences_hz"], "signal_rate": eff["signal_singles_hz"],
             "idler_rate": eff["idler_singles_hz"], "signal_heralding": eff["signal"],
             "idler_heralding": eff["idler"]}, e["timings_s"]["efficiencies"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-spdcalc", action="store_true")
    parser.add_argument("--rows", default="0,1,2,3")
    parser.add_argument("--rtol", type=float, default=1e-6)
    parser.add_argument("--cw", action="store_true", help="monochromatic pump (ours only)")
    args = parser.parse_args()
    for i in map(int, args.rows.split(",")):
        row = ROWS[i]
        key = row[0]
        mine, t_mine = ours(row, args.rtol, args.cw)
        stored = STORED[key]
        print(f"\n{key}: xr_spdc {t_mine:.1f} s (tail_fraction {mine['tail_fraction']:.2g})")
        columns = {"spdcalc default": stored["default"],
                   "spdcalc converged": {k: v for k, v in stored.items() if k != "default"}}
        if args.run_spdcalc:
            theirs, t_theirs = spdcalc(row)
            columns["spdcalc (run here)"] = theirs
            print(f"  spdcalc efficiencies(): {t_theirs:.1f} s  -> ratio "
                  f"{t_theirs / t_mine:.2f}x")
        factor = spdcalc_factor(row)
        for name in ("pair_rate", "signal_rate", "idler_rate"):
            mine[f"{name}, spdcalc-normalised"] = mine[name] * factor
            for col in columns.values():
                if name in col:
                    col[f"{name}, spdcalc-normalised"] = col[name]
        for name in ("pair_rate", "signal_rate", "idler_rate", "signal_heralding",
                     "idler_heralding", "pair_rate, spdcalc-normalised",
                     "signal_rate, spdcalc-normalised", "idler_rate, spdcalc-normalised"):
            cells = []
            for label, col in columns.items():
                if name in col:
                    cells.append(f"{label} {col[name]:.6g} (ours/theirs "
                                 f"{mine[name] / col[name]:.5f})")
            print(f"  {name:33s} ours {mine[name]:.7g} | " + " | ".join(cells))


if __name__ == "__main__":
    main()
