"""A 3D ventricle beating against the circulation blocks the 0D sphere uses.

The finite-element wall (:class:`cardiosim.fem.Elastodynamics`) carries a cavity whose
pressure is an unknown of each step (:class:`cardiosim.fem.Cavity`); :class:`CirculationLaw`
closes it with the circulation of :mod:`cardiosim.circulation`: over a step of length h,

    V(u1) - V(u0) = h (Q_in - Q_out),

the flows through the inlet and outlet valves at the end-of-step cavity pressure, the
vessels condensed onto the two ports (``p = alpha + beta q``, the step contract of
:mod:`cardiosim.circulation.blocks`, trapezoidal in the vessels' node pressures). The
mechanics, the cavity pressure and the circulation are solved together, so the four phases
(filling, isovolumic contraction, ejection, isovolumic relaxation) follow from the valves and
are not scheduled. :class:`HeartbeatSimulation` runs beats of a prescribed active tension and
records the pressure-volume loop step by step.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..circulation import Circulation
from ..errors import ParameterError, SolverError
from ..io import json_default
from ..fem import ActiveTension, Cavity, Clamp, Elastodynamics, FibreActivation, Problem, RobinSupport
from ..fem.measures import cavity_volume
from ..units import ML, MMHG

#: phase codes of :meth:`CirculationLaw.phase`
FILLING, ISOVOLUMIC_CONTRACTION, EJECTION, ISOVOLUMIC_RELAXATION = 0, 1, 2, 3
PHASES = ("filling", "isovolumic contraction", "ejection", "isovolumic relaxation")
#: |dp/dt| [Pa/s] below which a cavity with both valves shut is in diastasis (50 mmHg/s)
DIASTASIS_DPDT = 50 * MMHG


class CirculationLaw:
    """The volume law of a cavity in ``circulation`` (a :class:`cardiosim.fem.VolumeLaw`).

    Parameters
    ----------
    circulation : Circulation
    period : float
        Heart period [s]: the phase of the atrial preload waveform.
    p_arterial : float
        Arterial node pressures at the start [Pa].

    The law's state is the vessels' node pressures [Pa].
    """

    def __init__(self, circulation: Circulation, period: float, p_arterial: float = 80 * MMHG):
        if not isinstance(circulation, Circulation):
            raise ParameterError(f"circulation must be a cardiosim.circulation.Circulation, got "
                                 f"{type(circulation).__name__}")
        if not (math.isfinite(period) and period > 0):
            raise ParameterError(f"heart period must be > 0 s, got {period!r}")
        if not (math.isfinite(p_arterial) and p_arterial > 0):
            raise ParameterError(f"p_arterial must be > 0 Pa, got {p_arterial!r}")
        self.circulation, self.period, self.p_arterial = circulation, float(period), float(p_arterial)
        self.system = circulation.afterload.linear_system()
        self.closed = self.system.closes_loop

    def initial_state(self) -> np.ndarray:
        return np.asarray(self.circulation.initial_state(self.p_arterial), float)

    def _ports(self, state, t0, dt):
        x_free, G, alpha, beta = self.system.condense(np.asarray(state, float), dt)
        if not self.closed:
            phase = ((t0 + 0.5 * dt) % self.period) / self.period
            alpha = alpha.copy()
            alpha[0] = float(self.circulation.preload.pressure_at(phase))
        return x_free, G, alpha, beta

    def flows(self, state, t0: float, dt: float, p0: float, p1: float):
        """(q (2,) [m^3/s], dq/dp1 (2,), port pressures (2,) [Pa], x1) of the step: the valve
        flows at the end-of-step cavity pressure p1 against the vessels' mid-step port
        pressures. (p1, not (p0 + p1)/2: the cavity pressure is an algebraic unknown, and
        averaged it would oscillate undamped from step to step.)"""
        x_free, G, alpha, beta = self._ports(state, t0, dt)
        pm = p1
        vi, vo = self.circulation.inlet_valve, self.circulation.outlet_valve

        # the tanh valves switch within ~0.1 Pa: Newton on the flows can cycle, so each flow is
        # bracketed (every residual below increases with its flow, at least at slope 1)
        def q_out_of(q_in):
            return _root(lambda qo: qo - float(vo.flow(pm - alpha[1] - beta[1, 0] * q_in - beta[1, 1] * qo)))

        if self.closed:
            q_in = _root(lambda qi: qi - float(vi.flow(alpha[0] + beta[0, 0] * qi + beta[0, 1] * q_out_of(qi) - pm)))
        else:
            q_in = float(vi.flow(alpha[0] - pm))
        q = np.array([q_in, q_out_of(q_in)])
        P = alpha + beta @ q
        gi, go = float(vi.conductance(P[0] - pm)), float(vo.conductance(pm - P[1]))
        J = np.array([[1.0 - gi * beta[0, 0], -gi * beta[0, 1]], [go * beta[1, 0], 1.0 + go * beta[1, 1]]])
        dq = np.linalg.solve(J, np.array([-gi, go]))        # d/dp1 of (q_in, q_out)
        x1 = x_free + G @ q if self.closed else x_free + G[:, 1] * q[1]
        return q, dq, P, x1

    def residual(self, state, t0, dt, p0, p1, V0, V1):
        q, dq, _, _ = self.flows(state, t0, dt, p0, p1)
        return V1 - V0 - dt * (q[0] - q[1]), -dt * (dq[0] - dq[1]), 1.0

    def advance(self, state, t0, dt, p0, p1):
        return self.flows(state, t0, dt, p0, p1)[3]

    def stored_volume(self, state) -> float:
        """Blood held in the vessels' compliances [m^3] above zero pressure (closed loop)."""
        C = getattr(self.circulation.afterload, "compliances", None)
        return float(np.asarray(C(), float) @ np.asarray(state, float)) if C is not None else float("nan")

    @staticmethod
    def phase(p: float, P_in: float, P_out: float, dp_dt: float) -> int:
        """Phase code of a step from the end-of-step cavity pressure p and the port pressures
        [Pa] and dp/dt [Pa/s]: a valve is open when the pressure falls across it. Both shut,
        the cavity pressure rising faster than 50 mmHg/s is isovolumic contraction, falling
        faster isovolumic relaxation; slower, the diastasis at the end of filling (the
        ventricle full at the atrial pressure, the inlet valve on the verge), counted as
        filling."""
        if p > P_out:
            return EJECTION
        if P_in > p or abs(dp_dt) <= DIASTASIS_DPDT:
            return FILLING
        return ISOVOLUMIC_CONTRACTION if dp_dt > 0 else ISOVOLUMIC_RELAXATION


def _root(f, scale: float = 1e-6) -> float:
    """The root of an increasing function f of a flow [m^3/s] (Brent's method in an expanding
    bracket about 0)."""
    from scipy.optimize import brentq

    lo, hi = -scale, scale
    for _ in range(200):
        flo, fhi = f(lo), f(hi)
        if flo <= 0.0 <= fhi:
            if flo == 0.0:
                return lo
            return hi if fhi == 0.0 else float(brentq(f, lo, hi, xtol=1e-18, rtol=1e-15, maxiter=200))
        if flo > 0.0:
            lo *= 4.0
        if fhi < 0.0:
            hi *= 4.0
    raise SolverError("valve flows: no bracket of the flow found (pressures not finite?)")


def _activation(activation: str, peak_tension: float, sigma0: float, period: float):
    """The wall's activation: :func:`twitch` (``peak_tension`` [Pa], 0.35 s from 0.1 s into
    each beat) or the 0D sphere's BCS law along the fibres with contractility ``sigma0`` [Pa]."""
    if activation == "twitch":
        return twitch(peak_tension, 0.35, period, onset=0.1)
    if activation == "bcs":
        from .sphere import SphereParameters

        return SphereParameters.caruel2014().with_values({"sigma0": sigma0}).fibre_activation(period, delta=0.0)
    raise ParameterError(f"activation must be 'twitch' or 'bcs', got {activation!r}")


def _fields(obj) -> dict:
    if dataclasses.is_dataclass(obj):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    return {}


def _first_difference(a, b, path: str) -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if a.get(k) != b.get(k):
                return _first_difference(a.get(k), b.get(k), f"{path}.{k}")
    return f"{path}: {a!r} there, {b!r} here"


def twitch(peak: float, duration: float, period: float, onset: float = 0.0) -> Callable[[float], float]:
    """A prescribed active tension [Pa] of time t [s]: peak sin^2(pi s / duration) for
    s = (t - onset) mod period below ``duration``, 0 in the rest of the beat."""
    for name, v in (("peak", peak), ("duration", duration), ("period", period)):
        if not (math.isfinite(v) and v > 0):
            raise ParameterError(f"twitch: {name} must be > 0, got {v!r}")
    if duration > period:
        raise ParameterError(f"twitch: duration {duration} s exceeds the period {period} s")

    def f(t: float) -> float:
        s = (t - onset) % period
        return peak * math.sin(math.pi * s / duration) ** 2 if s < duration else 0.0

    f.settings = {"law": "twitch", "peak_Pa": float(peak), "duration_s": float(duration), "period_s": float(period),
                  "onset_s": float(onset)}
    return f


@dataclass
class PVRow:
    """One step of the loop (SI): time, cavity volume and pressure, valve flows, port
    pressures, phase code, Newton iterations."""

    t: float
    V: float
    P: float
    q_in: float
    q_out: float
    P_in: float
    P_out: float
    phase: int
    iterations: int


@dataclass
class EnergyRow:
    """The energy ledger of one step [J], of the whole ventricle (``volume_factor``).

    ``kinetic``, ``stored`` (the law's energy with its volumetric penalty) and ``springs`` at
    the end of the step; over the step: ``dissipated`` (viscosity and dashpots),
    ``pressure_work`` and ``active_work`` done on the wall as the scheme counts them, and
    ``cavity_work`` (the circulation's count of the pressure work, p1 (V1 - V0)).
    ``defect`` = change of kinetic + stored + springs + dissipated - pressure work - active
    work: the Newton tolerance's for the energy-consistent scheme, the scheme's own
    dissipation (or gain) for the others."""

    t: float
    kinetic: float
    stored: float
    springs: float
    dissipated: float
    pressure_work: float
    active_work: float
    cavity_work: float
    defect: float


class HeartbeatSimulation:
    """A 3D ventricle beating against a circulation, under a prescribed active tension or the
    Bestel-Clement-Sorine law at every quadrature point.

    Parameters
    ----------
    mesh : Mesh
        With ENDO (into the cavity), fibres, and the ``supports``' / ``clamped`` markers.
    material : a law of :mod:`cardiosim.materials`
    active : callable t [s] -> T_a [Pa] (e.g. :func:`twitch`), or a
        :class:`~cardiosim.fem.FibreActivation` (e.g. :meth:`SphereParameters.fibre_activation`)
    circulation : Circulation
    period : float
        Heart period [s].
    clamped : markers held fixed (e.g. ("BASE",)), or :class:`~cardiosim.fem.Clamp` s of some components
    supports : Robin supports (e.g. a soft epicardial spring)
    rho, eta : density [kg/m^3], Kelvin-Voigt viscosity [Pa s]
    scheme : a scheme of :class:`~cardiosim.fem.Elastodynamics`
    base_point : a point of the plane closing the cavity [m]
    formulation : "penalty" or "mixed" (Taylor-Hood P2-P1)
    p_arterial : arterial pressure at the start [Pa]
    tol, pressure_tol : Newton's tolerances on the displacement update [m] and the cavity
        pressure's [Pa]
    """

    def __init__(self, mesh, material, active: Callable[[float], float], circulation: Circulation, period: float,
                 clamped: Sequence[str | Clamp] = ("BASE",), supports: Sequence[RobinSupport] = (), rho: float = 1000.0,
                 eta: float = 0.0, scheme="generalized-alpha", base_point=(0.0, 0.0, 0.0),
                 formulation: str | None = "penalty", p_arterial: float = 80 * MMHG, tol: float = 1e-9,
                 jacobian_reuse: int = 20, linear_solver: str = "auto", pressure_tol: float = 1e-6):
        law_driven = isinstance(active, FibreActivation)
        if not (callable(active) or law_driven):
            raise ParameterError("active must be a function of time t [s] giving the tension [Pa], or a "
                                 "FibreActivation")
        clamps = [c if isinstance(c, Clamp) else Clamp(c) for c in clamped]
        mesh.require("ENDO", *[c.marker for c in clamps])
        if mesh.fibres is None:
            raise ParameterError(f"mesh {mesh.name!r} has no fibres: the active tension acts along them")
        self.mesh, self.period = mesh, float(period)
        self.law = CirculationLaw(circulation, period, p_arterial)
        loads = clamps + ([] if law_driven else [ActiveTension(1.0, time_function=active)])
        self.problem = Problem(mesh, material, loads=loads, formulation=formulation, linear_solver=linear_solver)
        self.base_point = tuple(float(v) for v in base_point)
        self.cavity = Cavity("ENDO", self.law, self.base_point, pressure_tol=pressure_tol)
        self.dyn = Elastodynamics(self.problem, rho, eta, supports, scheme, tol=tol, cavity=self.cavity,
                                  jacobian_reuse=jacobian_reuse, activation=active if law_driven else None)
        self.material, self.active = material, active
        self.settings = {"period_s": self.period, "rho_kg_m3": float(rho), "eta_Pa_s": float(eta),
                         "scheme": str(scheme if isinstance(scheme, str) else type(scheme).__name__),
                         "formulation": formulation, "tol": float(tol), "jacobian_reuse": int(jacobian_reuse),
                         "clamped": [c.marker if c.components == (0, 1, 2) else [c.marker, list(c.components)]
                                     for c in clamps], "supports": [s.marker for s in supports],
                         "base_point_m": list(self.base_point), "p_arterial_Pa": float(p_arterial),
                         "material": {"law": type(material).__name__, **_fields(material)},
                         "activation": getattr(active, "settings", {"law": "prescribed"})}
        self.rows: list[PVRow] = []
        #: with :meth:`track_energy`, one :class:`EnergyRow` per step this run computed
        self.energy_rows: list[EnergyRow] = []
        self._energy0: dict | None = None
        #: the mesh is 1 / volume_factor of the ventricle (its circulation scaled to match)
        self.volume_factor = 1.0
        #: rows before this index were not computed by this run (its initial or restored state)
        self.first_computed = 1
        s = self.dyn.state
        self._record(s.t, s.cavity_p, np.zeros(2), np.array([np.nan, np.nan]), FILLING, 0)
        self._dNdX = self._frames = None

    @classmethod
    def land_ellipsoid(cls, level: int = 2, order: int = 2, period: float = 0.8, peak_tension: float = 60e3,
                       activation: str = "twitch", sigma0: float = 250e3, **kw) -> HeartbeatSimulation:
        """The Land et al. (2015) ellipsoid (base clamped, fibres of its helix rule per cell,
        Guccione law of its Problem 3 with the penalty formulation) beating under
        :func:`twitch` (``peak_tension``, 0.35 s long, from 0.1 s into each beat) against
        the Caruel circulation (:meth:`Circulation.caruel2014`) scaled to its cavity: flows
        times V_cavity / 120 mL at the same pressures. Kelvin-Voigt viscosity 10 Pa s.
        ``activation="bcs"``: instead of the twitch, the 0D sphere's Bestel-Clement-Sorine law
        and parameters (:meth:`SphereParameters.caruel2014`) at every quadrature point, along
        the fibres (delta = 0), with contractility ``sigma0`` [Pa]: 250 kPa by default, twice
        the sphere's 124 kPa, because the Land ellipsoid's fibres are less stretched at end
        diastole than the sphere's and the length dependence n0(e_c) then gives less force
        (with 124 kPa its pressure peaks near 58 mmHg, below the arterial pressure)."""
        from ..geometry import TruncatedEllipsoid
        from ..materials import Guccione

        g = TruncatedEllipsoid.land2015()
        m = g.mesh(level, order=order)
        m = m.with_fibres(g.fibres(m.points[m.cells[:, :4]].mean(axis=1)), at="cell")
        circ = Circulation.caruel2014().scaled(g.cavity_volume() / (120 * ML))
        kw.setdefault("eta", 10.0)
        active = _activation(activation, peak_tension, sigma0, period)
        sim = cls(m, Guccione.land2015_problem3(), active, circ, period, base_point=(0.0, 0.0, g.base_z), **kw)
        sim.settings["setup"] = {"name": "land_ellipsoid", "level": int(level), "order": int(order),
                                 "period_s": float(period), "peak_tension_Pa": float(peak_tension),
                                 "activation": activation, **({"sigma0_Pa": float(sigma0)} if activation == "bcs" else {})}
        return sim

    @classmethod
    def benchmark_ellipsoid(cls, level: int = 3, order: int = 1, period: float = 0.8, mesh=None,
                            activation: str = "twitch", peak_tension: float = 120e3, sigma0: float = 250e3,
                            **kw) -> HeartbeatSimulation:
        """The ventricle of the cardiac elastodynamics benchmark (Arostica et al. 2025, CMAME
        435:117485) beating against the circulation: its geometry with the sloped base
        (:func:`~cardiosim.geometry.elastodynamics.generate_benchmark_mesh` at ``level``, or
        ``mesh``: a :class:`Mesh` of that ventricle with ENDO, EPI and BASE markers, e.g. the
        toolkit's file read by :func:`cardiosim.fem.arostica2025.benchmark_mesh`), its
        fibres (-60 to +60 degrees), Holzapfel-Ogden law with the smoothed switch and the
        compressible penalty, density, viscosity (100 Pa s) and spring-dashpot supports (no
        clamp), under :func:`twitch` (``peak_tension``, 0.35 s from 0.1 s into each beat;
        the benchmark's own active stress peaks near 119 kPa) or the 0D sphere's BCS law
        with contractility ``sigma0`` [Pa], against the Caruel circulation scaled to its
        cavity (flows times V_cavity / 120 mL). The cavity is closed by the plane of the
        endocardial rim, x = 26.47 mm."""
        from ..fem.arostica2025 import ETA, RHO, case_setup
        from ..geometry.elastodynamics import BASE_RIM_X, benchmark_fibres, generate_benchmark_mesh

        if mesh is None:
            m = generate_benchmark_mesh(level, order=order)
        else:
            m = mesh
            m.require("ENDO", "EPI", "BASE")
        if m.fibres is None:
            m = m.with_fibres(benchmark_fibres(m), at="node")
        base_point = (BASE_RIM_X[0], 0.0, 0.0)
        V_cav = cavity_volume(m, None, "ENDO", base_point)
        circ = Circulation.caruel2014().scaled(V_cav / (120 * ML))
        kw.setdefault("eta", ETA)
        kw.setdefault("rho", RHO)
        kw.setdefault("supports", RobinSupport.arostica2025())
        active = _activation(activation, peak_tension, sigma0, period)
        sim = cls(m, case_setup("step_1")[0], active, circ, period, clamped=(), base_point=base_point, **kw)
        sim.settings["setup"] = {"name": "benchmark_ellipsoid", "mesh": m.name, "level": int(level),
                                 "order": int(order), "period_s": float(period), "activation": activation,
                                 **({"peak_tension_Pa": float(peak_tension)} if activation == "twitch"
                                    else {"sigma0_Pa": float(sigma0)})}
        return sim

    @classmethod
    def sphere_octant(cls, params, r_inner: float, thickness: float, level: int = 1, layers: int = 1,
                      order: int = 2, period: float = 0.8, kappa: float | None = None,
                      circulation: Circulation | None = None, **kw) -> HeartbeatSimulation:
        """A thick spherical shell with the 0D sphere's laws, beating against its circulation:
        the 3D counterpart of :class:`SphereModel` (Caruel et al. 2014).

        One eighth of the shell (:meth:`SphericalShell.octant_mesh`, symmetry conditions on
        its three planes), the Caruel passive law and the BCS active law of ``params`` (a
        :class:`SphereParameters`) spread evenly in the tangent plane (delta = 1/2: the 0D
        model's assumptions), its wall viscosity eta and density, and ``circulation``
        (default :meth:`Circulation.caruel2014`, the 0D default) scaled to the eighth; the
        recorded volumes and flows are the whole shell's. ``kappa``: the penalty [Pa]
        (default 1000 x the law's small-strain fibre modulus)."""
        from ..geometry import SphericalShell
        from ..materials import Caruel

        g = SphericalShell(r_inner, r_inner + thickness)
        m = g.octant_mesh(level, order=order, layers=layers)
        m = m.with_fibres(g.octant_fibres(m.points[m.cells[:, :4]].mean(axis=1)), at="cell")
        law = Caruel(C0=params.C0, C1=params.C1, C2=params.C2, C3=params.C3, delta=0.5, kappa=kappa)
        circ = (Circulation.caruel2014() if circulation is None else circulation).scaled(1.0 / 8.0)
        kw.setdefault("eta", params.eta)
        kw.setdefault("rho", params.rho)
        # a thin wall of stiff scaled parameters: round-off in the updates reaches 1e-9 m and
        # 1e-6 Pa; these are 4e-7 of the radius and 1e-8 of the pressures
        kw.setdefault("tol", 1e-8)
        kw.setdefault("pressure_tol", 1e-4)
        sim = cls(m, law, params.fibre_activation(period, delta=0.5), circ, period,
                  clamped=(Clamp("XSYM", (0,)), Clamp("YSYM", (1,)), Clamp("BASE", (2,))), **kw)
        sim.volume_factor = 8.0
        sim.rows[0] = dataclasses.replace(sim.rows[0], V=sim.volume())
        sim.settings["setup"] = {"name": "sphere_octant", "r_inner_m": float(r_inner), "thickness_m": float(thickness),
                                 "level": int(level), "layers": int(layers), "order": int(order),
                                 "period_s": float(period)}
        return sim

    def volume(self, x=None) -> float:
        """Cavity volume [m^3] of the state (default: the current one); of the whole
        ventricle when the mesh is a symmetric part of it (``volume_factor``)."""
        x = self.dyn.state.x if x is None else x
        return self.volume_factor * cavity_volume(self.mesh, x[: self.dyn.n_u], "ENDO", self.base_point)

    def _record(self, t, p, q, P, phase, its):
        k = self.volume_factor
        self.rows.append(PVRow(t, self.volume(), p, k * float(q[0]), k * float(q[1]), float(P[0]), float(P[1]),
                               phase, its))

    def track_energy(self) -> None:
        """Keep the energy ledger of every following step in :attr:`energy_rows` (costs
        two assemblies a step)."""
        self.dyn.track_work = True
        self._energy0 = self.dyn.energies()

    def _ledger(self, info) -> None:
        e0, e1 = self._energy0, self.dyn.energies()
        k = self.volume_factor
        change = sum(e1[n] - e0[n] for n in ("kinetic", "stored", "springs"))
        defect = change + info.dissipated_J - info.pressure_work_J - info.active_work_J
        self.energy_rows.append(EnergyRow(self.dyn.state.t, k * e1["kinetic"], k * e1["stored"], k * e1["springs"],
                                          k * info.dissipated_J, k * info.pressure_work_J, k * info.active_work_J,
                                          k * info.cavity_work_J, k * defect))
        self._energy0 = e1

    def step(self, dt: float):
        s0 = self.dyn.state.copy()
        info = self.dyn.step(dt)
        s1 = self.dyn.state
        if self.dyn.track_work:
            self._ledger(info)
        # a cut step: the flows of its substeps, weighted by their length
        q = np.zeros(2)
        for t0, h, p0, p1, x0 in info.cavity_steps:
            qk, _, P, _ = self.law.flows(x0, t0, h, p0, p1)
            q += h * qk
        q /= s1.t - s0.t
        phase = CirculationLaw.phase(s1.cavity_p, P[0], P[1],
                                     (s1.cavity_p - s0.cavity_p) / (s1.t - s0.t))
        self._record(s1.t, s1.cavity_p, q, P, phase, info.iterations)
        return info

    def steps_per_beat(self, dt: float) -> int:
        """period / dt; ParameterError unless dt [s] divides the period."""
        n = int(round(self.period / dt))
        if n < 1 or abs(n * dt - self.period) > 1e-9 * self.period:
            raise ParameterError(f"dt = {dt} s must divide the heart period {self.period} s")
        return n

    def run(self, beats: int, dt: float, progress: Callable[[str], None] | bool | None = None,
            on_step: Callable[[int], None] | None = None, on_beat: Callable[[int], None] | None = None):
        """``beats`` beats (of ``period``, from the current state) in steps of ``dt`` [s].

        ``progress``: a callable gets one line per beat; ``True`` shows a tqdm bar per beat
        (its steps, Newton iterations, then the beat's EDV, ESV and peak pressure).
        ``on_step`` gets the number of steps this call has taken after each, ``on_beat`` the
        number of beats after each."""
        n = self.steps_per_beat(dt)
        done = 0
        for b in range(int(beats)):
            bar = None
            if progress is True:
                from tqdm.auto import tqdm

                bar = tqdm(total=n, desc=f"beat {b + 1}/{beats}", unit="step", leave=True)
            for _ in range(n):
                info = self.step(dt)
                done += 1
                if bar is not None:
                    bar.update(1)
                    if done % 10 == 0:
                        bar.set_postfix_str(f"t {self.dyn.state.t:.3f} s, {info.iterations} Newton its")
                if on_step is not None:
                    on_step(done)
            if on_beat is not None:
                on_beat(b + 1)
            last = self.beats()
            s = last[-1] if last else None
            text = (f"EDV {s['EDV_mL']:.2f} mL, ESV {s['ESV_mL']:.2f} mL, peak P {s['peak_P_mmHg']:.1f} mmHg"
                    if s else "")
            if bar is not None:
                bar.set_postfix_str(text)
                bar.close()
            elif progress:
                progress(f"beat {b + 1}/{beats}" + (f": {text}" if text else ""))
        return self.rows

    # -- restart ------------------------------------------------------------------------------
    def signature(self) -> dict:
        """What a checkpoint must match to be restored here: the mesh (name, sizes, a hash of
        its points, cells and fibres), the unknowns, the settings and cardiosim's version."""
        from .. import __version__

        m = self.mesh
        h = hashlib.sha256()
        for a in (m.points, m.cells, m.fibres):
            if a is not None:
                h.update(np.ascontiguousarray(a).tobytes())
        sig = {"cardiosim": __version__, "mesh": {"name": m.name, "order": int(m.order), "n_points": int(m.n_points),
               "n_cells": int(len(m.cells)), "sha256": h.hexdigest()}, "n_dofs": int(self.dyn.n),
               "settings": self.settings}
        # as it reads back from a JSON file: tuples as lists, NumPy scalars as numbers
        return json.loads(json.dumps(sig, sort_keys=True, default=json_default))

    def checkpoint(self) -> dict[str, np.ndarray]:
        """The state of the run as plain arrays: time, step count, u/v/a (x: displacement
        then any pressures), the cavity pressure (the volume constraint's multiplier), the
        circulation's state, the active law's state per quadrature point (empty for a
        prescribed tension, a function of time), the last recorded row and the Jacobian in
        reuse."""
        s = self.dyn.state
        r = self.rows[-1]
        out = {"t_s": np.float64(s.t), "steps": np.int64(s.steps), "x": s.x.copy(), "v": s.v.copy(),
               "a": s.a.copy(), "cavity_p_Pa": np.float64(s.cavity_p),
               "circulation_state": np.array(s.law_state, float),
               "active_state": np.array(s.active_state, float),
               "row": np.array([r.t, r.V, r.P, r.q_in, r.q_out, r.P_in, r.P_out, r.phase, r.iterations], float)}
        out.update(self.dyn.jacobian_checkpoint())
        return out

    def restore(self, data: dict, meta: dict, source: str = "checkpoint") -> None:
        """Continue from :meth:`checkpoint`'s ``data``, written with ``meta`` =
        :meth:`signature`; refused (ParameterError naming ``source`` and the first difference)
        if it was made on another mesh, setup or version."""
        mine = self.signature()
        for key in ("cardiosim", "mesh", "n_dofs", "settings"):
            if meta.get(key) != mine[key]:
                diff = _first_difference(meta.get(key), mine[key], key)
                raise ParameterError(f"{source}: made by another {'version' if key == 'cardiosim' else key} than this "
                                     f"run ({diff}); it cannot be restored here")
        from ..fem.dynamics import DynamicState

        n = self.dyn.n
        for name in ("x", "v", "a"):
            if np.shape(data[name]) != (n,) or not np.all(np.isfinite(data[name])):
                raise ParameterError(f"{source}: field {name!r} must be {n} finite values")
        act = np.array(data.get("active_state", np.zeros(0)), float)
        if act.shape != self.dyn.state.active_state.shape or not np.all(np.isfinite(act)):
            raise ParameterError(f"{source}: field 'active_state' must be {self.dyn.state.active_state.shape} finite "
                                 f"values, got shape {act.shape}")
        self.dyn.state = DynamicState(float(data["t_s"]), np.array(data["x"], float), np.array(data["v"], float),
                                      np.array(data["a"], float), int(data["steps"]), float(data["cavity_p_Pa"]),
                                      np.array(data["circulation_state"], float), act)
        self.dyn.restore_jacobian({k: v for k, v in data.items() if k.startswith("jac_")})
        r = np.asarray(data["row"], float)
        self.rows = [PVRow(*(float(v) for v in r[:7]), int(r[7]), int(r[8]))]
        self.first_computed = 1

    # -- fields -----------------------------------------------------------------------------
    def fields(self) -> dict[str, np.ndarray]:
        """The current state's fields: ``displacement_m``, ``velocity_m_s`` (per node) and,
        per cell at its centroid, ``fibre_stretch``, ``active_tension_Pa``, ``fibre_stress_Pa``
        (:func:`cardiosim.fem.fields.wall_fields`)."""
        from ..fem.fields import cell_frames, centroid_gradients, wall_fields

        if self._dNdX is None:
            self._dNdX, self._frames = centroid_gradients(self.mesh), cell_frames(self.mesh)
        s, nu = self.dyn.state, self.dyn.n_u
        if self.dyn.activation is not None:
            from ..materials.bcs import Q_TAU

            Ta = s.active_state[:, :, Q_TAU].mean(axis=1)  # the contractile stress tau_c
        else:
            Ta = self.problem.active_tension_at(s.t).mean(axis=1)
        out = {"displacement_m": s.x[:nu].reshape(-1, 3).copy(), "velocity_m_s": s.v[:nu].reshape(-1, 3).copy()}
        out.update(wall_fields(self.mesh, self.material, s.x[:nu], Ta, self._dNdX, self._frames))
        return out

    def beats(self) -> list[dict]:
        """Per beat whose steps are all recorded (a resumed run: from the checkpoint's beat
        on): EDV [mL] (the largest volume), ESV [mL] (the smallest from the beat's first
        ejecting step on: a first beat from rest starts at the unloaded volume, which may lie
        below its end-systolic one), SV [mL], EF, peak pressure [mmHg]."""
        out = []
        t = np.array([r.t for r in self.rows])
        tol = 1e-9 * self.period
        for b in range(int(math.floor(t[-1] / self.period + 1e-9))):
            if t[0] > b * self.period + tol:
                continue
            sel = [r for r in self.rows if b * self.period - 1e-12 <= r.t <= (b + 1) * self.period + 1e-12]
            V = np.array([r.V for r in sel])
            P = np.array([r.P for r in sel])
            ej = [i for i, r in enumerate(sel) if r.phase == EJECTION]
            edv, esv = V.max(), (V[ej[0]:].min() if ej else V.min())
            out.append({"beat": b + 1, "EDV_mL": edv / ML, "ESV_mL": esv / ML, "SV_mL": (edv - esv) / ML,
                        "EF": (edv - esv) / edv, "peak_P_mmHg": P.max() / MMHG})
        return out
