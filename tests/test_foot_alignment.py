"""Each beat observed relative to the model's own foot (``align_foot``).

The data are cut at their measured intersecting-tangent foot; the model's pre-ejection time
moves with contractility and afterload (in the demo story by -8 and +5 ms against baseline),
so a fixed lag shifts the observed points against the model's upstroke. The kernel's foot is
checked against a NumPy reference; in a twin with the demo's story the bands hold the truth
with the alignment and do not without it.
"""

import numpy as np
import pytest

from cardiosim.assimilation import calibrate, kernels as AK
from cardiosim.assimilation.coverage import band_coverage
from cardiosim.assimilation.synthetic import patient


def _foot_numpy(p: np.ndarray, h: float) -> float:
    """Slow reference: tangent at the steepest central difference meets the minimum before it."""
    d = np.array([p[i + 1] - p[i - 1] for i in range(1, p.size - 1)])
    m = 1 + int(np.argmax(d))
    o = int(np.argmin(p[: m + 1]))
    t = (np.arange(p.size) + 0.5) * h
    slope = d[m - 1] / (2 * h)
    return max(t[m] - (p[m] - p[o]) / slope, t[o])


@pytest.mark.parametrize("seed", range(5))
def test_site_foot_kernel_equals_the_numpy_reference(seed):
    rng = np.random.default_rng(seed)
    h = 1e-3
    t = (np.arange(800) + 0.5) * h
    t_up = 0.15 + 0.1 * rng.random()
    # decaying diastole, a smooth upstroke at t_up, a systolic peak and a decay
    p = 80 - 10 * t + 45 / (1 + np.exp(-(t - t_up) / 0.012)) * np.exp(-np.maximum(t - t_up, 0) / 0.6)
    p += 0.05 * rng.standard_normal(t.size)
    f = AK.site_foot(p, p.size, h)
    assert f == pytest.approx(_foot_numpy(p, h), abs=1e-12)
    assert t_up - 0.04 < f < t_up   # the foot precedes the mid-upstroke


def test_a_straight_upstroke_has_its_foot_where_the_tangent_meets_the_minimum():
    h = 1e-3
    t = (np.arange(400) + 0.5) * h
    p = np.where(t < 0.1, 80.0, 80.0 + 1000.0 * (t - 0.1))   # 80 mmHg, then 1000 mmHg/s from 0.1 s
    p = np.minimum(p, 200.0)
    assert AK.site_foot(p, p.size, h) == pytest.approx(0.1, abs=h)


@pytest.fixture(scope="module")
def story():
    return patient(duration_s=400.0, seed=7, artefacts=False, line=None)


def test_bands_hold_the_truth_with_the_alignment_and_not_without(story):
    rec, truth = story
    cov = {}
    for align in (True, False):
        cal = calibrate(rec, beat_fit=False, line=False, estimate=("sigma0", "Rd"), align_foot=align)
        cov[align] = band_coverage(cal.beats, truth, cal.parameters).set_index("quantity")["coverage_pct"]
    for q in ("sigma0", "Rd", "SV"):
        # measured: aligned 99.3 / 86.1 / 99.1 %, fixed lag 44.3 / 40.4 / 45.0 %
        assert cov[True][q] >= 85.0, (q, cov[True][q])     # issue 14's goal
        assert cov[False][q] < 60.0, (q, cov[False][q])    # a fixed lag: biased, narrow


def test_the_pre_ejection_time_moves_with_the_story(story):
    """Why a fixed lag fails: activation-to-foot time at baseline, in hypotension, after the vasopressor."""
    from cardiosim.signals import analyse_arterial

    rec, truth = story
    b = analyse_arterial(rec).beats
    b = b[b.clean]
    foot = np.where(np.isfinite(b.foot_s.to_numpy()), b.foot_s.to_numpy(), b.onset_s.to_numpy())
    ts = truth.t_s.to_numpy()
    delay = foot - ts[np.searchsorted(ts, foot) - 1]
    base = np.median(delay[(foot > 20) & (foot < 150)])
    hypo = np.median(delay[(foot > 200) & (foot < 330)])
    after = np.median(delay[foot > 390])
    # measured 194.3, 186.3 and 197.3 ms; the sd within each phase is about 3 ms
    assert 0.180 < base < 0.210
    assert base - hypo > 0.005
    assert after - base > 0.002
