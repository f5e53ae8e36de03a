"""The example notebooks run top to bottom (their own asserts included)."""

import pathlib

import pytest
from conftest import data_dir

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

EXAMPLES = pathlib.Path(__file__).parents[1] / "examples"


def _execute(name, tmp_path):
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit notebooks stripped"
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    return nb


def _stdout(nb) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []) if o.output_type == "stream")


@pytest.mark.parametrize("name", ["01_heartbeat_0d.ipynb", "03_heartbeat_3d.ipynb"])
def test_notebook_executes(name, tmp_path):
    _execute(name, tmp_path)


def test_calibration_notebook_executes_on_the_real_record_when_present(tmp_path, monkeypatch):
    """02 calibrates the real ICU record of the data folder (the kernel inherits
    CARDIOSIM_DATA), or the synthetic patient when the folder does not hold it."""
    monkeypatch.setenv("CARDIOSIM_DATA", str(data_dir()))
    nb = _execute("02_calibrate_arterial_line.ipynb", tmp_path)
    out = _stdout(nb)
    real = (data_dir() / "wfdb-python-icu-flac" / "mixedsignals.hea").exists()
    assert ("Recording used: a real ICU recording" if real else "Recording used: the synthetic") in out, out[:500]
    assert "calibration of" in out and "median model-vs-measured RMSE" in out
