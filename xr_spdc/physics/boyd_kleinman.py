"""Boyd and Kleinman's focusing function h from a computed overlap.

Boyd & Kleinman, J. Appl. Phys. 39, 3597 (1968), without walk-off (B = 0):

    h(σ, ξ, μ) = 1/(4ξ) |∫_{−ξ(1−μ)}^{ξ(1+μ)} e^{iσt}/(1+it) dt|²  =  |O(φ, ξ, μ)|² / 4,

with σ = −φ/(2ξ) (so φ < 0 means σ > 0), and μ the focal displacement with the same sign
convention as :func:`xr_spdc.overlap` (limits −1−μ … 1−μ; |O| is even in μ).
"""

from __future__ import annotations

import xarray as xr

from ..labelled.names import (
    H_ATTRS,
    SIGMA_ATTRS,
    input_names,
    require_coords,
    require_role,
)

#: Boyd and Kleinman's optimum, h_mm = 1.068 at ξ = 2.84, σ = 0.57 (published); these are
#: the digits refined with mpmath (:func:`xr_spdc.find_optimum` finds them;
#: tests/test_optimum.py checks both).
H_MM = 1.0677249747653114
SIGMA_M = 0.5735887545232851
XI_M = 2.8375191194941384

def boyd_kleinman(overlap: xr.DataArray, *, phi: str | None = None, xi: str | None = None
                  ) -> xr.DataArray:
    """Boyd and Kleinman's h = |O|²/4, with their σ = −φ/(2ξ) as a coordinate.

    Parameters
    ----------
    overlap : xarray.DataArray
        An overlap from :func:`xr_spdc.overlap` (complex; lazy dask input stays lazy).
    phi, xi : str, optional
        Names of the coordinates holding φ and ξ; by default those the overlap recorded
        (:func:`xr_spdc.labels.input_names`), e.g. "dk_L" after ``overlap(phi="dk_L")``.

    Returns
    -------
    xarray.DataArray
        Named "h", real, the same dims and coords as ``overlap`` plus ``sigma`` (over the
        dims of φ and ξ), with long_name and units.

    Raises
    ------
    ValueError
        ``overlap`` is another kind of xr_spdc result (an h, a joint spectrum), or has no
        coordinate ``phi`` or ``xi`` (:class:`xr_spdc.labelled.names.MissingCoordinateError`,
        also a KeyError).

    Examples
    --------
    >>> import xarray as xr, xr_spdc
    >>> from xr_spdc.boyd_kleinman import H_MM
    >>> o = xr_spdc.overlap(phi=-3.2551381153733029, xi=2.8375191194941384)
    >>> h = boyd_kleinman(o)
    >>> round(float(h), 10), round(float(h.sigma), 10)
    (1.0677249748, 0.5735887545)
    """
    if not isinstance(overlap, xr.DataArray):
        raise TypeError(f"boyd_kleinman needs an overlap DataArray, not "
                        f"{type(overlap).__name__}")
    require_role(overlap, "overlap", "h (boyd_kleinman, o.spdc.h())")
    recorded = input_names(overlap)
    phi = phi or recorded.get("phi", "phi")
    xi = xi or recorded.get("xi", "xi")
    require_coords(overlap, {"phi": phi, "xi": xi}, "h (boyd_kleinman)")
    sigma = (-overlap[phi] / (2 * overlap[xi])).reset_coords(drop=True)
    h = (abs(overlap) ** 2 / 4).rename("h")
    h.attrs = dict(H_ATTRS)
    return h.assign_coords(sigma=sigma.assign_attrs(SIGMA_ATTRS))
