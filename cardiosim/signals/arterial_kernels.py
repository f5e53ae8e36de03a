"""Numba kernels of the arterial-pressure analysis: plain functions over arrays.

Each kernel has a slow NumPy twin in ``tests/test_signals_kernels.py``.
Units are whatever the caller passes (the analysis passes Pa and samples);
no kernel knows about records, roles or flags.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Columns of the per-beat feature array returned by beat_features.
F_PEAK = 0          # sample index of the systolic peak
F_NOTCH = 1         # sample index of the dicrotic notch (-1: none found)
F_SBP = 2
F_DBP = 3
F_MAP = 4
F_DPDT = 5          # max dP/dt on the upstroke [unit/s]
F_NOTCH_P = 6
F_NOTCH_LOCALMIN = 7  # 1 when the notch is a local minimum, 0 when an inflection
F_RING = 8          # quick reversals of direction after the peak (ringing)
F_TV = 9            # total variation of the beat over twice its pulse pressure
F_NAN = 10          # share of the beat's samples that were missing
N_FEATURES = 11


@njit(cache=True)
def slope_sum(dp, width):
    """Slope sum function (Zong et al. 2003): running sum of the positive
    increments of the pressure over the last ``width`` samples.

    Parameters
    ----------
    dp : float64[:]
        Sample-to-sample increments (dp[i] = p[i] - p[i-1], dp[0] = 0).
    width : int
        Window length in samples.
    """
    n = dp.size
    out = np.empty(n)
    acc = 0.0
    for i in range(n):
        if dp[i] > 0.0:
            acc += dp[i]
        j = i - width
        if j >= 0 and dp[j] > 0.0:
            acc -= dp[j]
        # Subtracting what was added keeps round-off from drifting negative.
        out[i] = acc if acc > 0.0 else 0.0
    return out


@njit(cache=True)
def locate_onsets(p, dpdt, ssf_peaks, back, lookback):
    """Onset (end-diastolic minimum) and intersecting-tangent foot of each upstroke.

    Parameters
    ----------
    p : float64[:]
        Filtered pressure.
    dpdt : float64[:]
        Its time derivative (per sample).
    ssf_peaks : int64[:]
        Sample index of each accepted slope-sum peak.
    back : int
        Samples before an SSF peak in which the steepest upstroke point is sought.
    lookback : int
        Samples before the steepest point in which the minimum is sought.

    Returns
    -------
    onset : int64[:]
        Index of the minimum before each upstroke.
    foot : float64[:]
        Fractional sample index where the tangent at the steepest point
        crosses the level of the minimum.
    steep : int64[:]
        Index of the steepest point.
    """
    nb = ssf_peaks.size
    onset = np.empty(nb, np.int64)
    foot = np.empty(nb)
    steep = np.empty(nb, np.int64)
    for b in range(nb):
        k = ssf_peaks[b]
        a = max(k - back, 1)
        m = a
        for i in range(a, k + 1):
            if dpdt[i] > dpdt[m]:
                m = i
        lo = max(m - lookback, 0)
        if b > 0:
            lo = max(lo, ssf_peaks[b - 1])
        o = m
        for i in range(m, lo - 1, -1):
            if p[i] < p[o]:
                o = i
        onset[b] = o
        steep[b] = m
        f = float(m)
        if dpdt[m] > 0.0:
            f = m - (p[m] - p[o]) / dpdt[m]
        if f < o:
            f = float(o)
        foot[b] = f
    return onset, foot, steep


@njit(cache=True)
def beat_features(p, dpdt, missing, onset, fs, notch_min_s, notch_max_frac, ring_s,
                  ring_fast_s):
    """Per-beat features between consecutive onsets.

    Beat ``b`` spans samples ``onset[b]`` to ``onset[b+1] - 1``; the last
    onset closes the last beat, so there are ``onset.size - 1`` beats.

    Parameters
    ----------
    p, dpdt : float64[:]
        Filtered pressure and its time derivative [unit/s].
    missing : bool[:]
        True where the raw sample was missing (filled for filtering).
    onset : int64[:]
        Onset sample indices, increasing.
    fs : float
        Sampling rate [Hz].
    notch_min_s : float
        Earliest notch after the systolic peak [s].
    notch_max_frac : float
        Latest notch as a share of the beat length after the onset.
    ring_s : float
        Window after the peak in which oscillation is measured [s].
    ring_fast_s : float
        A turn counts as ringing when it comes within this time of the previous one [s].

    Returns
    -------
    float64[n_beats, N_FEATURES]
    """
    nb = onset.size - 1
    out = np.full((nb, N_FEATURES), np.nan)
    for b in range(nb):
        a = onset[b]
        e = onset[b + 1]
        n = e - a
        # Systolic peak: highest point in the first 60 % of the beat.
        lim = a + max(2, int(0.6 * n))
        pk = a
        for i in range(a, lim):
            if p[i] > p[pk]:
                pk = i
        s = 0.0
        nmiss = 0
        tv = 0.0
        for i in range(a, e):
            s += p[i]
            if missing[i]:
                nmiss += 1
            if i > a:
                tv += abs(p[i] - p[i - 1])
        dmax = 0.0
        for i in range(a, pk + 1):
            if dpdt[i] > dmax:
                dmax = dpdt[i]
        sbp = p[pk]
        dbp = p[a]
        pp = sbp - dbp
        out[b, F_PEAK] = pk
        out[b, F_SBP] = sbp
        out[b, F_DBP] = dbp
        out[b, F_MAP] = s / n
        out[b, F_DPDT] = dmax
        out[b, F_NAN] = nmiss / n
        out[b, F_TV] = tv / (2.0 * pp) if pp > 0.0 else np.inf
        # Ringing: quick reversals of direction after the peak, each after a
        # swing of at least 5 % of the pulse pressure and within ring_fast_s of
        # the previous turn (a 7+ Hz oscillation).  A dicrotic notch turns once
        # 100-200 ms after the peak; an underdamped line turns again and again.
        r_end = min(pk + int(ring_s * fs) + 1, e)
        count = 0
        ext = p[pk]
        i_ext = pk
        i_turn = pk
        sgn = -1.0  # -1 while the pressure is falling, +1 while rising
        thr = 0.05 * pp
        fast = ring_fast_s * fs
        for i in range(pk + 1, r_end):
            if sgn * (p[i] - ext) > 0.0:
                ext = p[i]
                i_ext = i
            elif sgn * (ext - p[i]) >= thr:
                if i_ext - i_turn <= fast:
                    count += 1
                sgn = -sgn
                i_turn = i_ext
                ext = p[i]
                i_ext = i
        out[b, F_RING] = count
        # Notch: first local minimum after the peak within the window, else
        # the point of largest upward curvature (a shoulder without a dip).
        n0 = pk + max(1, int(notch_min_s * fs))
        n1 = min(a + int(notch_max_frac * n), e - 2)
        notch = -1
        for i in range(n0, n1):
            if dpdt[i - 1] < 0.0 and dpdt[i] >= 0.0:
                notch = i
                break
        if notch >= 0:
            out[b, F_NOTCH_LOCALMIN] = 1.0
        else:
            best = -np.inf
            for i in range(n0, n1):
                c = dpdt[i + 1] - dpdt[i - 1]
                if c > best:
                    best = c
                    notch = i
            out[b, F_NOTCH_LOCALMIN] = 0.0
        if notch >= 0:
            out[b, F_NOTCH] = notch
            out[b, F_NOTCH_P] = p[notch]
        else:
            out[b, F_NOTCH] = -1.0
    return out


@njit(cache=True)
def runs_where(mask, min_len):
    """Start and end (exclusive) sample indices of runs of True at least ``min_len`` long."""
    n = mask.size
    starts = []
    ends = []
    i = 0
    while i < n:
        if mask[i]:
            j = i
            while j < n and mask[j]:
                j += 1
            if j - i >= min_len:
                starts.append(i)
                ends.append(j)
            i = j
        else:
            i += 1
    out = np.empty((len(starts), 2), np.int64)
    for k in range(len(starts)):
        out[k, 0] = starts[k]
        out[k, 1] = ends[k]
    return out
