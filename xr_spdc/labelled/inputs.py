"""Finding and checking the inputs of a labelled computation, with errors that say what and where.

Every check raises ``TypeError`` (wrong kind of thing) or ``ValueError`` (right kind, bad
value), names the argument, and shows a few of the offending values with their positions.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np
import xarray as xr

from .names import refuse_result_as_input

#: A real number, a 0-d numpy array, or a DataArray of real numbers: what every physical
#: input of the package takes (the one real/array-like alias).
Real = float | np.ndarray | xr.DataArray

# Beyond this many points an eager (numpy) evaluation would need tens of GB: refuse it
# before allocating anything and point to dask, which streams block by block.
MAX_EAGER_POINTS = 1 << 27

# How many offending values an error message shows.
SHOWN = 5


def _listing(names) -> str:
    names = [str(n) for n in names]
    return ", ".join(repr(n) for n in names) if names else "none"


def find(ds: xr.Dataset | None, arg: Any, role: str, *, default: str | None = None,
         override: str | None = None) -> xr.DataArray:
    """Turn an input argument into a named DataArray.

    Parameters
    ----------
    ds : xarray.Dataset or None
        Where names are looked up (coordinates and data variables alike).
    arg : str, DataArray, 1-D array or real number
        A variable name in ``ds``, a DataArray, a 1-D array (a dim named ``role`` with the
        array as its coordinate), or a scalar.
    role : str
        The argument's name, for messages and as the name of an unnamed value.
    default : str, optional
        The name that was looked up by default (a missing default gets a hint to override).
    override : str, optional
        How the caller names another variable for this role, for that hint (default
        ``role='<name>'``).

    Returns
    -------
    xarray.DataArray
    """
    if isinstance(arg, str):
        if ds is None:
            raise TypeError(f"{role} must be a DataArray or a real number, not the string "
                            f"{arg!r:.60} (a variable name needs a Dataset to look it up in)")
        if arg not in ds.variables:
            how = override or f"{role}='<name>'"
            hint = f"; pass {how} to use another variable" if arg == default else ""
            raise ValueError(
                f"{role}: the Dataset has no variable {arg!r}; it has coordinates "
                f"[{_listing(ds.coords)}] and data variables [{_listing(ds.data_vars)}]{hint}")
        refuse_result_as_input(ds[arg], role)
        return ds[arg]
    if isinstance(arg, xr.DataArray):
        refuse_result_as_input(arg, role)
        return arg if arg.name is not None else arg.rename(role)
    if isinstance(arg, (np.generic, bool)) or (isinstance(arg, np.ndarray) and arg.ndim == 0):
        return xr.DataArray(np.asarray(arg), name=role)  # dtype kept: check_real judges it
    if isinstance(arg, numbers.Real):  # int, float, Fraction, ...
        try:
            return xr.DataArray(float(arg), name=role)
        except OverflowError:  # e.g. 10**400: an int beyond the largest float
            raise ValueError(f"{role} = {arg!r:.40} is too large for a float (at most "
                             f"{float(np.finfo(np.float64).max)!r})") from None
    kinds = ("a DataArray, a 1-D array or a real number" if ds is None
             else "a variable name, a DataArray, a 1-D array or a real number")
    if isinstance(arg, (np.ndarray, list, tuple)) and np.ndim(arg) == 1:
        # As numpy users expect: a 1-D array is a dimension named after the argument,
        # labelled by its own values (phi=np.linspace(...) gives a "phi" dim).
        values = np.asarray(arg)
        return xr.DataArray(values, dims=role, coords={role: values}, name=role)
    if isinstance(arg, (xr.Dataset, np.ndarray, list, tuple)):
        shape = f" of shape {np.shape(arg)}" if not isinstance(arg, xr.Dataset) else ""
        raise TypeError(f"{role} must be {kinds}, not {type(arg).__name__}{shape}; wrap "
                        "arrays of more dimensions as xr.DataArray(values, dims=...) so "
                        "their dimensions are known")
    raise TypeError(f"{role} must be {kinds}, not {type(arg).__name__} ({arg!r:.60})")


def find_optional(ds: xr.Dataset | None, arg: Any, role: str) -> xr.DataArray:
    """Like :func:`find`, for an input with a neutral value 0 (μ): the default name ``role``
    is used if ``ds`` has it and means 0 otherwise; ``None`` means 0 on purpose.  The result
    is always a DataArray, so the value used is recorded (a scalar coordinate for 0)."""
    if arg is None or (isinstance(arg, str) and arg == role
                       and (ds is None or role not in ds.variables)):
        return xr.DataArray(0.0, name=role)
    return find(ds, arg, role)


def _coordinates(da: xr.DataArray) -> dict[Hashable, np.ndarray | None]:
    """Each dim's coordinate values where it has another variable's coordinate, else None."""
    return {d: np.asarray(da.coords[d].values) if d in da.coords and d != da.name else None
            for d in da.dims}


def positions(da: xr.DataArray, mask: np.ndarray) -> str:
    """A few of ``da``'s values where ``mask`` is set, each with its position (see
    :func:`_positions_at`)."""
    return _positions_at(np.asarray(da.values), np.asarray(mask), _coordinates(da))



#: Relative size of 1/λ_p − 1/λ_s − 1/λ_i beyond which wavelengths break energy conservation.
ENERGY_TOLERANCE = 1e-6


def idler_wavelength(pump: xr.DataArray, signal: xr.DataArray, *,
                     names: tuple[str, str] = ("pump", "signal")) -> xr.DataArray:
    """1/λ_i = 1/λ_p − 1/λ_s, refusing signals at or below the pump wavelength.

    ``names`` are the pump's and the signal's argument names, for the message.
    """
    pump_name, signal_name = names
    with xr.set_options(arithmetic_join="exact", keep_attrs=False):
        bad = ~(signal > pump)
        if bool(bad.any()):
            s, p = xr.broadcast(signal, pump)
            raise ValueError(
                f"{signal_name} must be longer than {pump_name} (energy conservation leaves "
                f"no idler otherwise): {signal_name} {positions(s, bad.values)}, "
                f"{pump_name} {positions(p, bad.values)}")
        return 1 / (1 / pump - 1 / signal)


def _positions_at(values: np.ndarray, mask: np.ndarray,
                  coords: Mapping[Hashable, np.ndarray | None],
                  starts: Sequence[int] | None = None) -> str:
    """A few of the masked values, each with its position: ``-1.0 at xi[0]``, or by
    coordinate value where the dim has another variable's coordinate:
    ``-2.0 at waist_s=20``.  ``starts``: where ``values`` (a chunk) begins in the whole."""
    where = np.argwhere(mask)
    starts = starts or [0] * values.ndim
    shown = []
    for index in map(tuple, where[:SHOWN]):
        at = ", ".join(f"{d}={c[s + i].item()!r}" if c is not None else f"{d}[{s + i}]"
                       for (d, c), s, i in zip(coords.items(), starts, index, strict=True))
        value = float(values[index])
        shown.append(f"{value!r} at {at}" if at else repr(value))
    more = f" and {len(where) - SHOWN} more" if len(where) > SHOWN else ""
    return "; ".join(shown) + more


def _described(role: str, da: xr.DataArray) -> str:
    """``xi`` when the argument's variable has its name, else ``xi 'focus'``."""
    return role if da.name == role else f"{role} {da.name!r}"


def check_real(da: xr.DataArray, role: str, *, positive: bool = False,
               nonnegative: bool = False, infinite: bool = False,
               bound: tuple[float, str] | None = None) -> xr.DataArray:
    """Check that ``da`` holds real numbers (finite unless ``infinite``; > 0 if
    ``positive``, >= 0 if ``nonnegative``; magnitude at most ``bound[0]``, the domain a
    kernel answers for, stated as ``bound[1]``); return float64.

    Dask-backed values are not computed here: pass the same rules to
    :func:`check_chunks` to check them as their chunks are computed.
    """
    kind = da.dtype.kind
    if kind == "c":
        raise TypeError(f"{role} must be real, but {da.name!r} is complex ({da.dtype}); pass "
                        f"its real part if that is what you mean")
    if kind not in "iuf":
        sample = np.asarray(da.values).ravel()[:SHOWN] if da.chunks is None else "(dask)"
        raise TypeError(f"{role} must hold real numbers, but {da.name!r} has dtype "
                        f"{da.dtype} (values {sample!r})")
    if da.size == 0:
        raise ValueError(f"{role} ({da.name!r}) is empty (sizes {dict(da.sizes)}): there is "
                         "nothing to compute")
    da = da.astype(np.float64, copy=False)
    if da.chunks is None:
        _check_values(da.values, role=role, variable=da.name, positive=positive,
                      nonnegative=nonnegative, infinite=infinite, bound=bound,
                      coords=_coordinates(da))
    return da


def check_chunks(da: xr.DataArray, role: str, *, positive: bool = False,
                 nonnegative: bool = False, infinite: bool = False,
                 bound: tuple[float, str] | None = None) -> xr.DataArray:
    """The dask-backed ``da`` with :func:`check_real`'s value check (the same rules) run
    on each chunk as it is computed, with the same message (the count then is the
    chunk's)."""
    check = {"role": role, "variable": da.name, "positive": positive,
             "nonnegative": nonnegative, "infinite": infinite, "bound": bound,
             "coords": _coordinates(da)}
    return da.copy(data=da.data.map_blocks(_check_chunk, dtype=np.float64, **check))


def _check_values(values: np.ndarray, *, role: str, variable: Hashable, positive: bool,
                  nonnegative: bool, infinite: bool, bound: tuple[float, str] | None,
                  coords: Mapping[Hashable, np.ndarray | None],
                  starts: Sequence[int] | None = None, whole: str = "") -> None:
    bad = np.isnan(values) if infinite else ~np.isfinite(values)
    if positive:
        bad |= ~(values > 0)
    elif nonnegative:
        bad |= ~(values >= 0)
    with np.errstate(invalid="ignore"):  # NaN is flagged above
        beyond = ((np.abs(values) > bound[0]) & np.isfinite(values) if bound is not None
                  else np.zeros_like(bad))
    bad |= beyond
    if bad.any():
        need = "a number (not NaN)" if infinite else "finite"
        need = f"positive and {need}" if positive else need
        need = f">= 0 and {need}" if nonnegative and not positive else need
        if bound is not None and beyond.any():
            need = f"{need} with |{role}| <= {bound[0]:g} (the supported domain: {bound[1]})"
        shown = _positions_at(values, bad, coords, starts)
        raise ValueError(f"{role} must be {need}; {int(bad.sum())} of {bad.size} values of "
                         f"{variable!r}{whole} are not: {shown}")


def _check_chunk(values: np.ndarray, *, block_info: Any = None, **check: Any) -> np.ndarray:
    """A dask chunk's values, checked as :func:`check_real` checks eager ones."""
    starts = [start for start, _ in block_info[0]["array-location"]] if block_info else None
    _check_values(values, starts=starts, whole=" in a chunk", **check)
    return values


def check_distinct(named: Mapping[str, xr.DataArray]) -> None:
    """Refuse two roles that name the same variable (e.g. ``phi="x", xi="x"``), and a dim
    named like another role that does not hold that role's values (see
    :func:`check_role_dims`)."""
    seen: dict[Hashable, str] = {}
    for role, da in named.items():
        if da.ndim and da.name in seen:
            raise ValueError(f"{seen[da.name]} and {role} both name the variable {da.name!r}; "
                             "they must be different variables")
        seen[da.name] = role
    check_role_dims(named)


def check_role_dims(named: Mapping[str, xr.DataArray]) -> None:
    """Refuse a dim of one input that is named like another input's role but does not
    index that input's own values.

    A ``phi`` DataArray on a dim ``"mu"``, with μ passed as a number (or left at 0), would
    label values computed at that μ with the dim's coordinate: a silent wrong answer.  A
    dim named like a role is accepted only where that role's input *is* the dim's
    coordinate variable (e.g. ``mu=ds.mu`` or ``mu="mu"`` in a Dataset with a ``mu`` dim).
    """
    # focusing derives sigma = -phi/(2 xi) when given phi: a dim "sigma" would collide.
    derived = "sigma" if {"phi", "kappa"} <= set(named) and "sigma" not in named else None
    for role, da in named.items():
        for dim in da.dims:
            other = str(dim)
            if other == derived:
                raise ValueError(
                    f"{_described(role, da)} has a dim named 'sigma', but sigma is computed "
                    "here from phi and xi (sigma = -phi/(2 xi)); rename the dim "
                    "(.rename({'sigma': '<name>'})) or pass sigma instead of phi")
            if other == role or other not in named:
                continue
            given = named[other]
            if given.name == dim and given.dims == (dim,):
                continue  # the dim indexes that input's own values: used as it
            if given.ndim == 0:
                value = f"the single value {float(given.values)!r}" if given.dtype.kind in \
                    "iuf" else "a single value"
                used = f"{other} is {value}"
            else:
                used = f"{other} is the variable {given.name!r} with dims {given.dims}"
            raise ValueError(
                f"{_described(role, da)} has a dim named {other!r}, but {used}: its "
                f"coordinate would label values computed at another {other}. Pass "
                f"{other}={role if da.name is None else da.name}[{other!r}] (or "
                f"{other}='{other}' with a Dataset) to use the dim as {other}, or rename the "
                f"dim (.rename({{{other!r}: '<name>'}}))")


def align(named: Mapping[str, xr.DataArray]) -> dict[str, xr.DataArray]:
    """Align exactly (shared dims must have equal coordinates), with a message naming the
    arguments on a conflict."""
    try:
        return dict(zip(named, xr.align(*named.values(), join="exact"), strict=True))
    except ValueError as exc:
        arrays = {role: da for role, da in named.items() if da.ndim}  # scalars always align
        shapes = "; ".join(f"{_described(role, da)} has sizes {dict(da.sizes)}"
                           for role, da in arrays.items())
        raise ValueError(f"the inputs {', '.join(arrays)} do not align: a dimension they share "
                         f"has different coordinates or sizes ({shapes}): {exc}") from None


def broadcast(named: Mapping[str, xr.DataArray]) -> list[xr.DataArray]:
    """Align exactly, then broadcast to the dims of all (see :func:`align`)."""
    return list(xr.broadcast(*align(named).values()))


_WITH_DASK = ("chunk them with dask (chunks=... or ds.chunk(...)) to evaluate lazily, block "
              "by block")


def check_eager_size(sizes: Mapping[Hashable, int], *, limit: int = MAX_EAGER_POINTS,
                     how: str = _WITH_DASK) -> None:
    """Refuse an in-memory evaluation too large for memory, before anything is allocated.

    ``limit``: the most points (a function that holds more temporaries a point passes a
    smaller one); ``how``: what to do instead, for the message.
    """
    n_points = float(np.prod(list(sizes.values()), dtype=np.float64))
    if n_points > limit:
        raise ValueError(
            f"the inputs broadcast to {n_points:.3g} points (sizes {dict(sizes)}), "
            f"more than the {limit:.3g} an in-memory evaluation allows; {how}")


def check_workers(workers: Any) -> int | Executor | None:
    """``None``, a ``concurrent.futures.Executor``, or a non-zero int: N > 0 processes, or
    counted back from the CPUs as joblib and scikit-learn do (-1 all, -2 all but one, at
    least 1)."""
    if workers is None or isinstance(workers, Executor):
        return workers
    if isinstance(workers, (bool, np.bool_)) or not isinstance(workers, numbers.Integral):
        raise TypeError(f"workers must be a positive int, None or a "
                        f"concurrent.futures.Executor (or a negative int counting back from "
                        f"the CPUs: -1 every CPU, -2 all but one), not {workers!r}")
    if workers == 0:
        raise ValueError("workers must be >= 1 (or negative to count back from the CPUs: -1 "
                         "every CPU, -2 all but one; or None, automatic), not 0")
    if workers < 0:
        from ..engine.fanout import available_cpus

        return max(available_cpus() + 1 + int(workers), 1)
    return int(workers)


def check_choice(value: Any, role: str, choices: Any) -> Any:
    """``value`` must be one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{role} must be one of {_listing(choices)}, not {value!r}")
    return value


def check_flag(value: Any, role: str) -> bool | None:
    """``None``, ``True`` or ``False``."""
    if value is not None and not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{role} must be True, False or None (automatic), not {value!r}")
    return None if value is None else bool(value)


def check_timeout(timeout: Any) -> float | None:
    """``None`` or a positive number of seconds."""
    if timeout is None:
        return None
    if isinstance(timeout, (bool, np.bool_)) or not isinstance(timeout, numbers.Real):
        raise TypeError(f"timeout must be a number of seconds or None, not {timeout!r}")
    seconds = float(timeout)
    if not 0 < seconds < np.inf:
        raise ValueError(f"timeout must be positive and finite (seconds per block), not "
                         f"{timeout!r}")
    return seconds


def check_common(ds: Any, workers: Any, progress: Any, epsabs: Any, epsrel: Any, limit: Any,
                 timeout: Any
                 ) -> tuple[int | Executor | None, dict[str, Any]]:
    """The arguments every labelled computation takes: the Dataset, the engine's options
    and QUADPACK's tolerances.  Returns (workers, tolerances)."""
    if ds is not None and not isinstance(ds, xr.Dataset):
        raise TypeError(f"ds must be an xarray.Dataset (or None), not {type(ds).__name__}")
    check_flag(progress, "progress")
    check_timeout(timeout)
    return check_workers(workers), check_quad_options(epsabs, epsrel, limit)


def check_quad_options(epsabs: Any, epsrel: Any, limit: Any) -> dict[str, float | int]:
    """QUADPACK's tolerances and subdivision limit, checked: their types here, what QUADPACK
    can run with by :func:`xr_spdc.numerics.quadrature.check_tolerances`."""
    from ..numerics.quadrature import check_tolerances

    checked = {"epsabs": check_tolerance(epsabs, "epsabs"),
               "epsrel": check_tolerance(epsrel, "epsrel"),
               "limit": check_tolerance(limit, "limit", integer=True)}
    check_tolerances(checked["epsabs"], checked["epsrel"], int(checked["limit"]))
    return checked


def check_breakpoints(points: Any) -> tuple[float, ...]:
    """Breakpoints for QUADPACK: finite real numbers (a sequence), sorted."""
    if points is None:
        return ()
    if isinstance(points, (str, bytes, Mapping)) or not hasattr(points, "__iter__"):
        raise TypeError(f"points must be a sequence of real numbers, not {points!r:.60}")
    values = list(points)
    if not all(isinstance(p, numbers.Real) and not isinstance(p, (bool, np.bool_))
               for p in values):
        raise TypeError(f"points must be real numbers, not {values!r:.60}")
    if not np.isfinite(np.asarray(values, dtype=np.float64)).all():
        raise ValueError(f"points must be finite, not {values!r:.60}")
    return tuple(sorted(float(p) for p in values))


def check_tolerance(value: Any, role: str, *, integer: bool = False) -> float | int:
    """A non-negative tolerance (``integer``: a positive whole number)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or (
            integer and not isinstance(value, numbers.Integral)):
        kind = "a positive int" if integer else "a non-negative real number"
        raise TypeError(f"{role} must be {kind}, not {value!r}")
    number = float(value)
    if integer and number < 1 or not integer and not (0 <= number < np.inf):
        raise ValueError(f"{role} must be {'>= 1' if integer else 'finite and >= 0'}, not "
                         f"{value!r}")
    return int(value) if integer else number  # type: ignore[call-overload]


def require_dask() -> None:
    """Raise a clear ImportError when dask is missing."""
    try:
        import dask.array  # noqa: F401
    except ImportError:
        raise ImportError("lazy evaluation (chunks= or dask-backed inputs) needs dask: "
                          "pip install 'xr_spdc[dask]'") from None


def chunk(named: Mapping[str, xr.DataArray], chunks: Any,
          seconds_per_point: float | None = None) -> dict[str, xr.DataArray]:
    """Chunk every input with dask along the dims it has (``"auto"``: chunks of the result
    of ~1 s of the method's estimated work, at most 2²⁰ points, and at least 32 of them
    where each still holds 0.1 s: :func:`xr_spdc.labelled.sweep.auto_chunks` and
    :func:`~xr_spdc.labelled.sweep.auto_points`)."""
    require_dask()
    dims = {d: n for da in named.values() for d, n in da.sizes.items()}
    sizes = list(chunks.values()) if isinstance(chunks, Mapping) else [chunks]
    if any(size != "auto" and (isinstance(size, (bool, np.bool_))
                               or not isinstance(size, numbers.Integral)) for size in sizes):
        raise TypeError(f"chunks must be a positive int, 'auto', or a dict of dim: positive "
                        f"int, not {chunks!r}")
    if any(size != "auto" and size < 1 for size in sizes):
        raise ValueError(f"chunk sizes must be >= 1, not {chunks!r}")
    if isinstance(chunks, Mapping):
        unknown = [d for d in chunks if d not in dims]
        if unknown:
            raise ValueError(f"chunks names dims {_listing(unknown)} that the inputs do not "
                             f"have; their dims are {dims}")
    if isinstance(chunks, str):  # "auto": by the points of a chunk of the result
        from .sweep import auto_chunks, auto_points
        chunks = auto_chunks(dims, auto_points(seconds_per_point, math.prod(dims.values())))
    out = {}
    for role, da in named.items():
        per_array = ({d: c for d, c in chunks.items() if d in da.dims}
                     if isinstance(chunks, Mapping) else chunks)
        out[role] = da.chunk(per_array) if da.ndim else da
    return out


#: Largest magnitude of every input of the focusing function h (and of the φ = −2σξ it
#: reaches through the overlap's kernel), as for the overlap.
FOCUSING_LIMIT = 1e100
#: Largest κξ(1+μ): with absorption, h grows like e^{2κξ(1+μ)} (the pump enters the crystal
#: at τ = −ξ(1+μ)), which leaves float64 (e^709.8) once κξ(1+μ) ≳ 355.
KAPPA_EXPONENT_LIMIT = 350.0
FOCUSING_DOMAIN = (f"|sigma|, |phi|, |2 sigma xi|, B and |mu| <= {FOCUSING_LIMIT:g}, "
                   f"0 < xi <= {FOCUSING_LIMIT:g}, kappa >= 0 with "
                   f"kappa xi (1 + mu) <= {KAPPA_EXPONENT_LIMIT:g} (beyond it h, which grows "
                   "like exp(2 kappa xi (1 + mu)), overflows float64)")


def check_focusing_domain(named: Mapping[str, xr.DataArray]) -> None:
    """Refuse, before any work, inputs of the focusing function beyond its float64 domain
    (:data:`FOCUSING_DOMAIN`), naming what the user passed.

    ``named`` holds the checked inputs by role (``sigma`` or ``phi``, ``xi``, ``B``,
    ``kappa``, ``mu``); each one's own magnitude is bounded by :func:`check_real`, this
    checks the combinations: |2σξ| (the φ the kernel reaches from σ) and κξ(1+μ).
    Dask-backed inputs are not checked here (their chunks are checked by the kernel).
    """
    if any(da.chunks is not None for da in named.values()):
        return
    xi, kappa, mu = named["xi"], named["kappa"], named["mu"]
    # Bounds from each input's own extremes (kappa >= 0, xi > 0): inside the domain, every
    # combination is, and the (possibly 10^8-point) broadcast is never built to check it.
    with np.errstate(over="ignore", invalid="ignore"):
        phi_bound = (2 * float(np.abs(named["sigma"].values).max()) * float(xi.values.max())
                     if "sigma" in named else 0.0)
        exponent_bound = (float(kappa.values.max()) * float(xi.values.max())
                          * max(float((1 + mu.values).max()), 0.0))
    if phi_bound <= FOCUSING_LIMIT and exponent_bound <= KAPPA_EXPONENT_LIMIT:
        return
    with xr.set_options(keep_attrs=False), np.errstate(over="ignore", invalid="ignore"):
        if "sigma" in named:
            phi = abs(2 * named["sigma"] * xi)
            bad = phi > FOCUSING_LIMIT
            if bool(bad.any()):
                phi, bad = xr.broadcast(phi, bad)
                raise ValueError(
                    f"sigma and xi reach the phase mismatch |phi| = |2 sigma xi| > "
                    f"{FOCUSING_LIMIT:g}, beyond the supported domain ({FOCUSING_DOMAIN}); "
                    f"|2 sigma xi| = {positions(phi, bad.values)}")
        exponent = kappa * xi * (1 + mu)
        bad = exponent > KAPPA_EXPONENT_LIMIT
        if bool(bad.any()):
            exponent, bad = xr.broadcast(exponent, bad)
            raise ValueError(
                f"kappa is too large for xi and mu: h grows like exp(2 kappa xi (1 + mu)) and "
                f"leaves float64 beyond kappa xi (1 + mu) = {KAPPA_EXPONENT_LIMIT:g} (the "
                f"supported domain: {FOCUSING_DOMAIN}); kappa xi (1 + mu) = "
                f"{positions(exponent, bad.values)}. Check kappa = alpha b/2 (alpha in 1/m, "
                "b the confocal parameter in m)")


#: Plausible ranges of physical inputs in SI units (metres, rad, degC): outside them a
#: value was almost surely given in another unit, which the message names.
RANGES: dict[str, tuple[float, float, str]] = {
    "wavelength": (1e-8, 1e-4, "nanometres or micrometres"),
    "length": (1e-6, 1.0, "millimetres"),
    "poling_period": (1e-7, 1e-2, "micrometres"),
    "waist": (1e-7, 1e-1, "micrometres"),
    "temperature": (-273.15, 1500.0, "kelvin"),
    # A propagation angle in rad (theta from z, or phi from x): beyond a full turn it is
    # degrees.
    "angle": (-2 * np.pi, 2 * np.pi, "degrees (pass np.radians(value))"),
    # A crystal's double-refraction walk-off is at most a few degrees (0.1 rad in calcite).
    "walkoff_angle": (0.0, 0.5, "degrees (pass np.radians(value)) or milliradians"),
    # Optical crystals' refractive indices (1.3 for fluorides to about 4 for germanium).
    "refractive_index": (1.0, 5.0, "a typo (no optical crystal has n < 1 or n > 5)"),
}

#: Each kind's unit, for the messages.
_UNITS = {"temperature": "degC", "angle": "rad", "walkoff_angle": "rad",
          "refractive_index": "1"}


def check_physical(value: Any, role: str, kind: str | None = None, *,
                   positive: bool = True) -> xr.DataArray:
    """A float64 DataArray of finite numbers (> 0 if ``positive``) in the plausible range
    of ``kind`` (:data:`RANGES`: metres, rad, degC) when given; eager only.

    Raises
    ------
    ValueError
        A value outside the range, naming ``role``, the values and the unit they look like.
    TypeError
        Not real numbers, or dask-backed (physical inputs are evaluated eagerly).
    """
    da = check_real(find(None, value, role), role, positive=positive,
                    nonnegative=kind in ("walkoff_angle",))
    if da.chunks is not None:
        raise TypeError(f"{role} is dask-backed; this function evaluates eagerly: pass "
                        f"{role}.compute()")
    if kind is not None:
        lo, hi, guess = RANGES[kind]
        bad = (da.values < lo) | (da.values > hi)
        if bad.any():
            unit = _UNITS.get(kind, "m")
            what = kind.replace("_", " ")
            if kind == "temperature":
                raise ValueError(f"{role} must be in degC, between {lo:g} and {hi:g}; not "
                                 f"{positions(da, bad)}")
            within = f"between {lo:g} and {hi:g}" + ("" if unit == "1" else f" {unit}")
            in_unit = "" if unit == "1" else f" in {'metres' if unit == 'm' else unit}"
            article = "an" if what[0] in "aeiou" else "a"
            raise ValueError(f"{role} must be{in_unit} {article} {what} {within}; values "
                             f"such as {positions(da, bad)} look like {guess}")
    return da
