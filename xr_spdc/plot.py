"""Figures that label themselves: |O|² as a labelled DataArray, and Bennink's Fig. 1.

matplotlib is used through xarray's ``.plot``; nothing here picks a backend or shows a
window, so it runs headless (Agg) as well as in a notebook.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import xarray as xr

from .boyd_kleinman import SIGMA_M, XI_M

INTENSITY_ATTRS = {"long_name": "|O|²", "units": "1"}


class ClassicFigure(NamedTuple):
    """What :func:`plot_classic` drew."""

    figure: Any
    axes: Any
    mesh: Any
    colorbar: Any
    optimum: Any


def intensity(overlap: xr.DataArray) -> xr.DataArray:
    """|O|², named and labelled for plots (``abs(o)**2`` would keep the overlap's label).

    Examples
    --------
    >>> import xarray as xr, xr_spdc
    >>> o = xr.Dataset(coords={"phi": [0.0], "xi": [1.0]}).spdc.overlap()
    >>> i = intensity(o)
    >>> i.name, i.attrs["long_name"], round(float(i[0, 0]), 12)  # (pi/2)^2
    ('overlap_intensity', '|O|²', 2.467401100272)
    """
    out = (abs(overlap) ** 2).rename("overlap_intensity")
    out.attrs = dict(INTENSITY_ATTRS)
    return out


def plot_classic(overlap: xr.DataArray, *, phi: str = "phi", xi: str = "xi", ax: Any = None,
                 mark_optimum: bool = True, **kwargs: Any) -> ClassicFigure:
    """Bennink's Fig. 1: |O|² over φ/π (x) and log₁₀ ξ (y), with the optimum marked.

    Parameters
    ----------
    overlap : xarray.DataArray
        An overlap on a grid: ``phi`` and ``xi`` coordinates on two dims (either order).
    phi, xi : str
        Names of the coordinates holding φ and ξ.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure).
    mark_optimum : bool
        Mark Boyd and Kleinman's optimum (ξ = 2.8375, φ = −1.0361π; the centred case).
    **kwargs
        Passed to ``DataArray.plot.pcolormesh`` (e.g. ``cmap``).

    Returns
    -------
    ClassicFigure
        figure, axes, mesh, colorbar and the optimum's marker (None when not marked).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np, xarray as xr, xr_spdc
    >>> ds = xr.Dataset(coords={"phi": np.linspace(-7, 3, 50) * np.pi,
    ...                         "xi": np.logspace(-1.5, 2.5, 40)})
    >>> drawn = plot_classic(ds.spdc.overlap())
    >>> drawn.axes.get_xlabel(), drawn.colorbar.ax.get_ylabel()
    ('phase mismatch φ/π', '|O|² [1]')
    """
    import matplotlib.pyplot as plt

    for name in (phi, xi):
        if name not in overlap.coords or overlap[name].ndim != 1:
            raise ValueError(f"plot_classic needs a 1-D coordinate {name!r} on a grid; the "
                             f"overlap has coords {list(map(str, overlap.coords))}")
    values = intensity(overlap).assign_coords(
        phi_over_pi=(overlap[phi] / np.pi).assign_attrs(long_name="phase mismatch φ/π",
                                                        units=""),
        log10_xi=np.log10(overlap[xi]).assign_attrs(long_name="log₁₀ aggregate focus ξ",
                                                    units=""))
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 5), layout="constrained")
    kwargs.setdefault("cmap", "viridis")
    mesh = values.plot.pcolormesh(x="phi_over_pi", y="log10_xi", ax=ax, **kwargs)
    ax.set_xlabel("phase mismatch φ/π")
    ax.set_ylabel("log₁₀ aggregate focus ξ")
    ax.set_title("SPDC spatial-mode overlap |O(φ, ξ)|² (Bennink 2010, Fig. 1)")
    marker = None
    if mark_optimum:
        (marker,) = ax.plot([-2 * XI_M * SIGMA_M / np.pi], [np.log10(XI_M)], marker="x",
                            color="red", markersize=10, linestyle="none",
                            label="optimum: ξ = 2.84, φ = −1.04π, |O|² = 4.27")
        ax.legend(loc="lower left")
    return ClassicFigure(ax.figure, ax, mesh, mesh.colorbar, marker)
