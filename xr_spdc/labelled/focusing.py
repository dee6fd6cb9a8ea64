"""Boyd and Kleinman's focusing function h(σ, ξ, B, κ, μ) over labelled inputs.

The labelled front of :mod:`xr_spdc.numerics.walkoff` (the exact one-dimensional reduction
and the 2-D QUADPACK reference), on the package's one route (:func:`~.route.evaluate`).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np
import xarray as xr

from .._version import __version__
from ..engine.methods import METHODS
from ..numerics.quadrature import EPSABS, EPSREL, LIMIT
from . import inputs, sweep
from . import names as labels
from .route import evaluate

__all__ = ["focusing"]


def _phase_input(ds: xr.Dataset | None, sigma: Any, phi: Any) -> tuple[str, Any]:
    """Which of sigma and phi was given (exactly one; by default whichever ``ds`` has)."""
    if sigma is not None and phi is not None:
        raise TypeError("give sigma or phi, not both (sigma = -phi/(2 xi))")
    if sigma is not None:
        return "sigma", sigma
    if phi is not None:
        return "phi", phi
    for role in ("sigma", "phi"):
        if ds is not None and role in ds.variables:
            return role, role
    raise TypeError("give sigma (Boyd-Kleinman's phase parameter) or phi (the phase "
                    "mismatch, rad): neither was passed"
                    + ("" if ds is None else ", and the Dataset has no variable 'sigma' or "
                       "'phi'"))


def focusing(
    ds: xr.Dataset | None = None,
    sigma: str | xr.DataArray | float | None = None,
    phi: str | xr.DataArray | float | None = None,
    xi: str | xr.DataArray | float = "xi",
    B: str | xr.DataArray | float | None = "B",
    kappa: str | xr.DataArray | float | None = "kappa",
    mu: str | xr.DataArray | float | None = "mu",
    *,
    method: str = "auto",
    workers: int | Executor | None = None,
    epsabs: float = EPSABS,
    epsrel: float = EPSREL,
    limit: int = LIMIT,
    progress: bool | None = None,
    chunks: int | str | dict[str, int] | None = None,
    timeout: float | None = None,
) -> xr.DataArray:
    """Boyd and Kleinman's focusing function h(σ, B, κ, ξ, μ) over labelled inputs.

    .. math:: h = \\frac{1}{4\\xi}\\int_a^b\\!\\!\\int_a^b
              \\frac{e^{-\\kappa(\\tau+\\tau') + i\\sigma(\\tau-\\tau')
              - (B^2/\\xi)(\\tau-\\tau')^2}}{(1+i\\tau)(1-i\\tau')}\\,d\\tau\\,d\\tau',
              \\quad a = -\\xi(1+\\mu),\\ b = \\xi(1-\\mu)

    (Boyd & Kleinman, J. Appl. Phys. 39, 3597 (1968), Sec. II–III.)  With B = κ = 0 it is
    ``|overlap|²/4`` with σ = −φ/(2ξ) and the same μ.  Second-harmonic power, or the
    SPDC pair rate into Gaussian modes, is proportional to it.

    Parameters
    ----------
    ds : xarray.Dataset, optional
        Holds the inputs as coordinates or data variables.
    sigma : str, DataArray or float, optional
        Boyd and Kleinman's phase parameter σ = Δk·b/2 (b the confocal parameter);
        dimensionless.
    phi : str, DataArray or float, optional
        Or the package's phase mismatch φ = Δk·L in rad (σ = −φ/(2ξ)).  Give ``sigma`` or
        ``phi``, not both; with neither, the Dataset's ``sigma`` or else ``phi``.
    xi : str, DataArray or float, default "xi"
        Focusing parameter ξ = L/b > 0.
    B : str, DataArray or float, default "B"
        Walk-off parameter B = ρ√(L k)/2 (see :func:`xr_spdc.walkoff_parameters`);
        h depends on B² only.  Used from ``ds`` if it has a variable "B", else 0 (None: 0
        on purpose).
    kappa : str, DataArray or float, default "kappa"
        Absorption parameter κ = α b/2 ≥ 0; found like ``B``.
    mu : str, DataArray or float, default "mu"
        Focal position as for :func:`xr_spdc.overlap` (0: the focus at the crystal's centre);
        found like ``B``.
    method : {"auto", "quad"}
        "auto": the one-dimensional exact reduction
        (:func:`xr_spdc.numerics.walkoff.focusing_function`, error ≤ 1e-12); "quad": nested
        QUADPACK over the 2-D integral per point
        (:func:`xr_spdc.numerics.walkoff.focusing_quad`; ``epsabs``, ``epsrel``, ``limit``
        apply) — the reference,
        milliseconds to seconds a point, the job a process pool is for.
    workers, epsabs, epsrel, limit, progress, chunks, timeout
        As for :func:`xr_spdc.overlap`.

    Returns
    -------
    xarray.DataArray
        Named "h", float64, over the broadcast dims of the inputs, which become coordinates
        (with ``phi`` given, ``sigma`` = −φ/(2ξ) is added as a coordinate); attrs give
        long_name, units, formula, references, method, the scalar B/κ/μ used, and for
        "quad" QUADPACK's ``quad_max_abserr`` and ``quad_failed_points``.

    Raises
    ------
    TypeError, ValueError
        Bad input, naming the argument and showing offending values; inputs beyond the
        float64 domain, checked up front (:data:`xr_spdc.labelled.inputs.FOCUSING_DOMAIN`:
        magnitudes up to 1e100, and κξ(1+μ) ≤ 350, beyond which h ~ e^{2κξ(1+μ)} overflows).
    xr_spdc.FanoutError
        An evaluation failed (names the point; finished values in ``.partial``).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from xr_spdc import focusing
    >>> ds = xr.Dataset(coords={"sigma": [0.0, 0.57], "xi": [1.0, 2.84],
    ...                         "B": [0.0, 1.0, 4.0]})
    >>> h = focusing(ds, workers=1)
    >>> h.dims, h.dtype
    (('sigma', 'xi', 'B'), dtype('float64'))
    >>> round(float(h.sel(sigma=0.57, xi=2.84, B=0.0)), 6)  # Boyd and Kleinman's 1.068
    1.067702
    """
    checked_workers, tolerances = inputs.check_common(ds, workers, progress, epsabs, epsrel,
                                                      limit, timeout)
    spec = METHODS["focusing"][inputs.check_choice(method, "method", METHODS["focusing"])]
    options = {name: tolerances[name] for name in spec.options}

    phase_role, phase = _phase_input(ds, sigma, phi)
    given = {phase_role: phase, "xi": xi, "B": B, "kappa": kappa, "mu": mu}
    # B, kappa and mu are found by name like phi and xi; absent (or None) they are 0.
    named = {role: inputs.find_optional(ds, value, role) if role in ("B", "kappa", "mu")
             else inputs.find(ds, value, role, default=role) for role, value in given.items()}
    inputs.check_distinct(named)
    # The same rules eagerly and, for dask-backed inputs, chunk by chunk (checks=).
    bound = (inputs.FOCUSING_LIMIT, inputs.FOCUSING_DOMAIN)
    rules: dict[str, dict[str, Any]] = {
        role: {"positive": role == "xi", "nonnegative": role == "kappa", "bound": bound}
        for role in given}
    rules.setdefault("sigma", {})  # derived from phi and xi, whose checks bound it
    named = {role: inputs.check_real(da, role, **rules[role]) for role, da in named.items()}
    inputs.check_focusing_domain(named)
    if phase_role == "phi":
        named["sigma"] = _sigma(named, chunks, spec.seconds_per_point)
    # Scalars that were passed as numbers add no coordinate (recorded in attrs instead).
    args: dict[str, xr.DataArray | float] = {}
    constants: dict[str, float] = {}
    for role in ("sigma", "xi", "B", "kappa", "mu"):
        da = named[role]
        if da.ndim == 0 and not isinstance(given.get(role, phi), (str, xr.DataArray)):
            args[role] = constants[role] = float(da)
        else:
            args[role] = da
    if phase_role == "phi" and named["phi"].ndim == 0:
        constants["phi"] = float(named["phi"])
    if not any(isinstance(a, xr.DataArray) for a in args.values()):
        args["xi"] = named["xi"]  # all numbers: a 0-d result
        constants.pop("xi")
    result = evaluate(spec, args, name="h", options=options, checks=rules,
                      workers=checked_workers,
                      progress=progress, timeout=timeout, chunks=chunks)
    result = _domain_checked_by_chunk(result, named)
    # phi too, where sigma was derived from it (labels.label_inputs keeps MultiIndex levels).
    result = labels.label_inputs(result, {"phi": "phi"})
    result.attrs = {"long_name": "Boyd-Kleinman focusing function h", "units": "1",
                    "formula": labels.FOCUSING_FORMULA,
                    "references": labels.FOCUSING_REFERENCES, "method": method,
                    **constants, **options, "xr_spdc_version": __version__, **result.attrs}
    return result


def _sigma(named: Mapping[str, xr.DataArray], chunks: Any,
           seconds_per_point: float | None = None) -> xr.DataArray:
    """σ = −φ/(2ξ): in memory for an eager call; lazily, formed chunk by chunk (the grid of
    φ × ξ is never built in memory: 8 bytes a point, 800 MB for 10⁸ points), cut like the
    result will be so that each chunk of the evaluation takes its own chunk of σ."""
    phi, xi = named["phi"], named["xi"]
    with xr.set_options(keep_attrs=False):
        if chunks is None and phi.chunks is None and xi.chunks is None:
            return (-phi / (2 * xi)).rename("sigma")
        dims = tuple(dict.fromkeys([*phi.dims, *xi.dims]))
        # The result's chunks: those route.evaluate will cut all the inputs into.
        others = {role: da for role, da in named.items() if role != "sigma"}
        cut = (inputs.chunk(others, chunks, seconds_per_point) if chunks is not None
               else others)
        plan = {d: c for da in cut.values()
                for d, c in (da.chunksizes.items() if da.chunks is not None else ())}
        arrays = [_aligned(phi, dims, plan), _aligned(xi, dims, plan)]
        (data,) = sweep.map_outer(_sigma_chunk, arrays, [np.float64],
                                  chunks=[plan.get(d) for d in dims])
        coords = {d: phi.coords[d] if d in phi.coords else xi.coords[d]
                  for d in dims if d in phi.coords or d in xi.coords}
        return xr.DataArray(data, dims=dims, coords=coords, name="sigma")


def _aligned(da: xr.DataArray, dims: tuple[Hashable, ...],
             plan: Mapping[Hashable, tuple[int, ...]]) -> Any:
    """``da``'s data over ``dims`` (size 1 along those it lacks); dask-backed data cut like
    ``plan``."""
    if da.chunks is not None:
        da = da.chunk({d: plan[d] for d in da.dims if d in plan})
    return da.expand_dims([d for d in dims if d not in da.dims]).transpose(*dims).data


def _sigma_chunk(phi: np.ndarray, xi: np.ndarray, *, block_info: Any
                 ) -> tuple[np.ndarray]:
    return (np.broadcast_to(-phi / (2 * xi), np.broadcast_shapes(phi.shape, xi.shape)),)


_DOMAIN_ROLES = ("sigma", "xi", "kappa", "mu")


def _domain_checked_by_chunk(h: xr.DataArray, named: Mapping[str, xr.DataArray]
                             ) -> xr.DataArray:
    """``h``, its chunks checked against the float64 domain as they compute, where an
    input was dask-backed (eagerly, :func:`~.inputs.check_focusing_domain` refused it
    before any work; on dask-backed inputs it cannot see the values).

    Without it, κξ(1+μ) beyond the domain gives inf, silently.  Each chunk runs the eager
    check on its own inputs (the same message, naming the points by their coordinates).
    """
    roles = [role for role in _DOMAIN_ROLES if role in named]
    if h.chunks is None or not any(named[role].chunks is not None for role in roles):
        return h
    dims = h.dims
    plan = dict(h.chunksizes)
    # Positions in the whole sweep: a dim without coordinate values by its index.
    coords = {d: np.asarray(h[d].values) if d in h.coords and h[d].dims == (d,)
              else np.arange(h.sizes[d]) for d in dims}
    parts = [_aligned(named[role], dims, plan) for role in roles]
    varying = [tuple(i for i, n in enumerate(np.shape(p)) if n != 1) for p in parts]
    (checked,) = sweep.map_outer(_check_chunk_domain, [h.data, *parts], [h.dtype],
                                 chunks=[plan[d] for d in dims], roles=tuple(roles),
                                 varying=varying, dims=dims, coords=coords)
    return h.copy(data=checked)


def _check_chunk_domain(h: np.ndarray, *parts: np.ndarray, block_info: Any,
                        roles: tuple[str, ...], varying: Sequence[tuple[int, ...]],
                        dims: tuple[Hashable, ...], coords: Mapping[Hashable, np.ndarray]
                        ) -> tuple[np.ndarray]:
    location = block_info[0]["array-location"]
    named = {}
    for role, part, axes in zip(roles, parts, varying, strict=True):
        part = np.asarray(part)
        named[role] = xr.DataArray(
            part.reshape([part.shape[i] for i in axes]), dims=[dims[i] for i in axes],
            coords={dims[i]: coords[dims[i]][slice(*location[i])] for i in axes})
    inputs.check_focusing_domain(named)
    return (h,)
