"""Compute the mpmath references the kernel and quad tests read (tests/data/overlap_references.npz).

Run by hand from the repository root when a point set changes (a few minutes on two cores):

    python tests/make_references.py

Each point set is stored as ``<set>_phi``, ``<set>_xi``, ``<set>_mu`` (float64) and
``<set>_ref`` (complex128), plus ``<set>_env``, the envelope E(xi, mu) from mpmath.  The values
come from :func:`references.overlap_reference`: the closed form in mpmath's E1 at a precision
doubled until two successive precisions agree to 1e-20 of the envelope.  Before anything is
written, that closed form is checked against tanh-sinh quadrature of the definition
(:func:`references.overlap_mpmath`) on the ``definition`` set, whose quadrature values are
stored too (``definition_quad``).
"""

from __future__ import annotations

import multiprocessing
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from references import envelope_mp, overlap_mpmath, overlap_reference  # noqa: E402

OUT = pathlib.Path(__file__).parent / "data" / "overlap_references.npz"
MUS = [0.0, 0.25, -0.25, 0.5, -0.5, 1.0, -1.0, 1.5, -1.5]
PHI_MAX = 200 * np.pi
# The kernel's switches (xr_spdc/kernels.py), written out so that the data do not depend on
# the code under test.
PHI_BOX, XI_BOX, MU_BOX, TAYLOR_PHASE, FAR_POLE, LIMIT = 8.0, 1.0, 2.0, 1e-8, 1e-8, 1e100


def _grid(phi, xi, mu) -> np.ndarray:
    return np.array([a.ravel() for a in np.broadcast_arrays(*map(np.asarray, (phi, xi, mu)))])


def special_phis(xi: float) -> list[float]:
    """phi = 0, tiny, +-2 xi (a = +-1), both sides of the Gauss-Legendre box (|phi| = 8),
    a beyond e^a's overflow (|phi|/(2 xi) > 710), the edges of the target range."""
    phis = [0.0, -0.0, 5e-324, 1e-300, -1e-300, 1e-12, -1e-12, -1.0, 3.0, -7.9, 20.0, -50.0,
            PHI_MAX, -PHI_MAX, 2 * xi, -2 * xi, 9 * xi, -9 * xi, 0.3 * xi, -0.3 * xi,
            1500 * xi, -1500 * xi]
    phis += [s * (PHI_BOX + d) for s in (1, -1) for d in (-1e-9, 0.0, 1e-9)]
    return [p for p in phis if abs(p) <= PHI_MAX]


def regimes() -> np.ndarray:
    """Both sides of every switch of the kernel, across xi in [1e-6, 1e6] and |mu| <= 2."""
    parts = [_grid(special_phis(10.0**e), 10.0**e, mu)
             for e in (-6, -4, -2, -1, -0.5, 0, 0.3, 1, 2, 4, 6) for mu in MUS]
    eps = 1e-9
    box_phi = [s * PHI_BOX * f for s in (1, -1) for f in (1 - eps, 1.0, 1 + eps)]
    box_phi += [0.5, -0.5, -3.0]
    for mu in (0.0, 0.5, -1.0, 2.0):  # the Gauss-Legendre box's xi edge
        parts.append(_grid(np.array(box_phi), np.array([1 - eps, 1.0, 1 + eps])[:, None], mu))
    for mu in (0.0, 0.5, -1.0, 1.0, -2.0, 2.0):  # the small-mismatch branch, a factor 1 +- 1e-6
        xi = np.array([1e-6, 0.5, 1.0, 1.5, 2.84, 1e3, 1e6])
        edge = TAYLOR_PHASE * np.minimum(xi, 1.0) / (1 + abs(mu))
        phi = np.concatenate([s * edge * f for s in (1, -1) for f in (1 - 1e-6, 1 + 1e-6)])
        parts.append(_grid(phi, np.tile(xi, 4), mu))
    phi7 = np.array([-PHI_MAX, -30.0, -3.0, 1e-7, -1e-7, 5.0, 40.0])
    for mu in (0.0, -0.0, 1e-300, -1e-300, 1e-16, -1e-16, 1e-8, -1e-8):  # centred or not
        parts.append(_grid(phi7, np.array([1e-6, 0.1, 2.84, 1e3, 1e6])[:, None], mu))
    phi_face = np.array([-PHI_MAX, -40.0, -9.0, -2.0, 2.0, 9.0, 40.0])
    for mu in (1.0, -1.0, 1.0 + 1e-15, 1.0 - 1e-15, -1.0 + 1e-15, 2.0, -2.0):  # l = 0 at a face
        parts.append(_grid(phi_face, np.array([1e-3, 0.7, 1.3, 2.84, 1e4])[:, None], mu))
    # The far-pole branch (xi = 1e-8, |mu| = 1e8) and the box's |mu| = 2 edge, both sides.
    phi_far = np.array([0.0, 1e-9, -3.0, 7.0, -9.0, 100.0, -1e4])
    for f in (1 - eps, 1 + eps):
        parts.append(_grid(phi_far, FAR_POLE * f, np.array(MUS)[:, None]))
        parts.append(_grid(phi_far, np.array([1e-3, 1.0, 1e3])[:, None, None],
                           np.array([1, -1])[:, None] / FAR_POLE * f))
        parts.append(_grid(phi_far, np.array([1e-3, 1.0, 3.0, 1e3])[:, None, None],
                           np.array([1, -1])[:, None] * MU_BOX * f))
    return np.concatenate(parts, axis=1)


def classic(n: int, seed: int, displaced: bool) -> np.ndarray:
    """Random points of Bennink's classic domain: phi/pi in [-7, 3), log10 xi in
    [-1.5, 2.5), mu in [-1.5, 1.5] if ``displaced`` else 0."""
    rng = np.random.default_rng(seed)
    phi = rng.uniform(-7, 3, n) * np.pi
    xi = 10.0 ** rng.uniform(-1.5, 2.5, n)
    mu = rng.uniform(-1.5, 1.5, n) if displaced else np.zeros(n)
    return np.array([phi, xi, mu])


def wide(n: int, seed: int) -> np.ndarray:
    """Random points over xi in [1e-6, 1e6], |mu| <= 2: |phi| uniform to 200 pi, uniform to
    10, around phi ~ xi, or log-uniform down to 1e-300."""
    rng = np.random.default_rng(seed)
    xi = 10.0 ** rng.uniform(-6, 6, n)
    u = rng.uniform(-1, 1, n)
    which = rng.integers(0, 4, n)
    phi = np.select([which == 0, which == 1, which == 2],
                    [u * PHI_MAX, u * 10.0, np.clip(3 * u * xi, -PHI_MAX, PHI_MAX)],
                    np.sign(u) * 10.0 ** (-300 * np.abs(u)) * 10.0)
    mu = np.where(rng.integers(0, 2, n) == 0, rng.choice(MUS, n), rng.uniform(-2, 2, n))
    return np.array([phi, xi, mu])


def extreme_axes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log-spaced axes over the whole supported domain (|phi|, |mu| <= 1e100, 0 < xi <= 1e100),
    both signs, with 0 and the smallest subnormal."""
    mags = np.concatenate([[0.0, 5e-324], 10.0 ** np.arange(-320.0, 100.0, 10.0), [LIMIT]])
    signed = np.concatenate([-mags[::-1], mags[1:]])
    xi = np.concatenate([[5e-324], 10.0 ** np.arange(-320.0, 100.0, 10.0), [LIMIT]])
    return signed, xi, signed


def extremes(n: int, seed: int) -> np.ndarray:
    """A random sample of the grid of :func:`extreme_axes` (mpmath spot checks)."""
    phi, xi, mu = extreme_axes()
    rng = np.random.default_rng(seed)
    return np.array([rng.choice(phi, n), rng.choice(xi, n), rng.choice(mu, n)])


def definition() -> np.ndarray:
    """Cases where the closed-form reference is checked against quadrature of the definition:
    both sides of E1's cut, l = 0 at an end (mu = +-1) or outside (mu = 1.5), tiny and huge xi
    (quadrature costs ~|phi|, so |phi| <= 30, and three at |phi| = 200 pi)."""
    cases = [(p, x, m) for m in (0.0, 0.5, -1.0, 1.0, 1.5)
             for x in (1e-6, 1e-3, 0.5, 2.84, 1e6)
             for p in sorted({0.0, 1e-12, -1e-12, -2 * min(x, 10.0), 2 * min(x, 10.0),
                              -3.0, 7.0, -30.0})]
    cases += [(PHI_MAX, 2.84, 0.5), (-PHI_MAX, 1e-6, 0.0), (-PHI_MAX, 1e6, -1.5)]
    return np.array(cases).T


def _reference(point: tuple[float, float, float]) -> tuple[complex, float]:
    phi, xi, mu = point
    return overlap_reference(phi, xi, mu), envelope_mp(xi, mu)


def _quadrature(point: tuple[float, float, float]) -> complex:
    return overlap_mpmath(*point)


def main() -> None:
    sets = {"regimes": regimes(), "classic": classic(5000, 12, displaced=False),
            "displaced": classic(1000, 13, displaced=True), "wide": wide(1000, 14),
            "extremes": extremes(1500, 15), "definition": definition()}
    out: dict[str, np.ndarray] = {}
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        quad = np.array(pool.map(_quadrature, map(tuple, sets["definition"].T.tolist()),
                                 chunksize=4))
        for name, points in sets.items():
            values = pool.map(_reference, map(tuple, points.T.tolist()), chunksize=16)
            ref, env = (np.array(v) for v in zip(*values, strict=True))
            out.update({f"{name}_phi": points[0], f"{name}_xi": points[1],
                        f"{name}_mu": points[2], f"{name}_ref": ref.astype(np.complex128),
                        f"{name}_env": env.astype(np.float64)})
            print(f"{name}: {points.shape[1]} points", flush=True)
    gap = np.abs(quad - out["definition_ref"]) / out["definition_env"]
    if not gap.max() <= 1e-16:
        raise SystemExit(f"closed form and quadrature disagree by {gap.max():.3g} of E")
    out["definition_quad"] = quad
    OUT.parent.mkdir(exist_ok=True)
    np.savez_compressed(OUT, **out)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e3:.0f} kB); closed form vs quadrature "
          f"{gap.max():.2g} of E", flush=True)


if __name__ == "__main__":
    main()
