"""Block functions for testing the engine (module-level, though cloudpickle would also send
local ones)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
import warnings

import numpy as np

from xr_spdc.engine.methods import overlap_quad_block as quad_block


def in_worker() -> bool:
    return multiprocessing.parent_process() is not None


def fail_at(phi, xi, mu, *, bad_xi):
    """Like the seed's quadpack.error: raise an exception that cannot be pickled."""

    class QuadpackLikeError(Exception):  # local class: pickling it fails
        pass

    if np.any(xi == bad_xi):
        raise QuadpackLikeError("Supplied function does not return a valid float.")
    return (phi + 1j * xi,)


def die_in_worker(phi, xi, mu):
    """A pool worker killed by the OS (SIGKILL, as the out-of-memory killer sends); never
    this process."""
    if in_worker():
        os.kill(os.getpid(), signal.SIGKILL)
    return (phi + 1j * xi,)


def exit_in_worker(phi, xi, mu, *, how):
    """User code that ends its process: os._exit (no clean-up) or sys.exit."""
    if in_worker():
        if how == "os._exit":
            os._exit(3)
        sys.exit(3)
    return (phi + 1j * xi,)


def warn_always(phi, xi, mu):
    """Every block warns once."""
    warnings.warn("a warning from the block", UserWarning, stacklevel=1)
    return (phi + 1j * xi,)


def sleepy(phi, xi, mu, *, seconds):
    """A slow block, for interrupt, timeout and progress tests."""
    time.sleep(seconds)
    return (phi + 1j * xi,)


def fail_quad_at(phi, xi, mu, *, epsabs, epsrel, limit, bad_xi=0.5):
    """The quad method, failing (unpicklably) at one xi."""
    fail_at(phi, xi, mu, bad_xi=bad_xi)
    return quad_block(phi, xi, mu, epsabs=epsabs, epsrel=epsrel, limit=limit)


def record_pid(folder: str | None) -> None:
    """Leave this process's pid in ``folder`` (or $XR_SPDC_TEST_PID_DIR)."""
    folder = folder or os.environ.get("XR_SPDC_TEST_PID_DIR")
    if folder:
        with open(os.path.join(folder, f"{os.getpid()}.pid"), "w") as f:
            f.write(str(os.getpid()))


def sleepy_recording(phi, xi, mu, *, pid_dir=None, seconds=30.0):
    """Record this process's pid, then compute slowly."""
    record_pid(pid_dir)
    time.sleep(seconds)
    return (phi + 1j * xi,)


def which_process(phi, xi, mu):
    """The pid of the process evaluating each point (slowly, so every worker gets some)."""
    time.sleep(0.01)
    return (np.full(phi.shape, os.getpid(), dtype=np.float64),)
