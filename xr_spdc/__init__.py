"""xr_spdc: the SPDC Gaussian-beam overlap over labelled xarray grids, exact and parallel.

Importing the package registers the ``.spdc`` accessor on ``xarray.Dataset`` and
``xarray.DataArray``::

    import numpy as np, xarray as xr, xr_spdc
    ds = xr.Dataset(coords={"phi": np.linspace(-7, 3, 100) * np.pi,
                            "xi": np.logspace(-1.5, 2.5, 100)})
    o = ds.spdc.overlap()
"""

from ._version import __version__
from .accessor import SpdcDataArrayAccessor, SpdcDatasetAccessor
from .beams import aggregate_focus, aggregate_focus_from_beams
from .boyd_kleinman import boyd_kleinman
from .evaluate import integrate, overlap
from .fanout import FanoutError, WorkerDiedError
from .io import open_dataarray, open_dataset, to_netcdf

__all__ = [
    "aggregate_focus",
    "aggregate_focus_from_beams",
    "boyd_kleinman",
    "FanoutError",
    "SpdcDataArrayAccessor",
    "SpdcDatasetAccessor",
    "WorkerDiedError",
    "__version__",
    "integrate",
    "open_dataarray",
    "open_dataset",
    "overlap",
    "to_netcdf",
]
