"""
Designing a fibre-coupled source: type-II PPKTP
===============================================

Pair rate and heralding efficiency of a 10 mm type-II PPKTP source (775 → 1550 + 1550 nm,
Kato & Takaoka's KTP from ndispers) over pump waist × collection waist, in single-mode
fibres, exact in the paraxial model (:func:`xr_spdc.fiber_coupling`); the waists that give
the most pairs at a symmetric heralding of at least 90 % (:func:`xr_spdc.optimal_waists`,
spectrally integrated for a CW pump) are marked; the maps are saved with
:func:`xr_spdc.to_netcdf`; and the absolute rates at the chosen waists, in counts per second
for 1 mW and d₂₄ = 3.64 pm/V (:func:`xr_spdc.crystals.source_rates`).

The maps are at the central frequencies and φ = 0 (the period that phase-matches them): the
pair-rate map shows w_p²·P₂, proportional to the rate into a narrow filter at fixed pump
power.  A 24 × 24 grid keeps this page fast; a 100 × 100 grid takes seconds on a pool
(``workers=2``).  Run as a script it writes ``source_design.png`` and
``source_design.nc``.
"""

import matplotlib

matplotlib.use("Agg")  # a script: write a file, open no window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.ticker import NullFormatter  # noqa: E402

import xr_spdc  # noqa: E402
from xr_spdc import crystals  # noqa: E402

CRYSTAL, POLS, T = "KTP_xy", "eeo", 25.0
PUMP, SIGNAL, IDLER, LENGTH = 775e-9, 1550e-9, 1550e-9, 10e-3
n = {beam: float(crystals.refractive_index(CRYSTAL, lam, T, polarization=pol))
     for beam, lam, pol in (("pump", PUMP, "e"), ("signal", SIGNAL, "e"),
                            ("idler", IDLER, "o"))}

# %%
# The maps: one collection waist for signal and idler, φ = 0.
w_p = np.geomspace(15e-6, 300e-6, 24)
w_c = np.geomspace(15e-6, 300e-6, 24)
pump_waist = xr.DataArray(w_p, dims="pump_waist", coords={"pump_waist": (
    "pump_waist", w_p, {"long_name": "pump waist", "units": "m"})})
collection = xr.DataArray(w_c, dims="collection_waist", coords={"collection_waist": (
    "collection_waist", w_c, {"long_name": "collection waist", "units": "m"})})
maps = xr_spdc.fiber_coupling(
    pump_wavelength=PUMP, signal_wavelength=SIGNAL, pump_index=n["pump"],
    signal_index=n["signal"], idler_index=n["idler"], pump_waist=pump_waist,
    signal_waist=collection, idler_waist=collection, length=LENGTH, phi=0.0, workers=1)
maps["pair_rate_factor"] = (maps.pump_waist ** 2 * maps.pair).assign_attrs(
    long_name="w_p² P₂ (∝ pair rate at fixed power)", units="1")

# %%
# The optimum at a 90 % heralding floor (CW, spectrally integrated), and the trade-off.
index = dict(pump_wavelength=PUMP, signal_wavelength=SIGNAL, pump_index=n["pump"],
             signal_index=n["signal"], idler_index=n["idler"], length=LENGTH)
best = xr_spdc.optimal_waists(target="pair_rate_at_heralding", heralding_floor=0.9,
                              **index)
print(f"optimum: pump waist {float(best.pump_waist) * 1e6:.1f} µm, collection waist "
      f"{float(best.signal_waist) * 1e6:.1f} µm, symmetric heralding "
      f"{float(best.symmetric_heralding):.3f}")

# %%
# Absolute rates at those waists (CW pump, all signal frequencies).
rates = crystals.source_rates(
    CRYSTAL, pump=PUMP, signal=SIGNAL, temperature=T, length=LENGTH, polarizations=POLS,
    pump_waist=float(best.pump_waist), signal_waist=float(best.signal_waist),
    idler_waist=float(best.idler_waist), pump_power=1e-3, d_eff=3.64e-12, rtol=1e-5)
print(f"pairs {float(rates.pair_rate):.4g}/s, singles {float(rates.signal_rate):.4g}/s and "
      f"{float(rates.idler_rate):.4g}/s, heralding η_s {float(rates.signal_heralding):.4f}, "
      f"η_i {float(rates.idler_heralding):.4f}")
xr_spdc.to_netcdf(maps, "source_design.nc")

# %%
# The maps, the optimum marked.
fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
for ax, name in zip(axes, ("pair_rate_factor", "symmetric_heralding"), strict=True):
    maps[name].plot(ax=ax, x="pump_waist", xscale="log", yscale="log")
    ax.plot(float(best.pump_waist), float(best.signal_waist), "w*", markersize=12)
    ax.set_title(maps[name].attrs["long_name"])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_minor_formatter(NullFormatter())
fig.savefig("source_design.png", dpi=100)
