"""Independent reference of the 0D sphere: the equations of Caruel et al. 2014 as an ODE,
integrated by SciPy's Radau at tight tolerance. Written separately from the Numba kernels
(no shared code besides the parameter dataclasses) so that it can catch their mistakes.

State: y, v, e_c, tau_c, k_c, omega, P_ar, P_d. The cavity pressure is the root of the
mass balance 4 pi R0^2 a^2 v = Q_in(P) - Q_out(P), which makes this an index-1 DAE
reduced to an ODE.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import brentq


def _interp(x, table):
    xs, ys = (np.asarray(a, float) for a in table)
    if x <= xs[0]:
        return ys[0]
    for i in range(len(xs) - 1):
        if x <= xs[i + 1]:
            if xs[i + 1] == xs[i]:
                return ys[i + 1]
            return ys[i] + (ys[i + 1] - ys[i]) * (x - xs[i]) / (xs[i + 1] - xs[i])
    return ys[-1]


def _valve(dp, v):
    r = v.r_open + (v.r_closed - v.r_open) * 0.5 * (1 - np.tanh(v.steepness * dp))
    return dp / r


def make_rhs(model, T):
    p, c = model.params, model.circulation
    wk = c.afterload
    pat = c.preload.pressure
    R0, d0 = p.R0, p.d0
    scale = (T / p.T_ref) ** p.time_scaling

    def sigma_p(C):
        J1 = 2 * C + C ** -2
        return (4 * p.C0 * p.C1 * 2 * (J1 - 3) * np.exp(p.C1 * (J1 - 3) ** 2) * (1 - C ** -3)
                + 2 * p.C2 * 2 * p.C3 * (C - 1) * np.exp(p.C3 * (C - 1) ** 2))

    def pressure(y, v, par):
        a = 1 + y / R0
        dV = 4 * np.pi * R0 ** 2 * a ** 2 * v

        def f(P):
            return _valve(pat - P, c.inlet_valve) - _valve(P - par, c.outlet_valve) - dV
        return brentq(f, -2e5, 2e6, xtol=1e-12, rtol=1e-15, maxiter=500)

    def rhs(t, s):
        y, v, ec, tau, kc, om, par, pd = s
        a = 1 + y / R0
        C = a * a
        Cdot = 2 * a * v / R0
        e = 0.5 * (C - 1)
        u = _interp((t % T) / scale, p.u)
        up, um = max(u, 0.0), max(-u, 0.0)
        ecdot = (p.Es * (e - ec) * (1 + 2 * e) / (1 + 2 * ec) ** 3 - tau) / p.mu
        n0 = _interp(ec, p.n0)
        rate = up + om * um + p.alpha * abs(ecdot)
        kdot = -rate * kc + n0 * p.k0 * up
        taudot = -rate * tau + kc * ecdot + n0 * p.sigma0 * up
        omdot = (_interp(ec, p.m0) - om) / p.alpha_r
        tau1d = p.Es * (e - ec) / (1 + 2 * ec) ** 2
        sig = sigma_p(C) + p.eta * Cdot * (1 + 2 * C ** -6) + tau1d
        P = pressure(y, v, par)
        vdot = (P * C - d0 / R0 * a * sig) / (p.rho * d0)
        qout = _valve(P - par, c.outlet_valve)
        pardot = (qout - (par - pd) / wk.Rp) / wk.Cp
        pddot = ((par - pd) / wk.Rp - (pd - wk.P_venous) / wk.Rd) / wk.Cd
        return [v, vdot, ecdot, taudot, kdot, omdot, pardot, pddot]

    return rhs, pressure


def reference_beat(model, state, T, rtol=1e-10, atol=None, n_out=4000):
    """Integrate one beat of length T from the cardiosim state vector ``state``.

    Returns a dict of times, V [m^3], P_v and P_ar [Pa].
    """
    from cardiosim.models import sphere_kernels as K

    rhs, pressure = make_rhs(model, T)
    s0 = [state[K.X_Y], state[K.X_V], state[K.X_EC], state[K.X_TAU], state[K.X_KC], state[K.X_OM],
          state[K.X_C], state[K.X_C + 1]]
    if atol is None:
        atol = np.array([1e-12, 1e-10, 1e-12, 1e-6, 1e-6, 1e-12, 1e-6, 1e-6])
    t_eval = np.linspace(0, T, n_out + 1)
    sol = solve_ivp(rhs, (0.0, T), s0, method="Radau", rtol=rtol, atol=atol, t_eval=t_eval)
    if not sol.success:
        raise RuntimeError(sol.message)
    y, v, par = sol.y[0], sol.y[1], sol.y[6]
    R0 = model.params.R0
    V = 4 / 3 * np.pi * (R0 + y) ** 3
    pv = np.array([pressure(yy, vv, pp) for yy, vv, pp in zip(y, v, par)])
    return {"t": sol.t, "V": V, "P_v": pv, "P_ar": par, "nfev": sol.nfev}
