"""The Bestel-Clement-Sorine active law in the 3D wall: its state at every quadrature point.

The active second Piola-Kirchhoff stress is S_a = tau_1D A, A = (1 - delta) f0 (x) f0 +
delta s0 (x) s0, work-conjugate to the fibre strain e = A : E (E = (C - I)/2): tau_1D and
the per-point state (e_c, tau_c, k_c, omega) come from the law's point step
(:func:`cardiosim.materials.bcs.point_step`), the same kernels as the 0D sphere (Caruel et
al. 2014, Biomech. Model. Mechanobiol. 13:897-914). On a spherical shell with delta = 1/2
its spherical stress is the 0D model's tau_1D.

The law sees the configuration at the time scheme's stage (where the scheme takes its
balance: u_f of generalized-alpha, the mid-point, the end of a quasi-static step), and its
state steps from the previous stage's fibre strain to this one's, over the step length h.
The consistent tangent adds dtau_1D/de A (x) A to the material part.

Kernels: :func:`fibre_strains`, :func:`bcs_points`, :func:`assemble_active`, plain
functions over arrays; :class:`FibreActivation` configures them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from ..errors import ParameterError
from ..materials import bcs as BK
from .hyperelastic import _deformation_gradient


@njit(cache=True, inline="always")
def _structure(R, e, q, delta, A):
    for i in range(3):
        for j in range(3):
            A[i, j] = (1.0 - delta) * R[e, q, 0, i] * R[e, q, 0, j] + delta * R[e, q, 1, i] * R[e, q, 1, j]


@njit(cache=True)
def fibre_strains(dNdX, U, R, delta, out):
    """out[e, q] = A : E, the fibre Green-Lagrange strain at every quadrature point."""
    ne, nq = dNdX.shape[0], dNdX.shape[1]
    F = np.empty((3, 3))
    A = np.empty((3, 3))
    for e in range(ne):
        for q in range(nq):
            _deformation_gradient(U, dNdX, e, q, F)
            _structure(R, e, q, delta, A)
            s = 0.0
            for i in range(3):
                for j in range(3):
                    c = F[0, i] * F[0, j] + F[1, i] * F[1, j] + F[2, i] * F[2, j]
                    s += A[i, j] * 0.5 * (c - (1.0 if i == j else 0.0))
            out[e, q] = s


@njit(cache=True)
def bcs_points(e1, state0, u, h, bp, n0x, n0y, m0x, m0y, tol, tau, dtau, state1):
    """The law's step at every point: state0/state1 (ne, nq, N_STATE), e1 (ne, nq) the new
    fibre strains; fills tau (the active stress tau_1D), dtau (its derivative in e1) and
    state1. Returns -1, or the flat index of the first point whose solve failed."""
    ne, nq = e1.shape[0], e1.shape[1]
    for e in range(ne):
        for q in range(nq):
            s = state0[e, q]
            ok, t1d, dt1d, ec1, tau1, kc1, om1 = BK.point_step(s[BK.Q_E], e1[e, q], s[BK.Q_EC], s[BK.Q_TAU],
                                                               s[BK.Q_KC], s[BK.Q_OM], u, h, bp, n0x, n0y,
                                                               m0x, m0y, tol)
            if not ok:
                return e * nq + q
            tau[e, q] = t1d
            dtau[e, q] = dt1d
            r = state1[e, q]
            r[BK.Q_EC] = ec1
            r[BK.Q_TAU] = tau1
            r[BK.Q_KC] = kc1
            r[BK.Q_OM] = om1
            r[BK.Q_E] = e1[e, q]
    return -1


@njit(cache=True)
def assemble_active(dNdX, wdet, U, R, delta, tau, dtau, ck, dofs, pos, rg, data, want_k=True):
    """Add the residual of S_a = tau A to ``rg`` and ck times its tangent to ``data``.

    R_ai = int (F S_a g_a)_i dV; K_ai,bj = int delta_ij tau (g_a . A g_b)
    + dtau (F A g_a)_i (F A g_b)_j dV (symmetric). Returns the active stress power density
    integral int tau dV (a diagnostic)."""
    ne, nq, nn = dNdX.shape[0], dNdX.shape[1], dNdX.shape[2]
    m = 3 * nn
    F = np.empty((3, 3))
    A = np.empty((3, 3))
    FA = np.empty((3, 3))
    Ag = np.empty((nn, 3))
    FAg = np.empty((nn, 3))
    re = np.empty(m)
    ke = np.empty((m, m))
    total = 0.0
    for e in range(ne):
        re[:] = 0.0
        if want_k:
            ke[:, :] = 0.0
        for q in range(nq):
            wq = wdet[e, q]
            t = tau[e, q]
            total += wq * t
            _deformation_gradient(U, dNdX, e, q, F)
            _structure(R, e, q, delta, A)
            for i in range(3):
                for J in range(3):
                    FA[i, J] = F[i, 0] * A[0, J] + F[i, 1] * A[1, J] + F[i, 2] * A[2, J]
            for a in range(nn):
                for i in range(3):
                    s = 0.0
                    g = 0.0
                    for J in range(3):
                        s += FA[i, J] * dNdX[e, q, a, J]
                        g += A[i, J] * dNdX[e, q, a, J]
                    FAg[a, i] = s
                    Ag[a, i] = g
                    re[3 * a + i] += wq * t * s
            if not want_k:
                continue
            kt = ck * wq * t
            km = ck * wq * dtau[e, q]
            for a in range(nn):
                for b in range(nn):
                    gag = dNdX[e, q, a, 0] * Ag[b, 0] + dNdX[e, q, a, 1] * Ag[b, 1] + dNdX[e, q, a, 2] * Ag[b, 2]
                    for i in range(3):
                        ke[3 * a + i, 3 * b + i] += kt * gag
                        for j in range(3):
                            ke[3 * a + i, 3 * b + j] += km * FAg[a, i] * FAg[b, j]
        for i in range(m):
            rg[dofs[e, i]] += re[i]
        if want_k:
            for i in range(m):
                for j in range(m):
                    data[pos[e, i, j]] += ke[i, j]
    return total


@dataclass(frozen=True, eq=False)
class FibreActivation:
    """The BCS law at every quadrature point of a wall beating with period ``period`` [s].

    Parameters
    ----------
    bp : ndarray
        The law's packed parameters (:mod:`cardiosim.materials.bcs` layout, N_BCS values).
    tables : (ut, uv, n0x, n0y, m0x, m0y)
        Activation input u(t) [1/s] over a beat of the law's T_ref, and the n0, m0 tables.
    period : float
        Heart period [s]: u is taken at the time in the beat, its times scaled to it.
    delta : float
        Share of the active stress along s0 (1/2: even in the f0-s0 plane).
    tol : float
        Tolerance of the contractile element's solve, relative to sigma0 [1].
    """

    bp: np.ndarray
    tables: tuple
    period: float
    delta: float = 0.0
    tol: float = 1e-12

    def __post_init__(self):
        bp = np.ascontiguousarray(self.bp, dtype=np.float64)
        if bp.shape != (BK.N_BCS,) or not np.all(np.isfinite(bp)):
            raise ParameterError(f"FibreActivation.bp must be {BK.N_BCS} finite values, got shape {bp.shape}")
        object.__setattr__(self, "bp", bp)
        object.__setattr__(self, "tables", tuple(np.ascontiguousarray(t, dtype=np.float64) for t in self.tables))
        if len(self.tables) != 6:
            raise ParameterError("FibreActivation.tables must be (ut, uv, n0x, n0y, m0x, m0y)")
        if not (math.isfinite(self.period) and self.period > 0):
            raise ParameterError(f"FibreActivation.period must be > 0 s, got {self.period}")
        if not 0.0 <= self.delta <= 1.0:
            raise ParameterError(f"FibreActivation.delta must be in [0, 1], got {self.delta}")

    def initial_state(self, e0: np.ndarray) -> np.ndarray:
        """Relaxed state at fibre strains ``e0`` (ne, nq): series spring at rest (e_c = e),
        no active stress or stiffness, omega = 1 (as the 0D sphere starts)."""
        st = np.zeros(e0.shape + (BK.N_STATE,))
        st[..., BK.Q_EC] = e0
        st[..., BK.Q_E] = e0
        st[..., BK.Q_OM] = 1.0
        return st

    def input_at(self, t0: float, h: float) -> float:
        """The activation input u [1/s] at the middle of the step from t0 over h."""
        tb = math.fmod(t0 + 0.5 * h, self.period)
        return float(BK.activation_rate(tb, self.period, self.bp, self.tables[0], self.tables[1]))

    def step(self, e1: np.ndarray, state0: np.ndarray, t0: float, h: float):
        """(tau, dtau/de, state1) at the points for the step from ``state0`` at t0 over h to
        fibre strains e1; ``None`` if a point's contractile element cannot be solved."""
        tau = np.empty_like(e1)
        dtau = np.empty_like(e1)
        state1 = np.empty_like(state0)
        _, _, n0x, n0y, m0x, m0y = self.tables
        bad = bcs_points(e1, state0, self.input_at(t0, h), h, self.bp, n0x, n0y, m0x, m0y, self.tol,
                         tau, dtau, state1)
        if bad >= 0:
            return None
        return tau, dtau, state1

    @property
    def settings(self) -> dict:
        return {"law": "bcs" if self.bp[BK.B_LAW] == 0.0 else "simplified-bestel", "delta": float(self.delta),
                "period_s": float(self.period), "bp": self.bp.tolist(),
                "tables": [t.tolist() for t in self.tables]}
