"""Slow NumPy twins of the kernels, used by the tests only."""

from __future__ import annotations

import numpy as np


def geometry(X, dN, w):
    J = np.einsum("eai,qaj->eqij", X, dN)
    det = np.linalg.det(J)
    Ji = np.linalg.inv(J)
    dNdX = np.einsum("qaj,eqji->eqai", dN, Ji)
    return dNdX, w[None, :] * det


def linear_elastic(dNdX, wdet, lam, mu):
    ne, nq, nn, _ = dNdX.shape
    I = np.eye(3)
    K = (lam * np.einsum("eqai,eqbj->eaibj", dNdX * wdet[..., None, None], dNdX)
         + mu * np.einsum("eqaj,eqbi->eaibj", dNdX * wdet[..., None, None], dNdX)
         + mu * np.einsum("eqak,eqbk,ij->eaibj", dNdX * wdet[..., None, None], dNdX, I))
    return K.reshape(ne, 3 * nn, 3 * nn)


def csr_pattern(dofs, n):
    """Pattern and scatter map by sorting every (row, column) key of every element."""
    ne, m = dofs.shape
    rows = np.repeat(dofs, m, axis=1).ravel()
    cols = np.tile(dofs, (1, m)).ravel()
    uniq, inv = np.unique(rows * n + cols, return_inverse=True)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(uniq // n, minlength=n))])
    return indptr, uniq % n, inv.reshape(ne, m, m)


def mass(N, wdet, rho):
    """Consistent vector mass by einsum: rho sum_q w_q N_a N_b, times the identity in 3D."""
    ne, nn = wdet.shape[0], N.shape[1]
    M = rho * np.einsum("eq,qa,qb,ij->eaibj", wdet, N, N, np.eye(3))
    return M.reshape(ne, 3 * nn, 3 * nn)


def kelvin_voigt(dNdX, wdet, U, V, eta):
    """Viscous element residuals (ne, 3 nn) and power of S_v = eta sym(F' grad v) by einsum."""
    I = np.eye(3)
    F = I + np.einsum("eai,eqaj->eqij", U, dNdX)
    L = np.einsum("eai,eqaj->eqij", V, dNdX)
    FtL = np.einsum("eqki,eqkj->eqij", F, L)
    Ed = 0.5 * (FtL + np.swapaxes(FtL, -1, -2))
    S = eta * Ed
    P = np.einsum("eqik,eqkj->eqij", F, S)
    R = np.einsum("eq,eqij,eqaj->eai", wdet, P, dNdX)
    power = float(np.einsum("eq,eqij,eqij->", wdet, S, Ed))
    return R.reshape(R.shape[0], -1), power


def stored_energy(dNdX, wdet, U, R, material):
    """int W dV by a Python loop over the quadrature points (the material's own evaluation)."""
    F = np.eye(3) + np.einsum("eai,eqaj->eqij", U, dNdX)
    total = 0.0
    for e in range(F.shape[0]):
        for q in range(F.shape[1]):
            total += wdet[e, q] * material.energy_stress_tangent(F[e, q].T @ F[e, q], R[e, q])[0]
    return total


def discrete_gradient(dNdX, wdet, U0, U1, R, material):
    """Element residuals (ne, 3 nn) of int F_m (S_a - S(F_m' F_m)) : grad N_a dV, looped."""
    F0 = np.eye(3) + np.einsum("eai,eqaj->eqij", U0, dNdX)
    F1 = np.eye(3) + np.einsum("eai,eqaj->eqij", U1, dNdX)
    ne, nq, nn = dNdX.shape[:3]
    out = np.zeros((ne, nn, 3))
    for e in range(ne):
        for q in range(nq):
            C0, C1 = F0[e, q].T @ F0[e, q], F1[e, q].T @ F1[e, q]
            Fm = 0.5 * (F0[e, q] + F1[e, q])
            W0 = material.energy_stress_tangent(C0, R[e, q])[0]
            W1 = material.energy_stress_tangent(C1, R[e, q])[0]
            Sm = material.energy_stress_tangent(0.5 * (C0 + C1), R[e, q])[1]
            Sf = material.energy_stress_tangent(Fm.T @ Fm, R[e, q])[1]
            dE = 0.5 * (C1 - C0)
            Sa = Sm + (W1 - W0 - np.sum(Sm * dE)) / np.sum(dE * dE) * dE
            out[e] += wdet[e, q] * (Fm @ (Sa - Sf) @ dNdX[e, q].T).T
    return out.reshape(ne, -1)
