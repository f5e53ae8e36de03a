"""Numba kernels of the stored energy and of the discrete-gradient stress.

``stored_energy``: int W(C) dV of a hyperelastic law over the cells.

``assemble_discrete_gradient``: the energy-consistent mid-point scheme (Gonzalez 2000,
J Nonlinear Sci 10:205-232; the time scheme of the 0D model's derivation, Chapelle et al.
2012) evaluates the internal force of a step from u0 to u1 as int F_m S_a : grad w dV with
F_m = (F0 + F1)/2 and the algorithmic stress

    S_a = S(C_m) + [W(C1) - W(C0) - S(C_m) : dE] / (dE : dE) dE,
    C_m = (C0 + C1)/2,  dE = (C1 - C0)/2,

so that int F_m S_a : grad(u1 - u0) dV = int S_a : dE dV = W(u1) - W(u0) exactly (C1 - C0 =
2 sym(F_m' (F1 - F0))). The kernel adds to a residual already assembled at the mid-point
displacement (whose stress is S(F_m' F_m)) the difference int F_m (S_a - S(F_m' F_m)) :
grad N_a dV: the mid-point rule made energy-consistent; its tangent is left to the plain
mid-point's (the difference is of the order of dE, and Newton still converges).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..materials import laws


@njit(cache=True, inline="always")
def _f_at(U, dNdX, e, q, F):
    nn = dNdX.shape[2]
    for i in range(3):
        for j in range(3):
            s = 1.0 if i == j else 0.0
            for a in range(nn):
                s += U[e, a, i] * dNdX[e, q, a, j]
            F[i, j] = s


@njit(cache=True, inline="always")
def _ftf(F, C):
    for i in range(3):
        for j in range(3):
            C[i, j] = F[0, i] * F[0, j] + F[1, i] * F[1, j] + F[2, i] * F[2, j]


@njit(cache=True)
def stored_energy(dNdX, wdet, U, R, kind, prm):
    """int W(C) dV [J] of law ``kind`` with parameters ``prm`` (NaN if an element is inverted)."""
    ne, nq = dNdX.shape[0], dNdX.shape[1]
    F = np.empty((3, 3))
    C = np.empty((3, 3))
    S = np.empty((3, 3))
    D = np.empty((6, 6))
    wk = np.empty((laws.N_WORK, 6))
    total = 0.0
    for e in range(ne):
        for q in range(nq):
            _f_at(U, dNdX, e, q, F)
            _ftf(F, C)
            total += wdet[e, q] * laws.evaluate(kind, C, R[e, q], prm, S, D, False, wk)
    return total


@njit(cache=True)
def assemble_discrete_gradient(dNdX, wdet, U0, U1, R, kind, prm, dofs, rg):
    """Add int F_m (S_a - S(F_m' F_m)) : grad N_a dV to ``rg`` (``dofs``: the cells' global
    displacement unknowns, (ne, 3 nn)). Returns the stored-energy change W(u1) - W(u0) [J]
    (NaN if an element is inverted at either end or at the mid-point)."""
    ne, nq, nn = dNdX.shape[0], dNdX.shape[1], dNdX.shape[2]
    F0 = np.empty((3, 3))
    F1 = np.empty((3, 3))
    Fm = np.empty((3, 3))
    C0 = np.empty((3, 3))
    C1 = np.empty((3, 3))
    Cm = np.empty((3, 3))
    Cf = np.empty((3, 3))
    dE = np.empty((3, 3))
    Sm = np.empty((3, 3))
    Sf = np.empty((3, 3))
    dS = np.empty((3, 3))
    P = np.empty((3, 3))
    D = np.empty((6, 6))
    wk = np.empty((laws.N_WORK, 6))
    re = np.empty(3 * nn)
    dW = 0.0
    for e in range(ne):
        re[:] = 0.0
        for q in range(nq):
            _f_at(U0, dNdX, e, q, F0)
            _f_at(U1, dNdX, e, q, F1)
            for i in range(3):
                for j in range(3):
                    Fm[i, j] = 0.5 * (F0[i, j] + F1[i, j])
            _ftf(F0, C0)
            _ftf(F1, C1)
            _ftf(Fm, Cf)
            for i in range(3):
                for j in range(3):
                    Cm[i, j] = 0.5 * (C0[i, j] + C1[i, j])
                    dE[i, j] = 0.5 * (C1[i, j] - C0[i, j])
            Rq = R[e, q]
            w0 = laws.evaluate(kind, C0, Rq, prm, Sm, D, False, wk)
            w1 = laws.evaluate(kind, C1, Rq, prm, Sm, D, False, wk)
            laws.evaluate(kind, Cf, Rq, prm, Sf, D, False, wk)
            laws.evaluate(kind, Cm, Rq, prm, Sm, D, False, wk)
            dW += wdet[e, q] * (w1 - w0)
            ee = 0.0
            se = 0.0
            for i in range(3):
                for j in range(3):
                    ee += dE[i, j] * dE[i, j]
                    se += Sm[i, j] * dE[i, j]
            # below |dE| ~ 1e-10 the correction, of order |dE|^2, is beneath round-off
            coef = (w1 - w0 - se) / ee if ee > 1e-20 else 0.0
            for i in range(3):
                for j in range(3):
                    dS[i, j] = Sm[i, j] + coef * dE[i, j] - Sf[i, j]
            for i in range(3):
                for j in range(3):
                    P[i, j] = Fm[i, 0] * dS[0, j] + Fm[i, 1] * dS[1, j] + Fm[i, 2] * dS[2, j]
            wq = wdet[e, q]
            for a in range(nn):
                for i in range(3):
                    s = 0.0
                    for J in range(3):
                        s += P[i, J] * dNdX[e, q, a, J]
                    re[3 * a + i] += wq * s
        for i in range(3 * nn):
            rg[dofs[e, i]] += re[i]
    return dW
