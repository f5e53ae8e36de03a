"""Analysis of records that cannot be analysed: clear errors naming file and channel."""

import numpy as np
import pytest
from conftest import data_dir

from cardiosim.cli import main
from cardiosim.signals import Channel, MonitoringRecord, RecordError, analyse_arterial
from cardiosim.assimilation.synthetic import arterial_pressure, synthetic_record
from cardiosim.units import MMHG


def _rec(values, unit="Pa", name="ART", role="ABP"):
    ch = Channel(name=name, role=role, values=values, fs_hz=125.0, unit=unit, source_unit="mmHg")
    return MonitoringRecord(source="bedside.csv", channels={name: ch})


def test_no_pressure_channel_names_file_and_channels():
    ecg = Channel(name="II", role="ECG", values=np.sin(np.arange(5000) / 10), fs_hz=250.0,
                  unit="V", source_unit="mV")
    rec = MonitoringRecord(source="monitor.hea", channels={"II": ecg})
    with pytest.raises(RecordError, match=r"monitor\.hea.*no arterial pressure channel.*II \(ECG"):
        analyse_arterial(rec)


@pytest.mark.parametrize("values,message", [
    (np.full(2000, np.nan), "every sample is missing"),
    (np.full(2000, 90 * MMHG), "constant at 90.0 mmHg"),
    (np.r_[np.full(1000, np.nan), np.linspace(80, 90, 300) * MMHG], "only 2.4 s of signal"),
])
def test_unusable_signal(values, message):
    with pytest.raises(RecordError, match=rf"bedside\.csv: channel 'ART': .*{message}"):
        analyse_arterial(_rec(values))


def test_non_pulsatile_signal_finds_no_beat():
    rng = np.random.default_rng(0)
    with pytest.raises(RecordError, match="channel 'ART': no heartbeat found"):
        analyse_arterial(_rec((80 + 0.05 * rng.standard_normal(5000)) * MMHG))


def test_channel_that_is_not_a_pressure():
    with pytest.raises(RecordError, match=r"channel 'ART': unit 'mmHg' is not a pressure"):
        analyse_arterial(_rec(np.ones(3000), unit="V"))


def test_no_value_is_nan_in_clean_beats():
    p, _ = arterial_pressure(duration_s=30.0, seed=2)
    b = analyse_arterial(synthetic_record(p, 125.0)).beats
    numeric = b.select_dtypes("number").drop(columns=["r_peak_s", "pat_s"])
    assert np.isfinite(numeric.to_numpy(float)).all()


def test_cli_inspect_record_with_figure(tmp_path, capsys):
    rec = data_dir() / "wfdb-python-icu-flac" / "mixedsignals.hea"
    if not rec.exists():
        pytest.skip(f"shared data not found at {rec.parent} (set CARDIOSIM_DATA)")
    assert main(["inspect", str(rec), "--plot", str(tmp_path / "f.png"),
                 "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "beats: 385 detected, 373 clean" in out
    assert "gap              0.00 -      1.54 s" in out
    assert "ECG R-peak at 64.37 s without pulse" in out
    assert (tmp_path / "f.png").stat().st_size > 10_000
    assert (tmp_path / "o" / "beats.csv").exists() and (tmp_path / "o" / "inspect.json").exists()


def test_cli_inspect_without_abp_reports_and_succeeds(capsys):
    rec = data_dir() / "challenge-2015" / "a103l.hea"
    if not rec.exists():
        pytest.skip(f"shared data not found at {rec.parent} (set CARDIOSIM_DATA)")
    assert main(["inspect", str(rec)]) == 0
    out = capsys.readouterr().out
    assert "no arterial pressure channel" in out and "PLETH" in out


def test_cli_inspect_unknown_role_channel(capsys):
    rec = data_dir() / "challenge-2015" / "a103l.hea"
    if not rec.exists():
        pytest.skip(f"shared data not found at {rec.parent} (set CARDIOSIM_DATA)")
    assert main(["inspect", str(rec), "--role", "ABP=ART9"]) == 2
    err = capsys.readouterr().err
    assert "a103l" in err and "ART9" in err
