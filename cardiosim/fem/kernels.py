"""Numba kernels of the finite-element core: geometry, element matrices, scatter into CSR.

Plain functions over element-batched arrays, no Python objects: ``X`` (ne, nn, 3) node
coordinates per element, ``dN`` (nq, nn, 3) reference shape gradients, ``w`` (nq,)
quadrature weights. Every kernel has a NumPy twin in :mod:`cardiosim.fem.reference`
that the tests compare it with. Element dof order: node-major (u_x, u_y, u_z of node 0,
then node 1, ...).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _inv3(J, Ji):
    d = (J[0, 0] * (J[1, 1] * J[2, 2] - J[1, 2] * J[2, 1])
         - J[0, 1] * (J[1, 0] * J[2, 2] - J[1, 2] * J[2, 0])
         + J[0, 2] * (J[1, 0] * J[2, 1] - J[1, 1] * J[2, 0]))
    Ji[0, 0] = (J[1, 1] * J[2, 2] - J[1, 2] * J[2, 1]) / d
    Ji[0, 1] = (J[0, 2] * J[2, 1] - J[0, 1] * J[2, 2]) / d
    Ji[0, 2] = (J[0, 1] * J[1, 2] - J[0, 2] * J[1, 1]) / d
    Ji[1, 0] = (J[1, 2] * J[2, 0] - J[1, 0] * J[2, 2]) / d
    Ji[1, 1] = (J[0, 0] * J[2, 2] - J[0, 2] * J[2, 0]) / d
    Ji[1, 2] = (J[0, 2] * J[1, 0] - J[0, 0] * J[1, 2]) / d
    Ji[2, 0] = (J[1, 0] * J[2, 1] - J[1, 1] * J[2, 0]) / d
    Ji[2, 1] = (J[0, 1] * J[2, 0] - J[0, 0] * J[2, 1]) / d
    Ji[2, 2] = (J[0, 0] * J[1, 1] - J[0, 1] * J[1, 0]) / d
    return d


@njit(cache=True)
def geometry(X, dN, w, dNdX, wdet):
    """Physical shape gradients dNdX (ne, nq, nn, 3) and weights x det J (ne, nq).

    Returns the index of the first element with det J <= 0, or -1 when all are positive.
    """
    ne, nn = X.shape[0], X.shape[1]
    nq = dN.shape[0]
    J = np.empty((3, 3))
    Ji = np.empty((3, 3))
    bad = -1
    for e in range(ne):
        for q in range(nq):
            for i in range(3):
                for j in range(3):
                    s = 0.0
                    for a in range(nn):
                        s += X[e, a, i] * dN[q, a, j]
                    J[i, j] = s
            d = _inv3(J, Ji)
            if d <= 0.0 and bad < 0:
                bad = e
            wdet[e, q] = w[q] * d
            for a in range(nn):
                for i in range(3):
                    dNdX[e, q, a, i] = dN[q, a, 0] * Ji[0, i] + dN[q, a, 1] * Ji[1, i] + dN[q, a, 2] * Ji[2, i]
    return bad


@njit(cache=True, inline="always")
def _linear_elastic_element(dNdX, wdet, e, lam, mu, ke):
    """Element e's small-strain stiffness into ke (3nn, 3nn)."""
    nq, nn = dNdX.shape[1], dNdX.shape[2]
    for i in range(3 * nn):
        for j in range(3 * nn):
            ke[i, j] = 0.0
    for q in range(nq):
        wq = wdet[e, q]
        for a in range(nn):
            ga0 = dNdX[e, q, a, 0]
            ga1 = dNdX[e, q, a, 1]
            ga2 = dNdX[e, q, a, 2]
            for b in range(a, nn):
                gb0 = dNdX[e, q, b, 0]
                gb1 = dNdX[e, q, b, 1]
                gb2 = dNdX[e, q, b, 2]
                dot = ga0 * gb0 + ga1 * gb1 + ga2 * gb2
                # K_ab,ij = lam ga_i gb_j + mu ga_j gb_i + mu (ga . gb) delta_ij
                ga = (ga0, ga1, ga2)
                gb = (gb0, gb1, gb2)
                for i in range(3):
                    for j in range(3):
                        v = lam * ga[i] * gb[j] + mu * ga[j] * gb[i]
                        if i == j:
                            v += mu * dot
                        ke[3 * a + i, 3 * b + j] += wq * v
    for a in range(nn):
        for b in range(a + 1, nn):
            for i in range(3):
                for j in range(3):
                    ke[3 * b + j, 3 * a + i] = ke[3 * a + i, 3 * b + j]


@njit(cache=True)
def linear_elastic(dNdX, wdet, lam, mu, Ke):
    """Small-strain isotropic stiffness Ke (ne, 3nn, 3nn): int B' D B, Lame lam, mu [Pa]."""
    for e in range(dNdX.shape[0]):
        _linear_elastic_element(dNdX, wdet, e, lam, mu, Ke[e])


@njit(cache=True)
def assemble_linear_elastic(dNdX, wdet, lam, mu, pos, data):
    """The global stiffness straight into the CSR data array (pattern map ``pos``): the
    element matrix stays in cache instead of a round trip through an (ne, m, m) array."""
    nn = dNdX.shape[2]
    ke = np.empty((3 * nn, 3 * nn))
    data[:] = 0.0
    for e in range(dNdX.shape[0]):
        _linear_elastic_element(dNdX, wdet, e, lam, mu, ke)
        for i in range(3 * nn):
            for j in range(3 * nn):
                data[pos[e, i, j]] += ke[i, j]


@njit(cache=True)
def scatter_matrix(Ke, pos, data):
    """data[pos[e, i, j]] += Ke[e, i, j]: element matrices into a CSR data array."""
    data[:] = 0.0
    ne, m = Ke.shape[0], Ke.shape[1]
    for e in range(ne):
        for i in range(m):
            for j in range(m):
                data[pos[e, i, j]] += Ke[e, i, j]


@njit(cache=True)
def scatter_vector(Re, dofs, out):
    """out[dofs[e, i]] += Re[e, i]."""
    out[:] = 0.0
    for e in range(Re.shape[0]):
        for i in range(Re.shape[1]):
            out[dofs[e, i]] += Re[e, i]
