"""Shared fixtures: Bennink's classic grid, and a hypothesis profile for CI."""

from __future__ import annotations

import os

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, settings

import xr_spdc  # noqa: F401  (registers the accessors)

settings.register_profile("ci", derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def classic_axes(n_phi: int = 100, n_xi: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Bennink's Fig. 1 axes as the seed blog post builds them: phi/pi in [-7, 3), log10 xi
    in [-1.5, 2.5)."""
    phi = np.arange(n_phi) * (10.0 / n_phi) * np.pi - 7.0 * np.pi
    xi = 10.0 ** (np.arange(n_xi) * (4.0 / n_xi) - 1.5)
    return phi, xi


@pytest.fixture
def classic() -> xr.Dataset:
    """The classic 100 x 100 (phi, xi) grid as a coordinates-only Dataset."""
    phi, xi = classic_axes()
    return xr.Dataset(coords={"phi": phi, "xi": xi})


@pytest.fixture
def small_grid() -> xr.Dataset:
    """A 7 x 6 grid spanning the classic domain, for quick checks."""
    return xr.Dataset(coords={"phi": np.linspace(-7, 3, 7) * np.pi,
                              "xi": np.logspace(-1.5, 2.5, 6)})
