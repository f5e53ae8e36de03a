"""Speed of the 0D sphere: heartbeats per second on one core, against svZeroDSolver.

Prints one JSON line. Keys:
  beats_per_second                  BCS model (the filters' model) at dt_s, fast path
  dt_s                              largest step of {8, 4, 2, 1} ms whose periodic beat is within
                                    1 % of svzerod (EDV, ESV, peak P_v, SBP, DBP), as measured here
  max_rel_error_vs_svzerod          that error
  beats_per_second_simplified       the svzerod-comparable model at dt_s
  svzerod_sphere_cycles_per_second  svzerod ChamberSphere, same model, same steps per beat
  speedup_vs_svzerod_sphere         ratio of the two above
  svzerod_closed_loop_cycles_per_second  svzerod closedLoopHeart_singleVessel, 1000 steps per
                                    1.0169 s cycle (time step 1.0169 ms)
  beats_per_second_at_equal_dt      BCS model at that same time step
  speedup_vs_svzerod_closed_loop    ratio at equal time resolution (the same time step)
  beats_per_second_at_1000_steps    BCS model at 1000 steps per beat (dt 0.8 ms, finer)
  speedup_vs_svzerod_closed_loop_equal_steps  ratio at 1000 steps per cycle for both
  speedup_vs_svzerod_closed_loop_at_1pct  ours at dt_s vs theirs at 1000 steps/cycle
What is timed: ``SphereModel.run`` over 400 beats of 0.8 s (75 bpm) from the initial state,
record=False (no per-step output kept: the kernel's time loop alone, as the filters run it),
after a one-beat call that compiles or loads the kernel. Beats per second = 400 / the best
wall time of --repeats runs (default 5), for both codes; svzerod runs ``svzerod.simulate``
on a config the script builds (crosscode.sphere_config). One core (NUMBA_NUM_THREADS=1).
The machine is shared: figures vary by about +-10 % between runs; compare codes within one run.
Run: python benchmarks/sphere0d.py [--repeats 5] [--quick]   (svzerod from the test extra)
--quick: a few seconds, small svzerod reference and 40-beat timings; writes
benchmarks/results/quick/sphere0d.json, never the measured figures.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import cardiosim as cs  # noqa: E402
from _record import record  # noqa: E402

from cardiosim.models import crosscode  # noqa: E402

PERIOD = 0.8
KEYS = ["EDV_mL", "ESV_mL", "Pv_max_mmHg", "SBP_mmHg", "DBP_mmHg"]


def beats_per_second(model, n_beats=400, repeats=3):
    st = model.initial_state()
    model.run(st, [PERIOD], record=False)  # compile / warm up
    best = np.inf
    for _ in range(repeats):
        s = st.copy()
        t = time.perf_counter()
        model.run(s, np.full(n_beats, PERIOD), record=False)
        best = min(best, time.perf_counter() - t)
    return n_beats / best


def timed_svzerod(config, cycles, repeats=3):
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        crosscode.run_sphere(config)
        best = min(best, time.perf_counter() - t)
    return cycles / best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="best of N, for both codes")
    ap.add_argument("--quick", action="store_true", help="smoke run, a few seconds (results/quick/)")
    a = ap.parse_args()
    # reference: svzerod at 6400 steps per beat, 40 cycles (quick: 1600 steps, 10 cycles)
    ref_steps, ref_cycles = (1600, 10) if a.quick else (6400, 40)
    n_long, n_short = (40, 10) if a.quick else (400, 100)
    cycles, cl_cycles = (3, 2) if a.quick else (20, 10)
    rep = 1 if a.quick else a.repeats
    simple = cs.SphereParameters.simplified_bestel(sigma_max=22e3)
    ref_model = cs.SphereModel(simple, dt=PERIOD / ref_steps)
    ref = crosscode.indicators(crosscode.run_sphere(crosscode.sphere_config(ref_model, PERIOD, ref_steps, ref_cycles)),
                               simple.R0)
    chosen, err = None, None
    for dt in (8e-3, 4e-3, 2e-3, 1e-3):
        b = cs.SphereModel(simple, dt=dt).simulate(hr=75, until_periodic=True, tol=1e-8).last_beat()
        chosen, err = dt, max(abs(b[k] - ref[k]) / abs(ref[k]) for k in KEYS)
        if err < 0.01:
            break
    steps = int(round(PERIOD / chosen))
    out = {"benchmark": "sphere0d", "dt_s": chosen, "steps_per_beat": steps, "max_rel_error_vs_svzerod": err}
    out["beats_timed"] = n_long
    out["repeats"] = rep
    out["beats_per_second"] = beats_per_second(cs.SphereModel(dt=chosen), n_long, rep)
    out["beats_per_second_simplified"] = beats_per_second(cs.SphereModel(simple, dt=chosen), n_long, rep)
    svz = timed_svzerod(crosscode.sphere_config(ref_model, PERIOD, steps, cycles), cycles, rep)
    out["svzerod_sphere_cycles_per_second"] = svz
    out["speedup_vs_svzerod_sphere"] = out["beats_per_second_simplified"] / svz
    cl_cfg = crosscode.closed_loop_heart_config(1000, cl_cycles)
    cl_dt = cl_cfg["closed_loop_blocks"][0]["cardiac_cycle_period"] / 1000
    cl = timed_svzerod(cl_cfg, cl_cycles, rep)
    out["svzerod_closed_loop_cycles_per_second"] = cl
    out["svzerod_closed_loop_dt_s"] = cl_dt
    out["beats_per_second_at_equal_dt"] = beats_per_second(cs.SphereModel(dt=cl_dt), n_short, rep)
    out["speedup_vs_svzerod_closed_loop"] = out["beats_per_second_at_equal_dt"] / cl
    out["beats_per_second_at_1000_steps"] = beats_per_second(cs.SphereModel(dt=PERIOD / 1000), n_short, rep)
    out["speedup_vs_svzerod_closed_loop_equal_steps"] = out["beats_per_second_at_1000_steps"] / cl
    out["speedup_vs_svzerod_closed_loop_at_1pct"] = out["beats_per_second"] / cl
    out["cardiosim"] = cs.__version__
    record("sphere0d", {k: (round(v, 6) if isinstance(v, float) else v) for k, v in out.items()}, a,
           peers={"svzerod": "svzerod"})


if __name__ == "__main__":
    main()
