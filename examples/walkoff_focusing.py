"""
Focusing with walk-off
======================

Boyd and Kleinman's focusing function with walk-off: h_m(ξ) for B = 0 … 16, and h_mm(B),
ξ_m(B).

Reproduces the walk-off figures of Boyd & Kleinman, J. Appl. Phys. 39, 3597 (1968): the
maximum over σ of h(σ, B, ξ) against ξ for B = 0, 0.5, 1, 2, 4, 8, 16 (log–log), and the
optimum over σ and ξ against B, with the large-B law h_mm ≈ 0.711963/B (ξ_m → 1.392).
Takes ~10 s on one core.

Run as a script (``python examples/walkoff_focusing.py``) it writes
``walkoff_focusing.png``.
"""

import matplotlib

matplotlib.use("Agg")  # a script: write a file, open no window

import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from xr_spdc import optimum_per_xi, plot_walkoff_optimum, walkoff_optimum  # noqa: E402
from xr_spdc.physics.optimum import H_INF  # noqa: E402

WALKOFF = [0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0]

# %%
# h_m(ξ) = max over σ of h, for each walk-off B.
xi = xr.DataArray(np.geomspace(1e-2, 1e3, 61), dims="xi")
per_xi = xr.concat([optimum_per_xi(xi, B=b).h_m.assign_coords(B=b) for b in WALKOFF],
                   dim="B").to_dataset()

# %%
# The optimum over σ and ξ for each B, and the large-B law B·h_mm → 0.711963.
best = walkoff_optimum(WALKOFF + [32.0, 64.0])
fig = plot_walkoff_optimum(per_xi, best)
fig.savefig("walkoff_focusing.png", dpi=120)
for b, h, x, s in zip(best.B.values, best.h_mm.values, best.xi_m.values,
                      best.sigma_m.values, strict=True):
    law = f"  B*h_mm = {b * h:.6f} (-> {H_INF:.6f})" if b else ""
    print(f"B = {b:5g}: h_mm = {h:.6f} at xi_m = {x:.4f}, sigma_m = {s:.4f}{law}")
