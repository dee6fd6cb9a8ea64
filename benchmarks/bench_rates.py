"""Speed of the fibre-coupling layer (issue 24 §7), measured side by side in one run.

    .venv/bin/python benchmarks/bench_rates.py [--size 100] [--workers 2] [--citrine]
        [--spdcalc]

1. ``xr_spdc.fiber_coupling`` over a size × size map (pump waist × collection waist,
   PPKTP-like indices, 10 mm, φ = −2): wall time on ``--workers`` processes, and the same
   map's first row in this process (per-point cost).
2. With --citrine: ``benchmarks/bench_coupling_kernel.py`` (the kernel per point against
   citrine's ``brightness_and_heralding``, in its scratch venv).
3. With --spdcalc: ``source_rates`` for the 1 nm pulsed PPKTP 30/42/42 source (rtol 1e-6)
   against spdcalc-py's ``efficiencies`` (coincidences + both singles) at its defaults, via
   benchmarks/compare_spdcalc_rates.py's runner.
"""

from __future__ import annotations

import argparse
import pathlib
import subprocess
import sys
import time

import numpy as np
import xarray as xr

import xr_spdc

HERE = pathlib.Path(__file__).resolve().parent
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
        sys.path.insert(0, str(HERE))
        import compare_spdcalc_rates as compare

        row_spec = compare.ROWS[3]
        mine, t_mine = compare.ours(row_spec, 1e-6, cw=False)
        theirs, t_theirs = compare.spdcalc(row_spec)
        print(f"source_rates (1 nm pulsed, rtol 1e-6): {t_mine:.1f} s; spdcalc "
              f"efficiencies() at its defaults: {t_theirs:.1f} s; ratio "
              f"{t_theirs / t_mine:.2f}x")


if __name__ == "__main__":
    main()
