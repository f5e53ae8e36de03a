"""The cardiac elastodynamics benchmark (Arostica et al. 2025), one case on the toolkit's mesh.

Prints one JSON line: case, order, dofs, dt_s, scheme, wall_s, newton_iterations, steps,
substeps, assembly_s, solve_s, peak_rss_mb, p0_ux_peak_mm, p0_ux_peak_t_s and, for the
non-blinded cases (step_0A, step_0B, step_1) with the teams' curves at hand,
red_vs_team_mean and median_team_red (p0 and p1; RED of Eq. 21 against the mean of the
teams, and the median of the teams' own RED against that mean), team_red_max and the teams'
range of the p0 u_x peak and its time. Writes DIR/curves.csv (the columns of the team files:
time_s, p0_ux_m .. p1_uz_m, volume_m3 every 0.01 s) and benchmarks/results/elastodynamics_
<case>[_P1][_dt<dt>][_midpoint|_energy_consistent][_energy].json. With --energy also
energy_defect_max_rel and energy_defect_total_rel (the energy ledger of every step: kinetic +
stored + spring energy change + dissipation - work of the active tension and the pressure,
largest over the largest step work, and summed over the summed |work|).

With --peer dolfinx the same case (mesh with its nodal fibres, order, dt, t-end, modified-Newton
setting) is also solved by benchmarks/peers/dolfinx_elastodynamics.py under the interpreter named
by CARDIOSIM_DOLFINX_PYTHON (see benchmarks/peers/README.md). Its JSON goes under "dolfinx", with
"speedup_vs_dolfinx" (the peer's wall_s, its time-stepping loop, over cardiosim's wall_s, which
includes cardiosim's set-up), "speedup_vs_dolfinx_with_setup" (the peer's wall_s + setup_s: mesh,
forms and their JIT compilation, matrix; small with a warm JIT cache), "dolfinx_curve_max_rel_diff"
(the largest |u_cardiosim - u_dolfinx| of p0 and p1 on the 0.01 s grid over the peak |u| of
cardiosim's curve of that point), "dolfinx_curve_rel_diff" per point and
"dolfinx_volume_max_rel_diff"; all null, with "dolfinx_status" saying why, when the variable is
unset or the peer fails. With --out the peer's curves go to DIR/curves_dolfinx.csv.

Data: $CARDIOSIM_DATA/cardiac-elastodynamics-2025 (default ../shared/data), its mesh/ and
nonblinded_step_*/ folders.

Run: python benchmarks/elastodynamics.py --case step_1 [--order 2|1] [--dt 0.001]
     [--t-end 1.0] [--out DIR] [--linear-solver auto] [--jacobian-reuse 50] [--peer dolfinx]
--quick (step_1, P1, to 0.02 s), or any --t-end short of 1 s: results/quick/ (never a
measured figure).
P2 with modified Newton (a Jacobian kept up to 50 steps) takes about 40 min per case on one
core of the development machine; P1 about 6 min, but P1 tetrahedra lock at kappa = 1e6 Pa.
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from _record import record  # noqa: E402
from cardiosim.fem import arostica2025 as A  # noqa: E402
from cardiosim.io import atomic_write  # noqa: E402


def data_dir() -> Path:
    root = Path(os.environ.get("CARDIOSIM_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    return root / "cardiac-elastodynamics-2025"


def write_peer_mesh(mesh, path: Path) -> Path:
    """The benchmark mesh as the DOLFINx peer reads it: a VTU with the ENDO/EPI/BASE facets and
    the fibre frame at every node (point data fibre/sheet/normal; Mesh.write)."""
    if mesh.fibres is None or mesh.fibres_at != "node":
        raise ValueError("the peer needs the benchmark mesh with its nodal fibres (arostica2025.benchmark_mesh)")
    return mesh.write(path)


def curve_differences(ours: np.ndarray, theirs: np.ndarray) -> dict:
    """Largest |u_ours - u_theirs| per point (p0, p1) over the peak |u_ours| of that point, and the
    largest volume difference over the reference volume, on the common 0.01 s grid."""
    if ours.shape != theirs.shape or np.max(np.abs(ours[:, 0] - theirs[:, 0])) > 1e-9:
        raise ValueError(f"curves on different grids: {ours.shape} vs {theirs.shape}")
    rel = {}
    for k, name in enumerate(("p0", "p1")):
        a, b = ours[:, 1 + 3 * k:4 + 3 * k], theirs[:, 1 + 3 * k:4 + 3 * k]
        peak = float(np.max(np.linalg.norm(a, axis=1)))
        rel[name] = float(np.max(np.linalg.norm(a - b, axis=1)) / peak) if peak > 0 else None
    vol = float(np.max(np.abs(ours[:, 7] - theirs[:, 7])) / abs(ours[0, 7]))
    vals = [v for v in rel.values() if v is not None]
    return {"dolfinx_curve_max_rel_diff": max(vals) if vals else None, "dolfinx_curve_rel_diff": rel,
            "dolfinx_volume_max_rel_diff": vol}


def dolfinx_peer(mesh, a, curves: np.ndarray, wall_s: float) -> dict:
    """Run the DOLFINx peer on the same case; the keys to add to the result (module docstring)."""
    out = {"dolfinx": None, "speedup_vs_dolfinx": None, "speedup_vs_dolfinx_with_setup": None,
           "dolfinx_curve_max_rel_diff": None,
           "dolfinx_curve_rel_diff": None, "dolfinx_volume_max_rel_diff": None, "dolfinx_status": None}
    py = os.environ.get("CARDIOSIM_DOLFINX_PYTHON")
    if not py:
        out["dolfinx_status"] = "not run: CARDIOSIM_DOLFINX_PYTHON is not set (see benchmarks/peers/README.md)"
        return out
    script = Path(__file__).parent / "peers" / "dolfinx_elastodynamics.py"
    with tempfile.TemporaryDirectory() as d:
        f = write_peer_mesh(mesh, Path(d) / "mesh.vtu")
        cfile = Path(d) / "curves.csv"
        cmd = [py, str(script), "--mesh", str(f), "--case", a.case, "--order", str(a.order), "--dt", repr(a.dt),
               "--t-end", repr(a.t_end), "--jacobian-reuse", str(a.jacobian_reuse), "--curves", str(cfile)]
        print("running the DOLFINx peer: " + " ".join(cmd), file=sys.stderr, flush=True)
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=None, text=True)
        lines = r.stdout.strip().splitlines()
        if r.returncode != 0 or not lines:
            out["dolfinx_status"] = f"failed: the peer exited with {r.returncode} (its stderr is above)"
            return out
        try:
            peer = json.loads(lines[-1])
            theirs = np.loadtxt(cfile, delimiter=",", skiprows=1, ndmin=2)
        except (ValueError, OSError) as exc:
            out["dolfinx_status"] = f"failed: unreadable peer output ({type(exc).__name__}: {exc})"
            return out
    peer.pop("curves", None)
    out["dolfinx"] = peer
    out["speedup_vs_dolfinx"] = round(peer["wall_s"] / wall_s, 3)
    # cardiosim's wall_s holds its set-up (space, mass and surface matrices); the peer's does not
    out["speedup_vs_dolfinx_with_setup"] = round((peer["wall_s"] + peer["setup_s"]) / wall_s, 3)
    try:
        out.update(curve_differences(curves, theirs))
    except ValueError as exc:
        out["dolfinx_status"] = f"ran, curves not compared: {exc}"
    if a.out is not None:
        a.out.mkdir(parents=True, exist_ok=True)
        text = "\n".join([",".join(A.COLUMNS)] + [",".join(f"{v:.10g}" for v in row) for row in theirs]) + "\n"
        atomic_write(a.out / "curves_dolfinx.csv", lambda p: p.write_text(text))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--case", choices=A.CASES, default="step_1")
    ap.add_argument("--order", type=int, choices=[1, 2], default=2,
                    help="P2 (default; 89,679 unknowns) or P1 (13,731: locks, see docs/verification.md)")
    ap.add_argument("--dt", type=float, default=1e-3)
    ap.add_argument("--t-end", type=float, default=A.T_END)
    ap.add_argument("--scheme", choices=["generalized-alpha", "midpoint", "energy-consistent"],
                    default="generalized-alpha")
    ap.add_argument("--energy", action="store_true",
                    help="the energy ledger of every step (energy_defect_max_rel, energy_defect_total_rel)")
    ap.add_argument("--linear-solver", default="auto")
    ap.add_argument("--jacobian-reuse", type=int, default=50,
                    help="modified Newton: keep a factorised Jacobian up to N steps (0: plain Newton)")
    ap.add_argument("--out", type=Path, default=None, help="folder for curves.csv")
    ap.add_argument("--peer", choices=["dolfinx"], default=None,
                    help="also solve the case with the DOLFINx peer (CARDIOSIM_DOLFINX_PYTHON)")
    ap.add_argument("--quick", action="store_true", help="smoke run: step_1 to 0.02 s (results/quick/)")
    a = ap.parse_args()
    if a.quick:
        a.case, a.t_end, a.order, a.peer = "step_1", 0.02, 1, None
    a.quick = a.quick or a.t_end < A.T_END - 1e-12     # a shortened run is never a measured figure
    data = data_dir()
    mesh_file = data / "mesh" / "ellipsoid_0.005.h5"
    if not mesh_file.exists():
        sys.exit(f"benchmark mesh not found: {mesh_file} (set CARDIOSIM_DATA to the shared data folder)")
    mesh = A.benchmark_mesh(mesh_file, a.order)
    res = A.run(a.case, mesh, a.dt, a.t_end, a.scheme, a.linear_solver,
                progress=lambda s: print(s, file=sys.stderr, flush=True), jacobian_reuse=a.jacobian_reuse,
                ledger=a.energy)
    curves = res.pop("curves")
    out = {"case": a.case, "order": a.order, "dt_s": a.dt, "t_end_s": a.t_end, "scheme": a.scheme,
           "jacobian_reuse": a.jacobian_reuse, **res,
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
    i = int(np.argmin(curves[:, 1]))
    out["p0_ux_peak_mm"], out["p0_ux_peak_t_s"] = 1e3 * float(curves[i, 1]), float(curves[i, 0])
    if a.case in ("step_0A", "step_0B", "step_1") and abs(a.t_end - A.T_END) < 1e-12:
        out.update(A.score(curves, A.team_curves(data, a.case)))
    if a.peer == "dolfinx":
        out.update(dolfinx_peer(mesh, a, curves, res["wall_s"]))
    if a.out is not None:
        a.out.mkdir(parents=True, exist_ok=True)
        lines = [",".join(A.COLUMNS)] + [",".join(f"{v:.10g}" for v in row) for row in curves]
        text = "\n".join(lines) + "\n"
        atomic_write(a.out / "curves.csv", lambda p: p.write_text(text))
    name = f"elastodynamics_{a.case}" + ("_P1" if a.order == 1 else "") + (f"_dt{a.dt:g}" if a.dt != 1e-3 else "")
    if a.scheme != "generalized-alpha":
        name += "_" + a.scheme.replace("-", "_")
    if a.energy:
        name += "_energy"
    record(name, out, a, peers={"dolfinx": "fenics-dolfinx" if out.get("dolfinx") else None} if a.peer else None)


if __name__ == "__main__":
    main()
