"""netCDF files that keep complex values and metadata, written atomically.

Encoding
--------
CF has no convention for complex numbers yet.  xr_spdc writes them as netCDF-4's compound
type ``{r, i}`` (two little-endian float64 fields, the type named
``_PFNC_DOUBLE_COMPLEX_TYPE`` as the nc-complex convention does): it is what both the
netcdf4 engine (with ``auto_complex=True``) and h5netcdf write, it stores the values
bitwise, it needs no attributes to tie two variables together, and any netCDF-4 or HDF5
reader opens it (netCDF4-python shows a compound array with fields ``r`` and ``i``, h5py
reads complex128 directly).  The price: netCDF-3 and ``NETCDF4_CLASSIC`` cannot hold it,
so files are always ``NETCDF4``.  (The alternative, a real/imaginary pair of float
variables, opens in netCDF-3 readers too, but every reader must then know how to pair them.)

Reading back
------------
:func:`open_dataset` / :func:`open_dataarray` give complex128 (h5netcdf by default; with
``engine="netcdf4"`` they pass ``auto_complex=True``).  ``xr.open_dataset(path,
engine="h5netcdf")`` does too.  A plain ``xr.open_dataset(path)`` uses the netcdf4 engine
without ``auto_complex`` and gives a structured ``[('r', '<f8'), ('i', '<f8')]`` dtype, on
which ``abs()`` and ``.plot()`` fail.

Metadata
--------
Every attribute is written as it is, except that bools become ints (1/0: netCDF has no
boolean type).  Values netCDF cannot store portably (None, dict, complex, dates, nested or
mixed lists) raise a :class:`TypeError` naming the attribute and its variable, before
anything is written.  Global attributes follow CF: ``Conventions``, ``title``, ``history``
(a line with an ISO timestamp appended to any existing history), ``source`` (with the
package version) and ``references``.  Coordinate variables get no ``_FillValue`` (CF §5:
coordinates have no missing values).
"""

from __future__ import annotations

import contextlib
import datetime
import numbers
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
DEFAULT_ENGINE = "h5netcdf"  # writes and reads the compound type without a flag
DEFAULT_TITLE = "SPDC spatial-mode overlap (xr_spdc)"


def _attr_value(owner: str, key: str, value: Any) -> Any:
    """``value`` as netCDF stores it the same way with either engine, else TypeError."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)):
        return int(value)  # netCDF has no boolean attribute type
    if isinstance(value, (str, bytes, np.str_, np.bytes_)):
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, (np.datetime64, np.timedelta64)):
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        array = np.asarray(value)
        kinds = {type(v) for v in value} if not isinstance(value, np.ndarray) else set()
        mixed = any(issubclass(k, (str, bytes)) for k in kinds) and any(
            issubclass(k, numbers.Number) for k in kinds)
        if array.ndim == 1 and not mixed and array.dtype.kind in "biufUS":
            return array.astype(int) if array.dtype.kind == "b" else value
    raise TypeError(f"attribute {key!r} of {owner} cannot be written to netCDF: "
                    f"{value!r:.60} ({type(value).__name__}); attributes must be str, real "
                    "numbers (bool is stored as int) or 1-D lists of one of them")


def _check_attrs(owner: str, attrs: Mapping[str, Any]) -> dict[str, Any]:
    """netCDF-safe copies of ``attrs`` (see the module docstring)."""
    return {key: _attr_value(owner, key, value) for key, value in attrs.items()}


def prepare(obj: xr.DataArray | xr.Dataset, *, title: str | None = None,
            engine: str = DEFAULT_ENGINE) -> xr.Dataset:
    """The Dataset :func:`to_netcdf` writes: checked attrs and CF global attributes.

    Parameters
    ----------
    obj : xarray.DataArray or xarray.Dataset
        Not modified.  A DataArray becomes a Dataset with one variable, named after the
        DataArray (``"overlap"`` if it has no name).
    title : str, optional
        The CF ``title`` (default: the object's own, else a generic one).
    engine : str
        Named in the ``history`` line.

    Returns
    -------
    xarray.Dataset
        A shallow copy with its own attribute dicts.

    Raises
    ------
    TypeError
        ``obj`` is not an xarray object, or an attribute cannot be written (named).

    Examples
    --------
    >>> import xarray as xr
    >>> ds = prepare(xr.DataArray([1.0], dims="x", name="a", attrs={"ok": True}))
    >>> ds.attrs["Conventions"], ds["a"].attrs["ok"]
    ('CF-1.11', 1)
    """
    if isinstance(obj, xr.DataArray):
        ds = obj.to_dataset(name=obj.name if obj.name is not None else "overlap")
    elif isinstance(obj, xr.Dataset):
        ds = obj
    else:
        raise TypeError(f"obj must be an xarray DataArray or Dataset, not {type(obj).__name__}")
    # A shallow copy has new Variable objects with their own attrs dicts (data shared):
    # replacing those leaves the caller's object as it was.
    ds = ds.copy(deep=False)
    for name, variable in ds.variables.items():
        role = "coordinate" if name in ds.coords else "variable"
        variable.attrs = _check_attrs(f"{role} {name!r}", variable.attrs)
    attrs = _check_attrs("the Dataset", ds.attrs)
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    line = f"{now}: written by xr_spdc {__version__} (xr_spdc.io.to_netcdf, {engine})"
    attrs.update({
        "Conventions": CONVENTIONS,
        "title": title or attrs.get("title", DEFAULT_TITLE),
        "history": f"{attrs['history']}\n{line}" if attrs.get("history") else line,
        "source": f"xr_spdc {__version__}",
        "references": attrs.get("references", REFERENCES),
    })
    ds.attrs = attrs
    return ds


def to_netcdf(obj: xr.DataArray | xr.Dataset, path: str | os.PathLike, *,
              engine: str | None = None, title: str | None = None,
              encoding: Mapping[str, Mapping[str, Any]] | None = None) -> Path:
    """Write an overlap (or a Dataset holding it) to netCDF-4, atomically.

    Parameters
    ----------
    obj : xarray.DataArray or xarray.Dataset
        What to write; not modified.  Complex values are kept bitwise; dask-backed values
        are computed and written block by block.
    path : str or path-like
        The file to write.  It is replaced only once the new file is complete.
    engine : {"h5netcdf", "netcdf4"}, optional
        The writer (default "h5netcdf"); both write the same file format.
    title : str, optional
        The CF ``title`` (default: the object's own, else a generic one).
    encoding : mapping, optional
        Per-variable encoding for :meth:`xarray.Dataset.to_netcdf`, e.g.
        ``{"overlap": {"zlib": True, "complevel": 4}}`` (understood by both engines).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    TypeError
        An attribute netCDF cannot store (None, dict, complex, dates, nested or mixed
        lists), named with its variable; nothing is written.
    ValueError
        An unknown engine.

    Notes
    -----
    Complex values are stored as netCDF-4's compound type ``{r, i}`` (see the module
    docstring for why, and for what other readers see); bool attributes become ints.

    The file is written to a temporary file in the target's folder, flushed to disk
    (``os.fsync``), then renamed over ``path`` (``os.replace``, atomic on POSIX and
    Windows): an error, an interrupt or a crash mid-write leaves any existing file
    byte-identical and no temporary file behind (a crash may leave a hidden
    ``.<name>.*.tmp``).  A replaced file keeps its permission bits; a new one gets
    0o666 less the umask, as with a plain write.

    Examples
    --------
    >>> import tempfile, pathlib, xarray as xr, xr_spdc
    >>> o = xr.Dataset(coords={"phi": [0.0, -3.14], "xi": [1.0]}).spdc.overlap()
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "overlap.nc"
    >>> back = open_dataarray(to_netcdf(o, path))
    >>> bool((back == o).all()), back.dtype, back.attrs == o.attrs
    (True, dtype('complex128'), True)
    """
    engine = DEFAULT_ENGINE if engine is None else engine
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    ds = prepare(obj, title=title, engine=engine)
    encoding = {name: dict(options) for name, options in (encoding or {}).items()}
    for name in ds.coords:
        encoding.setdefault(str(name), {}).setdefault("_FillValue", None)
    target = Path(path)
    kwargs = {"auto_complex": True} if engine == "netcdf4" else {}
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                    dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        ds.to_netcdf(tmp, engine=engine, format="NETCDF4", encoding=encoding, **kwargs)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, _file_mode(target))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_folder(target.parent)
    return target


def _file_mode(target: Path) -> int:
    """The mode a plain write would give: the old file's, else 0o666 less the umask (the
    temporary file starts private, 0o600)."""
    if target.exists():
        return target.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); folders cannot be opened on Windows."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def open_dataset(path: str | os.PathLike, **kwargs: Any) -> xr.Dataset:
    """Open a file written by :func:`to_netcdf` with its complex values as complex128.

    Parameters
    ----------
    path : str or path-like
        A netCDF-4 file (any file with compound ``{r, i}`` complex variables).
    **kwargs
        Passed to :func:`xarray.open_dataset`.  ``engine`` defaults to "h5netcdf", which
        reads the compound type as complex; with ``engine="netcdf4"``,
        ``auto_complex=True`` is passed for you.

    Returns
    -------
    xarray.Dataset
        Lazily loaded, as :func:`xarray.open_dataset` returns it; attributes as written.

    Notes
    -----
    A plain ``xr.open_dataset(path)`` (netcdf4 engine, no ``auto_complex``) gives the
    complex variables a structured ``[('r', '<f8'), ('i', '<f8')]`` dtype instead, on which
    ``abs()`` and ``.plot()`` fail.

    Examples
    --------
    >>> import tempfile, pathlib, xarray as xr
    >>> o = xr.Dataset(coords={"phi": [-3.14], "xi": [1.0]}).spdc.overlap(mu=0.5)
    >>> path = to_netcdf(o, pathlib.Path(tempfile.mkdtemp()) / "o.nc")
    >>> ds = open_dataset(path)
    >>> ds["overlap"].dtype, ds.attrs["Conventions"]
    (dtype('complex128'), 'CF-1.11')
    >>> xr.open_dataset(path)["overlap"].dtype.names  # the plain way
    ('r', 'i')
    """
    kwargs.setdefault("engine", DEFAULT_ENGINE)
    if kwargs["engine"] == "netcdf4":
        kwargs.setdefault("auto_complex", True)
    return xr.open_dataset(path, **kwargs)


def open_dataarray(path: str | os.PathLike, **kwargs: Any) -> xr.DataArray:
    """Open the one data variable of a file written by :func:`to_netcdf` (e.g. an overlap).

    Parameters
    ----------
    path : str or path-like
        A file with exactly one data variable.
    **kwargs
        As for :func:`open_dataset`.

    Returns
    -------
    xarray.DataArray
        Complex128 where complex was written, with its name and attributes; the file's
        global attributes are not attached (use :func:`open_dataset` for them).

    Raises
    ------
    ValueError
        The file holds no or several data variables (they are listed).

    Examples
    --------
    >>> import tempfile, pathlib, xarray as xr
    >>> o = xr.Dataset(coords={"phi": [0.0], "xi": [1.0]}).spdc.overlap()
    >>> back = open_dataarray(to_netcdf(o, pathlib.Path(tempfile.mkdtemp()) / "o.nc"))
    >>> back.name, back.dims, back.attrs["long_name"]
    ('overlap', ('phi', 'xi'), 'spatial-mode overlap')
    """
    ds = open_dataset(path, **kwargs)
    if len(ds.data_vars) != 1:
        ds.close()
        raise ValueError(f"{path} holds {len(ds.data_vars)} data variables "
                         f"({list(ds.data_vars)}); use open_dataset")
    return ds[next(iter(ds.data_vars))]
