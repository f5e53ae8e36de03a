"""Truncated ellipsoid of Land 2015: exact geometry, curved P2 meshes, problem-3 fibres."""

import numpy as np
import pytest

from cardiosim.errors import ParameterError
from cardiosim.fem.measures import cavity_volume, surface_flux_volume
from cardiosim.geometry import MeshError, TruncatedEllipsoid

GEO = TruncatedEllipsoid.land2015()


def test_closed_form_volumes_match_land2015():
    """Cavity and wall volumes of the truncated ellipsoid of Land et al. 2015 (problem 2)."""
    assert GEO.cavity_volume() * 1e9 == pytest.approx(2492.13, abs=0.005)
    assert GEO.wall_volume() * 1e9 == pytest.approx(3234.73, abs=0.005)


@pytest.mark.parametrize("level", [1, 2])
def test_nodes_lie_on_the_exact_surfaces_and_markers_are_complete(level):
    m = GEO.mesh(level, order=2)
    for marker, t in (("ENDO", 0.0), ("EPI", 1.0)):
        x = m.points[m.marker_nodes(marker)]  # P2 mid-nodes included
        rs, rl = GEO.radii(t)
        assert np.abs((x[:, 0] ** 2 + x[:, 1] ** 2) / rs ** 2 + x[:, 2] ** 2 / rl ** 2 - 1).max() < 1e-12
        assert np.abs(m.points - GEO.apex(marker)).sum(axis=1).min() < 1e-15
    assert np.abs(m.points[m.marker_nodes("BASE"), 2] - 5e-3).max() < 1e-15
    assert m.quality().min() > 0.4
    m.check(markers=("ENDO", "EPI", "BASE"))


def test_curved_p2_volumes_converge_to_the_exact_ones_at_third_order_or_better():
    """The flux of x over the P2 surfaces gives the wall volume; over ENDO closed by the base
    plane, the cavity volume. Errors fall at least as h^3 (isoparametric P2 geometry); README:
    rate >= 3 (measured 3.0-4.0), 1.6e-5 rel. at level 4."""
    err_c, err_w = [], []
    for level in (1, 2, 4):
        m = GEO.mesh(level, order=2)
        cav = cavity_volume(m, None, "ENDO", (0, 0, GEO.base_z))
        wall = sum(surface_flux_volume(m, None, k) for k in ("ENDO", "EPI", "BASE"))
        err_c.append(abs(cav / GEO.cavity_volume() - 1))
        err_w.append(abs(wall / GEO.wall_volume() - 1))
    for e in (err_c, err_w):
        assert np.log2(e[0] / e[1]) >= 3.0 and np.log2(e[1] / e[2]) >= 3.0
    assert max(err_c[2], err_w[2]) == pytest.approx(1.6e-5, abs=0.05e-5)


def test_transmural_coordinate_is_recovered_exactly():
    rng = np.random.default_rng(0)
    t = rng.uniform(0, 1, 200)
    u = rng.uniform(-np.pi + 0.01, -1.3, 200)
    v = rng.uniform(-np.pi, np.pi, 200)
    x = GEO.point(t, u, v)
    assert np.abs(GEO.transmural(x) - t).max() < 1e-12


def test_fibre_frames_follow_the_helix_rule():
    """Orthonormal; fibres along e_u at the endocardium (+90 deg), circumferential at
    mid-wall (0 deg), along -e_u at the epicardium (Land et al. 2015, problem 3)."""
    u, v = -2.0, 0.7
    for t, angle in ((0.0, 90.0), (0.5, 0.0), (1.0, -90.0), (0.25, 45.0)):
        x = GEO.point(np.array([t]), np.array([u]), np.array([v]))
        R = GEO.fibres(x)[0]
        assert np.abs(R @ R.T - np.eye(3)).max() < 1e-12
        rs, rl = GEO.radii(t)
        eu = np.array([rs * np.cos(u) * np.cos(v), rs * np.cos(u) * np.sin(v), -rl * np.sin(u)])
        ev = np.array([-np.sin(v), np.cos(v), 0.0]) * np.sign(np.sin(u))
        eu /= np.linalg.norm(eu)
        a = np.deg2rad(angle)
        assert np.abs(R[0] - (np.sin(a) * eu + np.cos(a) * ev)).max() < 1e-9
    with pytest.raises(ParameterError, match="long axis"):
        GEO.fibres(np.array([[0.0, 0.0, -18e-3]]))


def test_bad_geometry_and_levels_are_clear_errors():
    with pytest.raises(ParameterError, match="enclose"):
        TruncatedEllipsoid(r_short_epi=6e-3)
    with pytest.raises(ParameterError, match="r_long_endo"):
        TruncatedEllipsoid(r_long_endo=-1.0)
    with pytest.raises(MeshError, match="level"):
        GEO.mesh(0)
