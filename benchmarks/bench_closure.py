"""An integrand that closes over a large table (issue 22, item 2): time and memory.

Run by hand: ``.venv/bin/python benchmarks/bench_closure.py [table MB] [points]``
(defaults 200 MB, 3200 points; needs ``pip install joblib`` for the comparison, which is
not a dependency).  Side by side in one run, on the same integrand and points: a plain
serial quad loop, joblib's ``Parallel(n_jobs=2)`` (one task a point), and
``integrate(workers=1)``, ``workers=2`` (cold: the first call of the session, and warm)
and the default ``workers=None``.  Memory is the PSS (pages shared between processes
counted once) of this process and all its children, sampled every 20 ms during each call,
as growth above the idle pool.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time

import numpy as np
import psutil
import xarray as xr
from scipy.integrate import quad

import xr_spdc  # noqa: F401
from xr_spdc.numerics.quadrature import EPSABS, EPSREL, LIMIT

MB = float(sys.argv[1]) if len(sys.argv) > 1 else 200.0
N = int(sys.argv[2]) if len(sys.argv) > 2 else 3200

table = np.random.default_rng(0).random(int(MB * 2**20 / 8))
SIZE = len(table)


def integrand(l, a):
    # A heavier integrand than a bare lookup: a short sum, plus a read of the table.
    s = 0.0
    for j in range(8):
        s += math.cos(a * l + 0.1 * j)
    return s * (1.0 + 1e-3 * table[int(a * 7919) % SIZE])


def one_point(a):
    return quad(integrand, -1.0, 1.0, args=(a,), epsabs=EPSABS, epsrel=EPSREL, limit=LIMIT)[0]


def pss_mb() -> float:
    """PSS of this process and its descendants, in MB."""
    me = psutil.Process()
    total = 0
    for p in [me, *me.children(recursive=True)]:
        try:
            total += p.memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total / 2**20


def measured(run):
    """(seconds, peak PSS growth in MB above the moment before) of ``run()``."""
    base = pss_mb()
    peak = [base]
    done = threading.Event()

    def sample():
        while not done.wait(0.02):
            peak[0] = max(peak[0], pss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    value = run()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    peak[0] = max(peak[0], pss_mb())
    return value, seconds, peak[0] - base


def main() -> None:
    a = np.linspace(1.0, 3.0, N)
    ds = xr.Dataset(coords={"a": a})
    print(f"table {table.nbytes / 2**20:.0f} MB, {N} points, {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}")
    rows = []
    loop, t, m = measured(lambda: np.array([one_point(x) for x in a]))
    rows.append(("serial quad loop", t, m))
    try:
        from joblib import Parallel, delayed

        Parallel(n_jobs=2)(delayed(abs)(x) for x in range(4))  # start its pool first
        jl, t, m = measured(lambda: np.array(Parallel(n_jobs=2)(delayed(one_point)(x)
                                                                for x in a)))
        rows.append(("joblib Parallel(n_jobs=2), warm", t, m))
        np.testing.assert_allclose(jl, loop, rtol=1e-12)
    except ImportError:
        print("joblib not installed: its row is left out")
    w1, t, m = measured(lambda: ds.spdc.integrate(integrand, workers=1).values)
    rows.append(("integrate(workers=1)", t, m))
    w2, t, m = measured(lambda: ds.spdc.integrate(integrand, workers=2).values)
    rows.append(("integrate(workers=2), cold", t, m))
    w2, t, m = measured(lambda: ds.spdc.integrate(integrand, workers=2).values)
    rows.append(("integrate(workers=2), warm", t, m))
    wn, t, m = measured(lambda: ds.spdc.integrate(integrand).values)
    rows.append(("integrate(), the default, warm", t, m))
    assert w1.tobytes() == w2.tobytes() == wn.tobytes()
    np.testing.assert_allclose(w1.real, loop, rtol=1e-12)
    times = dict((name, t) for name, t, _ in rows)
    print(f"{'':34s} {'seconds':>8s} {'PSS growth (MB)':>16s}")
    for name, t, m in rows:
        print(f"{name:34s} {t:8.2f} {m:16.0f}")
    w1t = times["integrate(workers=1)"]
    print(f"workers=1 / workers=2 (warm): {w1t / times['integrate(workers=2), warm']:.2f}x "
          "(want >= 1.6)")
    if "joblib Parallel(n_jobs=2), warm" in times:
        ratio = times["joblib Parallel(n_jobs=2), warm"] / times["integrate(workers=2), warm"]
        print(f"joblib / workers=2 (warm): {ratio:.2f}x (want >= 1)")
    print(f"default / workers=1: {times['integrate(), the default, warm'] / w1t:.2f}x "
          "(want <= 1.25)")
    grow = max(m for name, _, m in rows if name.startswith("integrate(workers=2)"))
    print(f"PSS growth with workers=2 / table size: {grow / (table.nbytes / 2**20):.2f} "
          "(want <= 2)")


if __name__ == "__main__":
    main()
