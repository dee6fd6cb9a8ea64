"""HOM visibilities side by side with spdcalc-py on the same JSA grid (run by hand).

spdcalc-py (a peer, never a dependency) runs in its scratch venv through
/work/scratch/run_spdcalc.py: it computes its JSA on a square window uniform in angular
frequency, exports it to npz, and reports ``hom_visibility`` (the signal-idler visibility at
its predicted dip delay), ``hom_rate_series`` (the coincidence probability against delay)
and ``hom_two_source_visibilities`` (identical sources: ``ss`` and ``ii``).  The exported
JSA is loaded here as a DataArray and fed to :func:`xr_spdc.spectrum.hom_interference`, so
only the HOM step is compared.

    python benchmarks/compare_hom_spdcalc.py [--grid 81] [--divisions 400]
        [--store tests/data/spdcalc_hom_ppktp.npz]

Timings are printed as measured in this run; spdcalc's include its JSA (it recomputes the
JSA inside each HOM call), ours the HOM step alone, so they are not like for like.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import xarray as xr

from xr_spdc.spectrum import hom_interference

PEERS_PYTHON = "/work/scratch/peers-venv/bin/python"
RUNNER = "/work/scratch/run_spdcalc.py"

# (label, waists in um: pump signal idler, pump FWHM in nm): type-II PPKTP 775 -> 1550 nm,
# 10 mm, 25 C, ndispers KTP_xy equations given to spdcalc (run_spdcalc.py's "ppktp" case).
CASES = [("ppktp 30/42/42 um, 1 nm", (30, 42, 42), 1.0),
         ("ppktp 100/100/100 um, 0.3 nm", (100, 100, 100), 0.3)]


def run_spdcalc(waists, bandwidth, grid, divisions, out):
    cmd = [PEERS_PYTHON, RUNNER, "ppktp", "--waists", *map(str, waists), "--grid", str(grid),
           "--divisions", str(divisions), "--bandwidth", str(bandwidth),
           "--what", "jsa,hom,hom2,homseries", "--delays", "0", "4e-12", "41",
           "--jsa-out", str(out)]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout), time.perf_counter() - t0


def as_dataarray(npz):
    rad = {"units": "rad/s"}
    return xr.DataArray(npz["jsa"], dims=("signal", "idler"),
                        coords={"signal": ("signal", npz["omega_s"], rad),
                                "idler": ("idler", npz["omega_i"], rad)}, name="jsa")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--grid", type=int, default=81)
    p.add_argument("--divisions", type=int, default=400)
    p.add_argument("--store", default=None,
                   help="npz to write the first case's JSA and spdcalc's numbers to")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for k, (label, waists, bandwidth) in enumerate(CASES):
            path = Path(tmp) / f"jsa{k}.npz"
            peer, wall = run_spdcalc(waists, bandwidth, a.grid, a.divisions, path)
            npz = dict(np.load(path))
            jsa = as_dataarray(npz)
            t_peer = peer["hom_visibility"]["time"]
            series_t = np.asarray(peer["hom_delays_s"])
            t0 = time.perf_counter()
            ours = hom_interference(jsa, np.r_[t_peer, series_t], dims=("signal", "idler"))
            ours_time = time.perf_counter() - t0
            v_at = 1 - 2 * float(ours.coincidence_probability[0])
            curve = np.abs(ours.coincidence_probability.values[1:]
                           - np.asarray(peer["hom_rate_series"])).max()
            two = peer["hom_two_source_visibilities"]
            print(f"\n{label}: grid {a.grid}^2, Simpson {a.divisions} divisions "
                  f"({peer['spdcalc_version']})")
            v_peer = peer["hom_visibility"]["visibility"]
            print(f"  signal-idler  spdcalc hom_visibility {v_peer:.10f}"
                  f" at its predicted delay {t_peer * 1e12:.6f} ps")
            print(f"                ours at that delay     {v_at:.10f}  (diff "
                  f"{v_at - peer['hom_visibility']['visibility']:.2e})")
            print(f"                ours at the dip        {float(ours.visibility):.10f}"
                  f" at {float(ours.dip_delay) * 1e12:.6f} ps")
            print(f"                P_c(tau) vs hom_rate_series: max |diff| {curve:.2e} "
                  f"over {series_t.size} delays")
            for photon, key in (("signal", "ss"), ("idler", "ii")):
                v = float(ours.two_source_visibility.sel(photon=photon))
                print(f"  two-source {key}: spdcalc {two[key]['visibility']:.10f}  ours "
                      f"{v:.10f}  (diff {v - two[key]['visibility']:.2e})")
            print(f"  time: spdcalc subprocess {wall:.1f} s in all (hom_visibility "
                  f"{peer['timings_s']['hom_visibility']:.2f} s, two-source "
                  f"{peer['timings_s']['hom_two_source_visibilities']:.2f} s, each with its "
                  f"JSA); ours, HOM step on the exported JSA: {ours_time:.3f} s")
            if a.store and k == 0:
                np.savez(a.store, jsa=npz["jsa"], omega_s=npz["omega_s"],
                         omega_i=npz["omega_i"], delay=np.r_[t_peer, series_t],
                         hom_visibility=peer["hom_visibility"]["visibility"],
                         hom_rate=np.r_[np.nan, peer["hom_rate_series"]],
                         ss=two["ss"]["visibility"], ii=two["ii"]["visibility"],
                         about=f"spdcalc-py {peer['spdcalc_version']}: {label}, grid "
                               f"{a.grid}, Simpson {a.divisions}; made by "
                               f"benchmarks/compare_hom_spdcalc.py --store")
                print(f"  stored in {a.store}")


if __name__ == "__main__":
    main()
