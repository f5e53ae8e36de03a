"""Function spaces on a tetrahedral mesh: the element, its quadrature and everything that
depends on the mesh alone, computed once (as scikit-fem's ``Basis``).

A :class:`FunctionSpace` is the isoparametric vector Lagrange space of the displacement
(P1 or P2, the order of the mesh) and, for Taylor-Hood, a P1 pressure at the vertices. It
holds the shape-function gradients and weights at the quadrature points, the numbering of
the unknowns (3 per node, x y z interleaved, then one pressure per vertex), the CSR
pattern of the coupled system with its scatter map, and, per boundary marker, the facet
data of surface loads. Problems that share a mesh, element and quadrature can share one
space, and so skip the set-up (the pattern build dominates it on large meshes).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import MeshError, ParameterError
from ..geometry.mesh import Mesh
from . import kernels as FK
from .assembly import Pattern
from .elements import Element, shape_functions


class FunctionSpace:
    """Displacement (and, for Taylor-Hood, pressure) unknowns on ``mesh``.

    Parameters
    ----------
    mesh : Mesh
        P1 or P2 tetrahedra; the displacement has the order of the mesh (isoparametric).
    taylor_hood : bool
        Add a P1 pressure at the vertices (P2-P1 Taylor-Hood; needs a P2 mesh).
    quadrature_degree : int or None
        Degree of the cell rule (default 2 x the order).

    Attributes
    ----------
    element, facet_element : Element
        Shape data at the quadrature points of the cells and of the boundary triangles.
    dNdX : (n_cells, nq, nn, 3) ndarray
        Reference-configuration gradients of the shape functions.
    wdet : (n_cells, nq) ndarray
        Quadrature weights times the Jacobian determinants.
    n_u : int
        Number of displacement unknowns (3 per node); the pressures follow.
    vertices : ndarray
        Mesh nodes carrying a pressure (Taylor-Hood), in pressure order; empty otherwise.
    pdofs : (n_cells, 4 or 0) ndarray
        Pressure number (0-based, after ``n_u``) of each cell's vertices.
    Np : (nq, 4 or 0) ndarray
        Pressure shape functions at the quadrature points.
    dofs : (n_cells, m) ndarray
        Global unknowns of each cell: 3 nn displacements, then its pressures.
    pattern : Pattern
        CSR pattern of the coupled system and its scatter map.
    """

    def __init__(self, mesh: Mesh, taylor_hood: bool = False, quadrature_degree: int | None = None):
        if taylor_hood and mesh.order != 2:
            raise ParameterError(f"{mesh.name}: the mixed (Taylor-Hood) formulation needs a P2 mesh "
                                 f"(mesh.to_quadratic()), got order {mesh.order}")
        self.mesh = mesh
        self.taylor_hood = bool(taylor_hood)
        self.quadrature_degree = quadrature_degree
        self.element = Element.tetra(mesh.order, quadrature_degree)
        self.facet_element = Element.triangle(mesh.order)
        ne, nq, nn = mesh.n_cells, len(self.element.weights), self.element.n_nodes
        self.dNdX = np.empty((ne, nq, nn, 3))
        self.wdet = np.empty((ne, nq))
        bad = FK.geometry(self._cell_coordinates(), self.element.dN, self.element.weights, self.dNdX, self.wdet)
        if bad >= 0:
            raise MeshError(f"{mesh.name}: element {bad} has a non-positive Jacobian (inverted)")
        self.n_u = 3 * mesh.n_points
        dofs = (mesh.cells[:, :, None] * 3 + np.arange(3)).reshape(ne, 3 * nn)
        if self.taylor_hood:
            self.vertices = np.unique(mesh.cells[:, :4])
            vmap = np.full(mesh.n_points, -1, dtype=np.int64)
            vmap[self.vertices] = np.arange(len(self.vertices))
            self.pdofs = vmap[mesh.cells[:, :4]]
            self.Np = np.ascontiguousarray(shape_functions(1, self.element.points)[0])
            dofs = np.hstack([dofs, self.n_u + self.pdofs])
        else:
            self.vertices = np.zeros(0, dtype=np.int64)
            self.pdofs = np.zeros((ne, 0), dtype=np.int64)
            self.Np = np.zeros((nq, 0))
        self.dofs = dofs
        self.pattern = Pattern.from_dofs(dofs, self.n_u + len(self.vertices))
        self._facets: dict[str, tuple] = {}
        self._mesh_frames: np.ndarray | None = None

    def __repr__(self) -> str:
        return (f"FunctionSpace({self.mesh.name!r}, {self.element_name}, {self.n_dofs} unknowns, "
                f"{self.n_quadrature_points} quadrature points per cell)")

    # -- sizes ---------------------------------------------------------------------------
    @property
    def element_name(self) -> str:
        """"P1", "P2" or "P2-P1" (Taylor-Hood)."""
        return f"P{self.mesh.order}" + ("-P1" if self.taylor_hood else "")

    @property
    def n_dofs(self) -> int:
        return self.pattern.n

    @property
    def n_quadrature_points(self) -> int:
        return len(self.element.weights)

    def split(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(u (n_points, 3), vertex pressures or None) from the unknown vector (views)."""
        u = x[: self.n_u].reshape(-1, 3)
        return u, (x[self.n_u:] if self.taylor_hood else None)

    # -- geometry at the quadrature points -----------------------------------------------
    def _cell_coordinates(self) -> np.ndarray:
        return np.ascontiguousarray(self.mesh.points[self.mesh.cells])

    def quadrature_points(self) -> np.ndarray:
        """Reference coordinates (n_cells, nq, 3) [m] of the quadrature points."""
        return np.einsum("qa,eai->eqi", self.element.N, self._cell_coordinates())

    def frames(self, fibre_field: Callable | None = None) -> np.ndarray:
        """Fibre frames (n_cells, nq, 3, 3), rows f0, s0, n0, at the quadrature points.

        ``fibre_field``: points (n, 3) [m] -> frames (n, 3, 3), evaluated at the quadrature
        points; None: the mesh's fibres (per cell, or per node interpolated and
        re-orthonormalised), or the identity if it has none. The mesh's frames are
        computed once per space.
        """
        if fibre_field is None and self._mesh_frames is not None:
            return self._mesh_frames
        m = self.mesh
        ne, nq = m.n_cells, self.n_quadrature_points
        if fibre_field is not None:
            R = np.asarray(fibre_field(self.quadrature_points().reshape(-1, 3)), dtype=float).reshape(ne, nq, 3, 3)
        elif m.fibres is None:
            R = np.broadcast_to(np.eye(3), (ne, nq, 3, 3))
        elif m.fibres_at == "cell":
            R = np.broadcast_to(m.fibres[:, None], (ne, nq, 3, 3))
        else:
            R = _orthonormal(np.einsum("qa,eaij->eqij", self.element.N, m.fibres[m.cells]))
        R = np.ascontiguousarray(R, dtype=float)
        if not np.all(np.isfinite(R)):
            bad = int(np.flatnonzero(~np.isfinite(R).reshape(ne, -1).all(axis=1))[0])
            raise ParameterError(f"{m.name}: the fibre field has non-finite values (first in cell {bad})")
        if fibre_field is None:
            self._mesh_frames = R
        return R

    # -- boundary data ---------------------------------------------------------------------
    def facet_data(self, marker: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(facets (nf, nn) node indices, their coordinates (nf, nn, 3), their displacement
        unknowns (nf, 3 nn), the scatter map of their matrices into :attr:`pattern`) of the
        boundary ``marker``; computed once per marker."""
        if marker not in self._facets:
            self.mesh.require(marker)
            fac = self.mesh.facets[marker]
            fdofs = (fac[:, :, None] * 3 + np.arange(3)).reshape(len(fac), -1)
            self._facets[marker] = (fac, np.ascontiguousarray(self.mesh.points[fac]), fdofs,
                                    self.pattern.locate(fdofs))
        return self._facets[marker]

    def marker_dofs(self, markers, components=(0, 1, 2)) -> np.ndarray:
        """Displacement unknowns (the given components, default all three) of the nodes of
        ``markers``."""
        markers = tuple(markers)
        if not markers:
            return np.zeros(0, np.int64)
        self.mesh.require(*markers)
        nodes = np.unique(np.concatenate([self.mesh.facets[k].ravel() for k in markers]))
        return (nodes[:, None] * 3 + np.asarray(components, np.int64)).ravel()


def _orthonormal(R):
    """Gram-Schmidt on rows f, s of frames (..., 3, 3); n = f x s."""
    f = R[..., 0, :] / np.linalg.norm(R[..., 0, :], axis=-1, keepdims=True)
    s = R[..., 1, :] - np.sum(R[..., 1, :] * f, axis=-1, keepdims=True) * f
    s /= np.linalg.norm(s, axis=-1, keepdims=True)
    return np.stack([f, s, np.cross(f, s)], axis=-2)
