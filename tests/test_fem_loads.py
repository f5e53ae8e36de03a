"""Loads with their own time courses, and function spaces shared between problems."""

import numpy as np
import pytest

from cardiosim import materials as MAT
from cardiosim.errors import ParameterError, SolverError
from cardiosim.fem import (ActiveTension, Clamp, FunctionSpace, Pressure, Problem, Springs, constant,
                           delayed_ramp, probe, ramp, solve)
from cardiosim.geometry import land_beam

TIP = (10e-3, 0.5e-3, 1e-3)
P0, TA0 = 1.0, 400.0  # Pa: bends and shortens the beam by a few per cent


@pytest.fixture(scope="module")
def beam():
    mesh = land_beam(1, order=2)
    return mesh.with_fibres(np.tile(np.eye(3), (mesh.n_cells, 1, 1)))  # f = x, s = y, n = z


@pytest.fixture(scope="module")
def mat():
    return MAT.Guccione.land2015_problem1()


def _x(prob, seed=0):
    return 1e-6 * np.random.default_rng(seed).standard_normal(prob.n_dofs)


def test_default_time_functions_reproduce_the_keyword_problem(beam, mat):
    """Explicit load objects with their default time functions (pressure and tension
    ramped with the load factor, springs held) assemble bit for bit what the keywords do."""
    kw = Problem(beam, mat, clamped=("X0",), pressure=(("Z0", P0), ("Y1", 0.5)), active_tension=TA0,
                 springs=("X1", 1e5))
    objs = Problem(beam, mat, loads=[Clamp("X0"), Pressure("Z0", P0), Pressure("Y1", 0.5), ActiveTension(TA0),
                                     Springs("X1", 1e5)])
    assert objs.clamped == kw.clamped and np.array_equal(objs.free, kw.free)
    x = _x(kw)
    for t in (0.0, 0.37, 1.0):
        (Ra, Ka), (Rb, Kb) = kw.residual_tangent(x, t), objs.residual_tangent(x, t)
        assert np.array_equal(Ra, Rb) and np.array_equal(Ka.data, Kb.data)
    assert Pressure("Z0", P0).time_function is ramp and Springs("X1", 1.0).time_function is constant


def test_each_load_follows_its_own_time_function(beam, mat):
    """Pressure ramped from the start, active tension held at 0 until half load: at every t
    the residual is that of a problem with the loads frozen at their values at t; solved,
    the state at t = 0.5 is the pressure-only state at half pressure, and the end state
    the one of both loads ramped together (same final loads, hyperelastic)."""
    loads = [Clamp("X0"), Pressure("Z0", P0), ActiveTension(TA0, delayed_ramp(0.5))]
    prob = Problem(beam, mat, loads=loads)
    x = _x(prob, 1)
    for t in (0.25, 0.5, 0.8):
        s = max(0.0, (t - 0.5) / 0.5)
        frozen = Problem(beam, mat, loads=[Clamp("X0"), Pressure("Z0", t * P0, constant),
                                           ActiveTension(s * TA0, constant)])
        (Ra, Ka), (Rb, Kb) = prob.residual_tangent(x, t), frozen.residual_tangent(x, 1.0)
        assert np.array_equal(Ra, Rb) and np.array_equal(Ka.data, Kb.data), t
        assert np.array_equal(prob.active_tension_at(t), np.full((beam.n_cells, 14), s * TA0))

    states = {}
    u1, _ = solve(prob, steps=2, on_step=lambda t, xx: states.setdefault(t, xx.copy()))
    assert sorted(states) == [0.5, 1.0]
    u_half, _ = solve(Problem(beam, mat, clamped=("X0",), pressure=("Z0", 0.5 * P0)), steps=1)
    u_both, _ = solve(Problem(beam, mat, clamped=("X0",), pressure=("Z0", P0), active_tension=TA0), steps=2)
    scale = np.abs(u_both).max()
    np.testing.assert_allclose(prob.split(states[0.5])[0], u_half, rtol=0, atol=1e-8 * scale)
    np.testing.assert_allclose(u1, u_both, rtol=0, atol=1e-8 * scale)
    # the tension shortens the beam: the tip moves back in x once it is on
    assert probe(beam, u1, TIP)[0] < -0.3 * scale < -3 * abs(probe(beam, u_half, TIP)[0])


def test_tension_per_cell_and_per_quadrature_point(beam, mat):
    ne, nq = beam.n_cells, 14
    base = Problem(beam, mat, loads=[Clamp("X0"), ActiveTension(TA0)])
    x = _x(base, 2)
    R0, _ = base.residual_tangent(x, 0.6)
    for value in (np.full(ne, TA0), np.full((ne, nq), TA0)):
        R, _ = Problem(beam, mat, loads=[Clamp("X0"), ActiveTension(value)]).residual_tangent(x, 0.6)
        assert np.array_equal(R, R0)
    # tension in one cell only differs from none in that cell's unknowns only
    one = np.zeros(ne)
    one[5] = TA0
    R1, _ = Problem(beam, mat, loads=[Clamp("X0"), ActiveTension(one)]).residual_tangent(x, 1.0)
    Rn, _ = Problem(beam, mat, clamped=("X0",)).residual_tangent(x, 1.0)
    changed = np.flatnonzero(R1 != Rn)
    cell = (beam.cells[5][:, None] * 3 + np.arange(3)).ravel()
    assert changed.size and set(changed) <= set(cell)


def test_a_space_is_built_once_and_shared(beam, mat):
    space = FunctionSpace(beam, taylor_hood=True)
    a = Problem(space, mat, clamped=("X0",), pressure=("Z0", P0))
    b = Problem(space, mat, clamped=("X0",), pressure=("Z0", 2 * P0), active_tension=TA0)
    assert a.formulation == b.formulation == "mixed" and space.element_name == "P2-P1"
    assert a.space is b.space and a.dNdX is b.dNdX and a.pattern is b.pattern and a.R is b.R
    assert space.facet_data("Z0") is space.facet_data("Z0")
    fresh = Problem(beam, mat, clamped=("X0",), pressure=("Z0", P0))  # its own space
    ua, ia = solve(a, steps=2)
    uf, if_ = solve(fresh, steps=2)
    assert np.array_equal(ua, uf) and ia["newton_iterations"] == if_["newton_iterations"]
    with pytest.raises(ParameterError, match="does not match the space"):
        Problem(space, mat, clamped=("X0",), formulation="penalty")
    with pytest.raises(ParameterError, match="quadrature_degree = 6"):
        Problem(space, mat, clamped=("X0",), quadrature_degree=6)


def test_bad_loads_are_clear_errors(beam, mat):
    with pytest.raises(ParameterError, match="pressure on 'Z0' must be finite, got nan"):
        Pressure("Z0", float("nan"))
    with pytest.raises(ParameterError, match="spring stiffness on 'X1' must be >= 0 Pa/m, got -1.0"):
        Springs("X1", -1.0)
    with pytest.raises(ParameterError, match=r"does not fit the mesh: need \(\), \(60,\) or \(60, 14\)"):
        Problem(beam, mat, loads=[Clamp("X0"), ActiveTension(np.ones(5))])
    with pytest.raises(ParameterError, match="active tension needs a fibre field"):
        Problem(land_beam(1, order=2), mat, loads=[Clamp("X0"), ActiveTension(TA0)])
    with pytest.raises(ParameterError, match="end = 0.2 must be finite and after start = 0.5"):
        delayed_ramp(0.5, 0.2)
    with pytest.raises(ParameterError, match="not a Clamp, Pressure"):
        Problem(beam, mat, loads=[("Z0", 1.0)])
    prob = Problem(beam, mat, loads=[Clamp("X0"), Pressure("Z0", P0, lambda t: float("nan"))])
    with pytest.raises(ParameterError, match=r"time_function\(0.5\) = nan"):
        prob.residual_tangent(np.zeros(prob.n_dofs), 0.5)


def test_an_inverting_state_is_flagged_not_raised_inside_newton(beam, mat):
    prob = Problem(beam, mat, clamped=("X0",))
    x = np.zeros(prob.n_dofs)
    x[: prob.n_u] = (-2.0 * beam.points).ravel()  # x -> -x: every element inside out
    R, K, inverted = prob.assemble(x, 1.0)
    assert inverted == 0 and K is None
    with pytest.raises(SolverError, match="element 0 inverted"):
        prob.residual_tangent(x, 1.0)
