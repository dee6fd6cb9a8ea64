"""
Spectra and HOM: a PPKTP 1550 nm source
=======================================

A type-II PPKTP source, 775 nm → 1550 + 1550 nm, the process of most telecom heralded
single-photon sources: its joint spectrum, Schmidt number and purity, the Hong–Ou–Mandel
dip of its signal and idler, the visibility of two such sources interfering, and what a
Gaussian band-pass filter on each arm buys in purity and costs in heralding.

Needs the crystals extra (``pip install -e ".[crystals]"``).  ``"KTP"`` is the package's
default KTP equations (Fradkin n_z, König & Wong n_y), which give the periods of the
crystals sold for this process (≈ 46.2 µm at 25 °C).  The joint spectrum is Bennink's
fixed-ξ form (``xi=``), ξ from the three waists at the centre wavelengths.  The grid
(301² over ±20 nm) keeps the example to a few seconds; K converges with the window
(the sinc's side lobes), so widen it for the last digit.

Run as a script (``python examples/spectra_hom.py``) it writes ``spectra_hom.png``.
"""

import matplotlib

matplotlib.use("Agg")  # a script: write a file, open no window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import xr_spdc  # noqa: E402
from xr_spdc import crystals, spectrum  # noqa: E402

CRYSTAL = "KTP"                 # the default KTP: commercial PPKTP periods
POLS = "eeo"                    # type II: pump and signal along y, idler along z
PUMP, SIGNAL = 775e-9, 1550e-9
TEMPERATURE = 25.0              # degC
LENGTH = 10e-3                  # m
WAISTS = (100e-6, 140e-6, 140e-6)  # pump, signal, idler waist radii (m)
PUMP_BANDWIDTH = 1.0e-9         # FWHM of the pump's intensity spectrum (m), near optimal

# %%
# The poling period for 775 → 1550 + 1550 nm at 25 °C and the aggregate focus ξ of the
# three beams (Bennink's Eqs. 11–15) at the centre wavelengths.
period = float(crystals.poling_period(CRYSTAL, pump=PUMP, signal=SIGNAL,
                                      temperature=TEMPERATURE, polarizations=POLS))
indices = [float(crystals.refractive_index(CRYSTAL, lam, temperature=TEMPERATURE,
                                           polarization=p))
           for lam, p in zip((PUMP, SIGNAL, SIGNAL), POLS, strict=True)]
xi = float(xr_spdc.aggregate_focus_from_beams((PUMP, SIGNAL, SIGNAL), indices, WAISTS,
                                              LENGTH).xi)

# %%
# The joint spectral amplitude ψ(λ_s, λ_i) on one wavelength grid for both photons (so the
# signal–idler exchange that HOM needs is exact), its Schmidt number K and purity 1/K.
lam = np.linspace(SIGNAL - 20e-9, SIGNAL + 20e-9, 301)
psi = spectrum.joint_spectrum(CRYSTAL, pump=PUMP, signal=lam, idler=lam,
                              temperature=TEMPERATURE, length=LENGTH, xi=xi,
                              polarizations=POLS, poling_period=period,
                              pump_bandwidth=PUMP_BANDWIDTH, workers=1)
schmidt = spectrum.schmidt_decomposition(psi)
widths = spectrum.marginal_bandwidths(psi)

# %%
# Hong–Ou–Mandel: the signal–idler dip against the delay τ, and the heralded two-source
# visibility (two identical sources; it equals the purity, Tr ρ² for ρ the heralded
# photon's spectral density matrix).
hom = spectrum.hom_interference(psi)

# %%
# Gaussian band-pass filters of FWHM Δλ on both arms: the purity after filtering against the
# spectral heralding efficiency (Meyer-Scott et al., PRA 95, 061803 (2017)).
fwhms = np.array([0.5, 1.0, 2.0, 3.0, 5.0, 8.0]) * 1e-9
filtered = [spectrum.filtered_source(psi, spectrum.gaussian_filter(SIGNAL, w),
                                     spectrum.gaussian_filter(SIGNAL, w)) for w in fwhms]
purity_f = np.array([float(f.purity) for f in filtered])
eta_s = np.array([float(f.signal_spectral_efficiency) for f in filtered])
eta_i = np.array([float(f.idler_spectral_efficiency) for f in filtered])

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 4.4), layout="constrained")
jsi = abs(psi) ** 2
jsi = jsi.assign_coords(signal_wavelength=psi.signal_wavelength * 1e9,
                        idler_wavelength=psi.idler_wavelength * 1e9)
(jsi / jsi.max()).plot(x="signal_wavelength", y="idler_wavelength", ax=axes[0],
                       cmap="magma", cbar_kwargs={"label": "|ψ|² (normalised)"})
axes[0].set(xlabel="signal wavelength [nm]", ylabel="idler wavelength [nm]",
            xlim=(SIGNAL * 1e9 - 5, SIGNAL * 1e9 + 5),
            ylim=(SIGNAL * 1e9 - 5, SIGNAL * 1e9 + 5),
            title=f"PPKTP, Λ = {period * 1e6:.2f} µm: K = "
                  f"{float(schmidt.schmidt_number):.3f}, P = {float(schmidt.purity):.3f}")
spectrum.plot_hom(hom.sel(delay=slice(-6e-12, 6e-12)), ax=axes[1])
spectrum.plot_hom(hom.sel(delay=slice(-6e-12, 6e-12)), two_source=True, ax=axes[1])
axes[1].set_title("HOM: signal–idler dip and two-source dips")
axes[1].legend(loc="lower right")
axes[2].plot(fwhms * 1e9, purity_f, "o-", label="purity")
axes[2].plot(fwhms * 1e9, eta_s, "s-", label="η_s (signal | idler)")
axes[2].plot(fwhms * 1e9, eta_i, "^-", label="η_i (idler | signal)")
axes[2].set(xlabel="filter FWHM on each arm [nm]", ylabel="",
            title="Gaussian filters: purity against heralding")
axes[2].legend()
fig.savefig("spectra_hom.png", dpi=110)

print(f"period {period * 1e6:.3f} um, xi = {xi:.4f}; K = {float(schmidt.schmidt_number):.4f}, "
      f"purity = {float(schmidt.purity):.4f}; signal/idler FWHM "
      f"{float(widths.signal_bandwidth) * 1e9:.3f}/{float(widths.idler_bandwidth) * 1e9:.3f} nm")
print(f"HOM signal-idler visibility {float(hom.visibility):.4f} at tau = "
      f"{float(hom.dip_delay) * 1e12:.3f} ps; two-source visibility (signal, idler) "
      f"{float(hom.two_source_visibility.sel(photon='signal')):.4f}, "
      f"{float(hom.two_source_visibility.sel(photon='idler')):.4f}")
for w, p, es, ei in zip(fwhms, purity_f, eta_s, eta_i, strict=True):
    print(f"filters {w * 1e9:4.2f} nm: purity {p:.4f}, eta_s {es:.4f}, eta_i {ei:.4f}")
