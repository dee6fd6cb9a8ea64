"""Peak memory of saving a 10^7-point overlap: streamed block by block (dask) vs eager.

    .venv/bin/python benchmarks/bench_save.py [N_PHI N_XI]

Each case runs in a fresh child process and reports its own peak resident set size
(``VmHWM``: see ``bench_overlap.peak_rss``) and wall time; "imports only" is the same
child stopping before it computes anything, so the difference is what the save costs.  The
grid is 2000 x 5000 (10^7 points, 160 MB of complex128 values) on Bennink's classic domain,
chunked ``{"phi": 100}`` (100 blocks of 8 MB) for the lazy cases.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import json, sys, time
import numpy as np, xarray as xr, xr_spdc
case, n_phi, n_xi, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
sys.path.insert(0, sys.argv[5])
from bench_overlap import peak_rss
ds = xr.Dataset(coords={"phi": np.linspace(-7, 3, n_phi, endpoint=False) * np.pi,
                        "xi": np.logspace(-1.5, 2.5, n_xi, endpoint=False)})
start = time.perf_counter()
if case == "lazy: xr_spdc.to_netcdf":
    xr_spdc.to_netcdf(ds.spdc.overlap(chunks={"phi": 100}), path)
elif case == "lazy: o.spdc.to_netcdf":
    ds.spdc.overlap(chunks={"phi": 100}).spdc.to_netcdf(path)
elif case == "eager: overlap(workers=1), then save":
    xr_spdc.to_netcdf(ds.spdc.overlap(workers=1, progress=False), path)
seconds = time.perf_counter() - start
print(json.dumps([seconds, peak_rss()]))
"""

CASES = ("imports only", "lazy: xr_spdc.to_netcdf", "lazy: o.spdc.to_netcdf",
         "eager: overlap(workers=1), then save")


def main(n_phi: int = 2000, n_xi: int = 5000) -> None:
    values_mib = n_phi * n_xi * 16 / 2**20
    print(f"{n_phi} x {n_xi} = {n_phi * n_xi:.3g} points, {values_mib:.0f} MiB of "
          "complex128; one fresh process per case")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.nc"
        baseline = None
        for case in CASES:
            done = subprocess.run([sys.executable, "-c", CHILD, case, str(n_phi), str(n_xi),
                                   str(path), str(Path(__file__).parent)],
                                  capture_output=True, text=True, check=True)
            seconds, peak = json.loads(done.stdout.strip().splitlines()[-1])
            baseline = peak if baseline is None else baseline
            size = f"{path.stat().st_size / 2**20:6.0f} MiB file" if path.exists() else ""
            print(f"  {case:<40} {seconds:6.1f} s   peak RSS {peak / 2**20:5.0f} MiB "
                  f"(+{(peak - baseline) / 2**20:4.0f} MiB over imports)  {size}")
            path.unlink(missing_ok=True)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
