"""Run by test_reliability in a subprocess: a slow pool run to be interrupted with SIGINT."""

import sys

import numpy as np
import xarray as xr
from blockfuncs import sleepy_recording

from xr_spdc import methods

if __name__ == "__main__":
    methods.METHODS["sleepy"] = methods.Method(
        sleepy_recording, (("overlap", np.complex128),), block_size=5, seconds_per_point=1.0)
    ds = xr.Dataset(coords={"phi": np.linspace(0, 1, 20), "xi": [1.0, 2.0]})
    try:
        ds.spdc.overlap(method="sleepy", workers=2, start_method=sys.argv[1])
    except KeyboardInterrupt:
        print("KeyboardInterrupt", flush=True)
        sys.exit(130)
    print("finished without interruption", flush=True)
