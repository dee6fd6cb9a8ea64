"""mypy runs clean on the package (its configuration is in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def test_mypy_is_clean_on_the_package():
    pytest.importorskip("mypy")
    root = Path(__file__).parents[1]
    done = subprocess.run([sys.executable, "-m", "mypy", "xr_spdc"], cwd=root,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
