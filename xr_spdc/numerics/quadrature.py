"""Adaptive QUADPACK integration, one point at a time: the reference path.

This is what users of the seed blog post write by hand — a ``scipy.integrate.quad`` per
(phi, xi) point — done right: the real and imaginary parts are integrated separately from
``math``-based integrands (no ComplexWarning, nothing silently dropped, about four times
faster than a numpy-scalar complex integrand), and each point's error estimate and QUADPACK
status are returned instead of printed as warnings.

For the overlap itself (:func:`overlap_quad`) the integral is taken in s = asinh(ξl), where
the integrand has constant modulus and no peak: in l it has a peak of width 1/ξ at l = 0,
which QUADPACK can sample too coarsely while reporting success (ξ ≥ 1e5: errors of 4–13 % of
the envelope with ier = 0).

Pure numpy/scipy: nothing here knows about xarray.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from .overlap import envelope

# Tighter than scipy's defaults (1.49e-8, 50): on Bennink's classic domain they keep the
# error below 1e-14 of the envelope E(xi) for ~10 % more time (measured against mpmath).
EPSABS = 1e-10
EPSREL = 1e-10
LIMIT = 200

# What a point's status means: QUADPACK's ier codes 1-5, and ours.
STATUS_MEANINGS = {
    0: "converged",
    1: "the maximum number of subdivisions (limit) was reached",
    2: "round-off error prevented the requested tolerance",
    3: "extremely bad integrand behaviour",
    4: "the extrapolation did not converge",
    5: "the integral is probably divergent",
    6: "outside the domain where the overlap's tolerance can be met (rounding of the "
       "substitution alone exceeds it)",
    7: "QUADPACK failed with another message",
    8: "the integral or its error estimate is not finite (the integrand returned inf or NaN)",
}
_OUT_OF_PROMISE, _UNKNOWN, NOT_FINITE = 6, 7, 8

# QUADPACK's ier codes, keyed by the start of the message scipy.integrate.quad returns.
_STATUS_BY_MESSAGE = {
    "The maximum number of subdivisions": 1,
    "The occurrence of roundoff error": 2,
    "Extremely bad integrand behavior": 3,
    "The algorithm does not converge": 4,
    "The integral is probably divergent": 5,
}

# numpy's warning of a discarded imaginary part (np.exceptions from numpy 1.25).
_ComplexWarning: type[Warning] = getattr(np, "exceptions", np).ComplexWarning

# Unit roundoff, for the rounding bound of the overlap's substitution (see overlap_quad).
_EPS = float(np.finfo(np.float64).eps)

# QUADPACK keeps ~36 bytes of work arrays per allowed subinterval, per call: 10**6 is 36 MB
# (its C int would allow 2**31 - 1, i.e. 77 GB).  With epsabs <= 0 it needs epsrel above
# max(50 eps, 5e-29) (QUADPACK's ier = 6, "invalid input").
MAX_LIMIT = 10**6
_MIN_EPSREL = max(50 * _EPS, 5e-29)


def check_tolerances(epsabs: float | np.ndarray, epsrel: float, limit: int) -> None:
    """Refuse tolerances and limits QUADPACK cannot run with, before any work starts.

    Parameters
    ----------
    epsabs, epsrel : float
        Absolute and relative tolerances (non-negative).
    limit : int
        Subdivision limit, 1 to :data:`MAX_LIMIT`.

    Raises
    ------
    ValueError
        If both tolerances are too small to be met (epsabs <= 0 and epsrel below
        max(50 ε, 5e-29)), or ``limit`` is outside 1..MAX_LIMIT.

    Examples
    --------
    >>> check_tolerances(0.0, 1e-10, 200)
    >>> check_tolerances(0.0, 0.0, 200)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: epsabs=0.0 and epsrel=0.0 cannot be met: ...
    """
    if not np.all(np.asarray(epsabs) > 0) and not epsrel >= _MIN_EPSREL:
        raise ValueError(f"epsabs={epsabs!r} and epsrel={epsrel!r} cannot be met: QUADPACK "
                         f"needs epsabs > 0 or epsrel >= {_MIN_EPSREL:.3g}")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT} subintervals (QUADPACK "
                         f"keeps ~36 bytes per subinterval), not {limit!r}")


class QuadResult(NamedTuple):
    """Values of a per-point quadrature with QUADPACK's diagnostics.

    Attributes
    ----------
    value : ndarray of complex128
        The integrals.
    abserr : ndarray of float64
        QUADPACK's estimate of the absolute error, real and imaginary parts added.
    status : ndarray of int8
        0 where QUADPACK reached the tolerance, otherwise a code of
        :data:`STATUS_MEANINGS`: QUADPACK's ``ier`` (1: the subdivision limit was reached,
        2: round-off, 3: bad integrand behaviour, 4: no convergence, 5: probably divergent),
        6 (:func:`overlap_quad` only: outside the domain where its tolerance can be met),
        7 (another QUADPACK failure) or 8 (a value or error estimate that is not finite:
        the integrand returned inf or NaN); the worse of the real and imaginary parts.
    """

    value: np.ndarray
    abserr: np.ndarray
    status: np.ndarray


def _overlap_real(l: float, phi: float, xi: float) -> float:
    # Re[exp(i*phi*l/2) / (1 - i*xi*l)] = (cos t - xi*l*sin t) / (1 + (xi*l)^2)
    t = 0.5 * phi * l
    xl = xi * l
    return (math.cos(t) - xl * math.sin(t)) / (1.0 + xl * xl)


def _overlap_imag(l: float, phi: float, xi: float) -> float:
    t = 0.5 * phi * l
    xl = xi * l
    return (math.sin(t) + xl * math.cos(t)) / (1.0 + xl * xl)


# In s = asinh(xi*l): dl = cosh(s) ds/xi and 1/(1 - i sinh s) = (1 + i sinh s)/cosh^2 s, so
# sqrt(xi) e^{i phi l/2}/(1 - i xi l) dl = e^{i theta} (1/cosh s + i tanh s) ds / sqrt(xi),
# theta = (phi/2) sinh(s)/xi: modulus 1/sqrt(xi) everywhere.  ``k`` = phi/2.
def _overlap_s_real(s: float, k: float, xi: float) -> float:
    t = k * (math.sinh(s) / xi)
    return math.cos(t) / math.cosh(s) - math.tanh(s) * math.sin(t)


def _overlap_s_imag(s: float, k: float, xi: float) -> float:
    t = k * (math.sinh(s) / xi)
    return math.sin(t) / math.cosh(s) + math.tanh(s) * math.cos(t)


def quad_part(
    func: Callable[..., float],
    lower: float,
    upper: float,
    args: tuple[Any, ...],
    epsabs: float,
    epsrel: float,
    limit: int,
    points: tuple[float, ...] = (),
) -> tuple[float, float, int]:
    """One real QUADPACK integral, with a status code instead of a printed warning.

    ``points`` are breakpoints strictly inside the limits: QAGP for finite limits; with an
    infinite limit (which QUADPACK cannot combine with breakpoints) the integral is split at
    them by hand, values and errors added and the worst status kept.
    """
    if points and not (math.isfinite(lower) and math.isfinite(upper)):
        ends = [lower, *sorted(points, reverse=upper < lower), upper]
        pieces = [quad_part(func, a, b, args, epsabs / (len(ends) - 1), epsrel, limit)
                  for a, b in zip(ends[:-1], ends[1:], strict=True)]
        return (math.fsum(p[0] for p in pieces), math.fsum(p[1] for p in pieces),
                max(p[2] for p in pieces))
    from scipy.integrate import quad  # here: importing xr_spdc must stay light

    # With breakpoints QUADPACK starts from len(points) + 1 subintervals, so its limit must
    # exceed that (scipy refuses otherwise): a smaller limit= means "no further splitting".
    limit = max(limit, len(points) + 1) if points else limit
    out = quad(func, lower, upper, args=args, epsabs=epsabs, epsrel=epsrel, limit=limit,
               full_output=1, points=points or None)
    # full_output=1 returns (value, abserr, infodict) when QUADPACK's ier is 0 and appends
    # its message otherwise; scipy hands back the message, not the code, so map it back.
    if not (math.isfinite(out[0]) and math.isfinite(out[1])):
        # QUADPACK reports ier = 0 for an integrand that returns inf at a node.
        return out[0], out[1], NOT_FINITE
    if len(out) == 3:
        return out[0], out[1], 0
    return out[0], out[1], _status_of(out[3])


def integrate_points(
    real_part: Callable[..., float],
    imag_part: Callable[..., float],
    lower: np.ndarray,
    upper: np.ndarray,
    args: tuple[np.ndarray, ...],
    *,
    epsabs: float | np.ndarray = EPSABS,
    epsrel: float = EPSREL,
    limit: int = LIMIT,
    points: tuple[float, ...] = (),
) -> QuadResult:
    """Integrate a complex integrand from ``lower`` to ``upper`` at every point.

    Parameters
    ----------
    real_part, imag_part : callable
        ``f(l, *point_args) -> float``, the real and imaginary parts of the integrand.
    lower, upper : ndarray
        Integration limits, one per point (same shape as each array in ``args``).
    args : tuple of ndarray
        Per-point extra arguments, all of one shape.
    epsabs, epsrel, limit
        Passed to :func:`scipy.integrate.quad` for each part (``epsabs`` may also be an
        array, one tolerance per point).
    points : tuple of float, optional
        Breakpoints (peaks, kinks, discontinuities of the integrand), used at each point
        where they lie strictly inside its limits, so QUADPACK splits the interval there.

    Raises
    ------
    ValueError
        For tolerances or a limit QUADPACK cannot run with (:func:`check_tolerances`).

    Returns
    -------
    QuadResult
        Values, error estimates and status codes, each of the points' shape.  A value that
        is not finite (the integrand returned inf or NaN) has status 8, never 0.

    Examples
    --------
    >>> import math
    >>> import numpy as np
    >>> from xr_spdc.numerics.quadrature import integrate_points
    >>> res = integrate_points(lambda l: math.sqrt(abs(l)), lambda l: 0.0,
    ...                        np.array([-1.0]), np.array([1.0]), (), points=(0.0,))
    >>> round(float(res.value[0].real), 12), int(res.status[0])
    (1.333333333333, 0)
    """
    check_tolerances(epsabs, epsrel, limit)
    lower = np.asarray(lower, dtype=np.float64)
    shape = lower.shape
    lower = lower.ravel()
    upper = np.broadcast_to(np.asarray(upper, dtype=np.float64), shape).ravel()
    tolerance = np.broadcast_to(np.asarray(epsabs, dtype=np.float64), shape).ravel().tolist()
    columns = [np.broadcast_to(np.asarray(a), shape).ravel().tolist() for a in args]
    breaks = sorted({float(p) for p in points})
    value = np.empty(lower.size, dtype=np.complex128)
    abserr = np.empty(lower.size, dtype=np.float64)
    status = np.zeros(lower.size, dtype=np.int8)
    for i, (a, b) in enumerate(zip(lower.tolist(), upper.tolist(), strict=True)):
        point = tuple(column[i] for column in columns)
        inside = tuple(p for p in breaks if min(a, b) < p < max(a, b))
        re, re_err, re_status = quad_part(real_part, a, b, point, tolerance[i], epsrel, limit,
                                           inside)
        im, im_err, im_status = quad_part(imag_part, a, b, point, tolerance[i], epsrel, limit,
                                           inside)
        value[i] = complex(re, im)
        abserr[i] = re_err + im_err
        status[i] = max(re_status, im_status)
    return QuadResult(value.reshape(shape), abserr.reshape(shape), status.reshape(shape))


class IntegralResult(NamedTuple):
    """A user's integrand integrated point by point (:func:`integrate_function`).

    Attributes
    ----------
    value : ndarray of complex128
        The integrals (imaginary part 0 where ``is_complex`` is False).
    abserr, status : ndarray
        As for :class:`QuadResult`.
    is_complex : ndarray of bool
        Where the integrand returned complex values, so that its imaginary part was
        integrated too (a second QUADPACK call); False where every value was real (one call).
    """

    value: np.ndarray
    abserr: np.ndarray
    status: np.ndarray
    is_complex: np.ndarray


def integrate_function(
    func: Callable[..., Any],
    lower: np.ndarray,
    upper: np.ndarray,
    args: Sequence[np.ndarray],
    *,
    keywords: Sequence[str] | None = None,
    complex_func: bool | None = None,
    epsabs: float | np.ndarray = EPSABS,
    epsrel: float = EPSREL,
    limit: int = LIMIT,
    points: tuple[float, ...] = (),
) -> IntegralResult:
    """Integrate a user's (real or complex) integrand from ``lower`` to ``upper`` at each point.

    What a plain loop of ``scipy.integrate.quad(func, a, b, args=point)`` does, at its cost:
    ``func`` goes to QUADPACK itself, unwrapped, one call a point while it returns real
    numbers; where it returns a complex number, the real and imaginary parts are integrated
    apart, as ``quad(..., complex_func=True)`` does (two calls).

    Parameters
    ----------
    func : callable
        ``func(l, *point)`` (or ``func(l, **dict(zip(keywords, point)))``) -> a real or
        complex number.
    lower, upper : ndarray
        Integration limits, one per point (or broadcastable to ``lower``).
    args : sequence of ndarray
        Per-point parameters, all of one shape.
    keywords : sequence of str, optional
        Pass ``args`` by these keywords instead of by position.
    complex_func : bool or None
        None: integrate the imaginary part only where ``func`` returns complex values.
        True: always (scipy's ``complex_func=True``).  False: ``func`` must return real
        numbers; a complex one raises a TypeError (nothing is dropped silently).
    epsabs, epsrel, limit, points
        As for :func:`integrate_points`.

    Returns
    -------
    IntegralResult

    Raises
    ------
    TypeError
        ``complex_func=False`` and ``func`` returned a complex number.
    ValueError
        For tolerances or a limit QUADPACK cannot run with (:func:`check_tolerances`).

    Notes
    -----
    A complex value is seen either as QUADPACK's refusal of a Python ``complex`` (a
    TypeError) or as numpy's ComplexWarning when it casts a numpy complex scalar; the point
    is then integrated again as complex, and the rest of the block starts out complex.  The
    other warnings ``func`` raises reach the caller unchanged.

    Examples
    --------
    >>> import math
    >>> import numpy as np
    >>> res = integrate_function(lambda l, k: math.cos(k * l), np.array([-1.0, -1.0]),
    ...                          np.array([1.0, 1.0]), (np.array([1.0, 2.0]),))
    >>> np.round(res.value.real, 12).tolist(), res.is_complex.tolist()
    ([1.682941969616, 0.909297426826], [False, False])
    """
    from scipy.integrate import IntegrationWarning  # here: importing xr_spdc stays light

    check_tolerances(epsabs, epsrel, limit)
    lower = np.asarray(lower, dtype=np.float64)
    shape, n = lower.shape, lower.size
    starts = lower.ravel().tolist()
    ends = np.broadcast_to(np.asarray(upper, dtype=np.float64), shape).ravel().tolist()
    tolerance = np.broadcast_to(np.asarray(epsabs, dtype=np.float64), shape).ravel().tolist()
    columns = [np.broadcast_to(np.asarray(a), shape).ravel().tolist() for a in args]
    at = list(zip(*columns, strict=True)) if columns else [()] * n
    breaks = sorted({float(p) for p in points})
    out = IntegralResult(np.zeros(n, np.complex128), np.zeros(n), np.zeros(n, np.int8),
                         np.zeros(n, bool))
    with warnings.catch_warnings(record=True) as log:
        # "always": numpy warns of a discarded imaginary part once per place otherwise.
        warnings.simplefilter("always", _ComplexWarning)
        warnings.simplefilter("always", IntegrationWarning)
        complex_now = complex_func or (complex_func is None and n > 0 and _returns_complex(
            *_bind(func, keywords, at[0]), starts[0], ends[0]))
        for i in range(n):
            call, point = _bind(func, keywords, at[i])
            job = _Job(call, starts[i], ends[i], point, tolerance[i], epsrel, limit,
                       _inside(breaks, starts[i], ends[i]) if breaks else (), log)
            found = None if complex_now else job.real()
            if found is not None:
                out.value[i], out.abserr[i], out.status[i] = found
                continue
            if complex_func is False:
                raise TypeError(_COMPLEX_REFUSED)
            complex_now = True
            (out.value[i], out.abserr[i], out.status[i]), out.is_complex[i] = job.complex(), True
    for w in log:  # what func warned, to the caller (the block's recorder, or the user)
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    return IntegralResult(*(array.reshape(shape) for array in out))


_COMPLEX_REFUSED = ("the integrand returned a complex value, but complex_func=False; pass "
                    "complex_func=None (the default) or True to integrate its imaginary part "
                    "too, or return the real part if that is what you mean")


def _bind(func: Callable[..., Any], keywords: Sequence[str] | None, point: tuple[Any, ...]
          ) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    """``func`` and the arguments QUADPACK passes after l: by position as they are, or by
    keyword through a partial (no Python-level wrapper either way)."""
    if keywords is None:
        return func, point
    return functools.partial(func, **dict(zip(keywords, point, strict=True))), ()


def _inside(breaks: list[float], a: float, b: float) -> tuple[float, ...]:
    return tuple(p for p in breaks if min(a, b) < p < max(a, b))


def _returns_complex(call: Callable[..., Any], point: tuple[Any, ...], a: float,
                     b: float) -> bool:
    """Whether ``call`` returns a complex number at a node QUADPACK visits (the middle of a
    finite interval); False if it fails there (QUADPACK then meets the failure)."""
    middle = 0.5 * (a + b) if math.isfinite(a) and math.isfinite(b) else (
        a if math.isfinite(a) else b if math.isfinite(b) else 0.0)
    try:
        value = call(middle, *point)
    except Exception:  # noqa: BLE001 - reported by the integration itself
        return False
    return bool(np.iscomplexobj(value))


# Where scipy's quad warns from: its IntegrationWarning names our call (stacklevel=2), and
# numpy's ComplexWarning of a discarded imaginary part names scipy's own module.
_HERE = __file__
_QUADPACK_MODULE = "_quadpack_py.py"


class _Job(NamedTuple):
    """One point's integral, as ``quad(call, a, b, args=point)`` computes it."""

    call: Callable[..., Any]
    a: float
    b: float
    point: tuple[Any, ...]
    epsabs: float
    epsrel: float
    limit: int
    inside: tuple[float, ...]
    log: list[warnings.WarningMessage]

    def real(self) -> tuple[float, float, int] | None:
        """One QUADPACK call on ``call`` itself; None where it returned a complex number."""
        mark = len(self.log)
        try:
            found = self._quad(self.call)
        except Exception as exc:
            # QUADPACK's refusal of a Python complex: "must be real number, not complex"
            # (scipy >= 1.15), "Supplied function does not return a valid float" (before).
            # An error of func's own is raised again when the point is integrated as complex.
            if not ("complex" in str(exc) or "valid float" in str(exc)):
                raise
            return None
        if len(self.log) > mark and self._discarded_imaginary(mark):
            return None
        return found

    def complex(self) -> tuple[complex, float, int]:
        """As ``quad(..., complex_func=True)``: the real and imaginary parts apart."""
        call = self.call

        def real(l: float, *point: Any) -> float:
            return call(l, *point).real

        def imag(l: float, *point: Any) -> float:
            return call(l, *point).imag

        re, re_err, re_status = self._quad(real)
        im, im_err, im_status = self._quad(imag)
        return complex(re, im), re_err + im_err, max(re_status, im_status)

    def _quad(self, f: Callable[..., Any]) -> tuple[float, float, int]:
        if self.inside:
            return quad_part(f, self.a, self.b, self.point, self.epsabs, self.epsrel,
                             self.limit, self.inside)
        from scipy.integrate import quad

        # Without full_output (it builds arrays a point: ~3 % of a cheap integrand's time):
        # QUADPACK's ier comes as scipy's IntegrationWarning, recorded in the log.
        mark = len(self.log)
        value, abserr = quad(f, self.a, self.b, args=self.point, epsabs=self.epsabs,
                             epsrel=self.epsrel, limit=self.limit)
        status = 0
        if len(self.log) > mark:
            status = self._status(mark)
        if not (math.isfinite(value) and math.isfinite(abserr)):
            status = NOT_FINITE
        return value, abserr, status

    def _status(self, mark: int) -> int:
        """QUADPACK's ier from quad's own IntegrationWarning (dropped from the log)."""
        from scipy.integrate import IntegrationWarning

        status = 0
        for w in list(self.log[mark:]):
            if issubclass(w.category, IntegrationWarning) and w.filename == _HERE:
                status = max(status, _status_of(str(w.message)))
                self.log.remove(w)
        return status

    def _discarded_imaginary(self, mark: int) -> bool:
        """Whether QUADPACK cast a complex value to real since ``mark`` (those warnings are
        dropped: the point is integrated again, as complex)."""
        cast = [w for w in self.log[mark:]
                if issubclass(w.category, _ComplexWarning)
                and w.filename.endswith(_QUADPACK_MODULE)]
        if not cast:
            return False
        del self.log[mark:]
        return True


def _status_of(message: str) -> int:
    return next((code for prefix, code in _STATUS_BY_MESSAGE.items()
                 if message.startswith(prefix)), _UNKNOWN)


def overlap_quad(
    phi: np.ndarray,
    xi: np.ndarray,
    mu: np.ndarray | float = 0.0,
    *,
    epsabs: float = EPSABS,
    epsrel: float = EPSREL,
    limit: int = LIMIT,
) -> QuadResult:
    """The SPDC overlap by adaptive quadrature, one QUADPACK call pair per point.

    .. math:: O(\\phi, \\xi, \\mu) = \\sqrt{\\xi}\\int_{-1-\\mu}^{1-\\mu}
              \\frac{e^{i\\phi l/2}}{1 - i\\xi l}\\,dl

    (Bennink, Phys. Rev. A 81, 053805 (2010), Eq. 27.)

    Parameters
    ----------
    phi : array_like
        Phase mismatch Φ in radians.
    xi : array_like
        Aggregate focus ξ > 0.
    mu : array_like, optional
        Focal displacement μ (0: focus in the crystal's centre).
    epsabs : float, optional
        Absolute tolerance in units of the envelope E(ξ, μ)
        (:func:`xr_spdc.numerics.overlap.envelope`),
        shared by the real and imaginary parts: the error is at most about
        max(epsabs·E, epsrel·|O|) ≤ 1e-10·E with the defaults.
    epsrel, limit
        QUADPACK's relative tolerance and subdivision limit, for each part.

    Returns
    -------
    QuadResult
        ``value`` (complex128), ``abserr`` (QUADPACK's estimate for O) and ``status`` with
        the broadcast shape.

    Notes
    -----
    Where the pole's peak (width 1/ξ at l = 0) is on the interval's scale, i.e.
    ξ·max(|l₁|, |l₂|) > 1, the integral is taken in s = asinh(ξl):

    .. math:: O = \\frac{1}{\\sqrt\\xi}\\int_{s_1}^{s_2} e^{i\\theta}
              \\left(\\frac{1}{\\cosh s} + i\\tanh s\\right) ds, \\qquad
              \\theta = \\frac{\\phi\\sinh s}{2\\xi},

    an integrand of modulus 1/√ξ with no peak (the number of oscillations is unchanged),
    so E = (s₂ − s₁)/√ξ and each part gets QUADPACK's absolute tolerance
    epsabs·(s₂ − s₁)/2, with s = 0 (l = 0, the former peak) as a breakpoint when inside.
    Otherwise the integrand in l is smooth (its modulus varies by less than √2) and is
    integrated as it is.  Rounding the ends and the phase (in s: s₁, s₂ and θ) costs up to
    about ε·(2 + |μ| + |φ|(1 + |μ|)) of E; points where that exceeds max(epsabs, epsrel) get
    status 6 (their value is still computed).  Accuracy, measured against mpmath on 5,000
    random points of the classic domain and 1,000 with |μ| ≤ 1.5
    (tests/data/overlap_references.npz): ≤ 1e-10·E with status 0 everywhere.

    Examples
    --------
    >>> import numpy as np
    >>> res = overlap_quad(np.array([0.0]), np.array([1.0]))
    >>> bool(abs(res.value[0] - np.pi / 2) < 1e-12), int(res.status[0])
    (True, 0)
    """
    check_tolerances(epsabs, epsrel, limit)
    phi, xi, mu = np.broadcast_arrays(
        np.asarray(phi, np.float64), np.asarray(xi, np.float64), np.asarray(mu, np.float64)
    )
    shape = phi.shape
    phi, xi, mu = phi.ravel(), xi.ravel(), mu.ravel()
    l1, l2 = -1.0 - mu, 1.0 - mu
    root = np.sqrt(xi)
    scale = envelope(xi, mu)
    value = np.empty(phi.shape, dtype=np.complex128)
    abserr = np.empty(phi.shape, dtype=np.float64)
    status = np.zeros(phi.shape, dtype=np.int8)
    peaked = xi * np.maximum(np.abs(l1), np.abs(l2)) > 1.0
    if peaked.any():
        s1, s2 = np.arcsinh(xi[peaked] * l1[peaked]), np.arcsinh(xi[peaked] * l2[peaked])
        res = integrate_points(_overlap_s_real, _overlap_s_imag, s1, s2,
                               (0.5 * phi[peaked], xi[peaked]),
                               epsabs=0.5 * epsabs * (s2 - s1), epsrel=epsrel, limit=limit,
                               points=(0.0,))
        value[peaked] = res.value / root[peaked]
        abserr[peaked] = res.abserr / root[peaked]
        status[peaked] = res.status
    flat = ~peaked
    if flat.any():
        res = integrate_points(_overlap_real, _overlap_imag, l1[flat], l2[flat],
                               (phi[flat], xi[flat]),
                               epsabs=0.5 * epsabs * scale[flat] / root[flat], epsrel=epsrel,
                               limit=limit)
        value[flat] = res.value * root[flat]
        abserr[flat] = res.abserr * root[flat]
        status[flat] = res.status
    rounding = _EPS * (2.0 + np.abs(mu) + np.abs(phi) * (1.0 + np.abs(mu)))
    # Rounding l = -1-mu and the phase phi*l/2 (either variable) costs ~rounding of E.
    status[(status == 0) & (rounding > max(epsabs, epsrel))] = _OUT_OF_PROMISE
    return QuadResult(value.reshape(shape), abserr.reshape(shape), status.reshape(shape))
