"""Joint spectra of SPDC sources and their Schmidt decomposition (a public namespace).

Needs the ``crystals`` extra (ndispers).  The functions live in
:mod:`xr_spdc.physics.spectrum`; this module is where users find them.
"""

from __future__ import annotations

from .physics.filters import (
    SpectralFilter,
    apply_filters,
    curve_filter,
    filtered_source,
    gaussian_filter,
    tophat_filter,
)
from .physics.hom import hom_interference, plot_hom
from .physics.spectrum import (
    conjugate_grid,
    joint_spectrum,
    marginal_bandwidths,
    schmidt_decomposition,
)

__all__ = ["conjugate_grid", "joint_spectrum", "marginal_bandwidths", "schmidt_decomposition"]
__all__ += ["hom_interference", "plot_hom"]
__all__ += ["SpectralFilter", "apply_filters", "curve_filter", "filtered_source",
            "gaussian_filter", "tophat_filter"]
