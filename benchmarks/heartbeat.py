"""Beats of the 3D Land ellipsoid against its circulation, to a limit cycle.

Prints one JSON line: level, order, dofs, dt_s, beats, steps_per_beat, wall_s,
wall_s_per_beat (mean over the beats), newton_iterations, peak_rss_mb, per_beat (EDV_mL,
ESV_mL, SV_mL, EF, peak_P_mmHg of each beat), limit_cycle_change (largest relative change
of EDV and ESV between the last two beats) and volume_balance_max_rel (largest |dV - dt
(Q_in - Q_out)| of a step over the largest volume).

The model is :meth:`cardiosim.models.HeartbeatSimulation.land_ellipsoid`: the Land et al.
(2015) ellipsoid, its Problem 3 Guccione law (penalty), a prescribed 60 kPa twitch every
0.8 s, the Caruel circulation scaled to its 2.5 mL cavity, generalized-alpha.

Run: python benchmarks/heartbeat.py [--level 2] [--order 2] [--dt 0.001] [--beats 4]
--quick: level 1, dt 4 ms, 1 beat (results/quick/).
Writes benchmarks/results/heartbeat_L<level>[_P1][_dt<dt>].json.
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from _record import record  # noqa: E402
from cardiosim.models import HeartbeatSimulation  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--level", type=int, default=2)
    ap.add_argument("--order", type=int, choices=[1, 2], default=2)
    ap.add_argument("--dt", type=float, default=1e-3)
    ap.add_argument("--beats", type=int, default=4)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    if a.quick:
        a.level, a.dt, a.beats = 1, 4e-3, 1
    t0 = time.perf_counter()
    sim = HeartbeatSimulation.land_ellipsoid(level=a.level, order=a.order)
    walls = []

    def progress(line):
        walls.append(time.perf_counter())
        print(line, file=sys.stderr, flush=True)

    t1 = time.perf_counter()
    sim.run(a.beats, a.dt, progress=progress)
    per_beat = np.diff([t1] + walls)
    beats = sim.beats()
    r = sim.rows
    V = np.array([x.V for x in r])
    t = np.array([x.t for x in r])
    dv = np.diff(V) - np.diff(t) * np.array([x.q_in - x.q_out for x in r[1:]])
    out = {"level": a.level, "order": a.order, "dofs": sim.dyn.n, "dt_s": a.dt, "beats": a.beats,
           "steps_per_beat": int(round(sim.period / a.dt)), "wall_s": time.perf_counter() - t0,
           "wall_s_per_beat": float(per_beat.mean()), "newton_iterations": int(sum(x.iterations for x in r)),
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
           "per_beat": [{k: round(float(v), 4) for k, v in b.items()} for b in beats],
           "volume_balance_max_rel": float(np.abs(dv).max() / V.max())}
    if len(beats) >= 2:
        b1, b2 = beats[-2], beats[-1]
        out["limit_cycle_change"] = float(max(abs(b2[k] / b1[k] - 1) for k in ("EDV_mL", "ESV_mL")))
    name = f"heartbeat_L{a.level}" + ("_P1" if a.order == 1 else "") + (f"_dt{a.dt:g}" if a.dt != 1e-3 else "")
    record(name, out, a)


if __name__ == "__main__":
    main()
