"""Boyd–Kleinman's h with walk-off and absorption: against mpmath, 2-D QUADPACK and identities."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from scipy.integrate import dblquad, quad

import xr_spdc
from xr_spdc import focusing
from xr_spdc.numerics import walkoff
from xr_spdc.numerics.overlap import overlap
from xr_spdc.numerics.walkoff import focusing_function, focusing_quad

DATA = Path(__file__).parent / "data" / "walkoff_references.csv"


def references() -> dict[str, np.ndarray]:
    with DATA.open() as f:
        rows = list(csv.DictReader(f))
    out = {key: np.array([float(r[key]) for r in rows])
           for key in ("sigma", "xi", "B", "kappa", "mu", "h", "scale")}
    out["kind"] = np.array([r["kind"] for r in rows])
    return out


def test_reference_set_covers_the_domain_and_its_special_values():
    ref = references()
    assert len(ref["h"]) >= 100
    assert ref["xi"].min() <= 1e-3 * 1.0001 and ref["xi"].max() >= 1e3 * 0.9999
    assert ref["B"].max() == 16.0 and ref["kappa"].max() == 2.0
    assert np.abs(ref["sigma"]).max() == 10.0 and np.abs(ref["mu"]).max() == 1.0
    for name in ("B", "kappa", "mu"):
        assert (ref[name] == 0).sum() >= 5  # exact zeros, where the kernel switches


def test_auto_method_against_mpmath_references():
    ref = references()
    got = focusing_function(ref["sigma"], ref["xi"], ref["B"], ref["kappa"], ref["mu"])
    error = np.abs(got - ref["h"]) / np.maximum(1.0, ref["scale"])
    worst = int(np.argmax(error))
    assert error[worst] <= 1e-12, {k: ref[k][worst] for k in ref} | {"got": got[worst]}


def test_one_dimensional_reduction_at_b_kappa_zero_is_the_overlap():
    # The s-quadrature path (not the overlap shortcut) against the independent overlap kernel:
    # h = |O(-2 xi sigma, xi, mu)|^2/4 ties sigma = -phi/(2 xi) and the same sign of mu.
    sigma, xi, mu = np.meshgrid(np.linspace(-6, 6, 13), np.geomspace(1e-3, 1e3, 13),
                                [-1.0, -0.4, 0.0, 0.7, 1.0])
    sigma, xi, mu = sigma.ravel(), xi.ravel(), mu.ravel()
    zeros = np.zeros_like(xi)
    got = walkoff._quadrature(sigma, xi, zeros, zeros, mu)
    want = np.abs(overlap(-2 * xi * sigma, xi, mu)) ** 2 / 4
    assert np.max(np.abs(got - want)) <= 1e-14


def test_public_function_at_b_kappa_zero_equals_the_overlap_to_1e_14():
    sigma, xi = np.meshgrid(np.linspace(-3, 3, 7), np.geomspace(0.1, 100, 7))
    got = focusing_function(sigma, xi, 0.0, 0.0, 0.3)
    want = np.abs(overlap(-2 * xi * sigma, xi, 0.3)) ** 2 / 4
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)


@pytest.mark.parametrize("point", [(0.5, 2.84, 1.0, 0.3, 0.5), (-1.0, 0.05, 4.0, 1.0, -0.2),
                                   (2.0, 20.0, 0.5, 0.1, -0.3), (0.1, 100.0, 2.0, 0.0, 0.9)])
def test_auto_agrees_with_two_dimensional_quadpack(point):
    # focusing_quad integrates Boyd and Kleinman's double integral itself (no closed form).
    result = focusing_quad(*point, epsabs=1e-13, epsrel=1e-13, limit=400)
    assert int(result.status) == 0
    assert float(focusing_function(*point)) == pytest.approx(float(result.value), abs=1e-13)


@pytest.mark.parametrize("kappa", [0.05, 0.5, 2.0])
def test_without_walk_off_h_is_the_squared_single_integral(kappa):
    # B = 0: the double integral factorises,
    # h = |int_a^b e^{(i sigma - kappa) t}/(1+it) dt|^2/(4 xi).
    sigma, xi, mu = 0.7, 3.0, 0.2
    a, b = -xi * (1 + mu), xi * (1 - mu)  # the package's mu: the focus beyond the centre

    def part(t, imag):
        value = np.exp((1j * sigma - kappa) * t) / (1 + 1j * t)
        return value.imag if imag else value.real
    re = quad(part, a, b, args=(False,), epsabs=0, epsrel=1e-12, limit=200)[0]
    im = quad(part, a, b, args=(True,), epsabs=0, epsrel=1e-12, limit=200)[0]
    want = (re * re + im * im) / (4 * xi)
    assert float(focusing_function(sigma, xi, 0.0, kappa, mu)) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("B", [0.0, 0.5, 3.0])
@pytest.mark.parametrize("xi", [0.01, 1.0, 50.0])
def test_without_absorption_h_is_even_in_mu(B, xi):
    # tau -> -tau', tau' -> -tau maps the limits of mu onto those of -mu and leaves the
    # integrand as it was (the absorption factor alone would change).
    sigma = np.linspace(-4, 4, 9)
    for mu in (0.3, 1.0):
        plus = focusing_function(sigma, xi, B, 0.0, mu)
        minus = focusing_function(sigma, xi, B, 0.0, -mu)
        np.testing.assert_allclose(plus, minus, rtol=0, atol=1e-15)


def test_absorption_breaks_the_mu_symmetry():
    assert abs(float(focusing_function(0.5, 2.0, 1.0, 0.5, 0.5))
               - float(focusing_function(0.5, 2.0, 1.0, 0.5, -0.5))) > 1e-2


@pytest.mark.parametrize(("sigma", "xi", "kappa", "mu"), [(0.5, 2.0, 0.0, 0.0),
                                                         (-1.0, 0.3, 0.4, 0.5)])
def test_strong_walk_off_limit(sigma, xi, kappa, mu):
    # B -> inf: e^{-(B^2/xi) s^2} confines s = tau - tau' to ~sqrt(xi)/B.  With
    # f(t) = e^{-kappa t}/(1+it) and I(s) = int f(t+s) conj(f(t)) dt, which has a kink
    # Re I'(0+) = -(|f(a)|^2 + |f(b)|^2)/2 at s = 0 (the window's ends),
    # 4 xi h = sqrt(pi xi)/B e^{-sigma^2 xi/(4B^2)} I(0) - (|f(a)|^2 + |f(b)|^2) xi/(2B^2)
    # + O(xi^{3/2}/B^3).
    B = 1e4
    a, b = -xi * (1 + mu), xi * (1 - mu)  # the package's mu: the focus beyond the centre
    i0 = quad(lambda t: math.exp(-2 * kappa * t) / (1 + t * t), a, b, epsabs=0, epsrel=1e-13)[0]
    ends = sum(math.exp(-2 * kappa * t) / (1 + t * t) for t in (a, b))
    limit = (math.sqrt(math.pi * xi) / B * math.exp(-sigma**2 * xi / (4 * B**2)) * i0
             - ends * xi / (2 * B**2)) / (4 * xi)
    assert float(focusing_function(sigma, xi, B, kappa, mu)) == pytest.approx(limit, rel=1e-7)


@pytest.mark.parametrize(("sigma", "B", "kappa", "mu"), [(0.0, 0.0, 0.0, 0.0),
                                                         (3.0, 16.0, 2.0, 0.5),
                                                         (-10.0, 1.0, 0.0, -1.0)])
def test_weak_focusing_limit(sigma, B, kappa, mu):
    # xi -> 0: tau spans [a, b], 2 xi wide, so 1/(1+i tau) -> 1 and, to first order,
    # e^{-kappa(tau+tau')} -> 1 + 2 kappa xi mu (the mean of tau is -xi mu) and the walk-off
    # factor -> 1 - (B^2/xi)(2 xi)^2/6: h/xi = 1 - (2/3) B^2 xi - 2 kappa xi mu + O(xi^2).
    xi = 1e-6
    first_order = 1 - 2 / 3 * B**2 * xi + 2 * kappa * xi * mu
    assert float(focusing_function(sigma, xi, B, kappa, mu)) / xi == pytest.approx(
        first_order, abs=1e-7)


def test_h_is_real_float64_with_the_broadcast_shape():
    h = focusing_function(np.zeros((2, 1, 1)), [1.0, 2.0, 3.0], [[0.0], [1.0], [2.0], [4.0]])
    assert h.dtype == np.float64 and h.shape == (2, 4, 3)
    assert focusing_function(0.5, 1.0, 1.0).shape == ()
    assert focusing_function(np.empty(0), 1.0, 1.0).shape == (0,)


def test_values_do_not_depend_on_chunking(monkeypatch):
    rng = np.random.default_rng(1)
    n = 200
    args = (rng.uniform(-5, 5, n), 10 ** rng.uniform(-2, 2, n), rng.uniform(0, 4, n),
            np.where(rng.random(n) < 0.5, 0.0, rng.uniform(0, 1, n)), rng.uniform(-1, 1, n))
    whole = focusing_function(*args)
    monkeypatch.setattr(walkoff, "_CHUNK_NODES", 100)
    np.testing.assert_array_equal(focusing_function(*args), whole)
    np.testing.assert_array_equal([float(focusing_function(*(a[i] for a in args)))
                                   for i in range(n)], whole)


def test_undefined_points_give_nan_and_leave_the_others_alone():
    h = focusing_function([0.5, np.nan, 0.5, 0.5, 0.5, np.inf],
                          [2.0, 2.0, 0.0, 2.0, 2.0, 2.0], [1.0, 1.0, 1.0, 1.0, np.nan, 1.0],
                          [0.0, 0.0, 0.0, -1.0, 0.0, 0.0])
    assert np.isnan(h[1:]).all()
    assert h[0] == focusing_function(0.5, 2.0, 1.0)


def test_dask_chunks_give_the_eager_values(grid):
    lazy = focusing(grid, chunks={"sigma": 1, "B": 2})
    assert lazy.chunks is not None
    np.testing.assert_array_equal(lazy.compute().values, focusing(grid, workers=1).values)


def test_two_workers_give_the_values_of_one():
    # 64 points: two blocks of the quad method, so the pool's worker computes one.
    grid = xr.Dataset(coords={"sigma": np.linspace(-1, 3, 8), "xi": [0.3, 0.6, 1.0, 2.0],
                              "B": [0.0, 1.0]})
    from xr_spdc.engine.methods import METHODS
    assert 64 > METHODS["focusing"]["quad"].block_size
    ref = focusing(grid, method="quad", workers=1)
    pooled = focusing(grid, method="quad", workers=2, progress=False)
    np.testing.assert_array_equal(pooled.values, ref.values)


def test_large_absorption_overflows_to_inf_not_nan():
    with np.errstate(all="raise"):
        h = focusing_function(0.5, 1000.0, 1.0, 2.0, 0.0)
    assert np.isinf(h) and h > 0


# ------------------------------------------------------------------------- labelled


@pytest.fixture
def grid():
    return xr.Dataset(coords={"sigma": [0.0, 0.57], "xi": [1.0, 2.84], "B": [0.0, 1.0, 4.0]})


def test_focusing_over_a_dataset_is_labelled(grid):
    h = focusing(grid, workers=1)
    assert h.name == "h" and h.dims == ("sigma", "xi", "B") and h.dtype == np.float64
    assert h.attrs["units"] == "1" and "Boyd" in h.attrs["references"]
    # kappa and mu, absent from the Dataset, are 0 and recorded as labelled scalar coords.
    assert h.attrs["method"] == "auto" and float(h.kappa) == 0.0 and float(h.mu) == 0.0
    assert h.kappa.attrs["long_name"] == "absorption parameter kappa"
    assert h.B.attrs["long_name"] == "walk-off parameter B"
    assert h.xi.attrs["long_name"] == "aggregate focus"
    want = focusing_function(0.57, 2.84, 1.0)
    assert float(h.sel(sigma=0.57, xi=2.84, B=1.0)) == want


def test_phi_gives_the_same_h_as_sigma_and_adds_sigma():
    ds = xr.Dataset(coords={"phi": [-3.0, 0.0, 2.0], "xi": [0.5, 2.84]})
    h = focusing(ds, B=0.5, kappa=0.1, mu=-0.2, workers=1)
    assert h.dims == ("phi", "xi") and h.sigma.dims == ("phi", "xi")
    sigma = -ds.phi / (2 * ds.xi)
    np.testing.assert_array_equal(h.values, focusing_function(sigma.values, ds.xi.values,
                                                              0.5, 0.1, -0.2))
    assert h.attrs["B"] == 0.5


def test_quad_method_agrees_and_reports_diagnostics(grid):
    auto = focusing(grid, workers=1)
    ref = focusing(grid, method="quad", workers=1)
    assert float(abs(ref - auto).max()) < 1e-10
    assert ref.attrs["quad_failed_points"] == 0 and ref.attrs["quad_max_abserr"] < 1e-8


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"sigma": 1.0, "phi": 1.0}, TypeError, "not both"),
    ({"kappa": xr.DataArray([-1.0, 0.2], dims="k")}, ValueError, r"kappa must be >= 0.*-1.0"),
    ({"xi": xr.DataArray([1.0, 0.0], dims="x")}, ValueError, "xi must be positive"),
    ({"B": "walk"}, ValueError, "no variable 'walk'"),
    ({"method": "dblquad"}, ValueError, "method must be one of"),
])
def test_bad_input_is_refused_with_the_argument_named(grid, kwargs, error, match):
    with pytest.raises(error, match=match):
        focusing(grid, **kwargs)


def test_neither_sigma_nor_phi_is_refused():
    with pytest.raises(TypeError, match="give sigma"):
        focusing(xr.Dataset(coords={"xi": [1.0]}), B=0.0)


def test_long_range_absorption_without_walk_off_against_qawo():
    # xi = 500, B = 0, small kappa: the s-range is the full 2 xi = 1000 with ~300 periods.
    # The factorised single integral by QUADPACK's oscillatory rule (QAWO):
    # int e^{-kappa t} e^{i sigma t}/(1+it) dt = int e^{-kappa t}[(cos + t sin) + i(sin - t cos)]
    # (sigma t)/(1+t^2) dt.
    sigma, xi, kappa, mu = 2.0, 500.0, 0.002, 0.3
    a, b = -xi * (1 + mu), xi * (1 - mu)  # the package's mu: the focus beyond the centre

    def weighted(power, weight):
        return quad(lambda t: t**power * math.exp(-kappa * t) / (1 + t * t), a, b,
                    weight=weight, wvar=sigma, epsabs=1e-12, epsrel=1e-12, limit=400)[0]
    re = weighted(0, "cos") + weighted(1, "sin")
    im = weighted(0, "sin") - weighted(1, "cos")
    want = (re * re + im * im) / (4 * xi)
    got = float(focusing_function(sigma, xi, 0.0, kappa, mu))
    assert got == pytest.approx(want, abs=1e-12 * math.exp(2 * kappa * xi * (1 + mu)))


def test_quad_shortfalls_are_reported_per_point():
    from scipy.integrate import IntegrationWarning

    grid = xr.Dataset(coords={"sigma": [0.5, 2.0], "xi": [5.0, 50.0]})
    with pytest.warns(IntegrationWarning, match="quad did not reach"):
        h = focusing(grid, B=0.5, method="quad", limit=1, workers=1)
    assert h.attrs["quad_failed_points"] > 0 and h.attrs["limit"] == 1
    result = focusing_quad([2.0], [50.0], 0.5, limit=1)
    assert result.status.dtype == np.int8 and int(result.status[0]) == 1
    assert result.abserr.dtype == np.float64 and result.abserr[0] > 0


def test_the_accessor_finds_every_input_by_name_and_shows_its_parameters():
    import inspect

    ds = xr.Dataset(coords={"phi": [-3.2551381153733029], "xi": [2.8375191194941384],
                            "B": [0.0, 2.0], "kappa": [0.0], "mu": [0.0, 0.5]})
    h = ds.spdc.focusing(workers=1)
    assert h.dims == ("phi", "xi", "B", "kappa", "mu")
    assert "sigma" in h.coords and h.sigma.item() == pytest.approx(0.5735887545232851)
    # B = kappa = mu = 0 at Boyd and Kleinman's optimum: h_mm (mpmath-refined).
    assert float(h.sel(B=0.0, mu=0.0).squeeze()) == pytest.approx(1.0677249747653114, rel=1e-12)
    assert h.attrs["xr_spdc_inputs"] == "sigma: sigma xi: xi B: B kappa: kappa mu: mu"
    shown = inspect.signature(ds.spdc.focusing).parameters
    assert {"sigma", "B", "kappa", "method", "workers", "chunks", "timeout"} <= set(shown)


def _h_double_integral(sigma: float, xi: float, kappa: float, mu: float) -> float:
    """Boyd–Kleinman's h (B = 0) by 2-D QUADPACK, the crystal where ``overlap`` puts it:
    l = 2z/L in [-1 - mu, 1 - mu], z along the beams from the focus, so tau = xi*l runs
    from -xi(1 + mu) (entrance face) to xi(1 - mu) (exit face)."""
    a, b = -xi * (1 + mu), xi * (1 - mu)

    def f(tp: float, t: float) -> float:
        return (np.exp(-kappa * (t + tp) + 1j * sigma * (t - tp))
                / ((1 + 1j * t) * (1 - 1j * tp))).real

    value, _ = dblquad(f, a, b, a, b, epsabs=1e-12, epsrel=1e-11)
    return value / (4 * xi)


def test_focusing_mu_is_overlaps_mu_also_with_absorption():
    # With kappa = 0, h is even in mu; absorption tells the two orientations apart (here
    # 0.9986 against 0.6113 for the mirror image, Boyd and Kleinman's own mu).
    sigma, xi, kappa, mu = 0.5, 1.0, 0.5, 0.3
    h = float(xr_spdc.focusing(sigma=sigma, xi=xi, B=0.0, kappa=kappa, mu=mu))
    assert h == pytest.approx(_h_double_integral(sigma, xi, kappa, mu), rel=1e-8)
    mirror = float(xr_spdc.focusing(sigma=sigma, xi=xi, B=0.0, kappa=kappa, mu=-mu))
    assert mirror == pytest.approx(_h_double_integral(sigma, xi, kappa, -mu), rel=1e-8)
    assert abs(h - mirror) > 0.3


def test_focusing_accepts_stacked_points():
    ds = xr.Dataset(coords={"sigma": np.linspace(-1.0, 2.0, 4), "xi": [0.5, 2.0, 8.0]})
    grid = ds.spdc.focusing(workers=1)
    stacked = ds.stack(pt=("sigma", "xi")).spdc.focusing(workers=1)
    assert stacked.dims == ("pt",)
    np.testing.assert_array_equal(stacked.unstack("pt").transpose(*grid.dims).values,
                                  grid.values)


def test_focusing_quad_answers_inf_flagged_where_h_overflows_as_auto_does():
    # 2 kappa xi (1 + mu) > 709: h exceeds the largest double (documented for "auto").
    # The numpy kernels answer inf, flagged; the labelled focusing refuses such input up
    # front, stating the domain (tests/test_hostile_input.py).
    kw = dict(sigma=0.5, xi=1000.0, B=0.0, kappa=0.6, mu=0.0)
    with np.errstate(over="ignore"):
        auto = focusing_function(**kw)
        quad = focusing_quad(**kw)
    assert float(auto) == float(quad.value.real) == math.inf
    assert int(np.count_nonzero(quad.status)) == 1
    for method in ("auto", "quad"):
        with pytest.raises(ValueError, match="kappa xi \\(1 \\+ mu\\) = 600"):
            xr_spdc.focusing(method=method, workers=1, **kw)
