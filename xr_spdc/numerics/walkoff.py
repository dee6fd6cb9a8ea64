"""Boyd and Kleinman's focusing function with walk-off B and absorption κ, on numpy arrays.

Boyd & Kleinman, J. Appl. Phys. 39, 3597 (1968), Sec. II–III, write the general focusing
function (their H, here ``h``; the paper's equation numbers could not be checked here, as no
copy of it was at hand: the definition below is the package's reading of it, and what was
checked is its B = κ = 0 case against Bennink's overlap and the limits in the tests)

    h(σ, B, κ, ξ, μ) = 1/(4ξ) ∫_a^b ∫_a^b dτ dτ′ exp[−κ(τ+τ′) + iσ(τ−τ′) − (B²/ξ)(τ−τ′)²]
                                               / [(1+iτ)(1−iτ′)],
    a = −ξ(1+μ),  b = ξ(1−μ),

in the package's μ, the one of :func:`xr_spdc.overlap`: τ = 2(z − f)/b = ξl runs along the
beams like l = 2z/L, the crystal spans l ∈ [−1−μ, 1−μ], and the focus lies μL/2 beyond the
crystal's centre.  Boyd and Kleinman's own μ, defined by the focus's distance
f = L(1 − μ_BK)/2 from the entrance face, is −μ: their limits read −ξ(1−μ_BK), ξ(1+μ_BK).
The sign matters only with absorption (for κ = 0, h is even in μ).

Conventions, checked (tests/test_walkoff.py): with τ = ξl the package's overlap
O(φ, ξ, μ) = √ξ ∫_{−1−μ}^{1−μ} e^{iφl/2}/(1−iξl) dl has the complex conjugate
(1/√ξ) ∫_a^b e^{iστ}/(1+iτ) dτ with σ = −φ/(2ξ), so at B = κ = 0, h = |O|²/4.

h is real: under τ ↔ τ′ the integrand becomes its complex conjugate (the integrand is
Hermitian), so the double integral equals its own conjugate.

Reduction to one dimension (derived here; the same steps are checked against 2-D QUADPACK
and against mpmath in the tests).  With s = τ − τ′ ≥ 0 (the half s < 0 is the conjugate)
and t = τ′ ∈ [a, b − s],

    h = (1/2ξ) Re ∫_0^{2ξ} e^{iσs − βs²} I(s) ds,   β = B²/ξ,
    I(s) = ∫_a^{b−s} e^{−κ(2t+s)} dt / [(1+i(t+s))(1−it)]
         = e^{−κs}/(2+is) · i[J(i) − J(s−i)],    J(c) = ∫_a^{b−s} e^{−2κt}/(t+c) dt,

by the partial fractions 1/[(1+iτ)(1−iτ′)] = [1/(1+iτ) + 1/(1−iτ′)]/(2 + i(τ−τ′)).  For
κ = 0, J(c) = log((b−s+c)/(a+c)) (evaluated in real arithmetic, see
:func:`_log_difference`); for κ > 0, with g(z) = e^z E₁(z),
J(c) = e^{−2κa} g(2κ(a+c)) − e^{−2κ(b−s)} g(2κ(b−s+c)) (the arguments keep Im = ±2κ, so
they never cross E₁'s cut).  Public: :func:`focusing_function`, :func:`focusing_quad`,
:func:`xr_spdc.focusing` (the labelled front).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .overlap import overlap, scaled_exp1
from .quadrature import EPSABS, EPSREL, LIMIT, NOT_FINITE, QuadResult, quad_part

__all__ = ["check_domain", "focusing_function", "focusing_quad"]

# Composite Gauss–Legendre in s, 24 nodes a panel (exact to degree 47).  I(s) is analytic
# but for logarithmic branch points at s = ξ(1+μ) + i and s = ξ(1−μ) + i (where a pole of
# the t-integrand meets an end of [a, b − s]) and s = 2i (where the two poles pinch).
# Panels are graded away from every breakpoint (0, ξ(1∓μ), the end): the first has width
# _FIRST_PANEL, each next one _GROWTH times wider, so a panel of width w starts ≥ w/3 from
# the breakpoint: a singularity there is ≥ 1 + 2/3 half-widths from the panel's centre,
# outside the Bernstein ellipse ρ = 3 (ρ ≥ 2.9 for the first panel, whose end is at
# height 1 below the branch point; ρ ≥ 4.6 for s = 2i over [0, 2]): ρ^−48 ≤ 1e-22.  The
# factor e^{iσs − βs²} and the exponentials of κ grow on that ellipse like e^{rate·w/2}
# (rate below); capping the width at _OSCILLATION/rate keeps the half-panel phase ≤ 12,
# where the 24-point rule's error for e^{iωx} is ~(eω/96)^48 ≈ 3e-23.  Measured against
# mpmath: ≤ 1e-15 absolute (tests/test_walkoff.py).
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(24)
_FIRST_PANEL = 2.0
_GROWTH = 4.0
_OSCILLATION = 24.0

# The walk-off Gaussian e^{−βs²} and the absorption cut s at S = min(√(_TAIL/β), _TAIL/κ)
# (when that is below 2ξ): the scaled integrand is bounded by π e^{−κs − βs²}
# (Cauchy–Schwarz on I: ∫|1+i(t+s)|⁻¹|1−it|⁻¹ dt ≤ ∫ dt/(1+t²) = π), so each tail adds at
# most π e^{−_TAIL}/(2·_TAIL) ≈ 1e-17 to h (relative to the scale e^{2κξ(1+μ)}).
_TAIL = 36.0

# κ below which the κ = 0 formula is used: it neglects factors e^{−2κt} with
# |2κ t| ≤ _KAPPA_ZERO, i.e. ≤ 1e-16 relative, while the E₁ form would cancel two
# logarithms of size ln(1/κ) (up to ~700·eps for the tiniest κ).
_KAPPA_ZERO = 1e-16

# Nodes evaluated at once (complex temporaries of a few MB).  Points are never split
# between chunks, and each point's sum runs over its own nodes in a fixed order, so values
# do not depend on the chunking.  Read at call time, so tests can shrink it.
_CHUNK_NODES = 1 << 17


def focusing_function(sigma: ArrayLike, xi: ArrayLike, B: ArrayLike = 0.0,
                      kappa: ArrayLike = 0.0, mu: ArrayLike = 0.0) -> np.ndarray:
    r"""Boyd and Kleinman's h(σ, B, κ, ξ, μ), vectorised (the ``"auto"`` method).

    .. math:: h = \frac{1}{4\xi}\int_a^b\!\!\int_a^b d\tau\,d\tau'\,
              \frac{e^{-\kappa(\tau+\tau') + i\sigma(\tau-\tau')
              - (B^2/\xi)(\tau-\tau')^2}}{(1+i\tau)(1-i\tau')},\qquad
              a = -\xi(1+\mu),\ b = \xi(1-\mu)

    Parameters
    ----------
    sigma : array_like of float
        Boyd and Kleinman's phase parameter σ = −φ/(2ξ) (φ the package's phase mismatch).
    xi : array_like of float
        Focusing parameter ξ = L/b > 0.
    B : array_like of float, optional
        Walk-off parameter B ≥ 0 (see :func:`xr_spdc.beams.walkoff_parameters`); 0 default.
    kappa : array_like of float, optional
        Absorption parameter κ ≥ 0; 0 by default.
    mu : array_like of float, optional
        Focal position μ, as in :func:`xr_spdc.numerics.overlap.overlap` (0: centred; the focus
        μL/2 beyond the crystal's centre; Boyd and Kleinman's own μ is −μ).

    Returns
    -------
    ndarray of float64
        h, with the broadcast shape of the inputs (0-d for scalars).

    Notes
    -----
    Inputs are not validated (the labelled layer does it): where h is undefined (a NaN or
    infinite input, ξ ≤ 0 or κ < 0) the result is NaN.  Regimes:

    1. B = κ = 0: h = |O(−2ξσ, ξ, μ)|²/4 from :func:`xr_spdc.numerics.overlap.overlap` (≤ 1e-13
       of its envelope).
    2. Otherwise the one-dimensional integral over s = τ − τ′ of the module docstring,
       the inner integral in closed form, by graded composite 24-point Gauss–Legendre on
       [0, min(2ξ, √(36ξ)/B)], with breakpoints at s = ξ(1∓μ) (the real parts of I's
       branch points).  Everything is computed scaled by e^{−2κξ(1+μ)} (the integrand's
       largest exponential) and multiplied back at the end: h overflows to inf beyond
       κξ(1+μ) ≈ 354, and its accuracy is relative to that scale.

    Accuracy, against 133 mpmath references (tests/test_walkoff.py): |h − h_ref| ≤
    1e-12·max(1, e^{2κξ(1+μ)}) (measured ≤ 7e-16) over B ∈ [0, 16], κ ∈ [0, 2],
    ξ ∈ [1e-3, 1e3], |σ| ≤ 10, |μ| ≤ 1; where h itself is tiny the error stays absolute
    (4e-18 at h = 1.5e-11).  Cost: 4–10 panels of 24 nodes a point on BK's domain
    (~5–10 µs), up to ~(|σ| + 2κ)·min(2ξ, 6√ξ/B, 36/κ)/24 panels far outside it.

    References
    ----------
    .. [1] G. D. Boyd and D. A. Kleinman, "Parametric interaction of focused Gaussian light
       beams", J. Appl. Phys. 39, 3597 (1968), Sec. II–III.

    Examples
    --------
    >>> import numpy as np
    >>> from xr_spdc.numerics.walkoff import focusing_function
    >>> round(float(focusing_function(0.5735887545232851, 2.8375191194941384)), 12)
    1.067724974765
    >>> h = focusing_function([0.0, 0.5], 2.84, B=[[0.0], [1.0]])
    >>> h.shape, bool(np.all(h[1] < h[0]))  # walk-off lowers h
    ((2, 2), True)
    """
    operands: list[Any] = [sigma, xi, B, kappa, mu, None]
    it = np.nditer(
        operands,
        flags=["external_loop", "buffered", "zerosize_ok", "growinner"],
        op_flags=[["readonly"], ["readonly"], ["readonly"], ["readonly"], ["readonly"],
                  ["writeonly", "allocate"]],
        op_dtypes=[np.float64, np.float64, np.float64, np.float64, np.float64, np.float64],
        casting="same_kind",
        buffersize=1 << 14,
    )
    # Underflow (e^{−βs²}, e^{−2κ(2ξ−s)} far out) is harmless; overflow only where h does.
    with it, np.errstate(under="ignore"):
        for s, x, b, k, m, out in it:
            out[...] = _focusing_chunk(s, x, b, k, m)
        return it.operands[5]


def _focusing_chunk(sigma: np.ndarray, xi: np.ndarray, B: np.ndarray, kappa: np.ndarray,
                    mu: np.ndarray) -> np.ndarray:
    out = np.full(sigma.shape, np.nan)  # where h is not defined (NaN, ξ ≤ 0, κ < 0, inf)
    valid = (np.isfinite(sigma) & np.isfinite(B) & np.isfinite(kappa) & np.isfinite(mu)
             & np.isfinite(xi) & (xi > 0) & (kappa >= 0))
    plain = valid & (B == 0.0) & (kappa == 0.0)
    if plain.any():
        x = xi[plain]
        out[plain] = np.abs(overlap(-2.0 * x * sigma[plain], x, mu[plain])) ** 2 / 4.0
    rest = np.flatnonzero(valid & ~plain)
    if rest.size:
        panels = _panel_counts(sigma[rest], xi[rest], B[rest], kappa[rest], mu[rest])
        # Cut the points into runs of at most _CHUNK_NODES nodes (a point is never split).
        ends = np.cumsum(panels) * _GL_NODES.size
        start = 0
        while start < rest.size:
            base = ends[start - 1] if start else 0
            stop = max(start + 1, int(np.searchsorted(ends, base + _CHUNK_NODES, "right")))
            idx = rest[start:stop]
            out[idx] = _quadrature(sigma[idx], xi[idx], B[idx], kappa[idx], mu[idx])
            start = stop
    return out


def _plan(xi: np.ndarray, B: np.ndarray, sigma: np.ndarray, kappa: np.ndarray,
          mu: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per point: the six half-segments (outer end, direction, length) and the panel cap."""
    beta = B * B / xi
    with np.errstate(divide="ignore"):
        cut = np.where(beta > 0, np.sqrt(_TAIL / np.where(beta > 0, beta, 1.0)), np.inf)
    with np.errstate(divide="ignore"):  # e^{−κs} cuts s at _TAIL/κ likewise
        end = np.minimum(np.minimum(2.0 * xi, cut), _TAIL / kappa)
    rate = np.abs(sigma) + 2.0 * kappa + 2.0 * beta * end + 2.0 * np.sqrt(beta)
    with np.errstate(divide="ignore"):
        cap = np.where(rate > 0, _OSCILLATION / np.where(rate > 0, rate, 1.0), np.inf)
    cap = np.minimum(cap, 2.0 * xi)  # keeps the panel counts finite when rate = 0
    m = np.abs(mu)
    breaks = np.stack([np.zeros_like(xi), np.minimum(xi * (1 - m), end),
                       np.minimum(xi * (1 + m), end), end], axis=-1)
    left, right = breaks[:, :-1], breaks[:, 1:]
    # A segment no wider than a first panel is one panel (from its left end): its branch
    # points are at height 1 over its ends, outside the ellipse ρ ≥ 2.9.
    whole = right - left
    single = whole <= np.minimum(_FIRST_PANEL, cap)[:, None]
    half = np.where(single, 0.0, 0.5 * whole)
    # Half-segments graded from their outer ends: (left, +1) and (right, -1) per segment.
    origin = np.stack([left, right], axis=-1).reshape(len(xi), 6)
    direction = np.tile([1.0, -1.0], (len(xi), 3))
    length = np.stack([np.where(single, whole, half), half], axis=-1).reshape(len(xi), 6)
    return origin, direction, length, cap


def _geometric(length: np.ndarray, cap: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first width, number of growing panels, where they end) for each half-segment."""
    first = np.minimum(_FIRST_PANEL, cap)
    with np.errstate(divide="ignore", invalid="ignore"):
        # first·(g^n − 1)/(g − 1) ≥ length, and first·g^(n−1) ≤ cap
        to_end = np.ceil(np.log(length * (_GROWTH - 1.0) / first + 1.0) / np.log(_GROWTH))
        to_cap = np.floor(np.log(cap / first) / np.log(_GROWTH)) + 1.0
    growing = np.where(length > 0, np.minimum(to_end, to_cap), 0.0)
    reach = np.minimum(first * (_GROWTH**growing - 1.0) / (_GROWTH - 1.0), length)
    return first, growing, reach


def _panel_counts(sigma: np.ndarray, xi: np.ndarray, B: np.ndarray, kappa: np.ndarray,
                  mu: np.ndarray) -> np.ndarray:
    _, _, length, cap = _plan(xi, B, sigma, kappa, mu)
    cap = cap[:, None]
    _, growing, reach = _geometric(length, cap)
    uniform = np.ceil(np.maximum(length - reach, 0.0) / cap)
    return (growing + uniform).sum(axis=1).astype(np.int64)


def _quadrature(sigma: np.ndarray, xi: np.ndarray, B: np.ndarray, kappa: np.ndarray,
                mu: np.ndarray) -> np.ndarray:
    n = len(xi)
    origin, direction, length, cap = _plan(xi, B, sigma, kappa, mu)
    cap2 = np.broadcast_to(cap[:, None], length.shape)
    first, growing, reach = _geometric(length, cap2)
    uniform = np.ceil(np.maximum(length - reach, 0.0) / cap2)
    counts = (growing + uniform).astype(np.int64).ravel()
    # One row per panel, in (point, half-segment, panel) order: k is the panel's index
    # within its half-segment, its edges x_k, x_{k+1} measured from the outer end.
    seg = np.repeat(np.arange(counts.size), counts)
    k = np.arange(seg.size) - np.repeat(np.cumsum(counts) - counts, counts)

    def edge(j: np.ndarray) -> np.ndarray:
        f, d, r, c, ln = (a.ravel()[seg] for a in (first, growing, reach, cap2, length))
        x = np.where(j <= d, f * (_GROWTH ** np.minimum(j, d) - 1.0) / (_GROWTH - 1.0),
                     r + (j - d) * c)
        return np.minimum(x, ln)

    x0, x1 = edge(k.astype(np.float64)), edge(k + 1.0)
    o, dirn = origin.ravel()[seg], direction.ravel()[seg]
    s0, s1 = o + dirn * x0, o + dirn * x1
    centre, halfw = 0.5 * (s0 + s1), 0.5 * np.abs(s1 - s0)
    point = seg // 6
    s = centre[:, None] + halfw[:, None] * _GL_NODES  # (panels, nodes)
    p = point[:, None]
    values = _integrand(s, sigma[p], xi[p], B[p], kappa[p], mu[p])
    # Node by node, not a BLAS matrix product, whose summation order (and so the last bit)
    # depends on how many panels there are: a point's value must not depend on its chunk.
    per_panel = np.zeros(len(halfw))
    for k, weight in enumerate(_GL_WEIGHTS):
        per_panel += weight * values[:, k]
    per_panel *= halfw
    total = np.zeros(n)
    np.add.at(total, point, per_panel)  # unbuffered, in panel order: fixed per point
    scale = np.where(kappa > 0, 2.0 * kappa * xi * (1.0 + mu), 0.0)
    with np.errstate(over="ignore"):
        return total / (2.0 * xi) * np.exp(scale)


def _atan_difference(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # atan x − atan y without cancellation: atan((x − y)/(1 + xy)), plus π·sign(x) where
    # 1 + xy < 0 (x and y of opposite signs, where the two add up and nothing cancels).
    q = 1.0 + x * y
    with np.errstate(divide="ignore", invalid="ignore"):
        base = np.arctan((x - y) / q)
    return np.where(q < 0, base + np.copysign(np.pi, x), base)


def _log_difference(s: np.ndarray, a: np.ndarray, b: np.ndarray, rest: np.ndarray,
                    small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Real and imaginary parts of J(i) − J(s − i) at κ = 0, in real arithmetic.

    J(i) = log((b−s+i)/(a+i)) and J(s−i) = log((b−i)/(a+s−i)); the arguments keep Im = ±1,
    so arg(x ± i) = ±(π/2 − atan x) and no branch is crossed.  Real part:
    ½ log[((b−s)²+1)((a+s)²+1) / ((a²+1)(b²+1))], one logarithm of a product of ratios each
    accurate to a few ulps (absolute error ~eps); where ξ ≤ 1/4 (``small``, per point) the
    two ratios are 1 + O(ξ²) and their logarithms are taken as log1p of
    (b−s)²−a² = rest·(b−s+a) and b²−(a+s)² = rest·(b+a+s) over the denominators, so that
    J keeps its relative accuracy as ξ → 0.  Imaginary part:
    atan a − atan(b−s) − atan b + atan(a+s), as two cancellation-free differences.
    """
    bs, as_ = b - s, a + s
    a2, b2, as2, bs2 = a * a + 1.0, b * b + 1.0, as_ * as_ + 1.0, bs * bs + 1.0
    real = np.empty(s.shape)
    rows = small.ravel()
    if rows.any():
        r = rest[rows]
        real[rows] = 0.5 * (np.log1p(r * (bs[rows] + a[rows]) / a2[rows])
                            - np.log1p(r * (b[rows] + as_[rows]) / as2[rows]))
    rows = ~rows
    if rows.any():
        real[rows] = 0.5 * np.log((bs2[rows] / a2[rows]) * (as2[rows] / b2[rows]))
    imag = _atan_difference(a, bs) - _atan_difference(b, as_)
    return real, imag


def _integrand(s: np.ndarray, sigma: np.ndarray, xi: np.ndarray, B: np.ndarray,
               kappa: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Re[e^{iσs − βs²} I(s)] e^{2κa} on (panels, nodes), the point's values on (panels, 1)."""
    a, b = -xi * (1.0 + mu), xi * (1.0 - mu)
    rest = 2.0 * xi - s  # b − s − a ≥ 0
    # D = J(i) − J(s − i), scaled by e^{2κa}, as real and imaginary parts.
    real, imag = np.empty(s.shape), np.empty(s.shape)
    absorbing = (2.0 * kappa * (np.abs(a) + np.abs(b) + 2.0) > _KAPPA_ZERO).ravel()
    rows = ~absorbing
    if rows.any():
        ar, br = a[rows], b[rows]
        real[rows], imag[rows] = _log_difference(s[rows], ar, br, rest[rows],
                                                 xi[rows] <= 0.25)
    rows = absorbing
    if rows.any():
        k2 = 2.0 * kappa[rows]
        ar, br, ss, r = a[rows], b[rows], s[rows], rest[rows]
        decay = np.exp(-k2 * r)  # e^{−2κ(b − s − a)}
        j_i = scaled_exp1(k2 * (ar + 1j)) - decay * scaled_exp1(k2 * (br - ss + 1j))
        j_s = scaled_exp1(k2 * (ar + ss - 1j)) - decay * scaled_exp1(k2 * (br - 1j))
        diff = (j_i - j_s) * np.exp(-0.5 * k2 * ss)  # e^{−κs}
        real[rows], imag[rows] = diff.real, diff.imag
    # Re[e^{iσs} i D/(2 + is)] e^{−βs²}, with i D (2 − is) = (sD_r − 2D_i) + i(2D_r + sD_i).
    phase = sigma * s
    numerator = (s * real - 2.0 * imag) * np.cos(phase) - (2.0 * real + s * imag) * np.sin(phase)
    return numerator * np.exp(-(B * B / xi) * s * s) / (4.0 + s * s)


def focusing_quad(sigma: ArrayLike, xi: ArrayLike, B: ArrayLike = 0.0, kappa: ArrayLike = 0.0,
                  mu: ArrayLike = 0.0, *, epsabs: float = EPSABS, epsrel: float = EPSREL,
                  limit: int = LIMIT) -> QuadResult:
    """h by nested QUADPACK over the 2-D integral, one point at a time (the reference).

    The Hermitian half τ > τ′ in the coordinates s = τ − τ′ ∈ [0, 2ξ] (outer, with
    breakpoints at ξ(1∓μ)) and t = τ′ ∈ [a, b − s] (inner): h = (1/2ξ) Re ∫∫, whose real
    integrand is, with A = 1 + t(t+s) (since (1+i(t+s))(1−it) = A + is),

        e^{−κ(2t+s) − βs²} (A cos σs + s sin σs)/(A² + s²).

    No closed form is used.  The outer range stops where e^{−βs²} < e^{−36} (as for
    :func:`focusing_function`).

    Parameters
    ----------
    sigma, xi, B, kappa, mu : array_like
        As for :func:`focusing_function`.
    epsabs, epsrel, limit
        Passed to every :func:`scipy.integrate.quad` call (both levels).

    Returns
    -------
    QuadResult
        ``value`` (h, float64), ``abserr`` (the outer estimate plus the largest inner one
        times the outer length, scaled like h) and ``status`` (the worst QUADPACK ``ier``
        of both levels), with the broadcast shape.

    Examples
    --------
    >>> res = focusing_quad([0.5735887545232851], [2.8375191194941384])
    >>> round(float(res.value[0]), 9), int(res.status[0])
    (1.067724975, 0)
    """
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64)
                                   for v in (sigma, xi, B, kappa, mu)))
    shape = arrays[0].shape
    value = np.empty(shape)
    abserr = np.empty(shape)
    status = np.zeros(shape, dtype=np.int8)
    for index in np.ndindex(shape):
        point = tuple(float(v[index]) for v in arrays)
        value[index], abserr[index], status[index] = _quad_point(
            *point, epsabs=epsabs, epsrel=epsrel, limit=limit)
    return QuadResult(value, abserr, status)


def _real_integrand(t: float, s: float, sigma: float, beta: float, kappa: float,
                    a: float) -> float:
    big_a = 1.0 + t * (t + s)
    weight = math.exp(-kappa * (2.0 * (t - a) + s) - beta * s * s)  # scaled by e^{2κa}
    phase = sigma * s
    return weight * (big_a * math.cos(phase) + s * math.sin(phase)) / (big_a * big_a + s * s)


class _Inner:
    """The inner t-integral as a function of s, remembering its worst diagnostics."""

    def __init__(self, sigma: float, beta: float, kappa: float, a: float, b: float,
                 options: dict[str, Any]) -> None:
        self.args, self.b, self.options = (sigma, beta, kappa, a), b, options
        self.max_err, self.status = 0.0, 0

    def __call__(self, s: float) -> float:
        sigma, beta, kappa, a = self.args
        value, err, status = quad_part(_real_integrand, a, self.b - s,
                                        (s, sigma, beta, kappa, a), **self.options)
        self.max_err, self.status = max(self.max_err, err), max(self.status, status)
        return value


# The largest x with a finite math.exp(x): log of the largest double.
_EXP_OVERFLOW = math.log(1.7976931348623157e308)


def _quad_point(sigma: float, xi: float, B: float, kappa: float, mu: float, *,
                epsabs: float, epsrel: float, limit: int) -> tuple[float, float, int]:
    a, b = -xi * (1.0 + mu), xi * (1.0 - mu)
    beta = B * B / xi
    end = min(2.0 * xi, math.sqrt(_TAIL / beta) if beta > 0 else math.inf,
              _TAIL / kappa if kappa > 0 else math.inf)
    options = {"epsabs": epsabs, "epsrel": epsrel, "limit": limit}
    inner = _Inner(sigma, beta, kappa, a, b, options)
    breaks = sorted({min(xi * (1 - abs(mu)), end), min(xi * (1 + abs(mu)), end)} - {0.0, end})
    # The outer integral through the same QUADPACK wrapper as the inner one (status codes,
    # and a limit that admits the breakpoints).
    value, abserr, outer_status = quad_part(inner, 0.0, end, (), epsabs, epsrel, limit,
                                             tuple(breaks))
    # h overflows where the scale e^{2κξ(1+μ)} does (κξ(1+μ) ≳ 354), as the "auto" method's
    # does: inf, flagged as a value that is not finite.
    exponent = 2.0 * kappa * xi * (1.0 + mu) if kappa > 0 else 0.0
    scale = (math.exp(exponent) if exponent < _EXP_OVERFLOW else math.inf) / (2.0 * xi)
    value, err = value * scale, (abserr + inner.max_err * end) * scale
    status = max(outer_status, inner.status)
    return value, err, status if math.isfinite(value) else NOT_FINITE


def check_domain(sigma: np.ndarray, xi: np.ndarray, B: np.ndarray, kappa: np.ndarray,
                 mu: np.ndarray) -> None:
    """Refuse values h is not defined for: the last guard of a block computed directly.

    Raises
    ------
    ValueError
        A value is not finite, ``xi`` not positive or ``kappa`` negative.
    """
    if not (np.isfinite(sigma).all() and np.isfinite(B).all() and np.isfinite(mu).all()
            and (xi > 0).all() and np.isfinite(xi).all() and (kappa >= 0).all()
            and np.isfinite(kappa).all()):
        raise ValueError("sigma, B and mu must be finite, xi positive and finite, kappa "
                         "non-negative and finite")
