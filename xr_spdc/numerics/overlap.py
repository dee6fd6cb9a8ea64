"""The SPDC overlap on numpy arrays: vectorised, within 1e-13 of the envelope (measured 3e-15).

Pure numpy (nothing here knows about xarray).  With l₁ = −1−μ and l₂ = 1−μ,

    O(φ, ξ, μ) = √ξ ∫_{l₁}^{l₂} e^{iφl/2} / (1 − iξl) dl.

Public: :func:`overlap`, :func:`envelope` and :func:`check_domain` (the inputs the kernel
answers for: :data:`DOMAIN`).  Everything else is private; the choice of regime is explained
in :func:`overlap`'s Notes.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["DOMAIN", "LIMIT", "check_domain", "envelope", "overlap"]

# The supported domain: |phi| <= LIMIT, 0 < xi <= LIMIT, |mu| <= LIMIT.  Within it no
# intermediate overflows or underflows to a wrong value: x = xi*l stays <= 1e108 outside the
# far-pole branch (|mu| < 1e8 there), so x^2 <= 1e216; a = phi/(2 xi) <= 5e107 (xi > 1e-8
# there) and >= 5e-117 outside the small-mismatch branch; phi*mu <= 1e200 splits exactly
# (Dekker) in the far-pole branch.  Beyond it the kernel refuses (check_domain) rather than
# answer NaN, inf or a silent 0.
LIMIT = 1e100
DOMAIN = (f"finite phi and mu with |phi| <= {LIMIT:g} and |mu| <= {LIMIT:g}, and "
          f"0 < xi <= {LIMIT:g}")

# Euler–Mascheroni constant γ (DLMF 5.2.3), for the power series of E₁.
_EULER_GAMMA = 0.57721566490153286061

# Points evaluated at once.  Bounds every per-regime temporary to O(_CHUNK) (a few hundred
# kB) whatever the caller's array size; large enough that numpy's per-call overhead is
# amortised.  Read at call time, so tests can shrink it.
_CHUNK = 1 << 14

# Far-pole branch: xi <= _FAR_POLE or |mu| >= 1/_FAR_POLE, so that r = |xi/(1 + i xi mu)|
# <= _FAR_POLE.  There 1/(1 - i xi l) = (1/w0)(1 + c u + R) with u = l + mu in [-1, 1],
# w0 = 1 + i xi mu, c = i xi/w0 (|c| = r), and |R| <= r^2 u^2/(1 - r): dropping R costs
# <= r^2/3 (1 + r)/(1 - r) <= 3.4e-17 of the envelope.  This is where the closed form
# fails: a = phi/(2 xi) overflows for tiny xi, and l1 = -1-mu, l2 = 1-mu round together
# for huge |mu|; here both ends are exact (u = +-1) and phi*mu is split exactly.
_FAR_POLE = 1e-8
_SPLIT = 134217729.0  # 2^27 + 1, Dekker's splitter for an error-free product

# Gauss–Legendre box: |φ| ≤ _PHI_BOX and (ξ ≤ _XI_BOX or |μ| ≥ _MU_BOX).  For ξ ≤ 1 the
# closed form's two terms are ~1/√ξ while O is ~√ξ (cancellation costing ~1/ξ); for
# |μ| ≥ 2 and small |φ| they are ~ln|z|/√ξ while O ~ 1/(√ξ|μ|) (costing ~|μ|).  But the
# integrand is smooth: its pole μ − i/ξ (in u = l + μ) lies ≥ 1 from [−1, 1] (Bernstein
# ellipse ρ ≥ 1 + √2) and ≤ 1.3 oscillations fit in, so 24 nodes (exact to degree 47) leave
# ~ρ^−48 ≈ 4e-19 (measured ≤ 1.1e-15 of the envelope: rounding).  Outside it the closed form
# is accurate: for |φ| > 8 and ξ ≤ 1, |a| ≥ 4 makes |g| ≤ ~1/|a|; for ξ > 1 and |μ| < 2
# nothing cancels beyond 1/ξ; for |φ| > 8 and large |μ| the terms are ~2/(√ξ|φμ|), as O.
_XI_BOX = 1.0
_PHI_BOX = 8.0
_MU_BOX = 2.0
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(24)

# Small-mismatch branch: |φ|·max(|l₁|, |l₂|) ≤ _TAYLOR_PHASE·min(1, ξ).  The first-order
# Taylor expansion in φ is then exact to (φl/2)²/2 ≈ 1.3e-17 of the envelope, while the
# closed form would subtract two logarithms of size ln(1/|φ|) (up to ~740 for tiny φ, so
# errors ~1e-13).  φ = 0 exactly gives the arctangent law, in every regime.
_TAYLOR_PHASE = 1e-8

# scaled_exp1 regions, from measurements against mpmath at 40 digits (all ≤ 2e-15
# relative, tests/test_kernels.py::test_scaled_exp1_*):
# |z| ≥ _ASYMPTOTIC_R: asymptotic series (DLMF 6.12.1); 40 terms; truncation ~ 40!/40^40.
# q = |z| + Re z ≤ _SERIES_Q (and |z| < _ASYMPTOTIC_R): power series (DLMF 6.6.2), whose
#   cancellation costs e^q ≤ 12 ulp; 130 terms reach 40^130/130! ≈ 1e-12 of e^40.
# otherwise: the continued fraction (A&S 5.1.22, even contraction), whose convergence is
#   governed by q; terms for ≤ 1e-16 (with margin) per range of q in _CF_TERMS.
_ASYMPTOTIC_R = 40.0
_ASYMPTOTIC_TERMS = 40
_SERIES_Q = 2.5
_SERIES_TERMS = 130
# For |z| ≤ _SERIES_SMALL_R, 50 terms suffice: the remainder is ≤ 8^50/(50·50!)/(1 − 8/51)
# ≈ 1.1e-21, times |e^z| ≤ e^8 ≈ 3e3 at most 3.3e-18 absolute in g, whose modulus there
# is ≳ 0.1 (≤ 3e-17 relative, far below the 2e-15 budget); bit-identical on the tests'
# points, and ~30 % faster for the coupling kernel, which meets this region most.
_SERIES_SMALL_R = 8.0
_SERIES_SMALL_TERMS = 50
# Likewise for |z| ≤ _SERIES_TINY_R: 28 terms leave ≤ 2.5^28/(28·28!)/(1 − 2.5/29) ≈ 1.8e-20,
# times |e^z| ≤ e^2.5 ≈ 12, ≤ 2.2e-19 absolute in g (≤ 3e-18 relative); the coupling
# kernel's near poles (|z| ≤ ~2.2) meet this region almost only.
_SERIES_TINY_R = 2.5
_SERIES_TINY_TERMS = 28
_CF_TERMS = ((32.0, 12), (16.0, 20), (8.0, 36), (4.0, 64))  # (q at least, terms)
_CF_TERMS_LAST = 90  # _SERIES_Q < q < 4, and anything left (NaN propagates)


def overlap(phi: ArrayLike, xi: ArrayLike, mu: ArrayLike = 0.0) -> np.ndarray:
    r"""The SPDC spatial-mode overlap O(φ, ξ, μ), vectorised.

    .. math:: O(\phi, \xi, \mu) = \sqrt{\xi}\int_{-1-\mu}^{1-\mu}
              \frac{e^{i\phi l/2}}{1 - i\xi l}\,dl

    Parameters
    ----------
    phi : array_like of float
        Phase mismatch Φ = (Δk + mK)·L in radians; |Φ| ≤ 1e100.
    xi : array_like of float
        Aggregate focus ξ (Bennink Eqs. 11-15); 0 < ξ ≤ 1e100.
    mu : array_like of float, optional
        Focal displacement μ, |μ| ≤ 1e100: the integral runs over l ∈ [−1−μ, 1−μ].  0 (the
        default) is the focus at the crystal's centre.

    Returns
    -------
    ndarray of complex128
        O, with the broadcast shape of ``phi``, ``xi`` and ``mu`` (0-d for scalars, empty for
        empty input).  Real (imaginary part exactly 0) where μ = 0; O(φ, ξ, −μ) is the
        complex conjugate of O(φ, ξ, μ).

    Raises
    ------
    ValueError
        Where |φ|, ξ or |μ| exceeds 1e100 (:data:`DOMAIN`; NaN, ξ ≤ 0 and infinities are
        not checked here: :func:`check_domain` checks everything).

    Notes
    -----
    Inputs are validated by the labelled layer (:func:`check_domain`); this function only
    refuses magnitudes it cannot answer for.  Points are evaluated in chunks
    of 2**14, so memory stays bounded for any size, and each point's value does not
    depend on the chunking.  With a = φ/(2ξ), w_j = 1 − iξl_j, z_j = a·w_j and
    g(z) = e^z E₁(z) (principal branch), substituting w = 1 − iξl gives the closed form

    .. math:: O = \frac{i}{\sqrt\xi}\left[e^{i\phi l_1/2} g(z_1)
              - e^{i\phi l_2/2} g(z_2)\right] + C, \qquad
              C = \frac{2\pi e^{a}}{\sqrt\xi}\ \text{if } a < 0 \text{ and }
              l_1 < 0 \le l_2,\ \text{else } 0,

    where C restores the jump across E₁'s cut that the path a·w crosses.  Written with g
    instead of e^a·E₁ it never overflows (e^a alone would once |φ|/(2ξ) ≳ 710).  Regimes,
    first match wins:

    0. ξ ≤ 1e-8 or |μ| ≥ 1e8 (the pole −i/ξ far from the interval on its scale:
       r = |ξ/(1 + iξμ)| ≤ 1e-8): with u = l + μ, k = φ/2 and w₀ = 1 + iξμ,
       O = (√ξ/w₀)·e^{−iφμ/2}·[2 sin k/k + (iξ/w₀)·2i(sin k − k cos k)/k²], the first two
       terms of the expansion in ξu/w₀ (ξ → 0: O → 2√ξ·sinc(φ/2), the plane-wave limit),
       exact to r²/3 ≤ 3.4e-17 of the envelope, the phase φμ/2 taken from an error-free product.
    1. |φ|·max(|l₁|, |l₂|) ≤ 1e-8·min(1, ξ), including φ = 0: first order in φ,
       O ≈ √ξ·M₀ − φ(2 − M₀)/(2√ξ), with √ξ·M₀ = i(log w₂ − log w₁)/√ξ
       = [atan(ξl₂) − atan(ξl₁) + ½i(log1p(ξ²l₂²) − log1p(ξ²l₁²))]/√ξ, the φ = 0 law
       (centred: 2·atan(ξ)/√ξ), evaluated in forms that do not cancel.  The neglected
       terms are ≤ 1.3e-17 of the envelope, whereas the closed form would cancel two
       logarithms of size ln(1/|φ|) (~1e-13 for φ ~ 1e-250).
    2. |φ| ≤ 8 and (ξ ≤ 1 or |μ| ≥ 2): 24-point Gauss–Legendre in u = l + μ ∈ [−1, 1].
       Here the closed form would lose digits like 1/ξ (two terms ~1/√ξ, O ~ √ξ, and for
       φ < 0 a branch term ~1/√ξ), or like |μ| (terms ~ln|z|/√ξ, O ~ 1/(√ξ|μ|)); the
       integrand is smooth (its pole μ − i/ξ ≥ 1 from the interval: Bernstein ellipse
       ρ ≥ 1 + √2, error ~ρ^−48 ≈ 4e-19; < 1.3 oscillations), so the rule is exact to
       rounding.
    3. Otherwise the closed form, with g from a private vectorised e^z E₁(z) (power series,
       continued fraction or asymptotic series by region, ≤ 2e-15 relative):
       :func:`scipy.special.exp1` loses up to ~4e-13 relative near |z| ≈ 4.5, which is
       visible at the 1e-13 target.  Centred, z₂ = conj(z₁), so one g per point:
       O = −2·Im(e^{−iφ/2} g(z₁))/√ξ + C.  Displaced, e^{iφl_j/2} is taken as
       e^{−iφμ/2}·e^{∓iφ/2} with the first factor from an error-free product: rounding
       φl_j/2 itself would cost ~ε|φμ| of the envelope.

    Accuracy, checked against mpmath in tests/test_kernels.py (references stored in
    tests/data/overlap_references.npz): |O − O_ref| ≤ 1e-13·E(ξ, μ), E being
    :func:`envelope`, on both sides of every switch for ξ ∈ [1e-6, 1e6], |φ| ≤ 200π,
    |μ| ≤ 2 (measured ≤ 3.3e-15), and on 1,500 points of a log-spaced grid over the whole
    domain, 5e-324 ≤ ξ ≤ 1e100, |φ|, |μ| ≤ 1e100 (measured ≤ 5e-16).  Speed: ~0.7 µs per
    point on Bennink's classic domain (μ = 0), ~1.3 µs displaced, on one core.

    References
    ----------
    .. [1] R. S. Bennink, "Optimal collinear Gaussian beams for spontaneous parametric
       down-conversion", Phys. Rev. A 81, 053805 (2010), Eq. 27.
    .. [2] G. D. Boyd and D. A. Kleinman, "Parametric interaction of focused Gaussian light
       beams", J. Appl. Phys. 39, 3597 (1968).
    .. [3] NIST Digital Library of Mathematical Functions, §6 (exponential integrals),
       https://dlmf.nist.gov/6.

    Examples
    --------
    >>> import numpy as np
    >>> from xr_spdc.numerics.overlap import overlap
    >>> o = overlap([0.0, -np.pi], 1.0)
    >>> o.dtype, o.shape
    (dtype('complex128'), (2,))
    >>> np.allclose(o, [np.pi / 2, 1.6314352236527800], rtol=1e-15, atol=0)
    True
    >>> round(float(overlap(-3.2551381153733029, 2.8375191194941384).real), 13)  # optimum
    2.0666155663454
    >>> complex(np.round(overlap(-3.27, 2.84, mu=0.5), 12))
    (1.874936463608+0.179943600878j)
    >>> overlap(np.zeros((2, 1)), [1.0, 4.0, 9.0]).shape
    (2, 3)
    """
    it = np.nditer(
        [phi, xi, mu, None],
        flags=["external_loop", "buffered", "zerosize_ok"],
        op_flags=[["readonly"], ["readonly"], ["readonly"], ["writeonly", "allocate"]],
        op_dtypes=[np.float64, np.float64, np.float64, np.complex128],
        casting="same_kind",  # ints and float32 are fine; complex input is refused
        buffersize=_CHUNK,
    )
    with it:
        for p, x, m, out in it:  # 1-d chunks of at most _CHUNK points, broadcast on the fly
            _refuse_beyond_limit(p, x, m)
            out[...] = _overlap_chunk(p, x, m)
        return it.operands[3]


def envelope(xi: ArrayLike, mu: ArrayLike = 0.0) -> np.ndarray:
    r"""The L1 norm of the overlap's integrand: the natural error scale.

    Parameters
    ----------
    xi : array_like of float
        Aggregate focus ξ > 0.
    mu : array_like of float, optional
        Focal displacement μ (the integral runs over l ∈ [−1−μ, 1−μ]); 0 by default.

    Returns
    -------
    ndarray of float64
        E(ξ, μ), with the broadcast shape of ``xi`` and ``mu``.

    Notes
    -----
    .. math:: E(\xi, \mu) = \sqrt\xi\int_{-1-\mu}^{1-\mu}\frac{dl}{|1 - i\xi l|}
              = \frac{\operatorname{asinh}(\xi(1-\mu)) - \operatorname{asinh}(-\xi(1+\mu))}
                {\sqrt\xi},

    which is 2·asinh(ξ)/√ξ when centred, evaluated without cancellation however far the
    interval lies from l = 0 (relative error a few ulps).  It bounds |O|, and no quadrature
    of the integral in floating point can do better than machine epsilon times it, so
    accuracy is stated as |O − O_ref|/E.

    References
    ----------
    .. [1] R. S. Bennink, Phys. Rev. A 81, 053805 (2010).

    Examples
    --------
    >>> import numpy as np
    >>> from xr_spdc.numerics.overlap import envelope
    >>> bool(envelope(1.0) == 2 * np.arcsinh(1.0))
    True
    >>> envelope([1.0, 2.0], mu=[[0.0], [0.5]]).shape
    (2, 2)
    """
    xi, mu = np.broadcast_arrays(np.asarray(xi, dtype=np.float64),
                                 np.asarray(mu, dtype=np.float64))
    x1, x2 = xi * (-1.0 - mu), xi * (1.0 - mu)
    # Ends on one side of 0: asinh x2 - asinh x1 = asinh R, R = (x2 - x1)(x2 + x1) /
    # (x2 sqrt(1 + x1^2) + x1 sqrt(1 + x2^2)) (from sinh(A - B)), where x2 - x1 = 2 xi and
    # x2 + x1 = -2 xi mu come without cancellation; scaled by s = max(1, |x|) against
    # overflow.  The plain difference would lose ~|mu| ulps (all of them once |mu| > 2^53).
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.maximum(1.0, np.maximum(np.abs(x1), np.abs(x2)))
        y1, y2 = x1 / s, x2 / s
        ratio = (-2.0 * xi * mu / s) / (y2 * np.hypot(1.0 / s, y1) + y1 * np.hypot(1.0 / s, y2))
        one_side = np.sign(x1) * np.sign(x2) > 0.0
        diff = np.where(one_side, np.arcsinh(2.0 * xi / s * ratio),
                        np.arcsinh(x2) - np.arcsinh(x1))
    return diff / np.sqrt(xi)


def check_domain(phi: ArrayLike, xi: ArrayLike, mu: ArrayLike = 0.0) -> None:
    """Refuse inputs outside the domain where :func:`overlap` is accurate (:data:`DOMAIN`).

    Parameters
    ----------
    phi, xi, mu : array_like of float
        As for :func:`overlap` (broadcast together).

    Raises
    ------
    ValueError
        If any φ or μ is not finite or exceeds 1e100 in magnitude, or any ξ is not in
        (0, 1e100]; the message states the domain and shows a few offending values.

    Notes
    -----
    Within the domain the kernel's intermediates neither overflow nor underflow to a wrong
    value (see the constants' comments in this module); beyond it a double-precision
    evaluation cannot be trusted, so it is refused rather than answered with NaN or 0.

    Examples
    --------
    >>> from xr_spdc.numerics.overlap import check_domain
    >>> check_domain([-3.0, 0.0], 2.84, 0.5)
    >>> check_domain(0.0, [1.0, 1e300])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: xi out of the supported domain (...0 < xi <= 1e+100): 1e+300
    """
    phi, xi, mu = (np.asarray(a, dtype=np.float64) for a in (phi, xi, mu))
    with np.errstate(invalid="ignore"):
        for name, values, ok in (("phi", phi, np.abs(phi) <= LIMIT),
                                 ("xi", xi, (xi > 0.0) & (xi <= LIMIT)),
                                 ("mu", mu, np.abs(mu) <= LIMIT)):
            if not ok.all():
                _refuse(name, values[~ok])


def _refuse(name: str, bad: np.ndarray) -> None:
    shown = ", ".join(repr(float(v)) for v in bad.ravel()[:5])
    more = f" and {bad.size - 5} more" if bad.size > 5 else ""
    raise ValueError(f"{name} out of the supported domain ({DOMAIN}): {shown}{more}")


def _refuse_beyond_limit(phi: np.ndarray, xi: np.ndarray, mu: np.ndarray) -> None:
    # The cheap part of check_domain (NaN passes, and propagates).
    for name, values in (("phi", phi), ("xi", xi), ("mu", mu)):
        beyond = np.abs(values) > LIMIT
        if beyond.any():
            _refuse(name, values[beyond])


def _overlap_chunk(phi: np.ndarray, xi: np.ndarray, mu: np.ndarray) -> np.ndarray:
    out = np.empty(phi.shape, dtype=np.complex128)
    abs_phi = np.abs(phi)
    abs_mu = np.abs(mu)
    # r = |xi/(1 + i xi mu)| <= min(xi, 1/|mu|): either bound puts the point in the branch.
    far = (xi <= _FAR_POLE) | (abs_mu * _FAR_POLE >= 1.0)
    # min(1, xi): for xi < 1 the first-order term's 2 - M0 cancels like xi (M0 -> 2).
    taylor = ~far & (abs_phi * (1.0 + abs_mu) <= _TAYLOR_PHASE * np.minimum(xi, 1.0))
    box = ~far & ~taylor & (abs_phi <= _PHI_BOX) & ((xi <= _XI_BOX) | (abs_mu >= _MU_BOX))
    closed = ~far & ~box & ~taylor  # the complement, so NaN input gives NaN, not garbage
    centred = closed & (mu == 0.0)
    _fill(out, far, _far_pole, phi, xi, mu)
    _fill(out, box, _gauss_legendre, phi, xi, mu)
    _fill(out, taylor, _small_mismatch, phi, xi, mu)
    _fill(out, centred, _closed_centred, phi, xi)
    _fill(out, closed & ~centred, _closed_displaced, phi, xi, mu)
    return out


def _fill(out: np.ndarray, mask: np.ndarray, func: Callable[..., np.ndarray],
          *args: np.ndarray) -> None:
    # Skip empty regimes: each costs dozens to hundreds of numpy calls even on no points,
    # which dominates calls with a few points (optimisers, scalar use).
    if mask.any():
        out[mask] = func(*(a[mask] for a in args))


def _far_pole(phi: np.ndarray, xi: np.ndarray, mu: np.ndarray) -> np.ndarray:
    # O = (sqrt(xi)/w0) e^{-i phi mu/2} [S0 + c S1], u = l + mu, k = phi/2, w0 = 1 + i xi mu,
    # c = i xi/w0: S0 = int e^{iku} du = 2 sin(k)/k, S1 = int u e^{iku} du
    # = 2i (sin k - k cos k)/k^2, whose series k/3 - k^3/30 below |k| = 0.1 is exact to
    # k^5/840 (S1 only needs ~1e-8 relative: it is multiplied by |c| <= 1e-8).
    k = 0.5 * phi
    sin, cos = np.sin(k), np.cos(k)
    s0 = np.where(k == 0.0, 2.0, 2.0 * sin / np.where(k == 0.0, 1.0, k))
    small = np.abs(k) < 0.1
    safe = np.where(small, 1.0, k)
    s1 = 2.0 * np.where(small, k / 3.0 - k**3 / 30.0, (sin - k * cos) / (safe * safe))
    # v = 1/w0 without overflow (xi mu up to 1e200), from its real parts; c = i xi v.
    beta = xi * mu
    inner = np.abs(beta) <= 1.0
    r = np.where(inner, beta, 1.0 / np.where(inner, 1.0, beta))
    norm = 1.0 + r * r
    v = _complex(np.where(inner, 1.0, r * r) / norm, -r / norm)
    # [S0 + c S1] with c S1 = i xi v * 2i(...) = -xi v s1 (s1 = S1/i, real).
    bracket = _complex(s0 - xi * s1 * v.real, -xi * s1 * v.imag)
    value = _mul(_mul(np.sqrt(xi) * v, bracket), _phase_of_product(phi, mu))
    value.imag[mu == 0.0] = 0.0  # centred: real (c*S1 is real, w0 = 1)
    return value


def _mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # Complex product from real ufuncs: numpy's complex multiply may fuse (FMA) in its SIMD
    # loop but not for a lone element, so a point's value would depend on the chunking.
    return _complex(a.real * b.real - a.imag * b.imag, a.real * b.imag + a.imag * b.real)


def _phase_of_product(phi: np.ndarray, mu: np.ndarray) -> np.ndarray:
    # e^{-i phi mu/2} from phi*mu = p + e exactly (Dekker's two-product; |phi|, |mu| <= 1e100
    # so nothing overflows), so the phase is right even where phi*mu is huge: rounding
    # p alone would leave an error ~eps |phi mu| in the phase.
    p = phi * mu
    phi_hi = _SPLIT * phi - (_SPLIT * phi - phi)
    mu_hi = _SPLIT * mu - (_SPLIT * mu - mu)
    phi_lo, mu_lo = phi - phi_hi, mu - mu_hi
    e = ((phi_hi * mu_hi - p) + phi_hi * mu_lo + phi_lo * mu_hi) + phi_lo * mu_lo
    return _mul(np.exp(-0.5j * p), np.exp(-0.5j * e))


def _gauss_legendre(phi: np.ndarray, xi: np.ndarray, mu: np.ndarray) -> np.ndarray:
    total = np.zeros(phi.shape, dtype=np.complex128)
    # Node by node rather than a (points x nodes) matrix product: no large temporary, and a
    # fixed summation order, so a point's value does not depend on how points are chunked.
    # In u = l + mu in [-1, 1] (half-length 1, so no Jacobian): e^{i phi l/2} =
    # e^{-i phi mu/2} e^{i phi u/2}, whose first factor is exact (_phase_of_product) where
    # rounding u - mu in the phase would cost ~eps |phi mu|.
    for node, weight in zip(_GL_NODES, _GL_WEIGHTS, strict=True):
        total += weight * np.exp(0.5j * phi * node) / (1.0 - 1j * xi * (node - mu))
    # Centred, the odd part cancels exactly; drop the rounding left in the imaginary part.
    centred = mu == 0.0
    total.imag[centred] = 0.0
    if not centred.all():
        total[~centred] = _mul(total[~centred], _phase_of_product(phi[~centred], mu[~centred]))
    return np.sqrt(xi) * total


def _small_mismatch(phi: np.ndarray, xi: np.ndarray, mu: np.ndarray) -> np.ndarray:
    # O = sqrt(xi) * (M0 + (i phi/2) M1 + O(phi^2)) with M_n = int l^n/(1 - i xi l) dl, and
    # l/(1 - i xi l) = (i/xi)(1 - 1/(1 - i xi l)) gives M1 = (i/xi)(l2 - l1 - M0).
    # sqrt(xi) M0 = i (log w2 - log w1) / sqrt(xi), w = 1 - i x, x = xi l, written as
    # differences that do not cancel when both ends are far on one side (|mu| > 1):
    # atan x2 - atan x1 = atan((x2 - x1)/(1 + x1 x2)) if x1 x2 > -1 (else no cancellation),
    # ln|w2|^2 - ln|w1|^2 = log1p(t), t = (x2 - x1)(x2 + x1)/(1 + x1^2) with x2 - x1 = 2 xi
    # and x2 + x1 = -2 xi mu (t = 0 exactly when centred), where |t| <= 1/2; beyond, the
    # ratio is far from 1 and the plain difference does not cancel.
    x1, x2 = xi * (-1.0 - mu), xi * (1.0 - mu)
    root = np.sqrt(xi)
    same_side = x1 * x2 > -1.0
    real = np.where(same_side, np.arctan(2.0 * xi / np.where(same_side, 1.0 + x1 * x2, 1.0)),
                    np.arctan(x2) - np.arctan(x1)) / root
    t = -4.0 * xi * xi * mu / (1.0 + x1 * x1)
    near = np.abs(t) <= 0.5
    imag = 0.5 * np.where(near, np.log1p(np.where(near, t, 0.0)),
                          np.log1p(x2 * x2) - np.log1p(x1 * x1)) / root
    # (i phi/2) sqrt(xi) M1 = -(phi/(2 sqrt(xi))) (2 - M0): real when centred (M0 real).
    scale = 0.5 * phi / root
    return _complex(real - scale * (2.0 - real / root), imag + scale * (imag / root))


def _branch_term(a: np.ndarray, xi: np.ndarray, crosses: np.ndarray) -> np.ndarray:
    # The straight path from a*w1 to a*w2 crosses E1's cut (the negative real axis) when
    # a < 0 and l passes 0 (l1 < 0 <= l2; at l = 0 g is taken above the cut, Im z = +0).
    # e^a <= 1 there, so no overflow; np.minimum keeps exp() quiet for the unused a > 0.
    return np.where(crosses & (a < 0), 2.0 * np.pi * np.exp(np.minimum(a, 0.0)), 0.0) / np.sqrt(xi)


def _complex(real: np.ndarray, imag: np.ndarray) -> np.ndarray:
    # Built from its parts: real + 1j*imag would turn an imaginary part of -0.0 into +0.0,
    # and on E1's cut the sign of that zero picks the side.
    z = np.empty(np.shape(real), dtype=np.complex128)
    z.real, z.imag = real, imag
    return z


def _closed_centred(phi: np.ndarray, xi: np.ndarray) -> np.ndarray:
    a = phi / (2.0 * xi)
    u = np.exp(-0.5j * phi) * scaled_exp1(_complex(a, 0.5 * phi))  # z1 = a(1 + i xi), l1 = -1
    return -2.0 * u.imag / np.sqrt(xi) + _branch_term(a, xi, np.ones(a.shape, dtype=bool))


def _closed_displaced(phi: np.ndarray, xi: np.ndarray, mu: np.ndarray) -> np.ndarray:
    a = phi / (2.0 * xi)
    l1, l2 = -1.0 - mu, 1.0 - mu
    # z_j = a (1 - i xi l_j) = a - i phi l_j / 2; at l_j = 0 its imaginary part is
    # -0.5*phi*(+0.0), i.e. +0 when phi < 0 (a on the cut): the side above, as C assumes.
    z1, z2 = _complex(a, -0.5 * phi * l1), _complex(a, -0.5 * phi * l2)
    # e^{i phi l_j/2} = e^{-i phi mu/2} e^{-+i phi/2}, the first factor exact: rounding
    # phi*l_j would cost ~eps |phi mu| (z_j's rounding is harmless: relative to g's argument).
    half = np.exp(-0.5j * phi)
    terms = _mul(_phase_of_product(phi, mu),
                 _mul(half, scaled_exp1(z1)) - _mul(np.conj(half), scaled_exp1(z2)))
    return 1j * terms / np.sqrt(xi) + _branch_term(a, xi, (l1 < 0) & (l2 >= 0))


def scaled_exp1(z: ArrayLike) -> np.ndarray:
    # g(z) = e^z E1(z), principal branch (on the negative real axis: the limit from above,
    # Im z = +0, as scipy.special.exp1), to <= 2e-15 relative, never overflowing.  z != 0.
    z = np.asarray(z, dtype=np.complex128)
    out = np.empty_like(z)
    r = np.abs(z)
    q = r + z.real  # 2|z|cos^2(arg z / 2): small near the negative real axis
    asymptotic = r >= _ASYMPTOTIC_R
    series = ~asymptotic & (q <= _SERIES_Q)
    _fill(out, asymptotic, _asymptotic, z)
    tiny = series & (r <= _SERIES_TINY_R)
    small = series & ~tiny & (r <= _SERIES_SMALL_R)
    _fill(out, tiny, functools.partial(_series, terms=_SERIES_TINY_TERMS), z)
    _fill(out, small, functools.partial(_series, terms=_SERIES_SMALL_TERMS), z)
    _fill(out, series & ~tiny & ~small, _series, z)
    remaining = ~asymptotic & ~series
    for q_min, terms in _CF_TERMS:
        part = remaining & (q >= q_min)
        _fill(out, part, functools.partial(_continued_fraction, terms=terms), z)
        remaining &= ~part
    _fill(out, remaining, functools.partial(_continued_fraction, terms=_CF_TERMS_LAST), z)
    return out


def _asymptotic(z: np.ndarray) -> np.ndarray:
    # g(z) ~ sum_k (-1)^k k! / z^(k+1)  (DLMF 6.12.1), Horner form from the last term.
    w = 1.0 / z
    total = np.ones_like(z)
    for k in range(_ASYMPTOTIC_TERMS, 0, -1):
        total = 1.0 - k * w * total
    return w * total


@functools.lru_cache(maxsize=8)
def _series_coefficients(terms: int) -> tuple[float, ...]:
    # 1/(k k!) for k = 1 .. terms - 1 (the largest, k = 129, is ~1e-222: no underflow).
    return tuple(1.0 / (k * math.factorial(k)) for k in range(1, terms))


def _series(z: np.ndarray, terms: int = _SERIES_TERMS) -> np.ndarray:
    # E1(z) = -gamma - ln z - sum_{k>=1} (-z)^k / (k k!)  (DLMF 6.6.2), the sum by Horner's
    # rule in w = -z: one complex multiply-add per term (3-4x faster than the running term,
    # and no less accurate: <= 1.2e-15 against mpmath where the series applies).
    coefficients = _series_coefficients(terms)
    w = -z
    acc = np.full(z.shape, coefficients[-1], dtype=np.complex128)
    for c in coefficients[-2::-1]:
        acc = c + w * acc
    return np.exp(z) * (-_EULER_GAMMA - np.log(z) - w * acc)


def _continued_fraction(z: np.ndarray, terms: int) -> np.ndarray:
    # g(z) = 1/(z+1 - 1^2/(z+3 - 2^2/(z+5 - ...)))  (even part of A&S 5.1.22 / DLMF 6.9.1),
    # evaluated from a fixed tail: no per-point convergence test, a fixed order of operations.
    tail = np.zeros_like(z)
    for k in range(terms, 0, -1):
        tail = k * k / (z + (2 * k + 1) - tail)
    return 1.0 / (z + 1.0 - tail)
