"""xr_spdc.numerics.coupling: the exact paraxial fibre-coupling kernel.

References: tests/data/coupling_references.npz, brute-force transverse quadrature in SI units
(numerically computed 2×2 and 3×3 determinants, adaptive quadrature over z and z′) made once
by tests/make_coupling_references.py.  Identities: Bennink's overlap in the k_p = k_s + k_i
limit, η ≤ 1, signal/idler exchange, the plane-wave limit, the sign of the optimum phase.
"""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from xr_spdc.numerics import coupling as cp
from xr_spdc.numerics import overlap as kernels
from xr_spdc.numerics.coupling import check_domain, coupling, pair_amplitude, singles

DATA = np.load(pathlib.Path(__file__).parent / "data" / "coupling_references.npz")
NAMES = ("phi", "xi_p", "xi_s", "xi_i", "ratio_s", "ratio_i", "mu_p", "mu_s", "mu_i")
TOLERANCE = 1e-10


def stored_inputs() -> list[np.ndarray]:
    return [DATA[name] for name in NAMES]


def random_inputs(n: int, seed: int, xi_max: float = 100.0, phi_max: float = 100.0,
                  mu_max: float = 2.0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    xi = np.exp(rng.uniform(np.log(1e-4), np.log(xi_max), (3, n)))
    r_s = rng.uniform(0.1, 0.9, n)
    r_i = 1.0 - r_s + rng.uniform(-0.19, 0.19, n)
    r_i = np.clip(r_i, 0.05, 0.99)
    r_i = np.where(np.abs(r_s + r_i - 1.0) > 0.2, 1.0 - r_s, r_i)
    phi = rng.uniform(-phi_max, phi_max, n)
    mu = rng.uniform(-mu_max, mu_max, (3, n))
    mu[:, : n // 3] = 0.0
    return [phi, *xi, r_s, r_i, *mu]


def bennink_xi(xi_p, xi_s, xi_i, r_s, r_i):
    # physics.md / Bennink Eqs. 12-15 with Δk = 0 (k_p = k_s + k_i).
    a_plus = 1.0 + (r_s * xi_s + r_i * xi_i) / xi_p
    b_plus = 1.0 + r_s * xi_p / xi_s + r_i * xi_p / xi_i
    return b_plus / a_plus * xi_s * xi_i / xi_p


def test_reference_set_covers_the_brief():
    assert DATA["phi"].size >= 30
    waists = DATA["waists"]
    ratio = waists[:, 1:] / waists[:, :1]
    assert ratio.min() < 0.6 and ratio.max() > 2.3
    assert DATA["length"].min() <= 1.1e-3 and DATA["length"].max() >= 29e-3
    assert np.abs(DATA["phi"]).max() <= 10.0 and (DATA["phi"] == 0).any()
    assert (DATA["mu_p"] != 0).sum() >= 10
    assert np.ptp(DATA["ratio_s"] - DATA["ratio_i"]) > 0.1  # non-degenerate too
    assert (DATA["ratio_s"] == DATA["ratio_i"]).any()


def test_amplitude_against_brute_force():
    got = pair_amplitude(*stored_inputs())
    ref = DATA["amplitude"]
    assert np.max(np.abs(got - ref) / np.abs(ref)) <= TOLERANCE


@pytest.mark.parametrize("arm", ["signal", "idler"])
def test_singles_against_brute_force(arm):
    got = singles(*stored_inputs(), arm=arm)
    ref = DATA[f"{arm}_singles"]
    assert np.max(np.abs(got / ref - 1.0)) <= TOLERANCE


def test_coupling_bundles_the_parts():
    args = stored_inputs()
    r = coupling(*args)
    np.testing.assert_array_equal(r.amplitude, pair_amplitude(*args))
    np.testing.assert_array_equal(r.signal_singles, singles(*args, arm="signal"))
    np.testing.assert_array_equal(r.idler_singles, singles(*args, arm="idler"))
    pair = np.abs(DATA["amplitude"]) ** 2
    np.testing.assert_allclose(r.pair, pair, rtol=3 * TOLERANCE, atol=0)
    np.testing.assert_allclose(r.signal_heralding, pair / DATA["idler_singles"],
                               rtol=5 * TOLERANCE, atol=0)
    np.testing.assert_allclose(r.idler_heralding, pair / DATA["signal_singles"],
                               rtol=5 * TOLERANCE, atol=0)
    np.testing.assert_allclose(
        r.symmetric_heralding,
        pair / np.sqrt(DATA["signal_singles"] * DATA["idler_singles"]),
        rtol=5 * TOLERANCE, atol=0)


@pytest.mark.parametrize("mu", [0.0, 0.6, -1.3])
def test_bennink_limit(mu):
    # k_p = k_s + k_i exactly (ratio_s + ratio_i == 1 in floating point), common focus:
    # the pair probability is |O(φ, ξ, μ)|² times a φ-independent factor.
    phi = np.linspace(-10.0, 10.0, 41)
    for xi_p, xi_s, xi_i, r_s in [(2.84, 2.84, 2.84, 0.5), (0.3, 1.7, 0.9, 0.375),
                                  (12.0, 4.0, 30.0, 0.25)]:
        r_i = 1.0 - r_s
        assert r_s + r_i == 1.0
        p2 = np.abs(pair_amplitude(phi, xi_p, xi_s, xi_i, r_s, r_i, mu, mu, mu)) ** 2
        xi = bennink_xi(xi_p, xi_s, xi_i, r_s, r_i)
        o2 = np.abs(kernels.overlap(phi, xi, mu)) ** 2
        ratio = p2 / o2
        assert np.ptp(ratio) <= 1e-13 * ratio.mean()


def test_material_mismatch_changes_the_shape():
    # PPLN-like 775 → 1550 nm: k_p − k_s − k_i ≈ 1.8 % of k_p.  Bennink's aggregate ξ
    # (with his Δk terms, physics.md) drops the z² term of D; the exact P₂ departs from his
    # |O|² shape by ~1 % of the peak, and its maximum moves from −1.04π to −1.05π.
    phi = np.linspace(-4 * np.pi, 2 * np.pi, 601)
    r = 2.14 / (2 * 2.18)
    dk = 1.0 - 2 * r  # Δk/k_p
    p2 = np.abs(pair_amplitude(phi, 2.84, 2.84, 2.84, r, r)) ** 2
    a_plus = 1.0 + 2 * r
    b_plus = (1.0 - dk) + 2 * (r + dk)
    o2 = np.abs(kernels.overlap(phi, b_plus / a_plus * 2.84)) ** 2
    shape = np.max(np.abs(p2 / p2.max() - o2 / o2.max()))
    assert 0.003 < shape < 0.1
    assert phi[np.argmax(p2)] / np.pi == pytest.approx(-1.05, abs=0.006)
    assert phi[np.argmax(o2)] / np.pi == pytest.approx(-1.04, abs=0.006)


def test_sign_of_the_optimum():
    # Equal confocal parameters (ξ_j equal) at ξ = 2.84: P₂ peaks at φ ≈ −1.04π (exact
    # k_p = k_s + k_i: Bennink's φ* = −1.0361426430169949π) and ≈ −1.05π with PPLN's
    # material mismatch; never at positive φ.
    def argmax(func):
        res = minimize_scalar(lambda p: -abs(func(p)) ** 2, bounds=(-2 * np.pi, 0.0),
                              method="bounded", options={"xatol": 1e-10})
        return res.x / np.pi

    # At ξ* = 2.8375191194941384 (physics.md) the optimum is φ* = −1.0361426430169949π.
    star = 2.8375191194941384
    assert argmax(lambda p: pair_amplitude(p, star, star, star, 0.5, 0.5)) == pytest.approx(
        -1.0361426430169949, abs=1e-6)
    assert argmax(lambda p: pair_amplitude(p, 2.84, 2.84, 2.84, 0.5, 0.5)) == pytest.approx(
        argmax(lambda p: kernels.overlap(p, 2.84)), abs=1e-6)
    r = 2.14 / (2 * 2.18)
    assert argmax(lambda p: pair_amplitude(p, 2.84, 2.84, 2.84, r, r)) == pytest.approx(
        -1.05, abs=0.006)
    phi = np.linspace(-3 * np.pi, 3 * np.pi, 61)
    p2 = np.abs(pair_amplitude(phi, 2.84, 2.84, 2.84, r, r)) ** 2
    assert phi[np.argmax(p2)] < 0


def test_heralding_at_most_one_and_positive():
    r = coupling(*random_inputs(150, seed=1))
    for eta in (r.signal_heralding, r.idler_heralding, r.symmetric_heralding):
        assert np.all(eta > 0.0) and np.all(eta <= 1.0 + 1e-12)
    assert np.all(r.pair <= r.signal_singles * (1 + 1e-12))
    assert np.all(r.pair <= r.idler_singles * (1 + 1e-12))


def test_exchange_of_signal_and_idler():
    phi, xp, xs, xi, rs, ri, mp, ms, mi = random_inputs(100, seed=2)
    a = coupling(phi, xp, xs, xi, rs, ri, mp, ms, mi)
    b = coupling(phi, xp, xi, xs, ri, rs, mp, mi, ms)
    np.testing.assert_allclose(b.amplitude, a.amplitude, rtol=1e-12, atol=0)
    np.testing.assert_allclose(b.signal_singles, a.idler_singles, rtol=1e-12, atol=0)
    np.testing.assert_allclose(b.idler_singles, a.signal_singles, rtol=1e-12, atol=0)
    np.testing.assert_allclose(b.signal_heralding, a.idler_heralding, rtol=1e-12, atol=0)
    np.testing.assert_allclose(b.idler_heralding, a.signal_heralding, rtol=1e-12, atol=0)


def test_plane_wave_limit():
    # ξ_j → 0 (waists ≫ the crystal's diffraction scale): D(l) → D₀ = c_pc_s + c_pc_i +
    # c_sc_i, so 𝒜/k_p → 4π√(c_sc_i)·2 sinc(φ/2)/D₀: the sinc² phase matching.  The
    # corrections are first order in ξ.
    phi = np.linspace(-12.0, 12.0, 49)
    xi_p, xi_s, xi_i, r_s, r_i = 1e-4, 2e-4, 1.5e-4, 0.49, 0.5
    c_p, c_s, c_i = 1 / xi_p, 1 / (r_s * xi_s), 1 / (r_i * xi_i)
    d0 = c_p * c_s + c_p * c_i + c_s * c_i
    expected = (4 * np.pi * np.sqrt(c_s * c_i) * 2 * np.sinc(phi / (2 * np.pi)) / d0) ** 2
    p2 = coupling(phi, xi_p, xi_s, xi_i, r_s, r_i).pair
    np.testing.assert_allclose(p2, expected, rtol=0, atol=1e-3 * expected.max())


def test_far_root_switch_is_continuous():
    # Both sides of _FAR_DROP: a mismatch r_s + r_i − 1 of 0 (dropped exactly), 1e-19
    # (dropped), 1e-15 (kept, root at ~1e15) must agree to rounding.
    base = dict(xi_p=1.3, xi_s=0.7, xi_i=2.2)
    phi = np.linspace(-9.0, 9.0, 13)
    values = []
    for delta in (0.0, 1e-19, 1e-15, -1e-15):
        r_s = 0.375
        r_i = 1.0 - r_s + delta
        values.append(coupling(phi, base["xi_p"], base["xi_s"], base["xi_i"], r_s, r_i))
    for v in values[1:]:
        np.testing.assert_allclose(v.amplitude, values[0].amplitude, rtol=1e-13, atol=0)
        np.testing.assert_allclose(v.signal_singles, values[0].signal_singles, rtol=1e-12)


@pytest.mark.parametrize(("name", "edges"), [("phi", (10.0, 40.0)), ("xi_p", (10.0,))])
def test_outer_rule_switches_are_continuous(name, edges):
    # Points just inside and just outside each bin of _OUTER_TABLE agree to the target.
    args = dict(phi=7.0, xi_p=3.0, xi_s=2.0, xi_i=5.0, ratio_s=0.45, ratio_i=0.53,
                mu_p=0.2, mu_s=-0.1, mu_i=0.3)
    for edge in edges:
        inside, outside = dict(args), dict(args)
        inside[name], outside[name] = edge, np.nextafter(edge, np.inf)
        if name == "phi":
            inside["xi_p"] = outside["xi_p"] = 50.0  # also exercise a large-ξ row
        for arm in ("signal", "idler"):
            a = singles(**inside, arm=arm)
            b = singles(**outside, arm=arm)
            assert abs(a / b - 1.0) <= TOLERANCE


def test_outer_rule_converged():
    # The tabulated node counts (with their a posteriori check) against a 128-node rule,
    # on points whose ξ_j mostly sit in each row's upper decade (the hard end).
    rng = np.random.default_rng(5)
    parts = []
    for phi_max, xi_max, _ in cp._OUTER_TABLE:
        n = 12
        hi = np.exp(rng.uniform(np.log(xi_max / 3.3), np.log(xi_max), (3, n)))
        lo = np.exp(rng.uniform(np.log(1e-4), np.log(xi_max), (3, n)))
        xi = np.where(rng.random((3, n)) < 0.7, hi, lo)
        r_s = rng.uniform(0.06, 0.94, n)
        r_i = np.clip(1 - r_s + rng.uniform(-0.19, 0.19, n), 0.05, 0.99)
        mu = rng.uniform(-2, 2, (3, n))
        mu[:, : n // 3] = 0.0
        parts.append([rng.uniform(-phi_max, phi_max, n), *xi, r_s, r_i, *mu])
    args = [np.concatenate([p[k] for p in parts]) for k in range(9)]
    got = [singles(*args, arm=a) for a in ("signal", "idler")]
    table = cp._OUTER_TABLE
    try:
        cp._OUTER_TABLE = ((1e3, 1e3, 128),)
        ref = [singles(*args, arm=a) for a in ("signal", "idler")]
    finally:
        cp._OUTER_TABLE = table
    for g, r in zip(got, ref, strict=True):
        assert np.max(np.abs(g / r - 1.0)) <= TOLERANCE


def test_refinement_rescues_a_poor_rule(monkeypatch):
    # Both sides of the a posteriori switch: with a rule far too coarse for these points
    # (8 nodes per half-panel), the check notices and the doublings restore the accuracy.
    monkeypatch.setattr(cp, "_OUTER_TABLE", ((1e3, 1e3, 8),))
    args = stored_inputs()
    for arm in ("signal", "idler"):
        got = singles(*args, arm=arm)
        assert np.max(np.abs(got / DATA[f"{arm}_singles"] - 1.0)) <= TOLERANCE


def test_unsettled_rule_warns(monkeypatch):
    monkeypatch.setattr(cp, "_OUTER_TABLE", ((1e3, 1e3, 8),))
    monkeypatch.setattr(cp, "_REFINE_LEVELS", 0)
    with pytest.warns(RuntimeWarning, match="did not settle"):
        singles(7.0, 40.0, 30.0, 50.0, 0.45, 0.53)


def test_coinciding_foci_switch_is_continuous():
    # Equal foci use two panels, distinct ones three: both sides agree.
    phi, base = -3.0, (2.0, 1.0, 4.0, 0.45, 0.53)
    a = coupling(phi, *base, 0.3, 0.3, 0.3)
    b = coupling(phi, *base, 0.3, 0.3 + 1e-13, 0.3 - 1e-13)
    assert abs(a.signal_singles / b.signal_singles - 1) <= TOLERANCE
    assert abs(a.idler_singles / b.idler_singles - 1) <= TOLERANCE


def test_finite_on_the_whole_domain():
    args = random_inputs(120, seed=4)
    # the corners of the domain too
    corners = np.array(np.meshgrid([-100.0, 0.0, 100.0], [1e-4, 100.0], [1e-4, 100.0],
                                   [1e-4, 100.0], [0.05, 0.8], [2.0, -2.0])).reshape(6, -1)
    phi, xp, xs, xi, rs, mu = corners
    ri = np.where(rs < 0.5, 0.95, 0.15)
    r = coupling(np.concatenate([args[0], phi]), np.concatenate([args[1], xp]),
                 np.concatenate([args[2], xs]), np.concatenate([args[3], xi]),
                 np.concatenate([args[4], rs]), np.concatenate([args[5], ri]),
                 np.concatenate([args[6], mu]), np.concatenate([args[7], -mu]),
                 np.concatenate([args[8], 0 * mu]))
    for value in r:
        assert np.all(np.isfinite(value))
    assert np.all(r.signal_singles > 0) and np.all(r.idler_singles > 0)


def test_broadcasting_and_chunking(monkeypatch):
    phi = np.linspace(-5, 5, 7)[:, None]
    xi = np.array([0.5, 2.0, 8.0])
    r = coupling(phi, xi, 1.0, 2.0, 0.49, 0.5, 0.0, 0.5)
    assert r.amplitude.shape == (7, 3) and r.amplitude.dtype == np.complex128
    assert r.signal_singles.shape == (7, 3) and r.signal_singles.dtype == np.float64
    assert coupling(0.0, 1.0, 1.0, 1.0, 0.5, 0.5).pair.shape == ()
    monkeypatch.setattr(cp, "_CHUNK", 2)
    small = coupling(phi, xi, 1.0, 2.0, 0.49, 0.5, 0.0, 0.5)
    for a, b in zip(r, small, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("index", "bad"), [
    (0, np.nan), (0, 101.0), (1, 0.0), (2, -1.0), (3, 1e3), (4, 1.0), (5, 0.01),
    (6, 2.5), (7, np.inf), (8, -3.0)])
def test_domain_refusals_name_the_argument(index, bad):
    args = [1.0, 1.0, 1.0, 1.0, 0.49, 0.5, 0.0, 0.0, 0.0]
    args[index] = bad
    with pytest.raises(ValueError, match=rf"^{NAMES[index]} out of the supported domain"):
        check_domain(*args)
    with pytest.raises(ValueError, match=NAMES[index]):
        coupling(*args)


def test_mismatch_refused():
    with pytest.raises(ValueError, match=r"ratio_s \+ ratio_i - 1.*wavelengths"):
        check_domain(0.0, 1.0, 1.0, 1.0, 0.9, 0.9)


def test_unknown_arm():
    with pytest.raises(ValueError, match="arm"):
        singles(0.0, 1.0, 1.0, 1.0, 0.5, 0.5, arm="pump")
