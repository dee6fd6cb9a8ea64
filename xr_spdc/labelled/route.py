"""The labelled pipeline: checked inputs -> one ``xr.apply_ufunc`` -> blocks -> a labelled result.

:func:`evaluate` is the one route for every labelled computation (the overlap, a user's
integrand, any new method family): numpy and dask inputs go through the same
``xr.apply_ufunc`` call and the same array-level function, so checks, errors, warnings
and values agree with and without ``chunks=``.  Eagerly, the array-level function hands the
whole (broadcast, flattened) arrays to :func:`xr_spdc.engine.fanout.run_blocks`, which runs them
in this process or on a pool; lazily, it maps the same function over dask's chunks
(dask's scheduler decides where they run) and each chunk runs in its task.  Options that
only mean something eagerly (``workers``, ``progress``, ``timeout``) travel in its kwargs.

:func:`overlap` and :func:`integrate` are the public functions behind ``ds.spdc.overlap``
and ``ds.spdc.integrate``.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np
import xarray as xr

from .._version import __version__
from ..engine import fanout
from ..engine.methods import METHODS, Method
from ..numerics import overlap as overlap_kernel
from ..numerics.quadrature import EPSABS, EPSREL, LIMIT, STATUS_MEANINGS
from . import inputs
from . import names as labels

Arg = xr.DataArray | float


def evaluate(
    spec: Method,
    args: Mapping[str, Arg],
    *,
    name: str,
    options: Mapping[str, Any] | None = None,
    workers: int | Executor | None = None,
    progress: bool | None = None,
    timeout: float | None = None,
    chunks: int | str | Mapping[str, int] | None = None,
    attrs: Mapping[str, Any] | None = None,
    all_outputs: bool = False,
) -> Any:
    """Evaluate a method's block function over checked, labelled inputs.

    Parameters
    ----------
    spec : xr_spdc.engine.methods.Method
        The block function, its named outputs, block size and cost per point.
    args : mapping of str to DataArray or float
        One entry per argument of ``spec.block``, in its order: the role (e.g. "phi") to a
        DataArray checked with :func:`xr_spdc.labelled.inputs.check_real` (it becomes a coordinate
        of the result) or a number (it adds no coordinate).
    name : str
        The result's name.
    options : mapping, optional
        Keyword options for ``spec.block`` (e.g. QUADPACK's tolerances).
    workers, progress, timeout, chunks
        As for :func:`overlap`.
    attrs : mapping, optional
        The result's attrs (diagnostics are added to them).
    all_outputs : bool, default False
        True: return every output of ``spec`` (a tuple of DataArrays, each named by its
        output name and labelled like the first) instead of the first alone.

    Returns
    -------
    xarray.DataArray
        The first output, over the broadcast dims of the DataArray arguments, each of which
        is a labelled coordinate; ``attrs`` plus ``xr_spdc_inputs`` (which coordinate played
        which role).  With outputs "abserr" and "status": ``quad_max_abserr`` and
        ``quad_failed_points`` in attrs and one IntegrationWarning when points fell short
        (for a lazy result, warned per chunk as it is computed, and not in attrs).

    Raises
    ------
    ValueError
        Inputs that do not align, too many points for memory, workers with dask input.
    xr_spdc.FanoutError
        A point failed: named, with the worker's traceback; eagerly, ``.partial`` holds the
        finished blocks as DataArrays labelled like the result.
    """
    options = dict(options or {})
    named = inputs.align({role: a for role, a in args.items() if isinstance(a, xr.DataArray)})
    # chunks= and deferred value checks change only what the blocks see, not the coordinates.
    given = {role: inputs.without_deferred_check(da) for role, da in named.items()}
    if chunks is not None:
        named = inputs.chunk(named, chunks)
    named = {role: inputs.apply_deferred_check(da, args[role])  # type: ignore[arg-type]
             for role, da in named.items()}
    values = [named.get(role, a) for role, a in args.items()]
    dims = list(dict.fromkeys(d for da in named.values() for d in da.dims))
    sizes = {d: n for da in named.values() for d, n in da.sizes.items()}
    lazy = any(da.chunks is not None for da in named.values())
    if lazy:
        inputs.require_dask()
        if workers is not None:
            raise ValueError(
                f"workers={workers!r} cannot be used with dask-backed inputs: dask's scheduler "
                "runs the blocks (threads, processes or a dask.distributed cluster); drop "
                "workers=, or .compute() the inputs first for a process pool")
    else:
        inputs.check_eager_size(sizes)
        workers = fanout.resolve_workers(workers, int(np.prod(list(sizes.values()), dtype=int)),
                                         spec.seconds_per_point)
    # Each dim's coordinate values, for naming a failing point's position.
    coords = {d: _coord_values(given, d) for d in dims}
    kwargs = {"spec": spec, "options": options, "roles": tuple(args), "workers": workers,
              "progress": progress, "timeout": timeout, "dims": tuple(dims), "coords": coords}
    try:
        outputs = xr.apply_ufunc(_evaluate_array, *values, kwargs=kwargs, dask="allowed",
                                 output_core_dims=[()] * len(spec.outputs),
                                 keep_attrs="override")  # the coordinates' attrs
    except fanout.FanoutError as exc:
        if exc.partial is not None:  # keep the finished blocks, labelled like the result
            template = xr.broadcast(*given.values())[0] if given else xr.DataArray(0.0)
            exc.partial = tuple(_labelled(template.copy(data=p), given, name)
                                for p in exc.partial)
        raise
    if len(spec.outputs) == 1:
        outputs = (outputs,)
    found = dict(zip((n for n, _ in spec.outputs), outputs, strict=True))
    result = _labelled(outputs[0], given, name)
    result.attrs = {**(attrs or {}), labels.INPUTS_ATTR: labels.format_input_names(
        {role: str(da.name) for role, da in given.items()})}
    if "status" in found and not lazy:
        result.attrs["quad_max_abserr"] = float(found["abserr"].max())
        result.attrs["quad_failed_points"] = int(np.count_nonzero(found["status"].values))
    if all_outputs:
        return (result, *(_labelled(out, given, key).assign_attrs(result.attrs)
                          for key, out in list(found.items())[1:]))
    return result


def _coord_values(named: Mapping[str, xr.DataArray], dim: Hashable) -> np.ndarray | None:
    for da in named.values():
        if dim in da.coords:
            return np.asarray(da.coords[dim].values)
    return None


def _labelled(values: xr.DataArray, named: Mapping[str, xr.DataArray], name: str
              ) -> xr.DataArray:
    """``values`` named ``name``, with each input variable as a labelled coordinate."""
    result = values.rename(name)
    result.attrs = {}
    for da in named.values():
        if da.name not in result.coords:
            result = result.assign_coords({da.name: da.variable})
    return labels.label_inputs(result, {role: str(da.name) for role, da in named.items()})


def _evaluate_array(*arrays: Any, spec: Method, options: Mapping[str, Any],
                    roles: tuple[str, ...], workers: int | Executor | None,
                    progress: bool | None, timeout: float | None, dims: tuple[Hashable, ...],
                    coords: Mapping[Hashable, np.ndarray | None]) -> Any:
    """The array-level function ``xr.apply_ufunc`` calls: numpy arrays -> computed outputs;
    dask arrays -> the same computation mapped over their chunks."""
    if not any(hasattr(a, "dask") for a in arrays):
        outputs = _compute(arrays, spec, options, roles, workers, progress, timeout, dims,
                           coords)
    else:
        outputs = _map_chunks(arrays, spec, options, roles, dims, coords)
    return outputs if len(outputs) > 1 else outputs[0]


def _map_chunks(arrays: Sequence[Any], spec: Method, options: Mapping[str, Any],
                roles: tuple[str, ...], dims: tuple[Hashable, ...],
                coords: Mapping[Hashable, np.ndarray | None]) -> tuple[Any, ...]:
    """The computation of :func:`_compute`, mapped lazily over dask's chunks."""
    import dask.array as da

    blocks = da.broadcast_arrays(*(a if hasattr(a, "dask") else np.asarray(a, np.float64)
                                   for a in arrays))
    dtypes = [np.dtype(dt) for _, dt in spec.outputs]
    packed = np.result_type(np.float64, *dtypes)  # holds every output's values exactly
    ndim = blocks[0].ndim
    # map_blocks returns one array: several outputs travel stacked along a last axis.
    mapped = da.map_blocks(
        _compute_chunk, *blocks, dtype=packed, meta=np.empty((0,) * (ndim + 1), packed),
        new_axis=ndim, chunks=(*blocks[0].chunks, (len(dtypes),)),
        spec=spec, options=options, roles=roles, dims=dims, coords=coords)
    return tuple(mapped[..., k] if dt == packed else mapped[..., k].real.astype(dt)
                 for k, dt in enumerate(dtypes))


def _compute_chunk(*blocks: np.ndarray, block_info: Any, spec: Method,
                   options: Mapping[str, Any], roles: tuple[str, ...],
                   dims: tuple[Hashable, ...], coords: Mapping[Hashable, np.ndarray | None]
                   ) -> np.ndarray:
    """One dask chunk: computed in its task, located in the whole array for messages."""
    where = block_info[0]
    outputs = _compute(blocks, spec, options, roles, 1, False, None, dims, coords,
                       location=([start for start, _ in where["array-location"]],
                                 tuple(where["shape"])))
    return np.stack(outputs, axis=-1)


def _compute(arrays: Sequence[Any], spec: Method, options: Mapping[str, Any],
             roles: tuple[str, ...], workers: int | Executor | None, progress: bool | None,
             timeout: float | None, dims: tuple[Hashable, ...],
             coords: Mapping[Hashable, np.ndarray | None],
             location: tuple[list[int], tuple[int, ...]] | None = None
             ) -> tuple[np.ndarray, ...]:
    values = [np.asarray(a, np.float64) for a in arrays]
    broadcast = np.broadcast_arrays(*values)
    shape = broadcast[0].shape
    # A constant (μ = 0 by default) stays one value: broadcast, it would cost 8 bytes a
    # point of memory here and of transfer to the pool (1 GB at the eager limit).
    flat = [v.reshape(1) if v.size == 1 else np.ascontiguousarray(b).ravel()
            for v, b in zip(values, broadcast, strict=True)]
    starts, whole = location or ([0] * len(shape), shape)

    def locate(i: int) -> tuple[int, dict[str, Any]]:
        at = [s + j for s, j in zip(starts, np.unravel_index(i, shape), strict=True)]
        index = int(np.ravel_multi_index(at, whole)) if at else 0
        return index, {str(d): (c[j].item() if c is not None else int(j))
                       for d, c, j in ((d, coords[d], j) for d, j in zip(dims, at,
                                                                         strict=True))}

    try:
        outputs = fanout.run_blocks(
            spec.block, flat, names=roles, out_dtypes=[dt for _, dt in spec.outputs],
            kwargs=options, workers=workers or 1, block_size=spec.block_size,
            progress=progress, timeout=timeout, locate=locate, isolate=spec.isolate)
    except fanout.FanoutError as exc:
        exc.partial = tuple(p.reshape(shape) for p in exc.partial or ())
        raise
    names = [n for n, _ in spec.outputs]
    if "status" in names:
        # Here for eager and lazy alike (a lazy result's attrs were written before any
        # value existed): each dask chunk warns as it is computed.
        _warn_quad_failures(outputs[names.index("abserr")], outputs[names.index("status")],
                            dict(zip(roles, np.broadcast_arrays(*flat), strict=True)))
    return tuple(out.reshape(shape) for out in outputs)


def _warn_quad_failures(abserr: np.ndarray, status: np.ndarray,
                        points: Mapping[str, np.ndarray]) -> None:
    """One IntegrationWarning naming the worst points, if any fell short of the tolerance."""
    from scipy.integrate import IntegrationWarning

    failed = np.flatnonzero(status)
    if failed.size:
        worst = failed[np.argsort(abserr[failed])[::-1]]
        described = dict.fromkeys(  # repeated points (e.g. an extra dim) are shown once
            fanout.format_point({role: float(v[i]) for role, v in points.items()})
            + f" (abserr {abserr[i]:.2g}: {STATUS_MEANINGS.get(int(status[i]), status[i])})"
            for i in worst)
        shown = "; ".join(list(described)[:inputs.SHOWN])
        warnings.warn(
            f"quad did not reach epsabs/epsrel at {failed.size} of {status.size} points; "
            f"worst: {shown}. Raise limit= or use method='auto'",
            IntegrationWarning, stacklevel=2)


def overlap(
    ds: xr.Dataset | None = None,
    phi: str | xr.DataArray | float = "phi",
    xi: str | xr.DataArray | float = "xi",
    mu: str | xr.DataArray | float | None = "mu",
    *,
    method: str = "auto",
    workers: int | Executor | None = None,
    epsabs: float = EPSABS,
    epsrel: float = EPSREL,
    limit: int = LIMIT,
    progress: bool | None = None,
    timeout: float | None = None,
    chunks: int | str | dict[str, int] | None = None,
    start_method: None = None,
) -> xr.DataArray:
    """The SPDC spatial-mode overlap O(φ, ξ, μ) over labelled inputs.

    .. math:: O(\\phi, \\xi, \\mu) = \\sqrt{\\xi}\\int_{-1-\\mu}^{1-\\mu}
              \\frac{e^{i\\phi l/2}}{1 - i\\xi l}\\,dl

    (Bennink, Phys. Rev. A 81, 053805 (2010), Eq. 27, with l = 2z/L.)  ``|O|²/4`` is Boyd
    and Kleinman's focusing function h with σ = −φ/(2ξ).

    Parameters
    ----------
    ds : xarray.Dataset, optional
        Holds the inputs as coordinates or data variables.
    phi : str, DataArray or float, default "phi"
        Phase mismatch Φ = Δk·L in radians: a variable name in ``ds``, a DataArray or a number.
    xi : str, DataArray or float, default "xi"
        Aggregate focus ξ > 0 (dimensionless), likewise.
    mu : str, DataArray, float or None, default "mu"
        Focal displacement μ, dimensionless, in units of half the crystal length: with z
        measured from the focus along the beams (l = 2z/L), the crystal spans
        l = −1−μ … 1−μ, so its centre sits at z = −μL/2 and the focus μL/2 beyond it
        (μ = 0.5: by L/4; μ = 1: on the exit face; |O| is even in μ).  The
        default uses the Dataset's variable "mu" if it has one, else 0 (the focus in the
        centre); ``mu=None`` ignores such a variable on purpose (μ = 0).  The result
        always records μ, also when 0 (a scalar coordinate).
    method : {"auto", "quad"}
        "auto": the fast exact vectorised kernel (:func:`xr_spdc.numerics.overlap.overlap`, error
        ≤ 1e-13 of the envelope); "quad": scipy's adaptive QUADPACK per point, the
        reference (``epsabs``, ``epsrel``, ``limit`` apply).
    workers : int, concurrent.futures.Executor or None
        1: compute in this process.  N > 1: on a pool of N worker processes (loky's
        reusable executor: it stays up between calls and its workers exit after 300 idle
        seconds; N above the CPUs this process may use is capped, with a warning).
        None: every CPU once the job is large enough to pay for starting a pool (or one is
        up already), else 1.  An Executor (your own loky or ProcessPoolExecutor, a
        dask.distributed client's ``get_executor()``) is used as given, never shut down.
        Not allowed with dask-backed inputs: dask's scheduler decides there.
    epsabs, epsrel, limit
        QUADPACK tolerances and subdivision limit for ``method="quad"``.
    progress : bool, optional
        A tqdm progress bar; None shows one on a terminal or in a notebook for runs that
        last over a second.  Eager runs only: for dask, use dask's own progress reporting
        (``dask.diagnostics.ProgressBar`` or the distributed dashboard).
    timeout : float, optional
        Seconds one block (``method``'s block size in points) may compute; a block that
        takes longer stops the run with a FanoutError naming it, and the pool's workers
        are killed.  Blocks then always run in worker processes (one with ``workers=1``).
    chunks : int, "auto" or dict, optional
        Evaluate lazily with dask, the inputs cut into these chunks (as for
        ``DataArray.chunk``, e.g. ``{"phi": 100}``).  Needs the ``dask`` extra.  Inputs that
        are dask-backed already are evaluated lazily without it.  A lazy ``method="quad"``
        result cannot carry QUADPACK's diagnostics in attrs: it warns as chunks compute.
    start_method : None
        Removed: pools use loky's own start method, which needs no ``__main__`` guard and
        never deadlocks; any other value raises a TypeError saying so.

    Returns
    -------
    xarray.DataArray
        Named "overlap", complex128, with the dims and coords of the broadcast inputs (the
        input variables, and μ, become coordinates) and netCDF-ready attrs, among them
        ``xr_spdc_inputs`` naming the coordinates that played φ, ξ and μ.  Lazy and
        dask-backed when any input is.

    Raises
    ------
    ValueError, TypeError
        Bad input, naming the argument and showing offending values (for dask-backed
        inputs, as their chunks are computed).
    xr_spdc.FanoutError
        An evaluation failed: names the point, carries the worker's traceback, and keeps the
        completed values in ``.partial``.

    Examples
    --------
    >>> import numpy as np, xarray as xr, xr_spdc
    >>> ds = xr.Dataset(coords={"phi": [-np.pi, 0.0], "xi": [1.0, 2.84]})
    >>> o = ds.spdc.overlap(workers=1)
    >>> o.dims, o.dtype, float(o.mu)
    (('phi', 'xi'), dtype('complex128'), 0.0)
    >>> round(float(o.sel(phi=0.0, xi=1.0).real), 12)  # pi/2
    1.570796326795
    """
    workers, tolerances = inputs.check_common(ds, workers, progress, epsabs, epsrel, limit,
                                              timeout, start_method)
    spec = METHODS["overlap"][inputs.check_choice(method, "method", METHODS["overlap"])]
    options = {name: tolerances[name] for name in spec.options}
    named = {"phi": inputs.find(ds, phi, "phi", default="phi"),
             "xi": inputs.find(ds, xi, "xi", default="xi"),
             "mu": inputs.find_optional(ds, mu, "mu")}
    inputs.check_distinct(named)
    args = {role: inputs.check_real(da, role, positive=role == "xi",
                                    bound=(overlap_kernel.LIMIT, overlap_kernel.DOMAIN))
            for role, da in named.items()}
    return evaluate(spec, args, name="overlap", options=options, workers=workers,
                    progress=progress, timeout=timeout, chunks=chunks,
                    attrs=labels.overlap_attrs(method, options))


def integrate(
    ds: xr.Dataset | None,
    integrand: Callable[..., complex],
    *,
    lower: str | xr.DataArray | float = -1.0,
    upper: str | xr.DataArray | float = 1.0,
    params: Mapping[str, str | xr.DataArray | float] | None = None,
    points: Sequence[float] | None = None,
    name: str = "integral",
    workers: int | Executor | None = None,
    epsabs: float = EPSABS,
    epsrel: float = EPSREL,
    limit: int = LIMIT,
    progress: bool | None = None,
    timeout: float | None = None,
    chunks: int | str | dict[str, int] | None = None,
    start_method: None = None,
) -> xr.DataArray:
    """Integrate your own integrand over a labelled parameter grid, point by point.

    The general form of what the seed blog post does by hand: for every point of the
    broadcast parameters, ``∫ integrand(l, **params) dl`` from ``lower`` to ``upper`` by
    scipy's QUADPACK (real and imaginary parts separately, so complex values are kept),
    run like :func:`overlap` (in-process, on a process pool, or with dask).

    Parameters
    ----------
    ds : xarray.Dataset or None
        Where parameter and limit names are looked up.
    integrand : callable
        A Python function ``integrand(l, p1, p2, ...) -> complex or float``: the
        integration variable first, then named parameters.  Any function works with any
        ``workers`` (lambdas, functions defined in a notebook cell or a script: they are
        sent to the workers with cloudpickle).
    lower, upper : str, DataArray or float
        Integration limits, constant or per point (infinite limits are allowed).
    params : mapping, optional
        ``{keyword: variable name, DataArray or number}`` passed to ``integrand``.  By
        default each parameter of ``integrand`` after the first is looked up in ``ds`` by
        its own name.
    points : sequence of float, optional
        Breakpoints (e.g. where the integrand peaks or is not smooth), used where they lie
        strictly inside a point's limits (QUADPACK's ``points=``).
    name : str
        Name of the result.
    workers, epsabs, epsrel, limit, progress, timeout, chunks, start_method
        As for :func:`overlap`.

    Returns
    -------
    xarray.DataArray
        complex128 over the broadcast dims of the parameters and limits, with the parameters
        as coordinates; attrs name the integrand, limits, tolerances and QUADPACK's
        diagnostics (``quad_max_abserr``, ``quad_failed_points``; for a lazy result, a
        warning as chunks compute instead).

    Raises
    ------
    TypeError
        ``integrand`` is not a function of the integration variable and named parameters.
    ValueError
        A parameter is missing or not finite, as for :func:`overlap`.
    xr_spdc.FanoutError
        ``integrand`` raised at some point: the message names it.

    Examples
    --------
    >>> import numpy as np, xarray as xr, xr_spdc
    >>> ds = xr.Dataset(coords={"k": [1.0, 2.0]})
    >>> out = ds.spdc.integrate(lambda l, k: np.exp(1j * k * l), workers=1)  # 2 sin(k)/k
    >>> bool(np.allclose(out.values, 2 * np.sin(ds.k.values) / ds.k.values, rtol=1e-12))
    True
    """
    workers, tolerances = inputs.check_common(ds, workers, progress, epsabs, epsrel, limit,
                                              timeout, start_method)
    params = _integrand_parameters(integrand, params, lower, upper)
    found = {key: inputs.check_real(inputs.find(ds, value, key, default=key,
                                                override=f"params={{{key!r}: '<name>'}}"), key)
             for key, value in params.items()}
    inputs.check_distinct(found)
    args: dict[str, Arg] = dict(found)
    # Limits may be infinite (QUADPACK maps them); a constant one adds no coordinate.
    for role, value in (("lower", lower), ("upper", upper)):
        if role in found:
            raise ValueError(f"the integrand's parameter {role!r} clashes with the {role} "
                             "limit; rename it")
        da = inputs.check_real(inputs.find(ds, value, role), role, infinite=True)
        args[role] = da if isinstance(value, (str, xr.DataArray)) else float(da)
    breakpoints = inputs.check_breakpoints(points)
    options: dict[str, Any] = {**tolerances, "integrand": integrand, "names": tuple(found)}
    if breakpoints:
        options["points"] = breakpoints
    description: dict[str, Any] = {
        "long_name": f"integral of {_qualified_name(integrand)}",
        "integrand": _qualified_name(integrand), "method": "quad", **tolerances,
        "xr_spdc_version": __version__}
    if breakpoints:
        description["points"] = list(breakpoints)
    for role in ("lower", "upper"):
        if not isinstance(args[role], xr.DataArray):
            description[role] = args[role]
    return evaluate(METHODS["integrand"]["quad"], args, name=name, options=options, workers=workers,
                    progress=progress, timeout=timeout, chunks=chunks, attrs=description)


_INTEGRAND_SHAPE = ("the integrand must be a Python function of the integration variable "
                    "and named parameters, f(l, a, b) (its parameters after l are looked "
                    "up in the Dataset by name, or mapped with params={'a': 'name', ...})")


def _integrand_parameters(integrand: Any, params: Any, lower: Any, upper: Any
                          ) -> Mapping[str, Any]:
    """The parameters to look up: ``params``, or the integrand's own after the first."""
    if not callable(integrand):
        raise TypeError(f"{_INTEGRAND_SHAPE}; got the non-callable {integrand!r:.60}")
    if params is not None and not isinstance(params, Mapping):
        raise TypeError(f"params must be a mapping of keyword: variable name, DataArray or "
                        f"number, not {type(params).__name__}")
    try:
        if isinstance(integrand, np.ufunc):  # its parameters are arrays, not named ones
            raise TypeError
        signature = inspect.signature(integrand)
    except (TypeError, ValueError):
        raise TypeError(f"{_INTEGRAND_SHAPE}; the parameters of {integrand!r:.60} cannot be "
                        "read: wrap it, e.g. lambda l, k: np.cos(k * l)") from None
    listed = list(signature.parameters.values())
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                  inspect.Parameter.VAR_POSITIONAL)
    if not listed or listed[0].kind not in positional:
        raise TypeError(f"{_INTEGRAND_SHAPE}; {_qualified_name(integrand)}{signature} takes "
                        "no integration variable")
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    own = {p.name: p.name for p in listed[1:]
           if p.kind in kinds and p.default is inspect.Parameter.empty}
    if params is None:
        if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in listed):
            raise TypeError(f"{_INTEGRAND_SHAPE}; {_qualified_name(integrand)}{signature} "
                            "takes *args, which cannot be matched to variables by name: "
                            "name its parameters, or pass params= for a **kwargs integrand")
        params = own
    else:
        # params= maps some parameters; the others are still found by their own names.
        params = {**own, **params}
        try:
            signature.bind(0.0, **dict.fromkeys(params, 0.0))
        except TypeError as exc:
            raise TypeError(f"{_INTEGRAND_SHAPE}; {_qualified_name(integrand)}{signature} "
                            f"cannot be called as f(l, {', '.join(map(str, params))}): "
                            f"{exc}") from None
    if not params and not any(isinstance(b, (str, xr.DataArray)) for b in (lower, upper)):
        raise TypeError(f"{_INTEGRAND_SHAPE}; {_qualified_name(integrand)}{signature} has no "
                        "parameters and the limits are numbers, so there is no grid to "
                        "integrate over (for one integral, call scipy.integrate.quad)")
    return params


def _qualified_name(func: Any) -> str:
    return f"{getattr(func, '__module__', None) or ''}.{getattr(func, '__qualname__', repr(func))}"
