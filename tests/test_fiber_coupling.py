"""xr_spdc.fiber_coupling: the labelled coupling kernel against brute-force references.

References: tests/data/coupling_references.npz (brute-force transverse quadrature in SI
units, tests/make_coupling_references.py); each stored configuration is turned back into
wavelengths, indices, waists, length and focal planes, and run through exactly the public call.
"""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
import xarray as xr

import xr_spdc

DATA = np.load(pathlib.Path(__file__).parent / "data" / "coupling_references.npz")
LAMBDA_P = 775e-9


def physical(j: int) -> dict[str, float]:
    """Reference j as physical inputs: k_j = L/(ξ_j w_j²), λ_p = 775 nm, and signal and
    idler wavelengths that conserve energy with n_s = n_i = n_p(r_s + r_i)."""
    length = float(DATA["length"][j])
    w = DATA["waists"][j]
    k_p = length / (DATA["xi_p"][j] * w[0] ** 2)
    r_s, r_i = float(DATA["ratio_s"][j]), float(DATA["ratio_i"][j])
    n_p = k_p * LAMBDA_P / (2 * np.pi)
    lam_s, lam_i = LAMBDA_P * (r_s + r_i) / r_s, LAMBDA_P * (r_s + r_i) / r_i
    return {"pump_wavelength": LAMBDA_P, "signal_wavelength": lam_s,
            "idler_wavelength": lam_i, "pump_index": n_p,
            "signal_index": r_s * k_p * lam_s / (2 * np.pi),
            "idler_index": r_i * k_p * lam_i / (2 * np.pi),
            "pump_waist": float(w[0]), "signal_waist": float(w[1]), "idler_waist": float(w[2]),
            "length": length, "phi": float(DATA["phi"][j]),
            "pump_focus": float(DATA["mu_p"][j]) * length / 2,
            "signal_focus": float(DATA["mu_s"][j]) * length / 2,
            "idler_focus": float(DATA["mu_i"][j]) * length / 2}


def as_dataset(points: list[dict[str, float]]) -> xr.Dataset:
    return xr.Dataset({key: ("config", [p[key] for p in points]) for key in points[0]})


def test_against_brute_force_references():
    n = DATA["phi"].size
    ds = as_dataset([physical(j) for j in range(n)])
    out = xr_spdc.fiber_coupling(ds, workers=1)
    k_p2 = (2 * np.pi * ds.pump_index / ds.pump_wavelength) ** 2
    np.testing.assert_allclose(out.pair.values,
                               (k_p2 * np.abs(DATA["amplitude"]) ** 2).values, rtol=1e-9)
    np.testing.assert_allclose(out.signal_singles.values,
                               (k_p2 * DATA["signal_singles"]).values, rtol=1e-9)
    np.testing.assert_allclose(out.idler_singles.values,
                               (k_p2 * DATA["idler_singles"]).values, rtol=1e-9)
    np.testing.assert_allclose(out.signal_heralding.values,
                               np.abs(DATA["amplitude"]) ** 2 / DATA["idler_singles"],
                               rtol=1e-9)
    assert out.pair.dims == ("config",)
    assert out.pair.attrs["units"] == "m-2" and "formula" in out.pair.attrs
    assert out.signal_heralding.attrs["units"] == "1"
    # the inputs are recorded: arrays as coordinates with units
    assert out.coords["pump_waist"].attrs["units"] == "m"
    np.testing.assert_array_equal(out.coords["length"].values, ds.length.values)


def test_idler_wavelength_from_energy_conservation():
    p = physical(5)
    given = xr_spdc.fiber_coupling(**p, workers=1)
    p.pop("idler_wavelength")
    derived = xr_spdc.fiber_coupling(**p, workers=1)
    np.testing.assert_allclose(derived.pair.values, given.pair.values, rtol=1e-12)


def test_exchange_signal_and_idler():
    p = physical(7)
    swapped = {**p}
    for a, b in (("signal_wavelength", "idler_wavelength"), ("signal_index", "idler_index"),
                 ("signal_waist", "idler_waist"), ("signal_focus", "idler_focus")):
        swapped[a], swapped[b] = p[b], p[a]
    one = xr_spdc.fiber_coupling(**p, workers=1)
    two = xr_spdc.fiber_coupling(**swapped, workers=1)
    np.testing.assert_allclose(two.pair.values, one.pair.values, rtol=1e-12)
    np.testing.assert_allclose(two.signal_singles.values, one.idler_singles.values,
                               rtol=1e-12)
    np.testing.assert_allclose(two.signal_heralding.values, one.idler_heralding.values,
                               rtol=1e-12)


def test_heralding_at_most_one_and_plane_wave_limit():
    base = physical(0)
    scale = xr.DataArray([1.0, 1.6, 2.5], dims="scale", name="scale")
    wp, ws, wi = (base[k] * scale for k in ("pump_waist", "signal_waist", "idler_waist"))
    out = xr_spdc.fiber_coupling(**{**base, "phi": 0.0, "pump_waist": wp, "signal_waist": ws,
                                     "idler_waist": wi, "pump_focus": 0.0,
                                     "signal_focus": 0.0, "idler_focus": 0.0}, workers=1)
    for name in ("signal_heralding", "idler_heralding", "symmetric_heralding"):
        assert float(out[name].max()) <= 1.0
    # Plane waves (ξ → 0) at φ = 0: J = L ∫ e^{-x²/w_p²} u_s u_i d²x
    # = 2L/(w_s w_i (1/w_p² + 1/w_s² + 1/w_i²)), and P₂ = (4π J/w_p²)² (docs §9).
    j = 2 * base["length"] / (ws * wi * (wp ** -2 + ws ** -2 + wi ** -2))
    deviation = np.abs(out.pair.values / ((4 * np.pi * j / wp ** 2) ** 2).values - 1)
    assert np.all(np.diff(deviation) < 0) and deviation[-1] < 1e-3


def test_sweep_on_a_pool_and_with_dask_agree():
    p = physical(3)
    waist = xr.DataArray(p["pump_waist"] * np.array([0.8, 1.0, 1.25, 1.5]), dims="pump_waist",
                         name="pump_waist")
    eager = xr_spdc.fiber_coupling(**{**p, "pump_waist": waist}, workers=1)
    pytest.importorskip("dask")
    lazy = xr_spdc.fiber_coupling(**{**p, "pump_waist": waist}, chunks={"pump_waist": 2})
    assert lazy.pair.chunks is not None
    xr.testing.assert_allclose(lazy.compute(), eager, rtol=1e-14)


def test_accessor_and_netcdf_round_trip(tmp_path):
    ds = as_dataset([physical(j) for j in (1, 2)])
    out = ds.spdc.fiber_coupling(workers=1)
    path = tmp_path / "coupling.nc"
    xr_spdc.to_netcdf(ds, path)
    again = xr_spdc.open_dataset(path).spdc.fiber_coupling(workers=1)
    xr.testing.assert_allclose(again, out, rtol=1e-14)


@pytest.mark.parametrize(("change", "named"), [
    ({"signal_waist": -42e-6}, "signal_waist"),
    ({"pump_waist": 0.0}, "pump_waist"),
    ({"idler_wavelength": 1.4e-6}, "idler_wavelength"),
    ({"signal_wavelength": 700e-9, "idler_wavelength": None}, "signal_wavelength"),
    ({"length": -1e-3}, "length"),
    ({"pump_index": 0.5}, "pump_index"),
])
def test_bad_input_names_the_argument(change, named):
    p = {**physical(4), **change}
    with pytest.raises(ValueError, match=named):
        xr_spdc.fiber_coupling(**p, workers=1)


def test_outside_the_domain_names_the_physical_inputs():
    p = {**physical(4), "pump_waist": 1e-7}
    with pytest.raises(ValueError, match="xi_p.*pump_waist"):
        xr_spdc.fiber_coupling(**p, workers=1)
