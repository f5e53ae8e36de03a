"""Speed of finite-element assembly: linear-elasticity stiffness on ~100,000 P1 tetrahedra.

Prints one JSON line. Keys:
  case                         "linear_elasticity_P1"
  elements, dofs, nnz          size of the job (structured unit cube, 6 tets per hexahedron)
  elements_per_second          cardiosim: geometry + element stiffness kernels + scatter into
                               the CSR data array (pattern built once, not timed), best of 3
  kernel_elements_per_second   element kernels alone (no scatter)
  pattern_seconds              building the CSR pattern and scatter map once
  skfem_elements_per_second    scikit-fem 'asm(linear_elasticity)' on the same mesh, same P1
                               element, best of 3; null when scikit-fem is absent
  sfepy_elements_per_second    sfepy, when installed (else null)
  speedup_vs_skfem, speedup_vs_sfepy
  max_abs_difference_vs_skfem  max |K_cardiosim - K_skfem| / max |K| (same dof numbering)
Run: python benchmarks/assembly.py [--n 26]   (pip install scikit-fem sfepy for the peers)
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

from cardiosim.fem import Element, Pattern  # noqa: E402
from cardiosim.fem import kernels as FK  # noqa: E402
from cardiosim.mesh import box  # noqa: E402


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
    args = ap.parse_args()
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

    def kernels():
        FK.geometry(X, el.dN, el.weights, dNdX, wdet)
        FK.linear_elastic(dNdX, wdet, lam, mu, Ke)

    def assemble():
        kernels()
        FK.scatter_matrix(Ke, pat.pos, data)
        return data

    assemble()  # compile
    t_asm, _ = best(assemble, args.repeats)
    t_ker, _ = best(kernels, args.repeats)
    out = {"case": "linear_elasticity_P1", "elements": int(ne), "dofs": int(pat.n), "nnz": int(pat.nnz),
           "elements_per_second": round(ne / t_asm), "kernel_elements_per_second": round(ne / t_ker),
           "assembly_seconds": round(t_asm, 4), "pattern_seconds": round(t_pattern, 3)}
    import scipy.sparse as sp
    K = sp.csr_matrix((data.copy(), pat.indices, pat.indptr), shape=(pat.n, pat.n))
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
    print(json.dumps(out))


def _sfepy(mesh, lam, mu, repeats, t_asm, ne):
    import sfepy
    from sfepy.discrete import FieldVariable, Integral, Material
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
    integral = Integral("i", order=1)
    t = Term.new("dw_lin_elastic(m.D, v, u)", integral, omega, m=m, v=v, u=u)
    t.setup()
    t.evaluate(mode="weak", dw_mode="matrix")
    dt, _ = best(lambda: t.evaluate(mode="weak", dw_mode="matrix"), repeats)
    return {"sfepy_elements_per_second": round(ne / dt), "speedup_vs_sfepy": round(dt / t_asm, 1),
            "sfepy": sfepy.__version__, "sfepy_note": "element matrices only (Term.evaluate), no global scatter"}


if __name__ == "__main__":
    main()
