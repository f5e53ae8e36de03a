"""Block-preconditioned GMRES for Taylor-Hood saddle points (cardiosim.fem.linear,
method "block-gmres"): agreement with a direct solve on the Land 2015 ellipsoid, the
options it needs, and how it fails."""

import numpy as np
import pytest
import scipy.sparse as sp

from cardiosim import materials as MAT
from cardiosim.geometry import TruncatedEllipsoid
from cardiosim.fem import linear as L
from cardiosim.fem.solver import Problem

pytestmark = pytest.mark.skipif(not L.available()["block-gmres"], reason="pyamg not installed")


@pytest.fixture(scope="module")
def ellipsoid():
    """Problem 2 (level 1, 1,739 free unknowns) and its tangent at the second Newton
    iterate of a 2 kPa step: deformed, pressures non-zero, displacement block indefinite."""
    m = TruncatedEllipsoid.land2015().mesh(1, order=2)
    p = Problem(m, MAT.Guccione.land2015_problem2(), clamped=("BASE",), pressure=("ENDO", 10e3))
    f = p.free
    R, K = p.residual_tangent(np.zeros(p.n_dofs), 0.2)
    x = np.zeros(p.n_dofs)
    x[f] = L.solve_linear(K[f][:, f], -R[f], "superlu")
    R, K = p.residual_tangent(x, 0.2)
    A, b = sp.csr_matrix(K[f][:, f]), -R[f]
    return p, A, b, L.solve_linear(A, b, "superlu"), L.saddle_point_options(p)


def rel(x, ref):
    return np.linalg.norm(x - ref) / np.linalg.norm(ref)


@pytest.mark.parametrize("p_multigrid", [True, False])
def test_matches_direct_solve(ellipsoid, p_multigrid):
    _, A, b, ref, opts = ellipsoid
    nu = opts["n_u"]
    assert opts["pressure_mass"].shape == (A.shape[0] - nu,) * 2
    if not p_multigrid:
        opts = {**opts, "cells": None}  # smoothed aggregation on the P2 block directly
    f = L.factorized(A, "block-gmres", rtol=1e-10, max_coarse=50, **opts)
    x = f(b)
    # displacements [m] and pressures [Pa] separately: 1e8 apart in size
    assert rel(x[:nu], ref[:nu]) < 1e-6 and rel(x[nu:], ref[nu:]) < 1e-6
    assert f.last["residual"] <= 1e-9 and 0 < f.last["iterations"] < 150
    assert f.info["p_multigrid"] is p_multigrid and f.info["levels"] > 1 and f.info["schur_sign"] == 1.0


def test_pressure_mass_matrix_and_uniform_shear_modulus(ellipsoid):
    p, A, b, ref, opts = ellipsoid
    M = opts["pressure_mass"]
    assert abs(M - M.T).max() <= 1e-14 * abs(M).max() and np.all(M.diagonal() > 0)
    # int 1 dx: the volume of the straight-sided vertex tetrahedra
    assert np.isclose(M.sum(), p.mesh.volume(), rtol=1e-12)
    x = L.solve_linear(A, b, "block-gmres", rtol=1e-10, shear_modulus=5e3, **opts)
    assert rel(x, ref) < 1e-6


def test_reuse_keeps_the_p1_interpolation(ellipsoid):
    _, A, b, ref, opts = ellipsoid
    f = L.factorized(A, "block-gmres", **opts)
    g = L.factorized(A * 2.0, "block-gmres", reuse=f, **opts)
    assert g.reused and rel(g(b), 0.5 * ref) < 1e-6


def test_missing_or_wrong_options_raise(ellipsoid):
    p, A, b, _, opts = ellipsoid
    with pytest.raises(TypeError, match=r"needs the option\(s\) \['coords', 'n_u', 'pressure_mass'\]"):
        L.solve_linear(A, b, "block-gmres")
    with pytest.raises(TypeError, match=r"\['pressure_mass'\]"):
        L.solve_linear(A, b, "block-gmres", **{**opts, "pressure_mass": None})
    with pytest.raises(TypeError, match="no option"):
        L.solve_linear(A, b, "block-gmres", mtype=11, **opts)
    with pytest.raises(ValueError, match="pressure_mass is"):
        L.solve_linear(A, b, "block-gmres", **{**opts, "pressure_mass": sp.identity(5, format="csr")})
    with pytest.raises(ValueError, match="dofs must give"):
        L.solve_linear(A, b, "block-gmres", **{**opts, "dofs": opts["dofs"][:-3]})
    # n_u too large: pressure rows (zero diagonal) inside the "displacement" block
    with pytest.raises(L.LinearSolverError, match="zero or negative diagonal"):
        L.solve_linear(A, b, "block-gmres", **{**opts, "n_u": opts["n_u"] + 3, "dofs": None, "cells": None,
                                               "pressure_mass": opts["pressure_mass"][3:, 3:]})
    with pytest.raises(ValueError, match="mixed"):
        L.saddle_point_options(Problem(p.mesh, p.material, clamped=("BASE",), formulation="penalty"))


def test_non_convergence_reports_residual_and_iterations(ellipsoid):
    _, A, b, _, opts = ellipsoid
    with pytest.raises(L.LinearSolverError, match="did not converge") as e:
        L.solve_linear(A, b, "block-gmres", maxiter=3, **opts)
    assert e.value.method == "block-gmres" and e.value.residual > 1e-7 and e.value.iterations == 3


def test_registered_but_not_general():
    # needs the block layout: not among the general METHODS, never picked by "auto"
    assert "block-gmres" in L.SADDLE_METHODS and "block-gmres" not in L.METHODS
    assert "block-gmres" not in L.auto_order(10**6)
    with pytest.raises(ValueError, match="block-gmres"):
        L.solve_linear(sp.identity(3, format="csr"), np.ones(3), "no-such-method")


def test_auto_picks_block_gmres_for_large_taylor_hood_problems(monkeypatch):
    """"auto" keeps a direct solver below the measured crossover and switches to the block
    Krylov solver above it (threshold lowered here so that a level-1 mesh crosses it)."""
    import cardiosim.fem.solver as S

    m = TruncatedEllipsoid.land2015().mesh(1, order=2)
    args = (m, MAT.Guccione.land2015_problem2())
    kw = {"clamped": ("BASE",), "pressure": ("ENDO", 10e3)}
    assert Problem(*args, **kw).linear_method == "auto"
    monkeypatch.setattr(S, "AUTO_KRYLOV_N", 1000)
    assert Problem(*args, **kw).linear_method == "block-gmres"
    assert Problem(*args, **kw, formulation="penalty").linear_method == "auto"  # not a saddle point
    assert Problem(*args, **kw, linear_solver="superlu").linear_method == "superlu"
