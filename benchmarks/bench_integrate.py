"""A user's integrand: ``xr_spdc.integrate`` side by side with the plain quad loop it replaces.

    .venv/bin/python benchmarks/bench_integrate.py              # ~1-3 minutes
    .venv/bin/python benchmarks/bench_integrate.py --repeats 5

On the seed blog post's classic 100 x 100 grid (phi in [-7pi, 3pi), log10 xi in [-1.5, 2.5)),
for a complex integrand (the seed's own, numpy-scalar, as the blog writes it) and a real one
(its real part), in one run:

- the loop: ``quad(f, -1, 1, args=(phi, xi))`` per point (``complex_func=True`` for the
  complex integrand), what a user writes by hand;
- ``integrate(workers=1)``: in this process;
- ``integrate(workers=2)``: loky's pool, cold (the first call of the process: it starts the
  workers) and warm (as after the first call in a notebook).

Both at quad's default tolerances (epsabs = epsrel = 1.49e-8, limit = 50, so the values are
bit for bit the loop's, which is checked), and at the package's defaults (1e-10, 1e-10, 200):
the loop at both says what the tighter defaults cost.  The machine is shared and noisy: each
figure is the best of a few repeats, and the repeats of the contenders are interleaved.
Not run in CI: tests assert values, never times.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numpy as np
import xarray as xr
from numpy import cos, exp, pi, sin, sqrt
from scipy.integrate import quad

import xr_spdc
from xr_spdc.numerics.quadrature import EPSABS, EPSREL, LIMIT

QUAD_DEFAULTS = {"epsabs": 1.49e-8, "epsrel": 1.49e-8, "limit": 50}
PACKAGE_DEFAULTS = {"epsabs": EPSABS, "epsrel": EPSREL, "limit": LIMIT}


def seed_integrand(l, phi, xi):
    """The seed blog post's integrand, as it writes it (numpy scalars, complex)."""
    return sqrt(xi) * exp(1j * phi * l / 2.0) / (1.0 - 1j * xi * l)


def real_integrand(l, phi, xi):
    """Its real part: a real integrand of the same shape and cost."""
    t, xl = phi * l / 2.0, xi * l
    return sqrt(xi) * (cos(t) - xl * sin(t)) / (1.0 + xl * xl)


def seed_grid(num_points: float = 100.0) -> xr.Dataset:
    phis = np.arange(-7.0, 3.0, 10.0 / num_points) * pi
    xis = 10.0 ** np.arange(-1.5, 2.5, 4.0 / num_points)
    return xr.Dataset(coords={"phi": phis, "xi": xis})


def loop(f: Callable, ds: xr.Dataset, complex_func: bool, tolerances: dict) -> np.ndarray:
    """What a user writes: one quad per point."""
    return np.array([[quad(f, -1.0, 1.0, args=(float(p), float(x)), complex_func=complex_func,
                           **tolerances)[0] for x in ds.xi.values] for p in ds.phi.values])


def best(timings: dict[str, list[tuple[float, float]]], key: str, run: Callable[[], object]
         ) -> object:
    """Run once, recording wall time and this process's CPU time."""
    start, cpu = time.perf_counter(), time.process_time()
    out = run()
    timings.setdefault(key, []).append((time.perf_counter() - start,
                                        time.process_time() - cpu))
    return out


def workers_cpu() -> dict[int, float]:
    """CPU seconds of each process this one started (loky's workers), by pid."""
    import psutil

    times = {}
    for child in psutil.Process().children(recursive=True):
        try:
            cpu = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        times[child.pid] = cpu.user + cpu.system
    return times


def on_the_pool(ds: xr.Dataset, f: Callable, tolerances: dict, busiest: list[float]
                ) -> xr.DataArray:
    """integrate(workers=2), noting the CPU time of its busiest worker."""
    before = workers_cpu()
    out = xr_spdc.integrate(ds, f, workers=2, progress=False, **tolerances)
    after = workers_cpu()
    busiest.append(max(after[pid] - before.get(pid, 0.0) for pid in after))
    return out


def compare(ds: xr.Dataset, f: Callable, complex_func: bool, tolerances: dict, repeats: int,
            label: str, cold: bool) -> dict[str, float]:
    timings: dict[str, list[tuple[float, float]]] = {}
    if cold:  # the first pool of this process: start-up included
        best(timings, "integrate(workers=2), cold",
             lambda: xr_spdc.integrate(ds, f, workers=2, progress=False, **tolerances))
    reference = None
    busiest: list[float] = []
    for _ in range(repeats):
        reference = best(timings, "loop", lambda: loop(f, ds, complex_func, tolerances))
        one = best(timings, "integrate(workers=1)",
                   lambda: xr_spdc.integrate(ds, f, workers=1, progress=False, **tolerances))
        two = best(timings, "integrate(workers=2), warm",
                   lambda: on_the_pool(ds, f, tolerances, busiest))
    same = (np.array_equal(one.values, reference) and np.array_equal(two.values, reference)
            and one.dtype == reference.dtype)
    figures = {key: min(v[0] for v in values) for key, values in timings.items()}
    cpu = {key: min(v[1] for v in values) for key, values in timings.items()}
    base = figures["loop"]
    print(f"\n{label} ({ds.phi.size * ds.xi.size} points; {tolerances}); result "
          f"{one.dtype}, bit for bit the loop's: {same}")
    for key, seconds in figures.items():
        # CPU time only where everything runs in this process: on a loaded machine it is the
        # steadier measure of what the work costs.
        in_process = "workers=2" not in key
        cpu_text = (f"; CPU {cpu[key]:6.3f} s, {cpu[key] / cpu['loop']:4.2f} x the loop's"
                    if in_process else "")
        print(f"  {key:30s} wall {seconds:7.3f} s, {seconds / base:4.2f} x the loop "
              f"(speed-up {base / seconds:4.2f}){cpu_text}")
    # On a machine whose other load takes CPU from the pool, wall time cannot show what
    # two workers give; the CPU time of the busiest worker can: on two free cores the
    # call lasts about that long (plus the caller's share, counted in its own CPU time).
    print(f"  warm pool, CPU: busiest worker {min(busiest):.3f} s + caller "
          f"{cpu['integrate(workers=2), warm']:.3f} s; the loop's CPU / the busiest "
          f"worker's: {cpu['loop'] / min(busiest):4.2f} (the speed-up on two free cores)")
    return cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    repeats = parser.parse_args().repeats
    ds = seed_grid()
    print(f"CPUs: {os.cpu_count()}, load average {os.getloadavg()}")
    cases = [("complex (the seed's integrand)", seed_integrand, True),
             ("real (its real part)", real_integrand, False)]
    at_quad = {}
    for i, (label, f, complex_func) in enumerate(cases):
        at_quad[label] = compare(ds, f, complex_func, QUAD_DEFAULTS, repeats,
                                 f"{label}, quad's default tolerances", cold=i == 0)
    for label, f, complex_func in cases:
        tight = compare(ds, f, complex_func, PACKAGE_DEFAULTS, repeats,
                        f"{label}, the package's default tolerances", cold=False)
        print(f"  the package's defaults cost {tight['loop'] / at_quad[label]['loop']:.2f} x "
              "quad's, in the loop's CPU time")
    print(f"\nload average at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()
