"""Nonlinear elastodynamics (inertia, Kelvin-Voigt viscosity, Robin supports) on a small
cantilever: the small-amplitude limit equals the linear schemes run on the same matrices,
the quasi-static scheme equals the static solve, second-order convergence in time of the
nonlinear generalized-alpha and mid-point steps, and a failing step ends in a SolverError
that carries the last good state."""

import numpy as np
import pytest

from cardiosim.errors import ParameterError, SolverError
from cardiosim.fem import Clamp, Elastodynamics, GeneralizedAlpha, Pressure, Problem, RobinSupport, constant, solve
from cardiosim.fem import viscous as VK
from cardiosim.fem.timeint import step_linear, step_midpoint_linear
from cardiosim.geometry import box
from cardiosim.materials import NeoHooke

SIZE = (10e-3, 2e-3, 2e-3)
RHO, ETA = 1000.0, 20.0
MAT = NeoHooke(mu=10e3, kappa=200e3)


def _problem(p, time_function=constant, order=1):
    mesh = box(5, 1, 1, size=SIZE, order=order)
    return Problem(mesh, MAT, loads=[Clamp("X0"), Pressure("Z1", p, time_function)])


def _dynamics(p, scheme="generalized-alpha", eta=ETA, supports=(RobinSupport("Y1", 2e6, 50.0),), **kw):
    return Elastodynamics(_problem(p, kw.pop("time_function", constant)), RHO, eta, supports, scheme, **kw)


def _linear_matrices(dyn):
    """M, C, K and f of the linearisation at rest, restricted to the free unknowns."""
    prob = dyn.problem
    x0 = np.zeros(dyn.n)
    R, K, _ = prob.assemble(x0, 0.0, True)
    sp, m = prob.space, prob.mesh
    nn3 = 3 * sp.element.n_nodes
    data = np.zeros(sp.pattern.nnz)
    Z = np.zeros((m.n_cells, sp.element.n_nodes, 3))
    VK.assemble_kelvin_voigt(sp.dNdX, sp.wdet, Z, Z, dyn.eta, 0.0, 1.0, np.ascontiguousarray(sp.pattern.dofs[:, :nn3]),
                             np.ascontiguousarray(sp.pattern.pos[:, :nn3, :nn3]), np.zeros(dyn.n), data, True)
    C = sp.pattern.csr(data) + dyn._Bc
    K = K + dyn._Bk
    f = prob.free
    sub = lambda A: A.toarray()[np.ix_(f, f)]  # noqa: E731
    return sub(dyn.M), sub(C), sub(K), -R[f]


@pytest.mark.parametrize("scheme", ["generalized-alpha", "midpoint"])
def test_small_amplitudes_follow_the_linear_scheme(scheme):
    """A 1 mPa step load: the nonlinear step is the linear one to within the strain (1e-8)."""
    dyn = _dynamics(1e-3, scheme)
    M, C, K, fv = _linear_matrices(dyn)
    free = dyn.problem.free
    n = len(free)
    u, v = np.zeros(n), np.zeros(n)
    a = np.linalg.solve(M, fv)
    assert dyn.initial_acceleration()[free] == pytest.approx(a, rel=1e-9, abs=1e-12 * np.abs(a).max())
    dt, s = 2e-4, GeneralizedAlpha.benchmark()
    for _ in range(25):
        dyn.step(dt)
        if scheme == "midpoint":
            u, v = step_midpoint_linear(M, C, K, fv, u, v, dt)
        else:
            u, v, a = step_linear(s, M, C, K, fv, u, v, a, dt)
    un = dyn.state.x[free]
    assert np.abs(un).max() > 1e-9                     # it moved: about 1 % of the static deflection
    assert np.abs(un - u).max() <= 1e-5 * np.abs(u).max()
    assert np.abs(dyn.state.v[free] - v).max() <= 1e-5 * np.abs(v).max()


def test_quasi_static_scheme_without_rate_terms_is_the_static_solve():
    p = 300.0
    prob = _problem(p, time_function=lambda t: t)
    dyn = Elastodynamics(prob, RHO, 0.0, (), "quasi-static")
    dyn.run(1.0, 0.25)
    u_static, _ = solve(_problem(p), steps=4)
    assert dyn.state.t == pytest.approx(1.0, abs=1e-15)
    u = dyn.state.x[: dyn.n_u].reshape(-1, 3)
    assert np.abs(u - u_static).max() <= 1e-7 * np.abs(u_static).max()
    assert np.abs(u[:, 2]).max() > 1e-4                  # large deflection: 5 % of the length


def _tip_history(scheme, dt, T=0.02, p=300.0):
    dyn = _dynamics(p, scheme, tol=1e-13)
    dyn.initial_acceleration()
    dyn.run(T, dt)
    return dyn.state.x[: dyn.n_u].copy(), dyn


@pytest.mark.parametrize("scheme", ["generalized-alpha", "midpoint"])
def test_nonlinear_steps_converge_at_second_order(scheme):
    """Differences of successive halvings shrink four-fold (no reference solution needed)."""
    us = [_tip_history(scheme, dt)[0] for dt in (5e-4, 2.5e-4, 1.25e-4, 6.25e-5)]
    d = np.array([np.abs(us[i] - us[i + 1]).max() for i in range(3)])
    rates = np.log2(d[:-1] / d[1:])
    assert np.all(np.abs(rates - 2.0) < 0.15), (d, rates)
    assert np.abs(us[-1]).max() > 5e-5                   # a large motion, not the linear limit


def test_modified_newton_reaches_the_same_states():
    full = _tip_history("generalized-alpha", 2.5e-4)[0]
    dyn = _dynamics(300.0, tol=1e-13, jacobian_reuse=10)
    dyn.initial_acceleration()
    dyn.run(0.02, 2.5e-4)
    assert np.abs(dyn.state.x[: dyn.n_u] - full).max() <= 1e-9 * np.abs(full).max()


def test_a_step_newton_cannot_solve_is_cut_then_refused_with_the_last_good_state():
    dyn = _dynamics(300.0, max_iter=3)
    dyn.initial_acceleration()
    dyn.run(2e-3, 1e-3)
    good = dyn.state.copy()
    dyn.max_iter, dyn.tol = 1, 1e-30                    # Newton cannot converge any more
    with pytest.raises(SolverError, match="Newton failed in the step from t = 0.002 s") as err:
        dyn.step(1e-3)
    assert err.value.time_s == pytest.approx(2e-3)
    np.testing.assert_array_equal(err.value.state["x"], good.x)
    np.testing.assert_array_equal(dyn.state.x, good.x)
    assert dyn.state.steps == good.steps == 2


def test_bad_settings_are_refused():
    prob = _problem(1.0)
    with pytest.raises(ParameterError, match="scheme must be one of"):
        Elastodynamics(prob, RHO, 0.0, (), "newmark")
    with pytest.raises(ParameterError, match="rho must be > 0 kg/m\\^3"):
        Elastodynamics(prob, 0.0, 0.0, (), "midpoint")
    with pytest.raises(ParameterError, match="eta must be a finite number >= 0"):
        Elastodynamics(prob, RHO, -1.0)
    with pytest.raises(ParameterError, match="jacobian_reuse must be an integer >= 0"):
        Elastodynamics(prob, RHO, jacobian_reuse=-1)
    with pytest.raises(ParameterError, match="time step dt must be > 0 s"):
        Elastodynamics(prob, RHO).step(0.0)


def _free_vibration(scheme, steps=40, dt=5e-4):
    """The cantilever thrown upward, no load: energy only leaves through viscosity and dashpots."""
    dyn = _dynamics(0.0, scheme, eta=2.0, supports=(RobinSupport("Y1", 2e6, 5.0),), tol=1e-13)
    X = dyn.problem.mesh.points
    v = np.zeros((len(X), 3))
    v[:, 2] = 2.0 * (X[:, 0] / SIZE[0]) ** 2          # 2 m/s at the tip: 30 % strain at the root
    dyn.state.v[: dyn.n_u] = v.ravel()
    dyn.initial_acceleration()
    e = dyn.energies()
    E = [sum(e.values())]
    lost = [0.0]
    dyn.stored_max = 0.0
    for _ in range(steps):
        info = dyn.step(dt)
        e = dyn.energies()
        dyn.stored_max = max(dyn.stored_max, e["stored"])
        E.append(sum(e.values()))
        lost.append(lost[-1] + info.dissipated_J)
    return np.array(E), np.array(lost), dyn


def test_energy_consistent_scheme_balances_energy_to_the_newton_tolerance():
    E, lost, dyn = _free_vibration("energy-consistent")
    assert 0.05 * E[0] < lost[-1] < 0.95 * E[0]           # the dampers took a real share
    assert dyn.stored_max > 0.3 * E[0]                    # and the beam was bent
    defect = np.abs(np.diff(E + lost))
    assert defect.max() <= 1e-9 * E[0], defect.max() / E[0]
    # the plain mid-point rule and generalized-alpha do not balance: their defect is a property
    # of the scheme, far above the Newton tolerance
    for scheme in ("midpoint", "generalized-alpha"):
        Es, ls, _ = _free_vibration(scheme)
        assert np.abs(np.diff(Es + ls)).max() > 1e-6 * E[0], scheme


def test_energy_consistent_scheme_converges_at_second_order():
    us = []
    for dt in (1e-3, 5e-4, 2.5e-4, 1.25e-4):
        dyn = _dynamics(300.0, "energy-consistent", tol=1e-13)
        dyn.initial_acceleration()
        dyn.run(0.02, dt)
        us.append(dyn.state.x[: dyn.n_u].copy())
    d = np.array([np.abs(us[i] - us[i + 1]).max() for i in range(3)])
    rates = np.log2(d[:-1] / d[1:])
    assert np.all(np.abs(rates - 2.0) < 0.15), (d, rates)


def _driven(scheme, steps=30, dt=1e-3):
    """Active tension along tilted fibres and a pressure on the top face, both rising and
    falling: the ledger of each step against the work of the loads."""
    from cardiosim.fem import ActiveTension

    def frames(points):
        c, s = np.cos(0.4), np.sin(0.4)
        return np.tile(np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]]), (len(points), 1, 1))

    pulse = lambda t: np.sin(np.pi * t / 0.03) ** 2  # noqa: E731
    prob = Problem(box(5, 1, 1, size=SIZE), MAT, fibre_field=frames,
                   loads=[Clamp("X0"), Pressure("Z1", 200.0, pulse), ActiveTension(5e3, pulse)])
    dyn = Elastodynamics(prob, RHO, ETA, (RobinSupport("Y1", 2e6, 50.0),), scheme, tol=1e-12)
    rows = []
    for _ in range(steps):
        s0, e0 = dyn.state.copy(), dyn.energies()
        info = dyn.step(dt)
        e1 = dyn.energies()
        work = dyn.load_work(s0, dyn.state)
        rows.append((sum(e1.values()) - sum(e0.values()) + info.dissipated_J, work))
    return np.array(rows)


def test_the_energy_ledger_with_active_tension_and_pressure():
    r = _driven("energy-consistent")
    scale = np.abs(r[:, 1]).max()
    assert scale > 0 and np.abs(r[:, 1]).sum() > 5 * scale     # the loads work over many steps
    assert np.abs(r[:, 0] - r[:, 1]).max() <= 1e-8 * scale
    g = _driven("generalized-alpha")
    assert np.abs(g[:, 0] - g[:, 1]).max() > 1e-4 * scale       # its defect: numerical damping and more
