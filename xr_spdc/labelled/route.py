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
import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np
import xarray as xr

from .._version import __version__
from ..engine import allocator, fanout, identity, snapshots
from ..engine.flattened import Flattened
from ..engine.methods import METHODS, Method
from ..numerics import overlap as overlap_kernel
from ..numerics.quadrature import EPSABS, EPSREL, LIMIT
from . import inputs, sweep
from . import names as labels

Arg = xr.DataArray | float


def evaluate(
    spec: Method,
    args: Mapping[str, Arg],
    *,
    name: str,
    options: Mapping[str, Any] | None = None,
    checks: Mapping[str, Mapping[str, Any]] | None = None,
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
        The block function, its named outputs, block size, cost per point, and what its
        diagnostics report (``spec.check``, ``spec.finish``).
    args : mapping of str to DataArray or float
        One entry per argument of ``spec.block``, in its order: the role (e.g. "phi") to a
        DataArray checked with :func:`xr_spdc.labelled.inputs.check_real` (it becomes a
        coordinate of the result) or a number (it adds no coordinate).
    name : str
        The result's name.
    options : mapping, optional
        Keyword options for ``spec.block`` (e.g. QUADPACK's tolerances).
    checks : mapping of str to mapping, optional
        The rules each role was checked with (``check_real``'s keywords): dask-backed
        inputs, which ``check_real`` cannot see, are checked with them as chunks compute.
    workers, progress, timeout, chunks
        As for :func:`overlap`.
    attrs : mapping, optional
        The result's attrs (its diagnostics are added to them).
    all_outputs : bool, default False
        True: return every output of ``spec`` (a tuple of DataArrays: the result, then each
        further output named by its output name and labelled like the result).

    Returns
    -------
    xarray.DataArray
        The result (``spec.finish`` of the outputs; by default the first), over the
        broadcast dims of the DataArray arguments, each of which is a labelled coordinate;
        ``attrs`` plus ``xr_spdc_inputs`` (which coordinate played which role) plus what
        ``spec.finish`` reports (QUADPACK's ``quad_max_abserr`` and ``quad_failed_points``).

    Raises
    ------
    ValueError
        Inputs that do not align, too many points for memory, workers with dask input.
    xr_spdc.FanoutError
        A point failed: named, with the worker's traceback; eagerly, ``.partial`` holds the
        finished blocks as DataArrays labelled like the result.
    """
    options = dict(options or {})
    # 1. align; the given inputs label the result, their (chunked, checked) data is computed.
    given = inputs.align({role: a for role, a in args.items() if isinstance(a, xr.DataArray)})
    data, plan = _data_path(given, chunks, checks or {}, spec.seconds_per_point)
    lazy = plan is not None or any(da.chunks is not None for da in data.values())
    # 2. where the blocks run: dask's scheduler, or this process / a pool.
    workers = _resolve_workers(workers, lazy, data, spec)
    dims = tuple(dict.fromkeys(d for da in given.values() for d in da.dims))
    kwargs = {"spec": spec, "options": options, "roles": tuple(args), "workers": workers,
              "progress": progress, "timeout": timeout, "dims": dims,
              "coords": {d: _coord_values(given, d) for d in dims}, "plan": plan}
    # 3. one apply_ufunc for numpy and dask alike.
    outputs = _apply([data.get(role, a) for role, a in args.items()], kwargs, given, name)
    # 4. the method's own result and diagnostics, labelled.
    value, reported = spec.finish(dict(zip((n for n, _ in spec.outputs), outputs,
                                           strict=True)), options, lazy)
    result = _labelled(value, given, name)
    result.attrs = {**(attrs or {}), labels.INPUTS_ATTR: labels.format_input_names(
        {role: str(da.name) for role, da in given.items()}), **reported}
    if all_outputs:
        return (result, *(_labelled(out, given, key).assign_attrs(result.attrs)
                          for (key, _), out in list(zip(spec.outputs, outputs,
                                                        strict=True))[1:]))
    return result


def _data_path(given: Mapping[str, xr.DataArray], chunks: Any,
               checks: Mapping[str, Mapping[str, Any]], seconds_per_point: float | None = None
               ) -> tuple[dict[str, xr.DataArray], dict[Hashable, tuple[int, ...]] | None]:
    """The inputs as computed, and the chunks asked for by dim (None: none asked).

    dask-backed inputs are rechunked as asked and, their values unseen by
    :func:`~.inputs.check_real`, checked as their chunks compute.  In-memory inputs stay in
    memory: each chunk's task takes its own part of them (:func:`~.sweep.map_outer`), so
    the chunks depend on no shared task and dask.distributed spreads them over all its
    workers.  The coordinates keep ``given``: a dask layer shared by a coordinate and the
    data it feeds is lost by dask.distributed ("lost dependencies")."""
    if chunks is None:
        data, plan = dict(given), None
    else:
        chunked = inputs.chunk(given, chunks, seconds_per_point)
        plan = {d: tuple(c) for da in chunked.values() for d, c in da.chunksizes.items()}
        data = {role: chunked[role] if da.chunks is not None else da
                for role, da in given.items()}
    for role, da in given.items():
        if da.chunks is not None:
            data[role] = inputs.check_chunks(data[role], role, **checks.get(role, {}))
    return data, plan


def _resolve_workers(workers: int | Executor | None, lazy: bool,
                     data: Mapping[str, xr.DataArray], spec: Method) -> int | Executor | None:
    """``workers`` for an eager run (the engine's policy); refused with dask input."""
    sizes = {d: n for da in data.values() for d, n in da.sizes.items()}
    if not lazy:
        inputs.check_eager_size(sizes)
        return fanout.resolve_workers(workers, int(np.prod(list(sizes.values()), dtype=int)),
                                      spec.seconds_per_point)
    inputs.require_dask()
    if workers is not None:
        raise ValueError(
            f"workers={workers!r} cannot be used with dask-backed inputs: dask's scheduler "
            "runs the blocks (threads, processes or a dask.distributed cluster); drop "
            "workers=, or .compute() the inputs first for a process pool")
    return None


def _apply(values: list[Any], kwargs: dict[str, Any], given: Mapping[str, xr.DataArray],
           name: str) -> tuple[xr.DataArray, ...]:
    """``xr.apply_ufunc`` of :func:`_evaluate_array`: every output, as a DataArray."""
    n_outputs = len(kwargs["spec"].outputs)
    try:
        outputs = xr.apply_ufunc(_evaluate_array, *values, kwargs=kwargs, dask="allowed",
                                 output_core_dims=[()] * n_outputs,
                                 keep_attrs="override")  # the coordinates' attrs
    except fanout.FanoutError as exc:
        if exc.partial is not None:  # keep the finished blocks, labelled like the result
            template = xr.broadcast(*given.values())[0] if given else xr.DataArray(0.0)
            exc.partial = tuple(_labelled(template.copy(data=p), given, name)
                                for p in exc.partial)
        raise
    return outputs if n_outputs > 1 else (outputs,)


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
                    coords: Mapping[Hashable, np.ndarray | None],
                    plan: Mapping[Hashable, tuple[int, ...]] | None) -> Any:
    """The array-level function ``xr.apply_ufunc`` calls: numpy arrays -> computed outputs;
    dask arrays, or chunks asked for (``plan``) -> the same computation mapped over chunks."""
    if plan is None and not any(hasattr(a, "dask") for a in arrays):
        with allocator.roomy_malloc():  # eager inside a dask worker: 2-3x faster (see there)
            outputs = _compute(arrays, spec, options, roles, workers, progress, timeout,
                               dims, coords)
    else:
        outputs = _map_chunks(arrays, spec, options, roles, dims, coords, plan)
    return outputs if len(outputs) > 1 else outputs[0]


def _map_chunks(arrays: Sequence[Any], spec: Method, options: Mapping[str, Any],
                roles: tuple[str, ...], dims: tuple[Hashable, ...],
                coords: Mapping[Hashable, np.ndarray | None],
                plan: Mapping[Hashable, tuple[int, ...]] | None) -> tuple[Any, ...]:
    """The computation of :func:`_compute`, mapped lazily over chunks; each chunk
    forms its own outer product of the 1-D inputs (:func:`~.sweep.map_outer`)."""
    chunks = None if plan is None else [plan.get(d) for d in dims]
    return sweep.map_outer(_compute_chunk, arrays, [dt for _, dt in spec.outputs],
                           chunks=chunks, spec=spec, options=sweep.shared(options), roles=roles,
                           dims=dims, coords=coords)


def _compute_chunk(*blocks: np.ndarray, block_info: Any, spec: Method,
                   options: Mapping[str, Any], roles: tuple[str, ...],
                   dims: tuple[Hashable, ...], coords: Mapping[Hashable, np.ndarray | None]
                   ) -> tuple[np.ndarray, ...]:
    """One dask chunk: computed in its task, located in the whole array for messages."""
    where = block_info[0]
    return _compute(blocks, spec, options, roles, 1, False, None, dims, coords,
                    location=([start for start, _ in where["array-location"]],
                              tuple(where["shape"])))


def _compute(arrays: Sequence[Any], spec: Method, options: Mapping[str, Any],
             roles: tuple[str, ...], workers: int | Executor | None, progress: bool | None,
             timeout: float | None, dims: tuple[Hashable, ...],
             coords: Mapping[Hashable, np.ndarray | None],
             location: tuple[list[int], tuple[int, ...]] | None = None
             ) -> tuple[np.ndarray, ...]:
    values = [np.asarray(a, np.float64) for a in arrays]
    shape = np.broadcast_shapes(*(v.shape for v in values))
    # A constant (μ = 0 by default) stays one value, and an input that varies along fewer
    # dims than the grid (a coordinate) is formed block by block where the block runs:
    # broadcast here, each would cost 8 bytes a point of memory, and of transfer to the
    # pool (16 MB for 10⁶ points of φ and ξ; 1 GB at the eager limit).
    flat = [_flat(v, shape) for v in values]
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
    if spec.check is not None:
        # Here for eager and lazy alike (a lazy result's attrs were written before any
        # value existed): each dask chunk warns as it is computed.
        spec.check(dict(zip((n for n, _ in spec.outputs), outputs, strict=True)),
                   dict(zip(roles, np.broadcast_arrays(*flat), strict=True)))
    return tuple(out.reshape(shape) for out in outputs)


def _flat(value: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | Flattened:
    """One input of :func:`_compute`, flattened over the grid of ``shape``."""
    if value.size == 1:
        return value.reshape(1)
    if value.size <= sweep.EMBED_VALUES and value.size < math.prod(shape):
        # a few values (a coordinate) travel with every block, which forms its points
        return Flattened(value.reshape((1,) * (len(shape) - value.ndim) + value.shape), shape)
    return np.ascontiguousarray(np.broadcast_to(value, shape)).ravel()


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
        1: compute in this process.  N > 1: N worker processes of the process's one pool
        (loky; shared by all threads, at most the CPUs this process may use: a larger N is
        capped, with one warning; it stays up between calls and its workers exit after 300
        idle seconds).  -1: every CPU, -2: all but one (joblib's convention).  None (the
        default): every CPU once the job is large enough to pay for starting a pool (or one
        is up already), else 1 -- so a small job runs your code in this process, where a
        crash in it (a segfault, ``os._exit``) ends this process or notebook kernel, as
        with joblib's and scipy's defaults; ``workers=1, timeout=...`` isolates it in a
        worker.  Inside a pool or dask worker every call runs in process (an explicit N
        with one warning).  An Executor (your own loky or ProcessPoolExecutor, a
        dask.distributed client's ``get_executor()``) is used as given, never shut down.
        Not allowed with dask-backed inputs: dask's scheduler decides there.
    epsabs, epsrel, limit
        QUADPACK tolerances and subdivision limit for ``method="quad"``.
    progress : bool, optional
        A tqdm progress bar; None shows one on a terminal or in a notebook for runs that
        last over a second.  Eager runs only: for dask, use dask's own progress reporting
        (``dask.diagnostics.ProgressBar`` or the distributed dashboard).
    timeout : float, optional
        For code that may hang or run away: seconds one block (``method``'s block size in
        points) may compute; a block that takes longer stops the run with a FanoutError
        naming it, and the pool's workers are killed.  Blocks then always run in worker
        processes (one with ``workers=1``).  Without it, a call in which no block has
        finished for 10 minutes warns once, naming the blocks computing and their
        workers' pids (a stopped or hung worker).
    chunks : int, "auto" or dict, optional
        Evaluate lazily with dask, the inputs cut into these chunks (as for
        ``DataArray.chunk``, e.g. ``{"phi": 100}``).  ``"auto"``: chunks of the result of
        ~1 s of the method's estimated work (at most 2²⁰ points, whole along the last
        dims), and at least 32 chunks where each still holds ~0.1 s, so that every worker
        of a cluster gets several.  Needs the ``dask`` extra.  Inputs that are dask-backed
        already are evaluated lazily without it.  A lazy ``method="quad"``
        result cannot carry QUADPACK's diagnostics in attrs: it warns as chunks compute.

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
                                              timeout)
    spec = METHODS["overlap"][inputs.check_choice(method, "method", METHODS["overlap"])]
    options = {name: tolerances[name] for name in spec.options}
    named = {"phi": inputs.find(ds, phi, "phi", default="phi"),
             "xi": inputs.find(ds, xi, "xi", default="xi"),
             "mu": inputs.find_optional(ds, mu, "mu")}
    inputs.check_distinct(named)
    bound = (overlap_kernel.LIMIT, overlap_kernel.DOMAIN)
    rules: dict[str, dict[str, Any]] = {
        "phi": {"bound": bound}, "xi": {"positive": True, "bound": bound},
             "mu": {"bound": bound}}
    args = {role: inputs.check_real(da, role, **rules[role]) for role, da in named.items()}
    return evaluate(spec, args, name="overlap", options=options, checks=rules,
                    workers=workers, progress=progress, timeout=timeout, chunks=chunks,
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
    complex_func: bool | None = None,
    workers: int | Executor | None = None,
    epsabs: float = EPSABS,
    epsrel: float = EPSREL,
    limit: int = LIMIT,
    progress: bool | None = None,
    timeout: float | None = None,
    chunks: int | str | dict[str, int] | None = None,
) -> xr.DataArray:
    """Integrate your own integrand over a labelled parameter grid, point by point.

    The general form of what the seed blog post does by hand: for every point of the
    broadcast parameters, ``∫ integrand(l, **params) dl`` from ``lower`` to ``upper`` by
    scipy's QUADPACK, at the cost of a plain ``scipy.integrate.quad`` loop over the same
    points: one QUADPACK call a point for a real integrand, and for a complex one the real
    and imaginary parts apart, as ``quad(..., complex_func=True)`` does.  Run like
    :func:`overlap` (in-process, on a process pool, or with dask).

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
        its own name; a parameter with a default value (``lambda l, a=2.0: ...``) is taken
        from ``ds`` when it has a variable of that name, and otherwise keeps its default.
    points : sequence of float, optional
        Breakpoints (e.g. where the integrand peaks or is not smooth), used where they lie
        strictly inside a point's limits (QUADPACK's ``points=``).
    name : str
        Name of the result.
    complex_func : bool or None, default None
        scipy's name.  None: the imaginary part is integrated only where the integrand
        returns complex values; an eager result is float64 when every value it returned
        was real, else complex128; a lazy (dask) result is complex128, since its dtype must
        be known before anything runs.  True: complex128, both parts always integrated.
        False: float64; a complex value from the integrand is an error.
    workers, epsabs, epsrel, limit, progress, timeout, chunks
        As for :func:`overlap`.  The default tolerances (epsabs = epsrel = 1e-10, limit
        = 200) are tighter than ``scipy.integrate.quad``'s (1.49e-8, 1.49e-8, 50); pass
        those to get quad's results and cost (benchmarks/bench_integrate.py).

    Returns
    -------
    xarray.DataArray
        float64 or complex128 (see ``complex_func``) over the broadcast dims of the
        parameters and limits, with the parameters as coordinates; attrs name the
        integrand, limits, tolerances and QUADPACK's diagnostics (``quad_max_abserr``,
        ``quad_failed_points``; for a lazy result, a warning as chunks compute instead).

    Raises
    ------
    TypeError
        ``integrand`` is not a function of the integration variable and named parameters.
    ValueError
        A parameter is missing or not finite, as for :func:`overlap`.
    xr_spdc.FanoutError
        ``integrand`` raised at some point (or returned a complex value with
        ``complex_func=False``): the message names it.

    Examples
    --------
    >>> import numpy as np, xarray as xr, xr_spdc
    >>> ds = xr.Dataset(coords={"k": [1.0, 2.0]})
    >>> out = ds.spdc.integrate(lambda l, k: np.exp(1j * k * l), workers=1)  # 2 sin(k)/k
    >>> bool(np.allclose(out.values, 2 * np.sin(ds.k.values) / ds.k.values, rtol=1e-12))
    True
    >>> ds.spdc.integrate(lambda l, k: np.cos(k * l), workers=1).dtype  # real: one call
    dtype('float64')
    """
    workers, tolerances = inputs.check_common(ds, workers, progress, epsabs, epsrel, limit,
                                              timeout)
    inputs.check_flag(complex_func, "complex_func")
    wanted, keywords = _integrand_parameters(integrand, params, ds, lower, upper)
    args = _integrand_args(ds, wanted, lower, upper)
    breakpoints = inputs.check_breakpoints(points)
    options: dict[str, Any] = {**tolerances, "integrand": integrand, "keywords": keywords,
                               "complex_func": complex_func, "points": breakpoints}
    # A large array the integrand closes over is compared with its shared copy once, for
    # the hash and the pool alike (no user code runs in between).
    with snapshots.checked_once():
        description: dict[str, Any] = {
            "long_name": f"integral of {_qualified_name(integrand)}",
            "integrand": _qualified_name(integrand),
            "integrand_sha256": identity.code_hash(integrand),  # what a resume must not change
            "method": "quad", **tolerances,
            "xr_spdc_version": __version__}
        if breakpoints:
            description["points"] = list(breakpoints)
        description.update({role: args[role] for role in ("lower", "upper")
                            if not isinstance(args[role], xr.DataArray)})
        return evaluate(METHODS["integrand"]["quad"], args, name=name, options=options,
                        checks={"lower": {"infinite": True}, "upper": {"infinite": True}},
                        workers=workers, progress=progress, timeout=timeout, chunks=chunks,
                        attrs=description)


def _integrand_args(ds: xr.Dataset | None, wanted: Mapping[str, Any], lower: Any,
                    upper: Any) -> dict[str, Arg]:
    """The integrand's parameters found and checked, then the limits."""
    found = {key: inputs.check_real(inputs.find(ds, value, key, default=key,
                                                override=f"params={{{key!r}: '<name>'}}"), key)
             for key, value in wanted.items()}
    inputs.check_distinct(found)
    args: dict[str, Arg] = dict(found)
    # Limits may be infinite (QUADPACK maps them); a constant one adds no coordinate.
    for role, value in (("lower", lower), ("upper", upper)):
        if role in found:
            raise ValueError(f"the integrand's parameter {role!r} clashes with the {role} "
                             "limit; rename it")
        da = inputs.check_real(inputs.find(ds, value, role), role, infinite=True)
        args[role] = da if isinstance(value, (str, xr.DataArray)) else float(da)
    return args


_INTEGRAND_SHAPE = ("the integrand must be a Python function of the integration variable "
                    "and named parameters, f(l, a, b) (its parameters after l are looked "
                    "up in the Dataset by name, or mapped with params={'a': 'name', ...})")
_P = inspect.Parameter
_NAMED = (_P.POSITIONAL_OR_KEYWORD, _P.KEYWORD_ONLY)


def _integrand_parameters(integrand: Any, params: Any, ds: xr.Dataset | None, lower: Any,
                          upper: Any) -> tuple[dict[str, Any], tuple[str, ...] | None]:
    """The parameters to look up (``params``, or the integrand's own after the first), and
    the keywords to pass them by (None: by position, in this order, as a quad loop does)."""
    signature = _signature(integrand, params)
    listed = list(signature.parameters.values())[1:]
    # Required parameters always; one with a default only where the Dataset has it.
    own = {p.name: p.name for p in listed if p.kind in _NAMED and (
        p.default is _P.empty or (ds is not None and p.name in ds.variables))}
    if params is None and any(p.kind is _P.VAR_POSITIONAL for p in listed):
        raise TypeError(f"{_INTEGRAND_SHAPE}; {_qualified_name(integrand)}{signature} "
                        "takes *args, which cannot be matched to variables by name: "
                        "name its parameters, or pass params= for a **kwargs integrand")
    wanted = {**own, **(params or {})}  # params= maps some; the others by their own names
    if params is not None:
        _check_binds(integrand, signature, wanted)
    if not wanted and not any(isinstance(b, (str, xr.DataArray)) for b in (lower, upper)):
        defaults = ", ".join(p.name for p in listed if p.default is not _P.empty)
        raise TypeError(
            f"{_INTEGRAND_SHAPE}; {_qualified_name(integrand)}{signature} "
            + (f"has nothing to look up: its parameters all have defaults ({defaults}), "
               "which they keep where the Dataset has no variable of their name, "
               if defaults else "has no parameters ")
            + "and the limits are numbers, so there is no grid to integrate over (for one "
            "integral, call scipy.integrate.quad)")
    positional = [p.name for p in listed if p.kind in (_P.POSITIONAL_ONLY,
                                                       _P.POSITIONAL_OR_KEYWORD)]
    by_position = list(wanted) == positional[:len(wanted)]
    return wanted, None if by_position else tuple(wanted)


def _check_binds(integrand: Any, signature: inspect.Signature, wanted: Mapping[str, Any]
                 ) -> None:
    try:
        signature.bind(0.0, **dict.fromkeys(wanted, 0.0))
    except TypeError as exc:
        raise TypeError(f"{_INTEGRAND_SHAPE}; {_qualified_name(integrand)}{signature} "
                        f"cannot be called as f(l, {', '.join(map(str, wanted))}): "
                        f"{exc}") from None


def _signature(integrand: Any, params: Any) -> inspect.Signature:
    """The integrand's signature, if it is a function of l and named parameters."""
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
    if not listed or listed[0].kind not in (_P.POSITIONAL_ONLY, _P.POSITIONAL_OR_KEYWORD,
                                            _P.VAR_POSITIONAL):
        raise TypeError(f"{_INTEGRAND_SHAPE}; {_qualified_name(integrand)}{signature} takes "
                        "no integration variable")
    return signature


def _qualified_name(func: Any) -> str:
    return f"{getattr(func, '__module__', None) or ''}.{getattr(func, '__qualname__', repr(func))}"
