"""Integrands for ds.spdc.integrate tests: top-level functions, so worker processes can
import them under any start method."""

from __future__ import annotations

import cmath
import math


def overlap_integrand(l, phi, xi):
    """Bennink's overlap integrand, written as a user would."""
    return math.sqrt(xi) * cmath.exp(0.5j * phi * l) / (1 - 1j * xi * l)


def gaussian(l, width):
    """A real integrand."""
    return math.exp(-((l / width) ** 2))


def fails_at_three(l, a):
    """Fails for one parameter value, with an exception that cannot be pickled."""

    class LocalError(Exception):
        pass

    if a == 3.0:
        raise LocalError("a = 3 is not allowed")
    return a * l
