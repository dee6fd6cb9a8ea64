"""xr_spdc.numerics.overlap against mpmath: |O - O_ref| <= 1e-13 of the envelope in every regime.

The references are stored in tests/data/overlap_references.npz, computed once by
tests/make_references.py (run by hand) from tests/references.py: ``overlap_reference`` (the
closed form in mpmath's E1, precision doubled until two precisions agree to 1e-20 of the
envelope), itself checked there against tanh-sinh quadrature of the definition
(``overlap_mpmath``, stored as ``definition_quad``).  The point sets put points on both sides
of every regime switch of the kernel (see its Notes) and over the whole supported domain.
A few tests still call mpmath live on a handful of points (fast).
"""

from __future__ import annotations

import math
import pathlib

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from make_references import MUS, PHI_MAX, extreme_axes
from references import envelope_mp, overlap_reference
from scipy.special import sici

from xr_spdc.numerics import overlap as kernels
from xr_spdc.numerics.overlap import LIMIT, check_domain, envelope, overlap

TOLERANCE = 1e-13  # the accuracy target, relative to the envelope E(xi, mu)
DATA = np.load(pathlib.Path(__file__).parent / "data" / "overlap_references.npz")


def stored(name: str) -> tuple[np.ndarray, ...]:
    """phi, xi, mu, the mpmath reference and the envelope of a stored point set."""
    return tuple(DATA[f"{name}_{key}"] for key in ("phi", "xi", "mu", "ref", "env"))


def stored_errors(name: str) -> np.ndarray:
    phi, xi, mu, ref, env = stored(name)
    return np.abs(overlap(phi, xi, mu) - ref) / env


def live_error(phi: float, xi: float, mu: float = 0.0) -> float:
    return abs(complex(overlap(phi, xi, mu)) - overlap_reference(phi, xi, mu)) / envelope_mp(
        xi, mu)


# --- the references ---------------------------------------------------------------------

def test_stored_closed_form_agrees_with_quadrature_of_the_definition():
    # Both sides of E1's cut, l = 0 at an end (mu = +-1) or outside (mu = 1.5), tiny and
    # huge xi, |phi| up to 200 pi: the two mpmath references agree far below 1e-16 of E.
    phi, xi, mu, ref, env = stored("definition")
    assert np.max(np.abs(ref - DATA["definition_quad"]) / env) <= 1e-16
    assert live_error(-3.0, 2.84, 0.5) <= TOLERANCE  # the live reference is the stored one


def test_kernel_against_quadrature_of_the_definition():
    phi, xi, mu, _, env = stored("definition")
    assert np.max(np.abs(overlap(phi, xi, mu) - DATA["definition_quad"]) / env) <= TOLERANCE


def test_envelope_matches_mpmath_also_far_from_the_pole():
    xi, mu = np.meshgrid(np.logspace(-6, 6, 13), np.concatenate(
        [np.linspace(-2, 2, 9), [-1e100, -1e20, -3e8, 1e4, 1e16, 1e60]]))
    xi, mu = xi.ravel(), mu.ravel()
    ref = np.array([envelope_mp(x, m) for x, m in zip(xi, mu, strict=True)])
    np.testing.assert_allclose(envelope(xi, mu), ref, rtol=1e-15)
    assert envelope(2.0).shape == () and envelope([1.0, 2.0], [[0.0], [1.0]]).shape == (2, 2)
    phi, xi, mu, _, env = stored("extremes")  # mpmath's envelope over the whole domain
    np.testing.assert_allclose(envelope(xi, mu), env, rtol=1e-14)


# --- accuracy across the domain and on both sides of every switch ------------------------

def test_both_sides_of_every_switch():
    # make_references.regimes(): special phis (0, tiny, +-2 xi, the box edge |phi| = 8,
    # |phi|/(2 xi) > 710, +-200 pi) at xi in [1e-6, 1e6] and |mu| <= 2; the box's xi = 1 and
    # |mu| = 2 edges; the small-mismatch edge; mu = 0 against barely displaced; l = 0 at a
    # face; the far-pole edges xi = 1e-8 and |mu| = 1e8: each a factor 1 +- 1e-9 either side.
    assert stored_errors("regimes").max() <= TOLERANCE


def test_bennink_classic_domain():
    # 5,000 random points of phi/pi in [-7, 3), log10 xi in [-1.5, 2.5); 1,000 with |mu| <= 1.5.
    assert stored_errors("classic").max() <= TOLERANCE
    assert stored_errors("displaced").max() <= TOLERANCE


def test_random_points_across_the_target_range():
    # 1,000 points: xi in [1e-6, 1e6], |mu| <= 2, phi uniform, near 0, near xi, or tiny.
    assert stored_errors("wide").max() <= TOLERANCE


def test_whole_domain_against_mpmath():
    # 1,500 points drawn from a log-spaced grid over |phi|, |mu| <= 1e100 (both signs and 0)
    # and 5e-324 <= xi <= 1e100: tiny xi (a = phi/(2 xi) beyond overflow), huge xi, huge mu
    # (l1 and l2 equal in floats), huge phi; errors relative to mpmath's envelope.
    assert stored_errors("extremes").max() <= TOLERANCE


def test_whole_domain_scan_has_no_nan_inf_or_silent_zero():
    # Every point of the log-spaced grid: finite, never 0 (no true value underflows inside
    # the domain: |O| >= ~1e-262 there), and within the bound |O| <= E.
    phi, xi, mu = np.meshgrid(*extreme_axes(), indexing="ij", sparse=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        o = overlap(phi, xi, mu)
    assert o.shape == (phi.size, xi.size, mu.size)
    assert np.isfinite(o).all()
    assert (o != 0).all()
    assert (np.abs(o) <= envelope(xi, mu) * (1 + TOLERANCE)).all()


@pytest.mark.parametrize(("phi", "xi", "mu", "expected"), [
    (0.0, 1e-300, 0.0, 2e-150),  # the arctangent law, 2 atan(xi)/sqrt(xi)
    (-10.0, 1e-320, 0.0, None),  # was 0; O -> 2 sqrt(xi) sinc(phi/2) = -3.84e-161
    (0.0, 7500.0, 1e100, None),  # was NaN: l1 and l2 round to the same float
    (-10.0, 1e15, 0.0, None),
    (1e100, 1e100, -1e100, None),
])
def test_examples_from_issue_15(phi, xi, mu, expected):
    o = complex(overlap(phi, xi, mu))
    assert live_error(phi, xi, mu) <= TOLERANCE
    if expected is not None:
        assert o == pytest.approx(expected, rel=1e-15)
    assert o != 0


def test_small_focus_limit_is_the_sinc_at_any_phi():
    # xi -> 0: O -> 2 sqrt(xi) sinc(phi/2) (the plane-wave limit), also far beyond a = phi/(2 xi)'s
    # overflow; relative corrections are O(xi).
    xi = 5e-324
    k = np.array([-5e99, -1e20, -7.5, 1.0, 3e5, 1e99])
    np.testing.assert_allclose(overlap(2 * k, xi), 2 * np.sqrt(xi) * np.sin(k) / k, rtol=1e-15)


def test_out_of_domain_is_refused_with_the_domain_stated():
    for phi, xi, mu, name in [(1e101, 1.0, 0.0, "phi"), (0.0, 1e300, 0.0, "xi"),
                              (-3.0, 2.0, -1e300, "mu")]:
        with pytest.raises(ValueError, match=rf"^{name} out of the supported domain \(finite "
                                             r"phi and mu with \|phi\| <= 1e\+100"):
            overlap(phi, xi, mu)
        with pytest.raises(ValueError, match=rf"^{name} out of the supported domain"):
            check_domain(phi, xi, mu)
    with pytest.raises(ValueError, match=r"xi out of .*: 0\.0, -1\.0$"):
        check_domain(0.0, [1.0, 0.0, -1.0], 0.0)
    with pytest.raises(ValueError, match=r"phi out of .*: nan, inf, -inf$"):
        check_domain([np.nan, np.inf, 1.0, -np.inf], 1.0)
    with pytest.raises(ValueError, match=r"mu out of .*: 1e\+101, 1e\+101, 1e\+101, "
                                         r"1e\+101, 1e\+101 and 2 more$"):
        check_domain(0.0, 1.0, np.full(7, 1e101))
    check_domain([-LIMIT, LIMIT], [5e-324, LIMIT], [[-LIMIT], [LIMIT]])  # the edges are in
    assert np.isfinite(overlap([-LIMIT, LIMIT], [5e-324, LIMIT], [[-LIMIT], [LIMIT]])).all()


def test_live_reference_precision_is_adaptive():
    # The stored references need many digits in places (l = -1 - mu with |mu| = 1e100; the
    # ~1/xi cancellation of the closed form at tiny xi): overlap_reference raises precision
    # until two agree, so it matches the small-focus law where a fixed 40 digits would not.
    xi = 1e-300
    assert overlap_reference(1e-300, xi) == pytest.approx(2 * math.sqrt(xi), rel=1e-15)
    assert overlap_reference(0.0, 7500.0, 1e100) == pytest.approx(
        -2j / (math.sqrt(7500.0) * 1e100) * (1 + 1j / (7500.0 * 1e100)), rel=1e-15)


@settings(max_examples=60)
@given(log10_xi=st.floats(-320, 100), log10_phi=st.floats(-320, 100), sign=st.sampled_from([-1, 1]),
       mu=st.one_of(st.sampled_from(MUS), st.floats(-2, 2), st.floats(-1e100, 1e100)))
def test_random_points_over_the_domain(log10_xi, log10_phi, sign, mu):
    assert live_error(sign * 10.0**log10_phi, 10.0**log10_xi, mu) <= TOLERANCE


@settings(max_examples=60)
@given(log10_xi=st.floats(-6, 6), phi=st.floats(-PHI_MAX, PHI_MAX), mu=st.floats(-2, 2))
def test_random_points_plain(log10_xi, phi, mu):
    assert live_error(phi, 10.0**log10_xi, mu) <= TOLERANCE


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
    assert np.max(np.abs(kernels.scaled_exp1(z) - ref) / np.abs(ref)) <= 5e-15


def test_scaled_exp1_over_the_complex_plane():
    rng = np.random.default_rng(7)
    r = 10.0 ** rng.uniform(-3, 6, 600)
    z = r * np.exp(1j * rng.uniform(-np.pi, np.pi, 600))
    ref = np.array([_scaled_exp1_mpmath(v) for v in z])
    assert np.max(np.abs(kernels.scaled_exp1(z) - ref) / np.abs(ref)) <= 5e-15


# --- identities and published values ----------------------------------------------------

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
    n = 3000
    phi, xi, mu = rng.uniform(-30, 30, n), 10 ** rng.uniform(-3, 3, n), rng.uniform(-2, 2, n)
    mu[::3] = 0.0
    phi[::7] = 0.0
    mu[1::5] = rng.uniform(2, 1e9, mu[1::5].size)  # the box and the far-pole branch in mu
    xi[2::11] = 10 ** rng.uniform(-300, -8, xi[2::11].size)  # the far-pole branch in xi
    whole = overlap(phi, xi, mu)
    monkeypatch.setattr(kernels, "_CHUNK", 7)
    assert overlap(phi, xi, mu).tobytes() == whole.tobytes()
    for i in (1234, 1236, 2):  # one displaced, one |mu| > 2, one tiny xi
        assert np.array_equal(overlap(phi[i], xi[i], mu[i]), whole[i])


def test_nan_propagates():
    # Not valid input (the caller validates), but it must not come back as a number.
    with np.errstate(invalid="ignore"):
        out = overlap([np.nan, 1.0], [2.0, np.nan], [0.0, 0.5])
    assert np.isnan(out).all()
