"""The cardiac elastodynamics benchmark as ready-made runs (Arostica et al. 2025).

Arostica R, Nolte D, Brown A, et al., A software benchmark for cardiac elastodynamics,
Comput. Methods Appl. Mech. Eng. 435:117485 (2025). A truncated ellipsoid (the toolkit's
mesh, :func:`~cardiosim.geometry.elastodynamics.read_benchmark_mesh`, with its rule-based
fibres) of Holzapfel-Ogden myocardium (smoothed tension switch, compressible penalty;
:meth:`~cardiosim.materials.HolzapfelOgdenSmooth.arostica2025`), Kelvin-Voigt viscosity
eta = 100 Pa s, density 1000 kg/m^3, spring-dashpots on the epicardium (normal) and the base
(full vector), driven over T = 1 s by a prescribed active stress along the fibres and a
prescribed cavity pressure (:class:`~cardiosim.fem.drivers.BenchmarkDrivers`):

* ``step_0A``: active stress only; ``step_0B``: pressure only; ``step_1``: both;
* ``step_2A`` .. ``step_2C``: Step 1 with other stiffnesses and peak active stress (the
  blinded cases).

:func:`run` returns the displacement of the material points p0 and p1 and the cavity volume
every 0.01 s, the columns of the teams' result files.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np

from .. import materials as MAT
from ..errors import ParameterError
from ..geometry.elastodynamics import P0, P1, benchmark_fibres, read_benchmark_mesh
from ..geometry.mesh import Mesh
from .drivers import BenchmarkDrivers
from .dynamics import Elastodynamics
from .loads import ActiveTension, Pressure
from .robin import RobinSupport
from .solver import Problem
from .space import FunctionSpace
from .timeint import GeneralizedAlpha

CASES = ("step_0A", "step_0B", "step_1", "step_2A", "step_2B", "step_2C")
#: Step 2's material and activation changes (the b's and everything else as Step 1)
STEP2 = {"step_2A": ({"a": 177.0, "a_f": 55416.0, "a_fs": 648.0, "a_s": 7443.0}, 2e5),
         "step_2B": ({"a": 295.0, "a_f": 92360.0, "a_fs": 1080.0, "a_s": 12405.0}, 1e5),
         "step_2C": ({"a": 19.0, "a_f": 6157.0, "a_fs": 72.0, "a_s": 827.0}, 2e5)}
RHO = 1000.0      # kg/m^3
ETA = 100.0       # Pa s
T_END = 1.0       # s
OUTPUT_DT = 0.01  # s
COLUMNS = ("time_s", "p0_ux_m", "p0_uy_m", "p0_uz_m", "p1_ux_m", "p1_uy_m", "p1_uz_m", "volume_m3")


def case_setup(case: str) -> tuple[MAT.HolzapfelOgdenSmooth, BenchmarkDrivers, bool, bool]:
    """(material, drivers, with active stress, with pressure) of a case."""
    if case not in CASES:
        raise ParameterError(f"case must be one of {', '.join(CASES)}, got {case!r}")
    mat = MAT.HolzapfelOgdenSmooth.arostica2025()
    drv = BenchmarkDrivers()
    if case in STEP2:
        changes, sigma0 = STEP2[case]
        mat = dataclasses.replace(mat, **changes)
        drv = dataclasses.replace(drv, sigma0=sigma0)
    return mat, drv, case != "step_0B", case != "step_0A"


def benchmark_mesh(path, order: int = 1) -> Mesh:
    """The toolkit's mesh with the benchmark's fibres at its nodes (P1, or P2 by ``order``)."""
    mesh = read_benchmark_mesh(path)
    if order == 2:
        mesh = mesh.to_quadratic()
    elif order != 1:
        raise ParameterError(f"order must be 1 or 2, got {order!r}")
    return mesh.with_fibres(benchmark_fibres(mesh), at="node")


def y_volume(mesh: Mesh, u: np.ndarray) -> float:
    """Cavity volume [m^3] as the benchmark reports it: -int y n_y da over the deformed
    endocardium (outward wall normal n). This is the flux of (0, y, 0) into the cavity;
    a cap closing the cavity adds nothing when its normal has no y-component, as for the
    base plane normal to the long axis x, so it needs no cap."""
    from .elements import Element

    fac = mesh.facets["ENDO"]
    el = Element.triangle(mesh.order, degree=4)
    x = mesh.points + np.asarray(u).reshape(-1, 3)
    xf = x[fac]
    yq = np.einsum("qa,fa->fq", el.N, xf[:, :, 1])
    a = np.einsum("qa,fai->fqi", el.dN[:, :, 0], xf)
    b = np.einsum("qa,fai->fqi", el.dN[:, :, 1], xf)
    ny = np.cross(a, b)[:, :, 1]
    return float(-np.einsum("fq,fq,q->", yq, ny, el.weights))


def build(case: str, mesh: Mesh, dt: float = 1e-3, scheme="generalized-alpha", linear_solver: str = "auto",
          driver_substeps: int = 10, jacobian_reuse: int = 0):
    """(Elastodynamics, probe function u -> (p0 (3,), p1 (3,), volume)) of a case on ``mesh``."""
    from .measures import probe

    mat, drv, active, pressure = case_setup(case)
    grid = np.arange(0.0, T_END + dt, dt / driver_substeps)
    tau, p = drv.integrate(grid)
    loads = []
    if active:
        loads.append(ActiveTension(1.0, time_function=lambda t: float(np.interp(t, grid, tau))))
    if pressure:
        loads.append(Pressure("ENDO", 1.0, time_function=lambda t: float(np.interp(t, grid, p))))
    space = FunctionSpace(mesh)
    prob = Problem(space, mat, loads=loads, formulation="penalty", linear_solver=linear_solver)
    scheme = GeneralizedAlpha.benchmark() if scheme == "generalized-alpha" else scheme
    dyn = Elastodynamics(prob, rho=RHO, eta=ETA, supports=RobinSupport.arostica2025(), scheme=scheme,
                         jacobian_reuse=jacobian_reuse)

    def probes(u):
        return probe(mesh, u, P0), probe(mesh, u, P1), y_volume(mesh, u)

    return dyn, probes


def run(case: str, mesh: Mesh, dt: float = 1e-3, t_end: float = T_END, scheme="generalized-alpha",
        linear_solver: str = "auto", progress: Callable[[str], None] | None = None,
        jacobian_reuse: int = 0, ledger: bool = False) -> dict:
    """Run a case to ``t_end``; returns {"curves" (n, 8) on the 0.01 s grid (COLUMNS),
    "wall_s", "newton_iterations", "steps", "substeps", "dofs", ...}. With ``ledger``, the
    energy balance of every step too: ``energy_defect_max_rel`` (the largest |change of
    kinetic + stored + spring energy + dissipation - work of the loads| of a step over the
    largest |work| of a step) and ``energy_defect_total_rel`` (their sums over the run, over
    the total |work|; negative: the scheme loses energy)."""
    t0 = time.perf_counter()
    dyn, probes = build(case, mesh, dt, scheme, linear_solver, jacobian_reuse=jacobian_reuse)
    rows = []
    p0, p1, vol = probes(np.zeros(mesh.n_points * 3))
    rows.append([0.0, *p0, *p1, vol])
    counters = {"it": 0, "sub": 0}
    every = int(round(OUTPUT_DT / dt))
    if abs(every * dt - OUTPUT_DT) > 1e-12 * OUTPUT_DT:
        raise ParameterError(f"dt = {dt} s must divide the output interval {OUTPUT_DT} s")

    book = {"prev": dyn.state.copy(), "e": sum(dyn.energies().values()), "defect": [], "work": []} if ledger else None

    def on_step(state, info):
        counters["it"] += info.iterations
        counters["sub"] += info.substeps - 1
        if book is not None:
            e = sum(dyn.energies().values())
            w = dyn.load_work(book["prev"], state)
            book["defect"].append(e - book["e"] + info.dissipated_J - w)
            book["work"].append(w)
            book["prev"], book["e"] = state.copy(), e
        if state.steps % every == 0:
            a, b, v = probes(state.x[:dyn.n_u])
            rows.append([state.t, *a, *b, v])

    dyn.run(t_end, dt, on_step=on_step, progress=progress)
    out = {"curves": np.array(rows), "wall_s": time.perf_counter() - t0, "newton_iterations": counters["it"],
           "steps": dyn.state.steps, "substeps": counters["sub"], "dofs": dyn.n,
           "assembly_s": dyn.timings["assembly_s"], "solve_s": dyn.timings["solve_s"],
           "linear_method": dyn.problem.linear_method}
    if book is not None and book["work"]:
        d, w = np.array(book["defect"]), np.abs(book["work"])
        out["energy_defect_max_rel"] = float(np.abs(d).max() / w.max())
        out["energy_defect_total_rel"] = float(d.sum() / w.sum())
    return out


def red(u: np.ndarray, ref: np.ndarray) -> float:
    """Relative error of displacement curves: mean_t |u - ref| / max_t |ref| (vector norms;
    Arostica et al. 2025, Eq. 21), on a common time grid."""
    ref = np.asarray(ref, float)
    return float(np.mean(np.linalg.norm(np.asarray(u) - ref, axis=1)) / np.max(np.linalg.norm(ref, axis=1)))


def output_times() -> np.ndarray:
    """The benchmark's output grid: 0, 0.01, ..., 1 s."""
    return np.round(np.arange(0.0, T_END + 0.5 * OUTPUT_DT, OUTPUT_DT), 10)


def team_curves(folder, case: str) -> dict[str, np.ndarray]:
    """The participating teams' results of a non-blinded case: {team: (101, 6) p0 and p1
    displacements [m] on :func:`output_times`}, read from ``folder``/nonblinded_<case>/*.csv
    (columns of :data:`COLUMNS`)."""
    import csv
    from pathlib import Path

    d = Path(folder) / f"nonblinded_{case}"
    files = sorted(d.glob("*.csv"))
    if not files:
        raise ParameterError(f"{d}: no team result files (*.csv) for case {case!r}")
    t = output_times()
    out = {}
    for f in files:
        with open(f, newline="") as fh:
            rows = list(csv.reader(fh))
        head, body = rows[0], np.array(rows[1:], dtype=float)
        missing = [c for c in COLUMNS[:7] if c not in head]
        if missing:
            raise ParameterError(f"{f}: missing columns {', '.join(missing)}")
        tt = body[:, head.index("time_s")]
        out[f.stem] = np.column_stack([np.interp(t, tt, body[:, head.index(c)]) for c in COLUMNS[1:7]])
    return out


def score(curves: np.ndarray, teams: dict[str, np.ndarray]) -> dict:
    """RED of ``curves`` (rows on :func:`output_times`, columns :data:`COLUMNS`) against the
    teams' mean for p0 and p1, the teams' own RED against it (median and range), and the
    peak (most negative) u_x at p0 with its time, beside the teams' range."""
    t = output_times()
    X = np.asarray(curves, float)
    if X.shape[0] != t.size or np.max(np.abs(X[:, 0] - t)) > 1e-9:
        raise ParameterError(f"curves must be on the 0.01 s grid from 0 to {T_END} s ({t.size} rows), "
                             f"got {X.shape[0]} rows")
    mean = np.mean(list(teams.values()), axis=0)
    own = np.array([[red(c[:, 3 * p:3 * p + 3], mean[:, 3 * p:3 * p + 3]) for p in (0, 1)] for c in teams.values()])
    ours = [red(X[:, 1 + 3 * p:4 + 3 * p], mean[:, 3 * p:3 * p + 3]) for p in (0, 1)]
    i = int(np.argmin(X[:, 1]))
    peaks = np.array([c[:, 0].min() for c in teams.values()])
    peak_t = np.array([t[int(np.argmin(c[:, 0]))] for c in teams.values()])
    return {"red_vs_team_mean": {"p0": ours[0], "p1": ours[1]},
            "median_team_red": {"p0": float(np.median(own[:, 0])), "p1": float(np.median(own[:, 1]))},
            "team_red_max": {"p0": float(own[:, 0].max()), "p1": float(own[:, 1].max())},
            "p0_ux_peak_mm": 1e3 * float(X[i, 1]), "p0_ux_peak_t_s": float(t[i]),
            "team_p0_ux_peak_mm": [1e3 * float(peaks.min()), 1e3 * float(peaks.max())],
            "team_p0_ux_peak_t_s": [float(peak_t.min()), float(peak_t.max())],
            "team_mean_p0_ux_peak_mm": 1e3 * float(mean[:, 0].min()), "teams": sorted(teams)}
