"""Bad input gives clear errors naming the parameter and value; solver failures keep state."""

import math

import numpy as np
import pytest

import cardiosim as cs
from cardiosim.units import UnitError


@pytest.mark.parametrize("name, value, match", [
    ("R0", 0.0, r"R0 must be > 0, got 0.0"),
    ("d0", -0.01, r"d0 must be > 0, got -0.01"),
    ("sigma0", float("nan"), r"sigma0 is not finite"),
    ("Es", float("inf"), r"Es is not finite"),
])
def test_invalid_sphere_parameters(name, value, match):
    with pytest.raises(cs.ParameterError, match=match):
        cs.SphereParameters(**{name: value})


@pytest.mark.parametrize("cls, kwargs, match", [
    (cs.TwoStageWindkessel, {"Cp": 0.0}, r"Cp must be > 0, got 0.0"),
    (cs.TwoStageWindkessel, {"Rd": -1e8}, r"Rd must be > 0, got -100000000.0"),
    (cs.Windkessel2, {"C": float("nan")}, r"C is not finite"),
    (cs.Valve, {"r_open": 0.0}, r"r_open must be > 0"),
    (cs.AtrialPreload, {"pressure": -5.0}, r"pressure must be > 0, got -5.0"),
])
def test_invalid_circulation_parameters(cls, kwargs, match):
    with pytest.raises(cs.ParameterError, match=match):
        cls(**kwargs)


def test_unknown_parameter_name_lists_known_ones():
    with pytest.raises(cs.ParameterError, match=r"unknown parameter 'sigma_0'.*sigma0"):
        cs.SphereModel().with_values({"sigma_0": "120 kPa"})


@pytest.mark.parametrize("text", ["150 kPaa", "abc", "", "12 mL"])
def test_malformed_units_name_parameter_and_text(text):
    with pytest.raises(cs.ParameterError) as info:
        cs.SphereModel().with_values({"sigma0": text})
    assert "sigma0" in str(info.value)
    if text:
        assert text.split()[-1] in str(info.value)


def test_units_are_applied():
    m = cs.SphereModel().with_values({"sigma0": "150 kPa", "Cp": "0.5 mL/mmHg", "P_at": "8 mmHg"})
    assert m.params.sigma0 == 150e3
    assert m.circulation.afterload.Cp == pytest.approx(0.5e-6 / 133.322387415)
    assert m.circulation.preload.pressure == pytest.approx(8 * 133.322387415)


@pytest.mark.parametrize("hr", [0, -60, float("nan")])
def test_zero_or_invalid_heart_rate(hr):
    with pytest.raises((cs.ParameterError, UnitError), match="rate"):
        cs.SphereModel().simulate(beats=2, hr=hr)


def test_rr_out_of_range_names_index_and_value():
    with pytest.raises(cs.ParameterError, match=r"rr\[2\] = 0.05 s"):
        cs.SphereModel().simulate(rr=[0.8, 0.8, 0.05])


def test_newton_failure_reports_time_and_keeps_last_good_state():
    model = cs.SphereModel(dt=2e-3, max_newton=1)  # one iteration cannot converge
    with pytest.raises(cs.SolverError) as info:
        model.simulate(beats=2)
    err = info.value
    assert "t = " in str(err) and math.isfinite(err.time_s)
    assert {"y", "P_v", "P_ar", "P_d"} <= set(err.state)
    assert all(math.isfinite(v) for v in err.state.values())


def test_failure_midway_returns_the_completed_beats(monkeypatch):
    model = cs.SphereModel(dt=2e-3)
    real_run = cs.SphereModel.run
    calls = {"n": 0}

    def failing_third_beat(self, state, beat_lengths, record=True, arrays=None):
        calls["n"] += 1
        if calls["n"] == 3:
            raise cs.SolverError("injected failure", time_s=float(state[0]), state={"t": float(state[0])})
        return real_run(self, state, beat_lengths, record, arrays)

    monkeypatch.setattr(cs.SphereModel, "run", failing_third_beat)
    with pytest.raises(cs.SolverError) as info:
        model.simulate(beats=5, hr=75)
    partial = info.value.partial
    assert partial.n_beats == 2
    assert np.isfinite(partial.raw).all()
    assert partial.timeseries.t_s.iloc[-1] == pytest.approx(1.6)
    assert info.value.time_s == pytest.approx(1.6)
    beats = partial.beats
    assert len(beats) == 2 and beats.SV_mL.notna().all()
