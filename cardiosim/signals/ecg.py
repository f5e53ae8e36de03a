"""ECG R-peaks, for heart rate and for timing arterial pulses.

A Pan-Tompkins-type detector (Pan and Tompkins, IEEE TBME 1985): band-pass
5-15 Hz, derivative, square, 150 ms moving integration; integration peaks
are accepted against a local reference (the 90th percentile of candidate
heights over the surrounding 10 s), and the R-peak is placed at the largest
absolute band-passed deflection of the QRS, so lead polarity does not matter.
"""

from __future__ import annotations

import numpy as np
from scipy import signal as sps

from .arterial import fill_missing, rolling_quantile

__all__ = ["detect_r_peaks"]


def detect_r_peaks(ecg: np.ndarray, fs_hz: float, *, accept_fraction: float = 0.3,
                   refractory_s: float = 0.25) -> np.ndarray:
    """Sample indices of R-peaks in one ECG lead.

    Parameters
    ----------
    ecg : numpy.ndarray
        One lead (any unit); NaN samples are allowed and never hold a peak.
    fs_hz : float
        Sampling rate [Hz], at least 100.
    accept_fraction : float
        Share of the local reference an integration peak must reach.
    refractory_s : float
        Shortest accepted RR interval [s].

    Returns
    -------
    numpy.ndarray of int64
    """
    x, missing = fill_missing(np.asarray(ecg, dtype=np.float64))
    hi = min(15.0, 0.45 * fs_hz)
    sos = sps.butter(2, [5.0, hi], btype="band", fs=fs_hz, output="sos")
    bp = sps.sosfiltfilt(sos, x)
    bp[missing] = 0.0
    d = np.gradient(bp)
    w = max(1, int(round(0.15 * fs_hz)))
    mwi = np.convolve(d * d, np.ones(w) / w, mode="same")
    cand, props = sps.find_peaks(mwi, distance=max(1, int(refractory_s * fs_hz)),
                                 height=0.0)
    if cand.size == 0:
        return cand.astype(np.int64)
    h = props["peak_heights"]
    ref = rolling_quantile(h, cand / fs_hz, 10.0, 0.9)
    cand = cand[h >= accept_fraction * ref]
    # The integration peak sits within the QRS; the R-peak is its largest deflection.
    half = int(round(0.1 * fs_hz))
    r = np.empty(cand.size, np.int64)
    absbp = np.abs(bp)
    for k, c in enumerate(cand):
        a, b = max(c - half, 0), min(c + half, x.size)
        r[k] = a + int(np.argmax(absbp[a:b]))
    r = np.unique(r)
    if r.size > 1:
        keep = np.ones(r.size, bool)
        keep[1:] = np.diff(r) >= int(refractory_s * fs_hz)
        r = r[keep]
    return r[~missing[r]]
