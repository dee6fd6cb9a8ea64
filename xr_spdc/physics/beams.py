"""The aggregate focus ξ from the three beams (Bennink, Phys. Rev. A 81, 053805 (2010)).

Each Gaussian beam j ∈ {p, s, i} (pump, signal, idler) focused to a waist radius w_j at the
centre of a crystal of length L has the focusing parameter ξ_j = L/(k_j w_j²) (Eq. 11), with
k_j = 2π n_j/λ_j its wave number in the crystal.  The overlap depends on the three beams
only through (Eqs. 12–15)

    A₊ = 1 + (k_s ξ_s + k_i ξ_i)/(k_p ξ_p),
    B₊ = (1 − Δk/k_p) + ((k_s + Δk)/k_p)(ξ_p/ξ_s) + ((k_i + Δk)/k_p)(ξ_p/ξ_i),
    ξ  = (B₊/A₊) ξ_s ξ_i/ξ_p,          Δk = k_p − k_s − k_i,

and the pair rate scales as arctan(ξ)/(A₊B₊) (Eqs. 40–41).  Only ratios of wave numbers
enter, so any one unit serves for all three.

It works on numbers, 0-d numpy arrays and DataArrays, which broadcast by name with xarray's
rules; :mod:`xr_spdc.inputs` checks them as it checks every other input.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
import xarray as xr

from ..labelled import inputs, names
from ..labelled.names import renamed

Real = inputs.Real

REFERENCE = names.BENNINK

#: Relative size of 1/λp − 1/λs − 1/λi beyond which the wavelengths are taken for a typo.
ENERGY_TOLERANCE = inputs.ENERGY_TOLERANCE  # one home: labelled.inputs

_BEAMS = ("p", "s", "i")

FORMULAS = names.BEAM_FORMULAS


# ---------------------------------------------------------------------------- checking


def _checked(values: Mapping[str, Any]) -> dict[str, xr.DataArray]:
    """Each value as float64 DataArray of positive finite numbers, aligned exactly with the
    others (shared dims must have equal coords); errors name the argument."""
    return inputs.align({name: inputs.check_real(inputs.find(None, value, name), name,
                                                 positive=True)
                         for name, value in values.items()})


def _one_unit(named: Mapping[str, xr.DataArray], what: str) -> str | None:
    """The common ``units`` attr of those inputs that have one (None if none has)."""
    units = {name: da.attrs["units"] for name, da in named.items() if "units" in da.attrs}
    if len(set(units.values())) > 1:
        raise ValueError(f"{', '.join(named)} are {what} and must share one unit, but their "
                         f"units attrs differ: {units}")
    return next(iter(units.values()), None)


def per_beam(values: Any, name: str) -> tuple[Any, Any, Any]:
    """(pump, signal, idler) from a sequence of three."""
    if isinstance(values, (str, bytes, xr.DataArray, np.ndarray)) or not isinstance(
            values, Sequence):
        raise TypeError(f"{name} must be a (pump, signal, idler) sequence of three, not "
                        f"{type(values).__name__}")
    if len(values) != 3:
        raise ValueError(f"{name} must hold three values (pump, signal, idler), not "
                         f"{len(values)}: {values!r:.80}")
    return tuple(values)  # type: ignore[return-value]


# ---------------------------------------------------------------------------- kernels


def _wave_number(wavelength: xr.DataArray, refractive_index: xr.DataArray) -> xr.DataArray:
    with xr.set_options(arithmetic_join="exact", keep_attrs=False):
        return 2 * np.pi * refractive_index / wavelength


def wave_vector_mismatch(pump: xr.DataArray, signal: xr.DataArray, idler: xr.DataArray
                         ) -> xr.DataArray:
    """Δk = k_p − k_s − k_i, the material mismatch of three wave numbers (any one unit),
    grouped as k_p − (k_s + k_i) so that swapping signal and idler changes no bit; the one
    place the package computes it (:mod:`xr_spdc.physics.crystals` subtracts the grating).

    Examples
    --------
    >>> float(wave_vector_mismatch(xr.DataArray(3.0), xr.DataArray(1.0), xr.DataArray(1.5)))
    0.5
    """
    with xr.set_options(arithmetic_join="exact", keep_attrs=False):
        return pump - (signal + idler)


def _beam_focus(k: xr.DataArray, waist: xr.DataArray, length: xr.DataArray) -> xr.DataArray:
    with xr.set_options(arithmetic_join="exact", keep_attrs=False):
        return length / (k * waist**2)


def _aggregate(pump_wave_number: xr.DataArray, signal_wave_number: xr.DataArray,
               idler_wave_number: xr.DataArray, pump_focus: xr.DataArray,
               signal_focus: xr.DataArray, idler_focus: xr.DataArray
               ) -> dict[str, xr.DataArray]:
    kp, ks, ki = pump_wave_number, signal_wave_number, idler_wave_number
    xp, xs, xi_i = pump_focus, signal_focus, idler_focus
    # The signal and idler terms are grouped symmetrically (ks + ki, s-term + i-term,
    # xs * xi_i), so that swapping the two changes no bit of the result.
    dk = wave_vector_mismatch(kp, ks, ki)
    with xr.set_options(arithmetic_join="exact", keep_attrs=False):
        a_plus = 1 + (ks * xs + ki * xi_i) / (kp * xp)
        b_plus = (1 - dk / kp) + (((ks + dk) / kp) * (xp / xs)
                                  + ((ki + dk) / kp) * (xp / xi_i))
        aggregate = (b_plus / a_plus) * (xs * xi_i) / xp
        rate = cast(xr.DataArray, np.arctan(aggregate)) / (a_plus * b_plus)
    return {"xi": aggregate, "A_plus": a_plus, "B_plus": b_plus, "rate_factor": rate}


def _labelled(parts: Mapping[str, xr.DataArray]) -> xr.Dataset:
    return xr.Dataset(
        {name: da.rename(name).assign_attrs(names.attrs(name)) for name, da in parts.items()},
        attrs={"references": f"{REFERENCE}, Eqs. 11-15, 40-41"})


# ---------------------------------------------------------------------------- public


def wave_number(wavelength: Real, refractive_index: Real) -> xr.DataArray:
    """The wave number in the crystal, k = 2π n/λ.

    Parameters
    ----------
    wavelength : float or DataArray
        Vacuum wavelength λ in m, > 0.
    refractive_index : float or DataArray
        Refractive index n at that wavelength (and polarisation) in the crystal, > 0.

    Returns
    -------
    xarray.DataArray
        ``k`` in rad/m (in rad per the wavelength's ``units`` attr, if it has one other
        than "m"), broadcast over the inputs' dims.

    Raises
    ------
    ValueError
        A value that is not positive and finite, or coordinates that do not align.
    TypeError
        An input that is not a real number or a DataArray of them.

    Examples
    --------
    >>> k = wave_number(1e-6, 1.5)
    >>> round(float(k), 3), k.attrs["units"]
    (9424777.961, 'rad/m')
    """
    named = _checked({"wavelength": wavelength, "refractive_index": refractive_index})
    unit = named["wavelength"].attrs.get("units", "m")
    return _wave_number(named["wavelength"], named["refractive_index"]).rename("k").assign_attrs(
        names.attrs("k", units=f"rad/{unit}"))


def beam_focus(wavelength: Real, refractive_index: Real, waist: Real,
               length: Real) -> xr.DataArray:
    """One beam's focusing parameter ξ_j = L/(k_j w_j²), k_j = 2π n_j/λ_j (Bennink Eq. 11).

    Parameters
    ----------
    wavelength : float or DataArray
        Vacuum wavelength λ_j in m, > 0.
    refractive_index : float or DataArray
        Refractive index n_j of the beam in the crystal, > 0.
    waist : float or DataArray
        Waist radius w_j (the 1/e² intensity radius; field 1/e) in m, > 0.
    length : float or DataArray
        Crystal length L in m, > 0.

    Returns
    -------
    xarray.DataArray
        ξ_j, dimensionless, broadcast over the inputs' dims.

    Raises
    ------
    ValueError
        A value that is not positive and finite, ``units`` attrs that differ between the
        lengths λ_j, w_j and L, or coordinates that do not align.
    TypeError
        An input that is not a real number or a DataArray of them.

    Notes
    -----
    ξ_j = L/(2 z_j) is the crystal length in units of the confocal parameter
    b_j = 2 z_j = k_j w_j².  As ξ_j = L λ_j/(2π n_j w_j²), any one length unit for λ_j, w_j
    and L gives the same ξ_j.

    References
    ----------
    .. [1] R. S. Bennink, "Optimal collinear Gaussian beams for spontaneous parametric
       down-conversion", Phys. Rev. A 81, 053805 (2010), Eq. 11.

    Examples
    --------
    >>> round(float(beam_focus(775e-9, 1.0, 20e-6, 1e-2)), 6)  # L/(2π n w²/λ)
    3.083627
    """
    named = _checked({"wavelength": wavelength, "refractive_index": refractive_index,
                      "waist": waist, "length": length})
    _one_unit({n: named[n] for n in ("wavelength", "waist", "length")}, "lengths")
    k = _wave_number(named["wavelength"], named["refractive_index"])
    return _beam_focus(k, named["waist"], named["length"]).rename("xi_j").assign_attrs(
        names.attrs("xi_j"))


@renamed(k_p="pump_wave_number", k_s="signal_wave_number", k_i="idler_wave_number",
         xi_p="pump_focus", xi_s="signal_focus", xi_i="idler_focus")
def aggregate_focus(pump_wave_number: Real, signal_wave_number: Real,
                    idler_wave_number: Real, pump_focus: Real, signal_focus: Real,
                    idler_focus: Real) -> xr.Dataset:
    """Bennink's aggregate focus ξ, his A₊ and B₊, and the pair-rate factor.

    Parameters
    ----------
    pump_wave_number, signal_wave_number, idler_wave_number : float or DataArray
        Wave numbers k_p, k_s, k_i in the crystal, > 0, in rad/m or any one unit (only
        their ratios enter).  DataArrays with ``units`` attrs must agree.  (Renamed from
        ``k_p``, ``k_s``, ``k_i``, which work until the next release with a
        DeprecationWarning.)
    pump_focus, signal_focus, idler_focus : float or DataArray
        Per-beam focusing parameters ξ_p, ξ_s, ξ_i = L/(k_j w_j²), dimensionless, > 0 (see
        :func:`beam_focus`).  (Renamed from ``xi_p``, ``xi_s``, ``xi_i``.)

    Returns
    -------
    xarray.Dataset
        Data variables ``xi`` (the aggregate focus ξ), ``A_plus`` (A₊), ``B_plus`` (B₊) and
        ``rate_factor`` (arctan(ξ)/(A₊B₊)), all dimensionless, with ``long_name``,
        ``units``, ``description`` and ``formula`` attrs; broadcast over the inputs' dims
        (shared dims must have equal coordinates) with their coordinates.

    Raises
    ------
    ValueError
        A value that is not positive and finite; k's whose ``units`` attrs differ;
        coordinates that do not align.
    TypeError
        An input that is not a real number, a 0-d numpy array or a DataArray of real
        numbers.

    See Also
    --------
    aggregate_focus_from_beams : the same from wavelengths, indices, waists and length.

    Notes
    -----
    With Δk = k_p − k_s − k_i (Bennink Eqs. 12–15, 40–41)::

        A₊ = 1 + (k_s ξ_s + k_i ξ_i)/(k_p ξ_p)
        B₊ = (1 − Δk/k_p) + ((k_s+Δk)/k_p)(ξ_p/ξ_s) + ((k_i+Δk)/k_p)(ξ_p/ξ_i)
        ξ  = (B₊/A₊) ξ_s ξ_i/ξ_p
        rate_factor = arctan(ξ)/(A₊B₊)

    ξ is what enters the overlap O(φ, ξ).  Multiplying out the transverse overlap of the
    three Gaussian modes, normalised by the pump's 1/w_p², gives the denominator
    A₊(1 − iξl) − (Δk/k_p) ξ_s ξ_i l² in l = 2z/L: A₊ and B₊ are exact, and the form
    1/(1 − iξl) of the overlap leaves out the l² term, which is smaller than the linear one
    by (Δk/k_p) ξ_p/B₊ and vanishes for Δk = 0.  B₊ > 0 whenever k_s < k_p and k_i < k_p.

    Consequences that the tests check: with equal ξ_j and Δk = 0, A₊ = B₊ = 2 and ξ is
    the common value; with Δk = 0 and ξ_s = ξ_i, ξ = ξ_s whatever the pump's focus, and
    A₊B₊ ≥ 4 (Cauchy–Schwarz), with equality only for equal ξ_j.  Swapping signal and
    idler changes nothing; scaling the three ξ_j (the crystal length) scales ξ alike.

    References
    ----------
    .. [1] R. S. Bennink, "Optimal collinear Gaussian beams for spontaneous parametric
       down-conversion", Phys. Rev. A 81, 053805 (2010), Eqs. 11-15, 40-41.

    Examples
    --------
    Degenerate and phase matched (k_s = k_i = k_p/2), equal foci:

    >>> ds = aggregate_focus(2.0, 1.0, 1.0, 2.84, 2.84, 2.84)
    >>> round(float(ds.xi), 12), float(ds.A_plus), float(ds.B_plus)
    (2.84, 2.0, 2.0)

    Signal waists on a labelled axis:

    >>> import xarray as xr
    >>> xi_s = xr.DataArray([1.0, 2.84, 8.0], dims="signal_waist",
    ...                     coords={"signal_waist": [3, 2, 1]})
    >>> aggregate_focus(2.0, 1.0, 1.0, 2.84, xi_s, 2.84).xi.round(4).values
    array([1.7422, 2.84  , 4.6141])
    """
    named = _checked({"pump_wave_number": pump_wave_number,
                      "signal_wave_number": signal_wave_number,
                      "idler_wave_number": idler_wave_number, "pump_focus": pump_focus,
                      "signal_focus": signal_focus, "idler_focus": idler_focus})
    _one_unit({name: named[name] for name in ("pump_wave_number", "signal_wave_number",
                                              "idler_wave_number")}, "wave numbers")
    return _labelled(_aggregate(*named.values()))


def aggregate_focus_from_beams(wavelengths: Sequence[Real], indices: Sequence[Real],
                               waists: Sequence[Real], length: Real) -> xr.Dataset:
    """:func:`aggregate_focus` from the beams: wavelengths, indices, waists and L.

    Parameters
    ----------
    wavelengths : (float or DataArray, float or DataArray, float or DataArray)
        Vacuum wavelengths (λ_p, λ_s, λ_i) in m, > 0.
    indices : (float or DataArray, float or DataArray, float or DataArray)
        Refractive indices (n_p, n_s, n_i) in the crystal, > 0.
    waists : (float or DataArray, float or DataArray, float or DataArray)
        Waist radii (w_p, w_s, w_i) (1/e² intensity radii) in m, > 0.
    length : float or DataArray
        Crystal length L in m, > 0.

    Returns
    -------
    xarray.Dataset
        As :func:`aggregate_focus` (``xi``, ``A_plus``, ``B_plus``, ``rate_factor``), plus
        the per-beam ``xi_p``, ``xi_s``, ``xi_i`` (ξ_j = L/(k_j w_j²)) and ``dk``
        (Δk = k_p − k_s − k_i in rad/m), each over its own inputs' dims.

    Raises
    ------
    ValueError
        A value that is not positive and finite (named as e.g. ``waist_s``), a sequence
        that does not hold three values, ``units`` attrs that differ between the lengths,
        or coordinates that do not align.
    TypeError
        An input that is not a real number or a DataArray of them, or a sequence argument
        that is not a sequence.

    Warns
    -----
    UserWarning
        When 1/λ_p and 1/λ_s + 1/λ_i differ by more than 1e-6 relative (energy
        conservation broken: usually a typo).  The computation goes on.

    See Also
    --------
    aggregate_focus, beam_focus, wave_number

    Notes
    -----
    k_j = 2π n_j/λ_j and ξ_j = L/(k_j w_j²) (Bennink Eq. 11), then Eqs. 12–15 and 40–41 as
    in :func:`aggregate_focus`.  Any one length unit for all λ, w and L gives the same ξ's
    (k and Δk are then per that unit).

    References
    ----------
    .. [1] R. S. Bennink, "Optimal collinear Gaussian beams for spontaneous parametric
       down-conversion", Phys. Rev. A 81, 053805 (2010), Eqs. 11-15, 40-41.

    Examples
    --------
    Degenerate 775 nm → 2 × 1550 nm with equal confocal parameters k_j w_j²:

    >>> ds = aggregate_focus_from_beams((775e-9, 1550e-9, 1550e-9), (1.0, 1.0, 1.0),
    ...                                 (20e-6, 20e-6 * 2**0.5, 20e-6 * 2**0.5), 1e-2)
    >>> round(float(ds.xi), 6), round(float(ds.xi_p), 6), float(ds.dk)
    (3.083627, 3.083627, 0.0)
    """
    triples = {"wavelength": per_beam(wavelengths, "wavelengths"),
               "index": per_beam(indices, "indices"),
               "waist": per_beam(waists, "waists")}
    named = _checked({**{f"{what}_{j}": value for what, values in triples.items()
                         for j, value in zip(_BEAMS, values, strict=True)},
                      "length": length})
    lengths = {n: da for n, da in named.items() if n.startswith(("wavelength", "waist"))}
    unit = _one_unit({**lengths, "length": named["length"]}, "lengths") or "m"

    lam = [named[f"wavelength_{j}"] for j in _BEAMS]
    with xr.set_options(arithmetic_join="exact", keep_attrs=False):
        relative = abs(1 - lam[0] / lam[1] - lam[0] / lam[2])
    if relative.chunks is None and bool((relative > ENERGY_TOLERANCE).any()):
        warnings.warn(
            f"the wavelengths break energy conservation: 1/wavelength_p differs from "
            f"1/wavelength_s + 1/wavelength_i by up to {float(relative.max()):.3g} relative "
            f"(more than {ENERGY_TOLERANCE:g}); check them for a typo", UserWarning,
            stacklevel=2)

    k = {j: _wave_number(named[f"wavelength_{j}"], named[f"index_{j}"]) for j in _BEAMS}
    xi = {j: _beam_focus(k[j], named[f"waist_{j}"], named["length"]) for j in _BEAMS}
    ds = _labelled(_aggregate(k["p"], k["s"], k["i"], xi["p"], xi["s"], xi["i"]))
    for j, beam in zip(_BEAMS, ("pump", "signal", "idler"), strict=True):
        ds[f"xi_{j}"] = xi[j].rename(f"xi_{j}").assign_attrs(
            names.attrs("xi_j", long_name=f"{beam} focusing parameter"))
    dk = wave_vector_mismatch(k["p"], k["s"], k["i"])
    ds["dk"] = dk.rename("dk").assign_attrs(names.attrs("dk", units=f"rad/{unit}"))
    return ds


def walkoff_parameters(walkoff_angle: Real, length: Real, wavelength: Real,
                       refractive_index: Real, waist: Real,
                       absorption: Real = 0.0) -> xr.Dataset:
    """Boyd and Kleinman's walk-off B, absorption κ and focus ξ from the crystal and beam.

    Parameters
    ----------
    walkoff_angle : float or DataArray
        Double-refraction (Poynting-vector) walk-off angle ρ in rad, ≥ 0.
    length : float or DataArray
        Crystal length L in m, > 0.
    wavelength : float or DataArray
        Vacuum wavelength λ in m of the fundamental (second-harmonic generation), i.e. of
        the down-converted light in SPDC (at degeneracy λ = 2λ_p), > 0.
    refractive_index : float or DataArray
        Its refractive index n in the crystal, > 0.
    waist : float or DataArray
        Its waist radius w₀ (1/e² intensity radius) in m, > 0.
    absorption : float or DataArray, optional
        Boyd and Kleinman's effective absorption coefficient α = α₁ − α₂/2 in 1/m, ≥ 0
        (α₁: the fundamental's intensity absorption coefficient, α₂: the harmonic's); 0 by
        default.

    Returns
    -------
    xarray.Dataset
        ``B`` = ρ√(L k)/2, ``kappa`` = α b/2, ``xi`` = L/b, ``confocal_parameter`` b = k w₀²
        (m) and ``k`` = 2π n/λ (rad/m), each labelled (long_name, units, formula), over the
        broadcast dims of the inputs.  ``B``, ``kappa`` and ``xi`` are what
        :func:`xr_spdc.focusing` takes.

    Raises
    ------
    ValueError
        A length, wavelength, index or waist that is not positive and finite, an angle or
        absorption that is negative or not finite, or coordinates that do not align.
    TypeError
        An input that is not a real number or a DataArray of them.

    Notes
    -----
    Boyd and Kleinman (J. Appl. Phys. 39, 3597 (1968), Sec. II–III) define, for a beam of
    wave number k = k₁ = 2πn₁/λ₁ in the medium and confocal parameter b = k w₀², the
    focusing parameter ξ = L/b, the walk-off parameter B = ρ(L k₁)^{1/2}/2 and the absorption
    parameter κ = α b/2.  In B only the product L·k enters, in κ only α·b, so any one
    length unit for L, λ, w₀ (and its inverse for α) gives the same dimensionless numbers;
    SI units are documented here.  The walk-off Gaussian of h, e^{−(B²/ξ)(τ−τ′)²}, has
    B²/ξ = (ρ k w₀/2)²: the walk-off over one confocal parameter, ρb/2, against the waist.

    References
    ----------
    .. [1] G. D. Boyd and D. A. Kleinman, "Parametric interaction of focused Gaussian light
       beams", J. Appl. Phys. 39, 3597 (1968).

    Examples
    --------
    A 10 mm BBO crystal (ρ ≈ 56 mrad at 1064 nm → 532 nm, n ≈ 1.655), 30 µm waist:

    >>> ds = walkoff_parameters(0.056, 10e-3, 1064e-9, 1.655, 30e-6)
    >>> round(float(ds.B), 3), round(float(ds.xi), 4), float(ds.kappa)
    (8.753, 1.1369, 0.0)
    """
    kinds = {"walkoff_angle": "walkoff_angle", "length": "length",
             "wavelength": "wavelength", "refractive_index": "refractive_index",
             "waist": "waist"}
    named = inputs.align({
        name: (inputs.check_physical(value, name, kinds[name],
                                     positive=name != "walkoff_angle") if name in kinds
               else inputs.check_real(inputs.find(None, value, name), name, nonnegative=True))
        for name, value in {"walkoff_angle": walkoff_angle, "length": length,
                            "wavelength": wavelength, "refractive_index": refractive_index,
                            "waist": waist, "absorption": absorption}.items()})
    _one_unit({n: named[n] for n in ("length", "wavelength", "waist")}, "lengths")
    k = _wave_number(named["wavelength"], named["refractive_index"])
    with xr.set_options(arithmetic_join="exact", keep_attrs=False):
        b = k * named["waist"] ** 2
        walkoff = named["walkoff_angle"] * np.sqrt(named["length"] * k) / 2
        kappa = named["absorption"] * b / 2
        xi = named["length"] / b
    return xr.Dataset({
        "B": walkoff.assign_attrs(names.attrs("B")),
        "kappa": kappa.assign_attrs(names.attrs("kappa")),
        "xi": xi.assign_attrs(names.attrs("xi_bk")),
        "confocal_parameter": b.assign_attrs(names.attrs("confocal_parameter")),
        "k": k.assign_attrs(names.attrs("k")),
    }, attrs={"references": names.BOYD_KLEINMAN})
