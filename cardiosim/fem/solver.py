"""Quasi-static hyperelastic problems: assembly of residual and tangent, Newton, load steps.

A :class:`Problem` gathers a mesh, a material (a dataclass of :mod:`cardiosim.materials`
with ``kind`` and ``pack()``), clamped markers, follower pressures and springs on markers
and an optional active tension; loads are scaled by the load factor. Two formulations:

* ``"penalty"``: displacement only; the law's volumetric penalty (kappa) keeps the volume.
  P1 or P2. Locks (too stiff) on coarse meshes when kappa >> the shear modulus.
* ``"mixed"``: Taylor-Hood P2 displacement / P1 pressure, incompressible (J = 1 by a
  Lagrange multiplier; the law's kappa is not used). Free of locking; the formulation of
  the benchmark's reference code. Default for P2 meshes when the material's kappa was left
  automatic (None), i.e. when no compressibility was stated.

:func:`solve` ramps the load, runs Newton (line search: energy slope for the penalty form,
backtracking on inverted elements for the saddle-point mixed form) and cuts the step on
failure; if it cannot go on it raises :class:`NonlinearSolverError` with the load reached,
the iteration, the residual history and the last converged displacement.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..errors import SolverError
from ..mesh import Mesh
from . import hyperelastic as HK
from . import kernels as FK
from .assembly import Pattern
from .elements import Element, shape_functions
from .linear import AUTO_KRYLOV_N, factorized, saddle_point_options
from .measures import probe  # noqa: F401  (re-exported: solver.probe)


class NonlinearSolverError(SolverError):
    """Newton failed even with the smallest load step. Attributes: load, iteration, history, u."""

    def __init__(self, message, load, iteration, history, u):
        super().__init__(message, time_s=float("nan"), partial=u)
        self.load = load
        self.iteration = iteration
        self.history = history
        self.u = u


def _pairs(x, what):
    """Accept (marker, value) or a tuple of such pairs."""
    if not x:
        return ()
    if isinstance(x[0], str):
        x = (x,)
    out = []
    for m, v in x:
        v = float(v)
        if not math.isfinite(v):
            raise ValueError(f"{what} on {m!r} must be finite, got {v}")
        out.append((str(m), v))
    return tuple(out)


@dataclass
class Problem:
    """Quasi-static hyperelastic problem on ``mesh`` (P1 or P2 tetrahedra).

    Parameters
    ----------
    mesh : Mesh
    material : object with ``kind`` and ``pack()`` (see :mod:`cardiosim.materials`)
    clamped : markers whose nodes are fixed (u = 0)
    pressure : (marker, p [Pa]) or a tuple of them: follower pressure at full load
    active_tension : Ta [Pa] at full load, along the fibres (needs fibres)
    springs : (marker, k [Pa/m]) or a tuple of them: Robin traction -k u
    formulation : "penalty", "mixed" or None (mixed for P2 with automatic kappa)
    fibre_field : optional callable, points (n, 3) [m] -> frames (n, 3, 3) (rows f0, s0,
        n0), evaluated at the quadrature points; otherwise the mesh's fibres (per cell,
        or per node interpolated to the quadrature points and re-orthonormalised)
    linear_solver : a method of :func:`cardiosim.fem.linear.solve_linear`; "block-gmres"
        (AMG-preconditioned Krylov for the Taylor-Hood saddle point, for large meshes) gets
        its options from :func:`cardiosim.fem.linear.saddle_point_options`. "auto": a
        direct solver, or block-gmres for Taylor-Hood problems from
        :data:`cardiosim.fem.linear.AUTO_KRYLOV_N` unknowns when pyamg is installed (the
        measured crossover); the choice is in ``linear_method``.
    """

    mesh: Mesh
    material: object
    clamped: tuple = ()
    pressure: tuple | None = None
    active_tension: float = 0.0
    springs: tuple = ()
    formulation: str | None = None
    fibre_field: Callable | None = None
    quadrature_degree: int | None = None
    linear_solver: str = "auto"
    timings: dict = field(default_factory=lambda: {"assembly_s": 0.0, "solve_s": 0.0})

    def __post_init__(self):
        m = self.mesh
        self.pressures = _pairs(self.pressure, "pressure")
        self.spring_list = _pairs(self.springs, "spring stiffness")
        for mk, k in self.spring_list:
            if k < 0:
                raise ValueError(f"spring stiffness on {mk!r} must be >= 0 Pa/m, got {k}")
        m.require(*self.clamped, *[p[0] for p in self.pressures], *[s[0] for s in self.spring_list])
        if self.formulation is None:
            auto_kappa = getattr(self.material, "kappa", 0.0) is None
            self.formulation = "mixed" if (m.order == 2 and auto_kappa) else "penalty"
        if self.formulation not in ("penalty", "mixed"):
            raise ValueError(f"formulation must be 'penalty' or 'mixed', got {self.formulation!r}")
        if self.formulation == "mixed" and m.order != 2:
            raise ValueError("the mixed (Taylor-Hood) formulation needs a P2 mesh (mesh.to_quadratic())")
        self.el = Element.tetra(m.order, self.quadrature_degree)
        self.fel = Element.triangle(m.order)
        X = np.ascontiguousarray(m.points[m.cells])
        ne, nq, nn = m.n_cells, len(self.el.weights), self.el.n_nodes
        self.dNdX = np.empty((ne, nq, nn, 3))
        self.wdet = np.empty((ne, nq))
        bad = FK.geometry(X, self.el.dN, self.el.weights, self.dNdX, self.wdet)
        if bad >= 0:
            raise ValueError(f"{m.name}: element {bad} has a non-positive Jacobian (inverted)")
        if self.active_tension and m.fibres is None and self.fibre_field is None:
            raise ValueError("active tension needs a fibre field (mesh fibres or fibre_field)")
        self.R = self._frames(X)
        self.prm = np.asarray(self.material.pack(), dtype=float)
        if self.formulation == "mixed":
            self.prm[-1] = 0.0  # J = 1 is held by the multiplier, not the penalty
        self.kind = int(self.material.kind)
        self.n_u = 3 * m.n_points
        dofs = (m.cells[:, :, None] * 3 + np.arange(3)).reshape(ne, 3 * nn)
        if self.formulation == "mixed":
            self.vertices = np.unique(m.cells[:, :4])
            vmap = np.full(m.n_points, -1, dtype=np.int64)
            vmap[self.vertices] = np.arange(len(self.vertices))
            self.pdofs = vmap[m.cells[:, :4]]
            self.Np = np.ascontiguousarray(shape_functions(1, self.el.points)[0])
            dofs = np.hstack([dofs, self.n_u + self.pdofs])
            n = self.n_u + len(self.vertices)
        else:
            n = self.n_u
        self.pattern = Pattern.from_dofs(dofs, n)
        fixed = np.unique(np.concatenate([m.facets[k].ravel() for k in self.clamped])) if self.clamped \
            else np.zeros(0, np.int64)
        self.fixed = (fixed[:, None] * 3 + np.arange(3)).ravel()
        self.free = np.setdiff1d(np.arange(n), self.fixed)
        self._bc = []  # (kind, value, facets, Xf, (facet dofs, scatter map into the pattern))
        for mk, p in self.pressures:
            self._bc.append(("pressure", p) + self._facet_data(mk))
        for mk, k in self.spring_list:
            self._bc.append(("spring", k) + self._facet_data(mk))
        if self.formulation != "mixed":
            self.Np = np.zeros((nq, 0))
            self.pdofs = np.zeros((ne, 0), dtype=np.int64)
        self.coords = m.points
        self.linear_method = self.linear_solver
        if self.linear_solver == "auto" and self.formulation == "mixed" and n >= AUTO_KRYLOV_N:
            try:
                import pyamg  # noqa: F401
                self.linear_method = "block-gmres"
            except ImportError:
                pass

    def _facet_data(self, marker):
        fac = self.mesh.facets[marker]
        fdofs = (fac[:, :, None] * 3 + np.arange(3)).reshape(len(fac), -1)
        return fac, np.ascontiguousarray(self.mesh.points[fac]), (fdofs, self.pattern.locate(fdofs))

    def _frames(self, X):
        m, el = self.mesh, self.el
        ne, nq = m.n_cells, len(el.weights)
        if self.fibre_field is not None:
            xq = np.einsum("qa,eai->eqi", el.N, X).reshape(-1, 3)
            R = np.asarray(self.fibre_field(xq), dtype=float).reshape(ne, nq, 3, 3)
        elif m.fibres is None:
            R = np.broadcast_to(np.eye(3), (ne, nq, 3, 3))
        elif m.fibres_at == "cell":
            R = np.broadcast_to(m.fibres[:, None], (ne, nq, 3, 3))
        else:
            R = _orthonormal(np.einsum("qa,eaij->eqij", el.N, m.fibres[m.cells]))
        R = np.ascontiguousarray(R, dtype=float)
        if not np.all(np.isfinite(R)):
            raise ValueError(f"{m.name}: the fibre field has non-finite values")
        return R

    @property
    def n_dofs(self) -> int:
        return self.pattern.n

    def split(self, x: np.ndarray):
        """(u (n_points, 3), p at the vertices or None) from the unknown vector."""
        u = x[: self.n_u].reshape(-1, 3)
        return u, (x[self.n_u:] if self.formulation == "mixed" else None)

    def residual_tangent(self, x: np.ndarray, load: float, want_k: bool = True):
        """Global residual R(x) and tangent dR/dx (CSR, or None) at load factor ``load``."""
        t0 = time.perf_counter()
        m = self.mesh
        u = x[: self.n_u].reshape(-1, 3)
        U = np.ascontiguousarray(u[m.cells])
        Ta = np.full(m.n_cells, load * self.active_tension)
        P = np.ascontiguousarray(x[self.n_u:][self.pdofs])  # (ne, 0) for the penalty form
        pat = self.pattern
        Rg = np.zeros(pat.n)
        data = np.zeros(pat.nnz) if want_k else np.zeros(0)
        # element loop and scatter in one compiled pass (no (ne, m, m) array of element
        # matrices: 9 GB at 560,000 Taylor-Hood unknowns)
        e = HK.assemble(self.dNdX, self.Np, self.wdet, U, P, self.R, self.kind, self.prm, Ta,
                        pat.dofs, pat.pos, Rg, data, want_k)
        if e < 0:
            raise FloatingPointError(f"element {int(-e - 1)} inverted (J <= 0)")
        for kind, val, fac, Xf, (fdofs, fpos) in self._bc:
            nf, nn = fac.shape
            Uf = np.ascontiguousarray(u[fac])
            Rf = np.empty((nf, 3 * nn))
            Kf = np.empty((nf, 3 * nn, 3 * nn))
            if kind == "pressure":
                HK.pressure(Xf, Uf, self.fel.N, self.fel.dN, self.fel.weights, load * val, Rf, Kf)
            else:
                HK.spring(Xf, Uf, self.fel.N, self.fel.dN, self.fel.weights, val, Rf, Kf)
            FK.scatter_vector(Rf, fdofs, Rg)
            if want_k:
                FK.scatter_matrix(Kf, fpos, data)
        K = pat.csr(data) if want_k else None
        self.timings["assembly_s"] += time.perf_counter() - t0
        return Rg, K


def _orthonormal(R):
    """Gram-Schmidt on rows f, s of frames (..., 3, 3); n = f x s."""
    f = R[..., 0, :] / np.linalg.norm(R[..., 0, :], axis=-1, keepdims=True)
    s = R[..., 1, :] - np.sum(R[..., 1, :] * f, axis=-1, keepdims=True) * f
    s /= np.linalg.norm(s, axis=-1, keepdims=True)
    return np.stack([f, s, np.cross(f, s)], axis=-2)


def _linear_solve(problem, A, b):
    """Solve with the problem's method, keeping the symbolic analysis of the previous
    Newton matrix (same pattern) where the method allows (PARDISO, UMFPACK: ~40 % of a
    factorisation)."""
    prev = getattr(problem, "_factor", None)
    opts = {}
    if problem.linear_method == "block-gmres":
        if getattr(problem, "_solver_opts", None) is None:
            problem._solver_opts = saddle_point_options(problem)
        opts = problem._solver_opts
    try:
        f = factorized(A, problem.linear_method, reuse=prev, **opts)
    except Exception:
        if prev is None:
            raise
        f = factorized(A, problem.linear_method, **opts)
    problem._factor = f
    return f(b)


def solve(problem: Problem, steps: int = 10, tol: float = 1e-9, max_iter: int = 25, min_step: float = 1e-4,
          progress: Callable[[str], None] | None = None, x0: np.ndarray | None = None, predictor: bool = True):
    """Ramp the load from 0 to 1 in ``steps`` equal steps (cut in half on failure; the step
    grows again after easy steps). With ``predictor``, each step after the first starts from
    the secant extrapolation of the last two converged states (and from the last state if
    Newton fails from there).

    Convergence in a step: the energy norm |dx . R| below tol^2 of its first value in the
    step (at least the first step's, scaled by the step length squared), or a Newton update
    at round-off. Returns (u (n_points, 3), info) with info =
    {"x" (all unknowns), "p" (vertex pressures [Pa] of the mixed form, else None),
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
    try:
        R, K = problem.residual_tangent(x, load)
    except FloatingPointError:
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
        try:
            Rt, Kt = problem.residual_tangent(trial, load)
            if np.all(np.isfinite(Rt)):
                return trial, Rt, Kt, alpha
        except FloatingPointError:
            pass
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
        try:
            Rt, Kt = problem.residual_tangent(trial, load)
            g = float(du @ Rt[free])
            ok = math.isfinite(g)
        except FloatingPointError:
            ok, g = False, float("inf")
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
