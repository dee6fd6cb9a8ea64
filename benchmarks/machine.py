"""Is the machine steady enough to benchmark?  Run it before the other scripts (~3 s).

    .venv/bin/python benchmarks/machine.py [--repeats 8] [--watch SECONDS]

The project's machine is shared: the same code runs 30-60 % slower from one minute to the
next, and a benchmark run in such a minute measures the neighbours.  This times the exact
overlap kernel on 10^6 points of the classic grid, in the 65,536-point blocks a pool's
worker computes, ``--repeats`` times in one process, and prints the µs a point of each
repeat, their median and spread (slowest / fastest), and the load average.  The reference
runs in docs/performance.md and docs/scaling.md had the kernel at 0.31-0.33 µs a point; a
spread above ~1.1 means the machine is changing under the run.  ``--watch`` repeats the
reading every that many seconds until it is at most ``--target`` µs a point with a spread
of at most ``--spread``, then exits 0 (so ``machine.py --watch 45 && bench_...`` waits for
a quiet minute).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_overlap import classic, flat_inputs, hold_inputs, kernel_share  # noqa: E402


def reading(repeats: int) -> list[float]:
    """µs a point of the exact kernel over 10^6 points, once per repeat (the blocks as a
    pool's worker evaluates them: ``bench_overlap.kernel_share``)."""
    arrays = flat_inputs(classic(1000, 1000))
    hold_inputs(arrays)
    return [kernel_share(1 << 16, None)[0] / arrays[0].size * 1e6 for _ in range(repeats)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=8)
    parser.add_argument("--watch", type=float, default=0.0,
                        help="seconds between readings until the machine is steady")
    parser.add_argument("--target", type=float, default=0.345,
                        help="µs a point at most (median), for --watch")
    parser.add_argument("--spread", type=float, default=1.08,
                        help="slowest / fastest repeat at most, for --watch")
    args = parser.parse_args()
    while True:
        times = reading(args.repeats)
        median, spread = statistics.median(times), max(times) / min(times)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"{time.strftime('%H:%M:%S')} exact kernel, µs a point: "
              f"{' '.join(f'{t:.3f}' for t in times)}; median {median:.3f}, spread "
              f"{spread:.2f}, load {load:.2f}", flush=True)
        if not args.watch:
            return 0
        if median <= args.target and spread <= args.spread:
            return 0
        time.sleep(args.watch)


if __name__ == "__main__":
    sys.exit(main())
