"""A thick spherical shell, whole or truncated by a base plane: geometry and meshes.

The shell between the spheres of radius ``r_inner`` (endocardium) and ``r_outer``
(epicardium) about the origin. With ``base_z`` it is cut by the plane z = base_z and only
the part below the plane is kept (``base_z = 0``: a hemispherical shell), as the
truncated ellipsoid of Land et al. (2015), of which it is the special case with equal
short and long radii: its meshes are :meth:`TruncatedEllipsoid.mesh` meshes, every node
(P2 mid-nodes included) on the exact spheres and the base plane. The whole shell is that
hemispherical mesh and its mirror image in z = 0, joined at the equator.

Markers as on the ellipsoid: ENDO and EPI (facets oriented outward from the wall, so ENDO
facets point into the cavity) and, when truncated, BASE.

:meth:`SphericalShell.octant_mesh`: one eighth of the whole shell (x >= 0, y >= 0, z <= 0),
its three cut planes marked XSYM, YSYM and BASE: with the symmetry conditions u_x = 0,
u_y = 0, u_z = 0 on them it is the whole shell under loads with the sphere's symmetry, at an
eighth of the cost (no rigid motion left, no pole). Its surface is a cube-sphere corner
(the three faces of a cube's corner projected onto the sphere), triangulated, extruded
radially into prisms and split into tetrahedra by the sorted-vertex rule (conforming).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import MeshError, ParameterError
from .ellipsoid import TruncatedEllipsoid
from .mesh import Mesh, TET_EDGES, boundary_facets

#: tetra10 / triangle6 node orders after swapping vertices 1 and 2 (reverses the
#: orientation, which the mirror image has reversed already)
_SWAP_TET = {4: [0, 2, 1, 3], 10: [0, 2, 1, 3, 6, 5, 4, 7, 9, 8]}
_SWAP_TRI = {3: [0, 2, 1], 6: [0, 2, 1, 5, 4, 3]}


@dataclass(frozen=True)
class SphericalShell:
    """Thick spherical shell [m], optionally truncated at the base plane z = ``base_z``.

    Parameters
    ----------
    r_inner : float
        Radius of the inner (endocardial) sphere [m].
    r_outer : float
        Radius of the outer (epicardial) sphere [m], > r_inner.
    base_z : float or None
        Height of the base plane [m], |base_z| < r_inner; the shell below it is kept.
        None: the whole shell (no BASE marker).
    """

    r_inner: float
    r_outer: float
    base_z: float | None = None

    def __post_init__(self):
        if not self.r_inner > 0:
            raise ParameterError(f"SphericalShell: r_inner must be > 0 m, got {self.r_inner}")
        if not self.r_outer > self.r_inner:
            raise ParameterError(f"SphericalShell: r_outer = {self.r_outer} m must exceed r_inner = "
                                 f"{self.r_inner} m")
        if self.base_z is not None and not -self.r_inner < self.base_z < self.r_inner:
            raise ParameterError(f"SphericalShell: base_z = {self.base_z} m must cut the inner sphere "
                                 f"(|base_z| < r_inner = {self.r_inner} m)")

    @property
    def truncated(self) -> bool:
        return self.base_z is not None

    # -- geometry ------------------------------------------------------------------------
    def radius(self, t):
        """Radius [m] of the sphere at transmural coordinate t (0 inner, 1 outer)."""
        return self.r_inner + np.asarray(t, float) * (self.r_outer - self.r_inner)

    def apex(self, surface: str = "ENDO") -> np.ndarray:
        """The lowest point (0, 0, -r) of the ENDO or EPI sphere [m]."""
        r = {"ENDO": self.r_inner, "EPI": self.r_outer}[surface]
        return np.array([0.0, 0.0, -float(r)])

    def cavity_volume(self) -> float:
        """Exact undeformed cavity volume [m^3]: the inner ball, below the base plane if
        truncated."""
        return _ball_below(self.r_inner, self.base_z)

    def wall_volume(self) -> float:
        """Exact undeformed wall volume [m^3]."""
        return _ball_below(self.r_outer, self.base_z) - _ball_below(self.r_inner, self.base_z)

    # -- meshes --------------------------------------------------------------------------
    def mesh(self, level: int = 1, order: int = 2, layers: int | None = None) -> Mesh:
        """Structured tetrahedral mesh of refinement ``level`` (>= 1), P1 (``order=1``) or
        curved P2 (``order=2``); ``layers`` transmural layers (default ``level``).

        Truncated: the :meth:`TruncatedEllipsoid.mesh` of the sphere (5 level rings from
        the apex to the base). Whole: that mesh of the hemispherical shell and its mirror
        image (10 level rings from pole to pole).
        """
        if int(level) < 1:
            raise MeshError(f"shell mesh: level must be >= 1, got {level}")
        if order not in (1, 2):
            raise MeshError(f"shell mesh: order must be 1 or 2, got {order}")
        half = TruncatedEllipsoid(self.r_inner, self.r_inner, self.r_outer, self.r_outer,
                                  0.0 if self.base_z is None else self.base_z)
        m = half.mesh(level, order=order, layers=layers)
        suffix = (f"-T{int(layers)}" if layers is not None else "") + ("-P2" if order == 2 else "")
        if self.truncated:
            return Mesh(m.points, m.cells, m.facets, name=f"half-shell-L{int(level)}{suffix}")
        return _mirror_z(m, f"shell-L{int(level)}{suffix}").check()

    def octant_mesh(self, level: int = 1, order: int = 2, layers: int = 1) -> Mesh:
        """The eighth x >= 0, y >= 0, z <= 0 of the whole shell (see the module docstring):
        4 ``level`` x 4 ``level`` quads on each cube-corner face, ``layers`` through the wall,
        P1 or P2 (mid-nodes on the exact spheres and planes). Markers ENDO, EPI, XSYM, YSYM,
        BASE. Its cavity is :meth:`cavity_volume` / 8 (with base_z None)."""
        if self.truncated:
            raise MeshError("octant_mesh is an eighth of the whole shell: make the SphericalShell without base_z")
        if int(level) < 1 or int(layers) < 1:
            raise MeshError(f"octant mesh: level and layers must be >= 1, got {level}, {layers}")
        if order not in (1, 2):
            raise MeshError(f"octant mesh: order must be 1 or 2, got {order}")
        name = f"shell-octant-L{int(level)}-T{int(layers)}" + ("-P2" if order == 2 else "")
        return _octant(self.r_inner, self.r_outer, 4 * int(level), int(layers), order, name)

    def octant_fibres(self, x: np.ndarray) -> np.ndarray:
        """Frames (n, 3, 3) at points x: rows f0 (circumferential, about z), s0 (along the
        meridian) and n0 (radial, outward): f0 and s0 tangent to the spheres."""
        x = np.asarray(x, float)
        n0 = x / np.linalg.norm(x, axis=1, keepdims=True)
        f0 = np.stack([-x[:, 1], x[:, 0], np.zeros(len(x))], axis=1)
        f0 /= np.linalg.norm(f0, axis=1, keepdims=True)
        s0 = np.cross(n0, f0)
        return np.stack([f0, s0, n0], axis=1)


def _octant_surface(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit-sphere points and triangles of the cube-sphere corner x, y >= 0, z <= 0, n x n
    quads on each of its three faces."""
    t = np.linspace(0.0, 1.0, n + 1)
    a, b = np.meshgrid(t, t, indexing="ij")
    one = np.ones_like(a)
    faces = [np.stack([one, a, -b], -1), np.stack([a, one, -b], -1), np.stack([a, b, -one], -1)]
    pts, quads = [], []
    for k, f in enumerate(faces):
        idx = k * (n + 1) ** 2 + np.arange((n + 1) ** 2).reshape(n + 1, n + 1)
        pts.append(f.reshape(-1, 3))
        quads.append(np.stack([idx[:-1, :-1], idx[1:, :-1], idx[1:, 1:], idx[:-1, 1:]], -1).reshape(-1, 4))
    pts = np.vstack(pts)
    pts /= np.linalg.norm(pts, axis=1, keepdims=True)
    # the faces share their seams: merge coincident points
    _, first, inv = np.unique(np.round(pts, 12), axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first)
    renum = np.empty_like(order)
    renum[order] = np.arange(len(order))
    pts = pts[first[order]]
    q = renum[inv.reshape(-1)][np.vstack(quads)]
    tris = np.vstack([q[:, [0, 1, 2]], q[:, [0, 2, 3]]])
    return pts, tris


def _octant(r_inner: float, r_outer: float, n: int, layers: int, order: int, name: str) -> Mesh:
    dirs, tris = _octant_surface(n)
    ns = len(dirs)
    radii = np.linspace(r_inner, r_outer, layers + 1)
    points = np.vstack([r * dirs for r in radii])
    cells = []
    for k in range(layers):
        lo, hi = k * ns, (k + 1) * ns
        for tri in np.sort(tris, axis=1):   # sorted-vertex prism split: conforming side faces
            a, b, c = tri
            cells += [[a + lo, b + lo, c + lo, a + hi], [b + lo, c + lo, a + hi, b + hi],
                      [c + lo, a + hi, b + hi, c + hi]]
    cells = np.array(cells, dtype=np.int64)
    x = points[cells]
    vol = np.einsum("ij,ij->i", np.cross(x[:, 1] - x[:, 0], x[:, 2] - x[:, 0]), x[:, 3] - x[:, 0])
    cells[vol < 0] = cells[vol < 0][:, [0, 2, 1, 3]]
    tmp = Mesh(points, cells, {}, name=name)
    if order == 2:
        edges = np.sort(cells[:, TET_EDGES].reshape(-1, 2), axis=1)
        uniq, inv = np.unique(edges, axis=0, return_inverse=True)
        p0, p1 = points[uniq[:, 0]], points[uniq[:, 1]]
        r0, r1 = np.linalg.norm(p0, axis=1), np.linalg.norm(p1, axis=1)
        d = p0 / r0[:, None] + p1 / r1[:, None]
        mids = d / np.linalg.norm(d, axis=1, keepdims=True) * (0.5 * (r0 + r1))[:, None]
        cells = np.hstack([cells, len(points) + inv.reshape(len(cells), 6)])
        points = np.vstack([points, mids])
        lookup = {tuple(e): len(tmp.points) + i for i, e in enumerate(uniq)}
    bf = boundary_facets(tmp)
    xb = points[bf]
    scale = 1e-9 * r_outer
    rb = np.linalg.norm(xb, axis=2)
    groups = {"XSYM": np.all(np.abs(xb[..., 0]) < scale, axis=1), "YSYM": np.all(np.abs(xb[..., 1]) < scale, axis=1),
              "BASE": np.all(np.abs(xb[..., 2]) < scale, axis=1),
              "ENDO": np.all(np.abs(rb - r_inner) < scale, axis=1), "EPI": np.all(np.abs(rb - r_outer) < scale, axis=1)}
    if not np.all(sum(g.astype(int) for g in groups.values()) == 1):
        raise MeshError(f"{name}: a boundary facet is on no marker or on two")
    facets = {}
    for k, sel in groups.items():
        f = bf[sel]
        if order == 2:
            m = [[lookup[tuple(sorted((t[i], t[j])))] for i, j in ((0, 1), (1, 2), (0, 2))] for t in f]
            f = np.hstack([f, np.array(m, dtype=np.int64).reshape(-1, 3)])
        facets[k] = f
    return Mesh(points, cells, facets, name=name).check()


def _ball_below(r: float, z: float | None) -> float:
    """Volume of the ball of radius r below the plane at height z (all of it if None)."""
    if z is None:
        return 4.0 / 3.0 * np.pi * r ** 3
    return float(np.pi * (r * r * z - z ** 3 / 3.0 + 2.0 * r ** 3 / 3.0))


def _mirror_z(half: Mesh, name: str) -> Mesh:
    """``half`` (cut by BASE in the plane z = 0) joined to its mirror image in that plane;
    the BASE nodes are shared, the BASE facets become interior."""
    n = half.n_points
    base = half.marker_nodes("BASE")
    if np.abs(half.points[base, 2]).max() > 1e-12 * np.abs(half.points).max():
        raise MeshError(f"{half.name}: BASE is not in the plane z = 0; cannot mirror it")
    image = np.full(n, -1, dtype=np.int64)
    others = np.setdiff1d(np.arange(n), base)
    image[others] = n + np.arange(len(others))
    image[base] = base
    points = np.vstack([half.points, half.points[others] * np.array([1.0, 1.0, -1.0])])
    swap_c, swap_f = _SWAP_TET[half.cells.shape[1]], _SWAP_TRI[half.facets["ENDO"].shape[1]]
    cells = np.vstack([half.cells, image[half.cells][:, swap_c]])
    facets = {k: np.vstack([half.facets[k], image[half.facets[k]][:, swap_f]]) for k in ("ENDO", "EPI")}
    return Mesh(points, cells, facets, name=name)
