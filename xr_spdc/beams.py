"""The aggregate focus ξ from the three beams (Bennink, Phys. Rev. A 81, 053805 (2010)).

Each Gaussian beam j ∈ {p, s, i} (pump, signal, idler) focused to a waist radius w_j in a
crystal of length L has the focusing parameter ξ_j = L/(k_j w_j²) (Eq. 11), k_j = 2π n_j/λ_j
its wave number in the crystal.  The overlap depends on them only through (Eqs. 12–15)

    A₊ = 1 + (k_s ξ_s + k_i ξ_i)/(k_p ξ_p),
    B₊ = (1 − Δk/k_p) + ((k_s + Δk)/k_p)(ξ_p/ξ_s) + ((k_i + Δk)/k_p)(ξ_p/ξ_i),
    ξ  = (B₊/A₊) ξ_s ξ_i / ξ_p,          Δk = k_p − k_s − k_i,

and the pair rate scales as arctan(ξ)/(A₊B₊) (Eqs. 40–41).  Only ratios of wave numbers
enter, so any one unit serves for all three (rad/m here).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import xarray as xr

from . import inputs
from .labels import INPUT_ATTRS

Number = float | xr.DataArray

_DIMENSIONLESS = {"units": "1"}


def _checked(values: dict[str, Any]) -> dict[str, xr.DataArray]:
    checked = {name: inputs.check_real(inputs.find(None, value, name), name, positive=True)
               for name, value in values.items()}
    return checked


def _same_units(named: dict[str, xr.DataArray]) -> None:
    units = {name: da.attrs["units"] for name, da in named.items() if "units" in da.attrs}
    if len(set(units.values())) > 1:
        raise ValueError(f"{', '.join(named)} must share one unit, but have units {units}")


def wave_number(wavelength: Number, refractive_index: Number) -> xr.DataArray:
    """k = 2π n/λ in rad/m, for a vacuum wavelength λ in m and refractive index n.

    Examples
    --------
    >>> round(float(wave_number(1e-6, 1.5)), 3)
    9424777.961
    """
    named = _checked({"wavelength": wavelength, "refractive_index": refractive_index})
    with xr.set_options(arithmetic_join="exact"):
        k = 2 * np.pi * named["refractive_index"] / named["wavelength"]
    return k.rename("k").assign_attrs(long_name="wave number in the crystal", units="rad/m")


def beam_focus(wavelength: Number, refractive_index: Number, waist: Number,
               length: Number) -> xr.DataArray:
    """One beam's focusing parameter ξ_j = L/(k_j w_j²) (Bennink Eq. 11).

    Parameters
    ----------
    wavelength : float or DataArray
        Vacuum wavelength λ_j in m.
    refractive_index : float or DataArray
        n_j in the crystal.
    waist : float or DataArray
        Waist radius w_j (1/e² intensity radius) in m.
    length : float or DataArray
        Crystal length L in m.

    Returns
    -------
    xarray.DataArray
        ξ_j, dimensionless.

    Examples
    --------
    >>> round(float(beam_focus(775e-9, 1.0, 20e-6, 1e-2)), 6)  # L/(k w^2)
    3.083627
    """
    named = _checked({"waist": waist, "length": length})
    with xr.set_options(arithmetic_join="exact"):
        xi = named["length"] / (wave_number(wavelength, refractive_index) * named["waist"] ** 2)
    return xi.rename("xi_j").assign_attrs(long_name="beam focusing parameter L/(k w^2)",
                                          units="1")


def aggregate_focus(k_p: Number, k_s: Number, k_i: Number, xi_p: Number, xi_s: Number,
                    xi_i: Number) -> xr.Dataset:
    """Bennink's aggregate focus ξ and his A₊, B₊ from wave numbers and per-beam foci.

    Parameters
    ----------
    k_p, k_s, k_i : float or DataArray
        Wave numbers in the crystal (pump, signal, idler), > 0, in one unit (rad/m).
    xi_p, xi_s, xi_i : float or DataArray
        Per-beam focusing parameters ξ_j = L/(k_j w_j²), > 0.

    Returns
    -------
    xarray.Dataset
        ``xi`` (aggregate focus), ``A_plus``, ``B_plus`` and ``rate_factor``
        (arctan(ξ)/(A₊B₊), to which the pair rate is proportional), broadcast over the
        inputs' dims.

    Raises
    ------
    ValueError
        Non-positive or non-finite values, or k's with different ``units`` attrs.
    TypeError
        Non-numeric input.

    Examples
    --------
    >>> ds = aggregate_focus(2.0, 1.0, 1.0, 2.84, 2.84, 2.84)  # degenerate, equal foci
    >>> round(float(ds.xi), 12), float(ds.A_plus), float(ds.B_plus)
    (2.84, 2.0, 2.0)
    """
    k = _checked({"k_p": k_p, "k_s": k_s, "k_i": k_i})
    _same_units(k)
    xi = _checked({"xi_p": xi_p, "xi_s": xi_s, "xi_i": xi_i})
    with xr.set_options(arithmetic_join="exact", keep_attrs=False):
        kp, ks, ki = k["k_p"], k["k_s"], k["k_i"]
        xp, xs, xi_ = xi["xi_p"], xi["xi_s"], xi["xi_i"]
        dk = kp - ks - ki
        a_plus = 1 + (ks * xs + ki * xi_) / (kp * xp)
        b_plus = (1 - dk / kp) + ((ks + dk) / kp) * (xp / xs) + ((ki + dk) / kp) * (xp / xi_)
        aggregate = (b_plus / a_plus) * xs * xi_ / xp
        rate = np.arctan(aggregate) / (a_plus * b_plus)
    return xr.Dataset({
        "xi": aggregate.assign_attrs(INPUT_ATTRS["xi"],
                                     formula="xi = (B+/A+) xi_s xi_i / xi_p (Bennink Eq. 15)"),
        "A_plus": a_plus.assign_attrs(long_name="Bennink A+", units="1",
                                      formula="1 + (k_s xi_s + k_i xi_i)/(k_p xi_p)"),
        "B_plus": b_plus.assign_attrs(
            long_name="Bennink B+", units="1",
            formula="(1 - dk/k_p) + ((k_s+dk)/k_p)(xi_p/xi_s) + ((k_i+dk)/k_p)(xi_p/xi_i)"),
        "rate_factor": rate.assign_attrs(long_name="pair-rate factor arctan(xi)/(A+ B+)",
                                         units="1"),
    }, attrs={"references": "R. S. Bennink, Phys. Rev. A 81, 053805 (2010), Eqs. 11-15, 40-41"})


def aggregate_focus_from_beams(wavelengths: tuple[Number, Number, Number],
                               indices: tuple[Number, Number, Number],
                               waists: tuple[Number, Number, Number],
                               length: Number) -> xr.Dataset:
    """:func:`aggregate_focus` from vacuum wavelengths (m), indices, waists (m) and L (m).

    The result also holds each beam's ``xi_p``, ``xi_s``, ``xi_i`` and the mismatch ``dk``
    (rad/m).  Warns when 1/λ_p ≠ 1/λ_s + 1/λ_i (energy conservation) by more than 1e-6.

    Examples
    --------
    >>> ds = aggregate_focus_from_beams((775e-9, 1550e-9, 1550e-9), (1.0, 1.0, 1.0),
    ...                                 (20e-6, 20e-6 * 2**0.5, 20e-6 * 2**0.5), 1e-2)
    >>> round(float(ds.xi), 6), round(float(ds.xi_p), 6)  # equal confocal parameters
    (3.083627, 3.083627)
    """
    names = ("p", "s", "i")
    lam = _checked({f"wavelength_{j}": v for j, v in zip(names, wavelengths, strict=True)})
    mismatch = (1 / lam["wavelength_p"] - 1 / lam["wavelength_s"] - 1 / lam["wavelength_i"])
    if bool((abs(mismatch) > 1e-6 / lam["wavelength_p"]).any()):
        worst = float(abs(mismatch * lam["wavelength_p"]).max())
        warnings.warn("the wavelengths break energy conservation, 1/λp ≠ 1/λs + 1/λi "
                      f"(relative mismatch up to {worst:.3g}); check for a typo",
                      UserWarning, stacklevel=2)
    k = {j: wave_number(w, n) for j, w, n in zip(names, wavelengths, indices, strict=True)}
    xi = {j: beam_focus(w, n, waist, length)
          for j, w, n, waist in zip(names, wavelengths, indices, waists, strict=True)}
    ds = aggregate_focus(k["p"], k["s"], k["i"], xi["p"], xi["s"], xi["i"])
    for j in names:
        ds[f"xi_{j}"] = xi[j]
    ds["dk"] = (k["p"] - k["s"] - k["i"]).assign_attrs(
        long_name="wave-vector mismatch k_p - k_s - k_i", units="rad/m")
    return ds
