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


def envelope(xi: float, mu: float = 0.0) -> float:
    """L1 norm of the integrand, sqrt(xi) * integral |1/(1 - i xi l)| dl: the error scale."""
    return (math.asinh(xi * (1 - mu)) - math.asinh(xi * (-1 - mu))) / math.sqrt(xi)
