"""
A crystal source: type-0 PPLN
=============================

A real source, 775 nm → 1550 + 1550 nm in type-0 PPLN, from the lab's parameters.

Needs the crystals extra (``pip install -e ".[crystals]"``): the indices are Gayer et al.'s
MgO:SLN equations (Appl. Phys. B 91, 343 (2008)) from ndispers.  Steps: the poling period
that phase-matches at 40 °C; the temperature-tuning curve; the brightness over
(temperature, pump waist) with the signal and idler waists fixed; the joint spectrum of a
1 nm pulsed pump at the chosen three waists and the brightest temperature (the exact
fibre-coupled form), with its Schmidt number K and purity, and K of Bennink's fixed-ξ form
for comparison.

Run as a script (``python examples/crystal_source.py``) it writes ``crystal_source.png``.
"""

import matplotlib

matplotlib.use("Agg")  # a script: write a file, open no window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from xr_spdc import crystals, spectrum  # noqa: E402

CRYSTAL = "SLN"               # 1% MgO:LiNbO3 (stoichiometric), Gayer et al. 2008
POLS = ("e", "e", "e")        # all polarised along z (d33): type 0
PUMP, SIGNAL = 775e-9, 1550e-9
LENGTH = 10e-3                # m
WAISTS = (30e-6, 42e-6, 42e-6)  # pump, signal, idler waist radii (m)

# %%
# The poling period that phase-matches 775 → 1550 + 1550 nm at 40 °C, and the
# tuning curve: the phase-matched signal and idler wavelengths over temperature.
period = crystals.poling_period(CRYSTAL, pump=PUMP, signal=SIGNAL, temperature=40.0,
                                polarizations=POLS)
t = np.linspace(25, 50, 201)
temps = xr.DataArray(t, dims="temperature", coords={"temperature": (
    "temperature", t, {"long_name": "crystal temperature", "units": "degC"})})
tuning = crystals.tuning_curve(CRYSTAL, pump=PUMP, temperature=temps,
                               poling_period=period, polarizations=POLS)

# %%
# The brightness 4|O|²/(A₊B₊) (Bennink's relative pair rate, Eqs. 40–41) over temperature
# and pump waist, the fibre-mode waists fixed at 42 µm.
w = np.geomspace(8e-6, 120e-6, 81)
pump_waist = xr.DataArray(w, dims="pump_waist", coords={"pump_waist": w})
bright = crystals.brightness_map(
    CRYSTAL, pump=PUMP, signal=SIGNAL, temperature=temps, length=LENGTH,
    pump_waist=pump_waist, signal_waist=WAISTS[1], idler_waist=WAISTS[2],
    poling_period=period, polarizations=POLS)

# %%
# The chosen waists: ξ, and the brightest temperature for them.
chosen = crystals.brightness_map(
    CRYSTAL, pump=PUMP, signal=SIGNAL, temperature=temps, length=LENGTH,
    pump_waist=WAISTS[0], signal_waist=WAISTS[1], idler_waist=WAISTS[2],
    poling_period=period, polarizations=POLS)
t_best = float(chosen.brightness.idxmax("temperature"))
xi = float(chosen.xi.sel(temperature=t_best))


# %%
# The fibre-coupled joint spectrum of a 1 nm (FWHM) pulsed pump at that temperature (every
# k_j at its own frequency), its Schmidt number and its marginal bandwidths; and K of
# Bennink's fixed-ξ form for comparison.
lam = np.linspace(SIGNAL - 150e-9, SIGNAL + 150e-9, 601)
source = dict(pump=PUMP, signal=lam, temperature=t_best, length=LENGTH,
              poling_period=float(period), polarizations=POLS, pump_bandwidth=1e-9)
psi = spectrum.joint_spectrum(CRYSTAL, pump_waist=WAISTS[0], signal_waist=WAISTS[1],
                              idler_waist=WAISTS[2], **source)
schmidt = spectrum.schmidt_decomposition(psi)
bennink = spectrum.schmidt_decomposition(spectrum.joint_spectrum(CRYSTAL, xi=xi, **source))
widths = spectrum.marginal_bandwidths(psi)


# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 4.4), layout="constrained")
(tuning.signal * 1e9).plot(ax=axes[0], label="signal")
(tuning.idler * 1e9).plot(ax=axes[0], label="idler")
axes[0].set(ylabel="phase-matched wavelength [nm]",
            title=f"tuning, Λ = {float(period) * 1e6:.2f} µm")
axes[0].axvline(t_best, color="gray", ls=":", label="brightest, focused")
axes[0].set_xlim(t[0], t[-1])
axes[0].legend()
bright.brightness.assign_coords(pump_waist=pump_waist * 1e6).plot(
    x="temperature", y="pump_waist", ax=axes[1], yscale="log",
    cbar_kwargs={"label": "brightness 4|O|²/(A₊B₊)"})
axes[1].plot(t_best, WAISTS[0] * 1e6, "w+", ms=12)
axes[1].set(ylabel="pump waist [µm]",
            title=f"w_s = w_i = {WAISTS[1] * 1e6:.0f} µm, L = {LENGTH * 1e3:.0f} mm")
jsi = abs(psi) ** 2
jsi = jsi.assign_coords(signal_wavelength=psi.signal_wavelength * 1e9,
                        idler_wavelength=psi.idler_wavelength * 1e9)
(jsi / jsi.max()).plot(x="signal_wavelength", y="idler_wavelength", ax=axes[2],
                       cmap="magma", cbar_kwargs={"label": "|ψ|² (normalised)"})
axes[2].set(xlabel="signal wavelength [nm]", ylabel="idler wavelength [nm]",
            title=f"fibre-coupled JSI, 1 nm pump: K = {float(schmidt.schmidt_number):.2f},"
                  f" purity {float(schmidt.purity):.2f}")
fig.savefig("crystal_source.png", dpi=110)
print(f"period {float(period) * 1e6:.3f} um; brightest at {t_best:.2f} degC with xi = "
      f"{xi:.3f} (|O|^2 = {float(chosen.intensity.max()):.3f}, brightness "
      f"{float(chosen.brightness.max()):.3f}); K = "
      f"{float(schmidt.schmidt_number):.3f} (Bennink's fixed xi: "
      f"{float(bennink.schmidt_number):.3f}), purity = {float(schmidt.purity):.3f}; "
      f"signal/idler FWHM {float(widths.signal_bandwidth) * 1e9:.2f}/"
      f"{float(widths.idler_bandwidth) * 1e9:.2f} nm")
