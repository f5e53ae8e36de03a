"""SV and CO on a true scale (issue 13): the figures of benchmarks/cardiac_output.py, asserted.

The benchmark runs once (module fixture, about three minutes, without the model's SVV): the FDA mock loop's three
states, each joined into one record with a one-point reference from the measured flow of
its first step, the radial pressure the only model input; the classical pulse-contour
estimators on the same point; the SVV steps; the FloTrac record with ``--reference first``.
The command line is checked on a joined headerless 1 kHz CSV.
"""

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cardiosim.cli import main
from conftest import data_dir

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
MCL = data_dir() / "fda-mcl-co" / "COres"
FLOTRAC = data_dir() / "waveformtools-ppv-study" / "sample_record_csv"
COLUMNS = "time_s,flow_mL_s,ABP_central_mmHg,ABP_mmHg"
needs_data = pytest.mark.skipif(not (MCL.exists() and FLOTRAC.exists()),
                                reason=f"mock-loop or FloTrac records not found under {data_dir()}")


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    env = dict(os.environ, CARDIOSIM_BENCH_RESULTS=str(out), CARDIOSIM_BENCH_JOBS="2")
    # the model's SVV (36 more calibrations) is measured by the benchmark, not asserted here
    r = subprocess.run([sys.executable, str(BENCH / "cardiac_output.py"), "--no-model-svv"],
                       capture_output=True, text=True,
                       env=env, timeout=1500, cwd=BENCH.parent)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads([ln for ln in r.stdout.splitlines() if ln.startswith("{")][0])


@needs_data
def test_mock_loop_sv_within_20pct_bias_5pct_direction_95pct_in_every_state(figures):
    assert figures["mcl_sv_pe_pct"] <= 20.0
    assert abs(figures["mcl_sv_bias_pct"]) <= 5.0
    assert figures["mcl_co_direction_pct"] >= 95.0
    for state, f in figures["mcl_states"].items():
        assert f["sv_pe_pct"] <= 20.0, state
        assert abs(f["sv_bias_pct"]) <= 5.0, state
        if state != "hyperdynamic":
            assert f["co_direction_pct"] >= 95.0, state
        assert 0.3 < f["k"] < 3.0, state


@needs_data
@pytest.mark.xfail(strict=True, reason="known: with the bands' default settings (align_foot, adaptive Q and "
                   "R) one hyperdynamic step of +0.27 L/min (4 %) reads -0.04 L/min: 9 of 10 steps (90 %) "
                   "right; 100 % before them. The goal is >= 95 % in every state")
def test_mock_loop_direction_95pct_in_the_hyperdynamic_state_too(figures):
    assert figures["mcl_states"]["hyperdynamic"]["co_direction_pct"] >= 95.0


@needs_data
def test_classical_estimators_and_prior_only_are_reported(figures):
    peers = figures["mcl_peer_sv_pe_pct"]
    assert set(peers) == {"map", "pulse_pressure", "liljestrand", "herd", "rc_decay", "systolic_area",
                          "wesseling", "windkessel3"}
    assert figures["mcl_best_peer_sv_pe_pct"] == min(peers.values())
    # Liljestrand-Zander is the weakest here: PP / (SBP + DBP) misses the loop's pump changes
    assert peers["liljestrand"] == max(peers.values())
    assert np.isfinite(figures["mcl_prior_only_sv_pe_pct"])


@needs_data
def test_ppv_follows_the_flow_svv(figures):
    assert figures["mcl_svv_steps"] == 36
    assert figures["mcl_ppv_r"] >= 0.9


@needs_data
def test_flotrac_with_the_first_co_as_reference_removes_the_bias(figures):
    assert figures["flotrac_reference"] == "one-point CO 3.4 L/min at 3.12 s (first value of CO)"
    # pressure-only, the model's SV was 22 mL below FloTrac's; one point brings the bias within 10 mL
    assert abs(figures["flotrac_sv_bias_mL"]) < 10.0
    assert len(figures["flotrac_bolus_sv_changes_pct"]) == 2 and figures["flotrac_svv_windows"] > 50


@needs_data
def test_model_svv_from_the_beat_refit_is_within_3_points_of_the_ev1000(figures):
    # the model's SVV per 30 s window (each beat re-fitted to its own pressure) against the
    # EV1000's SVV (itself computed from the same pressure by FloTrac): measured -2.6 points
    assert abs(figures["flotrac_svv_bias_pts"]) <= 3.0


def _joined_csv(path: Path, steps: int = 3) -> tuple[float, float]:
    files = sorted((MCL / "normovolemic").glob("*.csv.gz"), key=lambda p: int(re.search(r"step(\d+)", p.name)[1]))
    parts, t0 = [], 0.0
    for f in files[:steps]:
        a = pd.read_csv(f, header=None).to_numpy()
        a[:, 0] += t0 - a[0, 0]
        t0 = a[-1, 0] + 1e-3
        parts.append(a)
    a = np.vstack(parts)
    with gzip.open(path, "wt") as fh:
        np.savetxt(fh, a, fmt="%.6g", delimiter=",")
    first = parts[0]
    return float(first[:, 1].mean() * 0.06), float(first[-1, 0] / 2)


@needs_data
def test_cli_calibrates_a_joined_headerless_csv_with_a_reference(tmp_path):
    f = tmp_path / "nv_joined.csv.gz"
    co, t = _joined_csv(f)
    out = tmp_path / "out"
    assert main(["calibrate", str(f), "--columns", COLUMNS, "--reference", f"CO={co:.3f}@{t:.0f}",
                 "--out", str(out), "--quiet"]) == 0
    b = pd.read_csv(out / "calibration.csv")
    assert {"SV_mL", "CO_L_min"} <= set(b.columns) and b.SV_mL.notna().sum() > 150
    near = b[((b.t_s - t).abs() <= 15) & b.observed]
    assert np.median(near.CO_L_min) == pytest.approx(co, rel=0.01)
    meta = json.loads((out / "run.json").read_text())
    assert meta["parameters"]["scale"]["source"] == f"one-point CO {co:.3f} L/min at {t:.0f} s (given)"


@needs_data
def test_flow_waveform_observed_in_the_filter_gives_the_flow_sv_on_every_step():
    """--observe ABP,FLOW: the SV of every beat from the probe; the model then follows it
    (not an independent check, the use case of a study with an aortic flow probe)."""
    sys.path.insert(0, str(BENCH))
    import cardiac_output as co
    from cardiosim.assimilation import calibrate
    from cardiosim.assimilation.compare import flow_steps, step_medians
    from cardiosim.signals import analyse_arterial

    rec = co.joined_state("normovolemic", 4)
    analysis = analyse_arterial(rec)
    steps = flow_steps(rec, analysis)
    cal = calibrate(rec, analysis=analysis, observe="ABP,FLOW")
    b = cal.beats
    sv = step_medians(steps, b.t_s.to_numpy(), b.SV_mL.to_numpy(), b.observed.to_numpy())
    np.testing.assert_allclose(sv, steps.SV_ref_mL.to_numpy(), rtol=0.03)
    assert cal.scale.source.startswith("flow observations in the filter (")
    assert " SV, sd 10 %)" in cal.scale.source
