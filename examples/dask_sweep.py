"""
A sweep on a local dask cluster
===============================

The same call that runs on one machine runs on a dask cluster: chunked coordinates make the
overlap lazy, each chunk becomes one task, and :func:`xr_spdc.to_netcdf` computes the blocks
on the cluster's workers and writes them to the file as they come (the whole grid is never
held in memory).  Here the cluster is two local worker processes; to use a real one, give
:class:`dask.distributed.Client` its scheduler's address (``Client("tcp://host:8786")``) and
nothing else changes.

The sweep: Boyd and Kleinman's focusing function h = |O|²/4 over 200 phase mismatches ×
200 focusing parameters, in 8 chunks, and its maximum over φ at each ξ (the optimum
ξ = 2.84, h = 1.068 of Boyd & Kleinman, J. Appl. Phys. 39, 3597 (1968)).  Scale it up by
enlarging the grid and the chunks: each chunk should take a second or more of work.

Needs the dask extra (``pip install -e ".[dask]"``).  Run as a script
(``python examples/dask_sweep.py``) it writes ``dask_sweep.nc`` and ``dask_sweep.png``.
"""

import matplotlib

matplotlib.use("Agg")  # a script: write a file, open no window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
from dask.distributed import Client, LocalCluster  # noqa: E402

import xr_spdc  # noqa: E402

GRID = xr.Dataset(coords={"phi": np.linspace(-7, 3, 200) * np.pi,
                          "xi": np.logspace(-1.5, 2.5, 200)})
CHUNKS = {"phi": 25}   # 8 blocks of 25 x 200 points: one task each


# %%
# The sweep, lazy until it is written: the grid chunked along φ, the overlap and h as dask
# arrays (nothing is computed), then :func:`xr_spdc.to_netcdf` computes the blocks on
# whatever dask scheduler is active (here the cluster's) and writes each as it arrives.
def sweep(path):
    h = GRID.spdc.overlap(chunks=CHUNKS).spdc.h()
    print(f"lazy h: {h.sizes['phi']} x {h.sizes['xi']} points in {h.data.npartitions} "
          f"chunks")
    xr_spdc.to_netcdf(h, path)
    return h.name


# %%
# Read back: the maximum of h over φ at each ξ, and its optimum.
def plot(path, name):
    hmap = xr_spdc.open_dataset(path)[name]
    best = hmap.max("phi")
    xi_opt = float(best.idxmax("xi"))
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), layout="constrained")
    hmap.assign_coords(phi=hmap.phi / np.pi).plot(x="xi", y="phi", xscale="log", ax=axes[0],
                                                  cbar_kwargs={"label": "h"})
    axes[0].set(ylabel="φ/π", title="h(φ, ξ), computed on the cluster")
    best.plot(xscale="log", ax=axes[1])
    axes[1].axvline(xi_opt, color="gray", ls=":")
    axes[1].set(ylabel="max over φ of h",
                title=f"optimum ξ ≈ {xi_opt:.2f}, h = {float(best.max()):.4f}")
    fig.savefig("dask_sweep.png", dpi=110)
    step = float(np.log10(GRID.xi[1] / GRID.xi[0]))
    print(f"wrote {path} ({hmap.size} points); max h = {float(best.max()):.4f} at "
          f"xi = {xi_opt:.3f} (grid step {step:.3f} in log10 xi)")


# %%
# The cluster: two local worker processes of one thread each, the dashboard on a free port
# (its link printed), closed when the sweep is written.  Dask starts its workers with
# ``spawn``, which re-runs a plain script in each new process: hence the
# ``if __name__ == "__main__":`` guard, as for any script that starts processes.
if __name__ == "__main__":
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        print(f"dask dashboard: {client.dashboard_link}")
        print(f"workers: {len(client.scheduler_info()['workers'])}")
        name = sweep("dask_sweep.nc")
    plot("dask_sweep.nc", name)
