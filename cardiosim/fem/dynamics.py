"""Nonlinear elastodynamics of the myocardium: inertia, Kelvin-Voigt viscosity, Robin supports.

An :class:`Elastodynamics` wraps a quasi-static :class:`~cardiosim.fem.solver.Problem` (its
material, follower pressures and active tension, their time functions now of physical time
[s]) and adds the consistent mass (density rho), the viscous stress S_v = eta dE/dt
(:mod:`cardiosim.fem.viscous`) and spring-dashpot supports (:mod:`cardiosim.fem.robin`).
Each step solves, by Newton's method on the end-of-step displacement u1, the balance

    M a_m + R(u_f, t_f) + R_v(u_f, v_f) + sum_s (k_s B_s u_f + c_s B_s v_f) = 0

at the scheme's stage: the generalized-alpha scheme (Chung & Hulbert 1993; u_f, v_f at
1 - alpha_f, a_m at 1 - alpha_m: the cardiac elastodynamics benchmark, Arostica et al. 2025,
uses alpha_m 0.2, alpha_f 0.4), the mid-point rule (u_f = (u0 + u1)/2, v_f = (u1 - u0)/dt,
a_m = (v1 - v0)/dt: second order and without numerical damping), the same made
energy-consistent by the discrete-gradient stress of :mod:`cardiosim.fem.energy_consistent` (the
kinetic plus stored energy then changes by exactly the work done in the step, as in the 0D
model's scheme, Chapelle et al. 2012), or quasi-static (no inertia; v = (u1 - u0)/dt feeds the viscosity and
the dashpots). A step that Newton cannot solve is cut in halves; below ``min_dt`` the
:class:`~cardiosim.errors.SolverError` carries the last good state.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import ParameterError, SolverError
from . import kernels as FK
from . import energy_consistent as EK
from . import hyperelastic as HK
from .cavity import Cavity
from .measures import cavity_volume, cavity_volume_gradient
from . import viscous as VK
from . import active as AK
from .active import FibreActivation
from .robin import RobinSupport, surface_matrix
from .solver import Problem
from .timeint import GeneralizedAlpha

SCHEMES = ("generalized-alpha", "midpoint", "energy-consistent", "quasi-static")


@dataclass
class DynamicState:
    """Time [s], unknowns x (displacement [m], then any pressures [Pa]), velocity [m/s] and
    acceleration [m/s^2] (of length n_dofs, zero on pressures), steps taken; with a
    :class:`~cardiosim.fem.cavity.Cavity`, its pressure [Pa] and its volume law's state."""

    t: float
    x: np.ndarray
    v: np.ndarray
    a: np.ndarray
    steps: int = 0
    cavity_p: float = 0.0
    law_state: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: with a :class:`~cardiosim.fem.active.FibreActivation`: its state per quadrature point
    active_state: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def copy(self) -> DynamicState:
        return DynamicState(self.t, self.x.copy(), self.v.copy(), self.a.copy(), self.steps, self.cavity_p,
                            np.array(self.law_state, float, copy=True), np.array(self.active_state, float, copy=True))

    def as_dict(self) -> dict:
        return {"t_s": self.t, "x": self.x.copy(), "v": self.v.copy(), "a": self.a.copy(), "steps": self.steps,
                "cavity_p_Pa": self.cavity_p, "law_state": np.array(self.law_state, float, copy=True),
                "active_state": np.array(self.active_state, float, copy=True)}


@dataclass(frozen=True)
class _Stage:
    """Coefficients of a scheme for a step dt: d(u_f)/du1, d(v_f)/du1, d(a_m)/du1, and where
    in the step the balance is taken (t_f = t0 + frac dt)."""

    cu: float
    cv: float
    ca: float
    frac: float


@dataclass
class StepInfo:
    """What a step cost: Newton iterations, residual norms, substeps; the viscous and the
    dashpots' power [W] at the scheme's stage (of the last substep), and the energy they
    dissipated over the whole step [J] (the sum over its substeps of dt times that power)."""

    iterations: int = 0
    residuals: list = field(default_factory=list)
    substeps: int = 1
    viscous_power_W: float = 0.0
    dashpot_power_W: float = 0.0
    dissipated_J: float = 0.0
    #: the accepted (sub)steps with a cavity: (t0, dt, p0, p1, law state at t0) each
    cavity_steps: list = field(default_factory=list)
    #: with ``track_work``, the work [J] done on the wall over the step, as the scheme counts
    #: it (-(u1 - u0) . R_load of each substep, R_load that load's part of the residual at the
    #: stage): by the cavity pressure, and by the active stress (the prescribed tension or the
    #: fibre law); and the circulation's count of the pressure work, sum of p1 (V1 - V0)
    pressure_work_J: float = 0.0
    active_work_J: float = 0.0
    cavity_work_J: float = 0.0


class _PressureGuard:
    """The cavity pressure's Newton update, safeguarded where Newton cycles.

    The tanh valves switch within a fraction of a pascal, and across the switch Newton can
    fall into a cycle between two pressures while the wall's residual stays at its floor.
    Once two sign changes in a row of the update do not contract (the cycle), the root lies
    between the last two iterates; from then on every iterate whose update points up raises
    that bracket's floor, every one pointing down lowers its ceiling, and a Newton step
    leaving the bracket is replaced by its midpoint (Numerical Recipes' rtsafe). An iterate
    contradicting the bracket, or a bracket collapsed below ``tol`` that the Newton step
    still leaves, means the displacements moved the root: the guard disengages. Before
    that, it is plain Newton (the coupled Newton overshoots and returns by itself while the
    displacements converge)."""

    def __init__(self, tol: float):
        self.tol = tol
        self.last: list[tuple[float, float]] = []   # (p, Newton's dp), the last three
        self.lo = self.hi = None

    def __call__(self, p: float, dp: float) -> float:
        self.last = (self.last + [(p, dp)])[-3:]
        if self.lo is None and len(self.last) == 3:
            (_, d0), (p1, d1), (p2, d2) = self.last
            if d0 * d1 < 0.0 and d1 * d2 < 0.0 and abs(d1) >= 0.5 * abs(d0) and abs(d2) >= 0.5 * abs(d1):
                self.lo, self.hi = min(p1, p2), max(p1, p2)
        if self.lo is None:
            return dp
        lo, hi = self.lo, self.hi
        if (dp > 0.0 and p > hi) or (dp < 0.0 and p < lo) or (hi - lo <= self.tol and not lo < p + dp < hi):
            self.lo = self.hi = None
            self.last = []
            return dp
        if dp > 0.0:
            self.lo = max(lo, p)
        elif dp < 0.0:
            self.hi = min(hi, p)
        if not self.lo < p + dp < self.hi:
            return 0.5 * (self.lo + self.hi) - p
        return dp


class Elastodynamics:
    """Time-dependent hyperelastic problem.

    Parameters
    ----------
    problem : Problem
        Material, fibres, pressures and active tension (their time functions of t [s]), clamps.
    rho : float
        Density [kg/m^3] (ignored by the quasi-static scheme).
    eta : float
        Kelvin-Voigt viscosity [Pa s], >= 0.
    supports : sequence of RobinSupport
    scheme : "generalized-alpha", "midpoint", "energy-consistent", "quasi-static" or a GeneralizedAlpha
        (the string gives :meth:`GeneralizedAlpha.benchmark`).
    tol : float
        Newton converges when the update's largest component is below ``tol`` [m] (and
        the pressures' below ``tol`` times the largest stress scale, for a mixed problem).
    max_iter : int
    min_dt : float or None
        Smallest substep [s] when a step is cut (default: the step / 64).
    cavity : Cavity or None
        A cavity whose pressure is solved for with the displacement, fixed by its volume
        law (:mod:`cardiosim.fem.cavity`).
    activation : FibreActivation or None
        A strain-dependent active stress with its state per quadrature point
        (:mod:`cardiosim.fem.active`), on top of the problem's prescribed tension.
    jacobian_reuse : int
        Modified Newton: keep a factorised Jacobian for up to this many steps (0: a new
        one at every iteration, plain Newton). It is refactorised at once when the time
        step changes or an iteration contracts the update by less than half; with small
        time steps the mass term dominates the Jacobian and an old one still contracts
        fast, so most iterations cost a residual and a triangular solve.
    """

    def __init__(self, problem: Problem, rho: float = 1000.0, eta: float = 0.0,
                 supports: Sequence[RobinSupport] = (), scheme="generalized-alpha",
                 tol: float = 1e-9, max_iter: int = 20, min_dt: float | None = None, jacobian_reuse: int = 0,
                 cavity: Cavity | None = None, activation: FibreActivation | None = None):
        if not isinstance(problem, Problem):
            raise ParameterError(f"problem must be a cardiosim.fem.Problem, got {type(problem).__name__}")
        if isinstance(scheme, str):
            if scheme not in SCHEMES:
                raise ParameterError(f"scheme must be one of {SCHEMES} or a GeneralizedAlpha, got {scheme!r}")
            self.alpha = GeneralizedAlpha.benchmark() if scheme == "generalized-alpha" else None
            self.scheme = scheme
        elif isinstance(scheme, GeneralizedAlpha):
            self.alpha, self.scheme = scheme, "generalized-alpha"
        else:
            raise ParameterError(f"scheme must be one of {SCHEMES} or a GeneralizedAlpha, got {scheme!r}")
        for name, val, lo in (("rho", rho, 0.0), ("eta", eta, 0.0), ("tol", tol, 0.0)):
            if not (isinstance(val, (int, float)) and math.isfinite(val) and val >= lo):
                raise ParameterError(f"{name} must be a finite number >= {lo}, got {val!r}")
        if self.scheme == "energy-consistent" and problem.space.taylor_hood:
            raise ParameterError("the energy-consistent scheme needs the penalty formulation (its stored energy "
                                 "holds the volume change); this problem is mixed (Taylor-Hood)")
        if self.scheme != "quasi-static" and not rho > 0:
            raise ParameterError(f"rho must be > 0 kg/m^3 for the {self.scheme} scheme, got {rho!r}")
        self.problem, self.rho, self.eta = problem, float(rho), float(eta)
        self.tol, self.max_iter, self.min_dt = float(tol), int(max_iter), min_dt
        #: count the loads' work of every step in its StepInfo (two more assemblies a step)
        self.track_work = False
        if not (isinstance(jacobian_reuse, int) and jacobian_reuse >= 0):
            raise ParameterError(f"jacobian_reuse must be an integer >= 0 (steps), got {jacobian_reuse!r}")
        self.jacobian_reuse = jacobian_reuse
        self._jac = None              # (factorisation, dt, step it was made at, J^-1 f1 of a cavity)
        sp = problem.space
        sp.mesh.require(*[s.marker for s in supports])
        self.supports = tuple(supports)
        self.n, self.n_u = sp.n_dofs, sp.n_u
        nn3 = 3 * sp.element.n_nodes
        pat = sp.pattern
        # the displacement block of the pattern: mass and viscosity touch nothing else
        self._dofs_u = np.ascontiguousarray(pat.dofs[:, :nn3])
        self._pos_u = np.ascontiguousarray(pat.pos[:, :nn3, :nn3])
        self.mass_data = np.zeros(pat.nnz)
        if self.rho > 0:
            FK.assemble_mass(np.ascontiguousarray(sp.element.N), sp.wdet, self.rho, self._pos_u, self.mass_data)
        self.M = pat.csr(self.mass_data)
        self._B = [(s, surface_matrix(sp, s)) for s in self.supports]
        self._Bk = pat.csr(sum((s.stiffness * b for s, b in self._B), np.zeros(pat.nnz)))
        self._Bc = pat.csr(sum((s.damping * b for s, b in self._B), np.zeros(pat.nnz)))
        self._colscale = np.ones(self.n)
        if cavity is not None and not isinstance(cavity, Cavity):
            raise ParameterError(f"cavity must be a cardiosim.fem.Cavity, got {type(cavity).__name__}")
        self.cavity = cavity
        self._f1 = None
        self._V0 = None               # (state, its cavity volume): constant through a step's iterations
        self.state = DynamicState(0.0, np.zeros(self.n), np.zeros(self.n), np.zeros(self.n))
        if cavity is not None:
            self._cav_facets = sp.facet_data(cavity.marker)
            self.state.law_state = np.asarray(cavity.law.initial_state(), float)
        if activation is not None and not isinstance(activation, FibreActivation):
            raise ParameterError(f"activation must be a cardiosim.fem.FibreActivation, got {type(activation).__name__}")
        if activation is not None and problem.mesh.fibres is None and problem.fibre_field is None:
            raise ParameterError(f"mesh {problem.mesh.name!r} has no fibres: the active stress acts along them")
        self.activation = activation
        self._active = None           # the last (s0, dt, tau, dtau, state1) of the activation
        if activation is not None:
            self.state.active_state = activation.initial_state(self._fibre_strains(self.state.x[: self.n_u]))
        self.timings = problem.timings

    def _fibre_strains(self, u: np.ndarray) -> np.ndarray:
        sp, m = self.problem.space, self.problem.mesh
        U = np.ascontiguousarray(u.reshape(-1, 3)[m.cells])
        out = np.empty((m.n_cells, sp.n_quadrature_points))
        AK.fibre_strains(sp.dNdX, U, self.problem.R, self.activation.delta, out)
        return out

    def _activation_step(self, s0: DynamicState, uf: np.ndarray, dt: float):
        """(tau, dtau, state1) of the activation for the stage displacement uf, or None."""
        out = self.activation.step(self._fibre_strains(uf), s0.active_state, s0.t, dt)
        self._active = out
        return out

    # -- the scheme ---------------------------------------------------------------------------
    def _coefficients(self, dt: float) -> _Stage:
        if self.scheme == "generalized-alpha":
            s = self.alpha
            return _Stage(1 - s.alpha_f, (1 - s.alpha_f) * s.gamma / (s.beta * dt), (1 - s.alpha_m) / (s.beta * dt * dt),
                          1 - s.alpha_f)
        if self.scheme in ("midpoint", "energy-consistent"):
            return _Stage(0.5, 1.0 / dt, 2.0 / (dt * dt), 0.5)
        return _Stage(1.0, 1.0 / dt, 0.0, 1.0)

    def _end_of_step(self, s0: DynamicState, u1: np.ndarray, dt: float):
        """(v1, a1) of the scheme for the end-of-step displacement u1 (displacement part)."""
        nu = self.n_u
        u0, v0, a0 = s0.x[:nu], s0.v[:nu], s0.a[:nu]
        if self.scheme == "generalized-alpha":
            g = self.alpha
            a1 = (u1 - u0 - dt * v0 - dt * dt * (0.5 - g.beta) * a0) / (g.beta * dt * dt)
            v1 = v0 + dt * ((1 - g.gamma) * a0 + g.gamma * a1)
        elif self.scheme in ("midpoint", "energy-consistent"):
            v1 = 2.0 * (u1 - u0) / dt - v0
            a1 = (v1 - v0) / dt
        else:
            v1 = (u1 - u0) / dt
            a1 = np.zeros_like(u1)
        return v1, a1

    def _stage_values(self, s0: DynamicState, u1, v1, a1):
        """(u_f, v_f, a_m) of the scheme."""
        nu = self.n_u
        u0, v0, a0 = s0.x[:nu], s0.v[:nu], s0.a[:nu]
        if self.scheme == "generalized-alpha":
            g = self.alpha
            return ((1 - g.alpha_f) * u1 + g.alpha_f * u0, (1 - g.alpha_f) * v1 + g.alpha_f * v0,
                    (1 - g.alpha_m) * a1 + g.alpha_m * a0)
        if self.scheme in ("midpoint", "energy-consistent"):
            return 0.5 * (u0 + u1), 0.5 * (v0 + v1), a1
        return u1, v1, a1

    def predictor(self, s0: DynamicState, dt: float) -> np.ndarray:
        """Start of Newton: constant acceleration over the step (u0 + dt v0 + dt^2 a0 / 2)."""
        x = s0.x.copy()
        nu = self.n_u
        x[:nu] += dt * s0.v[:nu] + 0.5 * dt * dt * s0.a[:nu]
        return x

    # -- residual and Jacobian ----------------------------------------------------------------
    def _cavity_load(self, u: np.ndarray, p: float, R: np.ndarray, data: np.ndarray | None, ck: float):
        """Add the cavity pressure p at displacement u to R (and ck dR/du to ``data``); keep
        the load per unit pressure, dR/dp, in ``self._f1``."""
        fac, Xf, fdofs, fpos = self._cav_facets
        fe = self.problem.space.facet_element
        nf, nn = fac.shape
        Uf = np.ascontiguousarray(u.reshape(-1, 3)[fac])
        Rf = np.empty((nf, 3 * nn))
        Kf = np.empty((nf, 3 * nn, 3 * nn))
        HK.pressure(Xf, Uf, fe.N, fe.dN, fe.weights, 1.0, Rf, Kf)
        f1 = np.zeros(self.n)
        FK.scatter_vector(Rf, fdofs, f1)
        self._f1 = f1
        R += p * f1
        if data is not None and data.size:
            Kf *= ck * p
            FK.scatter_matrix(Kf, fpos, data)

    def residual(self, s0: DynamicState, x1: np.ndarray, dt: float, want_k: bool = True, p1: float | None = None):
        """Balance G(x1) of the step from ``s0`` and, with ``want_k``, dG/dx1 (CSR), plus the
        viscous power [W] at the stage; (None, None, power) if x1 inverts an element. With a
        cavity, ``p1`` is its end-of-step pressure [Pa], which acts on the stage's geometry."""
        c = self._coefficients(dt)
        nu = self.n_u
        v1, a1 = self._end_of_step(s0, x1[:nu], dt)
        uf, vf, am = self._stage_values(s0, x1[:nu], v1, a1)
        xf = x1.copy()
        xf[:nu] = uf
        tf = s0.t + c.frac * dt
        R, K, inverted = self.problem.assemble(xf, tf, want_k)
        if inverted >= 0:
            return None, None, 0.0
        t0 = time.perf_counter()
        full_v = np.zeros(self.n)
        full_v[:nu] = vf
        full_u = np.zeros(self.n)
        full_u[:nu] = uf
        if self.scheme != "quasi-static":
            full_a = np.zeros(self.n)
            full_a[:nu] = am
            R += self.M @ full_a
        if self.supports:
            R += self._Bk @ full_u + self._Bc @ full_v
        if self.scheme == "energy-consistent":
            m = self.problem.mesh
            U0 = np.ascontiguousarray(s0.x[:nu].reshape(-1, 3)[m.cells])
            U1 = np.ascontiguousarray(x1[:nu].reshape(-1, 3)[m.cells])
            dW = EK.assemble_discrete_gradient(self.problem.space.dNdX, self.problem.space.wdet, U0, U1,
                                               self.problem.R, self.problem.kind, self.problem.prm, self._dofs_u, R)
            if not math.isfinite(dW):
                return None, None, 0.0
        if self.cavity is not None:
            p1 = s0.cavity_p if p1 is None else p1
            # the pressure is the multiplier of the step's volume balance: taken at the end of
            # the step (interpolated to the stage as u is, it would oscillate from step to step
            # by -alpha_f / (1 - alpha_f)); its tangent goes in before the u columns are
            # scaled by cu below
            self._cavity_load(uf, p1, R, K.data if want_k else None, 1.0)
        self._dashpot_power = float(full_v @ (self._Bc @ full_v)) if self.supports else 0.0
        power = 0.0
        J = None
        if want_k:
            data = K.data
            if self.n > nu:  # pressures enter the stage as they are: only the u columns scale
                self._colscale[:nu] = c.cu
                data *= self._colscale[K.indices]
            else:
                data *= c.cu
            if c.ca:
                data += c.ca * self.mass_data
            if self.supports:
                data += c.cu * self._Bk.data + c.cv * self._Bc.data
            J = K
        else:
            data = np.zeros(0)
        if self.eta > 0:
            sp, m = self.problem.space, self.problem.mesh
            U = np.ascontiguousarray(uf.reshape(-1, 3)[m.cells])
            V = np.ascontiguousarray(vf.reshape(-1, 3)[m.cells])
            power = VK.assemble_kelvin_voigt(sp.dNdX, sp.wdet, U, V, self.eta, c.cu, c.cv, self._dofs_u,
                                             self._pos_u, R, data, want_k)
        if self.activation is not None:
            act = self._activation_step(s0, uf, dt)
            if act is None:
                return None, None, 0.0
            sp, m = self.problem.space, self.problem.mesh
            U = np.ascontiguousarray(uf.reshape(-1, 3)[m.cells])
            AK.assemble_active(sp.dNdX, sp.wdet, U, self.problem.R, self.activation.delta, act[0], act[1], c.cu,
                               self._dofs_u, self._pos_u, R, data, want_k)
        self.timings["assembly_s"] += time.perf_counter() - t0
        return R, J, power

    # -- stepping -----------------------------------------------------------------------------
    def initial_acceleration(self) -> np.ndarray:
        """Set a0 from M a0 = -(R(u0, t0) + supports) (the balance at the start); returns it."""
        s = self.state
        if self.scheme == "quasi-static":
            return s.a
        R, _, inv = self.problem.assemble(s.x, s.t, want_k=False)
        if inv >= 0:
            raise SolverError(f"{self.problem.mesh.name}: the initial state inverts element {inv}", s.t, s.as_dict())
        R = R + self._Bk @ s.x + self._Bc @ s.v
        if self.cavity is not None:
            self._cavity_load(s.x[: self.n_u], s.cavity_p, R, None, 1.0)
        fu = self.problem.free[self.problem.free < self.n_u]   # clamped nodes do not accelerate
        s.a[:] = 0.0
        if np.any(R[fu]):
            s.a[fu] = self.problem.linear.solve(self.problem, self.M[fu][:, fu], -R[fu])
        return s.a

    def _newton(self, s0: DynamicState, dt: float, info: StepInfo):
        out = self._newton_once(s0, dt, info)
        if out[0] is None and self._jac is not None and self.jacobian_reuse:
            self._jac = None          # an old Jacobian may be what failed: retry with fresh ones
            out = self._newton_once(s0, dt, info)
        return out

    def _cavity_terms(self, s0: DynamicState, x: np.ndarray, p1: float, dt: float):
        """(g, dg/dp1, dg/du1 on the free unknowns) of the cavity's volume law."""
        cav, m, nu = self.cavity, self.problem.mesh, self.n_u
        if self._V0 is None or self._V0[0] is not s0:
            self._V0 = (s0, cavity_volume(m, s0.x[:nu], cav.marker, cav.base_point))
        V0 = self._V0[1]
        V1 = cavity_volume(m, x[:nu], cav.marker, cav.base_point)
        g, gp, gv = cav.law.residual(s0.law_state, s0.t, dt, s0.cavity_p, p1, V0, V1)
        grad = np.zeros(self.n)
        grad[:nu] = cavity_volume_gradient(m, x[:nu], cav.marker, cav.base_point)
        return float(g), float(gp), gv * grad[self.problem.free]

    def _newton_once(self, s0: DynamicState, dt: float, info: StepInfo):
        free = self.problem.free
        x = self.predictor(s0, dt)
        x[self.problem.fixed] = 0.0
        cav = self.cavity
        p1 = s0.cavity_p
        hist = []
        du_prev = math.inf
        guard = _PressureGuard(cav.pressure_tol) if cav is not None else None
        for it in range(self.max_iter + 1):
            jac = self._jac
            fresh = (jac is None or abs(jac[1] - dt) > 1e-9 * dt or s0.steps - jac[2] >= self.jacobian_reuse)
            R, J, power = self.residual(s0, x, dt, want_k=fresh and it < self.max_iter, p1=p1)
            if R is None or not np.all(np.isfinite(R)):
                return None, p1, it, hist, 0.0
            if cav is not None:
                g, gp, gu = self._cavity_terms(s0, x, p1, dt)
                if not math.isfinite(g):
                    return None, p1, it, hist, 0.0
            hist.append(float(np.linalg.norm(R[free])))
            if it == self.max_iter:
                break
            t0 = time.perf_counter()
            try:
                if fresh:
                    A = J if len(free) == self.n else J[free][:, free]
                    dx = self.problem.linear.solve(self.problem, A, -R[free])
                    fac = self.problem.linear.factorization
                    z = fac(self._f1[free]) if cav is not None else None
                    self._jac = (fac, dt, s0.steps, z) if self.jacobian_reuse else None
                else:
                    fac, z = jac[0], jac[3]
                    dx = fac(-R[free])
                dp = dp_raw = 0.0
                if cav is not None:
                    # bordered system [[J, f1], [gu', gp]] (dx, dp) = -(R, g) by its Schur complement;
                    # a kept Jacobian keeps its pressure column J^-1 f1 too (one solve an iteration)
                    dp = dp_raw = (-g - gu @ dx) / (gp - gu @ z)
                    dp = guard(p1, dp)
                    dx = dx - z * dp
            except Exception:
                return None, p1, it, hist, power
            self.timings["solve_s"] += time.perf_counter() - t0
            if not (np.all(np.isfinite(dx)) and math.isfinite(dp)):
                return None, p1, it, hist, power
            x[free] += dx
            p1 += dp
            du = float(np.abs(dx[free < self.n_u]).max()) if dx.size else 0.0
            if du <= self.tol and (cav is None or max(abs(dp), abs(dp_raw)) <= cav.pressure_tol):
                info.iterations += it + 1
                info.residuals.extend(hist)
                return x, p1, it + 1, hist, power
            if not fresh and du > 0.5 * du_prev:
                self._jac = None      # contracting too slowly: a new Jacobian next iteration
            du_prev = du
        info.iterations += self.max_iter
        return None, p1, self.max_iter, hist, 0.0

    def _advance(self, s0: DynamicState, dt: float, info: StepInfo, depth: int = 0) -> DynamicState:
        x, p1, it, hist, power = self._newton(s0, dt, info)
        act = None
        if x is not None and self.activation is not None:
            # the law's state at the accepted iterate (Newton's last residual was one update before it);
            # a point that cannot be solved there fails the step, which is then cut
            nu = self.n_u
            v1, a1 = self._end_of_step(s0, x[:nu], dt)
            act = self._activation_step(s0, self._stage_values(s0, x[:nu], v1, a1)[0], dt)
            if act is None:
                x = None
        if x is not None:
            nu = self.n_u
            v1, a1 = self._end_of_step(s0, x[:nu], dt)
            s1 = DynamicState(s0.t + dt, x, np.zeros(self.n), np.zeros(self.n), s0.steps)
            s1.v[:nu], s1.a[:nu] = v1, a1
            if act is not None:
                s1.active_state = act[2]
            if self.cavity is not None:
                s1.cavity_p = float(p1)
                s1.law_state = np.asarray(self.cavity.law.advance(s0.law_state, s0.t, dt, s0.cavity_p, p1), float)
                info.cavity_steps.append((s0.t, dt, s0.cavity_p, float(p1), s0.law_state))
            info.viscous_power_W = power
            info.dashpot_power_W = self._dashpot_power
            info.dissipated_J += dt * (power + self._dashpot_power)
            if self.track_work:
                self._count_work(s0, s1, act, info)
            return s1
        if dt / 2 < self._min_dt_now:
            res = ", ".join(f"{r:.3e}" for r in hist[-6:])
            raise SolverError(f"{self.problem.mesh.name}: Newton failed in the step from t = {s0.t:.6g} s with dt = "
                              f"{dt:.3g} s (the smallest substep allowed; last residuals {res}); the last good "
                              f"state is kept", s0.t, s0.as_dict())
        info.substeps += 1
        mid = self._advance(s0, dt / 2, info, depth + 1)
        mid.steps = s0.steps
        return self._advance(mid, dt / 2, info, depth + 1)

    def step(self, dt: float) -> StepInfo:
        """Advance the state by ``dt`` [s] (in halves if Newton fails). Raises SolverError
        with the last good state (``self.state`` is left at it)."""
        if not (math.isfinite(dt) and dt > 0):
            raise ParameterError(f"time step dt must be > 0 s, got {dt!r}")
        info = StepInfo()
        self._min_dt_now = self.min_dt if self.min_dt is not None else dt / 64.0
        s1 = self._advance(self.state, float(dt), info)
        s1.steps = self.state.steps + 1
        self.state = s1
        return info

    def run(self, t_end: float, dt: float, on_step: Callable[[DynamicState, StepInfo], None] | None = None,
            progress: Callable[[str], None] | None = None) -> DynamicState:
        """Steps of ``dt`` from the current time to ``t_end`` [s] (the last one shortened to land on
        it); ``on_step(state, info)`` after each."""
        n = max(int(math.ceil((t_end - self.state.t) / dt - 1e-9)), 0)
        t_start = self.state.t
        for k in range(1, n + 1):
            target = min(t_start + k * dt, t_end)
            info = self.step(target - self.state.t)
            if on_step is not None:
                on_step(self.state, info)
            if progress is not None and (k % max(n // 20, 1) == 0 or k == n):
                progress(f"t = {self.state.t:.4f} s: {info.iterations} Newton iterations")
        return self.state

    def jacobian_checkpoint(self) -> dict[str, np.ndarray]:
        """The Jacobian modified Newton is reusing, as plain arrays (``jac_data``,
        ``jac_indices``, ``jac_indptr``, ``jac_shape``, ``jac_dt``, ``jac_step``; empty if none):
        with :meth:`restore_jacobian`, a restart takes the same Newton iterates."""
        if self._jac is None:
            return {}
        fac, dt, step, z = self._jac
        A = fac.A.tocsr()
        out = {"jac_data": A.data.copy(), "jac_indices": A.indices.copy(), "jac_indptr": A.indptr.copy(),
               "jac_shape": np.array(A.shape, np.int64), "jac_dt": np.float64(dt), "jac_step": np.int64(step)}
        if z is not None:
            out["jac_pressure_column"] = np.array(z, float)
        return out

    def restore_jacobian(self, d: dict) -> None:
        """Factorise the Jacobian of :meth:`jacobian_checkpoint` again (none: forget it)."""
        if not d or "jac_data" not in d or (self.cavity is not None and "jac_pressure_column" not in d):
            self._jac = None
            return
        import scipy.sparse as sps

        shape = tuple(int(v) for v in np.asarray(d["jac_shape"]))
        if shape != (len(self.problem.free),) * 2:
            raise ParameterError(f"checkpoint Jacobian is {shape}, this problem has {len(self.problem.free)} "
                                 f"free unknowns")
        A = sps.csr_matrix((np.asarray(d["jac_data"], float), np.asarray(d["jac_indices"]),
                            np.asarray(d["jac_indptr"])), shape=shape)
        self.problem.linear.factorization = None
        self.problem.linear.solve(self.problem, A, np.zeros(shape[0]))
        z = d.get("jac_pressure_column")
        self._jac = (self.problem.linear.factorization, float(d["jac_dt"]), int(d["jac_step"]),
                     None if z is None else np.array(z, float))

    def kinetic_energy(self) -> float:
        """0.5 v' M v [J] of the current state."""
        v = self.state.v
        return 0.5 * float(v @ (self.M @ v))

    def load_work(self, s0: DynamicState, s1: DynamicState) -> float:
        """Work [J] the problem's loads (active tension, pressures, its own springs) did on
        the wall in the step from ``s0`` to ``s1``, as the scheme counts it: -(u1 - u0) . R_loads
        with R_loads their part of the residual at the scheme's stage. With the
        energy-consistent scheme, the change of :meth:`energies` plus the step's
        ``dissipated_J`` equals it to the Newton tolerance; with the others the difference
        is the scheme's energy defect."""
        du, uf, _, r_loads = self._stage_loads(s0, s1)
        return -float(du @ r_loads) + (self._pressure_work(du, uf, s1.cavity_p) if self.cavity is not None else 0.0)

    def _pressure_work(self, du: np.ndarray, uf: np.ndarray, p: float) -> float:
        """-(u1 - u0) . (the cavity pressure p's load at the stage displacement uf) [J]."""
        Rc = np.zeros(self.n)
        self._cavity_load(uf, p, Rc, None, 1.0)
        return -float(du @ Rc[: self.n_u])

    def _stage_loads(self, s0: DynamicState, s1: DynamicState):
        """(u1 - u0, the stage displacement u_f, the scheme's coefficients, the problem's own
        loads' part of the residual at the stage (displacement rows)) of the step s0 -> s1."""
        nu, dt = self.n_u, s1.t - s0.t
        c = self._coefficients(dt)
        uf = self._stage_values(s0, s1.x[:nu], s1.v[:nu], s1.a[:nu])[0]
        xf = s1.x.copy()
        xf[:nu] = uf
        tf = s0.t + c.frac * dt
        R, _, i1 = self.problem.assemble(xf, tf, want_k=False)
        Rp, _, i2 = self.problem.assemble(xf, tf, want_k=False, passive=True)
        if i1 >= 0 or i2 >= 0:
            raise SolverError(f"{self.problem.mesh.name}: the stage of the step from t = {s0.t:.6g} s inverts "
                              f"element {max(i1, i2)}", s0.t, s0.as_dict())
        return s1.x[:nu] - s0.x[:nu], uf, c, (R - Rp)[:nu]

    def _count_work(self, s0: DynamicState, s1: DynamicState, act, info: StepInfo) -> None:
        """Add the loads' work over the (sub)step s0 -> s1 to ``info`` (see :class:`StepInfo`)."""
        nu = self.n_u
        du, uf, c, r_loads = self._stage_loads(s0, s1)
        work = -float(du @ r_loads)
        if act is not None:
            sp, m = self.problem.space, self.problem.mesh
            Ra = np.zeros(self.n)
            U = np.ascontiguousarray(uf.reshape(-1, 3)[m.cells])
            AK.assemble_active(sp.dNdX, sp.wdet, U, self.problem.R, self.activation.delta, act[0], act[1], c.cu,
                               self._dofs_u, self._pos_u, Ra, np.zeros(0), False)
            work -= float(du @ Ra[:nu])
        info.active_work_J += work
        if self.cavity is not None:
            info.pressure_work_J += self._pressure_work(du, uf, s1.cavity_p)
            cav, m = self.cavity, self.problem.mesh
            V0 = cavity_volume(m, s0.x[:nu], cav.marker, cav.base_point)
            V1 = cavity_volume(m, s1.x[:nu], cav.marker, cav.base_point)
            info.cavity_work_J += s1.cavity_p * (V1 - V0)

    def energies(self) -> dict:
        """Of the current state [J]: ``kinetic``, ``stored`` (int W dV of the law, with its
        volumetric penalty for the penalty formulation) and ``springs`` (0.5 u' K_s u of the
        Robin supports)."""
        sp, m = self.problem.space, self.problem.mesh
        x = self.state.x
        U = np.ascontiguousarray(x[: self.n_u].reshape(-1, 3)[m.cells])
        stored = EK.stored_energy(sp.dNdX, sp.wdet, U, self.problem.R, self.problem.kind, self.problem.prm)
        springs = 0.5 * float(x @ (self._Bk @ x)) if self.supports else 0.0
        return {"kinetic": self.kinetic_energy(), "stored": float(stored), "springs": springs}
