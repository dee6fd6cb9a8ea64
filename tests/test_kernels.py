"""xr_spdc.kernels against mpmath: |O - O_ref| <= 1e-13 of the envelope in every regime.

References come from tests/references.py: ``overlap_mpmath`` (tanh-sinh quadrature of the
definition, slow for large |phi|) and ``overlap_mpmath_closed`` (the closed form in 40-digit
mpmath, fast), the latter itself checked against the former below.  Regime switches of the
kernel (see its Notes) are tested with points on both sides.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from conftest import classic_axes
from hypothesis import given, settings
from hypothesis import strategies as st
from references import envelope as envelope_ref
from references import overlap_mpmath, overlap_mpmath_closed
from scipy.special import sici

from xr_spdc import kernels
from xr_spdc.kernels import envelope, overlap

TOLERANCE = 1e-13  # the accuracy target, relative to the envelope E(xi, mu)
MUS = [0.0, 0.25, -0.25, 0.5, -0.5, 1.0, -1.0, 1.5, -1.5]
PHI_MAX = 200 * np.pi


def errors(phi, xi, mu=0.0, reference=overlap_mpmath_closed) -> np.ndarray:
    """|O - O_ref| / E(xi, mu) per point, broadcasting the arguments."""
    phi, xi, mu = (a.ravel() for a in np.broadcast_arrays(
        np.asarray(phi, float), np.asarray(xi, float), np.asarray(mu, float)))
    got = overlap(phi, xi, mu)
    ref = np.array([reference(float(p), float(x), float(m))
                    for p, x, m in zip(phi, xi, mu, strict=True)], dtype=complex)
    return np.abs(got - ref) / envelope_ref(xi, mu)


def worst_error(phi, xi, mu=0.0, reference=overlap_mpmath_closed) -> float:
    return float(np.max(errors(phi, xi, mu, reference), initial=0.0))


# --- the references ---------------------------------------------------------------------

# Quadrature costs ~ |phi| (one piece per half oscillation): keep |phi| <= 30 here.
REFERENCE_CASES = [(p, x, m) for m in (0.0, 0.5, -1.0, 1.0, 1.5)
                   for x in (1e-6, 1e-3, 0.5, 2.84, 1e6)
                   for p in sorted({0.0, 1e-12, -1e-12, -2 * min(x, 10.0), 2 * min(x, 10.0),
                                    -3.0, 7.0, -30.0})]


def test_closed_form_reference_agrees_with_quadrature_of_the_definition():
    # The fast reference (closed form with its branch term, mpmath's E1) against tanh-sinh
    # quadrature of the integral: both sides of the cut (phi < 0 and > 0), the endpoint
    # l = 0 (mu = +-1), l = 0 outside the interval (mu = 1.5), tiny and huge xi.
    for phi, xi, mu in REFERENCE_CASES:
        a, b = overlap_mpmath_closed(phi, xi, mu), overlap_mpmath(phi, xi, mu)
        assert abs(a - b) <= 1e-16 * envelope_ref(xi, mu), (phi, xi, mu)


def test_kernel_against_quadrature_of_the_definition():
    # Directly against the definition, including |phi| = 200 pi (~1 s of mpmath each).
    phi, xi, mu = np.array(REFERENCE_CASES).T
    assert worst_error(phi, xi, mu, reference=overlap_mpmath) <= TOLERANCE
    big = [(PHI_MAX, 2.84, 0.5), (-PHI_MAX, 1e-6, 0.0), (-PHI_MAX, 1e6, -1.5)]
    phi, xi, mu = np.array(big).T
    assert worst_error(phi, xi, mu, reference=overlap_mpmath) <= TOLERANCE


def test_envelope_matches_the_reference_definition():
    xi, mu = np.meshgrid(np.logspace(-6, 6, 13), np.linspace(-2, 2, 9))
    np.testing.assert_allclose(envelope(xi, mu), envelope_ref(xi, mu), rtol=1e-15)
    assert envelope(2.0).shape == () and envelope([1.0, 2.0], [[0.0], [1.0]]).shape == (2, 2)


# --- accuracy across the domain and on both sides of every switch ------------------------

def special_phis(xi: float) -> list[float]:
    """phi = 0, tiny, +-2 xi (a = +-1), both sides of the Gauss-Legendre box (|phi| = 8),
    a beyond e^a's overflow (|phi|/(2 xi) > 710), the edges of the target range."""
    phis = [0.0, -0.0, 5e-324, 1e-300, -1e-300, 1e-12, -1e-12, -1.0, 3.0, -7.9, 20.0, -50.0,
            PHI_MAX, -PHI_MAX, 2 * xi, -2 * xi, 9 * xi, -9 * xi, 0.3 * xi, -0.3 * xi,
            1500 * xi, -1500 * xi]
    eps = 1e-9
    phis += [s * (kernels._PHI_BOX + d) for s in (1, -1) for d in (-eps, 0.0, eps)]
    return [p for p in phis if abs(p) <= PHI_MAX]


@pytest.mark.parametrize("mu", MUS)
@pytest.mark.parametrize("log10_xi", [-6, -4, -2, -1, -0.5, 0, 0.3, 1, 2, 4, 6])
def test_grid_across_regimes(log10_xi, mu):
    xi = 10.0**log10_xi
    assert worst_error(special_phis(xi), xi, mu) <= TOLERANCE


@pytest.mark.parametrize("mu", [0.0, 0.5, -1.0, 2.0])
def test_both_sides_of_the_gauss_legendre_box(mu):
    eps = 1e-9
    box_phi, box_xi = kernels._PHI_BOX, kernels._XI_BOX
    phi = [s * box_phi * f for s in (1, -1) for f in (1 - eps, 1.0, 1 + eps)] + [0.5, -0.5, -3.0]
    xi = np.array([box_xi * (1 - eps), box_xi, box_xi * (1 + eps)])[:, None]
    assert worst_error(np.array(phi), xi, mu) <= TOLERANCE


@pytest.mark.parametrize("mu", [0.0, 0.5, -1.0, 1.0, -2.0, 2.0])
def test_both_sides_of_the_small_mismatch_branch(mu):
    # Switch at |phi| (1 + |mu|) = 1e-8 min(1, xi); a factor 1 +- 1e-6 on either side.
    xi = np.array([1e-6, 0.5, 1.0, 1.5, 2.84, 1e3, 1e6])
    edge = kernels._TAYLOR_PHASE * np.minimum(xi, 1.0) / (1 + abs(mu))
    phi = np.concatenate([s * edge * f for s in (1, -1) for f in (1 - 1e-6, 1 + 1e-6)])
    assert worst_error(phi, np.tile(xi, 4), mu) <= TOLERANCE


@pytest.mark.parametrize("mu", [0.0, -0.0, 1e-300, -1e-300, 1e-16, -1e-16, 1e-8, -1e-8])
def test_centred_and_barely_displaced(mu):
    # mu == 0 takes the one-g centred closed form; anything else the two-g one.
    xi = np.array([1e-6, 0.1, 2.84, 1e3, 1e6])[:, None]
    phi = np.array([-PHI_MAX, -30.0, -3.0, 1e-7, -1e-7, 5.0, 40.0])
    assert worst_error(phi, xi, mu) <= TOLERANCE


@pytest.mark.parametrize("mu", [1.0, -1.0, 1.0 + 1e-15, 1.0 - 1e-15, -1.0 + 1e-15, 2.0, -2.0])
def test_focus_at_a_face_puts_l_zero_on_the_cut(mu):
    # mu = +-1 puts l = 0 at an end of the interval: for phi < 0 the point a*w lies on E1's
    # cut and the branch term's rule l1 < 0 <= l2 decides; just inside and outside too.
    xi = np.array([1e-3, 0.7, 1.3, 2.84, 1e4])[:, None]
    phi = np.array([-PHI_MAX, -40.0, -9.0, -2.0, 2.0, 9.0, 40.0])
    assert worst_error(phi, xi, mu) <= TOLERANCE


def test_bennink_classic_domain():
    phi, xi = classic_axes()
    p, x = np.meshgrid(phi[::2], xi[::2], indexing="ij")  # 50 x 50 of the 100 x 100 grid
    assert worst_error(p, x, 0.0) <= TOLERANCE
    assert worst_error(p[::2, ::2], x[::2, ::2], 0.5) <= TOLERANCE


def _mixed_phi(draw_xi: float, which: int, u: float) -> float:
    # Uniform over the target range, around the regime switches |phi| ~ 8 and phi ~ xi,
    # or log-uniform down to tiny |phi|.
    if which == 0:
        return u * PHI_MAX
    if which == 1:
        return u * 10.0
    if which == 2:
        return float(np.clip(3 * u * draw_xi, -PHI_MAX, PHI_MAX))
    return math.copysign(10.0 ** (-300 * abs(u)), u) * 10.0


@settings(max_examples=400)
@given(log10_xi=st.floats(-6, 6), which=st.integers(0, 3), u=st.floats(-1, 1),
       mu=st.one_of(st.sampled_from(MUS), st.floats(-2, 2)))
def test_random_points(log10_xi, which, u, mu):
    xi = 10.0**log10_xi
    assert worst_error(_mixed_phi(xi, which, u), xi, mu) <= TOLERANCE


@settings(max_examples=300)
@given(log10_xi=st.floats(-6, 6), phi=st.floats(-PHI_MAX, PHI_MAX), mu=st.floats(-2, 2))
def test_random_points_plain(log10_xi, phi, mu):
    assert worst_error(phi, 10.0**log10_xi, mu) <= TOLERANCE


# --- the private e^z E1(z) on both sides of its region boundaries ------------------------

def _scaled_exp1_mpmath(z: complex) -> complex:
    with mp.workdps(40):
        v = mp.mpc(z.real, z.imag)
        return complex(mp.exp(v) * mp.e1(v))


def _ring(q: float, n_r: int = 25) -> np.ndarray:
    """Points with |z| + Re z = q, from the real axis to |z| = 40 (both half-planes)."""
    r = np.linspace(q / 2 * (1 + 1e-12), kernels._ASYMPTOTIC_R * (1 - 1e-9), n_r)
    theta = np.arccos(np.clip(q / r - 1, -1, 1))
    return np.concatenate([r * np.exp(1j * theta), r * np.exp(-1j * theta)])


def test_scaled_exp1_on_both_sides_of_its_switches():
    edges = [kernels._SERIES_Q] + [q for q, _ in kernels._CF_TERMS]
    z = np.concatenate([_ring(q * f) for q in edges for f in (1 - 1e-9, 1 + 1e-9)])
    r40 = kernels._ASYMPTOTIC_R
    angles = np.linspace(-np.pi, np.pi, 41)
    z = np.concatenate([z, (r40 * (1 - 1e-9)) * np.exp(1j * angles),
                        (r40 * (1 + 1e-9)) * np.exp(1j * angles), [-r40 + 0j, -3.0 + 0j]])
    ref = np.array([_scaled_exp1_mpmath(v) for v in z])
    assert np.max(np.abs(kernels._scaled_exp1(z) - ref) / np.abs(ref)) <= 5e-15


def test_scaled_exp1_over_the_complex_plane():
    rng = np.random.default_rng(7)
    r = 10.0 ** rng.uniform(-3, 6, 600)
    z = r * np.exp(1j * rng.uniform(-np.pi, np.pi, 600))
    ref = np.array([_scaled_exp1_mpmath(v) for v in z])
    assert np.max(np.abs(kernels._scaled_exp1(z) - ref) / np.abs(ref)) <= 5e-15


# --- identities and published values (physics.md) ---------------------------------------

def test_spot_values():
    def close(got, want, xi, mu=0.0):  # a few ulps of the envelope
        return abs(complex(got) - want) <= 2e-15 * float(envelope(xi, mu))

    assert close(overlap(0.0, 1.0), np.pi / 2, 1.0)
    assert close(overlap(-np.pi, 1.0), 1.6314352236527800, 1.0)
    assert close(overlap(2 * np.pi, 2.84), -0.26631083505093987, 2.84)
    assert close(overlap(-3.2551381153733029, 2.8375191194941384), 2.0666155663454307,
                 2.8375191194941384)
    assert close(overlap(-3.27, 2.84, 0.5), 1.8749364636075691 + 0.1799436008783811j,
                 2.84, 0.5)


def test_zero_mismatch_is_the_arctangent_law():
    xi = np.logspace(-6, 6, 49)
    np.testing.assert_allclose(overlap(0.0, xi), 2 * np.arctan(xi) / np.sqrt(xi), rtol=1e-15)
    # Displaced: i (log w2 - log w1)/sqrt(xi), w = 1 - i xi l, exact in numpy too.
    for mu in (0.5, -1.5):
        w1, w2 = 1 - 1j * xi * (-1 - mu), 1 - 1j * xi * (1 - mu)
        expected = 1j * (np.log(w2) - np.log(w1)) / np.sqrt(xi)
        np.testing.assert_allclose(overlap(0.0, xi, mu), expected, rtol=0,
                                   atol=1e-15 * envelope(xi, mu).max())


def test_centred_overlap_is_real():
    rng = np.random.default_rng(3)
    phi = np.concatenate([rng.uniform(-PHI_MAX, PHI_MAX, 4000), rng.uniform(-10, 10, 1000),
                          [0.0, 1e-300, -1e-12]])
    o = overlap(phi, 10 ** rng.uniform(-6, 6, phi.size))
    assert (o.imag == 0).all()


def test_opposite_displacement_is_the_complex_conjugate():
    rng = np.random.default_rng(4)
    n = 4000
    phi, xi, mu = rng.uniform(-PHI_MAX, PHI_MAX, n), 10 ** rng.uniform(-6, 6, n), rng.uniform(
        -2, 2, n)
    phi[::4] = rng.uniform(-10, 10, n // 4)
    scale = envelope(xi, mu)
    assert np.max(np.abs(overlap(phi, xi, -mu) - np.conj(overlap(phi, xi, mu))) / scale) <= 1e-14
    np.testing.assert_allclose(envelope(xi, -mu), scale, rtol=1e-15)


def test_small_focus_asymptote_is_a_sinc():
    # 1/(1 - i xi l) = 1 + i xi l + R with |R| <= xi^2 l^2.  With k = phi/2:
    # sqrt(xi) int e^{ikl} dl = 2 sqrt(xi) sinc(k); the i xi l term gives
    # -2 xi^1.5 (sin k - k cos k)/k^2, of modulus <= xi^1.5; R gives <= (2/3) xi^2.5.
    xi = 1e-6
    k = np.linspace(-20, 20, 80)  # avoids k = 0, which the arctangent test covers
    o = overlap(2 * k, xi)
    sinc = 2 * np.sqrt(xi) * np.sin(k) / k
    np.testing.assert_allclose(o, sinc, rtol=0, atol=xi**1.5 + xi**2.5)
    first = -2 * xi**1.5 * (np.sin(k) - k * np.cos(k)) / k**2
    np.testing.assert_allclose(o, sinc + first, rtol=0, atol=(2 / 3) * xi**2.5 + 1e-18)


def test_large_focus_optimum_approaches_boyd_kleinman_limit():
    # xi -> inf: max_phi |O|^2/4 -> (pi + 2 Si(pi))^2 / (4 xi), at phi -> -2 pi.
    xi = 1e5
    h = np.abs(overlap(np.linspace(-2.2, -1.8, 4001) * np.pi, xi)) ** 2 / 4
    limit = (np.pi + 2 * sici(np.pi)[0]) ** 2 / (4 * xi)
    assert h.max() == pytest.approx(limit, rel=1e-3)


@pytest.mark.parametrize(("xi", "mu"), [(0.3, 0.0), (2.84, 0.0), (50.0, 0.0), (2.84, 0.5)])
def test_parseval_arctan_law(xi, mu):
    # Plancherel: int |O|^2 dphi = 4 pi xi int |f|^2 dl = 4 pi (atan(xi l2) - atan(xi l1)),
    # f = 1/(1 - i xi l); centred 8 pi atan(xi) (Bennink).
    # Discretisation: |O(phi)|^2 is the Fourier transform of the autocorrelation of
    # f on [l1, l2], supported in |u| <= 1 for the kernel e^{i phi u}, so by Poisson
    # summation the trapezoid sum h * sum_k |O(k h)|^2 over ALL k is exact for h < 2 pi.
    # Truncation to |k h| <= P: two integrations by parts give |O| <= A/|phi| + B/phi^2,
    # A = 2 sqrt(xi) (|f(l1)| + |f(l2)|), B = 4 sqrt(xi) (|f'(l1)| + |f'(l2)| + int |f''|),
    # a decreasing bound, so the missing terms sum to at most
    # 2 int_P^inf (A/phi + B/phi^2)^2 = 2 (A^2/P + A B/P^2 + B^2/(3 P^3)).
    # The rest is rounding (<= 1e-11 relative, generously).
    l1, l2 = -1.0 - mu, 1.0 - mu
    h, cutoff = 1.0, 2.0e5
    phi = h * np.arange(-int(cutoff / h), int(cutoff / h) + 1)
    total = h * np.sum(np.abs(overlap(phi, xi, mu)) ** 2)
    exact = 4 * np.pi * (math.atan(xi * l2) - math.atan(xi * l1))
    f = [1 / math.sqrt(1 + (xi * l) ** 2) for l in (l1, l2)]
    df = [xi / (1 + (xi * l) ** 2) for l in (l1, l2)]
    variation = 2 * xi**2 * (l2 / math.sqrt(1 + (xi * l2) ** 2)
                             - l1 / math.sqrt(1 + (xi * l1) ** 2))  # int |f''|, f'' one-signed
    a, b = 2 * math.sqrt(xi) * sum(f), 4 * math.sqrt(xi) * (sum(df) + variation)
    tail = 2 * (a**2 / cutoff + a * b / cutoff**2 + b**2 / (3 * cutoff**3))
    assert -1e-11 * exact <= exact - total <= tail + 1e-11 * exact
    assert tail <= 1e-5 * exact  # the bound is tight enough to mean something


# --- shapes, dtypes, chunking ------------------------------------------------------------

@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3), (2, 1, 4), (0, 5)])
def test_shapes_and_dtype(shape):
    out = overlap(np.zeros(shape), 1.0, 0.0)
    assert isinstance(out, np.ndarray) and out.shape == shape and out.dtype == np.complex128
    np.testing.assert_array_equal(out, np.full(shape, np.pi / 2))


def test_scalars_give_0d_arrays_and_ints_are_accepted():
    out = overlap(-3, 2, 0)
    assert isinstance(out, np.ndarray) and out.shape == () and out.dtype == np.complex128
    assert out == overlap(-3.0, 2.0, 0.0)


def test_broadcasting_mixes_shapes():
    phi = np.array([0.0, -np.pi])[:, None, None]
    xi = np.array([1.0, 2.0, 3.0])[None, :, None]
    mu = np.array([0.0, 0.5, -0.5, 1.0])
    out = overlap(phi, xi, mu)
    assert out.shape == (2, 3, 4)
    for i, j, k in np.ndindex(out.shape):
        assert out[i, j, k] == overlap(phi[i, 0, 0], xi[0, j, 0], mu[k])
    assert overlap([], 1.0).shape == (0,) and overlap([], 1.0).dtype == np.complex128
    assert overlap(np.zeros((0, 3)), np.ones(3), 0.5).shape == (0, 3)


def test_non_contiguous_inputs():
    phi = np.linspace(-20, 20, 60).reshape(6, 10)
    xi = np.logspace(-2, 2, 60).reshape(10, 6).T
    expected = overlap(np.ascontiguousarray(phi), np.ascontiguousarray(xi))
    np.testing.assert_array_equal(overlap(phi, xi), expected)
    np.testing.assert_array_equal(overlap(phi[:, ::2], xi[:, ::2]), expected[:, ::2])


def test_values_do_not_depend_on_chunking(monkeypatch):
    rng = np.random.default_rng(9)
    n = 5000
    phi, xi, mu = rng.uniform(-30, 30, n), 10 ** rng.uniform(-3, 3, n), rng.uniform(-2, 2, n)
    mu[::3] = 0.0
    phi[::7] = 0.0
    whole = overlap(phi, xi, mu)
    monkeypatch.setattr(kernels, "_CHUNK", 7)
    assert overlap(phi, xi, mu).tobytes() == whole.tobytes()
    assert np.array_equal(overlap(phi[1234], xi[1234], mu[1234]), whole[1234])


def test_nan_propagates():
    # Not valid input (the caller validates), but it must not come back as a number.
    with np.errstate(invalid="ignore"):
        out = overlap([np.nan, 1.0], [2.0, np.nan], [0.0, 0.5])
    assert np.isnan(out).all()
