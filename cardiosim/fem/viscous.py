"""Numba kernel of Kelvin-Voigt viscosity in the total-Lagrangian form.

The viscous pseudo-potential (eta/2) tr(Edot^2) gives the second Piola-Kirchhoff stress
S_v = eta Edot, Edot = sym(F' Fdot), Fdot = grad v, so the element residual is
R_a = int F S_v grad N_a dV (the viscous term of the cardiac elastodynamics benchmark,
Arostica et al. 2025, CMAME 435:117485). It depends on the displacement (through F) and on
the velocity (through Fdot); a time scheme that solves for u_{n+1} needs the two
derivatives combined, c_u dR/du + c_v dR/dv, with c_u and c_v the scheme's
d(u at its stage)/du_{n+1} and d(v at its stage)/du_{n+1}. With g_a = grad N_a:

* dR_ai/dv_bj = eta int [(F F')_ij (g_a . g_b) + (F g_b)_i (F g_a)_j] / 2 dV (symmetric);
* dR_ai/du_bj = int delta_ij (g_a . S_v g_b) + eta [(F g_b)_i (Fdot g_a)_j
  + (F Fdot')_ij (g_a . g_b)] / 2 dV.

Arrays as in :mod:`cardiosim.fem.hyperelastic`: ``U`` and ``V`` (ne, nn, 3) element
displacements and velocities; the tangent is scattered into the CSR data of the
displacement block of the space's pattern.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def assemble_kelvin_voigt(dNdX, wdet, U, V, eta, cu, cv, dofs, pos, rg, data, want_k=True):
    """Add the viscous residual to ``rg`` and c_u dR/du + c_v dR/dv to ``data``.

    ``dofs`` (ne, >= 3 nn) and ``pos`` (ne, >= 3 nn, >= 3 nn): the space's global unknowns
    and scatter map (only the displacement block is touched). Returns the viscous power
    int S_v : Edot dV [W] (>= 0: the dissipation).
    """
    ne, nq, nn = dNdX.shape[0], dNdX.shape[1], dNdX.shape[2]
    m = 3 * nn
    F = np.empty((3, 3))
    L = np.empty((3, 3))
    Ed = np.empty((3, 3))
    Sv = np.empty((3, 3))
    FFt = np.empty((3, 3))
    FLt = np.empty((3, 3))
    Fg = np.empty((nn, 3))
    Lg = np.empty((nn, 3))
    Sg = np.empty((nn, 3))
    re = np.empty(m)
    ke = np.empty((m, m))
    power = 0.0
    for e in range(ne):
        re[:] = 0.0
        if want_k:
            ke[:, :] = 0.0
        for q in range(nq):
            wq = wdet[e, q]
            for i in range(3):
                for j in range(3):
                    f = 1.0 if i == j else 0.0
                    ell = 0.0
                    for a in range(nn):
                        f += U[e, a, i] * dNdX[e, q, a, j]
                        ell += V[e, a, i] * dNdX[e, q, a, j]
                    F[i, j] = f
                    L[i, j] = ell
            for i in range(3):
                for j in range(3):
                    s = 0.0
                    for k in range(3):
                        s += F[k, i] * L[k, j] + L[k, i] * F[k, j]
                    Ed[i, j] = 0.5 * s
            for i in range(3):
                for j in range(3):
                    Sv[i, j] = eta * Ed[i, j]
                    power += wq * Sv[i, j] * Ed[i, j]
            # P_v = F S_v; residual
            for a in range(nn):
                for i in range(3):
                    s = 0.0
                    for J in range(3):
                        pij = F[i, 0] * Sv[0, J] + F[i, 1] * Sv[1, J] + F[i, 2] * Sv[2, J]
                        s += pij * dNdX[e, q, a, J]
                    re[3 * a + i] += wq * s
            if not want_k:
                continue
            for i in range(3):
                for j in range(3):
                    a1 = 0.0
                    a2 = 0.0
                    for K in range(3):
                        a1 += F[i, K] * F[j, K]
                        a2 += F[i, K] * L[j, K]
                    FFt[i, j] = a1
                    FLt[i, j] = a2
            for a in range(nn):
                for i in range(3):
                    fg = 0.0
                    lg = 0.0
                    sg = 0.0
                    for J in range(3):
                        fg += F[i, J] * dNdX[e, q, a, J]
                        lg += L[i, J] * dNdX[e, q, a, J]
                        sg += Sv[i, J] * dNdX[e, q, a, J]
                    Fg[a, i] = fg
                    Lg[a, i] = lg
                    Sg[a, i] = sg
            hv = 0.5 * eta * cv * wq
            hu = 0.5 * eta * cu * wq
            for a in range(nn):
                for b in range(nn):
                    gg = 0.0
                    gsg = 0.0
                    for J in range(3):
                        gg += dNdX[e, q, a, J] * dNdX[e, q, b, J]
                        gsg += dNdX[e, q, a, J] * Sg[b, J]
                    for i in range(3):
                        for j in range(3):
                            v = hv * (FFt[i, j] * gg + Fg[b, i] * Fg[a, j])
                            v += hu * (Fg[b, i] * Lg[a, j] + FLt[i, j] * gg)
                            if i == j:
                                v += cu * wq * gsg
                            ke[3 * a + i, 3 * b + j] += v
        for i in range(m):
            rg[dofs[e, i]] += re[i]
        if want_k:
            for i in range(m):
                for j in range(m):
                    data[pos[e, i, j]] += ke[i, j]
    return power
