"""Linear-solver registry (cardiosim.fem.linear): every installed method on real FE systems
(Taylor-Hood saddle point, penalty tangent with follower pressure, SPD) against a dense
solve, and the errors (unsuitable matrix, singular matrix, unknown or missing method)."""

import numpy as np
import pytest
import scipy.sparse as sp

from cardiosim import materials as MAT
from cardiosim.fem import linear as L
from cardiosim.fem.solver import Problem
from cardiosim.geometry import land_beam

AVAILABLE = L.available()
LU = ["superlu", "umfpack", "pardiso"]


def need(method):
    if not AVAILABLE[method]:
        pytest.skip(f"{method} not installed ({L._REQUIRES[method][1]})")


def beam(formulation, kappa=None, pressure=True):
    m = land_beam(1, order=2)
    m = m.with_fibres(np.tile(np.eye(3), (m.n_cells, 1, 1)))
    return Problem(m, MAT.Guccione.land2015_problem1(kappa=kappa), clamped=("X0",),
                   pressure=("Z0", 4.0) if pressure else None, formulation=formulation)


def newton_system(p, load=0.5):
    """K and -R at the first Newton iterate of a load step (a deformed, unconverged state):
    the system the Newton solver hands to the registry."""
    f = p.free
    R, K = p.residual_tangent(np.zeros(p.n_dofs), load)
    x = np.zeros(p.n_dofs)
    x[f] = reference(K[f][:, f], -R[f])
    R, K = p.residual_tangent(x, load)
    return sp.csr_matrix(K[f][:, f]), -R[f]


def reference(A, b):
    """Dense LAPACK solve of the row/column-equilibrated system (the Taylor-Hood blocks
    differ by 1e8 in scale: unscaled, cond(A) ~ 1e16)."""
    D = A.toarray()
    r = 1.0 / np.abs(D).max(axis=1)
    c = 1.0 / np.abs(D * r[:, None]).max(axis=0)
    return c * np.linalg.solve(D * r[:, None] * c[None, :], r * b)


def close(x, ref, parts, rtol=1e-8):
    """Relative agreement of each block (displacement, pressure): blocks in m and Pa."""
    for sl in parts:
        assert np.linalg.norm(x[sl] - ref[sl]) <= rtol * np.linalg.norm(ref[sl]), sl


@pytest.fixture(scope="module")
def mixed():
    p = beam("mixed")
    A, b = newton_system(p)
    nu = int(np.sum(p.free < p.n_u))
    return A, b, reference(A, b), [slice(0, nu), slice(nu, None)]


@pytest.fixture(scope="module")
def penalty():
    p = beam("penalty")
    A, b = newton_system(p)
    return A, b, reference(A, b), [slice(None)], p


@pytest.fixture(scope="module")
def spd():
    # Guccione at u = 0 without load: linear elasticity, SPD. Moderate kappa (20 C): AMG
    # converges in a few tens of iterations (at the default 4000 C it stalls, see benchmark)
    p = beam("penalty", kappa=20 * 2.0e3, pressure=False)
    _, K = p.residual_tangent(np.zeros(p.n_dofs), 0.0)
    A = sp.csr_matrix(K[p.free][:, p.free])
    b = A @ np.random.default_rng(1).standard_normal(A.shape[0]) * 1e-6
    return A, b, reference(A, b), [slice(None)], p


def test_systems_are_what_they_claim(mixed, penalty, spd):
    A = mixed[0]
    nu = mixed[3][0].stop
    assert abs(A[nu:, nu:]).max() == 0  # zero pressure block: indefinite saddle point
    assert abs(A - A.T).max() > 1e-9 * abs(A).max()  # follower pressure: nonsymmetric
    Asp = spd[0]
    assert abs(Asp - Asp.T).max() <= 1e-14 * abs(Asp).max()
    assert np.linalg.eigvalsh(Asp.toarray()).min() > 0


@pytest.mark.parametrize("method", LU + ["auto"])
def test_lu_methods_solve_saddle_point_and_penalty(method, mixed, penalty):
    if method != "auto":
        need(method)
    for A, b, ref, parts, *_ in (mixed, penalty):
        f = L.factorized(A, method)
        x = f(b)
        close(x, ref, parts)
        assert f.last["residual"] < 1e-12
        assert f.method in L.METHODS


@pytest.mark.parametrize("method", L.METHODS)
def test_every_method_on_spd(method, spd):
    need(method)
    A, b, ref, parts, p = spd
    # max_coarse=20: several levels even on this small mesh (else AMG is one direct solve)
    opts = {"coords": p.coords, "dofs": p.free, "rtol": 1e-13, "max_coarse": 20} if method == "pyamg" else {}
    x = L.solve_linear(A, b, method, symmetric=True, **opts)
    close(x, ref, parts)


def test_pyamg_gmres_on_nonsymmetric_tangent(spd):
    need("pyamg")
    # the penalty tangent with follower pressure at moderate kappa: GMRES + SA-AMG
    p = beam("penalty", kappa=20 * 2.0e3)
    A, b = newton_system(p)
    f = L.factorized(A, "pyamg", coords=p.coords, dofs=p.free, rtol=1e-13, max_coarse=20)
    x = f(b)
    close(x, reference(A, b), [slice(None)])
    assert f.info["accel"] == "gmres" and f.info["levels"] > 1 and f.last["iterations"] > 0


def test_pyamg_rigid_body_modes_help(spd):
    need("pyamg")
    A, b, _, _, p = spd
    its = {}
    for rbm in (True, False):
        kw = {"coords": p.coords, "dofs": p.free} if rbm else {}
        f = L.factorized(A, "pyamg", symmetric=True, rtol=1e-10, max_coarse=20, **kw)
        f(b)
        its[rbm] = f.last["iterations"]
    assert its[True] < 0.6 * its[False]  # measured 75 against 211 at rtol 1e-13


def test_pyamg_refuses_saddle_point_and_reports_non_convergence(mixed, spd):
    need("pyamg")
    A, b, *_ = mixed
    with pytest.raises(L.LinearSolverError, match="saddle point"):
        L.solve_linear(A, b, "pyamg")
    A, b, _, _, p = spd
    with pytest.raises(L.LinearSolverError, match="did not converge") as e:
        L.solve_linear(A, b, "pyamg", coords=p.coords, dofs=p.free, maxiter=2, max_coarse=20)
    assert e.value.residual > 1e-10 and e.value.iterations <= 2


def test_cholmod_refuses_nonsymmetric_and_indefinite(mixed, spd):
    need("cholmod")
    with pytest.raises(L.LinearSolverError, match="not symmetric"):
        L.solve_linear(mixed[0], mixed[1], "cholmod")
    # symmetric indefinite [[K, B^T], [B, 0]] with a random sparse B
    K = spd[0]
    B = sp.random(30, K.shape[0], density=0.05, random_state=np.random.default_rng(2), format="csr")
    S = sp.bmat([[K, B.T], [B, None]], format="csr")
    with pytest.raises(L.LinearSolverError, match="not positive definite"):
        L.solve_linear(S, np.ones(S.shape[0]), "cholmod")
    # the LU methods take it
    for m in LU:
        if AVAILABLE[m]:
            x = L.solve_linear(S, np.ones(S.shape[0]), m)
            assert np.linalg.norm(S @ x - 1) < 1e-8 * np.linalg.norm(np.ones(S.shape[0]))


@pytest.mark.parametrize("method", LU + ["auto"])
def test_singular_matrix_raises(method):
    if method != "auto":
        need(method)
    p = beam("penalty", pressure=False)
    p_free = Problem(p.mesh, p.material, formulation="penalty")  # no Dirichlet: 6 rigid modes
    _, K = p_free.residual_tangent(np.zeros(p_free.n_dofs), 0.0)
    b = np.random.default_rng(3).standard_normal(K.shape[0])  # not in the range of K
    with pytest.raises(L.LinearSolverError):
        L.solve_linear(K, b, method)


def test_reuse_keeps_pattern_and_retires_the_old_factorisation(penalty):
    A, b, *_ = penalty
    for m in L.METHODS:
        if not AVAILABLE[m] or m in ("pyamg", "cholmod"):
            continue
        f = L.factorized(A, m)
        x1 = f(b)
        g = L.factorized(A * 2.0, m, reuse=f)
        np.testing.assert_allclose(g(b), 0.5 * x1, rtol=1e-9, atol=0)
        if m != "superlu":  # superlu has no symbolic reuse: f stays valid
            assert g.reused
            with pytest.raises(L.LinearSolverError, match="newer one"):
                f(b)


def test_unknown_method_options_and_missing_package(monkeypatch, mixed):
    A, b, *_ = mixed
    with pytest.raises(ValueError, match="unknown linear solver 'mumps'"):
        L.solve_linear(A, b, "mumps")
    with pytest.raises(TypeError, match="no option"):
        L.solve_linear(A, b, "superlu", coords=np.zeros((3, 3)))
    monkeypatch.setitem(L._REQUIRES, "pyamg", ("cardiosim_no_such_module", "pyamg: pip install 'cardiosim[solvers]'"))
    L._available.cache_clear()
    try:
        assert L.available()["pyamg"] is False
        with pytest.raises(ImportError, match=r"cardiosim\[solvers\]") as e:
            L.solve_linear(A, b, "pyamg")
        assert isinstance(e.value, L.SolverUnavailableError)
    finally:
        monkeypatch.undo()
        L._available.cache_clear()


def test_auto_order_by_size():
    small, large = L.auto_order(500), L.auto_order(50_000)
    assert small[0] == "superlu" and large[-1] == "superlu"  # SuperLU: always there
    if AVAILABLE["pardiso"]:
        assert large[0] == "pardiso" and L.default_method(50_000) == "pardiso"
    assert set(small) == set(large) <= {"superlu", "umfpack", "pardiso"}


def test_auto_moves_on_when_a_method_fails(monkeypatch, mixed):
    A, b, ref, parts = mixed
    order = L.auto_order(A.shape[0])
    if len(order) < 2:
        pytest.skip("only SuperLU installed: nothing to move on to")

    def broken(*args):
        raise L.LinearSolverError("superlu: broken on purpose", "superlu")

    monkeypatch.setitem(L._BACKENDS, order[0], broken)
    f = L.factorized(A, "auto")
    close(f(b), ref, parts)
    assert f.method == order[1] and "broken on purpose" in f.auto_errors[0]


def test_empty_row_and_non_finite():
    A = sp.csr_matrix(np.diag([1.0, 0.0, 2.0]))
    with pytest.raises(L.LinearSolverError, match="empty row"):
        L.solve_linear(A, np.ones(3), "superlu")
    A = sp.csr_matrix(np.diag([1.0, np.inf, 2.0]))
    with pytest.raises(L.LinearSolverError):
        L.solve_linear(A, np.ones(3), "superlu")
