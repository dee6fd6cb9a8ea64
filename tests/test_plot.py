"""Figures label themselves, mark the optimum where it is, and render headless."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402

from xr_spdc.labelled import names as labels  # noqa: E402
from xr_spdc.physics.optimum import find_optimum  # noqa: E402
from xr_spdc.plot import intensity, plot_classic  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
XI_STAR = 2.8375191194941384  # mpmath-refined; Boyd and Kleinman's 2.84
PHI_STAR_OVER_PI = -1.0361426430169949


@pytest.fixture
def overlap(classic):
    """Every 4th point of the classic 100 x 100 grid: the same domain, quick."""
    return classic.isel(phi=slice(None, None, 4), xi=slice(None, None, 4)).spdc.overlap()


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_classic_figure_renders_to_png_labelled_with_the_optimum(tmp_path, overlap):
    drawn = plot_classic(overlap)
    path = tmp_path / "classic.png"
    drawn.figure.savefig(path)
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert drawn.axes.get_xlabel() == "phase mismatch φ/π"
    assert drawn.axes.get_ylabel() == "log₁₀ aggregate focus ξ"
    assert drawn.colorbar.ax.get_ylabel() == "|O|² [1]"
    x, y = drawn.optimum.get_data()
    assert x[0] == pytest.approx(PHI_STAR_OVER_PI, rel=1e-9)
    assert y[0] == pytest.approx(np.log10(XI_STAR), rel=1e-9)
    (entry,) = drawn.axes.get_legend().get_texts()
    assert entry.get_text().startswith("optimum: ξ = 2.84, φ = -1.04π")


def test_the_mesh_holds_abs_o_squared_over_phi_and_xi(overlap):
    drawn = plot_classic(overlap, mark_optimum=False)
    expected = np.abs(overlap.transpose("xi", "phi").values) ** 2
    np.testing.assert_allclose(np.asarray(drawn.mesh.get_array()).reshape(expected.shape),
                               expected, rtol=1e-15)
    x_lo, x_hi = drawn.axes.get_xlim()
    assert x_lo == pytest.approx(-7, abs=0.3) and x_hi == pytest.approx(3, abs=0.3)
    assert drawn.optimum is None and drawn.axes.get_legend() is None


def test_either_dim_order_draws_the_same(overlap):
    a = plot_classic(overlap).mesh.get_array()
    b = plot_classic(overlap.transpose("xi", "phi")).mesh.get_array()
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_renamed_coordinates_are_found_by_name(overlap):
    renamed = overlap.rename(phi="dk_L", xi="focus")
    drawn = plot_classic(renamed, phi="dk_L", xi="focus")
    np.testing.assert_array_equal(np.asarray(drawn.mesh.get_array()),
                                  np.asarray(plot_classic(overlap).mesh.get_array()))


def test_the_optimum_of_a_displaced_focus_is_marked(classic):
    o = classic.isel(phi=slice(None, None, 5), xi=slice(None, None, 5)).spdc.overlap(mu=0.5)
    drawn = plot_classic(o)
    best = find_optimum(0.5)
    x, y = drawn.optimum.get_data()
    assert x[0] == pytest.approx(best.phi / np.pi, rel=1e-12)
    assert y[0] == pytest.approx(np.log10(best.xi), rel=1e-12)
    assert "μ = 0.5" in drawn.axes.get_title()


def test_only_a_centred_focus_is_titled_fig_1(classic):
    grid = classic.isel(phi=slice(None, None, 10), xi=slice(None, None, 10))
    assert "Fig. 1" in plot_classic(grid.spdc.overlap(), mark_optimum=False).axes.get_title()
    for mu in (0.5, -1.0):
        o = grid.spdc.overlap(mu=mu)
        for mark in (True, False):
            title = plot_classic(o, mark_optimum=mark).axes.get_title()
            assert "Fig. 1" not in title and f"displaced focus, μ = {mu:g}" in title


def test_recorded_input_names_are_used_without_being_repeated(overlap):
    renamed = overlap.rename(phi="dk_L", xi="focus").assign_coords(z_f=0.5).assign_attrs(
        {labels.INPUTS_ATTR: "phi: dk_L xi: focus mu: z_f"})
    drawn = plot_classic(renamed, mark_optimum=False)
    np.testing.assert_array_equal(np.asarray(drawn.mesh.get_array()),
                                  np.asarray(plot_classic(overlap).mesh.get_array()))
    assert "μ = 0.5" in drawn.axes.get_title()
    assert renamed.spdc.plot(mark_optimum=False).axes.get_xlabel() == "phase mismatch φ/π"


def test_an_optimum_outside_the_grid_is_not_marked():
    ds = xr.Dataset(coords={"phi": np.linspace(1, 3, 5) * np.pi, "xi": [10.0, 20.0, 40.0]})
    drawn = plot_classic(ds.spdc.overlap())
    assert drawn.optimum is None
    assert drawn.axes.get_xlim()[0] >= 0.5  # limits still those of the data


def test_draws_into_the_given_axes(overlap):
    figure, (left, right) = plt.subplots(1, 2)
    drawn = plot_classic(overlap, ax=right, cmap="magma")
    assert drawn.axes is right and drawn.figure is figure
    assert not left.has_data() and drawn.mesh.get_cmap().name == "magma"


def test_size_one_extra_dims_are_squeezed(overlap):
    drawn = plot_classic(overlap.expand_dims(run=["a"]))
    assert np.asarray(drawn.mesh.get_array()).size == overlap.size


def test_longer_extra_dims_are_refused_with_advice(classic):
    o = classic.isel(phi=slice(0, 5), xi=slice(0, 4)).assign_coords(
        mu=("mu", [0.0, 0.5])).spdc.overlap(mu="mu")
    with pytest.raises(ValueError, match=r"select along the other dims first, e\.g\."):
        plot_classic(o)


def test_a_mu_that_varies_along_the_grid_cannot_be_marked(classic):
    grid = classic.isel(phi=slice(0, 5), xi=slice(0, 4))
    o = grid.assign_coords(mu=("phi", np.linspace(0, 1, 5))).spdc.overlap(mu="mu")
    with pytest.raises(ValueError, match="'mu' has 5 values .or pass mark_optimum=False"):
        plot_classic(o)
    assert "μ varies" in plot_classic(o, mark_optimum=False).axes.get_title()


def test_points_cannot_make_the_classic_figure():
    ds = xr.Dataset({"phi": ("point", [0.0, 1.0]), "xi": ("point", [1.0, 2.0])})
    o = ds.spdc.overlap()
    with pytest.raises(ValueError, match="on two dims .a grid.*scattered points"):
        plot_classic(o)
    with pytest.raises(ValueError, match="over a 1-D coordinate 'phi'.*and/or 'xi'"):
        plot_classic(o.isel(point=0))


def test_one_dimensional_overlap_is_drawn_as_a_labelled_line_over_phi(classic):
    o = classic.isel(xi=50).spdc.overlap()
    drawn = plot_classic(o)
    assert drawn.mesh is None and drawn.colorbar is None and drawn.optimum is None
    assert drawn.axes.get_xlabel() == "phase mismatch φ/π"
    assert drawn.axes.get_ylabel() == "|O|² [1]"
    x, y = drawn.line.get_data()
    np.testing.assert_allclose(x, o.phi.values / np.pi, rtol=1e-15)
    np.testing.assert_array_equal(y, np.abs(o.values) ** 2)
    assert f"ξ = {float(o.xi):.4g}" in drawn.axes.get_title()


def test_a_grid_with_one_phi_is_a_line_over_log_xi(classic):
    o = classic.isel(phi=[30]).spdc.overlap()
    drawn = plot_classic(o)
    assert drawn.axes.get_xscale() == "log" and drawn.axes.get_xlabel() == "aggregate focus [1]"
    np.testing.assert_array_equal(drawn.line.get_data()[1], np.abs(o.values[0]) ** 2)
    assert "φ/π = " in drawn.axes.get_title()


def test_h_draws_on_the_classic_axes_with_log_xi_and_the_optimum(overlap):
    drawn = overlap.spdc.h().spdc.plot()
    assert drawn.axes.get_ylabel() == "log₁₀ aggregate focus ξ"
    # xarray wraps a long label onto two lines
    assert " ".join(drawn.colorbar.ax.get_ylabel().split()) == (
        "Boyd-Kleinman focusing function h [1]")
    assert "Boyd–Kleinman focusing function h" in drawn.axes.get_title()
    assert drawn.optimum.get_data()[0][0] == pytest.approx(PHI_STAR_OVER_PI, rel=1e-9)
    expected = np.abs(overlap.transpose("xi", "phi").values) ** 2 / 4
    np.testing.assert_allclose(np.asarray(drawn.mesh.get_array()).reshape(expected.shape),
                               expected, rtol=1e-14)


def test_h_with_walkoff_is_drawn_without_the_no_walkoff_optimum(classic):
    h = classic.isel(phi=slice(None, None, 10), xi=slice(None, None, 10)).spdc.focusing(
        phi="phi", B=2.0)
    drawn = plot_classic(h)
    assert drawn.optimum is None and drawn.mesh is not None


def test_a_joint_spectrum_is_refused_by_the_classic_figure_saying_what_it_needs():
    jsa = xr.DataArray(np.ones((3, 3), complex), dims=("signal_wavelength",
                                                        "idler_wavelength"), name="jsa")
    with pytest.raises(ValueError, match="draws an overlap .* or Boyd-Kleinman's h.*'jsa'.*"
                                         r"abs.jsa.\*\*2"):
        plot_classic(jsa)


def test_a_non_positive_xi_coordinate_is_refused_naming_xi():
    o = xr.Dataset(coords={"phi": [0.0, 1.0], "xi": [1.0, 2.0]}).spdc.overlap()
    with pytest.raises(ValueError, match="aggregate focus 'xi', which must be positive; it "
                                         "holds -1"):
        plot_classic(o.assign_coords(xi=[-1.0, 2.0]))


def test_intensity_of_strings_is_refused_naming_the_dtype():
    with pytest.raises(ValueError, match="intensity needs an overlap of numbers.*<U1"):
        intensity(xr.DataArray(["a", "b"], dims="x", name="overlap"))


def test_intensity_is_abs_squared_named_and_labelled(overlap):
    before = dict(overlap.attrs)
    values = intensity(overlap)
    np.testing.assert_array_equal(values.values, np.abs(overlap.values) ** 2)
    assert values.name == "overlap_intensity" and values.dtype == np.float64
    assert values.attrs == {"long_name": "|O|²", "units": "1"}
    assert values["phi"].attrs == {"long_name": "phase mismatch", "units": "rad"}
    assert overlap.attrs == before


def test_real_part_and_intensity_plots_label_themselves(overlap):
    _, ax = plt.subplots()
    overlap.real.sel(xi=overlap.xi[10]).plot(ax=ax)
    assert ax.get_xlabel() == "phase mismatch [rad]"
    assert ax.get_ylabel() == "spatial-mode overlap [1]"
    _, ax = plt.subplots()
    mesh = overlap.spdc.intensity().plot(ax=ax)
    assert mesh.colorbar.ax.get_ylabel() == "|O|² [1]"
    assert {ax.get_xlabel(), ax.get_ylabel()} == {"aggregate focus [1]",
                                                  "phase mismatch [rad]"}


def test_accessor_draws_the_classic_figure(overlap):
    assert overlap.spdc.plot().axes.get_xlabel() == "phase mismatch φ/π"


def test_plotting_never_shows_a_window(overlap, monkeypatch):
    def no_show(*args, **kwargs):
        raise AssertionError("plt.show called")

    monkeypatch.setattr(plt, "show", no_show)
    plot_classic(overlap)


def test_intensity_of_an_h_is_refused_saying_it_needs_an_overlap(overlap):
    with pytest.raises(ValueError, match=r"intensity .* needs an overlap O .*but was given 'h'"):
        intensity(overlap.spdc.h())
