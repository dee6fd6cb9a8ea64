"""The numerics layer: the package's kernels on plain numpy arrays (numpy and scipy only).

- :mod:`.overlap`: the exact vectorised kernel of Bennink's overlap O(φ, ξ, μ) and its domain;
- :mod:`.quadrature`: per-point QUADPACK, the reference path, and its diagnostics;
- :mod:`.walkoff`: Boyd and Kleinman's h with walk-off and absorption;
- :mod:`.coupling`: the exact paraxial fibre coupling: pair amplitude, singles, heralding;
- :mod:`.poling`: the phase matching of any domain pattern, apodized designs, purity.

Nothing here imports xarray (an import-linter contract in pyproject.toml).
"""
