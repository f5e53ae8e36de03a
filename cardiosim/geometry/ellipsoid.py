"""The truncated ellipsoid of Land et al. 2015 (problems 2 and 3): geometry, meshes, fibres.

Land S, Gurev V, Arens S, et al., Verification of cardiac mechanics software: benchmark
problems and solutions for testing active and passive material behaviour, Proc. R. Soc. A
471:20150641 (2015).

A family of prolate ellipsoids indexed by the transmural coordinate t in [0, 1],

    x = r_s(t) sin u cos v,  y = r_s(t) sin u sin v,  z = r_l(t) cos u,
    r_s(t) = r_s,endo + t (r_s,epi - r_s,endo),  r_l(t) likewise,

u in [-pi, u_base(t)] with r_l(t) cos u_base = z_base (the base plane), v in [-pi, pi]
(Land et al. 2015, problem 2: 7/17 mm endocardium, 10/20 mm epicardium, base at z = 5 mm).

Meshes (:meth:`TruncatedEllipsoid.mesh`) are structured: a triangulated disc (apex at the
centre, base ring at the rim, rings equally spaced in meridional arc length, 6k nodes on
ring k until the circumferential count is reached) extruded through ``level`` layers in t;
every prism is split into three tetrahedra by the global-index rule, which makes the split
conforming. Every node, P2 mid-nodes included, is placed on the exact surfaces by the
parametrisation, so the P2 mesh is curved (isoparametric) and the base stays planar.

The fibre field of problem 3 (:meth:`TruncatedEllipsoid.fibres`): t found per point from
the ellipsoid equation (as mechbench does), helix angle alpha(t) = 90 - 180 t degrees,
f = sin(alpha) e_u + cos(alpha) e_v, n = e_u x e_v, s = f x n (Land et al. 2015, problem 3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import MeshError, ParameterError
from .mesh import TET_EDGES, Mesh, boundary_facets


@dataclass(frozen=True)
class TruncatedEllipsoid:
    """Truncated prolate ellipsoidal shell [m]: short and long radii of the endo- and
    epicardium and the height of the base plane."""

    r_short_endo: float = 7e-3
    r_long_endo: float = 17e-3
    r_short_epi: float = 10e-3
    r_long_epi: float = 20e-3
    base_z: float = 5e-3
    #: a sloped base: the height of its epicardial rim [m] (``base_z`` is the endocardial
    #: rim's), the base then the straight line between the rims in every meridian plane (a
    #: conical band, as in Arostica et al. 2025); None: the plane z = base_z
    base_z_epi: float | None = None

    def __post_init__(self):
        for k in ("r_short_endo", "r_long_endo", "r_short_epi", "r_long_epi"):
            if not getattr(self, k) > 0:
                raise ParameterError(f"TruncatedEllipsoid: {k} must be > 0 m, got {getattr(self, k)}")
        for endo, epi in (("r_short_endo", "r_short_epi"), ("r_long_endo", "r_long_epi")):
            if not getattr(self, epi) > getattr(self, endo):
                raise ParameterError(f"TruncatedEllipsoid: the epicardium must enclose the endocardium: "
                                     f"{epi} = {getattr(self, epi)} m must exceed {endo} = "
                                     f"{getattr(self, endo)} m")
        if not (-self.r_long_endo < self.base_z < self.r_long_endo):
            raise ParameterError(f"TruncatedEllipsoid: base_z = {self.base_z} m must cut the endocardium "
                                 f"(|base_z| < r_long_endo = {self.r_long_endo} m)")
        if self.base_z_epi is not None and not (-self.r_long_epi < self.base_z_epi < self.r_long_epi):
            raise ParameterError(f"TruncatedEllipsoid: base_z_epi = {self.base_z_epi} m must cut the epicardium "
                                 f"(|base_z_epi| < r_long_epi = {self.r_long_epi} m)")

    @classmethod
    def land2015(cls) -> "TruncatedEllipsoid":
        """The benchmark's geometry (Land et al. 2015, problem 2)."""
        return cls()

    # -- parametrisation ----------------------------------------------------------------
    def radii(self, t):
        t = np.asarray(t, float)
        return (self.r_short_endo + t * (self.r_short_epi - self.r_short_endo),
                self.r_long_endo + t * (self.r_long_epi - self.r_long_endo))

    def u_base(self, t):
        """u of the base on the surface t: on the plane z = base_z, or (sloped base) on the
        line through the rims in the meridian plane, by bisection (the line crosses each
        surface of the family once)."""
        if self.base_z_epi is None:
            return -np.arccos(self.base_z / self.radii(t)[1])
        t = np.asarray(t, float)
        rs, rl = self.radii(t)
        (re, ze), (ro, zo) = self.rims()
        lo, hi = np.full(t.shape, -np.pi), np.zeros(t.shape)
        for _ in range(64):
            u = 0.5 * (lo + hi)
            side = (rl * np.cos(u) - ze) * (ro - re) - (-rs * np.sin(u) - re) * (zo - ze)
            below = side < 0.0
            lo = np.where(below, u, lo)
            hi = np.where(below, hi, u)
        return 0.5 * (lo + hi)

    def rims(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """(r, z) [m] of the base's endocardial and epicardial rims (r from the long axis)."""
        ze = self.base_z
        zo = self.base_z if self.base_z_epi is None else self.base_z_epi
        re = self.r_short_endo * float(np.sqrt(1.0 - (ze / self.r_long_endo) ** 2))
        ro = self.r_short_epi * float(np.sqrt(1.0 - (zo / self.r_long_epi) ** 2))
        return (re, ze), (ro, zo)

    def point(self, t, u, v) -> np.ndarray:
        rs, rl = self.radii(t)
        return np.stack([rs * np.sin(u) * np.cos(v), rs * np.sin(u) * np.sin(v), rl * np.cos(u)], axis=-1)

    def apex(self, surface: str = "ENDO") -> np.ndarray:
        t = {"ENDO": 0.0, "EPI": 1.0}[surface]
        return np.array([0.0, 0.0, -float(self.radii(t)[1])])

    def cavity_volume(self) -> float:
        """Exact undeformed cavity volume below the base plane [m^3] (2492.13 mm^3 for Land 2015)."""
        rs, rl, z = self.r_short_endo, self.r_long_endo, self.base_z

        def F(x):
            return x - x ** 3 / (3 * rl ** 2)

        return float(np.pi * rs ** 2 * (F(z) - F(-rl)))

    def wall_volume(self) -> float:
        """Exact undeformed wall volume [m^3] (3234.73 mm^3 for Land 2015): the epicardium's
        volume below the base less the cavity's (a sloped base with the epicardial rim below
        the endocardial one: the epicardium's volume below its rim, plus the frustum of the
        cone through the rims, less the cavity's)."""
        if self.base_z_epi is not None:
            (re, ze), (ro, zo) = self.rims()
            if zo > ze:
                raise ParameterError(f"TruncatedEllipsoid.wall_volume: a base whose epicardial rim (z = {zo} m) "
                                     f"lies above the endocardial one ({ze} m) has no closed form here")
            rs, rl = self.r_short_epi, self.r_long_epi
            below = np.pi * rs ** 2 * ((zo - zo ** 3 / (3 * rl ** 2)) - (-rl + rl / 3))
            # between the rims' planes the wall is bounded outside by the cone through the rims
            frustum = np.pi * (ze - zo) * (re * re + re * ro + ro * ro) / 3.0
            return float(below + frustum - self.cavity_volume())
        rs, rl, z = self.r_short_epi, self.r_long_epi, self.base_z
        outer = np.pi * rs ** 2 * ((z - z ** 3 / (3 * rl ** 2)) - (-rl + rl / 3))
        return float(outer - self.cavity_volume())

    def _u_of_s(self, t: np.ndarray, s: np.ndarray, n: int = 4001) -> np.ndarray:
        """u at the meridional arc-length fraction s in [0, 1] (0 apex, 1 base) of surface t."""
        out = np.empty_like(s)
        for tv in np.unique(t):
            k = t == tv
            rs, rl = self.radii(tv)
            uu = np.linspace(-np.pi, float(self.u_base(tv)), n)
            ds = np.sqrt((rs * np.cos(uu)) ** 2 + (rl * np.sin(uu)) ** 2)
            S = np.concatenate([[0.0], np.cumsum(0.5 * (ds[1:] + ds[:-1]) * np.diff(uu))])
            out[k] = np.interp(s[k] * S[-1], S, uu)
        return out

    def _map(self, t, rho, v) -> np.ndarray:
        return self.point(t, self._u_of_s(t, rho), v)

    # -- meshes ----------------------------------------------------------------------------
    def mesh(self, level: int = 1, order: int = 2, layers: int | None = None, apex_grading: float = 1.0) -> Mesh:
        """Tetrahedral mesh of refinement ``level`` (>= 1): ``layers`` (default ``level``)
        transmural layers, 5 level meridional rings, about square cells at mid-wall.
        ``apex_grading`` g > 1 makes the rings g times closer at the apex than at the base
        (the apex, where the fibre field of problem 3 turns, is the slowest to converge).

        Markers ENDO, EPI (facets oriented outward from the wall) and BASE.
        """
        level = int(level)
        if level < 1:
            raise MeshError(f"ellipsoid mesh: level must be >= 1, got {level}")
        nt = level if layers is None else int(layers)
        if nt < 1:
            raise MeshError(f"ellipsoid mesh: layers must be >= 1, got {layers}")
        n_m = 5 * level
        if not apex_grading >= 1.0:
            raise MeshError(f"ellipsoid mesh: apex_grading must be >= 1, got {apex_grading}")
        a = 2.0 / (1.0 + apex_grading)  # s(xi) = a xi + (1 - a) xi^2: s'(1) / s'(0) = grading
        # meridional arc length and base circumference at mid-wall set the circumferential count
        rs, rl = self.radii(0.5)
        uu = np.linspace(-np.pi, float(self.u_base(0.5)), 2001)
        ds = np.sqrt((rs * np.cos(uu)) ** 2 + (rl * np.sin(uu)) ** 2)
        L_m = float(np.sum(0.5 * (ds[1:] + ds[:-1]) * np.diff(uu)))
        circ = 2 * np.pi * rs * abs(np.sin(uu[-1]))
        n_c = max(6, 6 * int(round(circ / (L_m / n_m) / 6)))
        # disc nodes: (rho, v) per ring
        rho, ang, rings = [0.0], [0.0], [np.array([0])]
        for k in range(1, n_m + 1):
            nk = min(6 * k, n_c)
            idx = len(rho) + np.arange(nk)
            xi = k / n_m
            rho += [a * xi + (1 - a) * xi * xi] * nk
            ang += list(2 * np.pi * np.arange(nk) / nk)
            rings.append(idx)
        rho, ang = np.array(rho), np.array(ang)
        tris = _disc_triangles(rings, ang)
        ns = len(rho)
        # prisms -> 3 tets, global-index rule: the diagonal of the quad face over edge (a < b)
        # runs from a (lower layer) to b (upper layer), the same in both neighbouring prisms
        tri = np.sort(tris, axis=1)
        a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
        cells = []
        for layer in range(nt):
            o0, o1 = layer * ns, (layer + 1) * ns
            cells += [np.stack([a + o0, b + o0, c + o0, c + o1], 1),
                      np.stack([a + o0, b + o0, b + o1, c + o1], 1),
                      np.stack([a + o0, a + o1, b + o1, c + o1], 1)]
        cells = np.concatenate(cells)
        t_n = np.repeat(np.arange(nt + 1) / nt, ns)
        rho_n = np.tile(rho, nt + 1)
        v_n = np.tile(ang, nt + 1)
        pts = self._map(t_n, rho_n, v_n)
        m = Mesh(pts, cells, name="ellipsoid")
        flip = m.cell_volumes() < 0
        cells[flip] = cells[flip][:, [0, 2, 1, 3]]
        m = Mesh(pts, cells, name="ellipsoid")
        fac = boundary_facets(m)
        tol = 1e-12
        marks = {"ENDO": np.all(t_n[fac] < tol, axis=1), "EPI": np.all(t_n[fac] > 1 - tol, axis=1),
                 "BASE": np.all(rho_n[fac] > 1 - tol, axis=1)}
        if sum(int(v.sum()) for v in marks.values()) != len(fac):
            raise MeshError("ellipsoid mesh: a boundary facet is neither ENDO, EPI nor BASE")
        name = (f"land-ellipsoid-L{level}" + (f"-T{nt}" if layers is not None else "")
                + (f"-G{apex_grading:g}" if apex_grading != 1.0 else ""))
        m = Mesh(pts, cells, {k: fac[v] for k, v in marks.items()}, name=name)
        if order == 1:
            return m.check()
        if order != 2:
            raise MeshError(f"ellipsoid mesh: order must be 1 or 2, got {order}")
        q = m.to_quadratic()
        # mid-nodes onto the exact surfaces: parameter midpoint (t, rho averaged; v by the
        # chord direction in the disc, which also handles the apex and the 2 pi seam)
        ends = np.zeros((q.n_points - m.n_points, 2), dtype=np.int64)
        ends[q.cells[:, 4:].ravel() - m.n_points] = q.cells[:, TET_EDGES].reshape(-1, 2)
        i, j = ends[:, 0], ends[:, 1]
        xi = 0.5 * (rho_n[i] * np.cos(v_n[i]) + rho_n[j] * np.cos(v_n[j]))
        eta = 0.5 * (rho_n[i] * np.sin(v_n[i]) + rho_n[j] * np.sin(v_n[j]))
        mids = self._map(0.5 * (t_n[i] + t_n[j]), 0.5 * (rho_n[i] + rho_n[j]), np.arctan2(eta, xi))
        pts2 = np.vstack([pts, mids])
        return Mesh(pts2, q.cells, q.facets, name=name + "-P2").check()

    # -- fibres ---------------------------------------------------------------------------
    def transmural(self, points) -> np.ndarray:
        """t in [0, 1] of each point (n, 3) [m]: root of the ellipsoid equation of the family
        (bisection, 60 halvings: exact to round-off), clipped to the wall."""
        p = np.asarray(points, float)
        r2, z2 = p[:, 0] ** 2 + p[:, 1] ** 2, p[:, 2] ** 2
        lo, hi = np.full(len(p), -0.5), np.full(len(p), 1.5)
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            rs, rl = self.radii(mid)
            inside = r2 / rs ** 2 + z2 / rl ** 2 < 1.0  # inside the surface mid: t is smaller
            hi = np.where(inside, mid, hi)
            lo = np.where(inside, lo, mid)
        return np.clip(0.5 * (lo + hi), 0.0, 1.0)

    def fibres(self, points, helix_endo_deg: float = 90.0, helix_epi_deg: float = -90.0) -> np.ndarray:
        """Fibre frames (n, 3, 3), rows f0, s0, n0, at ``points`` (n, 3) [m]: the helix rule
        of Land et al. 2015, problem 3.

        Undefined on the long axis (x = y = 0), where e_v vanishes: such points raise
        :class:`~cardiosim.errors.ParameterError`."""
        p = np.asarray(points, float)
        t = self.transmural(p)
        rs, rl = self.radii(t)
        u = -np.arccos(np.clip(p[:, 2] / rl, -1.0, 1.0))
        v = np.arctan2(-p[:, 1], -p[:, 0])  # sin u <= 0 in the parametrisation
        on_axis = np.flatnonzero(np.hypot(p[:, 0], p[:, 1]) < 1e-9 * rl)
        if on_axis.size:
            raise ParameterError(f"ellipsoid fibres are undefined on the long axis (x = y = 0): points[{on_axis[0]}] "
                                 f"= {p[on_axis[0]].tolist()} m ({on_axis.size} such point(s))")
        eu = np.stack([rs * np.cos(u) * np.cos(v), rs * np.cos(u) * np.sin(v), -rl * np.sin(u)], axis=1)
        ev = np.stack([-rs * np.sin(u) * np.sin(v), rs * np.sin(u) * np.cos(v), np.zeros_like(u)], axis=1)
        eu /= np.linalg.norm(eu, axis=1, keepdims=True)
        ev /= np.linalg.norm(ev, axis=1, keepdims=True)
        alpha = np.deg2rad(helix_endo_deg + t * (helix_epi_deg - helix_endo_deg))
        f = np.sin(alpha)[:, None] * eu + np.cos(alpha)[:, None] * ev
        n = np.cross(eu, ev)
        n /= np.linalg.norm(n, axis=1, keepdims=True)
        s = np.cross(f, n)
        return np.stack([f, s, n], axis=1)


def _disc_triangles(rings, ang) -> np.ndarray:
    """Triangles between consecutive rings of a disc, zipped by angle."""
    tris = []
    for lower, upper in zip(rings[:-1], rings[1:]):
        n1, n2 = len(lower), len(upper)
        if n1 == 1:
            for j in range(n2):
                tris.append((lower[0], upper[j], upper[(j + 1) % n2]))
            continue
        i = j = 0
        while i < n1 or j < n2:
            a_next = 2 * np.pi * (i + 1) / n1
            b_next = 2 * np.pi * (j + 1) / n2
            if j >= n2 or (i < n1 and a_next <= b_next):
                tris.append((lower[i % n1], lower[(i + 1) % n1], upper[j % n2]))
                i += 1
            else:
                tris.append((lower[i % n1], upper[(j + 1) % n2], upper[j % n2]))
                j += 1
    return np.array(tris, dtype=np.int64)
