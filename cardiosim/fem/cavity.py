"""A cavity whose pressure is an unknown of the elastodynamics step, fixed by a volume law.

The cavity bounded by the deformed ``marker`` surface (and a base plane through
``base_point``, :func:`cardiosim.fem.measures.cavity_volume`) carries a follower pressure p
that is not given but solved for, with the step's balance of volume

    g(V1, p1) = 0,

which a :class:`VolumeLaw` states: the circulation around a ventricle (its valves and
vessels, :mod:`cardiosim.models.ventricle3d`) says how much blood left or entered over the
step for a given cavity pressure; an isovolumic law says V1 = V0. The pressure is then the
Lagrange multiplier of the volume the law allows, and the step solves for (u1, p1) together
(a bordered Newton system, two solves with one factorisation per iteration).

The law may carry a state of its own (the node pressures of the vessels), an array kept in
the :class:`~cardiosim.fem.dynamics.DynamicState` (``law_state``), advanced only when a step
is accepted: a cut step restarts from the last good one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..errors import ParameterError


class VolumeLaw(Protocol):
    """What a cavity's volume balance needs from the model around it (SI units)."""

    def initial_state(self) -> np.ndarray:
        """The law's own state at the start (may be empty)."""

    def residual(self, state: np.ndarray, t0: float, dt: float, p0: float, p1: float, V0: float,
                 V1: float) -> tuple[float, float, float]:
        """(g, dg/dp1, dg/dV1) of the step from t0 to t0 + dt, g in m^3."""

    def advance(self, state: np.ndarray, t0: float, dt: float, p0: float, p1: float) -> np.ndarray:
        """The law's state at the end of the accepted step."""


@dataclass(frozen=True)
class Isovolumic:
    """The cavity keeps its volume: g = V1 - V0 (a sealed cavity, e.g. isovolumic phases)."""

    def initial_state(self) -> np.ndarray:
        return np.zeros(0)

    def residual(self, state, t0, dt, p0, p1, V0, V1):
        return V1 - V0, 0.0, 1.0

    def advance(self, state, t0, dt, p0, p1):
        return state


@dataclass(frozen=True)
class Cavity:
    """The cavity of ``marker`` with its pressure an unknown, fixed by ``law``.

    Parameters
    ----------
    marker : str
        Boundary whose facets point into the cavity (ENDO).
    law : VolumeLaw
    base_point : (3,) [m]
        A point of the plane closing the cavity (any point for a closed surface).
    pressure_tol : float
        Newton converges when the pressure update is below this [Pa] (and the displacement
        update below the problem's tolerance).
    """

    marker: str
    law: VolumeLaw
    base_point: tuple = (0.0, 0.0, 0.0)
    pressure_tol: float = 1e-6

    def __post_init__(self):
        object.__setattr__(self, "marker", str(self.marker))
        bp = tuple(float(v) for v in np.asarray(self.base_point, float).ravel())
        if len(bp) != 3 or not all(math.isfinite(v) for v in bp):
            raise ParameterError(f"cavity {self.marker!r}: base_point must be 3 finite coordinates [m], "
                                 f"got {self.base_point!r}")
        object.__setattr__(self, "base_point", bp)
        if not (math.isfinite(self.pressure_tol) and self.pressure_tol > 0):
            raise ParameterError(f"cavity {self.marker!r}: pressure_tol must be > 0 Pa, got {self.pressure_tol!r}")
        for name in ("initial_state", "residual", "advance"):
            if not callable(getattr(self.law, name, None)):
                raise ParameterError(f"cavity {self.marker!r}: the law {type(self.law).__name__} has no "
                                     f"{name}() (see cardiosim.fem.cavity.VolumeLaw)")
