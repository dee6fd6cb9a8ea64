r"""Hong–Ou–Mandel interference of SPDC photons, from a joint spectral amplitude.

Two experiments, both from the JSA ψ(ω_s, ω_i) alone (spectral degrees of freedom; the
photons are taken to be in one spatial and polarisation mode at the beam splitter):

**Signal–idler (HOM) interference of one source** (Hong, Ou & Mandel, PRL 59, 2044 (1987)).
The signal and idler meet on a 50:50 beam splitter, the signal delayed by τ relative to
the idler.  The coincidence probability is (Brańczyk, arXiv:1711.00080, Sec. 4: spectrally
entangled photons)

.. math:: P_c(\tau) = \frac12\Bigl(1 - \frac{\operatorname{Re}\iint
          \psi^*(\omega_s,\omega_i)\,\psi(\omega_i,\omega_s)\,
          e^{i(\omega_i-\omega_s)\tau}\,d\omega_s d\omega_i}{\iint|\psi|^2}\Bigr),

whose dip has the visibility V = 1 − 2 min_τ P_c (1 for a JSA symmetric under exchange).
The sign of τ is spdcalc-py's (``hom_rate_series``): a JSA carrying the arrival times
e^{i(ω_s t_s + ω_i t_i)} has its dip at τ = t_i − t_s (an idler arriving later by t is
matched by delaying the signal by t).

**Heralded two-source HOM.**  The signal photons of sources A and B meet on the beam
splitter (A's delayed by τ: B's photon arriving later by t is matched at τ = t), each
heralded by its idler detected without frequency
resolution (Graffitti et al., Optica 5, 514 (2018)).  With the heralded photon's reduced
density matrix ρ(ω, ω') = ∫ψ(ω, ω_i)ψ*(ω', ω_i)dω_i,

.. math:: P_c(\tau) = \frac12\Bigl(1 - \frac{\operatorname{Re}\iint
          \rho_A^*(\omega,\omega')\,\rho_B(\omega,\omega')\,e^{i(\omega'-\omega)\tau}
          \,d\omega d\omega'}{\operatorname{Tr}\rho_A \operatorname{Tr}\rho_B}\Bigr),

so for identical sources V = Tr ρ²/(Tr ρ)² = P, the heralded photon's purity (1/K).  The
same with the idlers interfering (signals heralding) uses ρ over ω_i.  These are spdcalc-py's
``hom_two_source_visibilities`` outputs ``ss`` (photon="signal") and ``ii``
(photon="idler"); its ``si`` (one source's signal against the other's idler) is not
computed here.

Discretisation: the integrals are sums over the grid with the weights |Δω| of
:func:`omega_weights` (the convention of :func:`xr_spdc.spectrum.joint_spectrum`), so
non-uniform grids (uniform in wavelength) are handled; the normalisation is computed, so an
unnormalised (e.g. filtered) JSA is fine.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..labelled.names import require_role

#: Speed of light in vacuum, m/s (exact, SI).
C = 299_792_458.0

SPECTRAL_DIMS = ("signal_wavelength", "idler_wavelength")
PHOTONS = ("signal", "idler")

HOM_FORMULA = ("P(tau) = (1 - Re sum psi*(w_s, w_i) psi(w_i, w_s) exp(i (w_i - w_s) tau) "
               "dw_s dw_i / sum |psi|^2 dw_s dw_i) / 2; V = 1 - 2 min P")
TWO_SOURCE_FORMULA = ("P(tau) = (1 - Re sum conj(rho_A(w, w')) rho_B(w, w') exp(i (w' - w) tau) "
                      "dw dw' / (Tr rho_A Tr rho_B)) / 2, rho(w, w') = sum_i psi(w, w_i) "
                      "conj(psi(w', w_i)) dw_i; V = 1 - 2 min P (= purity for identical "
                      "sources)")
REFERENCES = ("C. K. Hong, Z. Y. Ou and L. Mandel, Phys. Rev. Lett. 59, 2044 (1987); "
              "A. M. Branczyk, arXiv:1711.00080 (2017), Sec. 4 (spectrally entangled photons); "
              "F. Graffitti, P. Barrow, M. Proietti, D. Kundys and A. Fedrizzi, Optica 5, 514 "
              "(2018)")

# Interpolation (the swap or a second source on another grid): frequencies within this
# relative tolerance are the same grid point.
_SAME_GRID_RTOL = 1e-9


# ---------------------------------------------------------------------------- grids


def angular_frequency(coord: xr.DataArray, role: str = "jsa") -> np.ndarray:
    """Angular frequencies (rad/s) of a spectral coordinate, from its ``units``.

    ``"m"``: a vacuum wavelength, ω = 2πc/λ; ``"rad/s"``: ω itself (or a detuning from a
    centre common to both photons); ``"Hz"``: ω = 2πν.

    Raises
    ------
    ValueError
        If the units are none of these, or the values are not finite (and, for "m",
        positive).
    """
    units = coord.attrs.get("units")
    x = np.asarray(coord.values, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{role}'s coordinate {coord.name!r} must be finite")
    if units == "m":
        if not np.all(x > 0):
            raise ValueError(f"{role}'s coordinate {coord.name!r} holds wavelengths (units "
                             f"'m') that are not positive: {x[x <= 0][:5]}")
        return 2 * np.pi * C / x
    if units == "rad/s":
        return x
    if units == "Hz":
        return 2 * np.pi * x
    raise ValueError(f"{role}'s coordinate {coord.name!r} has units {units!r}: set its "
                     f"attrs['units'] to 'm' (wavelength), 'rad/s' or 'Hz'")


def omega_weights(omega: np.ndarray) -> np.ndarray:
    """Quadrature weights |dω| of a grid of angular frequencies: ``|np.gradient(ω)|``.

    The same weights as :func:`xr_spdc.spectrum.joint_spectrum`'s normalisation and
    :func:`xr_spdc.spectrum.schmidt_decomposition`, so Σ|ψ|² w_s w_i = 1 for its JSA.
    """
    return np.abs(np.gradient(np.asarray(omega, dtype=np.float64)))


def interpolation_matrix(x: np.ndarray, x_new: np.ndarray) -> np.ndarray:
    """The matrix A with f(x_new) ≈ A @ f(x): a cubic spline (linear below 4 points) through
    the samples, 0 outside [min x, max x] (the JSA is taken to vanish off its grid); exact
    (a permutation) where x_new are grid points.
    """
    from scipy.interpolate import make_interp_spline

    x = np.asarray(x, dtype=np.float64)
    x_new = np.asarray(x_new, dtype=np.float64)
    order = np.argsort(x)
    xs = x[order]
    scale = max(np.ptp(xs), np.max(np.abs(xs)))
    tol = _SAME_GRID_RTOL * scale
    out = np.zeros((x_new.size, x.size))
    pos = np.clip(np.searchsorted(xs, x_new), 0, xs.size - 1)
    near = np.where(np.abs(xs[pos] - x_new) <= tol, pos,
                    np.where(np.abs(xs[np.maximum(pos - 1, 0)] - x_new) <= tol,
                             np.maximum(pos - 1, 0), -1))
    exact = near >= 0
    out[np.flatnonzero(exact), order[near[exact]]] = 1.0
    inside = ~exact & (x_new > xs[0]) & (x_new < xs[-1])
    if inside.any():
        spline = make_interp_spline(xs, np.eye(xs.size), k=3 if xs.size >= 4 else 1)
        rows = spline(x_new[inside])
        out[np.ix_(np.flatnonzero(inside), order)] = rows
    return out


def _same_set(a: np.ndarray, b: np.ndarray) -> bool:
    if a.size != b.size:
        return False
    sa, sb = np.sort(a), np.sort(b)
    return bool(np.all(np.abs(sa - sb) <= _SAME_GRID_RTOL * np.max(np.abs(sa))))


# ---------------------------------------------------------------------------- kernels


def _curve(m: np.ndarray, a: np.ndarray, b: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Re Σ_jk m_jk e^{i(b_k − a_j)τ} for each τ; m (..., J, K), returns (..., T)."""
    e_b = np.exp(1j * np.multiply.outer(b, tau))          # (K, T)
    e_a = np.exp(-1j * np.multiply.outer(a, tau))         # (J, T)
    return np.einsum("...jt,jt->...t", m @ e_b, e_a).real


def _derivatives(m: np.ndarray, a: np.ndarray, b: np.ndarray, tau: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """I(τ), I'(τ), I''(τ) of I = Re Σ m_jk e^{i(b_k − a_j)τ}, one τ per batch element."""
    e_b = np.exp(1j * b * tau[..., None])                 # (..., K)
    e_a = np.exp(-1j * a * tau[..., None])                # (..., J)
    # one pass over m: m @ [e_b, b e_b, b² e_b], then the sums over j
    # (matrix-vector einsums: numpy's stacked matmul with a narrow right side is slow)
    v = np.stack([np.einsum("...jk,...k->...j", m, w) for w in (e_b, b * e_b, b * b * e_b)],
                 axis=-1)                                  # (..., J, 3)
    ea = e_a[..., None] * np.stack([np.ones_like(a), a, a * a], axis=-1)  # (..., J, 3)
    s = np.einsum("...jp,...jq->...pq", ea, v)             # s[p, q] = Σ a^p b^q m e
    f0 = s[..., 0, 0]
    f1 = s[..., 0, 1] - s[..., 1, 0]                       # Σ (b − a) m e
    f2 = s[..., 0, 2] - 2 * s[..., 1, 1] + s[..., 2, 0]    # Σ (b − a)² m e
    return f0.real, (1j * f1).real, -f2.real


def _binned(m: np.ndarray, a: np.ndarray, b: np.ndarray, step: float
            ) -> tuple[np.ndarray, float]:
    """g_n = Σ_{(b_k − a_j) in bin n} m_jk over bins of width ``step`` (..., N), and Δ_0."""
    from scipy import sparse

    delta = (b[None, :] - a[:, None]).ravel()
    lo = float(delta.min())
    index = np.rint((delta - lo) / step).astype(np.int64)
    nbins = int(index.max()) + 1
    binning = sparse.csr_matrix((np.ones(delta.size), (index, np.arange(delta.size))),
                                shape=(nbins, delta.size))
    flat = m.reshape(-1, delta.size)
    g = (binning @ flat.T).T
    return np.asarray(g).reshape(m.shape[:-2] + (nbins,)), lo


def _scan(m: np.ndarray, a: np.ndarray, b: np.ndarray, step: float, pad: int = 8
          ) -> tuple[np.ndarray, np.ndarray]:
    """Approximate Σ m e^{i(b−a)τ} (I is its real part) on a wide uniform τ grid, by FFT
    of m binned in b − a.

    Covers |τ| < π/(2 step) (half the grid's alias period); the binning moves each b − a by
    at most step/2, so this only locates the dip (refined exactly by :func:`_refine`)."""
    g, lo = _binned(m, a, b, step)
    n = g.shape[-1]
    size = 1 << int(np.ceil(np.log2(pad * n)))
    spectrum = np.fft.ifft(g, n=size, axis=-1) * size     # Σ_n g_n e^{+2πi n t/size}
    spectrum = np.fft.fftshift(spectrum, axes=-1)
    t = np.fft.fftshift(np.fft.fftfreq(size)) * 2 * np.pi / step
    # The sum over a grid of spacing 2 step repeats (nearly) with period π/step: keep one
    # period, |τ| < π/(2 step), the delays the grid can represent.
    keep = np.abs(t) < np.pi / (2 * step)
    return t[keep], (spectrum * np.exp(1j * lo * t))[..., keep]


def _refine(m: np.ndarray, a: np.ndarray, b: np.ndarray, tau0: np.ndarray, h: float,
            iterations: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Safeguarded Newton for the maximum of I(τ) near ``tau0``; steps ≤ ``h``."""
    tau = np.array(tau0, dtype=np.float64)
    for _ in range(iterations):
        f0, f1, f2 = _derivatives(m, a, b, tau)
        newton = np.where(f2 < 0, -f1 / np.where(f2 < 0, f2, -1.0), np.sign(f1) * h)
        move = np.clip(newton, -h, h)
        tau = tau + move
        if np.all(np.abs(move) <= 1e-9 * h):
            break
    f0, _, _ = _derivatives(m, a, b, tau)
    return f0, tau


def _maximum(m: np.ndarray, a: np.ndarray, b: np.ndarray, step: float
             ) -> tuple[np.ndarray, np.ndarray]:
    """The global maximum of I(τ) = Re Σ m e^{i(b−a)τ} (value, τ), batched."""
    t, scanned = _scan(m, a, b, step)
    approx = scanned.real
    h = 2 * (t[1] - t[0])
    # Refine the three best local maxima of the scan; keep the best.
    peaks = (approx >= np.roll(approx, 1, axis=-1)) & (approx >= np.roll(approx, -1, axis=-1))
    candidates = np.argsort(np.where(peaks, approx, -np.inf), axis=-1)[..., -3:]
    best_value = np.full(m.shape[:-2], -np.inf)
    best_tau = np.zeros(m.shape[:-2])
    for c in range(candidates.shape[-1]):
        value, tau = _refine(m, a, b, t[candidates[..., c]], h)
        better = value > best_value
        best_value = np.where(better, value, best_value)
        best_tau = np.where(better, tau, best_tau)
    return best_value, best_tau


def _step(a: np.ndarray, b: np.ndarray) -> float:
    """A bin width for b − a: half the finer grid's smallest spacing."""
    spacing = [np.min(np.abs(np.diff(np.sort(x)))) for x in (a, b) if x.size > 1]
    return 0.5 * float(min(spacing))


class _Setup:
    """Frequencies (centred), weights and interpolation matrices of one call."""

    def __init__(self, ws: np.ndarray, wi: np.ndarray, ws2: np.ndarray | None,
                 wi2: np.ndarray | None) -> None:
        self.centre = 0.5 * (np.mean(ws) + np.mean(wi))
        self.ws, self.wi = ws - self.centre, wi - self.centre   # conditioning of ωτ
        self.w_s, self.w_i = omega_weights(ws), omega_weights(wi)
        # ψ̃[j, k] = ψ(signal = ω_i,k, idler = ω_s,j) = (A_i ψᵀ A_sᵀ)[j, k]
        self.swap_exact = _same_set(ws, wi)
        # exact: ψ̃[j, k] = ψ[perm_s[k], perm_i[j]] (indexing, no products)
        self.perm_s: np.ndarray | None = None
        self.perm_i: np.ndarray | None = None
        # complex, so that the products with ψ use BLAS (numpy has no mixed-type BLAS path)
        self.a_s = interpolation_matrix(ws, wi).astype(np.complex128)  # signal axis at ω_i
        self.a_i = interpolation_matrix(wi, ws).astype(np.complex128)  # idler axis at ω_s
        if self.swap_exact:
            self.perm_s = np.argmax(self.a_s.real, axis=1)
            self.perm_i = np.argmax(self.a_i.real, axis=1)
        self.second = None
        if ws2 is not None and wi2 is not None:
            self.second = (interpolation_matrix(ws2, ws).astype(np.complex128),
                           interpolation_matrix(wi2, wi).astype(np.complex128),
                           _same_set(ws2, ws) and _same_set(wi2, wi))
        self.step_si = _step(self.ws, self.wi)
        self.step_s = _step(self.ws, self.ws)
        self.step_i = _step(self.wi, self.wi)


def _matrices(psi: np.ndarray, psi2: np.ndarray | None, setup: _Setup
              ) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, float]]:
    """The interference matrices m (normalised), with their a, b frequencies and bin width."""
    psi = np.asarray(psi, dtype=np.complex128)
    w = setup.w_s[:, None] * setup.w_i[None, :]
    norm = np.sum(np.abs(psi) ** 2 * w, axis=(-2, -1))
    bad = ~(norm > 0) | ~np.isfinite(norm)
    if np.any(bad):
        raise ValueError("jsa must be finite and not all zero on its grid (in every sweep "
                         "element); widen the grid or check the phase matching")
    if setup.perm_s is not None and setup.perm_i is not None:
        rows, cols = setup.perm_s[None, :], setup.perm_i[:, None]
        swapped = psi[..., rows, cols]
    else:
        swapped = setup.a_i @ np.swapaxes(psi, -1, -2) @ setup.a_s.T
    out = {"hom": (np.conj(psi) * swapped * w / norm[..., None, None], setup.ws, setup.wi,
                   setup.step_si)}
    if psi2 is None:
        other, norm2 = psi, norm
    else:
        b_s, b_i, _ = setup.second  # type: ignore[misc]
        other = b_s @ np.asarray(psi2, dtype=np.complex128) @ b_i.T
        norm2 = np.sum(np.abs(other) ** 2 * w, axis=(-2, -1))
        if np.any(~(norm2 > 0) | ~np.isfinite(norm2)):
            raise ValueError("second must be finite and not all zero on jsa's grid: its "
                             "spectrum must overlap jsa's grid")
    root_s, root_i = np.sqrt(setup.w_s), np.sqrt(setup.w_i)
    g1 = psi * root_s[:, None] * root_i[None, :]
    g2 = other * root_s[:, None] * root_i[None, :]
    scale = (norm * norm2)[..., None, None]
    rho_s1 = g1 @ np.conj(np.swapaxes(g1, -1, -2))
    rho_i1 = np.swapaxes(g1, -1, -2) @ np.conj(g1)
    if psi2 is None:  # identical sources
        rho_s2, rho_i2 = rho_s1, rho_i1
    else:
        rho_s2 = g2 @ np.conj(np.swapaxes(g2, -1, -2))
        rho_i2 = np.swapaxes(g2, -1, -2) @ np.conj(g2)
    out["signal"] = (np.conj(rho_s1) * rho_s2 / scale, setup.ws, setup.ws, setup.step_s)
    out["idler"] = (np.conj(rho_i1) * rho_i2 / scale, setup.wi, setup.wi, setup.step_i)
    return out


def _hom_block(psi: np.ndarray, *rest: np.ndarray, setup: _Setup, delay: np.ndarray
               ) -> tuple[np.ndarray, ...]:
    """Batched over leading dims: visibilities, dip delays and curves (see hom_interference)."""
    psi2 = rest[0] if rest else None
    mats = _matrices(psi, psi2, setup)
    results = []
    for key in ("hom", "signal", "idler"):
        m, a, b, step = mats[key]
        value, tau = _maximum(m, a, b, step)
        curve = 0.5 * (1 - _curve(m, a, b, delay))
        results.append((value, tau, curve))
    v_hom, t_hom, c_hom = results[0]
    # the signal-idler results depend on psi alone: give them the sweep dims of both
    batch = np.broadcast_shapes(np.shape(psi)[:-2], rest[0].shape[:-2] if rest else ())
    v_hom, t_hom = np.broadcast_to(v_hom, batch).copy(), np.broadcast_to(t_hom, batch).copy()
    c_hom = np.broadcast_to(c_hom, batch + c_hom.shape[-1:]).copy()
    v_two = np.stack([results[1][0], results[2][0]], axis=-1)
    t_two = np.stack([results[1][1], results[2][1]], axis=-1)
    c_two = np.stack([results[1][2], results[2][2]], axis=-2)
    return v_hom, t_hom, c_hom, v_two, t_two, c_two


def _auto_delay_block(psi: np.ndarray, *rest: np.ndarray, setup: _Setup) -> np.ndarray:
    """Per batch element and curve: (dip centre, lower, upper extent, needed step) in s."""
    psi2 = rest[0] if rest else None
    mats = _matrices(psi, psi2, setup)
    out = []
    for key in ("hom", "signal", "idler"):
        m, a, b, step = mats[key]
        t, scanned = _scan(m, a, b, step)
        env = np.abs(scanned)  # the interference term's envelope
        peak = np.max(env, axis=-1, keepdims=True)
        big = env >= 1e-3 * peak
        lo = np.where(big, t, np.inf).min(axis=-1)
        hi = np.where(big, t, -np.inf).max(axis=-1)
        # resolve the fastest fringe the weights carry: |b − a| over the JSA's support
        delta = np.abs(b[None, :] - a[:, None])
        support = np.abs(m) >= 1e-2 * np.max(np.abs(m), axis=(-2, -1), keepdims=True)
        fastest = np.max(np.where(support, delta, 0.0), axis=(-2, -1))
        need = np.pi / (3 * np.maximum(fastest, 1e-300))  # 6 points a period
        out.append(np.stack([lo, hi, need], axis=-1))
    batch = np.broadcast_shapes(*(o.shape for o in out))
    return np.stack([np.broadcast_to(o, batch) for o in out], axis=-2)


# ---------------------------------------------------------------------------- labelled


def _spectral_dims(jsa: Any, dims: Sequence[Hashable] | None, role: str
                   ) -> tuple[Hashable, Hashable]:
    if not isinstance(jsa, xr.DataArray):
        raise TypeError(f"{role} must be an xarray.DataArray (e.g. from "
                        f"xr_spdc.spectrum.joint_spectrum), not {type(jsa).__name__}")
    pair = tuple(SPECTRAL_DIMS if dims is None else dims)
    if len(pair) != 2 or pair[0] == pair[1]:
        raise ValueError(f"dims must name two different spectral dims (signal, idler); "
                         f"got {dims!r}")
    for d in pair:
        if d not in jsa.dims:
            raise ValueError(f"{role} has no dim {d!r} (its dims: {tuple(jsa.dims)}); a "
                             f"pulsed-pump JSA over (signal, idler) is needed (a CW spectrum "
                             f"has no second axis); name its spectral dims with dims=")
        if d not in jsa.coords:
            raise ValueError(f"{role}'s dim {d!r} needs a coordinate (its grid)")
        if jsa.sizes[d] < 3:
            raise ValueError(f"{role}'s dim {d!r} has {jsa.sizes[d]} points; at least 3 "
                             f"are needed")
    return pair[0], pair[1]


def _delay_grid(auto: np.ndarray, points: int | None) -> np.ndarray:
    """One delay grid spanning every curve's dip (0.25 of its span added on each side)."""
    lo, hi, need = auto[..., 0], auto[..., 1], auto[..., 2]
    start, stop = float(np.min(lo)), float(np.max(hi))
    pad = 0.25 * (stop - start)
    start, stop = start - pad, stop + pad
    if points is None:
        points = int(np.clip(np.ceil((stop - start) / float(np.min(need))) + 1, 201, 4001))
    return np.linspace(start, stop, points)


def hom_interference(jsa: xr.DataArray, delay: Any = None, *,
                     second: xr.DataArray | None = None,
                     dims: Sequence[Hashable] | None = None) -> xr.Dataset:
    """Hong–Ou–Mandel interference of a source's JSA: the signal–idler dip and the heralded
    two-source visibility, with their coincidence probabilities against delay.

    Parameters
    ----------
    jsa : xarray.DataArray
        The joint spectral amplitude ψ over the two spectral dims (default
        ``signal_wavelength``, ``idler_wavelength``, as :func:`xr_spdc.spectrum.joint_spectrum`
        returns), each with a coordinate whose ``units`` is "m", "rad/s" or "Hz";
        complex or real, normalised or not.  Any other dims (a sweep) are kept.  May be
        dask-backed.
    delay : array_like or DataArray, optional
        Delays τ in s at which to give the coincidence probabilities (a 1-D grid; becomes
        the ``delay`` dim).  Default: a grid spanning every dip (of the sweep's elements
        too) and resolving its fringes (6 points a period), from 201 to 4001 points; with
        a dask-backed ``jsa`` finding it reads the data once (give ``delay`` to stay lazy).
    second : xarray.DataArray, optional
        The second source's JSA for the two-source visibility, over the same spectral dims
        (and any sweep dims that broadcast with ``jsa``'s).  Default: two identical
        sources (``jsa`` itself).  On another grid it is interpolated onto ``jsa``'s (a
        cubic spline in ω, 0 outside its grid).
    dims : pair of str, optional
        The spectral dims (signal, idler) when they are not the default names.

    Returns
    -------
    xarray.Dataset
        - ``visibility``: signal–idler HOM visibility V = 1 − 2 min_τ P_c (the global
          minimum, found exactly, whatever ``delay`` holds), over the sweep dims;
        - ``dip_delay``: the τ of that minimum (s);
        - ``coincidence_probability`` P_c(τ) over (sweep dims, ``delay``);
        - ``two_source_visibility``, ``two_source_dip_delay`` over (sweep dims,
          ``photon``) and ``two_source_coincidence_probability`` over (sweep dims,
          ``photon``, ``delay``): ``photon`` = "signal" when the two sources' signals
          interfere (idlers herald; spdcalc-py's ``ss``), "idler" for the reverse (``ii``).
          For identical sources both equal the purity 1/K at τ = 0.

        attrs: ``references``, ``swap`` (how ψ(ω_i, ω_s) was found: exact or
        interpolated).  A JSA whose phase carries no group delays (that of
        :func:`xr_spdc.spectrum.joint_spectrum`, referenced to the crystal centre) has its
        dip at τ = 0; spdcalc-py's JSA carries them (its dip is at the transit-time
        difference, e.g. 1.9 ps for 10 mm of type-II PPKTP); the visibility is the same.

    Raises
    ------
    TypeError
        If ``jsa`` or ``second`` is not a DataArray.
    ValueError
        If a spectral dim is missing or has no coordinate with usable units, the JSA is
        zero or not finite, or ``delay`` is not a finite 1-D grid.

    Notes
    -----
    The signal–idler exchange ψ(ω_i, ω_s) needs ψ at swapped frequencies: when the signal
    and idler grids hold the same frequencies (e.g. one wavelength grid for both, or
    spdcalc's square windows) it is exact (a transpose); otherwise ψ is interpolated along
    each axis by a cubic spline in ω (0 outside the grid), whose error the grid's
    resolution sets (measured in tests/test_hom.py: ~1e-6 in V for a Gaussian JSA at 8
    points per FWHM).  The minimum is found by an FFT scan of the interference term binned
    in ω' − ω over |τ| < π/δω (δω the grid spacing: the grid cannot represent longer
    delays), then Newton's method on the exact sum.

    References
    ----------
    .. [1] C. K. Hong, Z. Y. Ou and L. Mandel, Phys. Rev. Lett. 59, 2044 (1987).
    .. [2] A. M. Brańczyk, "Hong-Ou-Mandel interference", arXiv:1711.00080 (2017).
    .. [3] F. Graffitti, P. Barrow, M. Proietti, D. Kundys and A. Fedrizzi, "Independent
       high-purity photons created in domain-engineered crystals", Optica 5, 514 (2018).

    Examples
    --------
    A JSA symmetric under exchange has a full dip; its two-source visibility is its purity:

    >>> import numpy as np, xarray as xr
    >>> nu = np.linspace(-6, 6, 81) * 1e12
    >>> u, v = nu[:, None] + nu[None, :], nu[:, None] - nu[None, :]
    >>> psi = np.exp(-u**2 / (2 * 1e24) - v**2 / (2 * 4e24))
    >>> attrs = {"units": "rad/s"}
    >>> jsa = xr.DataArray(psi, dims=("s", "i"), coords={"s": ("s", nu, attrs),
    ...                                                  "i": ("i", nu, attrs)})
    >>> out = hom_interference(jsa, dims=("s", "i"))
    >>> round(float(out.visibility), 6), round(float(out.two_source_visibility[0]), 6)
    (1.0, 0.8)
    """
    require_role(jsa, "jsa", "hom_interference")
    sdim, idim = _spectral_dims(jsa, dims, "jsa")
    ws = angular_frequency(jsa[sdim], "jsa")
    wi = angular_frequency(jsa[idim], "jsa")
    rest: list[xr.DataArray] = []
    ws2 = wi2 = None
    if second is not None:
        _spectral_dims(second, (sdim, idim), "second")
        ws2 = angular_frequency(second[sdim], "second")
        wi2 = angular_frequency(second[idim], "second")
        # its grid is its own: keep it out of xarray's alignment with jsa's
        rest.append(second.rename({sdim: "_second_signal", idim: "_second_idler"})
                    .drop_vars(["_second_signal", "_second_idler"], errors="ignore"))
    setup = _Setup(ws, wi, ws2, wi2)
    core = [[sdim, idim]] + [["_second_signal", "_second_idler"]] * len(rest)
    args = [jsa.chunk({sdim: -1, idim: -1}) if jsa.chunks is not None else jsa]
    args += [r.chunk({"_second_signal": -1, "_second_idler": -1}) if r.chunks is not None
             else r for r in rest]

    if delay is None:
        with warnings.catch_warnings():  # dask's meta for a complex input cast to float
            warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
            auto = xr.apply_ufunc(_auto_delay_block, *args, kwargs={"setup": setup},
                                  input_core_dims=core,
                                  output_core_dims=[["_curve", "_stat"]],
                                  dask="parallelized", output_dtypes=[np.float64],
                                  dask_gufunc_kwargs={"output_sizes": {"_curve": 3,
                                                                       "_stat": 3}})
        tau = _delay_grid(np.asarray(auto.values), None)
    else:
        values = delay.values if isinstance(delay, xr.DataArray) else delay
        tau = np.atleast_1d(np.asarray(values, dtype=np.float64))
        if tau.ndim != 1 or not np.all(np.isfinite(tau)):
            raise ValueError(f"delay must be a finite 1-D grid of delays in s; got "
                             f"{values!r:.80}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
        outputs = xr.apply_ufunc(
            _hom_block, *args, kwargs={"setup": setup, "delay": tau},
            input_core_dims=core,
            output_core_dims=[[], [], ["delay"], ["photon"], ["photon"], ["photon", "delay"]],
            dask="parallelized", output_dtypes=[np.float64] * 6,
            dask_gufunc_kwargs={"output_sizes": {"delay": tau.size, "photon": 2}})
    v_hom, t_hom, c_hom, v_two, t_two, c_two = outputs
    swap = ("exact (the signal and idler grids hold the same frequencies)"
            if setup.swap_exact else "cubic spline in angular frequency (the signal and "
            "idler grids differ)")
    second_desc = ("identical to jsa" if second is None else
                   "second JSA" + ("" if setup.second[2] else  # type: ignore[index]
                                   ", interpolated onto jsa's grid (cubic spline in omega)"))
    ds = xr.Dataset(
        {"visibility": v_hom.assign_attrs(
            long_name="HOM visibility (signal-idler)", units="1", formula=HOM_FORMULA),
         "dip_delay": t_hom.assign_attrs(
             long_name="delay at the HOM dip", units="s",
             description="argmin of the coincidence probability"),
         "coincidence_probability": c_hom.assign_attrs(
             long_name="HOM coincidence probability", units="1", formula=HOM_FORMULA),
         "two_source_visibility": v_two.assign_attrs(
             long_name="heralded two-source HOM visibility", units="1",
             formula=TWO_SOURCE_FORMULA, second_source=second_desc),
         "two_source_dip_delay": t_two.assign_attrs(
             long_name="delay at the two-source dip", units="s"),
         "two_source_coincidence_probability": c_two.assign_attrs(
             long_name="two-source HOM coincidence probability", units="1",
             formula=TWO_SOURCE_FORMULA)},
        coords={"delay": ("delay", tau, {"long_name": "delay", "units": "s",
                                         "description": "delay added to the signal (HOM) "
                                                        "or to jsa's photon (two-source)"}),
                "photon": ("photon", list(PHOTONS), {
                    "long_name": "interfering photon",
                    "description": "signal: the two sources' signals interfere, idlers "
                                   "herald (spdcalc ss); idler: the reverse (spdcalc ii)"})})
    return ds.assign_attrs(references=REFERENCES, swap=swap)


def plot_hom(result: xr.Dataset, *, two_source: bool = False, ax: Any = None,
             **sel: Any) -> Any:
    """Draw the coincidence dip P_c(τ) against τ (ps), its visibility in the legend.

    Parameters
    ----------
    result : xarray.Dataset
        From :func:`hom_interference`; sweep dims must be selected away (``**sel``).
    two_source : bool, optional
        Draw the two-source curves (signal and idler) instead of the signal–idler dip.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.
    **sel
        Passed to ``result.sel`` to pick one sweep element.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if not isinstance(result, xr.Dataset) or "coincidence_probability" not in result:
        raise TypeError("result must be the Dataset hom_interference returns")
    ds = result.sel(**sel) if sel else result
    extra = [d for d in ds["visibility"].dims]
    if extra:
        raise ValueError(f"result has sweep dims {extra}: pick one element, e.g. "
                         f"plot_hom(result, {extra[0]}=...)")
    if ax is None:
        _, ax = plt.subplots()
    t = ds["delay"].values * 1e12
    if two_source:
        for p in PHOTONS:
            v = float(ds["two_source_visibility"].sel(photon=p))
            ax.plot(t, ds["two_source_coincidence_probability"].sel(photon=p).values,
                    label=f"{p}s interfere, V = {v:.4f}")
    else:
        v = float(ds["visibility"])
        ax.plot(t, ds["coincidence_probability"].values, label=f"V = {v:.4f}")
        ax.axvline(float(ds["dip_delay"]) * 1e12, color="0.7", lw=0.8)
    ax.set_xlabel("delay τ (ps)")
    ax.set_ylabel("coincidence probability")
    ax.set_ylim(bottom=0)
    ax.legend()
    return ax
