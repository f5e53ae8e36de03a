"""Coverage of the 95 % bands in twin experiments with model error (issue 14).

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
  seconds                    wall time of the whole run
Run: python benchmarks/coverage.py [--duration S] [--families a,b] [--seed N] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE))
from _record import record  # noqa: E402

# this script's name is that of the coverage package, which Numba imports when it can: take
# the script's folder off the import path before anything imports Numba
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]


def main() -> None:
    from cardiosim.assimilation import calibrate
    from cardiosim.assimilation.coverage import FAMILIES, band_coverage, family

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=600.0, help="seconds of record per family")
    ap.add_argument("--families", default=",".join(FAMILIES), help="comma-separated family names")
    ap.add_argument("--seed", type=int, default=7, help="seed of the twins (RR, noise)")
    ap.add_argument("--quick", action="store_true", help="smoke run: story and noise, 60 s each (results/quick/)")
    a = ap.parse_args()
    if a.quick:
        a.duration, a.families = 60.0, "story,noise"
    t0 = time.perf_counter()
    out, estimated = {}, {}
    for name in [s.strip() for s in a.families.split(",") if s.strip()]:
        rec, truth = family(name, duration_s=a.duration, seed=a.seed)
        cal = calibrate(rec)
        tab = band_coverage(cal.beats, truth, cal.parameters)
        out[name] = {r.quantity: {k: (None if isinstance(v, float) and not np.isfinite(v)
                                      else int(v) if k == "beats" else v)
                                  for k, v in r._asdict().items() if k not in ("Index", "quantity")}
                     for r in tab.itertuples()}
        estimated[name] = list(cal.parameters.names)
    cov = [q["coverage_pct"] for f in out.values() for q in f.values() if q["coverage_pct"] is not None]
    wid = [q["width_over_prior"] for f in out.values() for q in f.values() if q["width_over_prior"] is not None]
    result = {"coverage": out, "estimated": estimated,
              "min_coverage_pct": min(cov) if cov else None, "max_coverage_pct": max(cov) if cov else None,
              "median_width_over_prior_width": float(np.median(wid)) if wid else None,
              "duration_s": a.duration, "seed": a.seed, "seconds": time.perf_counter() - t0}
    record("coverage", result, a)


if __name__ == "__main__":
    main()
