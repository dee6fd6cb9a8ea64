"""Absolute pair and singles rates in single-mode fibres, and the heralding efficiencies.

From the lab's parameters (crystal, wavelengths, temperature, poling, waists, pump power and
spectrum, d_eff) to counts per second: the exact paraxial coupling kernel
(:mod:`xr_spdc.numerics.coupling`) at every frequency, times the absolute prefactor derived in
docs/physics/coupling.md §9 ("Absolute rates"), integrated over the signal frequency (and, for
a pump of finite bandwidth, over the pump's spectrum).  Public: :func:`source_rates`,
:data:`PUBLISHED_D`.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from .._version import __version__
from ..labelled import inputs
from ..labelled.coupling import record_inputs
from ..labelled.names import COUPLING_REFERENCES
from ..numerics import coupling as kernel
from .beams import walkoff_parameters
from .crystals import medium
from .crystals import poling_period as qpm_period

__all__ = ["PUBLISHED_D", "RATE_FORMULA", "heralding_tradeoff", "optimal_waists", "source_rates"]

C_LIGHT = 299792458.0
EPSILON_0 = 8.8541878128e-12

#: Published second-order coefficients (pm/V, measured by second-harmonic generation of
#: 1064 nm; Miller's scaling to other wavelengths is not applied): pass the one of your
#: interaction as ``d_eff`` (the package applies 2/(mπ) for m-th order QPM).
PUBLISHED_D: dict[str, tuple[float, str]] = {
    "LiNbO3 d33 (type-0 PPLN, eee)": (25.2, "I. Shoji et al., J. Opt. Soc. Am. B 14, 2268 "
                                      "(1997)"),
    "MgO:LiNbO3 d33 (type-0 PPLN, eee)": (25.0, "I. Shoji et al., J. Opt. Soc. Am. B 14, "
                                          "2268 (1997)"),
    "KTP d33 (type-0 PPKTP, zzz)": (16.9, "I. Shoji et al., J. Opt. Soc. Am. B 14, 2268 "
                                    "(1997)"),
    "KTP d24 (type-II PPKTP, y y z)": (3.64, "D. A. Roberts, IEEE J. Quantum Electron. 28, "
                                       "2057 (1992)"),
}

RATE_FORMULA = (
    "dR/domega_s = d_Q^2 omega_s omega_i P w_p^2 P2 / (8 pi^4 eps0 c^3 n_p n_s n_i), "
    "d_Q = 2 d_eff/(m pi) (poled), P2 = k_p^2 * pair of the coupling kernel; singles with "
    "P1s, P1i; integrated over omega_s in (0, omega_p) and averaged over the pump's power "
    "spectrum (docs/physics/coupling.md section 9)")

RATE_REFERENCES = (
    "R. S. Bennink, Phys. Rev. A 81, 053805 (2010), Eqs. 40-41; A. Ling, A. Lamas-Linares "
    "and C. Kurtsiefer, arXiv 0801.2220; R. S. Dixon et al., Phys. Rev. A 90, 043804 "
    "(2014); " + COUPLING_REFERENCES)

# Beyond |φ| = _PHI_CUT (the kernel's domain) the spectrum is the kernel's asymptotic
# C/φ² (numerics.coupling.asymptotic_tails), integrated like the core.
_PHI_CUT = kernel.PHI_MAX
# The signal frequencies scanned for the phase-matched region, as fractions of ω_p.
_SCAN = (0.08, 0.92, 4001)

# Gauss–Kronrod 7/15 (QUADPACK's qk15): nodes and weights on [−1, 1].
_XGK = np.array([0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
                 0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
                 0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
                 0.207784955007898467600689403773245, 0.0])
_WGK = np.array([0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
                 0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
                 0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
                 0.204432940075298892414161999234649, 0.209482141084727828012999174891714])
_WG = np.array([0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
                0.381830050505118944950369775488975, 0.417959183673469387755102040816327])
_NODES = np.concatenate([-_XGK[:-1], _XGK[::-1]])
_KRONROD = np.concatenate([_WGK[:-1], _WGK[::-1]])
_GAUSS = np.zeros(15)
_GAUSS[[1, 3, 5, 9, 11, 13]] = np.concatenate([_WG[:-1], _WG[:-1][::-1]])
_GAUSS[7] = _WG[-1]


def adaptive_gk(func: Callable[[np.ndarray], np.ndarray], edges: np.ndarray, *,
                rtol: float, max_panels: int = 4000, check: int | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """∫ func over [edges[0], edges[-1]] by adaptive Gauss–Kronrod 7/15, vectorised.

    ``func(x)`` takes a 1-D array of abscissae and returns (components, len(x)); every
    round evaluates all panels still to refine in one call.  A panel is bisected while the
    sum of |K15 − G7| over the panels exceeds ``rtol`` times |integral| in some component
    (the panels with the largest errors first); only the first ``check`` components decide
    (all by default).

    Returns
    -------
    (integral, error) : ndarray, ndarray
        Per component; the error is the sum of |K15 − G7| (QUADPACK's cruder, safer
        estimate would be larger: this one is the plain embedded difference).
    """
    lo, hi = np.asarray(edges[:-1], float), np.asarray(edges[1:], float)
    k, err = _gk15(func, lo, hi)
    while True:
        total, total_err = k[:check].sum(axis=1), err[:check].sum(axis=1)
        target = rtol * np.abs(total)
        if np.all(total_err <= target):
            break
        if 2 * lo.size > max_panels:
            warnings.warn(f"source_rates: the spectral integral stopped at {lo.size} panels "
                          f"with relative error {np.max(total_err / np.abs(total)):.2g} "
                          f"(asked {rtol:g})", RuntimeWarning, stacklevel=3)
            break
        # Bisect the panels that carry most of the error (relative, worst component).
        share = np.max(err[:check] / np.maximum(target[:, None], 1e-300), axis=0)
        cut = share >= 0.1 * share.max()
        mid = 0.5 * (lo[cut] + hi[cut])
        new_lo, new_hi = np.concatenate([lo[cut], mid]), np.concatenate([mid, hi[cut]])
        new_k, new_err = _gk15(func, new_lo, new_hi)
        lo, hi = np.concatenate([lo[~cut], new_lo]), np.concatenate([hi[~cut], new_hi])
        k = np.concatenate([k[:, ~cut], new_k], axis=1)
        err = np.concatenate([err[:, ~cut], new_err], axis=1)
    return k.sum(axis=1), err.sum(axis=1)


def _gk15(func: Callable[[np.ndarray], np.ndarray], lo: np.ndarray, hi: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray]:
    """K15 values and |K15 − G7| per component and panel."""
    half, mid = 0.5 * (hi - lo), 0.5 * (hi + lo)
    x = (mid[:, None] + half[:, None] * _NODES).ravel()
    f = np.asarray(func(x)).reshape(-1, lo.size, 15)
    k = np.einsum("cpn,n->cp", f, _KRONROD) * half
    g = np.einsum("cpn,n->cp", f, _GAUSS) * half
    return k, np.abs(k - g)


class _Source:
    """One configuration (scalars), with n(λ) of its three waves."""

    def __init__(self, med: Any, pols: tuple[str, str, str], angle: float, p: Mapping[str, float],
                 grating: float) -> None:
        self.med, self.pols, self.angle, self.p, self.grating = med, pols, angle, p, grating

    def index(self, beam: int, omega: np.ndarray) -> np.ndarray:
        lam_um = 2e6 * np.pi * C_LIGHT / omega
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ndispers' validity warnings far in the tails
            n = self.med.n(lam_um, self.angle, self.p["temperature"], pol=self.pols[beam])
        return np.broadcast_to(np.asarray(n, dtype=np.float64), np.shape(omega))

    def kernel_inputs(self, omega_p: float, omega_s: np.ndarray) -> dict[str, np.ndarray]:
        p = self.p
        omega_i = omega_p - omega_s
        n_p = self.index(0, np.full_like(omega_s, omega_p))
        n_s, n_i = self.index(1, omega_s), self.index(2, omega_i)
        k_p, k_s, k_i = n_p * omega_p / C_LIGHT, n_s * omega_s / C_LIGHT, n_i * omega_i / C_LIGHT
        length = p["length"]
        return {
            "phi": (k_p - k_s - k_i - self.grating) * length,
            "xi_p": length / (k_p * p["pump_waist"] ** 2),
            "xi_s": length / (k_s * p["signal_waist"] ** 2),
            "xi_i": length / (k_i * p["idler_waist"] ** 2),
            "ratio_s": k_s / k_p, "ratio_i": k_i / k_p,
            "mu_p": np.full_like(omega_s, 2 * p["pump_focus"] / length),
            "mu_s": np.full_like(omega_s, 2 * p["signal_focus"] / length),
            "mu_i": np.full_like(omega_s, 2 * p["idler_focus"] / length),
            # the rate prefactor per unit P2 (docs §9), with P2 = k_p² · pair:
            "prefactor": (p["d_q"] ** 2 * omega_s * omega_i * p["pump_power"]
                          * p["pump_waist"] ** 2 * k_p ** 2
                          / (8 * np.pi ** 4 * EPSILON_0 * C_LIGHT ** 3 * n_p * n_s * n_i)),
        }

    def density(self, omega_p: float, omega_s: np.ndarray, tail: bool) -> np.ndarray:
        """(pair, signal singles, idler singles) rate densities in counts/s per rad/s."""
        q = self.kernel_inputs(omega_p, omega_s)
        args = [q[r] for r in ("phi", "xi_p", "xi_s", "xi_i", "ratio_s", "ratio_i", "mu_p",
                               "mu_s", "mu_i")]
        if tail:
            c = kernel.asymptotic_tails(*args[1:])
            values = np.stack(c) / q["phi"] ** 2
        else:
            r = kernel.coupling(*args)
            values = np.stack([r.pair, r.signal_singles, r.idler_singles])
        return values * q["prefactor"]

    def cw(self, omega_p: float, rtol: float) -> tuple[np.ndarray, np.ndarray]:
        """(pair, signal, idler) rates for a monochromatic pump at ω_p, and the part of
        them from the asymptotic tails (|φ| > 100)."""
        grid = np.linspace(_SCAN[0] * omega_p, _SCAN[1] * omega_p, _SCAN[2])
        q = self.kernel_inputs(omega_p, grid)
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(q["phi"]) & (q["ratio_s"] >= kernel.RATIO_MIN) & \
                (q["ratio_i"] >= kernel.RATIO_MIN) & \
                (np.abs(q["ratio_s"] + q["ratio_i"] - 1) <= kernel.MISMATCH_MAX)
            for key in ("xi_p", "xi_s", "xi_i"):
                ok &= (q[key] >= kernel.XI_MIN) & (q[key] <= kernel.XI_MAX)
            inside = ok & (np.abs(q["phi"]) <= _PHI_CUT)
        runs = _runs(inside)
        if not runs:
            raise ValueError(
                f"no signal frequency between {2 * np.pi * C_LIGHT / grid[-1]:.4g} and "
                f"{2 * np.pi * C_LIGHT / grid[0]:.4g} m phase-matches within |phi| <= "
                f"{_PHI_CUT:g} for pump {2 * np.pi * C_LIGHT / omega_p:.6g} m: check "
                f"poling_period, temperature and the wavelengths")
        # The designed process: the phase-matched run nearest to the central signal
        # frequency.  Other runs are other processes of the same grating far away (e.g. a
        # 5.2 µm signal with a 0.91 µm idler in PPKTP, beyond the Sellmeier range), which no
        # fibre at the design wavelength guides: excluded, and so are the tails towards them.
        centre = 2 * np.pi * C_LIGHT / self.p["signal"]
        start, stop = min(runs, key=lambda r: min(abs(grid[r[0]] - centre),
                                                  abs(grid[r[1]] - centre))
                          if not grid[r[0]] <= centre <= grid[r[1]] else -1.0)
        a = self._edge(omega_p, grid, start - 1, start) if start > 0 else grid[0]
        b = self._edge(omega_p, grid, stop, stop + 1) if stop < grid.size - 1 else grid[-1]
        # Panels of about two periods of φ: the adaptive rule then starts resolved.
        turns = np.sum(np.abs(np.diff(q["phi"][start:stop + 1]))) / (2 * np.pi)
        edges = np.linspace(a, b, int(np.clip(turns / 2, 4, 200)) + 1)
        core, _ = adaptive_gk(lambda x: self.density(omega_p, x, False), edges, rtol=rtol)
        # The tails: outwards while |φ| grows (up to its first maximum, beyond which another
        # run approaches) and the inputs stay in the kernel's domain.
        size = np.abs(np.where(ok, q["phi"], np.nan))
        lo = start - 1
        while lo > 0 and ok[lo - 1] and size[lo - 1] >= size[lo]:
            lo -= 1
        hi = stop + 1
        while hi < grid.size - 1 and ok[hi + 1] and size[hi + 1] >= size[hi]:
            hi += 1
        tails = np.zeros(3)
        for left, right in ((grid[max(lo, 0)], a), (b, grid[min(hi, grid.size - 1)])):
            if right > left:
                value, _ = adaptive_gk(lambda x: self.density(omega_p, x, True),
                                       np.geomspace(left, right, 9), rtol=1e-6)
                tails += value
        return core + tails, tails

    def _edge(self, omega_p: float, grid: np.ndarray, i: int, j: int) -> float:
        """The signal frequency between grid[i] and grid[j] where |φ| = _PHI_CUT."""
        from scipy.optimize import brentq

        def excess(w: float) -> float:
            return float(abs(self.kernel_inputs(omega_p, np.array([w]))["phi"][0]) - _PHI_CUT)

        return float(brentq(excess, grid[i], grid[j], xtol=1e-12 * grid[j]))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    padded = np.concatenate([[False], mask, [False]]).astype(int)
    change = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b) - 1) for a, b in zip(change[::2], change[1::2], strict=True)]


def _pump_spectrum(omega_p: float, fwhm_wavelength: float) -> float:
    """σ (rad/s) of the pump's Gaussian power spectrum in ω whose FWHM is the ω-interval of
    [λ_p − Δλ/2, λ_p + Δλ/2] (SPDCalc's convention)."""
    lam = 2 * np.pi * C_LIGHT / omega_p
    fwhm = 2 * np.pi * C_LIGHT * (1 / (lam - fwhm_wavelength / 2) - 1 / (lam + fwhm_wavelength / 2))
    return fwhm / (2 * math.sqrt(2 * math.log(2)))


# Gauss–Hermite orders tried in turn for the pump spectrum (probabilists' weight e^{−x²/2}).
# Odd orders share the centre node, computed once.  A pump spectrum across which the
# monochromatic rates are linear to rtol (type-II PPKTP with a 1 nm pump: they change by
# 0.11 % per σ, and their second difference over ±√3σ is ~1e-9 of them) costs 3 spectra:
# the centre alone agrees with the rule of 3 (exact to degree 5), which is returned.  A
# curved one goes on to 5 nodes (7 spectra), 7, ...  Beyond the ladder (a monochromatic rate
# that changes sharply across the pump spectrum, as for degenerate type-0 PPLN) the adaptive
# Gauss–Kronrod rule over ±8σ takes over (mass lost 1.2e-15).
_HERMITE_LADDER = (1, 3, 5, 7, 10, 16, 24)
_PUMP_SIGMAS = 8.0


def _pump_average(func: Callable[[float], np.ndarray], omega_p: float, sigma: float,
                  rtol: float) -> np.ndarray:
    """∫ N(ω; ω_p, σ) func(ω) dω by Gauss–Hermite of rising order, until two orders agree
    to ``rtol`` in the first three components (the rates); else adaptively.  Each pump
    frequency's spectrum is computed once (odd orders share the centre)."""
    seen: dict[float, np.ndarray] = {}

    def once(omega: float) -> np.ndarray:
        if omega not in seen:
            seen[omega] = func(omega)
        return seen[omega]

    previous = None
    for order in _HERMITE_LADDER:
        x, w = np.polynomial.hermite_e.hermegauss(order)
        values = np.stack([once(float(omega_p + sigma * xi)) for xi in x], axis=1)
        estimate = values @ (w / math.sqrt(2 * np.pi))
        if previous is not None and np.all(
                np.abs(estimate[:3] - previous[:3]) <= rtol * np.abs(estimate[:3])):
            return estimate
        previous = estimate

    def weighted(w: np.ndarray) -> np.ndarray:
        weight = np.exp(-0.5 * ((w - omega_p) / sigma) ** 2) / (sigma * math.sqrt(2 * np.pi))
        return np.stack([func(float(v)) for v in w], axis=1) * weight

    edges = omega_p + sigma * np.linspace(-_PUMP_SIGMAS, _PUMP_SIGMAS, 5)
    return adaptive_gk(weighted, edges, rtol=rtol, check=3)[0]


def _point(src: _Source, rtol: float) -> dict[str, float]:
    p = src.p
    omega_p = 2 * np.pi * C_LIGHT / p["pump"]
    bandwidth = p.get("pump_bandwidth", 0.0)
    if not bandwidth:
        rates, tails = src.cw(omega_p, rtol)
    else:
        sigma = _pump_spectrum(omega_p, bandwidth)
        both = _pump_average(lambda wp: np.concatenate(src.cw(wp, rtol)), omega_p, sigma,
                             rtol)
        rates, tails = both[:3], both[3:]
    tail = float(np.max(tails / rates))
    eff_s, eff_i = p["signal_efficiency"], p["idler_efficiency"]
    pair, sig, idl = rates[0] * eff_s * eff_i, rates[1] * eff_s, rates[2] * eff_i
    return {"pair_rate": pair, "signal_rate": sig, "idler_rate": idl,
            "signal_heralding": pair / idl, "idler_heralding": pair / sig,
            "symmetric_heralding": pair / math.sqrt(sig * idl), "tail_fraction": tail}


_OUTPUTS = {
    "pair_rate": {"long_name": "pair (coincidence) rate, both photons in their fibres",
                  "units": "s-1"},
    "signal_rate": {"long_name": "signal singles rate (signal in its fibre)", "units": "s-1"},
    "idler_rate": {"long_name": "idler singles rate (idler in its fibre)", "units": "s-1"},
    "signal_heralding": {"long_name": "signal heralding efficiency eta_s", "units": "1",
                         "formula": "pair_rate/idler_rate"},
    "idler_heralding": {"long_name": "idler heralding efficiency eta_i", "units": "1",
                        "formula": "pair_rate/signal_rate"},
    "symmetric_heralding": {"long_name": "symmetric heralding efficiency", "units": "1",
                            "formula": "pair_rate/sqrt(signal_rate idler_rate)"},
    "tail_fraction": {"long_name": "share of the rates from |phi| > 100 (asymptotic tails)",
                      "units": "1"},
}

_NUMERIC = ("pump", "signal", "temperature", "length", "pump_waist", "signal_waist",
            "idler_waist", "pump_power", "d_eff", "pump_bandwidth", "poling_period",
            "pump_focus", "signal_focus", "idler_focus", "signal_efficiency",
            "idler_efficiency")


def source_rates(
    crystal: Any,
    *,
    pump: Any = "pump",
    signal: Any = "signal",
    temperature: Any = "temperature",
    length: Any = "length",
    polarizations: Any = "polarizations",
    pump_waist: Any = "pump_waist",
    signal_waist: Any = "signal_waist",
    idler_waist: Any = "idler_waist",
    pump_power: Any = "pump_power",
    d_eff: Any = "d_eff",
    pump_bandwidth: Any = None,
    poling_period: Any = None,
    order: int = 1,
    pump_focus: Any = 0.0,
    signal_focus: Any = 0.0,
    idler_focus: Any = 0.0,
    signal_efficiency: Any = 1.0,
    idler_efficiency: Any = 1.0,
    angle: float | None = None,
    rtol: float = 1e-7,
) -> xr.Dataset:
    r"""Absolute pair and singles rates (counts/s) into single-mode fibres, and the heralding
    efficiencies, of a crystal pumped by a Gaussian beam.

    The exact paraxial coupling (:func:`xr_spdc.fiber_coupling`) at each signal frequency,
    with the absolute prefactor of docs/physics/coupling.md §9,

    .. math:: \frac{dR_c}{d\omega_s} = \frac{d_Q^2\,\omega_s\omega_i\,P\,w_p^2\,P_2}
              {8\pi^4\varepsilon_0c^3\,n_pn_sn_i},\qquad d_Q = \frac{2}{m\pi}d_\mathrm{eff},

    integrated over all signal frequencies (adaptively where |φ| ≤ 100, by the kernel's
    asymptotic C/φ² beyond; no window), and for a pump of finite bandwidth averaged over its
    Gaussian power spectrum (the same for a CW multimode and a pulsed pump of that average
    power).  Singles likewise with P₁ˢ, P₁ⁱ.

    Parameters
    ----------
    crystal : str, ndispers medium or xarray.Dataset
        The crystal (see :func:`xr_spdc.crystals.medium`: e.g. ``"KTP"``, ``"SLN"``).  A
        Dataset describes the whole source: every other argument given as a string is
        looked up among its variables and coordinates (any may be a dimension: a sweep);
        ``crystal`` and ``polarizations`` from its attrs (``ds.attrs["crystal"]``).
    pump, signal : float or DataArray
        Central vacuum wavelengths in m (the idler from energy conservation).
    temperature : float or DataArray
        °C.
    length : float or DataArray
        Crystal length L in m.
    polarizations : str or (str, str, str)
        ndispers' labels of (pump, signal, idler), e.g. ``"eeo"`` for type-II PPKTP.
    pump_waist, signal_waist, idler_waist : float or DataArray
        Waists in m (1/e² intensity radius) of the pump and the fibre modes.
    pump_power : float or DataArray
        Average pump power in W.
    d_eff : float or DataArray
        The interaction's nonlinear coefficient in the unpoled crystal, in m/V (e.g.
        d₃₃ = 25.2e-12 for LiNbO₃; see :data:`PUBLISHED_D`).  2/(mπ) is applied for
        m-th order QPM.
    pump_bandwidth : float or DataArray, optional
        FWHM of the pump's power spectrum in m of wavelength (SPDCalc's convention: a
        Gaussian in ω whose FWHM is the frequency interval of λ_p ± Δλ/2).  None or 0: a
        monochromatic pump.
    poling_period : float or DataArray, optional
        Λ in m; None: the period that phase-matches the central wavelengths at
        ``temperature`` (:func:`xr_spdc.crystals.poling_period`).
    order : int
        QPM order m.
    pump_focus, signal_focus, idler_focus : float or DataArray
        Focal planes in m from the crystal centre (as for :func:`xr_spdc.fiber_coupling`).
    signal_efficiency, idler_efficiency : float or DataArray
        Per-arm efficiencies in [0, 1] (optics transmission × fibre-coupling losses ×
        detector efficiency): the pair rate scales by both, each singles rate by its own,
        η_s by the signal's and η_i by the idler's.
    angle : float, optional
        Propagation angle in rad (as for :func:`xr_spdc.crystals.phase_mismatch`).
    rtol : float
        Relative tolerance of the spectral integrals.

    Returns
    -------
    xarray.Dataset
        ``pair_rate``, ``signal_rate``, ``idler_rate`` (s⁻¹), ``signal_heralding``,
        ``idler_heralding``, ``symmetric_heralding`` and ``tail_fraction`` over the
        broadcast dims of the inputs; inputs recorded (arrays as coordinates, scalars and
        names as attrs), with the poling period used.

    Raises
    ------
    ValueError
        A non-positive waist, power, length or d_eff, a signal not longer than the pump, a
        poling period that phase-matches no signal frequency, naming the argument.

    Warns
    -----
    UserWarning
        An angle-tuned configuration with an extraordinary wave off the principal axes: the
        model has no spatial walk-off; the warning gives Boyd and Kleinman's B.

    Examples
    --------
    >>> from xr_spdc.crystals import source_rates
    >>> r = source_rates("KTP_xy", pump=775e-9, signal=1550e-9, temperature=25.0,
    ...                  length=10e-3, polarizations="eeo", pump_waist=100e-6,
    ...                  signal_waist=100e-6, idler_waist=100e-6, pump_power=1e-3,
    ...                  d_eff=1e-12)
    >>> round(float(r.signal_heralding), 3)
    0.887
    """
    ds = crystal if isinstance(crystal, xr.Dataset) else None
    med, pols = _crystal_of(crystal, polarizations, ds)
    m = order
    if isinstance(m, bool) or not isinstance(m, numbers.Integral) or m < 1:
        raise ValueError(f"order (the QPM order m) must be a positive integer, not {m!r}")
    given = {"pump": pump, "signal": signal, "temperature": temperature, "length": length,
             "pump_waist": pump_waist, "signal_waist": signal_waist,
             "idler_waist": idler_waist, "pump_power": pump_power, "d_eff": d_eff,
             "pump_focus": pump_focus, "signal_focus": signal_focus,
             "idler_focus": idler_focus, "signal_efficiency": signal_efficiency,
             "idler_efficiency": idler_efficiency}
    if pump_bandwidth is not None:
        given["pump_bandwidth"] = pump_bandwidth
    if poling_period is not None:
        given["poling_period"] = poling_period
    named = _named_inputs(ds, given)
    ang = (0.0 if med.phi_rad == "var" else np.pi / 2) if angle is None else float(angle)
    if "poling_period" not in named:
        named["poling_period"] = qpm_period(
            med, pump=named["pump"], signal=named["signal"], temperature=named["temperature"],
            polarizations=pols, order=m, angle=angle).rename("poling_period")
        named["poling_period"].attrs = {}
    _warn_walkoff(med, pols, ang, angle, named)
    out = _rates_dataset(med, pols, ang, m, named, rtol)
    return record_inputs(out, named, {
        "crystal": type(med).__name__, "polarizations": "".join(pols), "qpm_order": m,
        "temperature_units": "degC", "model": "paraxial, collinear, Gaussian pump and fibre "
        "modes, no spatial walk-off; rates integrated over all signal frequencies",
        "rtol": rtol, "references": RATE_REFERENCES, "xr_spdc_version": __version__})


def _crystal_of(crystal: Any, polarizations: Any, ds: xr.Dataset | None
                ) -> tuple[Any, tuple[str, str, str]]:
    """The ndispers medium and the (pump, signal, idler) polarizations, from the arguments
    or, for a source Dataset, from its attrs."""
    if ds is not None:
        crystal = ds.attrs.get("crystal")
        if crystal is None:
            raise ValueError("crystal: the Dataset has no attrs['crystal'] (e.g. 'KTP')")
        if isinstance(polarizations, str) and polarizations == "polarizations":
            polarizations = ds.attrs.get("polarizations", polarizations)
    return medium(crystal), _polarizations(polarizations)


def _named_inputs(ds: xr.Dataset | None, given: Mapping[str, Any]) -> dict[str, xr.DataArray]:
    """Each numeric argument as a checked DataArray (found by name in ``ds`` if a string),
    aligned; refuses efficiencies above 1 and a signal not longer than the pump."""
    named = {}
    for role, value in given.items():
        if ds is not None and isinstance(value, str) and value not in ds.variables and \
                value in ds.attrs:
            value = ds.attrs[value]
        positive = role not in ("temperature", "pump_focus", "signal_focus", "idler_focus",
                                "pump_bandwidth")
        named[role] = inputs.check_real(inputs.find(ds, value, role, default=role), role,
                                        positive=positive,
                                        nonnegative=role == "pump_bandwidth")
    for role in ("signal_efficiency", "idler_efficiency"):
        high = named[role] > 1
        if bool(high.any()):
            raise ValueError(f"{role} must lie in (0, 1], not "
                             f"{inputs.positions(named[role], high.values)}")
    named = inputs.align(named)
    inputs.idler_wavelength(named["pump"], named["signal"])  # refuses signal <= pump
    if "pump_bandwidth" in named:
        # the pump average spans ±8σ in ω, which must stay at positive frequencies; a
        # bandwidth near the wavelength itself is almost always nm given as m
        wide = named["pump_bandwidth"] >= named["pump"] / 4
        if bool(wide.any()):
            raise ValueError(
                "pump_bandwidth is the pump spectrum's FWHM in m of wavelength (1 nm is "
                "1e-9) and must be below a quarter of the pump wavelength, not "
                f"{inputs.positions(named['pump_bandwidth'], np.asarray(wide.values))}")
    return named


def _rates_dataset(med: Any, pols: tuple[str, str, str], ang: float, m: int,
                   named: Mapping[str, xr.DataArray], rtol: float) -> xr.Dataset:
    """The rates at every point of the broadcast inputs, labelled like them."""
    arrays = xr.broadcast(*named.values())
    shape = arrays[0].shape
    flat = {role: np.asarray(a.values, float).ravel() for role, a in zip(named, arrays,
                                                                          strict=True)}
    results = {key: np.empty(flat["pump"].size) for key in _OUTPUTS}
    for j in range(flat["pump"].size):
        p = {role: float(v[j]) for role, v in flat.items()}
        grating = _grating(med, pols, ang, p, m)
        p["d_q"] = p["d_eff"] * 2 / (m * np.pi)
        src = _Source(med, pols, ang, p, grating)
        try:
            point = _point(src, rtol)
        except ValueError as exc:
            raise ValueError(f"poling_period {p['poling_period']!r} m: {exc}") from None
        for key, value in point.items():
            results[key][j] = value
    template = arrays[0]
    out = xr.Dataset({key: template.copy(data=values.reshape(shape)).rename(key)
                      .assign_attrs(_OUTPUTS[key], references=RATE_REFERENCES)
                     for key, values in results.items()})
    out = out.drop_vars([c for c in out.coords if c not in template.dims
                         and c not in template.coords], errors="ignore")
    for key in _OUTPUTS:
        out[key].attrs["formula"] = out[key].attrs.get("formula", RATE_FORMULA)
    return out


def _polarizations(polarizations: Any) -> tuple[str, str, str]:
    if isinstance(polarizations, str) and len(polarizations) == 3:
        polarizations = tuple(polarizations)
    if not isinstance(polarizations, Sequence) or len(polarizations) != 3 or \
            any(p not in ("o", "e") for p in polarizations):
        raise ValueError(f"polarizations must be three of 'o'/'e' (pump, signal, idler), "
                         f"e.g. 'eeo', not {polarizations!r}")
    return tuple(polarizations)  # type: ignore[return-value]


def _grating(med: Any, pols: tuple[str, str, str], ang: float, p: Mapping[str, float],
             m: int) -> float:
    """2πm/Λ with the sign of k_p − k_s − k_i at the central wavelengths."""
    lam_p, lam_s = p["pump"], p["signal"]
    lam_i = 1 / (1 / lam_p - 1 / lam_s)
    k = [2 * np.pi * float(med.n(lam * 1e6, ang, p["temperature"], pol=pol)) / lam
         for lam, pol in zip((lam_p, lam_s, lam_i), pols, strict=True)]
    return float(np.sign(k[0] - k[1] - k[2])) * 2 * np.pi * m / p["poling_period"]


def _warn_walkoff(med: Any, pols: tuple[str, str, str], ang: float, angle: Any,
                  named: Mapping[str, xr.DataArray]) -> None:
    """Warn (naming B) when an extraordinary wave walks off: angle-tuned propagation."""
    principal = np.isclose(ang % (np.pi / 2), 0.0) or np.isclose(ang % (np.pi / 2), np.pi / 2)
    if angle is None or principal or "e" not in pols:
        return
    woa = med.woa_phi if med.phi_rad == "var" else med.woa_theta
    temperature = float(named["temperature"].max())
    # Boyd and Kleinman's B = ρ√(L k₁)/2: ρ of the extraordinary wave (the first 'e' of
    # pump, signal, idler, at its wavelength), k₁ and the waist of the signal (the
    # "fundamental" of the SPDC/SHG correspondence).
    lam_p, lam_s = float(named["pump"].max()), float(named["signal"].min())
    lam = {"pump": lam_p, "signal": lam_s, "idler": 1 / (1 / lam_p - 1 / lam_s)}
    beam = ("pump", "signal", "idler")[pols.index("e")]
    rho = abs(float(woa(lam[beam] * 1e6, ang, temperature, pol="e")))
    n_s = float(med.n(lam_s * 1e6, ang, temperature, pol=pols[1]))
    b = walkoff_parameters(rho, float(named["length"].max()), lam_s, n_s,
                           float(named["signal_waist"].max()))["B"]
    if float(b) > 0.1:
        warnings.warn(f"source_rates: the model has no spatial walk-off, but the "
                      f"extraordinary {beam} walks off by rho = {rho:.3g} rad here "
                      f"(Boyd-Kleinman B = {float(b):.3g}, xr_spdc.walkoff_parameters); the "
                      f"rates and heralding here are computed as if B = 0", UserWarning,
                      stacklevel=3)


# ---------------------------------------------------------------------------- optima

_TARGETS = ("pair_rate", "heralding", "pair_rate_at_heralding")


def _broadband(log_w: np.ndarray, fixed: Mapping[str, float], equal: bool
               ) -> tuple[float, float, float, float]:
    """(w_p²·∫P₂dφ, η_s, η_i, η_sym) for waists exp(log_w) (m): the CW broadband forms."""
    w_p, w_s = np.exp(log_w[0]), np.exp(log_w[1])
    w_i = w_s if equal else np.exp(log_w[2])
    k = fixed
    length = k["length"]
    parts = kernel.integrated_over_phi(
        length / (k["k_p"] * w_p ** 2), length / (k["k_s"] * w_s ** 2),
        length / (k["k_i"] * w_i ** 2), k["k_s"] / k["k_p"], k["k_i"] / k["k_p"])
    pair, sig, idl = (float(v) for v in parts)
    return (float(w_p ** 2 * k["k_p"] ** 2 * pair), pair / idl, pair / sig,
            pair / math.sqrt(sig * idl))


def _check_optimum_request(target: str, heralding_floor: float | None,
                           **positive: float) -> None:
    """Refuse an unknown target, a floor outside (0, 1), a non-positive wavelength, length
    or index (``positive``, by argument name), and a signal not longer than the pump."""
    if target not in _TARGETS:
        raise ValueError(f"target must be one of {', '.join(map(repr, _TARGETS))}, not "
                         f"{target!r}")
    if target == "pair_rate_at_heralding" and (heralding_floor is None or
                                               not 0 < heralding_floor < 1):
        raise ValueError(f"heralding_floor must lie in (0, 1) for target "
                         f"'pair_rate_at_heralding', not {heralding_floor!r}")
    for role, given in positive.items():
        if not (isinstance(given, numbers.Real) and math.isfinite(given) and given > 0):
            raise ValueError(f"{role} must be a positive finite number, not {given!r}")
    if not positive["signal_wavelength"] > positive["pump_wavelength"]:
        raise ValueError(f"signal_wavelength must be longer than pump_wavelength, not "
                         f"{positive['signal_wavelength']!r} <= "
                         f"{positive['pump_wavelength']!r}")


def optimal_waists(*, pump_wavelength: float, signal_wavelength: float, pump_index: float,
                   signal_index: float, idler_index: float, length: float,
                   target: str = "pair_rate", heralding_floor: float | None = None,
                   equal_collection: bool = True,
                   bounds: tuple[float, float] = (5e-6, 1e-3)) -> xr.Dataset:
    r"""The pump and collection waists that maximise the pair rate, the heralding, or the
    pair rate at a heralding floor, for a CW pump over the whole spectrum.

    The objectives are the spectrally integrated quantities with the slowly varying factors
    frozen at the central frequencies (:func:`xr_spdc.numerics.coupling.integrated_over_phi`;
    exact in the paraxial model for φ linear in the signal frequency, i.e. Bennink's rate
    factor without his k_p = k_s + k_i): the pair rate is proportional to
    ``pair_rate_factor`` = w_p²k_p²∫(P₂/k_p²)dφ at fixed power, crystal and d_eff, and the
    heralding efficiencies are ratios of the integrated pair and singles.  Maximised by
    ``scipy.optimize.minimize`` (SLSQP, over log-waists, from a grid's best point).

    Parameters
    ----------
    pump_wavelength, signal_wavelength : float
        Vacuum wavelengths in m (the idler from energy conservation).
    pump_index, signal_index, idler_index : float
        Refractive indices.
    length : float
        Crystal length in m.
    target : {"pair_rate", "heralding", "pair_rate_at_heralding"}
        What to maximise: the pair rate; the symmetric heralding efficiency (it grows with
        the pump waist, so the result sits at a bound); or the pair rate subject to
        symmetric heralding ≥ ``heralding_floor``.
    heralding_floor : float, optional
        For "pair_rate_at_heralding", in (0, 1).
    equal_collection : bool
        One collection waist for signal and idler (else both optimised).
    bounds : (float, float)
        Waist bounds in m.

    Returns
    -------
    xarray.Dataset
        Scalars ``pump_waist``, ``signal_waist``, ``idler_waist`` (m),
        ``pair_rate_factor``, ``signal_heralding``, ``idler_heralding``,
        ``symmetric_heralding``, labelled, with the objective in attrs.

    Raises
    ------
    ValueError
        An unknown target, a floor outside (0, 1) or one no waists reach.

    Examples
    --------
    >>> from xr_spdc import optimal_waists
    >>> best = optimal_waists(pump_wavelength=775e-9, signal_wavelength=1550e-9,
    ...                       pump_index=1.758, signal_index=1.735, idler_index=1.816,
    ...                       length=10e-3, target="pair_rate_at_heralding",
    ...                       heralding_floor=0.9)
    >>> round(float(best.pump_waist) * 1e6), round(float(best.symmetric_heralding), 6)
    (64, 0.9)
    """
    from scipy.optimize import minimize

    _check_optimum_request(target, heralding_floor, pump_wavelength=pump_wavelength,
                           signal_wavelength=signal_wavelength, length=length,
                           pump_index=pump_index, signal_index=signal_index,
                           idler_index=idler_index)
    idler_wavelength = 1 / (1 / pump_wavelength - 1 / signal_wavelength)
    fixed = {"length": float(length),
             "k_p": 2 * np.pi * pump_index / pump_wavelength,
             "k_s": 2 * np.pi * signal_index / signal_wavelength,
             "k_i": 2 * np.pi * idler_index / idler_wavelength}
    lo, hi = np.log(bounds[0]), np.log(bounds[1])
    # ξ_j ≥ 1e-4 and ≤ 100 (the kernel's domain) within the bounds
    size = 2 if equal_collection else 3

    def inside(log_w: np.ndarray) -> bool:
        ws = np.exp(log_w)
        ks = [fixed["k_p"], fixed["k_s"], fixed["k_i"] if size == 3 else fixed["k_s"]]
        xi = [length / (k * w ** 2) for k, w in zip(ks, ws, strict=False)]
        return all(kernel.XI_MIN < x < kernel.XI_MAX for x in xi)

    def value(log_w: np.ndarray) -> tuple[float, float, float, float]:
        return _broadband(log_w, fixed, equal_collection)

    def objective(log_w: np.ndarray) -> float:
        v = value(log_w)
        return -v[3] if target == "heralding" else -math.log(v[0])

    grid = np.linspace(lo, hi, 13)
    starts = [np.array(p) for p in np.array(np.meshgrid(*[grid] * size)).reshape(size, -1).T
              if inside(np.array(p))]
    floor = float(heralding_floor) if heralding_floor is not None else 0.0

    def margin(log_w: np.ndarray) -> float:
        return value(log_w)[3] - floor

    constraints: list[dict[str, Any]] = (
        [{"type": "ineq", "fun": margin}] if target == "pair_rate_at_heralding" else [])
    feasible = [p for p in starts if not constraints or margin(p) >= 0]
    if not feasible:
        raise ValueError(f"heralding_floor {heralding_floor!r}: no waists within bounds "
                         f"{bounds} reach it")
    start = min(feasible, key=objective)
    result = minimize(objective, start, method="SLSQP", bounds=[(lo, hi)] * size,
                      constraints=constraints, options={"ftol": 1e-12, "maxiter": 200})
    best = result.x if result.success or objective(result.x) <= objective(start) else start
    rate, eta_s, eta_i, eta_sym = value(best)
    w = np.exp(best)
    waists = (w[0], w[1], w[1] if equal_collection else w[2])
    units = {"units": "m"}
    return xr.Dataset(
        {"pump_waist": ((), waists[0], {"long_name": "pump waist", **units}),
         "signal_waist": ((), waists[1], {"long_name": "signal collection waist", **units}),
         "idler_waist": ((), waists[2], {"long_name": "idler collection waist", **units}),
         "pair_rate_factor": ((), rate, {
             "long_name": "pair-rate factor w_p^2 k_p^2 integral(P2/k_p^2) dphi",
             "units": "1", "description": "the CW pair rate is d_Q^2 omega_s omega_i P/(8 "
             "pi^4 eps0 c^3 n_p n_s n_i |dphi/domega_s|) times this"}),
         "signal_heralding": ((), eta_s, {"long_name": "signal heralding efficiency",
                                          "units": "1"}),
         "idler_heralding": ((), eta_i, {"long_name": "idler heralding efficiency",
                                         "units": "1"}),
         "symmetric_heralding": ((), eta_sym, {"long_name": "symmetric heralding",
                                               "units": "1"})},
        attrs={"target": target, "heralding_floor": -1.0 if heralding_floor is None
               else float(heralding_floor), "equal_collection": int(equal_collection),
               "optimizer": f"scipy.optimize.minimize SLSQP: {result.message}",
               "pump_wavelength": pump_wavelength, "signal_wavelength": signal_wavelength,
               "pump_index": pump_index, "signal_index": signal_index,
               "idler_index": idler_index, "length": length,
               "model": "CW pump, spectrally integrated, slowly varying factors frozen "
                        "(numerics.coupling.integrated_over_phi)",
               "references": RATE_REFERENCES, "xr_spdc_version": __version__})


def heralding_tradeoff(floors: Any, **kwargs: Any) -> xr.Dataset:
    """The pair rate against heralding: :func:`optimal_waists` with target
    "pair_rate_at_heralding" for each floor.

    Parameters
    ----------
    floors : sequence of float or DataArray
        Symmetric-heralding floors in (0, 1) (the dimension ``heralding_floor``).
    **kwargs
        As for :func:`optimal_waists` (not ``target`` or ``heralding_floor``).

    Returns
    -------
    xarray.Dataset
        :func:`optimal_waists`' variables over ``heralding_floor``.

    Examples
    --------
    >>> from xr_spdc import heralding_tradeoff
    >>> curve = heralding_tradeoff([0.8, 0.9], pump_wavelength=775e-9,
    ...     signal_wavelength=1550e-9, pump_index=1.758, signal_index=1.735,
    ...     idler_index=1.816, length=10e-3)
    >>> bool(curve.pair_rate_factor[0] > curve.pair_rate_factor[1])
    True
    """
    values = np.atleast_1d(np.asarray(floors, dtype=float))
    parts = [optimal_waists(target="pair_rate_at_heralding", heralding_floor=float(f),
                            **kwargs) for f in values]
    out = xr.concat(parts, dim="heralding_floor", combine_attrs="drop_conflicts")
    out = out.assign_coords(heralding_floor=("heralding_floor", values, {
        "long_name": "symmetric heralding floor", "units": "1"}))
    out.attrs.pop("heralding_floor", None)
    return out
