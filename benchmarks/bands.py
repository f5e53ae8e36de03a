"""Coverage of the 95 % bands in twin experiments with model error (issue 14).

(Named bands.py, not coverage.py: every benchmark script has this folder first on its import
path, and a coverage.py here would stand in for the coverage package that Numba imports.)

Each family of ``cardiosim.assimilation.coverage.FAMILIES`` (the demo patient's story, plus
one model error the filter does not know: drifting unestimated parameters, another afterload
topology, another measuring-site line, coloured noise with baseline wander) is made, then
calibrated from its arterial pressure alone with the default settings; the bands are
compared with the truth beat by beat (observed beats after the burn-in).

Prints one JSON line. Keys:
  coverage                   per family, per quantity (estimated parameters, SV, CO, MAP):
                             beats, coverage_pct, mean_width, rmse, width_over_prior, note
  min_coverage_pct, max_coverage_pct   over every quantity with a band, every family
  median_width_over_prior_width        median over the parameters of every family of the
                             band's median width over the prior's 95 % range
  estimated                  the parameters each family's calibration estimated
  demo                       per --demo-seeds value, `cardiosim demo`'s patient and one-point CO:
                             coverage over all observed beats of every estimated parameter and SV,
                             and whether the truth is inside the band at the three report times
  real                       per shared pressure record (default settings): mean NIS over the
                             observed beats after the burn-in (goal 0.7-1.5) and the median per-beat
                             RMSE [mmHg] (goal within 10 % of mimicdb 2.22, mixedsignals 2.80,
                             ppv-study 1.86); null where the data folder lacks the record
  seconds                    wall time of the whole run
Run: python benchmarks/bands.py [--duration S] [--families a,b] [--seed N] [--demo-seeds 0,1,2] [--quick] [--jobs N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE))
from _jobs import default_jobs, run_jobs  # noqa: E402
from _record import record  # noqa: E402


def _family(args: tuple) -> tuple[dict, list]:
    """One family made and calibrated: (coverage per quantity, estimated parameter names)."""
    from cardiosim.assimilation import calibrate
    from cardiosim.assimilation.coverage import band_coverage, family

    name, duration, seed = args
    rec, truth = family(name, duration_s=duration, seed=seed)
    cal = calibrate(rec)
    tab = band_coverage(cal.beats, truth, cal.parameters)
    cov = {r.quantity: {k: (None if isinstance(v, float) and not np.isfinite(v) else int(v) if k == "beats" else v)
                        for k, v in r._asdict().items() if k not in ("Index", "quantity")}
           for r in tab.itertuples()}
    return cov, list(cal.parameters.names)


def main() -> None:
    from cardiosim.assimilation.coverage import FAMILIES

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=600.0, help="seconds of record per family")
    ap.add_argument("--families", default=",".join(FAMILIES), help="comma-separated family names")
    ap.add_argument("--seed", type=int, default=7, help="seed of the twins (RR, noise)")
    ap.add_argument("--demo-seeds", default="0,1,2", help="seeds of the demo patient (as cardiosim demo --seed)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: story and noise, 60 s each; no demo, no real records (results/quick/)")
    ap.add_argument("--jobs", type=int, default=default_jobs(),
                    help="processes for the families (default $CARDIOSIM_BENCH_JOBS or 1)")
    a = ap.parse_args()
    if a.quick:
        a.duration, a.families, a.demo_seeds = 60.0, "story,noise", ""
    t0 = time.perf_counter()
    names = [s.strip() for s in a.families.split(",") if s.strip()]
    done = run_jobs(_family, [(n, a.duration, a.seed) for n in names], a.jobs)
    out = {n: d[0] for n, d in zip(names, done)}
    estimated = {n: d[1] for n, d in zip(names, done)}
    cov = [q["coverage_pct"] for f in out.values() for q in f.values() if q["coverage_pct"] is not None]
    wid = [q["width_over_prior"] for f in out.values() for q in f.values() if q["width_over_prior"] is not None]
    result = {"coverage": out, "estimated": estimated,
              "min_coverage_pct": min(cov) if cov else None, "max_coverage_pct": max(cov) if cov else None,
              "median_width_over_prior_width": float(np.median(wid)) if wid else None,
              "demo": {s: demo(int(s)) for s in a.demo_seeds.split(",") if s.strip()},
              "real": {} if a.quick else real_records(),
              "duration_s": a.duration, "seed": a.seed, "seconds": time.perf_counter() - t0}
    record("bands", result, a)


def _clean(d: dict) -> dict:
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else int(v) if k == "beats" else v)
            for k, v in d.items()}


def demo(seed: int) -> dict:
    """`cardiosim demo --seed SEED`: its patient (with artefacts), its one-point CO at 30 s."""
    from cardiosim.assimilation import calibrate, synthetic
    from cardiosim.assimilation.coverage import band_coverage, match_beats

    rec, truth = synthetic.patient(seed=seed)
    co = float(np.interp(30.0, truth["t_s"], truth["CO_L_min"]))
    cal = calibrate(rec, reference=f"CO={co:.3f}@30", seed=seed)
    tab = band_coverage(cal.beats, truth, cal.parameters)
    b = cal.beats
    at = {}
    for t_min in (2.0, 5.0, 9.5):
        k = int(np.searchsorted(b["t_s"], t_min * 60))
        j = int(match_beats(np.array([b["t_s"].iloc[k]]), truth["t_s"].to_numpy())[0])
        at[str(t_min)] = {n: bool(b[f"{c}_lo"].iloc[k] <= truth[t].iloc[j] <= b[f"{c}_hi"].iloc[k])
                          for n, c, t in [(n, n, n) for n in cal.parameters.names if n in truth]
                          + [("SV", "SV_mL", "SV_mL")]}
    return {"coverage": {r.quantity: _clean({"coverage_pct": r.coverage_pct, "beats": r.beats})
                         for r in tab.itertuples()}, "inside_at_report_times": at, "k": cal.scale.k}


def real_records() -> dict:
    import os

    from cardiosim.assimilation import calibrate
    from cardiosim.signals import read_record

    root = Path(os.environ.get("CARDIOSIM_DATA", _HERE.parents[1] / "shared" / "data"))
    out = {}
    for rel in ("mimicdb/03700181", "wfdb-python-icu-flac/mixedsignals", "waveformtools-ppv-study/sample_record_csv"):
        path = root / rel
        if not (path.exists() or path.with_suffix(".hea").exists()):
            out[rel] = None
            continue
        cal = calibrate(read_record(path))
        b = cal.beats
        sel = b["observed"] & (b["beat"] >= cal.settings.burn_in_beats)
        out[rel] = {"mean_nis": float(np.nanmean(b.loc[sel, "nis"])), "rmse_median_mmHg": cal.rmse_mmhg()["median"]}
    return out


if __name__ == "__main__":
    main()
