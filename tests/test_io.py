"""netCDF round trips keep complex values bitwise and every attribute; writes are atomic."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import xr_spdc
from xr_spdc.io import open_dataarray, open_dataset, to_netcdf


@pytest.fixture
def displaced(small_grid) -> xr.DataArray:
    """A genuinely complex overlap."""
    return small_grid.spdc.overlap(mu=0.5, workers=1)


@pytest.mark.parametrize("engine", ["h5netcdf", "netcdf4"])
def test_round_trip_is_bitwise_with_every_attr(tmp_path, displaced, engine):
    path = to_netcdf(displaced, tmp_path / "o.nc", engine=engine)
    back = open_dataarray(path, engine=engine).load()
    assert back.dtype == np.complex128
    assert back.values.tobytes() == displaced.values.tobytes()
    assert back.attrs == displaced.attrs
    for name in ("phi", "xi", "mu"):
        assert back[name].attrs == displaced[name].attrs
        np.testing.assert_array_equal(back[name].values, displaced[name].values)


@pytest.mark.parametrize("reader", ["h5netcdf", "netcdf4"])
def test_file_from_one_engine_opens_with_the_other(tmp_path, displaced, reader):
    path = to_netcdf(displaced, tmp_path / "o.nc", engine="h5netcdf")
    back = open_dataset(path, engine=reader).load()
    assert back["overlap"].values.tobytes() == displaced.values.tobytes()


def test_global_attrs_follow_cf(tmp_path, displaced):
    ds = open_dataset(to_netcdf(displaced, tmp_path / "o.nc"))
    assert ds.attrs["Conventions"] == "CF-1.11"
    assert ds.attrs["source"] == f"xr_spdc {xr_spdc.__version__}"
    assert "Bennink" in ds.attrs["references"] and ds.attrs["title"]
    assert f"written by xr_spdc {xr_spdc.__version__}" in ds.attrs["history"]


def test_history_is_appended_not_replaced(tmp_path, displaced):
    ds = displaced.to_dataset().assign_attrs(history="2020-01-01: made by hand")
    back = open_dataset(to_netcdf(ds, tmp_path / "o.nc"))
    lines = back.attrs["history"].splitlines()
    assert lines[0] == "2020-01-01: made by hand" and "xr_spdc" in lines[1]


def test_a_dataset_holding_the_overlap_round_trips(tmp_path, displaced):
    ds = xr.Dataset({"overlap": displaced, "h": displaced.spdc.h()})
    back = open_dataset(to_netcdf(ds, tmp_path / "both.nc")).load()
    xr.testing.assert_identical(back["overlap"], ds["overlap"])
    np.testing.assert_array_equal(back["h"].values, ds["h"].values)


def test_plain_open_dataset_reads_complex_with_h5netcdf(tmp_path, displaced):
    path = to_netcdf(displaced, tmp_path / "o.nc")
    assert xr.open_dataset(path, engine="h5netcdf")["overlap"].dtype == np.complex128


def test_bool_attr_is_stored_as_int_and_the_caller_is_untouched(tmp_path, displaced):
    flagged = displaced.assign_attrs(converged=True)
    back = open_dataarray(to_netcdf(flagged, tmp_path / "o.nc"))
    assert back.attrs["converged"] == 1
    assert flagged.attrs["converged"] is True


@pytest.mark.parametrize("value", [None, {"a": 1}, 1 + 2j, [[1, 2], [3, 4]]])
def test_unwritable_attr_is_named_and_the_old_file_kept(tmp_path, displaced, value):
    path = to_netcdf(displaced, tmp_path / "o.nc")
    before = path.read_bytes()
    with pytest.raises(TypeError, match="attribute 'bad' of variable 'overlap'"):
        to_netcdf(displaced.assign_attrs(bad=value), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["o.nc"]


def test_failure_mid_write_leaves_the_existing_file_untouched(tmp_path, small_grid):
    path = to_netcdf(small_grid.spdc.overlap(workers=1), tmp_path / "o.nc")
    before = path.read_bytes()
    bad = xr.Dataset({"phi": ("point", np.linspace(-5, 5, 40)),
                      "xi": ("point", np.r_[np.ones(30), -np.ones(10)])})
    lazy = bad.chunk(point=10).spdc.overlap()  # the last blocks fail as they are computed
    with pytest.raises(xr_spdc.FanoutError, match="xi positive"):
        to_netcdf(lazy, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["o.nc"]


def test_lazy_overlap_streams_to_file(tmp_path, small_grid):
    lazy = small_grid.spdc.overlap(chunks={"phi": 2})
    back = open_dataarray(to_netcdf(lazy, tmp_path / "lazy.nc")).load()
    assert back.values.tobytes() == small_grid.spdc.overlap(workers=1).values.tobytes()


def test_unknown_engine_is_refused(tmp_path, displaced):
    with pytest.raises(ValueError, match="engine must be one of"):
        to_netcdf(displaced, tmp_path / "o.nc", engine="scipy")


def test_accessor_saves_too(tmp_path, displaced):
    path = displaced.spdc.to_netcdf(tmp_path / "o.nc")
    assert open_dataarray(path).values.tobytes() == displaced.values.tobytes()


def test_new_file_gets_the_usual_permissions_and_an_old_file_keeps_its_own(tmp_path,
                                                                          displaced):
    import os
    import stat

    umask = os.umask(0o022)
    try:
        path = to_netcdf(displaced, tmp_path / "o.nc")
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        path.chmod(0o640)
        to_netcdf(displaced, path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    finally:
        os.umask(umask)
