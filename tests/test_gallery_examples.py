"""The gallery's spectra, poling and dask examples run as scripts and print the physics.

Each runs as ``python examples/<name>.py`` would (``__name__ == "__main__"``, in a scratch
folder) and its printed numbers are checked against independent expectations: the
two-source HOM visibility of identical sources is the Schmidt purity; a periodic crystal's
purity is sinc-limited (≈ 0.81) and the apodized designs reach ≥ 0.995 (the published
gain, tests/test_poling.py); Boyd and Kleinman's optimum h = 1.068 at ξ = 2.84.
"""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

EXAMPLES = Path(__file__).parents[1] / "examples"


def _run(name: str, tmp_path: Path, monkeypatch, capsys) -> str:
    monkeypatch.chdir(tmp_path)
    plt.close("all")
    runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name="__main__")
    plt.close("all")
    assert (tmp_path / f"{name}.png").exists()
    return capsys.readouterr().out


@pytest.mark.slow
def test_spectra_hom_prints_purity_hom_and_filters(tmp_path, monkeypatch, capsys):
    pytest.importorskip("ndispers")
    out = _run("spectra_hom", tmp_path, monkeypatch, capsys)
    purity = float(re.search(r"purity = ([\d.]+);", out).group(1))
    two = [float(v) for v in re.search(r"two-source visibility \(signal, idler\) "
                                       r"([\d.]+), ([\d.]+)", out).groups()]
    assert 0.79 < purity < 0.86  # a periodic crystal's sinc-limited purity
    assert two == [purity, purity]  # identical sources: V = Tr rho^2 = 1/K
    assert float(re.search(r"visibility ([\d.]+) at tau = ([-\d.]+)", out).group(1)) > 0.99
    rows = re.findall(r"filters ([\d.]+) nm: purity ([\d.]+), eta_s ([\d.]+)", out)
    purities = [float(p) for _, p, _ in rows]
    etas = [float(e) for _, _, e in rows]
    assert len(rows) == 6
    assert all(p > purity for p in purities)  # filtering raises the purity ...
    assert etas == sorted(etas) and purities == sorted(purities, reverse=True)  # ... at a cost


@pytest.mark.slow
def test_apodized_poling_reproduces_the_purity_gain(tmp_path, monkeypatch, capsys):
    pytest.importorskip("ndispers")
    out = _run("apodized_poling", tmp_path, monkeypatch, capsys)
    purity = {m.group(1).strip(): float(m.group(2))
              for m in re.finditer(r"^(\w[\w ]*?)\s*:.*purity ([\d.]+)", out, re.MULTILINE)}
    assert 0.79 < purity["periodic"] < 0.83
    assert purity["duty cycle"] > 0.998 and purity["tracking"] > 0.995
    assert "equal: True" in out
    import xr_spdc

    saved = xr_spdc.open_dataset(tmp_path / "apodized_poling.nc")
    assert list(saved.design.values) == ["periodic", "duty cycle", "tracking"]
    assert saved.pmf.dtype.kind == "c" and saved.purity.attrs["units"] == "1"


@pytest.mark.slow
def test_dask_sweep_runs_on_a_local_cluster(tmp_path, monkeypatch, capsys):
    pytest.importorskip("dask.distributed")
    out = _run("dask_sweep", tmp_path, monkeypatch, capsys)
    assert "dask dashboard: http" in out and "workers: 2" in out
    assert "in 8 chunks" in out
    h, xi = (float(v) for v in re.search(r"max h = ([\d.]+) at xi = ([\d.]+)", out).groups())
    assert abs(h - 1.068) < 2e-3 and abs(xi - 2.84) < 0.1  # Boyd-Kleinman's optimum
    assert (tmp_path / "dask_sweep.nc").exists()
