"""The labelled layer: find and check the inputs, broadcast them, fan the work out, label.

``ds.spdc.overlap(...)`` and ``xr_spdc.overlap(ds, ...)`` are the same function; the
accessors hold no state (they are cached on, and pickled with, their objects).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import xarray as xr
from scipy.integrate import IntegrationWarning

from . import fanout, inputs, labels
from .methods import METHODS
from .quad import EPSABS, EPSREL, LIMIT

# A process pool costs ~0.1-0.5 s to start (more under spawn); with workers=None smaller
# jobs stay in this process.  See benchmarks/bench_overlap.py for the measurement.
POOL_PAYOFF_SECONDS = 0.5


def _choose_workers(workers: int | None, n_points: int, seconds_per_point: float) -> int:
    if workers is not None:
        return workers
    if n_points * seconds_per_point < POOL_PAYOFF_SECONDS:
        return 1
    return fanout.available_cpus()


def _quad_report(result: xr.DataArray, abserr: np.ndarray, status: np.ndarray,
                 points: dict[str, np.ndarray]) -> None:
    """Record QUADPACK's diagnostics in attrs, and warn once if any point fell short."""
    result.attrs["quad_max_abserr"] = float(np.max(abserr, initial=0.0))
    failed = np.flatnonzero(status)
    result.attrs["quad_failed_points"] = int(failed.size)
    if failed.size:
        worst = failed[np.argsort(abserr[failed])[::-1][:inputs.SHOWN]]
        shown = "; ".join(
            ", ".join(f"{name}={values[i]:.6g}" for name, values in points.items())
            + f" (abserr {abserr[i]:.2g}, QUADPACK ier={status[i]})" for i in worst)
        warnings.warn(
            f"quad did not reach epsabs/epsrel at {failed.size} of {status.size} points; "
            f"worst: {shown}. Raise limit= or use method='auto'",
            IntegrationWarning, stacklevel=3)


def overlap(
    ds: xr.Dataset | None = None,
    phi: str | xr.DataArray | float = "phi",
    xi: str | xr.DataArray | float = "xi",
    mu: str | xr.DataArray | float | None = None,
    *,
    method: str = "auto",
    workers: int | None = None,
    epsabs: float = EPSABS,
    epsrel: float = EPSREL,
    limit: int = LIMIT,
    progress: bool | None = None,
    start_method: str | None = None,
    chunks: int | str | dict[str, int] | None = None,
) -> xr.DataArray:
    """The SPDC spatial-mode overlap O(φ, ξ, μ) over labelled inputs.

    .. math:: O(\\phi, \\xi, \\mu) = \\sqrt{\\xi}\\int_{-1-\\mu}^{1-\\mu}
              \\frac{e^{i\\phi l/2}}{1 - i\\xi l}\\,dl

    (Bennink, Phys. Rev. A 81, 053805 (2010), Eq. 27.)  ``|O|²/4`` is Boyd and Kleinman's
    focusing function h with σ = −φ/(2ξ).

    Parameters
    ----------
    ds : xarray.Dataset, optional
        Holds the inputs as coordinates or data variables.
    phi : str, DataArray or float, default "phi"
        Phase mismatch Φ = Δk·L in radians: a variable name in ``ds``, a DataArray or a number.
    xi : str, DataArray or float, default "xi"
        Aggregate focus ξ > 0 (dimensionless), likewise.
    mu : str, DataArray or float, optional
        Focal displacement μ (0, the default, puts the focus in the crystal's centre).
    method : {"auto", "quad"}
        "auto": the fast exact vectorised kernel (:func:`xr_spdc.kernels.overlap`, error
        ≤ 1e-13 of the envelope); "quad": scipy's adaptive QUADPACK per point, the
        reference (``epsabs``, ``epsrel``, ``limit`` apply).
    workers : int, optional
        1: in this process; N > 1: a pool of N processes for this call; None: all CPUs this
        process may use, once the job is large enough to pay for the pool's start-up.
        Not allowed with dask-backed inputs: dask's scheduler decides there.
    epsabs, epsrel, limit
        QUADPACK tolerances and subdivision limit for ``method="quad"``.
    progress : bool, optional
        A tqdm progress bar; None shows one on a terminal or in a notebook for runs that
        last over a second.
    start_method : {"fork", "forkserver", "spawn"}, optional
        How pool workers start (default: forkserver where available, else spawn).
    chunks : int, "auto" or dict, optional
        Evaluate lazily with dask, the inputs cut into these chunks (as for
        ``DataArray.chunk``, e.g. ``{"phi": 100}``).  Needs the ``dask`` extra.  Inputs that
        are dask-backed already are evaluated lazily without it.

    Returns
    -------
    xarray.DataArray
        Named "overlap", complex128, with the dims and coords of the broadcast inputs (the
        input variables become coordinates) and netCDF-ready attrs. Lazy and dask-backed when
        any input is.

    Raises
    ------
    ValueError, TypeError
        Bad input, naming the argument and showing offending values.
    xr_spdc.fanout.FanoutError
        An evaluation failed: names the point, carries the worker's traceback, and keeps the
        completed values in ``.partial``.

    Examples
    --------
    >>> import numpy as np, xarray as xr, xr_spdc
    >>> ds = xr.Dataset(coords={"phi": [-np.pi, 0.0], "xi": [1.0, 2.84]})
    >>> o = ds.spdc.overlap(workers=1)
    >>> o.dims, o.dtype
    (('phi', 'xi'), dtype('complex128'))
    >>> round(float(o.sel(phi=0.0, xi=1.0).real), 12)  # pi/2
    1.570796326795
    """
    if ds is not None and not isinstance(ds, xr.Dataset):
        raise TypeError(f"ds must be an xarray.Dataset (or None), not {type(ds).__name__}")
    spec = METHODS[inputs.check_choice(method, "method", METHODS)]
    workers = inputs.check_workers(workers)
    start_method = inputs.check_start_method(start_method)
    inputs.check_flag(progress, "progress")
    tolerances = {"epsabs": epsabs, "epsrel": epsrel, "limit": limit}
    options = {name: inputs.check_tolerance(tolerances[name], name, integer=name == "limit")
               for name in spec.options}

    named = {"phi": inputs.find(ds, phi, "phi", default="phi"),
             "xi": inputs.find(ds, xi, "xi", default="xi")}
    if mu is not None:
        named["mu"] = inputs.find(ds, mu, "mu")
    inputs.check_distinct(named)
    named = {role: inputs.check_real(da, role, positive=role == "xi")
             for role, da in named.items()}
    broadcast = inputs.broadcast(named)
    if chunks is not None:
        named = inputs.chunk(named, chunks)
    # The kernels always take mu; the centred default adds no coordinate to the result.
    arg_names = [str(da.name) for da in named.values()] + ["mu"] * (3 - len(named))

    if any(da.chunks is not None for da in named.values()):
        inputs.require_dask()
        if workers is not None:
            raise ValueError(
                f"workers={workers} cannot be used with dask-backed inputs: dask's scheduler "
                "runs the blocks (threads, processes or a dask.distributed cluster); drop "
                "workers=, or .compute() the inputs first for a process pool")
        lazy = fanout.map_dask(spec.block, [*named.values(), 0.0][:3], names=arg_names,
                               out_dtype=np.complex128, kwargs=options)
        # apply_ufunc copies the first input's attrs: the overlap's own are set below.
        result = _with_inputs(lazy.rename("overlap"), named)
        result.attrs = {}
    else:
        shape = broadcast[0].shape
        flat = [np.ascontiguousarray(da.values).ravel() for da in broadcast]
        flat += [np.zeros_like(flat[0])] * (3 - len(flat))
        try:
            outputs = fanout.run_blocks(
                spec.block, flat, names=arg_names, out_dtypes=[dt for _, dt in spec.outputs],
                kwargs=options, block_size=spec.block_size, progress=progress,
                workers=_choose_workers(workers, flat[0].size, spec.seconds_per_point),
                start_method=start_method)
        except fanout.FanoutError as exc:
            # Keep the finished blocks, labelled like the result would have been.
            exc.partial = tuple(_as_result(broadcast, out.reshape(shape), named)
                                for out in exc.partial or ())
            raise
        result = _as_result(broadcast, outputs[0].reshape(shape), named)
        if len(outputs) == 3:  # (value, abserr, status): QUADPACK's diagnostics
            _quad_report(result, outputs[1], outputs[2],
                         dict(zip(arg_names[:len(named)], flat[:len(named)], strict=True)))
    result.attrs = {**labels.overlap_attrs(method, options), **result.attrs}
    return result


def _with_inputs(result: xr.DataArray, named: dict[str, xr.DataArray]) -> xr.DataArray:
    """Attach the input variables as (labelled) coordinates of ``result``."""
    for da in named.values():
        if da.name not in result.coords:
            result = result.assign_coords({da.name: da.variable})
    return labels.label_inputs(result, {role: str(da.name) for role, da in named.items()})


def _as_result(broadcast: list[xr.DataArray], values: np.ndarray,
               named: dict[str, xr.DataArray]) -> xr.DataArray:
    coords = xr.merge([da.coords.to_dataset() for da in broadcast],
                      compat="override").coords
    result = xr.DataArray(values, dims=broadcast[0].dims, coords=coords, name="overlap")
    return _with_inputs(result, named)


@xr.register_dataset_accessor("spdc")
class SpdcDatasetAccessor:
    """``ds.spdc``: SPDC computations over a Dataset's coordinates and variables."""

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    def overlap(self, phi: Any = "phi", xi: Any = "xi", mu: Any = None, **kwargs: Any
                ) -> xr.DataArray:
        """See :func:`xr_spdc.overlap`."""
        return overlap(self._ds, phi, xi, mu, **kwargs)


@xr.register_dataarray_accessor("spdc")
class SpdcDataArrayAccessor:
    """``o.spdc``: views of a computed overlap."""

    def __init__(self, da: xr.DataArray) -> None:
        self._da = da
