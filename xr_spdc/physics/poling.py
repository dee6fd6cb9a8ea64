r"""Domain patterns as labelled data: periodic and apodized poling, their phase matching,
focused overlap and joint spectra (the labelled layer over :mod:`xr_spdc.numerics.poling`).

A pattern is an :class:`xarray.Dataset` with ``walls`` (dim ``wall``, metres, the faces
included, z = 0 the crystal centre, focus and phase reference) and ``signs`` (dim
``domain``, the sign or weight of d(z) in each domain), and its design in attrs; save it
with :func:`xr_spdc.to_netcdf` and reload it with :func:`xr_spdc.open_dataset`.

Conventions are :mod:`xr_spdc.numerics.poling`'s: Δk = k_p − k_s − k_i is the *material*
mismatch (the pattern supplies the grating: a period Λ phase-matches at Δk = +2π/Λ), the
PMF is normalised by L (|PMF| ≤ 1; a 50 % grating peaks at 2/π), and the focused overlap is
Bennink's O with d(z)'s sign inside, at Φ = Δk·L.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ..engine.methods import METHODS
from ..labelled import inputs
from ..labelled.route import evaluate
from ..numerics import poling as kernels
from .hom import C

PMF_FORMULA = ("PMF(dk) = (1/L) integral s(z) exp(i dk z) dz "
               "= (1/L) sum_k s_k w_k exp(i dk c_k) sinc(dk w_k/2)")
OVERLAP_FORMULA = ("O = sqrt(xi) integral_{-1-mu}^{1-mu} s(l) exp(i phi l/2)/(1 - i xi l) dl, "
                   "l = 2z/L - mu, phi = dk L")
REFERENCES = ("M. M. Fejer, G. A. Magel, D. H. Jundt and R. L. Byer, IEEE J. Quantum Electron. "
              "28, 2631 (1992); A. M. Branczyk, A. Fedrizzi, T. M. Stace, T. C. Ralph and A. G. "
              "White, Opt. Express 19, 55 (2011); F. Graffitti, D. Kundys, D. T. Reid, A. M. "
              "Branczyk and A. Fedrizzi, Quantum Sci. Technol. 2, 035001 (2017); J.-L. "
              "Tambasco et al., Opt. Express 24, 19616 (2016); R. S. Bennink, Phys. Rev. A 81, "
              "053805 (2010)")


# ---------------------------------------------------------------------------- patterns


def domain_pattern(walls: Any, signs: Any, *, design: str = "custom",
                   **attrs: Any) -> xr.Dataset:
    """A domain pattern as a Dataset: ``walls`` (m) and ``signs``, checked.

    Parameters
    ----------
    walls : array_like
        Domain walls z_0 < ... < z_N in metres, the faces included (z = 0: the crystal
        centre, focus and phase reference).
    signs : array_like
        Sign (±1, or any finite weight) of d(z) in each of the N domains.
    design : str, optional
        What made it (stored in attrs).
    **attrs
        Further attrs (numbers or strings: the design's parameters).

    Returns
    -------
    xarray.Dataset
        ``walls`` over ``wall`` and ``signs`` over ``domain``; attrs ``design``, ``length``.

    Raises
    ------
    ValueError
        If the walls are not finite and strictly increasing or the signs do not match.

    Examples
    --------
    >>> p = domain_pattern([-1e-3, 0.0, 1e-3], [1.0, -1.0])
    >>> p.sizes["domain"], p.attrs["length"]
    (2, 0.002)
    """
    z = np.asarray(walls.values if isinstance(walls, xr.DataArray) else walls, dtype=float)
    s = np.asarray(signs.values if isinstance(signs, xr.DataArray) else signs, dtype=float)
    kernels.phase_matching(0.0, z, s)  # checks the pattern, naming what is wrong
    return xr.Dataset(
        {"walls": ("wall", z, {"long_name": "domain wall position", "units": "m"}),
         "signs": ("domain", s, {"long_name": "sign of d(z)", "units": "1"})},
        attrs={"design": design, "length": float(z[-1] - z[0]), "references": REFERENCES,
               **attrs})


def _parts(pattern: Any) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(pattern, xr.Dataset) or not {"walls", "signs"} <= set(pattern):
        raise TypeError("pattern must be a Dataset with 'walls' and 'signs' (from "
                        "domain_pattern, periodic_pattern, duty_cycle_pattern or "
                        f"tracking_pattern), not {type(pattern).__name__}")
    return (np.asarray(pattern["walls"].values, dtype=float),
            np.asarray(pattern["signs"].values, dtype=float))


def periodic_pattern(length: float, period: float, *, duty_cycle: float = 0.5) -> xr.Dataset:
    """Periodic poling of period Λ on [−L/2, L/2] (:func:`xr_spdc.numerics.poling.periodic_poling`).

    Examples
    --------
    >>> p = periodic_pattern(3 * 10e-6, 10e-6)
    >>> p.signs.values.tolist()
    [-1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0]
    """
    walls, signs = kernels.periodic_poling(length, period, duty_cycle=duty_cycle)
    return domain_pattern(walls, signs, design="periodic", period=float(period),
                          duty_cycle=float(duty_cycle))


def duty_cycle_pattern(length: float, period: float, sigma: float, *,
                       min_domain: float = 0.0) -> xr.Dataset:
    """A Gaussian nonlinearity profile g(z) = e^{−z²/2σ²} by duty-cycle modulation
    (Brańczyk et al. 2011; :func:`xr_spdc.numerics.poling.duty_cycle_apodization`)."""
    walls, signs = kernels.duty_cycle_apodization(length, period, sigma, min_domain=min_domain)
    return domain_pattern(walls, signs, design="duty-cycle apodization (Branczyk 2011)",
                          period=float(period), sigma=float(sigma),
                          min_domain=float(min_domain))


def tracking_pattern(length: float, period: float, sigma: float, *,
                     domain_width: float | None = None, amplitude: float = 1.0,
                     track: Any = None) -> xr.Dataset:
    """A Gaussian PMF by domain-flip target tracking (Tambasco 2016; Graffitti et al.
    2017; :func:`xr_spdc.numerics.poling.tracking_apodization`)."""
    walls, signs = kernels.tracking_apodization(length, period, sigma,
                                                domain_width=domain_width,
                                                amplitude=amplitude, track=track)
    extra = {} if track is None else {"tracked_offsets": np.asarray(track, dtype=float)}
    return domain_pattern(walls, signs, design="domain tracking (Tambasco 2016, Graffitti "
                                               "2017)",
                          period=float(period), sigma=float(sigma), amplitude=float(amplitude),
                          domain_width=float(period / 2 if domain_width is None
                                             else domain_width), **extra)


# ---------------------------------------------------------------------------- functions


def _pmf_block(dk: np.ndarray, walls: np.ndarray, signs: np.ndarray) -> np.ndarray:
    return kernels.phase_matching(dk, walls, signs)


def pattern_phase_matching(pattern: xr.Dataset, delta_k: Any = None, *,
                           phi: Any = None) -> xr.DataArray:
    """The pattern's phase-matching function PMF(Δk), exact (one closed form per domain).

    Parameters
    ----------
    pattern : xarray.Dataset
        A domain pattern.
    delta_k : DataArray or array_like
        Material mismatch Δk = k_p − k_s − k_i in rad/m (no grating term), any dims; a
        1-D array becomes the dim ``delta_k``.  Dask-backed works.
    phi : DataArray or array_like, optional
        Instead of ``delta_k``: Φ = Δk·L (rad), L the pattern's length; a 1-D array
        becomes the dim ``phi``.

    Returns
    -------
    xarray.DataArray
        ``pmf``, complex, over ``delta_k``'s dims, |PMF| ≤ 1.

    Examples
    --------
    >>> import numpy as np
    >>> p = periodic_pattern(101 * 10e-6, 10e-6)
    >>> round(float(abs(pattern_phase_matching(p, [2 * np.pi / 10e-6]))[0]), 6)  # 2/pi
    0.63662
    """
    walls, signs = _parts(pattern)
    if (delta_k is None) == (phi is None):
        raise ValueError("give one of delta_k (rad/m) or phi (= delta_k * length, rad)")
    role, value, units, long_name = (("delta_k", delta_k, "rad/m", "material phase mismatch")
                                     if phi is None else
                                     ("phi", phi, "rad", "phase mismatch dk L"))
    if not isinstance(value, xr.DataArray):
        arr = np.atleast_1d(np.asarray(value, dtype=float))
        if arr.ndim != 1:
            raise ValueError(f"{role} must be a DataArray or a 1-D array ({units}); got shape "
                             f"{arr.shape}")
        value = xr.DataArray(arr, dims=role, name=role,
                             attrs={"long_name": long_name, "units": units})
        value = value.assign_coords({role: value})
    checked = inputs.check_real(value, role)
    scale = 1.0 if phi is None else 1.0 / float(pattern.attrs.get("length",
                                                                  walls[-1] - walls[0]))
    out = xr.apply_ufunc(_pmf_block, checked * scale, kwargs={"walls": walls, "signs": signs},
                         dask="parallelized", output_dtypes=[np.complex128])
    return out.rename("pmf").assign_attrs(
        long_name="phase-matching function", units="1", formula=PMF_FORMULA,
        design=pattern.attrs.get("design", "custom"), references=REFERENCES)


def pattern_overlap(pattern: xr.Dataset, phi: Any, xi: Any, mu: Any = 0.0, *,
                    workers: int | None = None, chunks: Any = None) -> xr.DataArray:
    """The focused Gaussian-beam overlap of the pattern over labelled (φ, ξ[, μ]).

    Evaluated through the package's engine (method family ``"pattern_overlap"``: blocks in
    process, on a loky pool with ``workers``, or lazily with dask), each point exact as a
    sum of the overlap kernel's closed forms, one per domain.

    Parameters
    ----------
    pattern : xarray.Dataset
        A domain pattern.
    phi : DataArray or float
        Φ = Δk·L with the material Δk (no grating term) and L the pattern's length.
    xi : DataArray or float
        Aggregate focus ξ > 0.
    mu : DataArray or float, optional
        Focal displacement (the focus at z = μL/2).
    workers, chunks
        As for :func:`xr_spdc.overlap`.

    Returns
    -------
    xarray.DataArray
        ``pattern_overlap``, complex, over the broadcast dims of ``phi``, ``xi``, ``mu``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> one = domain_pattern([-5e-3, 5e-3], [1.0])  # a single domain: Bennink's O
    >>> phi = xr.DataArray([-3.2551381153733029], dims="phi", name="phi")
    >>> o = pattern_overlap(one, phi.assign_coords(phi=phi), 2.8375191194941384)
    >>> round(float(o.real[0]), 12)
    2.066615566345
    """
    walls, signs = _parts(pattern)
    args: dict[str, Any] = {}
    for role, value in (("phi", phi), ("xi", xi), ("mu", mu)):
        if isinstance(value, xr.DataArray):
            args[role] = inputs.check_real(value, role, positive=role == "xi")
        else:
            v = float(value)
            if not np.isfinite(v) or (role == "xi" and not v > 0):
                raise ValueError(f"{role} must be finite{' and > 0' if role == 'xi' else ''}; "
                                 f"got {value!r}")
            # a 0-d coordinate, as xr_spdc.overlap labels a number
            args[role] = xr.DataArray(v, name=role)
    spec = METHODS["pattern_overlap"]["exact"]
    return evaluate(spec, args, name="pattern_overlap",
                    options={"walls": walls, "signs": signs}, workers=workers,
                    chunks=chunks, attrs={"long_name": "focused overlap of the domain pattern",
                                          "units": "1", "formula": OVERLAP_FORMULA,
                                          "design": pattern.attrs.get("design", "custom"),
                                          "references": REFERENCES})


def pattern_joint_spectrum(pattern: xr.Dataset, nu_signal: Any, nu_idler: Any, *,
                           group_index: tuple[float, float, float], pump_bandwidth: float,
                           delta_k0: float | None = None) -> xr.DataArray:
    r"""The JSA of a pattern with a Gaussian pump, Δk linear in the detunings.

    ψ(ν_s, ν_i) = N e^{−(ν_s+ν_i)²/2σ_p²} PMF(Δk₀ + (k'_p − k'_s)ν_s + (k'_p − k'_i)ν_i)
    (:func:`xr_spdc.numerics.poling.linear_joint_amplitude`), k'_j = n_g,j/c, normalised
    as :func:`xr_spdc.spectrum.joint_spectrum` is: Σ|ψ|²Δν_sΔν_i = 1.

    Parameters
    ----------
    pattern : xarray.Dataset
        A domain pattern.
    nu_signal, nu_idler : array_like
        Angular detunings from the centre frequencies (rad/s), 1-D grids: the dims
        ``signal_detuning`` and ``idler_detuning``.
    group_index : (float, float, float)
        Group indices n_g of pump, signal and idler.
    pump_bandwidth : float
        σ_p in rad/s (the pump *amplitude* is e^{−Ω²/2σ_p²}).
    delta_k0 : float, optional
        Material Δk at the centre (rad/m); default 2π/Λ with Λ the pattern's ``period``.

    Returns
    -------
    xarray.DataArray
        ``jsa``, complex, over (``signal_detuning``, ``idler_detuning``), units "s".
    """
    walls, signs = _parts(pattern)
    if delta_k0 is None:
        if "period" not in pattern.attrs:
            raise ValueError("delta_k0 is needed: the pattern has no 'period' attr to take "
                             "2 pi/period from")
        delta_k0 = 2 * np.pi / float(pattern.attrs["period"])
    ng = np.asarray(group_index, dtype=float)
    if ng.shape != (3,) or not np.all(np.isfinite(ng)) or not np.all(ng > 0):
        raise ValueError(f"group_index must be three positive group indices (pump, signal, "
                         f"idler); got {group_index!r}")
    axes = {}
    for role, dim, grid in (("nu_signal", "signal_detuning", nu_signal),
                            ("nu_idler", "idler_detuning", nu_idler)):
        arr = np.asarray(grid.values if isinstance(grid, xr.DataArray) else grid, dtype=float)
        if arr.ndim != 1 or arr.size < 3 or not np.all(np.isfinite(arr)):
            raise ValueError(f"{role} must be a finite 1-D grid of at least 3 detunings "
                             f"(rad/s); got {grid!r:.60}")
        axes[dim] = xr.DataArray(arr, dims=dim, attrs={
            "long_name": dim.replace("_", " "), "units": "rad/s"})
    psi = kernels.linear_joint_amplitude(
        axes["signal_detuning"].values, axes["idler_detuning"].values, walls, signs,
        delta_k0=float(delta_k0), k1_pump=ng[0] / C, k1_signal=ng[1] / C,
        k1_idler=ng[2] / C, pump_bandwidth=float(pump_bandwidth))
    w = (np.abs(np.gradient(axes["signal_detuning"].values))[:, None]
         * np.abs(np.gradient(axes["idler_detuning"].values))[None, :])
    norm = np.sqrt(np.sum(np.abs(psi) ** 2 * w))
    if not norm > 0:
        raise ValueError("the JSA vanishes on this grid: widen the detuning grids")
    return xr.DataArray(psi / norm, dims=tuple(axes), coords=axes, name="jsa").assign_attrs(
        long_name="joint spectral amplitude", units="s",
        formula="psi = N exp(-(nu_s+nu_i)^2/(2 sigma_p^2)) PMF(dk0 + (k'_p-k'_s) nu_s + "
                "(k'_p-k'_i) nu_i)",
        design=pattern.attrs.get("design", "custom"), pump_bandwidth=float(pump_bandwidth),
        group_index=ng, delta_k0=float(delta_k0), references=REFERENCES)


# ---------------------------------------------------------------------------- plots


def _axes(ax: Any) -> Any:
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    return ax


def plot_pattern(pattern: xr.Dataset, *, ax: Any = None) -> Any:
    """Draw s(z) against z (mm) as steps. Returns the Axes."""
    walls, signs = _parts(pattern)
    ax = _axes(ax)
    ax.stairs(signs, walls * 1e3, baseline=None, lw=0.6)
    ax.set_xlabel("z (mm)")
    ax.set_ylabel("sign of d(z)")
    ax.set_title(str(pattern.attrs.get("design", "domain pattern")), fontsize="medium")
    return ax


def plot_pmf(pmf: xr.DataArray, *, ax: Any = None, **kwargs: Any) -> Any:
    """Draw |PMF| against its 1-D coordinate (from :func:`pattern_phase_matching`)."""
    if not isinstance(pmf, xr.DataArray) or pmf.ndim != 1:
        raise ValueError("pmf must be a 1-D DataArray from pattern_phase_matching; select "
                         "other dims first")
    ax = _axes(ax)
    dim = pmf.dims[0]
    ax.plot(pmf[dim].values, np.abs(pmf.values), **kwargs)
    ax.set_xlabel(f"{dim} ({pmf[dim].attrs.get('units', '')})")
    ax.set_ylabel("|PMF|")
    return ax


def plot_jsi(jsa: xr.DataArray, *, ax: Any = None) -> Any:
    """Draw the joint spectral intensity |ψ|² of a 2-D JSA as an image."""
    if not isinstance(jsa, xr.DataArray) or jsa.ndim != 2:
        raise ValueError("jsa must be a 2-D DataArray (signal, idler); select sweep dims "
                         "first")
    ax = _axes(ax)
    ds, di = jsa.dims
    mesh = ax.pcolormesh(jsa[ds].values, jsa[di].values, (np.abs(jsa.values) ** 2).T,
                         shading="auto")
    ax.figure.colorbar(mesh, ax=ax, label="|ψ|²")
    ax.set_xlabel(f"{ds} ({jsa[ds].attrs.get('units', '')})")
    ax.set_ylabel(f"{di} ({jsa[di].attrs.get('units', '')})")
    return ax
