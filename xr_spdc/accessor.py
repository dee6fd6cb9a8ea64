"""The labelled layer: find and check the inputs, broadcast them, fan the work out, label.

``ds.spdc.overlap(...)`` and ``xr_spdc.overlap(ds, ...)`` are the same function; the
accessors hold no state (they are cached on, and pickled with, their objects).
"""

from __future__ import annotations

import inspect
import multiprocessing
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import xarray as xr
from scipy.integrate import IntegrationWarning

from . import fanout, inputs, labels
from ._version import __version__
from .boyd_kleinman import boyd_kleinman
from .methods import INTEGRAND as METHODS_INTEGRAND
from .methods import METHODS, Method
from .quad import EPSABS, EPSREL, LIMIT

# A call's pool takes ~0.05-0.1 s to start under forkserver (~1 s more for the first pool of
# a session, and per pool under spawn) while this process computes on, and costs ~0.01 s
# to create and shut down even when this process ends up doing everything: with
# workers=None, jobs estimated below this stay in this process (about 5e5 points of the
# exact kernel, 8e3 of quad).  benchmarks/bench_overlap.py measures where the pool starts
# to pay (between 2.5e5 and 5e5 points on 2 cores).
POOL_PAYOFF_SECONDS = 0.5


def _choose_workers(workers: int | None, n_points: int, seconds_per_point: float) -> int:
    if workers is not None:
        return workers
    # A daemonic process (a pool or dask.distributed worker) cannot start a pool: quietly
    # stay in-process there (an explicit workers=N still warns, in fanout.run_blocks).
    if (n_points * seconds_per_point < POOL_PAYOFF_SECONDS
            or multiprocessing.current_process().daemon):
        return 1
    return fanout.available_cpus()


def _quad_report(result: xr.DataArray, abserr: np.ndarray, status: np.ndarray,
                 points: dict[str, np.ndarray]) -> None:
    """Record QUADPACK's diagnostics in attrs, and warn once if any point fell short."""
    result.attrs["quad_max_abserr"] = float(np.max(abserr, initial=0.0))
    failed = np.flatnonzero(status)
    result.attrs["quad_failed_points"] = int(failed.size)
    if failed.size:
        worst = failed[np.argsort(abserr[failed])[::-1]]
        described = dict.fromkeys(  # repeated points (e.g. an extra dim) are shown once
            ", ".join(f"{name}={values[i]:.6g}" for name, values in points.items())
            + f" (abserr {abserr[i]:.2g}, QUADPACK ier={status[i]})" for i in worst)
        shown = "; ".join(list(described)[:inputs.SHOWN])
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
        How many processes compute. 1: this one; N > 1: this one and a pool of N - 1 started
        for the call; None: all CPUs this process may use, once the job is large enough to
        pay for the pool's start-up.
        Not allowed with dask-backed inputs: dask's scheduler decides there.
    epsabs, epsrel, limit
        QUADPACK tolerances and subdivision limit for ``method="quad"``.
    progress : bool, optional
        A tqdm progress bar; None shows one on a terminal or in a notebook for runs that
        last over a second.  Eager runs only: for dask, use dask's own progress reporting
        (``dask.diagnostics.ProgressBar`` or the distributed dashboard).
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
    workers, start_method, tolerances = inputs.check_common(
        ds, workers, start_method, progress, epsabs, epsrel, limit)
    spec = METHODS[inputs.check_choice(method, "method", METHODS)]
    options = {name: tolerances[name] for name in spec.options}

    named = {"phi": inputs.find(ds, phi, "phi", default="phi"),
             "xi": inputs.find(ds, xi, "xi", default="xi")}
    if mu is not None:
        named["mu"] = inputs.find(ds, mu, "mu")
    inputs.check_distinct(named)
    named = {role: inputs.check_real(da, role, positive=role == "xi")
             for role, da in named.items()}
    # The kernels always take mu; the centred default adds no coordinate to the result.
    args = {"phi": named["phi"], "xi": named["xi"], "mu": named.get("mu", 0.0)}
    result = _evaluate(args, spec, options, name="overlap", workers=workers,
                       progress=progress, start_method=start_method, chunks=chunks)
    result.attrs = {**labels.overlap_attrs(method, options), **result.attrs}
    return result


def integrate(
    ds: xr.Dataset | None,
    integrand: Callable[..., complex],
    *,
    lower: str | xr.DataArray | float = -1.0,
    upper: str | xr.DataArray | float = 1.0,
    params: Mapping[str, str | xr.DataArray | float] | None = None,
    name: str = "integral",
    workers: int | None = None,
    epsabs: float = EPSABS,
    epsrel: float = EPSREL,
    limit: int = LIMIT,
    progress: bool | None = None,
    start_method: str | None = None,
    chunks: int | str | dict[str, int] | None = None,
) -> xr.DataArray:
    """Integrate your own integrand over a labelled parameter grid, point by point.

    The general form of what the seed blog post does by hand: for every point of the
    broadcast parameters, ``∫ integrand(l, **params) dl`` from ``lower`` to ``upper`` by
    scipy's QUADPACK (real and imaginary parts separately, so complex values are kept),
    fanned out like :func:`overlap` (in-process, a process pool, or dask).

    Parameters
    ----------
    ds : xarray.Dataset or None
        Where parameter and limit names are looked up.
    integrand : callable
        ``integrand(l, **params) -> complex or float``.  For ``workers > 1`` it must pickle:
        define it with ``def`` at the top level of an importable module (a ``.py`` file, not
        a lambda, a closure or a function defined in a notebook cell under spawn or
        forkserver); a clear ``TypeError`` says so otherwise.  ``workers=1`` takes anything.
    lower, upper : str, DataArray or float
        Integration limits, constant or per point.
    params : mapping, optional
        ``{keyword: variable name, DataArray or number}`` passed to ``integrand``.  By
        default each keyword parameter of ``integrand`` after the first is looked up in
        ``ds`` by its own name.
    name : str
        Name of the result.
    workers, epsabs, epsrel, limit, progress, start_method, chunks
        As for :func:`overlap`.

    Returns
    -------
    xarray.DataArray
        complex128 over the broadcast dims of the parameters and limits, with the parameters
        as coordinates; attrs name the integrand, limits, tolerances and QUADPACK's
        diagnostics (``quad_max_abserr``, ``quad_failed_points``).

    Raises
    ------
    TypeError
        ``integrand`` is not callable, or cannot be pickled for ``workers > 1``.
    ValueError
        A parameter is missing or not finite, as for :func:`overlap`.
    xr_spdc.fanout.FanoutError
        ``integrand`` raised at some point: the message names it.

    Examples
    --------
    >>> import numpy as np, xarray as xr, xr_spdc
    >>> def plane_wave(l, k):
    ...     return np.exp(1j * k * l)
    >>> ds = xr.Dataset(coords={"k": [1.0, 2.0]})
    >>> out = ds.spdc.integrate(plane_wave, workers=1)  # 2 sin(k) / k
    >>> bool(np.allclose(out.values, 2 * np.sin(ds.k.values) / ds.k.values, rtol=1e-12))
    True
    """
    workers, start_method, tolerances = inputs.check_common(
        ds, workers, start_method, progress, epsabs, epsrel, limit)
    if not callable(integrand):
        raise TypeError(f"integrand must be callable, f(l, **params), not {integrand!r:.60}")
    spec = METHODS_INTEGRAND
    if params is None:
        params = {p: p for p in _keyword_parameters(integrand)}
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a mapping of keyword: variable name, DataArray or "
                        f"number, not {type(params).__name__}")
    found = {key: inputs.check_real(inputs.find(ds, value, key, default=key), key)
             for key, value in params.items()}
    inputs.check_distinct(found)
    args: dict[str, xr.DataArray | float] = dict(found)
    # Limits may be infinite (QUADPACK maps them); a constant one adds no coordinate.
    for role, value in (("lower", lower), ("upper", upper)):
        if role in found:
            raise ValueError(f"the integrand's parameter {role!r} clashes with the {role} "
                             "limit; rename it")
        da = inputs.check_real(inputs.find(ds, value, role), role, infinite=True)
        args[role] = da if isinstance(value, (str, xr.DataArray)) else float(da)
    options = {**tolerances, "integrand": integrand, "names": tuple(found)}
    result = _evaluate(args, spec, options, name=name, workers=workers, progress=progress,
                       start_method=start_method, chunks=chunks)
    description = {"long_name": f"integral of {_qualified_name(integrand)}",
                   "integrand": _qualified_name(integrand), "method": "quad",
                   **tolerances, "xr_spdc_version": __version__}
    for role in ("lower", "upper"):
        if not isinstance(args[role], xr.DataArray):
            description[role] = args[role]
    result.attrs = {**description, **result.attrs}
    return result


def _keyword_parameters(func: Callable[..., Any]) -> list[str]:
    """The names of ``func``'s parameters after the first (the integration variable)."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return []
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p.name for p in list(signature.parameters.values())[1:] if p.kind in kinds
            and p.default is inspect.Parameter.empty]


def _qualified_name(func: Callable[..., Any]) -> str:
    return f"{getattr(func, '__module__', None) or ''}.{getattr(func, '__qualname__', repr(func))}"


def _evaluate(args: dict[str, xr.DataArray | float], spec: Method, options: dict[str, Any], *,
              name: str, workers: int | None, progress: bool | None,
              start_method: str | None, chunks: Any) -> xr.DataArray:
    """Broadcast checked inputs, run ``spec.block`` over them (pool or dask), label the result.

    ``args`` maps each block argument, in the block function's order, to a DataArray or to
    a constant (which adds no coordinate).
    """
    named = {role: a for role, a in args.items() if isinstance(a, xr.DataArray)}
    broadcast = dict(zip(named, inputs.broadcast(named), strict=True))
    given = named  # as passed: chunks= cuts only what the kernel sees, not the coordinates
    if chunks is not None:
        named = inputs.chunk(named, chunks)
    arg_names = [str(a.name) if role in named else role for role, a in args.items()]

    if any(da.chunks is not None for da in named.values()):
        inputs.require_dask()
        if workers is not None:
            raise ValueError(
                f"workers={workers} cannot be used with dask-backed inputs: dask's scheduler "
                "runs the blocks (threads, processes or a dask.distributed cluster); drop "
                "workers=, or .compute() the inputs first for a process pool")
        lazy = fanout.map_dask(spec.block, [named.get(role, a) for role, a in args.items()],
                               names=arg_names, out_dtype=spec.outputs[0][1], kwargs=options)
        # apply_ufunc copies the first input's attrs: the caller sets the result's own.
        result = _with_inputs(lazy.rename(name), given)
        result.attrs = {}
        return result

    template = next(iter(broadcast.values()))
    inputs.check_eager_size(template)
    flat = [np.ascontiguousarray(broadcast[role].values).ravel() if role in named
            else np.full(template.size, a, dtype=np.float64) for role, a in args.items()]
    try:
        outputs = fanout.run_blocks(
            spec.block, flat, names=arg_names, out_dtypes=[dt for _, dt in spec.outputs],
            kwargs=options, block_size=spec.block_size, progress=progress,
            workers=_choose_workers(workers, template.size, spec.seconds_per_point),
            start_method=start_method)
    except fanout.FanoutError as exc:
        # Keep the finished blocks, labelled like the result would have been.
        exc.partial = tuple(_as_result(broadcast, out.reshape(template.shape), named, name)
                            for out in exc.partial or ())
        raise
    result = _as_result(broadcast, outputs[0].reshape(template.shape), named, name)
    if len(outputs) == 3:  # (value, abserr, status): QUADPACK's diagnostics
        _quad_report(result, outputs[1], outputs[2],
                     {arg_names[i]: flat[i] for i, role in enumerate(args) if role in named})
    return result


def _with_inputs(result: xr.DataArray, named: dict[str, xr.DataArray]) -> xr.DataArray:
    """Attach the input variables as (labelled) coordinates of ``result``."""
    for da in named.values():
        if da.name not in result.coords:
            result = result.assign_coords({da.name: da.variable})
    return labels.label_inputs(result, {role: str(da.name) for role, da in named.items()})


def _as_result(broadcast: dict[str, xr.DataArray], values: np.ndarray,
               named: dict[str, xr.DataArray], name: str) -> xr.DataArray:
    coords = xr.merge([da.coords.to_dataset() for da in broadcast.values()],
                      compat="override").coords
    dims = next(iter(broadcast.values())).dims
    return _with_inputs(xr.DataArray(values, dims=dims, coords=coords, name=name), named)


@xr.register_dataset_accessor("spdc")
class SpdcDatasetAccessor:
    """``ds.spdc``: SPDC computations over a Dataset's coordinates and variables."""

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    def overlap(self, phi: Any = "phi", xi: Any = "xi", mu: Any = None, **kwargs: Any
                ) -> xr.DataArray:
        """See :func:`xr_spdc.overlap`."""
        return overlap(self._ds, phi, xi, mu, **kwargs)

    def integrate(self, integrand: Callable[..., complex], **kwargs: Any) -> xr.DataArray:
        """See :func:`xr_spdc.integrate`."""
        return integrate(self._ds, integrand, **kwargs)


@xr.register_dataarray_accessor("spdc")
class SpdcDataArrayAccessor:
    """``o.spdc``: views of a computed overlap."""

    def __init__(self, da: xr.DataArray) -> None:
        self._da = da

    def boyd_kleinman(self, *, phi: str = "phi", xi: str = "xi") -> xr.DataArray:
        """See :func:`xr_spdc.boyd_kleinman.boyd_kleinman`: h = |O|²/4 with σ."""
        return boyd_kleinman(self._da, phi=phi, xi=xi)

    h = boyd_kleinman

    def intensity(self) -> xr.DataArray:
        """See :func:`xr_spdc.plot.intensity`: |O|², labelled."""
        from .plot import intensity

        return intensity(self._da)

    def plot(self, **kwargs: Any) -> Any:
        """See :func:`xr_spdc.plot.plot_classic`: Bennink's Fig. 1 of this overlap."""
        from .plot import plot_classic

        return plot_classic(self._da, **kwargs)

    def to_netcdf(self, path: Any, **kwargs: Any) -> Any:
        """See :func:`xr_spdc.io.to_netcdf`: complex-safe, CF attributes, atomic."""
        from .io import to_netcdf

        return to_netcdf(self._da, path, **kwargs)
