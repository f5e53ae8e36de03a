"""An ECG reference for arterial beat detection, independent of the ABP code.

R-peaks are voted by three QRS detectors: PhysioNet's XQRS and GQRS (from
the ``wfdb`` package) and cardiosim's own.  An R-peak found by at least two
(within 60 ms) is a reference beat.  Where the detectors disagree (a peak
found by one only, or a physiologically impossible RR interval), the ECG is
not a reliable reference, and +-1.5 s around it are left out of the scoring
on both sides (the bSQI idea of Li, Mark and Clifford 2008).  Scoring then
pairs every arterial foot with the R-peak that precedes it by a physiological
delay (40-450 ms).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from wfdb import processing

from cardiosim.signals.arterial import fill_missing

TOL_S = 0.06
EXCLUDE_S = 1.5
DELAY_S = (0.04, 0.45)


def _pair(a: np.ndarray, b: np.ndarray, tol: float) -> np.ndarray:
    """For each a, whether some b lies within tol (b sorted)."""
    if b.size == 0:
        return np.zeros(a.size, bool)
    j = np.searchsorted(b, a)
    lo = np.abs(a - b[np.clip(j - 1, 0, b.size - 1)]) <= tol
    hi = np.abs(b[np.clip(j, 0, b.size - 1)] - a) <= tol
    return lo | hi


def consensus_r_peaks(ecg: np.ndarray, fs: float, own_s: np.ndarray, t0: float = 0.0):
    """Voted R-peak times [s] and the intervals [s] where the ECG is unreliable.

    ``ecg`` in mV: the wfdb detectors have thresholds in mV.
    """
    x, missing = fill_missing(np.asarray(ecg, float))
    xq = t0 + np.asarray(processing.xqrs_detect(x, fs, verbose=False), float) / fs
    gq = t0 + np.asarray(processing.gqrs_detect(x, fs=fs), float) / fs
    dets = [np.sort(xq), np.sort(gq), np.sort(own_s)]
    # Anchor on the union of all detections, one per 60 ms.
    allp = np.sort(np.concatenate(dets))
    anchors = []
    for t in allp:
        if not anchors or t - anchors[-1] > TOL_S:
            anchors.append(t)
    anchors = np.asarray(anchors)
    votes = sum(_pair(anchors, d, TOL_S).astype(int) for d in dets)
    ref = anchors[votes >= 2]
    doubtful = list(anchors[votes == 1])
    rr = np.diff(ref)
    if rr.size:
        med = pd.Series(rr).rolling(11, center=True, min_periods=1).median().to_numpy()
        odd = (rr < 0.6 * med) | (rr > 1.6 * med)
        doubtful += list(ref[:-1][odd]) + list(ref[1:][odd])
    # Where the ECG lead is missing there is no reference at all.
    miss_t = t0 + np.flatnonzero(missing) / fs
    bad = [(t - EXCLUDE_S, t + EXCLUDE_S) for t in doubtful]
    if miss_t.size:
        bad.append((miss_t.min() - EXCLUDE_S, miss_t.max() + EXCLUDE_S))
        bad.append((-np.inf, t0 + 0.5))
    bad.append((t0 + x.size / fs - 0.5, np.inf))
    return ref, bad, {"xqrs": xq.size, "gqrs": gq.size, "cardiosim": own_s.size,
                      "voted": ref.size, "doubtful": len(doubtful)}


def _in_any(t: np.ndarray, intervals) -> np.ndarray:
    out = np.zeros(t.size, bool)
    for a, b in intervals:
        out |= (t >= a) & (t <= b)
    return out


def score(beats: pd.DataFrame, ref: np.ndarray, bad, strict: bool = False) -> dict:
    """Sensitivity and positive predictive value of arterial beats against R-peaks.

    PPV: share of clean arterial feet preceded by a reference R-peak within
    DELAY_S.  Sensitivity: share of reference R-peaks whose pulse should arrive
    within a clean beat and that are followed by a clean foot within DELAY_S.
    With ``strict``, R-peaks in beats flagged only for rhythm (non-perfused,
    premature) count too, so a pulse the detector missed cannot hide behind
    its own flag.
    """
    lo, hi = DELAY_S
    clean = beats["clean"].to_numpy()
    feet_all = beats["foot_s"].to_numpy()
    feet = feet_all[clean & ~_in_any(feet_all, bad)]
    j = np.searchsorted(ref, feet - lo) - 1
    has_r = (j >= 0) & (ref[np.clip(j, 0, None)] >= feet - hi)

    pat = float(np.nanmedian(beats["pat_s"])) if np.isfinite(beats["pat_s"]).any() else 0.2
    onset, end = beats["onset_s"].to_numpy(), beats["end_s"].to_numpy()
    arrive = ref + pat
    i = np.searchsorted(onset, arrive, side="right") - 1
    inside = (i >= 0) & (arrive < end[np.clip(i, 0, None)])
    if strict:
        from cardiosim.signals.quality import FLAGS, SIGNAL_FLAGS
        sigmask = sum(FLAGS[f] for f in SIGNAL_FLAGS)
        usable = (beats["flags"].to_numpy() & sigmask) == 0
    else:
        usable = clean
    elig = inside & usable[np.clip(i, 0, None)] & ~_in_any(ref, bad)
    r = ref[elig]
    feet_c = np.sort(feet_all[usable if strict else clean])
    k = np.searchsorted(feet_c, r + lo)
    found = (k < feet_c.size) & (feet_c[np.clip(k, 0, max(feet_c.size - 1, 0))] <= r + hi)
    return {"beats": int(feet.size), "ppv": float(has_r.mean()) if feet.size else float("nan"),
            "r_peaks": int(r.size), "sensitivity": float(found.mean()) if r.size else float("nan"),
            "false_at_s": feet[~has_r][:10].round(2).tolist(),
            "missed_at_s": r[~found].round(2).tolist()}  # every one: the tests check each
