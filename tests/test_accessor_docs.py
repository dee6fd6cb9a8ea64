"""The accessors' methods document the parameters they take, not the one they supply."""

import importlib
import inspect

import pytest
import xarray as xr

import xr_spdc  # noqa: F401  (registers the accessors)


def _documented(doc: str) -> set[str]:
    """Names in the Parameters entries ("name : type" or "a, b : type") of a docstring,
    at the heading's indentation (4 spaces up to Python 3.12, none from 3.13)."""
    lines = doc.splitlines()
    heading = next(line for line in lines if line.strip() == "Parameters")
    indent = heading[:len(heading) - len(heading.lstrip())]
    return {name.strip() for line in lines
            if line.startswith(indent) and not line.startswith(indent + " ") and " : " in line
            for name in line.split(" : ")[0].split(",")}


@pytest.mark.parametrize("owner, method", [
    (xr.Dataset, "overlap"), (xr.Dataset, "integrate"), (xr.Dataset, "focusing"),
    (xr.DataArray, "h"), (xr.DataArray, "intensity"), (xr.DataArray, "plot"),
    (xr.DataArray, "to_netcdf")])
def test_an_accessor_method_does_not_document_the_object_it_supplies(owner, method):
    forward = vars(owner.spdc)[method]
    target = getattr(importlib.import_module(forward.module, "xr_spdc"), forward.function)
    supplied = next(iter(inspect.signature(target).parameters))
    assert supplied in _documented(target.__doc__)  # the function documents it ...
    func = getattr(owner.spdc, method)
    assert supplied not in _documented(func.__doc__)  # ... the method, which takes it, not
    assert "Parameters" in func.__doc__ and "Returns" in func.__doc__
