"""Model trends against a reference monitor (e.g. FloTrac SV and CO).

Arterial pressure alone carries no absolute flow scale: the model's stroke volume comes from
its heart size and wall law, so the comparison reports both the absolute agreement
(bias, limits of agreement, percentage error of Critchley & Critchley 1999) and the
agreement of changes (correlation, four-quadrant concordance with an exclusion zone, the
response to a fluid bolus), and the absolute agreement after a one-point calibration on the
first reference value, as pulse-contour monitors are calibrated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..units import convert


def paired_series(cal, record, role: str, model_col: str, unit: str, window_s: float = 20.0) -> pd.DataFrame:
    """Reference values (distinct updates) and the model's median over the preceding window."""
    num = _find_numeric(record, role)
    if num is None:
        raise ValueError(f"{record.source}: no numeric with role {role}")
    t, v = num.updates(unit)
    b = cal.beats
    tb = b["t_s"].to_numpy()
    mv = b[model_col].to_numpy()
    ok = b["observed"].to_numpy()
    model = np.full(t.size, np.nan)
    for i, ti in enumerate(t):
        w = (tb > ti - window_s) & (tb <= ti) & ok
        if w.sum() >= 3:
            model[i] = np.median(mv[w])
    out = pd.DataFrame({"t_s": t, "reference": v, "model": model})
    return out[np.isfinite(out["model"])].reset_index(drop=True)


def _find_numeric(record, role: str):
    for n in record.numerics.values():
        if n.role == role:
            return n
    return None


def agreement(ref: np.ndarray, model: np.ndarray, lag: int = 3, exclusion: float = 0.10) -> dict:
    """Bias, limits of agreement, percentage error, correlation, trend concordance."""
    d = model - ref
    bias, sd = float(np.mean(d)), float(np.std(d, ddof=1))
    out = {"n": int(ref.size), "reference_mean": float(np.mean(ref)), "model_mean": float(np.mean(model)),
           "bias": bias, "loa_low": bias - 1.96 * sd, "loa_high": bias + 1.96 * sd,
           "percentage_error": 100 * 1.96 * sd / float(np.mean(ref)),
           "pearson_r": float(np.corrcoef(ref, model)[0, 1])}
    scale = ref[0] / model[0]
    dc = model * scale - ref
    out["calibrated_percentage_error"] = 100 * 1.96 * float(np.std(dc, ddof=1)) / float(np.mean(ref))
    out["calibrated_bias"] = float(np.mean(dc))
    dr = (ref[lag:] - ref[:-lag]) / ref[:-lag]
    dm = (model[lag:] - model[:-lag]) / model[:-lag]
    big = (np.abs(dr) > exclusion) | (np.abs(dm) > exclusion)
    out["trend_pairs"] = int(big.sum())
    out["concordance"] = float(np.mean(np.sign(dr[big]) == np.sign(dm[big]))) if big.any() else float("nan")
    out["change_correlation"] = float(np.corrcoef(dr, dm)[0, 1]) if dr.size > 2 else float("nan")
    return out


def bolus_response(pairs: pd.DataFrame, start_s: float, end_s: float, before_s: float = 120.0,
                   after_s: float = 180.0) -> dict:
    """Relative change of reference and model from before a bolus to after its end."""
    pre = pairs[(pairs.t_s > start_s - before_s) & (pairs.t_s <= start_s)]
    post = pairs[(pairs.t_s > end_s) & (pairs.t_s <= end_s + after_s)]
    if len(pre) == 0 or len(post) == 0:
        return {"start_s": start_s, "end_s": end_s, "reference_change": float("nan"),
                "model_change": float("nan")}
    return {"start_s": start_s, "end_s": end_s,
            "reference_change": float(post.reference.median() / pre.reference.median() - 1),
            "model_change": float(post.model.median() / pre.model.median() - 1),
            "n_before": int(len(pre)), "n_after": int(len(post))}


def reference_report(cal, record, boluses=None) -> dict:
    """SV and CO of the model against the record's SV/CO numerics, with bolus responses.

    ``boluses`` are (start_s, end_s) pairs; by default taken from the record's events
    ("fluid administration start"/"end"; a start without an end gets start + 100 s).
    """
    if boluses is None:
        boluses = fluid_boluses(record)
    out = {"source": str(record.source), "boluses": [list(b) for b in boluses]}
    for role, col, unit in (("SV", "SV_mL", "mL"), ("CO", "CO_L_min", "L/min")):
        if _find_numeric(record, role) is None:
            continue
        pairs = paired_series(cal, record, role, col, unit)
        entry = {"unit": unit, **agreement(pairs["reference"].to_numpy(), pairs["model"].to_numpy())}
        entry["bolus_response"] = [bolus_response(pairs, s, e) for s, e in boluses]
        out[role] = entry
    return out


def fluid_boluses(record) -> list[tuple[float, float]]:
    ev = getattr(record, "events", None)
    if ev is None or len(ev) == 0:
        return []
    out = []
    text = ev.iloc[:, 1].astype(str).str.lower().to_numpy()
    t = ev.iloc[:, 0].to_numpy(float)
    for i, (ti, s) in enumerate(zip(t, text)):
        if "fluid" in s and "start" in s:
            end = next((tj for tj, sj in zip(t[i + 1:], text[i + 1:]) if "fluid" in sj and "end" in sj
                        and tj < ti + 900), None)
            nxt = next((tj for tj, sj in zip(t[i + 1:], text[i + 1:]) if "fluid" in sj and "start" in sj), None)
            if end is not None and nxt is not None and end > nxt:
                end = None
            out.append((float(ti), float(end if end is not None else ti + 100.0)))
    return out


def flow_steps(record, analysis, flow: str = "flow", trim_s: tuple[float, float] = (5.0, 2.0)) -> pd.DataFrame:
    """Reference SV and CO of each part of a joined record from its flow waveform.

    ``record.provenance["parts"]`` (:func:`cardiosim.signals.join.join_records`) gives the
    parts; each is trimmed by ``trim_s`` (start, end) against the transition. SV is the mean
    flow times the median RR of the part's clean beats; CO the mean flow.
    """
    parts = list(record.provenance.get("parts", []))
    if not parts:
        raise ValueError(f"{record.source}: no parts (join the steps with join_records)")
    ch = record.channel(flow)
    q = convert(np.asarray(ch.values, float), ch.unit, "mL/s")
    t = ch.times_s
    b = analysis.beats
    ends = [p["start_s"] for p in parts[1:]] + [record.duration_s]
    rows = []
    for i, (p, end) in enumerate(zip(parts, ends)):
        lo, hi = p["start_s"] + trim_s[0], end - trim_s[1]
        m = (t >= lo) & (t < hi)
        beats = b[(b.peak_s >= lo) & (b.peak_s < hi) & b.clean]
        rr = float(np.median(beats.rr_s)) if len(beats) else float("nan")
        mean_q = float(np.nanmean(q[m]))
        rows.append({"step": i, "source": p["source"], "start_s": lo, "end_s": hi, "beats": int(len(beats)),
                     "rr_s": rr, "SV_ref_mL": mean_q * rr, "CO_ref_L_min": mean_q * 60.0 / 1000.0})
    return pd.DataFrame(rows)


def step_medians(steps: pd.DataFrame, t_s: np.ndarray, values: np.ndarray, use: np.ndarray) -> np.ndarray:
    """Median of ``values`` over the beats ``use`` whose time lies in each step."""
    out = np.full(len(steps), np.nan)
    for i, r in enumerate(steps.itertuples()):
        m = use & (t_s >= r.start_s) & (t_s < r.end_s) & np.isfinite(values)
        if m.any():
            out[i] = float(np.median(values[m]))
    return out


def step_agreement(sv_ref: np.ndarray, sv: np.ndarray, co_ref: np.ndarray, co: np.ndarray,
                   skip_first: bool = True, min_change_l_min: float = 0.2) -> dict:
    """Percentage error (Critchley & Critchley 1999), bias and direction of CO change from step 0.

    Over the steps after the first when ``skip_first`` (the first gave the reference). The
    direction counts the steps whose reference CO moved more than ``min_change_l_min`` from
    step 0: the model's change from its step 0 must have the same sign.
    """
    s = slice(1, None) if skip_first else slice(None)
    d = sv[s] - sv_ref[s]
    mean_ref = float(np.mean(sv_ref[s]))
    dref = co_ref[1:] - co_ref[0]
    dmod = co[1:] - co[0]
    big = np.abs(dref) > min_change_l_min
    return {"steps": int(d.size), "diff_mL": d, "reference_mean_mL": mean_ref,
            "sv_pe_pct": 100 * 1.96 * float(np.std(d, ddof=1)) / mean_ref,
            "sv_bias_pct": 100 * float(np.mean(d)) / mean_ref,
            "co_direction_pct": 100 * float(np.mean(np.sign(dref[big]) == np.sign(dmod[big]))) if big.any()
            else float("nan"), "direction_steps": int(big.sum())}
