"""Numba kernels of the 0D spherical ventricle (Caruel et al. 2014) and its circulation.

Plain functions over float64 arrays, no Python objects: :mod:`cardiosim.models.sphere`
packs the dataclasses into the arrays below and unpacks the results.

Time scheme (Chapelle et al. 2012 style, energy-consistent mid-point):

* kinematics ``y1 - y0 = h (v0 + v1) / 2``;
* stored energies enter through *discrete gradients*: the passive stress is
  ``2 [W(C1) - W(C0)] / (C1 - C0)`` and the series-spring terms use a symmetric
  Itoh-Abe gradient, so that ``stress * delta_strain == delta_energy`` holds exactly;
* the cavity-pressure work uses ``Delta V / (4 pi R0^2 Delta y)``, which makes
  ``P * Delta V`` appear exactly in the discrete balance;
* dissipative terms (wall viscosity, contractile damping, valves, resistors) are
  evaluated with step increments, so their discrete dissipation is non-negative;
* linear ODEs (active law, Windkessel) use the trapezoidal (mid-point) rule in closed form.

The resulting discrete energy identity per step (per unit reference wall volume)::

    P dV / (4 pi R0^2 d0) = d(rho v^2/2) + d(W + W_s) + Sigma_v de + mu dec^2/h + tau_c,m dec

holds to the Newton tolerance; ``tests/test_sphere_energy.py`` checks it.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# ---- packed sphere parameters (index into the float64 array ``sp``) -----------------
S_R0, S_D0, S_RHO = 0, 1, 2
S_C0, S_C1, S_C2, S_C3 = 3, 4, 5, 6
S_ETA, S_ES, S_MU, S_ALPHA, S_ALPHA_R, S_K0, S_SIGMA0 = 7, 8, 9, 10, 11, 12, 13
S_LAW = 14  # 0: Bestel-Clement-Sorine with length dependence, 1: simplified Bestel
S_SIGMA_MAX, S_ALPHA_MAX, S_ALPHA_MIN, S_TSYS, S_TDIA, S_GAMMA = 15, 16, 17, 18, 19, 20
S_TREF, S_TSCALE_EXP = 21, 22
S_THETA = 23  # velocity weight of the kinematic relation, 0.5 = mid-point
N_SPHERE = 24

# ---- packed circulation (index into ``cp``) -----------------------------------------
V_IN_TYPE, V_IN_RMIN, V_IN_RMAX, V_IN_K = 0, 1, 2, 3
V_OUT_TYPE, V_OUT_RMIN, V_OUT_RMAX, V_OUT_K = 4, 5, 6, 7
A_A = 8  # 2x2 row-major: dx/dt = A x + b Q + f
A_B = 12
A_F = 14
A_E = 16  # P_entry = e . x + Z Q
A_Z = 18
N_CIRC = 19

# ---- state vector -------------------------------------------------------------------
X_T, X_Y, X_V, X_EC, X_TAU, X_KC, X_OM, X_P1, X_P2, X_PV, X_QO = range(11)
N_STATE = 11

# ---- recorded fields per step -------------------------------------------------------
# node values are at the end of the step, "mid" values are step averages (t - h/2)
O_T, O_Y, O_V, O_EC, O_TAU, O_KC, O_OM, O_X1, O_X2 = range(9)
O_PV, O_QIN, O_QOUT, O_PAT, O_PENTRY, O_ACT = 9, 10, 11, 12, 13, 14
# energy increments over the step [J]
O_E_PDV, O_E_KIN, O_E_ELASTIC, O_E_VISC, O_E_DAMP, O_E_ACTIVE, O_E_NUM = 15, 16, 17, 18, 19, 20, 21
N_OUT = 22

# status codes
OK, NEWTON_FAILED, NONFINITE = 0, 1, 2


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
def passive_energy(C, sp):
    """Caruel exponential strain energy per unit reference volume [Pa], C = (R/R0)^2."""
    j1 = 2.0 * C + 1.0 / (C * C) - 3.0
    j4 = C - 1.0
    return sp[S_C0] * math.exp(sp[S_C1] * j1 * j1) + sp[S_C2] * math.exp(sp[S_C3] * j4 * j4)


@njit(cache=True, inline="always")
def passive_stress(C, sp):
    """Spherical passive stress Sigma_p = 2 dW/dC [Pa]."""
    j1 = 2.0 * C + 1.0 / (C * C) - 3.0
    j4 = C - 1.0
    t1 = 8.0 * sp[S_C0] * sp[S_C1] * j1 * (1.0 - 1.0 / (C * C * C)) * math.exp(sp[S_C1] * j1 * j1)
    t4 = 4.0 * sp[S_C2] * sp[S_C3] * j4 * math.exp(sp[S_C3] * j4 * j4)
    return t1 + t4


@njit(cache=True, inline="always")
def passive_stiffness(C, sp):
    """d Sigma_p / dC [Pa] (for the Newton Jacobian)."""
    ci3 = 1.0 / (C * C * C)
    j1 = 2.0 * C + 1.0 / (C * C) - 3.0
    dj1 = 2.0 - 2.0 * ci3
    e1 = math.exp(sp[S_C1] * j1 * j1)
    j4 = C - 1.0
    e4 = math.exp(sp[S_C3] * j4 * j4)
    t1 = 8.0 * sp[S_C0] * sp[S_C1] * e1 * (dj1 * (1.0 - ci3) + j1 * 3.0 * ci3 / C
                                           + j1 * (1.0 - ci3) * 2.0 * sp[S_C1] * j1 * dj1)
    t4 = 4.0 * sp[S_C2] * sp[S_C3] * e4 * (1.0 + 2.0 * sp[S_C3] * j4 * j4)
    return t1 + t4


@njit(cache=True, inline="always")
def passive_stress_dg(Ca, Cb, Wa, Wb, sp):
    """Discrete gradient 2 (W(Cb) - W(Ca)) / (Cb - Ca), mid-point stress when Cb ~ Ca."""
    dC = Cb - Ca
    if abs(dC) > 1e-7 * max(1.0, abs(Ca)):
        return 2.0 * (Wb - Wa) / dC
    return passive_stress(0.5 * (Ca + Cb), sp)


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
def valve_flow(dp, vtype, rmin, rmax, k):
    """Flow through a valve [m^3/s] and d(flow)/d(dp) for a pressure drop dp [Pa].

    vtype 0 (smoothed): R(dp) = Rmin + (Rmax - Rmin) (1 - tanh(k dp)) / 2, Q = dp / R.
    vtype 1 (ideal diode with closed leak): Q = dp/Rmin if dp > 0 else dp/Rmax.
    """
    if vtype == 1:
        if dp > 0.0:
            return dp / rmin, 1.0 / rmin
        return dp / rmax, 1.0 / rmax
    th = math.tanh(k * dp)
    r = rmin + (rmax - rmin) * 0.5 * (1.0 - th)
    dr = -(rmax - rmin) * 0.5 * k * (1.0 - th * th)
    q = dp / r
    return q, (r - dp * dr) / (r * r)


@njit(cache=True, inline="always")
def activation_rate(t_beat, T_beat, sp, ut, uv):
    """Activation input u(t) [1/s] (BCS) or a(t) (simplified law) at time t_beat in the beat.

    The published profile is defined for a beat of sp[S_TREF] s; its times are scaled by
    (T_beat / T_ref)^exponent (0.5: Bazett-like, systole shortens less than diastole).
    """
    scale = (T_beat / sp[S_TREF]) ** sp[S_TSCALE_EXP]
    ts = t_beat / scale
    if sp[S_LAW] == 0.0:
        return interp_clamped(ts, ut, uv)
    g = sp[S_GAMMA]
    splus = 0.5 * (1.0 + math.tanh((ts - sp[S_TSYS]) / g))
    sminus = 0.5 * (1.0 - math.tanh((ts - sp[S_TDIA]) / g))
    f = splus * sminus
    return sp[S_ALPHA_MAX] * f + sp[S_ALPHA_MIN] * (1.0 - f)


@njit(cache=True, inline="always")
def active_update(ec0, ec1, tau0, kc0, om0, u, h, sp, n0x, n0y, m0x, m0y):
    """Closed-form trapezoidal update of (omega, k_c, tau_c) for a given e_c increment.

    BCS law with length dependence (Caruel 2014):
      k_c' = -(|u|+ + om |u|- + alpha |ec'|) k_c + n0(ec) k0 |u|+
      tau_c' = -(|u|+ + om |u|- + alpha |ec'|) tau_c + k_c ec' + n0(ec) sigma0 |u|+
      om' = (m0(ec) - om) / alpha_r
    Simplified law: tau' = -|a| tau + sigma_max |a|+ (k_c, om unused).
    """
    up = max(u, 0.0)
    um = max(-u, 0.0)
    if sp[S_LAW] != 0.0:
        a = abs(u)
        tau1 = ((1.0 - 0.5 * h * a) * tau0 + h * sp[S_SIGMA_MAX] * up) / (1.0 + 0.5 * h * a)
        return tau1, kc0, om0
    ecm = 0.5 * (ec0 + ec1)
    decdt = (ec1 - ec0) / h
    ar = sp[S_ALPHA_R]
    om1 = ((1.0 - 0.5 * h / ar) * om0 + h * interp_clamped(ecm, m0x, m0y) / ar) / (1.0 + 0.5 * h / ar)
    a = up + 0.5 * (om0 + om1) * um + sp[S_ALPHA] * abs(decdt)
    n0 = interp_clamped(ecm, n0x, n0y)
    kc1 = ((1.0 - 0.5 * h * a) * kc0 + h * n0 * sp[S_K0] * up) / (1.0 + 0.5 * h * a)
    km = 0.5 * (kc0 + kc1)
    tau1 = ((1.0 - 0.5 * h * a) * tau0 + h * (km * decdt + n0 * sp[S_SIGMA0] * up)) / (1.0 + 0.5 * h * a)
    return tau1, kc1, om1


@njit(cache=True, inline="always")
def step_kinematics(y0, y1, R0):
    """Stretch a = 1 + y/R0, C = a^2 and fibre strain e = (C - 1)/2 at both ends of a step."""
    a0 = 1.0 + y0 / R0
    a1 = 1.0 + y1 / R0
    C0 = a0 * a0
    C1 = a1 * a1
    return a0, a1, C0, C1, 0.5 * (C0 - 1.0), 0.5 * (C1 - 1.0)


@njit(cache=True, inline="always")
def wall_residual(y1, ec1, st, h, u, W0, sp, n0x, n0y, m0x, m0y):
    """Wall momentum (without the pressure term) and contractile-element residuals [Pa].

    Returns F1, F2, Sigma_visc, tau_act_mid (the active stress doing work on the step),
    the updated active state (tau1, kc1, om1) and W(C1).
    """
    R0 = sp[S_R0]
    d0 = sp[S_D0]
    y0 = st[X_Y]
    v0 = st[X_V]
    ec0 = st[X_EC]
    a0, a1, C0, C1, e0, e1 = step_kinematics(y0, y1, R0)
    W1 = passive_energy(C1, sp)
    sig = passive_stress_dg(C0, C1, W0, W1, sp)
    Cm = 0.5 * (C0 + C1)
    cm6 = 1.0 / (Cm * Cm * Cm * Cm * Cm * Cm)
    # viscous stress eta C' (1 + 2 C^-6), from the pseudo-potential (eta/2) tr(E'^2) of an
    # incompressible shell; dissipation sig_v de = eta dC^2 (1 + 2 C^-6) / (2h) >= 0
    sig_v = sp[S_ETA] * (C1 - C0) / h * (1.0 + 2.0 * cm6)
    tau1, kc1, om1 = active_update(ec0, ec1, st[X_TAU], st[X_KC], st[X_OM], u, h, sp, n0x, n0y, m0x, m0y)
    taum = 0.5 * (st[X_TAU] + tau1)
    if sp[S_LAW] == 0.0:
        t1d, g = series_dg(e0, e1, ec0, ec1, sp[S_ES])
        F2 = sp[S_MU] * (ec1 - ec0) / h + g + taum
        act = t1d
    else:
        F2 = ec1 - ec0
        act = taum
    th = sp[S_THETA]
    # y1 - y0 = h ((1-th) v0 + th v1)
    v1 = ((y1 - y0) / h - (1.0 - th) * v0) / th
    F1 = sp[S_RHO] * d0 * (v1 - v0) / h + d0 / R0 * 0.5 * (a0 + a1) * (sig + sig_v + act)
    return F1, F2, sig_v, taum, tau1, kc1, om1, W1


@njit(cache=True, inline="always")
def solve_step_system(J00, J01, J02, J10, J11, J20, J22, J32, J33, r0, r1, r2, r3):
    """Solve the step's Newton system, whose sparsity is fixed::

        [J00 J01 J02  0 ] [dy]   [r0]      momentum
        [J10 J11  0   0 ] [dc] = [r1]      contractile element
        [J20  0  J22  1 ] [dP]   [r2]      mass balance
        [ 0   0  J32 J33] [dQ]   [r3]      outlet valve

    by eliminating dQ and dP (pivots J33 = 1 + beta g' > 0 and J22 - J32/J33 = g_in' +
    g_out'/J33 > 0 are valve conductance terms), then a 2x2 solve. Scalars only: no arrays
    in the time loop. Returns (ok, dy, dc, dP, dQ).
    """
    r2p = r2 - r3 / J33
    J22p = J22 - J32 / J33
    if J22p == 0.0:
        return False, 0.0, 0.0, 0.0, 0.0
    A00 = J00 - J02 * J20 / J22p
    b0 = r0 - J02 * r2p / J22p
    det = A00 * J11 - J01 * J10
    if det == 0.0:
        return False, 0.0, 0.0, 0.0, 0.0
    dy = (b0 * J11 - J01 * r1) / det
    dc = (A00 * r1 - J10 * b0) / det
    dP = (r2p - J20 * dy) / J22p
    dQ = (r3 - J32 * dP) / J33
    return True, dy, dc, dP, dQ


@njit(cache=True)
def afterload_step_matrices(cp, h):
    """M = (I - h/2 A)^-1 and N = M (I + h/2 A) for the 2-state linear afterload."""
    a00 = cp[A_A]
    a01 = cp[A_A + 1]
    a10 = cp[A_A + 2]
    a11 = cp[A_A + 3]
    m00 = 1.0 - 0.5 * h * a00
    m01 = -0.5 * h * a01
    m10 = -0.5 * h * a10
    m11 = 1.0 - 0.5 * h * a11
    det = m00 * m11 - m01 * m10
    M = np.empty((2, 2))
    M[0, 0] = m11 / det
    M[0, 1] = -m01 / det
    M[1, 0] = -m10 / det
    M[1, 1] = m00 / det
    P = np.empty((2, 2))
    P[0, 0] = 1.0 + 0.5 * h * a00
    P[0, 1] = 0.5 * h * a01
    P[1, 0] = 0.5 * h * a10
    P[1, 1] = 1.0 + 0.5 * h * a11
    N = M @ P
    return M, N


# scales of the unknowns (y [m] relative to R0, e_c, P [Pa], Q [m^3/s]) and residuals
_ZS_P, _ZS_Q = 1.0e3, 1.0e-4
_RS_F, _RS_Q = 1.0e3, 1.0e-4


@njit(cache=True, inline="always")
def residual(y1, ec1, P, Qo, st, h, u, p_at, alpha, beta, a0, V0, W0, sp, cp, n0x, n0y, m0x, m0y):
    """Residual of the step system at (y1, e_c1, P_v, Q_out) and its scaled max-norm.

    Returns (rn, r0, r1, r2, r3, Q_in, dQ_in/dP, dQ_out/d(dp), wall) with ``wall`` the
    extra outputs of :func:`wall_residual` (kept so that the accepted iterate is not
    recomputed).
    """
    R0 = sp[S_R0]
    a1 = 1.0 + y1 / R0
    if a1 <= 0.0:
        return np.inf, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    F1, F2, sig_v, taum, tau1, kc1, om1, W1 = wall_residual(y1, ec1, st, h, u, W0, sp, n0x, n0y, m0x, m0y)
    qin, dqin = valve_flow(p_at - P, cp[V_IN_TYPE], cp[V_IN_RMIN], cp[V_IN_RMAX], cp[V_IN_K])
    qo_v, dqo = valve_flow(P - alpha - beta * Qo, cp[V_OUT_TYPE], cp[V_OUT_RMIN], cp[V_OUT_RMAX], cp[V_OUT_K])
    cdisc = (a0 * a0 + a0 * a1 + a1 * a1) / 3.0
    V1 = 4.0 / 3.0 * math.pi * R0 * R0 * R0 * a1 * a1 * a1
    r0 = F1 - P * cdisc
    r1 = F2
    r2 = (V1 - V0) / h - qin + Qo
    r3 = Qo - qo_v
    rn = max(abs(r0) / _RS_F, abs(r1) / _RS_F)
    rn = max(rn, max(abs(r2), abs(r3)) / _RS_Q)
    return rn, r0, r1, r2, r3, qin, dqin, dqo, (sig_v, taum, tau1, kc1, om1, W1)


@njit(cache=True, inline="always")
def wall_jacobian(y1, ec1, st, h, u, W0, sp, n0x, n0y, m0x, m0y):
    """Derivatives (dF1/dy1, dF1/dec1, dF2/dy1, dF2/dec1) of :func:`wall_residual`.

    Analytic except for the active-law update, differenced in e_c alone (|e_c'| and the
    n0/m0 tables have kinks). tests/test_sphere_kernels.py checks it against differences
    of the whole residual.
    """
    R0 = sp[S_R0]
    d0 = sp[S_D0]
    y0 = st[X_Y]
    ec0 = st[X_EC]
    a0, a1, C0, C1, e0, e1 = step_kinematics(y0, y1, R0)
    dC = C1 - C0
    Cm = 0.5 * (C0 + C1)
    W1 = passive_energy(C1, sp)
    sig = passive_stress_dg(C0, C1, W0, W1, sp)
    if abs(dC) > 1e-4:
        dsig = (passive_stress(C1, sp) - sig) / dC
    else:
        dsig = 0.5 * passive_stiffness(Cm, sp)
    cm6 = 1.0 / (Cm * Cm * Cm * Cm * Cm * Cm)
    eta = sp[S_ETA]
    sig_v = eta * dC / h * (1.0 + 2.0 * cm6)
    dsig_v = eta / h * ((1.0 + 2.0 * cm6) - 6.0 * dC * cm6 / Cm)
    dC1_dy = 2.0 * a1 / R0
    de1_dy = a1 / R0
    th = sp[S_THETA]
    lever = d0 / R0 * 0.5 * (a0 + a1)
    if sp[S_LAW] == 0.0:
        Es = sp[S_ES]
        t1d, _ = series_dg(e0, e1, ec0, ec1, Es)
        q0 = 1.0 + 2.0 * ec0
        q1 = 1.0 + 2.0 * ec1
        em = 0.5 * (e0 + e1)
        dt_de1 = 0.25 * Es * (1.0 / (q0 * q0) + 1.0 / (q1 * q1))
        dt_dc1 = 0.5 * Es * (-1.0 / (q1 * q1) - 4.0 * (em - ec1) / (q1 * q1 * q1))
        s0 = (e1 - ec0) / q0
        s1 = (e1 - ec1) / q1
        dg_de1 = -0.25 * Es / (q0 * q1) * (2.0 * (s0 + s1) + (1.0 + 2.0 * e1) * (1.0 / q0 + 1.0 / q1))
        dg_dc1 = 0.0
        for e in (e0, e1):
            p = 1.0 + 2.0 * e
            sa = (e - ec0) / q0
            sb = (e - ec1) / q1
            dg_dc1 += -0.25 * Es * p * (-p / (q0 * q1 * q1 * q1) - 2.0 * (sa + sb) / (q0 * q1 * q1))
        dec = 1e-7
        ta, _, _ = active_update(ec0, ec1, st[X_TAU], st[X_KC], st[X_OM], u, h, sp, n0x, n0y, m0x, m0y)
        tb, _, _ = active_update(ec0, ec1 + dec, st[X_TAU], st[X_KC], st[X_OM], u, h, sp, n0x, n0y, m0x, m0y)
        dtaum = 0.5 * (tb - ta) / dec
        act = t1d
        dact_dy = dt_de1 * de1_dy
        dF1dc = lever * dt_dc1
        dF2dy = dg_de1 * de1_dy
        dF2dc = sp[S_MU] / h + dg_dc1 + dtaum
    else:
        ta, _, _ = active_update(ec0, ec1, st[X_TAU], st[X_KC], st[X_OM], u, h, sp, n0x, n0y, m0x, m0y)
        act = 0.5 * (st[X_TAU] + ta)
        dact_dy = 0.0
        dF1dc = 0.0
        dF2dy = 0.0
        dF2dc = 1.0
    dF1dy = sp[S_RHO] * d0 / (th * h * h) + 0.5 * d0 / (R0 * R0) * (sig + sig_v + act) \
        + lever * ((dsig + dsig_v) * dC1_dy + dact_dy)
    return dF1dy, dF1dc, dF2dy, dF2dc


@njit(cache=True, inline="always")
def step(st, h, t_beat, T_beat, sp, cp, pre_t, pre_p, ut, uv, n0x, n0y, m0x, m0y, M, N,
         tol, max_iter, out_row, pred):
    """Advance the state ``st`` by one step of length h in place; fill ``out_row``.

    ``pred`` (5 floats) carries the predictor between steps. Returns a status code (OK,
    NEWTON_FAILED, NONFINITE); on failure ``st`` is unchanged.
    """
    R0 = sp[S_R0]
    d0 = sp[S_D0]
    tm = t_beat + 0.5 * h
    u = activation_rate(tm, T_beat, sp, ut, uv)
    p_at = interp_clamped(tm / T_beat, pre_t, pre_p)

    y0 = st[X_Y]
    a0 = 1.0 + y0 / R0
    C0 = a0 * a0
    W0 = passive_energy(C0, sp)
    V0 = 4.0 / 3.0 * math.pi * R0 * R0 * R0 * a0 * a0 * a0

    # afterload condensed to P_entry,mid = alpha + beta Q_out
    x0a = st[X_P1]
    x0b = st[X_P2]
    fb0 = N[0, 0] * x0a + N[0, 1] * x0b + h * (M[0, 0] * cp[A_F] + M[0, 1] * cp[A_F + 1])
    fb1 = N[1, 0] * x0a + N[1, 1] * x0b + h * (M[1, 0] * cp[A_F] + M[1, 1] * cp[A_F + 1])
    gb0 = h * (M[0, 0] * cp[A_B] + M[0, 1] * cp[A_B + 1])
    gb1 = h * (M[1, 0] * cp[A_B] + M[1, 1] * cp[A_B + 1])
    alpha = cp[A_E] * 0.5 * (x0a + fb0) + cp[A_E + 1] * 0.5 * (x0b + fb1)
    beta = cp[A_Z] + 0.5 * (cp[A_E] * gb0 + cp[A_E + 1] * gb1)

    # predictor: linear extrapolation of the last step (increments in pred[0:4], valid
    # while pred[4] == 1)
    if pred[4] == 1.0:
        y1 = y0 + pred[0]
        ec1 = st[X_EC] + pred[1]
        P = st[X_PV] + pred[2]
        Qo = st[X_QO] + pred[3]
    else:
        y1 = y0 + h * st[X_V]
        ec1 = st[X_EC]
        P = st[X_PV]
        Qo = st[X_QO]
    rn, r0, r1, r2, r3, qin, dqin, dqo, wall = residual(y1, ec1, P, Qo, st, h, u, p_at, alpha, beta, a0, V0, W0,
                                                  sp, cp, n0x, n0y, m0x, m0y)
    if not math.isfinite(rn):
        return NONFINITE
    converged = False
    fresh = False
    J00 = J01 = J02 = J10 = J11 = J20 = J22 = J32 = J33 = 0.0
    for it in range(max_iter):
        # chord Newton: the Jacobian is rebuilt only when the last iteration did not contract well
        if not fresh:
            J00, J01, J10, J11 = wall_jacobian(y1, ec1, st, h, u, W0, sp, n0x, n0y, m0x, m0y)
            a1 = 1.0 + y1 / R0
            J00 -= P * (a0 + 2.0 * a1) / (3.0 * R0)
            J02 = -(a0 * a0 + a0 * a1 + a1 * a1) / 3.0
            J20 = 4.0 * math.pi * R0 * R0 * a1 * a1 / h
            J22 = dqin
            J32 = -dqo
            J33 = 1.0 + beta * dqo
            fresh = True
        ok, dy, dc, dP, dQ = solve_step_system(J00, J01, J02, J10, J11, J20, J22, J32, J33, r0, r1, r2, r3)
        if not ok:
            return NEWTON_FAILED
        lam = 1.0
        for ls in range(12):
            yt = y1 - lam * dy
            ct = ec1 - lam * dc
            Pt = P - lam * dP
            Qt = Qo - lam * dQ
            rnt, t0, t1, t2, t3, tqin, tdqin, tdqo, twall = residual(yt, ct, Pt, Qt, st, h, u, p_at, alpha, beta, a0, V0,
                                                              W0, sp, cp, n0x, n0y, m0x, m0y)
            # backtracking keeps Newton from cycling across the sharp valve switch
            if rnt < rn or rnt < 1e-13:
                break
            lam *= 0.5
        incr = max(abs(yt - y1) / R0, abs(ct - ec1))
        incr = max(incr, max(abs(Pt - P) / _ZS_P, abs(Qt - Qo) / _ZS_Q))
        if rnt > 0.1 * rn:
            fresh = False
        y1, ec1, P, Qo = yt, ct, Pt, Qt
        r0, r1, r2, r3 = t0, t1, t2, t3
        qin, dqin, dqo = tqin, tdqin, tdqo
        wall = twall
        rn = rnt
        if not math.isfinite(rn):
            return NONFINITE
        # converged when the update is negligible, or when the residual itself already is
        # (saves the confirming iteration after a quadratically convergent step)
        if incr < tol or rn < 1e-3 * tol:
            converged = True
            break
    if not converged:
        return NEWTON_FAILED

    a1 = 1.0 + y1 / R0
    C1 = a1 * a1
    sig_v, taum, tau1, kc1, om1, W1 = wall
    th = sp[S_THETA]
    v0 = st[X_V]
    v1 = ((y1 - y0) / h - (1.0 - th) * v0) / th
    xa = fb0 + gb0 * Qo
    xb = fb1 + gb1 * Qo
    V1 = 4.0 / 3.0 * math.pi * R0 * R0 * R0 * a1 * a1 * a1
    if not (math.isfinite(v1) and math.isfinite(xa) and math.isfinite(xb) and math.isfinite(tau1)):
        return NONFINITE

    # energy increments [J] (exact discrete identities, see module docstring)
    vol_wall = 4.0 * math.pi * R0 * R0 * d0
    e0 = 0.5 * (C0 - 1.0)
    e1 = 0.5 * (C1 - 1.0)
    ec0 = st[X_EC]
    rho = sp[S_RHO]
    dW = W1 - W0
    if sp[S_LAW] == 0.0:
        dW += series_energy(e1, ec1, sp[S_ES]) - series_energy(e0, ec0, sp[S_ES])
        e_act = taum * (ec1 - ec0)
        e_damp = sp[S_MU] * (ec1 - ec0) ** 2 / h
    else:
        e_act = taum * (e1 - e0)
        e_damp = 0.0
    out_row[O_E_PDV] = P * (V1 - V0)
    out_row[O_E_KIN] = vol_wall * 0.5 * rho * (v1 * v1 - v0 * v0)
    out_row[O_E_ELASTIC] = vol_wall * dW
    out_row[O_E_VISC] = vol_wall * sig_v * (e1 - e0)
    out_row[O_E_DAMP] = vol_wall * e_damp
    out_row[O_E_ACTIVE] = vol_wall * e_act
    out_row[O_E_NUM] = vol_wall * (th - 0.5) * rho * (v1 - v0) ** 2

    pred[0] = y1 - y0
    pred[1] = ec1 - st[X_EC]
    pred[2] = P - st[X_PV]
    pred[3] = Qo - st[X_QO]
    pred[4] = 1.0
    st[X_T] += h
    st[X_Y] = y1
    st[X_V] = v1
    st[X_EC] = ec1
    st[X_TAU] = tau1
    st[X_KC] = kc1
    st[X_OM] = om1
    st[X_P1] = xa
    st[X_P2] = xb
    st[X_PV] = P
    st[X_QO] = Qo

    out_row[O_T] = st[X_T]
    out_row[O_Y] = y1
    out_row[O_V] = V1
    out_row[O_EC] = ec1
    out_row[O_TAU] = tau1
    out_row[O_KC] = kc1
    out_row[O_OM] = om1
    out_row[O_X1] = xa
    out_row[O_X2] = xb
    out_row[O_PV] = P
    out_row[O_QIN] = qin
    out_row[O_QOUT] = Qo
    out_row[O_PAT] = p_at
    out_row[O_PENTRY] = alpha + beta * Qo
    out_row[O_ACT] = u
    return OK


@njit(cache=True)
def run_beats(st, beat_T, n_steps, sp, cp, pre_t, pre_p, ut, uv, n0x, n0y, m0x, m0y,
              tol, max_iter, out, record):
    """Run consecutive beats of durations ``beat_T`` with ``n_steps[k]`` steps each.

    ``st`` is advanced in place. If ``record`` is true, ``out`` has one row per step;
    otherwise ``out`` has one row, overwritten each step (fast path for filters).
    Returns (status, global index of the failed step or total steps done).
    """
    row = 0
    scratch = np.empty(N_OUT)
    pred = np.zeros(5)
    for k in range(beat_T.shape[0]):
        T = beat_T[k]
        n = n_steps[k]
        h = T / n
        M, N = afterload_step_matrices(cp, h)
        pred[4] = 0.0  # no extrapolation across a change of step length
        for i in range(n):
            target = out[row] if record else scratch
            status = step(st, h, i * h, T, sp, cp, pre_t, pre_p, ut, uv, n0x, n0y, m0x, m0y,
                          M, N, tol, max_iter, target, pred)
            if status != OK:
                return status, row
            row += 1
    return OK, row
