"""Block functions for testing the fan-out: importable by worker processes under any start
method (they live in a module, not in a test function)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
import warnings

import numpy as np

from xr_spdc.methods import quad_block


def fail_at(phi, xi, mu, *, bad_xi):
    """Like the seed's quadpack.error: raise an exception that cannot be pickled."""

    class QuadpackLikeError(Exception):  # local class: pickling it fails
        pass

    if np.any(xi == bad_xi):
        raise QuadpackLikeError("Supplied function does not return a valid float.")
    return (phi + 1j * xi,)


def die_in_worker(phi, xi, mu):
    """A pool worker killed by the OS (SIGKILL, as the out-of-memory killer sends) on its
    first block; the calling process, which computes blocks too, is spared.  Its blocks are
    slow, so that the workers (even on a cold start, ~1 s) receive blocks before it could
    take them back and finish alone."""
    if multiprocessing.parent_process() is not None:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.3)
    return (phi + 1j * xi,)


def warn_always(phi, xi, mu):
    """Every block warns once."""
    warnings.warn("a warning from the block", UserWarning, stacklevel=1)
    return (phi + 1j * xi,)


def sleepy(phi, xi, mu, *, seconds):
    """A slow block, for interrupt tests."""
    time.sleep(seconds)
    return (phi + 1j * xi,)


def fail_quad_at(phi, xi, mu, *, epsabs, epsrel, limit, bad_xi=0.5):
    """The quad method, failing (unpicklably) at one xi."""
    fail_at(phi, xi, mu, bad_xi=bad_xi)
    return quad_block(phi, xi, mu, epsabs=epsabs, epsrel=epsrel, limit=limit)


def _record_pid(folder: str | None = None) -> None:
    # A forkserver keeps the environment it started with: tests in a running session pass
    # the folder as an argument, fresh subprocesses may use the environment variable.
    folder = folder or os.environ.get("XR_SPDC_TEST_PID_DIR")
    if folder:
        with open(os.path.join(folder, f"{os.getpid()}.pid"), "w") as f:
            f.write(str(os.getpid()))


def sleepy_recording(phi, xi, mu):
    """Record this process's pid in $XR_SPDC_TEST_PID_DIR, then compute slowly: a worker
    for $XR_SPDC_TEST_SLEEP seconds (30), the calling process for one second a block, so
    that a worker starting slowly (spawn, a loaded machine) still gets blocks."""
    _record_pid()
    in_worker = multiprocessing.parent_process() is not None
    time.sleep(float(os.environ.get("XR_SPDC_TEST_SLEEP", "30")) if in_worker else 1.0)
    return (phi + 1j * xi,)


def die_in_worker_recording(phi, xi, mu, *, pid_dir):
    """Record this process's pid in pid_dir; a pool worker then dies (SIGKILL)."""
    _record_pid(pid_dir)
    time.sleep(0.05)
    return die_in_worker(phi, xi, mu)


def which_process(phi, xi, mu):
    """The pid of the process evaluating each point (slowly, so every process gets some)."""
    time.sleep(0.01)
    return (np.full(phi.shape, os.getpid(), dtype=np.float64),)
