"""The one method registry: which block function evaluates a family's method, and at what cost.

Each method is a module-level block function (so worker processes can import it) taking 1-D
float64 arrays of equal length (the family's inputs, in order) and returning a tuple of
equally long arrays, plus the facts the engine needs to cut the work into blocks and the
labelled route needs to name the outputs.  Families: ``"overlap"`` (φ, ξ, μ),
``"focusing"`` (σ, ξ, B, κ, μ) and ``"integrand"`` (a user's parameters, then the limits).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..numerics import coupling as coupling_kernel
from ..numerics import overlap as overlap_kernel
from ..numerics import poling, quadrature, walkoff
from . import fanout

#: ``check(outputs, points)``: warns about a set of computed points (eagerly all of them,
#: lazily one dask chunk), given the outputs and the inputs by role, all of one length.
Check = Callable[[Mapping[str, np.ndarray], Mapping[str, np.ndarray]], None]
#: ``finish(outputs, options, lazy) -> (value, attrs)``: the result's values and the attrs
#: its diagnostics add, from the outputs by name (labelled arrays of the same dims: numpy-
#: backed, or dask-backed when ``lazy``, whose values are not known yet).
Finish = Callable[[Mapping[str, Any], Mapping[str, Any], bool], tuple[Any, dict[str, Any]]]


def first_output(outputs: Mapping[str, Any], options: Mapping[str, Any], lazy: bool
                 ) -> tuple[Any, dict[str, Any]]:
    """The default :data:`Finish`: the first output is the result; no attrs."""
    return next(iter(outputs.values())), {}


@dataclass(frozen=True)
class Method:
    """How one method evaluates a block.

    Attributes
    ----------
    block : callable
        ``block(*arrays, **options) -> tuple of arrays``: 1-D float64 arrays of equal
        length in, one array of that length per output out (e.g. ``phi, xi, mu``).
    outputs : tuple of (name, dtype)
        What ``block`` returns, in order; the first (e.g. "value") is the result itself
        unless ``finish`` says otherwise, the others are diagnostics for ``check`` and
        ``finish``.
    block_size : int
        Points per task: a task should take tens of milliseconds, to amortise the ~60 µs a
        task costs while keeping the load balanced and a progress bar moving.
    seconds_per_point : float
        Typical cost on one core (measured on Bennink's classic domain), used to decide
        whether a process pool can pay for its start-up when ``workers=None``.
    options : tuple of str
        Keyword options ``block`` accepts.
    isolate : bool
        True when ``block`` runs a user's code: with a pool it then runs only in worker
        processes (a crash or exit in it cannot end the caller).  False for the package's
        own kernels, which may compute a single-block job in the calling process.
    check : callable, optional
        Warns about computed points from their outputs (:data:`Check`), e.g. QUADPACK's
        failures: eagerly once, lazily per chunk as it is computed.
    finish : callable
        The result and the attrs its diagnostics add (:data:`Finish`); by default the
        first output and none.
    """

    block: Callable[..., tuple[np.ndarray, ...]]
    outputs: tuple[tuple[str, type], ...]
    block_size: int
    seconds_per_point: float
    options: tuple[str, ...] = ()
    isolate: bool = True
    check: Check | None = None
    finish: Finish = first_output


# ------------------------------------------------------------------ the overlap (φ, ξ, μ)


def overlap_exact_block(phi: np.ndarray, xi: np.ndarray, mu: np.ndarray
                        ) -> tuple[np.ndarray]:
    """The fast vectorised kernel (:func:`xr_spdc.numerics.overlap.overlap`) on one block."""
    overlap_kernel.check_domain(phi, xi, mu)
    return (overlap_kernel.overlap(phi, xi, mu),)


def overlap_quad_block(phi: np.ndarray, xi: np.ndarray, mu: np.ndarray, *, epsabs: float,
                       epsrel: float, limit: int
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-point QUADPACK (:func:`xr_spdc.numerics.quadrature.overlap_quad`) on one block."""
    overlap_kernel.check_domain(phi, xi, mu)
    result = quadrature.overlap_quad(phi, xi, mu, epsabs=epsabs, epsrel=epsrel, limit=limit)
    return result.value, result.abserr, result.status


# ------------------------------------------------------- Boyd-Kleinman h (σ, ξ, B, κ, μ)


def focusing_exact_block(sigma: np.ndarray, xi: np.ndarray, B: np.ndarray,
                         kappa: np.ndarray, mu: np.ndarray) -> tuple[np.ndarray]:
    """:func:`xr_spdc.numerics.walkoff.focusing_function` on one block."""
    walkoff.check_domain(sigma, xi, B, kappa, mu)
    return (walkoff.focusing_function(sigma, xi, B, kappa, mu),)


def focusing_quad_block(sigma: np.ndarray, xi: np.ndarray, B: np.ndarray, kappa: np.ndarray,
                        mu: np.ndarray, *, epsabs: float, epsrel: float, limit: int
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`xr_spdc.numerics.walkoff.focusing_quad` on one block."""
    walkoff.check_domain(sigma, xi, B, kappa, mu)
    result = walkoff.focusing_quad(sigma, xi, B, kappa, mu, epsabs=epsabs, epsrel=epsrel,
                                   limit=limit)
    return result.value, result.abserr, result.status


# ------------------------------------------------------ QUADPACK's diagnostics, reported

#: How many points a warning names.
SHOWN = 5


def warn_quad_failures(outputs: Mapping[str, np.ndarray], points: Mapping[str, np.ndarray]
                       ) -> None:
    """One IntegrationWarning naming the worst points, if any fell short of the tolerance."""
    from scipy.integrate import IntegrationWarning

    abserr, status = outputs["abserr"], outputs["status"]
    failed = np.flatnonzero(status)
    if not failed.size:
        return
    worst = failed[np.argsort(abserr[failed])[::-1]]
    described = dict.fromkeys(  # repeated points (e.g. an extra dim) are shown once
        fanout.format_point({role: float(v[i]) for role, v in points.items()})
        + f" (abserr {abserr[i]:.2g}: "
          f"{quadrature.STATUS_MEANINGS.get(int(status[i]), status[i])})"
        for i in worst)
    shown = "; ".join(list(described)[:SHOWN])
    warnings.warn(
        f"quad did not reach epsabs/epsrel at {failed.size} of {status.size} points; "
        f"worst: {shown}. Raise limit= or use method='auto'",
        IntegrationWarning, stacklevel=2)


def quad_attrs(outputs: Mapping[str, Any], options: Mapping[str, Any], lazy: bool
               ) -> tuple[Any, dict[str, Any]]:
    """The value, with QUADPACK's diagnostics in attrs (``quad_max_abserr``,
    ``quad_failed_points``); a lazy result has none (its chunks warn as they compute)."""
    value = next(iter(outputs.values()))
    if lazy:
        return value, {}
    return value, {
        "quad_max_abserr": float(np.max(np.asarray(outputs["abserr"]))),
        "quad_failed_points": int(np.count_nonzero(np.asarray(outputs["status"])))}
# ------------- fibre coupling (φ, ξ_p, ξ_s, ξ_i, r_s, r_i, μ_p, μ_s, μ_i)


def coupling_exact_block(phi: np.ndarray, xi_p: np.ndarray, xi_s: np.ndarray,
                         xi_i: np.ndarray, ratio_s: np.ndarray, ratio_i: np.ndarray,
                         mu_p: np.ndarray, mu_s: np.ndarray, mu_i: np.ndarray
                         ) -> tuple[np.ndarray, ...]:
    """:func:`xr_spdc.numerics.coupling.coupling` on one block: P₂/k_p², P₁ˢ/k_p², P₁ⁱ/k_p²
    and the three heralding efficiencies."""
    r = coupling_kernel.coupling(phi, xi_p, xi_s, xi_i, ratio_s, ratio_i, mu_p, mu_s, mu_i)
    return (r.pair, r.signal_singles, r.idler_singles, r.signal_heralding,
            r.idler_heralding, r.symmetric_heralding)


#: The outputs of the coupling family, in :func:`coupling_exact_block`'s order.
COUPLING_OUTPUTS = tuple((name, np.float64) for name in (
    "pair", "signal_singles", "idler_singles", "signal_heralding", "idler_heralding",
    "symmetric_heralding"))


# ----------------------------------------------------------------- a user's integrand


def integrand_block(*arrays: np.ndarray, integrand: Callable[..., Any],
                    keywords: tuple[str, ...] | None, complex_func: bool | None,
                    epsabs: float, epsrel: float, limit: int, points: tuple[float, ...] = ()
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A user's integrand by per-point QUADPACK
    (:func:`xr_spdc.numerics.quadrature.integrate_function`): ``arrays`` are its parameters
    (passed by position, or by the ``keywords`` in order), then the lower and upper limits;
    ``points`` are breakpoints, used where they lie strictly inside a point's limits."""
    *params, lower, upper = arrays
    result = quadrature.integrate_function(
        integrand, lower, upper, params, keywords=keywords, complex_func=complex_func,
        epsabs=epsabs, epsrel=epsrel, limit=limit, points=points)
    return result.value, result.abserr, result.status, result.is_complex


def integrand_finish(outputs: Mapping[str, Any], options: Mapping[str, Any], lazy: bool
                     ) -> tuple[Any, dict[str, Any]]:
    """The integral, real (float64) when ``complex_func=False``, or eagerly with
    ``complex_func=None`` when every value the integrand returned was real; complex
    otherwise (lazily its dtype must be known before anything runs)."""
    value, attrs = quad_attrs(outputs, options, lazy)
    complex_func = options.get("complex_func")
    if complex_func is False or (complex_func is None and not lazy
                                 and not np.any(np.asarray(outputs["complex"]))):
        value = value.real
    return value, attrs


#: The outputs of a per-point QUADPACK method: the value and QUADPACK's diagnostics.
QUAD_OUTPUTS = (("value", np.complex128), ("abserr", np.float64), ("status", np.int8))
_TOLERANCES = ("epsabs", "epsrel", "limit")

#: The registry: family -> method name -> Method.
#:
#: - overlap "auto": blocks of 65536 points (~30 ms): a pool task costs a worker ~0.3 ms of
#:   waiting plus ~1 ms per MB moved, so larger blocks pay it less often
#:   (benchmarks/bench_overlap.py, 10^6 points on 2 workers: 0.245-0.257 s against
#:   0.262-0.272 s with 16384).
def pattern_overlap_block(phi: np.ndarray, xi: np.ndarray, mu: np.ndarray, *,
                          walls: np.ndarray, signs: np.ndarray) -> tuple[np.ndarray]:
    """The focused overlap of a domain pattern (:func:`xr_spdc.numerics.poling.focused_overlap`)
    at points (φ, ξ, μ); the pattern's walls and signs come as options."""
    out = np.empty(phi.shape, dtype=np.complex128)
    for m in np.unique(mu):  # the kernel takes one focal position at a time
        at = mu == m
        out[at] = poling.focused_overlap(phi[at], xi[at], walls, signs, mu=float(m))
    return (out,)


#: - focusing: costs measured on BK's domain (σ ∈ [−1, 3], ξ ∈ [0.1, 100], B ≤ 32) on one
#:   core: "auto" ~5–10 µs a point (blocks of ~30 ms), "quad" ~0.1–500 ms a point, ~12 ms
#:   on average (nested QUADPACK).  Quad blocks hold 32 points (~0.4 s), so that a progress
#:   bar moves and Ctrl-C or timeout= act within a block's time (on a warm pool, blocks of 8
#:   and 32 measure the same: 5.19 s and 5.20 s for 32 × 32 points on 2 workers,
#:   benchmarks/bench_walkoff.py).
#: - integrand: a plain quad loop over the seed's grid costs ~40 µs a point for a real
#:   integrand, ~120 µs for the seed's complex one (quad's default tolerances); blocks of
#:   256 points (10-30 ms) pay a pool task's ~0.3 ms less than 3 %, where blocks of 64 paid
#:   up to 12 % (benchmarks/bench_integrate.py: workers=2 against the loop).
METHODS: dict[str, dict[str, Method]] = {
    "overlap": {
        "auto": Method(overlap_exact_block, (("value", np.complex128),), block_size=1 << 16,
                       seconds_per_point=1e-6, isolate=False),
        "quad": Method(overlap_quad_block, QUAD_OUTPUTS, block_size=256,
                       seconds_per_point=6e-5, options=_TOLERANCES, isolate=False,
                       check=warn_quad_failures, finish=quad_attrs),
    },
    "focusing": {
        "auto": Method(focusing_exact_block, (("h", np.float64),), block_size=4096,
                       seconds_per_point=1e-5, isolate=False),
        "quad": Method(focusing_quad_block, (("h", np.float64), ("abserr", np.float64),
                                             ("status", np.int8)),
                       block_size=32, seconds_per_point=1.2e-2, options=_TOLERANCES,
                       isolate=False, check=warn_quad_failures, finish=quad_attrs),
    },
    # coupling: ~0.3-2 ms a point on one core (the singles' outer rule dominates), so
    # blocks of 32 points (~30 ms).
    "coupling": {
        "auto": Method(coupling_exact_block, COUPLING_OUTPUTS, block_size=32,
                       seconds_per_point=1e-3, isolate=False),
    },
    "integrand": {
        "quad": Method(integrand_block, (*QUAD_OUTPUTS, ("complex", np.bool_)),
                       block_size=256, seconds_per_point=3e-4,
                       options=(*_TOLERANCES, "integrand", "keywords", "complex_func",
                                "points"),
                       check=warn_quad_failures, finish=integrand_finish),
    },
    # ~1 µs per point and domain: 3e-4 s a point for a 30 mm PPKTP grating (~1300 domains)
    "pattern_overlap": {
        "exact": Method(pattern_overlap_block, (("value", np.complex128),), block_size=256,
                        seconds_per_point=3e-4, options=("walls", "signs"), isolate=False),
    },
}
