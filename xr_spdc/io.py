"""netCDF files that keep complex values and metadata, written atomically.

Encoding
--------
CF has no convention for complex numbers yet.  xr_spdc writes them as netCDF-4's compound
type ``{r, i}`` (two float64 fields): compact, exactly what both the netcdf4 engine (with
``auto_complex=True``) and h5netcdf write, and readable by any netCDF-4 / HDF5 reader
(``ncdump`` shows the two fields).  netCDF-3 and ``NETCDF4_CLASSIC`` cannot hold it.

Reading back: :func:`open_dataset` (or ``xr.open_dataset(path, engine="h5netcdf")``, or
``xr.open_dataset(path, auto_complex=True)``) gives complex128.  A plain
``xr.open_dataset(path)`` with the netcdf4 engine gives a structured ``(r, i)`` dtype on
which ``abs`` and ``.plot()`` fail: use :func:`open_dataset`.

Global attributes follow CF: ``Conventions``, ``title``, ``history`` (appended to),
``source`` (with the package version) and ``references``.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ._version import __version__
from .labels import REFERENCES

CONVENTIONS = "CF-1.11"
ENGINES = ("h5netcdf", "netcdf4")


def _check_attrs(owner: str, attrs: Mapping[str, Any]) -> dict[str, Any]:
    """netCDF-safe copies of ``attrs``: bool becomes int; None, dict, complex are refused."""
    out = {}
    for key, value in attrs.items():
        if isinstance(value, (bool, np.bool_)):
            value = int(value)  # netCDF has no boolean attribute type
        elif value is None or isinstance(value, (Mapping, complex, np.complexfloating)) or (
                isinstance(value, (list, tuple, np.ndarray)) and np.asarray(value).ndim > 1):
            raise TypeError(f"attribute {key!r} of {owner} cannot be written to netCDF: "
                            f"{value!r:.60} ({type(value).__name__}); attributes must be "
                            "str, numbers or 1-D lists of them")
        out[key] = value
    return out


def prepare(obj: xr.DataArray | xr.Dataset, *, title: str | None = None) -> xr.Dataset:
    """The Dataset :func:`to_netcdf` writes: checked attrs and CF global attributes.

    ``obj`` is not modified.
    """
    if isinstance(obj, xr.DataArray):
        ds = obj.to_dataset(name=obj.name if obj.name is not None else "overlap")
    elif isinstance(obj, xr.Dataset):
        ds = obj.copy(deep=False)
    else:
        raise TypeError(f"obj must be an xarray DataArray or Dataset, not {type(obj).__name__}")
    for name, variable in ds.variables.items():
        ds[name].attrs = _check_attrs(f"variable {name!r}", variable.attrs)
    attrs = _check_attrs("the Dataset", ds.attrs)
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    line = f"{now}: written by xr_spdc {__version__}"
    attrs.update({
        "Conventions": CONVENTIONS,
        "title": title or attrs.get("title", "SPDC spatial-mode overlap (xr_spdc)"),
        "history": f"{attrs['history']}\n{line}" if attrs.get("history") else line,
        "source": f"xr_spdc {__version__}",
        "references": attrs.get("references", REFERENCES),
    })
    ds.attrs = attrs
    return ds


def to_netcdf(obj: xr.DataArray | xr.Dataset, path: str | os.PathLike, *,
              engine: str = "h5netcdf", title: str | None = None) -> Path:
    """Write an overlap (or a Dataset holding it) to netCDF-4, atomically.

    Parameters
    ----------
    obj : xarray.DataArray or xarray.Dataset
        Complex values are kept (compound ``{r, i}`` type); dask-backed values are computed
        and written block by block.
    path : str or path-like
        The file to write.  It is replaced only once the new file is complete.
    engine : {"h5netcdf", "netcdf4"}
        The writer; both produce the same file format.
    title : str, optional
        The CF ``title`` (default: the object's own, else a generic one).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    TypeError
        An attribute netCDF cannot store (None, dict, complex, nested lists), named.
    ValueError
        An unknown engine.

    Notes
    -----
    The file is written to a temporary file in the target's folder, flushed to disk, then
    renamed over ``path`` (``os.replace``, atomic on POSIX and Windows): an error or a crash
    mid-write leaves any existing file untouched and no partial file behind.

    Examples
    --------
    >>> import tempfile, pathlib, xarray as xr, xr_spdc
    >>> o = xr.Dataset(coords={"phi": [0.0, -3.14], "xi": [1.0]}).spdc.overlap()
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "overlap.nc"
    >>> back = xr_spdc.open_dataarray(to_netcdf(o, path))
    >>> bool((back == o).all()), back.dtype
    (True, dtype('complex128'))
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    ds = prepare(obj, title=title)
    target = Path(path)
    kwargs = {"auto_complex": True} if engine == "netcdf4" else {}
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                    dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        ds.to_netcdf(tmp, engine=engine, format="NETCDF4", **kwargs)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, _file_mode(target))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return target


def _file_mode(target: Path) -> int:
    """The mode a plain write would give: the old file's, else 0o666 less the umask (the
    temporary file starts private, 0o600)."""
    if target.exists():
        return target.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def open_dataset(path: str | os.PathLike, **kwargs: Any) -> xr.Dataset:
    """Open a file written by :func:`to_netcdf` with its complex values as complex128.

    Keyword arguments go to :func:`xarray.open_dataset` (``engine`` defaults to
    "h5netcdf", which reads the compound type as complex without a flag).
    """
    kwargs.setdefault("engine", "h5netcdf")
    if kwargs["engine"] == "netcdf4":
        kwargs.setdefault("auto_complex", True)
    return xr.open_dataset(path, **kwargs)


def open_dataarray(path: str | os.PathLike, **kwargs: Any) -> xr.DataArray:
    """Open the one data variable of a file written by :func:`to_netcdf` (e.g. an overlap)."""
    ds = open_dataset(path, **kwargs)
    if len(ds.data_vars) != 1:
        raise ValueError(f"{path} holds {len(ds.data_vars)} data variables "
                         f"({list(ds.data_vars)}); use open_dataset")
    return ds[next(iter(ds.data_vars))]
