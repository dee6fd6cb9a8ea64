"""``Dataset.spdc`` and ``DataArray.spdc``: one-line forwards to the package's functions.

Each method is the plain function with the Dataset or DataArray as its first argument
(``ds.spdc.overlap(...)`` is ``xr_spdc.overlap(ds, ...)``), and shows that function's full
signature and docstring in ``help()``, IPython's ``?`` and editors.  The accessors hold no
state: xarray caches them on, and pickles them with, their objects.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import types
from collections.abc import Callable
from typing import Any

import xarray as xr


class _Forward:
    """A method forwarding to ``module.function(accessor's object, ...)``.

    The function is imported when the method is first looked up (so ``import xr_spdc`` does
    not import matplotlib for ``o.spdc.plot``); the method carries the function's docstring
    and its signature, the first parameter replaced by ``self``.
    """

    def __init__(self, module: str, function: str) -> None:
        self.module, self.function = module, function
        self._method: Callable[..., Any] | None = None

    def method(self) -> Callable[..., Any]:
        if self._method is None:
            func = getattr(importlib.import_module(self.module, __package__), self.function)

            @functools.wraps(func)
            def method(accessor: Any, /, *args: Any, **kwargs: Any) -> Any:
                return func(accessor._obj, *args, **kwargs)

            signature = inspect.signature(func)
            this = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
            method.__signature__ = signature.replace(  # type: ignore[attr-defined]
                parameters=[this, *list(signature.parameters.values())[1:]])
            del method.__wrapped__  # help() and IPython read __signature__, not the target's
            first = next(iter(signature.parameters))
            method.__doc__ = _without_parameter(func.__doc__ or "", first)
            self._method = method
        return self._method

    def __get__(self, accessor: Any, owner: type | None = None) -> Callable[..., Any]:
        method = self.method()
        return method if accessor is None else types.MethodType(method, accessor)


def _without_parameter(doc: str, name: str) -> str:
    """``doc`` without the numpydoc entry of parameter ``name`` (the accessor supplies it).

    Entries sit at the indentation of the "Parameters" heading: four spaces in a function's
    docstring up to Python 3.12, none from 3.13 (which dedents docstrings when compiling).
    """
    lines = doc.splitlines(keepends=True)  # joined back exactly, trailing newline included
    heading = next((i for i, line in enumerate(lines) if line.strip() == "Parameters"), None)
    if heading is None:
        return doc
    indent = len(lines[heading]) - len(lines[heading].lstrip())
    for i in range(heading + 2, len(lines)):
        line = lines[i]
        if not line.strip() or len(line) - len(line.lstrip()) != indent:
            continue
        if line.strip() in ("Returns", "Raises", "Examples", "Notes", "See Also"):
            break
        if line.strip().split(" : ")[0] == name:
            end = i + 1
            while end < len(lines) and (not lines[end].strip()
                                        or len(lines[end]) - len(lines[end].lstrip()) > indent):
                end += 1
            return "".join(lines[:i] + lines[end:])
    return doc


@xr.register_dataset_accessor("spdc")
class SpdcDatasetAccessor:
    """``ds.spdc``: SPDC computations over a Dataset's coordinates and variables."""

    def __init__(self, ds: xr.Dataset) -> None:
        self._obj = ds

    overlap = _Forward(".labelled.route", "overlap")
    integrate = _Forward(".labelled.route", "integrate")
    focusing = _Forward(".labelled.focusing", "focusing")
    joint_spectrum = _Forward(".physics.spectrum", "joint_spectrum_of")
    hom_interference = _Forward(".physics.hom", "hom_interference_of")
    fiber_coupling = _Forward(".labelled.coupling", "fiber_coupling")
    source_rates = _Forward(".physics.rates", "source_rates")


@xr.register_dataarray_accessor("spdc")
class SpdcDataArrayAccessor:
    """``o.spdc``: views of a computed result (an overlap, h, a joint spectrum)."""

    def __init__(self, da: xr.DataArray) -> None:
        self._obj = da

    boyd_kleinman = _Forward(".physics.boyd_kleinman", "boyd_kleinman")
    h = boyd_kleinman
    intensity = _Forward(".plot", "intensity")
    plot = _Forward(".plot", "plot_classic")
    to_netcdf = _Forward(".io", "to_netcdf")
    to_zarr = _Forward(".zarr_io", "to_zarr")
    hom_interference = _Forward(".physics.hom", "hom_interference")
