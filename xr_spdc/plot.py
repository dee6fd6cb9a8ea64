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

from .labelled.names import input_names, kind_of, require_role

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
    line: Any = None
    """The Line2D of a cut (only φ or only ξ varies), else None."""


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

    Raises
    ------
    ValueError
        ``overlap`` does not hold numbers (e.g. strings).

    Examples
    --------
    >>> import xarray as xr, xr_spdc
    >>> o = xr.Dataset(coords={"phi": [0.0], "xi": [1.0]}).spdc.overlap()
    >>> i = intensity(o)
    >>> i.name, i.attrs["long_name"], round(float(i[0, 0]), 12)  # (pi/2)^2
    ('overlap_intensity', '|O|²', 2.467401100272)
    """
    require_role(overlap, "overlap", "intensity (o.spdc.intensity())")
    if not np.issubdtype(overlap.dtype, np.number) or np.issubdtype(overlap.dtype,
                                                                      np.timedelta64):
        raise ValueError(f"intensity needs an overlap of numbers (complex128 from "
                         f"xr_spdc.overlap), not a DataArray {overlap.name!r} of dtype "
                         f"{overlap.dtype}")
    out = (abs(overlap) ** 2).rename(INTENSITY_NAME)
    out.attrs = dict(INTENSITY_ATTRS)
    return out


class _Kind(NamedTuple):
    """What is drawn: the plotted values and whether the no-walk-off optimum belongs on it."""

    values: xr.DataArray
    markable: bool


def _kind(da: xr.DataArray) -> _Kind:
    """|O|² of an overlap, or h itself; anything else is refused, saying what is needed."""
    kind = kind_of(da)  # a known xr_spdc result, else judged by name and dtype
    if kind == "overlap" or (kind is None and np.issubdtype(da.dtype, np.complexfloating)
                             and da.name != "jsa"):
        return _Kind(intensity(da), True)
    if kind == "h" or (kind is None and da.name == "h"
                       and np.issubdtype(da.dtype, np.floating)):
        # Boyd-Kleinman's optimum is that of h without walk-off and absorption.
        plain = all(role not in da.coords or bool((da[role] == 0).all())
                    for role in ("B", "kappa")) and not any(
            da.attrs.get(role, 0) for role in ("B", "kappa"))
        return _Kind(da, plain)
    raise ValueError(
        f"plot_classic draws an overlap (complex, from xr_spdc.overlap) or Boyd-Kleinman's h "
        f"(from .spdc.h() or xr_spdc.focusing) over φ and ξ; got a DataArray named "
        f"{da.name!r} of dtype {da.dtype} with dims {tuple(map(str, da.dims))}"
        + ("; plot a joint spectrum with abs(jsa)**2 and .plot()" if da.name == "jsa" else ""))


def _axis(da: xr.DataArray, name: str) -> str | None:
    """The dim a 1-D coordinate ``name`` lies along with more than one value, else None."""
    if name not in da.coords or da[name].ndim != 1 or da[name].size < 2:
        return None
    return str(da[name].dims[0])


def _check_xi(da: xr.DataArray, xi: str) -> None:
    if xi in da.coords and np.issubdtype(da[xi].dtype, np.number):
        bad = ~(np.asarray(da[xi].values) > 0)
        if bad.any():
            shown = ", ".join(f"{v:g}" for v in np.asarray(da[xi].values)[bad][:5])
            raise ValueError(f"plot_classic draws log10 of the aggregate focus {xi!r}, which "
                             f"must be positive; it holds {shown}")


def _grid(values: xr.DataArray, dims: tuple[str, ...]) -> xr.DataArray:
    """``values`` over ``dims`` only, other dims (of size 1) squeezed, or a ValueError."""
    other = {d: n for d, n in values.sizes.items() if d not in dims}
    if any(n > 1 for n in other.values()):
        raise ValueError(f"plot_classic draws one (phi, xi) grid; select along the other "
                         f"dims first, e.g. overlap.isel({next(iter(other))}=0); sizes: "
                         f"{dict(values.sizes)}")
    return values.squeeze(list(other))


def _scalar_mu(overlap: xr.DataArray, mu: str) -> float | None:
    """The one focal displacement of ``overlap`` (0 without a ``mu`` coordinate), or None
    when it takes several values."""
    if mu not in overlap.coords:
        return 0.0
    value = overlap[mu]
    return float(value.values.reshape(-1)[0]) if value.size == 1 else None


def _title(mu: float | None, what: str = "SPDC spatial-mode overlap |O(φ, ξ)|²") -> str:
    """Bennink's Fig. 1 is the centred focus; a displaced one is not that figure."""
    if mu == 0:
        return f"{what} (Bennink 2010, Fig. 1)" if "|O" in what else what
    where = "μ varies" if mu is None else f"μ = {mu:g}"
    return f"{what}, displaced focus, {where}"


def _fixed(da: xr.DataArray, name: str, label: str, scale: float = 1.0) -> str:
    """', φ/π = -1' for a coordinate ``name`` that holds one value, else ''."""
    if name in da.coords and da[name].size == 1:
        return f", {label} = {float(da[name].values.reshape(-1)[0]) / scale:.4g}"
    return ""


def plot_classic(overlap: xr.DataArray, *, phi: str | None = None, xi: str | None = None,
                 mu: str | None = None, ax: Any = None, mark_optimum: bool = True,
                 **kwargs: Any) -> ClassicFigure:
    """Bennink's Fig. 1: |O|² over φ/π (x) and log₁₀ ξ (y), with the optimum marked.

    Also draws Boyd and Kleinman's h (``o.spdc.h()``, :func:`xr_spdc.focusing`) on the same
    axes, and a line where only one of φ and ξ varies (a cut of the figure).

    Parameters
    ----------
    overlap : xarray.DataArray
        An overlap (complex) or h (real, named "h") with 1-D ``phi`` and ``xi``
        coordinates on two dims, either order (other dims must have size 1); or with only
        one of them varying, drawn as a line over it (φ/π, or ξ on a log axis).
    phi, xi : str, optional
        Names of the coordinates holding φ (rad) and ξ (> 0).  By default those the
        overlap recorded (:func:`xr_spdc.labelled.names.input_names`, e.g. after
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
        plotted ranges, on a line, and for h with walk-off or absorption.
    **kwargs
        Passed to ``DataArray.plot.pcolormesh`` (e.g. ``cmap``, ``vmax``,
        ``add_colorbar=False``), or to ``DataArray.plot.line`` for a line.

    Returns
    -------
    ClassicFigure
        figure, axes, mesh, colorbar and the optimum's marker (None when not marked); for a
        line, ``line`` and no mesh or colorbar.

    Raises
    ------
    ValueError
        Neither ``phi`` nor ``xi`` varies; both lie on one dim (scattered points, not a
        grid); other dims longer than 1; ``xi`` not positive; ``mu`` not scalar when the
        optimum is to be marked; an array that is neither an overlap nor h.

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
    kind = _kind(overlap)
    _check_xi(overlap, xi)
    phi_dim, xi_dim = _axis(overlap, phi), _axis(overlap, xi)
    if phi_dim is None and xi_dim is None:
        raise ValueError(f"plot_classic draws |O|² over a 1-D coordinate {phi!r} (φ, rad) "
                         f"and/or {xi!r} (ξ) with more than one value; the array has coords "
                         f"{list(map(str, overlap.coords))} and sizes {dict(overlap.sizes)} "
                         "(pass phi=/xi= with the names used)")
    if phi_dim is not None and phi_dim == xi_dim:
        raise ValueError(f"plot_classic needs {phi!r} and {xi!r} on two dims (a grid), but "
                         f"both lie along {phi_dim!r} (scattered points): unstack them, or "
                         "draw o.spdc.intensity().plot.scatter(...)")
    values = kind.values.assign_coords(
        {"phi_over_pi": (kind.values[phi] / np.pi).assign_attrs(long_name=X_LABEL, units="")}
        if phi_dim is not None else {})
    if phi_dim is not None and xi_dim is not None:
        values = values.assign_coords(log10_xi=xr.apply_ufunc(np.log10, values[xi])
                                      .assign_attrs(long_name=Y_LABEL, units=""))
    grid = _grid(values, tuple(d for d in (phi_dim, xi_dim) if d is not None))
    displacement = _scalar_mu(grid, mu)
    what = ("SPDC spatial-mode overlap |O(φ, ξ)|²" if kind.values is not overlap
            else "Boyd–Kleinman focusing function h")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 5), layout="constrained")
    if phi_dim is None or xi_dim is None:  # a cut: one of φ and ξ varies
        return _line(grid, ax, phi if phi_dim is not None else xi, phi_dim is not None,
                     _title(displacement, what) + _fixed(grid, phi, "φ/π", np.pi)
                     + _fixed(grid, xi, "ξ"), kwargs)
    if mark_optimum and kind.markable and displacement is None:
        raise ValueError(f"plot_classic marks the optimum for one focal displacement; "
                         f"{mu!r} has {grid[mu].size} values (or pass mark_optimum=False)")
    kwargs.setdefault("cmap", "viridis")
    mesh = grid.plot.pcolormesh(x="phi_over_pi", y="log10_xi", ax=ax, **kwargs)
    ax.set_xlabel(X_LABEL)
    ax.set_ylabel(Y_LABEL)
    ax.set_title(_title(displacement, what))
    marker = None
    if mark_optimum and kind.markable and displacement is not None:
        marker = _mark(ax, _optimum(displacement))
    return ClassicFigure(ax.figure, ax, mesh, mesh.colorbar, marker)


def _line(grid: xr.DataArray, ax: Any, x: str, over_phi: bool, title: str,
          kwargs: dict[str, Any]) -> ClassicFigure:
    """A cut of the classic figure: the values over φ/π, or over ξ on a log axis."""
    (line,) = grid.plot.line(x="phi_over_pi" if over_phi else x, ax=ax, **kwargs)
    if over_phi:
        ax.set_xlabel(X_LABEL)
    else:
        ax.set_xscale("log")
    ax.set_title(title)
    return ClassicFigure(ax.figure, ax, None, None, None, line)


def _mark(ax: Any, best: Optimum) -> Any:
    """The optimum's marker and legend entry, or None when it lies outside the axes."""
    x, y = best.phi / np.pi, np.log10(best.xi)
    (x_lo, x_hi), (y_lo, y_hi) = ax.get_xlim(), ax.get_ylim()
    if not (min(x_lo, x_hi) <= x <= max(x_lo, x_hi) and min(y_lo, y_hi) <= y <= max(y_lo, y_hi)):
        return None
    (marker,) = ax.plot([x], [y], marker="x", color="red", markersize=10, markeredgewidth=2,
                        linestyle="none", label=f"optimum: ξ = {best.xi:.3g}, φ = {x:.3g}π, "
                                                f"|O|² = {best.overlap_sq:.3g}")
    ax.legend(loc="lower left")
    return marker


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
