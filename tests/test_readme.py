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
