"""xr_spdc.to_zarr: values bitwise, attributes, resume after a crash, refusals."""

from __future__ import annotations

import json
import os
import signal
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
from xr_spdc.engine.identity import code_hash  # noqa: E402

HERE = Path(__file__).parent


@pytest.fixture
def grid() -> xr.Dataset:
    return xr.Dataset(coords={"phi": np.linspace(-7, 3, 60) * np.pi,
                              "xi": np.logspace(-1.5, 2.5, 25)})


def tree_bytes(path: Path) -> dict[str, bytes]:
    """Every file of a store, by its path inside the store."""
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file()}


def done_marks(path: Path, name: str = "overlap") -> np.ndarray:
    return zarr.open_group(str(path), mode="r")[zarr_io.PROGRESS][name][...]


def test_values_bitwise_and_attrs_through_both_openers(grid, tmp_path):
    lazy = grid.spdc.overlap(chunks={"phi": 16}, mu=0.25)
    report = xr_spdc.to_zarr(lazy, tmp_path / "o.zarr", progress=False)
    assert report == xr_spdc.ZarrWrite(str(tmp_path / "o.zarr"), chunks=4, written=4,
                                       skipped=0)
    eager = grid.spdc.overlap(workers=1, mu=0.25)
    for back in (xr.open_zarr(tmp_path / "o.zarr", consolidated=False)["overlap"],
                 xr_spdc.open_zarr(tmp_path / "o.zarr")["overlap"]):
        assert back.dtype == np.complex128
        assert back.values.tobytes() == eager.values.tobytes()
        assert back.attrs == eager.attrs
        for name in ("phi", "xi"):
            assert back[name].values.tobytes() == eager[name].values.tobytes()
            assert back[name].attrs == eager[name].attrs
        assert float(back.mu) == 0.25
    # zarr v3 only, no consolidated metadata (zarr warns about it), one zarr chunk a dask one
    group = zarr.open_group(str(tmp_path / "o.zarr"), mode="r")
    assert group.metadata.zarr_format == 3 and group.metadata.consolidated_metadata is None
    assert group["overlap"].chunks == (16, 25)


def test_the_accessor_forwards_and_an_eager_result_is_written_whole(grid, tmp_path):
    eager = grid.spdc.overlap(workers=1)
    report = eager.spdc.to_zarr(tmp_path / "e.zarr", progress=False)
    assert (report.chunks, report.written) == (0, 0)
    back = xr_spdc.open_zarr(tmp_path / "e.zarr")["overlap"]
    assert back.values.tobytes() == eager.values.tobytes()


def test_a_finished_store_is_not_computed_again(grid, tmp_path):
    lazy = grid.spdc.overlap(chunks={"phi": 20})
    xr_spdc.to_zarr(lazy, tmp_path / "o.zarr", progress=False)
    again = xr_spdc.to_zarr(lazy, tmp_path / "o.zarr", progress=False)
    assert (again.written, again.skipped) == (0, 3)


def test_resume_computes_only_unmarked_chunks_and_rewrites_partial_ones(grid, tmp_path):
    lazy = grid.spdc.overlap(chunks={"phi": 10, "xi": 10})
    whole = tmp_path / "whole.zarr"
    xr_spdc.to_zarr(lazy, whole, progress=False)
    cut = tmp_path / "cut.zarr"
    xr_spdc.to_zarr(lazy, cut, progress=False)
    # A crash: chunk (1, 2) half written and unmarked, chunk (4, 0) never written.
    progress = zarr.open_group(str(cut), mode="r+")[zarr_io.PROGRESS]
    progress.attrs["complete"] = False  # set only once every chunk is in
    marks = progress["overlap"]
    marks[1, 2] = 0
    marks[4, 0] = 0
    partial = cut / "overlap" / "c" / "1" / "2"
    partial.write_bytes(partial.read_bytes()[:100])
    (cut / "overlap" / "c" / "4" / "0").unlink()
    with pytest.raises(ValueError, match=r"incomplete: 2 chunk\(s\) were never written"):
        xr_spdc.open_zarr(cut)
    resumed = xr_spdc.to_zarr(lazy, cut, progress=False)
    assert (resumed.chunks, resumed.written, resumed.skipped) == (18, 2, 16)
    assert tree_bytes(cut) == tree_bytes(whole)  # the finished store, byte for byte


def test_a_resume_with_another_computation_is_refused_saying_what_differs(grid, tmp_path):
    path = tmp_path / "o.zarr"
    xr_spdc.to_zarr(grid.spdc.overlap(chunks={"phi": 20}), path, progress=False)
    cases = {
        "method": (grid.spdc.overlap(chunks={"phi": 20}, method="quad"),
                   r"attribute 'method' is 'auto' in the store, 'quad' in this call"),
        "coords": (grid.assign_coords(xi=grid.xi * 2).spdc.overlap(chunks={"phi": 20}),
                   r"coordinate 'xi': values differ \(25 values 0.0316.* in the store, "
                   r"25 values 0.0632"),
        "chunks": (grid.spdc.overlap(chunks={"phi": 30}),
                   r"variable 'overlap': chunks \[\[20, 20, 20\], \[25\]\] in the store, "
                   r"\[\[30, 30\], \[25\]\] in this call"),
        "mu": (grid.spdc.overlap(chunks={"phi": 20}, mu=0.5),
               r"coordinate 'mu': values differ \(0.0 in the store, 0.5 in this call\)"),
    }
    for _, (other, message) in cases.items():
        with pytest.raises(ValueError, match=message) as info:
            xr_spdc.to_zarr(other, path, progress=False)
        assert "overwrite=True" in str(info.value)
    # overwrite=True replaces it
    report = xr_spdc.to_zarr(cases["method"][0], path, overwrite=True, progress=False)
    assert report.written == 3
    assert xr_spdc.open_zarr(path)["overlap"].attrs["method"] == "quad"


def k_times_l(l, k):
    return np.cos(k * l)


def k_times_l_changed(l, k):
    return np.cos(k * l) + 0.0 * l


def test_an_integrand_is_identified_by_its_code_or_by_key(tmp_path):
    ds = xr.Dataset(coords={"k": np.linspace(0.5, 3, 12)})
    path = tmp_path / "i.zarr"
    xr_spdc.to_zarr(ds.spdc.integrate(k_times_l, chunks={"k": 4}), path, progress=False)
    other = ds.spdc.integrate(k_times_l_changed, chunks={"k": 4})
    assert other.attrs["integrand_sha256"] != code_hash(k_times_l)
    with pytest.raises(ValueError, match="attribute 'integrand'.*k_times_l_changed") as info:
        xr_spdc.to_zarr(other, path, progress=False)
    assert "attribute 'integrand_sha256'" in str(info.value)
    assert "the integrand's code or constants changed" in str(info.value)
    # With a key, the key decides, not the code: the same key resumes, another is refused.
    keyed = tmp_path / "k.zarr"
    first = ds.spdc.integrate(k_times_l, chunks={"k": 4}, name="integral")
    xr_spdc.to_zarr(first, keyed, key="cos v1", progress=False)
    renamed = ds.spdc.integrate(k_times_l, chunks={"k": 4})
    assert xr_spdc.to_zarr(renamed, keyed, key="cos v1", progress=False).skipped == 3
    with pytest.raises(ValueError, match=r"key: 'cos v1' in the store, 'cos v2' in this call"):
        xr_spdc.to_zarr(renamed, keyed, key="cos v2", progress=False)


def test_code_hash_follows_code_constants_closures_and_is_stable_across_processes():
    from integrands import gaussian, overlap_integrand

    def scaled(factor):
        return lambda l, k: factor * np.cos(k * l)

    assert code_hash(scaled(2.0)) == code_hash(scaled(2.0))
    assert code_hash(scaled(2.0)) != code_hash(scaled(3.0))  # a closure's value
    assert code_hash(lambda l, k=1.0: k * l) != code_hash(lambda l, k=2.0: k * l)  # default
    assert code_hash(gaussian) != code_hash(overlap_integrand)
    script = ("import sys; sys.path.insert(0, sys.argv[1]); from integrands import gaussian; "
              "from xr_spdc.engine.identity import code_hash; print(code_hash(gaussian))")
    other = subprocess.run([sys.executable, "-c", script, str(HERE)], capture_output=True,
                           text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "7"})
    assert other.stdout.strip() == code_hash(gaussian)


def test_memory_store_works_in_one_process_and_is_refused_with_processes(grid):
    lazy = grid.spdc.overlap(chunks={"phi": 20})
    url = f"memory://xr-spdc-test-{os.getpid()}.zarr"
    assert xr_spdc.to_zarr(lazy, url, progress=False).written == 3
    back = xr_spdc.open_zarr(url)["overlap"]
    assert back.values.tobytes() == grid.spdc.overlap(workers=1).values.tobytes()
    with dask.config.set(scheduler="processes"), pytest.raises(
            ValueError, match=r"memory:// lives inside one process, but dask's 'processes' "
                              r"scheduler runs the chunks in other processes"):
        xr_spdc.to_zarr(lazy, url + "2", progress=False)


def test_a_store_not_written_by_to_zarr_is_not_resumed(grid, tmp_path):
    path = tmp_path / "plain.zarr"
    grid.spdc.overlap(workers=1).to_dataset().to_zarr(path, consolidated=False,
                                                       zarr_format=3)
    with pytest.raises(FileExistsError, match="holds no record of a to_zarr computation"):
        xr_spdc.to_zarr(grid.spdc.overlap(chunks={"phi": 20}), path, progress=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError, match="is a file, not a zarr store"):
        xr_spdc.to_zarr(grid.spdc.overlap(chunks={"phi": 20}), tmp_path / "file",
                        progress=False)


def test_bad_arguments_are_named(grid, tmp_path):
    with pytest.raises(TypeError, match="obj must be an xarray DataArray or Dataset"):
        xr_spdc.to_zarr(np.ones(3), tmp_path / "x.zarr")
    with pytest.raises(TypeError, match="key must be a str"):
        xr_spdc.to_zarr(grid.spdc.overlap(workers=1), tmp_path / "x.zarr", key=3)
    with pytest.raises(TypeError, match="store must be a path or an fsspec URL"):
        xr_spdc.to_zarr(grid.spdc.overlap(workers=1), 3)
    with pytest.raises(FileNotFoundError, match="no zarr store"):
        xr_spdc.open_zarr(tmp_path / "absent.zarr")


def test_a_failing_point_is_named_in_the_whole_sweep_and_its_chunk_left_unmarked(tmp_path):
    from integrands import fails_at_three

    ds = xr.Dataset(coords={"a": np.arange(1.0, 13.0)})
    lazy = ds.spdc.integrate(fails_at_three, chunks={"a": 2})
    path = tmp_path / "f.zarr"
    with dask.config.set(scheduler="synchronous"), pytest.raises(
            xr_spdc.FanoutError, match=r"a=3\.0") as info:
        xr_spdc.to_zarr(lazy, path, progress=False)
    assert info.value.position == {"a": 3.0}
    assert done_marks(path, "integral")[1] == 0  # its chunk is not marked: a rerun redoes it
    with pytest.raises(ValueError, match="incomplete"):
        xr_spdc.open_zarr(path)


def test_chunks_auto_sizes_chunks_by_points_of_the_result():
    ds = xr.Dataset(coords={"phi": np.linspace(-20, 8, 3000), "xi": np.linspace(.1, 9, 2000)})
    o = ds.spdc.overlap(chunks="auto")
    # 6·10⁶ points (~6 s of estimated work): ≥ 32 chunks of whole rows
    assert o.chunks == ((91,) * 32 + (88,), (2000,))
    assert max(np.prod([c[0] for c in o.chunks]), 0) <= 1 << 20


@pytest.mark.slow
def test_a_killed_run_resumes_with_only_the_missing_chunks(tmp_path):
    """SIGKILL of the process running to_zarr mid-way; the rerun finishes it bitwise."""
    path = tmp_path / "killed.zarr"
    # (as a context manager: its pipes are closed, not left to the garbage collector, whose
    # ResourceWarning would fail whichever test runs then)
    with subprocess.Popen([sys.executable, str(HERE / "zarr_script.py"), str(path)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
        try:
            deadline = time.monotonic() + 120
            marked = 0
            while time.monotonic() < deadline:
                if (path / zarr_io.PROGRESS / "zarr.json").exists():
                    marked = int(done_marks(path).sum())
                    if marked >= 10:
                        break
                if child.poll() is not None:
                    pytest.fail(f"the child ended before it was killed: {child.communicate()}")
                time.sleep(0.05)
            child.send_signal(signal.SIGKILL)
            child.wait(30)
        finally:
            if child.poll() is None:
                child.kill()
    sys.path.insert(0, str(HERE))
    from zarr_script import sweep

    at_resume = int(done_marks(path).sum())
    assert 10 <= at_resume < 24, at_resume
    resumed = xr_spdc.to_zarr(sweep(), path, progress=False)
    assert (resumed.chunks, resumed.skipped, resumed.written) == (24, at_resume,
                                                                  24 - at_resume)
    whole = tmp_path / "whole.zarr"
    xr_spdc.to_zarr(sweep(), whole, progress=False)
    assert tree_bytes(path) == tree_bytes(whole)
    eager = sweep().compute()
    assert xr_spdc.open_zarr(path)["overlap"].values.tobytes() == eager.values.tobytes()
    json.loads(zarr.open_group(str(path), mode="r")[zarr_io.PROGRESS].attrs["fingerprint"])


def test_a_progress_bar_counts_chunks_on_dask_threads(grid, tmp_path, capsys):
    xr_spdc.to_zarr(grid.spdc.overlap(chunks={"phi": 15}), tmp_path / "p.zarr", progress=True)
    bar = capsys.readouterr().err
    assert "4/4" in bar and "chunk" in bar and str(tmp_path / "p.zarr") in bar
