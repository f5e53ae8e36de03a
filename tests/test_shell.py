"""Thick spherical shell, whole and truncated: exact surfaces, markers, P2 volume convergence."""

import numpy as np
import pytest

from cardiosim.errors import ParameterError
from cardiosim.fem.measures import cavity_volume, surface_flux_volume
from cardiosim.geometry import MeshError, SphericalShell, boundary_facets

R_IN, R_OUT = 10e-3, 13e-3
SHELLS = {"whole": SphericalShell(R_IN, R_OUT), "half": SphericalShell(R_IN, R_OUT, base_z=0.0),
          "cut": SphericalShell(R_IN, R_OUT, base_z=4e-3)}


def test_closed_form_volumes():
    whole, half = SHELLS["whole"], SHELLS["half"]
    assert whole.cavity_volume() == pytest.approx(4 / 3 * np.pi * R_IN ** 3, rel=1e-15)
    assert whole.wall_volume() == pytest.approx(4 / 3 * np.pi * (R_OUT ** 3 - R_IN ** 3), rel=1e-15)
    assert half.cavity_volume() == pytest.approx(whole.cavity_volume() / 2, rel=1e-15)
    assert half.wall_volume() == pytest.approx(whole.wall_volume() / 2, rel=1e-15)
    # a cap of height h = r - z above the plane: pi h^2 (3 r - h) / 3
    h = R_IN - 4e-3
    assert SHELLS["cut"].cavity_volume() == pytest.approx(whole.cavity_volume() - np.pi * h * h * (3 * R_IN - h) / 3,
                                                          rel=1e-14)


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("kind", ["whole", "half", "cut"])
def test_markers_cover_the_right_surfaces(kind, order):
    geo = SHELLS[kind]
    m = geo.mesh(2, order=order)
    expected = {"ENDO", "EPI"} | ({"BASE"} if geo.truncated else set())
    assert set(m.facets) == expected
    for marker, r in (("ENDO", R_IN), ("EPI", R_OUT)):
        x = m.points[m.marker_nodes(marker)]  # P2 mid-nodes included
        assert np.abs(np.linalg.norm(x, axis=1) / r - 1).max() < 1e-12
        assert np.abs(m.points - geo.apex(marker)).sum(axis=1).min() < 1e-15
    if geo.truncated:
        assert np.abs(m.points[m.marker_nodes("BASE"), 2] - geo.base_z).max() < 1e-15
        assert m.points[:, 2].max() <= geo.base_z + 1e-15
    # every boundary facet carries exactly one marker
    key = {tuple(sorted(f)) for f in boundary_facets(m)}
    marked = [tuple(sorted(f[:3])) for k in expected for f in m.facets[k]]
    assert len(marked) == len(set(marked)) == len(key) and set(marked) == key
    m.check(markers=tuple(expected))
    assert m.quality().min() > 0.4


@pytest.mark.parametrize("kind", ["whole", "half", "cut"])
def test_curved_p2_volumes_converge_at_third_order_or_better(kind):
    """Flux of x over the marked P2 surfaces (outward from the wall): the wall volume; over
    ENDO closed by the base plane, minus the cavity volume. Errors fall at least as h^3."""
    geo = SHELLS[kind]
    err_w, err_c = [], []
    for level in (1, 2, 4):
        m = geo.mesh(level, order=2)
        wall = sum(surface_flux_volume(m, None, k) for k in m.facets)
        cav = cavity_volume(m, None, "ENDO", (0.0, 0.0, geo.base_z or 0.0))
        err_w.append(abs(wall / geo.wall_volume() - 1))
        err_c.append(abs(cav / geo.cavity_volume() - 1))
    for e in (err_w, err_c):
        assert np.log2(e[0] / e[1]) >= 3 and np.log2(e[1] / e[2]) >= 3
    assert err_w[2] < 1e-5 and err_c[2] < 1e-5


def test_whole_shell_is_two_mirrored_halves():
    whole, half = SHELLS["whole"].mesh(1), SHELLS["half"].mesh(1)
    assert whole.n_cells == 2 * half.n_cells
    assert whole.n_points == 2 * half.n_points - len(half.marker_nodes("BASE"))
    assert whole.volume() == pytest.approx(2 * half.volume(), rel=1e-13)


def test_bad_geometry_and_levels_are_clear_errors():
    with pytest.raises(ParameterError, match="r_inner must be > 0 m, got -1"):
        SphericalShell(-1.0, 1.0)
    with pytest.raises(ParameterError, match="r_outer = 0.005 m must exceed r_inner = 0.01 m"):
        SphericalShell(10e-3, 5e-3)
    with pytest.raises(ParameterError, match="base_z = 0.02 m must cut the inner sphere"):
        SphericalShell(R_IN, R_OUT, base_z=20e-3)
    with pytest.raises(MeshError, match="level"):
        SHELLS["whole"].mesh(0)
    with pytest.raises(MeshError, match="order"):
        SHELLS["half"].mesh(1, order=3)
