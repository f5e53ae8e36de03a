"""Quasi-static hyperelastic problems: assembly of residual and tangent, Newton, load steps.

A :class:`Problem` gathers a mesh, a material (a dataclass of :mod:`cardiosim.materials`
with ``kind`` and ``pack()``), clamped markers, a follower pressure on a marker and an
optional active tension, each scaled by the load factor. :func:`solve` ramps the load,
runs Newton with a backtracking line search at each step and cuts the step on failure;
if it cannot go on it raises :class:`NonlinearSolverError` with the load reached, the
iteration, the residual history and the last converged displacement.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import scipy.sparse.linalg as spla

from ..errors import SolverError
from ..mesh import Mesh
from . import hyperelastic as HK
from . import kernels as FK
from .assembly import Pattern
from .elements import Element


class NonlinearSolverError(SolverError):
    """Newton failed even with the smallest load step. Attributes: load, iteration, history, u."""

    def __init__(self, message, load, iteration, history, u):
        super().__init__(message, time_s=float("nan"), partial=u)
        self.load = load
        self.iteration = iteration
        self.history = history
        self.u = u


@dataclass
class Problem:
    """Quasi-static hyperelastic problem on ``mesh`` (P1 or P2 tetrahedra).

    Parameters
    ----------
    mesh : Mesh
    material : object with ``kind`` and ``pack()`` (see :mod:`cardiosim.materials`)
    clamped : markers whose nodes are fixed (u = 0)
    pressure : (marker, p [Pa]) follower pressure at full load, or None
    active_tension : Ta [Pa] at full load (needs fibres on the mesh)
    """

    mesh: Mesh
    material: object
    clamped: tuple = ()
    pressure: tuple | None = None
    active_tension: float = 0.0
    quadrature_degree: int | None = None
    timings: dict = field(default_factory=lambda: {"assembly_s": 0.0, "solve_s": 0.0})

    def __post_init__(self):
        m = self.mesh
        m.require(*self.clamped, *([self.pressure[0]] if self.pressure else []))
        self.el = Element.tetra(m.order, self.quadrature_degree)
        self.fel = Element.triangle(m.order)
        X = np.ascontiguousarray(m.points[m.cells])
        ne, nq, nn = m.n_cells, len(self.el.weights), self.el.n_nodes
        self.dNdX = np.empty((ne, nq, nn, 3))
        self.wdet = np.empty((ne, nq))
        bad = FK.geometry(X, self.el.dN, self.el.weights, self.dNdX, self.wdet)
        if bad >= 0:
            raise ValueError(f"{m.name}: element {bad} has a non-positive Jacobian (inverted)")
        self.pattern = Pattern(m.cells, m.n_points)
        if m.fibres is None:
            self.R = np.tile(np.eye(3), (ne, 1, 1))
        elif m.fibres_at == "cell":
            self.R = np.ascontiguousarray(m.fibres)
        else:
            self.R = np.ascontiguousarray(m.fibres[m.cells].mean(axis=1))
            self.R /= np.linalg.norm(self.R, axis=2, keepdims=True)
        if self.active_tension and m.fibres is None:
            raise ValueError("active tension needs a fibre field on the mesh")
        self.prm = np.asarray(self.material.pack(), dtype=float)
        self.kind = int(self.material.kind)
        fixed = np.unique(np.concatenate([m.facets[k].ravel() for k in self.clamped])) if self.clamped \
            else np.zeros(0, np.int64)
        self.fixed = (fixed[:, None] * 3 + np.arange(3)).ravel()
        self.free = np.setdiff1d(np.arange(self.pattern.n), self.fixed)
        if self.pressure:
            fac = m.facets[self.pressure[0]]
            self.fac = fac
            self.fdofs = (fac[:, :, None] * 3 + np.arange(3)).reshape(len(fac), -1)
            self.fpattern = Pattern(fac, m.n_points)
            self.Xf = np.ascontiguousarray(m.points[fac])
        self.Ke = np.empty((ne, 3 * nn, 3 * nn))
        self.Rel = np.empty((ne, 3 * nn))

    @property
    def n_dofs(self) -> int:
        return self.pattern.n

    def residual_tangent(self, u: np.ndarray, load: float):
        """Global residual R(u) and tangent dR/du (CSR) at load factor ``load``."""
        t0 = time.perf_counter()
        m = self.mesh
        U = np.ascontiguousarray(u.reshape(-1, 3)[m.cells])
        Ta = np.full(m.n_cells, load * self.active_tension)
        e = HK.hyperelastic(self.dNdX, self.wdet, U, self.R, self.kind, self.prm, Ta, self.Rel, self.Ke)
        if e < 0:
            raise FloatingPointError(f"element {int(-e - 1)} inverted (J <= 0)")
        Rg = self.pattern.vector(self.Rel)
        K = self.pattern.matrix(self.Ke)
        if self.pressure:
            nf, nn = self.fac.shape
            Uf = np.ascontiguousarray(u.reshape(-1, 3)[self.fac])
            Rf = np.empty((nf, 3 * nn))
            Kf = np.empty((nf, 3 * nn, 3 * nn))
            HK.pressure(self.Xf, Uf, self.fel.N, self.fel.dN, self.fel.weights, load * self.pressure[1], Rf, Kf)
            Rg = Rg + self.fpattern.vector(Rf)
            K = K + self.fpattern.matrix(Kf)
        self.timings["assembly_s"] += time.perf_counter() - t0
        return Rg, K


def solve(problem: Problem, steps: int = 10, tol: float = 1e-9, max_iter: int = 25, min_step: float = 1e-4,
          progress: Callable[[str], None] | None = None, u0: np.ndarray | None = None):
    """Ramp the load from 0 to 1 in ``steps`` equal steps (cut in half on failure).

    Convergence: ||R_free|| <= tol * max(||R_free at the first iteration of the step||, reference)
    or a Newton update below 1e-12 of the displacement scale. Returns (u, info) with
    info = {"newton_iterations", "steps", "history", "assembly_s", "solve_s"}.
    """
    u = np.zeros(problem.n_dofs) if u0 is None else np.array(u0, float)
    load, dl = 0.0, 1.0 / steps
    total_iter, history, done_steps = 0, [], 0
    while load < 1.0 - 1e-14:
        target = min(1.0, load + dl)
        ok, u_new, it, hist = _newton(problem, u, target, tol, max_iter)
        total_iter += it
        history.append({"load": target, "iterations": it, "residuals": hist, "converged": ok})
        if ok:
            u, load = u_new, target
            done_steps += 1
            if progress:
                progress(f"load {load:.4f}: {it} Newton iterations, |R| {hist[-1]:.3e}")
            if it <= 4:
                dl = min(dl * 1.5, 1.0 / max(steps // 4, 1))
        else:
            dl *= 0.5
            if dl < min_step:
                raise NonlinearSolverError(
                    f"Newton failed at load factor {target:.5f} (last converged {load:.5f}) after {it} "
                    f"iterations; residual history {['%.3e' % r for r in hist]}. The load may be beyond "
                    f"what this mesh and material can reach; the last converged displacement is kept.",
                    load, it, hist, u)
    return u, {"newton_iterations": total_iter, "steps": done_steps, "history": history,
               "assembly_s": problem.timings["assembly_s"], "solve_s": problem.timings["solve_s"]}


def _newton(problem: Problem, u: np.ndarray, load: float, tol: float, max_iter: int):
    """Newton with a line search on the directional derivative g(a) = du . R(u + a du).

    A search on |R| stalls when a stiff volumetric penalty makes the residual of a good
    step briefly larger; g is the energy's slope along du for a conservative load and
    changes sign at the energy minimum along the step. Converged when the energy norm
    |du . R| falls below tol^2 of its first value in the step and |R| below tol of its
    first value, or when the update is at round-off.
    """
    free = problem.free
    u = u.copy()
    hist = []
    try:
        R, K = problem.residual_tangent(u, load)
    except FloatingPointError:
        return False, u, 0, [float("inf")]
    hist.append(np.linalg.norm(R[free]))
    e0 = None
    for it in range(1, max_iter + 1):
        t0 = time.perf_counter()
        try:
            du = spla.spsolve(K[free][:, free].tocsc(), -R[free])
        except Exception:
            return False, u, it, hist
        problem.timings["solve_s"] += time.perf_counter() - t0
        if not np.all(np.isfinite(du)):
            return False, u, it, hist
        g0 = float(du @ R[free])
        e0 = abs(g0) if e0 is None else e0
        trial, Rt, Kt, alpha = _line_search(problem, u, du, g0, load)
        if trial is None:
            return False, u, it, hist
        u, R, K = trial, Rt, Kt
        rn = float(np.linalg.norm(R[free]))
        hist.append(rn)
        if not math.isfinite(rn):
            return False, u, it, hist
        scale = max(np.abs(u[free]).max(), 1e-30)
        if abs(g0) <= tol * tol * e0 or alpha * np.abs(du).max() <= 1e-11 * scale:
            return True, u, it, hist
    return False, u, max_iter, hist


def _line_search(problem, u, du, g0, load, max_tries: int = 10):
    """Step length along du: full step unless the slope g = du . R changes sign beyond the
    minimum with |g| > 0.5 |g0|; then regula falsi on g in [0, 1] (safeguarded)."""
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


def probe(mesh: Mesh, u: np.ndarray, point) -> np.ndarray:
    """Displacement at ``point`` [m], interpolated in the (straight) element containing it."""
    from .elements import shape_functions

    p = np.asarray(point, float)
    x = mesh.points[mesh.cells[:, :4]]
    T = np.stack([x[:, 1] - x[:, 0], x[:, 2] - x[:, 0], x[:, 3] - x[:, 0]], axis=2)
    lam = np.linalg.solve(T, (p - x[:, 0])[:, :, None])[:, :, 0]
    inside = np.all(lam >= -1e-9, axis=1) & (lam.sum(axis=1) <= 1 + 1e-9)
    idx = np.flatnonzero(inside)
    if idx.size == 0:
        raise ValueError(f"point {point} is outside the mesh")
    e = idx[0]
    N, _ = shape_functions(mesh.order, lam[e][None, :])
    return N[0] @ u.reshape(-1, 3)[mesh.cells[e]]
