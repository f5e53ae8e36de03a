"""Artefacts of arterial lines and the quality flag of each beat.

Two levels, because artefacts are of two kinds:

* **segments** (gap, flush, zeroing, saturation, flat line) are found on the
  samples, whatever the beats are, and every beat that overlaps one carries
  its flag;
* **beat flags** (non-perfused, premature, noise, over- and underdamped,
  implausible) compare a beat with physiology and with its neighbours.

Every flag comes with a reason in words and numbers.  Nothing is dropped: a
flagged beat stays in the table, and :func:`exclusion_summary` counts what a
later analysis would leave out and why.  Thresholds are module constants in
clinical units, named for what they mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..units import MMHG
from . import arterial_kernels as K

__all__ = ["FLAGS", "SIGNAL_FLAGS", "QualitySettings", "find_segments", "flag_beats",
           "exclusion_summary"]

#: Flag name -> bit.  A beat's ``flags`` is the OR of its bits; 0 means clean.
FLAGS: dict[str, int] = {
    "gap": 1, "flush": 2, "zeroing": 4, "saturation": 8, "flat": 16,
    "noise": 32, "underdamped": 64, "overdamped": 128,
    "non_perfused": 256, "premature": 512, "implausible": 1024,
}
#: Flags about the measurement (the line), as opposed to the patient's rhythm.
SIGNAL_FLAGS = ("gap", "flush", "zeroing", "saturation", "flat", "noise", "underdamped",
                "overdamped", "implausible")


@dataclass(frozen=True)
class QualitySettings:
    """Thresholds of the artefact rules (clinical units, as clinicians state them).

    Attributes
    ----------
    flush_margin_mmhg : float
        A flush holds the pressure this far above the local systolic level...
    flush_min_s : float
        ...for at least this long (a systolic peak is above it for < 0.2 s)...
    flush_plateau_mmhg : float
        ...varying by less than this (the pressure bag is steady; a shifted
        but pulsating trace is not a flush).
    zero_level_mmhg, zero_min_s : float
        Zeroing: |pressure| below this level for at least this long.
    flat_min_s : float
        Flat line: the raw value unchanged for at least this long.
    saturation_min_samples : int
        Consecutive samples at a channel limit that make a saturation.
    noise_tv_ratio : float
        Noise: a beat's total variation above this multiple of twice its pulse pressure.
    ring_reversals : int
        Underdamping: at least this many quick reversals of direction (each
        after a swing of 5 % of the pulse pressure, within 70 ms of the
        previous turn) in the 250 ms after the systolic peak.
    overdamped_rise_ratio, overdamped_rise_s : float
        Overdamping: the upstroke time (PP / max dP/dt) above this multiple of
        the local median, or above this absolute value [s].
    non_perfused_pp_ratio : float
        Non-perfused: pulse pressure below this share of the local median.
    pause_rr_ratio : float
        A beat longer than this multiple of the local median RR hides a
        contraction without a pulse.
    premature_rr_ratio : float
        A beat shorter than this multiple of the local median RR ends on a premature beat.
    neighbours : int
        Beats on each side in the local medians.
    """

    flush_margin_mmhg: float = 40.0
    flush_min_s: float = 0.4
    flush_plateau_mmhg: float = 15.0
    zero_level_mmhg: float = 5.0
    zero_min_s: float = 0.5
    flat_min_s: float = 1.0
    saturation_min_samples: int = 3
    noise_tv_ratio: float = 1.8
    ring_reversals: int = 2
    overdamped_rise_ratio: float = 1.6
    overdamped_rise_s: float = 0.18
    non_perfused_pp_ratio: float = 0.5
    pause_rr_ratio: float = 1.6
    premature_rr_ratio: float = 0.75
    neighbours: int = 10
    implausible_map_mmhg: tuple[float, float] = (15.0, 250.0)
    implausible_sbp_mmhg: float = 300.0
    implausible_pp_mmhg: float = 4.0


def _expand(pf: np.ndarray, a: int, b: int, rising: bool) -> tuple[int, int]:
    """Widen [a, b) to the foot of the rise into it and the end of the fall out of it."""
    n = pf.size
    if rising:
        while a > 0 and pf[a - 1] < pf[a]:
            a -= 1
        while b < n and pf[b] < pf[b - 1]:
            b += 1
    else:
        while a > 0 and pf[a - 1] > pf[a]:
            a -= 1
        while b < n and pf[b] > pf[b - 1]:
            b += 1
    return a, b


def _merge(runs: list[tuple[int, int]], min_gap: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(runs):
        if out and a - out[-1][1] <= min_gap:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def find_segments(raw: np.ndarray, pf: np.ndarray, fs_hz: float,
                  systolic_ref_pa: np.ndarray, limits: tuple[float, float] | None,
                  settings: QualitySettings = QualitySettings()) -> pd.DataFrame:
    """Sample-level artefacts.

    Parameters
    ----------
    raw : numpy.ndarray
        Pressure as recorded [Pa], NaN where missing.
    pf : numpy.ndarray
        Filtered pressure with missing samples filled [Pa].
    fs_hz : float
        Sampling rate [Hz].
    systolic_ref_pa : numpy.ndarray
        Local systolic level at each sample [Pa] (from clean-looking beats).
    limits : (float, float) or None
        Channel range [Pa]; None when the recorder does not state it.

    Returns
    -------
    pandas.DataFrame
        Columns ``kind``, ``start``, ``end`` (samples, end exclusive),
        ``start_s``, ``end_s``, ``detail``.
    """
    rows = []
    missing = ~np.isfinite(raw)

    def add(kind, a, b, detail):
        rows.append({"kind": kind, "start": int(a), "end": int(b), "start_s": a / fs_hz,
                     "end_s": b / fs_hz, "detail": detail})

    for a, b in K.runs_where(missing, 1):
        add("gap", a, b, f"{b - a} missing samples ({(b - a) / fs_hz:.2f} s)")

    high = pf > systolic_ref_pa + settings.flush_margin_mmhg * MMHG
    runs = [(a, b) for a, b in K.runs_where(high & ~missing,
                                            max(1, int(settings.flush_min_s * fs_hz)))]
    edge = int(0.15 * fs_hz)
    runs = [(a, b) for a, b in runs
            if np.ptp(pf[a + edge:max(b - edge, a + edge + 1)]) < settings.flush_plateau_mmhg * MMHG]
    for a, b in _merge([_expand(pf, a, b, True) for a, b in runs], int(0.2 * fs_hz)):
        add("flush", a, b, f"held at {np.nanmedian(raw[a:b]) / MMHG:.0f} mmHg for "
            f"{(b - a) / fs_hz:.2f} s, {settings.flush_margin_mmhg:.0f}+ mmHg above the "
            f"local systolic {np.median(systolic_ref_pa[a:b]) / MMHG:.0f} mmHg")

    near_zero = (np.abs(pf) < settings.zero_level_mmhg * MMHG) & ~missing
    for a, b in K.runs_where(near_zero, max(1, int(settings.zero_min_s * fs_hz))):
        a, b = _expand(pf, a, b, False) if pf[a] > 0 else (a, b)
        add("zeroing", a, b, f"within {settings.zero_level_mmhg:.0f} mmHg of zero for "
            f"{(b - a) / fs_hz:.2f} s")

    finite = raw[~missing]
    if finite.size:
        if limits is not None:
            lo, hi = limits
            tol = 1e-6 * max(abs(lo), abs(hi), 1.0)
            at_limit = (raw >= hi - tol) | (raw <= lo + tol)
            source = f"the channel limits {lo / MMHG:.1f}/{hi / MMHG:.1f} mmHg"
        else:
            # Clipping holds the extreme value exactly; a true peak does not repeat.
            at_limit = (raw == finite.max()) | (raw == finite.min())
            source = "the record's extreme value (channel limits not stated)"
        # Without stated limits a quantised true peak can repeat a few samples;
        # clipping lasts longer.
        min_run = settings.saturation_min_samples if limits is not None else \
            max(settings.saturation_min_samples, int(0.1 * fs_hz))
        # Clipped peaks of consecutive beats are one episode.
        runs = _merge([tuple(r) for r in K.runs_where(at_limit & ~missing, min_run)],
                      int(2.0 * fs_hz))
        for a, b in runs:
            n_at = int((at_limit[a:b] & ~missing[a:b]).sum())
            add("saturation", a, b, f"{n_at} samples at {raw[a] / MMHG:.1f} mmHg within "
                f"{(b - a) / fs_hz:.2f} s, {source}")

    same = np.zeros(raw.size, bool)
    same[1:] = raw[1:] == raw[:-1]
    explained = np.zeros(raw.size, bool)
    for r in rows:
        if r["kind"] in ("flush", "zeroing", "saturation"):
            explained[r["start"]:r["end"]] = True
    for a, b in K.runs_where(same, max(1, int(settings.flat_min_s * fs_hz))):
        a = max(a - 1, 0)
        # A flat stretch inside a flush, zeroing or saturation is that artefact.
        if explained[a:b].mean() < 0.5:
            add("flat", a, b, f"constant {raw[a] / MMHG:.1f} mmHg for {(b - a) / fs_hz:.2f} s")

    df = pd.DataFrame(rows, columns=["kind", "start", "end", "start_s", "end_s", "detail"])
    return df.sort_values(["start", "kind"], ignore_index=True)


def _local_median(x: np.ndarray, k: int, valid: np.ndarray) -> np.ndarray:
    """Median of the valid entries among the k before and k after each entry."""
    s = pd.Series(np.where(valid, x, np.nan))
    med = s.rolling(2 * k + 1, center=True, min_periods=3).median()
    return med.bfill().ffill().fillna(np.nanmedian(x[valid]) if valid.any() else np.nan).to_numpy()


def flag_beats(beats: pd.DataFrame, feats: np.ndarray, segments: pd.DataFrame,
               r_peaks_s: np.ndarray | None,
               settings: QualitySettings = QualitySettings()) -> tuple[np.ndarray, list[str]]:
    """Flags (bit mask) and reasons of each beat.

    Parameters
    ----------
    beats : pandas.DataFrame
        Columns ``onset``, ``end`` (samples), ``onset_s``, ``end_s``, ``rr_s``,
        ``sbp_pa``, ``dbp_pa``, ``map_pa``, ``pp_pa``, ``rise_s``.
    feats : numpy.ndarray
        The feature array of :func:`arterial_kernels.beat_features`.
    segments : pandas.DataFrame
        Output of :func:`find_segments`.
    r_peaks_s : numpy.ndarray or None
        ECG R-peak times on the same clock [s], when an ECG exists.
    """
    n = len(beats)
    flags = np.zeros(n, np.int64)
    reasons: list[list[str]] = [[] for _ in range(n)]

    def mark(i, name, text):
        flags[i] |= FLAGS[name]
        reasons[i].append(f"{name}: {text}")

    onset = beats["onset"].to_numpy()
    end = beats["end"].to_numpy()
    for seg in segments.itertuples():
        i0 = np.searchsorted(end, seg.start, side="right")
        i1 = np.searchsorted(onset, seg.end, side="left")
        for i in range(i0, i1):
            mark(i, seg.kind, f"{seg.start_s:.2f}-{seg.end_s:.2f} s, {seg.detail}")

    pp = beats["pp_pa"].to_numpy()
    rr = beats["rr_s"].to_numpy()
    rise = beats["rise_s"].to_numpy()
    sbp, mp = beats["sbp_pa"].to_numpy(), beats["map_pa"].to_numpy()

    lo, hi = settings.implausible_map_mmhg
    for i in np.flatnonzero((mp < lo * MMHG) | (mp > hi * MMHG)
                            | (sbp > settings.implausible_sbp_mmhg * MMHG)
                            | (pp < settings.implausible_pp_mmhg * MMHG)):
        mark(i, "implausible", f"SBP {sbp[i] / MMHG:.0f}, MAP {mp[i] / MMHG:.0f}, "
             f"PP {pp[i] / MMHG:.1f} mmHg")

    tv = feats[:, K.F_TV]
    for i in np.flatnonzero(tv > settings.noise_tv_ratio):
        mark(i, "noise", f"total variation {tv[i]:.2f} x twice the pulse pressure "
             f"(> {settings.noise_tv_ratio})")
    ring = feats[:, K.F_RING]
    for i in np.flatnonzero(ring >= settings.ring_reversals):
        mark(i, "underdamped", f"{ring[i]:.0f} quick oscillations (7+ Hz) after the peak")

    k = settings.neighbours
    clean = flags == 0
    med_pp = _local_median(pp, k, clean)
    med_rr = _local_median(rr, k, clean)
    med_rise = _local_median(rise, 10 * k, clean)
    for i in np.flatnonzero(rise > np.minimum(settings.overdamped_rise_ratio * med_rise,
                                              settings.overdamped_rise_s)):
        mark(i, "overdamped", f"upstroke time {1000 * rise[i]:.0f} ms vs local median "
             f"{1000 * med_rise[i]:.0f} ms")
    for i in np.flatnonzero(pp < settings.non_perfused_pp_ratio * med_pp):
        mark(i, "non_perfused", f"pulse pressure {pp[i] / MMHG:.1f} mmHg is "
             f"{100 * pp[i] / med_pp[i]:.0f}% of the local median {med_pp[i] / MMHG:.1f} mmHg")
    for i in np.flatnonzero(rr > settings.pause_rr_ratio * med_rr):
        mark(i, "non_perfused", f"beat lasts {rr[i]:.2f} s, {rr[i] / med_rr[i]:.1f} x the "
             "local median: a contraction without a pulse")
    for i in np.flatnonzero(rr < settings.premature_rr_ratio * med_rr):
        mark(i, "premature", f"cut short at {rr[i]:.2f} s ({100 * rr[i] / med_rr[i]:.0f}% of "
             "the local median) by a premature beat")
        if i + 1 < n:
            mark(i + 1, "premature", f"starts {rr[i]:.2f} s after the previous beat")

    if r_peaks_s is not None and r_peaks_s.size:
        onset_s, end_s = beats["onset_s"].to_numpy(), beats["end_s"].to_numpy()
        foot_s = beats["foot_s"].to_numpy()
        pat = _pulse_arrival(r_peaks_s, foot_s)
        if np.isfinite(pat):
            # An R-peak whose pulse would arrive inside a beat, other than the
            # one that opened it, is a contraction that ejected nothing.
            arrive = r_peaks_s + pat
            idx = np.searchsorted(onset_s, arrive, side="right") - 1
            # Only a lengthened beat can hide one: an extra R-peak inside a beat
            # of normal length is ECG noise, not a missing pulse.
            long_beat = rr > 1.3 * med_rr
            for r, i, ta in zip(r_peaks_s, idx, arrive):
                if 0 <= i < n and long_beat[i] and ta < end_s[i] \
                        and ta - foot_s[i] > 0.3 * (end_s[i] - onset_s[i]) and end_s[i] - ta > 0.1:
                    if not flags[i] & FLAGS["non_perfused"]:
                        mark(i, "non_perfused", f"ECG R-peak at {r:.2f} s has no arterial pulse")
                    else:
                        reasons[i].append(f"(ECG R-peak at {r:.2f} s without pulse)")
    return flags, ["; ".join(r) for r in reasons]


def _pulse_arrival(r_s: np.ndarray, foot_s: np.ndarray) -> float:
    """Median delay from an R-peak to the next arterial foot [s] (NaN if implausible)."""
    j = np.searchsorted(r_s, foot_s) - 1
    ok = j >= 0
    d = foot_s[ok] - r_s[j[ok]]
    d = d[(d > 0.02) & (d < 0.6)]
    return float(np.median(d)) if d.size >= 5 else float("nan")


def flag_names(mask: int) -> list[str]:
    return [name for name, bit in FLAGS.items() if mask & bit]


def exclusion_summary(flags: np.ndarray) -> pd.DataFrame:
    """Beats per flag (a beat may carry several) and the clean count."""
    rows = [{"flag": "clean", "beats": int((flags == 0).sum())}]
    for name, bit in FLAGS.items():
        c = int((flags & bit).astype(bool).sum())
        if c:
            rows.append({"flag": name, "beats": c})
    return pd.DataFrame(rows)
