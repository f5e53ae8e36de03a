"""Circulation blocks shared by the 0D and (later) the 3D ventricle.

A ventricle sees its circulation through three blocks: a *preload* (atrial pressure
P_at(t)), an inlet and an outlet *valve*, and an *afterload*. Every afterload here is a
linear system written once as

    dx/dt = A x + b Q + f,        P_entry = e . x + Z Q,

with Q the flow leaving the ventricle [m^3/s], x the compliance-node pressures [Pa] and
P_entry the pressure just downstream of the outlet valve. A time integrator (the 0D
kernels now, the 3D cavity-volume coupling later) only needs ``linear_system()``.
SI units throughout: Pa, m^3, s; resistances Pa s/m^3, compliances m^3/Pa.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import numpy as np

from .errors import ParameterError
from .params import param, validate
from .units import convert

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

    def table(self) -> tuple[np.ndarray, np.ndarray]:
        if self.waveform is None:
            return np.array([0.0]), np.array([self.pressure])
        phase, p = self.waveform
        return np.asarray(phase, dtype=float), np.asarray(p, dtype=float)


class Afterload:
    """Base of linear afterload blocks; subclasses define ``linear_system``."""

    state_names: tuple[str, ...] = ()

    def linear_system(self):
        """Return (A 2x2, b 2, f 2, e 2, Z) in SI units (unused states padded)."""
        raise NotImplementedError

    def initial_state(self, p_arterial: float) -> np.ndarray:
        """Node pressures [Pa] for a start at arterial pressure ``p_arterial``."""
        x = np.full(2, p_arterial)
        if len(self.state_names) == 1:
            x[1] = 0.0
        return x

    def pack(self) -> list[float]:
        A, b, f, e, Z = self.linear_system()
        return [*np.asarray(A, float).ravel(), *b, *f, *e, Z]


@dataclass(frozen=True)
class Windkessel2(Afterload):
    """Two-element Windkessel: C dP/dt = Q - (P - P_venous)/R, P_entry = P."""

    R: float = param(1.0e8, "Pa*s/m^3", RES, doc="peripheral resistance")
    C: float = param(1.25e-8, "m^3/Pa", COMP, doc="arterial compliance")
    P_venous: float = param(1000.0, "Pa", "pressure", "nonnegative", doc="outflow pressure")
    state_names = ("P_ar",)

    def __post_init__(self):
        validate(self)

    def linear_system(self):
        A = [[-1.0 / (self.R * self.C), 0.0], [0.0, -1.0]]
        return A, [1.0 / self.C, 0.0], [self.P_venous / (self.R * self.C), 0.0], [1.0, 0.0], 0.0


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

    def linear_system(self):
        A = [[-1.0 / (self.R * self.C), 0.0], [0.0, -1.0]]
        return A, [1.0 / self.C, 0.0], [self.P_venous / (self.R * self.C), 0.0], [1.0, 0.0], self.Zc


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
        """Two-stage Windkessel of svZeroDSolver's Caruel test case (science.md 2.3)."""
        return cls(Cp=2.5e-9, Rp=8.0e6, Cd=1.0e-8, Rd=1.0e8, P_venous=1000.0)

    def linear_system(self):
        Cp, Rp, Cd, Rd = self.Cp, self.Rp, self.Cd, self.Rd
        A = [[-1.0 / (Rp * Cp), 1.0 / (Rp * Cp)],
             [1.0 / (Rp * Cd), -1.0 / (Rp * Cd) - 1.0 / (Rd * Cd)]]
        return A, [1.0 / Cp, 0.0], [0.0, self.P_venous / (Rd * Cd)], [1.0, 0.0], 0.0


@dataclass(frozen=True)
class Circulation:
    """Preload, valves and afterload around one ventricle."""

    preload: AtrialPreload = field(default_factory=AtrialPreload.caruel2014)
    inlet_valve: Valve = field(default_factory=Valve.caruel2014_inlet)
    outlet_valve: Valve = field(default_factory=Valve.caruel2014_outlet)
    afterload: Afterload = field(default_factory=TwoStageWindkessel.caruel2014)

    @classmethod
    def caruel2014(cls) -> "Circulation":
        """The open-loop circulation of svZeroDSolver's Caruel test case."""
        return cls()

    def pack(self) -> np.ndarray:
        return np.array(self.inlet_valve.pack() + self.outlet_valve.pack() + self.afterload.pack(),
                        dtype=np.float64)

    # names the user can set through ``with_values``: "block.param" or the bare param name
    def blocks(self) -> dict:
        return {"preload": self.preload, "inlet_valve": self.inlet_valve,
                "outlet_valve": self.outlet_valve, "afterload": self.afterload}


def windkessel_summary(afterload: Afterload) -> dict[str, float]:
    """Clinical-unit view of an afterload's R and C (mmHg*s/mL, mL/mmHg)."""
    out = {}
    for name in ("R", "Rp", "Rd", "Zc"):
        if hasattr(afterload, name):
            out[name + "_mmHg_s_per_mL"] = convert(getattr(afterload, name), "Pa*s/m^3", "mmHg*s/mL")
    for name in ("C", "Cp", "Cd"):
        if hasattr(afterload, name):
            out[name + "_mL_per_mmHg"] = convert(getattr(afterload, name), "m^3/Pa", "mL/mmHg")
    return out

