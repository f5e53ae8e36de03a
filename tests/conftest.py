import os
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))

import cardiosim as cs  # noqa: E402


@pytest.fixture(scope="session")
def baseline_periodic():
    """Periodic baseline beat (Caruel 2014 parameters, 75 bpm, dt = 1 ms)."""
    model = cs.SphereModel(dt=1e-3)
    res = model.simulate(hr=75, until_periodic=True, tol=1e-7)
    return model, res


def data_dir() -> pathlib.Path:
    return pathlib.Path(os.environ.get("CARDIOSIM_DATA", pathlib.Path(__file__).parents[2] / "shared" / "data"))
