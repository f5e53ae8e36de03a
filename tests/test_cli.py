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


def test_demo_console_script(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "cardiosim.cli", "demo", "--out", str(tmp_path / "demo")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "periodic after" in proc.stdout
    beats = pd.read_csv(tmp_path / "demo" / "beats.csv")
    last = beats.iloc[-1]
    assert 100 < last.EDV_mL < 140 and 100 < last.SBP_mmHg < 130
