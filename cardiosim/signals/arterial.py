"""Arterial-pressure beats: detection and per-beat features.

Detection follows the slope-sum idea of Zong et al. (Comput Cardiol 2003,
PhysioNet's ``wabp``): the running sum of pressure increases over 128 ms peaks
on each upstroke.  Peaks are accepted against a local reference (the 80th
percentile of candidate heights over the surrounding 20 s), so that a record
whose pulse pressure drifts from 15 to 80 mmHg keeps one rule.  Each beat
starts at the minimum before its upstroke (the diastolic pressure), and its
foot is the intersecting-tangent point (the usual timing mark for pulse
arrival).  Pressures are in Pa, times in s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal as sps

from ..units import MMHG
from . import arterial_kernels as K

__all__ = ["DetectionSettings", "BeatArrays", "prepare", "detect_beats", "beat_arrays",
           "fill_missing", "rolling_quantile"]


@dataclass(frozen=True)
class DetectionSettings:
    """Settings of beat detection (defaults suit adult arterial lines, 50-1000 Hz).

    Attributes
    ----------
    lowpass_hz : float
        Zero-phase low-pass applied before everything else [Hz]; monitors
        filter arterial pressure at 12-16 Hz.
    ssf_window_s : float
        Slope-sum window [s] (Zong 2003: 128 ms).
    min_interval_s : float
        Shortest beat-to-beat interval [s] (250 bpm).
    accept_fraction : float
        A slope-sum peak is a beat when it exceeds this share of the local reference.
    reference_window_s : float
        Span over which the local reference is taken [s].
    """

    lowpass_hz: float = 16.0
    ssf_window_s: float = 0.128
    min_interval_s: float = 0.24
    accept_fraction: float = 0.4
    reference_window_s: float = 20.0


@dataclass(frozen=True)
class BeatArrays:
    """Beat timing and features as arrays (one entry per complete beat), SI units."""

    onset: np.ndarray        # sample index of the onset (beat start)
    end: np.ndarray          # sample index of the next onset (exclusive end)
    foot_s: np.ndarray       # intersecting-tangent foot [s from channel start]
    features: np.ndarray     # (n_beats, N_FEATURES), see arterial_kernels
    fs_hz: float


def fill_missing(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Missing samples linearly interpolated (for filtering), and the missing mask."""
    missing = ~np.isfinite(x)
    if not missing.any():
        return x.astype(np.float64, copy=True), missing
    if missing.all():
        raise ValueError("all samples are missing")
    idx = np.flatnonzero(~missing)
    filled = np.interp(np.arange(x.size), idx, x[idx])
    return filled, missing


def prepare(p_pa: np.ndarray, fs_hz: float, settings: DetectionSettings = DetectionSettings()):
    """Filtered pressure, its derivative [Pa/s] and the missing-sample mask."""
    filled, missing = fill_missing(np.asarray(p_pa, dtype=np.float64))
    cutoff = settings.lowpass_hz
    if cutoff < 0.45 * fs_hz and filled.size > 30:
        sos = sps.butter(3, cutoff, fs=fs_hz, output="sos")
        pf = sps.sosfiltfilt(sos, filled)
    else:
        pf = filled
    dpdt = np.gradient(pf) * fs_hz
    return pf, dpdt, missing


def rolling_quantile(values: np.ndarray, times: np.ndarray, span: float, q: float) -> np.ndarray:
    """Quantile of ``values`` within +-span/2 of each time (times increasing)."""
    if values.size == 0:
        return values.copy()
    # Quantiles over blocks of span/2, interpolated: exact rolling quantiles
    # cost O(n k) and the reference only needs to follow slow changes.
    half = span / 2.0
    edges = np.arange(times[0] - half, times[-1] + half + 1e-9, half)
    centres, refs = [], []
    for lo in edges:
        sel = (times >= lo) & (times < lo + span)
        if sel.sum() >= 3:
            centres.append(lo + half)
            refs.append(np.quantile(values[sel], q))
    if not centres:
        return np.full(values.shape, np.quantile(values, q))
    return np.interp(times, np.asarray(centres), np.asarray(refs))


def detect_beats(pf: np.ndarray, missing: np.ndarray, fs_hz: float,
                 settings: DetectionSettings = DetectionSettings()) -> np.ndarray:
    """Indices of accepted slope-sum peaks (one per detected upstroke)."""
    dp = np.empty_like(pf)
    dp[0] = 0.0
    np.subtract(pf[1:], pf[:-1], out=dp[1:])
    # Increments across a missing stretch are interpolation, not physiology.
    dp[missing] = 0.0
    width = max(2, int(round(settings.ssf_window_s * fs_hz)))
    ssf = K.slope_sum(dp, width)
    dist = max(1, int(settings.min_interval_s * fs_hz))
    cand, props = sps.find_peaks(ssf, distance=dist, height=0.5 * MMHG)
    if cand.size == 0:
        return cand.astype(np.int64)
    heights = props["peak_heights"]
    ref = rolling_quantile(heights, cand / fs_hz, settings.reference_window_s, 0.8)
    keep = heights >= settings.accept_fraction * ref
    return cand[keep].astype(np.int64)


def beat_arrays(pf: np.ndarray, dpdt: np.ndarray, missing: np.ndarray, fs_hz: float,
                settings: DetectionSettings = DetectionSettings()) -> BeatArrays:
    """Detect beats and compute their features."""
    peaks = detect_beats(pf, missing, fs_hz, settings)
    back = int(round(settings.ssf_window_s * fs_hz))
    lookback = int(round(0.3 * fs_hz))
    onset, foot, _ = K.locate_onsets(pf, dpdt, peaks, back, lookback)
    # Two peaks can resolve to one onset on a notched upstroke: keep the first.
    if onset.size:
        keep = np.ones(onset.size, bool)
        keep[1:] = np.diff(onset) >= max(1, int(settings.min_interval_s * fs_hz))
        onset, foot = onset[keep], foot[keep]
    if onset.size < 2:
        return BeatArrays(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0),
                          np.zeros((0, K.N_FEATURES)), fs_hz)
    feats = K.beat_features(pf, dpdt, missing, onset, fs_hz, 0.04, 0.75, 0.25, 0.07)
    return BeatArrays(onset[:-1].copy(), onset[1:].copy(), foot[:-1] / fs_hz, feats, fs_hz)
