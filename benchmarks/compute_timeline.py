"""Where a ``.compute()`` on a cluster spends its wall time (a diagnostic, ~1 min).

    .venv/bin/python benchmarks/compute_timeline.py [--rows 500] [--repeats 6]
    NUMPY_MADVISE_HUGEPAGE=0 .venv/bin/python benchmarks/compute_timeline.py

On ``LocalCluster(n_workers=2, threads_per_worker=1)`` with a ``direct_to_workers=True``
client, each repeat runs an eager ``overlap(workers=1)`` of the 2000 × 2000 classic grid
(4·10⁶ points), then the same grid's ``overlap(chunks={"phi": rows}).compute()``, and splits
the latter, from dask's task stream, into: the first chunk's start, the chunks (the
busiest worker's sum), dask's join after the last chunk (``FinalizeCompute``: fetching the
other worker's chunks and concatenating them on one worker) and the result's way to the
client.  It prints each repeat and the medians.  The join and the return are serial: no
chunking hides them, so they bound ``.compute()``'s speed-up over eager however fast the
chunks are.

numpy asks the kernel for transparent huge pages on arrays of 4 MiB or more (the
``NUMPY_MADVISE_HUGEPAGE`` environment variable, read at import, turns that off in every
process started with it, the cluster's workers included): compare the two on a machine
to see what fresh large buffers cost there.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_cluster import classic, eager_run  # noqa: E402


def one_compute(grid, rows: int) -> tuple[float, ...]:
    """Seconds of: the compute, its first chunk's start, the busiest worker's chunks, the
    join after the last chunk, the return to the client."""
    from distributed import get_task_stream

    with get_task_stream() as stream:
        start = time.time()
        grid.spdc.overlap(chunks={"phi": rows}).compute()
        total = time.time() - start
    spans = [(s["start"] - start, s["stop"] - start, t["worker"], str(t["key"]))
             for t in stream.data for s in t["startstops"] if s["action"] == "compute"]
    chunks = [span for span in spans if "finalize" not in span[3]]
    joined = max(stop for _, stop, _, key in spans if "finalize" in key)
    last = max(stop for _, stop, _, _ in chunks)
    busy: dict[str, float] = {}
    for begin, stop, worker, _ in chunks:
        busy[worker] = busy.get(worker, 0.0) + stop - begin
    return (total, min(begin for begin, *_ in chunks), max(busy.values()), joined - last,
            total - joined)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=500, help="rows of φ a chunk")
    parser.add_argument("--repeats", type=int, default=6)
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    grid = classic(2000, 2000)
    hugepages = os.environ.get("NUMPY_MADVISE_HUGEPAGE", "unset")
    print(f"4e6 points, chunks of {args.rows} rows; NUMPY_MADVISE_HUGEPAGE={hugepages}; "
          f"load average {os.getloadavg()[0]:.2f}")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, \
            Client(cluster, direct_to_workers=True):
        classic(20, 20).spdc.overlap(chunks={"phi": 10}).compute()  # warm the workers
        rows = []
        for _ in range(args.repeats):
            eager = eager_run(grid)[0]
            total, first, chunks, join, back = one_compute(grid, args.rows)
            rows.append((eager, total, first, chunks, join, back))
            print(f"  eager {eager:.3f} s, .compute() {total:.3f} s ({eager / total:.2f}x): "
                  f"first chunk at {first * 1e3:.0f} ms, busiest worker's chunks "
                  f"{chunks:.3f} s, join {join * 1e3:.0f} ms, to the client "
                  f"{back * 1e3:.0f} ms", flush=True)
    eager, total, first, chunks, join, back = np.median(rows, axis=0)
    print(f"medians: eager {eager:.3f} s, .compute() {total:.3f} s ({eager / total:.2f}x); "
          f"first chunk at {first * 1e3:.0f} ms, chunks {chunks:.3f} s "
          f"(eager / chunks {eager / chunks:.2f}x), join {join * 1e3:.0f} ms, return "
          f"{back * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
