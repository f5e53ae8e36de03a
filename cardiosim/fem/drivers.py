"""The cardiac elastodynamics benchmark's drivers: active stress and cavity pressure in time.

Arostica et al. (2025), CMAME 435:117485: both independent of the deformation, each the
solution of a first-order ODE driven by switch functions S+-(t) = (1 +- tanh(t / gamma)) / 2:

    tau'(t) = -|a(t)| tau + sigma0 |a(t)|_+,
        a(t) = alpha_max f(t) + alpha_min (1 - f(t)),  f(t) = S+(t - t_sys) S-(t - t_dias);
    p'(t) = -|b(t)| p + sigma_mid |b(t)|_+ + sigma_pre |g_pre(t)|,
        b(t) = a_pre(t) + alpha_pre g_pre(t) + alpha_mid,  g_pre(t) = S-(t - t_dias_pre),

from tau(0) = p(0) = 0, where a_pre is a with the pressure's own switch times t_sys_pre and
t_dias_pre. (The pressure's switch times as in the Simula reference code
finsberg/cardiac_benchmark, whose pressure peak, 16.07 kPa, is the paper's 16.1; with
g_pre = S-(t - t_sys_pre) and a(t) the activation's own, the peak would be 13.7 kPa.) :func:`integrate` solves them with an exponential midpoint step
(exact for a rate held over the step; second order in dt where the rates are smooth,
between first and second across the kinks of |a| and |b|), on the time grid the FE run uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError


def _s_plus(t, gamma):
    return 0.5 * (1.0 + np.tanh(t / gamma))


def _s_minus(t, gamma):
    return 0.5 * (1.0 - np.tanh(t / gamma))


@dataclass(frozen=True)
class BenchmarkDrivers:
    """Parameters of the drivers [SI: s, Pa, 1/s]; the benchmark's by default."""

    sigma0: float = 1.5e5
    alpha_max: float = 5.0
    alpha_min: float = -30.0
    t_sys: float = 0.16
    t_dias: float = 0.484
    gamma: float = 0.005
    alpha_pre: float = 5.0
    alpha_mid: float = 1.0
    sigma_pre: float = 7000.0
    sigma_mid: float = 16000.0
    t_sys_pre: float = 0.17
    t_dias_pre: float = 0.484

    def __post_init__(self):
        for name, v in self.__dict__.items():
            if not (isinstance(v, (int, float)) and math.isfinite(v)):
                raise ParameterError(f"driver parameter {name} must be a finite number, got {v!r}")
        if self.gamma <= 0:
            raise ParameterError(f"driver switch width gamma must be > 0 s, got {self.gamma!r}")

    def _rate(self, t, t_sys, t_dias):
        f = _s_plus(t - t_sys, self.gamma) * _s_minus(t - t_dias, self.gamma)
        return self.alpha_max * f + self.alpha_min * (1.0 - f)

    def a(self, t):
        """Activation rate a(t) [1/s]."""
        return self._rate(t, self.t_sys, self.t_dias)

    def g_pre(self, t):
        return _s_minus(t - self.t_dias_pre, self.gamma)

    def b(self, t):
        """Pressure rate b(t) [1/s]."""
        return self._rate(t, self.t_sys_pre, self.t_dias_pre) + self.alpha_pre * self.g_pre(t) + self.alpha_mid

    def integrate(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(active stress tau [Pa], cavity pressure p [Pa]) at the increasing times ``t`` [s] from 0."""
        t = np.asarray(t, dtype=float)
        if t.ndim != 1 or t.size == 0 or t[0] < 0 or np.any(np.diff(t) <= 0) or not np.all(np.isfinite(t)):
            raise ParameterError("driver times must be a finite, increasing 1-D array starting at t >= 0")
        start = 1 if t[0] > 0 else 0          # integrate from t = 0 even if the first time is later
        grid = np.concatenate([[0.0], t]) if start else t
        tau, p = np.zeros(grid.size), np.zeros(grid.size)
        for i in range(1, grid.size):
            dt = grid[i] - grid[i - 1]
            tm = 0.5 * (grid[i - 1] + grid[i])
            am, bm = self.a(tm), self.b(tm)
            tau[i] = _relax(tau[i - 1], abs(am), self.sigma0 * max(am, 0.0), dt)
            p[i] = _relax(p[i - 1], abs(bm), self.sigma_mid * max(bm, 0.0) + self.sigma_pre * abs(self.g_pre(tm)), dt)
        return tau[start:], p[start:]


def _relax(y, rate, source, dt):
    """y' = -rate y + source over dt with rate and source held: the exact exponential step."""
    if rate * dt < 1e-12:
        return y + source * dt
    eq = source / rate
    return eq + (y - eq) * math.exp(-rate * dt)
