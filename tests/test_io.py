"""netCDF round trips keep complex values bitwise and every attribute; writes are atomic."""

from __future__ import annotations

import os
import stat

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


def test_other_readers_see_a_compound_of_r_and_i(tmp_path, displaced):
    path = to_netcdf(displaced, tmp_path / "o.nc")
    with netCDF4.Dataset(path) as nc:  # netCDF-C, no complex support asked for
        raw = nc["overlap"][:]
        assert nc.data_model == "NETCDF4"
        assert nc["overlap"].datatype.name == "_PFNC_DOUBLE_COMPLEX_TYPE"
    np.testing.assert_array_equal(raw["r"], displaced.values.real)
    np.testing.assert_array_equal(raw["i"], displaced.values.imag)
    with h5py.File(path) as f:  # plain HDF5
        np.testing.assert_array_equal(f["overlap"][()], displaced.values)


def test_plain_xarray_open_gives_a_structured_dtype_as_documented(tmp_path, displaced):
    path = to_netcdf(displaced, tmp_path / "o.nc")
    with xr.open_dataset(path) as ds:
        assert ds["overlap"].dtype.names == ("r", "i")


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
                                   {1, 2}])
def test_unwritable_attr_is_named_and_the_old_file_kept(tmp_path, displaced, value):
    path = to_netcdf(displaced, tmp_path / "o.nc")
    before = path.read_bytes()
    with pytest.raises(TypeError, match="attribute 'bad' of variable 'overlap'"):
        to_netcdf(displaced.assign_attrs(bad=value), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["o.nc"]


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
