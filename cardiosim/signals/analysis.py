"""One call from a record to its beats: ``analyse_arterial(record)``.

Finds the arterial-pressure channel, detects beats, measures them, finds
artefacts, times them against the ECG when there is one, and flags every
beat with its reason.  The beat table is in clinical units (mmHg, s, bpm),
as clinicians and the CSV outputs read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..units import MMHG, UnitError, lookup_unit
from . import arterial_kernels as K
from .arterial import DetectionSettings, beat_arrays, prepare
from .ecg import detect_r_peaks
from .quality import FLAGS, SIGNAL_FLAGS, QualitySettings, exclusion_summary, find_segments, \
    flag_beats, flag_names
from .record import Channel, MonitoringRecord, RecordError

__all__ = ["ArterialAnalysis", "analyse_arterial", "check_pressure_channel"]

#: Columns of :attr:`ArterialAnalysis.beats` and their units.
BEAT_COLUMNS = {
    "onset_s": "s", "foot_s": "s", "peak_s": "s", "notch_s": "s", "end_s": "s",
    "sbp_mmHg": "mmHg", "dbp_mmHg": "mmHg", "map_mmHg": "mmHg", "pp_mmHg": "mmHg",
    "rr_s": "s", "hr_bpm": "bpm", "systolic_s": "s", "dpdt_max_mmHg_s": "mmHg/s",
    "notch_mmHg": "mmHg", "rise_ms": "ms", "r_peak_s": "s", "pat_s": "s",
    "flags": "bit mask", "flag": "names", "reason": "text", "clean": "bool",
}


@dataclass(frozen=True)
class ArterialAnalysis:
    """Beats, artefacts and R-peaks of one arterial-pressure channel.

    Attributes
    ----------
    source, channel : str
        File and channel analysed.
    beats : pandas.DataFrame
        One row per beat (onset to next onset); see :data:`BEAT_COLUMNS`.
        ``clean`` is True when no flag is set; ``reason`` says why otherwise.
    segments : pandas.DataFrame
        Sample-level artefacts: ``kind``, ``start_s``, ``end_s``, ``detail``.
    r_peaks_s : numpy.ndarray or None
        ECG R-peak times [s], when the record has an ECG.
    ecg_channel : str or None
    duration_s : float
    """

    source: str
    channel: str
    beats: pd.DataFrame
    segments: pd.DataFrame
    r_peaks_s: np.ndarray | None
    ecg_channel: str | None
    duration_s: float
    settings: dict = field(default_factory=dict)

    @property
    def clean(self) -> pd.DataFrame:
        return self.beats[self.beats["clean"]]

    def exclusions(self) -> pd.DataFrame:
        """Beats per flag, and the clean count."""
        return exclusion_summary(self.beats["flags"].to_numpy())

    def feature_summary(self) -> pd.DataFrame:
        """Median and 5-95 % range of each feature over clean beats."""
        cols = ["sbp_mmHg", "dbp_mmHg", "map_mmHg", "pp_mmHg", "hr_bpm", "rr_s",
                "systolic_s", "dpdt_max_mmHg_s", "notch_mmHg", "pat_s"]
        c = self.clean
        rows = []
        for col in cols:
            v = c[col].to_numpy(dtype=float)
            v = v[np.isfinite(v)]
            if v.size:
                rows.append({"feature": col, "median": np.median(v), "p5": np.percentile(v, 5),
                             "p95": np.percentile(v, 95), "beats": v.size})
        return pd.DataFrame(rows)


def check_pressure_channel(record: MonitoringRecord, channel: Channel) -> np.ndarray:
    """Values of an arterial channel in Pa, or a clear error if unusable."""
    try:
        _, dim = lookup_unit(channel.unit)
    except UnitError:
        dim = None
    if dim != "pressure":
        raise RecordError(f"unit {channel.source_unit!r} is not a pressure; declare it with "
                          f"units={{{channel.name!r}: 'mmHg'}} (command line: --unit \"{channel.name}=mmHg\")",
                          record.source, channel.name)
    v = channel.values
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        raise RecordError("every sample is missing (NaN)", record.source, channel.name)
    if np.ptp(finite) == 0.0:
        raise RecordError(f"the signal is constant at {finite[0] / MMHG:.1f} mmHg: the "
                          "transducer is not connected or the channel is not a pressure",
                          record.source, channel.name)
    if finite.size < 5 * channel.fs_hz:
        raise RecordError(f"only {finite.size / channel.fs_hz:.1f} s of signal; at least 5 s "
                          "are needed to find beats", record.source, channel.name)
    return v


def _best_ecg(record: MonitoringRecord) -> Channel | None:
    leads = [c for c in record.channels.values() if c.role == "ECG" and c.fs_hz >= 100]
    leads = [c for c in leads if np.isfinite(c.values).sum() > 5 * c.fs_hz
             and np.nanstd(c.values) > 0]
    if not leads:
        return None
    return min(leads, key=lambda c: c.nan_fraction())


def analyse_arterial(record: MonitoringRecord, channel: str | None = None, *,
                     detection: DetectionSettings = DetectionSettings(),
                     quality: QualitySettings = QualitySettings(),
                     use_ecg: bool = True) -> ArterialAnalysis:
    """Detect, measure and flag every arterial-pressure beat of a record.

    Parameters
    ----------
    record : MonitoringRecord
    channel : str, optional
        Channel name; default: the channel with role ABP.
    detection, quality : settings
        Beat detection and artefact thresholds.
    use_ecg : bool
        Time beats against the ECG R-peaks when the record has an ECG.

    Raises
    ------
    RecordError
        No arterial channel, a channel that is not a pressure, all-missing,
        constant or too short, or no beat found.
    """
    if channel is None:
        ch = record.find("ABP")
        if ch is None:
            raise RecordError(
                "no arterial pressure channel (role ABP) among "
                + ", ".join(f"{n} ({c.role or 'no role'}, {c.source_unit})"
                            for n, c in record.channels.items())
                + "; name it with roles={'ABP': '<channel>'}", record.source)
    else:
        ch = record.channel(channel)
    raw = check_pressure_channel(record, ch)
    fs = ch.fs_hz
    pf, dpdt, missing = prepare(raw, fs, detection)
    ba = beat_arrays(pf, dpdt, missing, fs, detection)
    if ba.onset.size == 0:
        raise RecordError("no heartbeat found: the signal is not pulsatile (median "
                          f"{np.nanmedian(raw) / MMHG:.1f} mmHg, range "
                          f"{np.nanmin(raw) / MMHG:.1f}-{np.nanmax(raw) / MMHG:.1f} mmHg)",
                          record.source, ch.name)
    F = ba.features
    t0 = ch.t0_s
    onset_s = t0 + ba.onset / fs
    end_s = t0 + ba.end / fs
    foot_s = t0 + ba.foot_s
    sbp, dbp = F[:, K.F_SBP], F[:, K.F_DBP]
    pp = sbp - dbp
    rr = np.diff(np.append(foot_s, np.nan))
    # The last beat's length is onset-to-onset: its next foot lies beyond it.
    rr[-1] = end_s[-1] - onset_s[-1]
    notch = F[:, K.F_NOTCH]
    has_notch = notch >= 0
    notch_s = np.where(has_notch, t0 + np.where(has_notch, notch, 0) / fs, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        rise = np.where(F[:, K.F_DPDT] > 0, pp / F[:, K.F_DPDT], np.inf)
    internal = pd.DataFrame({
        "onset": ba.onset, "end": ba.end, "onset_s": onset_s, "end_s": end_s,
        "foot_s": foot_s, "rr_s": rr, "sbp_pa": sbp, "dbp_pa": dbp, "map_pa": F[:, K.F_MAP],
        "pp_pa": pp, "rise_s": rise})

    # Local systolic level for the flush rule: running median of beat peaks.
    sys_ref = pd.Series(sbp).rolling(61, center=True, min_periods=1).median().to_numpy()
    sys_samples = np.interp(np.arange(raw.size), ba.onset, sys_ref)
    segments = find_segments(raw, pf, fs, sys_samples, ch.limits, quality)
    segments["start_s"] += t0
    segments["end_s"] += t0

    r_peaks = None
    ecg = _best_ecg(record) if use_ecg else None
    if ecg is not None:
        r_peaks = ecg.t0_s + detect_r_peaks(ecg.values, ecg.fs_hz) / ecg.fs_hz

    flags, reasons = flag_beats(internal, F, segments, r_peaks, quality)
    # Beats with missing samples are gaps even when the run was shorter than a segment.
    part_missing = F[:, K.F_NAN] > 0
    flags[part_missing] |= FLAGS["gap"]

    r_of_beat = np.full(onset_s.size, np.nan)
    pat = np.full(onset_s.size, np.nan)
    if r_peaks is not None and r_peaks.size:
        j = np.searchsorted(r_peaks, foot_s) - 1
        ok = j >= 0
        d = np.full(foot_s.size, np.nan)
        d[ok] = foot_s[ok] - r_peaks[j[ok]]
        good = (d > 0.02) & (d < 0.6)
        r_of_beat[good] = r_peaks[j[good]]
        pat[good] = d[good]

    beats = pd.DataFrame({
        "onset_s": onset_s, "foot_s": foot_s, "peak_s": t0 + F[:, K.F_PEAK] / fs,
        "notch_s": notch_s, "end_s": end_s,
        "sbp_mmHg": sbp / MMHG, "dbp_mmHg": dbp / MMHG, "map_mmHg": F[:, K.F_MAP] / MMHG,
        "pp_mmHg": pp / MMHG, "rr_s": rr, "hr_bpm": 60.0 / rr,
        "systolic_s": notch_s - foot_s, "dpdt_max_mmHg_s": F[:, K.F_DPDT] / MMHG,
        "notch_mmHg": F[:, K.F_NOTCH_P] / MMHG, "rise_ms": 1000.0 * rise,
        "r_peak_s": r_of_beat, "pat_s": pat,
        "flags": flags, "flag": [",".join(flag_names(f)) or "ok" for f in flags],
        "reason": [r if r else ("gap: missing samples within the beat" if m else "")
                   for r, m in zip(reasons, part_missing)],
        "clean": flags == 0,
    })
    return ArterialAnalysis(source=record.source, channel=ch.name, beats=beats,
                            segments=segments.drop(columns=["start", "end"]),
                            r_peaks_s=r_peaks, ecg_channel=None if ecg is None else ecg.name,
                            duration_s=ch.duration_s,
                            settings={"detection": detection.__dict__,
                                      "quality": quality.__dict__,
                                      "signal_flags": list(SIGNAL_FLAGS)})
