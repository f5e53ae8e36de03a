"""A 3D heartbeat's run folder through ``cardiosim heartbeat``: an exact restart (a beat
straight against a checkpoint in mid-ejection, where modified Newton is reusing a Jacobian, and
a resumed run from it: the same pv.csv to the last digit), checkpoints that are plain data and refuse another setup, the XDMF series read back by
meshio, and a failing solver that leaves the last good state behind."""

import numpy as np
import pytest

from cardiosim.cli import main
from cardiosim.errors import SolverError
from cardiosim.models import HeartbeatSimulation
from cardiosim.output.heartbeat import read_checkpoint, run_to_folder, write_checkpoint

DT, PERIOD = 0.008, 0.48   # 60 steps a short beat: coarse, and enough for level 1, P2


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("heartbeat")
    a, b = root / "straight", root / "resumed"
    assert main(["heartbeat", "--dt", str(DT), "--period", str(PERIOD), "--beats", "1", "--checkpoint-every", "30",
                 "--fields-every", "30", "--quiet", "--out", str(a)]) == 0
    ck = a / "checkpoints" / "step_0000030.npz"
    assert main(["heartbeat", "--beats", "1", "--resume", str(ck), "--fields-every", "0", "--quiet",
                 "--out", str(b)]) == 0
    return a, b, ck


def test_a_resumed_beat_repeats_the_straight_run_to_the_last_digit(runs):
    a, b, _ = runs
    straight = (a / "pv.csv").read_text().splitlines()
    resumed = (b / "pv.csv").read_text().splitlines()
    assert len(straight) == 1 + 60 and len(resumed) == 1 + 60   # the steps each run computed
    assert resumed[0] == straight[0]
    assert resumed[1:31] == straight[31:]
    # the beat the resumed run saw only half of is not summarised
    assert len((a / "beats.csv").read_text().splitlines()) == 2
    assert len((b / "beats.csv").read_text().splitlines()) == 1


def test_pv_csv_has_the_loop_in_clinical_units(runs):
    import pandas as pd

    pv = pd.read_csv(runs[0] / "pv.csv")
    assert list(pv.columns[:3]) == ["t_s", "V_mL", "P_mmHg"]
    np.testing.assert_allclose(pv["t_s"], DT * np.arange(1, 61), rtol=1e-12)
    beat = pv
    assert set(beat["phase"]) == {"filling", "isovolumic_contraction", "ejection", "isovolumic_relaxation"}
    # mL and mmHg: the Land ellipsoid holds a few mL and ejects near the arterial pressure
    assert 2.0 < beat["V_mL"].min() < beat["V_mL"].max() < 5.0
    assert 60.0 < beat["P_mmHg"].max() < 160.0


def test_checkpoints_are_plain_data_with_their_setup(runs):
    data, meta = read_checkpoint(runs[2])
    assert all(v.dtype != object for v in data.values())
    assert int(data["steps"]) == 30 and float(data["t_s"]) == pytest.approx(0.24)
    assert "jac_data" in data       # mid-ejection modified Newton holds a Jacobian, saved to restart exactly
    assert meta["mesh"]["name"] == "land-ellipsoid-L1-P2" and meta["cli_setup"]["dt"] == DT
    assert meta["settings"]["activation"]["law"] == "twitch"


def test_a_checkpoint_of_another_mesh_is_refused(runs, tmp_path, capsys):
    data, meta = read_checkpoint(runs[2])
    meta["mesh"]["sha256"] = "0" * 64
    bad = write_checkpoint(tmp_path / "other.npz", data, meta)
    assert main(["heartbeat", "--resume", str(bad), "--quiet", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "mesh.sha256" in err
    assert main(["heartbeat", "--resume", str(runs[2]), "--level", "2", "--out", str(tmp_path / "o")]) == 2
    assert "--level 2 differs from the checkpoint's 1" in capsys.readouterr().err


def test_a_file_that_would_unpickle_is_not_opened(tmp_path, capsys):
    bad = tmp_path / "evil.npz"
    np.savez(bad, x=np.array([{"a": 1}], dtype=object))
    assert main(["heartbeat", "--resume", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "not a cardiosim checkpoint" in err
    assert not (tmp_path / "o").exists()


def test_the_fields_read_back_with_meshio(runs):
    import meshio

    r = meshio.xdmf.TimeSeriesReader(str(runs[0] / "fields.xdmf"))
    points, cells = r.read_points_cells()
    assert cells[0].type == "tetra10" and r.num_steps == 3
    assert (runs[0] / "fields.h5").stat().st_size > 0
    times = []
    for k in range(r.num_steps):
        t, pd_, cd = r.read_data(k)
        times.append(t)
        assert set(pd_) == {"displacement_m", "velocity_m_s"}
        assert set(cd) == {"fibre_stretch", "active_tension_Pa", "fibre_stress_Pa"}
        assert pd_["displacement_m"].shape == points.shape
    np.testing.assert_allclose(times, [0.0, 0.24, 0.48], atol=1e-9)
    _, pd0, cd0 = r.read_data(0)
    assert np.abs(pd0["displacement_m"]).max() == 0.0
    np.testing.assert_allclose(cd0["fibre_stretch"][0], 1.0, rtol=1e-14)
    # 0.24 s is 0.14 s into the twitch (peak 60 kPa, 0.35 s): 60 kPa sin^2(0.14 pi / 0.35)
    _, _, cd1 = r.read_data(1)
    np.testing.assert_allclose(cd1["active_tension_Pa"][0], 60e3 * np.sin(np.pi * 0.14 / 0.35) ** 2, rtol=1e-9)
    assert cd1["fibre_stretch"][0].min() < 0.95      # the fibres shorten in systole


def test_a_failing_solver_leaves_the_last_good_state(tmp_path):
    sim = HeartbeatSimulation.land_ellipsoid(level=1, period=PERIOD)
    sim.dyn.max_iter, sim.dyn.min_dt = 1, DT / 2     # Newton cannot converge in one iteration
    with pytest.raises(SolverError, match="last good state written to") as e:
        run_to_folder(sim, 1, DT, tmp_path)
    data, _ = read_checkpoint(e.value.partial)
    assert float(data["t_s"]) == 0.0 and int(data["steps"]) == 0
    assert (tmp_path / "pv.csv").read_text().splitlines() == ["t_s,V_mL,P_mmHg,Q_in_mL_s,Q_out_mL_s,P_in_mmHg,"
                                                              "P_out_mmHg,phase,newton_iterations"]
