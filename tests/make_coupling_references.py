"""Brute-force references for xr_spdc.numerics.coupling (run once; minutes).

Independent of the kernel's reduction: the configuration is set up in SI units (wavelengths,
refractive indices, waists, crystal length, focal planes), the transverse Gaussian integrals
are done as (2π)-free Gaussian integrals of one transverse axis, squared for the two axes,

    ∫ exp(−qᵀ M q) dⁿq = π^{n/2} / √det M   →   both axes: πⁿ / det M,

with det M computed NUMERICALLY (numpy.linalg.det of the assembled complex matrix, no
closed-form polynomial), and the remaining z (and z′) integrals by adaptive quadrature
(scipy.integrate.quad, complex, epsrel 1e-12).  Physical quantities (docs/physics/coupling.md):

    𝒜   = (w_s w_i / 2π) ∫ dz e^{iΔk₀z} π² / det A(z)                 (2×2, (q_s, q_i))
    P₁ˢ = (w_s² / 2π) ∫∫ dz dz′ e^{iΔk₀(z−z′)} π³ / det B(z, z′)       (3×3, (q_s, q_s′, q_i))

stored divided by k_p and k_p² (the kernel's units), with the dimensionless inputs.  Usage:
``python tests/make_coupling_references.py`` (writes tests/data/coupling_references.npz).
"""

from __future__ import annotations

import pathlib
import time
import warnings

import numpy as np
from scipy import integrate

OUT = pathlib.Path(__file__).with_name("data") / "coupling_references.npz"
EPSREL = 1e-12


def alphas(z, w, k, zf):
    """Per-beam quadratic coefficients of one transverse axis at plane z."""
    a_p = w[0] ** 2 / 4 + 1j * (z - zf[0]) / (2 * k[0])
    a_s = w[1] ** 2 / 4 - 1j * (z - zf[1]) / (2 * k[1])
    a_i = w[2] ** 2 / 4 - 1j * (z - zf[2]) / (2 * k[2])
    return a_p, a_s, a_i


def det_pair(z, w, k, zf):
    a_p, a_s, a_i = alphas(z, w, k, zf)
    m = np.array([[a_p + a_s, a_p], [a_p, a_p + a_i]])
    return np.linalg.det(m)


def det_singles(z, zp, w, k, zf, arm):
    # Variables (q_f, q_f', q_o): f the coupled photon, o the free one (phase only).
    j, o = (1, 2) if arm == "signal" else (2, 1)
    a = alphas(z, w, k, zf)
    b = alphas(zp, w, k, zf)
    free = -1j * (z - zf[o]) / (2 * k[o])
    free_p = -1j * (zp - zf[o]) / (2 * k[o])
    m = np.array([
        [a[0] + a[j], 0.0, a[0]],
        [0.0, np.conj(b[0] + b[j]), np.conj(b[0])],
        [a[0], np.conj(b[0]), a[0] + np.conj(b[0]) + free + np.conj(free_p)],
    ])
    return np.linalg.det(m)


def cquad(f, a, b, **kw):
    value, err = integrate.quad(f, a, b, complex_func=True, epsabs=0.0, epsrel=EPSREL,
                                limit=2000, **kw)
    return value


def reference(cfg):
    lam = np.array([cfg["lp"], cfg["ls"], cfg["li"]])
    n = np.array([cfg["np"], cfg["ns"], cfg["ni"]])
    k = 2 * np.pi * n / lam
    w = np.array([cfg["wp"], cfg["ws"], cfg["wi"]])
    L = cfg["L"]
    zf = np.array([cfg["zp"], cfg["zs"], cfg["zi"]])
    dk = cfg["phi"] / L
    amp = (w[1] * w[2] / (2 * np.pi)) * cquad(
        lambda z: np.exp(1j * dk * z) * np.pi ** 2 / det_pair(z, w, k, zf), -L / 2, L / 2)
    singles = []
    for arm, j in (("signal", 1), ("idler", 2)):
        def inner(z, arm=arm):
            return cquad(lambda zp: np.exp(-1j * dk * zp) * np.pi ** 3
                         / det_singles(z, zp, w, k, zf, arm), -L / 2, L / 2)
        total = cquad(lambda z: np.exp(1j * dk * z) * inner(z), -L / 2, L / 2)
        assert abs(total.imag) <= 1e-9 * abs(total.real), total  # Hermitian: real
        singles.append((w[j] ** 2 / (2 * np.pi)) * total.real)
    kp = k[0]
    return amp / kp, singles[0] / kp ** 2, singles[1] / kp ** 2, k, w, L, zf


def configurations():
    rng = np.random.default_rng(20261206)
    # (pump, signal wavelengths [m]; pump, signal, idler indices): degenerate PPLN-like
    # (k_p − k_s − k_i ≈ 1.8 % of k_p), non-degenerate 532 → 810 + 1550, type-II PPKTP-like
    # (n_s ≠ n_i), and an exact k_p = k_s + k_i case.
    processes = [
        (775e-9, 1550e-9, 2.18, 2.14, 2.14),
        (532e-9, 810e-9, 2.23, 2.17, 2.14),
        (775e-9, 1550e-9, 1.85, 1.84, 1.76),
        (405e-9, 810e-9, 1.70, 1.70, 1.70),
        (532e-9, 1064e-9, 1.60, 1.52, 1.55),
    ]
    lengths = [1e-3, 3e-3, 10e-3, 30e-3]
    out = []
    for index in range(40):
        lp, ls, n_p, n_s, n_i = processes[index % len(processes)]
        li = 1.0 / (1.0 / lp - 1.0 / ls)
        L = (lengths[index % len(lengths)] if index < 20
             else float(np.exp(rng.uniform(np.log(1e-3), np.log(30e-3)))))
        wp = float(np.exp(rng.uniform(np.log(15e-6), np.log(120e-6))))
        ws = wp * rng.uniform(0.5, 2.5)
        wi = wp * rng.uniform(0.5, 2.5)
        phi = float(rng.uniform(-10, 10)) if index % 7 else 0.0
        displaced = index % 3 == 2
        zs = (rng.uniform(-0.4, 0.4, 3) * L) if displaced else np.zeros(3)
        out.append(dict(lp=lp, ls=ls, li=li, np=n_p, ns=n_s, ni=n_i, wp=wp, ws=ws, wi=wi,
                        L=L, phi=phi, zp=zs[0], zs=zs[1], zi=zs[2]))
    # Tight focusing (ξ_j ~ 5-60), where the kernel's outer rule works hardest.
    for index in range(6):
        lp, ls, n_p, n_s, n_i = processes[index % len(processes)]
        li = 1.0 / (1.0 / lp - 1.0 / ls)
        L = (10e-3, 30e-3)[index % 2]
        wp = float(rng.uniform(6e-6, 12e-6))
        ws, wi = wp * rng.uniform(0.8, 2.0), wp * rng.uniform(0.8, 2.0)
        phi = float(rng.uniform(-10, 10))
        zs = (rng.uniform(-0.3, 0.3, 3) * L) if index % 2 else np.zeros(3)
        out.append(dict(lp=lp, ls=ls, li=li, np=n_p, ns=n_s, ni=n_i, wp=wp, ws=ws, wi=wi,
                        L=L, phi=phi, zp=zs[0], zs=zs[1], zi=zs[2]))
    return out


def main() -> None:
    # quad warns that rounding stops it short of 1e-12 at a few points; its estimate and
    # the kernel agree to ~1e-14 there, so the warning is noise here.
    warnings.simplefilter("ignore", integrate.IntegrationWarning)
    rows = {key: [] for key in ("phi", "xi_p", "xi_s", "xi_i", "ratio_s", "ratio_i", "mu_p",
                                "mu_s", "mu_i", "amplitude", "signal_singles",
                                "idler_singles", "length", "waists")}
    start = time.perf_counter()
    for number, cfg in enumerate(configurations()):
        amp, p1s, p1i, k, w, L, zf = reference(cfg)
        xi = L / (k * w ** 2)
        values = dict(phi=cfg["phi"], xi_p=xi[0], xi_s=xi[1], xi_i=xi[2],
                      ratio_s=k[1] / k[0], ratio_i=k[2] / k[0], mu_p=2 * zf[0] / L,
                      mu_s=2 * zf[1] / L, mu_i=2 * zf[2] / L, amplitude=amp,
                      signal_singles=p1s, idler_singles=p1i, length=L, waists=w)
        for key, value in values.items():
            rows[key].append(value)
        print(f"{number:2d} xi={np.round(xi, 3)} phi={cfg['phi']:+.3f} |A|^2={abs(amp)**2:.6e}"
              f" P1s={p1s:.6e} P1i={p1i:.6e}  ({time.perf_counter() - start:.0f} s)",
              flush=True)
    np.savez(OUT, **{key: np.array(v) for key, v in rows.items()},
             description=np.array(__doc__))
    print("wrote", OUT)


if __name__ == "__main__":
    main()
