"""Geometry: the tetrahedral mesh type, its generators and boundary markers, mesh files.

* :class:`Mesh` (immutable; P1 ``tetra`` or P2 ``tetra10`` cells, named boundary facet
  sets, optional fibre frames), with ``Mesh.read`` / ``Mesh.write`` (meshio: gmsh .msh,
  VTU, XDMF) and :class:`MeshError`;
* generators: :func:`box` and :func:`land_beam` (Land et al. 2015, problem 1),
  :class:`TruncatedEllipsoid` (problems 2 and 3, with the fibre field of problem 3),
  :class:`SphericalShell` (whole or truncated thick sphere);
* :func:`read_benchmark_mesh`: the cardiac elastodynamics benchmark's ventricle from its
  toolkit's legacy FEniCS XDMF/HDF5 file (markers ENDO, EPI, BASE checked on the surfaces);
* :func:`boundary_facets`, and the local numbering of the tetrahedron's edges and faces
  (:data:`TET_EDGES`, :data:`TET_FACES`).
"""

from ..errors import MeshError
from .elastodynamics import read_benchmark_mesh
from .ellipsoid import TruncatedEllipsoid
from .mesh import TET_EDGES, TET_FACES, Mesh, boundary_facets, box, land_beam
from .shell import SphericalShell

__all__ = ["TET_EDGES", "TET_FACES", "Mesh", "MeshError", "SphericalShell", "TruncatedEllipsoid",
           "boundary_facets", "box", "land_beam", "read_benchmark_mesh"]
