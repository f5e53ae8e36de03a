"""Synthetic patients: recordings made by cardiosim's own 0D model.

The arterial pressure is the model's proximal arterial pressure, beat by beat
with measured-like RR variability, sampled like a bedside monitor and with
seeded measurement noise.  A known truth is what twin experiments and the
artefact tests need; a recording from the package itself is what lets
``cardiosim demo`` run with no data file.
"""

from __future__ import annotations

import numpy as np

from ..circulation import Circulation
from ..errors import ParameterError
from ..models.sphere import SphereModel, SphereParameters
from ..signals.record import Channel, MonitoringRecord
from ..units import MMHG

__all__ = ["arterial_pressure", "synthetic_record", "patient", "PATIENT_STORY"]


def arterial_pressure(duration_s: float = 120.0, hr_bpm: float = 70.0, fs_hz: float = 125.0,
                      rr_sd_s: float = 0.02, noise_mmhg: float = 0.5, seed: int = 0,
                      model: SphereModel | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Arterial pressure [Pa] sampled at ``fs_hz`` and the beat start times [s].

    Parameters
    ----------
    duration_s : float
        Length of the recording [s].
    hr_bpm : float
        Mean heart rate [bpm].
    fs_hz : float
        Sampling rate [Hz].
    rr_sd_s : float
        Standard deviation of the RR intervals [s] (white, seeded).
    noise_mmhg : float
        Standard deviation of the additive white measurement noise [mmHg].
    seed : int
        Seed of the RR and noise draws.
    model : SphereModel, optional
        Default: the Caruel 2014 sphere and circulation.
    """
    rng = np.random.default_rng(seed)
    model = model or SphereModel(SphereParameters.caruel2014(), Circulation.caruel2014())
    period = 60.0 / hr_bpm
    n = int(np.ceil(duration_s / period)) + 2
    rr = np.clip(period + rr_sd_s * rng.standard_normal(n), 0.5 * period, 1.5 * period)
    warm = model.simulate(hr=hr_bpm, until_periodic=True, max_beats=60)
    res = model.simulate(rr=rr, state=warm.final_state)
    ts = res.timeseries
    t_model = ts["t_s"].to_numpy() - ts["t_s"].iloc[0]
    p_model = ts["P_ar_mmHg"].to_numpy() * MMHG
    t = np.arange(int(round(duration_s * fs_hz))) / fs_hz
    p = np.interp(t, t_model, p_model)
    p += noise_mmhg * MMHG * rng.standard_normal(t.size)
    starts = np.concatenate([[0.0], np.cumsum(rr)])
    return p, starts[starts < duration_s]


def synthetic_record(p_pa: np.ndarray, fs_hz: float, name: str = "synthetic",
                     limits_pa: tuple[float, float] | None = None,
                     provenance: dict | None = None) -> MonitoringRecord:
    """Wrap a pressure array [Pa] as a one-channel record (role ABP)."""
    ch = Channel(name="ABP", role="ABP", values=p_pa, fs_hz=fs_hz, unit="Pa",
                 source_unit="mmHg", limits=limits_pa)
    return MonitoringRecord(source=name, channels={"ABP": ch},
                            provenance={"reader": "cardiosim.assimilation.synthetic", **(provenance or {})})


#: the demo patient's story: (time [s], contractility factor, distal resistance factor)
#: baseline, induction hypotension (vasodilation and depressed contractility), vasopressor
PATIENT_STORY = ((0.0, 1.0, 1.0), (150.0, 1.0, 1.0), (200.0, 0.7, 0.6), (330.0, 0.7, 0.6),
                 (380.0, 0.85, 1.1), (600.0, 0.85, 1.1))


def patient(duration_s: float = 600.0, hr_bpm: float = 72.0, fs_hz: float = 125.0,
            rr_sd_s: float = 0.015, noise_mmhg: float = 1.0, line=(6.0, 0.3), artefacts: bool = True,
            seed: int = 7, story=PATIENT_STORY, model: SphereModel | None = None,
            breathing: tuple[float, float] | None = None, drift: dict | None = None,
            noise_ar1: float = 0.0, wander: tuple[float, float] | None = None):
    """A deterministic synthetic patient under anaesthesia, made by the package's own model.

    Contractility (sigma0) and distal resistance (Rd) follow ``story`` (factors of the
    Caruel baseline, linear between the given times): baseline, a hypotension episode from
    vasodilation and depressed contractility, then a vasopressor (norepinephrine-like)
    response. The arterial pressure is seen through a measuring-site line (natural
    frequency [Hz], damping), sampled at ``fs_hz`` with seeded noise, and, with
    ``artefacts``, a flush at 100 s, a 3 s gap at 260 s and a zeroing at 450 s.
    ``breathing`` (period [s], relative amplitude) swings the filling pressure of each beat
    as P_at (1 + amplitude sin(2 pi t / period)), as controlled ventilation swings the
    venous return (Michard F et al., Am J Respir Crit Care Med 162:134-138, 2000).

    Model error a filter does not know, for twin experiments: ``drift`` maps model
    parameters to their factor at the end of the record (linear from 1 at the start, e.g.
    ``{"C0": 1.3}``); ``line`` may be a list of (Hz, damping) sections in series (a line the
    filter's one second-order section cannot match); ``noise_ar1`` is the lag-one
    correlation of the measurement noise per sample (AR(1), same sd); ``wander`` (amplitude
    [mmHg], period [s]) adds a sinusoidal baseline wander. The story's resistance is the
    afterload's ``Rd``, or ``R`` for a three-element Windkessel.

    Returns (record, truth) where truth is a DataFrame per beat: t_s, rr_s, sigma0_kPa,
    Rd_mmHg_s_per_mL (the story's resistance), P_at_mmHg, SBP/DBP/MAP_mmHg, SV_mL,
    CO_L_min, and every estimable parameter of the model under its own name in clinical
    units (``sigma0``, ``Rd``, ``P_at``, ``Rp``, ...: the columns of a calibration).
    """
    import pandas as pd
    from scipy.signal import bilinear, lfilter

    from ..signals import inject
    from ..units import convert
    from .parameters import ESTIMABLE, to_clinical

    rng = np.random.default_rng(seed)
    base = model or SphereModel(SphereParameters.caruel2014(), Circulation.caruel2014())
    period = 60.0 / hr_bpm
    n = int(np.ceil(duration_s / period)) + 3
    rr = np.clip(period + rr_sd_s * rng.standard_normal(n), 0.6 * period, 1.4 * period)
    st_t = np.array([s[0] for s in story])
    warm = base.simulate(hr=hr_bpm, until_periodic=True, max_beats=60)
    state = warm.final_state.copy()
    t_parts, p_parts, rows = [], [], []
    t0 = 0.0
    s0 = base.params.sigma0
    res_name = "Rd" if hasattr(base.circulation.afterload, "Rd") else "R"
    rd0 = base.parameter_value(res_name)
    pat0 = base.parameter_value("P_at")
    drift = dict(drift or {})
    drift0 = {name: base.parameter_value(name) for name in drift}   # an unknown name fails here
    if not (0.0 <= noise_ar1 < 1.0):
        raise ValueError(f"noise_ar1 must be in [0, 1), got {noise_ar1}")
    known = []
    for name, (kind, *_rest) in ESTIMABLE.items():
        if kind == "model":
            try:
                base.parameter_value(name)
            except ParameterError:
                continue
            known.append(name)
    if breathing is not None and not (breathing[0] > 0 and 0 <= breathing[1] < 1):
        raise ValueError(f"breathing needs a period > 0 s and an amplitude in [0, 1), got {breathing}")
    for T in rr:
        fs_ = float(np.interp(t0, st_t, [s[1] for s in story]))
        fr_ = float(np.interp(t0, st_t, [s[2] for s in story]))
        pat = pat0 * (1.0 + breathing[1] * np.sin(2 * np.pi * t0 / breathing[0])) if breathing else pat0
        drifted = {name: v0 * (1.0 + (drift[name] - 1.0) * min(t0 / duration_s, 1.0))
                   for name, v0 in drift0.items()}
        m = base.with_values({"sigma0": s0 * fs_, res_name: rd0 * fr_, **({"P_at": pat} if breathing else {}),
                              **drifted})
        res = m.simulate(rr=[T], state=state)
        state = res.final_state.copy()
        ts = res.timeseries
        h = T / len(ts)
        t_parts.append(t0 + ts["t_mid_s"].to_numpy() - (ts["t_s"].iloc[0] - h))
        p_parts.append(ts["P_ar_mmHg"].to_numpy() * MMHG)
        bi = res.beat_indicators(0)
        rows.append({"t_s": t0, "rr_s": T, "sigma0_kPa": s0 * fs_ / 1e3,
                     "Rd_mmHg_s_per_mL": convert(rd0 * fr_, "Pa*s/m^3", "mmHg*s/mL"), "P_at_mmHg": pat / MMHG,
                     "SBP_aortic_mmHg": bi["SBP_mmHg"], "DBP_aortic_mmHg": bi["DBP_mmHg"],
                     "MAP_mmHg": bi["MAP_mmHg"], "SV_mL": bi["SV_mL"], "CO_L_min": bi["CO_L_min"],
                     **{name: float(to_clinical(name, m.parameter_value(name))) for name in known}})
        t0 += T
        if t0 > duration_s + period:
            break
    t_model = np.concatenate(t_parts)
    p_model = np.concatenate(p_parts)
    if line is not None:
        # the model's arterial pressure seen at the measuring site (one section: the observer's law)
        sections = [line] if np.ndim(line[0]) == 0 else list(line)
        h = float(np.median(np.diff(t_model)))
        for hz, zeta in sections:
            wn = 2 * np.pi * hz
            b, a = bilinear([wn * wn], [1.0, 2 * zeta * wn, wn * wn], fs=1.0 / h)
            p_model = lfilter(b, a, p_model - p_model[0]) + p_model[0]
    t = np.arange(int(round(duration_s * fs_hz))) / fs_hz
    p = np.interp(t, t_model, p_model) + noise_mmhg * MMHG * ar1(rng.standard_normal(t.size), noise_ar1)
    if wander is not None:
        p += wander[0] * MMHG * np.sin(2 * np.pi * t / wander[1])
    if artefacts:  # each at its time when the record is long enough to hold it
        if duration_s > 105.0:
            p = inject.flush(p, fs_hz, 100.0, 2.0, seed=seed)
        if duration_s > 266.0:
            p = inject.gap(p, fs_hz, 260.0, 3.0)
        if duration_s > 458.0:
            p = inject.zeroing(p, fs_hz, 450.0, 5.0, seed=seed)
    truth = pd.DataFrame(rows)
    truth = truth[truth["t_s"] < duration_s].reset_index(drop=True)
    prov = {"seed": seed, "story": [list(s) for s in story], "line": np.asarray(line).tolist() if line else None,
            "noise_mmhg": noise_mmhg, "hr_bpm": hr_bpm, "rr_sd_s": rr_sd_s,
            "breathing": list(breathing) if breathing else None, "drift": drift or None,
            "noise_ar1": noise_ar1, "wander": list(wander) if wander else None}
    rec = synthetic_record(p, fs_hz, name="synthetic-patient", provenance=prov)
    return rec, truth


def ar1(white: np.ndarray, phi: float) -> np.ndarray:
    """Stationary AR(1) series of unit variance from standard normal ``white`` (lag-one correlation ``phi``).

    x[0] = w[0], x[i] = phi x[i-1] + sqrt(1 - phi^2) w[i]; ``phi`` 0 returns ``white`` itself.
    """
    w = np.asarray(white, dtype=float)
    if phi == 0.0 or w.size == 0:
        return w
    from scipy.signal import lfilter

    s = float(np.sqrt(1.0 - phi * phi))
    x, _ = lfilter([s], [1.0, -phi], w, zi=[(1.0 - s) * w[0]])
    return x
