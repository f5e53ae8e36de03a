"""Numba kernels of the Bestel-Clement-Sorine (BCS) active law with a Hill-type series
element: the one implementation the 0D sphere and the 3D ventricle both call.

Laws (Bestel, Clement & Sorine 2001, MICCAI LNCS 2208; length dependence of Caruel et al.
2014, Biomech. Model. Mechanobiol. 13:897-914; discretisation after Chapelle et al. 2012,
Int. J. Multiscale Comput. Eng. 10:189-211). With |u|+ = max(u, 0), |u|- = max(-u, 0):

* BCS with length dependence::

    k_c'   = -(|u|+ + om |u|- + alpha |e_c'|) k_c + n0(e_c) k0 |u|+
    tau_c' = -(|u|+ + om |u|- + alpha |e_c'|) tau_c + k_c e_c' + n0(e_c) sigma0 |u|+
    om'    = (m0(e_c) - om) / alpha_r

* Hill model: series spring E_s with energy (E_s/2) e_s^2, e_s = (e - e_c)/(1 + 2 e_c), in
  series with the contractile element (tau_c and a damping mu):
  tau_1D = E_s (e - e_c)/(1 + 2 e_c)^2,  mu e_c' = E_s (e - e_c)(1 + 2e)/(1 + 2e_c)^3 - tau_c;
* simplified Bestel law: tau' = -|a| tau + sigma_max |a|+, no series element (tau_1D = tau).

``e`` is the fibre Green-Lagrange strain, tau_1D its work-conjugate active stress. The
linear ODEs are advanced by the trapezoidal rule in closed form, the series spring by a
symmetric Itoh-Abe discrete gradient (tau_1D de + g de_c equals the energy change exactly).

Parameters are packed in ``bp`` (indices B_* below, ``N_BCS`` entries); the activation
input's table (ut, uv) and the n0 / m0 tables come as separate arrays. SI units.
"""

from __future__ import annotations

import math

from numba import njit

# ---- packed parameters ---------------------------------------------------------------
B_ES, B_MU, B_ALPHA, B_ALPHA_R, B_K0, B_SIGMA0 = 0, 1, 2, 3, 4, 5
B_LAW = 6  # 0: BCS with length dependence and the series element, 1: simplified Bestel
B_SIGMA_MAX, B_ALPHA_MAX, B_ALPHA_MIN, B_TSYS, B_TDIA, B_GAMMA = 7, 8, 9, 10, 11, 12
B_TREF, B_TSCALE_EXP = 13, 14
N_BCS = 15

# ---- per-point state of the 3D law (columns of the state array) -------------------------
Q_EC, Q_TAU, Q_KC, Q_OM, Q_E = 0, 1, 2, 3, 4  # e_c, tau_c, k_c, omega, fibre strain e
N_STATE = 5


@njit(cache=True, inline="always")
def interp_clamped(x, xp, fp):
    """Piecewise-linear interpolation, constant outside; repeated abscissae make steps."""
    n = xp.shape[0]
    if n == 1 or x <= xp[0]:
        return fp[0]
    for i in range(n - 1):
        if x <= xp[i + 1]:
            dx = xp[i + 1] - xp[i]
            if dx <= 0.0:
                return fp[i + 1]
            return fp[i] + (fp[i + 1] - fp[i]) * (x - xp[i]) / dx
    return fp[n - 1]


@njit(cache=True, inline="always")
def series_energy(e, ec, Es):
    """Series-spring energy (E_s/2) e_s^2 with e_s = (e - ec)/(1 + 2 ec) [Pa]."""
    s = (e - ec) / (1.0 + 2.0 * ec)
    return 0.5 * Es * s * s


@njit(cache=True, inline="always")
def series_dg(e0, e1, c0, c1, Es):
    """Symmetric Itoh-Abe discrete gradient of the series-spring energy.

    Returns (tau_1D, dW_s/dec) such that tau de + g dec == W_s(e1,c1) - W_s(e0,c0) exactly.
    Both differences have closed forms, so no division by a small increment occurs.
    """
    em = 0.5 * (e0 + e1)
    q0 = 1.0 + 2.0 * c0
    q1 = 1.0 + 2.0 * c1
    # W_s is quadratic in e: the difference quotient is the derivative at the mid-point
    tau = 0.5 * Es * ((em - c0) / (q0 * q0) + (em - c1) / (q1 * q1))
    g = 0.0
    for e in (e0, e1):
        s0 = (e - c0) / q0
        s1 = (e - c1) / q1
        g += -0.25 * Es * (1.0 + 2.0 * e) * (s0 + s1) / (q0 * q1)
    return tau, g


@njit(cache=True, inline="always")
def series_dg_derivatives(e0, e1, c0, c1, Es):
    """Partial derivatives (dtau/de1, dtau/dc1, dg/de1, dg/dc1) of :func:`series_dg`."""
    q0 = 1.0 + 2.0 * c0
    q1 = 1.0 + 2.0 * c1
    em = 0.5 * (e0 + e1)
    dt_de1 = 0.25 * Es * (1.0 / (q0 * q0) + 1.0 / (q1 * q1))
    dt_dc1 = 0.5 * Es * (-1.0 / (q1 * q1) - 4.0 * (em - c1) / (q1 * q1 * q1))
    s0 = (e1 - c0) / q0
    s1 = (e1 - c1) / q1
    dg_de1 = -0.25 * Es / (q0 * q1) * (2.0 * (s0 + s1) + (1.0 + 2.0 * e1) * (1.0 / q0 + 1.0 / q1))
    dg_dc1 = 0.0
    for e in (e0, e1):
        p = 1.0 + 2.0 * e
        sa = (e - c0) / q0
        sb = (e - c1) / q1
        # d/dc1 of -(Es/4) p (sa + sb) / (q0 q1), with dsb/dc1 = -p / q1^2
        dg_dc1 += -0.25 * Es * p * (-p / (q0 * q1 * q1 * q1) - 2.0 * (sa + sb) / (q0 * q1 * q1))
    return dt_de1, dt_dc1, dg_de1, dg_dc1


@njit(cache=True, inline="always")
def activation_rate(t_beat, T_beat, bp, ut, uv):
    """Activation input u(t) [1/s] (BCS) or a(t) (simplified law) at time t_beat in the beat.

    The published profile is defined for a beat of bp[B_TREF] s; its times are scaled by
    (T_beat / T_ref)^exponent (0.5: Bazett-like, systole shortens less than diastole).
    """
    scale = (T_beat / bp[B_TREF]) ** bp[B_TSCALE_EXP]
    ts = t_beat / scale
    if bp[B_LAW] == 0.0:
        return interp_clamped(ts, ut, uv)
    g = bp[B_GAMMA]
    splus = 0.5 * (1.0 + math.tanh((ts - bp[B_TSYS]) / g))
    sminus = 0.5 * (1.0 - math.tanh((ts - bp[B_TDIA]) / g))
    f = splus * sminus
    return bp[B_ALPHA_MAX] * f + bp[B_ALPHA_MIN] * (1.0 - f)


@njit(cache=True, inline="always")
def active_update(ec0, ec1, tau0, kc0, om0, u, h, bp, n0x, n0y, m0x, m0y):
    """Closed-form trapezoidal update of (tau_c, k_c, omega) over a step of length h for a
    given e_c increment; returns (tau1, kc1, om1). Simplified law: (tau1, kc0, om0)."""
    up = max(u, 0.0)
    um = max(-u, 0.0)
    if bp[B_LAW] != 0.0:
        a = abs(u)
        tau1 = ((1.0 - 0.5 * h * a) * tau0 + h * bp[B_SIGMA_MAX] * up) / (1.0 + 0.5 * h * a)
        return tau1, kc0, om0
    ecm = 0.5 * (ec0 + ec1)
    decdt = (ec1 - ec0) / h
    ar = bp[B_ALPHA_R]
    om1 = ((1.0 - 0.5 * h / ar) * om0 + h * interp_clamped(ecm, m0x, m0y) / ar) / (1.0 + 0.5 * h / ar)
    a = up + 0.5 * (om0 + om1) * um + bp[B_ALPHA] * abs(decdt)
    n0 = interp_clamped(ecm, n0x, n0y)
    kc1 = ((1.0 - 0.5 * h * a) * kc0 + h * n0 * bp[B_K0] * up) / (1.0 + 0.5 * h * a)
    km = 0.5 * (kc0 + kc1)
    tau1 = ((1.0 - 0.5 * h * a) * tau0 + h * (km * decdt + n0 * bp[B_SIGMA0] * up)) / (1.0 + 0.5 * h * a)
    return tau1, kc1, om1


@njit(cache=True, inline="always")
def contractile_residual(e0, e1, ec0, ec1, tau0, kc0, om0, u, h, bp, n0x, n0y, m0x, m0y):
    """Residual F2 [Pa] of the contractile element over the step,
    mu (ec1 - ec0)/h + dW_s/dec + (tau_c0 + tau_c1)/2 (zero when e_c1 is right), and the
    step's active stress tau_1D (series-spring discrete gradient)."""
    tau1, _, _ = active_update(ec0, ec1, tau0, kc0, om0, u, h, bp, n0x, n0y, m0x, m0y)
    t1d, g = series_dg(e0, e1, ec0, ec1, bp[B_ES])
    return bp[B_MU] * (ec1 - ec0) / h + g + 0.5 * (tau0 + tau1), t1d


@njit(cache=True)
def point_step(e0, e1, ec0, tau0, kc0, om0, u, h, bp, n0x, n0y, m0x, m0y, tol):
    """One step of the law at a material point for a given fibre strain e0 -> e1.

    The series element's e_c1 solves the contractile residual by scalar Newton (its
    derivative in e_c by central differences, as |e_c'| and the tables have kinks), started
    from e_c0 + (e1 - e0). Returns (ok, tau_1D, dtau_1D/de1, ec1, tau1, kc1, om1): the
    active stress of the step conjugate to e, its total derivative in e1 (through e_c1,
    the consistent tangent), and the new state. Simplified law: tau_1D = the mid-step
    tau, derivative 0.
    """
    if bp[B_LAW] != 0.0:
        tau1, kc1, om1 = active_update(ec0, ec0, tau0, kc0, om0, u, h, bp, n0x, n0y, m0x, m0y)
        return True, 0.5 * (tau0 + tau1), 0.0, e1, tau1, kc1, om1
    Es = bp[B_ES]
    ec1 = ec0 + (e1 - e0)
    scale = max(abs(tau0), bp[B_SIGMA0], 1.0)
    ok = False
    dF_dc = 1.0
    for _ in range(50):
        F, _t = contractile_residual(e0, e1, ec0, ec1, tau0, kc0, om0, u, h, bp, n0x, n0y, m0x, m0y)
        d = 1e-7 * max(1.0, abs(ec1))
        Fa, _t = contractile_residual(e0, e1, ec0, ec1 + d, tau0, kc0, om0, u, h, bp, n0x, n0y, m0x, m0y)
        Fb, _t = contractile_residual(e0, e1, ec0, ec1 - d, tau0, kc0, om0, u, h, bp, n0x, n0y, m0x, m0y)
        dF_dc = (Fa - Fb) / (2.0 * d)
        if dF_dc == 0.0 or not math.isfinite(dF_dc):
            break
        step = F / dF_dc
        ec1 -= step
        if abs(F) <= tol * scale or abs(step) <= 1e-15 * max(1.0, abs(ec1)):
            ok = True
            break
    if not ok:
        return False, 0.0, 0.0, ec1, tau0, kc0, om0
    F, t1d = contractile_residual(e0, e1, ec0, ec1, tau0, kc0, om0, u, h, bp, n0x, n0y, m0x, m0y)
    tau1, kc1, om1 = active_update(ec0, ec1, tau0, kc0, om0, u, h, bp, n0x, n0y, m0x, m0y)
    dt_de1, dt_dc1, dg_de1, _ = series_dg_derivatives(e0, e1, ec0, ec1, Es)
    # dF2/de1 = dg/de1 (the active update does not see e); dec1/de1 = -dF2/de1 / dF2/dec1
    dec_de = -dg_de1 / dF_dc
    return True, t1d, dt_de1 + dt_dc1 * dec_de, ec1, tau1, kc1, om1
