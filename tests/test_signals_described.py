"""Records whose layout the user gives: headerless tables (--columns), .mat files without a
header (--fs), units per channel (--unit); from Python and from the command line."""

import gzip

import numpy as np
import pandas as pd
import pytest
from scipy.io import savemat

from cardiosim.cli import main
from cardiosim.signals import RecordError, analyse_arterial, read_record
from conftest import data_dir

MCL = data_dir() / "fda-mcl-co" / "COres" / "normovolemic" / "NV_step1_COresolution.csv.gz"
COLUMNS = ["time_s", "flow_mL_s", "ABP_central_mmHg", "ABP_mmHg"]
needs_mcl = pytest.mark.skipif(not MCL.exists(), reason=f"mock-loop record not found: {MCL}")


@needs_mcl
def test_headerless_mock_loop_table_reads_with_named_columns():
    rec = read_record(MCL, columns=COLUMNS)
    assert set(rec.channels) == {"flow", "ABP_central", "ABP"}
    flow = rec.channels["flow"]
    assert flow.source_unit == "mL/s" and flow.unit == "m^3/s" and flow.fs_hz == pytest.approx(1000.0)
    raw = pd.read_csv(MCL, header=None).to_numpy()
    np.testing.assert_allclose(flow.values, raw[:, 1] * 1e-6, rtol=1e-12)
    np.testing.assert_allclose(rec.channels["ABP"].values, raw[:, 3] * 133.322387415, rtol=1e-12)
    assert rec.channels["ABP"].role == "ABP"
    # the flow sensor's cardiac output: 4.2-5.8 L/min on the normovolemic steps
    co = flow.values.mean() * 60e3
    assert 4.2 < co < 5.8
    assert len(analyse_arterial(rec).clean) > 60


@needs_mcl
def test_inspect_reads_a_headerless_table_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "ins"
    assert main(["inspect", str(MCL), "--columns", ",".join(COLUMNS), "--out", str(out)]) == 0
    beats = pd.read_csv(out / "beats.csv")
    assert len(beats) == len(analyse_arterial(read_record(MCL, columns=COLUMNS)).beats)
    assert "flow" in capsys.readouterr().out


@needs_mcl
def test_column_count_mismatch_names_both_counts():
    with pytest.raises(RecordError, match=r"--columns names 3 columns .* the file has 4 per line"):
        read_record(MCL, columns=COLUMNS[:3])


def test_units_per_channel_from_the_command_line(tmp_path, capsys):
    t = np.arange(0, 20, 0.008)
    p = 80 + 20 * np.clip(np.sin(2 * np.pi * 1.25 * t), 0, None)
    f = tmp_path / "plain.csv.gz"
    with gzip.open(f, "wt") as fh:
        for ti, pi in zip(t, p):
            fh.write(f"{ti:.3f},{pi / 7.50062:.5f}\n")  # kPa, unlabelled
    rec = read_record(f, columns=["time_s", "ABP"], units={"ABP": "kPa"})
    np.testing.assert_allclose(rec.channels["ABP"].values / 133.322387415, p, rtol=1e-5)
    out = tmp_path / "ins"
    assert main(["inspect", str(f), "--columns", "time_s,ABP", "--unit", "ABP=kPa", "--out", str(out)]) == 0
    assert pd.read_csv(out / "beats.csv")["sbp_mmHg"].median() == pytest.approx(100.0, abs=0.5)


def test_header_line_with_columns_is_refused(tmp_path):
    f = tmp_path / "with_header.csv"
    f.write_text("time_s,ABP_mmHg\n0,80\n0.008,81\n")
    with pytest.raises(RecordError, match="looks like a header"):
        read_record(f, columns=["time_s", "ABP_mmHg"])


def test_mat_file_without_header_needs_rate_and_names(tmp_path):
    fs = 125.0
    val = np.vstack([np.arange(500) % 100 + 60.0, np.full(500, 0.5)])
    f = tmp_path / "rec.mat"
    savemat(f, {"val": val})
    rec = read_record(f, columns=["ABP_mmHg", "ECG_mV"], fs_hz=fs)
    assert rec.channels["ABP"].fs_hz == fs and rec.channels["ECG"].source_unit == "mV"
    np.testing.assert_allclose(rec.channels["ABP"].values, val[0] * 133.322387415, rtol=1e-12)
    with pytest.raises(RecordError, match=r"needs the sampling rate \(--fs HZ\)"):
        read_record(f, columns=["ABP_mmHg", "ECG_mV"])
    with pytest.raises(RecordError, match="--columns names 3 signals, the matrix 'val' holds 2"):
        read_record(f, columns=["ABP_mmHg", "ECG_mV", "PLETH"], fs_hz=fs)
    with pytest.raises(RecordError, match=r"must be a number > 0 Hz, got -1"):
        read_record(f, columns=["ABP_mmHg", "ECG_mV"], fs_hz=-1.0)
