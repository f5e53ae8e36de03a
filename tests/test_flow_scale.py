"""The flow scale: an exact similarity of the model, fixed by a reference SV/CO or patient size.

Pressure cannot see the scale k (volumes and flows x k, resistances / k, compliances x k):
checked to the Newton tolerance. A calibration with a reference equals the calibration of
the k-scaled model without one. References and patient data out of range are refused.
"""

import json

import numpy as np
import pandas as pd
import pytest

from cardiosim.assimilation import calibrate
from cardiosim.assimilation.patient import Patient, size_scale
from cardiosim.assimilation.reference import Reference, flow_scale, parse_reference, resolve
from cardiosim.assimilation.synthetic import arterial_pressure, synthetic_record
from cardiosim.circulation import Circulation
from cardiosim.cli import main
from cardiosim.errors import ParameterError
from cardiosim.models.sphere import SphereModel
from cardiosim.signals.record import Channel, MonitoringRecord


@pytest.mark.parametrize("k", [0.6, 1.7])
def test_scaled_model_has_the_same_pressures_and_k_times_the_volumes(k):
    a = SphereModel().simulate(beats=6, hr=75)
    b = SphereModel().scaled(k).simulate(beats=6, hr=75)
    for col in ("P_v_mmHg", "P_ar_mmHg", "P_d_node_mmHg"):
        np.testing.assert_allclose(b.timeseries[col], a.timeseries[col], rtol=0, atol=1e-6)
    for col in ("V_mL", "Q_out_mL_s"):
        np.testing.assert_allclose(b.timeseries[col], k * a.timeseries[col], rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(b.beats.SV_mL, k * a.beats.SV_mL, rtol=1e-9)


def test_scaled_closed_loop_keeps_its_pressures():
    m = SphereModel(circulation=Circulation.closed_loop())
    a, b = m.simulate(beats=4, hr=70), m.scaled(1.4).simulate(beats=4, hr=70)
    np.testing.assert_allclose(b.timeseries.P_ar_mmHg, a.timeseries.P_ar_mmHg, atol=1e-6)
    np.testing.assert_allclose(b.beats.SV_mL, 1.4 * a.beats.SV_mL, rtol=1e-8)


@pytest.mark.parametrize("k", [0.0, -1.0, float("nan")])
def test_scale_must_be_positive(k):
    with pytest.raises(ParameterError, match="scale must be a number > 0"):
        SphereModel().scaled(k)


@pytest.fixture(scope="module")
def short_record():
    p, _ = arterial_pressure(duration_s=70.0, hr_bpm=72.0, seed=3)
    return synthetic_record(p, 125.0, name="short")


def test_reference_calibration_equals_the_scaled_model_calibrated_without_one(short_record):
    kw = dict(estimate=("sigma0", "Rd"), fit_beats=20, burn_in_beats=5, line=False)
    cal = calibrate(short_record, reference="SV=55@30", **kw)
    k = cal.scale.k
    direct = calibrate(short_record, model=SphereModel().scaled(k), **kw)
    np.testing.assert_allclose(cal.track.z_pred, direct.track.z_pred, rtol=0, atol=1e-4)  # Pa
    for col in ("SV_mL", "EDV_mL", "CO_L_min", "Rd", "Rd_lo", "Ea_mmHg_per_mL", "EF", "Ea_Ees"):
        np.testing.assert_allclose(cal.beats[col], direct.beats[col], rtol=1e-5, err_msg=col)
    # the reference is met where it was given
    near = (cal.beats.t_s - 30).abs() <= 15
    assert np.median(cal.beats.SV_mL[near & cal.beats.observed]) == pytest.approx(55.0, rel=1e-9)
    assert cal.describe()["scale"]["k"] == pytest.approx(k)
    assert "one-point SV 55 mL at 30 s" in cal.summary_text()


def test_flow_scale_from_co_uses_the_heart_rate():
    t = np.arange(0, 60, 0.8)
    sv = np.full(t.size, 50.0)
    fs = flow_scale([Reference("CO", 4.5, 30.0)], t, sv, np.full(t.size, 0.8), np.ones(t.size, bool))
    # model CO = 50 mL / 0.8 s = 3.75 L/min -> k = 4.5 / 3.75
    assert fs.k == pytest.approx(1.2, rel=1e-12)
    two = flow_scale([Reference("SV", 40.0, 10.0), Reference("SV", 90.0, 50.0)], t, sv,
                     np.full(t.size, 0.8), np.ones(t.size, bool))
    assert two.k == pytest.approx(np.sqrt(0.8 * 1.8))   # geometric mean of the two ratios
    assert two.table.residual_pct.to_numpy() == pytest.approx([100 * (np.sqrt(1.44) * 50 / 40 - 1),
                                                               100 * (np.sqrt(1.44) * 50 / 90 - 1)])


@pytest.mark.parametrize("text, message", [
    ("CO=0@10", r"reference CO = 0.0 L/min is outside the accepted range 0.5-20 L/min"),
    ("CO=50@10", r"reference CO = 50.0 L/min is outside"),
    ("SV=500@10", r"reference SV = 500.0 mL is outside the accepted range 5-250 mL"),
    ("SV=60@-3", r"reference time must be >= 0 s"),
    ("CO=4.6", r"expected CO=<L/min>@<s>"),
    ("CO=abc@3", r"'abc' .* is not a number"),
])
def test_bad_reference_is_refused_naming_the_value(text, message):
    with pytest.raises(ParameterError, match=message):
        parse_reference(text)


def test_reference_after_the_record_end_or_first_without_a_co_channel(short_record):
    with pytest.raises(ParameterError, match=r"reference CO at 900 s is after the end of the record \(70.0 s\)"):
        resolve([parse_reference("CO=5@900")], short_record)
    with pytest.raises(ParameterError, match="--reference first needs a CO or SV numeric channel"):
        resolve(["first"], short_record)


def test_mosteller_bsa_and_expected_edv():
    p = Patient(age_y=62, sex="F", height_cm=165, weight_kg=70)
    assert p.bsa_m2 == pytest.approx(np.sqrt(165 * 70 / 3600))
    assert p.edv_ml() == pytest.approx((45 * p.bsa_m2, 8 * p.bsa_m2))
    assert Patient.parse("age=62,sex=f,height=165,weight=70") == p
    adult = Patient(height_cm=175.0, weight_kg=66.65)
    assert adult.bsa_m2 == pytest.approx(1.80, abs=1e-3)
    assert adult.edv_ml()[0] == pytest.approx(49.5 * adult.bsa_m2)
    t = np.arange(0, 120, 1.0)
    s = size_scale(adult, t, np.full(t.size, 150.0), np.ones(t.size, bool))
    assert s.k == pytest.approx(49.5 * adult.bsa_m2 / 150.0)


@pytest.mark.parametrize("text, message", [
    ("height=20,weight=70", r"patient height = 20.0 cm is impossible \(accepted 40-250 cm\)"),
    ("age=300", r"patient age = 300.0 years is impossible"),
    ("weight=0", r"patient weight = 0.0 kg is impossible"),
    ("sex=X", r"patient sex must be M or F, got 'X'"),
    ("age:60", r"is not NAME=VALUE"),
    ("tall=1", r"unknown field 'tall'"),
])
def test_impossible_patient_data_is_refused(text, message):
    with pytest.raises(ParameterError, match=message):
        Patient.parse(text)


def test_age_and_sex_from_a_mimic_style_header_comment():
    ch = Channel("ABP", "ABP", np.zeros(10), 125.0, "Pa", "mmHg")
    rec = MonitoringRecord("x", {"ABP": ch}, provenance={"comments": ["<age>: 60 <sex>: F <ICU>: MICU"]})
    assert Patient.from_record(rec) == Patient(age_y=60.0, sex="F")
    assert Patient.from_record(MonitoringRecord("y", {"ABP": ch})) is None


@pytest.mark.parametrize("args, message", [
    (["--reference", "CO=50@10"], "reference CO = 50.0 L/min is outside"),
    (["--reference", "SV=500@10"], "reference SV = 500.0 mL is outside"),
    (["--reference", "CO=5@900"], "after the end of the record"),
    (["--reference", "first"], "--reference first needs a CO or SV numeric channel"),
    (["--patient", "height=20,weight=70"], "patient height = 20.0 cm is impossible"),
    (["--patient", "age=300"], "patient age = 300.0 years is impossible"),
])
def test_cli_bad_reference_or_patient_writes_nothing(tmp_path, capsys, args, message):
    p, _ = arterial_pressure(duration_s=40.0, seed=1)
    f = tmp_path / "abp.csv"
    pd.DataFrame({"time_s": np.arange(p.size) / 125.0, "ABP_mmHg": p / 133.322387415}).to_csv(f, index=False)
    out = tmp_path / "out"
    assert main(["calibrate", str(f), "--out", str(out), "--quiet", *args]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_run_json_says_where_the_scale_came_from(tmp_path, short_record):
    cal = calibrate(short_record, estimate=("sigma0", "Rd"), fit_beats=20, burn_in_beats=5, line=False)
    assert cal.scale is None and "scale: none" in cal.summary_text()
    b = cal.beats
    first = b.observed & (b.t_s <= b.t_s.iloc[0] + 60)
    assert np.median(b.SV_rel[first]) == pytest.approx(1.0) and (b.scale == "none: relative").all()
    np.testing.assert_allclose(b.SV_rel * np.median(b.SV_mL[first]), b.SV_mL)
    meta = json.loads(json.dumps(cal.describe(), default=str))
    assert meta["scale"]["source"] == "none" and "relative" in meta["scale"]["text"]


def test_indicators_outside_physiological_limits_are_flagged():
    from cardiosim.assimilation.indicators import flag_implausible

    b = pd.DataFrame({"EF": [0.6, 0.6, 0.95], "SV_mL": [70.0, 300.0, 70.0], "CO_L_min": [5.0, 5.0, 5.0],
                      "Ea_Ees": [0.03, 0.04, 1.0]})
    names, warnings = flag_implausible(b)
    assert names.tolist() == ["Ea_Ees", "SV_mL;Ea_Ees", "EF"]
    assert len(warnings) == 1 and warnings[0].startswith("Ea/Ees median 0.04 is outside the physiological "
                                                         "range 0.2-4 (2 of 3 beats)")


def test_co_numerics_observed_in_the_filter_recover_the_flow_scale():
    """Twin: the pressure of the Caruel model, a monitor CO every 20 s of the same model scaled by
    1.3 (3 % seeded noise): the tracked flow scale and SV end within 5 % of the truth."""
    from cardiosim.signals.record import Numeric

    p, _ = arterial_pressure(duration_s=240.0, hr_bpm=72.0, seed=5)
    base = SphereModel().simulate(hr=72.0, until_periodic=True, max_beats=60).beats.SV_mL.iloc[-1]
    t = np.arange(10.0, 240.0, 20.0)
    co = 1.3 * base * 72.0 / 1000.0 * (1 + 0.03 * np.random.default_rng(2).standard_normal(t.size))
    rec = synthetic_record(p, 125.0, name="twin-co")
    rec = MonitoringRecord(rec.source, rec.channels, {"CO": Numeric("CO", "CO", t, co / 6e4, "m^3/s", "L/min")})
    cal = calibrate(rec, observe="ABP,CO", estimate=("sigma0", "Rd"), line=False)
    last = cal.beats.iloc[-1]
    assert last.flow_scale == pytest.approx(1.3, rel=0.05)
    assert np.median(cal.beats.SV_mL[-60:]) == pytest.approx(1.3 * base, rel=0.05)
    # the resistance shown is that of the scaled model: R / k
    direct = SphereModel().scaled(1.3).parameter_value("Rd") / 133.322387415e6
    assert last.Rd == pytest.approx(direct, rel=0.10)
    assert cal.scale.source.startswith("flow observations in the filter (12 CO, sd 10 %)")
    assert (cal.beats.scale == "flow observations").all()


def test_observing_co_needs_a_co_channel(short_record):
    with pytest.raises(ParameterError, match="--observe CO needs a CO numeric channel"):
        calibrate(short_record, observe="ABP,CO", estimate=("sigma0", "Rd"), line=False)
    with pytest.raises(ParameterError, match="observe must name ABP"):
        calibrate(short_record, observe="CO")


def test_age_and_sex_read_from_a_wfdb_header(tmp_path):
    import wfdb

    from cardiosim.signals import read_record

    p, _ = arterial_pressure(duration_s=30.0, seed=2)
    wfdb.wrsamp("rec", fs=125, units=["mmHg"], sig_name=["ABP"], p_signal=(p / 133.322387415)[:, None],
                fmt=["16"], adc_gain=[10.0], baseline=[0], comments=["<age>: 71 <sex>: M <ICU>: CCU"],
                write_dir=str(tmp_path))
    rec = read_record(tmp_path / "rec.hea")
    assert Patient.from_record(rec) == Patient(age_y=71.0, sex="M")


def test_reference_as_a_setting_reaches_every_record_of_a_cohort(tmp_path):
    """``--reference first`` in calibrate-cohort: each record its own first CO; one without fails alone."""
    from cardiosim.assimilation.cohort import calibrate_cohort
    from cardiosim.assimilation import CalibrationSettings

    p, _ = arterial_pressure(duration_s=70.0, hr_bpm=72.0, seed=3)
    folder = tmp_path / "records"
    folder.mkdir()
    t = np.arange(p.size) / 125.0
    pd.DataFrame({"time_s": t, "ABP_mmHg": p / 133.322387415}).to_csv(folder / "no_co.csv", index=False)
    with pytest.raises(ParameterError, match="reference SV = 500.0 mL is outside"):
        CalibrationSettings(reference="SV=500@3")
    s = CalibrationSettings(reference=("first",), estimate=("sigma0", "Rd"), fit_beats=20, burn_in_beats=5,
                            line=False)
    table = calibrate_cohort(folder, tmp_path / "out", s, workers=0)
    row = table.iloc[0]
    assert row.status == "error" and "--reference first needs a CO or SV numeric channel" in row.error


def test_observing_flow_needs_one_flow_channel(short_record):
    with pytest.raises(ParameterError, match="--observe FLOW needs exactly one flow waveform channel"):
        calibrate(short_record, observe="ABP,FLOW", estimate=("sigma0", "Rd"), line=False)
