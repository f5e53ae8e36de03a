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

from ..circulation import kernels as CK
from ..circulation.kernels import valve_flow
from ..materials import bcs as BK
from ..materials.bcs import interp_clamped, series_dg, series_dg_derivatives, series_energy

# ---- packed sphere parameters (index into the float64 array ``sp``) -----------------
S_R0, S_D0, S_RHO = 0, 1, 2
S_C0, S_C1, S_C2, S_C3 = 3, 4, 5, 6
S_ETA, S_ES, S_MU, S_ALPHA, S_ALPHA_R, S_K0, S_SIGMA0 = 7, 8, 9, 10, 11, 12, 13
S_LAW = 14  # 0: Bestel-Clement-Sorine with length dependence, 1: simplified Bestel
S_SIGMA_MAX, S_ALPHA_MAX, S_ALPHA_MIN, S_TSYS, S_TDIA, S_GAMMA = 15, 16, 17, 18, 19, 20
S_TREF, S_TSCALE_EXP = 21, 22
#: the active law's parameters sp[S_BCS:S_BCS + BK.N_BCS] in the order of :mod:`cardiosim.materials.bcs`
S_BCS = S_ES


@njit(cache=True, inline="always")
def bcs_of(sp):
    """The active law's parameter block of ``sp`` (a view)."""
    return sp[S_BCS:S_BCS + BK.N_BCS]
S_THETA = 23  # velocity weight of the kinematic relation, 0.5 = mid-point
N_SPHERE = 24

# ---- state vector: the ventricle's entries, then the circulation's node pressures -----
X_T, X_Y, X_V, X_EC, X_TAU, X_KC, X_OM, X_PV, X_QO, X_QI = range(10)
X_C = 10  # first circulation state; the state has X_C + n entries

# ---- recorded fields per step, then the circulation's node pressures -----------------
# node values are at the end of the step, "mid" values are step averages (t - h/2)
O_T, O_Y, O_V, O_EC, O_TAU, O_KC, O_OM = range(7)
O_PV, O_QIN, O_QOUT, O_PAT, O_PENTRY, O_ACT = 7, 8, 9, 10, 11, 12
# energy increments over the step [J]
O_E_PDV, O_E_KIN, O_E_ELASTIC, O_E_VISC, O_E_DAMP, O_E_ACTIVE, O_E_NUM = 13, 14, 15, 16, 17, 18, 19
O_C = 20  # first circulation node pressure; a row has O_C + n entries

# status codes
OK, NEWTON_FAILED, NONFINITE = 0, 1, 2

# beat summaries of :func:`run_members` (columns of ``summary``)
B_VMAX, B_VMIN, B_EJECTED, B_WORK, B_PES, B_PVMAX, B_DPDT = range(7)
BEAT_SUMMARIES = ("V_max", "V_min", "ejected", "work", "P_es", "Pv_max", "dPdt_max")


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
    tau1, kc1, om1 = BK.active_update(ec0, ec1, st[X_TAU], st[X_KC], st[X_OM], u, h, bcs_of(sp), n0x, n0y, m0x, m0y)
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


# scales of the unknowns (y [m] relative to R0, e_c, P [Pa], Q [m^3/s]) and residuals
_ZS_P, _ZS_Q = 1.0e3, 1.0e-4
_RS_F, _RS_Q = 1.0e3, 1.0e-4


@njit(cache=True, inline="always")
def residual(y1, ec1, P, Qo, Qi, st, h, u, ports, closed, a0, V0, W0, sp, cp, n0x, n0y, m0x, m0y):
    """Residual of the step system at (y1, e_c1, P_v, Q_out[, Q_in]) and its scaled max-norm.

    ``ports`` = (a_in, b_ii, b_io, a_out, b_oi, b_oo) are the condensed mid-step pressures
    upstream of the inlet valve and downstream of the outlet valve (:func:`CK.condense`);
    open loop: a_in is the prescribed atrial pressure and Q_in follows from it explicitly.
    Returns (rn, r0, r1, r2, r3, r4, Q_in, dQ_in/d(dp), dQ_out/d(dp), wall) with ``wall``
    the extra outputs of :func:`wall_residual` (kept so that the accepted iterate is not
    recomputed).
    """
    R0 = sp[S_R0]
    a1 = 1.0 + y1 / R0
    if a1 <= 0.0:
        return np.inf, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    F1, F2, sig_v, taum, tau1, kc1, om1, W1 = wall_residual(y1, ec1, st, h, u, W0, sp, n0x, n0y, m0x, m0y)
    a_in, b_ii, b_io, alpha, b_oi, beta = ports
    cdisc = (a0 * a0 + a0 * a1 + a1 * a1) / 3.0
    V1 = 4.0 / 3.0 * math.pi * R0 * R0 * R0 * a1 * a1 * a1
    r0 = F1 - P * cdisc
    r1 = F2
    if closed:
        qin, dqin, qo_v, dqo, r4 = closed_valves(P, Qo, Qi, ports, cp)
    else:
        qin, dqin = valve_flow(a_in - P, cp[CK.V_IN_TYPE], cp[CK.V_IN_RMIN], cp[CK.V_IN_RMAX], cp[CK.V_IN_K])
        qo_v, dqo = valve_flow(P - alpha - beta * Qo, cp[CK.V_OUT_TYPE], cp[CK.V_OUT_RMIN],
                               cp[CK.V_OUT_RMAX], cp[CK.V_OUT_K])
        r4 = 0.0
    r2 = (V1 - V0) / h - qin + Qo
    r3 = Qo - qo_v
    rn = max(abs(r0) / _RS_F, abs(r1) / _RS_F)
    rn = max(rn, max(abs(r2), abs(r3)) / _RS_Q)
    if closed:
        rn = max(rn, abs(r4) / _RS_Q)
    return rn, r0, r1, r2, r3, r4, qin, dqin, dqo, (sig_v, taum, tau1, kc1, om1, W1)


@njit(cache=True)
def closed_valves(P, Qo, Qi, ports, cp):
    """Valve flows of the closed loop, where Q_in is an unknown: (Q_in, dQ_in/d(dp),
    Q_out by the valve law, dQ_out/d(dp), residual of Q_in). Out of line, as
    :func:`solve_closed_system`."""
    a_in, b_ii, b_io, alpha, b_oi, beta = ports
    qv, dqin = valve_flow(a_in + b_ii * Qi + b_io * Qo - P, cp[CK.V_IN_TYPE], cp[CK.V_IN_RMIN],
                          cp[CK.V_IN_RMAX], cp[CK.V_IN_K])
    qo_v, dqo = valve_flow(P - alpha - beta * Qo - b_oi * Qi, cp[CK.V_OUT_TYPE], cp[CK.V_OUT_RMIN],
                           cp[CK.V_OUT_RMAX], cp[CK.V_OUT_K])
    return Qi, dqin, qo_v, dqo, Qi - qv


@njit(cache=True)
def solve_closed_system(jw, J00, J01, J02, J10, J11, J20, J32, J33, dqin, dqo, ports, r0, r1, r2, r3, r4):
    """Newton step of the closed loop, unknowns (y, e_c, P, Q_out, Q_in), in the work array ``jw``.

    Q_in is then an unknown: the atrial pressure it comes from depends on it. Kept out of
    line so that the open-loop step stays small. Returns (ok, dy, dc, dP, dQ_out, dQ_in).
    """
    _, b_ii, b_io, _, b_oi, _ = ports
    jw[:, :] = 0.0
    jw[0, 0], jw[0, 1], jw[0, 2], jw[0, 5] = J00, J01, J02, r0
    jw[1, 0], jw[1, 1], jw[1, 5] = J10, J11, r1
    jw[2, 0], jw[2, 3], jw[2, 4], jw[2, 5] = J20, 1.0, -1.0, r2
    jw[3, 2], jw[3, 3], jw[3, 4], jw[3, 5] = J32, J33, dqo * b_oi, r3
    jw[4, 2], jw[4, 3], jw[4, 4], jw[4, 5] = dqin, -dqin * b_io, 1.0 - dqin * b_ii, r4
    ok = solve_dense(jw, 5)
    return ok, jw[0, 5], jw[1, 5], jw[2, 5], jw[3, 5], jw[4, 5]


@njit(cache=True)
def solve_dense(J, n):
    """Gaussian elimination with partial pivoting on the augmented n x (n+1) array ``J``.

    Overwrites ``J``; the solution is left in ``J[:, n]``. Returns False if singular.
    """
    for k in range(n):
        piv = k
        for i in range(k + 1, n):
            if abs(J[i, k]) > abs(J[piv, k]):
                piv = i
        if J[piv, k] == 0.0:
            return False
        if piv != k:
            for c in range(k, n + 1):
                J[k, c], J[piv, c] = J[piv, c], J[k, c]
        for i in range(k + 1, n):
            m = J[i, k] / J[k, k]
            if m != 0.0:
                for c in range(k, n + 1):
                    J[i, c] -= m * J[k, c]
    for k in range(n - 1, -1, -1):
        s = J[k, n]
        for c in range(k + 1, n):
            s -= J[k, c] * J[c, n]
        J[k, n] = s / J[k, k]
    return True


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
        dt_de1, dt_dc1, dg_de1, dg_dc1 = series_dg_derivatives(e0, e1, ec0, ec1, Es)
        dec = 1e-7
        ta, _, _ = BK.active_update(ec0, ec1, st[X_TAU], st[X_KC], st[X_OM], u, h, bcs_of(sp), n0x, n0y, m0x, m0y)
        tb, _, _ = BK.active_update(ec0, ec1 + dec, st[X_TAU], st[X_KC], st[X_OM], u, h, bcs_of(sp), n0x, n0y, m0x, m0y)
        dtaum = 0.5 * (tb - ta) / dec
        act = t1d
        dact_dy = dt_de1 * de1_dy
        dF1dc = lever * dt_dc1
        dF2dy = dg_de1 * de1_dy
        dF2dc = sp[S_MU] / h + dg_dc1 + dtaum
    else:
        ta, _, _ = BK.active_update(ec0, ec1, st[X_TAU], st[X_KC], st[X_OM], u, h, bcs_of(sp), n0x, n0y, m0x, m0y)
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
         tol, max_iter, out_row, pred, xf, gi, go, x1, jw):
    """Advance the state ``st`` by one step of length h in place; fill ``out_row``.

    ``M``, ``N`` are the circulation's step matrices (:func:`CK.step_matrices`), ``xf``,
    ``gi``, ``go``, ``x1`` (n,) and ``jw`` (5, 6) work arrays, ``pred`` (6 floats) the predictor carried between
    steps. Returns a status code (OK, NEWTON_FAILED, NONFINITE); on failure ``st`` is
    unchanged.
    """
    R0 = sp[S_R0]
    d0 = sp[S_D0]
    closed = cp[CK.C_LOOP] != 0.0
    tm = t_beat + 0.5 * h
    u = BK.activation_rate(tm, T_beat, bcs_of(sp), ut, uv)

    y0 = st[X_Y]
    a0 = 1.0 + y0 / R0
    C0 = a0 * a0
    W0 = passive_energy(C0, sp)
    V0 = 4.0 / 3.0 * math.pi * R0 * R0 * R0 * a0 * a0 * a0

    # the circulation condensed onto the two flows: mid-step port pressures alpha + beta q
    a_in, b_ii, b_io, alpha, b_oi, beta = CK.condense(cp, st, X_C, M, N, h, xf, gi, go)
    if not closed:
        a_in = interp_clamped(tm / T_beat, pre_t, pre_p)
    ports = (a_in, b_ii, b_io, alpha, b_oi, beta)

    # predictor: linear extrapolation of the last step (increments in pred[0:5], valid
    # while pred[5] == 1)
    if pred[5] == 1.0:
        y1 = y0 + pred[0]
        ec1 = st[X_EC] + pred[1]
        P = st[X_PV] + pred[2]
        Qo = st[X_QO] + pred[3]
        Qi = st[X_QI] + pred[4]
    else:
        y1 = y0 + h * st[X_V]
        ec1 = st[X_EC]
        P = st[X_PV]
        Qo = st[X_QO]
        Qi = st[X_QI]
    rn, r0, r1, r2, r3, r4, qin, dqin, dqo, wall = residual(y1, ec1, P, Qo, Qi, st, h, u, ports, closed, a0,
                                                            V0, W0, sp, cp, n0x, n0y, m0x, m0y)
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
        dI = 0.0
        if closed:
            ok, dy, dc, dP, dQ, dI = solve_closed_system(jw, J00, J01, J02, J10, J11, J20, J32, J33, dqin, dqo,
                                                         ports, r0, r1, r2, r3, r4)
        else:
            ok, dy, dc, dP, dQ = solve_step_system(J00, J01, J02, J10, J11, J20, J22, J32, J33, r0, r1, r2, r3)
        if not ok:
            return NEWTON_FAILED
        lam = 1.0
        for ls in range(12):
            yt = y1 - lam * dy
            ct = ec1 - lam * dc
            Pt = P - lam * dP
            Qt = Qo - lam * dQ
            It = Qi - lam * dI
            rnt, t0, t1, t2, t3, t4, tqin, tdqin, tdqo, twall = residual(yt, ct, Pt, Qt, It, st, h, u, ports,
                                                                         closed, a0, V0, W0, sp, cp, n0x, n0y,
                                                                         m0x, m0y)
            # backtracking keeps Newton from cycling across the sharp valve switch
            if rnt < rn or rnt < 1e-13:
                break
            lam *= 0.5
        incr = max(abs(yt - y1) / R0, abs(ct - ec1))
        incr = max(incr, max(abs(Pt - P) / _ZS_P, abs(Qt - Qo) / _ZS_Q))
        if closed:
            incr = max(incr, abs(It - Qi) / _ZS_Q)
        if rnt > 0.1 * rn:
            fresh = False
        y1, ec1, P, Qo, Qi = yt, ct, Pt, Qt, It
        r0, r1, r2, r3, r4 = t0, t1, t2, t3, t4
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
    CK.advance(xf, gi, go, qin, Qo, closed, x1)
    V1 = 4.0 / 3.0 * math.pi * R0 * R0 * R0 * a1 * a1 * a1
    if not (math.isfinite(v1) and math.isfinite(tau1)):
        return NONFINITE
    for i in range(x1.shape[0]):
        if not math.isfinite(x1[i]):
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
    pred[4] = qin - st[X_QI]
    pred[5] = 1.0
    st[X_T] += h
    st[X_Y] = y1
    st[X_V] = v1
    st[X_EC] = ec1
    st[X_TAU] = tau1
    st[X_KC] = kc1
    st[X_OM] = om1
    st[X_PV] = P
    st[X_QO] = Qo
    st[X_QI] = qin
    for i in range(x1.shape[0]):
        st[X_C + i] = x1[i]
        out_row[O_C + i] = x1[i]

    out_row[O_T] = st[X_T]
    out_row[O_Y] = y1
    out_row[O_V] = V1
    out_row[O_EC] = ec1
    out_row[O_TAU] = tau1
    out_row[O_KC] = kc1
    out_row[O_OM] = om1
    out_row[O_PV] = P
    out_row[O_QIN] = qin
    out_row[O_QOUT] = Qo
    out_row[O_PAT] = a_in + b_ii * qin + b_io * Qo if closed else a_in
    out_row[O_PENTRY] = alpha + beta * Qo + b_oi * qin if closed else alpha + beta * Qo
    out_row[O_ACT] = u
    return OK


@njit(cache=True)
def work_arrays(cp):
    """Per-run work arrays of :func:`step`: predictor (6), circulation 4 x (n,), Newton (5, 6)."""
    n = int(cp[CK.C_N])
    return np.zeros(6), np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty((5, 6))


@njit(cache=True)
def run_beats(st, beat_T, n_steps, sp, cp, pre_t, pre_p, ut, uv, n0x, n0y, m0x, m0y,
              tol, max_iter, out, record):
    """Run consecutive beats of durations ``beat_T`` with ``n_steps[k]`` steps each.

    ``st`` is advanced in place. If ``record`` is true, ``out`` has one row per step;
    otherwise ``out`` has one row, overwritten each step (fast path for filters).
    Returns (status, global index of the failed step or total steps done).
    """
    row = 0
    scratch = np.empty(out.shape[1])
    pred, xf, gi, go, x1, jw = work_arrays(cp)
    for k in range(beat_T.shape[0]):
        T = beat_T[k]
        n = n_steps[k]
        h = T / n
        M, N = CK.step_matrices(cp, h)
        pred[5] = 0.0  # no extrapolation across a change of step length
        for i in range(n):
            target = out[row] if record else scratch
            status = step(st, h, i * h, T, sp, cp, pre_t, pre_p, ut, uv, n0x, n0y, m0x, m0y,
                          M, N, tol, max_iter, target, pred, xf, gi, go, x1, jw)
            if status != OK:
                return status, row
            row += 1
    return OK, row


@njit(cache=True)
def run_members(X, SP, CP, PRE_P, T, n_steps, pre_t, ut, uv, n0x, n0y, m0x, m0y, tol, max_iter,
                p_entry, summary, status):
    """Advance every row of ``X`` by one beat of length ``T`` [s] in ``n_steps`` steps.

    Each member (sigma point, ensemble member) has its own state row and packed sphere,
    circulation and preload rows ``SP``, ``CP``, ``PRE_P``. Fills ``p_entry[j, i]`` with the
    entry (arterial) pressure of step i at its mid-time, ``summary[j, :]`` with the beat
    summaries (columns ``B_*``) and ``status[j]``. A failed member keeps its last good state.
    """
    m = X.shape[0]
    h = T / n_steps
    row = np.empty(O_C + int(CP[0, CK.C_N]))
    for j in range(m):
        st = X[j]
        sp = SP[j]
        cp = CP[j]
        pre_p = PRE_P[j]
        M, N = CK.step_matrices(cp, h)
        pred, xf, gi, go, x1, jw = work_arrays(cp)
        R0 = sp[S_R0]
        a = 1.0 + st[X_Y] / R0
        V = 4.0 / 3.0 * math.pi * R0 ** 3 * a ** 3
        vmax = V
        vmin = V
        ejected = 0.0
        work = 0.0
        pes = st[X_PV]
        pvmax = -1e300
        dpdt = -1e300
        pv_prev = st[X_PV]
        status[j] = OK
        for i in range(n_steps):
            s = step(st, h, i * h, T, sp, cp, pre_t, pre_p, ut, uv, n0x, n0y, m0x, m0y,
                     M, N, tol, max_iter, row, pred, xf, gi, go, x1, jw)
            if s != OK:
                status[j] = s
                break
            pv = row[O_PV]
            V1 = row[O_V]
            work -= pv * (V1 - V)
            V = V1
            if V > vmax:
                vmax = V
            if V < vmin:
                vmin = V
                pes = pv
            ejected += row[O_QOUT] * h
            p_entry[j, i] = row[O_PENTRY]
            if pv > pvmax:
                pvmax = pv
            if i > 0 and (pv - pv_prev) / h > dpdt:
                dpdt = (pv - pv_prev) / h
            pv_prev = pv
        if status[j] != OK:
            continue
        summary[j, B_VMAX] = vmax
        summary[j, B_VMIN] = vmin
        summary[j, B_EJECTED] = ejected
        summary[j, B_WORK] = work
        summary[j, B_PES] = pes
        summary[j, B_PVMAX] = pvmax
        summary[j, B_DPDT] = dpdt
