"""Hyperelastic laws of the myocardium: parameter dataclasses and their Numba kernels.

The kernels (:mod:`cardiosim.materials.laws`) are plain ``@njit`` functions over arrays,
called by the finite-element core per quadrature point::

    W = laws.stress_tangent(law.kind, C, R, law.pack(), S, D)   # S (3x3), D (6x6) filled
    laws.active_stress(Ta, R, S)                                 # S += Ta f0 (x) f0

with ``R`` the 3x3 array whose rows are f0, s0, n0. See :mod:`cardiosim.materials.laws` for
the conventions (Voigt order, engineering strains, split into isochoric and volumetric
parts) and the closed forms. SI units: stiffnesses and kappa in Pa.

Bulk modulus. Each law has a field ``kappa`` [Pa]; ``None`` (the default) means
``KAPPA_FACTOR * law.reference_modulus`` (1000 x the law's largest small-strain modulus,
see each class), recomputed from the current parameters, so that copies with a changed
stiffness keep a consistent penalty. :attr:`bulk_modulus` is the value in use. This is a
near-incompressible default, not a converged one: the FE core is to test locking and the
incompressibility error (e.g. volume of the Land ellipsoid wall) with it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..params import param, validate, with_values
from . import laws
from .laws import (
    CARUEL,
    GUCCIONE,
    HOLZAPFEL_OGDEN,
    HOLZAPFEL_OGDEN_SMOOTH,
    NEO_HOOKE,
    active_stress,
    stress,
    stress_tangent,
)

#: default bulk modulus = KAPPA_FACTOR x the law's reference (largest small-strain) modulus
KAPPA_FACTOR = 1000.0

__all__ = [
    "CARUEL",
    "GUCCIONE",
    "Caruel",
    "HOLZAPFEL_OGDEN",
    "HOLZAPFEL_OGDEN_SMOOTH",
    "KAPPA_FACTOR",
    "NEO_HOOKE",
    "Guccione",
    "HolzapfelOgden",
    "HolzapfelOgdenSmooth",
    "NeoHooke",
    "active_stress",
    "laws",
    "stress",
    "stress_tangent",
]


def _kappa_field():
    return param(None, "Pa", "pressure",
                 doc="bulk modulus of the penalty (kappa/4)(J^2 - 1 - 2 ln J); "
                     "None: KAPPA_FACTOR x reference_modulus")


class _Law:
    """Shared behaviour: validation, the effective bulk modulus, packing."""

    kind: ClassVar[int]
    _order: ClassVar[tuple[str, ...]]  # fields packed before kappa, in kernel order

    def __post_init__(self):
        # params.validate checks every field with a unit; kappa=None means "automatic",
        # so it is checked with its automatic value put in place for the duration.
        if self.kappa is None:
            object.__setattr__(self, "kappa", 1.0)
            try:
                validate(self)
            finally:
                object.__setattr__(self, "kappa", None)
        else:
            validate(self)

    @property
    def reference_modulus(self) -> float:  # pragma: no cover - each law defines it
        raise NotImplementedError

    @property
    def bulk_modulus(self) -> float:
        """The kappa in use [Pa]: ``kappa`` if given, else KAPPA_FACTOR x reference_modulus."""
        if self.kappa is None:
            return KAPPA_FACTOR * self.reference_modulus
        return float(self.kappa)

    def pack(self) -> np.ndarray:
        """The ``prm`` array of the kernels: the fields in ``_order``, then kappa."""
        return np.array([float(getattr(self, n)) for n in self._order] + [self.bulk_modulus],
                        dtype=np.float64)

    def with_values(self, values: Mapping[str, Any]):
        """Copy with parameters set from numbers (SI) or strings with units ("2 kPa")."""
        return with_values(self, values)

    def energy_stress_tangent(self, C, R=None) -> tuple[float, np.ndarray, np.ndarray]:
        """Convenience for one point (not for loops): (W, S, D) at ``C`` with frame ``R``
        (rows f0, s0, n0; identity if None)."""
        C = np.ascontiguousarray(C, dtype=np.float64)
        R = np.eye(3) if R is None else np.ascontiguousarray(R, dtype=np.float64)
        S, D = np.empty((3, 3)), np.empty((6, 6))
        W = stress_tangent(self.kind, C, R, self.pack(), S, D)
        return W, S, D


@dataclass(frozen=True)
class NeoHooke(_Law):
    """Compressible neo-Hooke: W = (mu/2)(I1bar - 3) + U(J), isotropic (R ignored).

    prm = [mu, kappa]. Small-strain shear modulus mu, bulk modulus kappa
    (lambda = kappa - 2 mu/3); reference_modulus = mu.
    """

    mu: float = param(dataclasses.MISSING, "Pa", "pressure", doc="shear modulus")
    kappa: float | None = _kappa_field()

    kind: ClassVar[int] = NEO_HOOKE
    _order: ClassVar[tuple[str, ...]] = ("mu",)

    @property
    def reference_modulus(self) -> float:
        return float(self.mu)


@dataclass(frozen=True)
class Guccione(_Law):
    """Guccione et al. (1991) transversely isotropic exponential law (J. Biomech. Eng.
    113:42-55), as in the Land et al. (2015) benchmark (Proc. R. Soc. A 471:20150641), on
    the isochoric strain:

    W = (C/2)(exp(Q) - 1) + U(J),
    Q = b_f E_ff^2 + b_t (E_ss^2 + E_nn^2 + 2 E_sn^2) + b_fs (2 E_fs^2 + 2 E_fn^2),
    E = (Cbar - I)/2 in the (f, s, n) frame.

    prm = [C, b_f, b_t, b_fs, kappa]. ``C`` here is the stiffness (often C_g), not the
    Cauchy-Green tensor. Small strain: the isochoric tangent is C (b_ab-weighted identity),
    so with b_f = b_t = b_fs = 1 the shear modulus is C/2. reference_modulus =
    C max(b_f, b_t, b_fs)/2 (the largest small-strain modulus). Defaults: Land Problem 1/3.
    """

    C: float = param(2.0e3, "Pa", "pressure", doc="stiffness C (C_g)")
    b_f: float = param(8.0, "1", "dimensionless", doc="fibre exponent")
    b_t: float = param(2.0, "1", "dimensionless", doc="transverse exponent")
    b_fs: float = param(4.0, "1", "dimensionless", doc="fibre-transverse shear exponent")
    kappa: float | None = _kappa_field()

    kind: ClassVar[int] = GUCCIONE
    _order: ClassVar[tuple[str, ...]] = ("C", "b_f", "b_t", "b_fs")

    @property
    def reference_modulus(self) -> float:
        return 0.5 * float(self.C) * max(self.b_f, self.b_t, self.b_fs)

    @classmethod
    def land2015_problem1(cls, kappa: float | None = None) -> Guccione:
        """Land et al. 2015, Problem 1 (beam): C = 2 kPa, b_f = 8, b_t = 2, b_fs = 4."""
        return cls(C=2.0e3, b_f=8.0, b_t=2.0, b_fs=4.0, kappa=kappa)

    @classmethod
    def land2015_problem2(cls, kappa: float | None = None) -> Guccione:
        """Land et al. 2015, Problem 2 (passive ellipsoid): C = 10 kPa, b_f = b_t = b_fs = 1
        (isotropic: Q = E:E, no fibre field needed)."""
        return cls(C=10.0e3, b_f=1.0, b_t=1.0, b_fs=1.0, kappa=kappa)

    @classmethod
    def land2015_problem3(cls, kappa: float | None = None) -> Guccione:
        """Land et al. 2015, Problem 3 (active ellipsoid): same as Problem 1."""
        return cls.land2015_problem1(kappa)


@dataclass(frozen=True)
class HolzapfelOgden(_Law):
    """Holzapfel & Ogden (2009) orthotropic law as used in cardiac codes:

    W = a/(2b)(exp(b(I1bar - 3)) - 1) + sum_{i=f,s} a_i/(2b_i)(exp(b_i (I4i - 1)_+^2) - 1)
        + a_fs/(2b_fs)(exp(b_fs I8fs^2) - 1) + U(J),

    isotropic term on the isochoric I1bar, fibre/sheet/fibre-sheet terms on the FULL C
    (I4f = f0.C f0, I4s = s0.C s0, I8fs = f0.C s0), fibres and sheets only in tension.
    See :mod:`cardiosim.materials.laws` for why.

    prm = [a, b, a_f, b_f, a_s, b_s, a_fs, b_fs, kappa]. ``a`` and the exponents must be
    > 0; a_f, a_s, a_fs may be 0 (switches the term off, e.g. transversely isotropic).
    Small-strain shear modulus of the isotropic part: a. reference_modulus =
    max(a, a_f, a_s, a_fs). Defaults: :meth:`holzapfel_ogden2009`.
    """

    a: float = param(59.0, "Pa", "pressure", doc="isotropic stiffness")
    b: float = param(8.023, "1", "dimensionless", doc="isotropic exponent")
    a_f: float = param(18472.0, "Pa", "pressure", "nonnegative", doc="fibre stiffness")
    b_f: float = param(16.026, "1", "dimensionless", doc="fibre exponent")
    a_s: float = param(2481.0, "Pa", "pressure", "nonnegative", doc="sheet stiffness")
    b_s: float = param(11.120, "1", "dimensionless", doc="sheet exponent")
    a_fs: float = param(216.0, "Pa", "pressure", "nonnegative", doc="fibre-sheet stiffness")
    b_fs: float = param(11.436, "1", "dimensionless", doc="fibre-sheet exponent")
    kappa: float | None = _kappa_field()

    kind: ClassVar[int] = HOLZAPFEL_OGDEN
    _order: ClassVar[tuple[str, ...]] = ("a", "b", "a_f", "b_f", "a_s", "b_s", "a_fs", "b_fs")

    @property
    def reference_modulus(self) -> float:
        return float(max(self.a, self.a_f, self.a_s, self.a_fs))

    @classmethod
    def holzapfel_ogden2009(cls, kappa: float | None = None) -> HolzapfelOgden:
        """a = 0.059 kPa, b = 8.023, a_f = 18.472 kPa, b_f = 16.026, a_s = 2.481 kPa,
        b_s = 11.120, a_fs = 0.216 kPa, b_fs = 11.436.

        Holzapfel & Ogden, Phil. Trans. R. Soc. A 367:3445-3475 (2009), fit to the
        shear data of Dokos et al. (2002), *as commonly quoted* (pulse / fenicsx-pulse
        defaults; the same moduli in Pa appear in third-party cardiac benchmark code).
        TO BE CHECKED against the paper's table: not read in the paper itself, and
        third-party code also quotes a_s as 2.841 or 2.184 kPa.
        """
        return cls(a=59.0, b=8.023, a_f=18472.0, b_f=16.026, a_s=2481.0, b_s=11.120,
                   a_fs=216.0, b_fs=11.436, kappa=kappa)


@dataclass(frozen=True)
class HolzapfelOgdenSmooth(HolzapfelOgden):
    """:class:`HolzapfelOgden` with the tension switch of the fibres and sheets smoothed:

    a_i/(2b_i) H(I4i - 1)(exp(b_i (I4i - 1)^2) - 1),  H(x) = 1/(1 + exp(-k x)),

    smooth at I4 = 1 (no kink for Newton to straddle) and tending to the hard switch as k
    grows. prm = [a, b, a_f, b_f, a_s, b_s, a_fs, b_fs, k, kappa]. Defaults:
    :meth:`arostica2025`.
    """

    k: float = param(100.0, "1", "dimensionless", doc="sharpness of the tension switch")

    kind: ClassVar[int] = HOLZAPFEL_OGDEN_SMOOTH
    _order: ClassVar[tuple[str, ...]] = ("a", "b", "a_f", "b_f", "a_s", "b_s", "a_fs", "b_fs", "k")

    @classmethod
    def arostica2025(cls) -> HolzapfelOgdenSmooth:
        """The cardiac elastodynamics benchmark's law (Arostica et al. 2025, CMAME 435:117485):
        the Holzapfel-Ogden moduli of :meth:`HolzapfelOgden.holzapfel_ogden2009`, switch
        sharpness k = 100, penalty kappa = 1e6 Pa (compressible, not run incompressible)."""
        return cls(a=59.0, b=8.023, a_f=18472.0, b_f=16.026, a_s=2481.0, b_s=11.120,
                   a_fs=216.0, b_fs=11.436, kappa=1e6, k=100.0)


@dataclass(frozen=True)
class Caruel(_Law):
    """The exponential law of the 0D spherical ventricle (Caruel et al. 2014, Biomech.
    Model. Mechanobiol. 13:897-914) in 3D, on the isochoric invariants:

    W = C0 (exp(C1 (I1bar - 3)^2) - 1) + C2 (exp(C3 (I4bar - 1)^2) - 1) + U(J),
    I4bar - 1 = A : (Cbar - I),  A = (1 - delta) f0 (x) f0 + delta s0 (x) s0.

    ``delta`` spreads the fibre term over the f0-s0 plane: 1/2 on a spherical shell with
    f0, s0 tangent gives exactly the 0D model's passive stress (its J4 = C is the same in
    every tangent direction); 0 is one fibre family along f0.

    prm = [C0, C1, C2, C3, delta, kappa]. The isotropic term has no small-strain stiffness
    (I1bar - 3 is second order in the strain), so reference_modulus is the fibre term's
    8 C2 C3 (or C0 if that is zero). Defaults: :meth:`caruel2014`.
    """

    C0: float = param(1.9e3, "Pa", "pressure", doc="isotropic stiffness")
    C1: float = param(0.11, "1", "dimensionless", doc="isotropic exponent")
    C2: float = param(1.9e3, "Pa", "pressure", "nonnegative", doc="fibre stiffness")
    C3: float = param(0.11, "1", "dimensionless", "nonnegative", doc="fibre exponent")
    delta: float = param(0.0, "1", "dimensionless", "nonnegative",
                         doc="share of the fibre term along s0 (1/2: even in the f0-s0 plane)")
    kappa: float | None = _kappa_field()

    kind: ClassVar[int] = CARUEL
    _order: ClassVar[tuple[str, ...]] = ("C0", "C1", "C2", "C3", "delta")

    def __post_init__(self):
        super().__post_init__()
        if not 0.0 <= self.delta <= 1.0:
            from ..errors import ParameterError

            raise ParameterError(f"Caruel.delta must be in [0, 1], got {self.delta}")

    @property
    def reference_modulus(self) -> float:
        m = 8.0 * float(self.C2) * float(self.C3)
        return m if m > 0 else float(self.C0)

    @classmethod
    def caruel2014(cls, delta: float = 0.5, kappa: float | None = None) -> Caruel:
        """C0 = C2 = 1.9 kPa, C1 = C3 = 0.11: the 0D sphere's baseline
        (:meth:`cardiosim.SphereParameters.caruel2014`), fibres even in the tangent plane."""
        return cls(C0=1.9e3, C1=0.11, C2=1.9e3, C3=0.11, delta=delta, kappa=kappa)
