"""Independent high-precision references for the SPDC overlap, computed with mpmath.

Nothing here imports xr_spdc: the references are the definition itself,

    O(phi, xi, mu) = sqrt(xi) * integral_{-1-mu}^{1-mu} exp(i*phi*l/2) / (1 - i*xi*l) dl,

integrated by mpmath's tanh-sinh quadrature at ``dps`` digits.  The substitution
``l = sinh(s)/xi`` turns the integrand into ``exp(i*phi*sinh(s)/(2*xi)) * (1 + i*sinh s)/cosh s``
(modulus one), and the interval is cut where the phase ``phi*l/2`` has advanced by pi, so
every piece is smooth and at most half an oscillation long, whatever phi and xi are.
"""

from __future__ import annotations

import functools
import math

import mpmath as mp
import numpy as np


@functools.cache
def overlap_mpmath(phi: float, xi: float, mu: float = 0.0, dps: int = 30) -> complex:
    """O(phi, xi, mu) to about ``dps`` significant digits, rounded to complex128."""
    with mp.workdps(dps):
        phi_, xi_, mu_ = mp.mpf(phi), mp.mpf(xi), mp.mpf(mu)
        l1, l2 = -1 - mu_, 1 - mu_
        # Break points: every half period of exp(i*phi*l/2) in l, mapped to s = asinh(xi*l),
        # plus whole numbers of s so that long stretches of the sinh-mapped range are split too.
        n_half_periods = int(abs(float(phi)) * float(l2 - l1) / (2 * math.pi)) + 1
        ls = [l1 + (l2 - l1) * k / n_half_periods for k in range(n_half_periods + 1)]
        ss = sorted({mp.asinh(xi_ * l) for l in ls})
        s_lo, s_hi = ss[0], ss[-1]
        ss += [mp.mpf(k) for k in range(int(mp.ceil(s_lo)), int(mp.floor(s_hi)) + 1)]
        ss = sorted(set(ss))

        def integrand(s):
            sh = mp.sinh(s)
            return mp.expj(phi_ * sh / (2 * xi_)) * (1 + 1j * sh) / mp.cosh(s)

        total = mp.mpf(0)
        for a, b in zip(ss[:-1], ss[1:], strict=True):
            if b > a:
                total += mp.quad(integrand, [a, b])
        value = total / mp.sqrt(xi_)
        return complex(value)


def envelope(xi, mu=0.0):
    """L1 norm of the integrand, sqrt(xi) * integral |1/(1 - i xi l)| dl: the error scale
    (floats or numpy arrays)."""
    xi, mu = np.asarray(xi, dtype=float), np.asarray(mu, dtype=float)
    return (np.arcsinh(xi * (1 - mu)) - np.arcsinh(xi * (-1 - mu))) / np.sqrt(xi)


@functools.cache
def overlap_mpmath_closed(phi: float, xi: float, mu: float = 0.0, dps: int = 40) -> complex:
    """O from its closed form in mpmath's arbitrary-precision E1 (fast at any |phi|).

    With a = phi/(2 xi), z_j = a - i*phi*l_j/2 and g(z) = e^z E1(z),
    O = (i/sqrt(xi)) [e^{i phi l1/2} g(z1) - e^{i phi l2/2} g(z2)] + C, where
    C = 2 pi e^a / sqrt(xi) when a < 0 and l1 < 0 <= l2 (the path crosses E1's cut).
    The formula itself is checked against :func:`overlap_mpmath` (quadrature of the
    definition) by tests/make_references.py, so this is an independent reference too.
    """
    return complex(_closed_mp(phi, xi, mu, dps))


def overlap_reference(phi: float, xi: float, mu: float = 0.0, digits: int = 20) -> complex:
    """O(phi, xi, mu) for any float inputs, to ``digits`` digits of the envelope.

    :func:`overlap_mpmath_closed` at a precision that holds l = -1-mu exactly and tells
    w1 = 1 - i xi l1 from w2 (they differ by 2 xi), doubled until two successive precisions
    agree to 10**-digits of the envelope (the closed form's two terms can cancel by many
    orders of magnitude, e.g. ~1/xi for tiny xi and |phi| <~ xi).  Starting below that
    precision, both terms can round to the same number and agree on a false 0.
    """
    base = (digits + 15 + int(math.log10(1.0 + abs(mu)))
            + max(0, int(-math.log10(xi))))
    scale = mp.mpf(10) ** (-digits) * envelope_mp(xi, mu)
    previous = None
    dps = base
    while True:
        value = _closed_mp(phi, xi, mu, dps)
        if previous is not None and abs(value - previous) <= scale:
            with mp.workdps(dps):
                return complex(value)
        previous, dps = value, 2 * dps
        if dps > 20000:
            raise RuntimeError(f"no convergence for {(phi, xi, mu)}")


def envelope_mp(xi: float, mu: float = 0.0) -> float:
    """The envelope E(xi, mu) in 60-digit mpmath (exact ends, no cancellation)."""
    with mp.workdps(60 + int(math.log10(1.0 + abs(mu)))):
        xi_, mu_ = mp.mpf(xi), mp.mpf(mu)
        return float((mp.asinh(xi_ * (1 - mu_)) - mp.asinh(-xi_ * (1 + mu_))) / mp.sqrt(xi_))


def _closed_mp(phi: float, xi: float, mu: float, dps: int) -> mp.mpc:
    with mp.workdps(dps):
        phi_, xi_, mu_ = mp.mpf(phi), mp.mpf(xi), mp.mpf(mu)
        l1, l2 = -1 - mu_, 1 - mu_
        if phi == 0:
            return 1j * (mp.log(1 - 1j * xi_ * l2) - mp.log(1 - 1j * xi_ * l1)) / mp.sqrt(xi_)
        a = phi_ / (2 * xi_)

        def term(l):
            imag = -phi_ * l / 2
            z = mp.mpc(a, imag if imag != 0 else abs(a) * mp.mpf(10) ** (-dps - 10))
            return mp.expj(phi_ * l / 2) * mp.exp(z) * mp.e1(z)

        value = 1j * (term(l1) - term(l2)) / mp.sqrt(xi_)
        if a < 0 and l1 < 0 <= l2:
            value += 2 * mp.pi * mp.exp(a) / mp.sqrt(xi_)
        return +value
