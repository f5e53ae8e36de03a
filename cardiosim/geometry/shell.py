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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import MeshError, ParameterError
from .ellipsoid import TruncatedEllipsoid
from .mesh import Mesh

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
