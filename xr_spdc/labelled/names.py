"""Names, units and formulas that label results, in one place (netCDF-safe: str and numbers).

CF has no standard names for these quantities, so ``long_name`` and ``units`` (UDUNITS:
"rad", and "1" for dimensionless) carry the meaning; ``.plot()`` uses both for axis labels.
"""

from __future__ import annotations

import functools
import json
import re
import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

import xarray as xr

from .._version import __version__

OVERLAP_LONG_NAME = "spatial-mode overlap"
H_LONG_NAME = "Boyd-Kleinman focusing function h"
JSA_LONG_NAME = "joint spectral amplitude"

BOYD_KLEINMAN = "G. D. Boyd and D. A. Kleinman, J. Appl. Phys. 39, 3597 (1968)"
BENNINK = "R. S. Bennink, Phys. Rev. A 81, 053805 (2010)"
LAW_WALMSLEY_EBERLY = ("C. K. Law, I. A. Walmsley and J. H. Eberly, Phys. Rev. Lett. 84, 5304 "
                       "(2000)")

SIGMA_ATTRS = {"long_name": "Boyd-Kleinman phase parameter sigma = -phi/(2 xi)", "units": "1"}
H_ATTRS = {"long_name": H_LONG_NAME, "units": "1",
           "formula": "h = |O|^2 / 4, sigma = -phi / (2 xi)", "references": BOYD_KLEINMAN}


#: Attributes given to each input coordinate that has none of its own.
INPUT_ATTRS: dict[str, dict[str, str]] = {
    "phi": {"long_name": "phase mismatch", "units": "rad"},
    "xi": {"long_name": "aggregate focus", "units": "1"},
    "mu": {"long_name": "focal displacement", "units": "1",
           "comment": "in units of L/2: the crystal spans l = 2z/L from -1-mu to 1-mu, z from "
                      "the focus, so the focus lies mu*L/2 beyond the crystal's centre"},
    # Boyd and Kleinman's parameters (xr_spdc.focusing).
    "sigma": SIGMA_ATTRS,
    "B": {"long_name": "walk-off parameter B", "units": "1"},
    "kappa": {"long_name": "absorption parameter kappa", "units": "1"},
}

OVERLAP_FORMULA = "O = sqrt(xi) * integral_{-1-mu}^{1-mu} exp(i*phi*l/2) / (1 - i*xi*l) dl"

REFERENCES = f"{BENNINK}; {BOYD_KLEINMAN}"


FOCUSING_FORMULA = ("h = 1/(4 xi) * double integral_a^b dtau dtau' exp(-kappa (tau + tau') "
                    "+ i sigma (tau - tau') - (B^2/xi) (tau - tau')^2) / ((1 + i tau)(1 - i "
                    "tau')), a = -xi (1 + mu), b = xi (1 - mu) (mu as for the overlap; Boyd and "
                    "Kleinman's own mu is -mu)")
FOCUSING_REFERENCES = f"{BOYD_KLEINMAN}; {BENNINK}"


# ---------------------------------------------------------------- the physics layer's labels

#: Formulas of the beams' quantities (Bennink's Eqs. 11-15, 40-41).
BEAM_FORMULAS = {
    "xi_j": "xi_j = L/(k_j w_j^2), k_j = 2 pi n_j/lambda_j (Bennink Eq. 11)",
    "A_plus": "A+ = 1 + (k_s xi_s + k_i xi_i)/(k_p xi_p) (Bennink Eqs. 12-15)",
    "B_plus": "B+ = (1 - dk/k_p) + ((k_s + dk)/k_p)(xi_p/xi_s) + ((k_i + dk)/k_p)(xi_p/xi_i), "
              "dk = k_p - k_s - k_i (Bennink Eqs. 12-15)",
    "xi": "xi = (B+/A+) xi_s xi_i/xi_p (Bennink Eqs. 12-15)",
    "rate_factor": "arctan(xi)/(A+ B+) (Bennink Eqs. 40-41)",
    "dk": "dk = k_p - k_s - k_i",
}

PHI_FORMULA = ("phi = (k_p - k_s - k_i - 2 pi m/Lambda) L, k_j = 2 pi n_j(lambda_j, T)/lambda_j, "
               "1/lambda_i = 1/lambda_p - 1/lambda_s, m = order * sign(k_p - k_s - k_i)")
PHI_REFERENCE = f"{BENNINK}, Eqs. 11-15, 27"

JSA_FORMULA = ("psi(w_s, w_i) = N alpha(w_s + w_i) O(phi(w_s, w_i), xi), "
               "alpha(w) = exp(-(w - w_p)^2/(2 sigma^2)), sigma = FWHM_w/(2 sqrt(ln 2)), "
               "sum |psi|^2 dw_s dw_i = 1")
JSA_REFERENCES = f"{BENNINK}, Eqs. 27-28; {LAW_WALMSLEY_EBERLY}"

#: ``long_name``, ``units`` and (where there is one) ``description`` and ``formula`` of every
#: quantity the physics layer returns, by its variable name; :func:`attrs` hands them out.
QUANTITIES: dict[str, dict[str, str]] = {
    "xi": {**INPUT_ATTRS["xi"], "description": "Bennink's aggregate focusing parameter",
           "formula": BEAM_FORMULAS["xi"]},
    "A_plus": {"long_name": "Bennink A+", "units": "1",
               "description": "focus weight of signal and idler against the pump",
               "formula": BEAM_FORMULAS["A_plus"]},
    "B_plus": {"long_name": "Bennink B+", "units": "1",
               "description": "inverse-focus weight of signal and idler against the pump",
               "formula": BEAM_FORMULAS["B_plus"]},
    "rate_factor": {"long_name": "pair-rate factor arctan(xi)/(A+ B+)", "units": "1",
                    "description": "the pair rate is proportional to it (at fixed pump "
                                   "power, crystal and phase mismatch)",
                    "formula": BEAM_FORMULAS["rate_factor"]},
    "k": {"long_name": "wave number in the crystal", "units": "rad/m",
          "formula": "k = 2 pi n/lambda"},
    "xi_j": {"long_name": "beam focusing parameter", "units": "1",
             "formula": BEAM_FORMULAS["xi_j"]},
    "dk": {"long_name": "wave-vector mismatch", "units": "rad/m", "formula": BEAM_FORMULAS["dk"]},
    "B": {**INPUT_ATTRS["B"], "formula": "B = rho sqrt(L k)/2 (Boyd-Kleinman)"},
    "kappa": {**INPUT_ATTRS["kappa"], "formula": "kappa = alpha b/2 (Boyd-Kleinman)"},
    "xi_bk": {**INPUT_ATTRS["xi"], "formula": "xi = L/b"},
    "confocal_parameter": {"long_name": "confocal parameter", "units": "m",
                           "formula": "b = k w0^2"},
    "phi": {"long_name": "phase mismatch", "units": "rad", "formula": PHI_FORMULA,
            "convention": "Bennink: dk = k_p - k_s - k_i - 2 pi m/Lambda; phi < 0: k_p short",
            "references": PHI_REFERENCE},
    "n": {"long_name": "refractive index", "units": "1"},
    "poling_period": {"long_name": "poling period", "units": "m",
                      "formula": "Lambda = 2 pi |m|/|k_p - k_s - k_i|"},
    "intensity": {"long_name": "|O|^2", "units": "1", "description": "4 h (Boyd-Kleinman)"},
    "brightness": {"long_name": "pair brightness 4|O|^2/(A+ B+)", "units": "1",
                   "formula": "4 |O|^2/(A+ B+)",
                   "description": "pairs per unit phi (bandwidth) in the collected modes, per "
                                  "pump power and up to constants; equals |O|^2 for equal "
                                  "foci"},
    "h_m": {"long_name": "Boyd-Kleinman h maximised over sigma", "units": "1"},
    "sigma_m": {"long_name": "optimal Boyd-Kleinman sigma = -phi_m/(2 xi)", "units": "1"},
    "phi_m": {"long_name": "optimal phase mismatch", "units": "rad"},
    "h_mm": {"long_name": "Boyd-Kleinman h maximised over sigma and xi", "units": "1"},
    "xi_m": {"long_name": "optimal focusing parameter xi", "units": "1"},
    "sigma_mm": {"long_name": "optimal Boyd-Kleinman sigma", "units": "1"},
    "jsa": {"long_name": JSA_LONG_NAME, "units": "s", "formula": JSA_FORMULA,
            "references": JSA_REFERENCES},
    "schmidt_coefficients": {"long_name": "Schmidt coefficient", "units": "1",
                             "formula": "lambda_k = s_k^2/sum s^2, s = svd(psi sqrt(w_s w_i))"},
    "schmidt_number": {"long_name": "Schmidt number", "units": "1",
                       "formula": "K = 1/sum lambda_k^2"},
    "purity": {"long_name": "heralded spectral purity", "units": "1", "formula": "P = 1/K"},
}


def attrs(quantity: str, **extra: Any) -> dict[str, Any]:
    """A fresh copy of :data:`QUANTITIES`' attrs of ``quantity``, updated with ``extra``."""
    return {**QUANTITIES[quantity], **extra}


def overlap_attrs(method: str, options: Mapping[str, float]) -> dict[str, str | float | int]:
    """DataArray attributes describing an overlap computed with ``method`` and ``options``."""
    attrs: dict[str, str | float | int] = {
        "long_name": OVERLAP_LONG_NAME,
        "units": "1",
        "formula": OVERLAP_FORMULA,
        "method": method,
        "references": REFERENCES,
        "xr_spdc_version": __version__,
    }
    attrs.update(options)
    return attrs


#: The result's attribute that records which coordinate plays each role, as CF's
#: "name: value" pairs ("phi: dk_L xi: xi mu: mu"), so every ``o.spdc`` method finds them.
#: A name that is not one plain word (spaces, quotes, colons, an empty name) is written as
#: a JSON string: ``phi: "dk L" xi: xi``; files written before that read the same.
INPUTS_ATTR = "xr_spdc_inputs"

_PAIR = re.compile(r'\s*([^\s:]+):\s+("(?:[^"\\]|\\.)*"|[^\s"]+)')


def _plain(name: str) -> bool:
    return bool(name) and not any(c.isspace() or c in ':"\\' for c in name)


def format_input_names(names: Mapping[str, str]) -> str:
    """``{"phi": "dk_L", "xi": "xi"}`` -> ``"phi: dk_L xi: xi"`` (the value of INPUTS_ATTR);
    a name with spaces or odd characters is JSON-quoted (``phi: "dk L"``)."""
    return " ".join(f"{role}: {name if _plain(name) else json.dumps(name)}"
                    for role, name in names.items())


def parse_input_names(recorded: str) -> dict[str, str]:
    """The inverse of :func:`format_input_names` (and the reader of older files).

    Raises
    ------
    ValueError
        ``recorded`` is not a sequence of ``role: name`` pairs.

    Examples
    --------
    >>> parse_input_names('phi: "dk L" xi: w')
    {'phi': 'dk L', 'xi': 'w'}
    """
    found: dict[str, str] = {}
    position = 0
    recorded = recorded.rstrip()
    while position < len(recorded):
        match = _PAIR.match(recorded, position)
        if match is None:
            raise ValueError(f"the {INPUTS_ATTR} attribute {recorded!r} is not a sequence of "
                             "'role: name' pairs; drop it, or pass the names explicitly")
        role, name = match.groups()
        found[role] = json.loads(name) if name.startswith('"') else name
        position = match.end()
    return found


def input_names(result: xr.DataArray) -> dict[str, str]:
    """Which coordinate of ``result`` plays each role ("phi", "xi", "mu").

    Read from the ``xr_spdc_inputs`` attribute that :func:`xr_spdc.overlap` writes; for a
    result without it (an older file, a hand-made DataArray), each role present as a
    coordinate of its own name.

    Examples
    --------
    >>> import xarray as xr
    >>> o = xr.DataArray([1.0], dims="dk_L", coords={"dk_L": [0.5]},
    ...                  attrs={INPUTS_ATTR: "phi: dk_L xi: w"})
    >>> input_names(o)
    {'phi': 'dk_L', 'xi': 'w'}
    >>> input_names(xr.DataArray([1.0], dims="phi", coords={"phi": [0.5]}))
    {'phi': 'phi'}
    """
    recorded = result.attrs.get(INPUTS_ATTR)
    if isinstance(recorded, str) and recorded.strip():
        return parse_input_names(recorded)
    return {role: role for role in INPUT_ATTRS if role in result.coords}


class MissingCoordinateError(ValueError, KeyError):
    """A coordinate a computation needs is missing (a ValueError; also a KeyError, which
    older code caught)."""

    def __str__(self) -> str:  # KeyError's str() would quote the message
        return str(self.args[0]) if self.args else ""


def require_coords(obj: xr.DataArray | xr.Dataset, names: Mapping[str, str],
                   what: str) -> None:
    """Raise :class:`MissingCoordinateError` naming the first role whose coordinate
    ``obj`` lacks (``names``: role -> coordinate name)."""
    for role, name in names.items():
        if name not in obj.coords:
            raise MissingCoordinateError(
                f"{what}: the {kind_of(obj) or 'array'} has no coordinate {name!r} for "
                f"{role} (it has {list(map(str, obj.coords))}); pass {role}='<name>' with "
                "the coordinate that holds it")


#: What each kind of result is, for :func:`require_role`'s messages.
KINDS = {
    "overlap": "an overlap O (from xr_spdc.overlap or ds.spdc.overlap)",
    "h": "a focusing function h (from xr_spdc.focusing or o.spdc.h())",
    "jsa": "a joint spectral amplitude (from xr_spdc.spectrum.joint_spectrum)",
    "integral": "an integral (from xr_spdc.integrate)",
}


def kind_of(obj: object) -> str | None:
    """Which kind of xr_spdc result ``obj`` is (a key of :data:`KINDS`), or None for
    anything else (a hand-made DataArray, an input)."""
    if not isinstance(obj, xr.DataArray):
        return None
    long_name = str(obj.attrs.get("long_name", ""))
    if obj.name == "overlap" or long_name == OVERLAP_LONG_NAME:
        return "overlap"
    if long_name.startswith(H_LONG_NAME):
        return "h"
    if obj.name == "jsa" or long_name == JSA_LONG_NAME:
        return "jsa"
    if "integrand" in obj.attrs and long_name.startswith("integral of"):
        return "integral"
    return None


def require_role(obj: object, kind: str, what: str) -> None:
    """Refuse an xr_spdc result of another kind than ``kind`` where ``what`` needs one.

    Arrays that are no xr_spdc result (hand-made, or from older files without the attrs)
    pass: only a result known to be of another kind is refused.

    Raises
    ------
    ValueError
        E.g. ``o.spdc.h()`` on an h: "h (boyd_kleinman) needs an overlap O ..., but was
        given a focusing function h ...".

    Examples
    --------
    >>> import xarray as xr
    >>> h = xr.DataArray(0.5, name="h", attrs={"long_name": H_LONG_NAME})
    >>> require_role(h, "overlap", "o.spdc.h()")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: o.spdc.h() needs an overlap O (...), but was given 'h', a focusing function h ...
    """
    given = kind_of(obj)
    if given is not None and given != kind:
        raise ValueError(f"{what} needs {KINDS[kind]}, but was given "
                         f"{getattr(obj, 'name', None)!r}, {KINDS[given]}")


def refuse_result_as_input(da: xr.DataArray, role: str) -> None:
    """Refuse an xr_spdc result (an overlap, h, a JSA) passed as the input ``role``."""
    given = kind_of(da)
    if given is not None and role in INPUT_ATTRS:
        raise ValueError(f"{role} was given {da.name!r}, {KINDS[given]}, not an input: "
                         f"{role} needs its {INPUT_ATTRS[role]['long_name']} (pass the "
                         f"coordinate that holds it, e.g. {role}=result[{role!r}])")


def label_inputs(result: xr.DataArray, names: Mapping[str, str]) -> xr.DataArray:
    """Give the input coordinates ``long_name`` and ``units`` where they have none.

    ``names`` maps each role ("phi", "xi", "mu") to the coordinate that plays it; other
    roles (a user's integrand parameters) are left as they are.
    """
    result = result.copy(deep=False)  # new attrs dicts: the caller's keep theirs untouched
    for role, name in names.items():
        if name in result.coords and role in INPUT_ATTRS:
            # In place on the copy: assigning a MultiIndex level (a stacked input) anew
            # would corrupt its index.
            attrs = result.coords[name].attrs
            for key, value in INPUT_ATTRS[role].items():
                attrs.setdefault(key, value)
    return result


_F = TypeVar("_F", bound=Callable[..., Any])


def renamed(**old_to_new: str) -> Callable[[_F], _F]:
    """Keep renamed keyword parameters working for one release: ``@renamed(xi_p="pump_focus")``
    maps ``xi_p=`` to ``pump_focus=`` with a DeprecationWarning naming the new spelling.

    Examples
    --------
    >>> import warnings
    >>> @renamed(old="new")
    ... def f(new=0):
    ...     return new
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     f(old=3), str(caught[0].message)
    (3, 'f: the parameter old= is renamed new=; the old spelling works until the next release')
    """
    def decorate(func: _F) -> _F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{func.__name__}: pass {new}= only ({old}= is its "
                                        "old, deprecated spelling)")
                    warnings.warn(f"{func.__name__}: the parameter {old}= is renamed {new}=; "
                                  "the old spelling works until the next release",
                                  DeprecationWarning, stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)
        return cast(_F, wrapper)
    return decorate


# ------------------------------------------------------------- fibre coupling and rates

COUPLING_REFERENCES = (
    "R. S. Bennink, Phys. Rev. A 81, 053805 (2010); C. Smirr et al., J. Opt. Soc. Am. B 30, "
    "288 (2013); P. Kolenderski, W. Wasilewski and K. Banaszek, Phys. Rev. A 80, 013811 "
    "(2009); xr_spdc docs/physics/coupling.md")

#: The labels of fiber_coupling's outputs.
COUPLING_OUTPUT_ATTRS: dict[str, dict[str, str]] = {
    "pair": {"long_name": "pair probability into both fibre modes P2", "units": "m-2",
             "formula": "P2 = |integral u_s u_i Psi d2q_s d2q_i|^2 (docs/physics/coupling.md "
                        "Eqs. 2, 6)"},
    "signal_singles": {"long_name": "signal in its fibre, idler anywhere P1s", "units": "m-2",
                       "formula": "P1s = integral d2q_i |integral u_s Psi d2q_s|^2 "
                                  "(docs/physics/coupling.md Eq. 11)"},
    "idler_singles": {"long_name": "idler in its fibre, signal anywhere P1i", "units": "m-2",
                      "formula": "P1i = integral d2q_s |integral u_i Psi d2q_i|^2"},
    "signal_heralding": {"long_name": "signal heralding efficiency eta_s", "units": "1",
                         "formula": "eta_s = P2/P1i: the signal in its fibre given the idler "
                                    "detected in its own"},
    "idler_heralding": {"long_name": "idler heralding efficiency eta_i", "units": "1",
                        "formula": "eta_i = P2/P1s: the idler in its fibre given the signal "
                                   "detected in its own"},
    "symmetric_heralding": {"long_name": "symmetric heralding efficiency", "units": "1",
                            "formula": "P2/sqrt(P1s P1i)"},
}

#: The labels of the lab's inputs of fiber_coupling and source_rates (one home).
SOURCE_INPUT_ATTRS: dict[str, dict[str, str]] = {
    **{f"{b}_wavelength": {"long_name": f"{b} vacuum wavelength", "units": "m"}
       for b in ("pump", "signal", "idler")},
    **{f"{b}_index": {"long_name": f"{b} refractive index", "units": "1"}
       for b in ("pump", "signal", "idler")},
    **{f"{b}_waist": {"long_name": f"{b} waist (1/e2 intensity radius)", "units": "m"}
       for b in ("pump", "signal", "idler")},
    **{f"{b}_focus": {"long_name": f"{b} focal plane from the crystal centre", "units": "m"}
       for b in ("pump", "signal", "idler")},
    "length": {"long_name": "crystal length", "units": "m"},
    "phi": {"long_name": "phase mismatch", "units": "rad"},
    # the lab's inputs of xr_spdc.crystals.source_rates
    "pump": {"long_name": "pump vacuum wavelength", "units": "m"},
    "signal": {"long_name": "signal vacuum wavelength", "units": "m"},
    "temperature": {"long_name": "crystal temperature", "units": "degC"},
    "poling_period": {"long_name": "poling period", "units": "m"},
    "pump_power": {"long_name": "pump power (average)", "units": "W"},
    "d_eff": {"long_name": "nonlinear coefficient of the unpoled crystal", "units": "m V-1"},
    "pump_bandwidth": {"long_name": "pump FWHM bandwidth (in wavelength)", "units": "m"},
    "signal_efficiency": {"long_name": "signal arm efficiency", "units": "1"},
    "idler_efficiency": {"long_name": "idler arm efficiency", "units": "1"},
}
