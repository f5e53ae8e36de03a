"""What arterial pressure alone can identify, measured on the model itself."""

import numpy as np

import cardiosim as cs
from cardiosim.assimilation import BeatOperator, ParameterSet
from cardiosim.assimilation.identifiability import COLLINEARITY_LIMIT, analyse, sensitivities


def test_sensitivities_do_not_depend_on_the_difference_step():
    model = cs.SphereModel()
    op = BeatOperator(model, ParameterSet.build(model, "sigma0,Rd,P_at"))
    a = sensitivities(op, np.zeros(3), 0.8, step=0.02)
    b = sensitivities(op, np.zeros(3), 0.8, step=0.005)
    scale = np.abs(a).max(axis=0)
    assert np.all(np.abs(a - b).max(axis=0) < 0.02 * scale)


def test_pressure_alone_cannot_separate_every_parameter():
    r = analyse(cs.SphereModel())
    # all eight candidates together: practically not identifiable
    assert r.collinearity > 100
    # passive stiffness and filling pressure act through the same end-diastolic volume
    i, j = r.names.index("C0"), r.names.index("P_at")
    assert abs(r.correlation[i, j]) > 0.95
    assert not ("C0" in r.selected and "P_at" in r.selected)
    # contractility and resistance are the best seen, and always chosen
    assert {"sigma0", "Rd"} <= set(r.selected)
    sub = [r.names.index(n) for n in r.selected]
    from cardiosim.assimilation.identifiability import _stats
    from cardiosim.units import MMHG
    _, _, rank, _, coll = _stats(r.sensitivity[:, sub] / (2 * MMHG) * 10)
    assert rank == len(sub) and coll < COLLINEARITY_LIMIT
    assert "identifiable together" in r.report()
