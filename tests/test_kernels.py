"""The exact kernel against mpmath: <= 1e-13 of the envelope in every regime."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import classic_axes
from hypothesis import given, settings
from hypothesis import strategies as st
from references import envelope, overlap_mpmath, overlap_mpmath_closed
from scipy.integrate import trapezoid
from scipy.special import sici

from xr_spdc import kernels
from xr_spdc.kernels import PHI_BOX, XI_BOX, overlap, scaled_exp1

TOLERANCE = 1e-13
MUS = [0.0, 0.25, -0.25, 0.5, -0.5, 1.0, -1.0, 1.5, -1.5]


def worst_error(phi, xi, mu, reference=overlap_mpmath_closed) -> float:
    phi, xi, mu = np.broadcast_arrays(np.asarray(phi, float), np.asarray(xi, float),
                                      np.asarray(mu, float))
    got = overlap(phi, xi, mu).ravel()
    ref = np.array([reference(*p) for p in zip(phi.ravel(), xi.ravel(), mu.ravel(),
                                                 strict=True)])
    return float(np.max(np.abs(got - ref) / envelope(xi.ravel(), mu.ravel())))


def test_closed_form_reference_agrees_with_quadrature_of_the_definition():
    # The fast mpmath reference (closed form, including its branch term) is itself checked
    # against mpmath quadrature of the integral, on both sides of the cut and at l = 0.
    cases = [(p, x, m) for m in (0.0, 0.5, -1.0, 1.0, 1.5)
             for x in (1e-3, 0.5, 2.84, 100.0)
             for p in (0.0, 1e-12, -2 * x, 2 * x, -3.0, 7.0)]
    for phi, xi, mu in cases:
        a, b = overlap_mpmath_closed(phi, xi, mu), overlap_mpmath(phi, xi, mu)
        assert abs(a - b) <= 1e-15 * envelope(xi, mu), (phi, xi, mu)


SPECIAL_PHI = [0.0, 1e-12, -1e-12, -1.0, 3.0, -7.9, 8.1, -8.1, -9.0, 20.0, -50.0,
               200 * np.pi, -200 * np.pi]


@pytest.mark.parametrize("mu", MUS)
@pytest.mark.parametrize("log10_xi", [-6, -4, -2, -1, -0.5, 0, 0.3, 1, 2, 4, 6])
def test_error_within_1e_13_of_the_envelope_across_regimes(log10_xi, mu):
    xi = 10.0**log10_xi
    phi = np.array(SPECIAL_PHI + [2 * xi, -2 * xi, 9 * xi, -9 * xi])
    assert worst_error(phi, xi, mu) <= TOLERANCE


@pytest.mark.parametrize("mu", [0.0, 0.5, -1.0])
def test_both_sides_of_the_gauss_legendre_box(mu):
    eps = 1e-9
    phi = np.array([PHI_BOX - eps, PHI_BOX + eps, -PHI_BOX - eps, -PHI_BOX + eps, 0.5, -0.5])
    for xi in (XI_BOX * (1 - eps), XI_BOX * (1 + eps)):
        assert worst_error(phi, xi, mu) <= TOLERANCE


def test_classic_domain():
    phi, xi = classic_axes()
    p, x = np.meshgrid(phi[::3], xi[::3], indexing="ij")  # 34 x 34 points
    assert worst_error(p, x, 0.0) <= TOLERANCE


@settings(max_examples=150)
@given(log10_xi=st.floats(-6, 6), phi=st.floats(-200 * np.pi, 200 * np.pi),
       mu=st.floats(-2, 2))
def test_random_points(log10_xi, phi, mu):
    assert worst_error(phi, 10.0**log10_xi, mu) <= TOLERANCE


def test_scaled_exp1_matches_mpmath_over_the_complex_plane():
    import mpmath as mp

    rng = np.random.default_rng(7)
    r = 10.0 ** rng.uniform(-3, 6, 600)
    z = r * np.exp(1j * rng.uniform(-np.pi, np.pi, 600))
    with mp.workdps(30):
        ref = np.array([complex(mp.exp(mp.mpc(v)) * mp.e1(mp.mpc(v))) for v in z])
    assert np.max(np.abs(scaled_exp1(z) - ref) / np.abs(ref)) <= 5e-15


def test_spot_values_from_physics_notes():
    assert overlap(0.0, 1.0) == pytest.approx(np.pi / 2, rel=1e-15)
    assert overlap(-np.pi, 1.0) == pytest.approx(1.6314352236527800, rel=1e-15)
    assert overlap(2 * np.pi, 2.84) == pytest.approx(-0.26631083505093987, rel=1e-14)
    assert overlap(-3.2551381153733029, 2.8375191194941384) == pytest.approx(
        2.0666155663454307, rel=1e-15)
    assert overlap(-3.27, 2.84, 0.5) == pytest.approx(
        1.8749364636075691 + 0.1799436008783811j, rel=1e-15)


def test_zero_mismatch_is_the_arctangent_law():
    xi = np.logspace(-6, 6, 49)
    np.testing.assert_allclose(overlap(0.0, xi), 2 * np.arctan(xi) / np.sqrt(xi), rtol=1e-15)


def test_centred_overlap_is_real():
    rng = np.random.default_rng(3)
    o = overlap(rng.uniform(-600, 600, 5000), 10 ** rng.uniform(-6, 6, 5000))
    assert (o.imag == 0).all()


def test_opposite_displacement_is_the_complex_conjugate():
    rng = np.random.default_rng(4)
    phi, xi, mu = rng.uniform(-50, 50, 2000), 10 ** rng.uniform(-4, 4, 2000), rng.uniform(
        -2, 2, 2000)
    np.testing.assert_allclose(overlap(phi, xi, -mu), np.conj(overlap(phi, xi, mu)),
                               rtol=0, atol=1e-14 * envelope(xi, mu).max())


def test_small_focus_asymptote_is_a_sinc():
    # 1/(1 - i xi l) = 1 + i xi l + O(xi^2): with k = phi/2,
    # O = 2 sqrt(xi) sin(k)/k - 2 xi^1.5 (sin k - k cos k)/k^2 + O(xi^2.5).
    xi = 1e-6
    k = np.linspace(-20, 20, 80)  # no k = 0
    expected = (2 * np.sqrt(xi) * np.sin(k) / k
                - 2 * xi**1.5 * (np.sin(k) - k * np.cos(k)) / k**2)
    np.testing.assert_allclose(overlap(2 * k, xi), expected, rtol=0, atol=2 * xi**2.5)


def test_large_focus_optimum_approaches_boyd_kleinman_limit():
    # xi -> inf: max_phi |O|^2/4 -> (pi + 2 Si(pi))^2 / (4 xi), at phi -> -2 pi.
    xi = 1e5
    h = np.abs(overlap(np.linspace(-2.2, -1.8, 4001) * np.pi, xi)) ** 2 / 4
    limit = (np.pi + 2 * sici(np.pi)[0]) ** 2 / (4 * xi)
    assert h.max() == pytest.approx(limit, rel=1e-3)


def test_parseval_arctan_law():
    # Integral over phi of |O|^2 is 8 pi atan(xi) (Bennink).  Integrating by parts, for
    # large |phi| |O| <= 4 sqrt(xi) / (|phi| sqrt(1 + xi^2)), so the two tails beyond
    # |phi| = P add at most 32 xi / ((1 + xi^2) P).
    cutoff = 4000.0
    phi = np.linspace(-cutoff, cutoff, 800_001)
    for xi in (0.3, 2.84, 50.0):
        total = trapezoid(np.abs(overlap(phi, xi)) ** 2, phi)
        tail = 32 * xi / ((1 + xi**2) * cutoff)
        assert total == pytest.approx(8 * np.pi * math.atan(xi), abs=tail)


@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3), (2, 1, 4)])
def test_shapes_broadcast_and_dtype(shape):
    phi = np.zeros(shape)
    out = overlap(phi, 1.0, 0.0)
    assert out.shape == shape and out.dtype == np.complex128


def test_broadcasting_mixes_shapes():
    out = overlap(np.array([0.0, -np.pi])[:, None], np.array([1.0, 2.0, 3.0]))
    assert out.shape == (2, 3)
    assert out[1, 0] == pytest.approx(1.6314352236527800, rel=1e-15)


def test_evaluation_in_chunks_gives_the_same_values(monkeypatch):
    rng = np.random.default_rng(9)
    phi, xi = rng.uniform(-30, 30, 3000), 10 ** rng.uniform(-3, 3, 3000)
    whole = overlap(phi, xi)
    monkeypatch.setattr(kernels, "CHUNK", 7)
    assert overlap(phi, xi).tobytes() == whole.tobytes()
