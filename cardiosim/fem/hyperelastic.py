"""Numba kernels of total-Lagrangian hyperelasticity and follower pressure.

``hyperelastic``: element residual R_a = int P . grad N_a dV (P = F S) and consistent
tangent K_ab = int [grad N_a . S grad N_b] I + B_a' D B_b dV, with S and D (Voigt,
engineering strains) from :func:`cardiosim.materials.stress_tangent`, plus an active
stress T_a f0 (x) f0. ``pressure``: the follower load -p n da on deformed boundary
triangles with its consistent (non-symmetric) tangent.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .. import materials as M


@njit(cache=True)
def hyperelastic(dNdX, wdet, U, R, kind, prm, Ta, Re, Ke):
    """Residual Re (ne, 3nn) and tangent Ke (ne, 3nn, 3nn); returns the stored energy.

    ``U`` (ne, nn, 3) element displacements, ``R`` (ne, 3, 3) fibre frames (rows f0, s0,
    n0), ``Ta`` (ne,) active tension [Pa]. Returns -1 - e if J <= 0 in element e.
    """
    ne, nq, nn = dNdX.shape[0], dNdX.shape[1], dNdX.shape[2]
    F = np.empty((3, 3))
    C = np.empty((3, 3))
    S = np.empty((3, 3))
    D = np.empty((6, 6))
    B = np.empty((6, 3 * nn))
    energy = 0.0
    for e in range(ne):
        Re[e, :] = 0.0
        Ke[e, :, :] = 0.0
        for q in range(nq):
            for i in range(3):
                for j in range(3):
                    s = 1.0 if i == j else 0.0
                    for a in range(nn):
                        s += U[e, a, i] * dNdX[e, q, a, j]
                    F[i, j] = s
            det = (F[0, 0] * (F[1, 1] * F[2, 2] - F[1, 2] * F[2, 1])
                   - F[0, 1] * (F[1, 0] * F[2, 2] - F[1, 2] * F[2, 0])
                   + F[0, 2] * (F[1, 0] * F[2, 1] - F[1, 1] * F[2, 0]))
            if det <= 0.0:
                return -1.0 - e
            for i in range(3):
                for j in range(3):
                    C[i, j] = F[0, i] * F[0, j] + F[1, i] * F[1, j] + F[2, i] * F[2, j]
            W = M.stress_tangent(kind, C, R[e], prm, S, D)
            if Ta[e] != 0.0:
                M.active_stress(Ta[e], R[e], S)
            wq = wdet[e, q]
            energy += wq * W
            # B: variation of the engineering Green strain per nodal displacement
            for a in range(nn):
                g0 = dNdX[e, q, a, 0]
                g1 = dNdX[e, q, a, 1]
                g2 = dNdX[e, q, a, 2]
                for i in range(3):
                    c = 3 * a + i
                    B[0, c] = F[i, 0] * g0
                    B[1, c] = F[i, 1] * g1
                    B[2, c] = F[i, 2] * g2
                    B[3, c] = F[i, 0] * g1 + F[i, 1] * g0
                    B[4, c] = F[i, 1] * g2 + F[i, 2] * g1
                    B[5, c] = F[i, 0] * g2 + F[i, 2] * g0
            Sv0, Sv1, Sv2, Sv3, Sv4, Sv5 = S[0, 0], S[1, 1], S[2, 2], S[0, 1], S[1, 2], S[0, 2]
            m = 3 * nn
            for c in range(m):
                Re[e, c] += wq * (B[0, c] * Sv0 + B[1, c] * Sv1 + B[2, c] * Sv2
                                  + B[3, c] * Sv3 + B[4, c] * Sv4 + B[5, c] * Sv5)
            # material part B' D B
            for c in range(m):
                DB = np.zeros(6)
                for k in range(6):
                    s = 0.0
                    for l in range(6):
                        s += D[k, l] * B[l, c]
                    DB[k] = s
                for r in range(c, m):
                    s = 0.0
                    for k in range(6):
                        s += B[k, r] * DB[k]
                    Ke[e, r, c] += wq * s
            # geometric part (grad N_a . S grad N_b) delta_ij
            for a in range(nn):
                for b in range(nn):
                    s = 0.0
                    for I in range(3):
                        for J in range(3):
                            s += dNdX[e, q, a, I] * S[I, J] * dNdX[e, q, b, J]
                    s *= wq
                    for i in range(3):
                        r = 3 * a + i
                        c = 3 * b + i
                        if r >= c:
                            Ke[e, r, c] += s
        m = 3 * nn
        for r in range(m):
            for c in range(r + 1, m):
                Ke[e, r, c] = Ke[e, c, r]
    return energy


@njit(cache=True)
def pressure(Xf, Uf, N, dN, w, p, Re, Ke):
    """Follower pressure p [Pa] on boundary triangles (nf, nn, 3 coordinates/displacements).

    Residual contribution Re = +int p N_a n da (so that R = F_int + Re with outward n: a
    positive pressure pushes against the surface) and its tangent Ke = dRe/du.
    """
    nf, nn = Xf.shape[0], Xf.shape[1]
    nq = w.shape[0]
    for f in range(nf):
        Re[f, :] = 0.0
        Ke[f, :, :] = 0.0
        for q in range(nq):
            a = np.zeros(3)
            b = np.zeros(3)
            for k in range(nn):
                for i in range(3):
                    x = Xf[f, k, i] + Uf[f, k, i]
                    a[i] += dN[q, k, 0] * x
                    b[i] += dN[q, k, 1] * x
            n0 = a[1] * b[2] - a[2] * b[1]
            n1 = a[2] * b[0] - a[0] * b[2]
            n2 = a[0] * b[1] - a[1] * b[0]
            s = p * w[q]
            for k in range(nn):
                Re[f, 3 * k + 0] += s * N[q, k] * n0
                Re[f, 3 * k + 1] += s * N[q, k] * n1
                Re[f, 3 * k + 2] += s * N[q, k] * n2
            # d n_i / d x_lj = eps_ijk (dN_l,xi b_k - dN_l,eta a_k)
            for k in range(nn):
                for l in range(nn):
                    c0 = dN[q, l, 0]
                    c1 = dN[q, l, 1]
                    v0 = c0 * b[0] - c1 * a[0]
                    v1 = c0 * b[1] - c1 * a[1]
                    v2 = c0 * b[2] - c1 * a[2]
                    t = s * N[q, k]
                    # eps_ijk v_k as a matrix M_ij
                    Ke[f, 3 * k + 0, 3 * l + 1] += t * v2
                    Ke[f, 3 * k + 0, 3 * l + 2] -= t * v1
                    Ke[f, 3 * k + 1, 3 * l + 0] -= t * v2
                    Ke[f, 3 * k + 1, 3 * l + 2] += t * v0
                    Ke[f, 3 * k + 2, 3 * l + 0] += t * v1
                    Ke[f, 3 * k + 2, 3 * l + 1] -= t * v0
