"""Respiratory variation of beat-to-beat quantities: pulse-pressure variation (PPV) and the like.

Under controlled ventilation the pulse pressure swings with each breath; its relative swing
over a respiratory cycle, PPV = (PP_max - PP_min) / ((PP_max + PP_min) / 2), predicts the
response to fluid (Michard F et al., Am J Respir Crit Care Med 162:134-138, 2000). The same
formula applied to stroke volumes gives the stroke-volume variation (SVV).

The respiratory cycle comes from a respiration or ventilator channel when the caller gives
its period, otherwise from the modulation of the beat series itself: the dominant frequency
of the series between 6 and 40 cycles per minute.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .record import RecordError

#: respiratory rates searched for in the modulation of a beat series [cycles/min]
RESP_RATE_RANGE = (6.0, 40.0)
#: sampling rate of the evenly resampled beat series for the spectrum [Hz]
_RESAMPLE_HZ = 4.0


def respiratory_period(t_s: np.ndarray, values: np.ndarray,
                       rate_range: tuple[float, float] = RESP_RATE_RANGE) -> float:
    """Period [s] of the dominant modulation of a beat series (times ``t_s`` [s]).

    The series is resampled evenly at 4 Hz, detrended by its mean, Hann-windowed and zero-
    padded; the period is that of the largest spectral peak within ``rate_range`` (refined
    by a parabola through the peak and its neighbours).
    """
    t = np.asarray(t_s, dtype=float)
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(t) & np.isfinite(v)
    t, v = t[ok], v[ok]
    lo, hi = (r / 60.0 for r in rate_range)
    if t.size < 8 or t[-1] - t[0] < 2.0 / lo:
        raise RecordError(f"respiratory period: need at least two slow cycles of beats ({2.0 / lo:.0f} s), "
                          f"got {t[-1] - t[0] if t.size else 0.0:.1f} s of {t.size} beats")
    grid = np.arange(t[0], t[-1], 1.0 / _RESAMPLE_HZ)
    x = np.interp(grid, t, v)
    x = (x - x.mean()) * np.hanning(x.size)
    n = 1 << int(np.ceil(np.log2(8 * x.size)))
    power = np.abs(np.fft.rfft(x, n)) ** 2
    f = np.fft.rfftfreq(n, 1.0 / _RESAMPLE_HZ)
    band = np.flatnonzero((f >= lo) & (f <= hi))
    k = int(band[np.argmax(power[band])])
    if 0 < k < power.size - 1:
        a, b, c = np.log(power[k - 1:k + 2] + 1e-300)
        k = k + 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) < 0 else k
    return float(1.0 / (k * (f[1] - f[0])))


def cycle_variation(t_s: np.ndarray, values: np.ndarray, period_s: float) -> pd.DataFrame:
    """(max - min) / mean-of-extremes of ``values`` over consecutive respiratory cycles.

    Cycles are consecutive intervals of ``period_s`` from the first beat; a cycle needs at
    least 3 finite beats. Columns: ``start_s``, ``end_s``, ``beats``, ``variation_pct``.
    """
    if not (np.isfinite(period_s) and period_s > 0):
        raise RecordError(f"respiratory period must be > 0 s, got {period_s!r}")
    t = np.asarray(t_s, dtype=float)
    v = np.asarray(values, dtype=float)
    rows = []
    if t.size:
        edges = np.arange(t[0], t[-1] + period_s, period_s)
        for a, b in zip(edges[:-1], edges[1:]):
            sel = (t >= a) & (t < b) & np.isfinite(v)
            if sel.sum() < 3 or b > t[-1] + 1e-9:
                continue
            hi, lo = v[sel].max(), v[sel].min()
            rows.append((a, b, int(sel.sum()), 100.0 * (hi - lo) / (0.5 * (hi + lo))))
    return pd.DataFrame(rows, columns=["start_s", "end_s", "beats", "variation_pct"])


def windowed(cycles: pd.DataFrame, window_s: float, t0: float, t1: float) -> pd.DataFrame:
    """Mean of the cycle variations within consecutive windows of ``window_s`` over [t0, t1)."""
    rows = []
    for a in np.arange(t0, t1, window_s):
        c = cycles[(cycles.start_s >= a) & (cycles.end_s <= a + window_s)]
        rows.append((a, a + window_s, len(c), float(c.variation_pct.mean()) if len(c) else np.nan))
    return pd.DataFrame(rows, columns=["start_s", "end_s", "cycles", "variation_pct"])


def pulse_pressure_variation(beats: pd.DataFrame, window_s: float = 30.0,
                             period_s: float | None = None) -> pd.DataFrame:
    """PPV [%] per window from an arterial beat table (``analyse_arterial(record).beats``).

    Only clean beats count. ``period_s`` is the respiratory period (from a respiration or
    ventilator channel); None finds it from the pulse-pressure modulation. Columns:
    ``start_s``, ``end_s``, ``cycles``, ``PPV_pct``, ``resp_period_s``.
    """
    clean = beats[beats["clean"]] if "clean" in beats else beats
    t = clean["peak_s"].to_numpy(dtype=float)
    pp = clean["pp_mmHg"].to_numpy(dtype=float)
    if period_s is None:
        period_s = respiratory_period(t, pp)
    cyc = cycle_variation(t, pp, period_s)
    out = windowed(cyc, window_s, float(t[0]) if t.size else 0.0, float(t[-1]) if t.size else 0.0)
    return out.rename(columns={"variation_pct": "PPV_pct"}).assign(resp_period_s=period_s)
