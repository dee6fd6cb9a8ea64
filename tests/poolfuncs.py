"""Block functions for tests/test_pool.py (module-level: sent by reference)."""

from __future__ import annotations

import os
import signal
import time
import warnings

import numpy as np

from xr_spdc.engine import fanout


class CountsItsArrivals:
    """Unpickling one appends this process's pid to ``path``: how often it was sent."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __getstate__(self) -> dict:
        return {"path": self.path}

    def __setstate__(self, state: dict) -> None:
        self.path = state["path"]
        with open(self.path, "a") as f:
            f.write(f"{os.getpid()}\n")


def uses(phi, xi, mu, *, thing):
    """Uses its option (sent with the call)."""
    return (phi + 1j * xi,)


def table_kind(phi, xi, mu, *, table):
    """1.0 where the table arrived read-only (memory-mapped), with a value read from it."""
    return (np.full(len(phi), float(not table.flags.writeable) + table[int(xi[0]) % 7] * 0),)


def nested_policy(phi, xi, mu):
    """What the policy decides inside a pool worker: None and an explicit 2."""
    auto = fanout.resolve_workers(None, 10**9, 1.0)
    explicit = fanout.resolve_workers(2, 10**9, 1.0)
    return (np.full(len(phi), 10.0 * auto + explicit),)


def fail_where(phi, xi, mu, *, bad, slow_before=None, until=None):
    """Fails at every phi in ``bad``; blocks starting below ``slow_before`` first wait until
    the file ``until`` exists (for at most a minute)."""
    if slow_before is not None and phi[0] < slow_before:
        deadline = time.monotonic() + 60.0
        while not os.path.exists(until) and time.monotonic() < deadline:
            time.sleep(0.01)
    if np.isin(phi, bad).any():
        raise ValueError(f"bad phi in {sorted(set(np.asarray(phi)[np.isin(phi, bad)]))}")
    return (phi + 1j * xi,)


def stop_once(phi, xi, mu, *, folder):
    """The worker running the block from phi == 0 stops itself (SIGSTOP), once."""
    mark = os.path.join(folder, "stopped")
    if phi[0] == 0.0 and not os.path.exists(mark):
        with open(mark, "w") as f:
            f.write(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGSTOP)
    return (phi + 1j * xi,)


def returns_a_generator(phi, xi, mu):
    return ((x for x in phi),)


def warn_then(phi, xi, mu):
    warnings.warn("from the block", UserWarning, stacklevel=1)
    return (phi + 1j * xi,)
