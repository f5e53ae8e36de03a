"""Beat-by-beat reanalysis: each beat's SV re-fitted to its own pressure, and the model's SVV.

A twin whose filling pressure swings with each breath (the truth's SV per beat known), three
of the FDA mock loop's SVV steps against the SV variation integrated from the measured flow
(the benchmark runs all 36), and bad input.
"""

import numpy as np
import pytest

from cardiosim.assimilation import calibrate
from cardiosim.assimilation.operator import BeatOperator
from cardiosim.assimilation.reanalysis import reanalyse
from cardiosim.assimilation.synthetic import patient
from cardiosim.errors import ParameterError
from cardiosim.signals import analyse_arterial, read_record
from cardiosim.signals.variation import cycle_variation, respiratory_period
from conftest import data_dir

SVV = data_dir() / "fda-mcl-co" / "SVVres"
COLUMNS = ["time_s", "flow_mL_s", "ABP_central_mmHg", "ABP_mmHg"]


@pytest.fixture(scope="module")
def twin():
    rec, truth = patient(duration_s=90, artefacts=False, breathing=(5.0, 0.3), seed=3)
    return calibrate(rec), truth


def _median_variation(t, v, period):
    return float(np.nanmedian(cycle_variation(t, v, period).variation_pct))


def test_reanalysed_sv_follows_the_breath_the_filter_forecast_does_not(twin):
    cal, truth = twin
    b = cal.beats
    t_true = truth.t_s.to_numpy()
    # calibration beats start at the foot plus the lag: the truth's beat is the last started before
    j = np.searchsorted(t_true, b.t_s.to_numpy()) - 1
    ok = b.observed.to_numpy() & (j >= 0) & np.isfinite(b.SV_beat_mL.to_numpy())
    sv_true = truth.SV_mL.to_numpy()[j[ok]]
    r_beat = np.corrcoef(sv_true, b.SV_beat_mL.to_numpy()[ok])[0, 1]
    r_forecast = np.corrcoef(sv_true, b.SV_mL.to_numpy()[ok])[0, 1]
    assert r_beat >= 0.9                      # measured 0.97
    assert r_forecast < 0.6                   # the forecast lags the breath
    assert np.median(b.SV_beat_mL.to_numpy()[ok] / sv_true) == pytest.approx(1.0, abs=0.02)
    svv_true = _median_variation(t_true, truth.SV_mL.to_numpy(), 5.0)
    svv_beat = _median_variation(b.t_s.to_numpy()[ok], b.SV_beat_mL.to_numpy()[ok], 5.0)
    svv_forecast = _median_variation(b.t_s.to_numpy()[ok], b.SV_mL.to_numpy()[ok], 5.0)
    # truth 25 %: the reanalysis 19 % (its knob is the ejection, not the filling), the forecast 4 %
    assert svv_forecast < svv_true / 3
    assert svv_true / 2 < svv_beat < svv_true
    # the fitted beats match the measured pressure better than the forecasts
    assert np.nanmedian(b.beat_rmse_mmHg) < 0.6 * np.nanmedian(b.rmse_mmHg)
    assert cal.respiratory.SVV_pct.median() == pytest.approx(svv_beat, rel=0.25)


@pytest.mark.skipif(not SVV.exists(), reason=f"mock-loop SVV records not found under {data_dir()}")
def test_model_svv_on_three_mock_loop_steps_is_that_of_the_measured_flow():
    diffs = []
    for state in ("cardiogenic_shock", "hyperdynamic", "normovolemic"):
        f = next((SVV / state / "RR12").glob("*_step7_*.csv.gz"))
        rec = read_record(f, columns=COLUMNS)
        an = analyse_arterial(rec)
        b = an.beats[an.beats.clean]
        sv_flow = rec.channel("flow").integrals(b.onset_s.to_numpy(), b.end_s.to_numpy()) * 1e6
        period = respiratory_period(b.peak_s.to_numpy(), b.pp_mmHg.to_numpy())
        flow = _median_variation(b.peak_s.to_numpy(), sv_flow, period)
        m = calibrate(rec, analysis=an).beats
        m = m[m.observed]
        model = _median_variation(m.t_s.to_numpy(), m.SV_beat_mL.to_numpy(), period)
        forecast = _median_variation(m.t_s.to_numpy(), m.SV_mL.to_numpy(), period)
        assert forecast < flow / 3, (state, forecast, flow)
        diffs.append(model - flow)
    # measured -7.4, +3.2, -1.1 points (mean -1.8); all 36 steps: benchmarks/cardiac_output.py
    assert abs(diffs[1]) < 5.0 and abs(diffs[2]) < 5.0, diffs
    assert abs(np.mean(diffs)) <= 2.0
    SVV_STEP_DIFFS.extend(diffs)


SVV_STEP_DIFFS: list = []


@pytest.mark.skipif(not SVV.exists(), reason=f"mock-loop SVV records not found under {data_dir()}")
@pytest.mark.xfail(strict=True, reason="known: in the cardiogenic-shock step the model's SVV is 7.4 points "
                   "below the flow's with the bands' default settings (align_foot, adaptive Q and R); "
                   "it was -4.0 before them. The goal is within 5 points on every step")
def test_model_svv_within_5_points_on_the_cardiogenic_shock_step_too():
    if not SVV_STEP_DIFFS:
        test_model_svv_on_three_mock_loop_steps_is_that_of_the_measured_flow()
    assert abs(SVV_STEP_DIFFS[0]) < 5.0


def test_bad_input_is_refused(twin):
    cal, _ = twin
    op = BeatOperator(cal.model, cal.parameters, n_obs=cal.settings.n_obs, line=cal.line)
    tr, obs = cal.track, cal.observations
    args = (op, tr.omega, tr.x, obs.z_pa, obs.rr_s, obs.observed)
    with pytest.raises(ParameterError, match="observation error"):
        reanalyse(*args, 0.0)
    with pytest.raises(ParameterError, match="iterations"):
        reanalyse(*args, cal.sigma_pa, iterations=0)
    with pytest.raises(ParameterError, match="cannot estimate .nonsense."):
        reanalyse(*args, cal.sigma_pa, parameter="nonsense")
