"""Side-by-side timings for Boyd–Kleinman's h with walk-off, run by hand (~1–2 minutes).

    .venv/bin/python benchmarks/bench_walkoff.py              # all three parts
    .venv/bin/python benchmarks/bench_walkoff.py --part 2     # one of them

1. The fast exact method (``focusing(..., method="auto")``) against a per-point
   ``scipy.integrate.dblquad`` loop as users write it, on a 50 × 50 (σ, ξ) grid at B = 1.
   The loop is timed on a random subset of the grid (it takes up to seconds a point at large
   ξ) and extrapolated per point; the script says so and checks its values too.
2. The 2-D QUADPACK reference (``method="quad"``) with workers=2 against workers=1, on a
   32 × 32 grid (~13 s serial), alternated over two rounds; the pool is started before the
   rounds (it is reused between calls, as in a notebook: its start-up, ~0.5–1 s once a
   session, is not what the ratio is about).
3. A 200 × 200 × 8 (σ, ξ, B) grid with the fast method on 2 workers (pool already up).

Everything is measured in this one run, on this machine (the load is printed), so the
ratios compare like with like.  Not run in CI: tests assert values, never times.
"""

from __future__ import annotations

import argparse
import os
import time
import timeit

import numpy as np
import xarray as xr
from scipy.integrate import dblquad

from xr_spdc import focusing

SIGMA = np.linspace(-1.0, 3.0, 50)  # Boyd and Kleinman's range around the optimum
XI = np.geomspace(0.1, 100.0, 50)


# --- what users write: Boyd and Kleinman's double integral, one dblquad per point ---
def h_dblquad(sigma, xi, B, kappa=0.0, mu=0.0):
    a, b = -xi * (1 - mu), xi * (1 + mu)

    def f(tp, t):
        return (np.exp(-kappa * (t + tp) + 1j * sigma * (t - tp) - B**2 / xi * (t - tp) ** 2)
                / ((1 + 1j * t) * (1 - 1j * tp))).real
    return dblquad(f, a, b, a, b)[0] / (4 * xi)
# --- end ---


def best_of(func, repeat):
    return min(timeit.repeat(func, number=1, repeat=repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", type=int, choices=(1, 2, 3), action="append",
                        help="run only this part (repeatable); default: all")
    parts = set(parser.parse_args().part or (1, 2, 3))
    print(f"load average before: {os.getloadavg()}, CPUs: {os.cpu_count()}")
    if 1 in parts:
        part_one()
    if 2 in parts:
        part_two()
    if 3 in parts:
        part_three()
    print(f"\nload average after: {os.getloadavg()}")


def part_one() -> None:
    """Fast method vs the dblquad loop, 50 x 50 at B = 1."""
    grid = xr.Dataset(coords={"sigma": SIGMA, "xi": XI})
    fast = focusing(grid, B=1.0, workers=1, progress=False)
    t_fast = best_of(lambda: focusing(grid, B=1.0, workers=1, progress=False), 3)
    rng = np.random.default_rng(0)
    subset = rng.choice(SIGMA.size * XI.size, 40, replace=False)
    start = time.perf_counter()
    loop = [h_dblquad(SIGMA[i // XI.size], XI[i % XI.size], 1.0) for i in subset]
    t_loop = (time.perf_counter() - start) / subset.size
    worst = np.max(np.abs(np.array(loop) - fast.values.ravel()[subset]))
    per_point = t_fast / fast.size
    print("\n1. 50x50 (sigma, xi) grid at B = 1, one process")
    print(f"   fast method:    {t_fast:.4f} s for 2500 points ({per_point * 1e6:.1f} us/point)")
    print(f"   dblquad loop:   {t_loop * 1e3:.1f} ms/point, timed on {subset.size} random points "
          f"of the grid, extrapolated: {t_loop * 2500:.0f} s for 2500")
    print(f"   speed-up:       {t_loop / per_point:,.0f}x   (max |h_dblquad - h_fast| on the "
          f"subset: {worst:.1e})")


def part_two() -> None:
    """The quad method with workers=2 vs workers=1, alternated, the pool warm."""
    quad_grid = xr.Dataset(coords={"sigma": np.linspace(-1.0, 3.0, 32),
                                   "xi": np.geomspace(0.1, 100.0, 32)})
    # Start the reusable pool first, as any earlier call in a session would: two blocks
    # (one per worker), so both workers have imported what the method needs.
    focusing(quad_grid.isel(sigma=[0, 1]), B=1.0, method="quad", workers=2, progress=False)
    times: dict[int, list[float]] = {1: [], 2: []}
    results = {}
    for workers in (1, 2, 2, 1):  # alternated, so drift in the load favours neither
        start = time.perf_counter()
        results[workers] = focusing(quad_grid, B=1.0, method="quad", workers=workers,
                                    progress=False)
        times[workers].append(time.perf_counter() - start)
    serial, pooled = results[1], results[2]
    assert np.array_equal(serial.values, pooled.values)
    check = float(abs(serial - focusing(quad_grid, B=1.0, workers=1)).max())
    t1, t2 = min(times[1]), min(times[2])
    rounds = ", ".join(f"{a / b:.2f}x" for a, b in zip(times[1], times[2], strict=True))
    print("\n2. quad method (nested QUADPACK), 32x32 grid at B = 1, pool warm, best of 2")
    print(f"   workers=1: {t1:.2f} s   workers=2: {t2:.2f} s   ratio {t1 / t2:.2f}x "
          f"(rounds: {rounds}; load {os.getloadavg()[0]:.2f})")
    print(f"   max |quad - auto| = {check:.1e}, failed points: "
          f"{serial.attrs['quad_failed_points']}")


def part_three() -> None:
    """200 x 200 x 8 with the fast method on 2 workers."""
    big = xr.Dataset(coords={"sigma": np.linspace(-1.0, 3.0, 200),
                             "xi": np.geomspace(0.1, 100.0, 200),
                             "B": [0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0]})
    t_big = best_of(lambda: focusing(big, workers=2, progress=False), 2)
    t_big1 = best_of(lambda: focusing(big, workers=1, progress=False), 1)
    print("\n3. 200x200x8 (sigma, xi, B) grid, fast method")
    print(f"   workers=2: {t_big:.2f} s ({t_big / 320_000 * 1e6:.1f} us/point)   "
          f"workers=1: {t_big1:.2f} s   ratio {t_big1 / t_big:.2f}x")


if __name__ == "__main__":
    main()
