"""The elastodynamics benchmark's ventricle mesh (Arostica et al. 2025), read from the toolkit's file.

The markers are named by the surface their vertices lie on; the cavity the endocardium
closes with the plane of its rim against the analytic volume of the truncated ellipsoid.
"""

import math

import numpy as np
import pytest
from conftest import data_dir

from cardiosim.errors import MeshError
from cardiosim.geometry.elastodynamics import (
    BASE_RIM_X,
    ENDO_RADII,
    EPI_RADII,
    P0,
    P1,
    read_benchmark_mesh,
    surface_residual,
)

MESH = data_dir() / "cardiac-elastodynamics-2025" / "mesh" / "ellipsoid_0.005.xdmf"
needs_mesh = pytest.mark.skipif(not MESH.with_suffix(".h5").exists(),
                                reason=f"the benchmark mesh is not under {data_dir()}")


@pytest.fixture(scope="module")
def mesh():
    return read_benchmark_mesh(MESH)


@needs_mesh
def test_the_toolkit_mesh_and_its_markers(mesh):
    assert (mesh.n_points, mesh.n_cells) == (4577, 17625)           # as the data README states
    assert {k: len(v) for k, v in mesh.facets.items()} == {"ENDO": 2500, "EPI": 3474, "BASE": 256}
    assert np.all(mesh.cell_volumes() > 0)     # half the file's cells come negatively oriented
    for name, radii in (("ENDO", ENDO_RADII), ("EPI", EPI_RADII)):
        assert np.abs(surface_residual(mesh.points[mesh.marker_nodes(name)], radii)).max() < 1e-3
    xb = mesh.points[mesh.marker_nodes("BASE"), 0]
    assert xb.min() == pytest.approx(BASE_RIM_X[1], abs=1e-6) and xb.max() == pytest.approx(BASE_RIM_X[0], abs=1e-6)
    assert mesh.points[:, 0].min() == pytest.approx(-EPI_RADII[1], abs=1e-9)   # the apex at -97 mm
    # the tracked points lie in the wall: outside the endocardium, inside the epicardium
    for p in (P0, P1):
        q = np.array([p])
        assert surface_residual(q, ENDO_RADII)[0] > 0 > surface_residual(q, EPI_RADII)[0]


@needs_mesh
def test_the_cavity_volume_is_that_of_the_truncated_ellipsoid(mesh):
    b, a = ENDO_RADII
    h = BASE_RIM_X[0]
    exact = math.pi * b * b * ((h - h ** 3 / (3 * a * a)) - (-a + a ** 3 / (3 * a * a)))   # 168.3 mL
    tri = mesh.points[mesh.facets["ENDO"]]
    n = 0.5 * np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])      # area-weighted normals
    c = tri.mean(axis=1)
    grad = np.column_stack([c[:, 0] / a ** 2, c[:, 1] / b ** 2, c[:, 2] / b ** 2])
    # every facet points out of the wall, into the cavity: the file's own orientation is mixed
    assert np.all(np.einsum("ij,ij->i", n, grad) < 0)
    n = -n                                                                # outward of the cavity
    vol = float(np.sum((c[:, 0] - h) * n[:, 0]))    # flux of (x - h, 0, 0): nothing through the lid
    assert exact == pytest.approx(168.29e-6, rel=1e-3)
    # the facets are chords of the surface: the polyhedron is a little smaller
    assert -0.02 < vol / exact - 1 < 0.0


def test_bad_benchmark_mesh_files_are_named(tmp_path):
    with pytest.raises(MeshError, match="no such benchmark mesh file"):
        read_benchmark_mesh(tmp_path / "nope.xdmf")
    import h5py

    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["Mesh/mesh/geometry"] = np.zeros((4, 3))
    with pytest.raises(MeshError, match=r"other.h5: not a legacy FEniCS mesh with a facet function: missing "
                                        r"Mesh/mesh/topology"):
        read_benchmark_mesh(tmp_path / "other.xdmf")


@needs_mesh
def test_every_marker_points_out_of_the_wall(mesh):
    from cardiosim.fem import arostica2025 as A

    X = mesh.points
    centroid = X[mesh.cells[:, :4]].mean(axis=1)
    for name in ("ENDO", "EPI", "BASE"):
        f = mesh.facets[name]
        t = X[f]
        n = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
        # the cell behind each facet lies on the side opposite its normal
        faces = {tuple(sorted(c[[i, j, k]])): e for e, c in enumerate(mesh.cells[:, :4])
                 for i, j, k in ((0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3))}
        behind = np.array([faces[tuple(sorted(r))] for r in f])
        assert np.all(np.einsum("ij,ij->i", n, t.mean(axis=1) - centroid[behind]) > 0), name
    # the teams' volume at t = 0 (the Simula code's curve: 167.527 mL)
    assert A.y_volume(mesh, np.zeros(mesh.n_points * 3)) == pytest.approx(167.527e-6, rel=1e-4)


@needs_mesh
def test_the_benchmark_fibres_turn_from_minus_to_plus_sixty_degrees_across_the_wall(mesh):
    from cardiosim.geometry.elastodynamics import benchmark_fibres, transmural_depth

    t = transmural_depth(mesh)
    endo, epi = mesh.marker_nodes("ENDO"), mesh.marker_nodes("EPI")
    assert np.all(t[endo] == 0.0) and np.all(t[epi] == 1.0)
    assert t.min() >= -1e-12 and t.max() <= 1 + 1e-12          # maximum principle
    R = benchmark_fibres(mesh)
    assert np.abs(np.einsum("nij,nkj->nik", R, R) - np.eye(3)).max() < 1e-12      # orthonormal rows
    X = mesh.points
    far = np.hypot(X[:, 1], X[:, 2]) > 5e-3                    # away from the apex, where e_theta is defined
    circ = np.column_stack([np.zeros(len(X)), -X[:, 2], X[:, 1]])
    circ /= np.maximum(np.linalg.norm(circ, axis=1, keepdims=True), 1e-30)
    for nodes, angle in ((endo, -60.0), (epi, 60.0)):
        nodes = nodes[far[nodes]]
        f = R[nodes, 0]
        # the fibre lies in the wall (normal to the transmural n0) at angle alpha to the circumference
        cosang = np.abs(np.einsum("ni,ni->n", f, circ[nodes]))
        assert np.abs(np.degrees(np.arccos(np.clip(cosang, -1, 1))) - abs(angle)).max() < 0.5
        # the handedness, with e_circ = e_x x (radial): f_x (f . e_circ) < 0 at the endocardium, > 0 at the epicardium
        assert np.all(np.sign(f[:, 0] * np.einsum("ni,ni->n", f, circ[nodes])) == np.sign(-angle))


def _p2_volume(m):
    from cardiosim.fem.space import FunctionSpace

    return float(FunctionSpace(m).wdet.sum())


def test_the_generated_mesh_has_the_benchmark_geometry_and_its_sloped_base():
    """cardiosim's own mesh of the benchmark ventricle: nodes on the two ellipsoids, the base
    on the straight line through the rims in every meridian plane (the toolkit mesh's base
    lies on it to 6e-15 mm), the apex at x = -97 mm, and the curved P2 wall volume converging
    to the closed form (177.84 mL: epicardium below its rim, plus the frustum of the cone
    through the rims, less the cavity) at third order or better."""
    from cardiosim.geometry.elastodynamics import benchmark_ellipsoid, generate_benchmark_mesh

    g = benchmark_ellipsoid()
    (re, ze), (ro, zo) = g.rims()
    assert (ze, zo) == BASE_RIM_X
    assert g.wall_volume() == pytest.approx(177.8424e-6, rel=1e-6)
    errs = []
    for level in (2, 4):
        m = generate_benchmark_mesh(level, order=2)
        assert set(m.facets) == {"ENDO", "EPI", "BASE"}
        for name, radii in (("ENDO", ENDO_RADII), ("EPI", EPI_RADII)):
            assert np.abs(surface_residual(m.points[m.marker_nodes(name)], radii)).max() < 1e-14
        pb = m.points[m.marker_nodes("BASE")]
        d = np.array([ro - re, zo - ze]) / math.hypot(ro - re, zo - ze)
        off = (np.hypot(pb[:, 1], pb[:, 2]) - re) * (-d[1]) + (pb[:, 0] - ze) * d[0]
        assert np.abs(off).max() < 1e-15
        assert pb[:, 0].max() == pytest.approx(ze, abs=1e-15) and pb[:, 0].min() == pytest.approx(zo, abs=1e-15)
        assert m.points[:, 0].min() == pytest.approx(-EPI_RADII[1], abs=1e-15)
        assert np.all(m.cell_volumes() > 0)
        errs.append(abs(_p2_volume(m) / g.wall_volume() - 1.0))
    print("P2 wall volume errors", errs)
    assert errs[1] < 1e-3 and errs[0] / errs[1] > 2 ** 3


@needs_mesh
def test_the_generated_mesh_takes_the_benchmark_fibres_like_the_toolkit_mesh(mesh):
    """The rule-based fibres take the generated mesh as they take the toolkit's: the
    transmural depth 0 on ENDO and 1 on EPI, orthonormal frames everywhere."""
    from cardiosim.geometry.elastodynamics import benchmark_fibres, generate_benchmark_mesh, transmural_depth

    m = generate_benchmark_mesh(3, order=1)
    t = transmural_depth(m)
    assert np.abs(t[m.marker_nodes("ENDO")]).max() < 1e-6 and np.abs(t[m.marker_nodes("EPI")] - 1).max() < 1e-6
    F = benchmark_fibres(m)
    G = np.einsum("nij,nkj->nik", F, F)
    assert np.abs(G - np.eye(3)).max() < 1e-10
