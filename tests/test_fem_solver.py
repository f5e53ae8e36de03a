"""Nonlinear solver: small-load limit equals linear elasticity; clear failure beyond reach."""

import numpy as np
import pytest
import scipy.sparse.linalg as spla

from cardiosim import materials as MAT
from cardiosim.fem import Pattern
from cardiosim.fem import kernels as FK
from cardiosim.fem.solver import NonlinearSolverError, Problem, probe, solve
from cardiosim.mesh import box


def test_small_load_limit_equals_linear_elasticity():
    """Neo-Hooke under a tiny follower pressure tends to the linear-elastic answer, the
    difference falling in proportion to the load (geometric and material nonlinearity)."""
    mesh = box(4, 2, 2, size=(4e-3, 1e-3, 1e-3), order=2)
    mu, kappa = 1.0e3, 1.0e4
    rel = []
    for p in (1e-3, 1e-4):
        prob = Problem(mesh, MAT.NeoHooke(mu=mu, kappa=kappa), clamped=("X0",), pressure=("Z0", p))
        u, info = solve(prob, steps=1)
        assert info["newton_iterations"] <= 4
        Ke = np.empty((mesh.n_cells, 30, 30))
        FK.linear_elastic(prob.dNdX, prob.wdet, kappa - 2 * mu / 3, mu, Ke)
        K = Pattern(mesh.cells, mesh.n_points).matrix(Ke)
        R0, _ = prob.residual_tangent(np.zeros(prob.n_dofs), 1.0)
        ul = np.zeros(prob.n_dofs)
        f = prob.free
        ul[f] = spla.spsolve(K[f][:, f].tocsc(), -R0[f])
        rel.append(np.abs(u - ul).max() / np.abs(ul).max())
    assert rel[1] < 1e-5
    assert 5 < rel[0] / rel[1] < 20


def test_newton_converges_to_round_off_on_the_beam():
    mesh = box(4, 1, 1, size=(4e-3, 1e-3, 1e-3), order=2).with_fibres(np.tile(np.eye(3), (24, 1, 1)))
    prob = Problem(mesh, MAT.Guccione.land2015_problem1(), clamped=("X0",), pressure=("Z0", 4.0))
    u, info = solve(prob, steps=4)
    last = info["history"][-1]["residuals"]
    r = [x for x in last if x > 0]
    # the last load step ends at round-off of the internal forces
    assert r[-1] < 1e-8 * r[0]
    assert probe(mesh, u, (4e-3, 0.5e-3, 1e-3))[2] > 0  # the pressure on the bottom lifts the tip


def test_pressure_beyond_reach_raises_with_history_and_last_good_state():
    mesh = box(2, 1, 1, size=(2e-3, 1e-3, 1e-3))
    prob = Problem(mesh, MAT.NeoHooke(mu=1.0e3, kappa=1.0e4), clamped=("X0",), pressure=("Z0", 1.0e5))
    with pytest.raises(NonlinearSolverError) as exc:
        solve(prob, steps=2, max_iter=8, min_step=0.05)
    err = exc.value
    assert "load factor" in str(err) and "residual history" in str(err)
    assert 0 <= err.load <= 1 and len(err.history) >= 1
    assert np.all(np.isfinite(err.u))


def test_missing_marker_and_inverted_mesh_are_clear_errors():
    mesh = box(2, 1, 1)
    from cardiosim.mesh import MeshError
    with pytest.raises(MeshError, match="ENDO"):
        Problem(mesh, MAT.NeoHooke(mu=1.0e3, kappa=1.0e4), clamped=("X0",), pressure=("ENDO", 1.0))
    with pytest.raises(Exception, match="mu"):
        MAT.NeoHooke(mu=-1.0, kappa=1.0e4)
