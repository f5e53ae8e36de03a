"""Sparsity pattern built once, element matrices scattered into SciPy CSR by a kernel."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import kernels as FK


class Pattern:
    """CSR pattern of a field with ``dofs_per_node`` dofs per node over ``cells``, and the
    scatter map.

    ``pos[e, i, j]`` is the index in the CSR data array of element e's entry (i, j).
    """

    def __init__(self, cells: np.ndarray, n_nodes: int, dofs_per_node: int = 3):
        cells = np.asarray(cells, dtype=np.int64)
        k = dofs_per_node
        ne, nn = cells.shape
        self._build((cells[:, :, None] * k + np.arange(k)[None, None, :]).reshape(ne, nn * k), n_nodes * k)

    @classmethod
    def from_dofs(cls, dofs: np.ndarray, n: int) -> "Pattern":
        """Pattern of elements with the given global dofs (ne, m) in a system of size n
        (e.g. Taylor-Hood: 30 displacement dofs then 4 pressure dofs per element)."""
        self = cls.__new__(cls)
        self._build(np.asarray(dofs, dtype=np.int64), int(n))
        return self

    def _build(self, dofs: np.ndarray, n: int):
        self.n = n
        self.dofs = dofs
        ne, m = dofs.shape
        rows = np.repeat(self.dofs, m, axis=1).ravel()
        cols = np.tile(self.dofs, (1, m)).ravel()
        key = rows * self.n + cols
        uniq, inv = np.unique(key, return_inverse=True)
        self.indices = (uniq % self.n).astype(np.int32)
        r = uniq // self.n
        self.indptr = np.zeros(self.n + 1, dtype=np.int64)
        np.add.at(self.indptr, r + 1, 1)
        self.indptr = np.cumsum(self.indptr)
        self.pos = inv.reshape(ne, m, m).astype(np.int64)
        self.nnz = uniq.size

    def matrix(self, Ke: np.ndarray) -> sp.csr_matrix:
        data = np.empty(self.nnz)
        FK.scatter_matrix(Ke, self.pos, data)
        return sp.csr_matrix((data, self.indices, self.indptr), shape=(self.n, self.n))

    def vector(self, Re: np.ndarray) -> np.ndarray:
        out = np.empty(self.n)
        FK.scatter_vector(Re, self.dofs, out)
        return out
