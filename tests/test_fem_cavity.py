"""A cavity whose pressure is solved for with the displacement: the volume's derivative
against finite differences, and a volume-controlled inflation of a thick neo-Hookean sphere
against the closed-form pressure of the incompressible thick shell."""

import math

import numpy as np
import pytest
from scipy.integrate import quad

from cardiosim.errors import MeshError, ParameterError
from cardiosim.fem import Elastodynamics, Problem, RobinSupport
from cardiosim.fem.cavity import Cavity, Isovolumic
from cardiosim.fem.measures import cavity_volume, cavity_volume_gradient
from cardiosim.geometry import SphericalShell
from cardiosim.materials import NeoHooke

RI, RO, MU = 10e-3, 13e-3, 10e3


@pytest.mark.parametrize("base_z", [None, 2e-3])
def test_volume_gradient_is_the_derivative_of_the_volume(base_z):
    geo = SphericalShell(RI, RO, base_z=base_z)
    mesh = geo.mesh(1, order=2)
    rng = np.random.default_rng(0)
    u = 1e-4 * rng.standard_normal(mesh.n_points * 3)
    d = rng.standard_normal(mesh.n_points * 3)
    bp = (0.0, 0.0, base_z or 0.0)
    h = 1e-7
    fd = (cavity_volume(mesh, u + h * d, base_point=bp) - cavity_volume(mesh, u - h * d, base_point=bp)) / (2 * h)
    assert cavity_volume_gradient(mesh, u, base_point=bp) @ d == pytest.approx(fd, rel=1e-7)


def thick_sphere_pressure(V, mu=MU, Ri=RI, Ro=RO):
    """Incompressible neo-Hookean thick sphere inflated to cavity volume V: p = int_Ri^Ro
    2 mu (l^2 - l^-4) R^2 / r^3 dR, r^3 = R^3 + r_i^3 - Ri^3, l = r / R (equilibrium
    d sigma_rr / dr = 2 (sigma_tt - sigma_rr) / r)."""
    c = 3 * V / (4 * math.pi) - Ri ** 3

    def f(R):
        r = (R ** 3 + c) ** (1 / 3)
        lam = r / R
        return 2 * mu * (lam ** 2 - lam ** -4) * R ** 2 / r ** 3

    return quad(f, Ri, Ro, epsabs=0, epsrel=1e-12)[0]


class _Ramp:
    """Volume law V1 = V0 (1 + 0.5 t): the cavity filled by a syringe."""

    def __init__(self, V0):
        self.V0 = V0

    def initial_state(self):
        return np.zeros(0)

    def residual(self, state, t0, dt, p0, p1, V0, V1):
        return V1 - self.V0 * (1 + 0.5 * (t0 + dt)), 0.0, 1.0

    def advance(self, state, t0, dt, p0, p1):
        return state


def test_volume_controlled_inflation_meets_the_thick_sphere_solution():
    mesh = SphericalShell(RI, RO).mesh(1, order=2)
    V0 = cavity_volume(mesh)
    prob = Problem(mesh, NeoHooke(mu=MU, kappa=1000 * MU), formulation="penalty")
    # a whole sphere has rigid motions: a 1 Pa/m epicardial spring holds them (1e-3 Pa at 1 mm)
    dyn = Elastodynamics(prob, 1000.0, 0.0, (RobinSupport("EPI", 1.0),), "quasi-static",
                         cavity=Cavity("ENDO", _Ramp(V0)))
    pressures = []
    for k in range(10):
        dyn.step(0.1)
        V = cavity_volume(mesh, dyn.state.x[: dyn.n_u])
        assert V == pytest.approx(V0 * (1 + 0.05 * (k + 1)), rel=1e-12)      # the constraint holds
        pressures.append(dyn.state.cavity_p)
    assert np.all(np.diff(pressures) > 0)
    exact = thick_sphere_pressure(V)
    # 0.58 % at this level (P2, 1,518 nodes); 0.03 % at level 2 (kappa = 1000 mu in both)
    assert dyn.state.cavity_p == pytest.approx(exact, rel=1e-2)
    assert exact == pytest.approx(2098, rel=1e-3)


def test_bad_cavities_are_refused():
    class NoLaw:
        def residual(self, *a):
            return 0.0, 0.0, 1.0

    with pytest.raises(ParameterError, match="has no initial_state"):
        Cavity("ENDO", NoLaw())
    with pytest.raises(ParameterError, match="base_point must be 3 finite coordinates"):
        Cavity("ENDO", Isovolumic(), base_point=(0.0, float("nan"), 0.0))
    from cardiosim.geometry import box

    with pytest.raises(MeshError, match="ENDO"):
        Elastodynamics(Problem(box(1, 1, 1), NeoHooke(mu=MU)), cavity=Cavity("ENDO", Isovolumic()))


def _valve_like(p):
    """A step's volume balance against its pressure across a valve that opens within 0.1 Pa
    at 800 Pa (as the tanh valves do): slope 1e-3 away from the switch, 10 at it."""
    t = math.tanh((p - 800.0) / 0.1)
    return 1e-3 * (p - 800.0) + t, 1e-3 + (1.0 - t * t) / 0.1


def _newton(p, safeguarded, iters=60, tol=1e-9):
    from cardiosim.fem.dynamics import _PressureGuard

    guard = _PressureGuard(tol)
    for _ in range(iters):
        f, df = _valve_like(p)
        dp = raw = -f / df
        if safeguarded:
            dp = guard(p, dp)
        p += dp
        if max(abs(dp), abs(raw)) <= tol:
            return p
    return None


def test_the_safeguarded_pressure_update_converges_where_newton_cycles():
    """The pressure of a step at a valve's switch: plain Newton from 794 Pa jumps from one
    side of the switch to the other and never converges; the guarded update detects the
    cycle (sign changes that do not contract), brackets the root between the last two
    iterates and bisects where Newton leaves the bracket (Numerical Recipes' rtsafe). Where
    Newton converges by itself (a smooth function, or one overshoot that contracts) the
    guard leaves every step as it is."""
    from cardiosim.fem.dynamics import _PressureGuard

    assert _newton(799.99, safeguarded=False) == pytest.approx(800.0, abs=1e-9)
    assert _newton(794.0, safeguarded=False) is None
    assert _newton(794.0, safeguarded=True) == pytest.approx(800.0, abs=1e-9)
    guard, p = _PressureGuard(1e-12), 3.0
    for _ in range(8):
        dp = -(p * p - 2.0) / (2.0 * p)
        assert guard(p, dp) == dp
        p += dp
    assert p == pytest.approx(2.0 ** 0.5, rel=1e-15)
    guard = _PressureGuard(1e-12)     # an overshoot that contracts: +10, -4, +1 ...
    for p, dp in ((0.0, 10.0), (10.0, -4.0), (6.0, 1.0), (7.0, -0.1)):
        assert guard(p, dp) == dp
