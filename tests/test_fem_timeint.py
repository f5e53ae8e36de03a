"""Generalized-alpha time integration: order of accuracy, spectral radius, the benchmark's choice."""

import numpy as np
import pytest

from cardiosim.errors import ParameterError
from cardiosim.fem.timeint import GeneralizedAlpha, step_linear


def _oscillator(scheme, omega, zeta, dt, T):
    """u'' + 2 zeta omega u' + omega^2 u = 0, u(0) = 1, v(0) = 0, to time T."""
    M, C, K = np.eye(1), np.array([[2 * zeta * omega]]), np.array([[omega ** 2]])
    u, v = np.array([1.0]), np.array([0.0])
    a = -(C @ v + K @ u)
    for _ in range(round(T / dt)):
        u, v, a = step_linear(scheme, M, C, K, np.zeros(1), u, v, a, dt)
    return float(u[0])


def test_the_benchmark_scheme_is_second_order_with_rho_inf_two_thirds():
    s = GeneralizedAlpha.benchmark()
    assert s.second_order
    r = GeneralizedAlpha.from_rho_inf(2 / 3)
    for n in ("alpha_m", "alpha_f", "gamma", "beta"):
        assert getattr(r, n) == pytest.approx(getattr(s, n), abs=1e-12), n


@pytest.mark.parametrize("zeta", [0.0, 0.05])
def test_second_order_convergence_on_a_damped_oscillator(zeta):
    omega, T = 2 * np.pi, 1.3
    wd = omega * np.sqrt(1 - zeta ** 2)
    exact = np.exp(-zeta * omega * T) * (np.cos(wd * T) + zeta * omega / wd * np.sin(wd * T))
    s = GeneralizedAlpha.benchmark()
    errs = [abs(_oscillator(s, omega, zeta, dt, T) - exact) for dt in (1e-2, 5e-3, 2.5e-3)]
    rates = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(np.abs(rates - 2.0) < 0.1), rates
    # a first-order choice (gamma off the second-order line) converges at rate 1
    g1 = GeneralizedAlpha(0.2, 0.4, 0.8, 0.45)
    assert not g1.second_order
    e1 = [abs(_oscillator(g1, omega, zeta, dt, T) - exact) for dt in (5e-3, 2.5e-3)]
    assert np.log2(e1[0] / e1[1]) == pytest.approx(1.0, abs=0.1)


def _spectral_radius(scheme, omega_dt):
    """Largest |eigenvalue| of the map (u, dt v, dt^2 a)_n -> n+1 of u'' + omega^2 u = 0 (dt = 1)."""
    M, C, K = np.eye(1), np.zeros((1, 1)), np.array([[omega_dt ** 2]])
    A = np.empty((3, 3))
    for j, e in enumerate(np.eye(3)):
        u, v, a = step_linear(scheme, M, C, K, np.zeros(1), e[:1], e[1:2], e[2:], 1.0)
        A[:, j] = [u[0], v[0], a[0]]
    return float(np.max(np.abs(np.linalg.eigvals(A))))


def test_high_modes_are_damped_by_rho_inf_and_low_ones_hardly():
    s = GeneralizedAlpha.benchmark()
    assert _spectral_radius(s, 1e6) == pytest.approx(2 / 3, abs=1e-4)
    assert _spectral_radius(s, 1e-2) > 0.99999
    for w in (0.1, 1.0, 10.0, 100.0):                     # unconditionally stable
        assert _spectral_radius(s, w) <= 1.0 + 1e-12


def test_unstable_or_unknown_coefficients_are_refused():
    with pytest.raises(ParameterError, match="not unconditionally stable"):
        GeneralizedAlpha(0.4, 0.2, 0.3, 0.25)
    with pytest.raises(ParameterError, match="rho_inf must be in \\[0, 1\\]"):
        GeneralizedAlpha.from_rho_inf(1.5)
    with pytest.raises(ParameterError, match="must be a finite number"):
        GeneralizedAlpha(float("nan"))


def _chain(n=6, seed=2):
    """A damped spring-mass chain: SPD mass and stiffness, Rayleigh-like damping."""
    rng = np.random.default_rng(seed)
    K = 2 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)
    K *= 1e4
    M = np.diag(1.0 + rng.random(n))
    C = 0.02 * K + 0.5 * M
    return M, C, K, rng


def test_midpoint_scheme_balances_energy_exactly_and_generalized_alpha_dissipates():
    from cardiosim.fem.timeint import energy, step_midpoint_linear

    M, C, K, rng = _chain()
    n, dt = M.shape[0], 2e-3
    u, v = rng.standard_normal(n) * 1e-3, np.zeros(n)
    for k in range(200):
        f = np.sin(7.0 * (k + 0.5) * dt) * np.ones(n)
        u1, v1 = step_midpoint_linear(M, C, K, f, u, v, dt)
        vm = 0.5 * (v + v1)
        balance = energy(M, K, u1, v1) - energy(M, K, u, v) - dt * vm @ (f - C @ vm)
        assert abs(balance) <= 1e-12 * energy(M, K, u, v), k
        u, v = u1, v1
    # undamped and unloaded: the mid-point keeps E; generalized-alpha loses some each step
    Z = np.zeros_like(C)
    u0, v0 = rng.standard_normal(n) * 1e-3, np.zeros(n)
    E0 = energy(M, K, u0, v0)
    um, vm_ = u0, v0
    ug, vg, ag = u0, v0, np.linalg.solve(M, -K @ u0)
    s = GeneralizedAlpha.benchmark()
    for _ in range(500):
        um, vm_ = step_midpoint_linear(M, Z, K, np.zeros(n), um, vm_, dt)
        ug, vg, ag = step_linear(s, M, Z, K, np.zeros(n), ug, vg, ag, dt)
    assert energy(M, K, um, vm_) == pytest.approx(E0, rel=1e-10)
    assert energy(M, K, ug, vg) < 0.999 * E0          # about 3 % in 500 steps, omega dt up to 0.33
