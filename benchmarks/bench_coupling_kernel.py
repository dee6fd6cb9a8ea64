"""The exact coupling kernel against citrine's ``brightness_and_heralding``, side by side.

citrinespdc (AGPL) is run only as a peer, in its own scratch venv, through a subprocess:

    python3 -m venv /work/scratch/citrine-venv
    /work/scratch/citrine-venv/bin/pip install citrinespdc
    .venv/bin/python benchmarks/bench_coupling_kernel.py [--points 4] [--rho-max 4]

(override the peer's interpreter with CITRINE_PYTHON).  citrine implements Smirr et al.,
JOSA B 30, 288 (2013), Eqs. 26, 39, 41: degenerate frequencies, one target-mode waist
a₀ = α·w₀ for both photons, ξ = L/(2z_R) of the pump.  In this package's parameters:
ξ_p = ξ, r_j = n_j/(2n_p), ξ_j = ξ_p/(r_j α²), and its φ₀ is −φ (opposite sign convention:
verified by the values below).  Its outputs map to ours as K₂/(k_pL) = pair/(8π³ξ_p),
K₁/(k_pL) = signal_singles/(8π³ξ_p), Γ₂|₁ = K₂/K₁ = idler_heralding (η_i = P₂/P₁ˢ), which
this script checks.  citrine integrates the transverse integrals by nested ``nquad`` over
normalised radii truncated at ρ ≤ ρ_max (2 by default): the difference it leaves is shown by
running it again at a larger ρ_max.

Prints per-point times and their ratio, measured in this one run, and the load average (the
machine may be shared: the ratio is what to compare).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

from xr_spdc.numerics.coupling import coupling

CITRINE = os.environ.get("CITRINE_PYTHON", "/work/scratch/citrine-venv/bin/python")

# (ξ, α, φ₀ in citrine's sign, n_p, n_i, n_s): PPLN-like and PPKTP-like indices.
CASES = [
    (2.84, 1.0, -3.3, 2.18, 2.14, 2.14),
    (1.0, 1.5, -2.0, 1.85, 1.76, 1.84),
    (0.5, 2.0, -1.0, 2.18, 2.14, 2.14),
    (5.0, 1.2, -4.0, 1.85, 1.76, 1.84),
    (0.2, 1.0, 0.0, 1.70, 1.65, 1.66),
    (2.0, 0.8, 1.5, 2.18, 2.14, 2.14),
]

PEER = r"""
import json, sys, time
from citrine.brightness_heralding import brightness_and_heralding
cases, rho = json.loads(sys.argv[1]), float(sys.argv[2])
out = []
for case in cases:
    t = time.perf_counter()
    k1, k2, h = brightness_and_heralding(*case, rho_max=rho)
    out.append([k1, k2, h, time.perf_counter() - t])
print(json.dumps(out))
"""


def run_peer(cases: list, rho_max: float) -> np.ndarray:
    done = subprocess.run([CITRINE, "-c", PEER, json.dumps(cases), str(rho_max)],
                          capture_output=True, text=True, check=True)
    return np.array(json.loads(done.stdout.strip().splitlines()[-1]))


def ours(cases: np.ndarray) -> tuple:
    xi, alpha, phi0, n_p, n_i, n_s = cases.T
    r_s, r_i = n_s / (2 * n_p), n_i / (2 * n_p)
    return (-phi0, xi, xi / (r_s * alpha**2), xi / (r_i * alpha**2), r_s, r_i)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=len(CASES))
    parser.add_argument("--rho-max", type=float, default=4.0,
                        help="citrine's truncation for the second run (default 4)")
    parser.add_argument("--vector", type=int, default=2000,
                        help="points per vectorised call of our kernel")
    opts = parser.parse_args()
    cases = CASES[: opts.points]
    peer = run_peer(cases, 2.0)
    args = ours(np.array(cases))

    r = coupling(*args)
    xi_p = args[1]
    scale = 8 * np.pi**3 * xi_p
    print("values (citrine at rho_max = 2 | ours | relative difference):")
    print(f"{'case':>4} {'K1':>14} {'K1 ours':>14} {'diff':>9} {'K2':>14} {'K2 ours':>14} "
          f"{'diff':>9} {'Gamma':>10} {'eta_i ours':>10} {'diff':>9}")
    for j in range(len(cases)):
        k1, k2, h = peer[j, :3]
        o1, o2, oh = r.signal_singles[j] / scale[j], r.pair[j] / scale[j], r.idler_heralding[j]
        print(f"{j:4d} {k1:14.8e} {o1:14.8e} {o1 / k1 - 1:+9.1e} {k2:14.8e} {o2:14.8e} "
              f"{o2 / k2 - 1:+9.1e} {h:10.7f} {oh:10.7f} {oh / h - 1:+9.1e}")

    if opts.rho_max != 2.0:
        wide = run_peer(cases[:2], opts.rho_max)
        print(f"\ncitrine's truncation: rho_max = {opts.rho_max:g} on the first two cases")
        for j in range(len(wide)):
            k1, k2 = wide[j, :2]
            o1, o2 = r.signal_singles[j] / scale[j], r.pair[j] / scale[j]
            print(f"{j:4d} K1 diff {o1 / k1 - 1:+9.1e} (was {o1 / peer[j, 0] - 1:+9.1e}), "
                  f"K2 diff {o2 / k2 - 1:+9.1e} (was {o2 / peer[j, 1] - 1:+9.1e}), "
                  f"{wide[j, 3]:.2f} s per point")

    # Timing: our kernel (pair amplitude, both singles, all efficiencies) per point, in a
    # vectorised call and in scalar calls; citrine's per point as measured above.
    tiled = [np.resize(a, opts.vector) for a in args]
    coupling(*tiled)  # warm-up
    best = np.inf
    for _ in range(3):
        t = time.perf_counter()
        coupling(*tiled)
        best = min(best, (time.perf_counter() - t) / opts.vector)
    scalar = np.inf
    for _ in range(3):
        t = time.perf_counter()
        for j in range(len(cases)):
            coupling(*(a[j] for a in args))
        scalar = min(scalar, (time.perf_counter() - t) / len(cases))
    peer_time = float(np.median(peer[:, 3]))
    print(f"\nper point: citrine {peer_time * 1e3:.0f} ms (median of {len(cases)}), "
          f"ours {best * 1e6:.0f} us vectorised ({opts.vector} points), "
          f"{scalar * 1e6:.0f} us one point per call")
    print(f"ratio: {peer_time / best:.0f}x vectorised, {peer_time / scalar:.0f}x scalar")
    print(f"load average (1, 5, 15 min): {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
