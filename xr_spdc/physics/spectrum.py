"""The joint spectrum of a photon-pair source, its Schmidt number and purity.

The two-photon joint spectral amplitude (JSA) of a Gaussian pump of spectral amplitude
α(ω) and focused Gaussian modes comes in two forms here.

**Exact fibre coupling (the default).**  With the pump waist w_p and the signal and idler
fibre-mode waists w_s, w_i, the amplitude of a pair (ω_s, ω_i) in both fibre modes is the
coupling kernel's pair amplitude 𝒜 (:func:`xr_spdc.numerics.coupling.pair_amplitude`;
docs/physics/coupling.md), evaluated with every wave number taken at its own frequency from
the crystal: k_p at ω_s + ω_i, k_s at ω_s, k_i at ω_i, so ξ_j = L/(k_j w_j²), the ratios
k_s/k_p, k_i/k_p and φ all follow the frequency,

    ψ(ω_s, ω_i) = N · α(ω_s + ω_i) · √(ω_s ω_i)/(n_s n_i) · 𝒜(φ, ξ_p, ξ_s, ξ_i, k_s/k_p, k_i/k_p).

√(ω_s ω_i)/(n_s n_i) is the field normalisation of the pair amplitude (the rate density
∝ ω_s ω_i/(n_s n_i)² |𝒜|², the convention of SPDCalc's ``jsi_normalization``); for the
PPKTP source of the tests it moves ψ by 4.5e-4 of the peak and K by 3e-6 (relative).

**Bennink's fixed-ξ form** (``xi=``; Phys. Rev. A 81, 053805 (2010), Eq. 28):

    ψ(ω_s, ω_i) = N · α(ω_s + ω_i) · O(φ(ω_s, ω_i), ξ),

with O the overlap of Eq. 27 (:func:`xr_spdc.overlap`) and one aggregate ξ for the whole
spectrum.  The two agree when k_p = k_s + k_i and ξ is constant (the kernel's identity); at
tight focus (30/42/42 µm in 10 mm of type-II PPKTP, KTP_xy) they differ by 7.9e-4 of the
peak, with ξ = 0.784 from Bennink's Eqs. 12-15 at the centre wavelengths (K 1.15279
against 1.15234).

In both, φ = Δk(ω_s, ω_i)·L is the phase mismatch at the pump frequency ω_s + ω_i
(:func:`xr_spdc.crystals.phase_mismatch`), every beam is focused at the crystal centre
(unless ``focus_wavelength`` fixes the foci in air), the phases are referred to the
crystal centre, and ψ is normalised on its grid in angular frequency,

    Σ_jk |ψ(ω_s,j, ω_i,k)|² Δω_s,j Δω_i,k = 1     (∫∫ |ψ|² dω_s dω_i = 1),

so that the Schmidt decomposition ψ = Σ_k √λ_k u_k(ω_s) v_k(ω_i), computed by SVD of the
matrix ψ_jk √(Δω_s,j Δω_i,k), has Σ λ_k = 1; the Schmidt number is K = 1/Σ λ_k² and the
heralded photon's spectral purity P = 1/K (Law, Walmsley & Eberly, Phys. Rev. Lett. 84,
5304 (2000)).

**Sweeps.**  Length, temperature, pump bandwidth, the three waists (or ξ) and the poling
period may be DataArrays: the JSA gains their dims after its two spectral dims, and
:func:`schmidt_decomposition` and :func:`marginal_bandwidths` reduce over the spectral dims
only (``xr.apply_ufunc`` with core dims; one batched SVD), eagerly or lazily with dask.

For a CW pump α is a delta function, ω_s + ω_i = ω_p: the JSA collapses to a spectrum over
the signal wavelength alone (the idler is its energy-conserving partner), and K is infinite.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np
import xarray as xr
from threadpoolctl import threadpool_limits

from ..engine.methods import Method
from ..labelled import inputs, names
from ..numerics import coupling as coupling_kernel
from . import crystals
from .crystals import Crystal

#: The most grid points (signal x idler x every swept value) a joint spectrum is computed
#: for in memory: each point holds some twenty float64 temporaries (wavelengths, indices,
#: wave numbers, phi, the amplitude), so this cap keeps a call under a few GB.
MAX_SPECTRUM_POINTS = inputs.MAX_EAGER_POINTS // 8

#: Speed of light in vacuum, m/s (exact, SI).
C = 299_792_458.0

SIGNAL_DIM = "signal_wavelength"
IDLER_DIM = "idler_wavelength"

JSA_FORMULA = names.JSA_FORMULA

FIBRE_FORMULA = ("psi(w_s, w_i) = N alpha(w_s + w_i) sqrt(w_s w_i)/(n_s n_i) "
                 "A(phi, xi_p, xi_s, xi_i, k_s/k_p, k_i/k_p), A the paraxial pair amplitude "
                 "into both fibre modes, xi_j = L/(k_j w_j^2), every k_j at its own frequency, "
                 "alpha(w) = exp(-(w - w_p)^2/(2 sigma^2)), sigma = FWHM_w/(2 sqrt(ln 2)), "
                 "sum |psi|^2 dw_s dw_i = 1")

REFERENCES = names.JSA_REFERENCES

FIBRE_REFERENCES = ("docs/physics/coupling.md (the exact paraxial pair amplitude); P. "
                    "Kolenderski, W. Wasilewski and K. Banaszek, Phys. Rev. A 80, 013811 "
                    f"(2009); {names.JSA_REFERENCES}")

#: The Schmidt estimators of :func:`schmidt_decomposition`.
ESTIMATORS = ("complex", "modulus")


# ---------------------------------------------------------------------------- the kernel


def pair_amplitude_block(phi: np.ndarray, xi_p: np.ndarray, xi_s: np.ndarray,
                         xi_i: np.ndarray, ratio_s: np.ndarray, ratio_i: np.ndarray,
                         mu_p: np.ndarray, mu_s: np.ndarray, mu_i: np.ndarray
                         ) -> tuple[np.ndarray]:
    """:func:`xr_spdc.numerics.coupling.pair_amplitude` on one block (𝒜/k_p)."""
    return (coupling_kernel.pair_amplitude(phi, xi_p, xi_s, xi_i, ratio_s, ratio_i, mu_p,
                                           mu_s, mu_i),)


#: The pair amplitude as a method of the labelled route (blocks, pools, dask chunks):
#: ~15 µs a point on one core (two overlap kernels per point).
PAIR_AMPLITUDE = Method(block=pair_amplitude_block, outputs=(("amplitude", np.complex128),),
                        block_size=8192, seconds_per_point=1.5e-5, isolate=False)


# ---------------------------------------------------------------------------- grids


def _axis(values: Any, role: str, dim: str) -> xr.DataArray:
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


def conjugate_grid(pump: float, signal: Any) -> np.ndarray:
    """The idler wavelengths 1/(1/λ_p − 1/λ_s) of a signal grid, ascending (m).

    Examples
    --------
    >>> (conjugate_grid(775e-9, [1540e-9, 1550e-9, 1560e-9]) * 1e9).round(3)
    array([1540.127, 1550.   , 1560.131])
    """
    sig = np.asarray(signal, dtype=np.float64)
    return np.sort(1 / (1 / pump - 1 / sig))


def _scalar(value: Any, role: str, kind: str | None) -> float:
    da = inputs.check_physical(value, role, kind, positive=kind != "temperature")
    if da.ndim:
        raise ValueError(f"{role} must be a single number here, not of sizes "
                         f"{dict(da.sizes)}")
    return float(da)


def _sweep(value: Any, role: str, kind: str | None) -> xr.DataArray:
    """A checked input that may be a DataArray over sweep dims (not the spectral ones)."""
    da = inputs.check_physical(value, role, kind, positive=kind != "temperature")
    spectral = [d for d in da.dims if d in (SIGNAL_DIM, IDLER_DIM)]
    if spectral:
        raise ValueError(f"{role} has the spectral dim(s) {spectral}: the signal and idler "
                         "wavelengths are the JSA's own axes; sweep a parameter over another "
                         "dim (e.g. dims='length')")
    return da.rename(role) if da.name is None else da


def _omega_weights(coord: xr.DataArray) -> np.ndarray:
    """Quadrature weights |dω| of a grid: in angular frequency for a wavelength grid
    (``units`` "m"), else in the coordinate's own variable."""
    x = np.asarray(coord.values, dtype=np.float64)
    if coord.attrs.get("units") == "m":
        x = 2 * np.pi * C / x
    return np.abs(np.gradient(x))


def _pols(polarizations: Any) -> tuple[str, str, str]:
    """(pump, signal, idler) labels; their values were checked by phase_mismatch."""
    triple = tuple(polarizations)
    if len(triple) != 3:
        raise ValueError(f"polarizations must name 3 beams (pump, signal, idler), not "
                         f"{polarizations!r}")
    return triple  # type: ignore[return-value]


# ---------------------------------------------------------------------------- the JSA


def joint_spectrum(crystal: Crystal, *, pump: float, signal: Any, temperature: Any,
                   length: Any, polarizations: Sequence[str] | str,
                   pump_waist: Any = None, signal_waist: Any = None,
                   idler_waist: Any = None, xi: Any = None, idler: Any = None,
                   pump_bandwidth: Any = None, poling_period: Any = None, order: int = 1,
                   angle: float | None = None, focus_wavelength: float | None = None,
                   workers: int | Executor | None = None,
                   chunks: int | str | Mapping[str, int] | None = None) -> xr.DataArray:
    """The joint spectral amplitude ψ(λ_s, λ_i) of a CW or pulsed Gaussian pump.

    By default (the waists given) ψ is the exact paraxial pair amplitude into the two fibre
    modes with every wave number at its own frequency:

        ψ(ω_s, ω_i) = N · α(ω_s + ω_i) · √(ω_s ω_i)/(n_s n_i) · 𝒜(φ, ξ_p, ξ_s, ξ_i,
        k_s/k_p, k_i/k_p),  ξ_j = L/(k_j w_j²)

    (:func:`xr_spdc.numerics.coupling.pair_amplitude`, docs/physics/coupling.md).  With
    ``xi=`` it is Bennink's fixed-ξ form ψ = N · α(ω_s + ω_i) · O(φ(ω_s, ω_i), ξ) (Phys.
    Rev. A 81, 053805 (2010), Eq. 28).  α(ω) = exp(−(ω − ω_p)²/(2σ²)) is a Gaussian pump
    amplitude whose intensity |α|² has the FWHM ``pump_bandwidth`` (σ = Δω_FWHM/(2√ln 2),
    Δω = 2πc Δλ/λ_p²), φ comes from :func:`xr_spdc.crystals.phase_mismatch` at the pump
    wavelength 1/(1/λ_s + 1/λ_i), and N makes ∫∫|ψ|² dω_s dω_i = 1 on the grid (for each
    swept value).

    Parameters
    ----------
    crystal, polarizations, order, angle
        As for :func:`xr_spdc.crystals.phase_mismatch`.
    pump : float
        Centre pump wavelength λ_p in m.
    signal : array_like or 1-D DataArray
        Signal wavelengths in m (a grid; becomes the ``signal_wavelength`` dim).
    temperature, length, poling_period : float or DataArray
        °C, m, m.  DataArrays sweep: the result gains their dims.
    pump_waist, signal_waist, idler_waist : float or DataArray
        Waists (1/e² intensity radii, m) of the pump and of the signal and idler fibre
        modes, for the exact fibre-coupled JSA (the default form); DataArrays sweep.
    xi : float or DataArray, optional
        Bennink's aggregate focus ξ for the fixed-ξ form instead (e.g. from
        :func:`xr_spdc.aggregate_focus_from_beams`); give either ``xi`` or the waists.
        ξ → 0 gives the plane-wave limit O → 2√ξ sinc(φ/2).
    idler : array_like or 1-D DataArray, optional
        Idler wavelengths in m (pulsed pump only).  Default: the signal grid's
        energy-conserving partners at λ_p (:func:`conjugate_grid`).
    pump_bandwidth : float or DataArray, optional
        FWHM of the pump's intensity spectrum, in m of wavelength.  None: a CW pump, and the
        result is 1-D over ``signal_wavelength`` with the idler as a coordinate.
    focus_wavelength : float, optional
        None (default): every beam is focused at the crystal centre at every frequency.  A
        signal wavelength λ_s0 (m): the fibre modes' foci are fixed in air by lenses
        outside the crystal, at the crystal centre for λ_s0 and its partner
        1/(1/λ_p − 1/λ_s0); a mode at another frequency then focuses at
        μ_j = 1 − n_j(ω)/n_j(ω_0) (in units of L/2 from the centre), SPDCalc's 'auto' waist
        positions (the pump's focus stays at the centre, as there).  Fibre-coupled form
        only.
    workers : int, concurrent.futures.Executor or None, default None
        As for :func:`xr_spdc.overlap` (None: the automatic choice).
    chunks : int, "auto" or dict, optional
        Chunk the sweep dims with dask: the result is lazy (computed block by block, e.g.
        by :func:`schmidt_decomposition`); the spectral dims stay whole.

    Returns
    -------
    xarray.DataArray
        ``jsa``, complex128, dims (``signal_wavelength``, ``idler_wavelength``, then the
        swept dims in the order of the parameters above) (CW: ``signal_wavelength``
        first), in s (so that ∫∫|ψ|² dω_s dω_i = 1), with the
        pump, crystal, form and normalisation in attrs and each swept input as a
        coordinate.

    Raises
    ------
    ValueError
        Both or neither of ``xi`` and the waists, a pump narrower than the grid, a grid
        beyond :data:`MAX_SPECTRUM_POINTS` (eagerly), a swept input on a spectral dim, or
        the bad inputs :func:`xr_spdc.crystals.phase_mismatch` refuses.

    See Also
    --------
    schmidt_decomposition, marginal_bandwidths, joint_spectrum_of

    Notes
    -----
    Against SPDCalc (spdcalc-py 1.0.1, ``joint_spectrum(Integrator.simpson(400))``) on its
    converged 200 × 200 grid for type-II PPKTP (KTP_xy, 10 mm, 25 °C, 30/42/42 µm, 1 nm
    pump), after removing its reference-plane phase (pump at the entrance face, signal and
    idler at the exit face and their fibre foci) and normalising both to Σ|ψ|² = 1:
    max |Δψ| = 9.5e-6 of the peak with the foci at the centre, 2.4e-7 with
    ``focus_wavelength=1550e-9`` (SPDCalc's convention), of which 1.6e-7 is the
    conversion of the pump's FWHM from wavelength to frequency (SPDCalc uses
    2πc[1/(λ_p − Δλ/2) − 1/(λ_p + Δλ/2)]) and the rest its Simpson rule at the window's
    corner (tests/data/spdcalc_jsa_comparison.json).

    Examples
    --------
    >>> import numpy as np
    >>> lam = np.linspace(1545e-9, 1555e-9, 41)
    >>> psi = joint_spectrum("KTP_xy", pump=775e-9, signal=lam, temperature=25.0,
    ...                      length=10e-3, pump_waist=30e-6, signal_waist=42e-6,
    ...                      idler_waist=42e-6, polarizations="eeo",
    ...                      poling_period=45.03e-6, pump_bandwidth=0.5e-9)
    >>> psi.dims, psi.dtype
    (('signal_wavelength', 'idler_wavelength'), dtype('complex128'))
    """
    from ..labelled.route import evaluate, overlap

    checked_workers = inputs.check_workers(workers)
    fibre = _check_form(xi, (pump_waist, signal_waist, idler_waist), focus_wavelength)
    lp = _scalar(pump, "pump", "wavelength")
    swept = _swept_inputs(fibre, temperature=temperature, length=length,
                          pump_waist=pump_waist, signal_waist=signal_waist,
                          idler_waist=idler_waist, xi=xi, pump_bandwidth=pump_bandwidth,
                          poling_period=poling_period)
    sig, idl = _grids(signal, idler, lp)
    if pump_bandwidth is None and idl is not None:
        raise ValueError("idler is fixed by energy conservation for a CW pump "
                         "(pump_bandwidth=None): leave it out")
    if pump_bandwidth is not None and idl is None:
        idl = _axis(conjugate_grid(lp, sig.values), "idler", IDLER_DIM)
    sweep_sizes: dict[Hashable, int] = {d: n for da in swept.values()
                                        for d, n in da.sizes.items()}
    spectral: dict[Hashable, int] = {str(g.dims[0]): g.size for g in (sig, idl)
                                     if g is not None}
    # before any allocation: the spectral grid (and, eagerly, every swept value) in memory
    inputs.check_eager_size(spectral if chunks is not None else {**spectral, **sweep_sizes},
                            limit=MAX_SPECTRUM_POINTS, how=_IN_PIECES)
    chunk_map = _sweep_chunks(chunks, sweep_sizes)
    lam = _wavelengths(lp, sig, idl, swept)
    # The pump wavelength of each point is 1/(1/lambda_s + 1/lambda_i); phase_mismatch
    # returns the idler as its energy-conserving partner, so phi is computed in one place.
    phi = crystals.phase_mismatch(
        crystal, pump=lam["pump"].rename("pump"), signal=lam["signal"].rename("signal"),
        temperature=swept["temperature"], length=swept["length"],
        polarizations=polarizations, poling_period=swept.get("poling_period"), order=order,
        angle=angle).reset_coords(drop=True).rename("phi")
    if fibre:
        amplitude = _fibre_amplitude(crystal, phi, lam, swept, _pols(polarizations), angle,
                                     lp, focus_wavelength, checked_workers, chunk_map, evaluate)
    else:
        kernel_chunks = _chunks_of(chunk_map, phi, swept["xi"])
        amplitude = overlap(phi=phi, xi=swept["xi"], chunks=kernel_chunks,
                            workers=None if kernel_chunks else checked_workers
                            ).reset_coords(drop=True)
    values, alpha_desc = _times_pump(amplitude, lam, swept, lp)
    if chunk_map is not None:  # lazy: the sweep dims in chunks, the spectral dims whole
        values = values.chunk({d: c for d, c in chunk_map.items() if d in values.dims})
    psi = _normalised(values, sig, idl, swept)
    return _labelled_jsa(psi, sig, idl, lam, swept, phi.attrs, lp, {
        "form": ("exact paraxial fibre coupling, k_j(omega) per frequency" if fibre
                 else "Bennink fixed xi"),
        "formula": FIBRE_FORMULA if fibre else JSA_FORMULA,
        "references": FIBRE_REFERENCES if fibre else REFERENCES, "pump": alpha_desc,
        "focus": ("at the crystal centre for every frequency" if focus_wavelength is None
                  else f"fibre foci fixed in air: at the centre for signal "
                       f"{focus_wavelength:g} m")})


def _check_form(xi: Any, waists: tuple[Any, Any, Any], focus_wavelength: Any) -> bool:
    """True for the fibre-coupled form (the three waists), False for Bennink's (xi=)."""
    fibre = xi is None
    beams = ("pump", "signal", "idler")
    if not fibre and any(w is not None for w in waists):
        raise ValueError("give either xi= (Bennink's fixed-xi form) or pump_waist=, "
                         "signal_waist=, idler_waist= (the exact fibre-coupled form), not "
                         "both")
    if fibre and any(w is None for w in waists):
        missing = [f"{beam}_waist" for beam, w in zip(beams, waists, strict=True) if w is None]
        raise ValueError(f"joint_spectrum needs {', '.join(missing)} (m, 1/e^2 intensity "
                         "radii) for the exact fibre-coupled JSA, or xi= for Bennink's "
                         "fixed-xi form")
    if focus_wavelength is not None and not fibre:
        raise ValueError("focus_wavelength places the beams' foci of the fibre-coupled "
                         "form; Bennink's fixed-xi form (xi=) has one aggregate focus")
    return fibre


#: The kinds check_physical checks each sweepable input against.
_SWEEP_KINDS = {"temperature": "temperature", "length": "length", "pump_waist": "waist",
                "signal_waist": "waist", "idler_waist": "waist", "xi": None,
                "pump_bandwidth": None, "poling_period": "poling_period"}


def _swept_inputs(fibre: bool, **given: Any) -> dict[str, xr.DataArray]:
    """The checked, aligned inputs that may sweep, in the signature's order (the order of
    the result's swept dims); those that do not apply are left out."""
    skip = {"xi"} if fibre else {"pump_waist", "signal_waist", "idler_waist"}
    swept = {role: _sweep(value, role, _SWEEP_KINDS[role]) for role, value in given.items()
             if role not in skip and value is not None}
    return inputs.align(swept)


def _grids(signal: Any, idler: Any, lp: float) -> tuple[xr.DataArray, xr.DataArray | None]:
    sig = _axis(signal, "signal", SIGNAL_DIM)
    if np.any(sig.values <= lp):
        raise ValueError(f"signal must be longer than pump ({lp:g} m); its grid starts at "
                         f"{float(sig.min()):g} m")
    return sig, None if idler is None else _axis(idler, "idler", IDLER_DIM)


def _wavelengths(lp: float, sig: xr.DataArray, idl: xr.DataArray | None,
                 swept: Mapping[str, xr.DataArray]) -> dict[str, xr.DataArray]:
    """λ_p, λ_s, λ_i of every grid point (a pulsed pump: λ_p = 1/(1/λ_s + 1/λ_i))."""
    if idl is None:
        lam = {"pump": xr.full_like(sig, lp), "signal": sig}
    else:
        _check_resolved(float(swept["pump_bandwidth"].min()), lp, sig, idl)
        s2, i2 = xr.broadcast(sig, idl)
        lam = {"pump": 1 / (1 / s2 + 1 / i2), "signal": s2}
    lam["idler"] = 1 / (1 / lam["pump"] - 1 / lam["signal"])
    return lam


def _times_pump(amplitude: xr.DataArray, lam: Mapping[str, xr.DataArray],
                swept: Mapping[str, xr.DataArray], lp: float) -> tuple[xr.DataArray, str]:
    """The amplitude times the pump's spectral amplitude α(ω_s + ω_i), and its description."""
    if "pump_bandwidth" not in swept:
        return amplitude, "CW pump: w_s + w_i = w_p"
    omega_p = 2 * np.pi * C / lp
    bandwidth = swept["pump_bandwidth"]
    # FWHM of |alpha|^2 in angular frequency, from the wavelength FWHM at lambda_p
    sigma = (2 * np.pi * C * bandwidth.variable / lp**2) / (2 * np.sqrt(np.log(2)))
    omega_sum = 2 * np.pi * C / lam["pump"].variable
    alpha = np.exp(-((omega_sum - omega_p) ** 2) / (2 * sigma**2))
    if bandwidth.ndim:
        return amplitude * xr.DataArray(alpha), ("Gaussian pump, intensity FWHM "
                                                 "pump_bandwidth (m)")
    return amplitude * xr.DataArray(alpha), (
        f"Gaussian pump, intensity FWHM {float(bandwidth):g} m "
        f"({2 * np.pi * C * float(bandwidth) / lp**2:.6g} rad/s)")


def _normalised(values: xr.DataArray, sig: xr.DataArray, idl: xr.DataArray | None,
                swept: Mapping[str, xr.DataArray]) -> xr.DataArray:
    """ψ/N with Σ|ψ|² Δω_s Δω_i = 1 for each swept value; dims spectral first, then the
    swept ones in the signature's order."""
    weights = xr.DataArray(_omega_weights(sig), dims=SIGNAL_DIM)
    spectral_dims = [SIGNAL_DIM]
    if idl is not None:
        weights = weights * xr.DataArray(_omega_weights(idl), dims=IDLER_DIM)
        spectral_dims.append(IDLER_DIM)
    with xr.set_options(keep_attrs=False):
        norm = ((abs(values) ** 2 * weights).sum(spectral_dims)) ** 0.5
    if norm.chunks is None and not bool((norm > 0).all()):
        raise ValueError("the joint spectrum vanishes on this grid (the pump and phase "
                         "matching do not overlap): move or widen the signal/idler grid")
    sweep_order = dict.fromkeys(d for da in swept.values() for d in da.dims)
    return (values / norm).transpose(*spectral_dims, *sweep_order)


def _labelled_jsa(psi: xr.DataArray, sig: xr.DataArray, idl: xr.DataArray | None,
                  lam: Mapping[str, xr.DataArray], swept: Mapping[str, xr.DataArray],
                  phi_attrs: Mapping[str, Any], lp: float, form: Mapping[str, Any]
                  ) -> xr.DataArray:
    """Coordinates (the grids; each swept input) and attrs (each single input, the form)."""
    coords: dict[str, Any] = {SIGNAL_DIM: sig}
    if idl is None:
        coords["idler"] = lam["idler"].reset_coords(drop=True).assign_attrs(
            long_name="idler wavelength", units="m")
    else:
        coords[IDLER_DIM] = idl
    single: dict[str, Any] = {"poling_period": np.nan}
    for role, da in swept.items():  # a swept input is a coordinate, a single one an attr
        if da.ndim:
            if role not in psi.coords:
                coords[role] = da.variable
            single.pop(role, None)
        else:
            single[role] = float(da)
    psi = psi.assign_coords(coords).rename("jsa")
    psi.attrs = names.attrs("jsa", **{
        **form, "pump_wavelength": lp, **single,
        "phase_reference": "crystal centre (all beams)",
        "temperature_units": crystals.TEMPERATURE_UNITS,
        **{key: phi_attrs[key] for key in ("polarizations", *crystals.SOURCE_ATTRS)}})
    return psi


def _fibre_amplitude(crystal: Any, phi: xr.DataArray, lam: Mapping[str, xr.DataArray],
                     swept: Mapping[str, xr.DataArray], pols: tuple[str, str, str],
                     angle: float | None, lp: float, focus_wavelength: float | None,
                     workers: int | Executor | None, chunk_map: dict[str, Any] | None,
                     evaluate: Any
                     ) -> xr.DataArray:
    """√(ω_s ω_i)/(n_s n_i) · k_p · (𝒜/k_p) at every point, each k_j at its frequency."""
    beams = ("pump", "signal", "idler")
    temperature = swept["temperature"]
    n = {beam: crystals.refractive_index(crystal, lam[beam].rename("wavelength"),
                                         temperature, polarization=pol, angle=angle
                                         ).reset_coords(drop=True)
         for beam, pol in zip(beams, pols, strict=True)}
    with xr.set_options(keep_attrs=False):
        k = {beam: 2 * np.pi * n[beam] / lam[beam] for beam in beams}
        args: dict[str, xr.DataArray | float] = {"phi": phi}
        for beam, short in zip(beams, "psi", strict=True):
            args[f"xi_{short}"] = swept["length"] / (k[beam] * swept[f"{beam}_waist"] ** 2)
        args["ratio_s"] = k["signal"] / k["pump"]
        args["ratio_i"] = k["idler"] / k["pump"]
        if focus_wavelength is None:
            args.update(mu_p=0.0, mu_s=0.0, mu_i=0.0)
        else:
            ls0 = _scalar(focus_wavelength, "focus_wavelength", "wavelength")
            if not ls0 > lp:
                raise ValueError(f"focus_wavelength must be a signal wavelength, longer than "
                                 f"the pump ({lp:g} m), not {ls0:g} m")
            # The fibre modes' foci are fixed in air; the pump's stays at the centre (its
            # ~1 nm moves it by parts in 1e5 of L), SPDCalc's convention.
            centre = {"signal": ls0, "idler": 1 / (1 / lp - 1 / ls0)}
            args["mu_p"] = 0.0
            for beam, short, pol in zip(beams[1:], "si", pols[1:], strict=True):
                n0 = crystals.refractive_index(crystal, centre[beam], temperature,
                                               polarization=pol, angle=angle)
                args[f"mu_{short}"] = 1 - n[beam] / n0.reset_coords(drop=True)
        args = {role: a.rename(role) if isinstance(a, xr.DataArray) else a
                for role, a in args.items()}
        kernel_chunks = _chunks_of(chunk_map, *(a for a in args.values()
                                                if isinstance(a, xr.DataArray)))
        amp = evaluate(PAIR_AMPLITUDE, args, name="amplitude",
                       workers=None if kernel_chunks else workers,
                       chunks=kernel_chunks).reset_coords(drop=True)
        omega = {beam: 2 * np.pi * C / lam[beam] for beam in ("signal", "idler")}
        factor = np.sqrt(omega["signal"] * omega["idler"]) / (n["signal"] * n["idler"])
        return amp * (k["pump"] * factor)


def _sweep_chunks(chunks: Any, sweep_sizes: Mapping[Hashable, int]
                  ) -> dict[str, Any] | None:
    """``chunks`` as a dict over the swept dims (an int or "auto": every swept dim); the
    spectral dims are never chunked (each spectrum is one SVD)."""
    if chunks is None:
        return None
    inputs.require_dask()
    chunk_map = (dict(chunks) if isinstance(chunks, Mapping)
                 else {str(d): chunks for d in sweep_sizes})
    bad = [d for d in chunk_map if d not in sweep_sizes]
    if bad:
        raise ValueError(f"chunks names {bad}, but only the swept dims {list(sweep_sizes)} "
                         "are chunked (the spectral dims stay whole: each spectrum is one "
                         "SVD)")
    return chunk_map


def _chunks_of(chunk_map: Mapping[str, Any] | None, *arrays: xr.DataArray
               ) -> dict[str, Any] | None:
    """The part of ``chunk_map`` over the dims of ``arrays`` (None if empty)."""
    if not chunk_map:
        return None
    dims = {d for a in arrays for d in a.dims}
    return {d: c for d, c in chunk_map.items() if d in dims} or None


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
                      "than 1e-4 (refine the grids)", UserWarning, stacklevel=4)


# ---------------------------------------------------------------------------- analysis


def _spectral_dims(jsa: Any, dims: Any, counts: tuple[int, ...]) -> tuple[str, ...]:
    """The JSA's spectral dims: ``dims`` if given, else signal/idler_wavelength when present,
    else all dims of a DataArray with at most two."""
    if not isinstance(jsa, xr.DataArray):
        raise TypeError(f"jsa must be a DataArray, e.g. from joint_spectrum, not "
                        f"{type(jsa).__name__}")
    if dims is None:
        if SIGNAL_DIM in jsa.dims:
            found = tuple(d for d in (SIGNAL_DIM, IDLER_DIM) if d in jsa.dims)
        elif jsa.ndim <= 2:
            found = tuple(str(d) for d in jsa.dims)
        else:
            raise ValueError(f"jsa has dims {list(jsa.dims)}: name its spectral dims with "
                             f"dims=(signal_dim, idler_dim); the others are swept")
    else:
        found = (dims,) if isinstance(dims, str) else tuple(dims)
        missing = [d for d in found if d not in jsa.dims]
        if missing:
            raise ValueError(f"dims {missing} are not dims of jsa ({list(jsa.dims)})")
    if len(found) not in counts:
        if counts == (2,):
            raise ValueError("jsa must have two spectral dims (signal, idler), e.g. from "
                             "joint_spectrum with a pulsed pump; a CW spectrum has "
                             f"K = infinity (it has {list(found)})")
        raise ValueError(f"jsa must have 1 or 2 spectral dims, not {list(found)}")
    _check_grids(jsa, found)
    return found


def _check_grids(jsa: xr.DataArray, dims: Sequence[str]) -> None:
    for d in dims:
        if d not in jsa.coords:
            raise ValueError(f"jsa's dim {d!r} needs a coordinate (its grid)")
    if jsa.dtype.kind not in "iufc":
        raise TypeError(f"jsa must hold numbers, not dtype {jsa.dtype}")


def _check_block(values: np.ndarray, names: Sequence[Hashable], ncore: int,
                 lazy: bool) -> None:
    """Refuse non-finite values, or a spectrum (a slice over the last ``ncore`` axes) with
    none that differ from 0: it has no Schmidt decomposition and no bandwidth (NaN, or an
    SVD that does not converge).  ``names`` are the axes' dims, for the message."""
    where = " (in a dask chunk)" if lazy else ""
    bad = ~np.isfinite(values)
    if bad.any():
        first = dict(zip(map(str, names), map(int, np.argwhere(bad)[0]), strict=True))
        raise ValueError(f"jsa must be finite; {int(bad.sum())} of {bad.size} values are not "
                         f"(the first at index {first}{where})")
    nbatch = values.ndim - ncore
    zero = ~np.any(values != 0, axis=tuple(range(nbatch, values.ndim)))
    if np.any(zero):
        at = dict(zip(map(str, names[:nbatch]), map(int, np.argwhere(zero)[0]),
                      strict=True)) if nbatch else {}
        sizes = dict(zip(map(str, names[nbatch:]), values.shape[nbatch:], strict=True))
        raise ValueError(f"jsa is zero everywhere on its grid (sizes {sizes}"
                         f"{f' at index {at}' if at else ''}{where}): it has no Schmidt "
                         "modes and no bandwidth; move or widen the grid to where the source "
                         "emits")


def _core_names(jsa: xr.DataArray, core: Sequence[str]) -> list[Hashable]:
    """The axis order apply_ufunc hands a core function: the other dims, then ``core``."""
    return [d for d in jsa.dims if d not in core] + list(core)


def _whole(jsa: xr.DataArray, core: Sequence[str]) -> xr.DataArray:
    """A dask-backed JSA with each spectral dim in one chunk (the SVD needs whole matrices)."""
    return jsa.chunk({d: -1 for d in core}) if jsa.chunks is not None else jsa


def _drop_spectral_coords(result: xr.DataArray, core: Sequence[str]) -> xr.DataArray:
    """Drop coordinates that lived on the spectral dims (e.g. a CW spectrum's idler)."""
    return result.drop_vars([c for c in result.coords if set(core) & set(result[c].dims)])


def _singular_values(values: np.ndarray, ws: np.ndarray, wi: np.ndarray, *, estimator: str,
                     names: Sequence[Hashable], lazy: bool) -> np.ndarray:
    """Singular values of ψ √(w_s w_i) (of |ψ| √(w_s w_i) for "modulus"), batched over the
    leading axes: one LAPACK call on the stacked matrices."""
    _check_block(values, names, 2, lazy)
    matrix = np.abs(values) if estimator == "modulus" else values
    # One BLAS thread: OpenBLAS's threads make a 201 x 201 SVD 30x slower on a busy
    # machine (measured 0.40 s against 0.014 s), and the batch is the parallelism.
    with threadpool_limits(limits=1, user_api="blas"):
        return np.linalg.svd(matrix * np.sqrt(np.outer(ws, wi)), compute_uv=False)


def schmidt_decomposition(jsa: xr.DataArray, *, estimator: str = "complex",
                          dims: Sequence[str] | None = None) -> xr.Dataset:
    """The Schmidt coefficients λ_k, the Schmidt number K = 1/Σλ_k² and the purity 1/K of
    a joint spectral amplitude, over any swept dims (Law, Walmsley & Eberly, PRL 84, 5304
    (2000)).

    The SVD of ψ_jk √(w_j w_k), with w the grid's quadrature weights (|Δω| for wavelength
    coordinates, whose ``units`` is "m", so the decomposition is that of ψ(ω_s, ω_i);
    the coordinate's own spacing otherwise), gives singular values s_k and λ_k = s_k²/Σs².
    It reduces over the two spectral dims only (``xr.apply_ufunc`` with those as core dims,
    one batched SVD of the stacked matrices), eagerly or, for a dask-backed ``jsa``,
    lazily chunk by chunk.

    Parameters
    ----------
    jsa : xarray.DataArray
        Real or complex, with a coordinate on each spectral dim, e.g. from
        :func:`joint_spectrum`; any other dims are swept.
    estimator : {"complex", "modulus"}, default "complex"
        "complex": the decomposition of ψ itself, the state's own Schmidt number (1/K is
        the heralded two-source HOM visibility; SPDCalc's ``hom_two_source_visibilities``
        equals 1/K of this).  "modulus": that of |ψ|, the phase dropped, which is what
        SPDCalc's ``schmidt_number`` reports (verified to 1e-15 on its own JSA); it is
        smaller when ψ has a non-separable phase (tight focus, a chirped pump): 1.13289
        against 1.15234 for type-II PPKTP at 30/42/42 µm.
    dims : (str, str), optional
        The spectral dims.  Default: (``signal_wavelength``, ``idler_wavelength``), or both
        dims of a 2-D ``jsa``.

    Returns
    -------
    xarray.Dataset
        ``schmidt_coefficients`` (λ_k, descending, on dim ``mode``), ``schmidt_number`` K
        and ``purity`` 1/K, each over the swept dims.

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
    core = _spectral_dims(jsa, dims, (2,))
    estimator = inputs.check_choice(estimator, "estimator", ESTIMATORS)
    ds_, di_ = core
    axes = _core_names(jsa, core)
    lazy = jsa.chunks is not None
    if not lazy:  # eagerly, a bad value is named by its index in the whole array
        _check_block(np.asarray(jsa.transpose(*axes).values), axes, 2, False)
    modes = min(jsa.sizes[ds_], jsa.sizes[di_])
    s = xr.apply_ufunc(
        _singular_values, _whole(jsa, core), input_core_dims=[list(core)],
        output_core_dims=[["mode"]], dask="parallelized",
        dask_gufunc_kwargs={"output_sizes": {"mode": modes},  # meta: real, not jsa's
                            "meta": np.empty((0,) * (jsa.ndim - 1), np.float64)},
        kwargs={"ws": _omega_weights(jsa[ds_]), "wi": _omega_weights(jsa[di_]),
                "estimator": estimator, "names": axes, "lazy": lazy})
    s = _drop_spectral_coords(s, core)
    with xr.set_options(keep_attrs=False):
        lam = s**2 / (s**2).sum("mode")
        k = 1 / (lam**2).sum("mode")
    of = "|psi|" if estimator == "modulus" else "psi"
    return xr.Dataset(
        {"schmidt_coefficients": lam.assign_attrs(names.attrs(
            "schmidt_coefficients",
            formula=f"lambda_k = s_k^2/sum s^2, s = svd({of} sqrt(w_s w_i))")),
         "schmidt_number": k.assign_attrs(names.attrs("schmidt_number")),
         "purity": (1 / k).assign_attrs(names.attrs("purity"))},
        coords={"mode": np.arange(modes)},
        attrs={"references": names.LAW_WALMSLEY_EBERLY,
               "estimator": ("complex: svd of psi" if estimator == "complex" else
                             "modulus: svd of |psi|, phase dropped (SPDCalc's "
                             "schmidt_number)"),
               "grid_points": f"{jsa.sizes[ds_]} x {jsa.sizes[di_]}"})


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


def _marginal_fwhm(values: np.ndarray, *, x: np.ndarray, other_weights: np.ndarray | None,
                   axis: int, names: Sequence[Hashable], lazy: bool) -> np.ndarray:
    """FWHM of the marginal along spectral axis ``axis`` (0: signal, 1: idler; the core
    axes are last), batched over the leading axes."""
    ncore = 1 if other_weights is None else 2
    _check_block(values, names, ncore, lazy)
    intensity = np.abs(values) ** 2
    if other_weights is None:
        marginal = intensity
    elif axis == 0:  # integrate over the idler (the last axis)
        marginal = intensity @ other_weights
    else:  # over the signal
        marginal = np.einsum("...ji,j->...i", intensity, other_weights)
    flat = marginal.reshape(-1, marginal.shape[-1])
    return np.array([_fwhm(x, row) for row in flat]).reshape(marginal.shape[:-1])


def marginal_bandwidths(jsa: xr.DataArray, *, dims: Sequence[str] | None = None
                        ) -> xr.Dataset:
    """FWHM of the signal and idler marginal spectra of a joint spectral amplitude, over
    any swept dims.

    The marginal S(λ_s) = ∫|ψ|² dω_i (and likewise for the idler), its FWHM in the
    coordinate's unit (m for wavelengths), half-maximum crossings interpolated linearly.
    A 1-D (CW) spectrum gives the signal's FWHM only.  Reduces over the spectral dims
    only, eagerly or lazily (dask).

    Parameters
    ----------
    jsa : xarray.DataArray
        From :func:`joint_spectrum` (pulsed or CW), or any DataArray with coordinates.
    dims : str or sequence of str, optional
        The spectral dims (signal first).  Default: ``signal_wavelength`` (and
        ``idler_wavelength``) when present, else all dims of a DataArray with at most two.

    Returns
    -------
    xarray.Dataset
        ``signal_bandwidth`` (and ``idler_bandwidth``), FWHM over the swept dims; NaN where
        the grid does not contain both half-maximum points (widen it).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> x = np.linspace(-5, 5, 2001)
    >>> g = xr.DataArray(np.exp(-x**2 / 2), dims="s", coords={"s": x})  # |g|^2: sigma 1/√2
    >>> round(float(marginal_bandwidths(g).signal_bandwidth), 4)  # 2 sqrt(ln 2)
    1.6651
    """
    core = _spectral_dims(jsa, dims, (1, 2))
    axes = _core_names(jsa, core)
    lazy = jsa.chunks is not None
    if not lazy:
        _check_block(np.asarray(jsa.transpose(*axes).values), axes, len(core), False)
    whole = _whole(jsa, core)
    out = {}
    for axis, (dim, name) in enumerate(zip(core, ("signal_bandwidth", "idler_bandwidth"),
                                           strict=False)):
        other = [d for d in core if d != dim]
        width = xr.apply_ufunc(
            _marginal_fwhm, whole, input_core_dims=[list(core)], dask="parallelized",
            dask_gufunc_kwargs={"meta": np.empty((0,) * (jsa.ndim - len(core)), np.float64)},
            kwargs={"x": np.asarray(jsa[dim].values, dtype=np.float64),
                    "other_weights": _omega_weights(jsa[other[0]]) if other else None,
                    "axis": axis, "names": axes, "lazy": lazy})
        out[name] = _drop_spectral_coords(width, core).assign_attrs(
            long_name=f"{name.split('_')[0]} bandwidth (FWHM)",
            units=jsa[dim].attrs.get("units", ""),
            formula="FWHM of the marginal integral |psi|^2 d(omega of the other photon)")
    return xr.Dataset(out)


# ---------------------------------------------------------------------------- a Dataset


#: The arguments :func:`joint_spectrum_of` looks up in a Dataset, by these names.
SOURCE_ARGUMENTS = ("crystal", "pump", "signal", "idler", "temperature", "length",
                    "polarizations", "pump_waist", "signal_waist", "idler_waist", "xi",
                    "pump_bandwidth", "poling_period", "order", "angle", "focus_wavelength")


def joint_spectrum_of(ds: xr.Dataset, /, **arguments: Any) -> xr.DataArray:
    """The joint spectrum of the source a Dataset describes (``ds.spdc.joint_spectrum()``).

    Each argument of :func:`joint_spectrum` is taken from ``arguments`` when given, else
    from the Dataset by its name: a data variable or coordinate (any of which may be a
    dimension, and is then swept), else an attribute (e.g. ``crystal="KTP"``,
    ``polarizations="eeo"`` in ``ds.attrs``); what is found nowhere keeps its default.
    The signal grid is the variable ``signal``, else the coordinate ``signal_wavelength``
    (likewise the idler).

    Parameters
    ----------
    ds : xarray.Dataset
        The source: its crystal, wavelengths, temperature, length, waists, ...
    **arguments
        Any of :func:`joint_spectrum`'s arguments (and ``workers``, ``chunks``), overriding
        the Dataset.

    Returns
    -------
    xarray.DataArray
        As :func:`joint_spectrum`.

    Raises
    ------
    TypeError
        ``ds`` is not a Dataset, or an unknown argument.
    ValueError
        No crystal anywhere, or what :func:`joint_spectrum` refuses.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> src = xr.Dataset({"signal": ("s", np.linspace(1545e-9, 1555e-9, 21))},
    ...                  coords={"length": [5e-3, 10e-3]},
    ...                  attrs={"crystal": "KTP_xy", "polarizations": "eeo"})
    >>> psi = src.spdc.joint_spectrum(pump=775e-9, temperature=25.0, pump_waist=30e-6,
    ...                               signal_waist=42e-6, idler_waist=42e-6,
    ...                               poling_period=45.03e-6, pump_bandwidth=1e-9)
    >>> psi.dims
    ('signal_wavelength', 'idler_wavelength', 'length')
    """
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"joint_spectrum_of takes a Dataset, not {type(ds).__name__}")
    unknown = sorted(set(arguments) - set(SOURCE_ARGUMENTS) - {"workers", "chunks"})
    if unknown:
        raise TypeError(f"joint_spectrum_of got unknown arguments {unknown}; it takes "
                        f"{', '.join(SOURCE_ARGUMENTS)}, workers and chunks")
    found: dict[str, Any] = {}
    for name in SOURCE_ARGUMENTS:
        if name in arguments:
            continue
        alias = {"signal": SIGNAL_DIM, "idler": IDLER_DIM}.get(name)
        if name in ds.variables:
            found[name] = ds[name]
        elif alias is not None and alias in ds.variables:
            found[name] = ds[alias]
        elif name in ds.attrs:
            found[name] = ds.attrs[name]
    given = {**found, **arguments}
    if "crystal" not in given:
        raise ValueError("the Dataset names no crystal: set ds.attrs['crystal'] (e.g. 'KTP') "
                         "or pass crystal=")
    crystal = given.pop("crystal")
    return joint_spectrum(crystal, **given)
