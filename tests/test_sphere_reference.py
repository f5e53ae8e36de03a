"""The BCS sphere against an independent SciPy Radau integration (rtol 1e-10) of the
equations of the model of Caruel et al. 2014 (tests/reference_sphere.py shares no code with the
kernels). svzerod 3.2 has no BCS law, so this is the cross-check of the full model.
Measured at dt = 1 ms: EDV, ESV, SBP and peak P_v within 0.002 %, DBP within 0.04 %.
"""

import numpy as np
import pytest

import cardiosim as cs
from cardiosim.units import MMHG
from reference_sphere import reference_beat


def test_bcs_beat_matches_radau_reference():
    model = cs.SphereModel(dt=1e-3)
    st = model.initial_state()
    model.run(st, np.full(8, 0.8), record=False)
    ref = reference_beat(model, st.copy(), 0.8, rtol=1e-10)
    b = model.simulate(rr=[0.8], state=st.copy()).last_beat()
    expected = {"EDV_mL": ref["V"].max() * 1e6, "ESV_mL": ref["V"].min() * 1e6,
                "SBP_mmHg": ref["P_ar"].max() / MMHG, "Pv_max_mmHg": ref["P_v"].max() / MMHG,
                "DBP_mmHg": ref["P_ar"].min() / MMHG}
    for key, value in expected.items():
        # README: within 0.002 %, DBP 0.04 % (measured: 1.2e-5 on EDV, DBP 3.4e-4)
        tol = 4e-4 if key == "DBP_mmHg" else 2e-5
        assert b[key] == pytest.approx(value, rel=tol), key
    # physiological sanity of the reference itself
    assert 100 < expected["SBP_mmHg"] < 130 and 100 < expected["EDV_mL"] < 140
