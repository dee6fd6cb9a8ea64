"""Figures that label themselves: |O|² as a labelled DataArray, and Bennink's Fig. 1.

matplotlib is used through xarray's ``.plot``.  Nothing here selects a backend, imports
``matplotlib.pyplot`` at import time, or calls ``plt.show()``: it runs headless (Agg, e.g.
``MPLBACKEND=Agg``) as well as in a notebook.  Save or show the returned figure yourself.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import xarray as xr

from .labelled.names import input_names

if TYPE_CHECKING:
    from .physics.optimum import Optimum

INTENSITY_NAME = "overlap_intensity"
INTENSITY_ATTRS = {"long_name": "|O|²", "units": "1"}
X_LABEL = "phase mismatch φ/π"
Y_LABEL = "log₁₀ aggregate focus ξ"


class ClassicFigure(NamedTuple):
    """What :func:`plot_classic` drew."""

    figure: Any
    """The matplotlib Figure."""
    axes: Any
    """The Axes holding the mesh."""
    mesh: Any
    """The QuadMesh of |O|² (``mesh.get_array()`` holds the values)."""
    colorbar: Any
    """The Colorbar, or None with ``add_colorbar=False``."""
    optimum: Any
    """The optimum's Line2D marker, or None when not marked."""


@functools.lru_cache(maxsize=16)
def _optimum(mu: float) -> Optimum:
    # |O| is even in mu; an Optimum is frozen, so sharing it is safe.  Imported here:
    # optimum needs scipy.optimize, which plotting without a marker does not.
    from .physics.optimum import find_optimum

    return find_optimum(abs(mu))


def intensity(overlap: xr.DataArray) -> xr.DataArray:
    """|O|² as a DataArray that labels its own plots.

    Parameters
    ----------
    overlap : xarray.DataArray
        An overlap (complex); not modified.

    Returns
    -------
    xarray.DataArray
        ``abs(overlap)**2``, float64, named "overlap_intensity" with ``long_name`` "|O|²"
        and ``units`` "1"; dims and coords (with their attrs) as the overlap's.  (Plain
        ``abs(o)**2`` would keep the overlap's name and attrs, mislabelling the plot.)

    Examples
    --------
    >>> import xarray as xr, xr_spdc
    >>> o = xr.Dataset(coords={"phi": [0.0], "xi": [1.0]}).spdc.overlap()
    >>> i = intensity(o)
    >>> i.name, i.attrs["long_name"], round(float(i[0, 0]), 12)  # (pi/2)^2
    ('overlap_intensity', '|O|²', 2.467401100272)
    """
    out = (abs(overlap) ** 2).rename(INTENSITY_NAME)
    out.attrs = dict(INTENSITY_ATTRS)
    return out


def _grid(overlap: xr.DataArray, phi: str, xi: str) -> xr.DataArray:
    """The overlap as a 2-D grid over phi's and xi's dims, or a ValueError saying why not."""
    for name in (phi, xi):
        if name not in overlap.coords or overlap[name].ndim != 1:
            raise ValueError(f"plot_classic needs a 1-D coordinate {name!r} on a grid; the "
                             f"overlap has coords {list(map(str, overlap.coords))}")
    phi_dim, xi_dim = overlap[phi].dims[0], overlap[xi].dims[0]
    if phi_dim == xi_dim:
        raise ValueError(f"plot_classic needs {phi!r} and {xi!r} on two dims (a grid), but "
                         f"both lie along {phi_dim!r}")
    other = {d: n for d, n in overlap.sizes.items() if d not in (phi_dim, xi_dim)}
    if any(n > 1 for n in other.values()):
        raise ValueError(f"plot_classic draws one (phi, xi) grid; select along the other "
                         f"dims first, e.g. overlap.isel({next(iter(other))}=0); sizes: "
                         f"{dict(overlap.sizes)}")
    return overlap.squeeze(list(other))


def _scalar_mu(overlap: xr.DataArray, mu: str) -> float | None:
    """The one focal displacement of ``overlap`` (0 without a ``mu`` coordinate), or None
    when it takes several values."""
    if mu not in overlap.coords:
        return 0.0
    value = overlap[mu]
    return float(value.values.reshape(-1)[0]) if value.size == 1 else None


def _title(mu: float | None) -> str:
    """Bennink's Fig. 1 is the centred focus; a displaced one is not that figure."""
    if mu == 0:
        return "SPDC spatial-mode overlap |O(φ, ξ)|² (Bennink 2010, Fig. 1)"
    where = "μ varies" if mu is None else f"μ = {mu:g}"
    return f"SPDC spatial-mode overlap |O(φ, ξ)|², displaced focus, {where}"


def plot_classic(overlap: xr.DataArray, *, phi: str | None = None, xi: str | None = None,
                 mu: str | None = None, ax: Any = None, mark_optimum: bool = True,
                 **kwargs: Any) -> ClassicFigure:
    """Bennink's Fig. 1: |O|² over φ/π (x) and log₁₀ ξ (y), with the optimum marked.

    Parameters
    ----------
    overlap : xarray.DataArray
        An overlap on a grid: 1-D ``phi`` and ``xi`` coordinates on two dims, either order
        (other dims must have size 1).
    phi, xi : str, optional
        Names of the coordinates holding φ (rad) and ξ (> 0).  By default those the
        overlap recorded (:func:`xr_spdc.labels.input_names`, e.g. after
        ``overlap(phi="dk_L")``), else "phi" and "xi".
    mu : str, optional
        Name of the (scalar) coordinate holding the focal displacement μ (in units of L/2;
        the focus lies μL/2 beyond the crystal's centre), found likewise; none means 0.
        The optimum marked is that of this μ, and only a centred focus (μ = 0) is titled
        Bennink's Fig. 1.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new 7 × 5 in figure).
    mark_optimum : bool
        Mark the maximum of |O|² from :func:`xr_spdc.find_optimum` (ξ* = 2.8375,
        φ* = −1.0361π when centred) with a legend entry; skipped when it lies outside the
        plotted ranges.
    **kwargs
        Passed to ``DataArray.plot.pcolormesh`` (e.g. ``cmap``, ``vmax``,
        ``add_colorbar=False``).

    Returns
    -------
    ClassicFigure
        figure, axes, mesh, colorbar and the optimum's marker (None when not marked).

    Raises
    ------
    ValueError
        ``phi``/``xi`` missing, not 1-D, or on the same dim (points, not a grid); other
        dims longer than 1; ``mu`` not scalar when the optimum is to be marked.

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
    >>> [round(float(v[0]), 4) for v in drawn.optimum.get_data()]  # φ*/π, log10 ξ*
    [-1.0361, 0.4529]
    """
    import matplotlib.pyplot as plt  # here, not at import: importing must not pick a backend

    recorded = input_names(overlap)
    phi = phi or recorded.get("phi", "phi")
    xi = xi or recorded.get("xi", "xi")
    mu = mu or recorded.get("mu", "mu")
    grid = _grid(overlap, phi, xi)
    displacement = _scalar_mu(grid, mu)
    if mark_optimum and displacement is None:
        raise ValueError(f"plot_classic marks the optimum for one focal displacement; "
                         f"{mu!r} has {grid[mu].size} values (or pass mark_optimum=False)")
    values = intensity(grid).assign_coords(
        phi_over_pi=(grid[phi] / np.pi).assign_attrs(long_name=X_LABEL, units=""),
        log10_xi=xr.apply_ufunc(np.log10, grid[xi]).assign_attrs(long_name=Y_LABEL,
                                                                   units=""))
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 5), layout="constrained")
    kwargs.setdefault("cmap", "viridis")
    mesh = values.plot.pcolormesh(x="phi_over_pi", y="log10_xi", ax=ax, **kwargs)
    ax.set_xlabel(X_LABEL)
    ax.set_ylabel(Y_LABEL)
    ax.set_title(_title(displacement))
    marker = None
    if mark_optimum and displacement is not None:
        best = _optimum(displacement)
        x, y = best.phi / np.pi, np.log10(best.xi)
        (x_lo, x_hi), (y_lo, y_hi) = ax.get_xlim(), ax.get_ylim()
        if min(x_lo, x_hi) <= x <= max(x_lo, x_hi) and min(y_lo, y_hi) <= y <= max(y_lo, y_hi):
            (marker,) = ax.plot([x], [y], marker="x", color="red", markersize=10,
                                markeredgewidth=2, linestyle="none",
                                label=f"optimum: ξ = {best.xi:.3g}, φ = {x:.3g}π, "
                                      f"|O|² = {best.overlap_sq:.3g}")
            ax.legend(loc="lower left")
    return ClassicFigure(ax.figure, ax, mesh, mesh.colorbar, marker)


def plot_walkoff_optimum(per_xi: xr.Dataset, best: xr.Dataset | None = None) -> Any:
    """Boyd and Kleinman's figures: h_m(ξ) per B (log–log), and h_mm(B), ξ_m(B).

    Parameters
    ----------
    per_xi : xarray.Dataset
        ``h_m`` over dims (``B``, ``xi``), e.g. :func:`xr_spdc.optimum_per_xi` for several B
        concatenated along ``B``.
    best : xarray.Dataset, optional
        :func:`xr_spdc.walkoff_optimum` over ``B``: adds a second panel with h_mm(B) and ξ_m(B)
        (log axes) and the large-B law 0.712/B.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from .physics.optimum import H_INF, XI_INF

    panels = 1 if best is None else 2
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 4.5), squeeze=False)
    ax = axes[0, 0]
    for b in per_xi["B"].values:
        line = per_xi.h_m.sel(B=b)
        ax.loglog(line[line.dims[-1]].values, line.values, label=f"B = {b:g}")
    ax.set_xlabel("focusing parameter ξ = L/b")
    ax.set_ylabel("h_m(ξ, B) = max over σ of h")
    ax.set_title("Boyd–Kleinman h_m(ξ) with walk-off")
    ax.legend(fontsize="small")
    ax.grid(True, which="both", alpha=0.3)
    if best is not None:
        ax = axes[0, 1]
        positive = best.B.values > 0
        b = best.B.values[positive]
        ax.loglog(b, best.h_mm.values[positive], "o-", label="h_mm(B)")
        ax.loglog(b, best.xi_m.values[positive], "s-", label="ξ_m(B)")
        ax.loglog(b, H_INF / b, "k--", label=f"large-B law {H_INF:.4f}/B")
        ax.axhline(XI_INF, color="gray", ls=":", label=f"ξ_m → {XI_INF:.4f}")
        ax.set_xlabel("walk-off parameter B")
        ax.set_title("optimum over σ and ξ")
        ax.legend(fontsize="small")
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    return fig
