"""Sparse linear solvers on the finite-element tangents: SuperLU, UMFPACK, CHOLMOD, PARDISO, AMG.

Prints one JSON line:
  threads     environment thread limits and, per method, the threads its libraries ran
              with (threadpoolctl; SuperLU and pyamg are sequential code)
  versions    of each solver package (null: not installed)
  cases       list of {case, n, nnz, symmetric, methods, variants}:
                methods[name] = {setup_s, solve_s, total_s, residual, error[, refactor_s]
                  [, iterations]} or {skipped/failed}
                  setup_s: factorisation (AMG: hierarchy) time, solve_s: one solve,
                  refactor_s: factorisation keeping the symbolic analysis (reuse=, what
                  a Newton iteration needs; umfpack, pardiso, cholmod),
                  best of --repeat; residual |b - A x| / |b|; error |x - x_true| / |x_true|
                  for b = A x_true, x_true random (seed 0; Taylor-Hood cases with
                  block-gmres: pressures scaled by 5e6); iterations: Krylov methods.
                  "block-gmres" (Taylor-Hood cases only) stops on its scaled residual
                  (rtol 1e-8): its residual and error here are ~1e-8 to 1e-6, not 1e-15
                variants: SuperLU column orderings, PARDISO matrix types (same fields)
  default     the fastest robust method: solved every non-SPD case (saddle points
              included) to residual <= 1e-8, smallest summed total_s over the cases
  auto_order  what "auto" tries, in order: {"n < AUTO_SMALL_N": [...], "larger": [...]}

Cases (P2 tetrahedra, Land et al. 2015):
  beam-L{l}-mixed     problem 1 beam (4 Pa follower pressure): Taylor-Hood u-p tangent at
                      the converged solution (indefinite saddle point, zero pressure
                      block; nonsymmetric by the follower pressure)
  beam-L{l}-penalty   displacement-only (penalty kappa) tangent at that deformed state
  beam-L{l}-spd       penalty tangent at u = 0 without load: SPD (cholmod, pyamg-CG)
  ellipsoid-L{l}-*    --ellipsoid levels: problem 2 ellipsoid, Taylor-Hood and penalty
                      tangents at the first Newton iterate of a 1 kPa step; the
                      Taylor-Hood one also with "block-gmres" (saddle_point_options)
  ellipsoid-L{l}-loaded  --loaded levels: Taylor-Hood tangent at the converged 10 kPa
                      state (Newton with "block-gmres", 5 load steps; level 2: ~1 min),
                      b = -R(x*) at 9 kPa, error against PARDISO
  FILE.npz            any --matrix given (scipy.sparse.save_npz)

Run: python benchmarks/linear_solvers.py [--levels 1 2] [--ellipsoid 2] [--loaded 3] [--matrix A.npz ...]
     [--methods pardiso block-gmres] [--repeat 3] [--quick]
(--methods: only these, e.g. on large meshes where the direct solvers take minutes)
Writes benchmarks/results/linear_solvers.json (--quick: the level-1 beam, one repeat, into
results/quick/).
"""

from __future__ import annotations

import os

for _v in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")  # one core each: a fair comparison (and a shared machine)

import argparse  # noqa: E402
import time  # noqa: E402
from importlib.metadata import PackageNotFoundError, version  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from cardiosim import materials as MAT  # noqa: E402
from cardiosim.fem import linear as L  # noqa: E402
from _record import record  # noqa: E402
from cardiosim.fem import Problem, solve  # noqa: E402
from cardiosim.geometry import TruncatedEllipsoid, land_beam  # noqa: E402

PACKAGES = {"superlu": "scipy", "umfpack": "scikit-umfpack", "cholmod": "scikit-sparse",
            "pardiso": "pypardiso", "pyamg": "pyamg", "block-gmres": "pyamg"}
# SuperLU: SciPy's default (COLAMD, partial pivoting); minimum degree on A + A^T with
# partial pivoting (10-30x slower from ~9,000 unknowns: only run on smaller cases) and
# with a 0.1 diagonal threshold (the registry uses 0.001). PARDISO's structurally
# symmetric type. (method, options, largest n to run it on)
VARIANTS = [("superlu", {"permc_spec": "COLAMD"}, None),
            ("superlu", {"permc_spec": "MMD_AT_PLUS_A", "diag_pivot_thresh": 1.0, "symmetric_mode": False}, 5000),
            ("superlu", {"permc_spec": "MMD_AT_PLUS_A", "diag_pivot_thresh": 0.1, "symmetric_mode": True}, None),
            ("pardiso", {"mtype": 1}, None)]
ROBUST = 1e-8


def _pkg_version(p):
    try:
        return version(p)
    except PackageNotFoundError:
        return None


def beam_cases(level: int):
    """(name, A, extra opts) for the P2 beam at ``level``."""
    mesh = land_beam(level, order=2)
    mesh = mesh.with_fibres(np.tile(np.eye(3), (mesh.n_cells, 1, 1)))
    mat = MAT.Guccione.land2015_problem1()
    mixed = Problem(mesh, mat, clamped=("X0",), pressure=("Z0", 4.0), formulation="mixed")
    u, info = solve(mixed, steps=5)
    _, K = mixed.residual_tangent(info["x"], 1.0)
    out = [(f"beam-L{level}-mixed", K[mixed.free][:, mixed.free], {})]
    pen = Problem(mesh, mat, clamped=("X0",), pressure=("Z0", 4.0), formulation="penalty")
    amg = {"pyamg": {"coords": pen.coords, "dofs": pen.free}}
    _, K = pen.residual_tangent(u.ravel(), 1.0)
    out.append((f"beam-L{level}-penalty", K[pen.free][:, pen.free], amg))
    _, K = pen.residual_tangent(np.zeros(pen.n_dofs), 0.0)
    out.append((f"beam-L{level}-spd", K[pen.free][:, pen.free], amg))
    return out


def ellipsoid_cases(level: int):
    """Land 2015 problem 2 (truncated ellipsoid, base clamped, endocardial pressure), P2:
    Taylor-Hood and penalty tangents at the first Newton iterate of a 1 kPa step."""
    mesh = TruncatedEllipsoid.land2015().mesh(level=level, order=2)
    out = []
    for form in ("mixed", "penalty"):
        p = Problem(mesh, MAT.Guccione.land2015_problem2(), clamped=("BASE",), pressure=("ENDO", 10e3),
                    formulation=form, linear_solver="superlu")
        R, K = p.residual_tangent(np.zeros(p.n_dofs), 0.1)
        x = np.zeros(p.n_dofs)
        x[p.free] = L.solve_linear(K[p.free][:, p.free], -R[p.free], "superlu")
        _, K = p.residual_tangent(x, 0.1)
        opts = {"pyamg": {"coords": p.coords, "dofs": p.free}}
        if form == "mixed":
            opts["block-gmres"] = L.saddle_point_options(p)
        out.append((f"ellipsoid-L{level}-{form}", K[p.free][:, p.free], opts))
    return out


def loaded_case(level: int):
    """Problem 2 Taylor-Hood tangent at the converged 10 kPa state x*, with b = -R(x*) at
    9 kPa (a load decrement: at 10 kPa the residual is at round-off).
    Newton runs with "block-gmres" (Problem takes only a method name: its solve is
    swapped in here)."""
    from cardiosim.fem import solver as S

    mesh = TruncatedEllipsoid.land2015().mesh(level=level, order=2)
    p = Problem(mesh, MAT.Guccione.land2015_problem2(), clamped=("BASE",), pressure=("ENDO", 10e3))
    opts = L.saddle_point_options(p)
    swapped, S._linear_solve = S._linear_solve, lambda prob, A, b: L.solve_linear(A, b, "block-gmres", **opts)
    try:
        _, info = solve(p, steps=5)
    finally:
        S._linear_solve = swapped
    R, _ = p.residual_tangent(info["x"], 0.9, want_k=False)
    _, K = p.residual_tangent(info["x"], 1.0)
    return [(f"ellipsoid-L{level}-loaded", K[p.free][:, p.free], {"block-gmres": opts}, -R[p.free])]


def threads_in_use(method):
    """Thread count of the libraries ``method`` computes with (threadpoolctl)."""
    if method in SEQUENTIAL:
        return SEQUENTIAL[method]
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    # PARDISO runs in MKL; UMFPACK and CHOLMOD call the BLAS SuiteSparse was linked with
    # (not the private OpenBLAS of NumPy/SciPy wheels)
    keep = {"pardiso": lambda i: i["internal_api"] in ("mkl", "openmp") and "gomp" not in i["filepath"],
            }.get(method, lambda i: i["internal_api"] in ("openblas", "blis") and "scipy_openblas" not in i["filepath"])
    return sorted({f"{i['internal_api']}:{os.path.basename(i['filepath'])}={i['num_threads']}"
                   for i in threadpool_info() if keep(i)})


SEQUENTIAL = {"superlu": "1 (SuperLU in SciPy is sequential)", "pyamg": "1 (pyamg's C++ kernels are sequential)",
              "block-gmres": "1 (pyamg's C++ kernels; NumPy BLAS-2 in GMRES, OPENBLAS_NUM_THREADS)"}
REUSE = ("umfpack", "pardiso", "cholmod")  # keep the symbolic analysis with reuse=


def measure(A, method, opts, symmetric, repeat, x_true, b=None):
    b = A @ x_true if b is None else b
    best_setup, best_solve, x = float("inf"), float("inf"), None
    for _ in range(repeat):
        f = L.factorized(A, method, symmetric=symmetric, **opts)
        t0 = time.perf_counter()
        x = f(b)
        best_solve = min(best_solve, time.perf_counter() - t0)
        best_setup = min(best_setup, f.setup_s)
    res = float(np.linalg.norm(b - A @ x) / np.linalg.norm(b))
    err = float(np.linalg.norm(x - x_true) / np.linalg.norm(x_true))
    out = {"setup_s": round(best_setup, 5), "solve_s": round(best_solve, 5),
           "total_s": round(best_setup + best_solve, 5), "residual": float(f"{res:.3e}"),
           "error": float(f"{err:.3e}")}
    if f.last.get("iterations") is not None:
        out["iterations"] = int(f.last["iterations"])
    if method in REUSE:
        # a Newton iteration with the pattern kept: numerical factorisation only
        best = float("inf")
        f = L.factorized(A, method, symmetric=symmetric, **opts)
        for _ in range(repeat):
            f = L.factorized(A, method, symmetric=symmetric, reuse=f, **opts)
            best = min(best, f.setup_s)
        f(b)
        out["refactor_s"] = round(best, 5)
    return out


def run_case(name, A, opts, repeat, avail, thread_log, b=None, methods=None):
    """opts: {method: options} (methods not named get none; SADDLE_METHODS only run where
    named); b: right-hand side (default A x_true); methods: only these."""
    A = sp.csr_matrix(A)
    amax = abs(A).max()
    symmetric = bool(abs(A - A.T).max() <= 1e-12 * amax)
    x_true = np.random.default_rng(0).standard_normal(A.shape[0])
    if "block-gmres" in opts:
        # Taylor-Hood: pressures [Pa] ~5e6 x displacements [m] (shear modulus / element
        # size), else p hardly shows in b = A x_true and a solver stopping on a scaled
        # residual (block-gmres) is judged on digits b does not hold (error 0.36 at 1:1)
        x_true[opts["block-gmres"]["n_u"]:] *= 5e6
    if b is not None:  # error against the most accurate solve there is
        x_true = L.solve_linear(A, b, "pardiso" if avail["pardiso"] else "superlu")
    row = {"case": name, "n": A.shape[0], "nnz": int(A.nnz), "symmetric": symmetric, "methods": {},
           "variants": {}}
    for m in L.METHODS + tuple(k for k in L.SADDLE_METHODS if k in opts):
        if methods and m not in methods:
            continue
        if not avail[m]:
            row["methods"][m] = {"skipped": f"{PACKAGES[m]} not installed"}
            continue
        o = opts.get(m, {})
        try:
            row["methods"][m] = measure(A, m, o, symmetric, repeat, x_true, b)
        except L.LinearSolverError as e:
            row["methods"][m] = {"failed": str(e)}
        thread_log.setdefault(m, threads_in_use(m))
    for m, o, max_n in VARIANTS:
        if methods and m not in methods:
            continue
        if not avail[m] or (max_n is not None and A.shape[0] > max_n):
            continue
        key = m + "[" + ",".join(f"{k}={v}" for k, v in o.items()) + "]"
        try:
            row["variants"][key] = measure(A, m, o, symmetric, repeat, x_true, b)
        except L.LinearSolverError as e:
            row["variants"][key] = {"failed": str(e)}
    return row


def pick_default(rows):
    """Fastest method that solved every case that is not SPD-only to <= ROBUST."""
    total: dict[str, float] = {}
    for m in L.METHODS:
        s = 0.0
        for r in rows:
            res = r["methods"].get(m, {})
            if "total_s" not in res or res["residual"] > ROBUST:
                s = float("inf")
                break
            s += res["total_s"]
        total[m] = s
    return min(total, key=total.get), {m: (round(v, 4) if np.isfinite(v) else None) for m, v in total.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--levels", type=int, nargs="*", default=[1, 2], help="beam levels")
    ap.add_argument("--ellipsoid", type=int, nargs="*", default=[], help="ellipsoid levels (2: ~9k unknowns)")
    ap.add_argument("--loaded", type=int, nargs="*", default=[],
                    help="ellipsoid levels: Taylor-Hood tangent at the converged 10 kPa state")
    ap.add_argument("--matrix", action="append", default=[], help="scipy.sparse.save_npz file (repeatable)")
    ap.add_argument("--methods", nargs="*", default=None, help="only these methods (and their variants)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="smoke run: level-1 beam only, 1 repeat")
    a = ap.parse_args()
    if a.quick:
        a.levels, a.ellipsoid, a.loaded, a.matrix, a.repeat = [1], [], [], [], 1
    avail = L.available()
    cases = []
    for lev in a.levels:
        cases += beam_cases(lev)
    for lev in a.ellipsoid:
        cases += ellipsoid_cases(lev)
    for lev in a.loaded:
        cases += loaded_case(lev)
    for f in a.matrix:
        cases.append((os.path.basename(f), sp.load_npz(f), {}))
    thread_log: dict = {}
    rows = [run_case(c[0], c[1], c[2], a.repeat, avail, thread_log, *c[3:], methods=a.methods) for c in cases]
    # robust = general: cases that are SPD only (cholmod/pyamg territory) do not decide
    general = [r for r in rows if not r["case"].endswith("-spd")]
    default, totals = pick_default(general)
    record("linear_solvers", {
        "threads": {"env": {v: os.environ.get(v) for v in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS",
                                                          "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")},
                    "per_method": thread_log},
        "versions": {m: _pkg_version(p) for m, p in PACKAGES.items()},
        "cases": rows, "total_s_general_cases": totals, "default": default,
        "auto_order": {f"n < {L.AUTO_SMALL_N}": list(L.AUTO_ORDER_SMALL), "larger": list(L.AUTO_ORDER)}},
        a, peers={p: p for p in sorted(set(PACKAGES.values()) - {"scipy"})})


if __name__ == "__main__":
    main()
