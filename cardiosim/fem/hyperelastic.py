"""Numba kernels of total-Lagrangian hyperelasticity, follower pressure and springs.

``hyperelastic``: element residual R_a = int P . grad N_a dV (P = F S) and consistent
tangent K_ab = int [grad N_a . S grad N_b] I + B_a' D B_b dV, with S and D (Voigt,
engineering strains) from :func:`cardiosim.materials.stress_tangent`, plus an active
stress T_a f0 (x) f0 (displacement-only formulation: the law's volumetric penalty holds
incompressibility).

``hyperelastic_up``: the Taylor-Hood u-p (mixed) form of the same problem, the law with
its penalty off plus a Lagrange multiplier p for J = 1, Pi = int W_iso dV - int p (J - 1) dV
(as the benchmark's reference code; Land et al. 2015, Proc. R. Soc. A 471:20150641).
Element unknowns are ordered [u (3 nn), p (np)]; the element matrix is the symmetric
saddle-point block [[K_uu, K_up], [K_up^T, 0]].

``pressure``: the follower load -p n da on deformed boundary triangles with its consistent
(non-symmetric) tangent. ``spring``: a Robin condition, traction -k u on boundary triangles.

Fibre frames ``R`` are given per quadrature point, (ne, nq, 3, 3), rows f0, s0, n0; the
active tension per element (ne,) to the element kernels, per quadrature point (ne, nq) to
:func:`assemble`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..materials import laws
from ..materials.laws import VOIGT_I, VOIGT_INDEX, VOIGT_J


@njit(cache=True, inline="always")
def _deformation_gradient(U, dNdX, e, q, F):
    """F = I + grad u at quadrature point q of element e; returns det F."""
    nn = dNdX.shape[2]
    for i in range(3):
        for j in range(3):
            s = 1.0 if i == j else 0.0
            for a in range(nn):
                s += U[e, a, i] * dNdX[e, q, a, j]
            F[i, j] = s
    return (F[0, 0] * (F[1, 1] * F[2, 2] - F[1, 2] * F[2, 1])
            - F[0, 1] * (F[1, 0] * F[2, 2] - F[1, 2] * F[2, 0])
            + F[0, 2] * (F[1, 0] * F[2, 1] - F[1, 1] * F[2, 0]))


@njit(cache=True, inline="always")
def _material_point(F, C, R, kind, prm, Ta, S, D, want_k, wk):
    """C = F^T F, then S (and D if want_k) of the law plus the active stress Ta f0 (x) f0;
    returns the strain energy density. ``wk``: the law's work array (laws.N_WORK, 6)."""
    for i in range(3):
        for j in range(3):
            C[i, j] = F[0, i] * F[0, j] + F[1, i] * F[1, j] + F[2, i] * F[2, j]
    W = laws.evaluate(kind, C, R, prm, S, D, want_k, wk)
    if Ta != 0.0:
        laws.active_stress(Ta, R, S)
    return W


@njit(cache=True, inline="always")
def _add_displacement_block(dNdX, e, q, wq, F, S, D, Pk, T, A, Y, re, ke, want_k):
    """Add the point's contribution to R_u and to the lower triangle of K_uu.

    In index form, with g_a = grad N_a and CC the material tangent (D in Voigt form):
    R[a i] = (F S g_a)_i and K[a i, b j] = g_a . A^ij g_b, with
    A^ij_JL = sum_IK F_iI CC_IJKL F_jK + delta_ij S_JL (material plus geometric part).
    Contracting F into CC once per point (A: 486 products) and then A with the gradients
    costs about half the flops of the B' D B form with its 6 x 3nn strain matrix.
    Scratch: ``Pk`` (3, 3), ``T`` (3, 3, 9), ``A`` (9, 3, 3), ``Y`` (nn, 9, 3).
    """
    nn = dNdX.shape[2]
    # first Piola-Kirchhoff stress P = F S
    for i in range(3):
        for J in range(3):
            Pk[i, J] = F[i, 0] * S[0, J] + F[i, 1] * S[1, J] + F[i, 2] * S[2, J]
    for a in range(nn):
        g0 = dNdX[e, q, a, 0]
        g1 = dNdX[e, q, a, 1]
        g2 = dNdX[e, q, a, 2]
        for i in range(3):
            re[3 * a + i] += wq * (Pk[i, 0] * g0 + Pk[i, 1] * g1 + Pk[i, 2] * g2)
    if not want_k:
        return
    # T[i, J, (K, L)] = sum_I F_iI CC_IJKL; A[(i, j), J, L] (scaled by wq)
    for i in range(3):
        for J in range(3):
            for K in range(3):
                for L in range(3):
                    c = VOIGT_INDEX[K, L]
                    T[i, J, 3 * K + L] = (F[i, 0] * D[VOIGT_INDEX[0, J], c] + F[i, 1] * D[VOIGT_INDEX[1, J], c]
                                          + F[i, 2] * D[VOIGT_INDEX[2, J], c])
    for i in range(3):
        for j in range(3):
            for J in range(3):
                for L in range(3):
                    s = T[i, J, L] * F[j, 0] + T[i, J, 3 + L] * F[j, 1] + T[i, J, 6 + L] * F[j, 2]
                    if i == j:
                        s += S[J, L]
                    A[3 * i + j, J, L] = wq * s
    # Y[b, (i, j), J] = (A^ij g_b)_J
    for b in range(nn):
        g0 = dNdX[e, q, b, 0]
        g1 = dNdX[e, q, b, 1]
        g2 = dNdX[e, q, b, 2]
        for ij in range(9):
            for J in range(3):
                Y[b, ij, J] = A[ij, J, 0] * g0 + A[ij, J, 1] * g1 + A[ij, J, 2] * g2
    for a in range(nn):
        g0 = dNdX[e, q, a, 0]
        g1 = dNdX[e, q, a, 1]
        g2 = dNdX[e, q, a, 2]
        for b in range(a + 1):
            for i in range(3):
                jmax = i + 1 if b == a else 3
                for j in range(jmax):
                    ij = 3 * i + j
                    ke[3 * a + i, 3 * b + j] += g0 * Y[b, ij, 0] + g1 * Y[b, ij, 1] + g2 * Y[b, ij, 2]


@njit(cache=True, inline="always")
def _symmetrize(ke, m):
    for r in range(m):
        for c in range(r + 1, m):
            ke[r, c] = ke[c, r]


@njit(cache=True)
def hyperelastic(dNdX, wdet, U, R, kind, prm, Ta, Re, Ke, want_k=True):
    """Residual Re (ne, 3nn) and tangent Ke (ne, 3nn, 3nn); returns the stored energy.

    ``U`` (ne, nn, 3) element displacements, ``R`` (ne, nq, 3, 3) fibre frames, ``Ta`` (ne,)
    active tension [Pa]. Returns -1 - e if J <= 0 in element e. ``want_k=False`` skips
    the tangent (line-search trials).
    """
    no_p = np.zeros((dNdX.shape[1], 0))
    return _hyperelastic_core(dNdX, no_p, wdet, U, np.zeros((dNdX.shape[0], 0)), R, kind, prm, Ta, Re, Ke,
                              want_k)


@njit(cache=True)
def hyperelastic_up(dNdX, Np, wdet, U, P, R, kind, prm, Ta, Re, Ke, want_k=True):
    """Taylor-Hood u-p element residual and tangent; returns the Lagrangian.

    ``Np`` (nq, np) pressure shape functions at the quadrature points, ``P`` (ne, np)
    element pressures [Pa]; ``prm`` must have its penalty off (kappa = prm[-1] = 0).
    Re (ne, 3nn + np), Ke (ne, 3nn + np, 3nn + np). R_u = int B' (S - p J C^-1) dV,
    R_p = -int N_p (J - 1) dV; K_up = -int N_p J B' C^-1 dV; K_pp = 0.
    Returns -1 - e if J <= 0 in element e.
    """
    return _hyperelastic_core(dNdX, Np, wdet, U, P, R, kind, prm, Ta, Re, Ke, want_k)


@njit(cache=True, inline="always")
def _per_point(Ta, nq):
    """Element values (ne,) repeated at the nq quadrature points: (ne, nq)."""
    out = np.empty((Ta.shape[0], nq))
    for e in range(Ta.shape[0]):
        for q in range(nq):
            out[e, q] = Ta[e]
    return out


@njit(cache=True, inline="always")
def _scratch(nn):
    """Per-point work arrays of :func:`_element`, allocated once per kernel call."""
    return (np.empty((3, 3)), np.empty((3, 3)), np.empty((3, 3)), np.empty((6, 6)), np.empty((3, 3)),
            np.empty((3, 3, 9)), np.empty((9, 3, 3)), np.empty((nn, 9, 3)), np.empty(6), np.empty((laws.N_WORK, 6)))


@njit(cache=True)
def _hyperelastic_core(dNdX, Np, wdet, U, P, R, kind, prm, Ta, Re, Ke, want_k):
    """Both kernels in one loop: displacement only when ``Np`` has no columns (npr = 0),
    else the u-p saddle point. Returns the energy (npr = 0) or the Lagrangian, or -1 - e
    if J <= 0 in element e."""
    F, C, S, D, Pk, T, A, Y, ci, wk = _scratch(dNdX.shape[2])
    Tq = _per_point(Ta, dNdX.shape[1])
    lagrangian = 0.0
    for e in range(dNdX.shape[0]):
        ok, le = _element(dNdX, Np, wdet, U, P, R, kind, prm, Tq, e, Re[e], Ke[e], want_k,
                          F, C, S, D, Pk, T, A, Y, ci, wk)
        if not ok:
            return -1.0 - e
        lagrangian += le
    return lagrangian


@njit(cache=True)
def assemble(dNdX, Np, wdet, U, P, R, kind, prm, Ta, dofs, pos, rg, data, want_k=True):
    """The element loop of :func:`hyperelastic_up` (``Np`` with no columns: of
    :func:`hyperelastic`) scattered as it goes: rg[dofs[e, i]] += R_e[i] and
    data[pos[e, i, j]] += K_e[i, j] into a CSR data array (``Pattern``), without the
    (ne, m, m) array of element matrices. ``Ta`` (ne, nq): active tension [Pa] per
    quadrature point. Adds to ``rg`` and ``data``; returns as the element kernels do."""
    nn, npr = dNdX.shape[2], Np.shape[1]
    m = 3 * nn + npr
    F, C, S, D, Pk, T, A, Y, ci, wk = _scratch(nn)
    re = np.empty(m)
    ke = np.empty((m, m))
    lagrangian = 0.0
    for e in range(dNdX.shape[0]):
        ok, le = _element(dNdX, Np, wdet, U, P, R, kind, prm, Ta, e, re, ke, want_k,
                          F, C, S, D, Pk, T, A, Y, ci, wk)
        if not ok:
            return -1.0 - e
        lagrangian += le
        for i in range(m):
            rg[dofs[e, i]] += re[i]
        if want_k:
            for i in range(m):
                for j in range(m):
                    data[pos[e, i, j]] += ke[i, j]
    return lagrangian


@njit(cache=True, inline="always")
def _element(dNdX, Np, wdet, U, P, R, kind, prm, Ta, e, re, ke, want_k, F, C, S, D, Pk, T, A, Y, ci, wk):
    """Residual ``re`` and tangent ``ke`` (lower triangle filled, then symmetrised) of
    element e, active tension ``Ta[e, q]`` at point q; returns (J > 0 everywhere, the
    element's energy or Lagrangian)."""
    nq, nn = dNdX.shape[1], dNdX.shape[2]
    npr = Np.shape[1]
    m = 3 * nn
    lagrangian = 0.0
    re[:] = 0.0
    if want_k:
        ke[:, :] = 0.0
    for q in range(nq):
        J = _deformation_gradient(U, dNdX, e, q, F)
        if J <= 0.0:
            return False, 0.0
        W = _material_point(F, C, R[e, q], kind, prm, Ta[e, q], S, D, want_k, wk)
        wq = wdet[e, q]
        if npr == 0:
            lagrangian += wq * W
            _add_displacement_block(dNdX, e, q, wq, F, S, D, Pk, T, A, Y, re, ke, want_k)
            continue
        p = 0.0
        for j in range(npr):
            p += Np[q, j] * P[e, j]
        lagrangian += wq * (W - p * (J - 1.0))
        # C^-1 as a stress-like Voigt vector, from F^-1 (C^-1 = F^-1 F^-T)
        Fi00 = (F[1, 1] * F[2, 2] - F[1, 2] * F[2, 1]) / J
        Fi01 = (F[0, 2] * F[2, 1] - F[0, 1] * F[2, 2]) / J
        Fi02 = (F[0, 1] * F[1, 2] - F[0, 2] * F[1, 1]) / J
        Fi10 = (F[1, 2] * F[2, 0] - F[1, 0] * F[2, 2]) / J
        Fi11 = (F[0, 0] * F[2, 2] - F[0, 2] * F[2, 0]) / J
        Fi12 = (F[0, 2] * F[1, 0] - F[0, 0] * F[1, 2]) / J
        Fi20 = (F[1, 0] * F[2, 1] - F[1, 1] * F[2, 0]) / J
        Fi21 = (F[0, 1] * F[2, 0] - F[0, 0] * F[2, 1]) / J
        Fi22 = (F[0, 0] * F[1, 1] - F[0, 1] * F[1, 0]) / J
        ci[0] = Fi00 * Fi00 + Fi01 * Fi01 + Fi02 * Fi02
        ci[1] = Fi10 * Fi10 + Fi11 * Fi11 + Fi12 * Fi12
        ci[2] = Fi20 * Fi20 + Fi21 * Fi21 + Fi22 * Fi22
        ci[3] = Fi00 * Fi10 + Fi01 * Fi11 + Fi02 * Fi12
        ci[4] = Fi10 * Fi20 + Fi11 * Fi21 + Fi12 * Fi22
        ci[5] = Fi00 * Fi20 + Fi01 * Fi21 + Fi02 * Fi22
        pJ = p * J
        S[0, 0] -= pJ * ci[0]
        S[1, 1] -= pJ * ci[1]
        S[2, 2] -= pJ * ci[2]
        S[0, 1] -= pJ * ci[3]
        S[1, 0] -= pJ * ci[3]
        S[1, 2] -= pJ * ci[4]
        S[2, 1] -= pJ * ci[4]
        S[0, 2] -= pJ * ci[5]
        S[2, 0] -= pJ * ci[5]
        if want_k:
            # d(-p J C^-1)/dE = -p J (C^-1 (x) C^-1 - 2 C^-1 (.) C^-1)
            for a in range(6):
                i, j = VOIGT_I[a], VOIGT_J[a]
                for b in range(6):
                    k, l = VOIGT_I[b], VOIGT_J[b]
                    D[a, b] -= pJ * (ci[a] * ci[b] - _c(ci, i, k) * _c(ci, j, l) - _c(ci, i, l) * _c(ci, j, k))
        _add_displacement_block(dNdX, e, q, wq, F, S, D, Pk, T, A, Y, re, ke, want_k)
        for j in range(npr):
            re[m + j] -= wq * Np[q, j] * (J - 1.0)
        if want_k:
            # dJ = J C^-1 : dE = J (F^-T grad N_a)_i per displacement dof (a, i)
            for a in range(nn):
                g0 = dNdX[e, q, a, 0]
                g1 = dNdX[e, q, a, 1]
                g2 = dNdX[e, q, a, 2]
                wJ = wq * J
                h0 = wJ * (Fi00 * g0 + Fi10 * g1 + Fi20 * g2)
                h1 = wJ * (Fi01 * g0 + Fi11 * g1 + Fi21 * g2)
                h2 = wJ * (Fi02 * g0 + Fi12 * g1 + Fi22 * g2)
                for j in range(npr):
                    ke[m + j, 3 * a] -= Np[q, j] * h0
                    ke[m + j, 3 * a + 1] -= Np[q, j] * h1
                    ke[m + j, 3 * a + 2] -= Np[q, j] * h2
    if want_k:
        _symmetrize(ke, m + npr)
    return True, lagrangian


@njit(cache=True, inline="always")
def _c(ci, i, j):
    """Component (i, j) of a symmetric tensor stored as a stress-like Voigt vector."""
    if i == j:
        return ci[i]
    if i + j == 1:
        return ci[3]
    if i + j == 3:
        return ci[4]
    return ci[5]


@njit(cache=True, inline="always")
def _surface_tangents(X, f, q, dN, a, b):
    """Tangent vectors a = dx/dxi, b = dx/deta of facet f (nodes X[f], (nn, 3)) at point q."""
    a[:] = 0.0
    b[:] = 0.0
    for k in range(X.shape[1]):
        for i in range(3):
            a[i] += dN[q, k, 0] * X[f, k, i]
            b[i] += dN[q, k, 1] * X[f, k, i]


@njit(cache=True)
def pressure(Xf, Uf, N, dN, w, p, Re, Ke):
    """Follower pressure p [Pa] on boundary triangles (nf, nn, 3 coordinates/displacements).

    Residual contribution Re = +int p N_a n da (so that R = F_int + Re with outward n: a
    positive pressure pushes against the surface) and its tangent Ke = dRe/du.
    """
    nf, nn = Xf.shape[0], Xf.shape[1]
    nq = w.shape[0]
    x = Xf + Uf  # deformed facet nodes
    a = np.empty(3)
    b = np.empty(3)
    for f in range(nf):
        Re[f, :] = 0.0
        Ke[f, :, :] = 0.0
        for q in range(nq):
            _surface_tangents(x, f, q, dN, a, b)
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


@njit(cache=True)
def spring(Xf, Uf, N, dN, w, k, Re, Ke):
    """Robin condition: traction -k u [Pa/m] on boundary triangles, over the reference area.

    Re = +int k N_a u dA (R = F_int + Re), Ke = int k N_a N_b dA I; linear in u.
    """
    nf, nn = Xf.shape[0], Xf.shape[1]
    nq = w.shape[0]
    a = np.empty(3)
    b = np.empty(3)
    uq = np.empty(3)
    for f in range(nf):
        Re[f, :] = 0.0
        Ke[f, :, :] = 0.0
        for q in range(nq):
            _surface_tangents(Xf, f, q, dN, a, b)
            dA = np.sqrt((a[1] * b[2] - a[2] * b[1]) ** 2 + (a[2] * b[0] - a[0] * b[2]) ** 2
                         + (a[0] * b[1] - a[1] * b[0]) ** 2) * w[q]
            uq[:] = 0.0
            for l in range(nn):
                for i in range(3):
                    uq[i] += N[q, l] * Uf[f, l, i]
            for r in range(nn):
                s = k * dA * N[q, r]
                for i in range(3):
                    Re[f, 3 * r + i] += s * uq[i]
                for c in range(nn):
                    t = s * N[q, c]
                    for i in range(3):
                        Ke[f, 3 * r + i, 3 * c + i] += t
