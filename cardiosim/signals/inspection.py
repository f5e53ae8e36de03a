"""What ``cardiosim inspect`` shows: a record's channels, beats, features and artefacts."""

from __future__ import annotations

import numpy as np

from .analysis import ArterialAnalysis
from .record import MonitoringRecord

__all__ = ["summary_text", "inspect_figure"]

_FLAG_COLOURS = {"gap": "0.6", "flush": "tab:red", "zeroing": "tab:purple",
                 "saturation": "tab:orange", "flat": "tab:brown"}


def summary_text(record: MonitoringRecord, analysis: ArterialAnalysis | None,
                 max_artefacts: int = 30) -> str:
    """Plain-text summary (channels, beats, features, exclusions, artefacts)."""
    lines = [f"record: {record.source}"]
    if record.start_time is not None:
        lines.append(f"start: {record.start_time}")
    lines.append(f"duration: {record.duration_s:.1f} s")
    s = record.summary()
    s["fs_hz"] = s["fs_hz"].map(lambda v: f"{v:.3f}")
    s["duration_s"] = s["duration_s"].map(lambda v: f"{v:.1f}")
    s["nan_percent"] = s["nan_percent"].map(lambda v: f"{v:.1f}")
    lines += ["", "channels:", s.drop(columns=["start_s"]).to_string(index=False)]
    if analysis is None:
        lines += ["", "no arterial pressure channel: beats were not analysed"]
        return "\n".join(lines)
    b = analysis.beats
    n, clean = len(b), int(b["clean"].sum())
    lines += ["", f"arterial channel: {analysis.channel}; ECG: {analysis.ecg_channel or 'none'}",
              f"beats: {n} detected, {clean} clean ({100 * clean / max(n, 1):.1f} %), "
              f"{n - clean} flagged"]
    if analysis.r_peaks_s is not None:
        lines.append(f"ECG R-peaks: {analysis.r_peaks_s.size}")
    fs = analysis.feature_summary()
    if not fs.empty:
        lines += ["", "features over clean beats (median [5th-95th percentile]):"]
        for r in fs.itertuples():
            lines.append(f"  {r.feature:<16} {r.median:9.3f}  [{r.p5:.3f} - {r.p95:.3f}]")
    lines += ["", "beats excluded, by reason (a beat may have several):",
              analysis.exclusions().to_string(index=False)]
    seg = analysis.segments
    lines += ["", f"artefact segments: {len(seg)}"]
    for r in seg.head(max_artefacts).itertuples():
        lines.append(f"  {r.kind:<11} {r.start_s:9.2f} - {r.end_s:9.2f} s  {r.detail}")
    if len(seg) > max_artefacts:
        lines.append(f"  ... and {len(seg) - max_artefacts} more (see the segments CSV)")
    flagged = b[~b["clean"]]
    lines += ["", f"flagged beats: {len(flagged)}"]
    for r in flagged.head(max_artefacts).itertuples():
        lines.append(f"  {r.onset_s:9.2f} s  {r.flag:<24} {r.reason}")
    if len(flagged) > max_artefacts:
        lines.append(f"  ... and {len(flagged) - max_artefacts} more (see the beats CSV)")
    return "\n".join(lines)


def _envelope(t: np.ndarray, x: np.ndarray, bins: int = 4000):
    """Min-max envelope so a day of samples plots as what the eye would see."""
    if x.size <= 2 * bins:
        return t, x, x
    k = x.size // bins
    m = k * bins
    xr = x[:m].reshape(bins, k)
    import warnings
    with warnings.catch_warnings():
        # Bins wholly inside a gap are NaN, which is what should be drawn there.
        warnings.simplefilter("ignore", RuntimeWarning)
        return t[:m:k], np.nanmin(xr, axis=1), np.nanmax(xr, axis=1)


def inspect_figure(record: MonitoringRecord, analysis: ArterialAnalysis):
    """Arterial pressure with beats and flags marked, and per-beat trends."""
    import matplotlib.pyplot as plt

    ch = record.channel(analysis.channel)
    p = ch.in_unit("mmHg")
    t = ch.times_s
    b = analysis.beats
    fig, axes = plt.subplots(3, 1, figsize=(12, 9), constrained_layout=True)
    ax = axes[0]
    tt, lo, hi = _envelope(t, p)
    if lo is hi:
        ax.plot(tt, lo, lw=0.5, color="k")
    else:
        ax.fill_between(tt, lo, hi, color="k", lw=0)
    for seg in analysis.segments.itertuples():
        ax.axvspan(seg.start_s, seg.end_s, color=_FLAG_COLOURS.get(seg.kind, "y"), alpha=0.3)
    bad = b[~b["clean"]]
    ax.plot(bad["peak_s"], bad["sbp_mmHg"], "rv", ms=4, label=f"flagged beats ({len(bad)})")
    ax.set(title=f"{record.source}: {analysis.channel}", ylabel="pressure [mmHg]")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c, alpha=0.3) for c in _FLAG_COLOURS.values()]
    ax.legend(handles + ax.get_legend_handles_labels()[0],
              list(_FLAG_COLOURS) + ax.get_legend_handles_labels()[1], loc="upper right",
              fontsize=7, ncol=3)

    ax = axes[1]
    # A 10 s window around the first flagged beat (or the middle) at full resolution.
    centre = float(bad["onset_s"].iloc[0]) if len(bad) else float(t[t.size // 2])
    sel = (t > centre - 5) & (t < centre + 5)
    ax.plot(t[sel], p[sel], "k", lw=0.8)
    win = b[(b["onset_s"] > centre - 5) & (b["onset_s"] < centre + 5)]
    ax.plot(win["onset_s"], win["dbp_mmHg"], "g^", ms=5, label="onset")
    ax.plot(win["peak_s"], win["sbp_mmHg"], "bv", ms=5, label="systolic peak")
    ax.plot(win["notch_s"], win["notch_mmHg"], "mo", ms=4, label="dicrotic notch")
    for r in win[~win["clean"]].itertuples():
        ax.axvspan(r.onset_s, r.end_s, color="r", alpha=0.15)
        ax.text(r.onset_s, np.nanmax(p[sel]), r.flag, fontsize=7, color="r", va="top")
    ax.set(xlabel="time [s]", ylabel="pressure [mmHg]", title="beats (red: flagged)")
    ax.legend(fontsize=7, loc="upper right")

    ax = axes[2]
    c = b[b["clean"]]
    for col, colour in (("sbp_mmHg", "r"), ("map_mmHg", "k"), ("dbp_mmHg", "b")):
        ax.plot(c["onset_s"], c[col], ".", ms=2, color=colour, label=col.split("_")[0].upper())
    ax2 = ax.twinx()
    ax2.plot(c["onset_s"], c["hr_bpm"], ".", ms=2, color="tab:green")
    ax2.set_ylabel("heart rate [bpm]", color="tab:green")
    ax.set(xlabel="time [s]", ylabel="pressure [mmHg]", title="clean beats")
    ax.legend(fontsize=7, loc="upper left", markerscale=4)
    return fig

