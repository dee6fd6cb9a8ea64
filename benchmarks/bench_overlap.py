"""Side-by-side timings of the seed blog post's approach and xr_spdc, run by hand.

    .venv/bin/python benchmarks/bench_overlap.py            # everything (~1-2 minutes)
    .venv/bin/python benchmarks/bench_overlap.py --quick    # skip the 10^7-point stream

Every figure is measured in this one run, on this machine, so the ratios compare like with
like; the machine is shared and noisy, so each timing is the best of a few repeats.
Not run in CI: tests assert values, never times.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr
from numpy import exp, pi, sqrt
from scipy.integrate import quad

import xr_spdc


# --- the seed blog post, verbatim but for complex_func=True (without it quad drops Im O) ---
def integrate(args):
    phi = args[0]
    xi = args[1]
    return quad(lambda l: sqrt(xi) * exp(1j * phi * l / 2.0) / (1.0 - 1j * xi * l), -1.0, 1.0,
                complex_func=True)


def seed_parameters(num_points: float = 100.0) -> list[list[float]]:
    phase_mismatches = np.arange(-7.0, 3.0, 10.0 / num_points)
    aggregate_focus_logs = np.arange(-1.5, 2.5, 4.0 / num_points)
    parameters = []
    for phase_mismatch in phase_mismatches:
        phi = float(phase_mismatch * pi)
        for aggregate_focus_log in aggregate_focus_logs:
            xi = float(10.0 ** aggregate_focus_log)
            parameters.append([phi, xi])
    return parameters
# --- end of the seed ---


def classic(n_phi: int, n_xi: int) -> xr.Dataset:
    return xr.Dataset(coords={"phi": np.arange(-7.0, 3.0, 10.0 / n_phi)[:n_phi] * np.pi,
                              "xi": 10.0 ** np.arange(-1.5, 2.5, 4.0 / n_xi)[:n_xi]})


def best_of(func: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def row(label: str, seconds: float, reference: float | None = None, points: int = 0) -> None:
    per_point = f"{seconds / points * 1e6:9.2f} µs/pt" if points else " " * 15
    ratio = f"{reference / seconds:8.1f}x" if reference else ""
    print(f"  {label:<52} {seconds:9.4f} s {per_point} {ratio}", flush=True)


def stream(path: Path) -> None:
    """A 2,000 x 5,000 grid, chunked, written to netCDF block by block (run in a child)."""
    from xr_spdc.io import to_netcdf

    ds = classic(2000, 5000)
    phi = ds.phi.variable.to_base_variable()
    lazy = xr_spdc.overlap(phi=xr.DataArray(phi, name="phi"), xi=ds.xi,
                           chunks={"phi": 100})
    to_netcdf(lazy, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="skip the streaming run")
    parser.add_argument("--stream-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stream_child:
        start = time.perf_counter()
        stream(args.stream_child)
        # Linux reports ru_maxrss in KiB.
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(time.perf_counter() - start, peak)
        return

    print(f"xr_spdc {xr_spdc.__version__}, Python {sys.version.split()[0]}, "
          f"{xr_spdc.fanout.available_cpus()} CPUs, start method "
          f"{xr_spdc.fanout.default_start_method()}\n")

    n = 100 * 100
    ds = classic(100, 100)
    print(f"Classic grid, 100 x 100 = {n} points")
    parameters = seed_parameters()
    t_seed = best_of(lambda: [integrate(p) for p in parameters], 1)
    row("seed: serial quad loop (complex_func=True)", t_seed, t_seed, n)
    with multiprocessing.Pool(2) as pool:  # the blog's Pool, the platform's start method
        t_seed_pool = best_of(lambda: pool.map(integrate, parameters), 2)
    row("seed: Pool(2).map", t_seed_pool, t_seed, n)
    ds.spdc.overlap(method="quad", workers=2)  # starts the forkserver: paid once a session
    t_quad2 = best_of(lambda: ds.spdc.overlap(method="quad", workers=2), 2)
    row('overlap(method="quad", workers=2)', t_quad2, t_seed, n)
    t_fast1 = best_of(lambda: ds.spdc.overlap(workers=1), 5)
    row("overlap(workers=1)", t_fast1, t_seed, n)
    t_fast2 = best_of(lambda: ds.spdc.overlap(workers=2), 5)
    row("overlap(workers=2)  (one 32768-point block: in-process)", t_fast2, t_seed, n)
    t_auto = best_of(lambda: ds.spdc.overlap(), 5)
    row("overlap()  (workers=None: stays in-process here)", t_auto, t_seed, n)

    big = classic(1000, 1000)
    n_big = big.sizes["phi"] * big.sizes["xi"]
    print(f"\nFine grid, 1000 x 1000 = {n_big} points")
    t_big1 = best_of(lambda: big.spdc.overlap(workers=1), 3)
    row("overlap(workers=1)", t_big1, None, n_big)
    t_big2 = best_of(lambda: big.spdc.overlap(workers=2), 3)
    row("overlap(workers=2)", t_big2, t_big1, n_big)
    print("  (ratio column: speed-up over workers=1)")

    huge = classic(2000, 2000)
    n_huge = huge.sizes["phi"] * huge.sizes["xi"]
    print(f"\nLarger grid, 2000 x 2000 = {n_huge} points (the pool's ~0.1-0.2 s start-up "
          "amortised)")
    t_huge1 = best_of(lambda: huge.spdc.overlap(workers=1), 2)
    row("overlap(workers=1)", t_huge1, None, n_huge)
    t_huge2 = best_of(lambda: huge.spdc.overlap(workers=2), 2)
    row("overlap(workers=2)", t_huge2, t_huge1, n_huge)

    print("\nWhere a pool pays off (best of 3; pool started once already)")
    for n_side in (100, 200, 300, 500, 700):
        grid = classic(n_side, n_side)
        t1 = best_of(lambda grid=grid: grid.spdc.overlap(workers=1), 3)
        t2 = best_of(lambda grid=grid: grid.spdc.overlap(workers=2), 3)
        print(f"  {n_side * n_side:>8} points: workers=1 {t1:7.4f} s, workers=2 {t2:7.4f} s, "
              f"ratio {t1 / t2:4.2f}")

    print("\nSummary")
    print(f"  fast path vs the seed's serial loop:  {t_seed / t_fast1:7.0f}x (workers=1), "
          f"{t_seed / t_fast2:7.0f}x (workers=2)   target >= 100x")
    print(f"  10^6 points, workers=2:              {t_big2:7.3f} s            target <= 1.5 s")
    print(f"  10^6 points, workers 1 -> 2:         {t_big1 / t_big2:7.2f}x            "
          "target >= 1.7x")
    print(f"  4x10^6 points, workers 1 -> 2:       {t_huge1 / t_huge2:7.2f}x")
    print(f"  quad, workers=2 vs serial loop:      {t_seed / t_quad2:7.2f}x            "
          "target >= 1.8x")

    if not args.quick:
        print("\nStreaming: 2,000 x 5,000 = 10^7 points, chunks of 100 x 5,000, to netCDF")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "stream.nc"
            done = subprocess.run([sys.executable, __file__, "--stream-child", str(path)],
                                  capture_output=True, text=True, check=True,
                                  env={**os.environ, "PYTHONWARNINGS": "ignore"})
            seconds, peak = map(float, done.stdout.split()[-2:])
            size = path.stat().st_size / 2**20
        print(f"  time {seconds:.2f} s, peak RSS {peak:.0f} MiB "
              f"(target <= 1024 MiB), file {size:.0f} MiB")


if __name__ == "__main__":
    main()
