"""Sparsity pattern built once, element matrices scattered into SciPy CSR by a kernel."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import ParameterError
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
        self.dofs = np.ascontiguousarray(dofs, dtype=np.int64)
        self.indptr, self.indices, self.pos = FK.csr_pattern(self.dofs, n)
        self.nnz = int(self.indptr[-1])

    def locate(self, dofs: np.ndarray) -> np.ndarray:
        """Scatter map (ne, m, m) of other elements' dofs (e.g. boundary facets) into this
        pattern's data array, so that their matrices add in place."""
        pos = FK.locate(self.indptr, self.indices, np.ascontiguousarray(dofs, dtype=np.int64))
        if pos.size and pos.min() < 0:
            e = int(np.flatnonzero((pos < 0).reshape(len(pos), -1).any(axis=1))[0])
            raise ParameterError(f"element dofs couple entries outside the pattern: dofs[{e}] = "
                                 f"{np.asarray(dofs)[e].tolist()}")
        return pos

    def matrix(self, Ke: np.ndarray) -> sp.csr_matrix:
        data = np.zeros(self.nnz)
        FK.scatter_matrix(Ke, self.pos, data)
        return self.csr(data)

    def csr(self, data: np.ndarray) -> sp.csr_matrix:
        """The CSR matrix with this pattern and the given data array (not copied)."""
        A = sp.csr_matrix((data, self.indices, self.indptr), shape=(self.n, self.n), copy=False)
        A.has_sorted_indices = True
        return A

    def vector(self, Re: np.ndarray) -> np.ndarray:
        out = np.zeros(self.n)
        FK.scatter_vector(Re, self.dofs, out)
        return out
