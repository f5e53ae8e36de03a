"""Artefacts injected into clean pressure waveforms at known times.

The shapes follow what arterial lines do at the bedside: a fast flush drives
the transducer to the bag pressure (about 300 mmHg) and rings when released;
zeroing opens the transducer to air (0 mmHg with a little noise); a level or
gain change pushes the waveform into the recorder's range limit; a loose
connection loses samples; air bubbles or a compliant line filter the
waveform as a second-order system (overdamped when zeta > 1, ringing when
zeta << 1).  Used by the tests (exact flags at known times), the benchmarks
and the synthetic patient.  Pressures in Pa, times in s.
"""

from __future__ import annotations

import numpy as np
from scipy import signal as sps

from ..units import MMHG

__all__ = ["flush", "zeroing", "saturation", "gap", "damping"]


def _span(n: int, fs_hz: float, start_s: float, duration_s: float) -> slice:
    a = int(round(start_s * fs_hz))
    b = int(round((start_s + duration_s) * fs_hz))
    if not (0 <= a < b <= n):
        raise ValueError(f"artefact {start_s}+{duration_s} s lies outside the "
                         f"{n / fs_hz:.1f} s signal")
    return slice(a, b)


def flush(p: np.ndarray, fs_hz: float, start_s: float, duration_s: float = 2.0,
          level_pa: float = 300 * MMHG, rise_s: float = 0.06, noise_pa: float = 0.3 * MMHG,
          seed: int = 0) -> np.ndarray:
    """Fast flush: rise within ``rise_s`` to ``level_pa``, hold, drop with ringing."""
    out = np.array(p, dtype=float)
    s = _span(out.size, fs_hz, start_s, duration_s)
    n = s.stop - s.start
    t = np.arange(n) / fs_hz
    base = out[s.start]
    shape = np.minimum(t / rise_s, 1.0)
    out[s] = base + (level_pa - base) * shape
    out[s] += noise_pa * np.random.default_rng(seed).standard_normal(n)
    # Release: a 12 Hz, zeta 0.15 square-wave response decaying onto the signal.
    m = min(int(0.3 * fs_hz), out.size - s.stop)
    tt = np.arange(m) / fs_hz
    wn, z = 2 * np.pi * 12.0, 0.15
    ring = np.exp(-z * wn * tt) * np.cos(wn * np.sqrt(1 - z * z) * tt)
    out[s.stop:s.stop + m] += -0.3 * (level_pa - out[s.stop]) * ring * (tt > 0)
    return out


def zeroing(p: np.ndarray, fs_hz: float, start_s: float, duration_s: float = 5.0,
            noise_pa: float = 0.2 * MMHG, seed: int = 0) -> np.ndarray:
    """Transducer open to air: 0 Pa plus small noise."""
    out = np.array(p, dtype=float)
    s = _span(out.size, fs_hz, start_s, duration_s)
    out[s] = noise_pa * np.random.default_rng(seed).standard_normal(s.stop - s.start)
    return out


def saturation(p: np.ndarray, fs_hz: float, start_s: float, duration_s: float,
               limit_pa: float, gain: float = 1.0, offset_pa: float = 0.0) -> np.ndarray:
    """A gain or level error that drives the peaks into the upper limit ``limit_pa``."""
    out = np.array(p, dtype=float)
    s = _span(out.size, fs_hz, start_s, duration_s)
    out[s] = np.minimum(gain * out[s] + offset_pa, limit_pa)
    return out


def gap(p: np.ndarray, fs_hz: float, start_s: float, duration_s: float) -> np.ndarray:
    """Samples lost (NaN)."""
    out = np.array(p, dtype=float)
    out[_span(out.size, fs_hz, start_s, duration_s)] = np.nan
    return out


def damping(p: np.ndarray, fs_hz: float, start_s: float, duration_s: float,
            natural_hz: float, zeta: float) -> np.ndarray:
    """The waveform seen through a second-order catheter-transducer system.

    The whole signal is filtered (so that the filter has settled) and the
    filtered samples replace the original ones within the span.
    """
    out = np.array(p, dtype=float)
    s = _span(out.size, fs_hz, start_s, duration_s)
    wn = 2 * np.pi * natural_hz
    b, a = sps.bilinear([wn * wn], [1.0, 2 * zeta * wn, wn * wn], fs=fs_hz)
    # A NaN would poison the recursive filter from there on: filter through
    # interpolated values and put the NaN back.
    missing = ~np.isfinite(out)
    x = out.copy()
    if missing.any():
        idx = np.flatnonzero(~missing)
        x[missing] = np.interp(np.flatnonzero(missing), idx, out[idx])
    # Start from the signal's first value so the filter has no switch-on transient.
    zi = sps.lfilter_zi(b, a) * x[0]
    filtered, _ = sps.lfilter(b, a, x, zi=zi)
    filtered[missing] = np.nan
    out[s] = filtered[s]
    return out
