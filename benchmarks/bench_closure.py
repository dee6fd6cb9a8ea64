"""An integrand that closes over a large table (issue 22, item 2): time and memory.

Run by hand: ``.venv/bin/python benchmarks/bench_closure.py [table MB] [points]``
(defaults 200 MB, 3200 points; needs ``pip install joblib`` for the comparison, which is
not a dependency).  Two integrands, each in a fresh process (so each has its own cold
start), printed side by side:

- light: a short sum of cosines times one read of the table (~40 µs a point, the loop's
  cost is mostly QUADPACK and the Python call);
- heavy: the same sum plus a 24-tap linear interpolation in the table at every node
  (~0.2 ms a point, the weight of the integrand in the issue's own measurement).  The
  table's weight in the value is tiny, so that QUADPACK needs its 21 nodes a point
  whatever the table holds.

Rows, on the same points: a plain serial quad loop; the machine's limit for two processes
(the same loop in two warm plain processes, every other point each, against one of them
doing every point: what two cores give this integrand with nothing sent); joblib's
``Parallel(n_jobs=2)`` (one task a point, its pool warm); ``integrate(workers=1)`` on its
first call with the table (the table's shared copy is made) and again; ``workers=2`` cold
(the pool starts) and warm; the default ``workers=None``, warm; and ``workers=2`` on a
warm pool with a new table of the same size (its first call). The loop and the warm rows
are the best of three (joblib's of two). CPU seconds are those of this process and its
children in that run: where other work shares the machine, they show what each way costs
when wall times cannot. Memory is the PSS (pages shared between processes counted once) of
this process and all its children, sampled every 20 ms in a run of its own after the timed
ones (the sampling costs CPU): per row, the peak above the moment before (first calls:
after minus before); for the last row, above the idle pool, which is the issue's measure
(want <= 2x the table).
"""

from __future__ import annotations

import gc
import math
import multiprocessing
import os
import subprocess
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
KIND = sys.argv[3] if len(sys.argv) > 3 else ""

table = np.random.default_rng(0).random(int(MB * 2**20 / 8))
SIZE = len(table)


def light(l, a):
    # A short sum, times one read of the table.
    s = 0.0
    for j in range(8):
        s += math.cos(a * l + 0.1 * j)
    return s * (1.0 + 1e-3 * table[int(a * 7919) % SIZE])


def heavy(l, a):
    # The same sum, plus a 24-tap average of the table, linearly interpolated, around a
    # point that moves with l and a: the table is read at every node.
    s = 0.0
    for j in range(8):
        s += math.cos(a * l + 0.1 * j)
    x = (0.5 + 0.25 * l) * (SIZE - 64) * (a - 0.9) / 2.1
    i = int(x)
    f = x - i
    w = 0.0
    for k in range(24):
        w += table[i + k] * (1.0 - f) + table[i + k + 1] * f
    return s * (1.0 + 1e-12 * w)


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


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and its live descendants."""
    me = psutil.Process()
    total = 0.0
    for p in [me, *me.children(recursive=True)]:
        try:
            times = p.cpu_times()
            total += times.user + times.system
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def timed(run, repeat=1):
    """(value, best seconds of ``repeat`` runs, CPU seconds of this process and its
    children in that run), with nothing else running here."""
    best, cpu = math.inf, math.inf
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), cpu_seconds()
        value = run()
        seconds = time.perf_counter() - start
        if seconds < best:
            best, cpu = seconds, cpu_seconds() - start_cpu
    return value, best, cpu


def peak_growth(run, base=None) -> float:
    """Peak PSS growth in MB during ``run()`` above ``base`` (default: the moment before),
    sampled every 20 ms.  A run of its own: reading every process's page map costs CPU
    that would slow the timed runs, the pool's more than one process's."""
    base = pss_mb() if base is None else base
    peak = [base]
    done = threading.Event()

    def sample():
        while not done.wait(0.02):
            peak[0] = max(peak[0], pss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    run()
    done.set()
    sampler.join()
    return max(peak[0], pss_mb()) - base


INTEGRANDS = {"light": light, "heavy": heavy}


def one_point(integrand, x: float) -> float:
    """The loop's work for one point: one quad, the package's tolerances."""
    return quad(integrand, -1.0, 1.0, args=(x,), epsabs=EPSABS, epsrel=EPSREL,
                limit=LIMIT)[0]


def plain_loop(kind: str, start: int, step: int) -> float:
    """Seconds of the serial quad loop over every ``step``-th point from ``start`` (in a
    plain process of the limit: its own copy of the table, from the same seed)."""
    integrand = INTEGRANDS[kind]
    begin = time.perf_counter()
    for x in np.linspace(1.0, 3.0, N)[start::step]:
        one_point(integrand, x)
    return time.perf_counter() - begin


def two_process_limit(kind: str, rounds: int = 5) -> tuple[float, float]:
    """Best seconds of the loop in one warm plain process, and in two doing half each
    (alternate points: the integrand's cost varies with a), over ``rounds``."""
    from concurrent.futures import ProcessPoolExecutor

    alone, together = [], []
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(plain_loop, [kind, kind], [0, 1], [64, 64]))  # both started and warm
        for _ in range(rounds):
            alone.append(pool.submit(plain_loop, kind, 0, 1).result())
            together.append(max(pool.map(plain_loop, [kind, kind], [0, 1], [2, 2])))
    return min(alone), min(together)


def one_kind(kind: str) -> None:
    """Every row for one integrand, printed as ``name|seconds|CPU seconds|MB`` lines."""
    integrand = INTEGRANDS[kind]
    a = np.linspace(1.0, 3.0, N)
    ds = xr.Dataset(coords={"a": a})

    rows = []

    def row(name, run, repeat=1, sampled=True):
        """Time ``run`` (best of ``repeat``), then sample its memory in one more run; a
        run that cannot be repeated (a first call) gives its growth from before to after."""
        before = pss_mb()
        value, t, cpu = timed(run, repeat)
        grew = peak_growth(run) if sampled else pss_mb() - before
        rows.append((name, t, cpu, grew))
        return value

    loop = row("serial quad loop", lambda: np.array([one_point(integrand, x) for x in a]), 3)
    alone, together = two_process_limit(kind)
    rows.append(("limit: one plain process", alone, math.nan, math.nan))
    rows.append(("limit: two plain processes, half each", together, math.nan, math.nan))
    try:
        from joblib import Parallel, delayed

        Parallel(n_jobs=2)(delayed(abs)(x) for x in range(4))  # start its pool first
        jl = row("joblib Parallel(n_jobs=2), warm",
                 lambda: np.array(Parallel(n_jobs=2)(delayed(one_point)(integrand, x)
                                                     for x in a)), 2)
        np.testing.assert_allclose(jl, loop, rtol=1e-12)
    except ImportError:
        print("joblib not installed: its row is left out", file=sys.stderr)
    w1 = row("workers=1, first call with the table",
             lambda: ds.spdc.integrate(integrand, workers=1).values, sampled=False)
    row("workers=1", lambda: ds.spdc.integrate(integrand, workers=1).values, 3)
    row("workers=2, cold (the pool starts)",
        lambda: ds.spdc.integrate(integrand, workers=2).values, sampled=False)
    w2 = row("workers=2, warm", lambda: ds.spdc.integrate(integrand, workers=2).values, 3)
    wn = row("default (workers=None), warm", lambda: ds.spdc.integrate(integrand).values, 3)
    assert w1.tobytes() == w2.tobytes() == wn.tobytes()
    np.testing.assert_allclose(w1, loop, rtol=1e-12)
    # A new table on an idle pool, twice (timed, then sampled): the workers first drop the
    # old one (a call without it), and the memory is measured above that idle pool.
    def idle_with_a_new_table():
        global table
        table = table.copy()
        gc.collect()
        ds.spdc.integrate(lambda l, a: a * l, workers=2)

    def new_table_call():
        return ds.spdc.integrate(integrand, workers=2).values

    idle_with_a_new_table()
    _, t, cpu = timed(new_table_call)
    idle_with_a_new_table()
    rows.append(("workers=2, warm pool, new table", t, cpu, peak_growth(new_table_call)))
    for name, t, cpu, m in rows:
        print(f"{name}|{t}|{cpu}|{m}")


def main() -> None:
    if KIND:
        one_kind(KIND)
        return
    load = os.getloadavg()
    print(f"table {table.nbytes / 2**20:.0f} MB, {N} points, {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}, load average {load[0]:.2f} {load[1]:.2f} "
          f"{load[2]:.2f}")
    results = {}
    for kind in ("light", "heavy"):
        done = subprocess.run([sys.executable, __file__, str(MB), str(N), kind],
                              capture_output=True, text=True, check=True)
        results[kind] = {name: tuple(map(float, values)) for name, *values in
                         (line.split("|") for line in done.stdout.splitlines())}
    names = list(results["light"])
    print(f"{'':38s} {'light: s':>9s} {'CPU s':>6s} {'PSS MB':>7s}   {'heavy: s':>9s} "
          f"{'CPU s':>6s} {'PSS MB':>7s}")
    for name in names:
        cells = "   ".join(f"{results[k][name][0]:9.3f} {results[k][name][1]:6.2f} "
                           f"{results[k][name][2]:7.0f}" for k in ("light", "heavy"))
        print(f"{name:38s} {cells}")
    print()

    def ratio(label, top, bottom, want):
        cells = "   ".join(f"{results[k][top][0] / results[k][bottom][0]:24.2f}"
                           for k in ("light", "heavy"))
        print(f"{label:38s} {cells}   (want {want})")

    ratio("workers=1 / loop", "workers=1", "serial quad loop", "<= 1.1")
    ratio("workers=1 / workers=2 (warm)", "workers=1", "workers=2, warm", ">= 1.6")
    ratio("the machine's limit for two processes", "limit: one plain process",
          "limit: two plain processes, half each", "what two cores give")
    if "joblib Parallel(n_jobs=2), warm" in names:
        ratio("joblib / workers=2 (warm)", "joblib Parallel(n_jobs=2), warm",
              "workers=2, warm", ">= 1")
    ratio("default / workers=1", "default (workers=None), warm", "workers=1", "<= 1.25")
    table_mb = table.nbytes / 2**20
    grow = "   ".join(f"{results[k]['workers=2, warm pool, new table'][2] / table_mb:24.2f}"
                      for k in ("light", "heavy"))
    print(f"{'PSS growth above the idle pool / table':38s} {grow}   (want <= 2)")


if __name__ == "__main__":
    main()
