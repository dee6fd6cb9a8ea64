"""Every ```python block of the README runs as written, in order, in one namespace.

The README is what a physicist copies first, so a snippet that fails is a bug. The blocks
run in a temporary folder (they write files) with a non-interactive matplotlib backend.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def python_blocks() -> list[str]:
    return BLOCK.findall(README.read_text(encoding="utf-8"))


def test_the_readme_has_python_blocks():
    assert len(python_blocks()) >= 3


def test_every_python_block_runs_as_written(tmp_path, monkeypatch):
    pytest.importorskip("dask.distributed")
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__main__"}
    with warnings.catch_warnings():
        # A snippet may warn (e.g. dask's cluster on a busy machine); it must not fail.
        warnings.simplefilter("ignore")
        for number, block in enumerate(python_blocks(), start=1):
            try:
                exec(compile(block, f"README.md python block {number}", "exec"), namespace)
            except Exception as exc:
                raise AssertionError(
                    f"README python block {number} failed: {type(exc).__name__}: {exc}\n"
                    f"{block}") from exc
    client = namespace.get("client")
    if client is not None:
        client.close()  # type: ignore[attr-defined]
    import matplotlib.pyplot as plt

    plt.close("all")
    wrong = [f"{quote!r}: computed {got}" for quote, got, ok in _quoted_numbers(namespace)
             if not ok]
    assert not wrong, "numbers the README quotes differ from what its blocks compute:\n" + \
        "\n".join(wrong)


def _quoted_numbers(ns: dict) -> list[tuple[str, object, bool]]:
    """(the README's quote, the value its executed blocks give, whether they agree)."""
    import numpy as np

    from xr_spdc import find_optimum, spectrum

    text = README.read_text(encoding="utf-8")
    crystal, design, h_bk = ns["crystal"], ns["design"], ns["h_bk"]
    b_xi = (round(float(crystal.B), 2), round(float(crystal.xi), 2))
    peaks = h_bk.max(["sigma", "xi"]).values
    best = design.brightness.where(design.brightness == design.brightness.max(), drop=True)
    where = (float(best.temperature[0]), float(best.pump_waist[0]))
    k = float(spectrum.schmidt_decomposition(ns["psi"]).schmidt_number)
    widths = spectrum.marginal_bandwidths(ns["psi"])
    fwhm = (float(widths.signal_bandwidth) * 1e9, float(widths.idler_bandwidth) * 1e9)
    best_focus = find_optimum()
    hom, kept = ns["hom"], ns["kept"]
    visibilities = (float(hom.visibility), *map(float, hom.two_source_visibility.values))
    filtered = (float(kept.purity), float(kept.signal_heralding_efficiency))
    checks = [
        ("# 46.22e-6 m", ns["ktp_period"], round(ns["ktp_period"] * 1e6, 2) == 46.22),
        ("# 0.9946; 0.834 for both photons (= purity)", visibilities,
         round(visibilities[0], 4) == 0.9946
         and all(round(v, 3) == 0.834 for v in visibilities[1:])),
        ("# 0.9967, 0.713", filtered,
         (round(filtered[0], 4), round(filtered[1], 3)) == (0.9967, 0.713)),
        ("# B = 8.75, xi = 1.14", b_xi, b_xi == (8.75, 1.14)),
        ("# 19.54e-6 m", float(ns["period"]), round(float(ns["period"]) * 1e6, 2) == 19.54),
        # Boyd and Kleinman's 1.068; the README's grid (steps 0.05 in sigma, 5 % in xi)
        # reaches 1.0665 of it.
        ("# 1.068 without walk-off, less with it", peaks,
         abs(float(peaks[0]) - 1.068) < 2e-3 and bool(np.all(peaks[1:] < peaks[0]))),
        ("brightest at 38 °C, w_p = 30 µm", where,
         round(where[0]) == 38 and where[1] == 30e-6),
        ("# K ≈ 83", k, round(k) == 83),
        ("# FWHM ≈ 192 nm each", fwhm, all(round(w) == 192 for w in fwhm)),
        ("xi* = 2.8375191195, phi* = -1.0361426430 pi, h = 1.0677249748",
         (best_focus.xi, best_focus.phi / np.pi, best_focus.h),
         (round(best_focus.xi, 10), round(best_focus.phi / np.pi, 10),
          round(best_focus.h, 10)) == (2.8375191195, -1.0361426430, 1.0677249748)),
        ("largest (1.068) at ξ ≈ 2.84, φ ≈ −1.04π", (best_focus.h, best_focus.xi),
         (round(best_focus.h, 3), round(best_focus.xi, 2), round(best_focus.phi / np.pi, 2))
         == (1.068, 2.84, -1.04)),
    ]
    # A quote that is no longer in the README is a stale check: it fails too.
    return [(quote, got, ok and quote in text) for quote, got, ok in checks]
