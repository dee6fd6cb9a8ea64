"""Names, units and formulas that label results, in one place (netCDF-safe: str and numbers).

CF has no standard names for these quantities, so ``long_name`` and ``units`` (UDUNITS:
"rad", and "1" for dimensionless) carry the meaning; ``.plot()`` uses both for axis labels.
"""

from __future__ import annotations

from collections.abc import Mapping

import xarray as xr

from .._version import __version__

#: Attributes given to each input coordinate that has none of its own.
INPUT_ATTRS: dict[str, dict[str, str]] = {
    "phi": {"long_name": "phase mismatch", "units": "rad"},
    "xi": {"long_name": "aggregate focus", "units": "1"},
    "mu": {"long_name": "focal displacement", "units": "1",
           "comment": "in units of L/2: the crystal spans l = 2z/L from -1-mu to 1-mu, z from "
                      "the focus, so the focus lies mu*L/2 beyond the crystal's centre"},
    # Boyd and Kleinman's parameters (xr_spdc.focusing).
    "sigma": {"long_name": "Boyd-Kleinman phase parameter sigma = -phi/(2 xi)", "units": "1"},
    "B": {"long_name": "walk-off parameter B", "units": "1"},
    "kappa": {"long_name": "absorption parameter kappa", "units": "1"},
}

OVERLAP_FORMULA = "O = sqrt(xi) * integral_{-1-mu}^{1-mu} exp(i*phi*l/2) / (1 - i*xi*l) dl"

REFERENCES = ("R. S. Bennink, Phys. Rev. A 81, 053805 (2010); "
              "G. D. Boyd and D. A. Kleinman, J. Appl. Phys. 39, 3597 (1968)")


FOCUSING_FORMULA = ("h = 1/(4 xi) * double integral_a^b dtau dtau' exp(-kappa (tau + tau') "
                    "+ i sigma (tau - tau') - (B^2/xi) (tau - tau')^2) / ((1 + i tau)(1 - i "
                    "tau')), a = -xi (1 + mu), b = xi (1 - mu) (mu as for the overlap; Boyd and "
                    "Kleinman's own mu is -mu)")
FOCUSING_REFERENCES = ("G. D. Boyd and D. A. Kleinman, J. Appl. Phys. 39, 3597 (1968); "
                       "R. S. Bennink, Phys. Rev. A 81, 053805 (2010)")


def overlap_attrs(method: str, options: Mapping[str, float]) -> dict[str, str | float | int]:
    """DataArray attributes describing an overlap computed with ``method`` and ``options``."""
    attrs: dict[str, str | float | int] = {
        "long_name": "spatial-mode overlap",
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
INPUTS_ATTR = "xr_spdc_inputs"


def format_input_names(names: Mapping[str, str]) -> str:
    """``{"phi": "dk_L", "xi": "xi"}`` -> ``"phi: dk_L xi: xi"`` (the value of INPUTS_ATTR)."""
    return " ".join(f"{role}: {name}" for role, name in names.items())


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
        words = recorded.split()
        return {role.rstrip(":"): name for role, name in zip(words[::2], words[1::2],
                                                              strict=False)}
    return {role: role for role in INPUT_ATTRS if role in result.coords}


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
