"""Run by test_zarr in a subprocess: a slow to_zarr (one chunk at a time), to be killed."""

import sys

import dask
import numpy as np
import xarray as xr

import xr_spdc


def sweep() -> xr.DataArray:
    """24 chunks of quad overlaps, ~0.1 s each on one core."""
    ds = xr.Dataset(coords={"phi": np.linspace(-7, 3, 48) * np.pi,
                            "xi": np.logspace(-1.5, 2.5, 36)})
    return ds.spdc.overlap(method="quad", chunks={"phi": 8, "xi": 9})


if __name__ == "__main__":
    with dask.config.set(scheduler="synchronous"):
        xr_spdc.to_zarr(sweep(), sys.argv[1], progress=False)
