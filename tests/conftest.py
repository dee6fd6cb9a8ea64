"""Shared fixtures: Bennink's classic grid, and a hypothesis profile for CI."""

from __future__ import annotations

import os

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, settings

import xr_spdc  # noqa: F401  (registers the accessors)

#: Slow tests in files whose owners mark nothing themselves: node ids (prefixes) and why.
#: They run with `pytest -m slow` and in .ci/run's second step (DEVELOPERS.md).
SLOW = {
    "tests/test_readme.py::test_every_python_block_runs_as_written":
        "runs every README example, pools and plots included (~40 s)",
    "tests/test_dask.py::test_distributed_local_cluster": "starts a dask.distributed cluster",
    "tests/test_dask.py::test_processes_scheduler": "starts dask's process scheduler",
    "tests/test_dask.py::test_chunks_lift_the_in_memory_size_limit": "a large lazy grid",
    "tests/test_io.py::test_a_disk_that_fills_up": "fills a small file system in a subprocess",
    "tests/test_io.py::test_lazy_save_onto_a_disk_that_fills": "same, lazily",
    "tests/test_io.py::test_sigterm_during_a_save": "kills a saving subprocess",
    "tests/test_layers.py::test_a_moved_module_path_still_works":
        "a fresh interpreter for each moved path",
    "tests/test_typing.py::test_mypy_is_clean_on_the_package": "runs mypy",
    "tests/test_cli.py::test_end_to_end_writes_the_grid_and_the_figure":
        "the CLI in a subprocess, figure included",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if any(item.nodeid.startswith(prefix) for prefix in SLOW):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _warnings_once_per_test() -> None:
    """The engine warns once per process per cause: each test starts afresh."""
    from xr_spdc.engine import fanout

    getattr(fanout, "_WARNED", set()).clear()


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
