"""Module paths that moved in the layered layout: they keep working for one release.

``import xr_spdc.kernels`` (and every other pre-layout module path) still works, with a
DeprecationWarning naming the new home; the names it offers are those of the new module(s).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings
from collections.abc import Sequence
from typing import Any

#: Old module (under xr_spdc) -> its new home(s), searched in order for a name.
MOVED: dict[str, tuple[str, ...]] = {
    "kernels": ("xr_spdc.numerics.overlap",),
    "quad": ("xr_spdc.numerics.quadrature",),
    "walkoff": ("xr_spdc.labelled.focusing", "xr_spdc.numerics.walkoff"),
    "methods": ("xr_spdc.engine.methods",),
    "fanout": ("xr_spdc.engine.fanout",),
    "evaluate": ("xr_spdc.labelled.route",),
    "inputs": ("xr_spdc.labelled.inputs",),
    "labels": ("xr_spdc.labelled.names",),
    "beams": ("xr_spdc.physics.beams",),
    "boyd_kleinman": ("xr_spdc.physics.boyd_kleinman",),
    "optimum": ("xr_spdc.physics.optimum",),
}


class _Moved(types.ModuleType):
    """A stand-in for a moved module: attribute look-ups go to its new home(s)."""

    def __init__(self, name: str, homes: Sequence[str]) -> None:
        super().__init__(name, f"Moved to {', '.join(homes)}.")
        self._homes = tuple(homes)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        for home in self._homes:
            module = importlib.import_module(home)
            if hasattr(module, attr):
                return getattr(module, attr)
        raise AttributeError(f"module {self.__name__!r} (moved to {', '.join(self._homes)}) "
                             f"has no attribute {attr!r}")


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``xr_spdc.<old>`` for every entry of :data:`MOVED`, warning once per import."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None
                  ) -> importlib.machinery.ModuleSpec | None:
        package, _, old = fullname.rpartition(".")
        if package != "xr_spdc" or old not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        old = spec.name.rpartition(".")[2]
        homes = MOVED[old]
        warnings.warn(f"{spec.name} moved to {' and '.join(homes)}; the old path will be "
                      "removed in the next release", DeprecationWarning, stacklevel=2)
        return _Moved(spec.name, homes)

    def exec_module(self, module: types.ModuleType) -> None:
        pass


def install() -> None:
    """Put the finder on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())
