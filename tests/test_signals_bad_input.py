"""read_record on damaged or implausible input: a RecordError naming the file and channel."""

import gzip
import re
import shutil
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import data_dir

from cardiosim.signals.readers import read_record
from cardiosim.signals.record import RecordError
from cardiosim.units import convert


def _copy_record(tmp_path, rel):
    """Copy a shared WFDB record (header and signal files) into tmp_path; return its stem."""
    src = data_dir() / rel
    if not src.with_name(src.name + ".hea").is_file():
        pytest.skip(f"shared patient data not found at {src} (set CARDIOSIM_DATA)")
    for f in src.parent.glob(src.name + "*"):
        shutil.copy(f, tmp_path / f.name)
        (tmp_path / f.name).chmod(0o644)  # the shared copies are read-only
    return tmp_path / src.name


def _truncate(path, keep_fraction):
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.truncate(int(size * keep_fraction))


def _wave_csv(path, values, fs=100.0, header="ABP_mmHg", t0=0.0):
    t = t0 + np.arange(len(values)) / fs
    pd.DataFrame({"time_s": t, header: values}).to_csv(path, index=False)
    return path


def _pulse(n=1000, fs=100.0, mean=90.0, amp=30.0):
    return mean + amp * np.sin(2 * np.pi * 1.2 * np.arange(n) / fs)


# --- Missing input --------------------------------------------------------------

@pytest.mark.parametrize("name", ["nope", "nope.hea", "nope.csv", "nope.csv.gz",
                                  "nope.parquet", "nope.vital", "nope_dir/"])
def test_missing_file_or_folder(tmp_path, name):
    with pytest.raises(RecordError, match="no such file") as err:
        read_record(tmp_path / name)
    assert "nope" in str(err.value)


def test_folder_without_tables(tmp_path):
    (tmp_path / "notes.txt").write_text("nothing here")
    with pytest.raises(RecordError, match=r"no readable table.*\.csv") as err:
        read_record(tmp_path)
    assert str(tmp_path) in str(err.value)


def test_unrecognised_format(tmp_path):
    (tmp_path / "x.edf").write_bytes(b"0       ")
    with pytest.raises(RecordError, match="unrecognised format"):
        read_record(tmp_path / "x.edf")


# --- WFDB headers ---------------------------------------------------------------

HEADER_DAMAGE = {
    "empty": (lambda h: "", "the header is empty"),
    "binary garbage": (lambda h: "\x00\x01\x02 blah\n", "no valid signal count"),
    "cut after record line": (lambda h: h.splitlines()[0][:12], "3 signals but describes 0"),
    "cut mid-line": (lambda h: h[: len(h) // 2], "declares 3 signals but describes 2"),
    "signal line lost": (lambda h: "\n".join(h.splitlines()[:3]), "3 signals but describes 2"),
    "bad gain": (lambda h: h.replace("12.84(-1605)/mmHg", "abc/mmHg"), "gain field 'abc/mmHg'"),
    "bad frequency": (lambda h: h.replace("3 125 75000", "3 -5 75000"), "sampling frequency"),
    "unknown format": (lambda h: h.replace(".dat 212 12.84", ".dat 999 12.84"),
                       "unknown signal format '999'"),
    # Passes cardiosim's own checks; wfdb's HeaderSyntaxError is wrapped.
    "bad format field": (lambda h: h.replace("212:4", "212:x"), "format field '212:x'"),
    "zero samples per frame": (lambda h: h.replace("212x4", "212x0"), "0 samples per frame"),
    # Passes cardiosim's own checks: wfdb's exception is wrapped.
    "bad base date": (lambda h: h.replace("15/08/1994", "15/0x/1994"), "ValueError"),
}


@pytest.mark.parametrize("case", list(HEADER_DAMAGE))
def test_corrupt_wfdb_header(tmp_path, case):
    stem = _copy_record(tmp_path, "mimicdb/03700181")
    hea = stem.with_suffix(".hea")
    damage, match = HEADER_DAMAGE[case]
    hea.write_text(damage(hea.read_text()))
    with pytest.raises(RecordError, match=match) as err:
        read_record(stem)
    assert err.value.path == str(hea)
    assert "03700181.hea" in str(err.value)
    assert "header" in str(err.value)


def test_wfdb_exception_is_wrapped_with_header_name(tmp_path, monkeypatch):
    import wfdb

    stem = _copy_record(tmp_path, "mimicdb/03700181")

    def broken(*args, **kwargs):
        raise IndexError("list index out of range")

    monkeypatch.setattr(wfdb, "rdheader", broken)
    with pytest.raises(RecordError, match=r"03700181\.hea.*IndexError"):
        read_record(stem)


# --- WFDB signal files ------------------------------------------------------------

@pytest.mark.parametrize("rel, signal_file, keep, expected, names", [
    # format 212: 75000 frames x (4 + 1 + 1) samples, 1.5 bytes each
    ("mimicdb/03700181", "03700181.dat", 0.5, "450000", ["MCL1", "ABP", "RESP"]),
    ("mimicdb/03700181", "03700181.dat", 0.999999, "450000", ["MCL1", "ABP", "RESP"]),
    # MATLAB v4 layout: 24-byte header, then 82500 x 3 int16
    ("challenge-2015/a103l", "a103l.mat", 0.5, "247500", ["II", "V", "PLETH"]),
    ("challenge-2015/v102s", "v102s.dat", 0.9, "300000", ["II", "V", "PLETH", "RESP"]),
    # FLAC (format 516): ABP and Pleth, 28800 samples per channel
    ("wfdb-python-icu-flac/mixedsignals", "mixedsignals_p.dat", 0.5, "28800", ["ABP", "Pleth"]),
    ("wfdb-python-icu-flac/mixedsignals", "mixedsignals_r.dat", 0.99, "14400", ["Resp"]),
])
def test_truncated_signal_file(tmp_path, rel, signal_file, keep, expected, names):
    stem = _copy_record(tmp_path, rel)
    _truncate(tmp_path / signal_file, keep)
    with pytest.raises(RecordError, match=rf"truncated.*expects {expected} .*holds \d+") as err:
        read_record(stem)
    assert err.value.path == str(tmp_path / signal_file)
    for name in names:
        assert name in err.value.channel
    found = int(re.search(r"holds (\d+)", str(err.value)).group(1))
    assert found < int(expected)


def test_missing_signal_file(tmp_path):
    stem = _copy_record(tmp_path, "wfdb-python-icu-flac/mixedsignals")
    (tmp_path / "mixedsignals_r.dat").unlink()
    with pytest.raises(RecordError, match="signal file is missing") as err:
        read_record(stem)
    assert "mixedsignals_r.dat" in str(err.value) and err.value.channel == "Resp"


def test_corrupt_flac_bytes(tmp_path):
    stem = _copy_record(tmp_path, "wfdb-python-icu-flac/mixedsignals")
    path = tmp_path / "mixedsignals_p.dat"
    data = bytearray(path.read_bytes())
    data[len(data) // 3: len(data) // 3 + 400] = b"\xff" * 400
    path.write_bytes(bytes(data))
    # libsndfile (1.2 here) stops at the damaged frame: fewer samples than the header's
    # count come out, which must be an error, never a silently shortened record.
    with pytest.raises(RecordError, match=r"truncated or damaged.*expects 28800 .*holds \d+") as err:
        read_record(stem)
    assert err.value.path == str(path) and "mixedsignals_p.dat" in str(err.value)
    assert err.value.channel == "ABP, Pleth"
    assert int(re.search(r"holds (\d+)", str(err.value)).group(1)) < 28800


# --- Tables: time axis -------------------------------------------------------------

def test_csv_without_time_column(tmp_path):
    pd.DataFrame({"ABP_mmHg": _pulse(50), "CVP_mmHg": _pulse(50, mean=8)}).to_csv(
        tmp_path / "nt.csv", index=False)
    with pytest.raises(RecordError, match="no time column") as err:
        read_record(tmp_path / "nt.csv")
    assert "nt.csv" in str(err.value) and err.value.channel == "ABP_mmHg"


def test_csv_non_numeric_time(tmp_path):
    (tmp_path / "tt.csv").write_text("time_s,ABP_mmHg\n0.00,80\n0.01,81\n12:00:01,82\n")
    with pytest.raises(RecordError, match=r"not numeric at data row 3.*12:00:01") as err:
        read_record(tmp_path / "tt.csv")
    assert "tt.csv" in str(err.value) and err.value.channel == "time_s"


def test_csv_time_going_backwards(tmp_path):
    t = np.arange(200) / 100.0
    t[120] = 0.5
    pd.DataFrame({"time_s": t, "ABP_mmHg": _pulse(200)}).to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(RecordError, match=r"backwards at data row 121 .*sort") as err:
        read_record(tmp_path / "b.csv")
    assert "b.csv" in str(err.value) and err.value.channel == "time_s"


def test_csv_time_unit_not_a_time(tmp_path):
    pd.DataFrame({"time [mmHg]": np.arange(5.0), "HR": np.ones(5)}).to_csv(
        tmp_path / "u.csv", index=False)
    with pytest.raises(RecordError, match="not a time unit"):
        read_record(tmp_path / "u.csv")


def test_csv_off_grid_samples(tmp_path):
    t = np.arange(1000) / 100.0
    t[500] += 0.4 / 100.0  # 0.4 sample periods late, no gap
    pd.DataFrame({"time_s": t, "ABP_mmHg": _pulse()}).to_csv(tmp_path / "j.csv", index=False)
    with pytest.raises(RecordError, match=r"irregular sample times.*5\.004 s.*0\.40 sample") \
            as err:
        read_record(tmp_path / "j.csv")
    assert "j.csv" in str(err.value) and err.value.channel == "ABP_mmHg"


def test_csv_gap_is_filled_not_an_error(tmp_path):
    t = np.arange(1000) / 100.0
    t[500:] += 1.234  # a 1.244 s step: a gap
    pd.DataFrame({"time_s": t, "ABP_mmHg": _pulse()}).to_csv(tmp_path / "g.csv", index=False)
    rec = read_record(tmp_path / "g.csv")
    abp = rec.channels["ABP"]
    assert np.isnan(abp.values).sum() == 123
    (gap,) = rec.provenance["gaps"]
    assert gap["nan_samples"] == 123 and gap["file"] == "g.csv"


def test_empty_and_unparsable_tables(tmp_path):
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(RecordError, match="empty") as err:
        read_record(tmp_path / "e.csv")
    assert "e.csv" in str(err.value)
    (tmp_path / "z.csv.gz").write_bytes(b"not gzip at all")
    with pytest.raises(RecordError, match="cannot parse") as err:
        read_record(tmp_path / "z.csv.gz")
    assert "z.csv.gz" in str(err.value)
    (tmp_path / "p.parquet").write_bytes(b"PAR1 nonsense")
    with pytest.raises(RecordError, match="cannot parse"):
        read_record(tmp_path / "p.parquet")


# --- Units and roles ------------------------------------------------------------------

def test_kpa_labelled_mmhg_is_refused(tmp_path):
    kpa = convert(_pulse(), "mmHg", "kPa")  # 8-16 "mmHg": a normal ABP in kPa
    path = _wave_csv(tmp_path / "kpa.csv", kpa, header="ART_mmHg")
    with pytest.raises(RecordError, match=r"look like kPa.*units=\{'ART': 'kPa'\}") as err:
        read_record(path)
    assert "kpa.csv" in str(err.value) and err.value.channel == "ART"
    # Declared, it reads: as kPa, or as mmHg when the user insists.
    assert read_record(path, units={"ART": "kPa"}).channels["ART"].in_unit("mmHg") == \
        pytest.approx(_pulse())
    assert read_record(path, units={"ART": "mmHg"}).channels["ART"].role == "ABP"


def test_kpa_check_on_wfdb_record(tmp_path):
    stem = _copy_record(tmp_path, "mimicdb/03700181")
    hea = stem.with_suffix(".hea")
    # A gain 7.5 times too high makes the (low, 31 mmHg) ABP read about 4 "mmHg".
    hea.write_text(hea.read_text().replace("12.84(-1605)/mmHg", "96.3(-1605)/mmHg"))
    with pytest.raises(RecordError, match="look like kPa") as err:
        read_record(stem)
    assert err.value.path == str(tmp_path / "03700181.dat") and err.value.channel == "ABP"
    rec = read_record(stem, units={"ABP": "kPa"})
    assert rec.channels["ABP"].unit == "Pa" and rec.channels["ABP"].source_unit == "kPa"


def test_kpa_check_follows_role_override(tmp_path):
    kpa = convert(_pulse(), "mmHg", "kPa")
    path = _wave_csv(tmp_path / "x.csv", kpa, header="P1_mmHg")
    assert read_record(path).channels["P1"].role is None  # no role: not checked
    with pytest.raises(RecordError, match="look like kPa") as err:
        read_record(path, roles={"ABP": "P1"})
    assert err.value.channel == "P1"


def test_low_but_genuine_mmhg_pressures_pass(tmp_path):
    low_abp = _wave_csv(tmp_path / "low.csv", _pulse(mean=35, amp=12), header="ABP_mmHg")
    assert read_record(low_abp).channels["ABP"].role == "ABP"
    cvp = _wave_csv(tmp_path / "cvp.csv", _pulse(mean=8, amp=3), header="CVP_mmHg")
    assert read_record(cvp).channels["CVP"].role == "CVP"


def test_pressure_role_needs_a_pressure_unit(tmp_path):
    path = _wave_csv(tmp_path / "mv.csv", _pulse() / 100, header="ABP_mV")
    rec = read_record(path)
    assert rec.channels["ABP"].role is None
    assert any("ABP" in w and "not a pressure" in w for w in rec.provenance["warnings"])


def test_unknown_unit_is_kept_raw(tmp_path):
    path = _wave_csv(tmp_path / "raw.csv", _pulse(), header="ABP [mmHG]")
    rec = read_record(path)
    abp = rec.channels["ABP"]
    assert (abp.unit, abp.source_unit) == ("mmHG", "mmHG")
    assert abp.values == pytest.approx(_pulse())
    assert abp.role is None  # a pressure of unknown scale is no use as ABP
    assert any("units={'ABP'" in w for w in rec.provenance["warnings"])


def test_no_unit_is_not_dimensionless(tmp_path):
    rec = read_record(_wave_csv(tmp_path / "nu.csv", _pulse(), header="ABP"))
    assert rec.channels["ABP"].unit == "" and rec.channels["ABP"].role is None
    rec = read_record(tmp_path / "nu.csv", units={"ABP": "mmHg"})
    assert rec.channels["ABP"].role == "ABP" and rec.channels["ABP"].unit == "Pa"


def test_constant_and_empty_channels_are_warnings(tmp_path):
    n = 500
    df = pd.DataFrame({"time_s": np.arange(n) / 100.0, "ABP_mmHg": _pulse(n),
                       "RESP_Ohm": np.full(n, 0.5), "PLETH_NU": np.full(n, np.nan)})
    df.to_csv(tmp_path / "dead.csv", index=False)
    rec = read_record(tmp_path / "dead.csv")
    warnings = " | ".join(rec.provenance["warnings"])
    assert "RESP: constant at 0.5" in warnings
    assert "PLETH: every sample is missing" in warnings
    assert rec.channels["PLETH"].n_samples == n and rec.channels["RESP"].fs_hz == 100.0


def test_text_column_is_skipped_with_warning(tmp_path):
    df = pd.DataFrame({"time_s": np.arange(100) / 100.0, "ABP_mmHg": _pulse(100),
                       "status": ["ok"] * 100})
    df.to_csv(tmp_path / "s.csv", index=False)
    rec = read_record(tmp_path / "s.csv")
    assert "status" not in rec.channels
    assert any("'status' holds text" in w for w in rec.provenance["warnings"])


@pytest.mark.parametrize("kwargs, match, channel", [
    ({"roles": {"ABP": "ART2"}}, r"roles= names 'ART2'.*available: ABP, CVP", "ART2"),
    ({"roles": {"ARTERIAL": "ABP"}}, r"unknown role 'ARTERIAL'", None),
    ({"channels": ["ABP", "ECG"]}, r"channels= names 'ECG'.*available: ABP, CVP", "ECG"),
    ({"units": {"PAP": "mmHg"}}, r"units= names 'PAP'.*available: ABP, CVP", "PAP"),
    ({"roles": {"CVP": "CVP"}, "channels": ["ABP"]}, r"channels= leaves out", "CVP"),
])
def test_bad_user_arguments(tmp_path, kwargs, match, channel):
    df = pd.DataFrame({"time_s": np.arange(300) / 100.0, "ABP_mmHg": _pulse(300),
                       "CVP_mmHg": _pulse(300, mean=8, amp=2)})
    df.to_csv(tmp_path / "two.csv", index=False)
    with pytest.raises(RecordError, match=match) as err:
        read_record(tmp_path / "two.csv", **kwargs)
    assert "two.csv" in str(err.value)
    assert err.value.channel == channel


def test_duplicate_names_across_files_get_prefixed(tmp_path):
    _wave_csv(tmp_path / "monitor.csv", _pulse(), header="ABP_mmHg")
    _wave_csv(tmp_path / "backup.csv.gz", _pulse(), header="ABP_mmHg")
    rec = read_record(tmp_path)
    assert sorted(rec.channels) == ["backup/ABP", "monitor/ABP"]
    assert {c.role for c in rec.channels.values()} == {"ABP"}
    with gzip.open(tmp_path / "backup.csv.gz", "rt") as fh:
        assert fh.readline().strip() == "time_s,ABP_mmHg"


# --- VitalDB ------------------------------------------------------------------------

def test_vital_without_vitaldb(tmp_path, monkeypatch):
    (tmp_path / "case.vital").write_bytes(b"")
    monkeypatch.setitem(sys.modules, "vitaldb", None)  # import now raises ImportError
    with pytest.raises(RecordError, match=r'pip install "cardiosim\[vital\]"') as err:
        read_record(tmp_path / "case.vital")
    assert "case.vital" in str(err.value)


def test_damaged_vital_file(tmp_path):
    pytest.importorskip("vitaldb")
    (tmp_path / "bad.vital").write_bytes(b"this is not gzip")
    with pytest.raises(RecordError, match="bad.vital"):
        read_record(tmp_path / "bad.vital")
    with gzip.open(tmp_path / "empty.vital", "wb") as fh:
        fh.write(b"NOTVITAL")
    with pytest.raises(RecordError, match="no wave or numeric track"):
        read_record(tmp_path / "empty.vital")
