"""xr_spdc: the SPDC Gaussian-beam overlap over labelled xarray grids, exact and parallel.

Importing the package registers the ``.spdc`` accessor on ``xarray.Dataset`` and
``xarray.DataArray``::

    import numpy as np, xarray as xr, xr_spdc
    ds = xr.Dataset(coords={"phi": np.linspace(-7, 3, 100) * np.pi,
                            "xi": np.logspace(-1.5, 2.5, 100)})
    o = ds.spdc.overlap()

Only the accessor is imported up front; the other public names load their module on first
use (PEP 562), so ``import xr_spdc`` costs little more than ``import xarray``
(``benchmarks/bench_import.py`` measures it).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .accessor import SpdcDataArrayAccessor, SpdcDatasetAccessor
from .evaluate import integrate, overlap

if TYPE_CHECKING:  # the names below, for type checkers and editors
    from .beams import aggregate_focus, aggregate_focus_from_beams, walkoff_parameters
    from .boyd_kleinman import boyd_kleinman
    from .crystals import phase_mismatch
    from .fanout import FanoutError, WorkerDiedError
    from .io import open_dataarray, open_dataset, to_netcdf
    from .spectrum import joint_spectrum, schmidt_decomposition
    from .walkoff import focusing

#: Public names imported from their module on first use: name -> module.
_LAZY = {
    "aggregate_focus": "beams",
    "aggregate_focus_from_beams": "beams",
    "boyd_kleinman": "boyd_kleinman",
    "focusing": "walkoff",
    "joint_spectrum": "spectrum",
    "phase_mismatch": "crystals",
    "schmidt_decomposition": "spectrum",
    "walkoff_parameters": "beams",
    "FanoutError": "fanout",
    "WorkerDiedError": "fanout",
    "open_dataarray": "io",
    "open_dataset": "io",
    "to_netcdf": "io",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module when the name is first used (PEP 562)."""
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "aggregate_focus",
    "aggregate_focus_from_beams",
    "boyd_kleinman",
    "FanoutError",
    "focusing",
    "joint_spectrum",
    "phase_mismatch",
    "schmidt_decomposition",
    "walkoff_parameters",
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
