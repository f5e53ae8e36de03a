"""Calibration on bad input: every case is a clear error or warning naming what is wrong
and what to do, and nothing the calibration produces is NaN where it should be a number.

Synthetic records only (model-made arterial pressure), except the real ECG-only record of
the data folder, skipped when absent.
"""

import math
import re

import numpy as np
import pandas as pd
import pytest
from conftest import data_dir

import cardiosim as cs
from cardiosim.assimilation import synthetic
from cardiosim.assimilation import (AssimilationError, CalibrationSettings, Estimated, ObservationError,
                                    ParameterSet, calibrate)
from cardiosim.cli import main
from cardiosim.errors import ParameterError
from cardiosim.signals import Channel, MonitoringRecord, RecordError, inject
from cardiosim.units import MMHG

FS = 125.0
#: NaN by design on unobserved beats (no measured beat to compare with)
OBSERVED_ONLY = ["rmse_mmHg", "nis", "SBP_mmHg", "DBP_mmHg", "MAP_mmHg", "SV_beat_mL", "SV_beat_rel", "beat_strength",
                 "beat_rmse_mmHg"]


@pytest.fixture(scope="module")
def pressure_90s():
    """90 s of model-made arterial pressure [Pa] at 125 Hz, 1 mmHg noise, a flush at 40 s."""
    p, _ = synthetic.arterial_pressure(duration_s=90, seed=2, noise_mmhg=1.0)
    return inject.flush(p, FS, 40.0, 2.0)


@pytest.fixture(scope="module")
def calibrated(pressure_90s):
    return calibrate(synthetic.synthetic_record(pressure_90s, FS, name="synthetic-90s"))


def _ecg_only_record() -> MonitoringRecord:
    t = np.arange(0, 60, 1 / 250)
    ecg = Channel("II", "ECG", 1e-3 * np.sin(2 * np.pi * 1.2 * t), 250.0, "V", "mV")
    return MonitoringRecord("ecg-only", {"II": ecg})


def _a103l():
    path = data_dir() / "challenge-2015" / "a103l"
    if not path.with_suffix(".hea").exists():
        pytest.skip(f"shared data not found at {path} (set CARDIOSIM_DATA to the data folder)")
    return path


# -- (1) no pressure channel ---------------------------------------------------------------
def test_record_without_pressure_names_its_channels_and_the_fix():
    with pytest.raises(RecordError, match=r"no arterial pressure channel \(role ABP\) among II \(ECG, mV\)") as e:
        calibrate(_ecg_only_record())
    assert "roles={'ABP'" in str(e.value)


def test_real_record_without_abp_names_its_channels():
    with pytest.raises(RecordError) as e:
        calibrate(_a103l())
    msg = str(e.value)
    assert "a103l" in msg and "no arterial pressure channel" in msg
    for name in ("II", "V", "PLETH"):
        assert name in msg


# -- (2) too few clean beats ---------------------------------------------------------------
def test_too_short_record_says_how_many_beats_and_what_to_do():
    p, _ = synthetic.arterial_pressure(duration_s=10, seed=1)
    with pytest.raises(ObservationError) as e:
        calibrate(synthetic.synthetic_record(p, FS, name="ten-seconds"))
    msg = str(e.value)
    m = re.search(r"only (\d+) clean arterial beats of (\d+) \(need >= 20\)", msg)
    assert m and 5 <= int(m.group(1)) < 20, msg
    assert "too short" in msg and "longer" in msg and re.search(r"about \d+ s", msg), msg


# -- (3) every beat (or nearly) flagged ----------------------------------------------------
def test_zeroed_line_is_an_observation_error_naming_the_flag(pressure_90s):
    p = inject.zeroing(pressure_90s, FS, 5.0, 84.0)
    with pytest.raises(ObservationError) as e:
        calibrate(synthetic.synthetic_record(p, FS, name="zeroed"))
    msg = str(e.value)
    assert re.search(r"only \d+ clean arterial beats", msg) and "zeroing" in msg, msg
    assert "cardiosim inspect" in msg


def test_noisy_line_is_an_observation_error_naming_the_flag(pressure_90s):
    p = pressure_90s + 30 * MMHG * np.random.default_rng(0).standard_normal(pressure_90s.size)
    with pytest.raises(ObservationError) as e:
        calibrate(synthetic.synthetic_record(p, FS, name="noisy"))
    msg = str(e.value)
    assert re.search(r"only \d+ clean arterial beats", msg) and "noise" in msg, msg
    assert "cleaner recording" in msg


# -- (4) parameters and settings -----------------------------------------------------------
@pytest.mark.parametrize("spec", [
    {"Rd": {"lower": "2 mmHg*s/mL", "upper": "3 mmHg*s/mL"}},
    [Estimated("Rd", lower="2 mmHg*s/mL", upper="3 mmHg*s/mL")],
])
def test_bounds_excluding_the_baseline_name_the_parameter_and_say_widen(spec):
    with pytest.raises(ParameterError, match=r"bounds of Rd \(2 \.\. 3 mmHg\*s/mL\) exclude its baseline "
                                             r"0\.75\d* mmHg\*s/mL; widen the bounds"):
        ParameterSet.build(cs.SphereModel(), spec)


@pytest.mark.parametrize("kwargs, match", [
    ({"spec": ["sigma0", "foo"]}, r"cannot estimate 'foo'; estimable: sigma0, .*Rd"),
    ({"spec": ["Rd"], "prior_sd": 0.0}, r"prior_sd of Rd must be > 0 \(log2 units\), got 0"),
    ({"spec": ["Rd"], "prior_sd": float("nan")}, r"prior_sd of Rd must be > 0"),
    ({"spec": ["Rd"], "drift": -0.01}, r"drift of Rd must be >= 0 \(log2 per beat\), got -0.01"),
    ({"spec": {"Rd": {"lower": "3 mmHg*s/mL", "upper": "2 mmHg*s/mL"}}}, r"bounds of Rd must satisfy 0 < lower < upper"),
    ({"spec": {"Rd": {"lower": "2 kPa"}}}, r"lower bound of Rd"),
    ({"spec": ["Rd", "Rd"]}, r"listed twice: \['Rd'\]"),
    ({"spec": []}, r"no parameter to estimate"),
])
def test_bad_parameter_specs(kwargs, match):
    kwargs = dict(kwargs)
    with pytest.raises(ParameterError, match=match):
        ParameterSet.build(cs.SphereModel(), kwargs.pop("spec"), **kwargs)


@pytest.mark.parametrize("kwargs, match", [
    ({"method": "foo"}, r"method must be one of \('roukf', 'ukf', 'enkf', 'lsq'\), got 'foo'"),
    ({"sigma_mmhg": 0.0}, r"sigma_mmhg must be > 0 mmHg, got 0"),
    ({"sigma_mmhg": -1.0}, r"sigma_mmhg must be > 0 mmHg"),
    ({"sigma_mmhg": float("nan")}, r"sigma_mmhg must be > 0 mmHg"),
    ({"prior_sd_log2": 0.0}, r"prior_sd_log2 must be > 0"),
    ({"drift_log2_per_beat": -1.0}, r"drift_log2_per_beat must be >= 0"),
    ({"fit_beats": 2}, r"fit_beats must be >= 5"),
])
def test_invalid_settings(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        CalibrationSettings(**kwargs)
    # the same through calibrate's keyword overrides, before any work on the record
    with pytest.raises(ParameterError, match=match):
        calibrate(_ecg_only_record(), **kwargs)


def test_calibrate_rejects_unknown_parameter_and_unknown_setting(pressure_90s):
    rec = synthetic.synthetic_record(pressure_90s, FS)
    with pytest.raises(ParameterError, match=r"cannot estimate 'foo'; estimable: "):
        calibrate(rec, estimate="sigma0,foo")
    # a misspelt setting (mmHg, as in the column names) is named, with the valid ones
    with pytest.raises(ParameterError, match=r"unknown calibration setting\(s\) sigma_mmHg; settings are: "
                                             r"method, .*sigma_mmhg"):
        calibrate(rec, sigma_mmHg=2.0)


# -- (5) filter divergence -----------------------------------------------------------------
def test_absurdly_small_observation_error_is_a_recorded_divergence_warning(pressure_90s, calibrated):
    rec = synthetic.synthetic_record(pressure_90s, FS, name="synthetic-90s")
    try:
        cal = calibrate(rec, sigma_mmhg=0.01, estimate=("sigma0", "Rd"), analysis=calibrated.analysis)
    except AssimilationError as exc:  # a filter that cannot go on keeps what it had
        assert exc.partial is not None and np.isfinite(exc.partial.omega).all()
        assert "observation error" in str(exc)
        return
    div = [w for w in cal.warnings if "normalised innovation" in w]
    assert len(div) == 1, cal.warnings
    assert "sigma_mmhg" in div[0] and "Raise the observation error" in div[0] and "drift" in div[0]
    assert "warning: roukf: normalised innovation" in cal.summary_text()
    b = cal.beats
    obs = b["observed"].to_numpy()
    assert np.nanmedian(b.loc[obs, "nis"]) > 100  # far above 1: model and data disagree
    _assert_finite(cal)


# -- (6) the command line ------------------------------------------------------------------
def test_cli_missing_file_is_exit_2_with_the_message_on_stderr(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["calibrate", str(tmp_path / "nope" / "rec.hea"), "--out", str(out), "--quiet"])
    assert code == 2
    cap = capsys.readouterr()
    assert "cardiosim calibrate: error:" in cap.err and "rec.hea: no such file" in cap.err
    assert ".hea file" in cap.err
    assert not out.exists()


@pytest.mark.parametrize("which", ["csv", "a103l"])
def test_cli_record_without_abp_is_exit_2_naming_the_channels(which, tmp_path, capsys):
    if which == "csv":
        t = np.arange(0, 60, 1 / 250)
        path = tmp_path / "ecg_only.csv"
        pd.DataFrame({"time_s": t, "II [mV]": np.sin(2 * np.pi * 1.2 * t)}).to_csv(path, index=False)
    else:
        path = _a103l()
    out = tmp_path / "out"
    code = main(["calibrate", str(path), "--out", str(out), "--quiet"])
    assert code == 2
    cap = capsys.readouterr()
    assert "cardiosim calibrate: error:" in cap.err
    assert "no arterial pressure channel (role ABP) among II (ECG, mV)" in cap.err
    assert "roles={'ABP'" in cap.err
    assert not out.exists()


# -- a successful calibration: no NaN where a number belongs -------------------------------
def _assert_finite(cal):
    b = cal.beats
    assert len(b) == cal.observations.n and b["observed"].sum() >= 20
    num = b.select_dtypes(include=[np.number]).drop(columns=OBSERVED_ONLY)
    bad = [c for c in num if not np.isfinite(num[c].to_numpy(float)).all()]
    assert not bad, f"non-finite values in {bad}"
    obs = b["observed"].to_numpy()
    bad = [c for c in OBSERVED_ONLY if not np.isfinite(b.loc[obs, c].to_numpy(float)).all()]
    assert not bad, f"non-finite values on observed beats in {bad}"
    for name, v in cal.final().items():
        assert all(math.isfinite(v[k]) for k in ("value", "sd", "lo95", "hi95")), (name, v)
        assert v["lo95"] <= v["value"] <= v["hi95"]
    assert all(math.isfinite(x) for x in cal.rmse_mmhg().values())
    assert "nan" not in cal.summary_text().lower()


def test_successful_calibration_has_no_nan_outside_unobserved_beats(calibrated, tmp_path):
    cal = calibrated
    b = cal.beats
    assert (~b["observed"]).sum() >= 2  # the flush: some beats are skipped, with a reason
    assert (b.loc[~b["observed"], "reason"] != "").all()
    assert (b.loc[b["observed"], "reason"] == "").all()
    _assert_finite(cal)
    assert not [w for w in cal.warnings if "normalised innovation" in w], cal.warnings
    cal.write(tmp_path)
    csv = pd.read_csv(tmp_path / "calibration.csv")
    cols = [c for c in cal.parameters.names] + ["SV_rel", "CO_rel", "EF", "Ea_Ees", "efficiency",
                                                "model_SBP_mmHg", "model_DBP_mmHg", "model_MAP_mmHg"]
    assert csv[cols].notna().all().all()
    # no flow scale: no volume or flow in mL or L/min is written as if it were the patient's
    assert cal.scale is None and not [c for c in csv.columns if c.endswith(("_mL", "_L_min", "_J"))]
