"""From the lab to φ: crystals, phase matching, poling and tuning (a public namespace).

Needs the ``crystals`` extra (ndispers).  Lengths in metres, temperatures in °C,
polarisations (pump, signal, idler) in ndispers' ``'o'``/``'e'`` labels.  The functions live
in :mod:`xr_spdc.physics.crystals`; this module is where users find them.
"""

from __future__ import annotations

from .physics.crystals import (
    SHORT_NAMES,
    brightness_map,
    medium,
    phase_matching_temperature,
    phase_mismatch,
    poling_period,
    refractive_index,
    tuning_curve,
)
from .physics.poling import (
    domain_pattern,
    duty_cycle_pattern,
    pattern_joint_spectrum,
    pattern_overlap,
    pattern_phase_matching,
    periodic_pattern,
    plot_jsi,
    plot_pattern,
    plot_pmf,
    tracking_pattern,
)
from .physics.rates import PUBLISHED_D, source_rates

__all__ = [
    "PUBLISHED_D",
    "SHORT_NAMES",
    "brightness_map",
    "medium",
    "phase_matching_temperature",
    "phase_mismatch",
    "poling_period",
    "refractive_index",
    "source_rates",
    "tuning_curve",
]
__all__ += ["domain_pattern", "duty_cycle_pattern", "pattern_joint_spectrum", "pattern_overlap",
            "pattern_phase_matching", "periodic_pattern", "plot_jsi", "plot_pattern", "plot_pmf",
            "tracking_pattern"]
