r"""Spectral filters on the signal and idler arms: the filtered JSA, heralding and purity.

A filter is a power transmission T(λ) ∈ [0, 1] without phase; it multiplies the JSA by its
amplitude √T on its arm:

.. math:: \psi_f(\omega_s, \omega_i) = \sqrt{T_s(\omega_s)\,T_i(\omega_i)}\;
          \psi(\omega_s, \omega_i).

The spectral heralding efficiencies (Meyer-Scott, Montaut, Tiedau, Sansoni, Herrmann,
Bartley & Silberhorn, Phys. Rev. A 95, 061803(R) (2017), arXiv:1702.05501) are the
probability that one photon passes its filter given that its partner passed its own:

.. math:: \eta_s = \frac{\iint T_s T_i |\psi|^2}{\iint T_i |\psi|^2},\qquad
          \eta_i = \frac{\iint T_s T_i |\psi|^2}{\iint T_s |\psi|^2},

and the heralded photon's purity is that of ψ_f renormalised (1/K of its Schmidt
decomposition).  A spatial (fibre-coupling) heralding efficiency, given as a factor per
arm, multiplies the spectral one: the two factorise when the coupling does not change over
the filtered band.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from .hom import SPECTRAL_DIMS, C, angular_frequency, omega_weights

FILTER_FORMULA = "psi_f(w_s, w_i) = sqrt(T_s(w_s) T_i(w_i)) psi(w_s, w_i)"
REFERENCES = ("E. Meyer-Scott, N. Montaut, J. Tiedau, L. Sansoni, H. Herrmann, T. J. Bartley "
              "and C. Silberhorn, Phys. Rev. A 95, 061803(R) (2017)")


@dataclass(frozen=True)
class SpectralFilter:
    """A power transmission T(ω) ∈ [0, 1] of angular frequency, with a description.

    Build one with :func:`gaussian_filter`, :func:`tophat_filter` or :func:`curve_filter`;
    call ``transmission(omega)`` for T at angular frequencies (rad/s).
    """

    transmission: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    description: str


def _positive(value: Any, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number in metres, not {value!r:.60}") from None
    if not (np.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a finite positive length in metres; got {value!r}")
    return v


def gaussian_filter(center: float, fwhm: float, *, peak: float = 1.0) -> SpectralFilter:
    """A Gaussian bandpass: T(ω) = peak · exp(−4 ln 2 (ω − ω₀)²/Δω²).

    Parameters
    ----------
    center : float
        Centre vacuum wavelength λ₀ in m (ω₀ = 2πc/λ₀).
    fwhm : float
        FWHM of the power transmission, in m of wavelength at λ₀ (Δω = 2πc·fwhm/λ₀², the
        convention of the pump bandwidth in :func:`xr_spdc.spectrum.joint_spectrum`).
    peak : float, optional
        Peak transmission in (0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> f = gaussian_filter(1550e-9, 2e-9)
    >>> w0 = 2 * np.pi * 299792458.0 / 1550e-9
    >>> dw = 2 * np.pi * 299792458.0 * 2e-9 / 1550e-9**2
    >>> f.transmission(np.array([w0, w0 + dw / 2])).round(12).tolist()
    [1.0, 0.5]
    """
    lam0, width = _positive(center, "center"), _positive(fwhm, "fwhm")
    if not 0 < peak <= 1:
        raise ValueError(f"peak must be in (0, 1]; got {peak!r}")
    w0 = 2 * np.pi * C / lam0
    dw = 2 * np.pi * C * width / lam0**2

    def transmission(omega: np.ndarray) -> np.ndarray:
        return peak * np.exp(-4 * np.log(2) * ((np.asarray(omega) - w0) / dw) ** 2)

    return SpectralFilter(transmission, f"Gaussian, centre {lam0:g} m, FWHM {width:g} m "
                                        f"({dw:.6g} rad/s), peak {peak:g}")


def tophat_filter(center: float, width: float, *, peak: float = 1.0) -> SpectralFilter:
    """A rectangular bandpass: T = peak for |λ − λ₀| ≤ width/2, 0 elsewhere (in wavelength).

    On a sampled grid its edges fall between grid points: the transmitted power is then
    accurate to about one grid cell at each edge.

    Examples
    --------
    >>> import numpy as np
    >>> f = tophat_filter(1550e-9, 2e-9)
    >>> lam = np.array([1548.9e-9, 1549.1e-9, 1550.9e-9, 1551.1e-9])
    >>> f.transmission(2 * np.pi * 299792458.0 / lam).tolist()
    [0.0, 1.0, 1.0, 0.0]
    """
    lam0, w = _positive(center, "center"), _positive(width, "width")
    if not 0 < peak <= 1:
        raise ValueError(f"peak must be in (0, 1]; got {peak!r}")

    def transmission(omega: np.ndarray) -> np.ndarray:
        lam = 2 * np.pi * C / np.asarray(omega)
        return np.where(np.abs(lam - lam0) <= w / 2, peak, 0.0)

    return SpectralFilter(transmission, f"top-hat, centre {lam0:g} m, width {w:g} m, "
                                        f"peak {peak:g}")


def curve_filter(curve: xr.DataArray) -> SpectralFilter:
    """A measured transmission curve: a 1-D DataArray of T over wavelength (``units`` "m"),
    angular frequency ("rad/s") or frequency ("Hz"), interpolated linearly; 0 outside it.

    Raises
    ------
    TypeError, ValueError
        If ``curve`` is not a 1-D DataArray with a coordinate in those units, or T is not
        finite and within [0, 1].

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> lam = np.array([1549e-9, 1550e-9, 1551e-9])
    >>> t = xr.DataArray([0.0, 0.9, 0.0], dims="wavelength",
    ...                  coords={"wavelength": ("wavelength", lam, {"units": "m"})})
    >>> float(curve_filter(t).transmission(np.array([2 * np.pi * 299792458.0 / 1550e-9]))[0])
    0.9
    """
    if not isinstance(curve, xr.DataArray) or curve.ndim != 1:
        raise TypeError("curve must be a 1-D xarray.DataArray of transmission over "
                        "wavelength (a coordinate with units 'm')")
    dim = curve.dims[0]
    if dim not in curve.coords:
        raise ValueError(f"curve's dim {dim!r} needs a coordinate (its wavelengths)")
    omega = angular_frequency(curve[dim], "curve")
    t = np.asarray(curve.values, dtype=np.float64)
    if not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(t > 1):
        raise ValueError(f"curve must hold power transmissions in [0, 1]; got values from "
                         f"{np.nanmin(t):g} to {np.nanmax(t):g} (divide a percentage by 100)")
    order = np.argsort(omega)
    omega, t = omega[order], t[order]

    def transmission(w: np.ndarray) -> np.ndarray:
        return np.interp(np.asarray(w), omega, t, left=0.0, right=0.0)

    return SpectralFilter(transmission, f"measured curve {curve.name!r} over "
                                        f"{curve[dim].attrs.get('units')} ({t.size} points)")


def _as_filter(value: Any, role: str) -> SpectralFilter | None:
    if value is None or isinstance(value, SpectralFilter):
        return value
    if isinstance(value, xr.DataArray):
        return curve_filter(value)
    raise TypeError(f"{role} must be a filter (gaussian_filter, tophat_filter, "
                    f"curve_filter), a DataArray of transmission over wavelength, or None; "
                    f"not {type(value).__name__}")


def _dims(jsa: Any, dims: Sequence[Hashable] | None) -> tuple[Hashable, Hashable]:
    if not isinstance(jsa, xr.DataArray):
        raise TypeError(f"jsa must be an xarray.DataArray (e.g. from "
                        f"xr_spdc.spectrum.joint_spectrum), not {type(jsa).__name__}")
    sdim, idim = tuple(SPECTRAL_DIMS if dims is None else dims)
    for d in (sdim, idim):
        if d not in jsa.dims or d not in jsa.coords:
            raise ValueError(f"jsa has no spectral dim {d!r} with a coordinate (its dims: "
                             f"{tuple(jsa.dims)}); name them with dims=")
    return sdim, idim


def _amplitudes(jsa: xr.DataArray, signal: Any, idler: Any, dims: Sequence[Hashable] | None
                ) -> tuple[xr.DataArray, xr.DataArray, str, str, Hashable, Hashable]:
    sdim, idim = _dims(jsa, dims)
    out = []
    for role, dim, spec in (("signal", sdim, signal), ("idler", idim, idler)):
        filt = _as_filter(spec, role)
        omega = angular_frequency(jsa[dim], "jsa")
        t = np.ones(omega.size) if filt is None else np.asarray(filt.transmission(omega))
        out.append((xr.DataArray(t, dims=(dim,), coords={dim: jsa[dim]}),
                    "none" if filt is None else filt.description))
    return out[0][0], out[1][0], out[0][1], out[1][1], sdim, idim


def apply_filters(jsa: xr.DataArray, signal: Any = None, idler: Any = None, *,
                  dims: Sequence[Hashable] | None = None) -> xr.DataArray:
    """The JSA after a filter on each arm: √(T_s(ω_s) T_i(ω_i)) ψ (not renormalised).

    Parameters
    ----------
    jsa : xarray.DataArray
        Over (``signal_wavelength``, ``idler_wavelength``) or ``dims``, with any other dims.
    signal, idler : SpectralFilter or DataArray, optional
        The arm's filter (:func:`gaussian_filter`, :func:`tophat_filter`,
        :func:`curve_filter`, or a transmission curve over wavelength); None: no filter.
    dims : pair of str, optional
        The spectral dims (signal, idler) when not the default names.

    Returns
    -------
    xarray.DataArray
        ``jsa`` times the amplitude transmissions; Σ|ψ_f|² Δω_s Δω_i is the pair
        transmission when ``jsa`` is normalised.  The filters are described in attrs.
    """
    t_s, t_i, d_s, d_i, _, _ = _amplitudes(jsa, signal, idler, dims)
    out = jsa * np.sqrt(t_s) * np.sqrt(t_i)
    return out.transpose(*jsa.dims).rename(jsa.name).assign_attrs(
        {**jsa.attrs, "signal_filter": d_s, "idler_filter": d_i,
         "filter_formula": FILTER_FORMULA})


def _purity_block(psi: np.ndarray, ws: np.ndarray, wi: np.ndarray) -> np.ndarray:
    """Purity Σλ²/(Σλ)² by a batched SVD of ψ √(w_s w_i) (leading dims kept)."""
    g = np.asarray(psi, dtype=np.complex128) * np.sqrt(ws[:, None] * wi[None, :])
    s = np.linalg.svd(g, compute_uv=False) ** 2
    total = np.sum(s, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sum(s**2, axis=-1) / total**2


def filtered_source(jsa: xr.DataArray, signal: Any = None, idler: Any = None, *,
                    signal_coupling: Any = 1.0, idler_coupling: Any = 1.0,
                    dims: Sequence[Hashable] | None = None) -> xr.Dataset:
    """Heralding efficiencies and purity of a source after a filter on each arm.

    Parameters
    ----------
    jsa : xarray.DataArray
        The joint spectral amplitude, as for :func:`apply_filters` (sweep dims kept;
        dask-backed works, the spectral dims in one chunk).
    signal, idler : SpectralFilter or DataArray, optional
        The arms' filters; None: unfiltered.
    signal_coupling, idler_coupling : float or DataArray, optional
        Spatial (fibre-coupling) heralding efficiency of each arm, the probability that
        the photon is in its fibre given its partner detected (from the coupling model);
        1 by default.  DataArrays broadcast (e.g. over waists).
    dims : pair of str, optional
        The spectral dims (signal, idler) when not the default names.

    Returns
    -------
    xarray.Dataset
        ``signal_spectral_efficiency`` η_s = ΣT_sT_i|ψ|²/ΣT_i|ψ|²,
        ``idler_spectral_efficiency`` η_i = ΣT_sT_i|ψ|²/ΣT_s|ψ|²,
        ``signal_heralding_efficiency`` and ``idler_heralding_efficiency`` (spectral ×
        spatial), ``pair_transmission`` ΣT_sT_i|ψ|²/Σ|ψ|², ``purity`` of the filtered,
        renormalised JSA (and ``purity_unfiltered``), all units "1".

    Raises
    ------
    TypeError, ValueError
        Bad ``jsa`` or filters (named); a filter that blocks the whole JSA; couplings
        outside [0, 1].

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> lam = np.linspace(1540e-9, 1560e-9, 61)
    >>> psi = np.outer(np.exp(-((lam - 1550e-9) / 3e-9) ** 2), np.ones(61))
    >>> m = {"units": "m"}
    >>> jsa = xr.DataArray(psi, dims=("signal_wavelength", "idler_wavelength"),
    ...                    coords={"signal_wavelength": ("signal_wavelength", lam, m),
    ...                            "idler_wavelength": ("idler_wavelength", lam, m)})
    >>> out = filtered_source(jsa, idler=tophat_filter(1550e-9, 10e-9))
    >>> round(float(out.signal_spectral_efficiency), 12), round(float(out.purity), 12)
    (1.0, 1.0)
    """
    t_s, t_i, d_s, d_i, sdim, idim = _amplitudes(jsa, signal, idler, dims)
    couplings = {}
    for name, value in (("signal_coupling", signal_coupling),
                        ("idler_coupling", idler_coupling)):
        da = value if isinstance(value, xr.DataArray) else xr.DataArray(float(value))
        if not bool(((da >= 0) & (da <= 1)).all()):
            raise ValueError(f"{name} must be an efficiency in [0, 1]; got {value!r:.60}")
        couplings[name] = da
    ws = omega_weights(angular_frequency(jsa[sdim], "jsa"))
    wi = omega_weights(angular_frequency(jsa[idim], "jsa"))
    weights = (xr.DataArray(ws, dims=(sdim,), coords={sdim: jsa[sdim]})
               * xr.DataArray(wi, dims=(idim,), coords={idim: jsa[idim]}))
    p = abs(jsa) ** 2 * weights
    total = p.sum((sdim, idim))
    both = (p * t_s * t_i).sum((sdim, idim))
    only_i = (p * t_i).sum((sdim, idim))
    only_s = (p * t_s).sum((sdim, idim))
    if bool((both <= 0).any()):
        raise ValueError("the filters block the whole JSA (no pair passes both): check "
                         "their centres and widths against the JSA's grid")
    filtered = apply_filters(jsa, signal, idler, dims=(sdim, idim))

    def purity(x: xr.DataArray) -> xr.DataArray:
        src = x.chunk({sdim: -1, idim: -1}) if x.chunks is not None else x
        return xr.apply_ufunc(_purity_block, src, kwargs={"ws": ws, "wi": wi},
                              input_core_dims=[[sdim, idim]], dask="parallelized",
                              output_dtypes=[np.float64])

    unit = {"units": "1"}
    eta_s, eta_i = both / only_i, both / only_s
    ds = xr.Dataset({
        "signal_spectral_efficiency": eta_s.assign_attrs(
            unit, long_name="signal spectral heralding efficiency",
            formula="eta_s = sum T_s T_i |psi|^2 / sum T_i |psi|^2"),
        "idler_spectral_efficiency": eta_i.assign_attrs(
            unit, long_name="idler spectral heralding efficiency",
            formula="eta_i = sum T_s T_i |psi|^2 / sum T_s |psi|^2"),
        "signal_heralding_efficiency": (eta_s * couplings["signal_coupling"]).assign_attrs(
            unit, long_name="signal heralding efficiency (spectral x spatial)",
            formula="eta_s * signal_coupling"),
        "idler_heralding_efficiency": (eta_i * couplings["idler_coupling"]).assign_attrs(
            unit, long_name="idler heralding efficiency (spectral x spatial)",
            formula="eta_i * idler_coupling"),
        "pair_transmission": (both / total).assign_attrs(
            unit, long_name="pair transmission through both filters",
            formula="sum T_s T_i |psi|^2 / sum |psi|^2"),
        "purity": purity(filtered).assign_attrs(
            unit, long_name="heralded purity after filtering",
            formula="sum lambda_k^2 of the renormalised filtered JSA"),
        "purity_unfiltered": purity(jsa).assign_attrs(
            unit, long_name="heralded purity without filters"),
    })
    return ds.assign_attrs(signal_filter=d_s, idler_filter=d_i, filter_formula=FILTER_FORMULA,
                           references=REFERENCES,
                           assumption="spectral and spatial heralding factorise (coupling "
                                      "constant over the filtered band)")
