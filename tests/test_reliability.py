"""Long runs fail loudly, quickly and cleanly: interrupts, killed workers, start methods,
progress bars."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from blockfuncs import die_in_worker_recording, sleepy

from xr_spdc import fanout

TESTS = Path(__file__).parent


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is not running.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


def _wait_for_pids(folder: Path, n: int, timeout: float = 30.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = [int(p.stem) for p in folder.glob("*.pid")]
        if len(pids) >= n:
            return pids
        time.sleep(0.05)
    raise AssertionError(f"only {len(list(folder.glob('*.pid')))} workers started in {timeout} s")


def _env(pid_dir: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get(
        "PYTHONPATH", "")]), "XR_SPDC_TEST_PID_DIR": str(pid_dir)}


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child is POSIX")
@pytest.mark.parametrize("start_method", ["forkserver", "spawn"])
def test_ctrl_c_during_a_pool_run_interrupts_within_2s_and_leaves_no_worker(tmp_path,
                                                                              start_method):
    proc = subprocess.Popen([sys.executable, str(TESTS / "interrupt_script.py"), start_method],
                            env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        pids = _wait_for_pids(tmp_path, 2)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        elapsed = time.monotonic() - sent
    finally:
        proc.kill()
    assert "KeyboardInterrupt" in out, err
    assert proc.returncode == 130
    assert elapsed < 2.0
    time.sleep(0.2)
    assert not [pid for pid in pids if _alive(pid)]


def test_killed_worker_ends_the_call_within_5s_without_orphans(tmp_path):
    arrays = [np.linspace(-1, 1, 400), np.linspace(0.1, 10, 400), np.zeros(400)]
    start = time.monotonic()
    with pytest.raises(fanout.WorkerDiedError, match="worker process died"):
        fanout.run_blocks(die_in_worker_recording, arrays, names=["phi", "xi", "mu"],
                          out_dtypes=[np.complex128], kwargs={"pid_dir": str(tmp_path)},
                          workers=3, block_size=40)
    assert time.monotonic() - start < 5.0
    # This process computes blocks too and records its own pid: only the workers count.
    pids = [int(p.stem) for p in tmp_path.glob("*.pid") if int(p.stem) != os.getpid()]
    assert pids
    time.sleep(0.2)
    assert not [pid for pid in pids if _alive(pid)]


SCRIPT = """
import numpy as np, xarray as xr, xr_spdc

def main():
    ds = xr.Dataset(coords={"phi": np.linspace(-7, 3, 40) * np.pi, "xi": [0.5, 2.84]})
    o = ds.spdc.overlap(method="quad", workers=2, start_method=%r)
    serial = ds.spdc.overlap(method="quad", workers=1)
    print("identical" if o.values.tobytes() == serial.values.tobytes() else "different")

if __name__ == "__main__":
    main()
"""


@pytest.mark.parametrize("start_method", ["spawn", "forkserver", "fork"])
def test_script_with_main_guard_runs_under_each_start_method(tmp_path, start_method):
    script = tmp_path / "run.py"
    script.write_text(SCRIPT % start_method)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.strip() == "identical", done.stderr


@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_script_without_main_guard_is_told_how_to_fix_it(tmp_path, start_method):
    # The classic mistake: the pool started at the top level of a script, which each worker
    # re-imports under spawn and forkserver.
    script = tmp_path / "unguarded.py"
    # quad on 1e5 points takes ~6 s alone: the worker dies starting long before this
    # process could finish by itself (it would then stop the worker, needing no pool).
    script.write_text("import numpy as np, xarray as xr, xr_spdc\n"
                      "ds = xr.Dataset(coords={'phi': np.linspace(-3, 3, 10**5), 'xi': [1.]})\n"
                      f"ds.spdc.overlap(method='quad', workers=2, start_method={start_method!r})\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0
    assert "a worker process was importing the main script" in done.stderr
    assert "WorkerDiedError: a worker process died" in done.stderr
    assert "while starting" in done.stderr.splitlines()[-1]
    assert 'if __name__ == "__main__":' in done.stderr.splitlines()[-1]


@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_python_dash_c_runs_a_pool(start_method):
    code = textwrap.dedent(f"""
        import numpy as np, xarray as xr, xr_spdc
        ds = xr.Dataset(coords={{"phi": [0.0, -np.pi], "xi": [1.0]}})
        o = ds.spdc.overlap(method="quad", workers=2, start_method={start_method!r})
        print(round(float(o.real.sum()), 12))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.strip() == str(round(np.pi / 2 + 1.6314352236527800, 12)), done.stderr


def test_ipython_runs_a_pool():
    pytest.importorskip("IPython")
    code = ("import numpy as np, xarray as xr, xr_spdc\n"
            "ds = xr.Dataset(coords={'phi': [0.0], 'xi': [1.0, 2.0]})\n"
            "print('result', ds.spdc.overlap(method='quad', workers=2).shape)\n")
    done = subprocess.run([sys.executable, "-m", "IPython", "--quick", "--no-banner", "-c",
                           code], capture_output=True, text=True, timeout=120)
    assert "result (1, 2)" in done.stdout, done.stderr


def test_progress_bar_shows_when_asked(capsys):
    ds = xr.Dataset(coords={"phi": np.linspace(-3, 3, 50), "xi": [1.0, 2.0]})
    ds.spdc.overlap(method="quad", workers=1, progress=True)
    err = capsys.readouterr().err
    assert "xr_spdc" in err and "100/100" in err


@pytest.mark.parametrize("progress", [None, False])
def test_progress_bar_is_silent_off_a_terminal_or_when_off(capsys, progress):
    ds = xr.Dataset(coords={"phi": np.linspace(-3, 3, 50), "xi": [1.0, 2.0]})
    ds.spdc.overlap(method="quad", workers=1, progress=progress)
    assert capsys.readouterr().err == ""


def test_progress_bar_moves_block_by_block_on_a_pool(capsys):
    import re

    arrays = [np.zeros(60), np.ones(60), np.zeros(60)]
    fanout.run_blocks(sleepy, arrays, names=["phi", "xi", "mu"], out_dtypes=[np.complex128],
                      kwargs={"seconds": 0.15}, workers=2, block_size=10, progress=True)
    # tqdm prints "10.0/60.0" (unit_scale): read the counts it drew.
    counts = {round(float(n)) for n in re.findall(r"(\d+(?:\.\d+)?)/60",
                                                   capsys.readouterr().err)}
    assert 60 in counts and counts & set(range(1, 60))  # it moved before the end
