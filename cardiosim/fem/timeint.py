"""Time integration of structural dynamics: the generalized-alpha scheme (Chung & Hulbert 1993).

Newmark's updates

    u1 = u0 + dt v0 + dt^2 ((1/2 - beta) a0 + beta a1),   v1 = v0 + dt ((1 - gamma) a0 + gamma a1),

with the balance M a(1 - alpha_m) + C v(1 - alpha_f) + K u(1 - alpha_f) = f(t1 - alpha_f dt),
where x(1 - alpha) = (1 - alpha) x1 + alpha x0. Second order when gamma = 1/2 - alpha_m +
alpha_f, unconditionally stable for alpha_m <= alpha_f <= 1/2 and beta >= (1/2 + alpha_f -
alpha_m) / 4; the choice from the spectral radius at infinite frequency rho_inf damps the
highest modes by rho_inf per step and the lowest hardly at all. The cardiac elastodynamics
benchmark (Arostica et al. 2025) uses alpha_m 0.2, alpha_f 0.4, gamma 0.7, beta 0.36: rho_inf
2/3 (:meth:`GeneralizedAlpha.benchmark`).

:func:`step_linear` advances a linear system; the nonlinear ventricle uses the same
coefficients (:meth:`GeneralizedAlpha.stage`) inside its Newton loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..errors import ParameterError


@dataclass(frozen=True)
class GeneralizedAlpha:
    """Coefficients of the generalized-alpha scheme (dimensionless)."""

    alpha_m: float = 0.2
    alpha_f: float = 0.4
    gamma: float = 0.7
    beta: float = 0.36

    def __post_init__(self):
        for n in ("alpha_m", "alpha_f", "gamma", "beta"):
            v = getattr(self, n)
            if not (isinstance(v, (int, float)) and math.isfinite(v)):
                raise ParameterError(f"generalized-alpha {n} must be a finite number, got {v!r}")
        if not (self.alpha_m <= self.alpha_f <= 0.5 and self.beta >= 0.25 + 0.5 * (self.alpha_f - self.alpha_m)):
            raise ParameterError(f"generalized-alpha {self} is not unconditionally stable: it needs alpha_m <= "
                                 f"alpha_f <= 1/2 and beta >= 1/4 + (alpha_f - alpha_m)/2")

    @classmethod
    def benchmark(cls) -> GeneralizedAlpha:
        """alpha_m 0.2, alpha_f 0.4, gamma 0.7, beta 0.36 (Arostica et al. 2025)."""
        return cls(0.2, 0.4, 0.7, 0.36)

    @classmethod
    def from_rho_inf(cls, rho_inf: float) -> GeneralizedAlpha:
        """Second-order, unconditionally stable, spectral radius ``rho_inf`` in [0, 1] at infinity."""
        if not (0.0 <= rho_inf <= 1.0):
            raise ParameterError(f"rho_inf must be in [0, 1], got {rho_inf!r}")
        am = (2 * rho_inf - 1) / (rho_inf + 1)
        af = rho_inf / (rho_inf + 1)
        return cls(am, af, 0.5 - am + af, 0.25 * (1 - am + af) ** 2)

    @property
    def second_order(self) -> bool:
        return abs(self.gamma - (0.5 - self.alpha_m + self.alpha_f)) < 1e-12

    def stage(self, u0, v0, a0, a1, dt: float):
        """(u1, v1, u at 1 - alpha_f, v at 1 - alpha_f, a at 1 - alpha_m) from a trial a1."""
        u1 = u0 + dt * v0 + dt * dt * ((0.5 - self.beta) * a0 + self.beta * a1)
        v1 = v0 + dt * ((1 - self.gamma) * a0 + self.gamma * a1)
        af, am = self.alpha_f, self.alpha_m
        return u1, v1, (1 - af) * u1 + af * u0, (1 - af) * v1 + af * v0, (1 - am) * a1 + am * a0


def step_linear(scheme: GeneralizedAlpha, M, C, K, f_mid, u0, v0, a0, dt: float, solve=None):
    """One step of M a + C v + K u = f: returns (u1, v1, a1).

    ``f_mid`` is the load at t0 + (1 - alpha_f) dt. ``solve`` (optional) solves with the
    effective matrix (1 - alpha_m) M + (1 - alpha_f)(gamma dt C + beta dt^2 K), e.g. a
    factorisation reused over steps (:func:`effective_matrix`).
    """
    s = scheme
    # the balance at the intermediate times with a1 = 0, then the part linear in a1
    _, _, um, vm, am = s.stage(u0, v0, a0, np.zeros_like(a0), dt)
    rhs = f_mid - M @ am - C @ vm - K @ um
    a1 = _solve(effective_matrix(s, M, C, K, dt), rhs) if solve is None else solve(rhs)
    u1, v1, _, _, _ = s.stage(u0, v0, a0, a1, dt)
    return u1, v1, a1


def effective_matrix(scheme: GeneralizedAlpha, M, C, K, dt: float):
    """(1 - alpha_m) M + (1 - alpha_f)(gamma dt C + beta dt^2 K): d(balance)/d(a1)."""
    s = scheme
    return (1 - s.alpha_m) * M + (1 - s.alpha_f) * (s.gamma * dt * C + s.beta * dt * dt * K)


def step_midpoint_linear(M, C, K, f_mid, u0, v0, dt: float):
    """One step of the energy-consistent mid-point scheme for M a + C v + K u = f: (u1, v1).

    u1 - u0 = dt v_mid and M (v1 - v0) / dt + C v_mid + K u_mid = f_mid, with mid-point
    values x_mid = (x0 + x1) / 2 (Simo & Tarnow 1992; the scheme of the 0D model, Chapelle et
    al. 2012). The discrete energy E = v'Mv/2 + u'Ku/2 then changes by exactly
    dt v_mid' (f_mid - C v_mid): work of the load minus viscous dissipation, no numerical
    damping (:func:`energy`).
    """
    A = M / dt + 0.5 * C + 0.25 * dt * K
    rhs = f_mid + M @ v0 / dt - 0.5 * (C @ v0) - K @ u0 - 0.25 * dt * (K @ v0)
    v1 = _solve(A, rhs)
    u1 = u0 + 0.5 * dt * (v0 + v1)
    return u1, v1


def _solve(A, rhs):
    return spla.spsolve(sp.csc_matrix(A), rhs) if sp.issparse(A) else np.linalg.solve(A, rhs)


def energy(M, K, u, v) -> float:
    """Kinetic plus stored energy v'Mv/2 + u'Ku/2 of a linear system."""
    return 0.5 * float(v @ (M @ v)) + 0.5 * float(u @ (K @ u))
