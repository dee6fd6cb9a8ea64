"""xr_spdc.spectrum: the joint spectral amplitude, its Schmidt number and bandwidths."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy.optimize import brentq

from xr_spdc import crystals, spectrum

pytest.importorskip("ndispers")  # the crystals extra is in the test command

C = 299_792_458.0
# Type-II PPKTP, degenerate 792 nm -> 1584 nm (the group-velocity-matched telecom source of
# Jin et al., Opt. Express 21, 10659 (2013)), poled for the plane-wave optimum at 25 degC.
SOURCE = dict(pump=792e-9, temperature=25.0, polarizations="eeo")
SINC2_HALF = 1.3915573782515103  # sinc^2(x) = 1/2 at x = 1.39155737825151 (sin x = x/sqrt 2)


@pytest.fixture(scope="module")
def period() -> float:
    return float(crystals.poling_period("KTP_xy", signal=1584e-9, **SOURCE))


def gaussian_jsa(rho: float, points: int = 201, span: float = 6.0) -> xr.DataArray:
    """psi(x, y) = exp(-(x^2 - 2 rho x y + y^2)/(4 (1 - rho^2))): |psi|^2 is a bivariate
    normal with unit variances and correlation rho.  In u = (x+y)/sqrt2, v = (x-y)/sqrt2
    it is exp(-u^2/(4 s+^2) - v^2/(4 s-^2)) with s+^2 = 1 + rho, s-^2 = 1 - rho, whose
    Schmidt number is K = (s+/s- + s-/s+)/2 (Law, Walmsley & Eberly, PRL 84, 5304 (2000),
    from Mehler's formula), i.e. K = 1/sqrt(1 - rho^2)."""
    x = np.linspace(-span, span, points)
    psi = np.exp(-(x[:, None] ** 2 - 2 * rho * x[:, None] * x[None, :] + x[None, :] ** 2)
                 / (4 * (1 - rho**2)))
    return xr.DataArray(psi, dims=("x", "y"), coords={"x": x, "y": x})


# ---------------------------------------------------------------------------- Schmidt number


@pytest.mark.parametrize("rho", [0.0, 0.5, -0.7, 0.9, 0.98])
def test_schmidt_number_of_a_gaussian_jsa_is_analytic(rho):
    result = spectrum.schmidt_decomposition(gaussian_jsa(rho, points=161, span=8.0))
    exact = 1 / np.sqrt(1 - rho**2)
    assert float(result.schmidt_number) == pytest.approx(exact, rel=1e-9)
    assert float(result.purity) == pytest.approx(1 / exact, rel=1e-9)
    assert float(result.schmidt_coefficients.sum()) == pytest.approx(1.0, rel=1e-12)
    assert np.all(np.diff(result.schmidt_coefficients) <= 0)
    # Mehler: lambda_n = (1 - q) q^n with q = ((s+ - s-)/(s+ + s-))^2
    sp, sm = np.sqrt(1 + rho), np.sqrt(1 - rho)
    q = ((sp - sm) / (sp + sm)) ** 2
    np.testing.assert_allclose(result.schmidt_coefficients[:4], (1 - q) * q ** np.arange(4),
                               atol=1e-10)


def test_schmidt_number_converges_as_the_grid_refines():
    """rho = 0.95: a row of |psi|^2 (fixed y) has standard deviation sqrt(1 - rho^2) = 0.31,
    FWHM 0.74 - the JSA's narrowest cut along a grid axis.  On a fixed span of +-8 the
    error of K falls faster than geometrically with the points per that FWHM (measured:
    1.0 pt -> 4e-3, 1.8 pts -> 2e-5, 2.3 pts -> 2e-8, 2.8 pts -> 4e-12): two points per
    FWHM of the narrowest cut give K to 1e-4."""
    exact = 1 / np.sqrt(1 - 0.95**2)
    fwhm = 2 * np.sqrt(2 * np.log(2)) * np.sqrt(1 - 0.95**2)
    errors = {}
    for n in (31, 41, 51, 61):
        k = spectrum.schmidt_decomposition(gaussian_jsa(0.95, points=n, span=8.0))
        errors[fwhm / (16 / (n - 1))] = abs(float(k.schmidt_number) / exact - 1)
    per_fwhm = sorted(errors)
    assert [errors[p] for p in per_fwhm] == sorted(errors.values(), reverse=True)
    assert errors[per_fwhm[0]] > 1e-3  # 1 point per FWHM is not enough
    assert all(errors[p] < 1e-4 for p in per_fwhm if p >= 1.8)
    assert errors[per_fwhm[-1]] < 1e-10


def test_a_separable_jsa_has_k_one():
    x = np.linspace(-6, 6, 121)
    psi = xr.DataArray(np.exp(-x[:, None] ** 2 / 2) * np.exp(-(x[None, :] - 1) ** 2 / 8),
                       dims=("s", "i"), coords={"s": x, "i": x})
    assert float(spectrum.schmidt_decomposition(psi).schmidt_number) == pytest.approx(1, 1e-12)


# ---------------------------------------------------------------------------- the JSA


def test_plane_wave_limit_is_pump_times_sinc(period):
    """xi -> 0: O -> 2 sqrt(xi) sinc(phi/2) (the plane-wave limit), so psi ∝ alpha(w_s + w_i)
    sinc(phi(w_s, w_i)/2), with phi from phase_mismatch at the pump wavelength
    1/(1/lambda_s + 1/lambda_i) and the idler it implies."""
    lam = np.linspace(1578e-9, 1590e-9, 61)
    bandwidth = 1.0e-9
    psi = spectrum.joint_spectrum("KTP_xy", signal=lam, length=0.01, xi=1e-5,
                                  poling_period=period, pump_bandwidth=bandwidth, **SOURCE)
    ls = xr.DataArray(lam, dims="signal_wavelength")
    li = psi.idler_wavelength.reset_coords(drop=True)
    lp = 1 / (1 / ls + 1 / li)
    phi = crystals.phase_mismatch("KTP_xy", pump=lp, signal=ls, temperature=25.0,
                                  length=0.01, poling_period=period, polarizations="eeo")
    omega_p, omega = 2 * np.pi * C / 792e-9, 2 * np.pi * C / lp
    sigma = 2 * np.pi * C * bandwidth / 792e-9**2 / (2 * np.sqrt(np.log(2)))
    expected = np.exp(-(omega - omega_p) ** 2 / (2 * sigma**2)) * np.sinc(phi / (2 * np.pi))
    expected = expected.transpose(*psi.dims).values
    got = psi.values
    # same shape up to normalisation; O = 2 sqrt(xi) sinc + O(xi) real corrections
    scale = got.real.max() / expected.max()
    np.testing.assert_allclose(got / scale, expected, atol=1e-4)
    assert float(abs(got.imag).max()) == 0.0  # centred focus: O is real
    norm = (abs(got) ** 2 * np.outer(*(abs(np.gradient(2 * np.pi * C / psi[d].values))
                                       for d in psi.dims))).sum()
    assert norm == pytest.approx(1.0, rel=1e-12)


def test_jsa_is_labelled(period):
    psi = spectrum.joint_spectrum("KTP_xy", signal=np.linspace(1580e-9, 1588e-9, 9),
                                  length=0.01, xi=1.0, poling_period=period,
                                  pump_bandwidth=1e-9, **SOURCE)
    assert psi.name == "jsa" and psi.dtype == np.complex128
    assert psi.dims == ("signal_wavelength", "idler_wavelength")
    assert psi.signal_wavelength.attrs["units"] == "m"
    assert psi.attrs["units"] == "s" and psi.attrs["crystal"] == "KTP_xy"
    assert "Bennink" in psi.attrs["references"]
    # the default idler grid is the signal grid's energy-conserving partner
    np.testing.assert_allclose(np.sort(1 / (1 / 792e-9 - 1 / psi.signal_wavelength.values)),
                               psi.idler_wavelength.values, rtol=1e-15)


def test_cw_spectrum_is_one_dimensional_with_the_sinc_width(period):
    """CW pump, plane-wave limit: |psi|^2 ∝ sinc^2(phi/2), whose FWHM in phi is
    4 x 1.39156 rad; mapped to the signal through dphi/dlambda_s (phi is linear in lambda_s
    over the width for type II, where the signal and idler group indices differ)."""
    lam = np.linspace(1582e-9, 1586e-9, 2001)
    psi = spectrum.joint_spectrum("KTP_xy", signal=lam, length=0.01, xi=1e-5,
                                  poling_period=period, **SOURCE)
    assert psi.dims == ("signal_wavelength",)
    np.testing.assert_allclose(1 / psi.signal_wavelength + 1 / psi.idler, 1 / 792e-9,
                               rtol=1e-14)

    def phi(ls):
        return float(crystals.phase_mismatch("KTP_xy", signal=ls, length=0.01,
                                             poling_period=period, **SOURCE))
    centre = brentq(phi, 1582e-9, 1586e-9, xtol=1e-16)
    slope = (phi(centre + 1e-12) - phi(centre - 1e-12)) / 2e-12
    expected = 4 * SINC2_HALF / abs(slope)
    width = spectrum.marginal_bandwidths(psi).signal_bandwidth
    assert float(width) == pytest.approx(expected, rel=2e-3)
    assert width.attrs["units"] == "m"
    with pytest.raises(ValueError, match="CW"):
        spectrum.schmidt_decomposition(psi)


def test_marginal_bandwidth_of_a_gaussian():
    """|psi|^2 with unit marginal variances: the marginal is a unit normal, FWHM
    2 sqrt(2 ln 2)."""
    widths = spectrum.marginal_bandwidths(gaussian_jsa(0.6, points=801, span=8.0))
    assert float(widths.signal_bandwidth) == pytest.approx(2 * np.sqrt(2 * np.log(2)), rel=1e-4)
    assert float(widths.idler_bandwidth) == pytest.approx(2 * np.sqrt(2 * np.log(2)), rel=1e-4)


def test_real_source_schmidt_number_converges(period):
    """The focused PPKTP source (signal marginal 3.2 nm FWHM).  Spacing: on a 20 nm window
    K is within 1e-3 of its 0.21 nm-spacing value from 0.65 nm spacing (~5 points per
    marginal FWHM).  Span: the sinc's side lobes fall as 1/Omega^2, so K still grows by
    ~1 % from a 20 nm to a 40 nm window at fixed spacing."""
    def k(span, n):
        psi = spectrum.joint_spectrum(
            "KTP_xy", signal=np.linspace(1584e-9 - span / 2, 1584e-9 + span / 2, n),
            length=0.03, xi=0.2, poling_period=period, pump_bandwidth=1.5e-9, **SOURCE)
        return float(spectrum.schmidt_decomposition(psi).schmidt_number)
    ks = {n: k(20e-9, n) for n in (16, 32, 96)}
    assert abs(ks[32] / ks[96] - 1) < 1e-3
    assert abs(ks[16] / ks[96] - 1) > abs(ks[32] / ks[96] - 1)
    wide = k(40e-9, 63)  # same 0.65 nm spacing as 32 points on 20 nm
    assert 1.005 < wide / ks[32] < 1.02
    assert 1 < ks[96] < 10


def test_gvm_ppktp_purity_matches_jin_2013(period):
    """Jin et al., Opt. Express 21, 10659 (2013) (arXiv:1303.6015, abstract): the
    group-velocity-matched type-II PPKTP source keeps P_JSA > 0.81 around 1584 nm - the
    purity limit of a sinc phase-matching function orthogonal to a Gaussian pump.  Here,
    plane-wave limit, 30 mm, the best of three pump bandwidths: 0.818.  The tolerance
    (0.80-0.83) covers the +-10 nm window, which cuts the sinc's side lobes at the
    1 % level in K (test_real_source_schmidt_number_converges)."""
    lam = np.linspace(1574e-9, 1594e-9, 101)
    purities = [float(spectrum.schmidt_decomposition(spectrum.joint_spectrum(
        "KTP_xy", signal=lam, length=0.03, xi=1e-4, poling_period=period,
        pump_bandwidth=bw, **SOURCE)).purity) for bw in (0.30e-9, 0.35e-9, 0.40e-9)]
    assert 0.80 < max(purities) < 0.83
    assert max(purities) == purities[1]  # an optimum in the bandwidth, near 0.35 nm


def test_bad_jsa_inputs():
    kw = dict(temperature=25.0, length=0.01, xi=1.0, polarizations="eeo")
    with pytest.raises(ValueError, match="signal must be longer than pump"):
        spectrum.joint_spectrum("KTP_xy", pump=792e-9, signal=[700e-9, 800e-9, 900e-9], **kw)
    with pytest.raises(ValueError, match="idler is fixed"):
        spectrum.joint_spectrum("KTP_xy", pump=792e-9, signal=[1.58e-6, 1.584e-6, 1.59e-6],
                                idler=[1.58e-6, 1.584e-6, 1.59e-6], **kw)
    with pytest.raises(ValueError, match="strictly increasing"):
        spectrum.joint_spectrum("KTP_xy", pump=792e-9, signal=[1.58e-6, 1.59e-6, 1.585e-6],
                                **kw)
    with pytest.raises(ValueError, match="signal must be in metres"):
        spectrum.joint_spectrum("KTP_xy", pump=792e-9, signal=[1580.0, 1584.0, 1590.0], **kw)


def test_a_pump_narrower_than_the_grid_is_refused_not_answered_by_the_grid(period):
    # On main: pump_bandwidth=1e-30 m on 11 x 11 gave K = 10.894, bounded by the grid.
    lam = np.linspace(1580e-9, 1588e-9, 11)
    with pytest.raises(ValueError, match="pump_bandwidth = 1e-30 m.*not resolved"):
        spectrum.joint_spectrum("KTP_xy", signal=lam, length=0.01, xi=0.5,
                                poling_period=period, pump_bandwidth=1e-30, **SOURCE)
    with pytest.warns(UserWarning, match="fewer than 2 points per pump FWHM"):
        spectrum.joint_spectrum("KTP_xy", signal=lam, length=0.01, xi=0.5,
                                poling_period=period, pump_bandwidth=0.3e-9, **SOURCE)


@pytest.mark.parametrize("fill", [0.0, np.nan])
@pytest.mark.parametrize("analysis", [spectrum.schmidt_decomposition,
                                      spectrum.marginal_bandwidths])
def test_a_degenerate_spectrum_is_refused(fill, analysis):
    # On main: K = NaN for zeros, "SVD did not converge" for NaN, NaN bandwidths.
    x = np.linspace(-1, 1, 5)
    jsa = xr.DataArray(np.full((5, 5), fill), dims=("s", "i"), coords={"s": x, "i": x})
    with pytest.raises(ValueError, match="zero everywhere" if fill == 0 else "finite"):
        analysis(jsa)


def test_joint_spectrum_refuses_a_grid_beyond_the_memory_cap_before_allocating(period):
    # On main: 30,000 signal points grew to 23 GB and were killed by the OOM killer.
    lam = np.linspace(1570e-9, 1600e-9, 30_000)
    with pytest.raises(ValueError, match="9e\\+08 points.*in pieces"):
        spectrum.joint_spectrum("KTP_xy", signal=lam, length=0.01, xi=0.5,
                                poling_period=period, pump_bandwidth=1e-9, **SOURCE)


def test_joint_spectrum_takes_workers_as_overlap_does(period):
    import inspect
    from concurrent.futures import ThreadPoolExecutor

    assert inspect.signature(spectrum.joint_spectrum).parameters["workers"].default is None
    lam = np.linspace(1580e-9, 1588e-9, 9)
    kw = dict(signal=lam, length=0.01, xi=0.5, poling_period=period, pump_bandwidth=1e-9,
              **SOURCE)
    with ThreadPoolExecutor(1) as pool:  # main refused an Executor
        pooled = spectrum.joint_spectrum("KTP_xy", workers=pool, **kw)
    np.testing.assert_array_equal(pooled, spectrum.joint_spectrum("KTP_xy", **kw))
