"""A sweep on dask.distributed, side by side with one process, in one run (by hand, ~10 min).

    .venv/bin/python benchmarks/bench_cluster.py [--points 1e8] [--folder /tmp] [--steps 12345]

On ``LocalCluster(n_workers=2, threads_per_worker=1)`` (started once, beforehand), against
what one process does in the same run:

1. the one-process rate of the exact kernel (eager ``overlap(workers=1)``, 4·10⁶ points),
   and the machine's own limit for two processes: the same blocks split between two warm
   plain processes that need nothing sent (``bench_overlap.limit_round``), against one;
2. the 4·10⁶-point (2000 × 2000) classic grid ``.compute()`` back to the client, in chunks
   of 250, 500 and 1000 rows (with the client's CPU time and how many chunks each worker
   ran), by a default ``Client`` (its results reach it through the scheduler) and by one
   made with ``direct_to_workers=True`` (they come straight from the workers);
3. 10⁸ points (10⁴ × 10⁴) of the exact kernel to zarr (``chunks="auto"``: ~1M-point
   chunks): throughput against 2 × the one-process rate, the store's size, the graph's
   tasks and the time to build it, and peak RSS of each worker and of the client;
4. a 2·10⁷-point sweep killed (SIGKILL of a client process) at ~50 % and resumed, against
   the same sweep uninterrupted;
5. the quad overlap and a user integrand through the cluster, against the plain serial loop
   of ``scipy.integrate.quad`` a user would write (same tolerances).

The machine may be shared: the load average is printed before and after, and beside wall
times the CPU each process used.  On the busiest worker that CPU is split, in µs a point,
into its task thread (the chunks; to compare with the eager µs a point: the code's own
overhead on a worker) and the rest of the process (dask's event loop, transfers, zarr's I/O
threads).  Step 1 also times an eager call inside a worker's task, where dask's
``MALLOC_TRIM_THRESHOLD_`` applies.
"""

from __future__ import annotations

import argparse
import cmath
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import xarray as xr
from scipy.integrate import quad

import xr_spdc
from xr_spdc import zarr_io

sys.path.insert(0, str(Path(__file__).parent))
from bench_overlap import flat_inputs, hold_inputs, kernel_share, limit_round, peak_rss  # noqa: E402

#: The child that is killed half-way: a client of the running cluster.
CHILD = """
import sys, time, numpy as np, xarray as xr, xr_spdc
from distributed import Client
address, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
ds = xr.Dataset(coords={"phi": np.linspace(-7, 3, n) * np.pi, "xi": np.logspace(-1.5, 2.5, n)})
with Client(address):
    lazy = ds.spdc.overlap(chunks="auto")
    print(time.time(), flush=True)
    xr_spdc.to_zarr(lazy, path, progress=False)
"""


def classic(n_phi: int, n_xi: int) -> xr.Dataset:
    return xr.Dataset(coords={"phi": np.linspace(-7, 3, n_phi) * np.pi,
                              "xi": np.logspace(-1.5, 2.5, n_xi)})


def cpu() -> float:
    """This process's CPU seconds (user + system)."""
    t = os.times()
    return t.user + t.system


def task_cpu() -> float:
    """CPU seconds of this dask worker's task threads (its thread pool, named
    ``Dask-Default-Threads``): the chunks' own work, without the worker's event loop
    (messages, transfers, heartbeats, dask's profiler) and zarr's I/O threads."""
    import threading

    names = {t.native_id: t.name for t in threading.enumerate()}
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for task in Path("/proc/self/task").iterdir():
        if "Dask-Default-Threads" not in names.get(int(task.name), ""):
            continue
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def worker_cpu(client) -> dict[str, tuple[float, float]]:
    """Each worker's (process CPU, task threads' CPU) in seconds."""
    return client.run(lambda: (cpu(), task_cpu()))


def busiest(before, after) -> tuple[float, float]:
    """The busiest worker's process CPU between two :func:`worker_cpu` readings, and its
    task threads' part."""
    spent = {k: (after[k][0] - before[k][0], after[k][1] - before[k][1]) for k in before}
    return max(spent.values())


def eager_in_worker(n_phi: int, n_xi: int) -> float:
    """µs of CPU a point of an eager ``overlap(workers=1)`` run inside a dask task (the
    worker's environment: ``MALLOC_TRIM_THRESHOLD_`` set by its nanny)."""
    grid = classic(n_phi, n_xi)
    start = time.thread_time()
    grid.spdc.overlap(workers=1, progress=False)
    return (time.thread_time() - start) / (n_phi * n_xi) * 1e6


def eager_run(grid: xr.Dataset) -> tuple[float, float]:
    """Seconds and CPU seconds of one eager ``overlap(workers=1)`` on ``grid``."""
    c0, start = cpu(), time.perf_counter()
    grid.spdc.overlap(workers=1, progress=False)
    return time.perf_counter() - start, cpu() - c0


def one_process(grid: xr.Dataset) -> tuple[float, float]:
    """:func:`eager_run`, the better of two runs by wall and by CPU (the first pays for
    first touches)."""
    runs = [eager_run(grid) for _ in range(2)]
    seconds, cpu_seconds = (min(r) for r in zip(*runs, strict=True))
    return seconds, cpu_seconds


def two_process_limit(grid: xr.Dataset, rounds: int = 3) -> float:
    """The machine's limit for two processes on ``grid``'s exact kernel: one warm plain
    process doing every 65,536-point block, against two doing half each (nothing sent,
    nothing started), the best of ``rounds`` alternated."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    arrays = flat_inputs(grid)
    alone, together = [], []
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"),
                             initializer=hold_inputs, initargs=(arrays,)) as pool:
        list(pool.map(kernel_share, [65536, 65536], [0, 1]))  # both started and warm
        for _ in range(rounds):
            one, two = limit_round(pool, 65536)
            alone.append(one)
            together.append(two)
    return min(alone) / min(together)


def mib(n: float) -> str:
    return f"{n / 2**20:.0f} MiB"


def write_cost(folder: Path, files: int = 8) -> float:
    """Seconds of CPU to write a new 16 MiB file in ``folder`` (median of ``files``): what the
    file system charges the writer for a chunk, apart from zarr and dask.  On the project's
    VM a new file on its disk cost 5-47 ms, on /dev/shm ~7 ms, an overwrite ~2 ms."""
    data = np.random.default_rng(0).random(1 << 21)  # 16 MiB
    spent = []
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        for i in range(files):
            c0 = time.process_time()
            with open(Path(scratch) / f"f{i}", "wb") as f:
                f.write(data.data)
            spent.append(time.process_time() - c0)
    return float(np.median(spent))


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def user_integrand(l, phi, xi):
    """Bennink's integrand as a user writes it (math/cmath, complex)."""
    return math.sqrt(xi) * cmath.exp(0.5j * phi * l) / (1 - 1j * xi * l)


def serial_quad_loop(phi: np.ndarray, xi: np.ndarray) -> np.ndarray:
    """The loop a user writes: one complex quad a point, the package's tolerances."""
    out = np.empty((phi.size, xi.size), complex)
    for i, p in enumerate(phi):
        for j, x in enumerate(xi):
            out[i, j] = quad(user_integrand, -1, 1, args=(p, x), complex_func=True,
                             epsabs=1e-10, epsrel=1e-10, limit=200)[0]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=float, default=1e8)
    parser.add_argument("--folder", default=tempfile.gettempdir())
    parser.add_argument("--steps", default="12345", help="which steps to run, e.g. 25")
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    print(f"load average before: {os.getloadavg()}; {os.cpu_count()} CPUs")
    grid = classic(2000, 2000)
    t_one, cpu_one = one_process(grid)
    rate_one = grid.phi.size * grid.xi.size / t_one
    print(f"1. eager overlap(workers=1), 4e6 points: {t_one:.2f} s = {rate_one:.3g} points/s "
          f"(the one-process kernel rate; {cpu_one:.2f} s of CPU a run)")
    limit = two_process_limit(grid)
    print(f"   the machine's limit for two processes: {limit:.2f}x one (the same blocks in two "
          f"warm plain processes, nothing sent): 90 % of 2x is {1.8 / limit:.0%} of it")

    work = Path(tempfile.mkdtemp(dir=args.folder, prefix="bench_cluster."))
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True)
    client = Client(cluster)
    direct = Client(cluster, direct_to_workers=True, set_as_default=False)
    try:
        print(f"   cluster: {client.dashboard_link}")
        classic(20, 20).spdc.overlap(chunks={"phi": 10}).compute()  # warm the workers
        inside = [client.submit(eager_in_worker, 1000, 2000, pure=False).result()
                  for _ in range(2)]
        print(f"   the same eager call inside a worker's task: {min(inside):.3f} µs of CPU a "
              f"point (here {cpu_one / 4:.3f})")
        # Eager and cluster runs alternate, so both see the same load; medians of 3 rounds.
        for chunks in ({"phi": 250}, {"phi": 500}, {"phi": 1000}) if "2" in args.steps else ():
            compare_compute(grid, chunks, client, direct)

        if "3" in args.steps:
            big_sweep(client, args, work, grid, limit)
        if "4" in args.steps:
            resume(client, cluster, work)
        if "5" in args.steps:
            quad_runs(client)
    finally:
        direct.close()
        client.close()
        cluster.close()
        shutil.rmtree(work, ignore_errors=True)
    print(f"load average after: {os.getloadavg()}")


def compare_compute(grid: xr.Dataset, chunks: dict[str, int], client, direct) -> None:
    """Step 2 for one chunking: eager workers=1, ``.compute()`` by the default client and
    by the ``direct_to_workers=True`` one, alternated over 3 rounds; medians."""
    from distributed import get_task_stream

    rows: dict[str, dict[str, list[float]]] = {
        name: {"t": [], "c": [], "w": [], "task": []} for name in ("eager", "default", "direct")}
    for r in range(3):
        seconds, cpu_seconds = eager_run(grid)
        rows["eager"]["t"].append(seconds)
        rows["eager"]["c"].append(cpu_seconds)
        for name, who in (("default", client), ("direct", direct))[::1 if r % 2 else -1]:
            w0 = worker_cpu(client)
            # Timed inside the block: leaving it fetches the task stream from the scheduler.
            with get_task_stream(client) as stream:
                c0, start = cpu(), time.perf_counter()
                grid.spdc.overlap(chunks=chunks).compute(scheduler=who)
                rows[name]["t"].append(time.perf_counter() - start)
                rows[name]["c"].append(cpu() - c0)
            spent, tasks = busiest(w0, worker_cpu(client))
            rows[name]["w"].append(spent)
            rows[name]["task"].append(tasks)
    # where the chunks ran (the last round): dask spreads them when they depend on no other
    spread = Counter(t["worker"] for t in stream.data if "_call_one" in str(t["key"]))
    # dask's final join of the chunks, on one worker (part of its task thread's CPU)
    join = sum(s["stop"] - s["start"] for t in stream.data for s in t["startstops"]
               if "finalize" in str(t["key"]) and s["action"] == "compute")
    med = {name: {k: float(np.median(v)) for k, v in row.items() if v}
           for name, row in rows.items()}
    te, ce = med["eager"]["t"], med["eager"]["c"]
    print(f"2. 4e6 grid, eager workers=1 vs .compute() on the cluster, chunks={chunks} (medians "
          f"of 3 alternated rounds): eager {te:.2f} s ({ce / 4:.3f} µs of CPU a point); "
          f"chunks per worker {sorted(spread.values())}; dask's final join "
          f"{join:.3f} s in the last round")
    for name, label in (("default", "Client(cluster)"),
                        ("direct", "Client(cluster, direct_to_workers=True)")):
        m = med[name]
        print(f"   {label}: {m['t']:.2f} s = {te / m['t']:.2f}x; CPU: busiest worker "
              f"{m['w']:.2f} s = {ce / m['w']:.2f}x (its task thread {m['task'] / 2:.3f} µs a "
              f"point: the chunks and the join; the rest: its event loop, the transfers), "
              f"the client and scheduler {m['c']:.2f} s")


def big_sweep(client, args, work: Path, grid: xr.Dataset, limit: float) -> None:
    """Step 3: the 10⁸-point sweep to zarr, against the one-process rate measured just
    before it and just after (the machine drifts from minute to minute: the slower of the
    two gives the lower share, the faster the higher)."""
    before = one_process(grid)
    file_cpu = write_cost(work)
    side = int(round(math.sqrt(args.points)))
    big = classic(side, side)
    start = time.perf_counter()
    lazy = big.spdc.overlap(chunks="auto")
    tasks = len(lazy.data.__dask_graph__())
    t_graph = time.perf_counter() - start
    path = work / "big.zarr"
    w0, c0 = worker_cpu(client), cpu()
    start = time.perf_counter()
    report = xr_spdc.to_zarr(lazy, path, progress=False)
    t_z = time.perf_counter() - start
    client_cpu = cpu() - c0
    most, in_tasks = busiest(w0, worker_cpu(client))
    after = one_process(grid)
    t_one, cpu_one = min(before[0], after[0]), min(before[1], after[1])
    rate_one = grid.phi.size * grid.xi.size / t_one
    slow_one = grid.phi.size * grid.xi.size / max(before[0], after[0])
    rate = side * side / t_z
    eager_cpu = cpu_one * side**2 / (grid.phi.size * grid.xi.size)  # the sweep's, eagerly
    worker_rss = client.run(peak_rss)
    store = folder_size(path)
    print(f"3. {side}x{side} = {side * side:.3g} points to zarr: {t_z:.1f} s, "
          f"{rate:.3g} points/s = {rate / (2 * rate_one):.0%} of 2x the one-process "
          f"rate ({rate / (2 * slow_one):.0%} of 2x its slower reading: eager 4e6 points "
          f"{before[0]:.2f} s before, {after[0]:.2f} s after), "
          f"{rate / (limit * rate_one):.0%} of the machine's limit (by CPU: busiest "
          f"worker {most:.1f} s against "
          f"{eager_cpu:.1f} s for the same points eagerly: "
          f"{eager_cpu / most:.2f}x = {eager_cpu / most / 2:.0%} of 2x; µs of CPU a point: eager "
          f"{cpu_one / 4:.3f}, busiest worker {most / side**2 * 2e6:.3f}, its task thread "
          f"{in_tasks / side**2 * 2e6:.3f}; the client and scheduler {client_cpu:.1f} s); "
          f"{report.chunks} chunks, "
          f"graph of {tasks} tasks built in "
          f"{t_graph:.2f} s; store {mib(store)} "
          f"({store / side**2:.2f} bytes a point); peak RSS: workers "
          f"{', '.join(mib(v) for v in worker_rss.values())}, client "
          f"{mib(peak_rss())}")
    back = xr_spdc.open_zarr(path)["overlap"]
    rows = slice(side // 2, side // 2 + 3)
    eager_rows = big.isel(phi=rows).spdc.overlap(workers=1, progress=False)
    writes = file_cpu * store / (16 << 20)
    print(f"   the folder's own cost of writing the store ({work.parent}): "
          f"{file_cpu * 1e3:.1f} ms of CPU a new 16 MiB file, {writes:.1f} s for the store "
          f"= {writes / eager_cpu:.0%} of the sweep's eager CPU, "
          f"on top of computing it")
    print("   rows read back equal the eager values bitwise:",
          back.isel(phi=rows).values.tobytes() == eager_rows.values.tobytes())
    shutil.rmtree(path)


def resume(client, cluster, work: Path) -> None:
    """Step 4: a sweep killed half-way (SIGKILL of its client process) and resumed."""
    n = 4472  # 2e7 points, ~20 chunks
    sweep = work / "resume.zarr"
    w0 = client.run(cpu)
    start = time.perf_counter()
    whole = xr_spdc.to_zarr(classic(n, n).spdc.overlap(chunks="auto"), sweep,
                            progress=False)
    t_whole = time.perf_counter() - start
    w1 = client.run(cpu)
    work_whole = sum(w1[k] - w0[k] for k in w0)
    shutil.rmtree(sweep)
    w2 = client.run(cpu)
    child = subprocess.Popen([sys.executable, "-c", CHILD, cluster.scheduler_address,
                              str(sweep), str(n)], stdout=subprocess.PIPE, text=True)
    started = float(child.stdout.readline())
    while True:
        marks = (sweep / zarr_io.PROGRESS / "overlap")
        done = sum(1 for p in marks.rglob("*") if p.is_file() and p.name != "zarr.json")
        if done >= whole.chunks // 2 or child.poll() is not None:
            break
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    t_killed = time.time() - started
    child.wait()
    time.sleep(1.0)  # the scheduler notices the client is gone and drops its tasks
    start = time.perf_counter()
    resumed = xr_spdc.to_zarr(classic(n, n).spdc.overlap(chunks="auto"), sweep,
                              progress=False)
    t_resume = time.perf_counter() - start
    w3 = client.run(cpu)
    work_both = sum(w3[k] - w2[k] for k in w2 if k in w3)
    print(f"4. {n}x{n} sweep: uninterrupted {t_whole:.1f} s ({whole.chunks} chunks); "
          f"killed after {t_killed:.1f} s with {resumed.skipped} chunks marked, resumed "
          f"in {t_resume:.1f} s writing {resumed.written}: "
          f"{(t_killed + t_resume) / t_whole:.2f}x the time, "
          f"{(resumed.skipped + resumed.written) / whole.chunks:.2f}x the chunks, "
          f"{work_both / work_whole:.2f}x the workers' CPU time ({work_both:.1f} s "
          f"against {work_whole:.1f} s)")



def quad_runs(client) -> None:
    """Step 5: quad and a user integrand on the cluster against the serial quad loop."""
    side_q = 100
    qgrid = classic(side_q, side_q)
    loop_t, quad_t, user_t, loop_c, quad_c, user_c = [], [], [], [], [], []
    for _ in range(3):  # alternated rounds, medians
        c0, start = cpu(), time.perf_counter()
        serial_quad_loop(qgrid.phi.values, qgrid.xi.values)
        loop_t.append(time.perf_counter() - start)
        loop_c.append(cpu() - c0)
        for times, cpus, run in (
                (quad_t, quad_c, lambda: qgrid.spdc.overlap(
                    method="quad", chunks="auto").compute()),
                (user_t, user_c, lambda: qgrid.spdc.integrate(
                    user_integrand, chunks="auto").compute())):
            w0, start = client.run(cpu), time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
            w1 = client.run(cpu)
            cpus.append(max(w1[k] - w0[k] for k in w0))
    tl, tq, tu = (float(np.median(t)) for t in (loop_t, quad_t, user_t))
    cl, cq, cu = (float(np.median(c)) for c in (loop_c, quad_c, user_c))
    n_quad = qgrid.spdc.overlap(method="quad", chunks="auto").data.npartitions
    n_user = qgrid.spdc.integrate(user_integrand, chunks="auto").data.npartitions
    print(f"5. {side_q}x{side_q} points, chunks='auto' ({n_quad} and {n_user} chunks; medians "
          f"of 3 alternated rounds): serial quad loop "
          f"{tl:.2f} s; on the cluster: overlap(method='quad') {tq:.2f} s "
          f"({tl / tq:.2f}x), integrate(user integrand) {tu:.2f} s ({tl / tu:.2f}x); CPU: "
          f"loop {cl:.2f} s, busiest worker {cq:.2f} s ({cl / cq:.2f}x) and {cu:.2f} s "
          f"({cl / cu:.2f}x)")


if __name__ == "__main__":
    main()
