"""Figures of simulation results (matplotlib, no display needed)."""

from __future__ import annotations

import matplotlib.pyplot as plt


def pv_loop(results, beats=None, ax=None):
    """Pressure-volume loop(s) of the given beats (default: the last one)."""
    ts = results.timeseries
    beats = [results.n_beats - 1] if beats is None else list(beats)
    if ax is None:
        _, ax = plt.subplots(figsize=(4.8, 4.2))
    for k in beats:
        b = ts[ts.beat == k]
        ax.plot(b.V_mL, b.P_v_mmHg, lw=1.6, label=f"beat {k + 1}")
    ax.set_xlabel("LV volume [mL]")
    ax.set_ylabel("LV pressure [mmHg]")
    ax.set_title("Pressure-volume loop")
    ax.grid(alpha=0.3)
    if len(beats) > 1:
        ax.legend(fontsize=8)
    return ax.figure


def pressure_traces(results, last=3, ax=None):
    """Ventricular, arterial and atrial pressures over the last ``last`` beats."""
    ts = results.timeseries
    ts = ts[ts.beat >= results.n_beats - last]
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 3.6))
    ax.plot(ts.t_mid_s, ts.P_v_mmHg, label="ventricle", lw=1.4)
    ax.plot(ts.t_mid_s, ts.P_ar_mmHg, label="aorta", lw=1.4)
    ax.plot(ts.t_mid_s, ts.P_at_mmHg, label="atrium", lw=1.0, ls="--")
    ax.set_xlabel("time [s]")
    ax.set_ylabel("pressure [mmHg]")
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(alpha=0.3)
    return ax.figure


def report_figure(results):
    """Two-panel figure: pressure traces and PV loop."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [1.7, 1]})
    pressure_traces(results, ax=a1)
    pv_loop(results, ax=a2)
    fig.tight_layout()
    return fig
