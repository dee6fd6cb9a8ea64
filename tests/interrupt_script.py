"""Run by test_reliability in a subprocess: a slow pool run, to be interrupted (SIGINT) or
killed (SIGKILL, SIGTERM) by the test."""

import signal
import sys

import numpy as np
from blockfuncs import sleepy_recording

from xr_spdc.engine import fanout

if __name__ == "__main__":
    # pytest started in the background inherits SIGINT ignored: be a normal program here.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    arrays = [np.linspace(0, 1, 40), np.ones(40), np.zeros(40)]
    try:
        fanout.run_blocks(sleepy_recording, arrays, names=["phi", "xi", "mu"],
                          out_dtypes=[np.complex128], workers=2, block_size=5)
    except KeyboardInterrupt:
        print("KeyboardInterrupt", flush=True)
        sys.exit(130)
    print("finished without interruption", flush=True)
