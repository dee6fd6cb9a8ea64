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


def test_h_of_h_is_refused_saying_what_was_given_and_what_is_needed():
    # On main, ds.spdc.focusing().spdc.h() returned 0.285 labelled as h (h of h).
    ds = xr.Dataset(coords={"sigma": [0.57], "xi": [2.84]})
    h = ds.spdc.focusing(workers=1)
    with pytest.raises(ValueError, match="needs an overlap O.*given 'h', a focusing function"):
        h.spdc.h()
    with pytest.raises(ValueError, match="needs an overlap O.*given 'h'"):
        boyd_kleinman(boyd_kleinman(xr_spdc.overlap(phi=-3.0, xi=2.0)))


def test_a_result_passed_as_an_input_is_refused():
    h = xr.Dataset(coords={"sigma": [0.57, 0.6], "xi": [2.84]}).spdc.focusing(workers=1)
    with pytest.raises(ValueError, match="phi was given 'h', a focusing function h"):
        xr_spdc.overlap(phi=h, xi=1.0, workers=1)
    o = xr_spdc.overlap(phi=xr.DataArray([0.0, 1.0], dims="phi"), xi=1.0, workers=1)
    with pytest.raises(ValueError, match="xi was given 'overlap', an overlap O"):
        xr_spdc.focusing(sigma=0.5, xi=abs(o).assign_attrs(o.attrs).rename("overlap"))


@pytest.mark.parametrize("name", ["dk L", "dk: L", 'q"uote', "φ L"])
def test_input_names_with_spaces_or_odd_characters_work(name):
    # On main, overlap(phi="dk L") then o.spdc.h() raised KeyError: the recorded names
    # were split on whitespace.
    ds = xr.Dataset(coords={name: [-3.0, 0.0], "xi": [2.0]})
    o = ds.spdc.overlap(phi=name, workers=1)
    h = o.spdc.h()
    np.testing.assert_allclose(h.sigma.values, -ds[name].values[:, None] / 4.0)
    from xr_spdc.labelled.names import format_input_names, parse_input_names

    names = {"phi": name, "xi": "xi", "mu": "mu"}
    assert parse_input_names(format_input_names(names)) == names


def test_old_recorded_input_names_stay_readable():
    from xr_spdc.labelled.names import parse_input_names

    assert parse_input_names("phi: dk_L xi: focus mu: shift") == {
        "phi": "dk_L", "xi": "focus", "mu": "shift"}
    with pytest.raises(ValueError, match="not a sequence of 'role: name' pairs"):
        parse_input_names("phi dk_L")


def test_a_missing_coordinate_is_a_value_error_naming_it():
    o = xr_spdc.overlap(phi=xr.DataArray([0.0, 1.0], dims="phi"), xi=1.0, workers=1)
    with pytest.raises(ValueError, match="no coordinate 'phase' for phi"):
        boyd_kleinman(o, phi="phase")
