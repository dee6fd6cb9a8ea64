"""to_zarr's writer lock: one call at a time per store; a dead call's lock is taken over."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import xr_spdc

zarr = pytest.importorskip("zarr")
dask = pytest.importorskip("dask")

from xr_spdc import zarr_io  # noqa: E402  (needs zarr)

HERE = Path(__file__).parent

#: A to_zarr run of 8 chunks of 0.3 s each (one at a time), for a test to kill.
SLOW_WRITER = f"""
import sys, dask
sys.path.insert(0, {str(Path(__file__).parent)!r})
from test_zarr_lock import slow_sweep
import xr_spdc
with dask.config.set(scheduler="synchronous"):
    xr_spdc.to_zarr(slow_sweep(), sys.argv[1], progress=False)
"""


def _slowly(block):
    time.sleep(0.3)
    return block


def slow_sweep() -> xr.DataArray:
    import dask.array as da

    data = da.ones((8, 3), chunks=(1, 3)).map_blocks(_slowly, dtype=float)
    return xr.DataArray(data, dims=("a", "b"), name="x")


@pytest.fixture
def lazy() -> xr.DataArray:
    ds = xr.Dataset(coords={"phi": np.linspace(-7, 3, 40) * np.pi,
                            "xi": np.logspace(-1.5, 2.5, 20)})
    return ds.spdc.overlap(chunks={"phi": 10})


def write_lock(store: Path, **record) -> Path:
    lock = Path(f"{store}.lock")
    lock.write_text(json.dumps({"host": socket.gethostname(), "started": time.time(),
                                "token": "other", **record}))
    return lock


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_lock_is_held_while_writing_and_removed_after(lazy, tmp_path, monkeypatch):
    store = tmp_path / "s.zarr"
    seen = []
    original = zarr_io._run

    def run(*args, **kwargs):
        seen.append(json.loads(Path(f"{store}.lock").read_text()))
        return original(*args, **kwargs)

    monkeypatch.setattr(zarr_io, "_run", run)
    report = xr_spdc.to_zarr(lazy, store, progress=False)
    assert report.written == 4
    assert seen[0]["pid"] == os.getpid() and seen[0]["host"] == socket.gethostname()
    assert not Path(f"{store}.lock").exists()
    # an error inside the call removes it too
    with pytest.raises(ValueError, match="different computation"):
        xr_spdc.to_zarr(lazy, store, key="another", progress=False)
    assert not Path(f"{store}.lock").exists()


def test_a_second_writer_is_refused_naming_the_first(lazy, tmp_path):
    store = tmp_path / "s.zarr"
    lock = write_lock(store, pid=os.getppid())  # alive, on this host
    with pytest.raises(zarr_io.StoreInUseError) as raised:
        xr_spdc.to_zarr(lazy, store, progress=False)
    message = str(raised.value)
    assert f"process {os.getppid()} on host {socket.gethostname()!r}" in message
    assert str(store) in message and "another to_zarr call" in message
    assert not store.exists() and lock.exists()  # nothing written, its lock left alone
    # from another host, recently alive: refused too
    write_lock(store, pid=1, host="node-elsewhere", heartbeat=time.time())
    with pytest.raises(zarr_io.StoreInUseError, match="node-elsewhere"):
        xr_spdc.to_zarr(lazy, store, progress=False)


def test_a_dead_writers_lock_is_taken_over(lazy, tmp_path):
    store = tmp_path / "s.zarr"
    write_lock(store, pid=dead_pid())  # its process is gone: taken over silently
    assert xr_spdc.to_zarr(lazy, store, progress=False).written == 4
    assert not Path(f"{store}.lock").exists()
    # from another host: only once it is older than LOCK_STALE, with a warning
    write_lock(store, pid=1, host="node-elsewhere", started=0.0,
               heartbeat=time.time() - zarr_io.LOCK_STALE - 1)
    with pytest.warns(RuntimeWarning, match="taking over the lock"):
        assert xr_spdc.to_zarr(lazy, store, progress=False).skipped == 4
    # a lock cut off as it was created (not JSON), and old
    lock = Path(f"{store}.lock")
    lock.write_text("{")
    os.utime(lock, (0, 0))
    with pytest.warns(RuntimeWarning, match="taking over the lock"):
        xr_spdc.to_zarr(lazy, store, progress=False)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_running_writer_locks_out_a_second_one_until_it_is_killed(tmp_path):
    """A real second call during a real run is refused; after SIGKILL of the first, the
    same call resumes it."""
    path = tmp_path / "killed.zarr"
    with subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(path)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True) as child:
        try:
            deadline = time.monotonic() + 120
            while not (path / zarr_io.PROGRESS / "zarr.json").exists():
                assert time.monotonic() < deadline and child.poll() is None, \
                    child.communicate()
                time.sleep(0.05)
            with pytest.raises(zarr_io.StoreInUseError, match=f"process {child.pid} "):
                xr_spdc.to_zarr(slow_sweep(), path, progress=False)
            child.send_signal(signal.SIGKILL)
            child.wait(30)
        finally:
            if child.poll() is None:
                child.kill()
    assert Path(f"{path}.lock").exists()
    resumed = xr_spdc.to_zarr(slow_sweep(), path, progress=False)
    assert resumed.skipped + resumed.written == 8 and resumed.written >= 1
    np.testing.assert_array_equal(xr_spdc.open_zarr(path)["x"].values, np.ones((8, 3)))
    assert not Path(f"{path}.lock").exists()


def test_a_memory_store_is_locked_too(lazy):
    store = "memory://locked-store.zarr"
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.pipe_file("/locked-store.zarr.lock", json.dumps(
        {"pid": os.getppid(), "host": socket.gethostname(), "started": time.time(),
         "token": "other"}).encode())
    try:
        with pytest.raises(zarr_io.StoreInUseError):
            xr_spdc.to_zarr(lazy, store, progress=False)
        fs.rm_file("/locked-store.zarr.lock")
        assert xr_spdc.to_zarr(lazy, store, progress=False).written == 4
        assert not fs.exists("/locked-store.zarr.lock")
    finally:
        if fs.exists("/locked-store.zarr"):
            fs.rm("/locked-store.zarr", recursive=True)
