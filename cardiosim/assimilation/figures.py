"""Figures of a calibration: parameter trends with bands, indicators, model vs measured."""

from __future__ import annotations

import numpy as np

from ..units import MMHG
from .parameters import clinical_unit


def trends(cal, truth=None):
    """Per-beat estimates with their 95 % bands; ``truth`` (per beat, clinical units) dashed."""
    import matplotlib.pyplot as plt

    b = cal.beats
    t = b["t_s"].to_numpy() / 60.0
    names = list(cal.parameters.names)
    rows = len(names) + 2
    fig, axes = plt.subplots(rows, 1, figsize=(9, 1.7 * rows + 0.6), sharex=True)
    for ax, n in zip(axes, names):
        ax.fill_between(t, b[f"{n}_lo"], b[f"{n}_hi"], color="C0", alpha=0.25, lw=0, label="95 % band")
        ax.plot(t, b[n], color="C0", lw=1)
        if truth is not None and n in truth:
            ax.plot(truth["t_s"] / 60.0, truth[n], "--", color="k", lw=0.8, label="truth")
        ax.set_ylabel(f"{n}\n[{clinical_unit(n)}]")
    ax = axes[-2]
    ax.plot(t, b["MAP_mmHg"], ".", ms=2, color="k", label="measured MAP")
    ax.plot(t, b["model_MAP_mmHg"], lw=1, color="C3", label="model MAP")
    ax.plot(t, b["SBP_mmHg"], ".", ms=1, color="0.5")
    ax.plot(t, b["model_SBP_mmHg"], lw=0.6, color="C1")
    ax.plot(t, b["DBP_mmHg"], ".", ms=1, color="0.5")
    ax.plot(t, b["model_DBP_mmHg"], lw=0.6, color="C1")
    if truth is not None and "MAP_mmHg" in truth:
        ax.plot(truth["t_s"] / 60.0, truth["MAP_mmHg"], "--", color="k", lw=0.8, label="true MAP")
    ax.set_ylabel("pressure\n[mmHg]")
    ax.legend(loc="upper right", fontsize=7, ncol=2)
    ax = axes[-1]
    if cal.scale is None:
        # no flow scale: SV and CO only relative, to their median over the first minute
        first = b["t_s"] <= b["t_s"].iloc[0] + 60.0
        ax.plot(t, b["SV_mL"] / np.nanmedian(b["SV_mL"][first]), lw=1, color="C2", label="SV")
        ax.plot(t, b["CO_L_min"] / np.nanmedian(b["CO_L_min"][first]), lw=1, color="C4", label="CO")
        ax.set_ylabel("model SV, CO\nrelative to\nthe first minute")
        ax.set_title("no flow scale (give --reference or --patient): SV and CO are relative", fontsize=7)
    else:
        if "SV_mL_lo" in b:
            ax.fill_between(t, b["SV_mL_lo"], b["SV_mL_hi"], color="C2", alpha=0.25, lw=0)
        ax.plot(t, b["SV_mL"], lw=1, color="C2", label="SV [mL]")
        if truth is not None and "SV_mL" in truth:
            ax.plot(truth["t_s"] / 60.0, truth["SV_mL"], "--", color="k", lw=0.8, label="true SV")
        ax.plot(t, b["CO_L_min"] * 10, lw=1, color="C4", label="CO x10 [L/min]")
        ax.set_ylabel("model\nSV, CO")
        ax.set_title(cal.scale_text, fontsize=7)
    ax.legend(loc="upper right", fontsize=7)
    axes[-1].set_xlabel("time [min]")
    skipped = ~b["observed"].to_numpy()
    for ax in axes:
        if skipped.any():
            ax.plot(t[skipped], np.full(skipped.sum(), ax.get_ylim()[0]), "|", color="r", ms=4)
    if truth is not None:
        axes[0].legend(loc="upper right", fontsize=7)
    fig.suptitle(f"{cal.source}: {cal.settings.method}, per-beat estimates (red ticks: skipped beats"
                 + ("; dashed: the truth" if truth is not None else "") + ")",
                 fontsize=9)
    fig.tight_layout()
    return fig


def overlay(cal, n_beats: int = 3):
    import matplotlib.pyplot as plt

    obs, tr = cal.observations, cal.track
    idx = np.flatnonzero(obs.observed[:tr.n])
    fig, axes = plt.subplots(1, n_beats, figsize=(10, 3), sharey=True)
    if idx.size == 0:
        return fig
    picks = idx[np.linspace(min(cal.settings.burn_in_beats, idx.size - 1), idx.size - 1, n_beats).astype(int)]
    for ax, k in zip(np.atleast_1d(axes), picks):
        tt = (np.arange(obs.n_obs) + 0.5) / obs.n_obs * obs.rr_s[k]
        ax.plot(tt, obs.z_pa[k] / MMHG, "k.", label="measured")
        ax.plot(tt, tr.z_pred[k] / MMHG, "C3-", label="model (forecast)")
        ax.set_title(f"beat {k} at {obs.t_s[k] / 60:.1f} min", fontsize=8)
        ax.set_xlabel("time from model activation [s]")
    np.atleast_1d(axes)[0].set_ylabel("arterial pressure [mmHg]")
    np.atleast_1d(axes)[0].legend(fontsize=7)
    fig.tight_layout()
    return fig
