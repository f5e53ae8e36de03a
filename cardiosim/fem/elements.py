"""Lagrange P1 and P2 tetrahedra (and their boundary triangles): shape functions at points.

Node order of P2 follows VTK/meshio ``tetra10``: vertices 0-3, then the mid-nodes of edges
(0,1), (1,2), (0,2), (0,3), (1,3), (2,3); ``triangle6``: vertices 0-2, then (0,1), (1,2), (0,2).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError
from . import quadrature

_TET_EDGES = ((0, 1), (1, 2), (0, 2), (0, 3), (1, 3), (2, 3))
_TRI_EDGES = ((0, 1), (1, 2), (0, 2))


def _barycentric(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = points.shape[1]
    L = np.column_stack([1.0 - points.sum(axis=1), points])
    dL = np.vstack([-np.ones(d), np.eye(d)])  # (d + 1, d): gradient of each L w.r.t. reference coords
    return L, dL


def shape_functions(order: int, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N (nq, nn), dN (nq, nn, d)) of the P1/P2 simplex of dimension d = points.shape[1]."""
    L, dL = _barycentric(np.asarray(points, float))
    nq, nv = L.shape
    if order == 1:
        return L, np.broadcast_to(dL, (nq, nv, dL.shape[1])).copy()
    if order != 2:
        raise ParameterError(f"order must be 1 or 2, got {order}")
    edges = _TET_EDGES if nv == 4 else _TRI_EDGES
    N = np.empty((nq, nv + len(edges)))
    dN = np.empty((nq, nv + len(edges), dL.shape[1]))
    for a in range(nv):
        N[:, a] = L[:, a] * (2 * L[:, a] - 1)
        dN[:, a] = (4 * L[:, a] - 1)[:, None] * dL[a]
    for k, (a, b) in enumerate(edges):
        N[:, nv + k] = 4 * L[:, a] * L[:, b]
        dN[:, nv + k] = 4 * (L[:, b][:, None] * dL[a] + L[:, a][:, None] * dL[b])
    return N, dN


@dataclass(frozen=True)
class Element:
    """Shape data at the quadrature points of a reference tetrahedron (or triangle)."""

    order: int
    points: np.ndarray
    weights: np.ndarray
    N: np.ndarray
    dN: np.ndarray

    @property
    def n_nodes(self) -> int:
        return self.N.shape[1]

    @classmethod
    def tetra(cls, order: int, degree: int | None = None) -> "Element":
        """P``order`` tetrahedron with a rule exact for degree ``degree`` (default 2 order)."""
        return _element(cls, 3, order, 2 * order if degree is None else degree)

    @classmethod
    def triangle(cls, order: int, degree: int | None = None) -> "Element":
        return _element(cls, 2, order, 2 * order + 1 if degree is None else degree)


@functools.lru_cache(maxsize=64)
def _element(cls, dim: int, order: int, degree: int) -> Element:
    # built once per rule: the cavity volume asks for its triangle at every Newton iteration
    pts, w = (quadrature.tetrahedron if dim == 3 else quadrature.triangle)(degree)
    N, dN = shape_functions(order, pts)
    for a in (pts, w, N, dN):
        a.flags.writeable = False      # shared between callers
    return cls(order, pts, w, N, dN)
