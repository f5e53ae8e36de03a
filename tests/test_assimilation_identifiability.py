"""What arterial pressure alone can identify, measured on the model itself."""

import numpy as np
import pytest

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
    model = cs.SphereModel()
    r = analyse(model)
    # all eight candidates together: practically not identifiable (README: index about 1,000)
    assert len(r.names) == 8 and r.rank == 8
    assert r.collinearity == pytest.approx(1000, rel=0.1)
    # passive stiffness and filling pressure act through the same end-diastolic volume
    # (README: correlation 0.99)
    i, j = r.names.index("C0"), r.names.index("P_at")
    assert abs(r.correlation[i, j]) > 0.99
    # the greedy choice below index 15, the default estimated set
    assert r.selected == ("sigma0", "Rd", "P_at", "Rp")
    assert "identifiable together: sigma0, Rd, P_at, Rp" in r.report()
    # that set on its own: full rank, below the collinearity limit, and kept whole
    alone = analyse(model, candidates=r.selected)
    assert alone.rank == 4 and alone.collinearity < COLLINEARITY_LIMIT
    assert alone.selected == r.selected
