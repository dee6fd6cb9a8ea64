"""The example scripts run and label their figures correctly."""

import runpy
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

EXAMPLES = Path(__file__).parents[1] / "examples"


def test_displaced_focus_labels_phi_over_pi_without_a_unit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plt.close("all")
    runpy.run_path(str(EXAMPLES / "displaced_focus.py"), run_name="__main__")
    (ax, _colorbar) = plt.gcf().axes
    assert ax.get_xlabel() == "phase mismatch φ/π"  # dimensionless: no "[rad]"
    assert (tmp_path / "displaced_focus.png").exists()
    plt.close("all")
