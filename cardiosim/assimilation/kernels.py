"""Numba kernel of the assimilation forecast: one beat of many model copies.

Each member (a sigma point or ensemble member) has its own state row and its own packed
parameter rows, so one call advances every member without Python in between. Per beat
and member it returns the arterial pressure at fixed phases of the beat (the observation)
and a few beat summaries for the indicators.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..models import sphere_kernels as K

# beat summaries (columns of ``summary``)
B_VMAX, B_VMIN, B_EJECTED, B_WORK, B_PMAX, B_PMIN, B_PMEAN, B_PES, B_PVMAX, B_DPDT = range(10)
N_SUMMARY = 10

# the measured-site line: two extra state entries after the model state
X_LINE_P = K.N_STATE
X_LINE_DP = K.N_STATE + 1
X_LINE_IN = K.N_STATE + 2  # last input (entry pressure) of the line
N_STATE_EXT = K.N_STATE + 3


@njit(cache=True)
def line_step(y, v, p0, p1, h, wn, zeta):
    """Trapezoidal step of y'' + 2 zeta wn y' + wn^2 y = wn^2 p (input p0 -> p1 over h).

    The second-order transfer from the model's arterial (entry) pressure to the pressure
    at the measuring site: a resonant arterial segment plus catheter, which makes the
    peripheral amplification and the diastolic wave a Windkessel alone cannot.
    """
    a = wn * wn
    b = 2.0 * zeta * wn
    # [y1, v1]: y1 - y = h/2 (v + v1); v1 - v = h/2 (f0 + f1), f = a (p - y) - b v
    f0 = a * (p0 - y) - b * v
    # substitute y1 = y + h/2 (v + v1) into v1 = v + h/2 (a (p1 - y1) - b v1 + f0)
    c = 0.5 * h
    num = v + c * (a * (p1 - y - c * v) + f0)
    den = 1.0 + c * b + c * c * a
    v1 = num / den
    y1 = y + c * (v + v1)
    return y1, v1


@njit(cache=True)
def interp_uniform(t, t0, h, values, n):
    """Linear interpolation in ``values[:n]`` sampled at t0 + i h, clamped at both ends."""
    s = (t - t0) / h
    if s <= 0.0:
        return values[0]
    if s >= n - 1:
        return values[n - 1]
    i = int(math.floor(s))
    w = s - i
    return (1.0 - w) * values[i] + w * values[i + 1]


@njit(cache=True)
def forecast_members(X, SP, CP, PRE_P, LINE, T, n_steps, pre_t, ut, uv, n0x, n0y, m0x, m0y,
                     tol, max_iter, phases, Z, summary, status):
    """Advance every row of ``X`` by one beat of length ``T`` [s] in ``n_steps`` steps.

    ``SP``, ``CP``, ``PRE_P`` hold each member's packed sphere, circulation and preload
    arrays, ``LINE`` its measuring-site line (natural frequency [rad/s], damping; a
    frequency <= 0 passes the entry pressure through). ``X`` has :data:`N_STATE_EXT` columns. Fills ``Z[j, :]`` with the arterial (entry) pressure at times ``phases * T``
    (step mid-points interpolated), ``summary[j, :]`` with the beat summaries and
    ``status[j]`` with the kernel status code. A failed member keeps its last good state.
    """
    m = X.shape[0]
    h = T / n_steps
    row = np.empty(K.N_OUT)
    pred = np.zeros(5)
    pent = np.empty(n_steps)
    for j in range(m):
        st = X[j]
        sp = SP[j]
        cp = CP[j]
        pre_p = PRE_P[j]
        M, N = K.afterload_step_matrices(cp, h)
        pred[:] = 0.0
        R0 = sp[K.S_R0]
        a = 1.0 + st[K.X_Y] / R0
        V = 4.0 / 3.0 * math.pi * R0 ** 3 * a ** 3
        vmax = V
        vmin = V
        ejected = 0.0
        work = 0.0
        pes = st[K.X_PV]
        pvmax = -1e300
        dpdt = -1e300
        pv_prev = st[K.X_PV]
        wn = LINE[j, 0]
        zeta = LINE[j, 1]
        ly = st[X_LINE_P]
        lv = st[X_LINE_DP]
        p_prev = st[X_LINE_IN]
        status[j] = K.OK
        for i in range(n_steps):
            s = K.step(st, h, i * h, T, sp, cp, pre_t, pre_p, ut, uv, n0x, n0y, m0x, m0y,
                       M, N, tol, max_iter, row, pred)
            if s != K.OK:
                status[j] = s
                break
            pv = row[K.O_PV]
            V1 = row[K.O_V]
            work -= pv * (V1 - V)
            V = V1
            if V > vmax:
                vmax = V
            if V < vmin:
                vmin = V
                pes = pv
            ejected += row[K.O_QOUT] * h
            if wn > 0.0:
                ly, lv = line_step(ly, lv, p_prev, row[K.O_PENTRY], h, wn, zeta)
                p_prev = row[K.O_PENTRY]
                pent[i] = ly
            else:
                pent[i] = row[K.O_PENTRY]
            if pv > pvmax:
                pvmax = pv
            if i > 0 and (pv - pv_prev) / h > dpdt:
                dpdt = (pv - pv_prev) / h
            pv_prev = pv
        if status[j] != K.OK:
            continue
        st[X_LINE_P] = ly if wn > 0.0 else pent[n_steps - 1]
        st[X_LINE_DP] = lv if wn > 0.0 else 0.0
        st[X_LINE_IN] = row[K.O_PENTRY]
        pmax = -1e300
        pmin = 1e300
        psum = 0.0
        for i in range(n_steps):
            p = pent[i]
            psum += p
            if p > pmax:
                pmax = p
            if p < pmin:
                pmin = p
        for k in range(phases.shape[0]):
            Z[j, k] = interp_uniform(phases[k] * T, 0.5 * h, h, pent, n_steps)
        summary[j, B_VMAX] = vmax
        summary[j, B_VMIN] = vmin
        summary[j, B_EJECTED] = ejected
        summary[j, B_WORK] = work
        summary[j, B_PMAX] = pmax
        summary[j, B_PMIN] = pmin
        summary[j, B_PMEAN] = psum / n_steps
        summary[j, B_PES] = pes
        summary[j, B_PVMAX] = pvmax
        summary[j, B_DPDT] = dpdt
