"""Sellmeier media that reproduce the poling periods of the crystals people buy.

ndispers (0.20) holds one set of equations for KTP (Kato & Takaoka 2002), which puts the
type-II 775 nm -> 1550 nm period at 45.03 um where commercial PPKTP for it is 46.1-46.2 um,
and it has no temperature-dependent equation for 5 mol% MgO-doped congruent LiNbO3, the
composition of most commercial MgO:PPLN.  This module adds both as ndispers media, written
the way ndispers writes its own (sympy expressions in wl [um] and T [degC] on ndispers'
point-group base classes), so every ndispers method (n, ng, GVD, dndT, d_eff, ...) works:

=========================  ==================================================================
``KTP_Fradkin_xy``         KTP, wave vector in the xy plane: n_z Fradkin et al. 1999, n_y
                           Konig & Wong 2004, thermo-optics Emanueli & Arie 2003; n_x Kato &
                           Takaoka 2002
``MgOLN_Gayer2008``        5 mol% MgO-doped congruent LiNbO3, n_e and n_o with temperature:
                           Gayer et al. 2008
=========================  ==================================================================

These media are not compiled by ndispers: evaluating them needs sympy (``pip install
"ndispers[sym]"``, part of xr_spdc's ``crystals`` extra).  The checks against published
poling periods are in ``tests/test_media.py``.
"""

from __future__ import annotations

from ndispers._baseclass import T, phi, pi, theta, wl
from ndispers._sym import sympy  # ndispers' lazy sympy: importing needs no sympy
from ndispers.groups import Biax_mm2, Uniax_3m

__all__ = ["KTP_Fradkin_xy", "MgOLN_Gayer2008"]


def _cubic_in_inverse_wl(a0: float, a1: float, a2: float, a3: float):  # noqa: ANN202
    """a0 + a1/wl + a2/wl^2 + a3/wl^3: the wavelength dependence of Emanueli & Arie's
    thermo-optic coefficients n_1 and n_2 (their Eq. (2))."""
    return a0 + a1 / wl + a2 / wl**2 + a3 / wl**3


class _KTP_Fradkin(Biax_mm2):
    """
    KTP (KTiOPO₄), Fradkin (n_z) + König & Wong (n_y) + Emanueli & Arie (dn/dT)

    - Point group : mm2 (C2v); dielectric axes x // a, y // b, z // c
    - Biaxial, optic axes in the xz plane

    Sellmeier equations (wl in µm)
    ------------------------------
        n_z(wl, 25 degC)**2 = A + B/(1 - C/wl**2) + D/(1 - E/wl**2) - F wl**2
            A = 2.12725, B = 1.18431, C = 5.14852e-2, D = 0.6603, E = 100.00507,
            F = 9.68956e-3
            Fradkin, Arie, Skliar & Rosenman, Appl. Phys. Lett. 74, 914 (1999),
            https://doi.org/10.1063/1.123408 (their modified n_z Sellmeier equation).
        n_y(wl, 25 degC)**2 = A + B/(1 - C/wl**2) - D wl**2
            A = 2.09930, B = 0.922683, C = 0.0467695, D = 0.0138408
            König & Wong, Appl. Phys. Lett. 84, 1644 (2004),
            https://doi.org/10.1063/1.1668320 (their n_y Sellmeier equation).
        n_x(wl, 20 degC)**2 = A + B/(wl**2 - C) + D/(wl**2 - E)
            A = 3.29100, B = 0.04140, C = 0.03978, D = 9.35522, E = 31.45571
            Kato & Takaoka, Appl. Opt. 41, 5040 (2002),
            https://doi.org/10.1364/ao.41.005040 (as in ndispers' KTP_xy).

    Thermo-optic dispersion
    -----------------------
        n_i(wl, T) = n_i(wl, 25) + n1_i(wl) (T - 25) + n2_i(wl) (T - 25)**2,  i = y, z
        n1, n2 = a0 + a1/wl + a2/wl**2 + a3/wl**3 with (Emanueli & Arie, Appl. Opt. 42,
        6661 (2003), https://doi.org/10.1364/ao.42.006661, the KTP rows of their table):
            n1_y: 6.2897e-6, 6.3061e-6, -6.0629e-6, 2.6486e-6
            n2_y: -0.14445e-8, 2.2244e-8, -3.5770e-8, 1.3470e-8
            n1_z: 9.9587e-6, 9.9228e-6, -8.9603e-6, 4.1010e-6
            n2_z: -1.1882e-8, 10.459e-8, -9.8136e-8, 3.1481e-8
        n_x(wl, T) = n_x(wl, 20) + (0.1717/wl**3 - 0.5353/wl**2 + 0.8416/wl + 0.1627)e-5 (T - 20)
            (Kato & Takaoka 2002, as in ndispers' KTP_xy).

    Validity range
    --------------
    This combination reproduces the commercial PPKTP periods from a 405 nm pump to a
    1.6 µm idler within 0.5 % near room temperature (xr_spdc's tests/test_media.py), so
    0.4-1.6 µm is the range *checked here*; wavelengths outside it give ndispers'
    ValidityWarning.  Fradkin's n_z comes from mid-infrared difference-frequency generation
    in PPKTP and König & Wong's n_y from extended-phase-matching SHG in PPKTP; Emanueli &
    Arie's coefficients from the temperature tuning of QPM in PPKTP.  The wavelength and
    temperature ranges each paper states were not re-read for this module: consult them
    before relying on the equations far from 0.4-1.6 µm or far from room temperature.

    Nonlinear optical coefficients: as ndispers' KTP_xy (Shoji et al. 1997).
    """

    _wl_range = (0.4, 1.6)  # um, the range checked against published periods

    __slots__ = ["_A_x", "_B_x", "_C_x", "_D_x", "_E_x",
                 "_A_y", "_B_y", "_C_y", "_D_y",
                 "_A_z", "_B_z", "_C_z", "_D_z", "_E_z", "_F_z"]

    # as ndispers' KTP (Shoji et al., JOSA B 14, 2268 (1997)), x // a, y // b, z // c
    _mm2_axes = ("x", "y", "z")
    _d_ref = {"d31": (2.2, 1.064, 1.064),
              "d32": (3.7, 1.064, 1.064),
              "d33": (14.6, 1.064, 1.064)}
    _d_note = ("Shoji et al. 1997, absolute, 1.064 um SHG, the values of ndispers' KTP_xy "
               "(x // a, y // b frame); Miller scaling for KTP is rough.")

    def __init__(self) -> None:
        super().__init__()
        # n_x: Kato & Takaoka 2002 (20 degC)
        self._A_x, self._B_x, self._C_x, self._D_x, self._E_x = (
            3.29100, 0.04140, 0.03978, 9.35522, 31.45571)
        # n_y: König & Wong 2004 (25 degC)
        self._A_y, self._B_y, self._C_y, self._D_y = 2.09930, 0.922683, 0.0467695, 0.0138408
        # n_z: Fradkin et al. 1999 (25 degC)
        self._A_z, self._B_z, self._C_z, self._D_z, self._E_z, self._F_z = (
            2.12725, 1.18431, 5.14852e-2, 0.6603, 100.00507, 9.68956e-3)

    def n_x_expr(self):  # noqa: ANN201
        """sympy expression: n_x(wl, T), Kato & Takaoka 2002."""
        n20 = sympy.sqrt(self._A_x + self._B_x / (wl**2 - self._C_x)
                         + self._D_x / (wl**2 - self._E_x))
        dndT = (0.1717 / wl**3 - 0.5353 / wl**2 + 0.8416 / wl + 0.1627) * 1e-5
        return n20 + dndT * (T - 20)

    def n_y_expr(self):  # noqa: ANN201
        """sympy expression: n_y(wl, T), König & Wong 2004 with Emanueli & Arie 2003."""
        n25 = sympy.sqrt(self._A_y + self._B_y / (1 - self._C_y / wl**2) - self._D_y * wl**2)
        n1 = _cubic_in_inverse_wl(6.2897e-6, 6.3061e-6, -6.0629e-6, 2.6486e-6)
        n2 = _cubic_in_inverse_wl(-0.14445e-8, 2.2244e-8, -3.5770e-8, 1.3470e-8)
        return n25 + n1 * (T - 25) + n2 * (T - 25)**2

    def n_z_expr(self):  # noqa: ANN201
        """sympy expression: n_z(wl, T), Fradkin et al. 1999 with Emanueli & Arie 2003."""
        n25 = sympy.sqrt(self._A_z + self._B_z / (1 - self._C_z / wl**2)
                         + self._D_z / (1 - self._E_z / wl**2) - self._F_z * wl**2)
        n1 = _cubic_in_inverse_wl(9.9587e-6, 9.9228e-6, -8.9603e-6, 4.1010e-6)
        n2 = _cubic_in_inverse_wl(-1.1882e-8, 10.459e-8, -9.8136e-8, 3.1481e-8)
        return n25 + n1 * (T - 25) + n2 * (T - 25)**2


class KTP_Fradkin_xy(_KTP_Fradkin):
    """
    KTP, xy plane: n_z Fradkin 1999, n_y König & Wong 2004, dn/dT Emanueli & Arie 2003

    The geometry of ndispers' ``KTP_xy`` (theta = pi/2, phi varies; phi = 0 is propagation
    along x, the usual PPKTP cut): the o-wave is polarised along z, the e-wave (at phi = 0)
    along y.  Type-II PPKTP (pump y, signal y, idler z) is ``"eeo"``; type-0 is ``"ooo"``.

    Equations, coefficients, sources and validity: see ``_KTP_Fradkin`` in
    ``xr_spdc.physics.media`` (Fradkin et al., https://doi.org/10.1063/1.123408; König &
    Wong, https://doi.org/10.1063/1.1668320; Emanueli & Arie,
    https://doi.org/10.1364/ao.42.006661; Kato & Takaoka,
    https://doi.org/10.1364/ao.41.005040).
    """

    __slots__ = []

    def __init__(self) -> None:
        super().__init__()
        # the slots are ndispers' Medium's, which mypy cannot see (ndispers is untyped)
        self._plane = "xy"  # type: ignore[misc]
        self._theta_rad = 0.5 * pi  # type: ignore[misc]
        self._phi_rad = "var"  # type: ignore[misc]

    def n_o_expr(self):  # noqa: ANN201
        """sympy expression: the o-wave of the xy plane is polarised along z."""
        return self.n_z_expr()

    def n_e_expr(self):  # noqa: ANN201
        """sympy expression: the e-wave of the xy plane (n_y along x, n_x along y)."""
        nx, ny = self.n_x_expr(), self.n_y_expr()
        return nx * ny / sympy.sqrt(nx**2 * sympy.cos(phi)**2 + ny**2 * sympy.sin(phi)**2)

    def n_expr(self, pol):  # noqa: ANN001, ANN201
        """sympy expression for ``pol`` in {'o', 'e'}."""
        if pol == "o":
            return self.n_o_expr()
        if pol == "e":
            return self.n_e_expr()
        raise ValueError(f"pol = {pol!r} must be 'o' or 'e'")


class MgOLN_Gayer2008(Uniax_3m):
    """
    5 mol% MgO-doped congruent LiNbO₃, both rays, with temperature (Gayer et al. 2008)

    - Point group : 3m (C3v); negative uniaxial, optic axis z // c

    Sellmeier equation (wl in µm, T in degC)
    ----------------------------------------
        n**2 = a1 + b1 f + (a2 + b2 f)/(wl**2 - (a3 + b3 f)**2) + (a4 + b4 f)/(wl**2 - a5**2)
               - a6 wl**2                              (Gayer et al. 2008, Eq. 2)
        f = (T - 24.5)(T + 24.5 + 2 x 273.16)          (Eq. 3)

        5% MgO:CLN, n_e:  a1 = 5.756, a2 = 0.0983, a3 = 0.2020, a4 = 189.32, a5 = 12.52,
                          a6 = 1.32e-2, b1 = 2.860e-6, b2 = 4.700e-8, b3 = 6.113e-8,
                          b4 = 1.516e-4
        5% MgO:CLN, n_o:  a1 = 5.653, a2 = 0.1185, a3 = 0.2091, a4 = 89.61, a5 = 10.85,
                          a6 = 1.97e-2, b1 = 7.941e-7, b2 = 3.134e-8, b3 = -4.641e-9,
                          b4 = -2.188e-6

    Ref: Gayer, Sacks, Galun & Arie, Appl. Phys. B 91, 343-348 (2008),
    https://doi.org/10.1007/s00340-008-2998-2, Table 1 (the 5% MgO:CLN columns; ndispers'
    ``SLN`` holds the same paper's 1% MgO:SLN column).  The n_e set is the one Covesion
    publishes for its MgO:PPLN (covesion.com, "Technical guide: material properties of
    lithium niobate"), whose table of n_e values this class reproduces to 1e-4; the n_o set
    is as transcribed by SPDCalc (``LiNb_MgO``), which cites the same paper.

    Validity range
    --------------
    0.5-4 µm and 20-200 degC, the paper's range (as quoted with its Eqs. 2-3 and Table 1
    in emircbngl/blender-optics-simulator PR #44, whose author had the paper, and as
    ndispers' SLN states for the same paper); wavelengths outside it give ndispers'
    ValidityWarning.  b4 = 1.516e-4 for n_e (an earlier PyNLO transcription had 1.526e-5:
    PyNLO issue #55).
    Covesion tabulates n_e from 0.532 to 3.5 µm and 30 to 150 degC.  Like every Gayer
    set (see ndispers' SLN), the equation was fitted to quasi-phase-matching data, i.e. to
    index differences: periods, tuning and group velocities are what it constrains; the
    absolute thermo-optic coefficient it implies is not a measured one.

    Nonlinear optical coefficients: Shoji et al., JOSA B 14, 2268 (1997), 5% MgO:LiNbO3 at
    1.064 µm (d33 = 25.0, d31 = 4.4 pm/V), d22 of congruent LiNbO3 (Roberts 1992), as
    ndispers' MgOLN_Zelmon1997.
    """

    _wl_range = (0.5, 4.0)  # um, Sellmeier validity (see docstring)

    __slots__ = ["_a_e", "_b_e", "_a_o", "_b_o"]

    _d_ref = {"d33": (25.0, 1.064, 1.064),
              "d31": (4.4, 1.064, 1.064),
              "d22": (-2.1, 1.064, 1.064)}
    _d_note = ("d33 and d31: Shoji et al. 1997 (5%MgO:LiNbO3, 1.064 um SHG); d22: Roberts "
               "1992 (congruent LiNbO3), as ndispers' MgOLN_Zelmon1997.")

    def __init__(self) -> None:
        super().__init__()
        # the slots are ndispers' Medium's, which mypy cannot see (ndispers is untyped)
        self._plane = "arb"  # type: ignore[misc]
        self._theta_rad = "var"  # type: ignore[misc]
        self._phi_rad = "arb"  # type: ignore[misc]
        # Gayer et al. 2008, Table 1: (a1, ..., a6) and (b1, ..., b4)
        self._a_e = (5.756, 0.0983, 0.2020, 189.32, 12.52, 1.32e-2)
        self._b_e = (2.860e-6, 4.700e-8, 6.113e-8, 1.516e-4)
        self._a_o = (5.653, 0.1185, 0.2091, 89.61, 10.85, 1.97e-2)
        self._b_o = (7.941e-7, 3.134e-8, -4.641e-9, -2.188e-6)

    @staticmethod
    def f_expr():  # noqa: ANN205
        """Gayer's temperature parameter f = (T - 24.5)(T + 24.5 + 2 x 273.16)."""
        return (T - 24.5) * (T + 24.5 + 2 * 273.16)

    @classmethod
    def _gayer(cls, a, b):  # noqa: ANN001, ANN206
        f = cls.f_expr()
        return sympy.sqrt(a[0] + b[0] * f + (a[1] + b[1] * f) / (wl**2 - (a[2] + b[2] * f)**2)
                          + (a[3] + b[3] * f) / (wl**2 - a[4]**2) - a[5] * wl**2)

    def n_o_expr(self):  # noqa: ANN201
        """sympy expression: ordinary index."""
        return self._gayer(self._a_o, self._b_o)

    def n_e_expr(self):  # noqa: ANN201
        """sympy expression: extraordinary index along z."""
        return self._gayer(self._a_e, self._b_e)

    def n_expr(self, pol):  # noqa: ANN001, ANN201
        """sympy expression for ``pol``: 'o', or the e-wave at polar angle theta."""
        if pol == "o":
            return self.n_o_expr()
        if pol == "e":
            no, ne = self.n_o_expr(), self.n_e_expr()
            return no * ne / sympy.sqrt(ne**2 * sympy.cos(theta)**2
                                        + no**2 * sympy.sin(theta)**2)
        raise ValueError(f"pol = {pol!r} must be 'o' or 'e'")
