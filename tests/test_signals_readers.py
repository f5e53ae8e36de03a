"""read_record on the shared patient records and on tables and .vital files written here."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from conftest import data_dir

from cardiosim.signals.readers import read_record
from cardiosim.units import convert, lookup_unit, mmhg_to_pa

MV = lookup_unit("mV")[0]


def _data(rel):
    path = data_dir() / rel
    if not (path.exists() or path.with_name(path.name + ".hea").exists()):
        pytest.skip(f"shared patient data not found at {path} (set CARDIOSIM_DATA)")
    return path


# --- WFDB records -----------------------------------------------------------

WFDB_RECORDS = {
    "mimicdb/03700181": {
        "names": ["MCL1", "ABP", "RESP"], "fs": [500.0, 125.0, 125.0], "duration": 600.0,
        "units": ["mV", "mmHg", "mV"], "roles": ["ECG", "ABP", "RESP"]},
    "wfdb-python-icu-flac/mixedsignals": {
        "names": ["II", "III", "V", "ABP", "Pleth", "Resp"],
        "fs": [249.89, 249.89, 249.89, 124.945, 124.945, 62.4725], "duration": 230.5,
        "units": ["mV", "mV", "mV", "mmHg", "NU", "Ohm"],
        "roles": ["ECG", "ECG", "ECG", "ABP", "PLETH", "RESP"]},
    "challenge-2015/a103l": {
        "names": ["II", "V", "PLETH"], "fs": [250.0] * 3, "duration": 330.0,
        "units": ["mV", "mV", "NU"], "roles": ["ECG", "ECG", "PLETH"]},
    "challenge-2015/v102s": {
        "names": ["II", "V", "PLETH", "RESP"], "fs": [250.0] * 4, "duration": 300.0,
        "units": ["mV", "mV", "NU", "NU"], "roles": ["ECG", "ECG", "PLETH", "RESP"]},
}


@pytest.mark.parametrize("rel", list(WFDB_RECORDS))
def test_wfdb_records_load(rel):
    want = WFDB_RECORDS[rel]
    rec = read_record(_data(rel))
    assert list(rec.channels) == want["names"]
    for name, fs, unit, role in zip(want["names"], want["fs"], want["units"], want["roles"]):
        c = rec.channels[name]
        assert c.fs_hz == pytest.approx(fs, abs=1e-3)
        assert c.source_unit == unit
        assert c.role == role
        assert c.t0_s == 0.0
    assert rec.duration_s == pytest.approx(want["duration"], abs=0.1)
    assert ("ABP" in rec.roles()) == ("ABP" in want["names"])
    assert rec.provenance["wfdb_version"]
    assert rec.provenance["files"][0].endswith(".hea")


def test_wfdb_mimic_values_limits_and_start_time():
    import wfdb

    path = _data("mimicdb/03700181")
    rec = read_record(path)
    raw = wfdb.rdrecord(str(path), smooth_frames=False)
    abp = rec.channels["ABP"]
    assert abp.unit == "Pa" and rec.channels["MCL1"].unit == "V"
    np.testing.assert_allclose(abp.values, mmhg_to_pa(raw.e_p_signal[1]), rtol=1e-12)
    np.testing.assert_allclose(abp.in_unit("mmHg")[:3], raw.e_p_signal[1][:3], rtol=1e-12)
    np.testing.assert_allclose(rec.channels["MCL1"].values, raw.e_p_signal[0] * MV)
    # A genuinely low ABP (median 31 mmHg) must not be taken for kPa.
    assert np.median(abp.in_unit("mmHg")) == pytest.approx(31.0, abs=0.5)
    # 12-bit format 212, adc_zero 0: codes -2047..2047 (-2048 is "invalid").
    lo, hi = abp.limits
    assert lo == pytest.approx(mmhg_to_pa((-2047 + 1605) / 12.84))
    assert hi == pytest.approx(mmhg_to_pa((2047 + 1605) / 12.84))
    assert rec.start_time == dt.datetime(1994, 8, 15, 17, 27, 45)


def test_wfdb_flac_record_nans_and_saturation():
    rec = read_record(_data("wfdb-python-icu-flac/mixedsignals"))
    abp = rec.channels["ABP"]
    assert np.isnan(abp.values[:192]).all()
    assert np.isfinite(abp.values[192])
    assert 70 < np.nanmedian(abp.in_unit("mmHg")) < 140
    # The impedance saturates at both ends of its ADC range at about 64.5-68.5 s;
    # the limits must be exactly the values it sticks at.
    resp = rec.channels["Resp"]
    window = (resp.times_s > 64.5) & (resp.times_s < 68.5)
    assert np.any(resp.values[window] == resp.limits[1])
    assert np.any(resp.values[window] == resp.limits[0])
    assert rec.start_time is None


@pytest.mark.parametrize("rel", ["wfdb-python-icu-flac/mixedsignals_p.dat",
                                 "challenge-2015/a103l.mat", "challenge-2015/v102s.hea"])
def test_wfdb_signal_or_header_file_as_path(rel):
    rec = read_record(_data(rel))
    assert len(rec.channels) >= 3


def test_wfdb_role_override_and_channel_selection():
    rec = read_record(_data("wfdb-python-icu-flac/mixedsignals"), roles={"ECG": "V"},
                      channels=["V", "ABP"])
    assert list(rec.channels) == ["V", "ABP"]
    assert rec.channels["V"].role == "ECG"
    assert rec.provenance["role_overrides"] == {"ECG": "V"}


def test_wfdb_role_override_elsewhere():
    rec = read_record(_data("challenge-2015/v102s"), roles={"ECG": "V"})
    assert rec.channels["V"].role == "ECG"
    assert rec.channels["II"].role is None  # the override takes the role from the guess


# --- The CSV export folder ---------------------------------------------------

@pytest.fixture(scope="module")
def csv_folder_record():
    return read_record(_data("waveformtools-ppv-study/sample_record_csv"))


def test_csv_folder_waveforms_aligned(csv_folder_record):
    rec = csv_folder_record
    fs = {"ABP": 125.0, "CVP": 125.0, "PLETH": 125.0, "ECG_II": 500.0}
    assert set(fs) <= set(rec.channels)
    for name, rate in fs.items():
        c = rec.channels[name]
        assert c.fs_hz == pytest.approx(rate, abs=1e-3)
        assert c.t0_s == 0.0
        assert c.duration_s == pytest.approx(1974.6, abs=0.1)
    assert {rec.channels[n].role for n in fs} == {"ABP", "CVP", "PLETH", "ECG"}
    assert rec.channels["ABP"].unit == "Pa" and rec.channels["ECG_II"].unit == "V"
    assert rec.channels["PLETH"].unit == "NU"  # not a physical unit: kept as recorded
    # First ABP sample of the file is 50.5625 mmHg.
    assert rec.channels["ABP"].values[0] == pytest.approx(mmhg_to_pa(50.5625))
    # Independent of cardiosim.units: 1 mmHg = 133.322 Pa.
    assert rec.channels["ABP"].values[0] / 50.5625 == pytest.approx(133.322, rel=1e-5)


def test_csv_folder_gap_is_nan(csv_folder_record):
    abp = csv_folder_record.channels["ABP"]
    nan = np.isnan(abp.values)
    assert nan.sum() == pytest.approx(1.627 * 125, abs=2)
    where = abp.times_s[nan]
    assert where.min() > 1665.9 and where.max() < 1667.7
    # Samples after the gap are still on the record's time axis: the ECG and
    # the ABP gaps coincide.
    ecg = csv_folder_record.channels["ECG_II"]
    ecg_gap = ecg.times_s[np.isnan(ecg.values)]
    assert ecg_gap.min() == pytest.approx(where.min(), abs=0.01)
    assert ecg_gap.max() == pytest.approx(where.max(), abs=0.01)
    gaps = csv_folder_record.provenance["gaps"]
    abp_gap = [g for g in gaps if g["file"] == "ABP.csv.gz"]
    assert len(abp_gap) == 1 and abp_gap[0]["duration_s"] == pytest.approx(1.627)


def test_csv_folder_numerics_and_events(csv_folder_record):
    rec = csv_folder_record
    want = {"ABP_SYS": ("SBP", "Pa"), "ABP_DIA": ("DBP", "Pa"), "ABP_MEAN": ("MAP", "Pa"),
            "monitor_numerics/HR": ("HR", "Hz"), "CO": ("CO", "m^3/s"), "SV": ("SV", "m^3")}
    for name, (role, unit) in want.items():
        n = rec.numerics[name]
        assert (n.role, n.unit) == (role, unit), name
    assert "EV1000_numerics/HR" in rec.numerics  # HR in two files: both prefixed
    co = rec.numerics["CO"]
    assert np.nanmin(co.in_unit("L/min")) == pytest.approx(1.8, abs=0.05)
    assert np.nanmax(rec.numerics["SV"].in_unit("mL")) == pytest.approx(87, abs=1)
    assert rec.numerics["ABP_SYS"].times_s[0] == pytest.approx(1.63)
    assert rec.numerics["CI"].source_unit == "L/min/m2"  # unknown unit kept raw
    assert rec.numerics["SVR"].unit == "Pa*s/m^3"
    assert len(rec.events) == 21
    assert list(rec.events.columns) == ["time_s", "event"]
    assert "fluid administration start" in set(rec.events["event"])
    assert rec.events["time_s"].is_monotonic_increasing
    assert rec.roles()["ABP"] == "ABP"


# --- Single tables written here ----------------------------------------------

def _synthetic(fs=100.0, n=1000, gap=None):
    t = np.arange(n) / fs + 10.0
    abp = 90 + 30 * np.sin(2 * np.pi * 1.2 * t)
    ecg = 0.8 * np.sin(2 * np.pi * 1.2 * t) ** 15
    if gap is not None:
        keep = (t < gap[0]) | (t >= gap[1])
        t, abp, ecg = t[keep], abp[keep], ecg[keep]
    return t, abp, ecg


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
def test_table_round_trip(tmp_path, suffix):
    t, abp, ecg = _synthetic(gap=(14.0, 14.5))
    df = pd.DataFrame({"Time [s]": t, "ART (mmHg)": abp, "ECG_II_mV": ecg, "PLETH_NU": abp / 100})
    path = tmp_path / f"rec{suffix}"
    if suffix == ".parquet":
        df.to_parquet(path)
    else:
        df.to_csv(path, index=False)
    rec = read_record(path)
    art, e = rec.channels["ART"], rec.channels["ECG_II"]
    assert art.fs_hz == pytest.approx(100.0) and e.fs_hz == pytest.approx(100.0)
    assert art.role == "ABP" and e.role == "ECG" and rec.channels["PLETH"].role == "PLETH"
    assert (art.source_unit, art.unit) == ("mmHg", "Pa")
    assert (e.source_unit, e.unit) == ("mV", "V")
    assert art.t0_s == 0.0  # times from the record start (the file starts at 10 s)
    assert rec.provenance["time_offset_s"] == pytest.approx(10.0)
    assert art.n_samples == 1000 and np.isnan(art.values).sum() == 50
    finite = np.isfinite(art.values)
    np.testing.assert_allclose(art.in_unit("mmHg")[finite], abp, rtol=1e-12)
    np.testing.assert_allclose(e.values[finite], ecg * MV, rtol=1e-12)
    np.testing.assert_allclose(art.times_s[finite], t - 10.0, atol=1e-9)


def test_table_time_in_ms_and_slow_columns(tmp_path):
    fs = 50.0
    t_ms = np.arange(500) / fs * 1000
    hr = np.where(np.arange(500) % 50 == 0, 72.0, np.nan)  # 1 Hz numeric padded to 50 Hz rows
    df = pd.DataFrame({"time (ms)": t_ms, "CVP_mmHg": 8 + np.sin(t_ms / 300), "HR_bpm": hr})
    df.to_csv(tmp_path / "t.csv", index=False)
    rec = read_record(tmp_path / "t.csv")
    assert rec.channels["CVP"].fs_hz == pytest.approx(50.0)
    assert rec.channels["CVP"].role == "CVP"  # CVP in mmHg is never taken for kPa
    hr_n = rec.numerics["HR"]
    assert hr_n.times_s.tolist() == pytest.approx([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    assert hr_n.in_unit("bpm") == pytest.approx(np.full(10, 72.0))


def test_units_argument_declares_kpa(tmp_path):
    t, abp, _ = _synthetic()
    kpa = convert(abp, "mmHg", "kPa")
    pd.DataFrame({"time_s": t, "ABP": kpa}).to_csv(tmp_path / "k.csv", index=False)
    rec = read_record(tmp_path / "k.csv", units={"ABP": "kPa"})
    a = rec.channels["ABP"]
    assert (a.source_unit, a.unit, a.role) == ("kPa", "Pa", "ABP")
    np.testing.assert_allclose(a.values, kpa * 1e3)
    np.testing.assert_allclose(a.in_unit("mmHg"), abp)


def test_role_override_on_table(tmp_path):
    t, abp, _ = _synthetic()
    pd.DataFrame({"time_s": t, "ABP_mmHg": abp, "ART2_mmHg": abp + 5}).to_csv(
        tmp_path / "r.csv", index=False)
    assert read_record(tmp_path / "r.csv").roles()["ABP"] == "ABP"
    rec = read_record(tmp_path / "r.csv", roles={"ABP": "ART2"})
    assert rec.channels["ART2"].role == "ABP"
    assert rec.channels["ABP"].role is None
    assert rec.channel("ABP").name == "ABP"  # by name first, then by role
    assert rec.find("ABP").name == "ART2"


def test_text_marker_column_becomes_events(tmp_path):
    df = pd.DataFrame({"time_s": [0.5, 3.0, 1.0], "marker": ["a", "", "b"]})
    df.to_csv(tmp_path / "ev.csv", index=False)
    t, abp, _ = _synthetic()
    pd.DataFrame({"time_s": t - 10.0, "ABP_mmHg": abp}).to_csv(tmp_path / "abp.csv", index=False)
    rec = read_record(tmp_path)
    assert rec.events["event"].tolist() == ["a", "b"]
    assert rec.events["time_s"].tolist() == [0.5, 1.0]


@pytest.mark.parametrize("header, name, unit", [
    ("time_s", "time", "s"), ("Time [s]", "Time", "s"), ("time (ms)", "time", "ms"),
    ("ECG_II_mV", "ECG_II", "mV"), ("ABP_SYS_mmHg", "ABP_SYS", "mmHg"),
    ("CO_L/min", "CO", "L/min"), ("SVR_dyn.s/cm5", "SVR", "dyn.s/cm5"),
    ("CI_L/min/m2", "CI", "L/min/m2"), ("SVI_mL/m2", "SVI", "mL/m2"), ("SVV_%", "SVV", "%"),
    ("PLETH_NU", "PLETH", "NU"), ("ABP [mmHG]", "ABP", "mmHG"), ("ABP_SYS", "ABP_SYS", ""),
    ("ECG_V", "ECG_V", ""), ("HR_min", "HR_min", ""), ("SNUADC/ART", "SNUADC/ART", ""),
])
def test_header_name_and_unit(header, name, unit):
    from cardiosim.signals.readers import _split_header

    assert _split_header(header) == (name, unit)


# --- VitalDB ------------------------------------------------------------------

def test_vital_round_trip(tmp_path):
    vitaldb = pytest.importorskip("vitaldb")
    t0 = 1_600_000_000.0
    fs = 100.0
    wave = (80 + 30 * np.sin(2 * np.pi * 1.2 * np.arange(2000) / fs)).astype(np.float32)
    vf = vitaldb.VitalFile()
    vf.dtstart, vf.dtend = t0, t0 + 25.0
    vf.add_track("SNUADC/ART", [{"dt": t0 + 1.0, "val": wave[:800]},
                                {"dt": t0 + 11.0, "val": wave[1000:]}], srate=fs, unit="mmHg")
    vf.add_track("SNUADC/ECG_II", [{"dt": t0 + 1.0, "val": wave / 100}], srate=2 * fs,
                 unit="mV")
    vf.add_track("Solar8000/HR", [{"dt": t0 + 1.0 + i, "val": 60.0 + i} for i in range(10)],
                 unit="/min")
    vf.add_track("EVENT", [{"dt": t0 + 3.0, "val": "incision"}])
    path = tmp_path / "case.vital"
    vf.to_vital(str(path))

    rec = read_record(path)
    art = rec.channels["SNUADC/ART"]
    assert (art.role, art.fs_hz, art.source_unit, art.unit) == ("ABP", 100.0, "mmHg", "Pa")
    assert art.n_samples == 2000 and art.t0_s == 0.0
    assert np.isnan(art.values[800:1000]).all()  # the 2 s without records
    np.testing.assert_allclose(art.in_unit("mmHg")[:800], wave[:800], rtol=1e-6)
    np.testing.assert_allclose(art.in_unit("mmHg")[1000:], wave[1000:], rtol=1e-6)
    assert rec.channels["SNUADC/ECG_II"].fs_hz == 200.0
    assert rec.channels["SNUADC/ECG_II"].role == "ECG"
    hr = rec.numerics["Solar8000/HR"]
    assert hr.role == "HR" and hr.in_unit("bpm")[0] == pytest.approx(60.0)
    assert hr.times_s[0] == pytest.approx(0.0)
    assert rec.events["event"].tolist() == ["incision"]
    assert rec.events["time_s"].iloc[0] == pytest.approx(2.0)
    assert rec.start_time.timestamp() == pytest.approx(t0 + 1.0)
    assert rec.provenance["vitaldb_version"]
