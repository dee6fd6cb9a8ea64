"""The physics layer, built on the labelled route: beams, crystals, spectra, the optimum.

- :mod:`.beams`: ξ, A₊, B₊ from the beams (Bennink Eqs. 11–15); B, κ from the crystal;
- :mod:`.boyd_kleinman`: h = |O|²/4 and σ from an overlap;
- :mod:`.optimum`: the optimum, h_m(ξ), and the optimum with walk-off;
- :mod:`.crystals`: φ, poling periods, tuning curves and brightness maps from ndispers media;
- :mod:`.spectrum`: the joint spectral amplitude, Schmidt number and bandwidths.
"""
