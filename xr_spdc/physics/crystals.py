"""From the lab's parameters to φ: real crystals, poling, temperature (needs ``ndispers``).

A photon-pair source is specified by a crystal, its length, temperature and poling period,
the pump and signal wavelengths and the three polarisations.  This module turns those into
the phase mismatch φ = Δk·L that :func:`xr_spdc.overlap` takes, with

    Δk = k_p − k_s − k_i − 2π m/Λ,    k_j = 2π n_j(λ_j, T)/λ_j,    1/λ_i = 1/λ_p − 1/λ_s,

the convention of Bennink (Phys. Rev. A 81, 053805 (2010), Eqs. 11–15 and 27) and of
:mod:`xr_spdc.beams`: φ < 0 means the pump's wave number falls short of k_s + k_i + 2πm/Λ,
which is where a focused source is brightest (φ* ≈ −1.04π at ξ ≈ 2.84).  A poling of period
Λ offers the grating vectors ±2π|m|/Λ; m takes the sign of k_p − k_s − k_i, so that the
grating cancels the material mismatch (m < 0 for type-II PPKTP, m > 0 for type-0 PPLN).

The refractive indices come from published Sellmeier and thermo-optic equations, as
`ndispers <https://pypi.org/project/ndispers/>`_ (MIT) media: ndispers' own, or the cited ones
of :mod:`xr_spdc.physics.media` that reproduce commercial poling periods (the short names of
:data:`SHORT_NAMES`, e.g. ``"KTP"``, ``"MgO:LN"``).  It is an optional dependency:
``pip install -e ".[crystals]"``.

Units: every length (wavelengths, crystal length, poling period, waists) in **metres**;
temperature in **degrees Celsius** (ndispers' unit, and what a crystal oven displays);
angles in radians.  The inputs are numbers or DataArrays, broadcast by xarray's rules
(shared dims must have equal coordinates).

Polarisations are ndispers' ``'o'``/``'e'`` labels, given in the order (pump, signal, idler).
For the usual periodically poled crystals, propagating along x:

=========================  ===================  ====================  =====================
source                     ``crystal``          ``polarizations``     fields along
=========================  ===================  ====================  =====================
type-0 PPLN (d33)          ``"CLN_Jundt1997"``  ``("e", "e", "e")``   z, z, z
                           or ``"SLN"``
type-0 PPKTP (d33)         ``"KTP"``            ``("o", "o", "o")``   z, z, z
                           or ``"KTP_xy"``
type-II PPKTP (d24)        ``"KTP"``            ``("e", "e", "o")``   y, y, z
                           or ``"KTP_xy"``
=========================  ===================  ====================  =====================

(In ``"KTP"`` and ndispers' ``KTP_xy`` the o-wave is polarised along z and the e-wave, at
φ = 0, along y.  ``"KTP"`` gives the commercial periods, e.g. 46.2 µm for type-II
775 → 1550 nm at 25 °C; ``"KTP_xy"`` is Kato & Takaoka's, 45.03 µm.)
"""

from __future__ import annotations

import numbers
import re
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import xarray as xr

from ..labelled import inputs, names
from ..labelled.inputs import Real
from .beams import aggregate_focus_from_beams, per_beam, wave_vector_mismatch

#: Temperature unit of every temperature here (and in ndispers).
TEMPERATURE_UNITS = "degC"

PHI_FORMULA = names.PHI_FORMULA
REFERENCE = names.PHI_REFERENCE

if TYPE_CHECKING:
    from ndispers._baseclass import Medium
else:  # ndispers is optional: at run time the alias only documents
    Medium = Any

#: A crystal: the name of an ndispers medium or a short name (:data:`SHORT_NAMES`), or an
#: ndispers medium instance.
Crystal: TypeAlias = "str | Medium"

_BEAMS = ("pump", "signal", "idler")

#: The most points a :func:`brightness_map` computes in memory: each holds some twenty
#: float64 temporaries (indices, wave numbers, foci, phi, the overlap).
MAX_MAP_POINTS = inputs.MAX_EAGER_POINTS // 8


# ---------------------------------------------------------------------------- the medium


#: Short names for the crystals sold periodically poled, and the equations that reproduce
#: their published poling periods (tests/test_media.py).  ndispers' own class names
#: ("KTP_xy", "SLN", "CLN_Jundt1997", ...) keep naming ndispers' classes.
SHORT_NAMES: dict[str, tuple[str, str]] = {
    "KTP": ("xr_spdc.physics.media", "KTP_Fradkin_xy"),
    "MgO:LN": ("xr_spdc.physics.media", "MgOLN_Gayer2008"),
    "MgO:SLN": ("ndispers.media.crystals", "SLN"),
    "LN": ("ndispers.media.crystals", "CLN_Jundt1997"),
}


def medium(crystal: Crystal) -> Medium:
    """The ndispers medium for ``crystal``: an instance, a short name of
    :data:`SHORT_NAMES`, or the name of a class in ``ndispers.media.crystals``.

    =======================  ===================================================================
    ``"KTP"``                :class:`xr_spdc.physics.media.KTP_Fradkin_xy` (Fradkin n_z, König &
                             Wong n_y, Emanueli & Arie dn/dT): commercial PPKTP periods
    ``"MgO:LN"``             :class:`xr_spdc.physics.media.MgOLN_Gayer2008`: 5 mol% MgO-doped
                             congruent LiNbO3, both rays (Gayer et al. 2008)
    ``"MgO:SLN"``            ndispers' ``SLN``: 1 mol% MgO-doped stoichiometric LiNbO3, e-ray
                             (Gayer et al. 2008)
    ``"LN"``                 ndispers' ``CLN_Jundt1997``: undoped congruent LiNbO3, e-ray
    =======================  ===================================================================

    Any other name is looked up in ``ndispers.media.crystals`` (e.g. ``"KTP_xy"``, Kato &
    Takaoka's KTP; ``"CLN_Zelmon1997"``; ``"SLN"``).

    Raises
    ------
    ImportError
        ndispers is not installed.
    ValueError
        No crystal of that name; the message lists the names there are.
    TypeError
        ``crystal`` is neither a name nor an ndispers medium.

    Examples
    --------
    >>> medium("KTP_xy").plane
    'xy'
    >>> type(medium("KTP")).__name__
    'KTP_Fradkin_xy'
    """
    try:
        import ndispers
    except ImportError:
        raise ImportError('xr_spdc.crystals needs ndispers (published Sellmeier equations): '
                          'pip install -e ".[crystals]"  (or: pip install "xr_spdc[crystals]")'
                          ) from None
    if isinstance(crystal, str):
        if crystal in SHORT_NAMES:
            import importlib

            module, name = SHORT_NAMES[crystal]
            return getattr(importlib.import_module(module), name)()
        cls = getattr(ndispers.media.crystals, crystal, None)
        if not isinstance(cls, type):
            names = sorted(n for n in dir(ndispers.media.crystals) if n[:1].isupper())
            raise ValueError(f"crystal: no crystal {crystal!r}; the short names are "
                             f"{', '.join(SHORT_NAMES)}, and ndispers.media.crystals has "
                             f"{', '.join(names)}")
        return cls()
    if isinstance(crystal, ndispers._baseclass.Medium) and len(crystal.symbols) == 4:
        return crystal
    raise TypeError(f"crystal must be the name of an ndispers crystal (e.g. 'KTP_xy') or an "
                    f"instance of one, not {type(crystal).__name__} ({crystal!r:.60})")


#: The attributes of :func:`_source`, which every result of this module carries.
SOURCE_ATTRS = ("crystal", "crystal_description", "sellmeier_source", "sellmeier_dois")


def _source(med: Medium) -> dict[str, str]:
    """Attributes that say which Sellmeier data a result used, as ndispers names them."""
    import ndispers

    doc = (type(med).__doc__ or "").strip()
    dois = sorted(set(re.findall(r"doi\.org/(10\.\S+?)(?=[\s)>,]|$)", doc)))
    return {"crystal": type(med).__name__,
            "crystal_description": doc.splitlines()[0].strip() if doc else "",
            "sellmeier_source": f"ndispers {ndispers.__version__}: {_class_path(med)}",
            "sellmeier_dois": ", ".join(dois)}


def _class_path(med: Medium) -> str:
    """Where a medium's class lives: ndispers' public name for its own media (its classes
    are defined in private modules), the defining module for any other."""
    import ndispers

    name = type(med).__name__
    if getattr(ndispers.media.crystals, name, None) is type(med):
        return f"ndispers.media.crystals.{name}"
    return f"{type(med).__module__}.{name}"


def _angle(med: Medium, angle: float | None) -> float:
    """The propagation angle ndispers varies for this medium (θ, or φ for an xy-plane
    class); None: along a principal axis normal to z (θ = π/2, or φ = 0: along x)."""
    if angle is None:
        return 0.0 if med.phi_rad == "var" else np.pi / 2
    if isinstance(angle, (bool, np.bool_)) or not isinstance(angle, numbers.Real) or \
            not np.isfinite(float(angle)):
        raise TypeError(f"angle must be a finite real number of radians (or None), not "
                        f"{angle!r}")
    return float(inputs.check_physical(float(angle), "angle", "angle", positive=False))


def _polarizations(polarizations: Sequence[str] | str) -> tuple[str, str, str]:
    """(pump, signal, idler) from a sequence of three 'o'/'e', or a string such as "eeo"."""
    if isinstance(polarizations, str) and len(polarizations) == 3:
        polarizations = tuple(polarizations)
    triple = per_beam(polarizations, "polarizations")
    for beam, pol in zip(_BEAMS, triple, strict=True):
        inputs.check_choice(pol, f"polarizations ({beam})", ("o", "e"))
    return triple  # type: ignore[return-value]


def _pol_label(pols: tuple[str, str, str]) -> str:
    """The attrs' spelling: "pump e, signal e, idler o"."""
    return ", ".join(f"{beam} {pol}" for beam, pol in zip(_BEAMS, pols, strict=True))


# ---------------------------------------------------------------------------- checking


def _checked(value: Real, role: str, kind: str | None) -> xr.DataArray:
    """A float64 DataArray of finite numbers, > 0 unless a temperature, in the plausible
    range of ``kind`` (metres; degC for "temperature") when given; errors name ``role``."""
    return inputs.check_physical(value, role, kind, positive=kind != "temperature")


def _aligned(**named: xr.DataArray) -> dict[str, xr.DataArray]:
    return inputs.align(named)


def _order(order: Any) -> int:
    if isinstance(order, (bool, np.bool_)) or not isinstance(order, numbers.Integral) or \
            order < 1:
        raise ValueError(f"order (the QPM order |m|) must be a positive integer, not "
                         f"{order!r}")
    return int(order)


# ---------------------------------------------------------------------------- kernels


def _apply(func: Callable[..., np.ndarray | float], *args: xr.DataArray, **kwargs: Any
           ) -> xr.DataArray:
    """``xr.apply_ufunc`` that keeps the coordinates' attrs (units for plots) but gives the
    result no attrs of its own (the caller labels it)."""
    result = xr.apply_ufunc(func, *args, join="exact", keep_attrs=True, **kwargs)
    result.attrs = {}
    return result


def _index(med: Medium, wavelength: xr.DataArray, temperature: xr.DataArray, pol: str,
           angle: float) -> xr.DataArray:
    """n(λ, T) for one polarisation, broadcast by xarray's rules (ndispers takes µm)."""
    if pol == "o":
        _check_has_ordinary(med)
    with warnings.catch_warnings():
        # A square root of a negative number far outside the equation's range: refused
        # below with the range, rather than numpy's bare RuntimeWarning.
        warnings.simplefilter("ignore", RuntimeWarning)
        n = _apply(
            lambda lam, t: np.asarray(med.n(lam * 1e6, angle, t, pol=pol), dtype=np.float64),
            wavelength, temperature)
    _check_defined(med, n, wavelength, temperature, pol)
    return n


def _check_defined(med: Medium, n: xr.DataArray, wavelength: xr.DataArray,
                   temperature: xr.DataArray, pol: str) -> None:
    """Refuse wavelengths (or temperatures) where the Sellmeier equation has no real
    index (NaN): far outside its range, where it is not an extrapolation but undefined."""
    bad = ~np.isfinite(n.values)
    if not bad.any():
        return
    lam, _ = xr.broadcast(wavelength, n)
    temp, _ = xr.broadcast(temperature, n)
    valid = getattr(med, "_wl_range", None)  # ndispers' stated range, in um
    stated = (f"its stated range is {valid[0] * 1e-6:g} to {valid[1] * 1e-6:g} m"
              if valid else "see the medium's source for its range")
    raise ValueError(
        f"wavelength: the Sellmeier equation of {type(med).__name__} ({pol}-wave) gives no "
        f"real refractive index at {lam.name or 'wavelength'} "
        f"{inputs.positions(lam, bad)} (temperature {inputs.positions(temp, bad)} degC): "
        f"outside the equation's range ({stated}); choose wavelengths inside it or another "
        f"crystal's equation")


def _check_has_ordinary(med: Medium) -> None:
    """Refuse an ordinary wave in a medium whose source gives only n_e (SLN, CLN_Jundt1997),
    naming media that have both rays, rather than ndispers' bare 'must be e'.  ndispers
    marks such media with ``_default_pol = 'e'`` (checked without building any sympy
    expression, so compiled media still need no sympy)."""
    if getattr(med, "_default_pol", "o") == "e":
        raise ValueError(
            f"polarizations: {type(med).__name__} has no ordinary-ray ('o') equation (its "
            f"source gives n_e only); for an 'o' wave in LiNbO3 use 'MgO:LN' (5% MgO:CLN, "
            f"Gayer 2008, with temperature), 'CLN_Edwards1984' (undoped, with temperature) "
            f"or 'CLN_Zelmon1997' (undoped, 21 degC)")


def _wave_numbers(med: Medium, lam: dict[str, xr.DataArray], temperature: xr.DataArray,
                  pols: tuple[str, str, str], angle: float
                  ) -> tuple[dict[str, xr.DataArray], dict[str, xr.DataArray]]:
    """(n_j, k_j = 2π n_j/λ_j in rad/m) for pump, signal and idler."""
    n = {beam: _index(med, lam[beam], temperature, pol, angle)
         for beam, pol in zip(_BEAMS, pols, strict=True)}
    with xr.set_options(arithmetic_join="exact", keep_attrs=False):
        k = {beam: 2 * np.pi * n[beam] / lam[beam] for beam in _BEAMS}
    return n, k




def _grating(dk0: xr.DataArray, poling_period: xr.DataArray | None, order: int
             ) -> xr.DataArray | float:
    """2π m/Λ in rad/m with m = ±order, of the sign of k_p − k_s − k_i (0 without poling).

    A square-wave poling has Fourier components at +2π m/Λ and −2π m/Λ alike; the one that
    nearly cancels the material mismatch is the one that phase-matches, so its sign follows
    that of k_p − k_s − k_i (negative for type-II PPKTP, positive for type-0 PPLN).
    """
    if poling_period is None:
        return 0.0
    with xr.set_options(arithmetic_join="exact", keep_attrs=False):
        return xr.apply_ufunc(np.sign, dk0) * (2 * np.pi * order) / poling_period


def _process(crystal: Crystal, pump: Real, signal: Real, temperature: Real,
             polarizations: Sequence[str] | str,
             angle: float | None
             ) -> tuple[Medium, float, tuple[str, str, str], dict[str, xr.DataArray],
                        xr.DataArray]:
    """The checked common inputs: (medium, angle, pols, {pump, signal, idler}, T)."""
    med = medium(crystal)
    pols = _polarizations(polarizations)
    if "o" in pols:
        _check_has_ordinary(med)
    named = _aligned(pump=_checked(pump, "pump", "wavelength"),
                     signal=_checked(signal, "signal", "wavelength"),
                     temperature=_checked(temperature, "temperature", "temperature"))
    lam = {"pump": named["pump"], "signal": named["signal"]}
    lam["idler"] = inputs.idler_wavelength(lam["pump"], lam["signal"])
    return med, _angle(med, angle), pols, lam, named["temperature"]


def _labelled_phi(phi: xr.DataArray, med: Medium, pols: tuple[str, str, str], order: int,
                  poled: bool) -> xr.DataArray:
    return phi.rename("phi").assign_attrs(names.attrs(
        "phi", polarizations=_pol_label(pols), qpm_order=order if poled else 0,
        temperature_units=TEMPERATURE_UNITS, **_source(med)))


# ---------------------------------------------------------------------------- public


def refractive_index(crystal: Crystal, wavelength: Real, temperature: Real, *, polarization: str,
                     angle: float | None = None) -> xr.DataArray:
    """The refractive index n(λ, T) of a crystal, from ndispers' published equations.

    Parameters
    ----------
    crystal : str or ndispers medium
        E.g. ``"KTP_xy"``, ``"CLN_Jundt1997"``, ``"SLN"`` (see :func:`medium`).
    wavelength : float or DataArray
        Vacuum wavelength in m.
    temperature : float or DataArray
        Crystal temperature in °C.
    polarization : {"o", "e"}
        ndispers' label of the eigen-polarisation.
    angle : float, optional
        The propagation angle ndispers varies for this medium, in rad (θ from z, or φ from
        x for an xy-plane class).  Default: along a principal axis normal to z (θ = π/2;
        φ = 0, i.e. along x, for xy-plane classes): the geometry of poled crystals.

    Returns
    -------
    xarray.DataArray
        ``n``, dimensionless, broadcast over the inputs, with the Sellmeier source in attrs.

    Examples
    --------
    >>> round(float(refractive_index("CLN_Jundt1997", 1.064e-6, 24.5, polarization="e")), 4)
    2.1558
    """
    med = medium(crystal)
    pol = inputs.check_choice(polarization, "polarization", ("o", "e"))
    named = _aligned(wavelength=_checked(wavelength, "wavelength", "wavelength"),
                     temperature=_checked(temperature, "temperature", "temperature"))
    n = _index(med, named["wavelength"], named["temperature"], pol, _angle(med, angle))
    return n.rename("n").assign_attrs(names.attrs(
        "n", polarization=pol, temperature_units=TEMPERATURE_UNITS, **_source(med)))


def phase_mismatch(crystal: Crystal, *, pump: Real, signal: Real, temperature: Real, length: Real,
                   polarizations: Sequence[str], poling_period: Real | None = None, order: int = 1,
                   angle: float | None = None) -> xr.DataArray:
    """The phase mismatch φ = Δk·L of collinear SPDC in a real crystal, ready for
    :func:`xr_spdc.overlap`.

    .. math:: \\Delta k = k_p - k_s - k_i - \\frac{2\\pi m}{\\Lambda},\\quad
              k_j = \\frac{2\\pi n_j(\\lambda_j, T)}{\\lambda_j},\\quad
              \\frac{1}{\\lambda_i} = \\frac{1}{\\lambda_p} - \\frac{1}{\\lambda_s}

    (Bennink, Phys. Rev. A 81, 053805 (2010): Φ = Δk L of Eq. 27, with the grating vector
    of quasi-phase matching.)

    Parameters
    ----------
    crystal : str or ndispers medium
        E.g. ``"KTP_xy"``, ``"CLN_Jundt1997"``, ``"SLN"`` (see :func:`medium`).
    pump, signal : float or DataArray
        Vacuum wavelengths λ_p < λ_s in m; the idler follows from energy conservation.
    temperature : float or DataArray
        Crystal temperature in °C.
    length : float or DataArray
        Crystal length L in m.
    polarizations : (str, str, str) or str
        ndispers' ``'o'``/``'e'`` labels of (pump, signal, idler), e.g. ``("e", "e", "o")``
        or ``"eeo"``; see the module's table.
    poling_period : float or DataArray, optional
        Poling period Λ in m (None: no poling, birefringent phase matching).  The period at
        the given temperature: thermal expansion of the grating is not modelled
        (~1.5e-5/K in LiNbO₃ along x, a 0.1 % change over 70 K).
    order : int, default 1
        QPM order |m| ≥ 1.  The sign of m is that of k_p − k_s − k_i: a square-wave poling
        has grating components at ±2π|m|/Λ, and the one that nearly cancels the material
        mismatch is the one that phase-matches (m < 0 for type-II PPKTP, where
        k_p < k_s + k_i; m > 0 for type-0 PPLN).
    angle : float, optional
        Propagation angle in rad, as in :func:`refractive_index` (default: along x).

    Returns
    -------
    xarray.DataArray
        ``phi`` in rad, broadcast over the inputs' dims (with their coordinates), attrs
        ``long_name``, ``units``, ``formula``, ``convention``, ``polarizations`` and the
        Sellmeier source (``crystal``, ``sellmeier_source``, ``sellmeier_dois``).

    Raises
    ------
    ImportError
        ndispers is missing.
    ValueError, TypeError
        Bad input, naming the argument: e.g. a wavelength given in nm, a signal not longer
        than the pump, an unknown crystal.

    Warns
    -----
    ndispers.ValidityWarning
        A wavelength outside the Sellmeier equation's validity range.
    ndispers.TemperatureWarning
        The medium has no thermo-optic data: temperature has no effect.

    See Also
    --------
    poling_period : the Λ that makes φ = 0.
    xr_spdc.overlap : O(φ, ξ).

    Examples
    --------
    Type-II PPKTP, 775 nm → 1550 nm, over temperature:

    >>> import numpy as np, xarray as xr
    >>> T = xr.DataArray([20.0, 40.0, 60.0], dims="temperature")
    >>> phi = phase_mismatch("KTP_xy", pump=775e-9, signal=1550e-9, temperature=T,
    ...                      length=10e-3, poling_period=45.03e-6,
    ...                      polarizations=("e", "e", "o"))
    >>> phi.dims, phi.attrs["units"]
    (('temperature',), 'rad')
    """
    med, ang, pols, lam, temp = _process(crystal, pump, signal, temperature, polarizations,
                                         angle)
    m = _order(order)
    extra = {"length": _checked(length, "length", "length")}
    if poling_period is not None:
        extra["poling_period"] = _checked(poling_period, "poling_period", "poling_period")
    extra = _aligned(**extra, temperature=temp)
    _, k = _wave_numbers(med, lam, temp, pols, ang)
    dk0 = wave_vector_mismatch(k["pump"], k["signal"], k["idler"])
    with xr.set_options(arithmetic_join="exact", keep_attrs=False):
        dk = dk0 - _grating(dk0, extra.get("poling_period"), m)
        phi = dk * extra["length"]
    return _labelled_phi(phi, med, pols, m, poling_period is not None)


def poling_period(crystal: Crystal, *, pump: Real, signal: Real, temperature: Real,
                  polarizations: Sequence[str], order: int = 1,
                  angle: float | None = None) -> xr.DataArray:
    """The poling period Λ = 2π m/(k_p − k_s − k_i) that quasi-phase-matches a process
    (Δk = 0 in :func:`phase_mismatch`).

    Parameters
    ----------
    crystal, pump, signal, temperature, polarizations, order, angle
        As for :func:`phase_mismatch` (metres, °C).

    Returns
    -------
    xarray.DataArray
        ``poling_period`` in m, broadcast over the inputs.

    Raises
    ------
    ValueError
        Where k_p − k_s − k_i = 0: the process is birefringently phase-matched and needs
        no poling.

    Notes
    -----
    The period of the plane-wave optimum (φ = 0).  A focused source is brightest at
    φ = φ_m(ξ) (−1.04π at ξ = 2.84), i.e. at Λ' = Λ/(1 − s φ_m Λ/(2π|m| L)) with s the
    sign of k_p − k_s − k_i: a shorter period for type-0 PPLN (s = +1), a longer one for
    type-II PPKTP (s = −1).

    Examples
    --------
    Type-0 PPLN (Jundt's congruent LiNbO₃), 775 nm → 1550 nm at 25 °C:

    >>> round(float(poling_period("CLN_Jundt1997", pump=775e-9, signal=1550e-9,
    ...                           temperature=25.0, polarizations="eee")) * 1e6, 2)
    18.97
    """
    med, ang, pols, lam, temp = _process(crystal, pump, signal, temperature, polarizations,
                                         angle)
    m = _order(order)
    _, k = _wave_numbers(med, lam, temp, pols, ang)
    dk0 = wave_vector_mismatch(k["pump"], k["signal"], k["idler"])
    bad = ~(dk0.values != 0)
    if bad.any():
        raise ValueError(f"k_p - k_s - k_i is 0 (birefringently phase-matched: no poling "
                         f"needed) at {inputs.positions(dk0, bad)}")
    return (2 * np.pi * m / abs(dk0)).rename("poling_period").assign_attrs(names.attrs(
        "poling_period", polarizations=_pol_label(pols), qpm_order=m,
        temperature_units=TEMPERATURE_UNITS, **_source(med)))


def _scalar_root(func: Callable[[Any], Any], grid: np.ndarray, prefer: float) -> float:
    """The root of ``func`` on ``grid`` (sign changes refined by Brent's method) nearest
    ``prefer``; NaN if there is none."""
    from scipy.optimize import brentq

    values = func(grid)
    change = np.nonzero(np.diff(np.signbit(values)) & np.isfinite(values[:-1])
                        & np.isfinite(values[1:]))[0]
    roots = [brentq(func, grid[i], grid[i + 1], xtol=1e-13 * abs(grid[i]) + 1e-300)
             for i in change]
    roots += [float(x) for x in grid[values == 0]]
    if not roots:
        return float("nan")
    return float(min(roots, key=lambda r: abs(r - prefer)))


def phase_matching_temperature(crystal: Crystal, *, pump: Real, signal: Real, poling_period: Real,
                               polarizations: Sequence[str], order: int = 1,
                               angle: float | None = None,
                               bounds: tuple[float, float] = (0.0, 200.0)) -> xr.DataArray:
    """The temperature at which a poled crystal phase-matches a process (Δk = 0).

    Parameters
    ----------
    crystal, pump, signal, poling_period, polarizations, order, angle
        As for :func:`phase_mismatch` (metres).
    bounds : (float, float), default (0, 200)
        Temperature range searched, in °C (a grid of 1 K steps, refined by Brent's method).

    Returns
    -------
    xarray.DataArray
        ``temperature`` in °C over the inputs' dims; NaN where no temperature in ``bounds``
        phase-matches.  Several roots: the one nearest the middle of ``bounds``.

    Examples
    --------
    Gayer et al.'s MgO:SLN, 19.36 µm period, degenerate 772 nm → 1544 nm:

    >>> t = phase_matching_temperature("SLN", pump=772e-9, signal=1544e-9,
    ...                                poling_period=19.36e-6, polarizations="eee")
    >>> 30 < float(t) < 50
    True
    """
    med = medium(crystal)
    pols = _polarizations(polarizations)
    if "o" in pols:
        _check_has_ordinary(med)
    m, ang = _order(order), _angle(med, angle)
    lo, hi = (float(b) for b in bounds)
    if not lo < hi:
        raise ValueError(f"bounds must be (low, high) in degC with low < high, not {bounds!r}")
    named = _aligned(pump=_checked(pump, "pump", "wavelength"),
                     signal=_checked(signal, "signal", "wavelength"),
                     poling_period=_checked(poling_period, "poling_period", "poling_period"))
    inputs.idler_wavelength(named["pump"], named["signal"])
    grid = np.linspace(lo, hi, max(3, int(np.ceil(hi - lo)) + 1))

    def solve(lp: float, ls: float, period: float) -> float:
        li = 1 / (1 / lp - 1 / ls)
        grating = 2 * np.pi * m / period

        def dk(t: np.ndarray | float) -> np.ndarray:
            n = [med.n(lam * 1e6, ang, t, pol=p) for lam, p in zip((lp, ls, li), pols,
                                                                     strict=True)]
            dk0 = 2 * np.pi * (n[0] / lp - n[1] / ls - n[2] / li)
            return dk0 - np.sign(dk0) * grating
        return _scalar_root(dk, grid, (lo + hi) / 2)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        t = _apply(solve, named["pump"], named["signal"], named["poling_period"],
                   vectorize=True)
    return t.rename("temperature").assign_attrs(
        long_name="phase-matching temperature", units=TEMPERATURE_UNITS,
        formula="k_p - k_s - k_i - 2 pi m/Lambda = 0, m = order * sign(k_p - k_s - k_i)",
        qpm_order=m,
        search_bounds=f"{lo:g} to {hi:g} {TEMPERATURE_UNITS}", **_source(med))


def tuning_curve(crystal: Crystal, *, pump: Real, temperature: Real, poling_period: Real,
                 polarizations: Sequence[str], order: int = 1, angle: float | None = None,
                 max_detuning: float = 0.3, points: int = 2001) -> xr.Dataset:
    """Signal and idler wavelengths that phase-match (Δk = 0) at each temperature.

    The temperature-tuning curve of a poled source: for a fixed pump and period, the signal
    wavelength λ_s solving k_p − k_s − k_i = 2π m/Λ, with 1/λ_i = 1/λ_p − 1/λ_s.

    Parameters
    ----------
    crystal, pump, temperature, poling_period, polarizations, order, angle
        As for :func:`phase_mismatch` (metres, °C).
    max_detuning : float, default 0.3
        Signal frequencies searched: ν_p/2 · (1 ± max_detuning) (relative to degeneracy).
    points : int, default 2001
        Points of the search grid in signal frequency (each sign change of Δk is refined by
        Brent's method to ~1e-13 relative).

    Returns
    -------
    xarray.Dataset
        ``signal`` and ``idler`` wavelengths in m over the inputs' dims.  When signal and
        idler have the same polarisation (type 0 and I) the two roots are one pair and
        ``signal`` is the shorter wavelength; NaN where no root lies in the searched range
        (e.g. beyond the temperature of degeneracy).  For type II the root nearest
        degeneracy is returned.

    Examples
    --------
    >>> import xarray as xr
    >>> T = xr.DataArray([30.0, 40.0], dims="temperature", coords={"temperature": [30, 40]})
    >>> ds = tuning_curve("SLN", pump=772e-9, temperature=T, poling_period=19.36e-6,
    ...                   polarizations="eee")
    >>> sorted(ds.data_vars)
    ['idler', 'signal']
    """
    med = medium(crystal)
    pols = _polarizations(polarizations)
    if "o" in pols:
        _check_has_ordinary(med)
    m, ang = _order(order), _angle(med, angle)
    if not (isinstance(max_detuning, numbers.Real) and 0 < max_detuning < 1):
        raise ValueError(f"max_detuning must be a number in (0, 1), not {max_detuning!r}")
    if isinstance(points, (bool, np.bool_)) or not isinstance(points, numbers.Integral) or \
            points < 3:
        raise ValueError(f"points must be an int >= 3, not {points!r}")
    named = _aligned(pump=_checked(pump, "pump", "wavelength"),
                     temperature=_checked(temperature, "temperature", "temperature"),
                     poling_period=_checked(poling_period, "poling_period", "poling_period"))
    symmetric = pols[1] == pols[2]
    # relative signal-frequency offset from degeneracy: nu_s = nu_p/2 (1 + x)
    grid = np.linspace(0.0 if symmetric else -max_detuning, max_detuning, points)

    def solve(lp: float, t: float, period: float) -> float:
        grating = 2 * np.pi * m / period

        def dk(x: np.ndarray | float) -> np.ndarray:
            ls = 2 * lp / (1 + np.asarray(x))
            li = 2 * lp / (1 - np.asarray(x))
            n = [med.n(lam * 1e6, ang, t, pol=p) for lam, p in zip((lp, ls, li), pols,
                                                                     strict=True)]
            dk0 = 2 * np.pi * (n[0] / lp - n[1] / ls - n[2] / li)
            return dk0 - np.sign(dk0) * grating
        x = _scalar_root(dk, grid, 0.0)
        return 2 * lp / (1 + x)

    import ndispers
    with warnings.catch_warnings():
        # the search runs across the whole grid; validity is judged on the result below
        warnings.simplefilter("ignore", ndispers.ValidityWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        signal = _apply(solve, named["pump"], named["temperature"], named["poling_period"],
                        vectorize=True)
    with xr.set_options(keep_attrs=False):
        idler = 1 / (1 / named["pump"] - 1 / signal)
    common = dict(units="m", qpm_order=m, temperature_units=TEMPERATURE_UNITS,
                  formula="k_p - k_s - k_i - 2 pi m/Lambda = 0, m = order * sign(k_p - k_s - "
                          "k_i), 1/lambda_i = 1/lambda_p - 1/lambda_s", **_source(med))
    return xr.Dataset({
        "signal": signal.assign_attrs(long_name="phase-matched signal wavelength", **common),
        "idler": idler.assign_attrs(long_name="phase-matched idler wavelength", **common)},
        attrs={"polarizations": _pol_label(pols)})


def brightness_map(crystal: Crystal, *, pump: Real, signal: Real, temperature: Real,
                   length: Real, pump_waist: Real, polarizations: Sequence[str],
                   poling_period: Real | None = None,
                   order: int = 1, angle: float | None = None, signal_waist: Real | None = None,
                   idler_waist: Real | None = None,
                   workers: int | Executor | None = None) -> xr.Dataset:
    """φ, ξ and the overlap O(φ, ξ) of a real crystal over its lab parameters, e.g.
    |O|² over (temperature, pump waist).

    φ comes from :func:`phase_mismatch`, ξ from :func:`xr_spdc.aggregate_focus_from_beams`
    (Bennink Eqs. 11–15) with the crystal's indices, and O from :func:`xr_spdc.overlap`
    (Eq. 27).  ``|O|²/4`` is Boyd and Kleinman's h, the single-mode pair rate per unit pump
    power and crystal length, up to constants, at fixed φ.

    Parameters
    ----------
    crystal, pump, signal, temperature, length, polarizations, poling_period, order, angle
        As for :func:`phase_mismatch` (metres, °C).
    pump_waist : float or DataArray
        Pump waist radius w_p (1/e² intensity) in m.
    signal_waist, idler_waist : float or DataArray, optional
        Waist radii of the collected modes in m.  Default: the same confocal parameter as
        the pump (k_j w_j² = k_p w_p², so ξ_s = ξ_i = ξ_p), Bennink's choice.
    workers : int, concurrent.futures.Executor or None, default None
        As for :func:`xr_spdc.overlap` (None: the automatic choice).

    Returns
    -------
    xarray.Dataset
        ``phi`` (rad), ``xi`` (aggregate focus), ``overlap`` (complex O), ``intensity``
        (|O|²), ``brightness`` (4|O|²/(A₊B₊)) and Bennink's ``rate_factor``
        arctan(ξ)/(A₊B₊), broadcast over the inputs.

    Notes
    -----
    Bennink's pair rate into the collected modes scales as arctan(ξ)/(A₊B₊) (Eqs. 40–41),
    and ∫|O(φ, ξ)|² dφ = 8π arctan ξ: per unit φ (i.e. per unit bandwidth) the rate is
    ∝ |O|²/(A₊B₊).  ``brightness`` = 4|O|²/(A₊B₊) equals |O|² for equal foci
    (A₊ = B₊ = 2) and is smaller otherwise (A₊B₊ ≥ 4 when Δk = 0; the material Δk of a
    poled crystal, ~1 % of k_p, moves that bound by about as much).  With signal and idler waists
    fixed and Δk ≈ 0, ξ ≈ ξ_s does not depend on the pump waist (see
    :func:`xr_spdc.beams.aggregate_focus`): |O|² is then flat along the pump waist and
    ``brightness`` is what picks the best pump waist.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> T = xr.DataArray(np.linspace(20, 40, 3), dims="temperature")
    >>> w = xr.DataArray([20e-6, 40e-6], dims="pump_waist")
    >>> ds = brightness_map("KTP_xy", pump=775e-9, signal=1550e-9, temperature=T,
    ...                     length=10e-3, pump_waist=w, poling_period=45.03e-6,
    ...                     polarizations="eeo")
    >>> ds.intensity.dims
    ('temperature', 'pump_waist')
    """
    from ..labelled.route import overlap

    checked_workers = inputs.check_workers(workers)
    # Every input checked and aligned, and the grid's size capped, before any work: a dim
    # shared by two inputs with different sizes is named here, not deep in the arithmetic.
    given = {"pump": (pump, "wavelength"), "signal": (signal, "wavelength"),
             "temperature": (temperature, "temperature"), "length": (length, "length"),
             "pump_waist": (pump_waist, "waist"), "poling_period": (poling_period,
                                                                    "poling_period"),
             "signal_waist": (signal_waist, "waist"), "idler_waist": (idler_waist, "waist")}
    named = inputs.align({role: _checked(value, role, kind)
                          for role, (value, kind) in given.items() if value is not None})
    inputs.check_eager_size({d: n for da in named.values() for d, n in da.sizes.items()},
                            limit=MAX_MAP_POINTS,
                            how="compute it in pieces: split one input's grid "
                                "(e.g. temperature.isel(...)) and join the results with "
                                "xr.concat")
    phi = phase_mismatch(crystal, pump=named["pump"], signal=named["signal"],
                         temperature=named["temperature"], length=named["length"],
                         polarizations=polarizations,
                         poling_period=named.get("poling_period"), order=order, angle=angle)
    med, ang, pols, lam, temp = _process(crystal, named["pump"], named["signal"],
                                         named["temperature"], polarizations, angle)
    n, k = _wave_numbers(med, lam, temp, pols, ang)
    wp = named["pump_waist"]
    waists = {"pump": wp}
    for beam in ("signal", "idler"):
        if f"{beam}_waist" not in named:  # same confocal parameter: w_j = w_p sqrt(k_p/k_j)
            with xr.set_options(arithmetic_join="exact", keep_attrs=False):
                waists[beam] = wp * np.sqrt(k["pump"] / k[beam])
        else:
            waists[beam] = named[f"{beam}_waist"]
    focus = aggregate_focus_from_beams([lam[b] for b in _BEAMS], [n[b] for b in _BEAMS],
                                       [waists[b] for b in _BEAMS], named["length"])
    o = overlap(phi=phi, xi=focus.xi.rename("xi"), workers=checked_workers)
    with xr.set_options(keep_attrs=False):
        intensity = abs(o) ** 2
    with xr.set_options(arithmetic_join="exact", keep_attrs=False):
        brightness = 4 * intensity / (focus.A_plus * focus.B_plus)
    ds = xr.Dataset({
        "phi": phi, "xi": focus.xi, "rate_factor": focus.rate_factor,
        "overlap": o.reset_coords(drop=True),
        "intensity": intensity.reset_coords(drop=True).assign_attrs(names.attrs("intensity")),
        "brightness": brightness.reset_coords(drop=True).rename("brightness").assign_attrs(
            names.attrs("brightness"))})
    ds.attrs = {"temperature_units": TEMPERATURE_UNITS, "references": REFERENCE,
                **_source(med)}
    return ds
