"""Make tests/data/poling_references.npz: PMF and focused overlap of domain patterns, mpmath.

Run once (~2 min): ``python tests/make_poling_references.py``.

Independent of xr_spdc: the patterns are built here, and every value is computed with
mpmath from the float64 walls taken exactly (mpf(float) is exact).

- PMF(Δk) = (1/L) Σ_k s_k (e^{iΔk z_{k+1}} − e^{iΔk z_k})/(iΔk) at 40 digits (the wall
  differences cancel harmlessly at that precision; Δk = 0 gives Σ s_k w_k / L).
- O_pattern(φ, ξ, μ) = √ξ Σ_k s_k ∫_{l_k}^{l_{k+1}} e^{iφl/2}/(1 − iξl) dl, l = 2z/L − μ, by
  mpmath's tanh-sinh quadrature at 30 digits, each domain split at l = 0, ±1/ξ, ±10/ξ
  (the pole −i/ξ lies 1/ξ from the axis: without the splits mp.quad misses ~1e-9 at
  ξ = 1e3).
- The same for the 10^4-domain grating, each domain by its closed form in mpmath's E₁
  (checked against the quadrature on a few domains).
- KTP group indices (ndispers KTP_xy, Kato & Takaoka 2002, 25 °C, propagation along x):
  pump 775 nm and signal 1550 nm polarised along y, idler 1550 nm along z (type II).
"""

from __future__ import annotations

from pathlib import Path

import mpmath as mp
import numpy as np

OUT = Path(__file__).parent / "data" / "poling_references.npz"


def pmf_reference(dk, walls, signs):
    with mp.workdps(40):
        d = mp.mpf(float(dk))
        z = [mp.mpf(float(v)) for v in walls]
        total = mp.mpc(0)
        for k, s in enumerate(signs):
            if d == 0:
                total += float(s) * (z[k + 1] - z[k])
            else:
                total += float(s) * (mp.expj(d * z[k + 1]) - mp.expj(d * z[k])) / (1j * d)
        return complex(total / (z[-1] - z[0]))


def focused_reference(phi, xi, mu, walls, signs):
    with mp.workdps(30):
        phi, xi, mu = mp.mpf(float(phi)), mp.mpf(float(xi)), mp.mpf(float(mu))
        z = [mp.mpf(float(v)) for v in walls]
        length = z[-1] - z[0]

        def f(l):
            return mp.expj(phi * l / 2) / (1 - 1j * xi * l)

        total = mp.mpc(0)
        for k, s in enumerate(signs):
            la, lb = 2 * z[k] / length - mu, 2 * z[k + 1] / length - mu
            cuts = [la, lb] + [c for c in (0, -1 / xi, 1 / xi, -10 / xi, 10 / xi) if la < c < lb]
            total += float(s) * mp.quad(f, sorted(cuts))
        return complex(mp.sqrt(xi) * total)


def focused_closed_reference(phi, xi, walls, signs):
    # The same sum for many domains, each by its closed form at 30 digits: with w = 1 - i xi l
    # and a = phi/(2 xi), int e^{i phi l/2}/(1 - i xi l) dl = (i/xi) e^a [E1(a w_a) - E1(a w_b)]
    # (phi != 0), or (i/xi) [log w_b - log w_a] (phi = 0).  The path a w crosses E1's cut only
    # in the domain holding l = 0 (where Im(a w) changes sign), done by quadrature instead.
    with mp.workdps(30):
        phi, xi = mp.mpf(float(phi)), mp.mpf(float(xi))
        z = [mp.mpf(float(v)) for v in walls]
        length = z[-1] - z[0]
        a = phi / (2 * xi)
        total = mp.mpc(0)
        for k, s in enumerate(signs):
            la, lb = 2 * z[k] / length, 2 * z[k + 1] / length
            if la < 0 < lb:
                cuts = [la, lb] + [c for c in (0, -1 / xi, 1 / xi) if la < c < lb]
                part = mp.quad(lambda l: mp.expj(phi * l / 2) / (1 - 1j * xi * l),
                               sorted(cuts))
            elif a == 0:
                part = 1j / xi * (mp.log(1 - 1j * xi * lb) - mp.log(1 - 1j * xi * la))
            else:
                wa, wb = 1 - 1j * xi * la, 1 - 1j * xi * lb
                part = 1j / xi * mp.exp(a) * (mp.e1(a * wa) - mp.e1(a * wb))
            total += float(s) * part
        return complex(mp.sqrt(xi) * total)


def periodic(n_periods, period):
    # +1 on |z - j period| < period/4, -1 elsewhere, on [-L/2, L/2], L = n_periods*period
    # (n_periods odd: whole periods centred on 0).  Built independently of the package.
    half = 0.5 * n_periods * period
    j = np.arange(-(n_periods // 2), n_periods // 2 + 1)
    inner = np.column_stack((j * period - period / 4, j * period + period / 4)).ravel()
    walls = np.concatenate(([-half], inner, [half]))
    signs = np.where(np.arange(walls.size - 1) % 2 == 0, -1.0, 1.0)
    return walls, signs


def main() -> None:
    rng = np.random.default_rng(20261206)
    data = {}

    # A random pattern: 31 domains of random widths and signs on [-L/2, L/2].
    length = 1e-2
    walls = np.sort(np.r_[-length / 2, rng.uniform(-length / 2, length / 2, 30), length / 2])
    signs = rng.choice([-1.0, 1.0], walls.size - 1)
    dk = np.array([0.0, 1e-300, 1e-9, 1.0, 3e2, -7.7e3, 1.36e5, 1e7])
    data.update(random_walls=walls, random_signs=signs, random_dk=dk,
                random_pmf=np.array([pmf_reference(d, walls, signs) for d in dk]))
    focus = np.array([(-3.0, 2.84, 0.0), (40.0, 0.1, 0.0), (-300.0, 30.0, 0.0),
                      (0.0, 1e-3, 0.0), (1.0, 1e3, 0.0), (-3.3, 2.84, 0.5),
                      (25.0, 5.0, -1.5)])
    data.update(random_focus=focus, random_overlap=np.array(
        [focused_reference(p, x, m, walls, signs) for p, x, m in focus]))

    # PPKTP-like periodic grating: 5001 periods of 46.1 um, 10^4 domains.
    period = 46.1e-6
    walls, signs = periodic(5001, period)
    big_k = 2 * np.pi / period
    length = walls[-1] - walls[0]
    dk = np.array([0.0, 1e-9, 1.0, big_k, big_k + 3 / length, big_k - 40 / length,
                   0.5 * big_k, 2 * big_k, 3 * big_k + 1e3])
    data.update(periodic_walls=walls, periodic_signs=signs, periodic_dk=dk,
                periodic_pmf=np.array([pmf_reference(d, walls, signs) for d in dk]))

    # A shorter grating (101 periods, 203 domains) focused, near its phase matching.
    walls, signs = periodic(101, period)
    kl = big_k * (walls[-1] - walls[0])
    focus = np.array([(kl - 3.2, 2.84, 0.0), (kl, 0.5, 0.0), (kl + 6.0, 10.0, 0.3),
                      (kl - 20.0, 1.0, 0.0)])
    data.update(short_walls=walls, short_signs=signs, short_focus=focus,
                short_overlap=np.array([focused_reference(p, x, m, walls, signs)
                                        for p, x, m in focus]))

    # The 10^4-domain grating focused: on its peak, and off it, where the domains cancel to
    # ~1e-3 of the envelope.  The closed form is checked here against quadrature on a few
    # domains (the script stops if they differ by more than 1e-20).
    walls, signs = data["periodic_walls"], data["periodic_signs"]
    kl = big_k * (walls[-1] - walls[0])
    few_w, few_s = walls[:4] - walls[0] + 0.3 * (walls[-1] - walls[0]), signs[:3]
    few_w = np.r_[-few_w[-1], few_w]  # faces at +-l_max, the first domain holds l = 0
    few_s = np.r_[1.0, few_s]
    for phi, xi in ((kl - 3.2, 2.84), (-40.0, 0.5)):
        diff = abs(focused_closed_reference(phi, xi, few_w, few_s)
                   - focused_reference(phi, xi, 0.0, few_w, few_s))
        assert diff < 1e-20, diff
    focus = np.array([(kl - 3.2, 2.84), (kl + 40.0, 0.5), (0.3 * kl, 10.0)])
    data.update(periodic_focus=focus, periodic_overlap=np.array(
        [focused_closed_reference(p, x, walls, signs) for p, x in focus]))

    import ndispers
    ktp = ndispers.media.crystals.KTP_xy()
    # ndispers' KTP_xy: 'e' is polarised along y at phi = 0, 'o' along z.
    data["ktp_group_index"] = np.array([ktp.ng(0.775, np.pi / 2, 0.0, 25.0, pol="e"),
                                        ktp.ng(1.55, np.pi / 2, 0.0, 25.0, pol="e"),
                                        ktp.ng(1.55, np.pi / 2, 0.0, 25.0, pol="o")])
    np.savez(OUT, **data)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
