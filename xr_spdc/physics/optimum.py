"""The optimum focusing, refined beyond any grid with scipy.optimize on the exact kernel.

Boyd and Kleinman (J. Appl. Phys. 39, 3597 (1968)) publish h_mm = 1.068 at ξ = 2.84,
σ_m = 0.57; Bennink (Phys. Rev. A 81, 053805 (2010)) ξ ≈ 2.84, Φ ≈ −1.04π.  Here they are
found to ~1e-12.

Finding the global maximum over φ at fixed ξ
--------------------------------------------
|O(φ)|² has side lobes, and with the focus displaced (μ ≠ 0) and ξ large the main lobe is
not the one nearest φ = 0: for μ = 0.7, ξ = 1000 the maximum sits at φ ≈ −6π, for μ = 0.9,
ξ = 10⁴ at φ ≈ −20π (it tends to −2π/(1 − |μ|) as ξ → ∞).  So each ξ is first scanned
over φ ∈ [−Φ, Φ] with

* Φ_bound = 2√ξ (|f(l₁)| + |f(l₂)| + atan(ξl₂) − atan(ξl₁)) / |O_best|, f = 1/(1 − iξl):
  one integration by parts gives |O(φ)| ≤ Φ_bound·|O_best|/|φ|, so no φ beyond Φ_bound can
  beat the best value O_best already seen on [−8π, 8π]; and
* Φ_lobes = max(8π, 8π/(1 − |μ|)): four times the far lobe's asymptotic position (for
  |μ| ≥ 1 both ends of the crystal lie on one side of the focus and the maximum is near
  φ = 0).  This cap only matters for ξ ≳ 10³, where Φ_bound grows like ξ.

Φ = min(Φ_bound, Φ_lobes), at least 8π.  The three largest local maxima of the scan are
then refined (golden section, then Newton steps on a finite-difference derivative) and the
largest kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from ..labelled import inputs
from ..labelled.names import INPUT_ATTRS, REFERENCES, attrs
from ..numerics.overlap import overlap
from ..numerics.walkoff import focusing_function

_BASE_RANGE = 8 * np.pi  # every xi is scanned over [-8 pi, 8 pi] at least
_CANDIDATES = 3  # local maxima of a scan refined per xi
_GOLDEN_STEPS = 32  # shrink a bracket of a few samples to ~1e-7 rad
_NEWTON_STEPS = 3  # then ~1e-13 rad
_INV_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0

_STEP = 1e-3  # finite-difference step in phi and log xi
_STENCIL = np.array([-2.0, -1.0, 1.0, 2.0])
_FIRST = np.array([1.0, -8.0, 8.0, -1.0]) / (12 * _STEP)  # 4th order, error ~_STEP^4
_SECOND = np.array([-1.0, 16.0, 16.0, -1.0]) / (12 * _STEP**2)  # without the -30 f(0) term

# find_optimum's coarse scan over xi: 10 points per decade, wide enough for |mu| <= 10
_COARSE_LOG10_XI = np.linspace(-3.0, 4.0, 71)


@dataclass(frozen=True)
class Optimum:
    """The maximum of |O|² (equivalently of Boyd–Kleinman's h).

    Attributes
    ----------
    xi, phi, mu : float
        Where it is (ξ, φ in rad, μ as given).
    overlap : complex
        O there.
    overlap_sq : float
        |O|².
    h : float
        Boyd–Kleinman's h = |O|²/4.
    sigma : float
        Boyd–Kleinman's σ = −φ/(2ξ).
    """

    xi: float
    phi: float
    mu: float
    overlap: complex
    overlap_sq: float
    h: float
    sigma: float


@dataclass(frozen=True)
class _Target:
    """What is maximised: |O(φ, ξ, μ)|², or 4h(σ = −φ/(2ξ), B, κ, ξ, μ) with walk-off or
    absorption (the same number when B = κ = 0)."""

    mu: float
    B: float = 0.0
    kappa: float = 0.0

    @property
    def plain(self) -> bool:
        return self.B == 0.0 and self.kappa == 0.0

    def square(self, phi: np.ndarray, xi: np.ndarray) -> np.ndarray:
        if self.plain:
            return np.abs(overlap(phi, xi, self.mu)) ** 2
        return 4.0 * focusing_function(-phi / (2.0 * xi), xi, self.B, self.kappa, self.mu)

    def smoothing(self, xi: np.ndarray | float) -> np.ndarray:
        """Width in φ of the walk-off's Gaussian average over σ (std B√(2/ξ) in σ)."""
        return 2.0 * self.B * np.sqrt(2.0 * np.asarray(xi))


def _scan_step(mu: float) -> float:
    """Sampling step in phi: ~50 samples per period of the fastest side lobes, 4 pi/(1+|mu|)."""
    return np.pi / (24 * (1 + abs(mu)))


def _scan_range(xi: np.ndarray, target: _Target, best_square: np.ndarray) -> np.ndarray:
    """Phi: beyond +-Phi no phi can beat best_square (see the module docstring)."""
    mu = target.mu
    lobes = _BASE_RANGE / (1 - abs(mu)) if abs(mu) < 1 else _BASE_RANGE
    if not target.plain:  # the bound is for O; walk-off smears the lobes over its width
        return max(_BASE_RANGE, lobes) + 4.0 * target.smoothing(xi)
    l1, l2 = -1.0 - mu, 1.0 - mu
    bound = (2 * np.sqrt(xi) * (1 / np.hypot(1, xi * l1) + 1 / np.hypot(1, xi * l2)
                                + np.arctan(xi * l2) - np.arctan(xi * l1))
             / np.sqrt(best_square))
    return np.maximum(np.minimum(bound, max(_BASE_RANGE, lobes)), _BASE_RANGE)


def _top_local_maxima(phis: np.ndarray, values: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` sampled phis with the largest local maxima of ``values``."""
    interior = (values[1:-1] >= values[:-2]) & (values[1:-1] >= values[2:])
    index = np.flatnonzero(interior) + 1
    if index.size == 0:  # monotonic on the scan: only the best sample is a candidate
        index = np.array([int(np.argmax(values))])
    return phis[index[np.argsort(values[index])[::-1][:count]]]


def _golden_section(lo: np.ndarray, hi: np.ndarray, xi: np.ndarray,
                    square: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """Maximise |O|^2 over phi in each [lo, hi] at once (one kernel call per step)."""
    c, d = hi - _INV_GOLDEN * (hi - lo), lo + _INV_GOLDEN * (hi - lo)
    fc, fd = square(c, xi), square(d, xi)
    for _ in range(_GOLDEN_STEPS):
        left = fc >= fd  # the maximum lies in [lo, d]
        lo, hi = np.where(left, lo, c), np.where(left, d, hi)
        new = np.where(left, hi - _INV_GOLDEN * (hi - lo), lo + _INV_GOLDEN * (hi - lo))
        f_new = square(new, xi)
        c, d, fc, fd = (np.where(left, new, d), np.where(left, c, new),
                        np.where(left, f_new, fd), np.where(left, fc, f_new))
    return np.where(fc >= fd, c, d)


def _newton(phi: np.ndarray, xi: np.ndarray,
            square: Callable[[np.ndarray, np.ndarray], np.ndarray], limit: float
            ) -> np.ndarray:
    """Newton steps on d|O|^2/dphi = 0: the value is flat at the top, so maximising it pins
    phi only to ~sqrt(eps); a root of the derivative pins it to ~1e-13."""
    for _ in range(_NEWTON_STEPS):
        stencil = phi[:, None] + np.r_[_STENCIL * _STEP, 0.0]
        values = square(stencil, xi[:, None])
        first = values[:, :4] @ _FIRST
        second = values[:, :4] @ _SECOND - 30 * values[:, 4] / (12 * _STEP**2)
        step = np.where(second < 0, -first / np.where(second < 0, second, -1.0), 0.0)
        phi = phi + np.where(np.abs(step) < limit, step, 0.0)  # stay near the bracket
    return phi


def _max_over_phi(xi: np.ndarray, target: _Target) -> tuple[np.ndarray, np.ndarray]:
    """(phi_m, |O|^2 at phi_m) of the global maximum over phi for each xi (1-D, > 0)."""
    # Walk-off averages over sigma with a Gaussian (std B sqrt(2/xi)): coarser samples do.
    steps = np.maximum(_scan_step(target.mu), target.smoothing(xi) / 16) * np.ones(xi.shape)
    step = _scan_step(target.mu)
    base = np.arange(-_BASE_RANGE, _BASE_RANGE + step / 2, step)
    base_values = target.square(base[None, :], xi[:, None])
    reach = np.broadcast_to(_scan_range(xi, target, base_values.max(axis=1)), xi.shape)
    owners, starts = [], []
    for i, x in enumerate(xi):
        if reach[i] > _BASE_RANGE:
            phis = np.arange(-reach[i], reach[i] + steps[i] / 2, steps[i])
            values = target.square(phis, x)
        else:
            phis, values = base, base_values[i]
        found = _top_local_maxima(phis, values, _CANDIDATES)
        owners.append(np.full(found.size, i))
        starts.append(found)
    owner, start = np.concatenate(owners), np.concatenate(starts)
    width = steps[owner]
    phi = _golden_section(start - width, start + width, xi[owner], target.square)
    phi = _newton(phi, xi[owner], target.square, limit=width)
    square = target.square(phi, xi[owner])
    # The best candidate of each xi: sort by owner, then by value descending.
    order = np.lexsort((-square, owner))
    first = order[np.r_[True, owner[order][1:] != owner[order][:-1]]]
    return phi[first], square[first]


def _gradient(point: np.ndarray, target: _Target) -> np.ndarray:
    """d|O|^2 / d(phi, log xi) by 4th-order central differences of the exact kernel."""
    phi, t = point
    offsets = _STENCIL * _STEP
    phis = np.r_[phi + offsets, np.full(4, phi)]
    ts = np.r_[np.full(4, t), t + offsets]
    square = target.square(phis, np.exp(ts))
    return np.array([square[:4] @ _FIRST, square[4:] @ _FIRST])


def _check_mu(mu: float) -> float:
    return float(inputs.check_real(inputs.find(None, mu, "mu"), "mu"))


def find_optimum(mu: float = 0.0) -> Optimum:
    """The (ξ, φ) maximising |O(φ, ξ, μ)|², i.e. Boyd and Kleinman's optimum focusing.

    Parameters
    ----------
    mu : float
        Focal displacement (0: centred, the classic case).  |O| is even in μ, so ±μ give
        the same ξ, φ and |O|² (and complex-conjugate O).

    Returns
    -------
    Optimum
        ξ, φ, μ, O, |O|², h = |O|²/4 and σ = −φ/(2ξ) at the maximum.

    Raises
    ------
    ValueError
        ``mu`` not finite.
    RuntimeError
        The maximum lies outside the scanned ξ ∈ [1e-3, 1e4] (only for |μ| ≳ 10).

    Notes
    -----
    The maximum over φ (:func:`optimum_per_xi`) is found on a coarse grid of ξ (10 points
    per decade); a parabola through the best three points in log ξ gives the start, and a
    root of the gradient of |O|² in (φ, log ξ) (4th-order finite differences of the exact
    kernel, step 1e-3; ``scipy.optimize.root``) pins the point to ~1e-12: maximising the
    value instead would pin it only to ~√eps ≈ 1e-8, the maximum being flat.

    Examples
    --------
    >>> best = find_optimum()
    >>> round(best.xi, 6), round(best.phi / np.pi, 6), round(best.h, 6)
    (2.837519, -1.036143, 1.067725)
    """
    mu = _check_mu(mu)
    phi, xi_best = _refine(_Target(mu), 10.0**_COARSE_LOG10_XI)
    value = complex(overlap(phi, xi_best, mu))
    square_best = abs(value) ** 2
    return Optimum(xi=xi_best, phi=phi, mu=mu, overlap=value, overlap_sq=square_best,
                   h=square_best / 4, sigma=-phi / (2 * xi_best))


def _refine(target: _Target, xi: np.ndarray) -> tuple[float, float]:
    """(phi, xi) of the maximum over both: coarse in xi, a parabola, then a gradient root."""
    _, square = _max_over_phi(xi, target)
    k = int(np.argmax(square))
    if k in (0, xi.size - 1):
        raise RuntimeError(f"the optimum for {target} lies at or beyond xi={xi[k]:.3g}, "
                           f"outside the scanned range [{xi[0]:.3g}, {xi[-1]:.3g}]")
    # Vertex of the parabola through the three best points (equally spaced in log xi).
    t = np.log(xi[k - 1:k + 2])
    y = square[k - 1:k + 2]
    shift = 0.5 * (y[0] - y[2]) / (y[0] - 2 * y[1] + y[2])
    t0 = t[1] + np.clip(shift, -1, 1) * (t[1] - t[0])
    phi0 = float(_max_over_phi(np.array([np.exp(t0)]), target)[0][0])
    start = np.array([phi0, t0])
    from scipy.optimize import root  # here: importing xr_spdc must stay light

    solution = root(_gradient, start, args=(target,), method="hybr", options={"xtol": 1e-14})
    if np.linalg.norm(_gradient(solution.x, target)) < np.linalg.norm(_gradient(start, target)):
        start = solution.x
    return float(start[0]), float(np.exp(start[1]))


def _mu_of(xi: Any) -> float:
    """The μ an ``xi`` DataArray was computed at (its scalar ``mu`` coordinate), else 0."""
    if not isinstance(xi, xr.DataArray) or "mu" not in xi.coords:
        return 0.0
    mu = xi.coords["mu"]
    if mu.size != 1:
        raise ValueError(f"mu: xi carries {mu.size} values of 'mu' ({mu.values.ravel()[:5]!r}); "
                         "select one (e.g. o.sel(mu=0.5).xi) or pass mu= explicitly")
    return float(mu.values.reshape(-1)[0])


def optimum_per_xi(xi: ArrayLike | xr.DataArray, mu: float | None = None, *, B: float = 0.0,
                   kappa: float = 0.0) -> xr.Dataset:
    """For each ξ, the φ that maximises |O|², and Boyd–Kleinman's h_m(ξ) and σ_m(ξ).

    Parameters
    ----------
    xi : array_like or DataArray
        Aggregate focus values (scalar or 1-D, finite, > 0).  A DataArray keeps its dim,
        its coords and its attrs (on the ``xi`` coordinate of the result).
    mu : float, optional
        Focal displacement (as for :func:`xr_spdc.overlap`).  By default the scalar
        coordinate ``mu`` of ``xi`` when it has one (``o.xi`` of an overlap computed at some
        μ carries it), else 0.
    B, kappa : float, optional
        Boyd and Kleinman's walk-off and absorption parameters (≥ 0; 0 by default): then h
        is :func:`xr_spdc.numerics.walkoff.focusing_function` and h_m(ξ; B, κ) its maximum over σ.

    Returns
    -------
    xarray.Dataset
        ``h_m`` (max over σ of h = |O|²/4), ``sigma_m`` (where) and ``phi_m`` (= −2ξσ_m)
        over the dim ``xi`` (or the DataArray's dim), with a coordinate ``xi`` holding the
        values and scalar coordinates ``mu`` (and ``B``, ``kappa`` when either is not 0);
        every variable has ``long_name`` and ``units``.

    Raises
    ------
    ValueError
        ``xi`` not 1-D, not finite or not positive (a few offending values are named);
        ``mu`` not finite; ``B`` or ``kappa`` negative or not finite.

    Notes
    -----
    The global maximum is found among all side lobes: see the module docstring.  With
    walk-off, h is the average of h(B = 0) over σ with a Gaussian of standard deviation
    B√(2/ξ) (expand e^{−(B²/ξ)s²} in Fourier components), which smears the lobes: the scan
    widens by four such widths and its step grows to 1/16 of one.
    Asymptotes: h_m ≈ ξ(1 − ξ²/3) as ξ → 0, h_m → (π + 2 Si(π))²/(4ξ) as ξ → ∞ (μ = 0,
    B = κ = 0).

    Examples
    --------
    >>> best = optimum_per_xi([0.1, 1.0, 10.0])
    >>> [round(float(h), 9) for h in best.h_m]
    [0.099668433, 0.776134089, 0.719754974]
    >>> best.h_m.dims, best.phi_m.attrs["units"]
    (('xi',), 'rad')
    >>> round(float(optimum_per_xi(1.39, B=16.0).h_m[0]), 6)
    0.044143
    """
    if mu is None:
        mu = _mu_of(xi)
    target = _target(mu, B, kappa)
    given, values = _one_dimensional(xi, "xi", positive=True)
    phi_m, square = _max_over_phi(values, target)
    dim, name = given.dims[0], str(given.name)
    coords = dict(given.coords)
    coords[name] = (dim, values, {**INPUT_ATTRS["xi"], **given.attrs})
    coords.update(_scalar_coords(target))
    return xr.Dataset(
        {"h_m": (dim, square / 4, attrs("h_m")),
         "sigma_m": (dim, -phi_m / (2 * values), attrs("sigma_m")),
         "phi_m": (dim, phi_m, attrs("phi_m"))},
        coords=coords, attrs={"references": REFERENCES})


def _target(mu: float, B: float, kappa: float) -> _Target:
    checked = {role: float(inputs.check_real(inputs.find(None, value, role), role))
               for role, value in (("mu", mu), ("B", B), ("kappa", kappa))}
    for role in ("B", "kappa"):
        if checked[role] < 0:
            raise ValueError(f"{role} must be >= 0, not {checked[role]!r}")
    return _Target(checked["mu"], abs(checked["B"]), checked["kappa"])


def _scalar_coords(target: _Target) -> dict[str, tuple]:
    coords: dict[str, tuple] = {"mu": ((), target.mu, dict(INPUT_ATTRS["mu"]))}
    if not target.plain:
        coords["B"] = ((), target.B, dict(INPUT_ATTRS["B"]))
        coords["kappa"] = ((), target.kappa, dict(INPUT_ATTRS["kappa"]))
    return coords


def _one_dimensional(values: ArrayLike | xr.DataArray, role: str, *, positive: bool = False
                     ) -> tuple[xr.DataArray, np.ndarray]:
    """A scalar, 1-D array or DataArray as a named 1-D DataArray and its checked values."""
    if isinstance(values, xr.DataArray):
        given = values if values.ndim == 1 else values.expand_dims(
            role if values.name is None else values.name)
    else:
        given = xr.DataArray(np.atleast_1d(np.asarray(values, dtype=float)), dims=role)
    if given.ndim != 1:
        raise ValueError(f"{role} must be 1-D, not of sizes {dict(given.sizes)}")
    given = given.rename(role if given.name is None else given.name)
    checked = inputs.check_real(given.compute(), role, positive=positive).values
    if not positive and (checked < 0).any():
        raise ValueError(f"{role} must be >= 0, not {checked[checked < 0][:inputs.SHOWN]}")
    return given, checked


#: Large-B law of the optimum (derived in :func:`walkoff_optimum`'s Notes): ξ_m → XI_INF,
#: the root of 2ξ/(1 + ξ²) = atan ξ, and B·h_mm → H_INF = (√π/2)·atan(XI_INF)/√XI_INF.
XI_INF = 1.3917452002707693
H_INF = 0.7119632127244854


def walkoff_optimum(B: ArrayLike | xr.DataArray, kappa: float = 0.0, mu: float = 0.0
                    ) -> xr.Dataset:
    """Boyd and Kleinman's optimum with walk-off: h_mm(B), ξ_m(B), σ_m(B).

    Parameters
    ----------
    B : array_like or DataArray
        Walk-off parameters (scalar or 1-D, ≥ 0, finite).
    kappa : float, optional
        Absorption parameter κ ≥ 0.
    mu : float, optional
        Focal position.

    Returns
    -------
    xarray.Dataset
        Over the dim of ``B``: ``h_mm`` (h maximised over σ and ξ), ``xi_m``, ``sigma_m``
        and ``phi_m`` (= −2ξ_mσ_m), labelled, with scalar coordinates ``kappa`` and ``mu``.

    Notes
    -----
    Found as :func:`find_optimum` finds the walk-off-free optimum (a coarse scan over ξ,
    five points per decade from 1e-2 to 1e3, then a root of the finite-difference gradient
    in (φ, ln ξ)), on :func:`xr_spdc.numerics.walkoff.focusing_function`; position to ~1e-10,
    h_mm to ~1e-14.

    Large B (derived here, and checked by tests/test_optimum.py): e^{−(B²/ξ)s²} confines
    s = τ − τ′ to ~√ξ/B, where I(s) = ∫ f(t+s) f̄(t) dt (f = 1/(1+it), κ = μ = 0) is
    I(0) = 2 atan ξ with a kink Re I′(0±) = ∓1/(1+ξ²).  So

        h = √π atan(ξ)/(2B√ξ) − 1/(4B²(1+ξ²)) + O(B⁻³),

    flat in σ to this order (σ_m settles near 0.75, set by the O(B⁻³) terms), maximal
    over ξ at ξ_m → 1.39175 + O(1/B) (2ξ/(1+ξ²) = atan ξ):
    h_mm → 0.711963/B − 0.0851/B² + O(B⁻³).  Boyd and Kleinman's
    Sec. III gives the same limiting focus ξ_m ≈ 1.39 for strong walk-off.

    Examples
    --------
    >>> best = walkoff_optimum([0.0, 1.0])
    >>> [round(float(h), 6) for h in best.h_mm]
    [1.067725, 0.570766]
    >>> best.h_mm.dims
    ('B',)
    """
    given, values = _one_dimensional(B, "B")
    rows = []
    for b in values:
        target = _target(mu, b, kappa)
        phi, xi = _refine(target, 10.0 ** np.linspace(-2.0, 3.0, 26))
        rows.append((phi, xi, float(target.square(np.array(phi), np.array(xi))) / 4))
    phi_m, xi_m, h_mm = (np.array(column) for column in zip(*rows, strict=True))
    dim, name = given.dims[0], str(given.name)
    coords = dict(given.coords)
    coords[name] = (dim, values, {**INPUT_ATTRS["B"], **given.attrs})
    target = _target(mu, 0.0, kappa)
    coords["kappa"] = ((), target.kappa, dict(INPUT_ATTRS["kappa"]))
    coords["mu"] = ((), target.mu, dict(INPUT_ATTRS["mu"]))
    return xr.Dataset(
        {"h_mm": (dim, h_mm, attrs("h_mm")),
         "xi_m": (dim, xi_m, attrs("xi_m")),
         "sigma_m": (dim, -phi_m / (2 * xi_m), attrs("sigma_mm")),
         "phi_m": (dim, phi_m, attrs("phi_m"))},
        coords=coords, attrs={"references": REFERENCES})
