"""Speed of arterial-pressure analysis: 24 hours of ABP at 125 Hz on one core.

Prints one JSON line. Keys:
  seconds_for_24h              analyse_arterial (beat detection, features, artefact
                               segments and flags) on 24 h of ABP at 125 Hz, best of 3
                               (with --hours H: the time for H hours scaled by 24 / H)
  hours, seconds               hours of signal analysed and the time it took
  beats_per_second             beats analysed per second of that run
  beats, samples               size of the job
  clean_beats                  beats left unflagged
  detection_seconds_for_24h    cardiosim's onset detection alone (filter + slope sum + onsets)
  biosppy_seconds_for_24h      BioSPPy's abp.abp (Zong 2003 onsets, no features or flags)
                               on the same signal, best of 3; null when biosppy is absent
  speedup_vs_biosppy           biosppy detection time / cardiosim detection time
  beats_found_cardiosim, beats_found_biosppy   onsets each found, against beats_true
The signal: 10 minutes of cardiosim's 0D model (seeded RR variability, 0.5 mmHg noise),
repeated to 24 h with fresh noise, and one flush, zeroing, gap and damping episode per hour.
Run: python benchmarks/signals.py [--hours 24] [--quick]   (BioSPPy: pip install biosppy peakutils)
--quick: one hour, one repeat, no BioSPPy (results/quick/).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from _record import record  # noqa: E402
from cardiosim.signals import analyse_arterial, inject  # noqa: E402
from cardiosim.signals.arterial import beat_arrays, prepare  # noqa: E402

from cardiosim.assimilation.synthetic import arterial_pressure, synthetic_record  # noqa: E402
from cardiosim.units import MMHG  # noqa: E402

FS = 125.0


def day_of_abp(seed: int = 0, hours: int = 24):
    rng = np.random.default_rng(seed)
    block, starts = arterial_pressure(duration_s=600.0, hr_bpm=75, fs_hz=FS, seed=seed,
                                      noise_mmhg=0.0)
    reps = 6 * hours
    p = np.tile(block, reps) + 0.5 * MMHG * rng.standard_normal(block.size * reps)
    for h in range(hours):
        t = 3600.0 * h
        p = inject.flush(p, FS, t + 600, 2.0)
        p = inject.zeroing(p, FS, t + 1200, 5.0)
        p = inject.gap(p, FS, t + 1800, 3.0)
        p = inject.damping(p, FS, t + 2400, 20.0, natural_hz=4.0, zeta=1.2)
    return p, len(starts) * reps


def best_of(n, f):
    times, out = [], None
    for _ in range(n):
        t0 = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=int, default=24, help="hours of ABP (whole hours)")
    ap.add_argument("--repeats", type=int, default=3, help="best of N")
    ap.add_argument("--quick", action="store_true", help="smoke run: 1 h, 1 repeat, no BioSPPy")
    args = ap.parse_args()
    if args.quick:
        args.hours, args.repeats = 1, 1
    p, n_true = day_of_abp(hours=args.hours)
    rec = synthetic_record(p, FS, name=f"{args.hours} h synthetic ABP")
    # Warm-up compiles (or loads) the kernels outside the timing.
    analyse_arterial(synthetic_record(p[: int(600 * FS)], FS))
    t_all, a = best_of(args.repeats, lambda: analyse_arterial(rec))

    def ours():
        pf, dpdt, missing = prepare(p, FS)
        return beat_arrays(pf, dpdt, missing, FS)
    t_det, ba = best_of(args.repeats, ours)

    t_bio, n_bio = None, None
    try:
        if args.quick:
            raise ImportError("no peers in --quick")
        from biosppy.signals import abp as bio_abp
        p_mmhg = np.nan_to_num(p / MMHG, nan=float(np.nanmedian(p / MMHG)))
        t_bio, out = best_of(args.repeats, lambda: bio_abp.abp(signal=p_mmhg, sampling_rate=FS, show=False))
        n_bio = int(len(out["onsets"]))
    except ImportError:
        pass
    scale = 24.0 / args.hours
    record("signals", {
        "hours": args.hours, "seconds": round(t_all, 3),
        "seconds_for_24h": round(t_all * scale, 3),
        "beats_per_second": round(len(a.beats) / t_all),
        "beats": int(len(a.beats)), "samples": int(p.size),
        "clean_beats": int(a.beats["clean"].sum()),
        "detection_seconds_for_24h": round(t_det * scale, 3),
        "biosppy_seconds_for_24h": None if t_bio is None else round(t_bio * scale, 3),
        "speedup_vs_biosppy": None if t_bio is None else round(t_bio / t_det, 2),
        "beats_true": int(n_true), "beats_found_cardiosim": int(ba.onset.size + 1),
        "beats_found_biosppy": n_bio,
    }, args, peers={"biosppy": None if t_bio is None else "biosppy"})


if __name__ == "__main__":
    main()
