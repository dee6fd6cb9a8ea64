"""What a signal during ``xr_spdc.to_netcdf`` really does: a sweep over arrival times.

    .venv/bin/python benchmarks/bench_interrupt.py [SIGNAL] [ENGINE] [eager|lazy] [DELAYS]
    .venv/bin/python benchmarks/bench_interrupt.py SIGINT netcdf4 lazy 0.1,0.3,0.6

A child process computes an overlap (eager: 6000 x 2000 points, ~190 MB; lazy: 2000 x 2000
in blocks of 100 phi values), says it is ready, and saves it over an existing file; the
parent sends the signal after each delay and reports the exit status, the last line of the
child's stderr, whether the old file is byte-identical and which files are left in the
folder.  Whole or nothing means: either "saved" with the new file in place, or the signal's
status (-2, -15) with the old file and nothing else.  A child still running after 30 s is
reported as a deadlock.  Set DASK_SCHEDULER=synchronous to write blocks in the main thread.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import os, signal, sys, dask, numpy as np, xarray as xr, xr_spdc
# Started from a background shell, a child inherits SIGINT ignored: be a normal program.
signal.signal(signal.SIGINT, signal.default_int_handler)
if os.environ.get("DASK_SCHEDULER"):
    dask.config.set(scheduler=os.environ["DASK_SCHEDULER"])
engine, lazy, path = sys.argv[1], sys.argv[2] == "lazy", sys.argv[3]
n_phi = 2000 if lazy else 6000
ds = xr.Dataset(coords={"phi": np.linspace(-7, 3, n_phi) * np.pi,
                        "xi": np.logspace(-1.5, 2.5, 2000)})
o = ds.spdc.overlap(chunks={"phi": 100}) if lazy else ds.spdc.overlap(workers=1)
print("ready", flush=True)
xr_spdc.to_netcdf(o, path, engine=engine)
print("saved", flush=True)
"""

OLD = b"the old contents"


def run(number: int, engine: str, mode: str, delay: float, folder: Path) -> str:
    for leftover in folder.iterdir():
        if leftover.is_dir():
            for inner in leftover.iterdir():
                inner.unlink()
            leftover.rmdir()
        else:
            leftover.unlink()
    path = folder / "o.nc"
    path.write_bytes(OLD)
    child = subprocess.Popen([sys.executable, "-c", CHILD, engine, mode, str(path)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None
    child.stdout.readline()  # "ready"
    time.sleep(delay)
    child.send_signal(number)
    try:
        out, err = child.communicate(timeout=30)
        state = ""
    except subprocess.TimeoutExpired:
        child.kill()
        out, err = child.communicate()
        state = "DEADLOCK "
    time.sleep(0.3)  # let any thread still writing finish
    last = (err.strip().splitlines() or [""])[-1][:70]
    old_kept = path.exists() and path.read_bytes() == OLD
    return (f"{delay:5.2f} s: {state}status {child.returncode:4d}, "
            f"{'saved' if 'saved' in out else 'not saved'}, old file "
            f"{'kept' if old_kept else 'replaced'}, files {sorted(os.listdir(folder))}, "
            f"stderr: {last!r}")


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "SIGINT"
    engine = sys.argv[2] if len(sys.argv) > 2 else "h5netcdf"
    mode = sys.argv[3] if len(sys.argv) > 3 else "eager"
    delays = [float(d) for d in (sys.argv[4] if len(sys.argv) > 4 else
                                 "0.05,0.1,0.15,0.2,0.3,0.5").split(",")]
    print(f"{name} during a {mode} save with {engine}")
    with tempfile.TemporaryDirectory() as folder:
        for delay in delays:
            print(" ", run(getattr(signal, name), engine, mode, delay, Path(folder)),
                  flush=True)


if __name__ == "__main__":
    main()
