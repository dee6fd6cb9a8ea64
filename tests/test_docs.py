"""The documentation covers the public surface: every public name gets an API page.

The API reference is generated at build time by ``docs/_ext/xr_spdc_docs.py``; these tests
render its index here (no Sphinx build) and check it against the names the package
declares public: ``xr_spdc.__all__``, the namespaces' ``__all__`` and the accessors'
methods.  Where Sphinx is installed (the ``docs`` extra), each entry must also resolve the
way autosummary resolves it to write the page.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import sys
import warnings
from pathlib import Path

import pytest
import xarray as xr

import xr_spdc

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _load_generator():
    spec = importlib.util.spec_from_file_location("xr_spdc_docs", DOCS / "_ext" /
                                                  "xr_spdc_docs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


def _autosummary_entries(rst: str) -> list[str]:
    """The fully qualified names in the autosummary tables of a reST page."""
    entries, current, in_table = [], None, False
    for line in rst.splitlines():
        if line.startswith(".. currentmodule::"):
            current, in_table = line.split("::", 1)[1].strip(), False
        elif line.startswith(".. autosummary::"):
            in_table = True
        elif in_table and re.match(r"^   [A-Za-z_][\w.]*$", line):
            entries.append(f"{current}.{line.strip()}")
        elif in_table and line and not line.startswith("   "):
            in_table = False
    return entries


def _expected_names() -> set[str]:
    """Every public name, computed from the package's own declarations."""
    names: set[str] = set()
    namespaces = {"crystals", "spectrum"}
    for name in xr_spdc.__all__:
        value = getattr(xr_spdc, name)
        if name == "__version__":
            continue
        if inspect.ismodule(value):
            namespaces.add(name)
        elif isinstance(value, type) and hasattr(value, "__init__") and name.endswith(
                "Accessor"):
            continue  # documented as Dataset.spdc / DataArray.spdc
        else:
            names.add(f"xr_spdc.{name}")
    for ns in namespaces:
        module = importlib.import_module(f"xr_spdc.{ns}")
        public = getattr(module, "__all__", None)
        if public is None:
            public = [n for n, v in vars(module).items() if not n.startswith("_")
                      and inspect.isfunction(v) and v.__module__ == module.__name__]
        names |= {f"xr_spdc.{ns}.{n}" for n in public}
    for xr_class in (xr.Dataset, xr.DataArray):
        accessor = xr_class.spdc  # the accessor class
        names |= {f"xarray.{xr_class.__name__}.spdc.{m}" for m in dir(accessor)
                  if not m.startswith("_")}
    return names


def test_every_public_name_has_an_api_entry():
    entries = _autosummary_entries(gen.api_index(gen.public_api()))
    assert len(entries) == len(set(entries)), "a name is listed twice"
    missing = _expected_names() - set(entries)
    assert not missing, f"public names without an API page: {sorted(missing)}"
    extra = set(entries) - _expected_names()
    assert not extra, f"API pages for names that are not public: {sorted(extra)}"


def test_listing_names_the_accessor_methods_and_exceptions():
    entries = set(_autosummary_entries(gen.api_index(gen.public_api())))
    assert {"xarray.Dataset.spdc.overlap", "xarray.Dataset.spdc.integrate",
            "xarray.Dataset.spdc.focusing", "xarray.DataArray.spdc.h",
            "xarray.DataArray.spdc.plot", "xarray.DataArray.spdc.to_netcdf"} <= entries
    assert {"xr_spdc.FanoutError", "xr_spdc.WorkerDiedError", "xr_spdc.overlap",
            "xr_spdc.crystals.poling_period",
            "xr_spdc.spectrum.marginal_bandwidths"} <= entries
    api = gen.public_api()
    assert "FanoutError" in api.exceptions and "FanoutError" not in api.functions


def test_entries_resolve_as_autosummary_resolves_them():
    pytest.importorskip("sphinx")
    from sphinx.ext.autosummary import import_by_name

    for name in _autosummary_entries(gen.api_index(gen.public_api())):
        real_name, obj, _, _ = import_by_name(name)
        assert obj is not None, name
        assert inspect.getdoc(obj), f"{name} has no docstring for its page"


def test_cli_page_is_the_console_scripts_help():
    text = gen.cli_help()
    assert text.startswith("usage: xr-spdc")
    for option in ("--phi-over-pi", "--log10-xi", "--points", "--mu", "--method",
                   "--workers", "--plot"):
        assert option in text


@pytest.mark.parametrize(("line", "expected"), [
    ("the intensity |O|² of O", r"the intensity \|O\|² of O"),
    (r"already \|O\| escaped", r"already \|O\| escaped"),
    ("``abs(o)|1`` and :math:`|O|^2` stay", "``abs(o)|1`` and :math:`|O|^2` stay"),
])
def test_escape_bars_in_prose(line, expected):
    assert gen.escape_bars([line]) == [expected]


def test_escape_bars_keeps_blocks():
    lines = [".. math:: |O|^2", "", "   |O|^2 = 4h", "", "after |x|", ">>> abs(-1) | 0",
             "1", "", "code::", "", "    a | b"]
    out = gen.escape_bars(lines)
    assert out == [".. math:: |O|^2", "", "   |O|^2 = 4h", "", r"after \|x\|",
                   ">>> abs(-1) | 0", "1", "", "code::", "", "    a | b"]


def test_accessor_pages_drop_the_bound_parameter():
    lines = ["Summary.", "", "Parameters", "----------", "ds : xarray.Dataset",
             "    The object.", "", "    More about it.", "phi : str, default 'phi'",
             "    Phase.", "", "Returns", "-------", "DataArray"]
    assert gen.drop_first_parameter(lines, "ds") == [
        "Summary.", "", "Parameters", "----------", "phi : str, default 'phi'", "    Phase.",
        "", "Returns", "-------", "DataArray"]
    assert gen.drop_first_parameter(lines, "da") == lines  # another parameter: kept
    assert gen.drop_first_parameter(["No sections."], "ds") == ["No sections."]


PAGE_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
PAGES = sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.parts)


@pytest.mark.slow  # the getting-started page runs QUADPACK on 10⁴ points with a pool
@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_every_python_block_of_a_page_runs(page, tmp_path, monkeypatch):
    """The pages' ```python blocks run as written, in order, one namespace per page.

    ``__name__`` is not ``"__main__"``: a block guarded by it (the blog post's loop on the
    getting-started page) only defines its functions.
    """
    blocks = PAGE_BLOCK.findall(page.read_text(encoding="utf-8"))
    if not blocks:
        return
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "docs_page"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. workers=4 capped on a 2-core machine
        for number, block in enumerate(blocks, start=1):
            try:
                exec(compile(block, f"{page.name} python block {number}", "exec"), namespace)
            except Exception as exc:
                raise AssertionError(f"{page.name} python block {number} failed: "
                                     f"{type(exc).__name__}: {exc}\n{block}") from exc
    import matplotlib.pyplot as plt

    plt.close("all")
