"""source_rates' pump average: the Gauss–Hermite ladder that starts from the centre alone.

- on functions whose Gaussian average is known in closed form (linear, quadratic, a narrow
  Gaussian peak): the value to rtol, and how many pump frequencies it costs;
- on the 1 nm pulsed PPKTP source: the fast path against a reference computed with a
  different rule (Gauss–Hermite 10 and 16 nodes) and a tighter spectral tolerance.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from xr_spdc.physics import rates

OMEGA, SIGMA = 2.43e15, 3.1e12


def counted(func):
    calls = []

    def wrapped(omega: float) -> np.ndarray:
        calls.append(omega)
        return func(omega)

    return wrapped, calls


def test_linear_rates_cost_three_spectra():
    # R linear across the spectrum: the centre alone equals the 3-node rule; 3 evaluations.
    func, calls = counted(lambda w: np.array([1.0 + 1e-3 * (w - OMEGA) / SIGMA, 2.0, 3.0]))
    got = rates._pump_average(func, OMEGA, SIGMA, rtol=1e-9)
    np.testing.assert_allclose(got, [1.0, 2.0, 3.0], rtol=1e-14)
    assert len(calls) == 3 and len(set(calls)) == 3


def test_curved_rates_go_on_and_share_the_centre():
    # Quadratic: E[1 + a x²] = 1 + a (x in σ).  The centre differs from the 3-node rule, so
    # the 5-node rule follows (exact, as is the 3-node one); the centre is computed once.
    a = 0.02
    func, calls = counted(lambda w: np.full(3, 1.0 + a * ((w - OMEGA) / SIGMA) ** 2))
    got = rates._pump_average(func, OMEGA, SIGMA, rtol=1e-9)
    np.testing.assert_allclose(got, 1.0 + a, rtol=1e-13)
    assert len(calls) == 7 and len(set(calls)) == 7


def test_a_sharp_rate_is_averaged_to_rtol():
    # A narrow peak (width σ/5, off centre) defeats the low orders; the ladder goes on (to
    # the adaptive rule if need be) and meets rtol: ∫N(ω; ω₀, σ)e^{−(ω−c)²/2s²}dω
    # = s/√(σ² + s²)·exp(−(ω₀−c)²/2(σ² + s²)).
    s, c = SIGMA / 5, OMEGA + 0.7 * SIGMA

    def peak(w: float) -> np.ndarray:
        return np.full(3, math.exp(-0.5 * ((w - c) / s) ** 2))

    exact = s / math.hypot(SIGMA, s) * math.exp(-0.5 * (OMEGA - c) ** 2 / (SIGMA**2 + s**2))
    got = rates._pump_average(peak, OMEGA, SIGMA, rtol=1e-7)
    np.testing.assert_allclose(got, exact, rtol=1e-6)


@pytest.mark.slow
def test_pulsed_ppktp_against_a_different_rule(monkeypatch):
    # The fast path (3 spectra at rtol 1e-6) against Gauss–Hermite 10/16 nodes at rtol 1e-8.
    pytest.importorskip("ndispers")
    kw = {"pump": 775e-9, "signal": 1550e-9, "temperature": 25.0, "length": 10e-3,
          "polarizations": "eeo", "pump_waist": 60e-6, "signal_waist": 60e-6,
          "idler_waist": 60e-6, "pump_power": 1e-3, "d_eff": 1e-12, "pump_bandwidth": 1e-9}
    fast = rates.source_rates("KTP_xy", **kw, rtol=1e-6)
    monkeypatch.setattr(rates, "_HERMITE_LADDER", (10, 16))
    ref = rates.source_rates("KTP_xy", **kw, rtol=1e-8)
    for name in ("pair_rate", "signal_rate", "idler_rate", "signal_heralding",
                 "idler_heralding"):
        assert float(fast[name]) == pytest.approx(float(ref[name]), rel=1e-6)
