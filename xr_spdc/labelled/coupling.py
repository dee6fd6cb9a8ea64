"""Pairs and singles in single-mode fibres, and the heralding efficiencies, over labelled inputs.

The labelled front of :mod:`xr_spdc.numerics.coupling` (the exact paraxial fibre-coupling
kernel, docs/physics/coupling.md) on the package's one route (:func:`~.route.evaluate`):
every argument may be a number or a DataArray (broadcast by xarray's rules), and the work
runs in this process, on a process pool (``workers=``) or lazily with dask (``chunks=``).
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Executor
from typing import Any

import numpy as np
import xarray as xr

from .._version import __version__
from ..engine.methods import METHODS
from ..numerics import coupling as coupling_kernel
from . import inputs
from . import names as labels
from .route import evaluate

__all__ = ["fiber_coupling"]

ENERGY_TOLERANCE = inputs.ENERGY_TOLERANCE



def _find(ds: xr.Dataset | None, value: Any, role: str, *, positive: bool = True
          ) -> xr.DataArray:
    return inputs.check_real(inputs.find(ds, value, role, default=role), role,
                             positive=positive)


def _focus(ds: xr.Dataset | None, value: Any, role: str) -> xr.DataArray:
    return inputs.check_real(inputs.find_optional(ds, value, role), role)


def _idler_wavelength(ds: xr.Dataset | None, value: Any, pump: xr.DataArray,
                      signal: xr.DataArray) -> xr.DataArray:
    """The idler wavelength given, checked against energy conservation; or derived."""
    derived = inputs.idler_wavelength(pump, signal, names=(
        "pump_wavelength", "signal_wavelength")).rename("idler_wavelength")
    with xr.set_options(arithmetic_join="exact", keep_attrs=False):
        if value is None or (isinstance(value, str) and value == "idler_wavelength"
                             and (ds is None or value not in ds.variables)):
            return derived
        given = _find(ds, value, "idler_wavelength")
        excess = abs(1 / pump - 1 / signal - 1 / given) * pump
    bad = excess > ENERGY_TOLERANCE
    if bool(bad.any()):
        g, d = xr.broadcast(given, derived)
        raise ValueError(
            f"idler_wavelength breaks energy conservation 1/lambda_p = 1/lambda_s + "
            f"1/lambda_i (to {ENERGY_TOLERANCE:g} relative): idler_wavelength "
            f"{inputs.positions(g, bad.values)} where pump and signal give "
            f"{inputs.positions(d, bad.values)} m; omit idler_wavelength to derive it")
    return given


def fiber_coupling(
    ds: xr.Dataset | None = None,
    *,
    pump_wavelength: str | xr.DataArray | float = "pump_wavelength",
    signal_wavelength: str | xr.DataArray | float = "signal_wavelength",
    idler_wavelength: str | xr.DataArray | float | None = "idler_wavelength",
    pump_index: str | xr.DataArray | float = "pump_index",
    signal_index: str | xr.DataArray | float = "signal_index",
    idler_index: str | xr.DataArray | float = "idler_index",
    pump_waist: str | xr.DataArray | float = "pump_waist",
    signal_waist: str | xr.DataArray | float = "signal_waist",
    idler_waist: str | xr.DataArray | float = "idler_waist",
    length: str | xr.DataArray | float = "length",
    phi: str | xr.DataArray | float = "phi",
    pump_focus: str | xr.DataArray | float | None = "pump_focus",
    signal_focus: str | xr.DataArray | float | None = "signal_focus",
    idler_focus: str | xr.DataArray | float | None = "idler_focus",
    workers: int | Executor | None = None,
    progress: bool | None = None,
    timeout: float | None = None,
    chunks: int | str | dict[str, int] | None = None,
) -> xr.Dataset:
    r"""Pair and singles probabilities into single-mode fibres and the heralding efficiencies,
    exact in the paraxial model, over labelled inputs.

    Collinear, paraxial SPDC: a Gaussian pump of waist w_p and Gaussian fibre modes of
    waists w_s, w_i, each focused at its own plane, in a crystal of length L
    (docs/physics/coupling.md; Bennink, PRA 81, 053805 (2010); Kolenderski et al., PRA 80,
    013811 (2009)).  With the two-photon amplitude
    Ψ(q_s, q_i) = E_p(q_s + q_i) ∫dz exp(i z [Δk₀ − |q_s+q_i|²/2k_p + |q_s|²/2k_s +
    |q_i|²/2k_i]), E_p(q) = exp(−w_p²|q|²/4), and normalised fibre modes u_j:

    - ``pair`` P₂ = |∫∫ u_s u_i Ψ|² (both photons in their fibres);
    - ``signal_singles`` P₁ˢ = ∫d²q_i |∫ u_s Ψ d²q_s|² (the idler anywhere);
      ``idler_singles`` P₁ⁱ likewise;
    - ``signal_heralding`` η_s = P₂/P₁ⁱ, ``idler_heralding`` η_i = P₂/P₁ˢ,
      ``symmetric_heralding`` P₂/√(P₁ˢP₁ⁱ).

    No k_p = k_s + k_i is assumed.  One frequency triple: for rates integrated over the
    spectrum, in counts/s, see :func:`xr_spdc.crystals.source_rates`.

    Parameters
    ----------
    ds : xarray.Dataset, optional
        Where string arguments are looked up (coordinates and data variables alike).  By
        default each argument is the variable of its own name.
    pump_wavelength, signal_wavelength : str, DataArray or float
        Vacuum wavelengths in m (λ_p < λ_s).
    idler_wavelength : str, DataArray, float or None
        In m; None (or absent from ``ds``): from energy conservation
        1/λ_i = 1/λ_p − 1/λ_s.  A given value must obey it to 1e-6.
    pump_index, signal_index, idler_index : str, DataArray or float
        Refractive indices n_j at λ_j (k_j = 2πn_j/λ_j).
    pump_waist, signal_waist, idler_waist : str, DataArray or float
        Waists w_j in m (1/e² intensity radius) of the pump and of the signal and idler
        fibre modes (their images in the crystal).
    length : str, DataArray or float
        Crystal length L in m.
    phi : str, DataArray or float
        Phase mismatch φ = (k_p − k_s − k_i − 2πm/Λ)L in rad (see
        :func:`xr_spdc.crystals.phase_mismatch`).
    pump_focus, signal_focus, idler_focus : str, DataArray, float or None
        Focal planes z_j in m, measured inside the crystal from its centre along the beams
        (positive: towards the exit face; |z_j| ≤ L).  0 (the default, or absent from
        ``ds``): focused at the centre.  The kernel's μ_j = 2z_j/L.
    workers, progress, timeout, chunks
        As for :func:`xr_spdc.overlap`.

    Returns
    -------
    xarray.Dataset
        ``pair``, ``signal_singles``, ``idler_singles`` (m⁻²) and the three heralding
        efficiencies (1), over the broadcast dims of the inputs, each with long_name,
        units, formula and references; the dimensionless kernel inputs ``xi_p, xi_s, xi_i``
        (ξ_j = L/(k_j w_j²)), ``ratio_s, ratio_i`` (k_j/k_p) as coordinates where they vary;
        every input array as a coordinate and every scalar input in attrs.

    Raises
    ------
    ValueError
        A non-positive waist, index, wavelength or length; wavelengths that break energy
        conservation; inputs outside the kernel's verified domain
        (:data:`xr_spdc.numerics.coupling.DOMAIN`), naming the argument and the values.

    Examples
    --------
    >>> import xarray as xr, xr_spdc
    >>> w = xr.DataArray([30e-6, 60e-6], dims="pump_waist", name="pump_waist")
    >>> out = xr_spdc.fiber_coupling(
    ...     pump_wavelength=775e-9, signal_wavelength=1550e-9, pump_index=2.1737,
    ...     signal_index=2.1340, idler_index=2.1340, pump_waist=w, signal_waist=42e-6,
    ...     idler_waist=42e-6, length=10e-3, phi=-3.0, workers=1)
    >>> out.signal_heralding.dims
    ('pump_waist',)
    >>> bool((out.signal_heralding <= 1).all())
    True
    """
    if ds is not None and not isinstance(ds, xr.Dataset):
        raise TypeError(f"ds must be an xarray.Dataset or None, not {type(ds).__name__}")
    workers = inputs.check_workers(workers)
    given: dict[str, Any] = {
        "pump_wavelength": pump_wavelength, "signal_wavelength": signal_wavelength,
        "pump_index": pump_index, "signal_index": signal_index, "idler_index": idler_index,
        "pump_waist": pump_waist, "signal_waist": signal_waist, "idler_waist": idler_waist,
        "length": length}
    named = {role: _find(ds, value, role) for role, value in given.items()}
    named["phi"] = _find(ds, phi, "phi", positive=False)
    for role, value in (("pump_focus", pump_focus), ("signal_focus", signal_focus),
                        ("idler_focus", idler_focus)):
        named[role] = _focus(ds, value, role)
    named = inputs.align(named)
    named["idler_wavelength"] = _idler_wavelength(ds, idler_wavelength,
                                                  named["pump_wavelength"],
                                                  named["signal_wavelength"])
    for role in ("pump_index", "signal_index", "idler_index"):
        low = named[role] < 1
        if bool(low.any()):
            raise ValueError(f"{role} must be a refractive index >= 1, not "
                             f"{inputs.positions(named[role], low.values)}")
    derived = kernel_inputs(named)
    _check_domain(derived, named)
    args = {role: (da if da.ndim else float(da)) for role, da in derived.items()}
    if not any(isinstance(a, xr.DataArray) for a in args.values()):
        args["phi"] = derived["phi"]  # all numbers: a 0-d result
    outputs = evaluate(METHODS["coupling"]["auto"], args, name="pair", workers=workers,
                       progress=progress, timeout=timeout, chunks=chunks, all_outputs=True)
    with xr.set_options(keep_attrs=False):
        k_p2 = (2 * np.pi * named["pump_index"] / named["pump_wavelength"]) ** 2
    out = {}
    for da in outputs:
        value = da * k_p2 if da.name in ("pair", "signal_singles", "idler_singles") else da
        out[da.name] = value.rename(da.name).assign_attrs(
            {**labels.COUPLING_OUTPUT_ATTRS[str(da.name)],
             "references": labels.COUPLING_REFERENCES})
    return record_inputs(xr.Dataset(out), named, {
        "model": "paraxial, collinear, Gaussian pump and fibre modes, no walk-off "
                 "(docs/physics/coupling.md)",
        "references": labels.COUPLING_REFERENCES, "xr_spdc_version": __version__})


def kernel_inputs(named: Mapping[str, xr.DataArray]) -> dict[str, xr.DataArray]:
    """The kernel's dimensionless inputs (φ, ξ_p, ξ_s, ξ_i, r_s, r_i, μ_p, μ_s, μ_i) from the
    physical ones (wavelengths, indices, waists, length, phi and foci in m), by name."""
    with xr.set_options(arithmetic_join="exact", keep_attrs=False):
        k = {b: 2 * np.pi * named[f"{b}_index"] / named[f"{b}_wavelength"]
             for b in ("pump", "signal", "idler")}
        length = named["length"]
        out = {"phi": named["phi"]}
        for b, j in (("pump", "p"), ("signal", "s"), ("idler", "i")):
            out[f"xi_{j}"] = (length / (k[b] * named[f"{b}_waist"] ** 2)).rename(f"xi_{j}")
        out["ratio_s"] = (k["signal"] / k["pump"]).rename("ratio_s")
        out["ratio_i"] = (k["idler"] / k["pump"]).rename("ratio_i")
        for b, j in (("pump", "p"), ("signal", "s"), ("idler", "i")):
            out[f"mu_{j}"] = (2 * named[f"{b}_focus"] / length).rename(f"mu_{j}")
    return out


_SOURCES = {"phi": "phi", "xi_p": "pump_waist, pump_index, pump_wavelength and length",
            "xi_s": "signal_waist, signal_index, signal_wavelength and length",
            "xi_i": "idler_waist, idler_index, idler_wavelength and length",
            "ratio_s": "the indices and wavelengths", "ratio_i": "the indices and wavelengths",
            "mu_p": "pump_focus and length", "mu_s": "signal_focus and length",
            "mu_i": "idler_focus and length"}


def _check_domain(derived: Mapping[str, xr.DataArray], named: Mapping[str, xr.DataArray]
                  ) -> None:
    """The kernel's domain check on eager values, the message naming the physical inputs."""
    if any(da.chunks is not None for da in derived.values()):
        return  # checked per chunk by the block function
    try:
        coupling_kernel.check_domain(*(np.asarray(derived[r].values) for r in (
            "phi", "xi_p", "xi_s", "xi_i", "ratio_s", "ratio_i", "mu_p", "mu_s", "mu_i")))
    except ValueError as exc:
        role = str(exc).split(" ", 1)[0]
        source = _SOURCES.get(role, "the wavelengths and indices")
        raise ValueError(f"{exc} (computed from {source}: ξ_j = L/(k_j w_j²) in "
                         f"[{coupling_kernel.XI_MIN:g}, {coupling_kernel.XI_MAX:g}], "
                         f"|focus| <= L, |phi| <= {coupling_kernel.PHI_MAX:g})") from None


def record_inputs(result: xr.Dataset, named: Mapping[str, xr.DataArray],
                  attrs: Mapping[str, Any]) -> xr.Dataset:
    """``result`` with each input: arrays as coordinates (with units), scalars as attrs."""
    extra: dict[str, Any] = dict(attrs)
    coords = {}
    for role, da in named.items():
        if da.ndim == 0:
            extra[role] = float(da)
        elif da.name not in result.coords:
            coords[da.name] = da.variable
    result = result.assign_coords(coords)
    for role, da in named.items():
        if da.ndim and da.name in result.coords:
            for key, value in labels.SOURCE_INPUT_ATTRS.get(role, {}).items():
                result.coords[da.name].attrs.setdefault(key, value)
    result.attrs.update(extra)
    return result
