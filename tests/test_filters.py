"""Spectral filters (xr_spdc.physics.filters) against closed forms for a Gaussian JSA.

ψ = exp(−u²/2a² − v²/2b²), u = ν_s + ν_i, v = ν_s − ν_i, so |ψ|² = exp(−xᵀQx) with
Q = [[A+B, A−B], [A−B, A+B]], A = 1/a², B = 1/b².  A Gaussian filter on an arm,
T = exp(−ν²/s²) (FWHM Δω = 2√ln2 s), adds 1/s² to that arm's diagonal entry, and
∫exp(−xᵀMx) = π/√det M gives exactly:

    η_s = √(det(Q + D_i)/det(Q + D_s + D_i)),  η_i = √(det(Q + D_s)/det(Q + D_s + D_i)),
    pair transmission = √(det Q/det M),  purity = √(1 − M₁₂²/(M₁₁M₂₂)),  M = Q + D_s + D_i

(the purity of a real bivariate Gaussian amplitude exp(−xᵀMx/2)).
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from xr_spdc.physics import filters
from xr_spdc.spectrum import apply_filters, filtered_source, gaussian_filter, tophat_filter

C = 299_792_458.0
LAM0 = 1550e-9
W0 = 2 * np.pi * C / LAM0
NU = np.linspace(-12, 12, 97) * 1e12
A_, B_ = 1e12, 3e12


def _jsa(a=A_, b=B_):
    u, v = NU[:, None] + NU[None, :], NU[:, None] - NU[None, :]
    rad = {"units": "rad/s"}
    return xr.DataArray(np.exp(-u**2 / (2 * a * a) - v**2 / (2 * b * b)),
                        dims=("signal_wavelength", "idler_wavelength"),
                        coords={"signal_wavelength": ("signal_wavelength", W0 + NU, rad),
                                "idler_wavelength": ("idler_wavelength", W0 + NU, rad)})


def _fwhm_m(s):
    # gaussian_filter's FWHM in metres for T = exp(-nu^2/s^2) at LAM0
    return 2 * np.sqrt(np.log(2)) * s * LAM0**2 / (2 * np.pi * C)


def _closed_form(ss, si):
    q = np.array([[1 / A_**2 + 1 / B_**2, 1 / A_**2 - 1 / B_**2],
                  [1 / A_**2 - 1 / B_**2, 1 / A_**2 + 1 / B_**2]])
    d_s = np.diag([1 / ss**2, 0.0])
    d_i = np.diag([0.0, 1 / si**2])
    m = q + d_s + d_i
    det = np.linalg.det
    return {"signal_spectral_efficiency": np.sqrt(det(q + d_i) / det(m)),
            "idler_spectral_efficiency": np.sqrt(det(q + d_s) / det(m)),
            "pair_transmission": np.sqrt(det(q) / det(m)),
            "purity": np.sqrt(1 - m[0, 1] ** 2 / (m[0, 0] * m[1, 1])),
            "purity_unfiltered": 2 * A_ * B_ / (A_**2 + B_**2)}


@pytest.mark.parametrize("ss, si", [(1.5e12, 1.5e12), (1e12, 4e12)])
def test_gaussian_filters_match_the_closed_forms(ss, si):
    out = filtered_source(_jsa(), gaussian_filter(LAM0, _fwhm_m(ss)),
                          gaussian_filter(LAM0, _fwhm_m(si)))
    for name, value in _closed_form(ss, si).items():
        assert abs(float(out[name]) - value) < 1e-10, (name, float(out[name]), value)
        assert out[name].attrs["units"] == "1"
    assert out.purity > out.purity_unfiltered  # narrow filters purify ...
    assert out.signal_heralding_efficiency < 1  # ... at a cost in heralding
    assert "Meyer-Scott" in out.attrs["references"]


def test_spatial_coupling_multiplies_and_broadcasts():
    coupling = xr.DataArray([0.9, 0.8], dims="waist", coords={"waist": [40e-6, 60e-6]})
    f = gaussian_filter(LAM0, _fwhm_m(1.5e12))
    out = filtered_source(_jsa(), f, f, signal_coupling=coupling, idler_coupling=0.7)
    want = _closed_form(1.5e12, 1.5e12)
    np.testing.assert_allclose(out.signal_heralding_efficiency,
                               want["signal_spectral_efficiency"] * coupling.values,
                               rtol=1e-10)
    assert abs(float(out.idler_heralding_efficiency)
               - 0.7 * want["idler_spectral_efficiency"]) < 1e-10
    assert out.signal_heralding_efficiency.dims == ("waist",)


def test_measured_curve_equals_the_gaussian_it_samples():
    f = gaussian_filter(LAM0, 3e-9)
    lam = np.linspace(1540e-9, 1560e-9, 4001)
    curve = xr.DataArray(f.transmission(2 * np.pi * C / lam), dims="wavelength",
                         coords={"wavelength": ("wavelength", lam, {"units": "m"})},
                         name="T")
    exact = filtered_source(_jsa(), f, f)
    sampled = filtered_source(_jsa(), curve, curve)
    for name in ("signal_spectral_efficiency", "purity", "pair_transmission"):
        assert abs(float(sampled[name]) - float(exact[name])) < 1e-5  # linear interpolation
    assert "measured curve" in sampled.attrs["signal_filter"]


def test_tophat_on_a_separable_jsa_passes_the_erf_fraction():
    # psi = g(nu_s) g(nu_i), |g|^2 = exp(-nu^2/s^2): a band |nu| < h passes erf(h/s) of it.
    s = 2e12
    g = np.exp(-NU**2 / (2 * s * s))
    jsa = _jsa().copy(data=np.outer(g, g))
    lam_edges = 2 * np.pi * C / (W0 + np.array([-3.1e12, 3.1e12]))  # between grid points
    out = filtered_source(jsa, tophat_filter(lam_edges.mean(), abs(np.diff(lam_edges)[0])))
    from scipy.special import erf

    # the band in wavelength is a band in nu up to O((Δλ/λ)^2) asymmetry; the grid's cells
    # (0.25e12) set the edge error: measured ~1e-3
    # the signal passes its band with probability erf(h/s), whatever the idler did
    assert abs(float(out.signal_spectral_efficiency) - erf(3.1e12 / s)) < 5e-3
    assert abs(float(out.idler_spectral_efficiency) - 1) < 1e-12  # no idler filter
    assert abs(float(out.purity) - 1) < 1e-12


def test_apply_filters_scales_the_amplitude():
    f = gaussian_filter(LAM0, _fwhm_m(1.5e12))
    jsa = _jsa()
    out = apply_filters(jsa, signal=f)
    t = f.transmission(jsa.signal_wavelength.values)
    np.testing.assert_allclose(out.values, jsa.values * np.sqrt(t)[:, None], rtol=1e-14)
    assert out.dims == jsa.dims and "Gaussian" in out.attrs["signal_filter"]
    assert out.attrs["idler_filter"] == "none"


def test_sweep_and_dask_agree_with_eager():
    pytest.importorskip("dask")
    jsa = xr.concat([_jsa(), _jsa(b=2e12)], dim="case")
    f = gaussian_filter(LAM0, _fwhm_m(1.5e12))
    eager = filtered_source(jsa, f, f)
    lazy = filtered_source(jsa.chunk({"case": 1}), f, f)
    assert lazy.purity.chunks is not None
    xr.testing.assert_allclose(lazy.compute(), eager, rtol=1e-13)
    assert abs(float(eager.purity[0]) - _closed_form(1.5e12, 1.5e12)["purity"]) < 1e-10


@pytest.mark.parametrize("call, error, match", [
    (lambda: filtered_source(np.ones((3, 3))), TypeError, "jsa must be"),
    (lambda: filtered_source(_jsa(), signal="narrow"), TypeError, "signal must be a filter"),
    (lambda: filtered_source(_jsa(), signal_coupling=1.2), ValueError, "signal_coupling"),
    (lambda: filtered_source(_jsa(), gaussian_filter(1300e-9, 1e-9)), ValueError,
     "block the whole JSA"),
    (lambda: gaussian_filter(LAM0, -1e-9), ValueError, "fwhm"),
    (lambda: tophat_filter(LAM0, 1e-9, peak=2), ValueError, "peak"),
    (lambda: filters.curve_filter(xr.DataArray([0.1, 1.5], dims="w",
                                               coords={"w": ("w", [1e-6, 2e-6],
                                                             {"units": "m"})})),
     ValueError, "divide a percentage"),
    (lambda: filters.curve_filter(xr.DataArray([0.1, 0.5], dims="w", coords={"w": [1, 2]})),
     ValueError, "units"),
])
def test_bad_input_names_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()
