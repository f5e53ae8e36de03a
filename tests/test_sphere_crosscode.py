"""cardiosim against svZeroDSolver (pip package svzerod) run side by side.

svzerod 3.2's ChamberSphere has the simplified Bestel activation and the exponential
material, so the comparison uses the Caruel geometry, passive law, viscosity, valves and
two-stage Windkessel (Caruel et al. 2014, as in svZeroDSolver's Caruel test case) with the
simplified law. sigma_max = 22 kPa gives a physiological beat with this geometry (the
185 kPa of svzerod's docstring example belongs to a 50 mm sphere and empties this one below
its reference volume).
Measured: every indicator within 0.01 % (asserted); 1 % was the target.
"""

import pytest

import cardiosim as cs
from cardiosim.models import crosscode

import os

# in CI the comparison must run: a missing svzerod is an install defect, not a reason to skip
pytestmark = pytest.mark.skipif(not crosscode.svzerod_available() and not os.environ.get("CI"),
                                reason="svzerod is not installed (pip install '.[test]')")

KEYS = ["EDV_mL", "ESV_mL", "Pv_max_mmHg", "SBP_mmHg", "DBP_mmHg"]


@pytest.fixture(scope="module")
def pair():
    params = cs.SphereParameters.simplified_bestel(sigma_max=22e3)
    model = cs.SphereModel(params, dt=0.5e-3)
    ours = model.simulate(hr=75, until_periodic=True, tol=1e-8)
    assert ours.periodic
    df = crosscode.run_sphere(crosscode.sphere_config(model, 0.8, 6400, cycles=40))
    theirs = crosscode.indicators(df, params.R0)
    return ours.last_beat(), theirs


@pytest.mark.parametrize("key", KEYS)
def test_periodic_beat_matches_svzerod(pair, key):
    ours, theirs = pair
    # README: within 0.01 % (measured: largest 8.3e-5, on SBP); the target was 1 %
    assert ours[key] == pytest.approx(theirs[key], rel=1e-4)


def test_compared_beat_is_physiological(pair):
    ours, _ = pair
    assert 90 < ours["SBP_mmHg"] < 110 and 0.45 < ours["EF"] < 0.75
