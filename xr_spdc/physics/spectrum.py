"""The joint spectrum of a photon-pair source, its Schmidt number and purity.

With a Gaussian pump of spectral amplitude α(ω) and focused Gaussian modes, the two-photon
joint spectral amplitude (JSA) is (Bennink, Phys. Rev. A 81, 053805 (2010), Eq. 28)

    ψ(ω_s, ω_i) ∝ α(ω_s + ω_i) · O(φ(ω_s, ω_i), ξ),

with O the overlap of Eq. 27 (:func:`xr_spdc.overlap`) and φ = Δk(ω_s, ω_i)·L the phase
mismatch at the pump frequency ω_s + ω_i (:mod:`xr_spdc.crystals`).  ξ varies little over
a pair's bandwidth and is taken at the centre wavelengths.  Here ψ is normalised on its
grid in angular frequency,

    Σ_jk |ψ(ω_s,j, ω_i,k)|² Δω_s,j Δω_i,k = 1     (∫∫ |ψ|² dω_s dω_i = 1),

so that the Schmidt decomposition ψ = Σ_k √λ_k u_k(ω_s) v_k(ω_i), computed by SVD of the
matrix ψ_jk √(Δω_s,j Δω_i,k), has Σ λ_k = 1; the Schmidt number is K = 1/Σ λ_k² and the
heralded photon's spectral purity P = 1/K (Law, Walmsley & Eberly, Phys. Rev. Lett. 84,
5304 (2000)).

For a CW pump α is a delta function, ω_s + ω_i = ω_p: the JSA collapses to a spectrum over
the signal wavelength alone (the idler is its energy-conserving partner), and K is infinite.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from concurrent.futures import Executor

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from ..labelled import inputs, names
from ..labelled.inputs import Real
from . import crystals
from .crystals import Crystal

#: The most grid points (signal x idler) a joint spectrum is computed for in memory: each
#: point holds some twenty float64 temporaries (wavelengths, indices, wave numbers, phi,
#: the overlap), so this cap keeps a call under a few GB.
MAX_SPECTRUM_POINTS = inputs.MAX_EAGER_POINTS // 8

#: Speed of light in vacuum, m/s (exact, SI).
C = 299_792_458.0

SIGNAL_DIM = "signal_wavelength"
IDLER_DIM = "idler_wavelength"

JSA_FORMULA = names.JSA_FORMULA
REFERENCES = names.JSA_REFERENCES


# ---------------------------------------------------------------------------- grids


def _axis(values: ArrayLike, role: str, dim: str) -> xr.DataArray:
    """A 1-D, strictly monotonic grid of wavelengths in m on ``dim``, labelled."""
    if isinstance(values, xr.DataArray):
        if values.ndim != 1:
            raise ValueError(f"{role} must be 1-D, not of sizes {dict(values.sizes)}")
        values = values.values
    arr = np.asarray(values, dtype=np.float64) if not np.isscalar(values) else None
    if arr is None or arr.ndim != 1 or arr.size < 3:
        raise ValueError(f"{role} must be a 1-D grid of at least 3 wavelengths (m), not "
                         f"{values!r:.80}")
    da = xr.DataArray(arr, dims=dim, name=dim)
    inputs.check_physical(da, role, "wavelength")
    steps = np.diff(arr)
    if not (np.all(steps > 0) or np.all(steps < 0)):
        raise ValueError(f"{role} must be strictly increasing or decreasing; it is not "
                         f"(first values {arr[:5]!r})")
    return da.assign_coords({dim: da}).assign_attrs(
        long_name=dim.replace("_", " "), units="m")


def conjugate_grid(pump: float, signal: ArrayLike) -> np.ndarray:
    """The idler wavelengths 1/(1/λ_p − 1/λ_s) of a signal grid, ascending (m).

    Examples
    --------
    >>> (conjugate_grid(775e-9, [1540e-9, 1550e-9, 1560e-9]) * 1e9).round(3)
    array([1540.127, 1550.   , 1560.131])
    """
    sig = np.asarray(signal, dtype=np.float64)
    return np.sort(1 / (1 / pump - 1 / sig))


def _scalar(value: Real, role: str, kind: str | None) -> float:
    da = inputs.check_physical(value, role, kind, positive=kind != "temperature")
    if da.ndim:
        raise ValueError(f"{role} must be a single number here, not of sizes "
                         f"{dict(da.sizes)}")
    return float(da)


def _omega_weights(coord: xr.DataArray) -> np.ndarray:
    """Quadrature weights |dω| of a grid: in angular frequency for a wavelength grid
    (``units`` "m"), else in the coordinate's own variable."""
    x = np.asarray(coord.values, dtype=np.float64)
    if coord.attrs.get("units") == "m":
        x = 2 * np.pi * C / x
    return np.abs(np.gradient(x))


# ---------------------------------------------------------------------------- the JSA


def joint_spectrum(crystal: Crystal, *, pump: float, signal: ArrayLike, temperature: float,
                   length: float, xi: float, polarizations: Sequence[str] | str,
                   idler: ArrayLike | None = None, pump_bandwidth: float | None = None,
                   poling_period: float | None = None, order: int = 1,
                   angle: float | None = None,
                   workers: int | Executor | None = None) -> xr.DataArray:
    """The joint spectral amplitude ψ(λ_s, λ_i) of a CW or pulsed Gaussian pump.

    ψ(ω_s, ω_i) = N · α(ω_s + ω_i) · O(φ(ω_s, ω_i), ξ)  (Bennink 2010, Eq. 28), with
    α(ω) = exp(−(ω − ω_p)²/(2σ²)) a Gaussian pump amplitude whose intensity |α|² has the
    FWHM ``pump_bandwidth`` (σ = Δω_FWHM/(2√ln 2), Δω = 2πc Δλ/λ_p²), φ from
    :func:`xr_spdc.crystals.phase_mismatch` at the pump wavelength 1/(1/λ_s + 1/λ_i), and
    N such that ∫∫|ψ|² dω_s dω_i = 1 on the grid.

    Parameters
    ----------
    crystal, temperature, length, polarizations, poling_period, order, angle
        As for :func:`xr_spdc.crystals.phase_mismatch` (metres, °C); single numbers.
    pump : float
        Centre pump wavelength λ_p in m.
    signal : array_like or 1-D DataArray
        Signal wavelengths in m (a grid; becomes the ``signal_wavelength`` dim).
    xi : float
        Aggregate focus ξ (e.g. from :func:`xr_spdc.aggregate_focus_from_beams`); ξ → 0
        gives the plane-wave limit O → 2√ξ sinc(φ/2).
    idler : array_like or 1-D DataArray, optional
        Idler wavelengths in m (pulsed pump only).  Default: the signal grid's
        energy-conserving partners at λ_p (:func:`conjugate_grid`).
    pump_bandwidth : float, optional
        FWHM of the pump's intensity spectrum, in m of wavelength.  None: a CW pump, and the
        result is 1-D over ``signal_wavelength`` with the idler as a coordinate.
    workers : int, concurrent.futures.Executor or None, default None
        As for :func:`xr_spdc.overlap` (None: the automatic choice).

    Returns
    -------
    xarray.DataArray
        ``jsa``, complex128, dims (``signal_wavelength``, ``idler_wavelength``) (CW:
        ``signal_wavelength`` only), in s (so that ∫∫|ψ|² dω_s dω_i = 1), with the pump,
        crystal and normalisation in attrs.

    See Also
    --------
    schmidt_decomposition, marginal_bandwidths

    Examples
    --------
    >>> import numpy as np
    >>> lam = np.linspace(1545e-9, 1555e-9, 41)
    >>> psi = joint_spectrum("KTP_xy", pump=775e-9, signal=lam, temperature=25.0,
    ...                      length=10e-3, xi=0.5, polarizations="eeo",
    ...                      poling_period=45.03e-6, pump_bandwidth=0.5e-9)
    >>> psi.dims, psi.dtype
    (('signal_wavelength', 'idler_wavelength'), dtype('complex128'))
    """
    from ..labelled.route import overlap

    checked_workers = inputs.check_workers(workers)
    lp = _scalar(pump, "pump", "wavelength")
    t = _scalar(temperature, "temperature", "temperature")
    length_m = _scalar(length, "length", "length")
    xi_value = _scalar(xi, "xi", None)
    period = (None if poling_period is None
              else _scalar(poling_period, "poling_period", "poling_period"))
    sig = _axis(signal, "signal", SIGNAL_DIM)
    if np.any(sig.values <= lp):
        raise ValueError(f"signal must be longer than pump ({lp:g} m); its grid starts at "
                         f"{float(sig.min()):g} m")
    cw = pump_bandwidth is None
    if pump_bandwidth is None:
        if idler is not None:
            raise ValueError("idler is fixed by energy conservation for a CW pump "
                             "(pump_bandwidth=None): leave it out")
        lam = {"pump": xr.full_like(sig, lp), "signal": sig}
    else:
        bandwidth = _scalar(pump_bandwidth, "pump_bandwidth", None)
        idl = _axis(conjugate_grid(lp, sig.values) if idler is None else idler, "idler",
                    IDLER_DIM)
        inputs.check_eager_size({"signal": sig.size, "idler": idl.size},
                                limit=MAX_SPECTRUM_POINTS, how=_IN_PIECES)
        _check_resolved(bandwidth, lp, sig, idl)
        s2, i2 = xr.broadcast(sig, idl)
        lam = {"pump": 1 / (1 / s2 + 1 / i2), "signal": s2}
    # The pump wavelength of each point is 1/(1/lambda_s + 1/lambda_i); phase_mismatch
    # returns the idler as its energy-conserving partner, so phi is computed in one place.
    phi = crystals.phase_mismatch(crystal, pump=lam["pump"].rename("pump"),
                                  signal=lam["signal"].rename("signal"), temperature=t,
                                  length=length_m, polarizations=polarizations,
                                  poling_period=period, order=order, angle=angle)
    o = overlap(phi=phi.reset_coords(drop=True).rename("phi"), xi=xi_value,
                workers=checked_workers)
    values = o.values
    if cw:
        weights = _omega_weights(sig)
        alpha_desc = "CW pump: w_s + w_i = w_p"
    else:
        omega_p = 2 * np.pi * C / lp
        # FWHM of |alpha|^2 in angular frequency, from the wavelength FWHM at lambda_p
        sigma = (2 * np.pi * C * bandwidth / lp**2) / (2 * np.sqrt(np.log(2)))
        omega_sum = 2 * np.pi * C / lam["pump"].values
        values = values * np.exp(-((omega_sum - omega_p) ** 2) / (2 * sigma**2))
        weights = np.outer(_omega_weights(sig), _omega_weights(idl))
        alpha_desc = (f"Gaussian pump, intensity FWHM {bandwidth:g} m "
                      f"({2 * np.pi * C * bandwidth / lp**2:.6g} rad/s)")
    norm = np.sqrt(np.sum(np.abs(values) ** 2 * weights))
    if not norm > 0:
        raise ValueError("the joint spectrum vanishes on this grid (the pump and phase "
                         "matching do not overlap): move or widen the signal/idler grid")
    coords = {SIGNAL_DIM: sig}
    dims: tuple[str, ...] = (SIGNAL_DIM,)
    if cw:
        coords["idler"] = (1 / (1 / lam["pump"] - 1 / sig)).reset_coords(drop=True).assign_attrs(
            long_name="idler wavelength", units="m")
    else:
        coords[IDLER_DIM] = idl
        dims = (SIGNAL_DIM, IDLER_DIM)
    return xr.DataArray(values / norm, dims=dims, coords=coords, name="jsa").assign_attrs(
        names.attrs("jsa", pump=alpha_desc, pump_wavelength=lp, xi=xi_value, length=length_m,
                    poling_period=np.nan if period is None else period, temperature=t,
                    temperature_units=crystals.TEMPERATURE_UNITS,
                    **{key: phi.attrs[key] for key in ("polarizations",
                                                       *crystals.SOURCE_ATTRS)}))


_IN_PIECES = ("compute it in pieces: split the signal grid (np.array_split) and join the "
              "results with xr.concat, or coarsen the grids")


def _check_resolved(bandwidth: float, pump: float, signal: xr.DataArray,
                    idler: xr.DataArray) -> None:
    """Refuse a pump narrower than the grid's spacing (the JSA would be unresolved and K
    bounded by the grid's size, not the physics); warn below two points per FWHM."""
    fwhm = 2 * np.pi * C * bandwidth / pump**2  # of |alpha|^2, rad/s, along omega_s or _i
    step = max(float(np.max(_omega_weights(signal))), float(np.max(_omega_weights(idler))))
    per_fwhm = fwhm / step
    what = (f"pump_bandwidth = {bandwidth:g} m ({fwhm:.3g} rad/s FWHM) spans "
            f"{per_fwhm:.3g} grid steps (the coarsest, of the signal or idler grid, is "
            f"{step:.3g} rad/s)")
    if per_fwhm < 1:
        raise ValueError(f"{what}: the pump is not resolved, and the Schmidt number would be "
                         "bounded by the grid's size, not the source. Refine the grids to at "
                         "least 2 points per pump FWHM, or pass pump_bandwidth=None for a CW "
                         "pump")
    if per_fwhm < 2:
        warnings.warn(f"{what}: fewer than 2 points per pump FWHM; K may be off by more "
                      "than 1e-4 (refine the grids)", UserWarning, stacklevel=3)


# ---------------------------------------------------------------------------- analysis


def _two_dims(jsa: xr.DataArray) -> tuple[str, str]:
    if not isinstance(jsa, xr.DataArray) or jsa.ndim != 2:
        raise ValueError("jsa must be a 2-D DataArray (signal, idler), e.g. from "
                         "joint_spectrum with a pulsed pump; a CW spectrum has K = infinity")
    for d in jsa.dims:
        if d not in jsa.coords:
            raise ValueError(f"jsa's dim {d!r} needs a coordinate (its grid)")
    _check_spectrum(jsa)
    return str(jsa.dims[0]), str(jsa.dims[1])


def _check_spectrum(jsa: xr.DataArray) -> None:
    """Refuse a JSA with non-finite values or none that differ from 0: it has no Schmidt
    decomposition and no bandwidth (NaN, or an SVD that does not converge)."""
    if jsa.dtype.kind not in "iufc":
        raise TypeError(f"jsa must hold numbers, not dtype {jsa.dtype}")
    values = np.asarray(jsa.values)
    bad = ~np.isfinite(values)
    if bad.any():
        first = dict(zip(map(str, jsa.dims), map(int, np.argwhere(bad)[0]), strict=True))
        raise ValueError(f"jsa must be finite; {int(bad.sum())} of {bad.size} values are not "
                         f"(the first at index {first})")
    if not np.any(values != 0):
        raise ValueError(f"jsa is zero everywhere on its grid (sizes {dict(jsa.sizes)}): it "
                         "has no Schmidt modes and no bandwidth; move or widen the grid "
                         "to where the source emits")


def schmidt_decomposition(jsa: xr.DataArray) -> xr.Dataset:
    """The Schmidt coefficients λ_k, the Schmidt number K = 1/Σλ_k² and the purity 1/K of
    a 2-D joint spectral amplitude (Law, Walmsley & Eberly, PRL 84, 5304 (2000)).

    The SVD of ψ_jk √(w_j w_k), with w the grid's quadrature weights (|Δω| for wavelength
    coordinates, whose ``units`` is "m", so the decomposition is that of ψ(ω_s, ω_i);
    the coordinate's own spacing otherwise), gives singular values s_k and λ_k = s_k²/Σs².

    Parameters
    ----------
    jsa : xarray.DataArray
        2-D, real or complex, with a coordinate on each dim.

    Returns
    -------
    xarray.Dataset
        ``schmidt_coefficients`` (λ_k, descending, on dim ``mode``), ``schmidt_number`` K
        and ``purity`` 1/K.

    Notes
    -----
    Grid resolution (measured in the tests): the spacing must resolve the JSA's narrowest
    cut along a grid axis (a row at fixed idler) - for a Gaussian JSA two points per FWHM
    of that cut give K to 1e-4 and three to 1e-11.  The span matters more for a sinc
    phase-matching function, whose side lobes fall only as 1/Ω²: for the type-II PPKTP
    source of the tests (signal marginal 3.2 nm FWHM) K is 2.62, 2.685, 2.714 and 2.728
    on windows of 3, 6, 12 and 25 marginal FWHM at fixed spacing.  Widen the window
    until K stops changing at the precision you need.

    Examples
    --------
    A separable JSA has K = 1:

    >>> import numpy as np, xarray as xr
    >>> x = np.linspace(-5, 5, 101)
    >>> g = xr.DataArray(np.exp(-x[:, None]**2 - x[None, :]**2), dims=("s", "i"),
    ...                  coords={"s": x, "i": x})
    >>> round(float(schmidt_decomposition(g).schmidt_number), 12)
    1.0
    """
    ds, di = _two_dims(jsa)
    ws = _omega_weights(jsa[ds])
    wi = _omega_weights(jsa[di])
    matrix = np.asarray(jsa.transpose(ds, di).values) * np.sqrt(np.outer(ws, wi))
    s = np.linalg.svd(matrix, compute_uv=False)
    lam = s**2 / np.sum(s**2)
    k = 1 / np.sum(lam**2)
    return xr.Dataset(
        {"schmidt_coefficients": xr.DataArray(lam, dims="mode",
                                              attrs=names.attrs("schmidt_coefficients")),
         "schmidt_number": xr.DataArray(k, attrs=names.attrs("schmidt_number")),
         "purity": xr.DataArray(1 / k, attrs=names.attrs("purity"))},
        coords={"mode": np.arange(lam.size)},
        attrs={"references": names.LAW_WALMSLEY_EBERLY,
               "grid_points": f"{jsa.sizes[ds]} x {jsa.sizes[di]}"})


def _fwhm(x: np.ndarray, y: np.ndarray) -> float:
    """Full width at half maximum of samples y(x), crossings interpolated linearly; NaN if
    the curve does not fall below half its maximum on both sides within the grid."""
    order = np.argsort(x)
    x, y = x[order], y[order]
    top = int(np.argmax(y))
    half = y[top] / 2
    below_left = np.nonzero(y[:top] < half)[0]
    below_right = np.nonzero(y[top:] < half)[0]
    if not below_left.size or not below_right.size:
        return float("nan")
    i = below_left[-1]
    j = top + below_right[0]
    left = x[i] + (half - y[i]) * (x[i + 1] - x[i]) / (y[i + 1] - y[i])
    right = x[j - 1] + (half - y[j - 1]) * (x[j] - x[j - 1]) / (y[j] - y[j - 1])
    return float(right - left)


def marginal_bandwidths(jsa: xr.DataArray) -> xr.Dataset:
    """FWHM of the signal and idler marginal spectra of a joint spectral amplitude.

    The marginal S(λ_s) = ∫|ψ|² dω_i (and likewise for the idler), its FWHM in the
    coordinate's unit (m for wavelengths), half-maximum crossings interpolated linearly.
    A 1-D (CW) spectrum gives the signal's FWHM only.

    Parameters
    ----------
    jsa : xarray.DataArray
        From :func:`joint_spectrum` (1-D or 2-D), or any DataArray with coordinates.

    Returns
    -------
    xarray.Dataset
        ``signal_bandwidth`` (and ``idler_bandwidth``), FWHM; NaN where the grid does not
        contain both half-maximum points (widen it).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> x = np.linspace(-5, 5, 2001)
    >>> g = xr.DataArray(np.exp(-x**2 / 2), dims="s", coords={"s": x})  # |g|^2: sigma 1/√2
    >>> round(float(marginal_bandwidths(g).signal_bandwidth), 4)  # 2 sqrt(ln 2)
    1.6651
    """
    if not isinstance(jsa, xr.DataArray) or jsa.ndim not in (1, 2):
        raise ValueError("jsa must be a 1-D or 2-D DataArray")
    for d in jsa.dims:
        if d not in jsa.coords:
            raise ValueError(f"jsa's dim {d!r} needs a coordinate (its grid)")
    _check_spectrum(jsa)
    intensity = np.abs(np.asarray(jsa.values)) ** 2
    out = {}
    names = ("signal_bandwidth", "idler_bandwidth")
    for axis, (dim, name) in enumerate(zip(jsa.dims, names, strict=False)):
        other = [d for d in jsa.dims if d != dim]
        marginal = intensity
        if other:
            weights = _omega_weights(jsa[other[0]])
            marginal = np.tensordot(intensity, weights, axes=([1 - axis], [0]))
        units = jsa[dim].attrs.get("units", "")
        out[name] = xr.DataArray(_fwhm(np.asarray(jsa[dim].values), marginal), attrs={
            "long_name": f"{name.split('_')[0]} bandwidth (FWHM)", "units": units,
            "formula": "FWHM of the marginal integral |psi|^2 d(omega of the other photon)"})
    return xr.Dataset(out)
