"""The cardiac elastodynamics benchmark's ventricle (Arostica et al. 2025, CMAME 435:117485).

A truncated prolate ellipsoid, long axis along x, apex at x = -97 mm on the epicardium:
endocardium radii 25 mm (short) and 90 mm (long), epicardium 35 mm and 97 mm; the base is not
planar, cut at mu = -acos(5/17) on the endocardium and -acos(5/20) on the epicardium (rims at
x = 26.47 mm and 24.25 mm). :func:`read_benchmark_mesh` reads the toolkit's mesh (legacy
FEniCS XDMF: the cells and the facet marker function in two grids of one HDF5 file, which
meshio's XDMF reader does not take) and names its markers by the surface their facets lie on,
so a marker numbering is checked, not assumed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import MeshError
from .mesh import Mesh

#: (short radius, long radius) [m] of the endocardium and the epicardium
ENDO_RADII = (25e-3, 90e-3)
EPI_RADII = (35e-3, 97e-3)
#: the material points whose displacement the benchmark reports [m]
P0 = (0.025, 0.03, 0.0)
P1 = (0.0, 0.03, 0.0)
#: base rims [m]: x of the endocardial and epicardial edges of the sloped base
BASE_RIM_X = (90e-3 * 5.0 / 17.0, 97e-3 * 5.0 / 20.0)


def surface_residual(points: np.ndarray, radii: tuple[float, float]) -> np.ndarray:
    """(x / long)^2 + (r / short)^2 - 1 of points on an ellipsoid of revolution about x."""
    p = np.asarray(points, float)
    short, long = radii
    return (p[:, 0] / long) ** 2 + (np.hypot(p[:, 1], p[:, 2]) / short) ** 2 - 1.0


def read_benchmark_mesh(path, tol: float = 1e-3) -> Mesh:
    """The toolkit's ellipsoid mesh (``ellipsoid_0.005.xdmf`` or its ``.h5``) as a :class:`Mesh`.

    Markers become ``ENDO``, ``EPI`` and ``BASE``: a marker whose vertices all lie on the
    endocardial (epicardial) ellipsoid within ``tol`` (relative) is ENDO (EPI); the one with
    vertices on neither surface inside is BASE. Facets without a marker (interior ones) are
    dropped. Points in metres, as in the file.
    """
    import h5py

    path = Path(path)
    h5 = path.with_suffix(".h5") if path.suffix.lower() in (".xdmf", ".xmf") else path
    if not h5.exists():
        raise MeshError(f"{h5}: no such benchmark mesh file (the toolkit's ellipsoid_0.005.h5)")
    need = ("Mesh/mesh/geometry", "Mesh/mesh/topology", "MeshFunction/0/mesh/topology", "MeshFunction/0/values")
    with h5py.File(h5, "r") as f:
        missing = [k for k in need if k not in f]
        if missing:
            raise MeshError(f"{h5}: not a legacy FEniCS mesh with a facet function: missing {', '.join(missing)}")
        pts = np.asarray(f[need[0]][:], float)
        cells = np.asarray(f[need[1]][:], np.int64)
        tri = np.asarray(f[need[2]][:], np.int64)
        val = np.asarray(f[need[3]][:]).reshape(-1)
    if pts.ndim != 2 or pts.shape[1] != 3 or cells.ndim != 2 or cells.shape[1] != 4:
        raise MeshError(f"{h5}: expected (n, 3) points and (m, 4) tetrahedra, got {pts.shape} and {cells.shape}")
    if tri.shape != (val.size, 3):
        raise MeshError(f"{h5}: the facet function has {val.size} values for {tri.shape[0]} facets")
    facets = {}
    for v in np.unique(val):
        if v > np.iinfo(np.int32).max:          # the unset value (size_t -1): interior facets
            continue
        f = tri[val == v]
        p = pts[np.unique(f)]
        on_endo = np.all(np.abs(surface_residual(p, ENDO_RADII)) < tol)
        on_epi = np.all(np.abs(surface_residual(p, EPI_RADII)) < tol)
        name = "ENDO" if on_endo else "EPI" if on_epi else "BASE"
        if name in facets:
            raise MeshError(f"{h5}: markers {facets[name][0]} and {int(v)} both lie on the {name} surface")
        facets[name] = (int(v), f)
    if set(facets) != {"ENDO", "EPI", "BASE"}:
        raise MeshError(f"{h5}: expected facet markers on the endocardium, the epicardium and the base, "
                        f"found {sorted(facets)}")
    mesh = Mesh(pts, cells, {k: v[1] for k, v in facets.items()}, name="elastodynamics-benchmark")
    vol = mesh.cell_volumes()
    if np.any(vol == 0):
        raise MeshError(f"{h5}: {int(np.sum(vol == 0))} tetrahedra have zero volume (first: cell "
                        f"{int(np.flatnonzero(vol == 0)[0])})")
    if np.any(vol < 0):
        # FEniCS does not orient its cells (8,874 of the toolkit's 17,625 are negative):
        # swapping two vertices makes them positive, as the FE kernels need
        c = np.array(cells)
        neg = vol < 0
        c[neg] = c[neg][:, [0, 2, 1, 3]]
        mesh = Mesh(pts, c, mesh.facets, name=mesh.name)
    return mesh
