"""Numba kernels of the observation operator: the measuring-site line and the observed beat.

The model (through :class:`cardiosim.models.Ventricle`) returns the arterial pressure at
every step of a beat for every member; these kernels carry it through the measuring-site
line and sample it at the observation phases, all members in one call.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: columns of the beat summaries the operator returns: the model's, then those of the
#: observed pressure (P_max, P_min, P_mean at the measuring site)
SUMMARY_NAMES = ("V_max", "V_min", "ejected", "work", "P_max", "P_min", "P_mean", "P_es", "Pv_max", "dPdt_max")
B_VMAX, B_VMIN, B_EJECTED, B_WORK, B_PMAX, B_PMIN, B_PMEAN, B_PES, B_PVMAX, B_DPDT = range(10)
#: power of the flow scale k in each summary (volumes and work grow by k, pressures do not)
SUMMARY_FLOW_EXPONENT = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], dtype=float)
N_SUMMARY = 10
#: state entries of the measuring-site line, appended to the model's state
LINE_STATE_NAMES = ("line_p", "line_dp", "line_in")
LINE_STATE_SCALE = (100.0, 1e4, 100.0)


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
def site_foot(p, n, h):
    """Intersecting-tangent foot [s] of the upstroke in ``p[:n]`` (samples at (i + 1/2) h).

    The tangent at the steepest rise crosses the level of the minimum before it: the
    fiducial point the signal analysis finds in the measured beats.
    """
    m = 1
    best = -1e300
    for i in range(1, n - 1):
        d = p[i + 1] - p[i - 1]
        if d > best:
            best = d
            m = i
    o = 0
    for i in range(m, -1, -1):
        if p[i] < p[o]:
            o = i
    slope = best / (2.0 * h)
    f = (m + 0.5) * h
    if slope > 0.0:
        f = (m + 0.5) * h - (p[m] - p[o]) / slope
    if f < (o + 0.5) * h:
        f = (o + 0.5) * h
    return f


@njit(cache=True)
def observe(p_entry, ok, T, LINE, L, phases, Z, P_stats, foot_ref, F):
    """Pressure at the measuring site from the model's entry pressure, for every member.

    ``p_entry`` (m, n) holds the entry pressure at the step mid-times (step T/n); ``LINE``
    (m, 2) each member's line (natural frequency [rad/s], damping; a frequency <= 0 passes
    the entry pressure through); ``L`` (m, 3) the line states (output, its rate, last
    input), advanced in place for the members with ``ok``. Fills ``F[j]`` with the time of
    the site pressure's intersecting-tangent foot [s from the beat start], ``Z[j, :]`` with
    the site pressure at times ``phases * T``, shifted by ``F[j] - foot_ref`` when
    ``foot_ref`` >= 0 (each beat observed relative to its own foot, as the data are), and
    ``P_stats[j]`` with its (max, min, mean).
    """
    m, n = p_entry.shape
    h = T / n
    pent = np.empty(n)
    for j in range(m):
        if not ok[j]:
            continue
        wn = LINE[j, 0]
        zeta = LINE[j, 1]
        ly = L[j, 0]
        lv = L[j, 1]
        p_prev = L[j, 2]
        for i in range(n):
            if wn > 0.0:
                ly, lv = line_step(ly, lv, p_prev, p_entry[j, i], h, wn, zeta)
                p_prev = p_entry[j, i]
                pent[i] = ly
            else:
                pent[i] = p_entry[j, i]
        L[j, 0] = ly if wn > 0.0 else pent[n - 1]
        L[j, 1] = lv if wn > 0.0 else 0.0
        L[j, 2] = p_entry[j, n - 1]
        pmax = -1e300
        pmin = 1e300
        psum = 0.0
        for i in range(n):
            p = pent[i]
            psum += p
            if p > pmax:
                pmax = p
            if p < pmin:
                pmin = p
        F[j] = site_foot(pent, n, h)
        shift = F[j] - foot_ref if foot_ref >= 0.0 else 0.0
        for k in range(phases.shape[0]):
            Z[j, k] = interp_uniform(phases[k] * T + shift, 0.5 * h, h, pent, n)
        P_stats[j, 0] = pmax
        P_stats[j, 1] = pmin
        P_stats[j, 2] = psum / n
