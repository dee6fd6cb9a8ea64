"""Labelled domain patterns (xr_spdc.physics.poling): the published purity gain of apodized
PPKTP through the labelled API, agreement with the numerics, the engine, netCDF and plots.

The source is tests/test_poling.py's: PPKTP type II 775 -> 1550 nm, L = 30 mm, Λ = 46.1 µm,
group indices from ndispers KTP_xy at 25 °C (tests/data/poling_references.npz).  Published:
a periodic crystal's sinc PMF limits the purity to ~0.8, Gaussian apodization lifts it to
~0.99+ (Graffitti et al., QST 2, 035001 (2017); Tambasco et al., Opt. Express 24, 19616
(2016): ~0.996 by tracking in KTP).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import xr_spdc
from xr_spdc.numerics import overlap as overlap_kernel
from xr_spdc.numerics import poling as numerics
from xr_spdc.physics import poling
from xr_spdc.spectrum import schmidt_decomposition

REF = np.load(Path(__file__).parent / "data" / "poling_references.npz")
C = 299792458.0
LENGTH, PERIOD = 30e-3, 46.1e-6
K = 2 * np.pi / PERIOD


def _purity(pattern, pump_sigma_scaled, n=121, span=10.0):
    ng = REF["ktp_group_index"]
    scale = 2 * np.pi / (LENGTH * abs((ng[0] - ng[2]) / C))  # sinc's first zero along ν_i
    nu = np.linspace(-span, span, n) * scale
    jsa = poling.pattern_joint_spectrum(pattern, nu, nu, group_index=tuple(ng),
                                        pump_bandwidth=pump_sigma_scaled * scale)
    return float(schmidt_decomposition(jsa).purity), jsa


def test_apodization_purity_gain_through_the_labelled_api():
    # Pump bandwidths at each design's optimum (tests/test_poling.py).  Ours: periodic
    # 0.810, duty cycle 0.999, tracking 0.997 (numerics test: 0.8102, 0.9991, 0.9975).
    periodic, jsa = _purity(poling.periodic_pattern(LENGTH, PERIOD), 0.426)
    duty, _ = _purity(poling.duty_cycle_pattern(LENGTH, PERIOD, LENGTH / 5), 0.748)
    track, _ = _purity(poling.tracking_pattern(LENGTH, PERIOD, LENGTH / 5), 0.734)
    assert 0.79 < periodic < 0.83, periodic
    assert duty > 0.998, duty
    assert track > 0.995, track
    assert jsa.dims == ("signal_detuning", "idler_detuning")
    assert jsa.attrs["units"] == "s" and jsa.signal_detuning.attrs["units"] == "rad/s"


def test_pmf_matches_the_numerics_and_peaks_at_2_over_pi():
    pattern = poling.periodic_pattern(1001 * PERIOD, PERIOD)
    dk = K + np.linspace(-3e3, 3e3, 7)
    pmf = poling.pattern_phase_matching(pattern, dk)
    np.testing.assert_array_equal(pmf.values, numerics.phase_matching(
        dk, pattern.walls.values, pattern.signs.values))
    assert abs(complex(pmf.sel(delta_k=K)) - 2 / np.pi) < 1e-12
    assert pmf.dims == ("delta_k",) and pmf.attrs["units"] == "1"


def test_pmf_keeps_dims_and_is_lazy_with_dask():
    pytest.importorskip("dask")
    pattern = poling.tracking_pattern(LENGTH, PERIOD, LENGTH / 5)
    dk = xr.DataArray(K + np.linspace(-1e3, 1e3, 12).reshape(3, 4), dims=("a", "b"),
                      name="dk")
    eager = poling.pattern_phase_matching(pattern, dk)
    lazy = poling.pattern_phase_matching(pattern, dk.chunk({"a": 1}))
    assert lazy.chunks is not None and eager.dims == ("a", "b")
    xr.testing.assert_equal(lazy.compute(), eager)


def test_overlap_through_the_engine_matches_the_numerics():
    walls, signs = REF["random_walls"], REF["random_signs"]
    pattern = poling.domain_pattern(walls, signs)
    phi = xr.DataArray(np.array([-4.0, 0.0, 3.0]), dims="phi", name="phi")
    xi = xr.DataArray(np.array([0.5, 2.84]), dims="xi", name="xi")
    got = poling.pattern_overlap(pattern, phi.assign_coords(phi=phi),
                                 xi.assign_coords(xi=xi), workers=1)
    want = numerics.focused_overlap(phi.values[:, None], xi.values[None, :], walls, signs)
    np.testing.assert_array_equal(got.values, want)
    assert got.dims == ("phi", "xi") and "xr_spdc_inputs" in got.attrs
    for (p, x, m), ref in zip(REF["random_focus"], REF["random_overlap"], strict=True):
        o = complex(poling.pattern_overlap(pattern, p, x, m))
        assert abs(o - ref) < 2e-15 * float(overlap_kernel.envelope(x, m))  # mpmath


def test_overlap_lazy_equals_eager():
    pytest.importorskip("dask")
    pattern = poling.duty_cycle_pattern(3e-3, PERIOD, 0.5e-3)
    phi = xr.DataArray(np.linspace(-10, 10, 6) + K * 3e-3, dims="phi", name="phi")
    phi = phi.assign_coords(phi=phi)
    eager = poling.pattern_overlap(pattern, phi, 1.0, workers=1)
    lazy = poling.pattern_overlap(pattern, phi, 1.0, chunks={"phi": 2})
    assert lazy.chunks is not None
    xr.testing.assert_identical(lazy.compute(), eager)


def test_pattern_is_saved_and_reloaded(tmp_path):
    pattern = poling.duty_cycle_pattern(LENGTH, PERIOD, LENGTH / 5, min_domain=1e-6)
    path = tmp_path / "pattern.nc"
    xr_spdc.to_netcdf(pattern, path)
    back = xr_spdc.open_dataset(path).load()
    np.testing.assert_array_equal(back.walls.values, pattern.walls.values)
    np.testing.assert_array_equal(back.signs.values, pattern.signs.values)
    assert back.attrs["sigma"] == pattern.attrs["sigma"]
    assert back.walls.attrs["units"] == "m"
    assert back.attrs["design"].startswith("duty-cycle")


def test_plots_draw():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    pattern = poling.periodic_pattern(21 * PERIOD, PERIOD)
    assert poling.plot_pattern(pattern).get_xlabel() == "z (mm)"
    pmf = poling.pattern_phase_matching(pattern, K + np.linspace(-1e5, 1e5, 41))
    assert poling.plot_pmf(pmf).get_ylabel() == "|PMF|"
    _, jsa = _purity(pattern, 0.5, n=21)
    ax = poling.plot_jsi(jsa)
    assert ax.get_xlabel() == "signal_detuning (rad/s)"
    with pytest.raises(ValueError, match="2-D"):
        poling.plot_jsi(jsa[0])


@pytest.mark.parametrize("call, error, match", [
    (lambda: poling.domain_pattern([0.0, 2.0, 1.0], [1.0, 1.0]), ValueError,
     "strictly increasing"),
    (lambda: poling.pattern_phase_matching({"walls": 1}, [0.0]), TypeError,
     "pattern must be a Dataset"),
    (lambda: poling.pattern_overlap(poling.domain_pattern([0.0, 1.0], [1.0]), 0.0, -1.0),
     ValueError, "xi must be finite and > 0"),
    (lambda: poling.periodic_pattern(1e-3, -1e-5), ValueError, "period"),
    (lambda: poling.pattern_joint_spectrum(poling.domain_pattern([0.0, 1.0], [1.0]),
                                           [0, 1, 2], [0, 1, 2], group_index=(1, 1, 1),
                                           pump_bandwidth=1.0), ValueError, "delta_k0"),
    (lambda: poling.pattern_joint_spectrum(poling.periodic_pattern(1e-3, 1e-5), [0, 1, 2],
                                           [0, 1, 2], group_index=(1, 1),
                                           pump_bandwidth=1.0), ValueError, "group_index"),
])
def test_bad_input_names_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_pmf_over_phi_is_the_pmf_over_delta_k():
    pattern = poling.periodic_pattern(LENGTH, PERIOD)
    phi = K * LENGTH + np.array([-5.0, 0.0, 2.0])
    by_phi = poling.pattern_phase_matching(pattern, phi=phi)
    by_dk = poling.pattern_phase_matching(pattern, phi / LENGTH)
    # phi/L and dk differ in the last bit; the PMF amplifies that by |dk| max|z| ~ 2e3
    np.testing.assert_allclose(by_phi.values, by_dk.values, rtol=0, atol=1e-12)
    assert by_phi.dims == ("phi",) and by_phi.phi.attrs["units"] == "rad"
    with pytest.raises(ValueError, match="one of delta_k"):
        poling.pattern_phase_matching(pattern, phi / LENGTH, phi=phi)
