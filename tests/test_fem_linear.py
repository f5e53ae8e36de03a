"""Finite-element core, linear elasticity: kernels vs NumPy twins, patch test, convergence rates."""

import numpy as np
import pytest
import scipy.sparse.linalg as spla

from cardiosim.fem import Element, Pattern
from cardiosim.fem import kernels as FK
from cardiosim.fem import reference as REF
from cardiosim.geometry import box


def _distorted(n, order, seed=0, amount=0.2):
    m = box(n, n, n, size=(1.0, 1.0, 1.0))
    rng = np.random.default_rng(seed)
    p = m.points.copy()
    interior = np.all((p > 1e-9) & (p < 1 - 1e-9), axis=1)
    p[interior] += amount / n * (rng.random((interior.sum(), 3)) - 0.5)
    from cardiosim.geometry import Mesh
    m = Mesh(p, m.cells, m.facets).check()
    return m.to_quadratic() if order == 2 else m


def _geometry(mesh, el):
    X = mesh.points[mesh.cells]
    ne, nq, nn = len(X), len(el.weights), el.n_nodes
    dNdX = np.empty((ne, nq, nn, 3))
    wdet = np.empty((ne, nq))
    bad = FK.geometry(X, el.dN, el.weights, dNdX, wdet)
    return dNdX, wdet, bad


@pytest.mark.parametrize("order", [1, 2])
def test_kernels_match_numpy_twins(order):
    mesh = _distorted(2, order)
    el = Element.tetra(order)
    dNdX, wdet, bad = _geometry(mesh, el)
    assert bad == -1
    rd, rw = REF.geometry(mesh.points[mesh.cells], el.dN, el.weights)
    np.testing.assert_allclose(dNdX, rd, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(wdet, rw, rtol=1e-12)
    assert wdet.sum() == pytest.approx(1.0, rel=1e-12)  # volume of the unit cube
    Ke = np.empty((mesh.n_cells, 3 * el.n_nodes, 3 * el.n_nodes))
    FK.linear_elastic(dNdX, wdet, 1.3, 0.7, Ke)
    np.testing.assert_allclose(Ke, REF.linear_elastic(dNdX, wdet, 1.3, 0.7), rtol=1e-12, atol=1e-13)


def test_scatter_equals_coo_assembly():
    mesh = _distorted(2, 2)
    el = Element.tetra(2)
    dNdX, wdet, _ = _geometry(mesh, el)
    Ke = np.empty((mesh.n_cells, 30, 30))
    FK.linear_elastic(dNdX, wdet, 2.0, 1.0, Ke)
    pat = Pattern(mesh.cells, mesh.n_points)
    K = pat.matrix(Ke)
    import scipy.sparse as sp
    r = np.repeat(pat.dofs, 30, axis=1).ravel()
    c = np.tile(pat.dofs, (1, 30)).ravel()
    K2 = sp.coo_matrix((Ke.ravel(), (r, c)), shape=K.shape).tocsr()
    assert abs(K - K2).max() < 1e-12
    # the fused kernel (element matrix scattered straight into CSR) gives the same matrix
    data = np.empty(pat.nnz)
    FK.assemble_linear_elastic(dNdX, wdet, 2.0, 1.0, pat.pos, data)
    K3 = sp.csr_matrix((data, pat.indices, pat.indptr), shape=K.shape)
    assert abs(K3 - K2).max() < 1e-12
    # rigid-body modes are in the kernel of the free stiffness
    x = mesh.points
    for mode in (np.tile([1.0, 0, 0], len(x)), np.column_stack([-x[:, 1], x[:, 0], 0 * x[:, 0]]).ravel()):
        assert np.abs(K @ mode).max() < 1e-10 * abs(K).max()


def test_compiled_pattern_equals_sorting_every_key():
    """The row-by-row pattern builder gives the NumPy twin's CSR structure and scatter map,
    for a Taylor-Hood layout (30 displacement + 4 pressure dofs per cell), and ``locate``
    finds boundary-facet entries inside it."""
    mesh = _distorted(2, 2)
    ne = mesh.n_cells
    udofs = (mesh.cells[:, :, None] * 3 + np.arange(3)).reshape(ne, 30)
    verts = np.unique(mesh.cells[:, :4])
    vmap = np.full(mesh.n_points, -1)
    vmap[verts] = np.arange(len(verts))
    n = 3 * mesh.n_points + len(verts)
    dofs = np.hstack([udofs, 3 * mesh.n_points + vmap[mesh.cells[:, :4]]])
    indptr, indices, pos = FK.csr_pattern(dofs, n)
    r_indptr, r_indices, r_pos = REF.csr_pattern(dofs, n)
    np.testing.assert_array_equal(indptr, r_indptr)
    np.testing.assert_array_equal(indices, r_indices)
    np.testing.assert_array_equal(pos, r_pos)
    assert pos.dtype == np.int32 and indices.dtype == np.int32
    pat = Pattern.from_dofs(dofs, n)
    fac = mesh.facets[next(iter(mesh.facets))]
    fdofs = (fac[:, :, None] * 3 + np.arange(3)).reshape(len(fac), -1)
    fpos = pat.locate(fdofs)
    rows = np.repeat(fdofs, fdofs.shape[1], axis=1).reshape(fpos.shape)
    cols = np.tile(fdofs, (1, fdofs.shape[1])).reshape(fpos.shape)
    np.testing.assert_array_equal(indices[fpos], cols)
    assert np.all((indptr[rows] <= fpos) & (fpos < indptr[rows + 1]))
    with pytest.raises(ValueError, match="outside the pattern"):
        pat.locate(np.array([[0, n - 1]]))


def _solve(mesh, el, lam, mu, f=None, u_bc=None):
    dNdX, wdet, bad = _geometry(mesh, el)
    assert bad == -1
    Ke = np.empty((mesh.n_cells, 3 * el.n_nodes, 3 * el.n_nodes))
    FK.linear_elastic(dNdX, wdet, lam, mu, Ke)
    pat = Pattern(mesh.cells, mesh.n_points)
    K = pat.matrix(Ke)
    F = np.zeros(pat.n)
    if f is not None:
        xq = np.einsum("qa,eai->eqi", el.N, mesh.points[mesh.cells])
        fq = f(xq)  # (ne, nq, 3)
        Fe = np.einsum("eq,qa,eqi->eai", wdet, el.N, fq).reshape(mesh.n_cells, -1)
        F = pat.vector(Fe)
    bnodes = np.unique(np.concatenate([v for v in mesh.facets.values()]).ravel())
    fixed = (bnodes[:, None] * 3 + np.arange(3)).ravel()
    u = np.zeros(pat.n)
    if u_bc is not None:
        u[fixed] = u_bc(mesh.points[bnodes]).ravel()
    free = np.setdiff1d(np.arange(pat.n), fixed)
    rhs = F[free] - K[free][:, fixed] @ u[fixed]
    u[free] = spla.spsolve(K[free][:, free].tocsc(), rhs)
    return u.reshape(-1, 3), wdet


@pytest.mark.parametrize("order", [1, 2])
def test_patch_test_reproduces_affine_displacement(order):
    mesh = _distorted(3, order, seed=1, amount=0.3)
    A = np.array([[0.01, 0.002, -0.003], [0.004, -0.02, 0.001], [0.0, 0.005, 0.015]])
    c = np.array([0.1, -0.2, 0.05])

    def exact(x):
        return x @ A.T + c

    u, _ = _solve(mesh, Element.tetra(order), 1.5, 0.8, u_bc=exact)
    np.testing.assert_allclose(u, exact(mesh.points), atol=1e-12)


def _mms_force(x, lam, mu):
    """Body force for u_i = s = sin(pi x) sin(pi y) sin(pi z) in each component."""
    pi = np.pi
    sx, sy, sz = (np.sin(pi * x[..., k]) for k in range(3))
    cx, cy, cz = (np.cos(pi * x[..., k]) for k in range(3))
    s = sx * sy * sz
    H = pi ** 2 * np.stack([np.stack([-s, cx * cy * sz, cx * sy * cz], -1),
                            np.stack([cx * cy * sz, -s, sx * cy * cz], -1),
                            np.stack([cx * sy * cz, sx * cy * cz, -s], -1)], -2)
    grad_div = H.sum(axis=-1)          # d_i (sum_j d_j s)
    lap = -3 * pi ** 2 * s
    return -((lam + mu) * grad_div + mu * lap[..., None])


@pytest.mark.parametrize("order,rate", [(1, 2.0), (2, 3.0)])
def test_manufactured_solution_converges_at_the_expected_rate(order, rate):
    lam, mu = 1.0, 1.0
    errs, hs = [], []
    for n in (2, 4, 8) if order == 2 else (4, 8, 16):
        mesh = box(n, n, n, size=(1.0, 1.0, 1.0), order=order)
        el = Element.tetra(order)
        u, _ = _solve(mesh, el, lam, mu, f=lambda x: _mms_force(x, lam, mu))
        hi = Element.tetra(order, degree=2 * order + 2)
        dNdX, wdet, _ = _geometry(mesh, hi)
        xq = np.einsum("qa,eai->eqi", hi.N, mesh.points[mesh.cells])
        uh = np.einsum("qa,eai->eqi", hi.N, u[mesh.cells])
        ex = np.sin(np.pi * xq).prod(axis=-1)[..., None] * np.ones(3)
        errs.append(np.sqrt(np.sum(wdet[..., None] * (uh - ex) ** 2)))
        hs.append(1.0 / n)
    rates = np.diff(np.log(errs)) / np.diff(np.log(hs))
    assert rates[-1] > rate - 0.2, (errs, rates)
