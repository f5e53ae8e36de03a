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
Every timing is the best of 3 repeats, for both codes.
Run: python benchmarks/sphere0d.py   (svzerod from the test extra)
"""

from __future__ import annotations

import json
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import cardiosim as cs  # noqa: E402
from cardiosim import crosscode  # noqa: E402

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
    simple = cs.SphereParameters.simplified_bestel(sigma_max=22e3)
    ref_model = cs.SphereModel(simple, dt=0.5e-3)
    ref = crosscode.indicators(crosscode.run_sphere(crosscode.sphere_config(ref_model, PERIOD, 6400, 40)), simple.R0)
    chosen, err = None, None
    for dt in (8e-3, 4e-3, 2e-3, 1e-3):
        b = cs.SphereModel(simple, dt=dt).simulate(hr=75, until_periodic=True, tol=1e-8).last_beat()
        e = max(abs(b[k] - ref[k]) / abs(ref[k]) for k in KEYS)
        if e < 0.01:
            chosen, err = dt, e
            break
    steps = int(round(PERIOD / chosen))
    out = {"benchmark": "sphere0d", "dt_s": chosen, "steps_per_beat": steps, "max_rel_error_vs_svzerod": err}
    out["beats_per_second"] = beats_per_second(cs.SphereModel(dt=chosen))
    out["beats_per_second_simplified"] = beats_per_second(cs.SphereModel(simple, dt=chosen))
    cycles = 20
    svz = timed_svzerod(crosscode.sphere_config(ref_model, PERIOD, steps, cycles), cycles)
    out["svzerod_sphere_cycles_per_second"] = svz
    out["speedup_vs_svzerod_sphere"] = out["beats_per_second_simplified"] / svz
    cl_cfg = crosscode.closed_loop_heart_config(1000, 10)
    cl_dt = cl_cfg["closed_loop_blocks"][0]["cardiac_cycle_period"] / 1000
    cl = timed_svzerod(cl_cfg, 10)
    out["svzerod_closed_loop_cycles_per_second"] = cl
    out["svzerod_closed_loop_dt_s"] = cl_dt
    out["beats_per_second_at_equal_dt"] = beats_per_second(cs.SphereModel(dt=cl_dt), n_beats=100)
    out["speedup_vs_svzerod_closed_loop"] = out["beats_per_second_at_equal_dt"] / cl
    out["beats_per_second_at_1000_steps"] = beats_per_second(cs.SphereModel(dt=PERIOD / 1000), n_beats=100)
    out["speedup_vs_svzerod_closed_loop_equal_steps"] = out["beats_per_second_at_1000_steps"] / cl
    out["speedup_vs_svzerod_closed_loop_at_1pct"] = out["beats_per_second"] / cl
    out["cardiosim"] = cs.__version__
    print(json.dumps({k: (round(v, 6) if isinstance(v, float) else v) for k, v in out.items()}))


if __name__ == "__main__":
    main()
