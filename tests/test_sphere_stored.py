"""The 0D sphere and the assimilation forecast reproduce stored results bit for bit.

``tests/data/sphere_reference.npz`` was written by ``tests/data/make_sphere_reference.py``
at the commit it names; a refactoring of the time step must not change a single bit.
"""

import pathlib

import numpy as np
import pytest

from data.make_sphere_reference import cases, forecast_case

STORED = np.load(pathlib.Path(__file__).parent / "data" / "sphere_reference.npz")


@pytest.mark.parametrize("name,model,rr", cases(), ids=[c[0] for c in cases()])
def test_sphere_beats_are_bit_identical_to_the_stored_run(name, model, rr):
    res = model.simulate(rr=rr)
    assert np.array_equal(res.raw, STORED[name + "/raw"])
    assert np.array_equal(res.final_state, STORED[name + "/final"])


def test_assimilation_forecast_is_bit_identical_to_the_stored_run():
    Z, S, X = forecast_case()
    assert np.array_equal(Z, STORED["forecast/Z"])
    assert np.array_equal(S, STORED["forecast/summary"])
    assert np.array_equal(X, STORED["forecast/X"])
