"""Exact paraxial coupling of SPDC pairs into single-mode fibres, on numpy arrays.

Pure numpy (nothing here knows about xarray).  The model (docs/physics/coupling.md,
shared physics notes "Fibre coupling"): collinear, paraxial, a Gaussian pump of waist w_p and
Gaussian fibre modes of waists w_s, w_i, each focused at its own plane; the crystal spans
z ∈ [−L/2, L/2].  Everything is expressed in dimensionless parameters:

- ``phi`` φ = Δk₀L, Δk₀ = k_p − k_s − k_i − 2πm/Λ (radians);
- ``xi_p, xi_s, xi_i`` ξ_j = L/(k_j w_j²) (Bennink Eq. 11);
- ``ratio_s, ratio_i`` r_j = k_j/k_p (no k_p = k_s + k_i is assumed);
- ``mu_p, mu_s, mu_i`` μ_j = 2 z_j/L, each beam's focal plane z_j from the crystal centre
  (the package's μ; 0 by default).

Normalisation (absolute, fixed here once): with the two-photon amplitude of the shared notes,

    Ψ(q_s, q_i) = E_p(q_s + q_i) ∫ dz exp(i z [Δk₀ − |q_s+q_i|²/2k_p + |q_s|²/2k_s + |q_i|²/2k_i]),

E_p(q) = exp(−w_p²|q|²/4) (the pump's angular spectrum with unit value at q = 0; its field in
real space is exp(−|x|²/w_p²)/(π w_p²)) and normalised fibre modes u_j(q) = (w_j/√(2π))
exp(−w_j²|q|²/4), the physical quantities are

    𝒜  = ∫∫ u_s u_i Ψ d²q_s d²q_i           = k_p · amplitude        [1/m]
    P₂ = |𝒜|²                               = k_p² · pair            [1/m²]
    P₁ˢ = ∫ d²q_i |∫ u_s Ψ d²q_s|²           = k_p² · signal_singles  [1/m²]
    P₁ⁱ = ∫ d²q_s |∫ u_i Ψ d²q_i|²           = k_p² · idler_singles   [1/m²]

so the functions here return the dimensionless ``amplitude``, ``pair``, ``signal_singles``,
``idler_singles`` (quantities "in units of k_p"), and the efficiencies η_s = P₂/P₁ⁱ,
η_i = P₂/P₁ˢ, and P₂/√(P₁ˢP₁ⁱ), which need no unit.  A rate follows by multiplying k_p²·pair
by the field prefactors (pump power, d_eff, frequencies, indices; Bennink Eqs. 40-41, Smirr
et al. Eq. 26) and integrating over the signal frequency: see docs/physics/coupling.md.

Public: :func:`coupling` (everything), :func:`pair_amplitude`, :func:`singles`,
:func:`check_domain` and :data:`DOMAIN`.
"""

from __future__ import annotations

import functools
import warnings
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from . import overlap as kernels

__all__ = ["DOMAIN", "CouplingResult", "asymptotic_tails", "check_domain", "coupling",
           "integrated_over_phi", "pair_amplitude", "singles"]

# The supported domain (check_domain), in which the stated accuracy was verified: the outer
# Gauss–Legendre rule of the singles resolves the integrand's scale 1/ξ and its oscillation
# ~|φ|/2 only up to these bounds (see _OUTER_TABLE).  The pair amplitude alone is exact on
# a much larger domain (kernels.overlap's), but one domain keeps the contract simple.
PHI_MAX = 100.0
XI_MIN, XI_MAX = 1e-4, 100.0
RATIO_MIN = 0.05
MISMATCH_MAX = 0.2  # |r_s + r_i − 1|: beyond, the beams' k do not belong to one SPDC process
MU_MAX = 2.0
#: The pair amplitude alone is two calls of the overlap kernel (partial fractions, Eqs. 7-9
#: of docs/physics/coupling.md): exact for any phase mismatch the kernel takes, so
#: :func:`pair_amplitude` accepts |φ| up to this (a joint spectrum's window reaches far
#: beyond the singles' verified |φ| <= 100).
AMPLITUDE_PHI_MAX = 1e100
DOMAIN = (f"finite |phi| <= {PHI_MAX:g}; {XI_MIN:g} <= xi_p, xi_s, xi_i <= {XI_MAX:g}; "
          f"{RATIO_MIN:g} <= ratio_s, ratio_i < 1 with |ratio_s + ratio_i - 1| <= "
          f"{MISMATCH_MAX:g}; |mu_p|, |mu_s|, |mu_i| <= {MU_MAX:g}")

# Far root: with D = D2 (l − ρ_f)(l − ρ_n) and |ρ_f| ≥ |ρ_n|, the far root's term is
# ~2/|ρ_f| of the near one's scale; it is dropped (D treated as linear, exactly Bennink's
# case) once |D2| ≤ _FAR_DROP·|q| (q = D2·ρ_f), i.e. |ρ_f| ≥ 1e17: a relative change
# ≤ ~2e-17.  Below that it is kept and evaluated by kernels.overlap, which is accurate for
# any pole position (its far-pole branch), so the two partial fractions never cancel
# catastrophically: the cancellation trap of the literal E₁ form is not met.  (In the
# singles, a far root with |ρ_f| ≥ 4 goes by its series instead, below.)
_FAR_DROP = 1e-17

# The far root in the singles' inner integral, by its Taylor series in u = 1/ρ_f:
# ∫_{-1}^{1} e^{iκl}/(l − ρ_f) dl = −Σ_k m_k(κ) u^{k+1}, m_k(κ) = ∫_{-1}^{1} l^k e^{iκl} dl.
# The moments depend only on κ = −φ/2, one per point, so they are computed once per point
# (_MOMENT_NODES-point Gauss–Legendre: exact to rounding, ≤ 6e-15 absolute against mpmath
# for |κ| ≤ 50, k < 40) and shared by all the outer nodes, whose far roots then cost a
# short Horner sum instead of an overlap kernel each.  Used where |u| ≤ _SERIES_U (else the
# overlap kernel, as for the near root), with enough terms that |u|^terms·2 ≤ 1e-18 (the far
# term is ~2|u| of the near one's scale, so this is below rounding).
_SERIES_U = 0.25
_SERIES_TERMS_MAX = 32
_MOMENT_NODES = 96

# Outer rule of the singles (over l ∈ [−1, 1]): the integrand varies on the scale
# h = min(c_p, c_f, 1) (c_j = 1/(r_j ξ_j)) near the foci and the faces, and oscillates like
# e^{iφl/2}.  [−1, 1] is cut at the (clipped) foci, each panel at its midpoint, and each half
# gets an n-point Gauss–Legendre rule in s, l = e ± h sinh s, anchored at its focus or face
# (2 panels if the foci coincide, else 3: 4n or 6n nodes).  n per (|φ| ≤, max(ξ_p, ξ_f) ≤)
# row, first match wins.  Measured (max relative error of P₁ˢ and P₁ⁱ against n = 160-240,
# 100-400 random points per row with all three ξ_j drawn from the row's upper decade, the
# ratios anywhere in the domain, |μ| ≤ 2, |φ| in the row's upper part):
#   |φ| ≤ 10:  ξ ≤ 1: n = 14 → 4e-13;  ξ ≤ 3: 22 → 1.7e-12;  ξ ≤ 30: 36 → 5e-14;
#              ξ ≤ 100: 36 → 1.1e-10, 48 → 1.2e-13;
#   |φ| ≤ 40:  ξ ≤ 10: 30 → 1.7e-11, 36 → 9e-13;  ξ ≤ 100: 48 → 4e-13;
#   |φ| ≤ 100: ξ ≤ 10: 44 → 1.4e-13;  ξ ≤ 100: 64 → 1.7e-13.
# The table adds a margin of a few nodes to each (convergence is geometric: ~10× per 4
# nodes).  tests/test_coupling_kernel.py::test_outer_rule_converged checks it against n = 96.
#
_OUTER_TABLE = ((10.0, 1.0, 16), (10.0, 3.0, 24), (10.0, 30.0, 40), (10.0, 100.0, 52),
                (40.0, 10.0, 40), (40.0, 100.0, 56), (100.0, 10.0, 48), (100.0, 100.0, 72))
# Balanced ratios, min(r_s, r_i) ≥ _BALANCED_RATIO (every collinear source whose longer
# wavelength is < ~2.3× the shorter), need fewer nodes: the hard points above are the
# strongly non-degenerate ones, whose free photon's diffraction phase (l − l')/r_free
# oscillates fastest.  n for them, by the (|φ| ≤, ξ ≤) row of _OUTER_TABLE that applies (the
# ξ ≤ 30 row is split at 10); rows not listed keep their n.  Measured like the rows above
# (300 points per row and draw, ξ_j all in the upper decade or 70 % of them, r_s in
# [0.3, 0.7], |φ| in the upper 30 % for half of them, |μ| ≤ 2; max relative error of P₁ˢ and
# P₁ⁱ against n = 200):
#   |φ| ≤ 10:  ξ ≤ 10: 20 → 7.6e-12, 24 → 2.4e-13;  ξ ≤ 30: 24 → 1.7e-12, 28 → 2.4e-13;
#   |φ| ≤ 40:  ξ ≤ 10: 20 → 2.4e-9, 24 → 1.8e-12 (then ~1e-12: the reference's rounding);
#   |φ| ≤ 100: ξ ≤ 10: 36 → 2.1e-10, 40 → 6.4e-12 (then 3-8e-12: rounding).
# Four nodes of margin again; the a posteriori check below applies to these as to all.
_BALANCED = {(10.0, 30.0): ((10.0, 28), (30.0, 32)), (40.0, 10.0): ((10.0, 28),),
             (100.0, 10.0): ((10.0, 44),)}
_BALANCED_RATIO = 0.3

# A posteriori control of the outer rule: each value is checked against the same panels
# with _CHECK_STEP fewer nodes per half-panel; where the two differ by more than _CONVERGED
# (relative), the point is redone with twice the nodes, at most _REFINE_LEVELS times (then
# a RuntimeWarning).  With geometric convergence of ~10x per 4 nodes, a difference below
# 1e-11 over 6 nodes leaves the finer value within ~1e-12.
_CHECK_STEP = 6
_CONVERGED = 1e-11
_REFINE_LEVELS = 3

# Points evaluated at once: bounds the (points × outer nodes) temporaries to a few MB.
_CHUNK = 512


class CouplingResult(NamedTuple):
    """Everything :func:`coupling` returns, each with the broadcast shape of its inputs."""

    amplitude: np.ndarray
    """𝒜/k_p, complex: the pair amplitude into both fibre modes."""
    pair: np.ndarray
    """P₂/k_p² = |amplitude|²: both photons in their fibres."""
    signal_singles: np.ndarray
    """P₁ˢ/k_p²: the signal in its fibre, the idler anywhere."""
    idler_singles: np.ndarray
    """P₁ⁱ/k_p²: the idler in its fibre, the signal anywhere."""
    signal_heralding: np.ndarray
    """η_s = P₂/P₁ⁱ: the signal in its fibre given the idler detected in its own."""
    idler_heralding: np.ndarray
    """η_i = P₂/P₁ˢ."""
    symmetric_heralding: np.ndarray
    """P₂/√(P₁ˢ P₁ⁱ)."""


def pair_amplitude(phi: ArrayLike, xi_p: ArrayLike, xi_s: ArrayLike, xi_i: ArrayLike,
                   ratio_s: ArrayLike, ratio_i: ArrayLike, mu_p: ArrayLike = 0.0,
                   mu_s: ArrayLike = 0.0, mu_i: ArrayLike = 0.0) -> np.ndarray:
    r"""The pair amplitude into both fibre modes, 𝒜/k_p, exact in the paraxial model.

    .. math:: \frac{\mathcal A}{k_p} = 4\pi\sqrt{c_s c_i}\int_{-1}^{1}
              \frac{e^{i\phi l/2}}{D(l)}\,dl,\qquad
              D(l) = a_p a_s + a_p a_i + a_s a_i,

    with c_j = 1/(r_j ξ_j) (= k_p w_j²/L), a_p = c_p + i(l − μ_p),
    a_j = c_j − i(l − μ_j)/r_j for j = s, i (r_p = 1).

    Parameters
    ----------
    phi : array_like of float
        Phase mismatch φ = Δk₀L (radians), Δk₀ = k_p − k_s − k_i − 2πm/Λ.
    xi_p, xi_s, xi_i : array_like of float
        Per-beam focusing ξ_j = L/(k_j w_j²) (Bennink Eq. 11), w_j the 1/e² intensity
        radius of the pump and of the signal and idler fibre modes.
    ratio_s, ratio_i : array_like of float
        k_s/k_p and k_i/k_p (k_j = 2πn_j/λ_j); their sum need not be 1.
    mu_p, mu_s, mu_i : array_like of float, optional
        Focal planes z_j = μ_j L/2 from the crystal centre (0: centred).

    Returns
    -------
    ndarray of complex128
        𝒜/k_p with the broadcast shape of the inputs.  P₂ = k_p²|𝒜/k_p|² in m⁻² for the
        amplitude Ψ normalised as in the module docstring.

    Raises
    ------
    ValueError
        Outside :data:`DOMAIN` (see :func:`check_domain`), naming the argument, except
        that |φ| may reach :data:`AMPLITUDE_PHI_MAX` (the overlap kernel's domain).

    Notes
    -----
    D is quadratic in l with the exact leading coefficient
    D₂ = (r_s + r_i − 1)/(r_s r_i); partial fractions over its roots reduce the integral
    to two integrals ∫e^{iκl}/(l − ρ)dl, each an :func:`xr_spdc.numerics.overlap.overlap` with
    complex pole (docs/physics/coupling.md, Eqs. 7-9).  With r_s + r_i = 1, D is linear
    and 𝒜/k_p is proportional to Bennink's O(φ, ξ) with his aggregate ξ.

    Examples
    --------
    >>> import numpy as np
    >>> from xr_spdc.numerics.coupling import pair_amplitude
    >>> a = pair_amplitude([-3.3, 0.0], 2.84, 2.84, 2.84, 0.5, 0.5)
    >>> a.shape, a.dtype
    ((2,), dtype('complex128'))
    """
    args = _prepare(phi, xi_p, xi_s, xi_i, ratio_s, ratio_i, mu_p, mu_s, mu_i,
                    phi_max=AMPLITUDE_PHI_MAX)
    shape, flat = args[0], args[1:]
    out = np.empty(flat[0].shape, dtype=np.complex128)
    for start in range(0, out.size, _CHUNK):
        part = slice(start, start + _CHUNK)
        out[part] = _amplitude(*(a[part] for a in flat))
    return out.reshape(shape)


def singles(phi: ArrayLike, xi_p: ArrayLike, xi_s: ArrayLike, xi_i: ArrayLike,
            ratio_s: ArrayLike, ratio_i: ArrayLike, mu_p: ArrayLike = 0.0,
            mu_s: ArrayLike = 0.0, mu_i: ArrayLike = 0.0, *,
            arm: str = "signal") -> np.ndarray:
    r"""Singles into one fibre, P₁/k_p², the partner photon anywhere.

    .. math:: \frac{P_1^s}{k_p^2} = 8\pi^2 c_s\,\mathrm{Re}\int_{-1}^{1}dl\,
              e^{i\phi l/2}\int_{-1}^{1}dl'\,\frac{e^{-i\phi l'/2}}{d(l, l')}

    with d the determinant of the 3×3 matrix of (q_s, q_s', q_i) (docs/physics/coupling.md,
    Eqs. 10-13), quadratic in l'.

    Parameters
    ----------
    phi, xi_p, xi_s, xi_i, ratio_s, ratio_i, mu_p, mu_s, mu_i : array_like of float
        As for :func:`pair_amplitude`.
    arm : {"signal", "idler"}
        Which photon is coupled: "signal" gives P₁ˢ (μ_i and ξ_i's fibre play no part, only
        k_i), "idler" gives P₁ⁱ.

    Returns
    -------
    ndarray of float64
        P₁/k_p² (> 0), with the broadcast shape of the inputs.

    Raises
    ------
    ValueError
        Outside :data:`DOMAIN`, or for an unknown ``arm``.

    Warns
    -----
    RuntimeWarning
        If the outer rule has not settled to 1e-11 after three doublings (not met within
        the domain in the measurements; the value is returned).

    Notes
    -----
    The inner l'-integral is closed (an overlap kernel per root and outer node, the far
    root by its series in 1/ρ_f where |ρ_f| ≥ 4); the outer one is Gauss–Legendre on panels
    cut at the foci, sinh-graded towards the foci and the faces, 64 to 432 nodes by |φ|,
    max ξ and whether min(r_s, r_i) ≥ 0.3 (``_OUTER_TABLE``), each value checked a posteriori
    against 6 fewer nodes per panel and refined by doubling where it has not settled to
    1e-11 (a RuntimeWarning if it never does).
    """
    if arm not in ("signal", "idler"):
        raise ValueError(f"arm must be 'signal' or 'idler', got {arm!r}")
    args = _prepare(phi, xi_p, xi_s, xi_i, ratio_s, ratio_i, mu_p, mu_s, mu_i)
    shape, flat = args[0], args[1:]
    out = np.empty(flat[0].shape, dtype=np.float64)
    for start in range(0, out.size, _CHUNK):
        part = slice(start, start + _CHUNK)
        out[part] = _singles(*(a[part] for a in flat), signal=arm == "signal")
    return out.reshape(shape)


def coupling(phi: ArrayLike, xi_p: ArrayLike, xi_s: ArrayLike, xi_i: ArrayLike,
             ratio_s: ArrayLike, ratio_i: ArrayLike, mu_p: ArrayLike = 0.0,
             mu_s: ArrayLike = 0.0, mu_i: ArrayLike = 0.0) -> CouplingResult:
    """Pair amplitude, pair and singles probabilities and the heralding efficiencies.

    Parameters
    ----------
    phi, xi_p, xi_s, xi_i, ratio_s, ratio_i, mu_p, mu_s, mu_i : array_like of float
        As for :func:`pair_amplitude` (broadcast together).

    Returns
    -------
    CouplingResult
        ``amplitude`` (𝒜/k_p), ``pair`` (P₂/k_p²), ``signal_singles`` (P₁ˢ/k_p²),
        ``idler_singles`` (P₁ⁱ/k_p²), ``signal_heralding`` η_s = P₂/P₁ⁱ,
        ``idler_heralding`` η_i = P₂/P₁ˢ and ``symmetric_heralding`` P₂/√(P₁ˢP₁ⁱ), all
        with the broadcast shape; the efficiencies lie in [0, 1].

    Raises
    ------
    ValueError
        Outside :data:`DOMAIN` (see :func:`check_domain`).

    Notes
    -----
    Exchanging the signal's and the idler's parameters (ξ, r, μ) swaps the singles and
    the two heralding efficiencies.  Accuracy: ≤ 1e-10 relative against brute-force
    transverse quadrature (tests/data/coupling_references.npz; measured in
    tests/test_coupling_kernel.py).

    Examples
    --------
    >>> from xr_spdc.numerics.coupling import coupling
    >>> r = coupling(-3.3, 2.84, 2.84, 2.84, 0.5, 0.5)
    >>> bool(0 < r.signal_heralding <= 1)
    True
    """
    args = _prepare(phi, xi_p, xi_s, xi_i, ratio_s, ratio_i, mu_p, mu_s, mu_i)
    shape, flat = args[0], args[1:]
    amp = np.empty(flat[0].shape, dtype=np.complex128)
    p1s = np.empty(flat[0].shape, dtype=np.float64)
    p1i = np.empty(flat[0].shape, dtype=np.float64)
    for start in range(0, amp.size, _CHUNK):
        part = slice(start, start + _CHUNK)
        chunk = [a[part] for a in flat]
        amp[part] = _amplitude(*chunk)
        p1s[part] = _singles(*chunk, signal=True)
        p1i[part] = _singles(*chunk, signal=False)
    pair = amp.real ** 2 + amp.imag ** 2
    return CouplingResult(
        amplitude=amp.reshape(shape), pair=pair.reshape(shape),
        signal_singles=p1s.reshape(shape), idler_singles=p1i.reshape(shape),
        signal_heralding=(pair / p1i).reshape(shape),
        idler_heralding=(pair / p1s).reshape(shape),
        symmetric_heralding=(pair / np.sqrt(p1s * p1i)).reshape(shape))


def asymptotic_tails(xi_p: ArrayLike, xi_s: ArrayLike, xi_i: ArrayLike, ratio_s: ArrayLike,
                     ratio_i: ArrayLike, mu_p: ArrayLike = 0.0, mu_s: ArrayLike = 0.0,
                     mu_i: ArrayLike = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""The large-|φ| behaviour of pair and singles: each → C/φ² (plus terms oscillating
    like e^{±iφ}, and O(1/φ³)), returning (C_pair, C_signal, C_idler) in the units of
    :func:`coupling` (P/k_p²).

    Integrating by parts at the crystal faces (the integrands are analytic on the closed
    intervals: D and d have no real roots),

    .. math:: \int_{-1}^{1}\frac{e^{i\phi l/2}}{D}dl = \frac{2}{i\phi}\Big[
              \frac{e^{i\phi/2}}{D(1)} - \frac{e^{-i\phi/2}}{D(-1)}\Big] + O(\phi^{-2}),

    so the part of P₂/k_p² that does not oscillate is 64π²c_sc_i(|D(1)|⁻² + |D(−1)|⁻²)/φ²;
    likewise the corners l = l' = ±1 of the singles' square give
    32π²c_f Re(1/d(1, 1) + 1/d(−1, −1))/φ².  The relative error is O(1/(|φ| h)), h the
    scale of the integrands (:func:`singles`' Notes); the oscillating terms average out over
    a period of φ.  Used for the spectral tails beyond the domain's |φ| (docs/physics/
    coupling.md §9).

    Parameters
    ----------
    xi_p, xi_s, xi_i, ratio_s, ratio_i, mu_p, mu_s, mu_i : array_like of float
        As for :func:`pair_amplitude` (no φ).

    Returns
    -------
    tuple of ndarray
        C_pair, C_signal, C_idler (> 0), broadcast.
    """
    args = _prepare(0.0, xi_p, xi_s, xi_i, ratio_s, ratio_i, mu_p, mu_s, mu_i)
    shape, (_, xp, xs, xi, rs, ri, mp, ms, mi) = args[0], args[1:]
    (ap, bp), (as_, bs), (ai, bi), (c_p, c_s, c_i) = _linear_parts(xp, xs, xi, rs, ri, mp, ms,
                                                                   mi)
    pair = np.zeros(xp.shape)
    sig = np.zeros(xp.shape)
    idl = np.zeros(xp.shape)
    for end in (-1.0, 1.0):
        a_p, a_s, a_i = ap + bp * end, as_ + bs * end, ai + bi * end
        d = a_p * a_s + a_p * a_i + a_s * a_i
        pair += 1.0 / np.abs(d) ** 2
        for a_f, acc in ((a_s, sig), (a_i, idl)):
            # d(l, l) = 2 c_p |x|² − 2 Re(x conj(y)²), x = a_p + a_f, y = a_p (Eq. 12).
            x = a_p + a_f
            acc += 1.0 / (2.0 * c_p * np.abs(x) ** 2 - 2.0 * (x * np.conj(a_p) ** 2).real)
    return ((64.0 * np.pi ** 2 * c_s * c_i * pair).reshape(shape),
            (32.0 * np.pi ** 2 * c_s * sig).reshape(shape),
            (32.0 * np.pi ** 2 * c_i * idl).reshape(shape))


def integrated_over_phi(xi_p: ArrayLike, xi_s: ArrayLike, xi_i: ArrayLike,
                        ratio_s: ArrayLike, ratio_i: ArrayLike, mu_p: ArrayLike = 0.0,
                        mu_s: ArrayLike = 0.0, mu_i: ArrayLike = 0.0, *, nodes: int = 400
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""∫ pair dφ, ∫ signal_singles dφ and ∫ idler_singles dφ over all φ, in closed 1-D form.

    Parseval in φ/2 ↔ l: ∫|∫g(l)e^{iφl/2}dl|²dφ = 4π∫|g|²dl and
    ∫e^{iφ(l−l')/2}dφ = 4πδ(l − l'), so

    .. math:: \int P_2\,d\phi = 64\pi^3 c_sc_i\int_{-1}^{1}\frac{dl}{|D(l)|^2},\qquad
              \int P_1^s\,d\phi = 32\pi^3 c_s\int_{-1}^{1}\frac{dl}{d(l, l)}

    (in units of k_p², d(l, l) = 2c_p|x|² − 2Re(x ȳ²) of Eq. 12).  With the other factors
    frozen over the phase-matching band and φ linear in the signal frequency (a CW pump,
    type-II), the spectrally integrated rates are these times the prefactor over |dφ/dω_s|
    (docs/physics/coupling.md §9): Bennink's rate factor, exact in the paraxial model.

    Parameters
    ----------
    xi_p, xi_s, xi_i, ratio_s, ratio_i, mu_p, mu_s, mu_i : array_like of float
        As for :func:`pair_amplitude` (no φ).
    nodes : int
        Gauss–Legendre nodes per half of [−1, 1] (sinh-graded towards the centre).

    Returns
    -------
    tuple of ndarray
        (∫P₂dφ, ∫P₁ˢdφ, ∫P₁ⁱdφ)/k_p², broadcast.
    """
    args = _prepare(0.0, xi_p, xi_s, xi_i, ratio_s, ratio_i, mu_p, mu_s, mu_i)
    shape, (_, xp, xs, xi, rs, ri, mp, ms, mi) = args[0], args[1:]
    (ap, bp), (as_, bs), (ai, bi), (c_p, c_s, c_i) = _linear_parts(xp, xs, xi, rs, ri, mp, ms,
                                                                   mi)
    h = np.minimum(np.minimum(np.minimum(c_p, c_s), c_i), 1.0)
    cuts = np.stack([-np.ones_like(xp), np.clip(mp, -1, 1), np.ones_like(xp)], axis=1)
    l, w = _outer_rule(cuts, h, nodes)
    a_p, a_s, a_i = (ap[:, None] + bp * l, as_[:, None] + np.asarray(bs)[..., None] * l,
                     ai[:, None] + np.asarray(bi)[..., None] * l)
    d = a_p * a_s + a_p * a_i + a_s * a_i
    pair = 64.0 * np.pi ** 3 * c_s * c_i * np.sum(w / np.abs(d) ** 2, axis=1)
    out = [pair]
    for a_f, c_f in ((a_s, c_s), (a_i, c_i)):
        x = a_p + a_f
        dd = 2.0 * c_p[:, None] * np.abs(x) ** 2 - 2.0 * (x * np.conj(a_p) ** 2).real
        out.append(32.0 * np.pi ** 3 * c_f * np.sum(w / dd, axis=1))
    return tuple(o.reshape(shape) for o in out)


def check_domain(phi: ArrayLike, xi_p: ArrayLike, xi_s: ArrayLike, xi_i: ArrayLike,
                 ratio_s: ArrayLike, ratio_i: ArrayLike, mu_p: ArrayLike = 0.0,
                 mu_s: ArrayLike = 0.0, mu_i: ArrayLike = 0.0, *,
                 phi_max: float = PHI_MAX) -> None:
    """Refuse inputs outside the verified domain (:data:`DOMAIN`).

    Parameters
    ----------
    phi, xi_p, xi_s, xi_i, ratio_s, ratio_i, mu_p, mu_s, mu_i : array_like of float
        As for :func:`pair_amplitude`.
    phi_max : float, default PHI_MAX
        The largest |φ| accepted (:func:`pair_amplitude` uses :data:`AMPLITUDE_PHI_MAX`).

    Raises
    ------
    ValueError
        Naming the first offending argument, a few offending values and the domain.

    Examples
    --------
    >>> from xr_spdc.numerics.coupling import check_domain
    >>> check_domain(0.0, 1.0, 1.0, 1.0, 0.5, 0.5)
    >>> check_domain(0.0, -1.0, 1.0, 1.0, 0.5, 0.5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: xi_p out of the supported domain (...): -1.0...
    """
    values = {name: np.asarray(v, dtype=np.float64) for name, v in zip(
        ("phi", "xi_p", "xi_s", "xi_i", "ratio_s", "ratio_i", "mu_p", "mu_s", "mu_i"),
        (phi, xi_p, xi_s, xi_i, ratio_s, ratio_i, mu_p, mu_s, mu_i), strict=True)}
    with np.errstate(invalid="ignore"):
        for name, v in values.items():
            if name == "phi":
                ok = np.abs(v) <= phi_max
            elif name.startswith("xi"):
                ok = (v >= XI_MIN) & (v <= XI_MAX)
            elif name.startswith("ratio"):
                ok = (v >= RATIO_MIN) & (v < 1.0)
            else:
                ok = np.abs(v) <= MU_MAX
            if not ok.all():
                _refuse(name, v[~ok], "" if name != "phi" or phi_max == PHI_MAX
                        else f" (here |phi| <= {phi_max:g})")
        total = values["ratio_s"] + values["ratio_i"] - 1.0
        ok = np.abs(total) <= MISMATCH_MAX
        if not ok.all():
            _refuse("ratio_s + ratio_i - 1", np.broadcast_to(total, ok.shape)[~ok],
                    " (k_s + k_i must be within 20 % of k_p: check the wavelengths and "
                    "that ratio_s, ratio_i are k_s/k_p and k_i/k_p)")


def _refuse(name: str, bad: np.ndarray, hint: str) -> None:
    shown = ", ".join(repr(float(v)) for v in np.ravel(bad)[:5])
    more = f" and {bad.size - 5} more" if bad.size > 5 else ""
    raise ValueError(f"{name} out of the supported domain ({DOMAIN}): {shown}{more}{hint}")


def _prepare(*args: ArrayLike, phi_max: float = PHI_MAX
             ) -> tuple[tuple[int, ...], *tuple[np.ndarray, ...]]:
    check_domain(*args, phi_max=phi_max)
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in args))
    return (arrays[0].shape, *(np.ascontiguousarray(a).ravel() for a in arrays))


def _complex(real: np.ndarray, imag: np.ndarray) -> np.ndarray:
    z = np.empty(np.broadcast_shapes(np.shape(real), np.shape(imag)), dtype=np.complex128)
    z.real, z.imag = real, imag
    return z


def _pole_integral(kappa: np.ndarray, rho: np.ndarray) -> np.ndarray:
    # I(κ, ρ) = ∫_{-1}^{1} e^{iκl}/(l − ρ) dl for Im ρ ≠ 0 (never 0 here: the real parts
    # of the Gaussian forms are positive definite, so D has no real root).  For Im ρ < 0,
    # with ξ = 1/|Im ρ| and u = l − Re ρ: 1/(l − ρ) = −iξ/(1 − iξu), so
    # I = −i√ξ e^{iκ Re ρ} O(2κ, ξ, Re ρ); for Im ρ > 0, I(κ, ρ) = conj(I(−κ, conj ρ)).
    up = rho.imag > 0.0
    k = np.where(up, -kappa, kappa)
    xi = 1.0 / np.abs(rho.imag)
    mu = rho.real
    value = -1j * np.sqrt(xi) * np.exp(1j * k * mu) * kernels.overlap(2.0 * k, xi, mu)
    return np.where(up, np.conj(value), value)


def _quadratic_integral(kappa: np.ndarray, d2: np.ndarray, d1: np.ndarray,
                        d0: np.ndarray, *, series: bool = False) -> np.ndarray:
    # ∫_{-1}^{1} e^{iκl} / (d2 l² + d1 l + d0) dl by partial fractions.  Roots without
    # cancellation: q = −(d1 + s√(d1² − 4 d2 d0))/2 with s making |q| largest, ρ_n = d0/q
    # (near), ρ_f = q/d2 (far); 1/D = [1/(l − ρ_n) − 1/(l − ρ_f)]/(d2 ρ_n − q).
    # ``series``: the arrays are (points, nodes) with κ constant along each row; the far
    # root goes by _far_series where |1/ρ_f| ≤ _SERIES_U, its moments computed per row.
    disc = np.sqrt(d1 * d1 - 4.0 * d2 * d0)
    sign = np.where((np.conj(d1) * disc).real >= 0.0, 1.0, -1.0)
    q = -0.5 * (d1 + sign * disc)
    near = d0 / q
    total = _pole_integral(kappa, near)
    keep = np.abs(d2) > _FAR_DROP * np.abs(q)
    if series:
        u = d2 / q
        fast = keep & (np.abs(u) <= _SERIES_U)
        if fast.any():
            u_fast = u[fast]
            moments = _moments(kappa[:, 0], _series_terms(float(np.max(np.abs(u_fast)))))
            rows = np.broadcast_to(np.arange(kappa.shape[0])[:, None], kappa.shape)[fast]
            total[fast] += _far_series(u_fast, moments[rows])
        keep &= ~fast
    if keep.any():
        total[keep] -= _pole_integral(kappa[keep], q[keep] / d2[keep])
    return total / (d2 * near - q)


def _moments(kappa: np.ndarray, terms: int) -> np.ndarray:
    # m_k(κ) = ∫_{-1}^{1} l^k e^{iκl} dl for k < terms, shape kappa.shape + (terms,).
    x, w = _legendre(_MOMENT_NODES)
    weighted = w * np.exp(1j * kappa[..., None] * x)
    # einsum's own loop, not BLAS: a threaded BLAS spins its idle threads after the call and
    # slows everything after it on a loaded machine.
    return np.einsum("...n,nk->...k", weighted, x[:, None] ** np.arange(terms))


def _series_terms(u_max: float) -> int:
    # Terms of _far_series for |u| ≤ u_max: |u|^terms · 2 ≤ 1e-18.
    if u_max <= 0.0:
        return 1
    return int(min(_SERIES_TERMS_MAX, max(1, np.ceil(np.log(5e-19) / np.log(u_max)))))


def _far_series(u: np.ndarray, moments: np.ndarray) -> np.ndarray:
    # −∫_{-1}^{1} e^{iκl}/(l − 1/u) dl = Σ_k m_k u^{k+1} (|u| < 1), by Horner.
    acc = moments[..., -1].copy()
    for k in range(moments.shape[-1] - 2, -1, -1):
        acc = moments[..., k] + u * acc
    return u * acc


def _linear_parts(xi_p: np.ndarray, xi_s: np.ndarray, xi_i: np.ndarray, r_s: np.ndarray,
                  r_i: np.ndarray, mu_p: np.ndarray, mu_s: np.ndarray, mu_i: np.ndarray
                  ) -> tuple[tuple[np.ndarray, complex], tuple[np.ndarray, np.ndarray],
                             tuple[np.ndarray, np.ndarray],
                             tuple[np.ndarray, np.ndarray, np.ndarray]]:
    # a_j(l) = A_j + B_j l: a_p = c_p + i(l − μ_p), a_j = c_j − i(l − μ_j)/r_j.
    c_p, c_s, c_i = 1.0 / xi_p, 1.0 / (r_s * xi_s), 1.0 / (r_i * xi_i)
    a_p = _complex(c_p, -mu_p)
    a_s = _complex(c_s, mu_s / r_s)
    a_i = _complex(c_i, mu_i / r_i)
    b_p, b_s, b_i = 1j, -1j / r_s, -1j / r_i
    return (a_p, b_p), (a_s, b_s), (a_i, b_i), (c_p, c_s, c_i)


def _leading(r_s: np.ndarray, r_i: np.ndarray) -> np.ndarray:
    # D2 = B_pB_s + B_pB_i + B_sB_i = (r_s + r_i − 1)/(r_s r_i), exactly as the inputs say.
    return ((r_s + r_i) - 1.0) / (r_s * r_i)


def _amplitude(phi: np.ndarray, xi_p: np.ndarray, xi_s: np.ndarray, xi_i: np.ndarray,
               r_s: np.ndarray, r_i: np.ndarray, mu_p: np.ndarray, mu_s: np.ndarray,
               mu_i: np.ndarray) -> np.ndarray:
    (ap, bp), (as_, bs), (ai, bi), (c_p, c_s, c_i) = _linear_parts(
        xi_p, xi_s, xi_i, r_s, r_i, mu_p, mu_s, mu_i)
    d2 = _leading(r_s, r_i).astype(np.complex128)
    d1 = ap * (bs + bi) + bp * (as_ + ai) + as_ * bi + bs * ai
    d0 = ap * as_ + ap * ai + as_ * ai
    integral = _quadratic_integral(0.5 * phi, d2, d1, d0)
    return 4.0 * np.pi * np.sqrt(c_s * c_i) * integral




@functools.lru_cache(maxsize=64)
def _legendre(count: int) -> tuple[np.ndarray, np.ndarray]:
    return np.polynomial.legendre.leggauss(count)


def _outer_rule(cuts: np.ndarray, h: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    # Nodes and weights (points × nodes) over l ∈ [−1, 1].  The integrand varies on the
    # scale h near the foci and near the faces ±1 (where the inner integral's end points
    # meet the pole ridge l' ≈ l); [−1, 1] is cut at the foci (``cuts``, the face values
    # included) and each panel at its midpoint, and each half gets a ``count``-point
    # Gauss–Legendre rule in s with l = e ± h sinh s anchored at its focus or face end e.
    s_unit, w_unit = _legendre(count)
    nodes, weights = [], []
    for j in range(cuts.shape[1] - 1):
        a, b = cuts[:, j, None], cuts[:, j + 1, None]
        m = 0.5 * (a + b)
        for e in (a, b):
            span = np.abs(m - e)
            direction = np.where(m >= e, 1.0, -1.0)
            top = np.arcsinh(span / h[:, None])
            s = 0.5 * top * (s_unit + 1.0)
            nodes.append(e + direction * h[:, None] * np.sinh(s))
            weights.append(0.5 * top * w_unit * h[:, None] * np.cosh(s))
    return np.concatenate(nodes, axis=1), np.concatenate(weights, axis=1)


def _outer_count(phi: np.ndarray, xi_max: np.ndarray, ratio_min: np.ndarray) -> np.ndarray:
    # Nodes per half-panel, from _OUTER_TABLE (first row whose bounds hold), or _BALANCED
    # for that row where the ratios are balanced.
    count = np.full(phi.shape, _OUTER_TABLE[-1][2])
    done = np.zeros(phi.shape, dtype=bool)
    balanced = ratio_min >= _BALANCED_RATIO
    for phi_max, xi_bound, n in _OUTER_TABLE:
        here = ~done & (np.abs(phi) <= phi_max) & (xi_max <= xi_bound)
        count[here] = n
        for xi_sub, n_sub in reversed(_BALANCED.get((phi_max, xi_bound), ())):
            count[here & balanced & (xi_max <= xi_sub)] = n_sub
        done |= here
    return count


def _singles(phi: np.ndarray, xi_p: np.ndarray, xi_s: np.ndarray, xi_i: np.ndarray,
             r_s: np.ndarray, r_i: np.ndarray, mu_p: np.ndarray, mu_s: np.ndarray,
             mu_i: np.ndarray, *, signal: bool) -> np.ndarray:
    values = (phi, xi_p, xi_s, xi_i, r_s, r_i, mu_p, mu_s, mu_i)
    xi_f = xi_s if signal else xi_i
    count = _outer_count(phi, np.maximum(xi_p, xi_f), np.minimum(r_s, r_i))
    everything = np.ones(phi.shape, dtype=bool)
    out = _singles_by_count(values, count, everything, signal)
    # A posteriori check: the same panels with _CHECK_STEP fewer nodes.  The rule converges
    # geometrically (~10x per 4 nodes), so agreement to _CONVERGED leaves the finer value
    # well inside it; points that disagree are redone with twice the nodes, and so on.
    coarse = _singles_by_count(values, count - _CHECK_STEP, everything, signal)
    pending = np.abs(out - coarse) > _CONVERGED * np.abs(out)
    for _ in range(_REFINE_LEVELS):
        if not pending.any():
            break
        count = np.where(pending, 2 * count, count)
        finer = _singles_by_count(values, count, pending, signal)
        settled = np.abs(finer - out[pending]) <= _CONVERGED * np.abs(finer)
        out[pending] = finer
        pending[pending] = ~settled
    if pending.any():
        warnings.warn(f"singles: the outer rule did not settle to {_CONVERGED:g} at "
                      f"{int(pending.sum())} point(s) after {_REFINE_LEVELS} doublings; "
                      "their relative error may exceed 1e-10", RuntimeWarning, stacklevel=4)
    return out


def _singles_by_count(values: tuple[np.ndarray, ...], count: np.ndarray, mask: np.ndarray,
                      signal: bool) -> np.ndarray:
    # Evaluate the masked points, grouped by node count and by whether the foci coincide.
    f1 = np.clip(values[6], -1.0, 1.0)
    f2 = np.clip(values[7] if signal else values[8], -1.0, 1.0)
    same = f1 == f2
    out = np.empty(int(mask.sum()), dtype=np.float64)
    where = np.flatnonzero(mask)
    for n in np.unique(count[mask]):
        for coincide in (True, False):
            group = (count[where] == n) & (same[where] == coincide)
            if not group.any():
                continue
            index = where[group]
            args = [v[index] for v in values]
            ones = np.ones(index.size)
            lo, hi = np.minimum(f1[index], f2[index]), np.maximum(f1[index], f2[index])
            cuts = (np.stack([-ones, lo, ones], axis=1) if coincide
                    else np.stack([-ones, lo, hi, ones], axis=1))
            out[group] = _singles_rule(*args, signal=signal, cuts=cuts, count=int(n))
    return out


def _singles_rule(phi: np.ndarray, xi_p: np.ndarray, xi_s: np.ndarray, xi_i: np.ndarray,
                  r_s: np.ndarray, r_i: np.ndarray, mu_p: np.ndarray, mu_s: np.ndarray,
                  mu_i: np.ndarray, *, signal: bool, cuts: np.ndarray, count: int
                  ) -> np.ndarray:
    (ap, bp), (as_, bs), (ai, bi), (c_p, c_s, c_i) = _linear_parts(
        xi_p, xi_s, xi_i, r_s, r_i, mu_p, mu_s, mu_i)
    if signal:
        af, bf, c_f, r_free = as_, bs, c_s, r_i
    else:
        af, bf, c_f, r_free = ai, bi, c_i, r_s
    bf = np.broadcast_to(bf, af.shape)[:, None]
    l, weight = _outer_rule(cuts, np.minimum(np.minimum(c_p, c_f), 1.0), count)
    ap_c, bp_c = ap[:, None], bp
    x = (ap_c + bp_c * l) + (af[:, None] + bf * l)   # a_p(l) + a_f(l)
    y = ap_c + bp_c * l                              # a_p(l)
    # Primed (conjugated) factors, linear in l': X' = X0 + X1 l', Y' = Y0 + Y1 l',
    # t = t0 + t1 l' (t = a_p(l) + conj a_p(l') − i(l − l')/r_free).
    x0 = np.conj(ap + af)[:, None]
    x1 = np.conj(bp + bf)
    y0 = np.conj(ap)[:, None]
    y1 = np.conj(bp)
    t0 = y + np.conj(ap)[:, None] - 1j * l / r_free[:, None]
    t1 = np.conj(bp) + 1j / r_free[:, None]
    lead = _leading(r_s, r_i)[:, None]
    d2 = x * lead
    d1 = x * (t0 * x1 + t1 * x0 - 2.0 * y0 * y1) - y * y * x1
    d0 = x * (t0 * x0 - y0 * y0) - y * y * x0
    kappa = np.broadcast_to(-0.5 * phi[:, None], l.shape)
    inner = _quadratic_integral(kappa, d2, d1, d0, series=True)
    outer = np.sum(weight * np.exp(0.5j * phi[:, None] * l) * inner, axis=1)
    return 8.0 * np.pi ** 2 * c_f * outer.real
