"""Bad input to a 3D heartbeat gets a named error before any step is taken: a mesh without the
markers or the fibres it needs, a negative compliance or resistance, a time step that does not
divide the period, a bad CLI value."""

import dataclasses

import pytest

from cardiosim.circulation import Circulation
from cardiosim.cli import main
from cardiosim.errors import MeshError, ParameterError
from cardiosim.geometry import TruncatedEllipsoid
from cardiosim.materials import Guccione
from cardiosim.models import HeartbeatSimulation
from cardiosim.models.ventricle3d import twitch
from cardiosim.output.heartbeat import run_to_folder


@pytest.fixture(scope="module")
def parts():
    g = TruncatedEllipsoid.land2015()
    m = g.mesh(1, order=1)
    return g, m, Guccione.land2015_problem3(), twitch(60e3, 0.35, 0.8, 0.1), Circulation.caruel2014()


def test_a_mesh_without_fibres_is_named(parts):
    g, m, mat, act, circ = parts
    with pytest.raises(ParameterError, match=f"mesh '{m.name}' has no fibres"):
        HeartbeatSimulation(m, mat, act, circ, 0.8, base_point=(0, 0, g.base_z))


def test_a_missing_marker_is_named(parts):
    g, m, mat, act, circ = parts
    m = m.with_fibres(g.fibres(m.points[m.cells].mean(axis=1)), at="cell")
    with pytest.raises(MeshError, match="SEPTUM"):
        HeartbeatSimulation(m, mat, act, circ, 0.8, clamped=("SEPTUM",), base_point=(0, 0, g.base_z))


@pytest.mark.parametrize("field, value", [("Cp", -1e-9), ("Rd", -1e7), ("Rp", 0.0)])
def test_a_negative_compliance_or_resistance_is_named(field, value):
    circ = Circulation.caruel2014()
    with pytest.raises(ParameterError, match=f"TwoStageWindkessel.{field} must be > 0"):
        dataclasses.replace(circ.afterload, **{field: value})


def test_a_time_step_that_does_not_divide_the_period(tmp_path):
    sim = HeartbeatSimulation.land_ellipsoid(level=1, order=1)
    with pytest.raises(ParameterError, match="dt = 0.003 s must divide the heart period 0.8 s"):
        run_to_folder(sim, 1, 0.003, tmp_path)
    assert not (tmp_path / "pv.csv").exists()


@pytest.mark.parametrize("argv, message", [
    (["--beats", "0"], "--beats must be >= 1, got 0"),
    (["--checkpoint-every", "-1"], "--checkpoint-every must be >= 0 steps, got -1"),
    (["--mesh", "no-such-mesh.vtu"],
     "--mesh no-such-mesh.vtu: neither land, benchmark nor sphere, and no such mesh file"),
    (["--mesh", "sphere", "--wall-ratio", "1.5"], "--wall-ratio must be in (0, 1), got 1.5"),
    (["--resume", "no-such.npz"], "no-such.npz: no such checkpoint file"),
])
def test_bad_cli_values_are_named(argv, message, tmp_path, capsys):
    assert main(["heartbeat", *argv, "--out", str(tmp_path / "o")]) == 2
    assert message in capsys.readouterr().err
