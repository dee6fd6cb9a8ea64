"""``xr-spdc``: compute the overlap over a (phi, xi) grid and write it to netCDF (and a figure).

Run ``xr-spdc --help`` for the options.  The defaults reproduce Bennink's Fig. 1 (the seed
blog post's 100 x 100 grid).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from . import fanout
from ._version import __version__
from .methods import METHODS

DESCRIPTION = """\
Compute the SPDC spatial-mode overlap O(phi, xi) of Bennink, Phys. Rev. A 81, 053805 (2010),

    O = sqrt(xi) * integral_{-1-mu}^{1-mu} exp(i phi l / 2) / (1 - i xi l) dl,

over a grid of phase mismatch phi (in units of pi) and aggregate focus xi (log-spaced), and
save it as a labelled complex netCDF file. |O|^2/4 is Boyd and Kleinman's focusing function h.
The defaults give the classic figure: phi/pi in [-7, 3), log10 xi in [-1.5, 2.5), 100 x 100.
"""

EPILOG = """\
examples:
  xr-spdc                                   # classic grid -> overlap.nc
  xr-spdc --plot overlap.png                # ... and Bennink's Fig. 1 as a PNG
  xr-spdc --points 1000 1000 --workers 2    # a finer grid on two processes
  xr-spdc --mu 0.5 -o displaced.nc          # focus displaced by half the crystal
read the file back with xr_spdc.open_dataset("overlap.nc").
"""


def grid_axis(start: float, stop: float, n: int) -> np.ndarray:
    """``n`` points from ``start`` to ``stop``, the stop excluded (as the seed's arange)."""
    return start + (stop - start) * np.arange(n) / n


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="xr-spdc", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--phi-over-pi", nargs=2, type=float, default=(-7.0, 3.0),
                   metavar=("START", "STOP"),
                   help="phase mismatch range in units of pi, stop excluded (default: -7 3)")
    p.add_argument("--log10-xi", nargs=2, type=float, default=(-1.5, 2.5),
                   metavar=("START", "STOP"),
                   help="aggregate focus range as log10(xi), stop excluded (default: -1.5 2.5)")
    p.add_argument("--points", nargs=2, type=int, default=(100, 100),
                   metavar=("N_PHI", "N_XI"),
                   help="grid points along phi and xi (default: 100 100)")
    p.add_argument("--mu", type=float, default=None,
                   help="focal displacement mu (default: 0, focus at the crystal's centre)")
    p.add_argument("--method", choices=sorted(METHODS), default="auto",
                   help="auto: fast exact kernel; quad: scipy QUADPACK per point (reference)")
    p.add_argument("--workers", type=int, default=None,
                   help="processes that compute, this one included (default: all CPUs once "
                        "the grid is large enough)")
    p.add_argument("-o", "--output", type=Path, default=Path("overlap.nc"),
                   help="netCDF file to write (default: overlap.nc)")
    p.add_argument("--plot", type=Path, default=None, metavar="PNG",
                   help="also draw |O|^2 over phi/pi and log10 xi with the optimum marked")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``xr-spdc`` console script; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if min(args.points) < 1:
        parser.error(f"--points must be positive, not {' '.join(map(str, args.points))}")
    if args.output.suffix != ".nc":
        parser.error(f"--output must end in .nc, not {str(args.output)!r}")
    if args.plot is not None and args.plot.suffix.lower() != ".png":
        parser.error(f"--plot must end in .png, not {str(args.plot)!r}")

    import xr_spdc

    ds = xr.Dataset(coords={
        "phi": np.pi * grid_axis(*args.phi_over_pi, args.points[0]),
        "xi": 10.0 ** grid_axis(*args.log10_xi, args.points[1])})
    try:
        overlap = xr_spdc.overlap(ds, mu=args.mu, method=args.method, workers=args.workers,
                                  progress=False if args.no_progress else None)
        xr_spdc.to_netcdf(overlap, args.output)
        if args.plot is not None:
            _save_figure(overlap, args.plot)
    except (ValueError, TypeError, OSError, fanout.FanoutError) as exc:
        print(f"xr-spdc: error: {exc}", file=sys.stderr)
        return 2
    return 0


def _save_figure(overlap: xr.DataArray, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # a command-line run writes a file; it never opens a window
    import matplotlib.pyplot as plt

    from .plot import plot_classic

    figure = plot_classic(overlap).figure
    try:
        figure.savefig(path, dpi=120)
    finally:
        plt.close(figure)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
