"""``xr-spdc``: compute the overlap over a (phi, xi) grid and write it to netCDF (and a figure).

Run ``xr-spdc --help`` for the options.  The defaults reproduce Bennink's Fig. 1 (the seed
blog post's 100 x 100 grid).  Only the standard library is imported until the arguments are
checked, so ``--help`` and argument errors answer at once.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from ._version import __version__

if TYPE_CHECKING:
    import numpy as np
    import xarray as xr

#: The choices of ``--method`` (``xr_spdc.engine.methods.METHODS``, which imports scipy: a test
#: keeps the two equal).
METHOD_CHOICES = ("auto", "quad")

#: Exit status after Ctrl-C, as shells report a process ended by SIGINT (128 + 2).
EXIT_INTERRUPTED = 130

DESCRIPTION = """\
Compute the SPDC spatial-mode overlap O(phi, xi, mu) of Bennink, Phys. Rev. A 81, 053805
(2010), Eq. 27,

    O = sqrt(xi) * integral_{-1-mu}^{1-mu} exp(i phi l / 2) / (1 - i xi l) dl,   l = 2z/L,

over a grid of phase mismatch phi (in units of pi) and aggregate focus xi (log-spaced), and
save it as a labelled complex netCDF file. |O|^2/4 is Boyd and Kleinman's focusing function h.
The defaults give the classic figure: phi/pi in [-7, 3), log10 xi in [-1.5, 2.5), 100 x 100.

mu is the focal displacement in units of the crystal's half-length L/2: z runs along the
beams with the focus at z = 0, and the crystal spans z = -(1+mu)L/2 ... (1-mu)L/2, so the
focus lies mu*L/2 beyond the crystal's centre (towards the exit face for mu > 0, on the
exit face at mu = 1, outside the crystal for |mu| > 1). |O| is even in mu.
"""

EPILOG = """\
examples:
  xr-spdc                                   # classic grid -> overlap.nc
  xr-spdc --plot overlap.png                # ... and Bennink's Fig. 1 as a PNG
  xr-spdc --points 1000 1000 --workers 2    # a finer grid on two processes
  xr-spdc --mu 0.5 -o displaced.nc          # focus L/4 beyond the crystal's centre
read the file back with xr_spdc.open_dataset("overlap.nc").
exit status: 0 written, 2 bad arguments or a failure (one line on stderr), 130 Ctrl-C.
"""


def grid_axis(start: float, stop: float, n: int) -> np.ndarray:
    """``n`` points from ``start`` to ``stop``, the stop excluded (as the seed's arange)."""
    import numpy as np

    return start + (stop - start) * np.arange(n) / n


def _parser() -> argparse.ArgumentParser:
    # allow_abbrev=False: "--phi" must not silently mean "--phi-over-pi".
    p = argparse.ArgumentParser(prog="xr-spdc", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                allow_abbrev=False)
    p.add_argument("--phi-over-pi", nargs=2, type=float, default=(-7.0, 3.0),
                   metavar=("START", "STOP"),
                   help="phase mismatch range in units of pi, START < STOP, the stop "
                        "excluded (default: -7 3)")
    p.add_argument("--log10-xi", nargs=2, type=float, default=(-1.5, 2.5),
                   metavar=("START", "STOP"),
                   help="aggregate focus range as log10(xi), START < STOP, the stop "
                        "excluded (default: -1.5 2.5)")
    p.add_argument("--points", nargs=2, type=_count, default=(100, 100),
                   metavar=("N_PHI", "N_XI"),
                   help="grid points along phi and xi (default: 100 100); 1 along one of "
                        "them draws a cut of the figure as a line")
    p.add_argument("--mu", type=float, default=0.0,
                   help="focal displacement in units of L/2 (default: 0, the focus at the "
                        "crystal's centre; 0.5 puts it L/4 beyond the centre)")
    p.add_argument("--method", choices=METHOD_CHOICES, default="auto",
                   help="auto: fast exact kernel; quad: scipy QUADPACK per point (reference)")
    p.add_argument("--workers", type=int, default=None,
                   help="N > 1: a pool of N worker processes; 1: in this process; -1: all "
                        "CPUs, -2: all but one (default: all CPUs once the grid is large "
                        "enough to pay for a pool, else this process)")
    p.add_argument("-o", "--output", default="overlap.nc",
                   help="netCDF file to write (default: overlap.nc); an existing file is "
                        "replaced only once the new one is complete")
    p.add_argument("--plot", default=None, metavar="PNG",
                   help="also draw |O|^2 over phi/pi and log10 xi with the optimum marked")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


def _count(text: str) -> int:
    """A positive count, also written as a float with an integer value ("1e3")."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if not value.is_integer():
        raise argparse.ArgumentTypeError(f"invalid count: {text!r} is not a whole number")
    return int(value)


def _numbers_as_values(argv: Sequence[str]) -> list[str]:
    """Negative numbers that argparse would read as options ("-1e101", "-.5e3") as values.

    argparse takes "-1" and "-0.5" as numbers but "-1e101" as an unknown option; a leading
    space keeps the token a value, and float() ignores it.
    """
    out = []
    for token in argv:
        try:
            float(token)
        except ValueError:
            out.append(token)
            continue
        out.append(f" {token}" if token.startswith("-") else token)
    return out


def _refuse(parser: argparse.ArgumentParser, message: str) -> NoReturn:
    """Exit with status 2 and one line, as argparse's own errors end (without the usage)."""
    parser.exit(2, f"{parser.prog}: error: {message}\n")


def _check_range(parser: argparse.ArgumentParser, option: str, bounds: Sequence[float],
                 n: int) -> None:
    start, stop = bounds
    given = f"{option} {start:g} {stop:g}"
    if not (math.isfinite(start) and math.isfinite(stop)):
        _refuse(parser, f"{option} must be finite numbers, not {given}")
    if n > 1 and start == stop:
        _refuse(parser, f"{given} is one value, but {n} points were asked for: give a range "
                     "(START < STOP) or 1 point")
    if start > stop:
        _refuse(parser, f"{option} needs START < STOP (it is not sorted for you: the stop is "
                     f"excluded), not {given}; did you mean {option} {stop:g} {start:g}?")


def _check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if min(args.points) < 1:
        _refuse(parser, f"--points must be positive, not {' '.join(map(str, args.points))}")
    _check_range(parser, "--phi-over-pi", args.phi_over_pi, args.points[0])
    _check_range(parser, "--log10-xi", args.log10_xi, args.points[1])
    if not math.isfinite(args.mu):
        _refuse(parser, f"--mu must be a finite number, not {args.mu}")
    if args.output.endswith(("/", "\\")):
        _refuse(parser, f"--output {args.output!r} names a folder (it ends in a slash); give a "
                     "file name ending in .nc")
    if not args.output.endswith(".nc"):
        _refuse(parser, f"--output must end in .nc, not {args.output!r}")
    if args.plot is not None and not args.plot.lower().endswith(".png"):
        _refuse(parser, f"--plot must end in .png, not {args.plot!r}")
    if args.plot is not None:
        folder = os.path.dirname(args.plot) or "."
        if not os.path.isdir(folder):
            _refuse(parser, f"cannot write {args.plot}: the folder {folder} does not exist")
        if not os.access(folder, os.W_OK):
            _refuse(parser, f"cannot write {args.plot}: the folder {folder} is not writable")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``xr-spdc`` console script; returns the exit status.

    Bad arguments exit (``SystemExit``) with status 2 and a last line on stderr saying
    why (argparse's own type errors print the usage above it); a failure while computing or
    saving returns 2, Ctrl-C returns 130, both with one line on stderr.  On success one line
    on stderr says what was written, its shape and the time taken.
    """
    parser = _parser()
    args = parser.parse_args(_numbers_as_values(sys.argv[1:] if argv is None else argv))
    _check_arguments(parser, args)
    written: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return _run(args, written)
    except KeyboardInterrupt as err:
        # An interrupt from the save's commit point on finds the file saved (xr_spdc.io).
        saved = written[0] if written else args.output if "was saved" in str(err) else None
        done = (f"interrupted after writing {saved}"
                + (f"; {args.plot} was not drawn" if args.plot else "")
                if saved else
                f"interrupted; {args.output} was not written (an existing file is unchanged)")
        print(f"xr-spdc: {done}", file=sys.stderr)
        return EXIT_INTERRUPTED


def _run(args: argparse.Namespace, written: list[str]) -> int:
    started = time.perf_counter()
    import numpy as np
    import xarray as xr

    import xr_spdc

    with np.errstate(over="ignore"):  # xi beyond the float range: the domain check says so
        ds = xr.Dataset(coords={
            "phi": np.pi * grid_axis(args.phi_over_pi[0], args.phi_over_pi[1], args.points[0]),
            "xi": 10.0 ** grid_axis(args.log10_xi[0], args.log10_xi[1], args.points[1])})
    try:
        overlap = xr_spdc.overlap(ds, mu=args.mu, method=args.method, workers=args.workers,
                                  progress=False if args.no_progress else None)
        xr_spdc.to_netcdf(overlap, args.output)
        written.append(args.output)
        if args.plot is not None:
            _save_figure(overlap, args.plot)
    except (ValueError, TypeError, OSError, xr_spdc.FanoutError) as exc:
        print(f"xr-spdc: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    print(f"xr-spdc: {_summary(overlap, args)} in {time.perf_counter() - started:.2f} s",
          file=sys.stderr)
    return 0


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """A warning as one line on stderr, like the CLI's errors (not Python's three)."""
    print(f"xr-spdc: warning: {' '.join(str(message).split())}", file=sys.stderr)


def _one_line(exc: BaseException) -> str:
    """The error's message on one line; an OSError that names its path in its own words
    ("cannot write out.nc: the disk is full ...") without the "[Errno 28]" and the path
    repeated."""
    if isinstance(exc, OSError) and exc.filename and exc.strerror and str(
            exc.filename) in exc.strerror:
        text = exc.strerror
    else:
        text = str(exc)
    return " ".join(text.split())


def _summary(overlap: xr.DataArray, args: argparse.Namespace) -> str:
    """'wrote overlap.nc: overlap (phi: 100, xi: 100) complex128, mu = 0[, and o.png]'."""
    shape = ", ".join(f"{dim}: {n}" for dim, n in overlap.sizes.items())
    figure = f", and {args.plot}" if args.plot is not None else ""
    return (f"wrote {args.output}: {overlap.name} ({shape}) {overlap.dtype}, "
            f"mu = {args.mu:g}{figure}")


def _save_figure(overlap: xr.DataArray, path: Any) -> None:
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
