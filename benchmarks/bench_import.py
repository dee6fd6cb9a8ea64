"""What ``import xr_spdc`` costs next to ``import xarray``, and how fast ``xr-spdc --help`` is.

    .venv/bin/python benchmarks/bench_import.py [ROUNDS]

Each measurement runs in a fresh interpreter (nothing cached in ``sys.modules``; the OS file
cache is warm after the first round), and the statements alternate within each round so
that the machine's drift hits them alike.  The import time is measured inside the child
(``time.perf_counter`` around the import statement), the ``--help`` time from outside
(interpreter start-up included).  The target (issue 12): ``import xr_spdc`` at most 1.3x
``import xarray``.  Also lists which heavy modules the package import pulls in.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

STATEMENTS = {
    "import xarray": "import xarray",
    "import xr_spdc": "import xr_spdc",
}
HEAVY = ("scipy", "scipy.integrate", "scipy.optimize", "scipy.special", "matplotlib",
         "dask", "netCDF4", "h5netcdf", "h5py", "tqdm", "multiprocessing.shared_memory")


def time_import(statement: str) -> float:
    code = (f"import time\nt = time.perf_counter()\n{statement}\n"
            "print(time.perf_counter() - t)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return float(done.stdout)


def time_help() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "xr_spdc.cli", "--help"], capture_output=True,
                   check=True)
    return time.perf_counter() - start


def time_bare_interpreter() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - start


def main(rounds: int = 9) -> None:
    times: dict[str, list[float]] = {name: [] for name in (*STATEMENTS, "xr-spdc --help",
                                                           "python -c pass")}
    for _ in range(rounds):
        for name, statement in STATEMENTS.items():
            times[name].append(time_import(statement))
        times["xr-spdc --help"].append(time_help())
        times["python -c pass"].append(time_bare_interpreter())
    print(f"{rounds} rounds, fresh interpreters, Python {sys.version.split()[0]}")
    print(f"{'':24} {'median':>9} {'best':>9}")
    for name, values in times.items():
        print(f"{name:24} {statistics.median(values) * 1e3:7.0f} ms "
              f"{min(values) * 1e3:7.0f} ms")
    ratio = [b / a for a, b in zip(times["import xarray"], times["import xr_spdc"],
                                   strict=True)]
    print(f"import xr_spdc / import xarray, per round: median {statistics.median(ratio):.2f}x"
          f" (best {min(ratio):.2f}x, worst {max(ratio):.2f}x); target <= 1.3x")
    code = ("import sys, xr_spdc\n"
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.split()
    print(f"heavy modules after import xr_spdc: {', '.join(loaded) or 'none'}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 9)
