"""The coupling kernel's fast paths, each against the slower route it replaces or mpmath.

- the far root of the singles' inner integral by its series in 1/ρ_f (per-point moments)
  against the overlap kernel it replaces, and the moments against mpmath;
- the outer rule's node counts for balanced ratios (min(r_s, r_i) ≥ 0.3) against a
  128-node rule, at the hard end of each row, and continuous across the switch;
- scaled_exp1's 28-term power series (|z| ≤ 2.5) against mpmath on both sides of its edge.

The brute-force references (tests/test_coupling_kernel.py) check the whole kernel as well.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

from xr_spdc.numerics import coupling as cp
from xr_spdc.numerics import overlap as kernels
from xr_spdc.numerics.coupling import coupling, singles

TOLERANCE = 1e-10


def balanced_inputs(n: int, seed: int, phi_max: float, xi_max: float,
                    ratio_min: float = cp._BALANCED_RATIO) -> list[np.ndarray]:
    # ξ_j mostly in the row's upper decade (its hard end), ratios balanced, |μ| ≤ 2.
    rng = np.random.default_rng(seed)
    hi = np.exp(rng.uniform(np.log(xi_max / 10), np.log(xi_max), (3, n)))
    lo = np.exp(rng.uniform(np.log(1e-4), np.log(xi_max), (3, n)))
    xi = np.where(rng.random((3, n)) < 0.7, hi, lo)
    r_s = rng.uniform(ratio_min, 1 - ratio_min, n)
    r_i = np.clip(1 - r_s + rng.uniform(-0.19, 0.19, n), ratio_min, 0.99)
    r_i = np.where(np.abs(r_s + r_i - 1) > 0.2, 1 - r_s, r_i)
    mu = rng.uniform(-2, 2, (3, n))
    mu[:, : n // 3] = 0.0
    phi = rng.uniform(-phi_max, phi_max, n)
    return [phi, *xi, r_s, r_i, *mu]


def test_far_series_agrees_with_the_overlap_route(monkeypatch):
    # With _SERIES_U = 0 every far root goes through the overlap kernel (the route before
    # the series): both agree to rounding on points over the whole domain.
    rng = np.random.default_rng(3)
    n = 60
    xi = np.exp(rng.uniform(np.log(1e-3), np.log(50.0), (3, n)))
    r_s = rng.uniform(0.06, 0.94, n)
    r_i = np.clip(1 - r_s + rng.uniform(-0.19, 0.19, n), 0.05, 0.99)
    r_i = np.where(np.abs(r_s + r_i - 1) > 0.2, 1 - r_s, r_i)
    args = [rng.uniform(-100, 100, n), *xi, r_s, r_i, *rng.uniform(-2, 2, (3, n))]
    fast = coupling(*args)
    monkeypatch.setattr(cp, "_SERIES_U", 0.0)
    slow = coupling(*args)
    for name in ("signal_singles", "idler_singles"):
        got, ref = getattr(fast, name), getattr(slow, name)
        assert np.max(np.abs(got / ref - 1.0)) <= 1e-11


def test_far_series_on_both_sides_of_its_switch():
    # The inner integral with its far root at |u| = |1/ρ_f| just inside and just outside
    # _SERIES_U (series, then overlap kernel): d(l') = d2 (l' − ρ_n)(l' − ρ_f).
    kappa = np.array([[-3.7], [0.4], [41.0]])
    rho_n = 0.3 - 0.05j
    values = []
    for scale in (1 - 1e-9, 1 + 1e-9):
        rho_f = (1.0 / (cp._SERIES_U * scale)) * np.exp(0.7j)
        d2 = np.full(kappa.shape, 0.02 + 0.01j)
        d1 = -d2 * (rho_n + rho_f)
        d0 = d2 * rho_n * rho_f
        values.append(cp._quadratic_integral(kappa, d2, d1, d0, series=True))
    np.testing.assert_allclose(values[0], values[1], rtol=1e-8, atol=0)
    # and the series branch itself against the overlap kernel at the same point
    rho_f = (1.0 / (cp._SERIES_U * (1 - 1e-9))) * np.exp(0.7j)
    d2 = np.full(kappa.shape, 0.02 + 0.01j)
    args = (kappa, d2, -d2 * (rho_n + rho_f), d2 * rho_n * rho_f)
    np.testing.assert_allclose(cp._quadratic_integral(*args, series=True),
                               cp._quadratic_integral(*args), rtol=1e-13, atol=0)


@pytest.mark.parametrize("kappa", [0.0, 1e-3, 0.37, 7.5, -23.0, 50.0])
def test_moments_against_mpmath(kappa):
    got = cp._moments(np.array([kappa]), cp._SERIES_TERMS_MAX)[0]
    with mp.workdps(30):
        for k in (0, 1, 2, 7, 18, cp._SERIES_TERMS_MAX - 1):
            ref = mp.quad(lambda t, k=k: t ** k * mp.expj(kappa * t),
                          mp.linspace(-1, 1, 9))
            assert abs(got[k] - complex(ref)) <= 1e-14


@pytest.mark.parametrize(("row", "subs"), sorted(cp._BALANCED.items()))
def test_balanced_rule_converged(row, subs, monkeypatch):
    # Each balanced row's node count (with the a posteriori check) against a 128-node rule.
    phi_max, _ = row
    for xi_max, n_sub in subs:
        args = balanced_inputs(24, seed=int(10 * phi_max + xi_max), phi_max=phi_max,
                               xi_max=xi_max)
        counts = cp._outer_count(args[0], np.maximum(args[1], args[2]),
                                 np.minimum(args[4], args[5]))
        assert (counts == n_sub).any()  # the balanced count is what these points use
        got = [singles(*args, arm=a) for a in ("signal", "idler")]
        with monkeypatch.context() as patch:
            patch.setattr(cp, "_OUTER_TABLE", ((1e3, 1e3, 128),))
            ref = [singles(*args, arm=a) for a in ("signal", "idler")]
        for g, r in zip(got, ref, strict=True):
            assert np.max(np.abs(g / r - 1.0)) <= TOLERANCE


def test_balanced_switch_is_continuous():
    # Just above and just below min(r_s, r_i) = 0.3 (balanced and general counts) agree.
    base = dict(phi=6.0, xi_p=8.0, xi_s=5.0, xi_i=9.0, mu_p=0.4, mu_s=-0.3, mu_i=0.9)
    edge = cp._BALANCED_RATIO
    for below in (edge, np.nextafter(edge, 0.0)):
        assert cp._outer_count(np.array([6.0]), np.array([9.0]), np.array([below]))[0] == (
            28 if below >= edge else 40)
    a = coupling(**base, ratio_s=edge, ratio_i=0.68)
    b = coupling(**base, ratio_s=np.nextafter(edge, 0.0), ratio_i=0.68)
    assert abs(a.signal_singles / b.signal_singles - 1) <= TOLERANCE
    assert abs(a.idler_singles / b.idler_singles - 1) <= TOLERANCE


def test_scaled_exp1_short_series_against_mpmath():
    # Both sides of |z| = 2.5 (28 terms inside, 50 outside) where the power series applies
    # (|z| + Re z ≤ 2.5), and points well inside.
    angles = np.linspace(np.pi / 2 + 1e-3, np.pi, 15)
    radii = [cp_r * f for cp_r in (kernels._SERIES_TINY_R,) for f in (1 - 1e-9, 1 + 1e-9)]
    z = np.concatenate([r * np.exp(1j * s * angles) for r in radii + [0.01, 0.7, 1.9]
                        for s in (1, -1)])
    z = z[np.abs(z) + z.real <= kernels._SERIES_Q]
    with mp.workdps(40):
        ref = np.array([complex(mp.exp(mp.mpc(v.real, v.imag)) * mp.e1(mp.mpc(v.real, v.imag)))
                        for v in z])
    assert np.max(np.abs(kernels.scaled_exp1(z) - ref) / np.abs(ref)) <= 5e-15
