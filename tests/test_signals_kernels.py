"""Each arterial kernel against a slow NumPy twin written from its definition."""

import numpy as np
import pytest

from cardiosim.signals import arterial as A
from cardiosim.signals import arterial_kernels as K
from cardiosim.assimilation.synthetic import arterial_pressure

FS = 125.0


@pytest.fixture(scope="module")
def wave():
    p, _ = arterial_pressure(duration_s=30.0, fs_hz=FS, seed=5)
    pf, dpdt, missing = A.prepare(p, FS)
    return pf, dpdt, missing


def test_slope_sum_matches_window_sums(wave):
    pf = wave[0]
    dp = np.r_[0.0, np.diff(pf)]
    w = 16
    ref = np.array([np.clip(dp[max(0, i - w + 1):i + 1], 0, None).sum() for i in range(dp.size)])
    np.testing.assert_allclose(K.slope_sum(dp, w), ref, rtol=1e-9, atol=1e-9 * np.abs(dp).max())


def test_runs_where_matches_itertools():
    import itertools
    rng = np.random.default_rng(0)
    mask = rng.random(500) < 0.6
    ref, i = [], 0
    for val, grp in itertools.groupby(mask):
        n = len(list(grp))
        if val and n >= 3:
            ref.append((i, i + n))
        i += n
    assert [tuple(r) for r in K.runs_where(mask, 3)] == ref


def test_onsets_and_features_match_numpy(wave):
    pf, dpdt, missing = wave
    peaks = A.detect_beats(pf, missing, FS)
    back, look = 16, 37
    onset, foot, steep = K.locate_onsets(pf, dpdt, peaks, back, look)
    for b, k in enumerate(peaks):
        a = max(k - back, 1)
        m = a + int(np.argmax(dpdt[a:k + 1]))
        lo = max(m - look, 0, peaks[b - 1] if b else 0)
        seg = pf[lo:m + 1]
        o = lo + int(np.flatnonzero(seg == seg.min())[-1])
        assert steep[b] == m and onset[b] == o
        assert foot[b] == pytest.approx(max(m - (pf[m] - pf[o]) / dpdt[m], o))
    F = K.beat_features(pf, dpdt, missing, onset, FS, 0.04, 0.75, 0.25, 0.07)
    for b in range(onset.size - 1):
        a, e = onset[b], onset[b + 1]
        lim = a + max(2, int(0.6 * (e - a)))
        pk = a + int(np.argmax(pf[a:lim]))
        assert F[b, K.F_PEAK] == pk
        assert F[b, K.F_SBP] == pf[pk] and F[b, K.F_DBP] == pf[a]
        assert F[b, K.F_MAP] == pytest.approx(pf[a:e].mean(), rel=1e-12)
        assert F[b, K.F_DPDT] == pytest.approx(max(dpdt[a:pk + 1].max(), 0.0))
        tv = np.abs(np.diff(pf[a:e])).sum() / (2 * (pf[pk] - pf[a]))
        assert F[b, K.F_TV] == pytest.approx(tv, rel=1e-10)
        assert F[b, K.F_NAN] == missing[a:e].mean()
