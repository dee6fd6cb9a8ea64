"""Boyd-Kleinman h = |O|^2/4 with sigma = -phi/(2 xi), against the published optimum."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import xr_spdc
from xr_spdc.physics.boyd_kleinman import H_MM, SIGMA_M, XI_M, boyd_kleinman

QUAD = {"method": "quad", "workers": 1}


def test_h_at_the_optimum_is_boyd_kleinmans_1_068():
    o = xr_spdc.overlap(phi=-2 * XI_M * SIGMA_M, xi=XI_M, **QUAD)
    h = boyd_kleinman(o)
    assert float(h) == pytest.approx(H_MM, rel=1e-9)
    assert round(float(h), 3) == 1.068  # Boyd & Kleinman (1968)
    assert float(h.sigma) == pytest.approx(SIGMA_M, rel=1e-12)


def test_h_is_labelled_with_sigma_over_the_grid(small_grid):
    h = boyd_kleinman(small_grid.spdc.overlap(**QUAD))
    assert h.name == "h" and h.dtype == np.float64 and h.dims == ("phi", "xi")
    assert h.attrs["units"] == "1" and "Boyd-Kleinman" in h.attrs["long_name"]
    assert h.sigma.dims == ("phi", "xi") and h.sigma.attrs["units"] == "1"
    expected = -small_grid.phi.values[:, None] / (2 * small_grid.xi.values[None, :])
    np.testing.assert_array_equal(h.sigma.values, expected)


def test_displaced_focus_h_matches_the_published_maximum():
    # Boyd-Kleinman's maximum over sigma at xi = 2.84, mu = 0.5: 0.901809 at sigma = 0.48400.
    o = xr_spdc.overlap(phi=-2 * 2.84 * 0.48400, xi=2.84, mu=0.5, **QUAD)
    assert float(boyd_kleinman(o)) == pytest.approx(0.901809, abs=2e-6)


def test_h_is_even_in_the_focal_displacement():
    ds = xr.Dataset(coords={"phi": [-3.0, 1.0], "xi": [0.5, 2.84], "mu": [-0.7, 0.7]})
    h = boyd_kleinman(ds.spdc.overlap(mu="mu", **QUAD))
    np.testing.assert_allclose(h.sel(mu=-0.7).values, h.sel(mu=0.7).values, rtol=1e-9)


def test_the_overlaps_own_names_are_used_after_overlap_phi_dk_l():
    o = xr.Dataset(coords={"dk_L": [0.0, -3.0], "xi": [1.0]}).spdc.overlap(phi="dk_L", **QUAD)
    h = o.spdc.h()
    assert h.sigma.dims == ("dk_L", "xi")
    np.testing.assert_array_equal(h.sigma.values.ravel(), [-0.0, 1.5])
    xr.testing.assert_identical(h, boyd_kleinman(o, phi="dk_L"))


def test_missing_coordinate_is_named():
    o = xr.Dataset(coords={"dk": [0.0], "xi": [1.0]}).spdc.overlap(phi="dk", **QUAD)
    with pytest.raises(KeyError, match="no coordinate 'phase'"):
        boyd_kleinman(o, phi="phase")


def test_accessor_gives_the_same_h(small_grid):
    o = small_grid.spdc.overlap(**QUAD)
    xr.testing.assert_identical(o.spdc.h(), boyd_kleinman(o))
    xr.testing.assert_identical(o.spdc.boyd_kleinman(), boyd_kleinman(o))
