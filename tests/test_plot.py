"""Figures label themselves and render headless."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from xr_spdc.plot import plot_classic  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def overlap(classic):
    return classic.isel(phi=slice(None, None, 4), xi=slice(None, None, 4)).spdc.overlap()


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_classic_figure_is_labelled_and_marks_the_optimum(tmp_path, overlap):
    drawn = plot_classic(overlap)
    path = tmp_path / "classic.png"
    drawn.figure.savefig(path)
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert drawn.axes.get_xlabel() == "phase mismatch φ/π"
    assert drawn.axes.get_ylabel() == "log₁₀ aggregate focus ξ"
    assert drawn.colorbar.ax.get_ylabel() == "|O|² [1]"
    x, y = drawn.optimum.get_data()
    assert x[0] == pytest.approx(-1.0361426430169949, rel=1e-9)
    assert y[0] == pytest.approx(np.log10(2.8375191194941384), rel=1e-12)
    assert "optimum" in drawn.axes.get_legend().get_texts()[0].get_text()


def test_the_mesh_holds_abs_o_squared(overlap):
    drawn = plot_classic(overlap, mark_optimum=False)
    expected = np.abs(overlap.transpose("xi", "phi").values) ** 2
    np.testing.assert_allclose(np.asarray(drawn.mesh.get_array()).reshape(expected.shape),
                               expected)
    assert drawn.optimum is None


def test_either_dim_order_draws_the_same(overlap):
    a = plot_classic(overlap).mesh.get_array()
    b = plot_classic(overlap.transpose("xi", "phi")).mesh.get_array()
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_real_part_and_intensity_plots_label_themselves(overlap):
    _, ax = plt.subplots()
    overlap.real.sel(xi=overlap.xi[10]).plot(ax=ax)
    assert ax.get_xlabel() == "phase mismatch [rad]"
    assert ax.get_ylabel() == "spatial-mode overlap [1]"
    _, ax = plt.subplots()
    mesh = overlap.spdc.intensity().plot(ax=ax)
    assert mesh.colorbar.ax.get_ylabel() == "|O|² [1]"
    assert ax.get_ylabel() == "aggregate focus [1]" or ax.get_xlabel() == "aggregate focus [1]"


def test_accessor_draws_the_classic_figure(overlap):
    assert overlap.spdc.plot().axes.get_xlabel() == "phase mismatch φ/π"


def test_points_cannot_make_the_classic_figure():
    import xarray as xr

    ds = xr.Dataset({"phi": ("point", [0.0, 1.0]), "xi": ("point", [1.0, 2.0])})
    with pytest.raises(ValueError, match="needs a 1-D coordinate"):
        plot_classic(ds.spdc.overlap().drop_vars("phi"))
