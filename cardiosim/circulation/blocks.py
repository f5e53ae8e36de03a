"""Circulation blocks around one ventricle: preload, valves and a linear vascular network.

A ventricle exchanges two flows with its circulation, ``q = (Q_in, Q_out)`` [m^3/s]: the
inflow through the inlet (atrioventricular) valve and the outflow through the outlet
valve. The vasculature is a linear block with ``n`` compliance-node pressures ``x`` [Pa]::

    dx/dt = A x + B q + f,        p = E x + Z q,

``p = (P_in, P_out)`` being the pressures upstream of the inlet valve and downstream of the
outlet valve. An *open-loop* circulation (every afterload here) leaves ``P_in`` to a
prescribed :class:`AtrialPreload`; a *closed-loop* block (:class:`ClosedLoopWindkessel`)
returns the venous blood to an atrial compliance, so ``P_in`` becomes a state too.

The step contract. Over a step of length h the trapezoidal rule gives the block's residual
``R(x1, q) = (x1 - x0)/h - A (x0 + x1)/2 - B q - f``, whose tangent ``dR/dx1 = I/h - A/2``
and ``dR/dq = -B`` are constant, ``f`` holds the time-dependent part and the valves
(:class:`Valve`) the state-dependent (nonlinear) part. Solving R = 0 for x1 condenses the
block onto the ventricle: ``x1 = x_free + G q`` and, at the step mid-point,
``p = alpha + beta q`` (:meth:`LinearSystem.condense`). A ventricle (the 0D sphere now, a
3D cavity later) needs nothing else; the Numba twins are in :mod:`.kernels`.
SI units throughout: Pa, m^3, s; resistances Pa s/m^3, compliances m^3/Pa.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import ParameterError
from ..params import param, validate
from ..units import convert
from . import kernels as CK

RES = "resistance"
COMP = "compliance"


@dataclass(frozen=True)
class Valve:
    """Valve between two pressures, flow Q = dp / R(dp) with dp = P_upstream - P_downstream.

    ``kind="smooth"`` (default): R(dp) = R_open + (R_closed - R_open) (1 - tanh(k dp)) / 2,
    the law of svZeroDSolver's ``ValveTanh``. It is the default because it is smooth, so
    Newton converges quadratically through opening and closing, and it tends to the ideal
    diode as k grows. ``kind="ideal"``: Q = dp / R_open if dp > 0 else dp / R_closed (a
    diode with a closed-state leak); its kink can make Newton hesitate at the switching step.
    Dissipation Q dp >= 0 for both.
    """

    r_open: float = param(1.1e5, "Pa*s/m^3", RES, doc="resistance when open")
    r_closed: float = param(2.0e9, "Pa*s/m^3", RES, doc="resistance when closed (leak)")
    steepness: float = param(10.0, "1/Pa", None, doc="k of the tanh switch")
    kind: str = "smooth"

    def __post_init__(self):
        validate(self)
        if self.kind not in ("smooth", "ideal"):
            raise ParameterError(f"Valve.kind must be 'smooth' or 'ideal', got {self.kind!r}")
        if not self.r_closed > self.r_open:
            raise ParameterError(f"Valve.r_closed ({self.r_closed}) must exceed r_open ({self.r_open})")

    @classmethod
    def caruel2014_inlet(cls) -> "Valve":
        """Atrioventricular valve of svZeroDSolver's Caruel test case."""
        return cls(r_open=1.1e5, r_closed=2.0e9, steepness=10.0)

    @classmethod
    def caruel2014_outlet(cls) -> "Valve":
        """Ventriculo-arterial valve of svZeroDSolver's Caruel test case."""
        return cls(r_open=7.7e4, r_closed=2.0e9, steepness=10.0)

    def flow(self, dp: np.ndarray) -> np.ndarray:
        """Flow [m^3/s] for pressure drop ``dp`` [Pa] (NumPy reference of the kernel law)."""
        dp = np.asarray(dp, dtype=float)
        if self.kind == "ideal":
            return np.where(dp > 0, dp / self.r_open, dp / self.r_closed)
        r = self.r_open + (self.r_closed - self.r_open) * 0.5 * (1 - np.tanh(self.steepness * dp))
        return dp / r

    def conductance(self, dp: np.ndarray) -> np.ndarray:
        """dQ/d(dp) [m^3/(s Pa)]: the state-dependent tangent of the valve."""
        dp = np.asarray(dp, dtype=float)
        if self.kind == "ideal":
            return np.where(dp > 0, 1.0 / self.r_open, 1.0 / self.r_closed)
        th = np.tanh(self.steepness * dp)
        r = self.r_open + (self.r_closed - self.r_open) * 0.5 * (1 - th)
        dr = -(self.r_closed - self.r_open) * 0.5 * self.steepness * (1 - th * th)
        return (r - dp * dr) / (r * r)

    def step_residual(self, q: float, p_up: float, p_down: float) -> float:
        """Residual Q - Q(dp) of the valve's unknown Q, dp at the step mid-point."""
        return q - float(self.flow(p_up - p_down))

    def step_tangent(self, p_up: float, p_down: float) -> tuple[float, float, float]:
        """Derivatives of :meth:`step_residual` by (Q, P_up, P_down)."""
        g = float(self.conductance(p_up - p_down))
        return 1.0, -g, g

    def pack(self) -> list[float]:
        return [0.0 if self.kind == "smooth" else 1.0, self.r_open, self.r_closed, self.steepness]


@dataclass(frozen=True)
class AtrialPreload:
    """Atrial (filling) pressure: constant, or a waveform over the beat.

    ``waveform`` is a pair (phase, pressure [Pa]) with phase in [0, 1] of each beat;
    pressure is interpolated linearly and held constant outside the given phases.
    """

    pressure: float = param(800.0, "Pa", "pressure", doc="constant atrial pressure")
    waveform: tuple | None = None

    def __post_init__(self):
        validate(self)
        if self.waveform is not None:
            phase, p = (np.asarray(a, dtype=float) for a in self.waveform)
            if phase.ndim != 1 or phase.shape != p.shape or phase.size < 2:
                raise ParameterError("AtrialPreload.waveform must be two 1-D arrays of equal length >= 2")
            if not (np.all(np.isfinite(phase)) and np.all(np.isfinite(p))):
                raise ParameterError("AtrialPreload.waveform contains NaN or inf")
            if np.any(np.diff(phase) < 0) or phase[0] < 0 or phase[-1] > 1:
                raise ParameterError("AtrialPreload.waveform phases must increase within [0, 1]")
            if np.any(p <= 0):
                raise ParameterError(f"AtrialPreload.waveform pressures must be > 0 Pa, min {p.min()}")

    @classmethod
    def caruel2014(cls) -> "AtrialPreload":
        """Constant 800 Pa (6.0 mmHg), svZeroDSolver's Caruel test case."""
        return cls(pressure=800.0)

    def pressure_at(self, phase: np.ndarray) -> np.ndarray:
        """Atrial pressure [Pa] at ``phase`` in [0, 1] of the beat: the time-dependent part."""
        ph, p = self.table()
        return np.interp(phase, ph, p) if ph.size > 1 else np.full(np.shape(phase), p[0])

    def table(self) -> tuple[np.ndarray, np.ndarray]:
        """(phase, pressure [Pa]) table that the kernels interpolate."""
        if self.waveform is None:
            return np.array([0.0]), np.array([self.pressure])
        phase, p = self.waveform
        return np.asarray(phase, dtype=float), np.asarray(p, dtype=float)


@dataclass(frozen=True)
class LinearSystem:
    """``dx/dt = A x + B q + f``, ``p = E x + Z q`` with q = (Q_in, Q_out), p = (P_in, P_out).

    Shapes: A (n, n), B (n, 2), f (n,), E (2, n), Z (2, 2); SI units.
    """

    A: np.ndarray
    B: np.ndarray
    f: np.ndarray
    E: np.ndarray
    Z: np.ndarray

    @property
    def n(self) -> int:
        return self.A.shape[0]

    @property
    def closes_loop(self) -> bool:
        """True when the inlet pressure is a state of the block (no prescribed preload)."""
        return bool(np.any(self.E[0] != 0.0) or np.any(self.Z[0] != 0.0))

    def step_residual(self, x0: np.ndarray, x1: np.ndarray, q: np.ndarray, h: float) -> np.ndarray:
        """Trapezoidal residual over a step, (x1 - x0)/h - A (x0 + x1)/2 - B q - f."""
        return (x1 - x0) / h - self.A @ (0.5 * (x0 + x1)) - self.B @ q - self.f

    def step_tangent(self, h: float) -> tuple[np.ndarray, np.ndarray]:
        """(dR/dx1, dR/dq) of :meth:`step_residual`: constant for a given step length."""
        return np.eye(self.n) / h - 0.5 * self.A, -self.B

    def condense(self, x0: np.ndarray, h: float):
        """(x_free, G, alpha, beta): x1 = x_free + G q and mid-step p = alpha + beta q."""
        Jx, Jq = self.step_tangent(h)
        x_free = np.linalg.solve(Jx, x0 / h + 0.5 * self.A @ x0 + self.f)
        G = -np.linalg.solve(Jx, Jq)
        alpha = self.E @ (0.5 * (x0 + x_free))
        beta = self.Z + 0.5 * self.E @ G
        return x_free, G, alpha, beta

    def pack(self) -> list[float]:
        """Flat layout read by :mod:`.kernels` (offsets from ``kernels.offsets``)."""
        return [*self.A.ravel(), *self.B[:, 0], *self.B[:, 1], *self.f, *self.E[0], *self.E[1],
                *self.Z.ravel()]


def _outlet_system(A, b, f, e, Z) -> LinearSystem:
    """An open-loop afterload: the outflow enters through b, the entry pressure is e.x + Z Q."""
    A = np.asarray(A, float)
    n = A.shape[0]
    B = np.zeros((n, 2))
    B[:, 1] = b
    E = np.zeros((2, n))
    E[1] = e
    Zm = np.zeros((2, 2))
    Zm[1, 1] = Z
    return LinearSystem(A, B, np.asarray(f, float), E, Zm)


class Afterload:
    """Base of the linear vascular blocks; subclasses define :meth:`linear_system`.

    ``state_names`` name the compliance-node pressures (the block's unknowns) in order.
    """

    state_names: tuple[str, ...] = ()

    def linear_system(self) -> LinearSystem:
        raise NotImplementedError

    def initial_state(self, p_arterial: float, p_atrial: float | None = None) -> np.ndarray:
        """Node pressures [Pa] for a start at arterial pressure ``p_arterial``."""
        return np.full(len(self.state_names), p_arterial)


@dataclass(frozen=True)
class Windkessel2(Afterload):
    """Two-element Windkessel: C dP/dt = Q - (P - P_venous)/R, P_entry = P."""

    R: float = param(1.0e8, "Pa*s/m^3", RES, doc="peripheral resistance")
    C: float = param(1.25e-8, "m^3/Pa", COMP, doc="arterial compliance")
    P_venous: float = param(1000.0, "Pa", "pressure", "nonnegative", doc="outflow pressure")
    state_names = ("P_ar",)

    def __post_init__(self):
        validate(self)

    def linear_system(self) -> LinearSystem:
        return _outlet_system([[-1.0 / (self.R * self.C)]], [1.0 / self.C],
                              [self.P_venous / (self.R * self.C)], [1.0], 0.0)


@dataclass(frozen=True)
class Windkessel3(Afterload):
    """Three-element Windkessel: P_entry = P_c + Zc Q, C dP_c/dt = Q - (P_c - P_venous)/R."""

    Zc: float = param(8.0e6, "Pa*s/m^3", RES, doc="characteristic impedance")
    R: float = param(1.0e8, "Pa*s/m^3", RES, doc="peripheral resistance")
    C: float = param(1.25e-8, "m^3/Pa", COMP, doc="arterial compliance")
    P_venous: float = param(1000.0, "Pa", "pressure", "nonnegative", doc="outflow pressure")
    state_names = ("P_c",)

    def __post_init__(self):
        validate(self)

    def linear_system(self) -> LinearSystem:
        return _outlet_system([[-1.0 / (self.R * self.C)]], [1.0 / self.C],
                              [self.P_venous / (self.R * self.C)], [1.0], self.Zc)


@dataclass(frozen=True)
class TwoStageWindkessel(Afterload):
    """Proximal (C_p, R_p) and distal (C_d, R_d) stages, Caruel et al. 2014.

    C_p dP_ar/dt = Q - (P_ar - P_d)/R_p
    C_d dP_d/dt  = (P_ar - P_d)/R_p - (P_d - P_venous)/R_d
    P_entry = P_ar (the arterial pressure an arterial line measures).
    """

    Cp: float = param(2.5e-9, "m^3/Pa", COMP, doc="proximal compliance")
    Rp: float = param(8.0e6, "Pa*s/m^3", RES, doc="proximal resistance")
    Cd: float = param(1.0e-8, "m^3/Pa", COMP, doc="distal compliance")
    Rd: float = param(1.0e8, "Pa*s/m^3", RES, doc="distal resistance")
    P_venous: float = param(1000.0, "Pa", "pressure", "nonnegative", doc="venous pressure")
    state_names = ("P_ar", "P_d")

    def __post_init__(self):
        validate(self)

    @classmethod
    def caruel2014(cls) -> "TwoStageWindkessel":
        """Two-stage Windkessel of svZeroDSolver's Caruel test case (Caruel et al. 2014)."""
        return cls(Cp=2.5e-9, Rp=8.0e6, Cd=1.0e-8, Rd=1.0e8, P_venous=1000.0)

    def linear_system(self) -> LinearSystem:
        Cp, Rp, Cd, Rd = self.Cp, self.Rp, self.Cd, self.Rd
        A = [[-1.0 / (Rp * Cp), 1.0 / (Rp * Cp)],
             [1.0 / (Rp * Cd), -1.0 / (Rp * Cd) - 1.0 / (Rd * Cd)]]
        return _outlet_system(A, [1.0 / Cp, 0.0], [0.0, self.P_venous / (Rd * Cd)], [1.0, 0.0], 0.0)


@dataclass(frozen=True)
class ClosedLoopWindkessel(Afterload):
    """Two-stage arterial Windkessel draining into an atrial compliance that fills the ventricle.

    C_p  dP_ar/dt = Q_out - (P_ar - P_d)/R_p
    C_d  dP_d/dt  = (P_ar - P_d)/R_p - (P_d - P_at)/R_d
    C_at dP_at/dt = (P_d - P_at)/R_d - Q_in
    P_out = P_ar, P_in = P_at. The blood volume V_v + C_p P_ar + C_d P_d + C_at P_at is
    conserved (unstressed volumes are zero), so the filling follows from the volume given
    at the start, not from a prescribed atrial pressure.
    """

    Cp: float = param(2.5e-9, "m^3/Pa", COMP, doc="proximal arterial compliance")
    Rp: float = param(8.0e6, "Pa*s/m^3", RES, doc="proximal resistance")
    Cd: float = param(1.0e-8, "m^3/Pa", COMP, doc="distal (venous) compliance")
    Rd: float = param(1.0e8, "Pa*s/m^3", RES, doc="peripheral resistance")
    Cat: float = param(1.5e-7, "m^3/Pa", COMP, doc="atrial and venous-reservoir compliance")
    state_names = ("P_ar", "P_d", "P_at")

    def __post_init__(self):
        validate(self)

    @classmethod
    def caruel2014(cls) -> "ClosedLoopWindkessel":
        """Caruel's two-stage Windkessel with its venous outflow returned to a 20 mL/mmHg reservoir."""
        return cls()

    def linear_system(self) -> LinearSystem:
        Cp, Rp, Cd, Rd, Ca = self.Cp, self.Rp, self.Cd, self.Rd, self.Cat
        A = np.array([[-1.0 / (Rp * Cp), 1.0 / (Rp * Cp), 0.0],
                      [1.0 / (Rp * Cd), -1.0 / (Rp * Cd) - 1.0 / (Rd * Cd), 1.0 / (Rd * Cd)],
                      [0.0, 1.0 / (Rd * Ca), -1.0 / (Rd * Ca)]])
        B = np.array([[0.0, 1.0 / Cp], [0.0, 0.0], [-1.0 / Ca, 0.0]])
        E = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
        return LinearSystem(A, B, np.zeros(3), E, np.zeros((2, 2)))

    def initial_state(self, p_arterial: float, p_atrial: float | None = None) -> np.ndarray:
        pat = 800.0 if p_atrial is None else p_atrial
        return np.array([p_arterial, p_arterial, pat])

    def compliances(self) -> np.ndarray:
        """Compliance of each node [m^3/Pa], for the blood-volume balance."""
        return np.array([self.Cp, self.Cd, self.Cat])


@dataclass(frozen=True)
class Circulation:
    """Preload, valves and vascular block around one ventricle.

    With a closed-loop block (:class:`ClosedLoopWindkessel`) the preload is not used: the
    atrial pressure is the block's last state.
    """

    preload: AtrialPreload = field(default_factory=AtrialPreload.caruel2014)
    inlet_valve: Valve = field(default_factory=Valve.caruel2014_inlet)
    outlet_valve: Valve = field(default_factory=Valve.caruel2014_outlet)
    afterload: Afterload = field(default_factory=TwoStageWindkessel.caruel2014)

    @classmethod
    def caruel2014(cls) -> "Circulation":
        """The open-loop circulation of svZeroDSolver's Caruel test case."""
        return cls()

    @classmethod
    def closed_loop(cls, **values) -> "Circulation":
        """Caruel's valves with a :class:`ClosedLoopWindkessel` (parameters by keyword, SI)."""
        return cls(afterload=ClosedLoopWindkessel(**values))

    @property
    def state_names(self) -> tuple[str, ...]:
        """Names of the circulation's unknowns (node pressures) in the packed order."""
        return tuple(self.afterload.state_names)

    @property
    def closes_loop(self) -> bool:
        return self.afterload.linear_system().closes_loop

    def pack(self) -> np.ndarray:
        """Packed array read by :mod:`.kernels`: valves, n, loop flag, then the linear system."""
        sys = self.afterload.linear_system()
        head = self.inlet_valve.pack() + self.outlet_valve.pack() + [float(sys.n), float(sys.closes_loop)]
        return np.array(head + sys.pack(), dtype=np.float64)

    def initial_state(self, p_arterial: float) -> np.ndarray:
        """Node pressures [Pa] at the start: arterial nodes at ``p_arterial``."""
        return self.afterload.initial_state(p_arterial, float(self.preload.table()[1][0]))

    def blocks(self) -> dict:
        """The blocks by name, as ``with_values`` addresses them ("afterload.Rd")."""
        return {"preload": self.preload, "inlet_valve": self.inlet_valve,
                "outlet_valve": self.outlet_valve, "afterload": self.afterload}

    def scaled(self, k: float) -> "Circulation":
        """The same circulation carrying ``k`` times the flows at the same pressures."""
        return dataclasses.replace(self, **{name: scale_flows(b, k) for name, b in self.blocks().items()})


def scale_flows(block, k: float):
    """Copy of a block with every flow multiplied by ``k`` at unchanged pressures.

    Resistances are divided by ``k``, compliances multiplied by it; pressures, times and the
    valves' switch steepness do not change. With the ventricle scaled alike (volumes x k,
    :meth:`cardiosim.models.sphere.SphereModel.scaled`) this is an exact similarity of the
    whole model: the pressure waveforms cannot tell ``k``, which is why a flow measurement,
    a reference cardiac output or a size prior is needed to fix it.
    """
    if not (isinstance(k, (int, float)) and math.isfinite(k) and k > 0):
        raise ParameterError(f"flow scale must be a number > 0, got {k!r}")
    vals = {}
    for f in dataclasses.fields(block):
        dim = f.metadata.get("dim")
        if dim == RES:
            vals[f.name] = getattr(block, f.name) / k
        elif dim == COMP:
            vals[f.name] = getattr(block, f.name) * k
    return dataclasses.replace(block, **vals)


def pack_linear_system(cp: np.ndarray, sys: LinearSystem) -> None:
    """Overwrite the linear-system part of a packed circulation array in place."""
    if int(cp[CK.C_N]) != sys.n:
        raise ParameterError(f"packed circulation has {int(cp[CK.C_N])} states, the block {sys.n}")
    cp[CK.C_A:] = sys.pack()


def windkessel_summary(afterload: Afterload) -> dict[str, float]:
    """Clinical-unit view of an afterload's R and C (mmHg*s/mL, mL/mmHg)."""
    out = {}
    for name in ("R", "Rp", "Rd", "Zc"):
        if hasattr(afterload, name):
            out[name + "_mmHg_s_per_mL"] = convert(getattr(afterload, name), "Pa*s/m^3", "mmHg*s/mL")
    for name in ("C", "Cp", "Cd", "Cat"):
        if hasattr(afterload, name):
            out[name + "_mL_per_mmHg"] = convert(getattr(afterload, name), "m^3/Pa", "mL/mmHg")
    return out
