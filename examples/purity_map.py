"""
Purity over pump bandwidth and crystal length
=============================================

The heralded photon's spectral purity 1/K of a type-II PPKTP source (775 → 1550 nm, the
cited KTP equations, 25 °C) over a grid of pump bandwidths and crystal lengths, from one
call of :func:`xr_spdc.spectrum.joint_spectrum` and one of
:func:`xr_spdc.spectrum.schmidt_decomposition`: the bandwidth and the length are DataArrays,
and each point is the exact fibre-coupled joint spectrum (pump and fibre waists 30, 42 and
42 µm, every wave number at its own frequency).  Both Schmidt estimators are drawn: the
complex ψ (the state's purity) and |ψ| with the phase dropped (what SPDCalc's
``schmidt_number`` reports).

Run as a script (``python examples/purity_map.py``) it writes ``purity_map.png``.
"""

import matplotlib

matplotlib.use("Agg")  # a script: write a file, open no window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from xr_spdc import crystals, spectrum  # noqa: E402

# %%
# The source, and the two swept parameters as labelled DataArrays.
SOURCE = dict(pump=775e-9, temperature=25.0, polarizations="eeo", pump_waist=30e-6,
              signal_waist=42e-6, idler_waist=42e-6)
period = crystals.poling_period("KTP", pump=775e-9, signal=1550e-9, temperature=25.0,
                                polarizations="eeo")
bw = np.linspace(0.5e-9, 4e-9, 12)
bandwidth = xr.DataArray(bw, dims="pump_bandwidth", coords={"pump_bandwidth": (
    "pump_bandwidth", bw, {"long_name": "pump bandwidth (FWHM)", "units": "m"})})
mm = np.linspace(2e-3, 20e-3, 12)
length = xr.DataArray(mm, dims="length", coords={"length": (
    "length", mm, {"long_name": "crystal length", "units": "m"})})

# %%
# One joint spectrum per (bandwidth, length): 12 x 12 spectra of 121 x 121 points, and
# their Schmidt numbers from one batched SVD.
psi = spectrum.joint_spectrum("KTP", signal=np.linspace(1530e-9, 1570e-9, 121),
                              length=length, pump_bandwidth=bandwidth,
                              poling_period=float(period), **SOURCE)
purity = spectrum.schmidt_decomposition(psi).purity
purity_abs = spectrum.schmidt_decomposition(psi, estimator="modulus").purity

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
for ax, p, what in ((axes[0], purity, "complex ψ"), (axes[1], purity_abs, "|ψ| (SPDCalc)")):
    p.assign_coords(pump_bandwidth=bandwidth * 1e9, length=length * 1e3).plot(
        x="pump_bandwidth", y="length", ax=ax, vmin=0, vmax=1, cmap="viridis",
        cbar_kwargs={"label": "purity 1/K"})
    ax.set(xlabel="pump bandwidth [nm]", ylabel="crystal length [mm]",
           title=f"purity of the heralded photon, {what}")
fig.savefig("purity_map.png", dpi=110)
best = purity.where(purity == purity.max(), drop=True)
print(f"purity from {float(purity.min()):.3f} to {float(purity.max()):.3f} (at "
      f"{float(best.pump_bandwidth[0]) * 1e9:.2f} nm, {float(best.length[0]) * 1e3:.1f} mm)"
      f"; with |psi|: up to {float(purity_abs.max()):.3f} -> purity_map.png")
