"""The layers are contracts: import-linter's (pyproject.toml), and public names only."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "xr_spdc"
#: Private modules of the package that the package itself may import.
PACKAGE_PRIVATE = {"_version", "_moved"}


def _private_uses(path: Path) -> list[str]:
    """``from .x import _y``, ``import ._x`` and ``module._y`` on an imported package module."""
    tree = ast.parse(path.read_text(), str(path))
    modules: set[str] = set()  # local names bound to the package's own modules
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith(
                "xr_spdc")):
            parts = (node.module or "").split(".")
            if any(p.startswith("_") and p not in PACKAGE_PRIVATE for p in parts):
                found.append(f"{path.name}:{node.lineno} imports from {node.module}")
            for alias in node.names:
                if alias.name.startswith("_") and alias.name not in (
                        "__version__", *PACKAGE_PRIVATE):
                    found.append(f"{path.name}:{node.lineno} imports {alias.name}")
                modules.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in modules and node.attr.startswith("_")
                and not node.attr.startswith("__")):
            found.append(f"{path.name}:{node.lineno} uses {node.value.id}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_names():
    found = [use for path in sorted(PACKAGE.rglob("*.py")) for use in _private_uses(path)]
    assert not found, "\n".join(found)


def test_the_private_name_check_catches_a_private_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from . import kernels\nfrom .quad import _quad_part\nkernels._scaled_exp1\n")
    assert len(_private_uses(bad)) == 2


def test_import_linter_contracts_are_kept():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint is None:
        pytest.skip("import-linter is not installed (the test extra has it)")
    done = subprocess.run([lint], cwd=PACKAGE.parent, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize("old, name", [("kernels", "overlap"), ("quad", "overlap_quad"),
                                       ("walkoff", "focusing"), ("walkoff", "focusing_function"),
                                       ("fanout", "FanoutError"), ("evaluate", "integrate"),
                                       ("optimum", "find_optimum"), ("beams", "aggregate_focus")])
def test_a_moved_module_path_still_works_with_a_deprecation_warning(old, name):
    code = (f"import warnings\nwarnings.simplefilter('error')\n"
            f"try:\n    from xr_spdc.{old} import {name}\n"
            f"except DeprecationWarning as w:\n    print(w)\n"
            f"warnings.simplefilter('ignore')\nfrom xr_spdc.{old} import {name}\n"
            f"print(callable({name}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    warned, works = done.stdout.strip().splitlines()
    assert f"xr_spdc.{old} moved to xr_spdc." in warned and works == "True"


@pytest.mark.parametrize("name, namespace", [("phase_mismatch", "crystals"),
                                             ("joint_spectrum", "spectrum"),
                                             ("schmidt_decomposition", "spectrum")])
def test_a_name_moved_into_a_namespace_warns_and_names_its_new_home(name, namespace):
    import importlib

    import xr_spdc

    with pytest.warns(DeprecationWarning, match=f"xr_spdc.{namespace}.{name}"):
        value = getattr(xr_spdc, name)
    assert value is getattr(importlib.import_module(f"xr_spdc.{namespace}"), name)


def test_every_public_name_resolves():
    import types

    import xr_spdc

    for name in xr_spdc.__all__:
        value = getattr(xr_spdc, name)
        assert isinstance(value, types.ModuleType) == (name in ("crystals", "spectrum")), name
    for namespace in (xr_spdc.crystals, xr_spdc.spectrum):
        for name in namespace.__all__:
            assert hasattr(namespace, name), name


#: Issue numbers of other projects, cited as sources, are allowed.
EXTERNAL_ISSUES = {"PyNLO issue #55"}


def test_no_dangling_file_references_or_issue_numbers_in_the_package():
    import re

    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "physics.md" in text:  # a note outside the repository: cite the paper instead
            found.append(f"{path.name} cites physics.md")
        for match in re.finditer(r"\S+\s+issue\s*#?\d+", text, re.IGNORECASE):
            if match.group(0) not in EXTERNAL_ISSUES:
                found.append(f"{path.name}: {match.group(0)!r}")
    assert not found, "\n".join(found)
