"""The estimators see a model only through ``cardiosim.models.Ventricle``.

A second model, written here in plain NumPy and knowing nothing of the sphere, a
two-element Windkessel filled by a prescribed half-sine ejection, is calibrated by the same
operator and filter: the assimilation holds no model-specific code.
"""

import dataclasses
import math

import numpy as np
import pytest

import cardiosim as cs
from cardiosim.assimilation import BeatOperator, ParameterSet, ROUKF, run_filter
from cardiosim.models import BeatBatch, Ventricle
from cardiosim.units import MMHG


@dataclasses.dataclass
class EjectionWindkessel:
    """C dP/dt = Q(t) - P/R with Q a half sine of amplitude q_max over the first 0.3 s."""

    R: float = 1.0e8
    C: float = 1.25e-8
    q_max: float = 4.0e-4
    dt: float = 1e-3
    summary_names = cs.SphereModel.summary_names

    state_names = ("t", "P")
    corrected_states = ("P",)

    def state_scale(self):
        return np.array([1.0, 100.0])

    def initial_state(self):
        return np.array([0.0, 80 * MMHG])

    def steps_per_beat(self, T):
        return int(math.ceil(T / self.dt - 1e-9))

    def parameter_value(self, name):
        if name not in ("R", "C", "q_max"):
            raise cs.ParameterError(f"no parameter {name!r}")
        return float(getattr(self, name))

    def with_values(self, values):
        return dataclasses.replace(self, **values)

    def member_parameters(self, names, theta):
        rows = np.tile([self.R, self.C, self.q_max], (np.atleast_2d(theta).shape[0], 1))
        for i, n in enumerate(names):
            rows[:, ("R", "C", "q_max").index(n)] = np.atleast_2d(theta)[:, i]
        return rows

    def advance_members(self, X, members, T, n_steps):
        h = T / n_steps
        R, C, q = members.T
        p_entry = np.empty((X.shape[0], n_steps))
        for i in range(n_steps):
            tm = (i + 0.5) * h
            Q = q * np.sin(np.pi * tm / 0.3) if tm < 0.3 else 0.0 * q
            P0 = X[:, 1]
            P1 = (P0 * (1 - 0.5 * h / (R * C)) + h * Q / C) / (1 + 0.5 * h / (R * C))
            p_entry[:, i] = 0.5 * (P0 + P1)
            X[:, 1] = P1
        X[:, 0] += T
        ejected = 2 * 0.3 / np.pi * q
        summary = np.full((X.shape[0], len(self.summary_names)), np.nan)
        summary[:, self.summary_names.index("ejected")] = ejected
        return BeatBatch(p_entry, summary, np.ones(X.shape[0], dtype=bool))

    def describe(self):
        return dataclasses.asdict(self)


def test_the_sphere_and_the_toy_model_satisfy_the_protocol():
    assert isinstance(cs.SphereModel(), Ventricle)
    assert isinstance(EjectionWindkessel(), Ventricle)


def test_a_model_written_elsewhere_is_calibrated_by_the_same_filter():
    model = EjectionWindkessel()
    # tracking configuration (small drift), as in test_assimilation_twin.py
    ps = ParameterSet.build(model, "R,C", prior_sd=0.5, drift=0.005)
    op = BeatOperator(model, ps, n_obs=24)
    true = np.log2([[1.3, 0.8]])
    rng = np.random.default_rng(7)
    rr = 0.8 + 0.02 * rng.standard_normal(150)
    x, _, _ = op.periodic(true, 0.8, beats=30)
    z = np.array([op.forecast(x, true, T)[0][0] for T in rr]) + 1 * MMHG * rng.standard_normal((rr.size, 24))
    x0, _, _ = op.periodic(np.zeros((1, 2)), 0.8, beats=30)
    flt = ROUKF(op, x0[0], np.zeros(2), ps.prior_cov(), obs_sd_pa=1 * MMHG)
    track = run_filter(flt, rr, z, np.ones(rr.size, dtype=bool))
    est = ps.theta(track.omega[-1]) / ps.theta0
    np.testing.assert_allclose(est, [1.3, 0.8], rtol=0.02)
    # the band holds the truth
    assert np.all(np.abs(track.omega[-1] - true[0]) < 3 * track.sd[-1])


def test_operator_rejects_a_parameter_the_model_does_not_have():
    with pytest.raises(cs.ParameterError, match="Rd"):
        BeatOperator(EjectionWindkessel(), ParameterSet.build(cs.SphereModel(), "Rd"))
