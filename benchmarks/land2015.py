"""Land et al. 2015 cardiac mechanics benchmark (problem 1 now; 2 and 3 need the ellipsoid).

Prints one JSON line with problem, level, order, dofs, newton_iterations, wall_s,
assembly_s, solve_s and the quantity of interest (problem 1: beam_point_z_mm, the
deformed z of the point (10, 0.5, 1) mm; reference 4.1692 mm, science.md section 1.1).

Run: python benchmarks/land2015.py --problem 1 --level 2 [--order 2] [--kappa-factor 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import dataclasses  # noqa: E402

import numpy as np  # noqa: E402

from cardiosim import materials as MAT  # noqa: E402
from cardiosim.fem.solver import Problem, probe, solve  # noqa: E402
from cardiosim.mesh import land_beam  # noqa: E402

REFERENCE = {1: {"beam_point_z_mm": 4.1692}}


def problem1(level: int, order: int, kappa_factor: float | None, steps: int, verbose: bool):
    mesh = land_beam(level, order=order)
    mat = MAT.Guccione.land2015_problem1()
    if kappa_factor is not None:
        mat = dataclasses.replace(mat, kappa=kappa_factor * mat.C)
    fib = np.tile(np.eye(3), (mesh.n_cells, 1, 1))  # f = x, s = y, n = z
    mesh = mesh.with_fibres(fib)
    prob = Problem(mesh, mat, clamped=("X0",), pressure=("Z0", 4.0))
    t0 = time.perf_counter()
    u, info = solve(prob, steps=steps, progress=print if verbose else None)
    wall = time.perf_counter() - t0
    z = 1e-3 + probe(mesh, u, (10e-3, 0.5e-3, 1e-3))[2]
    return {"problem": 1, "level": level, "order": order, "dofs": prob.n_dofs,
            "newton_iterations": info["newton_iterations"], "load_steps": info["steps"],
            "wall_s": round(wall, 3), "assembly_s": round(info["assembly_s"], 3),
            "solve_s": round(info["solve_s"], 3), "kappa_Pa": mat.bulk_modulus,
            "beam_point_z_mm": z * 1e3,
            "reference_mm": REFERENCE[1]["beam_point_z_mm"],
            "relative_error": z * 1e3 / REFERENCE[1]["beam_point_z_mm"] - 1}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--problem", type=int, choices=[1], default=1)
    ap.add_argument("--level", type=int, default=1)
    ap.add_argument("--order", type=int, choices=[1, 2], default=2)
    ap.add_argument("--kappa-factor", type=float, default=None, help="bulk modulus / C (default: the material's)")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    print(json.dumps(problem1(a.level, a.order, a.kappa_factor, a.steps, a.verbose)))


if __name__ == "__main__":
    main()
