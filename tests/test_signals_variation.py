"""Pulse-pressure variation (Michard et al. 2000) and the respiratory cycle it needs.

Synthetic beat series with a known modulation, and the FDA mock circulation loop's
stroke-volume-variation steps, whose stroke volumes come from the measured aortic flow.
"""

import numpy as np
import pandas as pd
import pytest

from cardiosim.signals import RecordError, analyse_arterial, read_record
from cardiosim.signals.variation import cycle_variation, pulse_pressure_variation, respiratory_period
from conftest import data_dir

SVV = data_dir() / "fda-mcl-co" / "SVVres"
COLUMNS = ["time_s", "flow_mL_s", "ABP_central_mmHg", "ABP_mmHg"]


def test_period_and_variation_of_a_known_modulation():
    """PP = 40 (1 + 0.1 sin(2 pi t / 4.3 s)) at 80 bpm: period 4.3 s, PPV -> 2 x 0.1 / 1 = 20 %."""
    t = np.arange(0, 120, 0.75)
    pp = 40 * (1 + 0.1 * np.sin(2 * np.pi * t / 4.3))
    assert respiratory_period(t, pp) == pytest.approx(4.3, rel=0.01)
    v = cycle_variation(t, pp, 4.3)
    # the beats sample each cycle at 5-6 points, so the extremes are missed by at most
    # 1 - cos(pi x 0.75 / 4.3) of the swing
    assert v.variation_pct.between(20 * np.cos(np.pi * 0.75 / 4.3) - 1e-9, 20.0 + 1e-9).all()
    beats = pd.DataFrame({"peak_s": t, "pp_mmHg": pp, "clean": True})
    w = pulse_pressure_variation(beats, window_s=30.0)
    assert len(w) == 4 and w.resp_period_s.iloc[0] == pytest.approx(4.3, rel=0.01)
    assert w.PPV_pct.between(18.5, 20.0).all()


def test_too_short_a_series_for_a_period_names_the_need():
    with pytest.raises(RecordError, match="need at least two slow cycles"):
        respiratory_period(np.arange(0, 10, 0.8), np.ones(13))


def _steps():
    return sorted(SVV.glob("*/RR*/*.csv.gz"))


@pytest.fixture(scope="module")
def mock_loop_steps():
    if not SVV.exists():
        pytest.skip(f"mock-loop records not found: {SVV}")
    rows = []
    for f in _steps():
        rec = read_record(f, columns=COLUMNS)
        a = analyse_arterial(rec)
        flow = rec.channels["flow"]
        cum = np.concatenate([[0.0], np.cumsum(flow.values) / flow.fs_hz])
        t = np.arange(cum.size) / flow.fs_hz
        onset = a.beats.onset_s.to_numpy()
        sv = np.diff(np.interp(onset, t, cum)) * 1e6  # mL ejected between consecutive radial onsets
        ok = a.beats.clean.to_numpy()[:-1]
        ppv = pulse_pressure_variation(a.beats, window_s=1e9)
        svv = cycle_variation(a.beats.peak_s.to_numpy()[:-1][ok], sv[ok], ppv.resp_period_s.iloc[0])
        rows.append({"file": f.name, "hr_bpm": float(a.beats.hr_bpm[a.beats.clean].median()),
                     "period_s": ppv.resp_period_s.iloc[0], "ppv": ppv.PPV_pct.iloc[0],
                     "svv_flow": svv.variation_pct.mean()})
    return pd.DataFrame(rows)


def test_mock_loop_breathing_is_found_from_the_pulse_pressure(mock_loop_steps):
    """The loop's breathing spans a whole number of beats (4-9): the period found from the
    pulse-pressure modulation alone lands on it within 1 %."""
    df = mock_loop_steps
    assert len(df) == 36
    beats_per_breath = df.period_s * df.hr_bpm / 60.0
    assert np.abs(beats_per_breath - np.round(beats_per_breath)).max() < 0.01 * beats_per_breath.min()
    assert set(np.round(beats_per_breath).astype(int)) == {4, 6, 7, 9}


def test_ppv_follows_the_stroke_volume_variation_of_the_measured_flow(mock_loop_steps):
    """36 steps (three states, 12 and 20 breaths/min, SVV 12-80 %): r 0.967, PPV above the
    flow's SVV by 5.3 points on average (measured); pulse pressure swings more than stroke
    volume at high variation, as it does in patients."""
    df = mock_loop_steps
    r = np.corrcoef(df.ppv, df.svv_flow)[0, 1]
    bias = float((df.ppv - df.svv_flow).mean())
    assert r >= 0.96
    assert bias == pytest.approx(5.3, abs=0.5)
