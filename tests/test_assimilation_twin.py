"""Twin experiments: data made by the model from known parameters, then estimated back.

The observations are the model's own arterial pressure at 32 phases per beat plus 2 mmHg
white noise (seeded); RR varies beat to beat. Parameters: the default identifiable set of
the baseline (sigma0, Rd, P_at, Rp; see test_assimilation_identifiability.py).

Filters run in their tracking configuration (random-walk drift 0.005 log2 per beat). With
no drift at all the filters are overconfident along the sigma0-P_at ridge: the first,
strongly nonlinear updates leave a bias that 400 beats of information remove only slowly
(z-scores of 8 were measured); a small drift keeps the gain honest.
"""

import numpy as np
import pytest

import cardiosim as cs
from cardiosim.assimilation import (BeatOperator, EnKF, ParameterSet, ROUKF, UKF, fit_periodic,
                                    run_filter, simplex_points)
from cardiosim.units import MMHG

NAMES = "sigma0,Rd,P_at,Rp"
TRUE_RATIO = np.array([0.85, 1.25, 1.1, 0.9])
NOISE = 2 * MMHG


@pytest.mark.parametrize("p", [1, 2, 3, 4, 5, 8])
def test_simplex_sigma_points_zero_mean_identity_covariance(p):
    I = simplex_points(p)
    assert I.shape == (p, p + 1)
    np.testing.assert_allclose(I.sum(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(I @ I.T / (p + 1), np.eye(p), atol=1e-12)


def test_simplex_points_p2_match_moireau_chapelle2011():
    I = simplex_points(2)
    expected = np.array([[-1.2247, 1.2247, 0.0], [0.7071, 0.7071, -1.4142]])
    np.testing.assert_allclose(I, expected, atol=1e-4)


def _twin(nb, om_true, seed=3, drift=0.005):
    model = cs.SphereModel()
    ps = ParameterSet.build(model, NAMES, prior_sd=0.5, drift=drift)
    op = BeatOperator(model, ps)
    rng = np.random.default_rng(seed)
    rr = 0.8 + 0.02 * rng.standard_normal(nb)
    x, _, _ = op.periodic(om_true[:1], 0.8, beats=40)
    z = np.array([op.forecast(x, om_true[k:k + 1], rr[k])[0][0] for k in range(nb)])
    z += NOISE * rng.standard_normal(z.shape)
    x0, _, _ = op.periodic(np.zeros((1, ps.p)), 0.8, beats=40)
    return op, ps, rr, z, x0[0]


@pytest.fixture(scope="module")
def constant_twin():
    nb = 400
    om_true = np.tile(np.log2(TRUE_RATIO), (nb, 1))
    return _twin(nb, om_true) + (om_true,)


@pytest.mark.parametrize("cls", [ROUKF, UKF, EnKF])
def test_filter_recovers_parameters_within_5pct_and_2sd(cls, constant_twin):
    op, ps, rr, z, x0, om_true = constant_twin
    flt = cls(op, x0, np.zeros(ps.p), np.eye(ps.p) * 0.5 ** 2, NOISE, seed=1)
    tr = run_filter(flt, rr, z, np.ones(rr.size, bool))
    est = 2.0 ** tr.omega[-1]
    rel = est / TRUE_RATIO - 1
    assert np.all(np.abs(rel) < 0.05), dict(zip(ps.names, rel))
    zscore = (tr.omega[-1] - om_true[-1]) / tr.sd[-1]
    assert np.all(np.abs(zscore) < 2.0), dict(zip(ps.names, zscore))
    # the filter is consistent: normalised innovations average about 1
    assert 0.8 < np.nanmean(tr.nis[50:]) < 1.25
    # covariances stay symmetric positive definite at every beat
    np.testing.assert_allclose(tr.cov, np.swapaxes(tr.cov, 1, 2), atol=1e-14)
    assert np.linalg.eigvalsh(tr.cov).min() > 0


def test_least_squares_recovers_parameters_within_5pct_and_2sd():
    model = cs.SphereModel()
    ps = ParameterSet.build(model, NAMES, prior_sd=1.0)
    op = BeatOperator(model, ps)
    rng = np.random.default_rng(5)
    om_true = np.log2(TRUE_RATIO)
    _, zt, _ = op.periodic(om_true[None], 0.8, beats=60, tol=0.0)
    n_beats = 60
    beats = zt[0] + NOISE * rng.standard_normal((n_beats, zt.shape[1]))
    target = beats.mean(axis=0)
    res = fit_periodic(op, 0.8, target, sd_mean_pa=NOISE / np.sqrt(n_beats))
    rel = 2.0 ** res.omega / TRUE_RATIO - 1
    assert res.success
    assert np.all(np.abs(rel) < 0.05), dict(zip(ps.names, rel))
    zscore = (res.omega - om_true) / res.sd
    assert np.all(np.abs(zscore) < 2.0), dict(zip(ps.names, zscore))
    assert res.rmse_pa < 1.5 * NOISE / np.sqrt(n_beats)


@pytest.mark.parametrize("cls", [ROUKF, UKF])
def test_step_in_contractility_and_resistance_tracked_within_20_beats(cls):
    """-30 % sigma0 and +50 % Rd at mid-record, default drift 0.01 log2/beat."""
    nb = 240
    k0 = nb // 2
    om_true = np.zeros((nb, 4))
    om_true[k0:, 0] = np.log2(0.7)
    om_true[k0:, 1] = np.log2(1.5)
    op, ps, rr, z, x0 = _twin(nb, om_true, seed=4, drift=0.01)
    flt = cls(op, x0, np.zeros(ps.p), np.eye(ps.p) * 0.5 ** 2, NOISE, seed=1)
    tr = run_filter(flt, rr, z, np.ones(nb, bool))
    err = 2.0 ** (tr.omega[:, :2] - om_true[:, :2]) - 1
    before = np.abs(err[k0 - 20:k0]).max(axis=0)
    after = np.abs(err[k0 + 20:]).max(axis=0)
    assert np.all(before < 0.05), before
    assert np.all(after < 0.10), after
    # the step is not instantaneous to the filter: right after it, the error is large
    assert np.abs(err[k0 + 1, 0]) > 0.1
