"""Long runs fail loudly, quickly and cleanly: interrupts, killed callers and workers,
scripts without a main guard, heredocs, ``python -c``, IPython, progress bars."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

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


def _wait_until_gone(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(map(_alive, pids)):
        time.sleep(0.1)
    return [pid for pid in pids if _alive(pid)]


def _start_interrupt_script(pid_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get(
        "PYTHONPATH", "")]), "XR_SPDC_TEST_PID_DIR": str(pid_dir)}
    return subprocess.Popen([sys.executable, str(TESTS / "interrupt_script.py")], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _shm_entries() -> set[str]:
    return set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child is POSIX")
def test_ctrl_c_during_a_pool_run_interrupts_within_2s_and_leaves_no_worker(tmp_path):
    proc = _start_interrupt_script(tmp_path)
    try:
        pids = _wait_for_pids(tmp_path, 2)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        elapsed = time.monotonic() - sent
    finally:
        proc.kill()
        proc.communicate()  # closes the pipes
    assert "KeyboardInterrupt" in out, err
    assert proc.returncode == 130
    assert elapsed < 2.0
    assert _wait_until_gone(pids, 0.5) == []


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and /dev/shm")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_caller_killed_abruptly_leaves_no_worker_and_no_shared_memory(tmp_path, sig):
    before = _shm_entries()
    proc = _start_interrupt_script(tmp_path)
    try:
        pids = _wait_for_pids(tmp_path, 2)
        proc.send_signal(sig)
        proc.wait(timeout=10)
    finally:
        proc.kill()
        proc.communicate()  # closes the pipes
    assert _wait_until_gone(pids, 10.0) == []
    # Only the killed caller's own entries: other processes on a shared machine come and go.
    assert not {e for e in _shm_entries() - before
                if f"loky-{proc.pid}-" in e or e.startswith(("psm_", f"xr_spdc-{proc.pid}-"))}


def _run_python(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], input=stdin, capture_output=True,
                          text=True, timeout=120)


HEREDOC = """
import cmath
import numpy as np, xarray as xr, xr_spdc
ds = xr.Dataset(coords={"phi": np.linspace(-7, 3, 30) * np.pi, "xi": [0.5, 2.84]})
def mine(l, phi, xi):
    return cmath.exp(0.5j * phi * l) / (1 - 1j * xi * l) ** 2
a = ds.spdc.integrate(mine, workers=2)
b = ds.spdc.integrate(lambda l, phi, xi: mine(l, phi, xi), workers=2)
c = ds.spdc.integrate(mine, workers=1)
print("identical" if a.values.tobytes() == b.values.tobytes() == c.values.tobytes()
      else "different")
"""


@pytest.mark.slow
def test_a_heredoc_script_without_main_guard_runs_lambdas_and_functions_on_a_pool():
    # The worker never imports the main script (here "<stdin>"): no guard is needed.
    done = _run_python("-", stdin=HEREDOC)
    assert done.stdout.strip() == "identical", done.stderr


@pytest.mark.slow
def test_python_dash_c_runs_its_own_function_on_a_pool():
    done = _run_python("-c", HEREDOC)
    assert done.stdout.strip() == "identical", done.stderr


@pytest.mark.slow
def test_ipython_runs_a_pool():
    pytest.importorskip("IPython")
    code = ("import numpy as np, xarray as xr, xr_spdc\n"
            "ds = xr.Dataset(coords={'a': [1.0, 2.0]})\n"
            "def f(l, a):\n    return a * l * l\n"
            "print('result', ds.spdc.integrate(f, workers=2).values.real.round(6))\n")
    done = _run_python("-m", "IPython", "--quick", "--no-banner", "-c", code)
    assert "result [0.666667 1.333333]" in done.stdout, done.stderr


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


def test_an_integrand_defined_in_a_test_runs_on_the_pool():
    ds = xr.Dataset(coords={"a": [1.0, 2.0, 3.0]})
    power = 2
    out = ds.spdc.integrate(lambda l, a: a * l ** power, workers=2)
    np.testing.assert_allclose(out.values.real, 2 / 3 * ds.a.values, rtol=1e-12)
