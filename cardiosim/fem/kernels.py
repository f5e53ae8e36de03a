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
    """data[pos[e, i, j]] += Ke[e, i, j]: element matrices added into a CSR data array."""
    ne, m = Ke.shape[0], Ke.shape[1]
    for e in range(ne):
        for i in range(m):
            for j in range(m):
                data[pos[e, i, j]] += Ke[e, i, j]


@njit(cache=True)
def scatter_vector(Re, dofs, out):
    """out[dofs[e, i]] += Re[e, i]."""
    for e in range(Re.shape[0]):
        for i in range(Re.shape[1]):
            out[dofs[e, i]] += Re[e, i]


def csr_pattern(dofs, n):
    """CSR pattern (indptr, sorted indices) of elements with global dofs ``dofs``
    (ne, m) in a system of size n, and the scatter map pos (ne, m, m; int32 while nnz
    allows) into its data array.

    Row by row through a dof-to-element map with a marker array: memory O(nnz + ne m^2)
    in 4-byte integers, where sorting all ne m^2 (row, column) keys needs several 8-byte
    copies of them (10 GiB at 560,000 Taylor-Hood unknowns).
    """
    dofs = np.ascontiguousarray(dofs, dtype=np.int64)
    start, elems, indptr = _csr_rows(dofs, n)
    nnz = int(indptr[-1])
    it = np.int32 if nnz < 2**31 else np.int64  # SciPy's own choice of index type
    indices = np.empty(nnz, dtype=it)
    pos = np.empty(dofs.shape + (dofs.shape[1],), dtype=it)
    _csr_fill(dofs, start, elems, indptr, indices, pos)
    return indptr.astype(it), indices, pos


@njit(cache=True, inline="always")
def _row_columns(r, start, elems, dofs, marker, out, p):
    """The distinct columns of row r (dofs of the elements holding r, each once: marker[c]
    = r once c is taken) written to out[p:]; returns the end position."""
    for k in range(start[r], start[r + 1]):
        e = elems[k]
        for j in range(dofs.shape[1]):
            c = dofs[e, j]
            if marker[c] != r:
                marker[c] = r
                out[p] = c
                p += 1
    return p


@njit(cache=True)
def _csr_rows(dofs, n):
    """Dof-to-element map (start, elems) and the CSR row pointer."""
    ne, m = dofs.shape
    start = np.zeros(n + 1, dtype=np.int64)
    for e in range(ne):
        for i in range(m):
            start[dofs[e, i] + 1] += 1
    for r in range(n):
        start[r + 1] += start[r]
    elems = np.empty(start[n], dtype=np.int32)
    fill = start[:n].copy()
    for e in range(ne):
        for i in range(m):
            r = dofs[e, i]
            elems[fill[r]] = e
            fill[r] += 1
    marker = np.full(n, -1, dtype=np.int64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    longest = 0
    for r in range(n):
        longest = max(longest, start[r + 1] - start[r])
    cols = np.empty(longest * m, dtype=np.int64)  # a row's columns, counted and dropped
    for r in range(n):
        indptr[r + 1] = indptr[r] + _row_columns(r, start, elems, dofs, marker, cols, 0)
    return start, elems, indptr


@njit(cache=True)
def _csr_fill(dofs, start, elems, indptr, indices, pos):
    """Sorted column indices of each row, then every element's entries located in them."""
    ne, m = dofs.shape
    n = indptr.shape[0] - 1
    marker = np.full(n, -1, dtype=np.int64)
    loc = np.empty(n, dtype=np.int64)
    for r in range(n):
        p = _row_columns(r, start, elems, dofs, marker, indices, indptr[r])
        indices[indptr[r]:p].sort()
        for p in range(indptr[r], indptr[r + 1]):
            loc[indices[p]] = p
        for k in range(start[r], start[r + 1]):
            e = elems[k]
            for i in range(m):
                if dofs[e, i] == r:
                    for j in range(m):
                        pos[e, i, j] = loc[dofs[e, j]]


@njit(cache=True)
def locate(indptr, indices, dofs):
    """Scatter map (ne, m, m) of elements with global dofs ``dofs`` into an existing CSR
    pattern (binary search in each row); -1 where an entry is not in the pattern."""
    ne, m = dofs.shape
    pos = np.empty((ne, m, m), dtype=np.int64)
    for e in range(ne):
        for i in range(m):
            r = dofs[e, i]
            lo0 = indptr[r]
            hi0 = indptr[r + 1]
            for j in range(m):
                c = dofs[e, j]
                lo, hi = lo0, hi0
                while lo < hi:
                    mid = (lo + hi) // 2
                    if indices[mid] < c:
                        lo = mid + 1
                    else:
                        hi = mid
                pos[e, i, j] = lo if (lo < hi0 and indices[lo] == c) else -1
    return pos


@njit(cache=True, inline="always")
def _mass_element(N, wdet, e, rho, me):
    nn = N.shape[1]
    me[:, :] = 0.0
    for q in range(N.shape[0]):
        w = rho * wdet[e, q]
        for a in range(nn):
            for b in range(nn):
                m = w * N[q, a] * N[q, b]
                for i in range(3):
                    me[3 * a + i, 3 * b + i] += m


@njit(cache=True)
def mass(N, wdet, rho, Me):
    """Consistent mass of a vector field Me (ne, 3nn, 3nn): int rho N_a N_b delta_ij [kg]."""
    for e in range(wdet.shape[0]):
        _mass_element(N, wdet, e, rho, Me[e])


@njit(cache=True)
def assemble_mass(N, wdet, rho, pos, data):
    """The global consistent mass straight into the CSR data array (pattern map ``pos``)."""
    nn = N.shape[1]
    me = np.empty((3 * nn, 3 * nn))
    data[:] = 0.0
    for e in range(wdet.shape[0]):
        _mass_element(N, wdet, e, rho, me)
        for i in range(3 * nn):
            for j in range(3 * nn):
                data[pos[e, i, j]] += me[i, j]
