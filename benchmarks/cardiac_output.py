"""Stroke volume and cardiac output on a true scale, against measured flow and FloTrac.

Mock circulation loop (FDA, fda-mcl-co; flow measured by a sensor, not computed from
pressure). For each state (normovolemic, cardiogenic shock, hyperdynamic) the CO-resolution
steps are joined in step order into one record (``cardiosim.signals.join.join_records``);
the radial pressure is the only model input. ``--reference CO=X@T``: X the mean flow of the
first step [L/min], T its mid-point. Per step (trimmed 5 s after and 2 s before each
transition) the reference SV is the mean flow x the median RR, the model's the median over
its observed beats. Figures are pooled over the steps after the first of all states.
Peers: the classical pulse-contour estimators of ``cardiosim.signals.contour``, each
calibrated on the same first step (median of its beats there = the reference SV).

Prints one JSON line. Keys:
  mcl_sv_pe_pct              percentage error of SV, 1.96 SD(model - flow) / mean flow SV
                             (Critchley & Critchley 1999), pooled; goal <= 20
  mcl_sv_bias_pct            mean(model - flow) / mean flow SV; goal within +-5
  mcl_co_direction_pct       steps whose flow CO moved > 0.2 L/min from the first step and the
                             model's CO moved the same way; goal >= 95
  mcl_best_peer_sv_pe_pct    the lowest pooled percentage error of the classical estimators
  mcl_best_peer              its name
  mcl_peer_sv_pe_pct         every estimator's pooled percentage error
  mcl_prior_only_sv_pe_pct   the same percentage error with the patient-size prior only (an
                             adult of BSA 1.8 m2, sex unknown: no reference), over all steps
  mcl_prior_only_sv_bias_pct its bias
  mcl_states                 per state: sv_pe_pct, sv_bias_pct, co_direction_pct, flow scale k
  mcl_ppv_r, mcl_ppv_bias_pts   PPV of the radial pressure against the SVV of the flow, per
                             SVV-resolution step (both breathing rates; median over cycles)
  mcl_svv_r, mcl_svv_bias_pts   the same for the model's SVV (each step calibrated on its own,
                             pressure only: SVV needs no flow scale), from each beat's SV re-fitted
                             to its own pressure (SV_beat_mL, cardiosim.assimilation.reanalysis)
  mcl_svv_forecast_r, mcl_svv_forecast_bias_pts   the same from the filter's forecast SV (SV_mL)
  flotrac_sv_pe_pct, flotrac_co_pe_pct, flotrac_co_concordance_pct, flotrac_bolus_sv_diff_pts
                             waveformtools-ppv-study with --reference first, against the EV1000
                             (concordance: 10 % exclusion zone, changes over 3 updates; bolus: model
                             minus FloTrac SV change, points, the larger of the two boluses);
                             flotrac_svv_bias_pts: model SVV minus EV1000 SVV per 30 s window
  flotrac_observed_co_*      with every EV1000 CO update observed in the filter (--observe ABP,CO;
                             the comparison is then not independent): SV, CO percentage error, SV r
  seconds                    wall time of the mock-loop calibrations
Run: python benchmarks/cardiac_output.py   [--quick] [--no-model-svv] [--jobs N]
--quick: the normovolemic state only, its first four steps; no SVV, no FloTrac (results/quick/).
"""

from __future__ import annotations

import argparse
import os
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from _jobs import default_jobs, run_jobs
from _record import record

COLUMNS = ["time_s", "flow_mL_s", "ABP_central_mmHg", "ABP_mmHg"]
STATES = ("normovolemic", "cardiogenic_shock", "hyperdynamic")
#: an adult of BSA 1.8 m2 (Mosteller: sqrt(175 cm x 66.65 kg / 3600)), sex not given
ADULT = dict(height_cm=175.0, weight_kg=66.65)


def data_dir() -> Path:
    return Path(os.environ.get("CARDIOSIM_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def _step_number(p: Path) -> int:
    return int(re.search(r"step(\d+)", p.name).group(1))


def joined_state(state: str, steps: int | None = None):
    """The CO-resolution steps of one state joined in step order."""
    from cardiosim.signals import read_record
    from cardiosim.signals.join import join_records

    files = sorted((data_dir() / "fda-mcl-co" / "COres" / state).glob("*.csv.gz"), key=_step_number)
    if not files:
        raise FileNotFoundError(f"no mock-loop steps under {data_dir() / 'fda-mcl-co' / 'COres' / state}")
    files = files[:steps] if steps else files
    return join_records([read_record(f, columns=COLUMNS) for f in files], source=f"fda-mcl-co/{state}")


def first_step_reference(rec, steps: pd.DataFrame) -> str:
    """--reference for the first step: its mean flow [L/min] at its mid-point [s]."""
    from cardiosim.units import convert

    ch = rec.channel("flow")
    end = steps.start_s.iloc[1] - 5.0 if len(steps) > 1 else rec.duration_s
    q = convert(np.asarray(ch.values), ch.unit, "mL/s")[ch.times_s < end]
    return f"CO={q.mean() * 0.06:.4f}@{0.5 * end:.1f}"


def mock_loop_state(state: str, steps: int | None = None) -> dict:
    from cardiosim.assimilation import calibrate
    from cardiosim.assimilation.compare import flow_steps, step_agreement, step_medians
    from cardiosim.assimilation.patient import Patient
    from cardiosim.signals import analyse_arterial
    from cardiosim.signals.contour import calibrate_estimates, estimates, waveform_features
    from cardiosim.units import MMHG

    rec = joined_state(state, steps)
    analysis = analyse_arterial(rec)
    table = flow_steps(rec, analysis)
    ref = first_step_reference(rec, table)
    t0 = time.perf_counter()
    cal = calibrate(rec, analysis=analysis, reference=ref)
    prior = calibrate(rec, analysis=analysis, patient=Patient(**ADULT))
    seconds = time.perf_counter() - t0
    sv_ref, co_ref = table.SV_ref_mL.to_numpy(), table.CO_ref_L_min.to_numpy()

    def model(c):
        b = c.beats
        use = b.observed.to_numpy()
        return (step_medians(table, b.t_s.to_numpy(), b.SV_mL.to_numpy(), use),
                step_medians(table, b.t_s.to_numpy(), b.CO_L_min.to_numpy(), use))

    sv, co = model(cal)
    out = {"model": step_agreement(sv_ref, sv, co_ref, co), "k": cal.scale.k, "reference": ref,
           "sv_ref": sv_ref, "co_ref": co_ref, "sv": sv}
    sv_p, co_p = model(prior)
    out["prior"] = step_agreement(sv_ref, sv_p, co_ref, co_p, skip_first=False)
    # classical estimators, calibrated on the same first step
    beats = analysis.beats
    ch = rec.channel(analysis.channel)
    feats = waveform_features(ch.times_s, np.asarray(ch.values) / MMHG, beats)
    proxies = estimates(beats, feats)
    tb, clean = beats.peak_s.to_numpy(), beats.clean.to_numpy()
    first = clean & (tb >= table.start_s.iloc[0]) & (tb < table.end_s.iloc[0])
    sv_peers = calibrate_estimates(proxies, sv_ref[0], first)
    out["peers"] = {}
    for name in sv_peers:
        s = step_medians(table, tb, sv_peers[name].to_numpy(), clean)
        c = s / table.rr_s.to_numpy() * 0.06
        out["peers"][name] = step_agreement(sv_ref, s, co_ref, c)
    out["seconds"] = seconds
    return out


def pooled(entries: list[dict]) -> dict:
    d = np.concatenate([e["diff_mL"] for e in entries])
    ref_mean = float(np.average([e["reference_mean_mL"] for e in entries], weights=[e["steps"] for e in entries]))
    n_dir = sum(e["direction_steps"] for e in entries)
    right = sum(e["co_direction_pct"] / 100 * e["direction_steps"] for e in entries if e["direction_steps"])
    return {"sv_pe_pct": 100 * 1.96 * float(np.std(d, ddof=1)) / ref_mean,
            "sv_bias_pct": 100 * float(np.mean(d)) / ref_mean,
            "co_direction_pct": 100 * right / n_dir if n_dir else float("nan")}


def _piece(args: tuple) -> dict:
    """One independent piece of the run: a mock-loop state, or the FloTrac record."""
    return flotrac() if args[0] == "flotrac" else mock_loop_state(*args[1:])


def mock_loop(states=STATES, steps: int | None = None, jobs: int = 1, with_flotrac: bool = False) -> dict:
    """The mock-loop figures; with ``with_flotrac`` the FloTrac record's too, computed
    alongside the states (the longest piece) when jobs > 1."""
    pieces = [("state", s, steps) for s in states] + ([("flotrac",)] if with_flotrac else [])
    done = run_jobs(_piece, pieces, jobs)
    per = dict(zip(states, done[:len(states)]))
    m = pooled([p["model"] for p in per.values()])
    pr = pooled([p["prior"] for p in per.values()])
    names = list(next(iter(per.values()))["peers"])
    peers = {n: pooled([p["peers"][n] for p in per.values()])["sv_pe_pct"] for n in names}
    best = min(peers, key=peers.get)
    return {"mcl_sv_pe_pct": m["sv_pe_pct"], "mcl_sv_bias_pct": m["sv_bias_pct"],
            "mcl_co_direction_pct": m["co_direction_pct"], "mcl_best_peer_sv_pe_pct": peers[best],
            "mcl_best_peer": best, "mcl_peer_sv_pe_pct": peers,
            "mcl_prior_only_sv_pe_pct": pr["sv_pe_pct"], "mcl_prior_only_sv_bias_pct": pr["sv_bias_pct"],
            "mcl_states": {s: {"sv_pe_pct": p["model"]["sv_pe_pct"], "sv_bias_pct": p["model"]["sv_bias_pct"],
                               "co_direction_pct": p["model"]["co_direction_pct"], "k": p["k"],
                               "reference": p["reference"],
                               "best_peer_sv_pe_pct": min(q["sv_pe_pct"] for q in p["peers"].values())}
                           for s, p in per.items()},
            "seconds": sum(p["seconds"] for p in per.values()),
            **(done[len(states)] if with_flotrac else {})}


def svv_steps(model: bool = True) -> dict:
    """PPV and the model's SVV against the SVV integrated from the flow, per SVV step."""
    from cardiosim.assimilation import calibrate
    from cardiosim.signals import analyse_arterial, read_record
    from cardiosim.signals.variation import cycle_variation, respiratory_period

    rows = []
    for f in sorted((data_dir() / "fda-mcl-co" / "SVVres").glob("*/RR*/*.csv.gz")):
        rec = read_record(f, columns=COLUMNS)
        analysis = analyse_arterial(rec)
        b = analysis.beats[analysis.beats.clean]
        sv_flow = rec.channel("flow").integrals(b.onset_s.to_numpy(), b.end_s.to_numpy()) * 1e6
        t = b.peak_s.to_numpy()
        period = respiratory_period(t, b.pp_mmHg.to_numpy())

        def median_variation(tt, v):
            return float(np.median(cycle_variation(tt, v, period).variation_pct))

        svv_model = svv_forecast = np.nan
        if model:
            m = calibrate(rec, analysis=analysis).beats
            m = m[m.observed]
            svv_model = median_variation(m.t_s.to_numpy(), m.SV_beat_mL.to_numpy())
            svv_forecast = median_variation(m.t_s.to_numpy(), m.SV_mL.to_numpy())
        rows.append((median_variation(t, sv_flow), median_variation(t, b.pp_mmHg.to_numpy()), svv_model,
                     svv_forecast))
    a = np.array(rows)
    out = {"mcl_ppv_r": float(np.corrcoef(a[:, 0], a[:, 1])[0, 1]),
           "mcl_ppv_bias_pts": float(np.mean(a[:, 1] - a[:, 0])), "mcl_svv_steps": int(len(a)),
           "mcl_svv_r": None, "mcl_svv_bias_pts": None}
    if model:
        out.update(mcl_svv_r=float(np.corrcoef(a[:, 0], a[:, 2])[0, 1]),
                   mcl_svv_bias_pts=float(np.mean(a[:, 2] - a[:, 0])),
                   mcl_svv_forecast_r=float(np.corrcoef(a[:, 0], a[:, 3])[0, 1]),
                   mcl_svv_forecast_bias_pts=float(np.mean(a[:, 3] - a[:, 0])))
    return out


def flotrac() -> dict:
    from cardiosim.assimilation import calibrate
    from cardiosim.assimilation.compare import reference_report
    from cardiosim.signals import read_record

    path = data_dir() / "waveformtools-ppv-study" / "sample_record_csv"
    rec = read_record(path)
    cal = calibrate(rec, reference="first")
    rep = reference_report(cal, rec)
    bolus = [b for b in rep["SV"]["bolus_response"] if np.isfinite(b["reference_change"])]
    diffs = [100 * (b["model_change"] - b["reference_change"]) for b in bolus]
    # SVV: the model's per 30 s window against the EV1000's median over the same window
    var = cal.variation(rec, window_s=30.0)
    svv = rec.numeric("SVV")
    ev_t, ev_v = svv.times_s, svv.in_unit("%")
    ev = np.array([np.nanmedian(ev_v[w]) if (w := (ev_t >= r.start_s) & (ev_t < r.end_s)).any() else np.nan
                   for r in var.itertuples()])
    ok = np.isfinite(ev) & np.isfinite(var.SVV_pct.to_numpy())
    return {"flotrac_sv_pe_pct": rep["SV"]["percentage_error"], "flotrac_sv_bias_mL": rep["SV"]["bias"],
            "flotrac_co_pe_pct": rep["CO"]["percentage_error"],
            "flotrac_co_concordance_pct": 100 * rep["CO"]["concordance"],
            "flotrac_sv_r": rep["SV"]["pearson_r"],
            "flotrac_bolus_sv_diff_pts": max(diffs, key=abs) if diffs else None,
            "flotrac_bolus_sv_diffs_pts": diffs,
            "flotrac_bolus_sv_changes_pct": [[100 * b["reference_change"], 100 * b["model_change"]] for b in bolus],
            "flotrac_svv_bias_pts": float(np.mean(var.SVV_pct.to_numpy()[ok] - ev[ok])),
            "flotrac_ppv_bias_pts": float(np.mean(var.PPV_pct.to_numpy()[ok] - ev[ok])),
            "flotrac_svv_windows": int(ok.sum()), "flotrac_reference": cal.scale.source,
            **observed_co(rec)}


def observed_co(rec) -> dict:
    """The same record with every FloTrac CO update observed in the filter (not independent)."""
    from cardiosim.assimilation import calibrate
    from cardiosim.assimilation.compare import reference_report

    rep = reference_report(calibrate(rec, observe="ABP,CO"), rec)
    return {"flotrac_observed_co_sv_pe_pct": rep["SV"]["percentage_error"],
            "flotrac_observed_co_co_pe_pct": rep["CO"]["percentage_error"],
            "flotrac_observed_co_sv_r": rep["SV"]["pearson_r"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="normovolemic state, four steps; no SVV, no FloTrac")
    ap.add_argument("--no-model-svv", action="store_true",
                    help="skip the model's SVV on the 36 SVV steps (one calibration each; the tests)")
    ap.add_argument("--jobs", type=int, default=default_jobs(),
                    help="processes for the mock-loop states and the FloTrac record (default "
                         "$CARDIOSIM_BENCH_JOBS or 1)")
    a = ap.parse_args()
    if a.quick:
        result = mock_loop(states=("normovolemic",), steps=4)
    else:
        result = mock_loop(jobs=a.jobs, with_flotrac=True)
        result.update(svv_steps(model=not a.no_model_svv))
    record("cardiac_output", result, a)


if __name__ == "__main__":
    main()
