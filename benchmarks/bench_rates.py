"""Speed of the fibre-coupling layer (issue 24 §7), measured side by side in one run.

    .venv/bin/python benchmarks/bench_rates.py [--size 100] [--workers 2] [--citrine]
        [--spdcalc] [--check]

1. ``xr_spdc.fiber_coupling`` over a size × size map (pump waist × collection waist,
   PPKTP-like indices, 10 mm, φ = −2): wall time on ``--workers`` processes, and the same
   map's first row in this process (per-point cost).
2. With --citrine: ``benchmarks/bench_coupling_kernel.py`` (the kernel per point against
   citrine's ``brightness_and_heralding``, in its scratch venv).
3. With --spdcalc: ``source_rates`` for the 1 nm pulsed PPKTP 30/42/42 source (rtol 1e-6)
   against spdcalc-py's ``counts_coincidences`` + ``counts_singles_signal`` +
   ``counts_singles_idler`` at its defaults (Simpson 50, the issue's 201-point grid), and its
   ``efficiencies()`` (the same three rates, faster), run in its scratch venv (a peer, never
   a dependency; SPDCALC_PYTHON, SPDCALC_PEERS).
   With --check as well: our result against a reference from a different pump rule
   (Gauss–Hermite 10/16 nodes) at rtol 1e-8, i.e. how far from converged the timed one is.

The machine's load average is printed: on a shared machine the wall-time ratios are
provisional (spdcalc runs two threads; we run one).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

import numpy as np
import xarray as xr

import xr_spdc

HERE = pathlib.Path(__file__).resolve().parent
SPDCALC = os.environ.get("SPDCALC_PYTHON", "/work/scratch/peers-venv/bin/python")
PEERS = os.environ.get("SPDCALC_PEERS", "/work/scratch/peers")
PPKTP = {"pump": 775e-9, "signal": 1550e-9, "temperature": 25.0, "length": 10e-3,
         "polarizations": "eeo", "pump_waist": 30e-6, "signal_waist": 42e-6,
         "idler_waist": 42e-6, "pump_power": 1e-3, "d_eff": 1e-12, "pump_bandwidth": 1e-9}

# spdcalc's rates at its defaults for the same source (its peers/spdc_cfg.py builds the
# SPDC object with ndispers' Sellmeier equations as index expressions).
PEER = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import spdcalc, spdc_cfg
case, waists = sys.argv[2], [float(v) for v in sys.argv[3:6]]
c = spdc_cfg.CASES[case]
s = spdc_cfg.make_spdc(case, *waists)
lo, hi = c["window_nm"]
n = c["npts"]
space = spdcalc.WavelengthSpace((lo * 1e-9, hi * 1e-9, n), (lo * 1e-9, hi * 1e-9, n))
rng, integ = space.to_frequency_space(), spdcalc.Integrator.default()
t = time.perf_counter()
rc = s.counts_coincidences(rng, integ)
ss = s.counts_singles_signal(rng, integ)
si = s.counts_singles_idler(rng, integ)
seconds = time.perf_counter() - t
t = time.perf_counter()
s.efficiencies(rng, integ)
print(json.dumps({"pair_rate": rc, "signal_rate": ss, "idler_rate": si, "seconds": seconds,
                  "efficiencies_seconds": time.perf_counter() - t}))
"""
KTP = {"pump_wavelength": 775e-9, "signal_wavelength": 1550e-9, "pump_index": 1.7582,
       "signal_index": 1.7349, "idler_index": 1.8158, "length": 10e-3, "phi": -2.0}


def grid(size: int) -> tuple[xr.DataArray, xr.DataArray]:
    w = np.geomspace(15e-6, 300e-6, size)
    return (xr.DataArray(w, dims="pump_waist", coords={"pump_waist": w}, name="pump_waist"),
            xr.DataArray(w, dims="collection_waist", coords={"collection_waist": w},
                         name="collection_waist"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--citrine", action="store_true")
    parser.add_argument("--spdcalc", action="store_true")
    parser.add_argument("--check", action="store_true",
                        help="with --spdcalc: our result against a tighter reference")
    args = parser.parse_args()
    wp, wc = grid(args.size)
    start = time.perf_counter()
    row = xr_spdc.fiber_coupling(**KTP, pump_waist=wp, signal_waist=wc[:1],
                                 idler_waist=wc[:1], workers=1)
    per_point = (time.perf_counter() - start) / row.pair.size
    print(f"fiber_coupling in process: {per_point * 1e3:.3f} ms per point "
          f"({row.pair.size} points)")
    xr_spdc.fiber_coupling(**KTP, pump_waist=wp[:4], signal_waist=wc[:4], idler_waist=wc[:4],
                           workers=args.workers)  # start the pool: not part of the map's time
    start = time.perf_counter()
    out = xr_spdc.fiber_coupling(**KTP, pump_waist=wp, signal_waist=wc, idler_waist=wc,
                                 workers=args.workers)
    wall = time.perf_counter() - start
    print(f"{args.size} x {args.size} map on {args.workers} workers: {wall:.2f} s "
          f"({out.pair.size * per_point:.2f} s of single-process work)")
    if args.citrine:
        subprocess.run([sys.executable, str(HERE / "bench_coupling_kernel.py")], check=True)
    if args.spdcalc:
        spdcalc_side_by_side(args.check)
    print(f"load average (1, 5, 15 min): {', '.join(f'{v:.2f}' for v in os.getloadavg())}")


def spdcalc_side_by_side(check: bool) -> None:
    """source_rates for the pulsed PPKTP 30/42/42 source against spdcalc-py, one run."""
    from xr_spdc.crystals import source_rates
    from xr_spdc.physics import rates

    source_rates("KTP_xy", **{**PPKTP, "pump_bandwidth": None}, rtol=1e-3)  # imports
    start = time.perf_counter()
    ours = source_rates("KTP_xy", **PPKTP, rtol=1e-6)
    t_ours = time.perf_counter() - start
    done = subprocess.run([SPDCALC, "-c", PEER, PEERS, "ppktp", "30", "42", "42"],
                          capture_output=True, text=True, check=True, timeout=3600)
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    fastest = min(theirs["seconds"], theirs["efficiencies_seconds"])
    print(f"source_rates (1 nm pulsed PPKTP 30/42/42, rtol 1e-6): {t_ours:.2f} s; spdcalc "
          f"at its defaults: counts_coincidences + both singles {theirs['seconds']:.2f} s, "
          f"efficiencies() (the same three) {theirs['efficiencies_seconds']:.2f} s; ratio "
          f"{fastest / t_ours:.1f}x against the faster")
    print(f"  pair rate {float(ours.pair_rate):.6g} Hz (spdcalc {theirs['pair_rate']:.6g}: "
          f"its normalisation, see compare_spdcalc_rates.py), heralding "
          f"{float(ours.signal_heralding):.6f}/{float(ours.idler_heralding):.6f} "
          f"(spdcalc {theirs['pair_rate'] / theirs['idler_rate']:.6f}/"
          f"{theirs['pair_rate'] / theirs['signal_rate']:.6f})")
    if check:
        ladder = rates._HERMITE_LADDER
        try:
            rates._HERMITE_LADDER = (10, 16)
            ref = source_rates("KTP_xy", **PPKTP, rtol=1e-8)
        finally:
            rates._HERMITE_LADDER = ladder
        worst = max(abs(float(ours[k]) / float(ref[k]) - 1) for k in (
            "pair_rate", "signal_rate", "idler_rate", "signal_heralding", "idler_heralding"))
        print(f"  against Gauss-Hermite 10/16 at rtol 1e-8: largest relative difference "
              f"{worst:.1e}")

if __name__ == "__main__":
    main()
