"""Classical pulse-contour estimators of stroke volume, over the beat table.

Each estimator maps a beat's pressure features to a number proportional to its stroke
volume; the constant of proportionality is not known from pressure alone and comes from a
calibration (:func:`calibrate_estimates`: one reference SV or CO, or a prior). The forms are
those compared by Sun JX et al., "Estimating cardiac output from arterial blood pressure
waveforms: a critical evaluation using the MIMIC II database", Crit Care Med 37:72-80 (2009),
with CO = SV x HR:

=================  ========================================  ==============================
name               stroke volume proportional to             source
=================  ========================================  ==============================
``map``            MAP x RR (constant resistance)            (the trivial estimator)
``pulse_pressure`` PP                                        Erlanger & Hooker 1904
``liljestrand``    PP / (SBP + DBP)                          Liljestrand & Zander 1928
``herd``           MAP - DBP                                 Herd et al. 1966
``rc_decay``       MAP x RR / tau (tau: diastolic decay)     Bourgeois et al. 1976
``systolic_area``  area of P - DBP from foot to notch        Kouchoukos et al. 1970
``wesseling``      systolic area x (163 + HR - 0.48 MAP)     Wesseling et al. 1983
``windkessel3``    C (PP + Zc-corrected outflow) at fixed C  Wesseling et al. 1993 (structure)
=================  ========================================  ==============================

``windkessel3`` integrates the inflow of a three-element Windkessel (characteristic
impedance Zc, compliance C, peripheral resistance R) driven by the measured pressure, over
the ejection (foot to notch), as Modelflow does (Wesseling et al., J Appl Physiol 74:2566,
1993): compliance constant (the best assumption in Charlton PH et al., "Optimising the
Windkessel model for cardiac output monitoring during changes in vascular tone", Conf Proc
IEEE EMBC 2014), R of each beat from its diastolic decay (R = tau / C), Zc a fixed fraction of
R. Its compliance does not depend on age and pressure as Modelflow's Langewouters law does:
those published coefficients are not reproduced here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .record import RecordError

ESTIMATORS = ("map", "pulse_pressure", "liljestrand", "herd", "rc_decay", "systolic_area",
              "wesseling", "windkessel3")


def waveform_features(t_s: np.ndarray, p_mmhg: np.ndarray, beats: pd.DataFrame,
                      zc_fraction: float = 0.05) -> pd.DataFrame:
    """Per-beat systolic area [mmHg s], diastolic decay tau [s] and three-element ejection.

    ``beats`` needs ``foot_s``, ``notch_s``, ``end_s`` and ``dbp_mmHg``. The systolic area
    is the integral of P - DBP from the foot to the dicrotic notch (to the foot + 1/3 RR where
    no notch was found). tau is the slope of log P over the last two thirds of diastole
    (outflow pressure zero, Charlton et al. 2014). ``wk3_ejection_mL`` is the volume that
    enters a three-element Windkessel of unit compliance (1 mL/mmHg) from foot to notch, with
    R = tau / C and Zc = ``zc_fraction`` x R, its windkessel pressure starting at the foot
    pressure.
    """
    t = np.asarray(t_s, float)
    p = np.asarray(p_mmhg, float)
    n = len(beats)
    area = np.full(n, np.nan)
    tau = np.full(n, np.nan)
    foot = beats["foot_s"].to_numpy(float)
    notch = beats["notch_s"].to_numpy(float)
    end = beats["end_s"].to_numpy(float)
    dbp = beats["dbp_mmHg"].to_numpy(float)
    rr = beats["rr_s"].to_numpy(float)
    ejection = np.full(n, np.nan)
    for k in range(n):
        if not (math.isfinite(foot[k]) and math.isfinite(end[k])):
            continue
        stop = notch[k] if math.isfinite(notch[k]) else foot[k] + rr[k] / 3.0
        i0, i1 = np.searchsorted(t, [foot[k], stop])
        if i1 - i0 >= 3:
            area[k] = np.trapezoid(p[i0:i1] - dbp[k], t[i0:i1])
        # diastole ends at the next foot: the beat's end is the next onset
        d0 = stop + (end[k] - stop) / 3.0
        j0, j1 = np.searchsorted(t, [d0, end[k]])
        seg = p[j0:j1]
        if j1 - j0 >= 5 and np.all(seg > 0):
            slope = np.polyfit(t[j0:j1] - t[j0], np.log(seg), 1)[0]
            tau[k] = -1.0 / slope if slope < 0 else np.nan
        if i1 - i0 >= 3 and math.isfinite(tau[k]):
            seg_p = p[i0:i1]
            a = 1.0 / (zc_fraction * tau[k])    # 1 / (Zc C)
            pw = _windkessel_pressure(seg_p, a, a + 1.0 / tau[k], float(t[i0 + 1] - t[i0]))
            ejection[k] = np.trapezoid(np.maximum(a * (seg_p - pw), 0.0), t[i0:i1])
    return pd.DataFrame({"systolic_area_mmHg_s": area, "tau_s": tau, "wk3_ejection_mL": ejection},
                        index=beats.index)


def _windkessel_pressure(p: np.ndarray, a: float, b: float, h: float) -> np.ndarray:
    """Pw of dPw/dt = a P - b Pw by the trapezoid rule on a uniform grid, Pw(0) = P(0)."""
    from scipy.signal import lfilter, lfiltic

    g = 0.5 * h
    num, den = [a * g, a * g], [1.0 + b * g, -(1.0 - b * g)]
    zi = lfiltic(num, den, y=[p[0]], x=[p[0]])
    return np.concatenate([[p[0]], lfilter(num, den, p[1:], zi=zi)[0]])


def estimates(beats: pd.DataFrame, features: pd.DataFrame | None = None) -> pd.DataFrame:
    """Uncalibrated stroke-volume proxies per beat, one column per estimator.

    ``beats``: the arterial beat table (``sbp_mmHg``, ``dbp_mmHg``, ``map_mmHg``, ``pp_mmHg``,
    ``rr_s``); ``features``: :func:`waveform_features` (needed by ``rc_decay``,
    ``systolic_area``, ``wesseling`` and ``windkessel3``).
    """
    sbp, dbp = beats["sbp_mmHg"].to_numpy(float), beats["dbp_mmHg"].to_numpy(float)
    mp, pp = beats["map_mmHg"].to_numpy(float), beats["pp_mmHg"].to_numpy(float)
    rr = beats["rr_s"].to_numpy(float)
    hr = 60.0 / rr
    out = {"map": mp * rr, "pulse_pressure": pp, "liljestrand": pp / (sbp + dbp), "herd": mp - dbp}
    if features is not None:
        area = features["systolic_area_mmHg_s"].to_numpy(float)
        tau = features["tau_s"].to_numpy(float)
        out["rc_decay"] = mp * rr / tau
        out["systolic_area"] = area
        out["wesseling"] = area * (163.0 + hr - 0.48 * mp)
        out["windkessel3"] = features["wk3_ejection_mL"].to_numpy(float)
    return pd.DataFrame(out, index=beats.index)


def calibrate_estimates(proxies: pd.DataFrame, sv_ref_ml: float, at: np.ndarray) -> pd.DataFrame:
    """Stroke volumes [mL]: each proxy scaled so that its median over the beats ``at``
    (a boolean mask, e.g. the beats of the reference's minute) equals ``sv_ref_ml``."""
    at = np.asarray(at, bool)
    if not at.any():
        raise RecordError("calibrate_estimates: no beat at the reference")
    if not (math.isfinite(sv_ref_ml) and sv_ref_ml > 0):
        raise RecordError(f"calibrate_estimates: reference SV must be > 0 mL, got {sv_ref_ml!r}")
    out = {}
    for name in proxies.columns:
        v = proxies[name].to_numpy(float)
        base = np.nanmedian(v[at]) if np.isfinite(v[at]).any() else np.nan
        out[name] = v * (sv_ref_ml / base) if math.isfinite(base) and base > 0 else np.full(v.size, np.nan)
    return pd.DataFrame(out, index=proxies.index)
