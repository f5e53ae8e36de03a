"""Tetrahedral meshes: an immutable type, generators, boundary markers, fibre fields, I/O.

A :class:`Mesh` holds points [m], cells (linear or quadratic tetrahedra), named boundary
facet sets (``ENDO``, ``EPI``, ``BASE``, ``X0``, ...) and optional fibre/sheet/normal
fields stated per cell or per node. Arrays are read-only once the mesh is built. Reading
and writing go through meshio (gmsh .msh, VTU, XDMF).

Node ordering of the quadratic tetrahedron (``tetra10``) follows VTK/meshio: vertices
0-3, then edge mid-nodes on (0,1), (1,2), (0,2), (0,3), (1,3), (2,3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np

from ..errors import MeshError

#: local vertex pairs of the six edges, in the tetra10 mid-node order
TET_EDGES = np.array([[0, 1], [1, 2], [0, 2], [0, 3], [1, 3], [2, 3]])
#: local vertex triples of the four faces (outward for a positively oriented tet)
TET_FACES = np.array([[1, 2, 3], [0, 3, 2], [0, 1, 3], [0, 2, 1]])


def _frozen(a, dtype):
    a = np.array(a, dtype=dtype, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class Mesh:
    """An immutable tetrahedral mesh.

    Parameters
    ----------
    points : (n, 3) float
        Node coordinates [m].
    cells : (m, 4) or (m, 10) int
        Linear (tetra) or quadratic (tetra10) tetrahedra.
    facets : mapping name -> (k, 3) or (k, 6) int
        Boundary facets by marker, vertex nodes first.
    fibres : (m, 3, 3) or (n, 3, 3) float, optional
        Rows f0, s0, n0 per cell or per node (``fibres_at`` says which).
    """

    points: np.ndarray
    cells: np.ndarray
    facets: Mapping[str, np.ndarray] = field(default_factory=dict)
    fibres: np.ndarray | None = None
    fibres_at: str = "cell"
    name: str = "mesh"

    def __post_init__(self):
        pts = np.asarray(self.points, dtype=float)
        if pts.ndim != 2 or pts.shape[1] != 3 or not np.all(np.isfinite(pts)):
            raise MeshError(f"{self.name}: points must be a finite (n, 3) array, got shape {pts.shape}")
        cells = np.asarray(self.cells)
        if cells.ndim != 2 or cells.shape[1] not in (4, 10):
            raise MeshError(f"{self.name}: cells must be (m, 4) or (m, 10), got shape {cells.shape}")
        if cells.size and (cells.min() < 0 or cells.max() >= len(pts)):
            raise MeshError(f"{self.name}: cell node index out of range 0..{len(pts) - 1}")
        object.__setattr__(self, "points", _frozen(pts, float))
        object.__setattr__(self, "cells", _frozen(cells, np.int64))
        fac = {}
        for k, v in dict(self.facets).items():
            v = np.asarray(v, dtype=np.int64).reshape(-1, 3 if cells.shape[1] == 4 else 6)
            if v.size and (v.min() < 0 or v.max() >= len(pts)):
                raise MeshError(f"{self.name}: facet marker {k!r} has a node index out of range")
            fac[str(k)] = _frozen(v, np.int64)
        object.__setattr__(self, "facets", fac)
        if self.fibres is not None:
            f = np.asarray(self.fibres, dtype=float)
            n_expected = len(cells) if self.fibres_at == "cell" else len(pts)
            if self.fibres_at not in ("cell", "node") or f.shape != (n_expected, 3, 3):
                raise MeshError(f"{self.name}: fibres at {self.fibres_at!r} must be ({n_expected}, 3, 3), "
                                f"got {f.shape}")
            object.__setattr__(self, "fibres", _frozen(f, float))

    # -- basic properties ------------------------------------------------------------
    @property
    def order(self) -> int:
        return 1 if self.cells.shape[1] == 4 else 2

    @property
    def n_points(self) -> int:
        return len(self.points)

    @property
    def n_cells(self) -> int:
        return len(self.cells)

    def vertex_cells(self) -> np.ndarray:
        """The four vertex nodes of each cell, (m, 4)."""
        return self.cells[:, :4]

    def cell_volumes(self) -> np.ndarray:
        """Signed volumes of the straight-sided tetrahedra [m^3]."""
        x = self.points[self.cells[:, :4]]
        d = x[:, 1:] - x[:, :1]
        return np.einsum("ij,ij->i", d[:, 0], np.cross(d[:, 1], d[:, 2])) / 6.0

    def volume(self) -> float:
        """Total volume of the straight-sided tetrahedra [m^3]."""
        return float(self.cell_volumes().sum())

    def require(self, *markers: str) -> None:
        """Raise :class:`MeshError` unless every marker names a non-empty facet set."""
        missing = [m for m in markers if m not in self.facets or len(self.facets[m]) == 0]
        if missing:
            raise MeshError(f"{self.name}: missing boundary marker(s) {missing}; the mesh has "
                            f"{sorted(self.facets) or 'none'}")

    def marker_nodes(self, marker: str) -> np.ndarray:
        """Sorted unique nodes (P2 mid-nodes included) of the facets of ``marker``."""
        self.require(marker)
        return np.unique(self.facets[marker])

    # -- quality -----------------------------------------------------------------------
    def quality(self) -> np.ndarray:
        """Radius ratio 3 r_in / r_circ of each (straight) tetrahedron: 1 regular, 0 flat."""
        x = self.points[self.cells[:, :4]]
        vol = np.abs(self.cell_volumes())
        areas = np.zeros(len(x))
        for f in TET_FACES:
            a, b, c = x[:, f[0]], x[:, f[1]], x[:, f[2]]
            areas += 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)
        r_in = 3.0 * vol / np.maximum(areas, 1e-300)
        # circumradius from the edge lengths (formula via products of opposite edges)
        def L(i, j):
            return np.linalg.norm(x[:, i] - x[:, j], axis=1)
        a1, a2, b1, b2, c1, c2 = L(0, 1), L(2, 3), L(0, 2), L(1, 3), L(0, 3), L(1, 2)
        p, q, r = a1 * a2, b1 * b2, c1 * c2
        s = (p + q + r) * (-p + q + r) * (p - q + r) * (p + q - r)
        r_circ = np.sqrt(np.maximum(s, 0.0)) / np.maximum(24.0 * vol, 1e-300)
        return np.where(vol > 0, 3.0 * r_in / np.maximum(r_circ, 1e-300), 0.0)

    def check(self, min_quality: float = 0.02, markers: tuple[str, ...] = ()) -> "Mesh":
        """Raise :class:`MeshError` for inverted, degenerate or badly shaped cells or missing markers."""
        vol = self.cell_volumes()
        scale = np.abs(vol).max() if len(vol) else 0.0
        bad = np.flatnonzero(vol < 0)
        if bad.size:
            raise MeshError(f"{self.name}: {bad.size} inverted cell(s) (negative volume), first: cell {bad[0]} "
                            f"with nodes {self.cells[bad[0], :4].tolist()}")
        bad = np.flatnonzero(vol <= 1e-12 * scale)
        if bad.size:
            raise MeshError(f"{self.name}: {bad.size} degenerate cell(s) (zero volume), first: cell {bad[0]}")
        q = self.quality()
        bad = np.flatnonzero(q < min_quality)
        if bad.size:
            raise MeshError(f"{self.name}: {bad.size} badly shaped cell(s) (radius ratio < {min_quality}), "
                            f"worst: cell {int(np.argmin(q))} with ratio {q.min():.3g}")
        if self.order == 2:
            # a curved (isoparametric) mid-node sits a sagitta off its chord; a wrong node
            # order puts it a whole edge length away
            x = self.points
            a, b = x[self.cells[:, TET_EDGES[:, 0]]], x[self.cells[:, TET_EDGES[:, 1]]]
            off = np.linalg.norm(x[self.cells[:, 4:]] - 0.5 * (a + b), axis=2)
            ratio = off / np.maximum(np.linalg.norm(b - a, axis=2), 1e-300)
            if ratio.max() > 0.25:
                e = int(np.argmax(ratio.max(axis=1)))
                raise MeshError(f"{self.name}: edge mid-nodes far from their edges (cell {e}: "
                                f"{ratio.max():.3g} of the edge length): node order is not tetra10")
        self.require(*markers)
        return self

    # -- conversions ---------------------------------------------------------------------
    def to_quadratic(self) -> "Mesh":
        """P2 (tetra10) mesh with straight edges: a mid-node per unique edge."""
        if self.order == 2:
            return self
        c = self.cells
        edges = np.sort(c[:, TET_EDGES].reshape(-1, 2), axis=1)
        uniq, inv = np.unique(edges, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        mids = 0.5 * (self.points[uniq[:, 0]] + self.points[uniq[:, 1]])
        points = np.vstack([self.points, mids])
        cells10 = np.hstack([c, self.n_points + inv.reshape(len(c), 6)])
        lookup = {tuple(e): self.n_points + i for i, e in enumerate(uniq)}
        facets = {}
        for k, f in self.facets.items():
            m = [[lookup[tuple(sorted((t[a], t[b])))] for a, b in ((0, 1), (1, 2), (0, 2))] for t in f]
            facets[k] = np.hstack([f, np.array(m, dtype=np.int64).reshape(-1, 3)])
        fibres = self.fibres
        if fibres is not None and self.fibres_at == "node":
            fibres = np.concatenate([fibres, 0.5 * (fibres[uniq[:, 0]] + fibres[uniq[:, 1]])])
        return Mesh(points, cells10, facets, fibres, self.fibres_at, self.name + "-P2")

    def with_fibres(self, fibres: np.ndarray, at: str = "cell") -> "Mesh":
        return Mesh(self.points, self.cells, self.facets, fibres, at, self.name)

    # -- I/O -----------------------------------------------------------------------------
    def to_meshio(self, gmsh: bool = False):
        """meshio.Mesh: cell block first, then one facet block per marker.

        Marker names travel as gmsh physical names (``gmsh=True``) or, for VTU/XDMF, as
        one 0/1 cell-data array ``is_<NAME>`` per marker next to the integer ``marker``.
        """
        import meshio

        ct, ft = ("tetra", "triangle") if self.order == 1 else ("tetra10", "triangle6")
        blocks = [(ct, self.cells)]
        ids = [np.zeros(self.n_cells, dtype=np.int64)]
        names = sorted(self.facets)
        for i, k in enumerate(names, start=1):
            blocks.append((ft, self.facets[k]))
            ids.append(np.full(len(self.facets[k]), i, dtype=np.int64))
        if gmsh:
            m = meshio.Mesh(self.points, blocks, cell_data={"gmsh:physical": ids, "gmsh:geometrical": ids})
            m.field_data = {k: np.array([i, 2]) for i, k in enumerate(names, start=1)}
            return m
        cell_data = {"marker": ids}
        for i, k in enumerate(names, start=1):
            cell_data[f"is_{k}"] = [(v == i).astype(np.int64) for v in ids]
        if self.fibres is not None and self.fibres_at == "cell":
            for j, nm in enumerate(("fibre", "sheet", "normal")):
                cell_data[nm] = [self.fibres[:, j]] + [np.zeros((len(self.facets[k]), 3)) for k in names]
        point_data = {}
        if self.fibres is not None and self.fibres_at == "node":
            for j, nm in enumerate(("fibre", "sheet", "normal")):
                point_data[nm] = self.fibres[:, j]
        return meshio.Mesh(self.points, blocks, cell_data=cell_data, point_data=point_data)

    def write(self, path) -> Path:
        """Write through meshio (format from the suffix: .vtu, .xdmf, .msh), atomically."""
        from ..io import atomic_write

        path = Path(path)
        if path.suffix == ".msh":
            return atomic_write(path, lambda p: self.to_meshio(gmsh=True).write(p, file_format="gmsh22",
                                                                                binary=False))
        if path.suffix in (".xdmf", ".xmf"):
            # heavy data inline (XML) so the file is one self-contained, atomically renamed file
            import meshio.xdmf
            return atomic_write(path, lambda p: meshio.xdmf.write(p, self.to_meshio(), data_format="XML"))
        return atomic_write(path, lambda p: self.to_meshio().write(p, file_format=_fmt(path)))

    @classmethod
    def read(cls, path, name: str | None = None) -> "Mesh":
        """Read a mesh written by :meth:`write` or by gmsh (physical groups become markers)."""
        import meshio

        path = Path(path)
        if not path.exists():
            raise MeshError(f"{path}: no such mesh file")
        try:
            m = meshio.read(path)
        except (Exception, SystemExit) as exc:  # meshio exits on some unreadable files
            raise MeshError(f"{path}: cannot read mesh ({type(exc).__name__}: {exc})") from None
        kinds = {c.type: i for i, c in enumerate(m.cells)}
        ct = "tetra10" if "tetra10" in kinds else "tetra"
        if ct not in kinds:
            raise MeshError(f"{path}: no tetrahedra (cell blocks: {', '.join(kinds)})")
        ft = "triangle6" if ct == "tetra10" else "triangle"
        cells = m.cells[kinds[ct]].data
        names = {int(v[0]): k for k, v in (m.field_data or {}).items()}
        ids_key = "gmsh:physical" if "gmsh:physical" in m.cell_data else ("marker" if "marker" in m.cell_data else None)
        flags = [k for k in m.cell_data if k.startswith("is_")]
        facets = {}
        for i, block in enumerate(m.cells):
            if block.type != ft:
                continue
            if flags:
                for k in flags:
                    sel = np.asarray(m.cell_data[k][i]).reshape(-1) == 1
                    if sel.any():
                        facets.setdefault(k[3:], []).append(block.data[sel])
                continue
            ids = np.asarray(m.cell_data[ids_key][i]).reshape(-1) if ids_key else np.zeros(len(block.data), int)
            for v in np.unique(ids):
                facets.setdefault(names.get(int(v), f"marker{int(v)}"), []).append(block.data[ids == v])
        facets = {k: np.vstack(v) for k, v in facets.items()}
        fibres, at = None, "cell"
        if "fibre" in m.point_data:
            fibres = np.stack([m.point_data[k] for k in ("fibre", "sheet", "normal")], axis=1)
            at = "node"
        elif "fibre" in m.cell_data:
            fibres = np.stack([m.cell_data[k][kinds[ct]] for k in ("fibre", "sheet", "normal")], axis=1)
        return cls(m.points[:, :3], cells, facets, fibres, at, name or path.stem)


def _fmt(path: Path) -> str:
    return {".vtu": "vtu", ".xdmf": "xdmf", ".xmf": "xdmf"}.get(path.suffix, path.suffix.lstrip("."))


# ---------------------------------------------------------------------------------------
# generators
# ---------------------------------------------------------------------------------------
#: six tetrahedra of a hexahedron sharing its main diagonal 0-6 (Kuhn split: conforming
#: between neighbouring hexes since every hex is split the same way)
_KUHN = np.array([[0, 1, 2, 6], [0, 2, 3, 6], [0, 3, 7, 6], [0, 7, 4, 6], [0, 4, 5, 6], [0, 5, 1, 6]])


def box(nx: int, ny: int, nz: int, size: tuple[float, float, float] = (10e-3, 1e-3, 1e-3), order: int = 1,
        name: str = "box") -> Mesh:
    """Structured tetrahedral box [0, Lx] x [0, Ly] x [0, Lz] [m], 6 tets per hexahedron.

    Markers X0, X1, Y0, Y1, Z0, Z1 on the six faces. The Land et al. 2015 beam (problem 1)
    is ``box(n * 10, n, n)`` with the default size (10 x 1 x 1 mm).
    """
    for v, nm in ((nx, "nx"), (ny, "ny"), (nz, "nz")):
        if int(v) < 1:
            raise MeshError(f"box: {nm} must be >= 1, got {v}")
    Lx, Ly, Lz = size
    xs, ys, zs = (np.linspace(0.0, L, n + 1) for L, n in ((Lx, nx), (Ly, ny), (Lz, nz)))
    X, Y, Z = np.meshgrid(xs, ys, zs, indexing="ij")
    points = np.column_stack([X.ravel(), Y.ravel(), Z.ravel()])

    def nid(i, j, k):
        return (i * (ny + 1) + j) * (nz + 1) + k

    i, j, k = (a.ravel() for a in np.meshgrid(np.arange(nx), np.arange(ny), np.arange(nz), indexing="ij"))
    hexes = np.stack([nid(i, j, k), nid(i + 1, j, k), nid(i + 1, j + 1, k), nid(i, j + 1, k),
                      nid(i, j, k + 1), nid(i + 1, j, k + 1), nid(i + 1, j + 1, k + 1), nid(i, j + 1, k + 1)], axis=1)
    cells = hexes[:, _KUHN].reshape(-1, 4)
    vol = Mesh(points, cells).cell_volumes()
    flip = vol < 0
    cells[flip] = cells[flip][:, [0, 2, 1, 3]]
    mesh = Mesh(points, cells, {}, name=name)
    facets = boundary_facets(mesh)
    x = points[facets].mean(axis=1)
    tol = 1e-9 * max(size)
    marks = {"X0": np.abs(x[:, 0]) < tol, "X1": np.abs(x[:, 0] - Lx) < tol,
             "Y0": np.abs(x[:, 1]) < tol, "Y1": np.abs(x[:, 1] - Ly) < tol,
             "Z0": np.abs(x[:, 2]) < tol, "Z1": np.abs(x[:, 2] - Lz) < tol}
    mesh = Mesh(points, cells, {k: facets[v] for k, v in marks.items()}, name=name)
    return mesh.to_quadratic() if order == 2 else mesh


def land_beam(level: int = 1, order: int = 1) -> Mesh:
    """Land et al. 2015 problem 1 beam, 10 x 1 x 1 mm, ``level`` hexahedra across the section."""
    return box(10 * level, level, level, order=order, name=f"land-beam-L{level}")


def boundary_facets(mesh: Mesh) -> np.ndarray:
    """Outward-oriented boundary triangles (vertex nodes) of a tetrahedral mesh."""
    c = mesh.cells[:, :4]
    faces = c[:, TET_FACES].reshape(-1, 3)
    key = np.sort(faces, axis=1)
    _, idx, counts = np.unique(key, axis=0, return_index=True, return_counts=True)
    return faces[np.sort(idx[counts == 1])]
