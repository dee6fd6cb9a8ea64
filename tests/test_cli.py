"""The xr-spdc console script: files, figure, help, one-line errors and exit statuses.

Arguments are checked in-process (``main([...])``); one test runs the installed script end
to end in a fresh interpreter.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import xr_spdc
import xr_spdc.io
from xr_spdc import cli
from xr_spdc.cli import main

README = Path(__file__).parents[1] / "README.md"


def test_end_to_end_writes_the_grid_and_the_figure_and_says_so(tmp_path):
    out, png = tmp_path / "o.nc", tmp_path / "o.png"
    done = subprocess.run([sys.executable, "-m", "xr_spdc.cli", "--points", "20", "10",
                           "--workers", "1", "-o", str(out), "--plot", str(png)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    (line,) = done.stderr.splitlines()
    assert re.fullmatch(rf"xr-spdc: wrote {re.escape(str(out))}: overlap \(phi: 20, xi: 10\) "
                        rf"complex128, mu = 0, and {re.escape(str(png))} in [0-9.]+ s", line)
    o = xr_spdc.open_dataarray(out)
    assert o.sizes == {"phi": 20, "xi": 10} and o.dtype == np.complex128
    assert o.phi.values[0] == -7 * np.pi and np.log10(o.xi.values[0]) == pytest.approx(-1.5)
    assert float(o["mu"]) == 0.0  # recorded also when centred
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_classic_defaults_match_the_seed_grid(tmp_path, capsys):
    out = tmp_path / "o.nc"
    assert main(["--method", "quad", "--points", "4", "3", "--workers", "1", "-o",
                 str(out)]) == 0
    o = xr_spdc.open_dataarray(out)
    np.testing.assert_allclose(o.phi.values / np.pi, [-7.0, -4.5, -2.0, 0.5])
    assert o.attrs["method"] == "quad"
    assert capsys.readouterr().err.startswith(f"xr-spdc: wrote {out}: overlap (phi: 4, xi: 3)")


def test_mu_is_written_as_given(tmp_path, capsys):
    out = tmp_path / "o.nc"
    assert main(["--points", "3", "2", "--mu", "0.5", "--workers", "1", "-o", str(out)]) == 0
    assert float(xr_spdc.open_dataarray(out)["mu"]) == 0.5
    assert "mu = 0.5" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [
    (["--points", "0", "5"], "--points must be positive"),
    (["-o", "overlap.txt"], "--output must end in .nc"),
    (["-o", "fine.nc/"], "--output 'fine.nc/' names a folder"),
    (["--plot", "figure.pdf"], "--plot must end in .png"),
    (["--method", "simpson"], "invalid choice: 'simpson'"),
    (["--points", "three", "4"], "invalid int value"),
    (["--points", "10", "10", "--phi-over-pi", "1", "1"],
     "--phi-over-pi 1 1 is one value, but 10 points were asked for"),
    (["--log10-xi", "2", "2"], "--log10-xi 2 2 is one value"),
    (["--phi-over-pi", "3", "-7"],
     "needs START < STOP (it is not sorted for you: the stop is excluded), not "
     "--phi-over-pi 3 -7; did you mean --phi-over-pi -7 3?"),
    (["--log10-xi", "nan", "1"], "--log10-xi must be finite numbers"),
    (["--mu", "inf"], "--mu must be a finite number"),
])
def test_bad_arguments_exit_2_with_the_reason_and_write_nothing(tmp_path, monkeypatch, capsys,
                                                                argv, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith("xr-spdc: error:") and message in lines[-1]
    if not message.startswith("invalid"):  # ours, not argparse's: no usage above it
        assert len(lines) == 1
    assert not list(tmp_path.iterdir())


def test_one_point_may_sit_on_a_single_value(tmp_path, capsys):
    out = tmp_path / "o.nc"
    assert main(["--points", "1", "3", "--phi-over-pi", "1", "1", "--workers", "1",
                 "-o", str(out)]) == 0
    assert xr_spdc.open_dataarray(out).phi.values.tolist() == [np.pi]


def test_a_failure_while_computing_is_one_line_and_status_2(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["--workers", "0"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("xr-spdc: error:") and "workers must be >= 1" in line


def test_an_unwritable_output_names_the_users_path_not_a_temporary_file(tmp_path, capsys):
    out = tmp_path / "nonexistent" / "dir" / "out.nc"
    assert main(["--points", "2", "2", "--workers", "1", "-o", str(out)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line == f"xr-spdc: error: cannot write {out}: the folder {out.parent} does not exist"


def test_a_full_disk_is_one_line_and_status_2(tmp_path, monkeypatch, capsys):
    def full(folder):
        return 1000

    monkeypatch.setattr(xr_spdc.io, "_free_space", full)
    out = tmp_path / "o.nc"
    out.write_bytes(b"old")
    assert main(["--points", "20", "20", "--workers", "1", "-o", str(out)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"xr-spdc: error: cannot write {out}: the disk is full (about ")
    assert out.read_bytes() == b"old"


def test_ctrl_c_is_one_line_and_status_130(tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(xr_spdc, "overlap", interrupted)
    out = tmp_path / "o.nc"
    out.write_bytes(b"old")
    assert main(["-o", str(out)]) == cli.EXIT_INTERRUPTED == 130
    assert capsys.readouterr().err == (f"xr-spdc: interrupted; {out} was not written (an "
                                       "existing file is unchanged)\n")
    assert out.read_bytes() == b"old"


def test_ctrl_c_after_the_saves_commit_point_says_the_file_was_written(tmp_path, monkeypatch,
                                                                        capsys):
    out = tmp_path / "o.nc"

    def saved_then_interrupted(overlap, path, **kwargs):
        out.write_bytes(b"new")
        raise KeyboardInterrupt(f"{path} was saved: the interrupt came after the new file "
                                "was in place")

    monkeypatch.setattr(xr_spdc, "to_netcdf", saved_then_interrupted)
    assert main(["--points", "3", "2", "--workers", "1", "-o", str(out)]) == 130
    assert capsys.readouterr().err == f"xr-spdc: interrupted after writing {out}\n"


def test_ctrl_c_while_drawing_says_the_file_was_written(tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_save_figure", interrupted)
    out, png = tmp_path / "o.nc", tmp_path / "o.png"
    assert main(["--points", "3", "2", "--workers", "1", "-o", str(out), "--plot",
                 str(png)]) == 130
    assert capsys.readouterr().err == (f"xr-spdc: interrupted after writing {out}; {png} "
                                       "was not drawn\n")
    assert xr_spdc.open_dataarray(out).sizes == {"phi": 3, "xi": 2}


def test_method_choices_are_the_methods_the_library_has():
    from xr_spdc.engine.methods import METHODS

    assert sorted(cli.METHOD_CHOICES) == sorted(METHODS["overlap"])


def test_help_explains_the_physics_mu_and_the_defaults(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    for phrase in ("phase mismatch", "aggregate focus", "Bennink", "classic", "--workers",
                   "--plot", "open_dataset", "l = 2z/L", "units of the crystal's half-length",
                   "mu*L/2 beyond the crystal's centre", "L/4 beyond the crystal's centre",
                   "130 Ctrl-C"):
        assert phrase in " ".join(text.split()), phrase
    assert "half the crystal" not in text


#: Imports that cost ~0.1-0.3 s each and that ``import xr_spdc`` must not make.
HEAVY = ("scipy.integrate", "scipy.optimize", "matplotlib")
#: The modules of this package whose own imports these tests hold to that.
LIGHT_MODULES = {"xr_spdc", "xr_spdc.cli", "xr_spdc.io", "xr_spdc.plot"}

IMPORT_SPY = """
import builtins, json, sys
heavy = {heavy!r}
importers = {{}}
real_import = builtins.__import__

def spy(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and name.startswith(heavy) and name not in sys.modules:
        importers.setdefault(name.split(".")[0] if name.startswith("matplotlib") else
                             ".".join(name.split(".")[:2]),
                             (globals or {{}}).get("__name__", "?"))
    return real_import(name, globals, locals, fromlist, level)

builtins.__import__ = spy
{statement}
print(json.dumps(importers))
"""


def _first_importers(statement: str) -> dict[str, str]:
    """Which module first imported each heavy module while running ``statement``."""
    code = IMPORT_SPY.format(heavy=HEAVY, statement=statement)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("statement", [
    "import xr_spdc.plot, xr_spdc.io",  # the package first, then these two
    "from xr_spdc import cli\ntry:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass",
])
def test_importing_leaves_scipy_and_matplotlib_to_first_use(statement):
    """None of this module's files imports them up front; what remains comes from the
    engine's modules (accessor, quad, optimum...), listed in the failure message."""
    importers = _first_importers(statement)
    assert "matplotlib" not in importers  # so no backend is chosen on import either
    assert not set(importers.values()) & LIGHT_MODULES, importers


def test_import_xr_spdc_imports_no_scipy_or_matplotlib():
    # Issue 12: `import xr_spdc` must cost about what `import xarray` does.
    assert _first_importers("import xr_spdc") == {}


def test_readme_commands_are_the_ones_ci_and_users_run():
    text = README.read_text()
    main_command = re.search(r"<!-- main-command -->\s*```\s*\n(.+?)\n```", text).group(1)
    test_command = re.search(r"<!-- test-command -->\s*```\s*\n(.+?)\n```", text).group(1)
    assert "xr-spdc" in main_command and "--plot" in main_command
    assert "pytest" in test_command
    ci = (README.parent / ".ci" / "run").read_text()
    assert "test-command" in ci  # .ci/run executes the README's line, not a copy


def test_one_point_along_phi_draws_a_line_over_xi_without_warnings(tmp_path):
    done = subprocess.run([sys.executable, "-W", "error", "-m", "xr_spdc.cli", "--points", "1",
                           "100", "--workers", "1", "--no-progress", "-o",
                           str(tmp_path / "b.nc"), "--plot", str(tmp_path / "b.png")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"xr-spdc: wrote {tmp_path / 'b.nc'}: overlap (phi: 1, xi: 100)")
    assert (tmp_path / "b.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_plot_into_a_missing_folder_is_refused_before_computing(tmp_path, capsys,
                                                                    monkeypatch):
    monkeypatch.setattr(xr_spdc, "overlap", lambda *a, **k: pytest.fail("computed"))
    out = tmp_path / "o.nc"
    with pytest.raises(SystemExit) as stop:
        main(["-o", str(out), "--plot", str(tmp_path / "missing" / "p.png")])
    assert stop.value.code == 2 and not out.exists()
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (f"xr-spdc: error: cannot write {tmp_path / 'missing' / 'p.png'}: the "
                    f"folder {tmp_path / 'missing'} does not exist")


@pytest.mark.parametrize("argv, expected", [
    (["--phi-over-pi", "-1e1", "1"], (-10.0, 1.0)),
    (["--log10-xi", "-.5e1", "-1e0"], (-5.0, -1.0)),
    (["--mu", "-1e-1"], -0.1),
    (["--points", "1e1", "2.0"], (10, 2)),
])
def test_negative_numbers_in_exponent_form_and_integral_floats_are_values(argv, expected):
    args = cli._parser().parse_args(cli._numbers_as_values(argv))
    got = vars(args)[argv[0].lstrip("-").replace("-", "_")]
    assert (tuple(got) if isinstance(got, list | tuple) else got) == expected


def test_a_far_negative_phi_range_reaches_the_domain_check_not_argparse(tmp_path, capsys):
    assert main(["--phi-over-pi", "-1e101", "0", "--points", "2", "2", "--workers", "1",
                 "-o", str(tmp_path / "x.nc")]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("xr-spdc: error:") and "1e+100" in line


@pytest.mark.parametrize("option", ["--phi", "--log10", "--point"])
def test_abbreviated_options_are_refused(option, capsys):
    with pytest.raises(SystemExit) as stop:
        main([option, "1", "2"])
    assert stop.value.code == 2
    assert f"unrecognized arguments: {option}" in capsys.readouterr().err


def test_a_fractional_count_is_refused_naming_it(capsys):
    with pytest.raises(SystemExit):
        main(["--points", "1.5", "2"])
    assert "invalid count: '1.5' is not a whole number" in capsys.readouterr().err


def test_the_workers_help_says_what_the_api_says():
    help_text = " ".join(cli._parser().format_help().split())
    assert "N > 1: a pool of N worker processes; 1: in this process" in help_text
    assert "this one included" not in help_text


def test_a_warning_is_printed_as_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "xr_spdc.cli", "--points", "4", "4",
                           "--workers", "64", "--no-progress", "-o", str(tmp_path / "w.nc")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    warning, summary = done.stderr.splitlines()
    assert warning.startswith("xr-spdc: warning: workers=64 capped at ")
    assert summary.startswith("xr-spdc: wrote")
