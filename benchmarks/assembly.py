"""Speed of finite-element assembly, two cases, each against peers run here.

Prints one JSON line {"linear_elasticity_P1": {...}, "guccione_taylor_hood_P2P1": {...}}.

linear_elasticity_P1: stiffness on ~100,000 P1 tetrahedra (unit cube). Keys:
  elements, dofs, nnz          size of the job (structured unit cube, 6 tets per hexahedron)
  elements_per_second          cardiosim: element stiffness computed and scattered into the
                               CSR data array in one compiled pass, best of 3 (the pattern and the geometry are computed
                               once, as the peers' bases are: geometry_seconds, pattern_seconds)
  kernel_elements_per_second   element matrices alone, into an (ne, 12, 12) array (no scatter)
  pattern_seconds              building the CSR pattern and scatter map once
  skfem_elements_per_second    scikit-fem 'asm(linear_elasticity)' on the same mesh, same P1
                               element, best of 3; null when scikit-fem is absent
  sfepy_elements_per_second    sfepy, when installed (else null)
  speedup_vs_skfem, speedup_vs_sfepy
  max_abs_difference_vs_skfem  max |K_cardiosim - K_skfem| / max |K| (same dof numbering)
guccione_taylor_hood_P2P1: residual and tangent of the incompressible Guccione law
(Land 2015 problem-1 parameters, per-quadrature-point fibres) on Taylor-Hood P2-P1
tetrahedra of the curved Land ellipsoid (level 3: 6,750 cells), degree-4 quadrature
(14 points in both codes), at a non-zero state. Keys: elements, dofs,
elements_per_second (cardiosim: element kernel + scatter of residual and tangent, best of
repeats), kernel_elements_per_second, dolfinx (the peer's JSON: benchmarks/peers/
dolfinx_land2015.py jacobian, run under CARDIOSIM_DOLFINX_PYTHON on the same mesh file;
null if unset), dolfinx_elements_per_second (cells / (Jacobian + residual assembly)),
speedup_vs_dolfinx.

dolfinx_status says why the DOLFINx peer was not run (null when it ran).

Run: python benchmarks/assembly.py [--n 26] [--level 3] [--quick]   (peers: pip install
scikit-fem sfepy; DOLFINx: see benchmarks/peers/README.md)
--quick: 1,296 P1 tets, ellipsoid level 1, one repeat, no peers (results/quick/).
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from _record import record  # noqa: E402
from cardiosim.fem import Element, Pattern  # noqa: E402
from cardiosim.fem import kernels as FK  # noqa: E402

from cardiosim.geometry import TruncatedEllipsoid, box  # noqa: E402


def best(f, repeats=3):
    t = []
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = f()
        t.append(time.perf_counter() - t0)
    return min(t), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=26, help="hexahedra per side (6 n^3 tets; 26 -> 105,456)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--level", type=int, default=3, help="ellipsoid level of the Guccione Taylor-Hood case")
    ap.add_argument("--quick", action="store_true", help="smoke run: --n 6 --level 1, 1 repeat, no peers")
    args = ap.parse_args()
    if args.quick:
        args.n, args.level, args.repeats = 6, 1, 1
    out = {"linear_elasticity_P1": linear_elasticity(args), "guccione_taylor_hood_P2P1": guccione_taylor_hood(args)}
    ran = out["guccione_taylor_hood_P2P1"]["dolfinx"] is not None
    record("assembly", out, args, peers={"scikit-fem": None if args.quick else "scikit-fem",
                                         "sfepy": None if args.quick else "sfepy",
                                         "dolfinx": "fenics-dolfinx" if ran else None})


def linear_elasticity(args):
    lam, mu = 1.0e4, 5.0e3
    mesh = box(args.n, args.n, args.n, size=(1.0, 1.0, 1.0))
    el = Element.tetra(1, degree=1)
    ne, nn = mesh.n_cells, 4
    X = np.ascontiguousarray(mesh.points[mesh.cells])
    dNdX = np.empty((ne, 1, nn, 3))
    wdet = np.empty((ne, 1))
    Ke = np.empty((ne, 12, 12))
    t0 = time.perf_counter()
    pat = Pattern(mesh.cells, mesh.n_points)
    t_pattern = time.perf_counter() - t0
    data = np.empty(pat.nnz)

    # the geometry (inverse Jacobians, weights) is computed once and kept, as the peers'
    # bases/mappings are: only the stiffness and its scatter are timed
    t0 = time.perf_counter()
    FK.geometry(X, el.dN, el.weights, dNdX, wdet)
    t_geometry = time.perf_counter() - t0

    def kernels():
        FK.linear_elastic(dNdX, wdet, lam, mu, Ke)

    def assemble():
        FK.assemble_linear_elastic(dNdX, wdet, lam, mu, pat.pos, data)
        return data

    assemble()  # compile (or load) both kernels outside the timings
    kernels()
    FK.geometry(X, el.dN, el.weights, dNdX, wdet)
    t_geometry = min(t_geometry, best(lambda: FK.geometry(X, el.dN, el.weights, dNdX, wdet), args.repeats)[0])
    t_asm, _ = best(assemble, args.repeats)
    t_ker, _ = best(kernels, args.repeats)
    out = {"case": "linear_elasticity_P1", "elements": int(ne), "dofs": int(pat.n), "nnz": int(pat.nnz),
           "elements_per_second": round(ne / t_asm), "kernel_elements_per_second": round(ne / t_ker),
           "assembly_seconds": round(t_asm, 4), "geometry_seconds": round(t_geometry, 4),
           "pattern_seconds": round(t_pattern, 3)}
    import scipy.sparse as sp
    K = sp.csr_matrix((data.copy(), pat.indices, pat.indptr), shape=(pat.n, pat.n))
    if args.quick:
        out.update(skfem_elements_per_second=None, sfepy_elements_per_second=None)
        return out
    try:
        import skfem
        from skfem.models.elasticity import linear_elasticity

        m = skfem.MeshTet(mesh.points.T.copy(), mesh.cells.T.copy())
        basis = skfem.Basis(m, skfem.ElementVector(skfem.ElementTetP1()), intorder=1)
        form = linear_elasticity(lam, mu)
        skfem.asm(form, basis)
        t_sk, Ksk = best(lambda: skfem.asm(form, basis), args.repeats)
        out["skfem_elements_per_second"] = round(ne / t_sk)
        out["speedup_vs_skfem"] = round(t_sk / t_asm, 1)
        # scikit-fem numbers vector dofs node-major like cardiosim for ElementVector(P1)
        dofs = basis.nodal_dofs.T.ravel()
        Kp = Ksk.tocsr()[dofs][:, dofs]
        out["max_abs_difference_vs_skfem"] = float(abs(Kp - K).max() / abs(K).max())
        out["skfem"] = skfem.__version__
    except ImportError:
        out["skfem_elements_per_second"] = None
    try:
        out.update(_sfepy(mesh, lam, mu, args.repeats, t_asm, ne))
    except ImportError:
        out["sfepy_elements_per_second"] = None
    except Exception as e:  # a peer's failure is reported, not fatal
        out["sfepy_elements_per_second"] = None
        out["sfepy_error"] = f"{type(e).__name__}: {e}"
    return out


def guccione_taylor_hood(args):
    import subprocess
    import tempfile
    from pathlib import Path

    from cardiosim import materials as MAT
    from cardiosim.fem import hyperelastic as HK
    from cardiosim.fem import Problem

    geo = TruncatedEllipsoid.land2015()
    mesh = geo.mesh(args.level, order=2)
    prob = Problem(mesh, MAT.Guccione.land2015_problem1(), formulation="mixed", fibre_field=geo.fibres)
    x = np.zeros(prob.n_dofs)
    xyz = mesh.points
    # a smooth non-zero state: a small twist and stretch, pressure 1 kPa
    u = 0.02 * np.column_stack([-xyz[:, 1] * xyz[:, 2], xyz[:, 0] * xyz[:, 2], 0.5 * xyz[:, 2] ** 2 / 0.02])
    x[: prob.n_u] = u.ravel()
    x[prob.n_u:] = 1.0e3
    ne = mesh.n_cells
    prob.residual_tangent(x, 1.0)  # compile
    t_asm, _ = best(lambda: prob.residual_tangent(x, 1.0), args.repeats)
    U = np.ascontiguousarray(u[mesh.cells])
    P = np.ascontiguousarray(x[prob.n_u:][prob.pdofs])
    Ta = np.zeros(ne)
    m = prob.pattern.dofs.shape[1]
    Rel, Kel = np.empty((ne, m)), np.empty((ne, m, m))
    HK.hyperelastic_up(prob.dNdX, prob.Np, prob.wdet, U, P, prob.R, prob.kind, prob.prm, Ta, Rel, Kel)  # compile
    t_ker, _ = best(lambda: HK.hyperelastic_up(prob.dNdX, prob.Np, prob.wdet, U, P, prob.R, prob.kind, prob.prm,
                                               Ta, Rel, Kel), args.repeats)
    out = {"elements": int(ne), "dofs": int(prob.n_dofs), "quadrature_points": int(prob.dNdX.shape[1]),
           "elements_per_second": round(ne / t_asm), "kernel_elements_per_second": round(ne / t_ker),
           "assembly_seconds": round(t_asm, 4), "dolfinx": None, "dolfinx_elements_per_second": None,
           "speedup_vs_dolfinx": None,
           "dolfinx_status": "not run: CARDIOSIM_DOLFINX_PYTHON is not set (see benchmarks/peers/README.md)"}
    py = None if args.quick else os.environ.get("CARDIOSIM_DOLFINX_PYTHON")
    if args.quick:
        out["dolfinx_status"] = "not run: --quick"
    if py:
        out["dolfinx_status"] = None
        script = Path(__file__).parent / "peers" / "dolfinx_land2015.py"
        with tempfile.TemporaryDirectory() as d:
            f = mesh.with_fibres(geo.fibres(mesh.points[mesh.cells].mean(axis=1))).write(Path(d) / "m.vtu")
            r = subprocess.run([py, str(script), "jacobian", "--mesh", str(f), "--repeat", str(max(args.repeats, 3))],
                               capture_output=True, text=True)
        if r.returncode == 0:
            peer = json.loads(r.stdout.strip().splitlines()[-1])
            t_peer = peer["jacobian_assembly_s"] + peer["residual_assembly_s"]
            out.update({"dolfinx": peer, "dolfinx_elements_per_second": round(ne / t_peer),
                        "speedup_vs_dolfinx": round(t_peer / t_asm, 1)})
        else:
            out["dolfinx"] = {"error": (r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[-1]}
    return out


def _sfepy(mesh, lam, mu, repeats, t_asm, ne):
    """sfepy's assembled stiffness (Equations.evaluate into a CSR graph built once)."""
    import sfepy
    from sfepy.discrete import Equation, Equations, FieldVariable, Integral, Material, Problem
    from sfepy.discrete.fem import FEDomain, Field
    from sfepy.discrete.fem.mesh import Mesh as SMesh
    from sfepy.mechanics.matcoefs import stiffness_from_lame
    from sfepy.terms import Term

    sm = SMesh.from_data("box", mesh.points, None, [mesh.cells], [np.zeros(len(mesh.cells), dtype=np.int32)],
                         ["3_4"])
    domain = FEDomain("domain", sm)
    omega = domain.create_region("Omega", "all")
    field = Field.from_args("fu", np.float64, "vector", omega, approx_order=1)
    u = FieldVariable("u", "unknown", field)
    v = FieldVariable("v", "test", field, primary_var_name="u")
    m = Material("m", D=stiffness_from_lame(3, lam=lam, mu=mu))
    t = Term.new("dw_lin_elastic(m.D, v, u)", Integral("i", order=1), omega, m=m, v=v, u=u)
    eqs = Equations([Equation("eq", t)])
    pb = Problem("elasticity", equations=eqs)
    pb.time_update()
    pb.update_materials()
    eqs.init_state()
    mtx = eqs.create_matrix_graph()

    def assemble():
        mtx.data[:] = 0.0
        return eqs.evaluate(mode="weak", dw_mode="matrix", asm_obj=mtx)

    assemble()
    dt, _ = best(assemble, repeats)
    return {"sfepy_elements_per_second": round(ne / dt), "speedup_vs_sfepy": round(dt / t_asm, 1),
            "sfepy": sfepy.__version__,
            "sfepy_note": "Equations.evaluate(dw_mode='matrix') into a CSR graph built once (global assembly)"}


if __name__ == "__main__":
    main()
