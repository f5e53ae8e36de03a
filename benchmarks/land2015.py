"""Land et al. 2015 cardiac mechanics benchmark, problems 1-3.

Prints one JSON line: problem, level, order, formulation, dofs, newton_iterations,
load_steps, wall_s, assembly_s, solve_s, peak_rss_mb, linear_solver and the quantities of
interest with their reference values and relative errors:

* problem 1 (beam): beam_point_z_mm, deformed z of (10, 0.5, 1) mm; reference 4.1692 mm;
* problems 2 and 3 (truncated ellipsoid): endo_apex_z_mm, epi_apex_z_mm (deformed z of
  the reference apices (0, 0, -17) and (0, 0, -20) mm) and cavity_volume_mm3; references
  -26.612 / -28.279 / 10734 (problem 2) and -12.347 / -15.452 / 1795.9 (problem 3).

With ``--peer dolfinx`` the same mesh is also solved by benchmarks/peers/dolfinx_land2015.py
under the interpreter named by CARDIOSIM_DOLFINX_PYTHON (see benchmarks/peers/README.md);
its JSON is nested under "dolfinx" with the time ratio "speedup_vs_dolfinx" (null if the
peer is not installed).

Run: python benchmarks/land2015.py --problem 2 --level 2 [--formulation mixed|penalty]
     [--linear-solver auto|superlu|pardiso|...] [--steps 10] [--peer dolfinx] [--quick]
Writes benchmarks/results/land2015_p<P>_L<L>[_layers<T>][_g<G>][_steps<S>][_<solver>]
[_<formulation>][_P1].json (options named only when not the default).
--quick: problem 1 on the level-1 beam (611 unknowns), a few seconds once compiled
(results/quick/).
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from _record import record  # noqa: E402
from cardiosim.fem.land2015 import run  # noqa: E402


def dolfinx_peer(mesh, problem: int, steps: int) -> dict | None:
    """Solve the same mesh with the DOLFINx peer (None if CARDIOSIM_DOLFINX_PYTHON is unset)."""
    py = os.environ.get("CARDIOSIM_DOLFINX_PYTHON")
    if not py:
        return None
    script = Path(__file__).parent / "peers" / "dolfinx_land2015.py"
    with tempfile.TemporaryDirectory() as d:
        f = mesh.write(Path(d) / "mesh.vtu")
        r = subprocess.run([py, str(script), "solve", "--problem", str(problem), "--mesh", str(f),
                            "--steps", str(steps)], capture_output=True, text=True)
    if r.returncode != 0:
        return {"error": r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit {r.returncode}"}
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--problem", type=int, choices=[1, 2, 3], default=1)
    ap.add_argument("--level", type=int, default=1)
    ap.add_argument("--layers", type=int, default=None, help="transmural layers (ellipsoid; default = level)")
    ap.add_argument("--apex-grading", type=float, default=1.0, help="ring spacing base/apex (ellipsoid)")
    ap.add_argument("--order", type=int, choices=[1, 2], default=2)
    ap.add_argument("--formulation", choices=["mixed", "penalty"], default=None,
                    help="default: mixed (Taylor-Hood) for P2, penalty for P1")
    ap.add_argument("--linear-solver", default="auto")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--peer", choices=["dolfinx"], default=None)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--quick", action="store_true", help="smoke run: problem 1, level 1 (results/quick/)")
    a = ap.parse_args()
    if a.quick:
        a.problem, a.level, a.peer = 1, 1, None
    out = run(a.problem, a.level, a.order, a.formulation, a.linear_solver, a.steps, a.layers, a.verbose, a.apex_grading)
    mesh = out.pop("_mesh")
    if a.peer == "dolfinx":
        peer = dolfinx_peer(mesh, a.problem, a.steps or (5 if a.problem == 1 else 10 if a.problem == 2 else 20))
        out["dolfinx"] = peer
        ok = peer and "wall_s" in peer and peer.get("load_reached", 1.0) >= 1.0
        out["speedup_vs_dolfinx"] = round(peer["wall_s"] / out["wall_s"], 2) if ok else None
        if peer is None:
            out["dolfinx_status"] = "not run: CARDIOSIM_DOLFINX_PYTHON is not set (see benchmarks/peers/README.md)"
    name = f"land2015_p{a.problem}_L{a.level}"
    for value, default, tag in ((a.layers, None, "layers"), (a.apex_grading, 1.0, "g"), (a.steps, None, "steps"),
                                (a.linear_solver, "auto", ""), (a.formulation, None, ""), (a.order, 2, "P")):
        if value != default:
            name += f"_{tag}{value:g}" if isinstance(value, float) else f"_{tag}{value}"
    record(name, out, a, peers={"pypardiso": "pypardiso", "pyamg": "pyamg",
                                "dolfinx": "fenics-dolfinx" if out.get("dolfinx") else None})


if __name__ == "__main__":
    main()
