"""The 3D thick spherical shell against the 0D sphere it reduces to (Caruel et al. 2014).

For each wall thickness ratio d/R (R the mid-wall radius, 23.6 mm) and mesh, the 3D shell
(:meth:`cardiosim.models.HeartbeatSimulation.sphere_octant`: an eighth of the shell with
symmetry planes, the Caruel passive law and the BCS active law at every quadrature point,
both spread evenly in the tangent plane, P2) and the 0D sphere
(:class:`cardiosim.SphereModel`) beat against the same circulation (the 0D default,
:meth:`Circulation.caruel2014`) to their last beat. Two readings of the 0D sphere: its
radius is the shell's mid-wall radius and its volume the mid-surface's, which holds the
cavity and half the incompressible wall (the main columns; a thin-shell reduction's error
is then second order in d/R), or its radius is the inner radius and its volume the
cavity's (columns ``*_inner``; first order). Parameters:
:meth:`SphereParameters.caruel2014_wall` (the Caruel 2014 set with every stress-like one
scaled by 0.6 / (d/R), so that the pressures stay those of the 0D default, d/R = 0.6).

Prints one JSON line. Keys:
  rows     per (ratio, level, layers): dofs, r_inner_mm, thickness_mm, half_wall_mL,
           EDV_3d_mL, ESV_3d_mL, peak_P_3d_mmHg; EDV_0d_mL, ESV_0d_mL (mid-surface volume
           less half the wall), peak_P_0d_mmHg and EDV_diff_pct, ESV_diff_pct,
           peak_P_diff_pct (3D - 0D over 0D, last beat); the same with ``_inner``;
           limit_cycle_change (3D, EDV and ESV between the last two beats), wall_s; or
           "failed" with the solver's message
  thinnest_max_diff_pct   the largest of the three (mid-wall) differences at the thinnest
           ratio, finest mesh
  dt_3d_s, dt_0d_s, beats
Run: python benchmarks/shell0d.py [--ratios 0.1,0.05,0.025] [--levels 1] [--layers 1] [--beats 3]
     [--dt 0.002] [--jobs N]   --quick: ratio 0.1, level 1, 1 beat at 8 ms (results/quick/).
Writes benchmarks/results/shell0d.json (levels 1), shell0d_L<l>[_L<m>].json (other levels).
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402

from _jobs import default_jobs, run_jobs  # noqa: E402
from _record import record  # noqa: E402

def _compare(row: dict, b0, shift_mL: float, tag: str) -> None:
    """Differences (3D - 0D) / 0D [%] with the 0D volumes lowered by ``shift_mL``."""
    for q, k0 in (("EDV", "EDV_mL"), ("ESV", "ESV_mL")):
        v0 = float(b0[k0]) - shift_mL
        row[f"{q}_0d{tag}_mL"] = v0
        row[f"{q}_diff{tag}_pct"] = 100.0 * (row[f"{q}_3d_mL"] / v0 - 1.0)
    row[f"peak_P_0d{tag}_mmHg"] = float(b0["Pv_max_mmHg"])
    row[f"peak_P_diff{tag}_pct"] = 100.0 * (row["peak_P_3d_mmHg"] / float(b0["Pv_max_mmHg"]) - 1.0)


def one(args: tuple) -> dict:
    import dataclasses

    import cardiosim as cs
    from cardiosim.errors import SolverError
    from cardiosim.models import HeartbeatSimulation

    ratio, level, layers, beats, dt, dt0 = args
    p = cs.SphereParameters.caruel2014_wall(ratio)   # R0 = the shell's mid-wall radius
    d = p.d0
    r_in, _ = p.shell_radii
    t0 = time.perf_counter()
    sim = HeartbeatSimulation.sphere_octant(p, r_in, d, level=level, layers=layers, period=0.8)
    try:
        sim.run(beats, dt)
    except SolverError as exc:  # the other rows are still worth having
        return {"ratio": ratio, "level": level, "layers": layers, "dofs": int(sim.dyn.n), "failed": str(exc)}
    wall = time.perf_counter() - t0
    bs = sim.beats()
    b3 = bs[-1]
    change = None
    if len(bs) >= 2:
        change = max(abs(bs[-1][k] / bs[-2][k] - 1.0) for k in ("EDV_mL", "ESV_mL"))
    row = {"ratio": ratio, "level": level, "layers": layers, "dofs": int(sim.dyn.n),
           "r_inner_mm": 1e3 * r_in, "thickness_mm": 1e3 * d,
           "EDV_3d_mL": float(b3["EDV_mL"]), "ESV_3d_mL": float(b3["ESV_mL"]),
           "peak_P_3d_mmHg": float(b3["peak_P_mmHg"]), "limit_cycle_change": change, "wall_s": wall}
    # mid-wall identification: the 0D sphere is the mid-surface, which encloses the cavity and
    # half the (incompressible) wall
    half_wall_mL = 1e6 * p.half_wall_volume
    row["half_wall_mL"] = half_wall_mL
    b_mid = cs.SphereModel(params=p, dt=dt0).simulate(beats=beats, hr=75.0).beats.iloc[-1]
    _compare(row, b_mid, half_wall_mL, "")
    # inner-surface identification: R0 = the inner radius, the 0D volume read as the cavity's
    b_in = cs.SphereModel(params=dataclasses.replace(p, R0=r_in), dt=dt0).simulate(beats=beats, hr=75.0).beats.iloc[-1]
    _compare(row, b_in, 0.0, "_inner")
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ratios", default="0.1,0.05,0.025", help="wall thickness over inner radius, comma-separated")
    ap.add_argument("--levels", default="1", help="mesh levels, comma-separated")
    ap.add_argument("--layers", type=int, default=1, help="elements through the wall")
    ap.add_argument("--beats", type=int, default=3)
    ap.add_argument("--dt", type=float, default=0.002, help="3D time step [s]")
    ap.add_argument("--dt0", type=float, default=0.0005, help="0D time step [s]")
    ap.add_argument("--jobs", type=int, default=default_jobs(), help="processes (default $CARDIOSIM_BENCH_JOBS or 1)")
    ap.add_argument("--quick", action="store_true", help="ratio 0.1, level 1, 1 beat at 8 ms (results/quick/)")
    a = ap.parse_args()
    if a.quick:
        a.ratios, a.levels, a.beats, a.dt, a.dt0 = "0.1", "1", 1, 0.008, 0.002
    ratios = [float(r) for r in a.ratios.split(",") if r.strip()]
    levels = [int(v) for v in a.levels.split(",") if v.strip()]
    pieces = [(r, lv, a.layers, a.beats, a.dt, a.dt0) for r in ratios for lv in levels]
    # the longest first: the finest mesh of the thinnest shell
    pieces.sort(key=lambda x: (-x[1], x[0]))
    rows = sorted(run_jobs(one, pieces, a.jobs), key=lambda r: (-r["ratio"], r["level"]))
    ok = [r for r in rows if "failed" not in r]
    thin = [r for r in ok if r["ratio"] == min(r["ratio"] for r in ok)]
    best = max(thin, key=lambda r: r["level"])
    result = {"rows": rows, "dt_3d_s": a.dt, "dt_0d_s": a.dt0, "beats": a.beats,
              "thinnest_max_diff_pct": max(abs(best[k]) for k in ("EDV_diff_pct", "ESV_diff_pct", "peak_P_diff_pct"))}
    name = "shell0d" if levels == [1] or a.quick else "shell0d_" + "_".join(f"L{lv}" for lv in levels)
    record(name, result, a)


if __name__ == "__main__":
    main()
