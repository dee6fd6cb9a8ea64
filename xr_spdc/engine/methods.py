"""The one method registry: which block function evaluates a family's method, and at what cost.

Each method is a module-level block function (so worker processes can import it) taking 1-D
float64 arrays of equal length (the family's inputs, in order) and returning a tuple of
equally long arrays, plus the facts the engine needs to cut the work into blocks and the
labelled route needs to name the outputs.  Families: ``"overlap"`` (φ, ξ, μ),
``"focusing"`` (σ, ξ, B, κ, μ) and ``"integrand"`` (a user's parameters, then the limits).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..numerics import coupling as coupling_kernel
from ..numerics import overlap as overlap_kernel
from ..numerics import quadrature, walkoff


@dataclass(frozen=True)
class Method:
    """How one method evaluates a block.

    Attributes
    ----------
    block : callable
        ``block(*arrays, **options) -> tuple of arrays``: 1-D float64 arrays of equal
        length in, one array of that length per output out (e.g. ``phi, xi, mu``).
    outputs : tuple of (name, dtype)
        What ``block`` returns, in order; the first (e.g. "value") is the result itself.
        Outputs named "abserr" and "status" are QUADPACK's diagnostics: the pipeline
        records them in attrs (``quad_max_abserr``, ``quad_failed_points``) and warns.
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
    """

    block: Callable[..., tuple[np.ndarray, ...]]
    outputs: tuple[tuple[str, type], ...]
    block_size: int
    seconds_per_point: float
    options: tuple[str, ...] = ()
    isolate: bool = True


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


def integrand_block(*arrays: np.ndarray, integrand: Callable[..., complex],
                    names: tuple[str, ...], epsabs: float, epsrel: float, limit: int,
                    points: tuple[float, ...] | None = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A user's integrand by per-point QUADPACK: ``arrays`` are its parameters (in the order
    of ``names``), then the lower and upper limits; ``points`` are breakpoints, used where
    they lie strictly inside a point's limits."""
    *params, lower, upper = arrays
    # Only when given: integrate_points takes points= from the kernel helper's branch on.
    extra = {"points": points} if points else {}
    result = quadrature.integrate_points(
        quadrature.ComplexPart(integrand, names, imag=False),
        quadrature.ComplexPart(integrand, names, imag=True),
        lower, upper, tuple(params), epsabs=epsabs, epsrel=epsrel, limit=limit, **extra)
    return result.value, result.abserr, result.status


#: The outputs of a per-point QUADPACK method: the value and QUADPACK's diagnostics.
QUAD_OUTPUTS = (("value", np.complex128), ("abserr", np.float64), ("status", np.int8))
_TOLERANCES = ("epsabs", "epsrel", "limit")

#: The registry: family -> method name -> Method.
#:
#: - overlap "auto": blocks of 65536 points (~30 ms): a pool task costs a worker ~0.3 ms of
#:   waiting plus ~1 ms per MB moved, so larger blocks pay it less often
#:   (benchmarks/bench_overlap.py, 10^6 points on 2 workers: 0.245-0.257 s against
#:   0.262-0.272 s with 16384).
#: - focusing: costs measured on BK's domain (σ ∈ [−1, 3], ξ ∈ [0.1, 100], B ≤ 32) on one
#:   core: "auto" ~5–10 µs a point (blocks of ~30 ms), "quad" ~0.1–500 ms a point, ~12 ms
#:   on average (nested QUADPACK).  Quad blocks hold 32 points (~0.4 s), so that a progress
#:   bar moves and Ctrl-C or timeout= act within a block's time (on a warm pool, blocks of 8
#:   and 32 measure the same: 5.19 s and 5.20 s for 32 × 32 points on 2 workers,
#:   benchmarks/bench_walkoff.py).
#: - integrand: a user's integrand costs more than the overlap's (two Python calls per
#:   node, one per part), so blocks are smaller.
METHODS: dict[str, dict[str, Method]] = {
    "overlap": {
        "auto": Method(overlap_exact_block, (("value", np.complex128),), block_size=1 << 16,
                       seconds_per_point=1e-6, isolate=False),
        "quad": Method(overlap_quad_block, QUAD_OUTPUTS, block_size=256,
                       seconds_per_point=6e-5, options=_TOLERANCES, isolate=False),
    },
    "focusing": {
        "auto": Method(focusing_exact_block, (("h", np.float64),), block_size=4096,
                       seconds_per_point=1e-5, isolate=False),
        "quad": Method(focusing_quad_block, (("h", np.float64), ("abserr", np.float64),
                                             ("status", np.int8)),
                       block_size=32, seconds_per_point=1.2e-2, options=_TOLERANCES,
                       isolate=False),
    },
    # coupling: ~0.3-2 ms a point on one core (the singles' outer rule dominates), so
    # blocks of 32 points (~30 ms).
    "coupling": {
        "auto": Method(coupling_exact_block, COUPLING_OUTPUTS, block_size=32,
                       seconds_per_point=1e-3, isolate=False),
    },
    "integrand": {
        "quad": Method(integrand_block, QUAD_OUTPUTS, block_size=64, seconds_per_point=3e-4,
                       options=_TOLERANCES),
    },
}
