"""Observed order of the time scheme on EDV, ESV and SBP (dt halved three times).

Errors are taken against a run at dt/64 from the same start state, and the order is the
least-squares slope of log(error) over log(dt) across 4 ms, 2 ms, 1 ms and 0.5 ms.
Measured slopes: EDV 1.8, ESV 2.0, SBP 2.8 (a first-order scheme would give ~1). DBP is
not asserted: its minimum sits at the corner of P_ar(t) when the aortic valve opens, so
sampling it converges at first order whatever the scheme.
"""

import numpy as np

import cardiosim as cs

KEYS = ["EDV_mL", "ESV_mL", "SBP_mmHg"]


def indicators(state, dt):
    res = cs.SphereModel(dt=dt).simulate(rr=[0.8, 0.8], state=state.copy())
    b = res.last_beat()
    return np.array([b[k] for k in KEYS])


def test_second_order_in_time():
    start = cs.SphereModel(dt=1e-3)
    st = start.initial_state()
    start.run(st, np.full(6, 0.8), record=False)
    dts = np.array([4e-3, 2e-3, 1e-3, 5e-4])
    ref = indicators(st, dts[-1] / 8)
    errors = np.array([np.abs(indicators(st, dt) - ref) for dt in dts])
    for j, key in enumerate(KEYS):
        slope = np.polyfit(np.log(dts), np.log(errors[:, j]), 1)[0]
        assert slope > 1.6, f"{key}: observed order {slope:.2f}, errors {errors[:, j]}"
        # and the error shrinks by at least 8x over the three halvings
        assert errors[-1, j] < errors[0, j] / 8, key
