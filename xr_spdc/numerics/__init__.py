"""The numerics layer: the package's kernels on plain numpy arrays (numpy and scipy only).

- :mod:`.overlap`: the exact vectorised kernel of Bennink's overlap O(φ, ξ, μ) and its domain;
- :mod:`.quadrature`: per-point QUADPACK, the reference path, and its diagnostics;
- :mod:`.walkoff`: Boyd and Kleinman's h with walk-off and absorption.

Nothing here imports xarray (an import-linter contract in pyproject.toml).
"""
