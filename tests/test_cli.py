"""The xr-spdc console script: files, figure, help and one-line errors."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import xr_spdc
from xr_spdc.cli import main

README = Path(__file__).parents[1] / "README.md"


def test_writes_the_grid_and_the_figure(tmp_path):
    out, png = tmp_path / "o.nc", tmp_path / "o.png"
    assert main(["--points", "20", "10", "--workers", "1", "-o", str(out), "--plot",
                 str(png)]) == 0
    o = xr_spdc.open_dataarray(out)
    assert o.sizes == {"phi": 20, "xi": 10} and o.dtype == np.complex128
    assert o.phi.values[0] == -7 * np.pi and np.log10(o.xi.values[0]) == pytest.approx(-1.5)
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_classic_defaults_match_the_seed_grid(tmp_path):
    out = tmp_path / "o.nc"
    assert main(["--method", "quad", "--points", "4", "3", "--workers", "1", "-o",
                 str(out)]) == 0
    o = xr_spdc.open_dataarray(out)
    np.testing.assert_allclose(o.phi.values / np.pi, [-7.0, -4.5, -2.0, 0.5])
    assert o.attrs["method"] == "quad"


@pytest.mark.parametrize(("argv", "message"), [
    (["--points", "0", "5"], "--points must be positive"),
    (["-o", "overlap.txt"], "--output must end in .nc"),
    (["--plot", "figure.pdf"], "--plot must end in .png"),
    (["--workers", "0"], "workers must be >= 1"),
    (["--method", "simpson"], "invalid choice: 'simpson'"),
    (["--points", "three", "4"], "invalid int value"),
])
def test_bad_arguments_exit_non_zero_with_one_line(tmp_path, argv, message):
    done = subprocess.run([sys.executable, "-m", "xr_spdc.cli", *argv], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("xr-spdc: error:") and message in last
    assert not list(tmp_path.iterdir())


def test_help_explains_the_physics_and_the_defaults():
    done = subprocess.run([sys.executable, "-m", "xr_spdc.cli", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    for text in ("phase mismatch", "aggregate focus", "Bennink", "classic", "--workers",
                 "--plot", "open_dataset"):
        assert text in done.stdout


def test_readme_commands_are_the_ones_ci_and_users_run():
    text = README.read_text()
    main_command = re.search(r"<!-- main-command -->\s*```\s*\n(.+?)\n```", text).group(1)
    test_command = re.search(r"<!-- test-command -->\s*```\s*\n(.+?)\n```", text).group(1)
    assert "xr-spdc" in main_command and "--plot" in main_command
    assert "pytest" in test_command
    ci = (README.parent / ".ci" / "run").read_text()
    assert "test-command" in ci  # .ci/run executes the README's line, not a copy
