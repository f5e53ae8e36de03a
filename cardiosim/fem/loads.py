"""Loads and boundary conditions of a quasi-static problem, each with its own time course.

The solver moves a load parameter t from 0 to 1 (:func:`cardiosim.fem.solver.solve`);
each load is its full value times its ``time_function(t)``. The default, :func:`ramp`,
is t itself: every load rises together, in proportion to the load factor.

* :class:`Pressure`: follower pressure [Pa] on a boundary marker (acts along -n, n the
  facets' orientation, outward from the solid);
* :class:`ActiveTension`: active stress T_a f0 (x) f0 [Pa] along the fibres, one value, or
  one per cell, or one per quadrature point;
* :class:`Springs`: Robin condition, traction -k u [Pa/m] on a marker (time function
  default :func:`constant`: present throughout);
* :class:`Clamp`: u = 0 (or some of its components) on the nodes of a marker.

A time function is any callable float -> float; :func:`ramp`, :func:`constant` and
:func:`delayed_ramp` cover the common cases.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError

TimeFunction = Callable[[float], float]


def ramp(t: float) -> float:
    """The load factor itself: a linear ramp from 0 at t = 0 to 1 at t = 1 (the default)."""
    return t


def constant(t: float) -> float:
    """1 at every t: the load is there at its full value from the start."""
    return 1.0


def delayed_ramp(start: float, end: float = 1.0) -> TimeFunction:
    """0 until t = ``start``, then linear up to 1 at t = ``end``, 1 after.

    ``delayed_ramp(0.5)``: held at zero over the first half of the load path.
    """
    start, end = float(start), float(end)
    if not (math.isfinite(start) and math.isfinite(end) and end > start):
        raise ParameterError(f"delayed_ramp: end = {end} must be finite and after start = {start}")

    def f(t: float) -> float:
        return min(1.0, max(0.0, (t - start) / (end - start)))

    f.__qualname__ = f"delayed_ramp({start:g}, {end:g})"
    return f


class _TimeCourse:
    """A load's scale at load parameter t: its time function, checked."""

    time_function: TimeFunction

    def scale(self, t: float) -> float:
        """``time_function(t)``: the fraction of the full value applied at t."""
        s = float(self.time_function(t))
        if not math.isfinite(s):
            raise ParameterError(f"{type(self).__name__}: time_function({t}) = {s} is not finite")
        return s


def _finite(value, what: str) -> float:
    v = float(value)
    if not math.isfinite(v):
        raise ParameterError(f"{what} must be finite, got {v}")
    return v


@dataclass(frozen=True)
class Pressure(_TimeCourse):
    """Follower pressure ``value`` [Pa] at full load on the facets of ``marker``.

    Parameters
    ----------
    marker : str
        Boundary marker of the mesh.
    value : float
        Pressure at time-function value 1 [Pa]; positive pushes against the facets'
        orientation (e.g. inflates a cavity whose ENDO facets point into it).
    time_function : callable t -> scale
        Default :func:`ramp`.
    """

    marker: str
    value: float
    time_function: TimeFunction = ramp

    def __post_init__(self):
        object.__setattr__(self, "marker", str(self.marker))
        object.__setattr__(self, "value", _finite(self.value, f"pressure on {self.marker!r}"))

    def at(self, t: float) -> float:
        """The pressure [Pa] at load parameter t."""
        return self.scale(t) * self.value


@dataclass(frozen=True, eq=False)
class ActiveTension(_TimeCourse):
    """Active tension T_a [Pa] along the fibres at full load: S += T_a f0 (x) f0.

    Parameters
    ----------
    value : float or ndarray
        One value, or one per cell (n_cells,), or one per quadrature point (n_cells, nq).
    time_function : callable t -> scale
        Default :func:`ramp`.
    """

    value: float | np.ndarray
    time_function: TimeFunction = ramp

    def __post_init__(self):
        v = np.asarray(self.value, dtype=float)
        if v.ndim > 2:
            raise ParameterError(f"active tension must be a number, (n_cells,) or (n_cells, nq), got shape {v.shape}")
        if not np.all(np.isfinite(v)):
            raise ParameterError(f"active tension must be finite, got {'nan/inf values' if v.ndim else float(v)}")
        object.__setattr__(self, "value", float(v) if v.ndim == 0 else v)

    @property
    def is_zero(self) -> bool:
        return not np.any(self.value)

    def per_point(self, n_cells: int, nq: int) -> np.ndarray:
        """The full-load tension at every quadrature point, (n_cells, nq) [Pa]."""
        v = np.asarray(self.value, dtype=float)
        if v.ndim == 1 and v.shape != (n_cells,) or v.ndim == 2 and v.shape != (n_cells, nq):
            raise ParameterError(f"active tension of shape {v.shape} does not fit the mesh: need (), "
                                 f"({n_cells},) or ({n_cells}, {nq})")
        return np.ascontiguousarray(np.broadcast_to(v[:, None] if v.ndim == 1 else v, (n_cells, nq)))


@dataclass(frozen=True)
class Springs(_TimeCourse):
    """Robin condition: traction -k u on the facets of ``marker``.

    Parameters
    ----------
    marker : str
    k : float
        Stiffness per reference area [Pa/m], >= 0.
    time_function : callable t -> scale
        Default :func:`constant` (the springs hold from the start).
    """

    marker: str
    k: float
    time_function: TimeFunction = constant

    def __post_init__(self):
        object.__setattr__(self, "marker", str(self.marker))
        k = _finite(self.k, f"spring stiffness on {self.marker!r}")
        if k < 0:
            raise ParameterError(f"spring stiffness on {self.marker!r} must be >= 0 Pa/m, got {k}")
        object.__setattr__(self, "k", k)

    def at(self, t: float) -> float:
        """The stiffness [Pa/m] at load parameter t."""
        return self.scale(t) * self.k


@dataclass(frozen=True)
class Clamp:
    """Homogeneous Dirichlet condition: u_i = 0 for i in ``components`` (default all three:
    u = 0) on every node of ``marker``. One component on a plane of symmetry through the
    origin normal to that axis (e.g. ``Clamp("XSYM", (0,))``) is the symmetry condition."""

    marker: str
    components: tuple = (0, 1, 2)

    def __post_init__(self):
        object.__setattr__(self, "marker", str(self.marker))
        comps = tuple(int(c) for c in self.components)
        if not comps or len(set(comps)) != len(comps) or any(c not in (0, 1, 2) for c in comps):
            raise ParameterError(f"Clamp on {self.marker!r}: components must be distinct values of 0, 1, 2, "
                                 f"got {self.components!r}")
        object.__setattr__(self, "components", tuple(sorted(comps)))


#: what a problem's ``loads`` may hold
Load = Pressure | ActiveTension | Springs | Clamp
