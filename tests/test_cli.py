"""The command line: simulate and demo write complete, reproducible results."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from cardiosim.cli import main


def test_simulate_writes_results_with_parameters_versions_and_seed(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["simulate", "--beats", "4", "--hr", "80", "--set", "sigma0=150 kPa", "Rd=0.8 mmHg*s/mL",
                 "--out", str(out)])
    assert code == 0
    assert "last beat" in capsys.readouterr().out
    for name in ["timeseries.csv", "beats.csv", "run.json", "heartbeat.png", "pv_loop.png"]:
        assert (out / name).stat().st_size > 0, name
    run = json.loads((out / "run.json").read_text())
    assert run["parameters"]["sphere"]["sigma0"] == 150e3
    assert run["parameters"]["circulation"]["afterload"]["Rd"] == pytest.approx(0.8e6 * 133.322387415)
    assert run["versions"]["numba"] and run["versions"]["cardiosim"]
    assert "seed" in run and run["beats"] == 4
    beats = pd.read_csv(out / "beats.csv")
    assert len(beats) == 4 and beats.HR_bpm.iloc[0] == pytest.approx(80.0)
    ts = pd.read_csv(out / "timeseries.csv")
    assert {"t_s", "V_mL", "P_v_mmHg", "P_ar_mmHg", "Q_in_mL_s", "Q_out_mL_s", "tau_c_kPa", "e_c"} <= set(ts.columns)
    assert ts.notna().all().all()


def test_bad_parameter_is_a_clear_error(tmp_path, capsys):
    code = main(["simulate", "--beats", "2", "--set", "Rd=-3 mmHg*s/mL", "--out", str(tmp_path / "x")])
    assert code == 2
    err = capsys.readouterr().err
    assert "Rd must be > 0" in err
    assert not (tmp_path / "x").exists()  # no partial output


def test_demo_console_script_calibrates_the_synthetic_patient(tmp_path):
    """The main job: synthetic patient -> calibration -> report, with the truth beside it."""
    proc = subprocess.run([sys.executable, "-m", "cardiosim.cli", "demo", "--quiet", "--out", str(tmp_path / "demo")],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "per-beat RMSE" in proc.stdout and "truth vs estimate" in proc.stdout
    out = tmp_path / "demo"
    for name in ("calibration.csv", "run.json", "trends.png", "overlay.png", "truth.csv", "truth_vs_estimate.csv"):
        assert (out / name).stat().st_size > 0, name
    meta = json.loads((out / "run.json").read_text())
    assert meta["seed"] == 0 and meta["versions"]["numpy"]
    tab = pd.read_csv(out / "truth_vs_estimate.csv")
    # baseline, hypotension, vasopressor: pressure, resistance and stroke volume follow the truth
    assert (abs(tab.MAP_mmHg_est - tab.MAP_mmHg_true) < 2.0).all()
    assert (abs(tab.Rd_est / tab.Rd_true - 1) < 0.10).all()
    assert (abs(tab.SV_mL_est / tab.SV_mL_true - 1) < 0.10).all()
    assert tab.MAP_mmHg_true[1] < 60 < tab.MAP_mmHg_true[2]  # the story: hypotension, then treated
    # every estimate comes with its 95 % band, and the band holds the estimate
    for name in ("sigma0_kPa", "Rd", "SV_mL", "MAP_mmHg"):
        assert (tab[f"{name}_lo"] < tab[f"{name}_est"]).all() and (tab[f"{name}_est"] < tab[f"{name}_hi"]).all()
    # and the band holds the truth at the three report times (issue 14; measured: all three)
    for name in ("sigma0_kPa", "Rd", "SV_mL"):
        assert ((tab[f"{name}_lo"] <= tab[f"{name}_true"]) & (tab[f"{name}_true"] <= tab[f"{name}_hi"])).all(), name
    # the flow scale came from the one-point CO the demo takes, and every ridge is named
    assert "scale: one-point CO" in proc.stdout
    corr = meta["parameters"]["posterior_correlation_last_beat"]
    ridges = [(a, b) for i, a in enumerate(corr) for b in list(corr)[i + 1:] if abs(corr[a][b]) > 0.8]
    assert ridges, "the demo's pressure leaves a ridge (measured sigma0-P_at -0.86)"
    for a, b in ridges:
        assert f"posterior correlation {a}-{b}" in proc.stdout and "read them together" in proc.stdout
