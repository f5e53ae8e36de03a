"""Per-beat observations from a monitoring record: what the filters compare the model to.

Each measured beat (foot to next foot, from :func:`cardiosim.signals.analyse_arterial`)
becomes one model beat of the same length, and, when the beat is clean, one observation:
the arterial pressure at fixed phases of the beat. Flagged beats still drive the model
(their RR) but are not observed; they are counted with their reason.

The model beat starts at activation, the measured one at the pressure foot; the foot comes
``lag_s`` after activation in the model, so the measured window is taken ``lag_s`` earlier.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import CardiosimError
from .operator import default_phases

MIN_BEAT_S = 0.25
MAX_BEAT_S = 2.5


class ObservationError(CardiosimError, ValueError):
    """The record cannot give enough observations to calibrate on."""


@dataclass
class BeatObservations:
    """Beats to run and observe.

    Attributes
    ----------
    t_s : ndarray (n,)
        Start of each model beat on the record's time axis [s] (measured onset - lag).
    rr_s : ndarray (n,)
        Model beat lengths [s].
    z_pa : ndarray (n, n_obs)
        Measured pressure [Pa] at the observation phases; NaN rows are not observed.
    observed : ndarray of bool (n,)
    reason : list of str
        Why a beat is not observed ("" when observed).
    beat_index : ndarray (n,)
        Row of the analysis beat table each model beat comes from (-1 for filler beats).
    """

    t_s: np.ndarray
    rr_s: np.ndarray
    z_pa: np.ndarray
    observed: np.ndarray
    reason: list
    beat_index: np.ndarray
    lag_s: float = 0.0
    source: str = ""
    noise_pa: float = float("nan")
    info: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.rr_s.size

    @property
    def n_obs(self) -> int:
        return self.z_pa.shape[1]

    def skipped(self) -> pd.DataFrame:
        """Beats not observed, counted by reason."""
        r = pd.Series([x for x, o in zip(self.reason, self.observed) if not o], dtype=object)
        if r.empty:
            return pd.DataFrame({"reason": [], "beats": []})
        c = r.value_counts()
        return pd.DataFrame({"reason": c.index, "beats": c.to_numpy()})

    def window(self, start: int, stop: int) -> "BeatObservations":
        sl = slice(start, stop)
        return BeatObservations(self.t_s[sl], self.rr_s[sl], self.z_pa[sl], self.observed[sl],
                                self.reason[sl], self.beat_index[sl], self.lag_s, self.source,
                                self.noise_pa, dict(self.info))


def beat_sequence(beats: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list, np.ndarray]:
    """Model beats (start [s], length [s], reason, source row) from an analysis beat table.

    Beats shorter than 0.25 s (noise, a cut beat) are merged into the next one; beats
    longer than 2.5 s or 1.8x the median clean RR (a pause, a flush, a gap) are split into
    unobserved beats of about the median length; holes between beats are filled the same way.
    """
    if beats.empty:
        raise ObservationError("no beats were detected in the arterial pressure")
    clean = beats[beats["clean"]]
    med = float(np.median((clean if len(clean) else beats)["rr_s"]))
    med = min(max(med, 0.3), 2.0)
    starts, lengths, reasons, rows = [], [], [], []
    pending = None  # (start, reason) of a merged short beat

    def fill(t0, T, reason, row):
        k = max(1, int(round(T / med)))
        for i in range(k):
            starts.append(t0 + i * T / k)
            lengths.append(T / k)
            reasons.append(reason)
            rows.append(row if k == 1 else -1)

    # beats run foot to foot: the intersecting-tangent foot is a steadier fiducial point
    # than the pressure minimum, which can sit on an earlier dip of a flat diastole
    foot = beats["foot_s"].to_numpy(float)
    onset = beats["onset_s"].to_numpy(float)
    end = beats["end_s"].to_numpy(float)
    anchor = np.where(np.isfinite(foot), foot, onset)
    nxt = np.empty_like(anchor)
    nxt[:-1] = anchor[1:]
    nxt[-1] = end[-1] + (anchor[-1] - onset[-1])
    contiguous = np.ones(len(anchor), dtype=bool)
    contiguous[:-1] = np.abs(end[:-1] - onset[1:]) < 1e-6
    t1s = np.where(contiguous, nxt, end + (anchor - onset))
    prev_end = None
    for row, b in enumerate(beats.itertuples(index=False)):
        t0, t1 = float(anchor[row]), float(t1s[row])
        if not (np.isfinite(t0) and np.isfinite(t1) and t1 > t0):
            continue
        if prev_end is not None and t0 - prev_end > 1e-6:
            if pending is None:
                fill(prev_end, t0 - prev_end, "no beat detected", -1)
            else:
                t0 = pending[0]
        reason = "" if b.clean else (str(b.flag) or "flagged")
        if pending is not None:
            t0, reason = pending[0], pending[1] or reason or "merged short beat"
            pending = None
        T = t1 - t0
        if T < MIN_BEAT_S:
            pending = (t0, reason or f"beat of {T:.2f} s merged into the next")
            prev_end = t1
            continue
        if T > MAX_BEAT_S or (T > 1.8 * med):
            fill(t0, T, reason or f"long beat ({T:.2f} s)", row)
        else:
            starts.append(t0)
            lengths.append(T)
            reasons.append(reason)
            rows.append(row)
        prev_end = t1
    if not lengths:
        raise ObservationError("no beat of usable length (0.25-2.5 s) in the record")
    return np.array(starts), np.array(lengths), reasons, np.array(rows, dtype=np.int64)


def noise_estimate_pa(values: np.ndarray) -> float:
    """Measurement noise sd [Pa] from second differences (robust, MAD-based)."""
    v = values[np.isfinite(values)]
    if v.size < 10:
        return float("nan")
    d2 = np.diff(v, 2)
    return float(1.4826 * np.median(np.abs(d2 - np.median(d2))) / np.sqrt(6.0))


def from_record(record, analysis, n_obs: int = 32, lag_s: float = 0.0) -> BeatObservations:
    """Observations of the analysed arterial channel of ``record``."""
    ch = record.channel(analysis.channel)
    t_ch0, fs = ch.t0_s, ch.fs_hz
    values = np.asarray(ch.values, dtype=float)
    starts, T, reasons, rows = beat_sequence(analysis.beats)
    phases = default_phases(n_obs)
    seg = analysis.segments
    seg_spans = seg[["start_s", "end_s"]].to_numpy(float) if len(seg) else np.zeros((0, 2))
    seg_kind = list(seg["kind"]) if len(seg) else []
    n = T.size
    z = np.full((n, n_obs), np.nan)
    observed = np.zeros(n, dtype=bool)
    t_model = starts - lag_s
    for k in range(n):
        if reasons[k]:
            continue
        a, b = t_model[k], t_model[k] + T[k]
        hit = np.flatnonzero((seg_spans[:, 0] < b) & (seg_spans[:, 1] > a)) if len(seg_spans) else []
        if len(hit):
            reasons[k] = f"{seg_kind[hit[0]]} within the lagged window"
            continue
        pos = (a + phases * T[k] - t_ch0) * fs
        i0 = np.floor(pos).astype(np.int64)
        if i0.min() < 0 or i0.max() + 1 >= values.size:
            reasons[k] = "window outside the recording"
            continue
        w = pos - i0
        zk = (1 - w) * values[i0] + w * values[i0 + 1]
        if not np.all(np.isfinite(zk)):
            reasons[k] = "missing samples"
            continue
        z[k] = zk
        observed[k] = True
    obs = BeatObservations(t_model, T, z, observed, reasons, rows, lag_s, record.source,
                           noise_estimate_pa(values),
                           info={"channel": ch.name, "fs_hz": fs, "n_obs": n_obs})
    return obs


def require_observed(obs: BeatObservations, minimum: int = 10) -> None:
    """Raise :class:`ObservationError` when fewer than ``minimum`` beats are observed."""
    k = int(obs.observed.sum())
    if k < minimum:
        reasons = obs.skipped()
        top = "; ".join(f"{r.reason}: {r.beats}" for r in reasons.head(4).itertuples()) or "none"
        raise ObservationError(
            f"{obs.source}: only {k} clean beats of {obs.n} can be observed (need >= {minimum}); "
            f"skipped beats by reason: {top}. Check the arterial line (inspect it with "
            f"`cardiosim inspect`) or give a longer/cleaner stretch.")


def mean_beat_pa(obs: BeatObservations, first: int, count: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Mean and sd [Pa] of the first ``count`` observed beats from index ``first``."""
    idx = np.flatnonzero(obs.observed[first:])[:count] + first
    if idx.size == 0:
        raise ObservationError(f"{obs.source}: no observed beat from beat {first}")
    zz = obs.z_pa[idx]
    return zz.mean(axis=0), zz.std(axis=0), idx.size


def flow_observations(record, obs: "BeatObservations", kinds=("CO",), sd_pct: float = 10.0,
                      references=()) -> tuple[dict, pd.DataFrame]:
    """Sparse SV/CO observations per beat: the record's numerics of ``kinds`` and ``references``.

    ``"FLOW"`` among the kinds observes a flow waveform channel (the one channel in a volume
    flow unit, e.g. an aortic flow probe): its integral over each observed beat's window, an
    SV per beat. The window need not be aligned with the ejection: over one RR the integral of
    a periodic flow is the stroke volume whatever the phase.

    A numeric counts at each distinct update (a monitor repeats its value until it changes
    it); each value goes to the beat in progress at its time (``obs.t_s`` to ``t_s + rr_s``).
    Its observation sd is ``sd_pct`` % of the value. Returns ({beat: FlowObservation},
    a table of what was used: kind, t_s, beat, value, unit, source).
    """
    from ..errors import ParameterError
    from ..units import convert
    from .filters import FlowObservation

    if not (np.isfinite(sd_pct) and sd_pct > 0):
        raise ParameterError(f"flow observation sd must be > 0 %, got {sd_pct!r}")
    rows = []
    for kind in kinds:
        if kind == "FLOW":
            rows += _flow_waveform_svs(record, obs)
            continue
        num = record.numeric(kind)
        if num is None:
            raise ParameterError(f"{record.source}: --observe {kind} needs a {kind} numeric channel; the record "
                                 f"has {', '.join(record.numerics) or 'no numerics'}")
        unit = "L/min" if kind == "CO" else "mL"
        for ti, vi in zip(*num.updates(unit)):
            rows.append((kind, float(ti), float(vi), unit, num.name))
    for ref in references:
        rows.append((ref.kind, ref.t_s, ref.value, ref.unit, ref.source))
    out: dict = {}
    used = []
    starts, ends = obs.t_s, obs.t_s + obs.rr_s
    for kind, ti, vi, unit, src in sorted(rows, key=lambda r: r[1]):
        k = int(np.searchsorted(starts, ti, side="right")) - 1
        if k < 0 or ti >= ends[k]:
            continue
        si = convert(vi, unit, "m^3/s" if kind == "CO" else "m^3")
        kinds_k, vals, sds = out.get(k, ((), [], []))
        out[k] = (kinds_k + (kind,), vals + [si], sds + [si * sd_pct / 100.0])
        used.append({"kind": kind, "t_s": ti, "beat": k, "value": vi, "unit": unit, "source": src})
    flows = {k: FlowObservation(kk, np.array(v), np.array(s)) for k, (kk, v, s) in out.items()}
    return flows, pd.DataFrame(used, columns=["kind", "t_s", "beat", "value", "unit", "source"])


def _flow_waveform_svs(record, obs: "BeatObservations") -> list[tuple]:
    """(SV, beat-start time [s], mL, channel) for each observed beat, from the flow channel."""
    from ..errors import ParameterError

    chans = [c for c in record.channels.values() if c.unit == "m^3/s"]
    if len(chans) != 1:
        raise ParameterError(f"{record.source}: --observe FLOW needs exactly one flow waveform channel (a volume "
                             f"flow unit such as mL/s); the record has "
                             f"{', '.join(c.name for c in chans) if chans else 'none'}")
    ch = chans[0]
    k = np.flatnonzero(obs.observed)
    sv = ch.integrals(obs.t_s[k], obs.t_s[k] + obs.rr_s[k]) * 1e6
    # each value at its window's mid-point, so that it falls in its beat; gaps give no value
    return [("SV", float(obs.t_s[i] + 0.5 * obs.rr_s[i]), float(v), "mL", ch.name)
            for i, v in zip(k, sv) if np.isfinite(v)]
