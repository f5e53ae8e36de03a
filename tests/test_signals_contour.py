"""Classical pulse-contour estimators on pressures whose stroke volume is known.

A three-element Windkessel (Zc, C, R, outflow pressure 0) driven by a half-sine ejection
of known stroke volume: diastole decays exactly as exp(-t / RC), the pressure is linear in the
flow, and inverting the same Windkessel recovers the ejected volume. Records joined end to end.
"""

import numpy as np
import pandas as pd
import pytest

from cardiosim.signals import RecordError
from cardiosim.signals.contour import ESTIMATORS, calibrate_estimates, estimates, waveform_features
from cardiosim.signals.join import join_records
from cardiosim.signals.record import Channel, MonitoringRecord

FS = 1000.0
RR, TE = 0.8, 0.3          # beat and ejection [s]
R, C = 1.0, 1.5            # mmHg s/mL, mL/mmHg
ZC = 0.05 * R


def windkessel(sv_ml: float, beats: int = 40):
    """Pressure [mmHg] of the 3-element Windkessel and the beat table of its last 10 beats."""
    n = int(round(RR * FS))
    t1 = np.arange(n) / FS
    q1 = np.where(t1 < TE, np.sin(np.pi * t1 / TE), 0.0)
    q1 *= sv_ml / (q1.sum() / FS)
    q = np.tile(q1, beats)
    pw = np.empty(q.size)
    pw[0] = 60.0 * sv_ml / 70.0   # so that the pressure is exactly linear in sv_ml
    h = 1.0 / FS
    a = 1.0 / (R * C)
    for i in range(1, q.size):   # trapezoid on C dPw/dt = Q - Pw / R
        pw[i] = (pw[i - 1] * (1 - 0.5 * h * a) + 0.5 * h * (q[i] + q[i - 1]) / C) / (1 + 0.5 * h * a)
    p = pw + ZC * q
    t = np.arange(q.size) / FS
    rows = []
    for k in range(beats - 10, beats):
        i0, i1 = k * n, (k + 1) * n
        seg = p[i0:i1]
        rows.append({"foot_s": t[i0], "notch_s": t[i0] + TE, "end_s": t[i0] + RR, "onset_s": t[i0],
                     "peak_s": t[i0 + int(np.argmax(seg))], "sbp_mmHg": seg.max(), "dbp_mmHg": seg[0],
                     "map_mmHg": seg.mean(), "pp_mmHg": seg.max() - seg[0], "rr_s": RR, "clean": True})
    return t, p, pd.DataFrame(rows)


def test_diastolic_decay_gives_rc_and_the_windkessel_inversion_gives_the_stroke_volume():
    t, p, beats = windkessel(70.0)
    f = waveform_features(t, p, beats, zc_fraction=ZC / R)
    assert f.tau_s.to_numpy() == pytest.approx(R * C, rel=2e-3)
    # ejection into a unit-compliance model x C = the stroke volume
    assert (f.wk3_ejection_mL * C).to_numpy() == pytest.approx(70.0, rel=0.01)


def test_every_estimator_scales_with_the_flow_but_liljestrand():
    t, p, a = windkessel(60.0)
    _, p2, b = windkessel(78.0)
    ea, eb = estimates(a, waveform_features(t, p, a)), estimates(b, waveform_features(t, p2, b))
    assert list(ea.columns) == list(ESTIMATORS)
    ratio = eb / ea
    for name in ESTIMATORS:
        if name == "liljestrand":
            # PP / (SBP + DBP) does not change when the whole pressure scales
            assert ratio[name].to_numpy() == pytest.approx(1.0, rel=1e-9)
        elif name == "wesseling":
            # its (163 + HR - 0.48 MAP) factor falls as MAP rises with the flow
            assert (ratio[name] < 1.3).all()
        else:
            assert ratio[name].to_numpy() == pytest.approx(1.3, rel=1e-6), name
    sv = calibrate_estimates(pd.concat([ea, eb], ignore_index=True), 60.0,
                             np.r_[np.ones(len(ea), bool), np.zeros(len(eb), bool)])
    # calibrated on the first set (median of its beats), the pulse-pressure proxy gives 78 mL
    # (to the start-up transient left after 30 beats, measured 5e-9)
    assert sv.pulse_pressure.iloc[len(ea):].to_numpy() == pytest.approx(78.0, rel=1e-7)


def test_calibration_needs_a_beat_and_a_positive_reference():
    t, p, a = windkessel(60.0, beats=12)
    e = estimates(a, waveform_features(t, p, a))
    with pytest.raises(RecordError, match="no beat at the reference"):
        calibrate_estimates(e, 60.0, np.zeros(len(e), bool))
    with pytest.raises(RecordError, match="reference SV must be > 0 mL"):
        calibrate_estimates(e, -1.0, np.ones(len(e), bool))


def _rec(name, n, fs=100.0, offset=0.0):
    ch = Channel("ABP", "ABP", np.arange(n) + offset, fs, "Pa", "mmHg")
    return MonitoringRecord(name, {"ABP": ch})


def test_join_records_end_to_end():
    j = join_records([_rec("a", 300), _rec("b", 200, offset=1000)])
    ch = j.channel("ABP")
    assert ch.n_samples == 500 and ch.values[300] == 1000.0
    assert [p["start_s"] for p in j.provenance["parts"]] == [0.0, 3.0]
    assert j.duration_s == pytest.approx(5.0)
    with pytest.raises(RecordError, match="channel ABP of b is at 50 Hz"):
        join_records([_rec("a", 300), _rec("b", 200, fs=50.0)])
    with pytest.raises(RecordError, match="no record to join"):
        join_records([])


def test_channel_integral_over_windows():
    ch = Channel("Q", None, np.full(1000, 2.0), 100.0, "m^3/s", "m^3/s")   # 10 s of 2 m^3/s
    v = ch.integrals(np.array([0.0, 2.5, 9.0, -1.0]), np.array([1.0, 3.5, 11.0, 0.5]))
    np.testing.assert_allclose(v[:2], [2.0, 2.0], rtol=1e-12)
    assert np.isnan(v[2]) and np.isnan(v[3])          # leaves the channel
    gap = Channel("Q", None, np.r_[np.full(500, 2.0), np.nan, np.full(499, 2.0)], 100.0, "m^3/s", "m^3/s")
    assert np.isnan(gap.integrals(np.array([4.0]), np.array([6.0]))[0])
