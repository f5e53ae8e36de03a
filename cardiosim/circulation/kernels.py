"""Numba kernels of the circulation blocks: valve laws and the condensed linear block.

Plain functions over the packed float64 array ``cp`` of :meth:`Circulation.pack`::

    [0:4]  inlet valve (type, R_open, R_closed, k)     [4:8] outlet valve
    [8]    n, the number of node pressures             [9]   1 if the block closes the loop
    [10:]  A (n x n, row-major), B[:, 0], B[:, 1], f, E[0], E[1] (n each), Z (2 x 2)

One step of a ventricle coupled to the block (h fixed for a beat):

1. ``step_matrices(cp, h)`` -> M = (I - h/2 A)^-1, N = M (I + h/2 A), once per step length;
2. ``condense(...)`` -> x1 = x_free + g_in Q_in + g_out Q_out and the mid-step port
   pressures P_in = a_in + b_ii Q_in + b_io Q_out, P_out = a_out + b_oi Q_in + b_oo Q_out;
3. the ventricle solves its own unknowns with the valve laws on those pressures;
4. ``advance(...)`` writes x1 for the accepted flows.

The trapezoidal rule makes the update exact for linear invariants: the blood volume of a
closed loop is conserved to the ventricle's Newton tolerance.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..materials.bcs import interp_clamped  # noqa: F401  (the one table lookup; re-exported)

V_IN_TYPE, V_IN_RMIN, V_IN_RMAX, V_IN_K = 0, 1, 2, 3
V_OUT_TYPE, V_OUT_RMIN, V_OUT_RMAX, V_OUT_K = 4, 5, 6, 7
C_N = 8
C_LOOP = 9
C_A = 10


@njit(cache=True, inline="always")
def offsets(n):
    """Start of B[:, 0], B[:, 1], f, E[0], E[1] and Z in the packed array for n states."""
    b_in = C_A + n * n
    b_out = b_in + n
    f = b_out + n
    e_in = f + n
    e_out = e_in + n
    z = e_out + n
    return b_in, b_out, f, e_in, e_out, z


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


@njit(cache=True)
def step_matrices(cp, h):
    """M = (I - h/2 A)^-1 and N = M (I + h/2 A) of the block for a step of length h."""
    n = int(cp[C_N])
    Mi = np.empty((n, n))
    P = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            a = cp[C_A + i * n + j]
            d = 1.0 if i == j else 0.0
            Mi[i, j] = d - 0.5 * h * a
            P[i, j] = d + 0.5 * h * a
    if n == 1:
        M = np.empty((1, 1))
        M[0, 0] = 1.0 / Mi[0, 0]
        N = np.empty((1, 1))
        N[0, 0] = M[0, 0] * P[0, 0]
        return M, N
    if n == 2:
        # closed form: the two-stage Windkessel's step is then free of pivoting round-off
        det = Mi[0, 0] * Mi[1, 1] - Mi[0, 1] * Mi[1, 0]
        M = np.empty((2, 2))
        M[0, 0] = Mi[1, 1] / det
        M[0, 1] = -Mi[0, 1] / det
        M[1, 0] = -Mi[1, 0] / det
        M[1, 1] = Mi[0, 0] / det
        return M, M @ P
    M = np.linalg.inv(Mi)
    return M, M @ P


@njit(cache=True, inline="always")
def condense(cp, x0, o, M, N, h, x_free, g_in, g_out):
    """Condense the block onto the two flows of the ventricle over one step.

    ``x0[o:o + n]`` holds the node pressures at the start of the step (a ventricle passes
    its whole state and the offset of the circulation's entries, which saves a view per
    step). Fills ``x_free``, ``g_in``, ``g_out`` (n,) so that x1 = x_free + g_in Q_in + g_out Q_out,
    and returns the mid-step port pressures as (a_in, b_ii, b_io, a_out, b_oi, b_oo). For an
    open-loop block (``cp[C_LOOP] == 0``) the inlet terms are zero and not computed.
    """
    n = x_free.shape[0]
    closed = cp[C_LOOP] != 0.0
    ob_in, ob_out, of, oe_in, oe_out, oz = offsets(n)
    for i in range(n):
        s = N[i, 0] * x0[o + 0]
        t = M[i, 0] * cp[of]
        u = M[i, 0] * cp[ob_out]
        for j in range(1, n):
            s += N[i, j] * x0[o + j]
            t += M[i, j] * cp[of + j]
            u += M[i, j] * cp[ob_out + j]
        x_free[i] = s + h * t
        g_out[i] = h * u
    a_out = cp[oe_out] * 0.5 * (x0[o + 0] + x_free[0])
    s_oo = cp[oe_out] * g_out[0]
    for i in range(1, n):
        a_out += cp[oe_out + i] * 0.5 * (x0[o + i] + x_free[i])
        s_oo += cp[oe_out + i] * g_out[i]
    b_oo = cp[oz + 3] + 0.5 * s_oo
    if not closed:
        for i in range(n):
            g_in[i] = 0.0
        return 0.0, 0.0, 0.0, a_out, 0.0, b_oo
    for i in range(n):
        w = M[i, 0] * cp[ob_in]
        for j in range(1, n):
            w += M[i, j] * cp[ob_in + j]
        g_in[i] = h * w
    a_in = cp[oe_in] * 0.5 * (x0[o + 0] + x_free[0])
    s_oi = cp[oe_out] * g_in[0]
    s_io = cp[oe_in] * g_out[0]
    s_ii = cp[oe_in] * g_in[0]
    for i in range(1, n):
        a_in += cp[oe_in + i] * 0.5 * (x0[o + i] + x_free[i])
        s_oi += cp[oe_out + i] * g_in[i]
        s_io += cp[oe_in + i] * g_out[i]
        s_ii += cp[oe_in + i] * g_in[i]
    return a_in, cp[oz] + 0.5 * s_ii, cp[oz + 1] + 0.5 * s_io, a_out, cp[oz + 2] + 0.5 * s_oi, b_oo


@njit(cache=True, inline="always")
def advance(x_free, g_in, g_out, q_in, q_out, closed, x1):
    """x1 = x_free + g_out Q_out (+ g_in Q_in when the block closes the loop)."""
    for i in range(x_free.shape[0]):
        x1[i] = x_free[i] + g_out[i] * q_out
        if closed:
            x1[i] += g_in[i] * q_in
