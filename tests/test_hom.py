"""HOM interference (xr_spdc.physics.hom) against closed forms for Gaussian JSAs.

With u = ν_s + ν_i, v = ν_s − ν_i and ψ = exp(−u²/2a² − (v − d)²/2b²)·e^{i(ν_s t_s + ν_i t_i)}
(a correlated Gaussian: a, b set the anti-diagonal and diagonal widths), the Gaussian
integrals give, exactly:

- signal–idler: P_c(τ) = ½(1 − e^{−d²/b²} e^{−b²(τ − τ₀)²/4}), τ₀ = t_i − t_s, so
  V = e^{−d²/b²} (1 for a JSA symmetric under exchange, d = 0);
- two identical sources: V = purity = 2ab/(a² + b²) (Law, Walmsley & Eberly 2000);
- separable sources with signal amplitudes e^{−ν²/2σ₁²}, e^{−ν²/2σ₂²} and one idler:
  V_signal = 2σ₁σ₂/(σ₁² + σ₂²), V_idler = 1.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from xr_spdc.physics import hom
from xr_spdc.spectrum import hom_interference

C = 299_792_458.0
RAD = {"units": "rad/s"}


def _gaussian(nu_s, nu_i, a=1e12, b=2e12, d=0.0, ts=0.0, ti=0.0):
    u = nu_s[:, None] + nu_i[None, :]
    v = nu_s[:, None] - nu_i[None, :]
    return (np.exp(-u**2 / (2 * a * a) - (v - d) ** 2 / (2 * b * b))
            * np.exp(1j * (nu_s[:, None] * ts + nu_i[None, :] * ti)))


def _jsa(values, nu_s, nu_i=None, dims=("s", "i")):
    nu_i = nu_s if nu_i is None else nu_i
    return xr.DataArray(values, dims=dims, coords={dims[0]: (dims[0], nu_s, RAD),
                                                   dims[1]: (dims[1], nu_i, RAD)})


NU = np.linspace(-7, 7, 71) * 1e12
WIDE = np.linspace(-14, 14, 141) * 1e12  # holds the wider sources' tails to ~1e-12


def test_symmetric_gaussian_has_full_dip_and_the_closed_form_curve():
    a, b = 1e12, 2e12
    tau = np.linspace(-3e-12, 3e-12, 13)
    out = hom_interference(_jsa(_gaussian(NU, NU, a, b), NU), tau, dims=("s", "i"))
    assert abs(float(out.visibility) - 1) < 1e-12
    assert abs(float(out.dip_delay)) < 1e-18
    np.testing.assert_allclose(out.coincidence_probability,
                               0.5 * (1 - np.exp(-b * b * tau**2 / 4)), rtol=0, atol=1e-12)
    np.testing.assert_allclose(out.two_source_visibility, 2 * a * b / (a * a + b * b),
                               rtol=0, atol=1e-12)
    assert out.visibility.attrs["units"] == "1" and out.delay.attrs["units"] == "s"
    assert "Hong" in out.attrs["references"] and "formula" in out.visibility.attrs


def test_offset_and_group_delays_move_and_shrink_the_dip():
    a, b, d, ts, ti = 1e12, 2e12, 0.8e12, 0.3e-12, -0.5e-12
    psi = _gaussian(NU, NU, a, b, d, ts, ti)
    tau = np.array([-0.8e-12, 0.0, 0.4e-12])
    out = hom_interference(_jsa(psi, NU), tau, dims=("s", "i"))
    assert abs(float(out.visibility) - np.exp(-d * d / b**2)) < 1e-9
    assert abs(float(out.dip_delay) - (ti - ts)) < 1e-18
    want = 0.5 * (1 - np.exp(-d * d / b**2) * np.exp(-b * b * (tau - (ti - ts)) ** 2 / 4))
    np.testing.assert_allclose(out.coincidence_probability, want, rtol=0, atol=1e-9)


def test_separable_sources_have_unit_two_source_visibility():
    s = np.exp(-NU**2 / (2 * 1.5e12**2))
    i = np.exp(-((NU - 1e12) ** 2) / (2 * 2.5e12**2))
    out = hom_interference(_jsa(np.outer(s, i), NU), [0.0], dims=("s", "i"))
    np.testing.assert_allclose(out.two_source_visibility, 1.0, rtol=0, atol=1e-12)


def test_two_different_sources():
    s1, s2 = 1.2e12, 2.0e12
    idler = np.exp(-WIDE**2 / (2 * 2e12**2))
    first = _jsa(np.outer(np.exp(-WIDE**2 / (2 * s1 * s1)), idler), WIDE)
    second = _jsa(np.outer(np.exp(-WIDE**2 / (2 * s2 * s2)), idler), WIDE)
    out = hom_interference(first, [0.0], second=second, dims=("s", "i"))
    ss, ii = out.two_source_visibility.sel(photon="signal"), out.two_source_visibility.sel(
        photon="idler")
    assert abs(float(ss) - 2 * s1 * s2 / (s1 * s1 + s2 * s2)) < 1e-12
    assert abs(float(ii) - 1.0) < 1e-12
    assert "second JSA" in out.two_source_visibility.attrs["second_source"]


def test_second_source_on_another_grid_is_interpolated():
    s1, s2 = 1.2e12, 2.0e12
    coarse = np.linspace(-14, 14, 113) * 1e12
    idler = np.exp(-WIDE**2 / (2 * 2e12**2))
    first = _jsa(np.outer(np.exp(-WIDE**2 / (2 * s1 * s1)), idler), WIDE)
    second = _jsa(np.outer(np.exp(-coarse**2 / (2 * s2 * s2)),
                           np.exp(-coarse**2 / (2 * 2e12**2))), coarse)
    out = hom_interference(first, [0.0], second=second, dims=("s", "i"))
    assert abs(float(out.two_source_visibility[0]) - 2 * s1 * s2 / (s1**2 + s2**2)) < 1e-6
    assert "interpolated" in out.two_source_visibility.attrs["second_source"]


def _wavelength_jsa(lam_s, lam_i, a=1.5e12, b=3e12):
    w0 = 2 * np.pi * C / 1550e-9
    nu_s, nu_i = 2 * np.pi * C / lam_s - w0, 2 * np.pi * C / lam_i - w0
    m = {"units": "m"}
    return xr.DataArray(_gaussian(nu_s, nu_i, a, b), dims=hom.SPECTRAL_DIMS,
                        coords={"signal_wavelength": ("signal_wavelength", lam_s, m),
                                "idler_wavelength": ("idler_wavelength", lam_i, m)})


def test_wavelength_grid_uses_omega_weights():
    # A grid uniform in wavelength is not uniform in ω: the |dω| weights keep the closed
    # forms (a grid's quadrature error only; exact swap: both axes hold the same grid).
    lam = np.linspace(1510e-9, 1590e-9, 121)
    out = hom_interference(_wavelength_jsa(lam, lam), [0.0])
    assert abs(float(out.visibility) - 1) < 1e-9
    np.testing.assert_allclose(out.two_source_visibility, 0.8, rtol=0, atol=1e-9)
    assert out.attrs["swap"].startswith("exact")


def test_different_signal_and_idler_grids_are_interpolated():
    # The idler grid holds other frequencies: ψ(ω_i, ω_s) comes from a cubic spline.
    lam_s = np.linspace(1510e-9, 1590e-9, 121)
    lam_i = np.linspace(1511e-9, 1589e-9, 117)
    out = hom_interference(_wavelength_jsa(lam_s, lam_i), [0.0])
    assert abs(float(out.visibility) - 1) < 1e-6  # measured ~1e-7
    assert out.attrs["swap"].startswith("cubic")


def test_two_source_visibility_is_the_schmidt_purity():
    # The package's own JSA (complex, uniform in wavelength): identical sources give 1/K.
    from xr_spdc.spectrum import joint_spectrum, schmidt_decomposition

    lam = np.linspace(1540e-9, 1560e-9, 41)
    psi = joint_spectrum("KTP_xy", pump=775e-9, signal=lam, idler=lam, temperature=25.0,
                         length=10e-3, xi=0.5, polarizations="eeo", poling_period=45.03e-6,
                         pump_bandwidth=1e-9)
    out = hom_interference(psi, [0.0])
    purity = float(schmidt_decomposition(psi).purity)
    np.testing.assert_allclose(out.two_source_visibility, purity, rtol=0, atol=1e-12)


def _sweep():
    bs = xr.DataArray([1.5e12, 2e12, 3e12], dims="width", name="width")
    psi = xr.concat([_jsa(_gaussian(NU, NU, 1e12, float(b)), NU) for b in bs], dim=bs)
    return psi.transpose("s", "width", "i"), bs.values


def test_sweep_dims_are_kept():
    psi, bs = _sweep()
    out = hom_interference(psi, [0.0, 1e-12], dims=("s", "i"))
    assert out.visibility.dims == ("width",)
    assert out.coincidence_probability.dims == ("width", "delay")
    assert out.two_source_coincidence_probability.dims == ("width", "photon", "delay")
    np.testing.assert_allclose(out.two_source_visibility.sel(photon="signal"),
                               2 * 1e12 * bs / (1e24 + bs**2), rtol=0,
                               atol=1e-9)  # the widest is cut at ±7e12
    np.testing.assert_allclose(out.coincidence_probability.sel(delay=1e-12),
                               0.5 * (1 - np.exp(-(bs**2) * 1e-24 / 4)), rtol=0, atol=1e-9)


@pytest.mark.parametrize("delay", [None, [0.0, 1e-12]])
def test_dask_equals_eager(delay):
    pytest.importorskip("dask")
    psi, _ = _sweep()
    eager = hom_interference(psi, delay, dims=("s", "i"))
    lazy = hom_interference(psi.chunk({"width": 1, "s": 30}), delay, dims=("s", "i"))
    assert lazy.visibility.chunks is not None
    xr.testing.assert_allclose(lazy.compute(), eager, rtol=0, atol=1e-13)


@pytest.mark.parametrize("jsa, kwargs, error, match", [
    (np.ones((3, 3)), {}, TypeError, "jsa must be an xarray.DataArray"),
    (xr.DataArray(np.ones((3, 3)), dims=("a", "b")), {}, ValueError, "no dim 'signal_"),
    (_jsa(np.ones((4, 4)), NU[:4]), {"dims": ("s", "s")}, ValueError, "two different"),
    (xr.DataArray(np.ones((4, 4)), dims=("s", "i"), coords={"s": NU[:4], "i": NU[:4]}),
     {"dims": ("s", "i")}, ValueError, "units None"),
    (_jsa(np.zeros((4, 4)), NU[:4]), {"dims": ("s", "i")}, ValueError, "not all zero"),
    (_jsa(np.ones((4, 4)), NU[:4]), {"dims": ("s", "i"), "delay": [[0.0]]}, ValueError,
     "delay must be a finite 1-D"),
    (_jsa(np.ones((4, 4)), NU[:4]), {"dims": ("s", "i"), "second": np.ones((4, 4))},
     TypeError, "second must be"),
])
def test_bad_input_names_the_argument(jsa, kwargs, error, match):
    with pytest.raises(error, match=match):
        hom_interference(jsa, **kwargs)


def test_plot_draws_the_dip_with_its_visibility():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    psi, _ = _sweep()
    out = hom_interference(psi, np.linspace(-2e-12, 2e-12, 21), dims=("s", "i"))
    with pytest.raises(ValueError, match="sweep dims"):
        hom.plot_hom(out)
    ax = hom.plot_hom(out, width=2e12)
    assert ax.get_xlabel() == "delay τ (ps)"
    assert "V = 1.0000" in ax.get_legend().get_texts()[0].get_text()
    ax = hom.plot_hom(out, two_source=True, width=2e12)
    assert len(ax.get_lines()) == 2


def test_agrees_with_spdcalc_on_its_own_jsa():
    # spdcalc-py 1.0.1's JSA (type-II PPKTP 775 -> 1550 nm, 10 mm, waists 30/42/42 µm, 1 nm
    # pump, 81² grid uniform in ω, Simpson 400) and its HOM outputs, stored once by
    # benchmarks/compare_hom_spdcalc.py --store.  spdcalc's hom_visibility is P_c at its
    # predicted delay (transit times), not at the dip: compare there, and the whole curve.
    ref = np.load(Path(__file__).parent / "data" / "spdcalc_hom_ppktp.npz")
    jsa = xr.DataArray(ref["jsa"], dims=("s", "i"), coords={"s": ("s", ref["omega_s"], RAD),
                                                            "i": ("i", ref["omega_i"], RAD)})
    out = hom_interference(jsa, ref["delay"], dims=("s", "i"))
    p = out.coincidence_probability.values
    assert abs((1 - 2 * p[0]) - float(ref["hom_visibility"])) < 1e-12  # measured 4e-15
    np.testing.assert_allclose(p[1:], ref["hom_rate"][1:], rtol=0, atol=1e-12)
    assert abs(float(out.two_source_visibility.sel(photon="signal")) - float(ref["ss"])) < 1e-12
    assert abs(float(out.two_source_visibility.sel(photon="idler")) - float(ref["ii"])) < 1e-12
    # the true dip is 4.4 fs from spdcalc's predicted delay and 4e-5 deeper
    assert 0 < float(out.visibility) - float(ref["hom_visibility"]) < 1e-4


def test_second_source_sweep_broadcasts_eager_and_lazy():
    pytest.importorskip("dask")
    s1, s2 = 1.2e12, 2.0e12
    idler = np.exp(-WIDE**2 / (2 * 2e12**2))
    first = _jsa(np.outer(np.exp(-WIDE**2 / (2 * s1 * s1)), idler), WIDE)
    second = xr.concat([_jsa(np.outer(np.exp(-WIDE**2 / (2 * s * s)), idler), WIDE)
                        for s in (s1, s2)], dim="source")
    eager = hom_interference(first, [0.0], second=second, dims=("s", "i"))
    lazy = hom_interference(first.chunk({"s": 50}), [0.0], second=second.chunk({"source": 1}),
                            dims=("s", "i"))
    xr.testing.assert_allclose(lazy.compute(), eager, rtol=0, atol=1e-13)
    np.testing.assert_allclose(eager.two_source_visibility.sel(photon="signal"),
                               [1.0, 2 * s1 * s2 / (s1**2 + s2**2)], rtol=0, atol=1e-12)
    # the signal-idler dip is first's own (its signal and idler marginals differ), per source
    assert eager.visibility.dims == ("source",)
    np.testing.assert_allclose(eager.visibility, 2 * s1 * 2e12 / (s1**2 + 4e24), atol=1e-12)


def test_two_source_dip_sits_at_the_second_sources_delay():
    # B's signal arriving 0.7 ps later (phase e^{i ω_s t}) is matched at τ = +0.7 ps; the
    # idlers carry no delay, so their dip stays at 0; both visibilities stay the purity.
    psi = _gaussian(WIDE, WIDE, 1e12, 2e12)
    late = psi * np.exp(1j * WIDE[:, None] * 0.7e-12)
    out = hom_interference(_jsa(psi, WIDE), [0.0], second=_jsa(late, WIDE), dims=("s", "i"))
    np.testing.assert_allclose(out.two_source_dip_delay, [0.7e-12, 0.0], rtol=0, atol=1e-18)
    np.testing.assert_allclose(out.two_source_visibility, 0.8, rtol=0, atol=1e-12)


def test_a_joint_spectrum_has_hom_through_its_accessor_and_an_overlap_is_refused():
    import xr_spdc

    nu = np.linspace(-3.0, 3.0, 41)
    attrs = {"units": "rad/s"}
    jsa = xr.DataArray(np.exp(-(nu[:, None] ** 2 + nu[None, :] ** 2) / 2), dims=("s", "i"),
                       coords={"s": ("s", nu, attrs), "i": ("i", nu, attrs)}, name="jsa")
    via = jsa.spdc.hom_interference(dims=("s", "i"))
    xr.testing.assert_identical(via, hom_interference(jsa, dims=("s", "i")))
    o = xr_spdc.overlap(phi=xr.DataArray([0.0, 1.0], dims="phi"), xi=1.0)
    with pytest.raises(ValueError, match="hom_interference needs a joint spectral amplitude"):
        o.spdc.hom_interference()
