"""The quad reference path against mpmath: accurate, complex-safe, diagnostics kept."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr
from conftest import classic_axes
from references import envelope, overlap_mpmath
from scipy.integrate import IntegrationWarning

from xr_spdc.quad import overlap_quad


def test_quad_meets_1e_10_of_the_envelope_on_the_classic_domain():
    phi, xi = classic_axes()
    ds = xr.Dataset(coords={"phi": phi[::7], "xi": xi[::9]})  # 15 x 12 points across it
    o = ds.spdc.overlap(method="quad", workers=1)
    ref = np.array([[overlap_mpmath(p, x) for x in ds.xi.values] for p in ds.phi.values])
    scale = np.array([envelope(x) for x in ds.xi.values])
    assert (np.abs(o.values - ref) / scale).max() <= 1e-10
    assert o.attrs["quad_failed_points"] == 0


def test_quad_keeps_the_imaginary_part_of_a_displaced_focus():
    res = overlap_quad(np.array([-3.27]), np.array([2.84]), np.array([0.5]))
    np.testing.assert_allclose(res.value[0], 1.8749364636075691 + 0.1799436008783811j,
                               rtol=1e-12)


def test_quad_raises_no_complex_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        overlap_quad(np.array([-3.0, 5.0]), np.array([0.5, 50.0]))


def test_quad_reports_status_instead_of_printing_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = overlap_quad(np.array([-600.0, 0.0]), np.array([2.0, 1.0]), limit=5)
    assert res.status.tolist() == [1, 0]  # ier=1: subdivision limit reached
    assert res.abserr[0] > res.abserr[1]


def test_accessor_warns_once_with_count_and_worst_points_and_records_attrs():
    ds = xr.Dataset(coords={"phi": [-600.0, -300.0, 0.0], "xi": [2.0]})
    with pytest.warns(IntegrationWarning, match=r"at 2 of 3 points; worst: phi=-600.0, xi=2.0, "
                                                r"mu=0.0 \(abserr .*, QUADPACK ier=1\)") as rec:
        o = ds.spdc.overlap(method="quad", limit=5, workers=1)
    assert len(rec) == 1
    assert o.attrs["quad_failed_points"] == 2
    assert o.attrs["quad_max_abserr"] > 1e-8
