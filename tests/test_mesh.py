"""Meshes: generators, P2 conversion, quality checks with clear errors, meshio round trips."""

import numpy as np
import pytest

from cardiosim.geometry import Mesh, MeshError, boundary_facets, box, land_beam


def test_land_beam_geometry_and_markers():
    m = land_beam(2)
    assert m.volume() == pytest.approx(10e-9, rel=1e-12)  # 10 x 1 x 1 mm
    assert {k: len(v) for k, v in m.facets.items()} == {"X0": 8, "X1": 8, "Y0": 80, "Y1": 80, "Z0": 80, "Z1": 80}
    m.check(markers=("X0", "Z0"))
    # boundary triangles point outwards: the divergence theorem gives the volume back
    x = m.points[boundary_facets(m)]
    assert np.einsum("ij,ij->i", x[:, 0], np.cross(x[:, 1], x[:, 2])).sum() / 6 == pytest.approx(m.volume())


def test_quadratic_mesh_has_edge_midpoints():
    m = land_beam(1).to_quadratic()
    assert m.cells.shape[1] == 10 and m.facets["Z0"].shape[1] == 6
    e = np.array([[0, 1], [1, 2], [0, 2], [0, 3], [1, 3], [2, 3]])
    mid = 0.5 * (m.points[m.cells[:, e[:, 0]]] + m.points[m.cells[:, e[:, 1]]])
    np.testing.assert_allclose(m.points[m.cells[:, 4:]], mid, atol=1e-15)
    # one mid-node per unique edge: nodes = vertices + edges
    p1 = land_beam(1)
    assert m.n_points == p1.n_points + len(np.unique(np.sort(p1.cells[:, e].reshape(-1, 2), 1), axis=0))


def test_inverted_degenerate_badly_shaped_and_missing_marker_errors():
    m = box(2, 2, 2, size=(1.0, 1.0, 1.0))
    inv = m.cells.copy()
    inv[3] = inv[3][[1, 0, 2, 3]]
    with pytest.raises(MeshError, match="inverted cell.*cell 3"):
        Mesh(m.points, inv).check()
    flat = m.points.copy()
    c = m.cells[5]
    flat[c[3]] = flat[c[0]] + 0.5 * (flat[c[1]] - flat[c[0]]) + 0.5 * (flat[c[2]] - flat[c[0]])
    with pytest.raises(MeshError, match="degenerate|inverted|badly shaped"):
        Mesh(flat, m.cells).check()
    with pytest.raises(MeshError, match=r"missing boundary marker\(s\) \['ENDO'\]"):
        m.check(markers=("ENDO",))
    with pytest.raises(MeshError, match="out of range"):
        Mesh(m.points, m.cells + 1000)
    with pytest.raises(MeshError, match="finite"):
        Mesh(np.full((4, 3), np.nan), [[0, 1, 2, 3]])


@pytest.mark.parametrize("order,suffix", [(1, "vtu"), (1, "msh"), (1, "xdmf"), (2, "vtu"), (2, "msh")])
def test_meshio_round_trip_keeps_cells_points_and_named_markers(tmp_path, order, suffix):
    m = land_beam(1, order=order)
    fib = np.tile(np.eye(3), (m.n_cells, 1, 1))
    if suffix == "vtu":
        m = m.with_fibres(fib)
    path = m.write(tmp_path / f"beam.{suffix}")
    r = Mesh.read(path)
    assert r.order == order
    np.testing.assert_array_equal(r.cells, m.cells)
    np.testing.assert_allclose(r.points, m.points)
    assert sorted(r.facets) == sorted(m.facets)
    for k in m.facets:
        np.testing.assert_array_equal(np.sort(r.facets[k], axis=0), np.sort(m.facets[k], axis=0))
    if suffix == "vtu":
        np.testing.assert_allclose(r.fibres, fib)


def test_unreadable_file_names_the_file(tmp_path):
    p = tmp_path / "broken.vtu"
    p.write_text("not a mesh")
    with pytest.raises(MeshError, match="broken.vtu"):
        Mesh.read(p)
