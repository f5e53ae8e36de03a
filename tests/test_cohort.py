"""calibrate-cohort: one record per Dask task, same results as the serial run."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from cardiosim.assimilation import synthetic
from cardiosim.assimilation import CalibrationSettings, cohort
from cardiosim.assimilation.cohort import calibrate_cohort, find_records, record_names
from cardiosim.cli import main
from cardiosim.signals import RecordError
from cardiosim.units import MMHG

# small and fast: 60 s records, two parameters, short first fit
SETTINGS = CalibrationSettings(estimate=("sigma0", "Rd"), fit_beats=20, burn_in_beats=10)
GOOD = ("p1", "p2", "p3")


def _write_patient(path, seed):
    record, _ = synthetic.patient(duration_s=60, artefacts=False, seed=seed)
    ch = record.channel("ABP")
    pd.DataFrame({"time_s": ch.times_s, "ABP_mmHg": ch.values / MMHG}).to_csv(
        path, index=False, float_format="%.4f")


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    """Three synthetic patients and a flat line (no beat: it cannot be calibrated)."""
    folder = tmp_path_factory.mktemp("cohort-in")
    for seed, name in enumerate(GOOD, start=1):
        _write_patient(folder / f"{name}.csv", seed)
    t = np.arange(0, 30, 0.008)
    pd.DataFrame({"time_s": t, "ABP_mmHg": np.full(t.size, 80.0)}).to_csv(folder / "flat.csv", index=False)
    (folder / "notes.txt").write_text("not a record\n")
    return folder


@pytest.fixture(scope="module")
def serial(records, tmp_path_factory):
    out = tmp_path_factory.mktemp("cohort-serial")
    return out, calibrate_cohort(records, out, SETTINGS, serial=True, progress=False)


def _without_timing(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=list(cohort.TIMING_COLUMNS))


def test_bad_record_is_reported_and_the_others_are_calibrated(serial):
    out, table = serial
    assert list(table["record"]) == ["flat", *GOOD]  # sorted, notes.txt ignored
    status = dict(zip(table["record"], table["status"]))
    assert status == {"flat": "error", "p1": "ok", "p2": "ok", "p3": "ok"}
    bad = table.set_index("record").loc["flat"]
    assert "flat.csv" in bad["error"] and bad["error_type"] in ("ObservationError", "RecordError")
    assert not (out / "flat").exists()
    for name in GOOD:
        assert {p.name for p in (out / name).iterdir()} >= {"calibration.csv", "run.json", "trends.png",
                                                           "overlay.png"}
    ok = table[table["status"] == "ok"]
    assert (ok["beats"] > 50).all() and (ok["rmse_median_mmHg"] < 3).all()
    assert (ok["estimated"] == "sigma0,Rd").all() and ok["sigma0"].notna().all()
    meta = json.loads((out / "cohort.json").read_text())
    assert meta["records"] == {"total": 4, "ok": 3, "error": 1}
    assert meta["scheduler"]["mode"] == "serial"
    assert meta["parameters"]["settings"]["estimate"] == ["sigma0", "Rd"]
    assert meta["versions"]["cardiosim"] and meta["seed"] == 0
    on_disk = pd.read_csv(out / "cohort.csv")
    assert list(on_disk["record"]) == list(table["record"])


def test_local_cluster_gives_the_serial_results(records, serial, tmp_path):
    out_s, table_s = serial
    out = tmp_path / "dask"
    table = calibrate_cohort(records, out, SETTINGS, workers=2, progress=False)
    meta = json.loads((out / "cohort.json").read_text())
    assert meta["scheduler"]["mode"] == "local" and meta["scheduler"]["workers"] == 2
    assert meta["scheduler"]["distributed"]
    # the rows as returned (full precision), apart from the timing, are identical
    pd.testing.assert_frame_equal(_without_timing(table), _without_timing(table_s), check_exact=True)
    for name in GOOD:
        a = pd.read_csv(out_s / name / "calibration.csv")
        b = pd.read_csv(out / name / "calibration.csv")
        pd.testing.assert_frame_equal(b, a, check_exact=True)
    pd.testing.assert_frame_equal(_without_timing(pd.read_csv(out / "cohort.csv")),
                                  _without_timing(pd.read_csv(out_s / "cohort.csv")), check_exact=True)


def test_cli_calibrate_cohort(records, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(records / "p1.csv", folder / "p1.csv")
    out = tmp_path / "out"
    code = main(["calibrate-cohort", str(folder), "--out", str(out), "--workers", "0",
                 "--estimate", "sigma0,Rd", "--quiet"])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "1 of 1 records calibrated" in text
    table = pd.read_csv(out / "cohort.csv")
    assert list(table["record"]) == ["p1"] and list(table["status"]) == ["ok"]
    assert (out / "p1" / "calibration.csv").is_file()
    # the command is taken from sys.argv (as for `cardiosim calibrate`), here pytest's
    run = json.loads((out / "p1" / "run.json").read_text())
    assert run["command"].startswith("cardiosim ") and run["command"].endswith("p1.csv")
    meta = json.loads((out / "cohort.json").read_text())
    assert meta["scheduler"]["mode"] == "serial" and meta["records"]["ok"] == 1


def test_cli_rejects_workers_with_scheduler(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["calibrate-cohort", str(tmp_path), "--workers", "2", "--scheduler", "tcp://localhost:8786"])
    assert "not allowed with" in capsys.readouterr().err


def test_unexpected_failure_of_one_task_does_not_lose_the_cohort(records, tmp_path, monkeypatch):
    def broken(path, settings, out_dir, name=None, command=""):
        if name == "p2":
            raise RuntimeError("bug in one task")
        return {"record": name, "path": str(path), "status": "ok", "elapsed_s": 0.0}

    monkeypatch.setattr(cohort, "calibrate_one", broken)
    table = calibrate_cohort(records, tmp_path, SETTINGS, serial=True, progress=False)
    row = table.set_index("record").loc["p2"]
    assert row["status"] == "error" and row["error_type"] == "RuntimeError"
    meta = json.loads((tmp_path / "cohort.json").read_text())
    assert "bug in one task" in meta["tracebacks"]["p2"]


def test_find_records(tmp_path):
    with pytest.raises(RecordError, match=str(tmp_path)):
        find_records(tmp_path)
    for name in ("b.csv", "a.csv.gz", "c.parquet", "rec.hea", "rec.dat", "x.hea", "x.csv", "notes.txt",
                 ".hidden.csv"):
        (tmp_path / name).write_text("")
    tracks = tmp_path / "bed7"
    tracks.mkdir()
    (tracks / "ABP.csv").write_text("")
    (tmp_path / "empty").mkdir()
    out = tmp_path / "results"
    (out / "p1").mkdir(parents=True)
    (out / "cohort.csv").write_text("")
    found = find_records(tmp_path, exclude=[out])
    assert [p.name for p in found] == ["a.csv.gz", "b.csv", "bed7", "c.parquet", "rec.hea", "x.csv", "x.hea"]
    assert record_names(found) == ["a", "b", "bed7", "c", "rec", "x.csv", "x.hea"]
    assert find_records(tmp_path) == sorted(found + [out], key=lambda p: p.name)
    with pytest.raises(RecordError, match="no such folder"):
        find_records(tmp_path / "missing")
