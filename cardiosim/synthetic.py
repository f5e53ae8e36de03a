"""Synthetic patients: recordings made by cardiosim's own 0D model.

The arterial pressure is the model's proximal arterial pressure, beat by beat
with measured-like RR variability, sampled like a bedside monitor and with
seeded measurement noise.  A known truth is what twin experiments and the
artefact tests need; a recording from the package itself is what lets
``cardiosim demo`` run with no data file.
"""

from __future__ import annotations

import numpy as np

from .circulation import Circulation
from .models.sphere import SphereModel, SphereParameters
from .signals.record import Channel, MonitoringRecord
from .units import MMHG

__all__ = ["arterial_pressure", "synthetic_record"]


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
                     limits_pa: tuple[float, float] | None = None) -> MonitoringRecord:
    """Wrap a pressure array [Pa] as a one-channel record (role ABP)."""
    ch = Channel(name="ABP", role="ABP", values=p_pa, fs_hz=fs_hz, unit="Pa",
                 source_unit="mmHg", limits=limits_pa)
    return MonitoringRecord(source=name, channels={"ABP": ch},
                            provenance={"reader": "cardiosim.synthetic"})
