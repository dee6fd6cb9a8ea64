"""xr_spdc: the SPDC Gaussian-beam overlap over labelled xarray grids, exact and parallel.

Importing the package registers the ``.spdc`` accessor on ``xarray.Dataset`` and
``xarray.DataArray``::

    import numpy as np, xarray as xr, xr_spdc
    ds = xr.Dataset(coords={"phi": np.linspace(-7, 3, 100) * np.pi,
                            "xi": np.logspace(-1.5, 2.5, 100)})
    o = ds.spdc.overlap()

The public surface: the functions below at the top level, and two documented namespaces,
:mod:`xr_spdc.crystals` (from the lab to φ: media, phase matching, poling, tuning) and
:mod:`xr_spdc.spectrum` (joint spectra and their Schmidt decomposition).  The layers under
them (``numerics``, ``engine``, ``labelled``, ``physics``) are the implementation.

Only the accessor and the labelled route are imported up front; the other public names load
their module on first use (PEP 562), so ``import xr_spdc`` costs little more than
``import xarray`` (``benchmarks/bench_import.py`` measures it).
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

from . import _moved
from ._version import __version__
from .accessor import SpdcDataArrayAccessor, SpdcDatasetAccessor
from .labelled.route import integrate, overlap

if TYPE_CHECKING:  # the names below, for type checkers and editors
    from . import crystals, spectrum
    from .engine.fanout import FanoutError, WorkerDiedError
    from .io import open_dataarray, open_dataset, to_netcdf
    from .labelled.coupling import fiber_coupling
    from .labelled.focusing import focusing
    from .physics.beams import (
        aggregate_focus,
        aggregate_focus_from_beams,
        beam_focus,
        walkoff_parameters,
        wave_number,
    )
    from .physics.boyd_kleinman import boyd_kleinman
    from .physics.optimum import find_optimum, optimum_per_xi, walkoff_optimum
    from .physics.rates import heralding_tradeoff, optimal_waists
    from .plot import intensity, plot_classic, plot_walkoff_optimum
    from .zarr_io import StoreInUseError, ZarrWrite, open_zarr, to_zarr

#: Public names imported from their module on first use: name -> module.
_LAZY = {
    "crystals": ".crystals",
    "spectrum": ".spectrum",
    "FanoutError": ".engine.fanout",
    "WorkerDiedError": ".engine.fanout",
    "open_dataarray": ".io",
    "open_dataset": ".io",
    "to_netcdf": ".io",
    "fiber_coupling": ".labelled.coupling",
    "focusing": ".labelled.focusing",
    "aggregate_focus": ".physics.beams",
    "aggregate_focus_from_beams": ".physics.beams",
    "beam_focus": ".physics.beams",
    "walkoff_parameters": ".physics.beams",
    "wave_number": ".physics.beams",
    "boyd_kleinman": ".physics.boyd_kleinman",
    "find_optimum": ".physics.optimum",
    "optimum_per_xi": ".physics.optimum",
    "walkoff_optimum": ".physics.optimum",
    "heralding_tradeoff": ".physics.rates",
    "optimal_waists": ".physics.rates",
    "intensity": ".plot",
    "plot_classic": ".plot",
    "plot_walkoff_optimum": ".plot",
    "ZarrWrite": ".zarr_io",
    "StoreInUseError": ".zarr_io",
    "open_zarr": ".zarr_io",
    "to_zarr": ".zarr_io",
}

#: The public namespaces: the module itself is the name.
_NAMESPACES = ("crystals", "spectrum")

#: Names that moved into a namespace: kept here for one release, with a DeprecationWarning.
_DEPRECATED = {
    "phase_mismatch": "crystals",
    "joint_spectrum": "spectrum",
    "schmidt_decomposition": "spectrum",
}

_moved.install()


def __getattr__(name: str) -> Any:
    """Import a public name's module when the name is first used (PEP 562)."""
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name], __name__)
        value = module if name in _NAMESPACES else getattr(module, name)
        globals()[name] = value  # later look-ups skip this function
        return value
    if name in _DEPRECATED:
        namespace = _DEPRECATED[name]
        warnings.warn(f"xr_spdc.{name} moved to xr_spdc.{namespace}.{name}; the top-level "
                      "name will be removed in the next release", DeprecationWarning,
                      stacklevel=2)
        return getattr(importlib.import_module(f".{namespace}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "FanoutError",
    "StoreInUseError",
    "SpdcDataArrayAccessor",
    "SpdcDatasetAccessor",
    "WorkerDiedError",
    "ZarrWrite",
    "__version__",
    "aggregate_focus",
    "aggregate_focus_from_beams",
    "beam_focus",
    "boyd_kleinman",
    "crystals",
    "fiber_coupling",
    "find_optimum",
    "focusing",
    "heralding_tradeoff",
    "integrate",
    "intensity",
    "open_dataarray",
    "open_dataset",
    "open_zarr",
    "optimal_waists",
    "optimum_per_xi",
    "overlap",
    "plot_classic",
    "plot_walkoff_optimum",
    "spectrum",
    "to_netcdf",
    "to_zarr",
    "walkoff_optimum",
    "walkoff_parameters",
    "wave_number",
]
