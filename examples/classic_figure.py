"""Bennink's Fig. 1 — the seed blog post's 100 x 100 grid — in a few lines.

    python examples/classic_figure.py          # writes classic_figure.nc and .png
"""

import matplotlib

matplotlib.use("Agg")  # a script: write files, open no window

import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

import xr_spdc  # noqa: E402
from xr_spdc import find_optimum  # noqa: E402

if __name__ == "__main__":  # worker processes re-import this file under spawn/forkserver
    ds = xr.Dataset(coords={"phi": np.arange(-7, 3, 0.1) * np.pi,
                            "xi": 10 ** np.arange(-1.5, 2.5, 0.04)})
    o = ds.spdc.overlap(workers=2)
    xr_spdc.to_netcdf(o, "classic_figure.nc")
    o.spdc.plot().figure.savefig("classic_figure.png", dpi=120)
    best = find_optimum()
    print(f"optimum: xi = {best.xi:.6f}, phi = {best.phi / np.pi:.6f} pi, "
          f"|O|^2 = {best.overlap_sq:.6f}, h = {best.h:.6f}")
