"""The integration methods: which kernel evaluates a block of points, and at what cost.

Each method is a module-level block function (so worker processes can import it) taking
1-D ``phi, xi, mu`` arrays and returning a tuple of equally long arrays, plus the facts
:mod:`xr_spdc.evaluate` needs to cut the work into blocks and label the outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import quad as _quad


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


def check_block(phi: np.ndarray, xi: np.ndarray, mu: np.ndarray) -> None:
    """Refuse values outside the kernels' domain (:func:`xr_spdc.kernels.check_domain`).

    The labelled inputs are checked with their positions before any block is computed
    (eagerly, or as their dask chunks are); this is the last guard of a block function
    called directly.
    """
    from .kernels import check_domain

    check_domain(phi, xi, mu)


def exact_block(phi: np.ndarray, xi: np.ndarray, mu: np.ndarray) -> tuple[np.ndarray]:
    """The fast vectorised kernel (:func:`xr_spdc.kernels.overlap`) on one block."""
    from .kernels import overlap

    check_block(phi, xi, mu)
    return (overlap(phi, xi, mu),)


def quad_block(phi: np.ndarray, xi: np.ndarray, mu: np.ndarray, *, epsabs: float,
               epsrel: float, limit: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-point QUADPACK (:func:`xr_spdc.quad.overlap_quad`) on one block."""
    check_block(phi, xi, mu)
    result = _quad.overlap_quad(phi, xi, mu, epsabs=epsabs, epsrel=epsrel, limit=limit)
    return result.value, result.abserr, result.status


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
    result = _quad.integrate_points(
        _quad.ComplexPart(integrand, names, imag=False),
        _quad.ComplexPart(integrand, names, imag=True),
        lower, upper, tuple(params), epsabs=epsabs, epsrel=epsrel, limit=limit, **extra)
    return result.value, result.abserr, result.status


#: The outputs of a per-point QUADPACK method: the value and QUADPACK's diagnostics.
QUAD_OUTPUTS = (("value", np.complex128), ("abserr", np.float64), ("status", np.int8))

#: ``ds.spdc.integrate``: a user's integrand costs more than the overlap's (two Python calls
#: per node, one per part), so blocks are smaller.
INTEGRAND = Method(integrand_block, QUAD_OUTPUTS, block_size=64, seconds_per_point=3e-4,
                   options=("epsabs", "epsrel", "limit"))

#: "auto" blocks of 65536 points (~30 ms): a pool task costs a worker ~0.3 ms of waiting
#: plus ~1 ms per MB moved, so larger blocks pay it less often (benchmarks/bench_overlap.py,
#: 10^6 points on 2 workers: 0.245-0.257 s against 0.262-0.272 s with 16384).
METHODS: dict[str, Method] = {
    "auto": Method(exact_block, (("value", np.complex128),), block_size=1 << 16,
                   seconds_per_point=1e-6, isolate=False),
    "quad": Method(quad_block, QUAD_OUTPUTS, block_size=256, seconds_per_point=6e-5,
                   options=("epsabs", "epsrel", "limit"), isolate=False),
}
