"""Quasi-static hyperelastic problems: the problem, Newton's method and load stepping.

A :class:`Problem` composes a :class:`~cardiosim.fem.space.FunctionSpace` (mesh, element,
quadrature, unknowns and CSR pattern, computed once and shareable between problems), a
material (a dataclass of :mod:`cardiosim.materials` with ``kind`` and ``pack()``), loads of
:mod:`cardiosim.fem.loads` (clamps, follower pressures, springs, active tension, each
following its own time function of the load parameter) and a :class:`LinearSolver` (the
method of the Newton updates and its factorisation, kept between them). Two formulations:

* ``"penalty"``: displacement only; the law's volumetric penalty (kappa) keeps the volume.
  P1 or P2. Locks (too stiff) on coarse meshes when kappa >> the shear modulus.
* ``"mixed"``: Taylor-Hood P2 displacement / P1 pressure, incompressible (J = 1 by a
  Lagrange multiplier; the law's kappa is not used). Free of locking; the formulation of
  the reference code of the Land et al. (2015) benchmark. Default for P2 meshes when the
  material's kappa was left automatic (None), i.e. when no compressibility was stated.

:func:`solve` moves the load parameter from 0 to 1, runs Newton (line search: energy slope
for the penalty form, backtracking on inverted elements for the saddle-point mixed form)
and cuts the step on failure; if it cannot go on it raises :class:`NonlinearSolverError`
with the load reached, the iteration, the residual history and the last converged
displacement.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np

from ..errors import ParameterError, SolverError
from ..geometry.mesh import Mesh
from . import hyperelastic as HK
from . import kernels as FK
from .linear import AUTO_KRYLOV_N, Factorization, factorized, saddle_point_options
from .loads import ActiveTension, Clamp, Load, Pressure, Springs
from .measures import probe  # noqa: F401  (re-exported: solver.probe)
from .space import FunctionSpace

FORMULATIONS = ("penalty", "mixed")


class NonlinearSolverError(SolverError):
    """Newton failed even with the smallest load step. Attributes: load, iteration, history, u."""

    def __init__(self, message, load, iteration, history, u):
        super().__init__(message, time_s=float("nan"), partial=u)
        self.load = load
        self.iteration = iteration
        self.history = history
        self.u = u


def _pairs(x) -> tuple:
    """(marker, value) or a tuple of such pairs, as a tuple of pairs."""
    if not x:
        return ()
    return (tuple(x),) if isinstance(x[0], str) else tuple(tuple(p) for p in x)


class LinearSolver:
    """The linear solves of Newton's method for one problem.

    Parameters
    ----------
    method : str
        A method of :func:`cardiosim.fem.linear.solve_linear`, or ``"block-gmres"``
        (AMG-preconditioned Krylov for the Taylor-Hood saddle point, for large meshes; its
        options come from :func:`cardiosim.fem.linear.saddle_point_options`), or
        ``"auto"``: a direct solver, or block-gmres for Taylor-Hood problems from
        :data:`AUTO_KRYLOV_N` unknowns when pyamg is installed (the measured crossover).
    formulation : str
        ``"penalty"`` or ``"mixed"`` (only a saddle point may get block-gmres).
    n_dofs : int
        Size of the problem.

    Attributes
    ----------
    method : str
        The method in use (``"auto"`` when left to :func:`~cardiosim.fem.linear.factorized`).
    factorization : Factorization or None
        That of the last matrix; the next matrix of the same pattern reuses its symbolic
        analysis (PARDISO, UMFPACK: ~40 % of a factorisation).
    """

    def __init__(self, method: str = "auto", formulation: str = "penalty", n_dofs: int = 0):
        self.requested = method
        self.method = method
        if method == "auto" and formulation == "mixed" and n_dofs >= AUTO_KRYLOV_N:
            try:
                import pyamg  # noqa: F401
                self.method = "block-gmres"
            except ImportError:
                pass
        self.factorization: Factorization | None = None
        self._options: dict | None = None

    def solve(self, problem: Problem, A, b: np.ndarray) -> np.ndarray:
        """x with A x = b, A a tangent of ``problem`` restricted to its free unknowns."""
        prev = self.factorization
        opts = {}
        if self.method == "block-gmres":
            if self._options is None:
                self._options = saddle_point_options(problem)
            opts = self._options
        try:
            f = factorized(A, self.method, reuse=prev, **opts)
        except Exception:
            if prev is None:
                raise
            f = factorized(A, self.method, **opts)
        self.factorization = f
        return f(b)


class Problem:
    """Quasi-static hyperelastic problem on a mesh (P1 or P2 tetrahedra) or a function space.

    Parameters
    ----------
    mesh : Mesh or FunctionSpace
        A space is used as it is (its formulation: mixed if Taylor-Hood), and can be shared
        by several problems; a mesh gets a new space.
    material : object with ``kind`` and ``pack()`` (see :mod:`cardiosim.materials`)
    clamped : markers whose nodes are fixed (u = 0): :class:`~cardiosim.fem.loads.Clamp`
    pressure : (marker, p [Pa]) or a tuple of them: follower pressure at full load,
        ramped with the load factor (:class:`~cardiosim.fem.loads.Pressure`)
    active_tension : Ta [Pa] at full load along the fibres (number, per cell or per
        quadrature point), ramped with the load factor (needs fibres;
        :class:`~cardiosim.fem.loads.ActiveTension`)
    springs : (marker, k [Pa/m]) or a tuple of them: Robin traction -k u
        (:class:`~cardiosim.fem.loads.Springs`)
    loads : further loads of :mod:`cardiosim.fem.loads`, each with its time function;
        assembled after those given by the keywords above, in the order given
    formulation : "penalty", "mixed" or None (mixed for P2 with automatic kappa)
    fibre_field : optional callable, points (n, 3) [m] -> frames (n, 3, 3) (rows f0, s0,
        n0), evaluated at the quadrature points; otherwise the mesh's fibres (per cell,
        or per node interpolated to the quadrature points and re-orthonormalised)
    quadrature_degree : degree of the cell rule (default 2 x the order)
    linear_solver : method of the Newton updates (see :class:`LinearSolver`); the choice
        made for ``"auto"`` is in ``linear_method``

    Attributes
    ----------
    space : FunctionSpace
    loads : tuple of all loads (keywords first), in assembly order
    linear : LinearSolver, with the factorisation of the last Newton matrix
    R : (n_cells, nq, 3, 3) fibre frames at the quadrature points
    fixed, free : clamped and free unknowns
    """

    def __init__(self, mesh: Mesh | FunctionSpace, material, clamped: Sequence[str] = (),
                 pressure: tuple | None = None, active_tension=0.0, springs: tuple = (),
                 formulation: str | None = None, fibre_field: Callable | None = None,
                 quadrature_degree: int | None = None, linear_solver: str = "auto",
                 loads: Sequence[Load] = (), timings: dict | None = None):
        space = mesh if isinstance(mesh, FunctionSpace) else None
        m = space.mesh if space is not None else mesh
        self.mesh, self.material, self.fibre_field = m, material, fibre_field
        self.linear_solver = linear_solver
        self.timings = {"assembly_s": 0.0, "solve_s": 0.0} if timings is None else timings
        given = [Clamp(k) for k in clamped] + [Pressure(k, p) for k, p in _pairs(pressure)]
        if np.any(active_tension):
            given.append(ActiveTension(active_tension))
        given += [Springs(k, v) for k, v in _pairs(springs)] + list(loads)
        for ld in given:
            if not isinstance(ld, (Clamp, Pressure, Springs, ActiveTension)):
                raise ParameterError(f"loads: {ld!r} is not a Clamp, Pressure, Springs or ActiveTension")
        self.loads = tuple(given)
        clamps = [ld for ld in given if isinstance(ld, Clamp)]
        surface = [ld for ld in given if isinstance(ld, (Pressure, Springs))]
        active = [ld for ld in given if isinstance(ld, ActiveTension)]
        m.require(*dict.fromkeys([c.marker for c in clamps] + [s.marker for s in surface]))
        self.clamped = tuple(dict.fromkeys(c.marker for c in clamps))

        if formulation is None:
            if space is not None:
                formulation = "mixed" if space.taylor_hood else "penalty"
            else:
                auto_kappa = getattr(material, "kappa", 0.0) is None
                formulation = "mixed" if (m.order == 2 and auto_kappa) else "penalty"
        if formulation not in FORMULATIONS:
            raise ParameterError(f"formulation must be 'penalty' or 'mixed', got {formulation!r}")
        if space is None:
            space = FunctionSpace(m, taylor_hood=formulation == "mixed", quadrature_degree=quadrature_degree)
        elif space.taylor_hood != (formulation == "mixed"):
            raise ParameterError(f"formulation {formulation!r} does not match the space ({space.element_name})")
        elif quadrature_degree is not None and quadrature_degree != space.quadrature_degree:
            raise ParameterError(f"quadrature_degree = {quadrature_degree} differs from the space's "
                                 f"({space.quadrature_degree}); build a FunctionSpace with it")
        self.space, self.formulation = space, formulation
        self.quadrature_degree = space.quadrature_degree

        if any(not a.is_zero for a in active) and m.fibres is None and fibre_field is None:
            raise ParameterError("active tension needs a fibre field (mesh fibres or fibre_field), got "
                                 "neither")
        self.R = space.frames(fibre_field)
        self.prm = np.asarray(material.pack(), dtype=float)
        if formulation == "mixed":
            self.prm[-1] = 0.0  # J = 1 is held by the multiplier, not the penalty
        self.kind = int(material.kind)
        fixed = [space.marker_dofs((c.marker,), c.components) for c in clamps]
        self.fixed = np.unique(np.concatenate(fixed)) if fixed else np.zeros(0, np.int64)
        self.free = np.setdiff1d(np.arange(space.n_dofs), self.fixed)
        self._surface = [(ld, space.facet_data(ld.marker)) for ld in surface]
        ne, nq = m.n_cells, space.n_quadrature_points
        self._active = [(ld, ld.per_point(ne, nq)) for ld in active]
        self._no_tension = np.zeros((ne, nq))
        self.linear = LinearSolver(linear_solver, formulation, space.n_dofs)

    # -- the space's layout --------------------------------------------------------------
    @property
    def n_dofs(self) -> int:
        return self.space.n_dofs

    @property
    def n_u(self) -> int:
        return self.space.n_u

    @property
    def vertices(self) -> np.ndarray:
        return self.space.vertices

    @property
    def pdofs(self) -> np.ndarray:
        return self.space.pdofs

    @property
    def Np(self) -> np.ndarray:
        return self.space.Np

    @property
    def dNdX(self) -> np.ndarray:
        return self.space.dNdX

    @property
    def wdet(self) -> np.ndarray:
        return self.space.wdet

    @property
    def pattern(self):
        return self.space.pattern

    @property
    def coords(self) -> np.ndarray:
        return self.mesh.points

    @property
    def linear_method(self) -> str:
        return self.linear.method

    def split(self, x: np.ndarray):
        """(u (n_points, 3), p at the vertices or None) from the unknown vector."""
        return self.space.split(x)

    # -- assembly ------------------------------------------------------------------------
    def active_tension_at(self, load: float) -> np.ndarray:
        """Active tension (n_cells, nq) [Pa] at load parameter ``load``: the sum of the
        ActiveTension loads, each scaled by its time function."""
        Ta = None
        for ld, full in self._active:
            v = ld.scale(load) * full
            Ta = v if Ta is None else Ta + v
        return self._no_tension if Ta is None else Ta

    def assemble(self, x: np.ndarray, load: float, want_k: bool = True, passive: bool = False):
        """Global residual R(x), tangent dR/dx (CSR, or None) at load parameter ``load``,
        and the first element found inverted (J <= 0), or -1. With ``passive``: the
        material's part alone (no active tension, pressures or springs), e.g. to tell the
        work of the loads from the stored energy.

        Returns
        -------
        (R, K, inverted) : an inverted element leaves R and K incomplete (not to be used).
        """
        t0 = time.perf_counter()
        sp, m = self.space, self.mesh
        u = x[: sp.n_u].reshape(-1, 3)
        U = np.ascontiguousarray(u[m.cells])
        Ta = self._no_tension if passive else self.active_tension_at(load)
        P = np.ascontiguousarray(x[sp.n_u:][sp.pdofs])  # (ne, 0) for the penalty form
        pat = sp.pattern
        Rg = np.zeros(pat.n)
        data = np.zeros(pat.nnz) if want_k else np.zeros(0)
        # element loop and scatter in one compiled pass (no (ne, m, m) array of element
        # matrices: 9 GB at 560,000 Taylor-Hood unknowns)
        e = HK.assemble(sp.dNdX, sp.Np, sp.wdet, U, P, self.R, self.kind, self.prm, Ta,
                        pat.dofs, pat.pos, Rg, data, want_k)
        if e < 0:
            self.timings["assembly_s"] += time.perf_counter() - t0
            return Rg, None, int(-e - 1)
        fel = sp.facet_element
        for ld, (fac, Xf, fdofs, fpos) in (() if passive else self._surface):
            nf, nn = fac.shape
            Uf = np.ascontiguousarray(u[fac])
            Rf = np.empty((nf, 3 * nn))
            Kf = np.empty((nf, 3 * nn, 3 * nn))
            if isinstance(ld, Pressure):
                HK.pressure(Xf, Uf, fel.N, fel.dN, fel.weights, ld.at(load), Rf, Kf)
            else:
                HK.spring(Xf, Uf, fel.N, fel.dN, fel.weights, ld.at(load), Rf, Kf)
            FK.scatter_vector(Rf, fdofs, Rg)
            if want_k:
                FK.scatter_matrix(Kf, fpos, data)
        K = pat.csr(data) if want_k else None
        self.timings["assembly_s"] += time.perf_counter() - t0
        return Rg, K, -1

    def residual_tangent(self, x: np.ndarray, load: float, want_k: bool = True):
        """Global residual R(x) and tangent dR/dx (CSR, or None) at load parameter ``load``.

        Raises
        ------
        SolverError : ``x`` inverts an element (J <= 0 at a quadrature point).
        """
        R, K, inverted = self.assemble(x, load, want_k)
        if inverted >= 0:
            raise SolverError(f"{self.mesh.name}: element {inverted} inverted (J <= 0) by the displacement "
                              f"at load {load}")
        return R, K


def _linear_solve(problem: Problem, A, b):
    """The Newton update: ``problem``'s linear solver on A x = b."""
    return problem.linear.solve(problem, A, b)


def solve(problem: Problem, steps: int = 10, tol: float = 1e-9, max_iter: int = 25, min_step: float = 1e-4,
          progress: Callable[[str], None] | None = None, x0: np.ndarray | None = None, predictor: bool = True,
          on_step: Callable[[float, np.ndarray], None] | None = None):
    """Move the load parameter t from 0 to 1 in ``steps`` equal steps (cut in half on
    failure; the step grows again after easy steps); every load of the problem follows its
    time function of t. With ``predictor``, each step after the first starts from the
    secant extrapolation of the last two converged states (and from the last state if
    Newton fails from there).

    Convergence in a step: the energy norm |dx . R| below tol^2 of its first value in the
    step (at least the first step's, scaled by the step length squared), or a Newton update
    at round-off. ``on_step(t, x)`` is called after every converged step with the load
    parameter and all unknowns (not to be modified). Returns (u (n_points, 3), info) with
    info = {"x" (all unknowns), "p" (vertex pressures [Pa] of the mixed form, else None),
    "newton_iterations", "steps", "cutbacks", "history", "assembly_s", "solve_s"}.
    """
    x = np.zeros(problem.n_dofs) if x0 is None else np.array(x0, float)
    load, dl = 0.0, 1.0 / steps
    total_iter, history, done_steps, cutbacks = 0, [], 0, 0
    prev = None  # (load, x) of the step before: the secant predictor
    e_unit = None  # Newton energy of the first step per unit load squared
    while load < 1.0 - 1e-14:
        target = min(1.0, load + dl)
        start = x
        if predictor and prev is not None:
            # along the secant of the last two converged states, closer to the solution than
            # the last state (with e_ref below: problem 2 level 2, 51 Newton iterations, not 59)
            start = x + (target - load) / (load - prev[0]) * (x - prev[1])
        # a predicted start has a small first Newton energy: measure convergence against
        # the energy of the load increment (~ dl^2) instead, or it asks for more than round-off
        e_ref = None if e_unit is None else e_unit * (target - load) ** 2
        ok, x_new, it, hist, e0 = _newton(problem, start, target, tol, max_iter, e_ref)
        if not ok and start is not x:
            total_iter += it
            ok, x_new, it, hist, e0 = _newton(problem, x, target, tol, max_iter, e_ref)
        if ok and e_unit is None:
            e_unit = e0 / (target - load) ** 2
        total_iter += it
        history.append({"load": target, "iterations": it, "residuals": hist, "converged": ok})
        if ok:
            prev = (load, x)
            x, load = x_new, target
            done_steps += 1
            if on_step is not None:
                on_step(load, x)
            if progress:
                progress(f"load {load:.4f}: {it} Newton iterations, |R| {hist[-1]:.3e}")
            if it <= 4:
                dl = min(dl * 1.5, 1.0 / max(steps // 4, 1))
        else:
            dl *= 0.5
            cutbacks += 1
            if progress:
                progress(f"load {target:.4f}: Newton failed after {it} iterations; step cut to {dl:.5f}")
            if dl < min_step:
                u, _ = problem.split(x)
                raise NonlinearSolverError(
                    f"Newton failed at load factor {target:.5f} (last converged {load:.5f}) after {it} "
                    f"iterations; residual history {['%.3e' % r for r in hist]}. The load may be beyond "
                    f"what this mesh and material can reach; the last converged displacement is kept.",
                    load, it, hist, u.copy())
    u, p = problem.split(x)
    return u.copy(), {"x": x, "p": None if p is None else p.copy(), "newton_iterations": total_iter,
                      "steps": done_steps, "cutbacks": cutbacks, "history": history,
                      "assembly_s": problem.timings["assembly_s"], "solve_s": problem.timings["solve_s"]}


def _newton(problem: Problem, x: np.ndarray, load: float, tol: float, max_iter: int, e_ref: float | None = None):
    """Newton at one load level; returns (converged, x, iterations, |R_free| history, first
    energy norm |dx . R|). Converged when |dx . R| <= tol^2 max(first, e_ref)."""
    free = problem.free
    x = x.copy()
    hist = []
    R, K, inverted = problem.assemble(x, load)
    if inverted >= 0:
        return False, x, 0, [float("inf")], 0.0
    hist.append(float(np.linalg.norm(R[free])))
    e0 = None
    search = _line_search if problem.formulation == "penalty" else _backtrack
    for it in range(1, max_iter + 1):
        t0 = time.perf_counter()
        try:
            dx = _linear_solve(problem, K[free][:, free], -R[free])
        except Exception:
            return False, x, it, hist, e0
        problem.timings["solve_s"] += time.perf_counter() - t0
        if not np.all(np.isfinite(dx)):
            return False, x, it, hist, e0
        g0 = float(dx @ R[free])
        e0 = (abs(g0) if e_ref is None else max(abs(g0), e_ref)) if e0 is None else e0
        trial, Rt, Kt, alpha = search(problem, x, dx, g0, load)
        if trial is None:
            return False, x, it, hist, e0
        x, R, K = trial, Rt, Kt
        rn = float(np.linalg.norm(R[free]))
        hist.append(rn)
        if not math.isfinite(rn):
            return False, x, it, hist, e0
        scale = max(np.abs(x[free]).max(), 1e-30)
        if abs(g0) <= tol * tol * e0 or alpha * np.abs(dx).max() <= 1e-11 * scale:
            return True, x, it, hist, e0
    return False, x, max_iter, hist, e0


def _backtrack(problem, x, dx, g0, load, max_tries: int = 8):
    """Saddle-point (mixed) form: the full Newton step, halved while it inverts an element
    or gives a non-finite residual (no energy to minimise along the step)."""
    free = problem.free
    alpha = 1.0
    for _ in range(max_tries):
        trial = x.copy()
        trial[free] += alpha * dx
        Rt, Kt, inverted = problem.assemble(trial, load)
        if inverted < 0 and np.all(np.isfinite(Rt)):
            return trial, Rt, Kt, alpha
        alpha *= 0.5
    return None, None, None, 0.0


def _line_search(problem, u, du, g0, load, max_tries: int = 10):
    """Penalty form: step length along du from the energy slope g(a) = du . R(u + a du).

    A search on |R| stalls when a stiff volumetric penalty makes the residual of a good
    step briefly larger; g changes sign at the energy minimum along the step (conservative
    load). Full step unless g changes sign with |g| > 0.5 |g0|; then regula falsi on g in
    [0, 1] (safeguarded)."""
    free = problem.free
    lo, glo = 0.0, g0
    hi, ghi = None, None
    alpha = 1.0
    best = None
    for _ in range(max_tries):
        trial = u.copy()
        trial[free] += alpha * du
        Rt, Kt, inverted = problem.assemble(trial, load)
        if inverted >= 0:
            ok, g = False, float("inf")
        else:
            g = float(du @ Rt[free])
            ok = math.isfinite(g)
        if ok and (best is None or abs(g) < best[0]):
            best = (abs(g), trial, Rt, Kt, alpha)
        if ok and (abs(g) <= 0.5 * abs(g0) or (g * g0 > 0 and alpha == 1.0)):
            return trial, Rt, Kt, alpha
        if not ok or g * g0 < 0:
            hi, ghi = alpha, (g if ok else None)
        else:
            lo, glo = alpha, g
        if hi is not None and ghi is not None:
            alpha = lo + (hi - lo) * glo / (glo - ghi)
            alpha = min(max(alpha, lo + 0.1 * (hi - lo)), hi - 0.1 * (hi - lo))
        else:
            alpha = 0.5 * (lo + (hi if hi is not None else 2 * alpha))
    if best is not None and best[0] < abs(g0):
        return best[1], best[2], best[3], best[4]
    return None, None, None, 0.0
