"""Do the 95 % bands hold the truth? Twin experiments with model error, and band coverage.

A band is honest when it holds the truth as often as it says. Twins made by the filter's own
model with the filter's own noise test only the algebra; these families carry model error
the filter does not know, each alone, on top of the demo patient's story (steps and ramps of
contractility and resistance; :data:`~.synthetic.PATIENT_STORY`):

``story``
    the story itself (white noise, the observer's line law): the reference family;
``drift``
    parameters outside the estimated set drifting through the record (passive stiffness C0
    x 1.3, distal compliance Cd x 0.8, proximal resistance Rp x 1.25);
``topology``
    the truth's afterload a three-element Windkessel where the filter uses the two-stage one;
``line``
    the measuring-site line two second-order sections in series (8 Hz damping 0.2, then 20 Hz
    damping 0.5) where the filter fits one;
``noise``
    coloured measurement noise (AR(1), lag-one correlation 0.95 per sample at 125 Hz) and a
    slow baseline wander (3 mmHg, period 40 s).

:func:`band_coverage` compares a calibration's per-beat bands with the truth per beat: the
fraction of observed beats whose band holds it, the mean width, the RMSE, and the width
against the prior's.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..circulation import Circulation
from ..circulation.blocks import Windkessel3
from ..errors import ParameterError
from ..models.sphere import SphereModel, SphereParameters
from .parameters import ESTIMABLE, ParameterSet, to_clinical
from .synthetic import patient

#: twin families: keyword arguments of :func:`~.synthetic.patient` (see the module docstring)
FAMILIES = {
    "story": {},
    "drift": {"drift": {"C0": 1.3, "Cd": 0.8, "Rp": 1.25}},
    "topology": {"model": "wk3"},
    "line": {"line": ((8.0, 0.2), (20.0, 0.5))},
    "noise": {"noise_ar1": 0.95, "wander": (3.0, 40.0)},
}

#: indicators with a truth: (truth column, estimate column in the beat table)
INDICATORS = {"SV": ("SV_mL", "SV_mL"), "CO": ("CO_L_min", "CO_L_min"), "MAP": ("MAP_mmHg", "model_MAP_mmHg")}


def family(name: str, duration_s: float = 600.0, seed: int = 7, artefacts: bool = False):
    """(record, truth) of the twin family ``name`` (:data:`FAMILIES`)."""
    if name not in FAMILIES:
        raise ParameterError(f"unknown twin family {name!r}; the families are {', '.join(FAMILIES)}")
    kw = dict(FAMILIES[name])
    if kw.get("model") == "wk3":
        # a three-element Windkessel with the two-stage one's total resistance and compliance
        base = Circulation.caruel2014().afterload
        kw["model"] = SphereModel(SphereParameters.caruel2014(), Circulation(afterload=Windkessel3(
            Zc=base.Rp, R=base.Rd, C=base.Cp + base.Cd, P_venous=base.P_venous)))
    return patient(duration_s=duration_s, seed=seed, artefacts=artefacts, **kw)


def _z(level: float) -> float:
    if not (isinstance(level, (int, float)) and 0.0 < level < 1.0):
        raise ParameterError(f"band level must be in (0, 1), got {level!r}")
    from scipy.stats import norm

    return float(norm.ppf(0.5 + 0.5 * level))


def match_beats(t_est: np.ndarray, t_true: np.ndarray) -> np.ndarray:
    """Index of the truth beat nearest in time to each estimated beat."""
    t_true = np.asarray(t_true, float)
    j = np.clip(np.searchsorted(t_true, t_est), 1, t_true.size - 1)
    return np.where(np.abs(t_true[j - 1] - t_est) <= np.abs(t_true[j] - t_est), j - 1, j)


def band_coverage(beats: pd.DataFrame, truth: pd.DataFrame, parameters: ParameterSet,
                  level: float = 0.95, burn_in_beats: int = 20) -> pd.DataFrame:
    """Coverage of the bands of each estimated parameter and indicator by the truth.

    ``beats`` is a calibration's beat table (parameters in clinical units with ``<name>_sd``;
    indicator bands ``<column>_lo``/``<column>_hi`` where the calibration has them);
    ``truth`` the twin's per-beat truth (:func:`~.synthetic.patient`). Bands at ``level``
    are theta 2^(+-z sd_omega) for the parameters, the calibration's own for the
    indicators (``level`` 0.95 only). Observed beats after ``burn_in_beats``.

    Returns one row per quantity: ``beats``, ``coverage_pct``, ``mean_width``, ``rmse``,
    ``width_over_prior`` (parameters: the band's median width over the prior's 95 % range)
    and ``note`` (why a quantity has no figure).
    """
    z = _z(level)
    sel = beats["observed"].to_numpy(bool) & (beats["beat"].to_numpy() >= burn_in_beats)
    b = beats[sel]
    j = match_beats(b["t_s"].to_numpy(float), truth["t_s"].to_numpy(float))
    rows = []
    for i, name in enumerate(parameters.names):
        if ESTIMABLE[name][0] != "model":
            continue
        if name not in truth:
            rows.append({"quantity": name, "note": "no truth (not a parameter of the truth's model)"})
            continue
        est = b[name].to_numpy(float)
        sd_omega = b[f"{name}_sd"].to_numpy(float) / (est * math.log(2.0))
        lo, hi = est * np.exp2(-z * sd_omega), est * np.exp2(z * sd_omega)
        tr = truth[name].to_numpy(float)[j]
        p0 = float(to_clinical(name, parameters.theta0[i]))
        sd0 = float(parameters.prior_sd[i])
        prior_width = p0 * (2.0 ** (1.96 * sd0) - 2.0 ** (-1.96 * sd0))
        rows.append(_row(name, tr, est, lo, hi, float(np.median(hi - lo)) / prior_width))
    for q, (tcol, ecol) in INDICATORS.items():
        lo_c, hi_c = f"{ecol}_lo", f"{ecol}_hi"
        tr = truth[tcol].to_numpy(float)[j]
        est = b[ecol].to_numpy(float)
        if lo_c not in b or level != 0.95:
            r = _row(q, tr, est, np.full(est.size, np.nan), np.full(est.size, np.nan), np.nan)
            r["note"] = "no band in the calibration" if lo_c not in b else "indicator bands are 95 % only"
            rows.append(r)
            continue
        rows.append(_row(q, tr, est, b[lo_c].to_numpy(float), b[hi_c].to_numpy(float), np.nan))
    return pd.DataFrame(rows, columns=["quantity", "beats", "coverage_pct", "mean_width", "rmse",
                                       "width_over_prior", "note"])


def _row(name, truth, est, lo, hi, width_over_prior) -> dict:
    ok = np.isfinite(truth) & np.isfinite(est)
    band = ok & np.isfinite(lo) & np.isfinite(hi)
    inside = (lo[band] <= truth[band]) & (truth[band] <= hi[band])
    return {"quantity": name, "beats": int(ok.sum()),
            "coverage_pct": 100.0 * float(inside.mean()) if band.any() else float("nan"),
            "mean_width": float(np.mean(hi[band] - lo[band])) if band.any() else float("nan"),
            "rmse": float(np.sqrt(np.mean((est[ok] - truth[ok]) ** 2))) if ok.any() else float("nan"),
            "width_over_prior": width_over_prior, "note": ""}
