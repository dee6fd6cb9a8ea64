"""netCDF round trips keep complex values bitwise and every attribute; writes are atomic."""

from __future__ import annotations

import errno
import io
import json
import os
import signal
import stat
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import dask
import h5py
import netCDF4
import numpy as np
import pytest
import xarray as xr

import xr_spdc
from xr_spdc.io import open_dataarray, open_dataset, to_netcdf

ENGINES = ["h5netcdf", "netcdf4"]


@pytest.fixture
def displaced(small_grid) -> xr.DataArray:
    """A genuinely complex overlap, labelled as the accessor labels it."""
    return small_grid.spdc.overlap(mu=0.5, workers=1)


@pytest.mark.parametrize("engine", ENGINES)
def test_round_trip_is_bitwise_with_every_attr(tmp_path, displaced, engine):
    path = to_netcdf(displaced, tmp_path / "o.nc", engine=engine)
    back = open_dataarray(path, engine=engine).load()
    assert back.dtype == np.complex128
    assert back.values.tobytes() == displaced.values.tobytes()
    assert back.attrs == displaced.attrs
    for name in ("phi", "xi", "mu"):
        assert back[name].attrs == displaced[name].attrs
        np.testing.assert_array_equal(back[name].values, displaced[name].values)


@pytest.mark.parametrize("writer", ENGINES)
@pytest.mark.parametrize("reader", ENGINES)
def test_file_from_one_engine_opens_with_the_other(tmp_path, displaced, writer, reader):
    path = to_netcdf(displaced, tmp_path / "o.nc", engine=writer)
    back = open_dataset(path, engine=reader).load()
    assert back["overlap"].values.tobytes() == displaced.values.tobytes()


def test_default_engine_is_h5netcdf(tmp_path, displaced):
    ds = open_dataset(to_netcdf(displaced, tmp_path / "o.nc", engine=None))
    assert "h5netcdf" in ds.attrs["history"]


def test_other_readers_see_a_labelled_real_and_imaginary_pair(tmp_path, displaced):
    path = to_netcdf(displaced, tmp_path / "o.nc")
    with netCDF4.Dataset(path) as nc:  # netCDF-C, no complex support asked for
        assert nc.data_model == "NETCDF4"
        assert "overlap" not in nc.variables
        real, imag = nc["overlap_real"], nc["overlap_imag"]
        assert real.dtype == imag.dtype == np.float64
        assert real.long_name == "real part of spatial-mode overlap"
        assert imag.long_name == "imaginary part of spatial-mode overlap"
        assert real.units == imag.units == displaced.attrs["units"]
        assert (real.complex_name, real.complex_part) == ("overlap", "real")
        assert (imag.complex_name, imag.complex_part) == ("overlap", "imaginary")
        np.testing.assert_array_equal(real[:], displaced.values.real)
        np.testing.assert_array_equal(imag[:], displaced.values.imag)
    with h5py.File(path) as f:  # plain HDF5
        np.testing.assert_array_equal(f["overlap_imag"][()], displaced.values.imag)


def test_plain_xarray_open_gives_labelled_floats_that_plot(tmp_path, displaced):
    """xarray's default reader (netcdf4, no auto_complex) used to give a structured (r, i)
    dtype, on which abs() and .plot() fail."""
    import matplotlib

    matplotlib.use("Agg")
    path = to_netcdf(displaced, tmp_path / "o.nc")
    with xr.open_dataset(path) as ds:  # the netcdf4 engine, as a user would
        assert [v.dtype for v in ds.data_vars.values()] == [np.float64, np.float64]
        real, imag = ds["overlap_real"].load(), ds["overlap_imag"].load()
        assert real.dtype == imag.dtype == np.float64
        np.testing.assert_array_equal(abs(real + 1j * imag), abs(displaced))
        assert ds["overlap_real"].plot().axes.get_xlabel().startswith("aggregate focus")
        assert ds["overlap_real"].attrs["long_name"] == "real part of spatial-mode overlap"


def test_a_pair_survives_netcdf3_and_opens_as_complex(tmp_path, displaced):
    """Any reader can copy the pair, even into netCDF-3, and the opener still joins it."""
    path = to_netcdf(displaced, tmp_path / "o.nc")
    with xr.open_dataset(path) as ds:
        ds.to_netcdf(tmp_path / "classic.nc", format="NETCDF3_64BIT", engine="scipy")
    back = open_dataarray(tmp_path / "classic.nc").load()
    assert back.dtype == np.complex128
    assert back.values.tobytes() == displaced.values.tobytes()
    assert back.attrs == displaced.attrs


@pytest.mark.parametrize("reader", ENGINES)
def test_a_file_with_the_old_compound_type_still_opens_as_complex(tmp_path, displaced,
                                                                   reader):
    """Files written before the pair: the netCDF-4 compound {r, i}, as h5netcdf writes it."""
    path = tmp_path / "old.nc"
    displaced.to_dataset().to_netcdf(path, engine="h5netcdf")
    with netCDF4.Dataset(path) as nc:
        assert nc["overlap"].datatype.name == "_PFNC_DOUBLE_COMPLEX_TYPE"
    back = open_dataarray(path, engine=reader).load()
    assert back.dtype == np.complex128
    assert back.values.tobytes() == displaced.values.tobytes()
    assert back.attrs == displaced.attrs


def test_special_values_and_complex_coordinates_round_trip_bitwise(tmp_path):
    odd = np.array([-0.0 - 0.0j, complex(np.inf, -0.0), complex(0.0, np.nan), 1e-320 + 5j])
    ds = xr.Dataset({"a": ("x", odd, {"long_name": "odd values", "units": "1"})},
                    coords={"x": [0, 1, 2, 3], "c": ("x", odd[::-1], {"note": "complex"})})
    back = open_dataset(to_netcdf(ds, tmp_path / "odd.nc")).load()
    assert back["a"].values.tobytes() == odd.tobytes()
    assert back["c"].values.tobytes() == odd[::-1].tobytes() and "c" in back.coords
    assert back["a"].attrs == ds["a"].attrs and back["c"].attrs == ds["c"].attrs


def test_a_lazy_open_joins_the_pair_lazily(tmp_path, displaced):
    path = to_netcdf(displaced, tmp_path / "o.nc")
    lazy = open_dataarray(path, chunks={"phi": 3})
    assert lazy.chunks is not None and lazy.dtype == np.complex128
    assert lazy.values.tobytes() == displaced.values.tobytes()


@pytest.mark.parametrize("taken", ["overlap_real", "overlap_imag"])
def test_a_part_name_already_taken_is_refused(tmp_path, displaced, taken):
    ds = displaced.to_dataset().assign({taken: displaced.real})
    with pytest.raises(TypeError, match=f"'{taken}' is taken by another variable"):
        to_netcdf(ds, tmp_path / "o.nc")
    assert _only(tmp_path) == []


def test_a_half_pair_is_named_when_opened(tmp_path, displaced):
    path = to_netcdf(displaced, tmp_path / "o.nc")
    with xr.open_dataset(path) as ds:
        ds.drop_vars("overlap_imag").to_netcdf(tmp_path / "half.nc")
    with pytest.raises(ValueError, match=r"\['real'\] part of the complex variable "
                                         r"'overlap' \(\['overlap_real'\]\)"):
        open_dataset(tmp_path / "half.nc")


def test_global_attrs_follow_cf(tmp_path, displaced):
    ds = open_dataset(to_netcdf(displaced, tmp_path / "o.nc"))
    assert ds.attrs["Conventions"] == "CF-1.11"
    assert ds.attrs["source"] == f"xr_spdc {xr_spdc.__version__}"
    assert "Bennink" in ds.attrs["references"] and "Boyd" in ds.attrs["references"]
    assert ds.attrs["title"]
    assert f"written by xr_spdc {xr_spdc.__version__}" in ds.attrs["history"]
    assert ds.attrs["history"][:4].isdigit() and "T" in ds.attrs["history"][:11]  # ISO


def test_title_can_be_given(tmp_path, displaced):
    ds = open_dataset(to_netcdf(displaced, tmp_path / "o.nc", title="Run 7"))
    assert ds.attrs["title"] == "Run 7"


def test_history_is_appended_not_replaced(tmp_path, displaced):
    ds = displaced.to_dataset().assign_attrs(history="2020-01-01: made by hand")
    back = open_dataset(to_netcdf(ds, tmp_path / "o.nc"))
    lines = back.attrs["history"].splitlines()
    assert lines[0] == "2020-01-01: made by hand" and "xr_spdc" in lines[1]


def test_an_opened_file_can_be_saved_over_itself(tmp_path, displaced):
    path = to_netcdf(displaced, tmp_path / "o.nc")
    with open_dataset(path) as ds:
        to_netcdf(ds, path)
    with open_dataset(path) as back:
        assert len(back.attrs["history"].splitlines()) == 2
        assert back["overlap"].values.tobytes() == displaced.values.tobytes()


def test_a_dataset_holding_the_overlap_round_trips(tmp_path, displaced):
    ds = xr.Dataset({"overlap": displaced, "h": displaced.spdc.h()},
                    attrs={"experiment": "PPKTP", "run": 3})
    back = open_dataset(to_netcdf(ds, tmp_path / "both.nc")).load()
    xr.testing.assert_identical(back["overlap"], ds["overlap"])
    np.testing.assert_array_equal(back["h"].values, ds["h"].values)
    assert back["h"].attrs == ds["h"].attrs
    assert back.attrs["experiment"] == "PPKTP" and back.attrs["run"] == 3


def test_coordinates_get_no_fill_value(tmp_path, displaced):
    path = to_netcdf(displaced, tmp_path / "o.nc")
    with netCDF4.Dataset(path) as nc:
        assert "_FillValue" not in nc["phi"].ncattrs()
        assert "_FillValue" not in nc["xi"].ncattrs()


@pytest.mark.parametrize("engine", ENGINES)
def test_compression_is_passed_through_and_stays_bitwise(tmp_path, engine):
    big = xr.Dataset(coords={"phi": np.linspace(-7, 3, 60) * np.pi,
                             "xi": np.logspace(-1.5, 2.5, 50)}).spdc.overlap(workers=1)
    path = to_netcdf(big, tmp_path / "o.nc", engine=engine,
                     encoding={"overlap": {"zlib": True, "complevel": 4}})
    back = open_dataarray(path)
    assert back.encoding["zlib"]
    assert back.values.tobytes() == big.values.tobytes()


def test_bools_are_stored_as_ints_and_the_caller_is_untouched(tmp_path, displaced):
    flagged = displaced.assign_attrs(converged=True, mask=np.array([True, False]))
    flagged["phi"].attrs["uniform"] = np.True_
    before = [dict(flagged.attrs), dict(flagged["phi"].attrs), dict(flagged["xi"].attrs)]
    back = open_dataarray(to_netcdf(flagged, tmp_path / "o.nc"))
    assert back.attrs["converged"] == 1 and back["phi"].attrs["uniform"] == 1
    np.testing.assert_array_equal(back.attrs["mask"], [1, 0])
    assert [flagged.attrs, flagged["phi"].attrs, flagged["xi"].attrs] == before
    assert flagged.attrs["converged"] is True


def test_a_datasets_global_attrs_are_not_touched(tmp_path, displaced):
    ds = displaced.to_dataset().assign_attrs(note="mine")
    to_netcdf(ds, tmp_path / "o.nc")
    assert ds.attrs == {"note": "mine"}


@pytest.mark.parametrize("value", [None, {"a": 1}, 1 + 2j, np.array([1j]), [[1, 2], [3, 4]],
                                   [1, "a"], np.datetime64("2020-01-01"), np.timedelta64(1, "s"),
                                   {1, 2}, Fraction(1, 3), 2**70, -(2**63) - 1, "\ud800",
                                   ["ok", "\ud800"], [1, 2**64]])
def test_unwritable_attr_is_named_and_the_old_file_kept(tmp_path, displaced, value):
    path = to_netcdf(displaced, tmp_path / "o.nc")
    before = path.read_bytes()
    with pytest.raises(TypeError, match="attribute 'bad' of variable 'overlap'"):
        to_netcdf(displaced.assign_attrs(bad=value), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["o.nc"]


@pytest.mark.parametrize("value", [2**63 - 1, -(2**63), np.uint64(2**64 - 1), "ünïcødé ✓"])
def test_attrs_at_the_edge_of_what_netcdf_holds_round_trip(tmp_path, displaced, value):
    back = open_dataarray(to_netcdf(displaced.assign_attrs(edge=value), tmp_path / "o.nc"))
    assert back.attrs["edge"] == value


def test_unwritable_coordinate_and_global_attrs_are_named(tmp_path, displaced):
    odd = displaced.copy()
    odd["xi"].attrs["bad"] = None
    with pytest.raises(TypeError, match="attribute 'bad' of coordinate 'xi'"):
        to_netcdf(odd, tmp_path / "o.nc")
    with pytest.raises(TypeError, match="attribute 'bad' of the Dataset"):
        to_netcdf(displaced.to_dataset().assign_attrs(bad=None), tmp_path / "o.nc")


def test_failure_mid_write_leaves_the_existing_file_untouched(tmp_path, small_grid):
    path = to_netcdf(small_grid.spdc.overlap(workers=1), tmp_path / "o.nc")
    before = path.read_bytes()
    bad = xr.Dataset({"phi": ("point", np.linspace(-5, 5, 40)),
                      "xi": ("point", np.r_[np.ones(30), -np.ones(10)])})
    lazy = bad.chunk(point=10).spdc.overlap()  # the last blocks fail as they are computed
    with pytest.raises(ValueError, match="xi must be positive and finite"):
        to_netcdf(lazy, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["o.nc"]


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_failure_after_the_data_is_written_leaves_the_existing_file_untouched(
        tmp_path, displaced, monkeypatch, error):
    path = to_netcdf(displaced, tmp_path / "o.nc")
    before = path.read_bytes()

    def failing_fsync(fd):
        raise error

    monkeypatch.setattr(os, "fsync", failing_fsync)  # the temporary file is complete by now
    with pytest.raises(type(error)):
        to_netcdf(displaced * 2, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["o.nc"]


def test_lazy_overlap_streams_to_file(tmp_path, small_grid):
    lazy = small_grid.spdc.overlap(chunks={"phi": 2})
    back = open_dataarray(to_netcdf(lazy, tmp_path / "lazy.nc")).load()
    assert back.values.tobytes() == small_grid.spdc.overlap(workers=1).values.tobytes()


def test_unknown_engine_is_refused(tmp_path, displaced):
    with pytest.raises(ValueError, match="engine must be one of"):
        to_netcdf(displaced, tmp_path / "o.nc", engine="scipy")


def test_open_dataarray_refuses_a_file_with_two_variables(tmp_path, displaced):
    path = to_netcdf(xr.Dataset({"a": displaced, "b": displaced}), tmp_path / "two.nc")
    with pytest.raises(ValueError, match=r"2 data variables \(\['a', 'b'\]\)"):
        open_dataarray(path)


def test_accessor_saves_too(tmp_path, displaced):
    path = displaced.spdc.to_netcdf(tmp_path / "o.nc")
    assert open_dataarray(path).values.tobytes() == displaced.values.tobytes()


def test_new_file_gets_the_usual_permissions_and_an_old_file_keeps_its_own(tmp_path,
                                                                          displaced):
    umask = os.umask(0o022)
    try:
        path = to_netcdf(displaced, tmp_path / "o.nc")
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        path.chmod(0o640)
        to_netcdf(displaced, path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    finally:
        os.umask(umask)


# --- interrupts: the old file or the new one, never half, never a leftover -------------

def _only(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def default_sigint():
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT has a non-default handler in this test process")


@pytest.mark.parametrize("engine", ENGINES)
def test_ctrl_c_inside_the_library_is_not_lost(tmp_path, displaced, monkeypatch, engine,
                                               default_sigint):
    """The interrupt lands in a finalizer the netCDF library runs mid-write: Python
    reports a KeyboardInterrupt raised there as "Exception ignored", and the save used to
    complete as if nothing had happened."""
    path = to_netcdf(displaced, tmp_path / "o.nc")
    before = path.read_bytes()
    store = {"h5netcdf": xr.backends.H5NetCDFStore,
             "netcdf4": xr.backends.NetCDF4DataStore}[engine]
    original = store.prepare_variable

    class InterruptsWhenCollected:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGINT)

    def prepare_variable(self, *args, **kwargs):
        InterruptsWhenCollected()  # collected at once: the signal arrives in __del__
        return original(self, *args, **kwargs)

    monkeypatch.setattr(store, "prepare_variable", prepare_variable)
    with pytest.raises(KeyboardInterrupt):
        to_netcdf(displaced * 2, path, engine=engine)
    assert path.read_bytes() == before
    assert _only(tmp_path) == ["o.nc"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def _interrupting_blocks(grid: xr.Dataset, signum: int) -> xr.DataArray:
    """A lazy overlap whose third block sends ``signum`` while other blocks still run."""
    def block(values, block_info=None):
        if block_info[0]["chunk-location"][0] == 2:
            os.kill(os.getpid(), signum)
        time.sleep(0.02)  # keep other threads writing when the interrupt arrives
        return values

    lazy = grid.spdc.overlap(chunks={"phi": 1})
    return lazy.copy(data=lazy.data.map_blocks(block, dtype=lazy.dtype))


@pytest.mark.parametrize("engine", ENGINES)
def test_ctrl_c_during_a_lazy_save_leaves_no_temporary_file(tmp_path, small_grid, engine,
                                                            default_sigint):
    path = to_netcdf(small_grid.spdc.overlap(workers=1), tmp_path / "o.nc")
    before = path.read_bytes()
    with pytest.raises(KeyboardInterrupt), dask.config.set(scheduler="threads",
                                                           num_workers=4):
        to_netcdf(_interrupting_blocks(small_grid, signal.SIGINT), path, engine=engine)
    time.sleep(0.2)  # blocks still running in dask's threads have finished by now
    assert path.read_bytes() == before
    assert _only(tmp_path) == ["o.nc"]


@pytest.mark.parametrize("engine", ENGINES)
def test_ctrl_c_while_blocks_are_written_in_this_thread_never_deadlocks(
        tmp_path, small_grid, monkeypatch, engine, default_sigint):
    """dask's synchronous scheduler writes blocks in the main thread: the interrupt lands
    inside xarray's backend, where raising could leave its file lock taken (the next save
    would hang); the save stops at the next block instead."""
    path = to_netcdf(small_grid.spdc.overlap(workers=1), tmp_path / "o.nc")
    before = path.read_bytes()
    wrapper = {"h5netcdf": xr.backends.h5netcdf_.H5NetCDFArrayWrapper,
               "netcdf4": xr.backends.netCDF4_.NetCDF4ArrayWrapper}[engine]
    original = wrapper.get_array
    calls = []

    def interrupting_get_array(self, *args, **kwargs):
        calls.append(self.variable_name.removesuffix("_real").removesuffix("_imag"))
        if calls.count("overlap") == 2:  # with xarray's file lock taken, writing a block
            os.kill(os.getpid(), signal.SIGINT)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(wrapper, "get_array", interrupting_get_array)
    lazy = small_grid.spdc.overlap(chunks={"phi": 1})
    with pytest.raises(KeyboardInterrupt), dask.config.set(scheduler="synchronous"):
        to_netcdf(lazy, path, engine=engine)
    assert calls.count("overlap") < 2 * small_grid.sizes["phi"]  # stopped before the end
    assert path.read_bytes() == before and _only(tmp_path) == ["o.nc"]
    monkeypatch.undo()
    with dask.config.set(scheduler="synchronous"):  # a lock left taken would hang here
        to_netcdf(lazy, path, engine=engine)
    assert open_dataarray(path).values.tobytes() == small_grid.spdc.overlap(
        workers=1).values.tobytes()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_signal_pending_when_the_file_is_written_stops_the_save_before_the_rename(
        tmp_path, displaced, monkeypatch, engine, default_sigint):
    """The last step before the commit point (the rename) gets Ctrl-C: the save stops."""
    path = to_netcdf(displaced, tmp_path / "o.nc", engine=engine)
    before = path.read_bytes()
    chmod = os.chmod

    def interrupted_chmod(*args, **kwargs):
        chmod(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGINT)  # handled here, before the rename

    monkeypatch.setattr(os, "chmod", interrupted_chmod)
    with pytest.raises(KeyboardInterrupt) as interrupt:
        to_netcdf(displaced * 2, path, engine=engine)
    assert "was saved" not in str(interrupt.value)
    assert path.read_bytes() == before and _only(tmp_path) == ["o.nc"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("first", ["signal", "rename"])
def test_a_signal_after_the_commit_point_is_delivered_once_the_file_is_saved(
        tmp_path, displaced, monkeypatch, engine, first, default_sigint):
    """Ctrl-C once the save is committed (as the rename is called, or after it): the new
    file is in place, and the interrupt still comes, saying so."""
    path = to_netcdf(displaced, tmp_path / "o.nc", engine=engine)
    replace = os.replace

    def interrupted_replace(*args, **kwargs):
        if first == "signal":
            os.kill(os.getpid(), signal.SIGINT)
        replace(*args, **kwargs)
        if first == "rename":
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(os, "replace", interrupted_replace)
    with pytest.raises(KeyboardInterrupt, match=f"{path} was saved"):
        to_netcdf(displaced * 2, path, engine=engine)
    monkeypatch.undo()
    assert open_dataarray(path).values.tobytes() == (displaced * 2).values.tobytes()
    assert _only(tmp_path) == ["o.nc"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


SIGTERM_SCRIPT = """
import os, signal, time, dask, numpy as np, xarray as xr, xr_spdc
grid = xr.Dataset(coords={{"phi": np.linspace(-7, 3, 7) * np.pi, "xi": [1.0, 2.0]}})
o = grid.spdc.overlap(workers=1)
if {lazy}:  # as _interrupting_blocks, without importing this test module
    def block(values, block_info=None):
        if block_info[0]["chunk-location"][0] == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.02)
        return values
    lazy = grid.spdc.overlap(chunks={{"phi": 1}})
    dask.config.set(scheduler="threads", num_workers=4)
    o = lazy.copy(data=lazy.data.map_blocks(block, dtype=lazy.dtype))
else:
    store = xr.backends.H5NetCDFStore
    original = store.prepare_variable
    def prepare_variable(self, *args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        return original(self, *args, **kwargs)
    store.prepare_variable = prepare_variable
xr_spdc.to_netcdf(o, {path!r})
print("saved")
"""


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
def test_sigterm_during_a_save_ends_the_process_and_keeps_the_old_file(tmp_path, displaced,
                                                                       lazy):
    path = to_netcdf(displaced, tmp_path / "o.nc")
    before = path.read_bytes()
    script = SIGTERM_SCRIPT.format(lazy=lazy, path=str(path))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == -signal.SIGTERM, done.stderr
    assert "saved" not in done.stdout
    time.sleep(0.2)  # blocks still running in dask's threads have finished by now
    assert path.read_bytes() == before
    assert _only(tmp_path) == ["o.nc"]


# --- a full disk -------------------------------------------------------------------------

@pytest.fixture
def tiny_disk(tmp_path):
    """A 1 MiB tmpfs (needs root and mount); skipped where it cannot be mounted."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)],
                          capture_output=True)
    if done.returncode:
        pytest.skip("cannot mount a tmpfs here")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def _big_overlap() -> xr.DataArray:
    """2.4 MiB of values: more than the tiny disk holds."""
    return xr.Dataset(coords={"phi": np.linspace(-7, 3, 400) * np.pi,
                              "xi": np.logspace(-1.5, 2.5, 400)}).spdc.overlap(workers=1)


def _assert_disk_full(error: pytest.ExceptionInfo, path) -> None:
    assert error.value.errno == errno.ENOSPC
    assert error.value.filename == str(path)
    assert "disk is full" in str(error.value) and ".tmp" not in str(error.value)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_save_that_cannot_fit_is_refused_up_front(tiny_disk, engine):
    path = tiny_disk / "o.nc"
    path.write_bytes(b"old")
    with pytest.raises(OSError) as error:
        to_netcdf(_big_overlap(), path, engine=engine)
    _assert_disk_full(error, path)
    assert path.read_bytes() == b"old" and _only(tiny_disk) == ["o.nc"]


DISK_FULL_SCRIPT = """
import errno, json, os, sys, numpy as np, xarray as xr, xr_spdc, xr_spdc.io
xr_spdc.io._refuse_if_too_big = lambda *args: None  # the disk fills up mid-write
o = xr.Dataset(coords={{"phi": np.linspace(-7, 3, 400) * np.pi,
                       "xi": np.logspace(-1.5, 2.5, 400)}}).spdc.overlap(workers=1)
results = []
for engine in ("h5netcdf", "netcdf4"):
    for data in (o, o.chunk(phi=50)):
        try:
            xr_spdc.to_netcdf(data, {path!r}, engine=engine)
            results.append(None)
        except OSError as exc:
            results.append([exc.errno, exc.filename, str(exc)])
        import gc; gc.collect()  # a half-closed HDF5 file used to segfault here
print(json.dumps(results))
"""


def test_a_disk_that_fills_up_mid_write_is_an_oserror_and_the_process_lives(tiny_disk):
    path = tiny_disk / "o.nc"
    path.write_bytes(b"old")
    done = subprocess.run([sys.executable, "-c", DISK_FULL_SCRIPT.format(path=str(path))],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    for number, filename, message in json.loads(done.stdout):
        assert number == errno.ENOSPC and filename == str(path)
        assert "disk is full" in message and ".tmp" not in message
    assert path.read_bytes() == b"old" and _only(tiny_disk) == ["o.nc"]


LAZY_DISK_FULL_SCRIPT = """
import numpy as np, xarray as xr, xr_spdc, xr_spdc.io
xr_spdc.io._refuse_if_too_big = lambda *args: None  # the disk fills up mid-write
o = xr.Dataset(coords={{"phi": np.linspace(-7, 3, 400) * np.pi,
                       "xi": np.logspace(-1.5, 2.5, 400)}}).spdc.overlap(chunks={{"phi": 8}})
for engine in ("h5netcdf", "netcdf4"):
    try:
        xr_spdc.to_netcdf(o, {path!r}, engine=engine)
    except OSError as exc:
        assert "disk is full" in str(exc), exc
    else:
        raise AssertionError("saved onto a full disk")
"""


def test_lazy_save_onto_a_disk_that_fills_leaves_the_process_healthy(tiny_disk):
    """Blocks of 51 kB, below HDF5's 64 kB write buffer: the disk used to fill while h5py
    dropped the dataset a block was written through, which printed RuntimeErrors from
    ``__dealloc__`` the save never saw, and the interpreter segfaulted at exit (139)."""
    path = tiny_disk / "o.nc"
    path.write_bytes(b"old")
    done = subprocess.run([sys.executable, "-c", LAZY_DISK_FULL_SCRIPT.format(path=str(path))],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    assert path.read_bytes() == b"old" and _only(tiny_disk) == ["o.nc"]


@pytest.mark.parametrize("error", [
    OSError(errno.ENOSPC, "No space left on device"),
    RuntimeError("Can't write data (file write failed: errno = 28, error message = "
                 "'No space left on device')"),
    RuntimeError("NetCDF: HDF error"),  # netCDF-C's whole message; the free space decides
])
def test_a_full_disk_reported_by_the_library_is_named_as_such(tmp_path, displaced,
                                                              monkeypatch, error):
    path = to_netcdf(displaced, tmp_path / "o.nc")
    before = path.read_bytes()

    def failing_write(self, target, **kwargs):
        Path(_written(target)).write_bytes(b"partial")  # h5netcdf: a file
        raise error

    monkeypatch.setattr(xr.Dataset, "to_netcdf", failing_write)
    monkeypatch.setattr(xr_spdc.io, "_free_space",
                        lambda folder: 0 if "HDF error" in str(error) else 2**40)
    with pytest.raises(OSError) as raised:
        to_netcdf(displaced, path)
    _assert_disk_full(raised, path)
    assert path.read_bytes() == before and _only(tmp_path) == ["o.nc"]


def _written(target):
    """The file a mocked ``Dataset.to_netcdf`` was asked to write (h5netcdf: a file object)."""
    return target.name if isinstance(target, io.IOBase) else target


# --- the output path --------------------------------------------------------------------

def test_a_trailing_slash_never_overwrites_the_file(tmp_path, displaced):
    path = to_netcdf(displaced, tmp_path / "fine.nc")
    before = path.read_bytes()
    with pytest.raises(IsADirectoryError, match="names a folder") as error:
        to_netcdf(displaced * 2, f"{path}/")
    assert error.value.filename == f"{path}/"
    assert path.read_bytes() == before and _only(tmp_path) == ["fine.nc"]


def test_errors_name_the_users_path_and_the_cause_not_the_temporary_file(tmp_path,
                                                                         displaced):
    missing = tmp_path / "nonexistent" / "out.nc"
    with pytest.raises(FileNotFoundError, match="the folder .*nonexistent does not exist"
                       ) as error:
        to_netcdf(displaced, missing)
    assert error.value.filename == str(missing) and ".tmp" not in str(error.value)
    (tmp_path / "d.nc").mkdir()
    with pytest.raises(IsADirectoryError, match="it is a folder") as error:
        to_netcdf(displaced, tmp_path / "d.nc")
    assert ".tmp" not in str(error.value)


def test_an_os_error_mid_save_names_the_users_path(tmp_path, displaced, monkeypatch):
    def failing_write(self, target, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied",
                              str(_written(target)))

    monkeypatch.setattr(xr.Dataset, "to_netcdf", failing_write)
    with pytest.raises(PermissionError, match="cannot write .*o.nc: Permission denied") as e:
        to_netcdf(displaced, tmp_path / "o.nc")
    assert e.value.filename == str(tmp_path / "o.nc") and ".tmp" not in str(e.value)
    assert _only(tmp_path) == []


def test_a_library_error_naming_the_temporary_file_names_the_users_path(
        tmp_path, displaced, monkeypatch):
    def failing_write(self, target, **kwargs):
        raise RuntimeError(f"Unable to synchronously create file (unable to lock file, "
                           f"name = '{_written(target)}', errno = 11)")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", failing_write)
    with pytest.raises(RuntimeError, match="unable to lock file") as error:
        to_netcdf(displaced, tmp_path / "o.nc")
    assert f"name = '{tmp_path / 'o.nc'}'" in str(error.value)
    assert ".tmp" not in str(error.value) and _only(tmp_path) == []


def test_saving_onto_a_symlink_writes_through_to_its_target(tmp_path, displaced):
    real = to_netcdf(displaced, tmp_path / "real.nc")
    link = tmp_path / "link.nc"
    link.symlink_to("real.nc")
    assert to_netcdf(displaced * 2, link) == link
    assert link.is_symlink() and os.readlink(link) == "real.nc"
    assert open_dataarray(real).values.tobytes() == (displaced * 2).values.tobytes()
    assert _only(tmp_path) == ["link.nc", "real.nc"]


@pytest.mark.parametrize("contents", [b"not a netCDF file\n", b"", b"\x89HDF"])
@pytest.mark.parametrize("opener", [open_dataset, open_dataarray])
def test_a_file_that_is_not_netcdf_is_named(tmp_path, contents, opener):
    path = tmp_path / "notes.nc"
    path.write_bytes(contents)
    with pytest.raises(ValueError, match=f"{path} is not a netCDF file"):
        opener(path)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.nc"):
        open_dataset(tmp_path / "missing.nc")


@pytest.mark.parametrize("length", [242, 250, 255])
def test_file_names_up_to_the_longest_allowed_are_saved(tmp_path, displaced, length):
    """The hidden temporary name used to be the user's name plus 14 characters."""
    path = tmp_path / ("o" * (length - 3) + ".nc")
    to_netcdf(displaced, path)
    to_netcdf(displaced * 2, path)  # over an existing file too
    assert open_dataarray(path).values.tobytes() == (displaced * 2).values.tobytes()
    assert _only(tmp_path) == [path.name]


def test_a_netcdf3_file_opens_and_h5netcdf_is_told_which_engine_reads_it(tmp_path):
    path = tmp_path / "classic.nc"
    xr.Dataset({"a": ("x", [1.0, 2.0])}).to_netcdf(path, format="NETCDF3_CLASSIC",
                                                  engine="netcdf4")
    np.testing.assert_array_equal(open_dataarray(path).values, [1.0, 2.0])
    with pytest.raises(ValueError, match="netCDF-3 file.*engine='netcdf4'"):
        open_dataarray(path, engine="h5netcdf")


# --- what the signal handling assumes about where the libraries live -------------------

def test_the_modules_a_signal_must_not_interrupt_are_where_io_looks_for_them():
    """_in_library recognises the netCDF libraries and xarray's backends by module name,
    and stops at dask's scheduler: if a release moves them, this fails first."""
    import dask.local
    import h5netcdf

    from xr_spdc.io import _LIBRARY_MODULES, _SCHEDULER_MODULES

    for where in (xr.backends.H5NetCDFStore, xr.backends.NetCDF4DataStore,
                  xr.backends.h5netcdf_.H5NetCDFArrayWrapper,
                  xr.backends.netCDF4_.NetCDF4ArrayWrapper, h5netcdf.File, h5py.Dataset,
                  netCDF4.Dataset):
        assert where.__module__.startswith(_LIBRARY_MODULES), where
    for where in (dask.local.get_async, dask.local.get_sync):
        assert where.__module__.startswith(_SCHEDULER_MODULES), where


def test_ctrl_c_while_dask_threads_write_stops_at_once(tmp_path, small_grid, default_sigint):
    """The main thread waits for dask's threads inside xarray's to_netcdf: an interrupt
    there is raised at once, while the block that sent it is still running (it waits
    until the interrupt has come out of to_netcdf; deferred, it would time out)."""
    import threading

    path = to_netcdf(small_grid.spdc.overlap(workers=1), tmp_path / "o.nc")
    before = path.read_bytes()
    released, timed_out = threading.Event(), []

    def block(values, block_info=None):
        if block_info[0]["chunk-location"][0] == 0:
            os.kill(os.getpid(), signal.SIGINT)
            timed_out.append(not released.wait(timeout=10))
        return values

    lazy = small_grid.spdc.overlap(chunks={"phi": 1})
    slow = lazy.copy(data=lazy.data.map_blocks(block, dtype=lazy.dtype))
    with pytest.raises(KeyboardInterrupt), dask.config.set(scheduler="threads",
                                                           num_workers=1):
        to_netcdf(slow, path)
    released.set()
    time.sleep(0.2)  # the block still running in dask's thread has finished by now
    assert timed_out == [False]
    assert path.read_bytes() == before and _only(tmp_path) == ["o.nc"]
