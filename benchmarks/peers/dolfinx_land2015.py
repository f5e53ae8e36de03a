"""DOLFINx peer of the Land et al. 2015 cardiac mechanics benchmark (side-by-side check of cardiosim).

Runs under the DOLFINx venv (see README.md beside this file), never imports cardiosim, and reads
the mesh cardiosim writes (``Mesh.write('x.vtu')``: points in metres, ``tetra10``/``tetra`` cells
in VTK node order, ``triangle6``/``triangle`` facet blocks with 0/1 cell data ``is_<NAME>``,
optional per-cell ``fibre``/``sheet``/``normal`` cell data).

    python dolfinx_land2015.py jacobian --mesh FILE.vtu [--repeat 3]
    python dolfinx_land2015.py solve --problem {1,2,3} --mesh FILE.vtu [--steps N] [--tol 1e-9]
                                     [--fibres {quadrature,cell}]    (problem 3; default quadrature)

Each prints exactly one JSON line on stdout; everything else (compiler, PETSc, progress) goes to
stderr (file descriptor 1 is pointed at stderr for the whole run, the JSON goes to a saved copy).

Physics (the same as cardiosim's): total Lagrangian, Taylor-Hood P2 displacement / P1 pressure,
Guccione W = C/2 (exp Q - 1) on the isochoric Green strain E = (J^-2/3 F^T F - I)/2 in the fibre
frame, incompressibility by a Lagrange multiplier, Pi = int W dV - int p (J - 1) dV, follower
pressure residual + int p_load J F^-T N . v dA, active stress S_act = T_a f0 (x) f0 (problem 3).
Volume terms use quadrature degree 4, the surface terms too. Units inside: mm, kPa, mN.
Problem 3's fibres: the analytic helix field at every quadrature point (a degree-4 quadrature
element, this script's own numpy implementation) or, with --fibres cell, the VTU's per-cell ones.
Serial only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import warnings

# ---- stdout carries one JSON line only: keep a copy of fd 1 and point fd 1 at stderr -----------
_JSON_FD = os.dup(1)
sys.stdout.flush()
os.dup2(2, 1)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def emit(obj):
    os.write(_JSON_FD, (json.dumps(obj) + "\n").encode())


for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")  # serial, like benchmarks/land2015.py

import numpy as np  # noqa: E402

import dolfinx_solver  # noqa: E402,F401  (must come before dolfinx: orders MPI ahead of the bindings)
import basix  # noqa: E402
import basix.ufl  # noqa: E402
import dolfinx  # noqa: E402
import dolfinx.fem.petsc  # noqa: E402
import dolfinx.nls.petsc  # noqa: E402
import meshio  # noqa: E402
import ufl  # noqa: E402
from dolfinx import fem, geometry  # noqa: E402
from dolfinx import mesh as dmesh  # noqa: E402
from mpi4py import MPI  # noqa: E402
from petsc4py import PETSc  # noqa: E402

warnings.filterwarnings("ignore", category=DeprecationWarning)  # NewtonSolver is deprecated in 0.10+

QDEG = 4


def n_quadrature_points(degree=QDEG):
    return len(basix.make_quadrature(basix.CellType.tetrahedron, degree)[1])


#: problem parameters (kPa, mm)
PROBLEMS = {
    1: dict(C=2.0, bf=8.0, bt=2.0, bfs=4.0, clamp="X0", load="Z0", p=0.004, Ta=0.0, fibres="xyz"),
    2: dict(C=10.0, bf=1.0, bt=1.0, bfs=1.0, clamp="BASE", load="ENDO", p=10.0, Ta=0.0, fibres=None),
    3: dict(C=2.0, bf=8.0, bt=2.0, bfs=4.0, clamp="BASE", load="ENDO", p=15.0, Ta=60.0, fibres="file"),
}


# ---------------------------------------------------------------------------------------------
# mesh
# ---------------------------------------------------------------------------------------------
def read_vtu(path):
    """points [mm], cells (VTK order), {marker: facet vertex triples}, per-cell fibres or None."""
    m = meshio.read(path)
    types = [b.type for b in m.cells]
    ct = "tetra10" if "tetra10" in types else "tetra"
    if ct not in types:
        raise SystemExit(f"{path}: no tetrahedra (cell blocks: {types})")
    ft = "triangle6" if ct == "tetra10" else "triangle"
    cb = [i for i, b in enumerate(m.cells) if b.type == ct]
    cells = np.vstack([m.cells[i].data for i in cb]).astype(np.int64)
    facets = {}
    for i, b in enumerate(m.cells):
        if b.type != ft:
            continue
        for k, v in m.cell_data.items():
            if k.startswith("is_"):
                sel = np.asarray(v[i]).reshape(-1) == 1
                if sel.any():
                    facets.setdefault(k[3:], []).append(b.data[sel][:, :3])
    facets = {k: np.vstack(v).astype(np.int64) for k, v in facets.items()}
    fib, fib_note = None, None
    names = ("fibre", "sheet", "normal")
    if all(k in m.cell_data for k in names):
        fib = np.stack([np.vstack([np.asarray(m.cell_data[k][i]).reshape(-1, 3) for i in cb]) for k in names], 1)
        fib_note = "per cell (VTU cell data)"
    elif all(k in m.point_data for k in names):
        # per-node fibres: averaged over the cell's vertices and re-orthonormalised (approximation)
        nod = np.stack([np.asarray(m.point_data[k]) for k in names], 1)
        f = nod[cells[:, :4]].mean(axis=1)
        a = f[:, 0] / np.linalg.norm(f[:, 0], axis=1)[:, None]
        s = f[:, 1] - np.einsum("ij,ij->i", f[:, 1], a)[:, None] * a
        s /= np.linalg.norm(s, axis=1)[:, None]
        fib = np.stack([a, s, np.cross(a, s)], 1)
        fib_note = "per node in the VTU, averaged to cells"
    return np.asarray(m.points[:, :3], float) * 1e3, cells, facets, fib, fib_note


def build_mesh(points, cells):
    comm = MPI.COMM_WORLD
    if comm.size != 1:
        raise SystemExit("dolfinx_land2015.py runs in serial only")
    order = 2 if cells.shape[1] == 10 else 1
    perm = np.asarray(dolfinx.io.utils.cell_perm_vtk(dmesh.CellType.tetrahedron, cells.shape[1]))
    cel = basix.ufl.element("Lagrange", "tetrahedron", order, shape=(3,))
    msh = dmesh.create_mesh(comm, cells[:, perm], cel, points)
    # node-order check: every DOLFINx P2 geometry node must sit near the midpoint of its edge
    # (a curved mid-node sits a sagitta off the chord; a wrong order puts it an edge length away)
    if order == 2:
        x = msh.geometry.x
        g = msh.geometry.dofmap
        edges = basix.topology(basix.CellType.tetrahedron)[1]
        for k, (a, b) in enumerate(edges):
            off = np.linalg.norm(x[g[:, 4 + k]] - 0.5 * (x[g[:, a]] + x[g[:, b]]), axis=1)
            ratio = off / np.maximum(np.linalg.norm(x[g[:, a]] - x[g[:, b]], axis=1), 1e-300)
            if ratio.max() > 0.25:
                raise SystemExit(f"node-order check failed: edge {k} ({a},{b}) mid-node "
                                 f"{ratio.max():.3g} edge lengths off its midpoint")
    return msh, order


def vertex_map(msh, n_points):
    """input (file) node index -> topology vertex index (-1 for non-vertex nodes)."""
    tdim = msh.topology.dim
    msh.topology.create_connectivity(0, tdim)
    nv = msh.topology.index_map(0).size_local + msh.topology.index_map(0).num_ghosts
    geo = dmesh.entities_to_geometry(msh, 0, np.arange(nv, dtype=np.int32), False).reshape(-1)
    o2v = np.full(n_points, -1, dtype=np.int64)
    o2v[msh.geometry.input_global_indices[geo]] = np.arange(nv)
    return o2v


def facet_indices(msh, o2v, tri):
    """DOLFINx facet indices of facets given by their input vertex nodes."""
    msh.topology.create_connectivity(2, 0)
    msh.topology.create_connectivity(2, 3)
    f2v = msh.topology.connectivity(2, 0).array.reshape(-1, 3)
    key = np.sort(f2v, axis=1).astype(np.int64)  # int32 codes overflow once nv^3 > 2^31 (~1300 vertices)
    nv = int(key.max()) + 1
    code = (key[:, 0] * nv + key[:, 1]) * nv + key[:, 2]
    order = np.argsort(code)
    t = np.sort(o2v[tri], axis=1)
    if (t < 0).any():
        raise SystemExit("a marked facet uses a node that is not a mesh vertex")
    q = (t[:, 0] * nv + t[:, 1]) * nv + t[:, 2]
    pos = np.searchsorted(code[order], q)
    pos = np.minimum(pos, len(order) - 1)
    idx = order[pos]
    if not np.array_equal(code[idx], q):
        raise SystemExit("a marked facet is not a face of the mesh")
    return np.unique(idx).astype(np.int32)


def fibre_fields(msh, fib_cells):
    """DG0 vector functions f0, s0, n0 from per-(input-)cell rows."""
    V0 = fem.functionspace(msh, ("DG", 0, (3,)))
    oci = np.asarray(msh.topology.original_cell_index)
    ncell = msh.topology.index_map(3).size_local + msh.topology.index_map(3).num_ghosts
    dofs = V0.dofmap.list[:ncell, 0]
    out = []
    for j, nm in enumerate(("f0", "s0", "n0")):
        fn = fem.Function(V0, name=nm)
        fn.x.array.reshape(-1, 3)[dofs] = fib_cells[oci[:ncell], j]
        fn.x.scatter_forward()
        out.append(fn)
    return out


#: Land 2015 ellipsoid family [mm]: r_s(t) = 7 + 3 t, r_l(t) = 17 + 3 t; helix +90 deg (endo) to -90 deg (epi)
ELL_RS, ELL_RL, ELL_DRS, ELL_DRL = 7.0, 17.0, 3.0, 3.0


def ellipsoid_fibres(x):
    """Analytic Land 2015 problem 3 frames (n, 3, 3), rows f0, s0, n0, at points x (n, 3) [mm].

    t in [0, 1] from (x^2 + y^2) / r_s(t)^2 + z^2 / r_l(t)^2 = 1 (bisection, clipped to [0, 1]),
    u = -arccos(z / r_l(t)) (sin u <= 0), v = atan2(-y, -x), e_u = dx/du, e_v = dx/dv (normalised),
    alpha = 90 - 180 t degrees, f0 = sin(alpha) e_u + cos(alpha) e_v; n0 = e_u x e_v, s0 = f0 x n0
    (only f0 matters: the material is transversely isotropic about f0 and the active stress is
    T_a f0 (x) f0)."""
    x = np.asarray(x, dtype=float).reshape(-1, 3)
    r2, z2 = x[:, 0] ** 2 + x[:, 1] ** 2, x[:, 2] ** 2
    if np.any(np.sqrt(r2) < 1e-9):
        raise SystemExit("ellipsoid fibres: a point on the long axis (x = y = 0), where e_v vanishes")
    lo, hi = np.full(len(x), -1.0), np.full(len(x), 2.0)
    for _ in range(64):
        t = 0.5 * (lo + hi)
        g = r2 / (ELL_RS + ELL_DRS * t) ** 2 + z2 / (ELL_RL + ELL_DRL * t) ** 2 - 1.0  # decreasing in t
        lo = np.where(g > 0, t, lo)
        hi = np.where(g > 0, hi, t)
    t = np.clip(0.5 * (lo + hi), 0.0, 1.0)
    rs, rl = ELL_RS + ELL_DRS * t, ELL_RL + ELL_DRL * t
    u = -np.arccos(np.clip(x[:, 2] / rl, -1.0, 1.0))
    v = np.arctan2(-x[:, 1], -x[:, 0])
    su, cu, sv, cv = np.sin(u), np.cos(u), np.sin(v), np.cos(v)
    eu = np.stack([rs * cu * cv, rs * cu * sv, -rl * su], 1)
    ev = np.stack([-rs * su * sv, rs * su * cv, np.zeros_like(u)], 1)
    eu /= np.linalg.norm(eu, axis=1)[:, None]
    ev /= np.linalg.norm(ev, axis=1)[:, None]
    al = np.deg2rad(90.0 - 180.0 * t)
    f = np.sin(al)[:, None] * eu + np.cos(al)[:, None] * ev
    n = np.cross(eu, ev)
    n /= np.linalg.norm(n, axis=1)[:, None]
    s = np.cross(f, n)
    return np.stack([f, s, n], 1)


def quadrature_fibre_fields(msh, frame_fn, degree=QDEG):
    """f0, s0, n0 as functions on a degree-``degree`` quadrature element (the forms' own points:
    basix default scheme), filled with frame_fn at the physical coordinates of the quadrature
    points (reference points mapped through the coordinate element, curved P2 included).
    Returns (fields, physical points (ncell, nq, 3), number of points moved off the long axis)."""
    qe = basix.ufl.quadrature_element(msh.basix_cell(), value_shape=(3,), degree=degree)
    pts, _ = qe.custom_quadrature()
    if not np.array_equal(pts, basix.make_quadrature(basix.CellType.tetrahedron, degree)[0]):
        raise SystemExit(f"quadrature element points differ from the default degree-{degree} rule")
    Q = fem.functionspace(msh, qe)
    ncell = msh.topology.index_map(3).size_local + msh.topology.index_map(3).num_ghosts
    cells = np.arange(ncell, dtype=np.int32)
    xq = fem.Expression(ufl.SpatialCoordinate(msh), pts).eval(msh, cells).reshape(ncell, len(pts), 3)
    # basix's default degree-4 rule (Xiao-Gimbutas, 14 points) puts 6 of its points at the EDGE
    # MIDPOINTS; on the ellipsoid the apex edges lie on the long axis, where the helix field is
    # undefined (e_v = 0). There, take the limit from inside the cell: evaluate at the point moved
    # 1e-6 of the way towards the cell's node mean.
    xe = xq.copy()
    xc = msh.geometry.x[msh.geometry.dofmap[:ncell]].mean(axis=1)
    scale = np.abs(msh.geometry.x).max()
    on_axis = np.hypot(xq[..., 0], xq[..., 1]) < 1e-9 * scale
    xe[on_axis] += 1e-6 * (np.broadcast_to(xc[:, None], xq.shape)[on_axis] - xq[on_axis])
    R = frame_fn(xe.reshape(-1, 3)).reshape(ncell, len(pts), 3, 3)
    dofs = Q.dofmap.list[:ncell]  # (ncell, nq) blocks of 3, in quadrature-point order
    if dofs.shape != (ncell, len(pts)) or Q.dofmap.index_map_bs != 3:
        raise SystemExit(f"unexpected quadrature dofmap {dofs.shape}, bs {Q.dofmap.index_map_bs}")
    out = []
    for j, nm in enumerate(("f0", "s0", "n0")):
        fn = fem.Function(Q, name=nm)
        fn.x.array.reshape(-1, 3)[dofs.reshape(-1)] = R[:, :, j].reshape(-1, 3)
        fn.x.scatter_forward()
        out.append(fn)
    return out, xq, int(on_axis.sum())


def check_cell_fibres(msh, fib_cells):
    """Where the file's per-cell fibres were evaluated: the largest angle [deg] between the file's
    f0 (mapped by original_cell_index) and the analytic f0 at the mean of all the cell's geometry
    nodes (10 on P2; what cardiosim writes now) and at the mean of its 4 vertices. On the curved
    P2 ellipsoid the two points differ enough in t for the helix angle to differ by several degrees."""
    ncell = msh.topology.index_map(3).size_local
    oci = np.asarray(msh.topology.original_cell_index)[:ncell]
    xg = msh.geometry.x[msh.geometry.dofmap[:ncell]]
    ff = fib_cells[oci, 0] / np.linalg.norm(fib_cells[oci, 0], axis=1)[:, None]
    out = []
    for xc in (xg.mean(axis=1), xg[:, :4].mean(axis=1)):
        c = np.abs(np.einsum("ij,ij->i", ellipsoid_fibres(xc)[:, 0], ff))  # f0 and -f0: the same fibre
        out.append(float(np.degrees(np.arccos(np.clip(c.min(), -1.0, 1.0)))))
    return (f"file fibres vs the analytic field: max angle {out[0]:.3g} deg at the cell node means, "
            f"{out[1]:.3g} deg at the cell vertex means")


# ---------------------------------------------------------------------------------------------
# forms
# ---------------------------------------------------------------------------------------------
def build_forms(msh, par, fibres, load_facets=None):
    P2 = basix.ufl.element("Lagrange", "tetrahedron", 2, shape=(3,))
    P1 = basix.ufl.element("Lagrange", "tetrahedron", 1)
    W = fem.functionspace(msh, basix.ufl.mixed_element([P2, P1]))
    w = fem.Function(W)
    u, p = ufl.split(w)
    wt = ufl.TestFunction(W)
    v, _ = ufl.split(wt)
    dw = ufl.TrialFunction(W)
    lam = fem.Constant(msh, PETSc.ScalarType(0.0))  # load factor

    dx = ufl.Measure("dx", domain=msh, metadata={"quadrature_degree": QDEG})
    I = ufl.Identity(3)
    F = I + ufl.grad(u)
    J = ufl.det(F)
    Cr = F.T * F
    E = 0.5 * (J ** (-2.0 / 3.0) * Cr - I)
    bf, bt, bfs = par["bf"], par["bt"], par["bfs"]
    if fibres is None:
        if not (bf == bt == bfs):
            raise SystemExit("anisotropic material needs fibres")
        Q = bf * ufl.inner(E, E)  # frame-independent for b_f = b_t = b_fs
    else:
        f0, s0, n0 = fibres

        def c(a, b):
            return ufl.inner(a, E * b)

        Q = (bf * c(f0, f0) ** 2 + bt * (c(s0, s0) ** 2 + c(n0, n0) ** 2 + 2 * c(s0, n0) ** 2)
             + bfs * (2 * c(f0, s0) ** 2 + 2 * c(f0, n0) ** 2))
    Wen = 0.5 * par["C"] * (ufl.exp(Q) - 1.0)
    Pi = Wen * dx - p * (J - 1.0) * dx
    if par.get("Ta", 0.0):
        f0 = fibres[0]
        Pi += 0.5 * par["Ta"] * lam * (ufl.inner(f0, Cr * f0) - 1.0) * dx
    R = ufl.derivative(Pi, w, wt)
    ds_load = None
    if load_facets is not None:
        mt = dmesh.meshtags(msh, 2, load_facets, np.ones(len(load_facets), dtype=np.int32))
        ds_load = ufl.Measure("ds", domain=msh, subdomain_data=mt, subdomain_id=1,
                              metadata={"quadrature_degree": QDEG})
        N = ufl.FacetNormal(msh)
        R += par["p"] * lam * ufl.inner(J * ufl.inv(F).T * N, v) * ds_load
    Jac = ufl.derivative(R, w, dw)
    return dict(W=W, w=w, u=u, p=p, R=R, Jac=Jac, lam=lam, F=F, J=J, ds_load=ds_load)


def count_dofs(W):
    n = W.dofmap.index_map.size_global * W.dofmap.index_map_bs
    Vu, _ = W.sub(0).collapse()
    Vp, _ = W.sub(1).collapse()
    nu = Vu.dofmap.index_map.size_global * Vu.dofmap.index_map_bs
    npr = Vp.dofmap.index_map.size_global * Vp.dofmap.index_map_bs
    return n, nu, npr


def probe(msh, fn, pt):
    """Value of fn at the point pt [mm]; nearest-cell fallback when pt is outside the mesh."""
    x = np.asarray(pt, dtype=float).reshape(1, 3)
    tree = geometry.bb_tree(msh, msh.topology.dim)
    cand = geometry.compute_collisions_points(tree, x)
    coll = geometry.compute_colliding_cells(msh, cand, x)
    cells = coll.links(0)
    if len(cells) == 0:
        mid = dmesh.compute_midpoint_tree(msh, msh.topology.dim,
                                          np.arange(msh.topology.index_map(3).size_local, dtype=np.int32))
        cells = geometry.compute_closest_entity(tree, mid, msh, x)
        log(f"probe {pt}: outside the mesh, evaluated in the closest cell {cells[0]}")
    return fn.eval(x, np.asarray(cells[:1], dtype=np.int32)).reshape(-1)


def jit_flags(a):
    return a.cflags.split() if a.cflags else ["-O2", "-g0"]  # DOLFINx's default


# ---------------------------------------------------------------------------------------------
# modes
# ---------------------------------------------------------------------------------------------
def mode_jacobian(a):
    pts, cells, _, _, _ = read_vtu(a.mesh)
    msh, order = build_mesh(pts, cells)
    ncell = msh.topology.index_map(3).size_global
    fib = fibre_fields(msh, np.tile(np.eye(3), (len(cells), 1, 1)))  # f = x, s = y, n = z
    fs = build_forms(msh, PROBLEMS[1], fib)
    cache = tempfile.mkdtemp(prefix="dolfinx-jit-", dir="/tmp") if not a.warm_jit else None
    jit = {"cffi_extra_compile_args": jit_flags(a)}
    if cache:
        jit["cache_dir"] = cache
    try:
        t0 = time.perf_counter()
        L = fem.form(fs["R"], jit_options=jit)
        t1 = time.perf_counter()
        A_form = fem.form(fs["Jac"], jit_options=jit)
        t2 = time.perf_counter()
    finally:
        if cache:
            shutil.rmtree(cache, ignore_errors=True)
    W, w = fs["W"], fs["w"]
    # a smooth non-zero state: u ~ 1-3 % strains, p ~ 0.1 kPa
    w.sub(0).interpolate(lambda x: np.vstack([0.02 * np.sin(0.3 * x[1]) * x[0] / 10.0,
                                              0.01 * np.sin(0.2 * x[0]) + 0.01 * x[2] * 0.1,
                                              0.03 * np.sin(0.25 * x[0])]))
    w.sub(1).interpolate(lambda x: 0.1 + 0.01 * x[0])
    w.x.scatter_forward()
    ts = time.perf_counter()
    A = dolfinx.fem.petsc.create_matrix(A_form)
    sparsity_s = time.perf_counter() - ts
    b = dolfinx.fem.petsc.create_vector(W)
    tj, tr = [], []
    for _ in range(a.repeat):
        A.zeroEntries()
        t = time.perf_counter()
        dolfinx.fem.petsc.assemble_matrix(A, A_form)
        A.assemble()
        tj.append(time.perf_counter() - t)
        with b.localForm() as bl:
            bl.set(0.0)
        t = time.perf_counter()
        dolfinx.fem.petsc.assemble_vector(b, L)
        b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        tr.append(time.perf_counter() - t)
    n, nu, npr = count_dofs(W)
    log(f"jacobian times {tj}, residual times {tr}, |A|_F = {A.norm(PETSc.NormType.FROBENIUS):.6g}, "
        f"|b| = {b.norm():.6g}")
    emit({"code": "dolfinx", "version": dolfinx.__version__, "mesh": os.path.basename(a.mesh),
          "geometry_order": order, "cells": int(ncell), "dofs": int(n), "dofs_u": int(nu), "dofs_p": int(npr),
          "quadrature_degree": QDEG, "quadrature_points": n_quadrature_points(),
          "cflags": jit_flags(a), "fibres": "DG0 per cell (f=x, s=y, n=z)",
          "form": "Guccione (C=2 kPa, 8/2/4) + Lagrange multiplier, volume terms only, Taylor-Hood P2/P1",
          "jit_cache": "warm (~/.cache/fenics)" if a.warm_jit else "cold (fresh cache dir)",
          "form_compile_s": round(t2 - t0, 3), "form_compile_residual_s": round(t1 - t0, 3),
          "form_compile_jacobian_s": round(t2 - t1, 3), "sparsity_s": round(sparsity_s, 4),
          "jacobian_assembly_s": round(min(tj), 5), "residual_assembly_s": round(min(tr), 5),
          "repeats": a.repeat, "nnz": int(A.getInfo()["nz_used"]),
          "cells_per_second": round(ncell / min(tj), 1)})


def mode_solve(a):
    t_all = time.perf_counter()
    par = PROBLEMS[a.problem]
    pts, cells, facets, fib_cells, fib_note = read_vtu(a.mesh)
    for k in (par["clamp"], par["load"]):
        if k not in facets:
            raise SystemExit(f"{a.mesh}: no facets marked {k} (markers: {sorted(facets)})")
    msh, order = build_mesh(pts, cells)
    ncell = msh.topology.index_map(3).size_global
    o2v = vertex_map(msh, len(pts))
    clamp = facet_indices(msh, o2v, facets[par["clamp"]])
    load = facet_indices(msh, o2v, facets[par["load"]])
    fib_check = None
    if par["fibres"] == "xyz":
        fib, fib_note = fibre_fields(msh, np.tile(np.eye(3), (len(cells), 1, 1))), "f=x, s=y, n=z (DG0)"
    elif par["fibres"] == "file" and (a.fibres or "quadrature") == "quadrature":
        # analytic helix field at every quadrature point (the peer's own numpy implementation)
        fib, xq, nax = quadrature_fibre_fields(msh, ellipsoid_fibres)
        fib_note = (f"analytic helix field at the {xq.shape[1]} quadrature points per cell "
                    f"(quadrature element, degree {QDEG}, basix default rule; {nax} edge-midpoint "
                    f"points on the long axis take the limit from inside their cell)")
        if fib_cells is not None:
            log(check_cell_fibres(msh, fib_cells))  # information only
    elif par["fibres"] == "file":
        if fib_cells is None:
            raise SystemExit(f"{a.mesh}: problem 3 needs fibres (cell data fibre/sheet/normal)")
        fib = fibre_fields(msh, fib_cells)
        fib_check = check_cell_fibres(msh, fib_cells)
        log(fib_check)
    else:
        fib, fib_note = None, "none (isotropic)"
    fs = build_forms(msh, par, fib, load)
    W, w, lam = fs["W"], fs["w"], fs["lam"]
    Vu, _ = W.sub(0).collapse()
    zero = fem.Function(Vu)
    bdofs = fem.locate_dofs_topological((W.sub(0), Vu), 2, clamp)
    bcs = [fem.dirichletbc(zero, bdofs, W.sub(0))]

    t0 = time.perf_counter()
    problem = dolfinx.fem.petsc.NewtonSolverNonlinearProblem(fs["R"], w, bcs, J=fs["Jac"],
                                                             jit_options={"cffi_extra_compile_args": jit_flags(a)})
    compile_s = time.perf_counter() - t0
    solver = dolfinx.nls.petsc.NewtonSolver(msh.comm, problem)
    clock = {"jacobian_s": 0.0, "residual_s": 0.0, "n_jacobian": 0}

    def timed_J(x, A):
        t = time.perf_counter()
        problem.J(x, A)
        clock["jacobian_s"] += time.perf_counter() - t
        clock["n_jacobian"] += 1

    def timed_F(x, b):
        t = time.perf_counter()
        problem.F(x, b)
        clock["residual_s"] += time.perf_counter() - t

    solver.setJ(timed_J, solver.A)
    solver.setF(timed_F, solver.b)
    solver.convergence_criterion = "residual"
    solver.rtol = a.tol
    solver.atol = a.atol
    solver.max_it = a.max_it
    solver.error_on_nonconvergence = False
    solver.report = True

    # DOLFINx's own residual test divides ||F_k|| by the norm of the FIRST NEWTON UPDATE ||dx_1||
    # (NewtonSolver.cpp), not by ||F_0||; use ||F_k|| / ||F_0|| of the load step instead, and stop a
    # Newton run as soon as the residual is not finite (so no Inf/NaN matrix ever reaches MUMPS).
    hist = []

    def check(_solver, r):
        rn = r.norm()
        hist.append(rn)
        if not np.isfinite(rn):
            raise FloatingPointError(f"residual norm {rn} at Newton iteration {len(hist) - 1}")
        rel = rn / hist[0] if hist[0] > 0 else 0.0
        if a.verbose:
            log(f"    Newton {len(hist) - 1}: |R| = {rn:.3e} mN, |R|/|R0| = {rel:.3e}")
        return rn, bool(rel < a.tol or rn < a.atol)

    solver.set_convergence_check(check)
    ksp = solver.krylov_solver
    opts = PETSc.Options()
    pre = ksp.getOptionsPrefix()
    opts[f"{pre}ksp_type"] = "preonly"
    opts[f"{pre}pc_type"] = "lu"
    lu = "mumps" if PETSc.Sys.hasExternalPackage("mumps") else "petsc"
    opts[f"{pre}pc_factor_mat_solver_type"] = lu
    ksp.setFromOptions()

    t_solve = time.perf_counter()
    nominal = 1.0 / a.steps
    dlam, done = nominal, 0.0
    newton_total = newton_failed = steps_ok = cutbacks = 0
    stalled, min_step = False, nominal / 2 ** a.max_cutbacks
    while done < 1.0 - 1e-12:
        dlam = min(dlam, 1.0 - done)
        saved = w.x.array.copy()
        lam.value = done + dlam
        hist.clear()
        try:
            _, conv = solver.solve(w)
        except Exception as exc:  # non-finite residual, PETSc/MUMPS error
            log(f"  Newton aborted at load {done + dlam:.6g}: {type(exc).__name__}: {exc}")
            conv = False
        nit = max(len(hist) - 1, 0)
        if conv and not np.all(np.isfinite(w.x.array)):
            conv = False
        newton_total += nit
        if conv:
            done += dlam
            steps_ok += 1
            log(f"step {steps_ok}: load factor {done:.6g} converged in {nit} Newton iterations "
                f"(|R|/|R0| = {hist[-1] / hist[0] if hist[0] else 0:.2e})")
            dlam = min(2 * dlam, nominal)
        else:
            newton_failed += nit
            w.x.array[:] = saved
            w.x.scatter_forward()
            # a failed MUMPS factorisation is sticky (PETSc skips later numeric factorisations
            # while INFOG(1) < 0): throw the factor away
            ksp.reset()
            ksp.setFromOptions()
            cutbacks += 1
            dlam *= 0.5
            log(f"  Newton failed at load {lam.value:.6g} after {nit} iterations; cut back to step {dlam:.3g}")
            if dlam < min_step:
                stalled = True
                log(f"STALLED: load factor reached {done:.6g}")
                break
    lam.value = done
    wall = time.perf_counter() - t_solve

    n, nu, npr = count_dofs(W)
    out = {"code": "dolfinx", "version": dolfinx.__version__, "problem": a.problem,
           "mesh": os.path.basename(a.mesh), "geometry_order": order, "cells": int(ncell), "dofs": int(n),
           "dofs_u": int(nu), "dofs_p": int(npr), "quadrature_degree": QDEG, "quadrature_points": n_quadrature_points(),
           "fibres": fib_note,
           "newton_iterations": int(newton_total), "newton_iterations_in_failed_steps": int(newton_failed),
           "load_steps": int(steps_ok), "steps_requested": a.steps, "cutbacks": int(cutbacks),
           "load_reached": round(done, 9), "stalled": stalled,
           "load_reached_kPa": round(done * par["p"], 9), "rtol": a.tol,
           "linear_solver": f"PETSc {'.'.join(map(str, PETSc.Sys.getVersion()))} LU ({lu})",
           "form_compile_s": round(compile_s, 3), "wall_s": round(wall, 3),
           "assembly_s": round(clock["jacobian_s"] + clock["residual_s"], 3),
           "jacobian_assemblies": clock["n_jacobian"],
           "solve_s": round(wall - clock["jacobian_s"] - clock["residual_s"], 3),
           "total_s": round(time.perf_counter() - t_all, 3)}
    if par["fibres"] == "file":
        out["fibres_mode"] = a.fibres or "quadrature"
    if fib_check:
        out["fibre_check"] = fib_check
    if par["Ta"]:
        out["load_reached_Ta_kPa"] = round(done * par["Ta"], 9)
    uf = w.sub(0).collapse()
    if a.problem == 1:
        out["beam_point_z_mm"] = float(1.0 + probe(msh, uf, (10.0, 0.5, 1.0))[2])
        out["reference_mm"] = 4.1692
    else:
        out["endo_apex_z_mm"] = float(-17.0 + probe(msh, uf, (0.0, 0.0, -17.0))[2])
        out["epi_apex_z_mm"] = float(-20.0 + probe(msh, uf, (0.0, 0.0, -20.0))[2])
        X = ufl.SpatialCoordinate(msh)
        N = ufl.FacetNormal(msh)
        x0 = ufl.as_vector((0.0, 0.0, 5.0))
        vol = (1.0 / 3.0) * ufl.inner(X + fs["u"] - x0, fs["J"] * ufl.inv(fs["F"]).T * N) * fs["ds_load"]
        vol0 = (1.0 / 3.0) * ufl.inner(X - x0, N) * fs["ds_load"]
        out["cavity_volume_mm3"] = abs(float(fem.assemble_scalar(fem.form(vol))))
        out["cavity_volume_ref_mm3"] = abs(float(fem.assemble_scalar(fem.form(vol0))))
    emit(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    j = sub.add_parser("jacobian", help="time form compilation and Jacobian/residual assembly")
    j.add_argument("--mesh", required=True)
    j.add_argument("--repeat", type=int, default=3)
    j.add_argument("--warm-jit", action="store_true", help="use the shared JIT cache (default: a fresh one)")
    j.add_argument("--cflags", default=None, help='C flags for the JIT, e.g. "-O3 -march=native" '
                   '(default DOLFINx\'s "-O2 -g0")')
    s = sub.add_parser("solve", help="solve a Land 2015 problem")
    s.add_argument("--cflags", default=None, help="C flags for the JIT (default -O2 -g0)")
    s.add_argument("--problem", type=int, choices=[1, 2, 3], required=True)
    s.add_argument("--mesh", required=True)
    s.add_argument("--steps", type=int, default=None,
                   help="load steps (default 5 for problem 1, 10 for problem 2, 20 for problem 3, as cardiosim)")
    s.add_argument("--fibres", choices=["cell", "quadrature"], default=None,
                   help="problem 3: per-cell fibres from the VTU (cell) or the analytic helix field at "
                        "each quadrature point (quadrature, the default)")
    s.add_argument("--tol", type=float, default=1e-9, help="Newton relative residual tolerance")
    s.add_argument("--atol", type=float, default=1e-13, help="Newton absolute residual tolerance [mN]")
    s.add_argument("--max-it", type=int, default=25)
    s.add_argument("--verbose", action="store_true", help="Newton residual history on stderr")
    s.add_argument("--max-cutbacks", type=int, default=10, help="halvings of a nominal step before stalling")
    a = ap.parse_args()
    if a.mode == "solve" and a.steps is None:
        a.steps = {1: 5, 2: 10, 3: 20}[a.problem]
    if a.mode == "jacobian":
        mode_jacobian(a)
    else:
        mode_solve(a)


if __name__ == "__main__":
    main()
