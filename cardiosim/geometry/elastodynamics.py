"""The cardiac elastodynamics benchmark's ventricle (Arostica et al. 2025, CMAME 435:117485).

A truncated prolate ellipsoid, long axis along x, apex at x = -97 mm on the epicardium:
endocardium radii 25 mm (short) and 90 mm (long), epicardium 35 mm and 97 mm; the base is not
planar, cut at mu = -acos(5/17) on the endocardium and -acos(5/20) on the epicardium (rims at
x = 26.47 mm and 24.25 mm). :func:`read_benchmark_mesh` reads the toolkit's mesh (legacy
FEniCS XDMF: the cells and the facet marker function in two grids of one HDF5 file, which
meshio's XDMF reader does not take) and names its markers by the surface their facets lie on,
so a marker numbering is checked, not assumed. :func:`generate_benchmark_mesh` makes the same
geometry, sloped base included, at any refinement (curved P2 if asked).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import MeshError
from .ellipsoid import TruncatedEllipsoid
from .mesh import Mesh, boundary_facets

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
    # nor its facets: half of each marker's triangles point one way, half the other, so a
    # pressure on them would nearly cancel. Each takes the orientation of its cell's face,
    # outward from the wall (ENDO into the cavity), the convention of every mesh here.
    outward = boundary_facets(mesh)
    index = {tuple(k): i for i, k in enumerate(np.sort(outward, axis=1))}
    oriented = {}
    for name, f in mesh.facets.items():
        rows = [index.get(tuple(k)) for k in np.sort(f, axis=1)]
        if any(r is None for r in rows):
            raise MeshError(f"{h5}: {sum(r is None for r in rows)} facets of {name} are not on the boundary")
        oriented[name] = outward[np.array(rows)]
    return Mesh(pts, mesh.cells, oriented, name=mesh.name)


#: fibre angle [deg] on the endocardium and the epicardium (positive: counter-clockwise seen
#: from the epicardium, about the transmural direction)
FIBRE_ANGLES = (-60.0, 60.0)


def transmural_depth(mesh: Mesh) -> np.ndarray:
    """Laplace solution t at the vertices (n_vertices of the P1 cells), 0 on ENDO, 1 on EPI,
    zero flux elsewhere: P1 finite elements on the vertex tetrahedra, as the benchmark's
    reference code computes it. Returned at every point: the mid-edge points of a P2 mesh
    get the mean of their edge's ends (linear interpolation)."""
    import scipy.sparse as sps
    import scipy.sparse.linalg as spla

    mesh.require("ENDO", "EPI")
    c4 = mesh.cells[:, :4]
    x = mesh.points[c4]
    T = np.stack([x[:, 1] - x[:, 0], x[:, 2] - x[:, 0], x[:, 3] - x[:, 0]], axis=1)  # rows: edges
    vol = np.linalg.det(T) / 6.0
    # gradients of the barycentric functions: rows of inv(T) give those of lambda_1..3
    G = np.linalg.inv(T).transpose(0, 2, 1)
    g = np.concatenate([-G.sum(axis=1, keepdims=True), G], axis=1)  # (ne, 4, 3)
    Ke = np.abs(vol)[:, None, None] * np.einsum("eai,ebi->eab", g, g)
    n = mesh.n_points
    A = sps.csr_matrix((Ke.ravel(), (np.repeat(c4, 4, axis=1).ravel(), np.tile(c4, (1, 4)).ravel())),
                       shape=(n, n))
    endo = np.unique(mesh.facets["ENDO"][:, :3])
    epi = np.unique(mesh.facets["EPI"][:, :3])
    verts = np.unique(c4)
    t = np.zeros(n)
    t[epi] = 1.0
    fixed = np.zeros(n, bool)
    fixed[endo] = fixed[epi] = True
    free = np.setdiff1d(verts, np.flatnonzero(fixed))
    rhs = -A[free][:, np.flatnonzero(fixed)] @ t[fixed]
    t[free] = spla.spsolve(A[free][:, free].tocsc(), rhs)
    if mesh.order == 2:
        # mid-edge nodes 4..9 of the 10-node tetrahedron (edges 01 12 02 03 13 23)
        edges = ((0, 1), (1, 2), (0, 2), (0, 3), (1, 3), (2, 3))
        for k, (a, b) in enumerate(edges):
            t[mesh.cells[:, 4 + k]] = 0.5 * (t[c4[:, a]] + t[c4[:, b]])
    return t


def benchmark_fibres(mesh: Mesh, angles: tuple[float, float] = FIBRE_ANGLES) -> np.ndarray:
    """Fibre frames (n_points, 3, 3), rows f0, s0, n0, at every point of a benchmark mesh.

    The rule-based field of Arostica et al. (2025): with t the transmural depth
    (:func:`transmural_depth`), radii r_s(t), r_l(t) interpolated between the endocardium's
    and the epicardium's, prolate coordinates mu = atan2(r / r_s, x / r_l) and
    theta = pi - atan2(z, -y) give the local basis e_t, e_mu, e_theta; the fibre
    f0 = sin(alpha) e_mu + cos(alpha) e_theta with alpha = alpha_endo + t (alpha_epi -
    alpha_endo), the normal n0 = e_mu x e_theta (transmural) and the sheet s0 = f0 x n0.
    """
    t = transmural_depth(mesh)
    X = mesh.points
    rs = ENDO_RADII[0] + t * (EPI_RADII[0] - ENDO_RADII[0])
    rl = ENDO_RADII[1] + t * (EPI_RADII[1] - ENDO_RADII[1])
    a = np.hypot(X[:, 1], X[:, 2]) / rs
    b = X[:, 0] / rl
    mu = np.arctan2(a, b)
    theta = np.where(mu < 1e-7, 0.0, np.pi - np.arctan2(X[:, 2], -X[:, 1]))
    sm, cm, st, ct = np.sin(mu), np.cos(mu), np.sin(theta), np.cos(theta)
    e_mu = np.stack([-rl * sm, rs * cm * ct, rs * cm * st], axis=1)
    e_th = np.stack([np.zeros_like(mu), -rs * sm * st, rs * sm * ct], axis=1)
    e_mu /= np.linalg.norm(e_mu, axis=1, keepdims=True)
    nth = np.linalg.norm(e_th, axis=1, keepdims=True)
    # on the axis (the apex) e_theta vanishes: any direction normal to e_mu will do there
    e_th = np.where(nth > 1e-12, e_th / np.where(nth > 1e-12, nth, 1.0), np.array([0.0, 0.0, 1.0]))
    alpha = np.deg2rad(angles[0] + t * (angles[1] - angles[0]))
    f0 = np.sin(alpha)[:, None] * e_mu + np.cos(alpha)[:, None] * e_th
    n0 = np.cross(e_mu, e_th)
    n0 /= np.linalg.norm(n0, axis=1, keepdims=True)
    s0 = np.cross(f0, n0)
    f0 /= np.linalg.norm(f0, axis=1, keepdims=True)
    s0 /= np.linalg.norm(s0, axis=1, keepdims=True)
    return np.stack([f0, s0, n0], axis=1)


def benchmark_ellipsoid() -> TruncatedEllipsoid:
    """The benchmark's geometry as a :class:`TruncatedEllipsoid` with a sloped base, in its
    own frame (long axis z; :func:`generate_benchmark_mesh` turns it to x)."""
    return TruncatedEllipsoid(r_short_endo=ENDO_RADII[0], r_long_endo=ENDO_RADII[1], r_short_epi=EPI_RADII[0],
                              r_long_epi=EPI_RADII[1], base_z=BASE_RIM_X[0], base_z_epi=BASE_RIM_X[1])


def generate_benchmark_mesh(level: int = 1, order: int = 1, layers: int | None = None) -> Mesh:
    """The benchmark's ventricle meshed by cardiosim: the structured mesh of
    :meth:`TruncatedEllipsoid.mesh` (``level``, ``order``, ``layers``) of
    :func:`benchmark_ellipsoid`, turned so that its long axis is x, apex at x = -97 mm on the
    epicardium (x, y, z) <- (z, x, y), a rotation. Markers ENDO, EPI and BASE (the conical
    band between the rims at x = 26.47 and 24.25 mm); no fibres (:func:`benchmark_fibres`)."""
    m = benchmark_ellipsoid().mesh(level, order=order, layers=layers)
    pts = np.ascontiguousarray(m.points[:, [2, 0, 1]])
    name = f"arostica-ellipsoid-L{level}" + (f"-T{layers}" if layers is not None else "") + f"-P{order}"
    return Mesh(pts, m.cells, dict(m.facets), name=name).check(markers=("ENDO", "EPI", "BASE"))
