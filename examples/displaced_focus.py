"""
Displaced focus
===============

|O|² over the focal displacement μ and the phase mismatch φ, at the optimal focus ξ = 2.84.

μ is the focal displacement in units of the crystal's half-length L/2: the overlap
integrates over l = 2z/L from −1−μ to 1−μ with the focus at l = 0, so the focus lies μL/2
beyond the crystal's centre (μ = 0.5: L/4; μ = 1: on the exit face; |μ| > 1: outside the
crystal).  |O| is even in μ.

Moving the focus away from the crystal's centre lowers the peak and shifts it towards
smaller |φ|: at ξ = 2.84, Boyd and Kleinman's h drops from 1.068 (μ = 0) to 0.902
(μ = 0.5) and 0.505 (μ = 1).

Run as a script (``python examples/displaced_focus.py``) it writes
``displaced_focus.png``.
"""

import matplotlib

matplotlib.use("Agg")  # a script: write a file, open no window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

import xr_spdc  # noqa: E402, F401  (registers the .spdc accessor)

# %%
# ``mu="mu"`` names the coordinate that plays μ; ``xi`` is a number here.
ds = xr.Dataset(coords={"phi": np.linspace(-7, 3, 400) * np.pi,
                        "mu": np.linspace(-1.5, 1.5, 301)})
o = ds.spdc.overlap(xi=2.84, mu="mu")
h = o.spdc.h()   # Boyd–Kleinman h = |O|²/4, labelled

# %%
fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
# φ/π is dimensionless: a new coordinate, not φ's (which would keep its unit, rad).
phi_over_pi = xr.DataArray(h.phi.values / np.pi, dims="phi",
                           attrs={"long_name": "phase mismatch φ/π"})
h.assign_coords(phi_over_pi=phi_over_pi).plot(x="phi_over_pi", y="mu", ax=ax, cmap="viridis")
ax.set_ylabel("focal displacement μ (focus μL/2 beyond the centre)")
ax.set_title("Boyd–Kleinman h = |O|²/4 at ξ = 2.84")
fig.savefig("displaced_focus.png", dpi=120)

best = h.where(h == h.max(), drop=True)
print(f"max h = {float(h.max()):.6f} at mu = {float(best.mu[0]):+.3f}, "
      f"phi = {float(best.phi[0]) / np.pi:+.4f} pi")
for mu in (0.0, 0.5, 1.0):
    print(f"mu = {mu}: max over phi of h = {float(h.sel(mu=mu, method='nearest').max()):.3f}")
