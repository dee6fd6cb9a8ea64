"""Make tests/data/walkoff_references.csv: Boyd–Kleinman's h(σ, B, κ, ξ, μ) with mpmath.

Run once (a few minutes): ``python tests/make_walkoff_references.py``.

Each value is h = (1/2ξ) Re ∫_0^{2ξ} e^{iσs − (B²/ξ)s²} I(s) ds at 30 digits, the outer
integral by mpmath's tanh-sinh quadrature on pieces graded around the branch points
s = ξ(1∓μ), and the inner integral I(s) = ∫_a^{b−s} e^{−κ(2t+s)}/[(1+i(t+s))(1−it)] dt in
closed form through mpmath's own logarithm and E₁:
J(c) = ∫_a^{b−s} e^{−2κt}/(t + c) dt = e^{2κc}[E₁(2κ(a+c)) − E₁(2κ(b−s+c))] (κ > 0) or
log((b−s+c)/(a+c)) (κ = 0), I = e^{−κs} i[J(i) − J(s−i)]/(2+is).  That reduction is
checked here against mpmath's 2-D quadrature of Boyd and Kleinman's double integral at a few
points (the script stops if they differ by more than 1e-13), and the tests check the
package against 2-D QUADPACK independently.
"""

from __future__ import annotations

import csv
from pathlib import Path

import mpmath as mp
import numpy as np

OUT = Path(__file__).parent / "data" / "walkoff_references.csv"
mp.mp.dps = 25
TAIL = 80  # e^{-80}: far below the 1e-15 wanted


def inner(s, sigma, xi, kappa, mu):
    a, b = -xi * (1 + mu), xi * (1 - mu)  # the package's mu (Boyd-Kleinman's is -mu)
    if kappa == 0:
        def J(c):
            return mp.log(b - s + c) - mp.log(a + c)  # Im of both args has c's sign
    else:
        k2 = 2 * kappa

        def J(c):  # scaled by e^{2 kappa a}
            return mp.exp(k2 * (c + a)) * (mp.e1(k2 * (a + c)) - mp.e1(k2 * (b - s + c)))
    return mp.exp(-kappa * s) * 1j * (J(1j) - J(s - 1j)) / (2 + 1j * s)


def pieces(xi, sigma, end, mu):
    breaks = sorted({mp.mpf(0), min(xi * (1 - abs(mu)), end), min(xi * (1 + abs(mu)), end),
                     end})
    step = min(mp.mpf(4), mp.mpf(3) / max(abs(sigma), mp.mpf("1e-30")))
    out = set(breaks)
    for lo, hi in zip(breaks[:-1], breaks[1:], strict=True):
        width = mp.mpf("0.25")
        while width < step and lo + width < hi:  # graded from both ends, then uniform
            out.add(lo + width)
            out.add(max(hi - width, lo))
            width *= 2
        grid = lo + step
        while grid < hi:
            out.add(grid)
            grid += step
    return sorted(out)


def h_reference(sigma, xi, B, kappa, mu):
    sigma, xi, B, kappa, mu = (mp.mpf(float(v)) for v in (sigma, xi, B, kappa, mu))
    beta = B * B / xi
    end = 2 * xi
    if beta > 0:
        end = min(end, mp.sqrt(TAIL / beta))
    if kappa > 0:
        end = min(end, TAIL / kappa)

    def f(s):
        return mp.re(mp.exp(1j * sigma * s - beta * s * s) * inner(s, sigma, xi, kappa, mu))

    total, err = mp.quad(f, pieces(xi, sigma, end, mu), error=True, maxdegree=10)
    scale = mp.exp(2 * kappa * xi * (1 + mu))
    return total / (2 * xi) * scale, err / (2 * xi) * scale, scale


def h_double_integral(sigma, xi, B, kappa, mu):
    """Boyd and Kleinman's double integral as written, by mpmath's 2-D quadrature."""
    sigma, xi, B, kappa, mu = (mp.mpf(v) for v in (sigma, xi, B, kappa, mu))
    a, b = -xi * (1 + mu), xi * (1 - mu)  # the package's mu (Boyd-Kleinman's is -mu)

    def f(t, tp):
        return (mp.exp(-kappa * (t + tp) + 1j * sigma * (t - tp) - B**2 / xi * (t - tp) ** 2)
                / ((1 + 1j * t) * (1 - 1j * tp)))
    return mp.re(mp.quad(f, [a, b], [a, b])) / (4 * xi)


def points():
    rng = np.random.default_rng(13)
    special = [
        # B = kappa = 0 (the overlap), mu = 0 exactly, the optimum
        (0.5735887545232851, 2.8375191194941384, 0, 0, 0),
        (0.0, 1.0, 0, 0, 0), (1.0, 0.001, 0, 0, 0), (0.3, 2.84, 0, 0, 0.4),
        # B = 0 with absorption; kappa = 0 with walk-off; both; mu = +-1
        (0.5, 2.84, 0, 0.5, 0), (0.5, 2.84, 1.0, 0, 0), (0.5, 2.84, 1.0, 0.5, 0),
        (0.5, 2.84, 1.0, 0.5, 1.0), (0.5, 2.84, 1.0, 0.5, -1.0), (0.5, 2.84, 1.0, 0, 1.0),
        # BK's walk-off values at the optimal focus region
        *[(0.4, 1.39, B, 0, 0) for B in (0.5, 1, 2, 4, 8, 16)],
        # the kappa switch: 2 kappa (|a| + |b| + 2) = 1e-16 (xi = 1, mu = 0: 8 kappa)
        (0.5, 1.0, 0.7, 1e-16 / 8 * 0.99, 0), (0.5, 1.0, 0.7, 1e-16 / 8 * 1.01, 0),
        (0.5, 1.0, 0.7, 1e-12, 0), (0.5, 1.0, 0.0, 1e-12, 0.3),
        # the walk-off cut: sqrt(36 xi)/B = 2 xi, B = 3/sqrt(xi)
        (1.0, 9.0, 1.0 * 0.999, 0, 0), (1.0, 9.0, 1.0 * 1.001, 0, 0),
        # the absorption cut 36/kappa = 2 xi: xi = 18/kappa
        (0.2, 18.0, 0.0, 1.0 * 0.999, 0), (0.2, 18.0, 0.0, 1.0 * 1.001, 0),
        # the kernel's kappa = 0 switch to log1p at xi = 1/4, and its single panel for
        # segments up to 2 wide (xi = 2 when centred)
        (0.7, 0.25 * (1 - 1e-9), 0.3, 0, 0.2), (0.7, 0.25 * (1 + 1e-9), 0.3, 0, 0.2),
        (-2.0, 2.0 * (1 - 1e-9), 1.0, 0, 0), (-2.0, 2.0 * (1 + 1e-9), 1.0, 0, 0),
        (-2.0, 2.0 * (1 - 1e-9), 1.0, 0.3, 0), (-2.0, 2.0 * (1 + 1e-9), 1.0, 0.3, 0),
        # rate = 0 (no cap on the panels)
        (0.0, 5.0, 1e-3, 0, 0), (0.0, 5.0, 0.0, 1e-3, 0),
        # extremes of the domain
        (10.0, 1000.0, 16.0, 2.0, 1.0), (-10.0, 1000.0, 16.0, 0.0, 1.0),
        (1.0, 100.0, 4.0, 1.5, 0.0),  # h ~ e^300: accuracy relative to the scale
        (10.0, 0.001, 16.0, 2.0, 0.5), (-10.0, 0.001, 0.0, 2.0, -0.5),
        (0.01, 1000.0, 0.05, 0.0, 0.0), (-0.5, 1000.0, 0.0, 0.5, 0.8),
        (3.0, 100.0, 0.2, 0.0, 0.0), (-3.0, 300.0, 1.0, 0.01, -0.7),
        (0.2, 1.0, 8.0, 2.0, 0.0), (0.2, 50.0, 0.0, 2.0, 0.9),
    ]
    for p in special:
        assert p[3] * p[1] * (1 - p[4]) <= 300  # h stays within float64
        yield "special", p
    count = 0
    while count < 90:
        xi = 10 ** rng.uniform(-3, 3)
        sigma = rng.uniform(-10, 10)
        B = 0.0 if rng.random() < 0.15 else rng.uniform(0, 16)
        kappa = 0.0 if rng.random() < 0.3 else rng.choice([rng.uniform(0, 2),
                                                            10 ** rng.uniform(-6, 0)])
        mu = 0.0 if rng.random() < 0.2 else rng.uniform(-1, 1)
        if kappa * xi * (1 + mu) > 300:
            continue  # h would overflow float64
        beta = B * B / xi
        end = min(2 * xi, np.sqrt(TAIL / beta) if beta else np.inf,
                  TAIL / kappa if kappa else np.inf)
        if end * max(1.0, abs(sigma)) > (600 if kappa else 3000):  # minutes, not hours
            continue
        count += 1
        yield "random", (sigma, xi, B, kappa, mu)


def main() -> None:
    for p in [(0.5, 0.7, 0.6, 0.3, 0.2), (-1.0, 0.3, 0.0, 1.0, -0.5), (2.0, 0.5, 1.5, 0.0, 1.0)]:
        mp.mp.dps = 20
        direct = h_double_integral(*p)
        mp.mp.dps = 25
        reduced = h_reference(*p)[0]
        assert abs(direct - reduced) < 1e-13, (p, direct, reduced)
        print("reduction checked at", p, mp.nstr(reduced, 17))
    OUT.parent.mkdir(exist_ok=True)
    rows = []
    for kind, p in points():
        value, err, scale = h_reference(*p)
        assert err < 1e-16 * max(1, scale), (p, err)
        rows.append([kind, *(repr(float(v)) for v in p), mp.nstr(value, 20), float(scale)])
        print(kind, p, mp.nstr(value, 17), flush=True)
    with OUT.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["kind", "sigma", "xi", "B", "kappa", "mu", "h", "scale"])
        writer.writerows(rows)


if __name__ == "__main__":
    main()
