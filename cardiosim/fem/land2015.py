"""The Land et al. 2015 cardiac mechanics benchmark as ready-made problems.

Land S, Gurev V, Arens S, et al., Verification of cardiac mechanics software: benchmark
problems and solutions for testing active and passive material behaviour, Proc. R. Soc. A
471:20150641 (2015).

``build(problem, level)`` returns the mesh, the :class:`~cardiosim.fem.solver.Problem` and a
function giving the quantities of interest from a displacement; ``run`` solves and reports
them with the reference values (the table of a participating code, mechbench):

* problem 1 (beam, Guccione C = 2 kPa, b = 8/2/4, 4 Pa follower pressure on Z0, X0
  clamped): ``beam_point_z_mm``, deformed z of (10, 0.5, 1) mm; reference 4.1692 mm;
* problem 2 (truncated ellipsoid, isotropic Guccione C = 10 kPa, 10 kPa on ENDO, BASE
  fixed): ``endo_apex_z_mm``, ``epi_apex_z_mm``, ``cavity_volume_mm3``;
  references -26.612, -28.279 mm, 10734.3 mm^3;
* problem 3 (problem 2's geometry, C = 2 kPa, b = 8/2/4, helix fibres, 15 kPa and
  T_a = 60 kPa ramped together): references -12.347, -15.452 mm, 1795.9 mm^3.

The loads are the benchmark's: each ramps linearly with the load factor (the default time
function of :mod:`cardiosim.fem.loads`).
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np

from .. import materials as MAT
from ..geometry import TruncatedEllipsoid, land_beam
from .linear import default_method
from .loads import ActiveTension, Clamp, Pressure
from .measures import cavity_volume, probe
from .solver import Problem, solve

REFERENCE = {
    1: {"beam_point_z_mm": 4.1692},
    2: {"endo_apex_z_mm": -26.612, "epi_apex_z_mm": -28.279, "cavity_volume_mm3": 10734.3},
    3: {"endo_apex_z_mm": -12.347, "epi_apex_z_mm": -15.452, "cavity_volume_mm3": 1795.9},
}


def build(problem: int, level: int, order: int = 2, formulation: str | None = None, linear_solver: str = "auto",
          layers: int | None = None, apex_grading: float = 1.0):
    """(mesh, Problem, quantities(u) -> dict) of a benchmark problem."""
    if problem == 1:
        mesh = land_beam(level, order=order)
        mesh = mesh.with_fibres(np.tile(np.eye(3), (mesh.n_cells, 1, 1)))  # f = x, s = y, n = z
        prob = Problem(mesh, MAT.Guccione.land2015_problem1(), loads=[Clamp("X0"), Pressure("Z0", 4.0)],
                       formulation=formulation, linear_solver=linear_solver)

        def quantities(u):
            return {"beam_point_z_mm": 1e3 * (1e-3 + probe(mesh, u, (10e-3, 0.5e-3, 1e-3))[2])}

        return mesh, prob, quantities
    geo = TruncatedEllipsoid.land2015()
    mesh = geo.mesh(level, order=order, layers=layers, apex_grading=apex_grading)
    if problem == 2:
        prob = Problem(mesh, MAT.Guccione.land2015_problem2(), loads=[Clamp("BASE"), Pressure("ENDO", 10.0e3)],
                       formulation=formulation, linear_solver=linear_solver)
    else:
        xc = mesh.points[mesh.cells].mean(axis=1)
        mesh = mesh.with_fibres(geo.fibres(xc))  # per cell, for output and peers
        prob = Problem(mesh, MAT.Guccione.land2015_problem3(),
                       loads=[Clamp("BASE"), Pressure("ENDO", 15.0e3), ActiveTension(60.0e3)],
                       fibre_field=geo.fibres, formulation=formulation, linear_solver=linear_solver)

    def quantities(u):
        out = {}
        for key, s in (("endo_apex_z_mm", "ENDO"), ("epi_apex_z_mm", "EPI")):
            a = geo.apex(s)
            out[key] = 1e3 * (a[2] + probe(mesh, u, a)[2])
        out["cavity_volume_mm3"] = 1e9 * cavity_volume(mesh, u, "ENDO", (0.0, 0.0, geo.base_z))
        return out

    return mesh, prob, quantities


def run(problem: int, level: int, order: int = 2, formulation: str | None = None, linear_solver: str = "auto",
        steps: int | None = None, layers: int | None = None, verbose: bool = False,
        apex_grading: float = 1.0) -> dict:
    """Solve problem ``problem`` on mesh level ``level``: a dict of sizes, timings,
    quantities of interest and their relative errors (and the mesh under "_mesh")."""
    t0 = time.perf_counter()
    mesh, prob, quantities = build(problem, level, order, formulation, linear_solver, layers, apex_grading)
    setup = time.perf_counter() - t0
    steps = steps or (5 if problem == 1 else 10 if problem == 2 else 20)
    t0 = time.perf_counter()
    u, info = solve(prob, steps=steps, progress=(lambda s: print(s, file=sys.stderr)) if verbose else None)
    wall = time.perf_counter() - t0
    out = {"problem": problem, "level": level, "layers": layers, "apex_grading": apex_grading, "order": order,
           "formulation": prob.formulation,
           "cells": mesh.n_cells, "dofs": prob.n_dofs,
           "linear_solver": (prob.linear_method if prob.linear_method != "auto"
                             else getattr(prob.linear.factorization, "method", default_method())),
           "newton_iterations": info["newton_iterations"], "load_steps": info["steps"],
           "cutbacks": info["cutbacks"], "setup_s": round(setup, 3), "wall_s": round(wall, 3),
           "assembly_s": round(info["assembly_s"], 3), "solve_s": round(info["solve_s"], 3),
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    for k, v in quantities(u).items():
        ref = REFERENCE[problem][k]
        out[k] = round(v, 5)
        out[k.replace("_mm3", "").replace("_mm", "") + "_rel_error"] = round(v / ref - 1, 6)
    out["reference"] = REFERENCE[problem]
    out["_mesh"] = mesh
    return out
