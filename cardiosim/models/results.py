"""Simulation results: time series and per-beat indicators in clinical units.

Node values (volume, arterial node pressures, internal variables) are at step ends;
cavity pressure and valve flows are step averages of the mid-point scheme, placed at
step mid-times in :attr:`Results.timeseries` (column ``t_mid_s``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from ..units import MMHG, convert, pa_to_mmhg
from . import sphere_kernels as K

#: threshold of the valve state: open when the pressure drop exceeds it [Pa]
VALVE_OPEN_DP = 0.0


@dataclass
class Results:
    """Output of :meth:`cardiosim.models.sphere.SphereModel.simulate`.

    Attributes
    ----------
    raw : ndarray (n_steps, O_C + n)
        Kernel output in SI units (see ``sphere_kernels.O_*``), the circulation's n node
        pressures last.
    steps : ndarray
        Steps per beat.
    beat_lengths : ndarray
        Beat durations [s].
    starts : list of ndarray
        State at each beat start (the last entry is the final state).
    meta : dict
        Model description, for the JSON written beside results.
    """

    raw: np.ndarray
    steps: np.ndarray
    beat_lengths: np.ndarray
    starts: list
    R0: float
    node_names: tuple = ()
    meta: dict = field(default_factory=dict)
    periodic: bool = False

    @classmethod
    def from_arrays(cls, model, chunks: Sequence[np.ndarray], steps: Sequence[int],
                    lengths: Sequence[float], starts: Sequence[np.ndarray]) -> "Results":
        nodes = model.circulation.state_names
        raw = np.concatenate(chunks, axis=0) if len(chunks) else np.zeros((0, K.O_C + len(nodes)))
        return cls(raw=raw, steps=np.asarray(steps, dtype=int), beat_lengths=np.asarray(lengths, float),
                   starts=list(starts), R0=model.params.R0, node_names=tuple(nodes),
                   meta={"model": model.describe()})

    @property
    def final_state(self) -> np.ndarray:
        return self.starts[-1]

    @property
    def n_beats(self) -> int:
        return len(self.steps)

    def beat_slices(self) -> list[slice]:
        ends = np.cumsum(self.steps)
        return [slice(int(e - n), int(e)) for e, n in zip(ends, self.steps)]

    def beat_start_volume(self, k: int) -> float:
        """Cavity volume [m^3] at the start of beat k."""
        y = self.starts[k][K.X_Y]
        return 4.0 / 3.0 * math.pi * (self.R0 + y) ** 3

    @property
    def timeseries(self) -> pd.DataFrame:
        """Per-step time series in clinical units.

        ``P_ar_mmHg`` is the arterial (entry) pressure, a step average; ``<node>_node_mmHg``
        the circulation's node pressures at step ends (``P_ar``, ``P_d``, ``P_at``, ...).
        """
        r = self.raw
        h = np.repeat(self.beat_lengths / np.maximum(self.steps, 1), self.steps)
        beat = np.repeat(np.arange(self.n_beats), self.steps)
        nodes = {f"{name}_node_mmHg": pa_to_mmhg(r[:, K.O_C + i]) for i, name in enumerate(self.node_names)}
        return pd.DataFrame({
            "beat": beat,
            "t_s": r[:, K.O_T],
            "t_mid_s": r[:, K.O_T] - 0.5 * h,
            "V_mL": convert(r[:, K.O_V], "m^3", "mL"),
            "P_v_mmHg": pa_to_mmhg(r[:, K.O_PV]),
            "P_ar_mmHg": pa_to_mmhg(r[:, K.O_PENTRY]),
            **nodes,
            "P_at_mmHg": pa_to_mmhg(r[:, K.O_PAT]),
            "Q_in_mL_s": convert(r[:, K.O_QIN], "m^3/s", "mL/s"),
            "Q_out_mL_s": convert(r[:, K.O_QOUT], "m^3/s", "mL/s"),
            "tau_c_kPa": convert(r[:, K.O_TAU], "Pa", "kPa"),
            "k_c_kPa": convert(r[:, K.O_KC], "Pa", "kPa"),
            "e_c": r[:, K.O_EC],
            "omega": r[:, K.O_OM],
            "u_per_s": r[:, K.O_ACT],
        })

    def beat_indicators(self, k: int) -> dict:
        """Indicators of beat k (clinical units)."""
        sl = self.beat_slices()[k]
        r = self.raw[sl]
        T = float(self.beat_lengths[k])
        h = T / int(self.steps[k])
        V = np.concatenate([[self.beat_start_volume(k)], r[:, K.O_V]])
        pv = r[:, K.O_PV]
        par = r[:, K.O_PENTRY]
        edv, esv = _extremum(V, True), _extremum(V, False)
        sv = edv - esv
        phases = _phases(r[:, K.O_PAT] - pv, pv - par)
        dur = {name: float(np.sum(phases == code) * h) for code, name in enumerate(
            ("filling_s", "isovolumic_contraction_s", "ejection_s", "isovolumic_relaxation_s"))}
        dpdt = np.diff(pv) / h
        work = -float(np.sum(pv * np.diff(V)))  # work done by the ventricle on the blood
        return {
            "beat": k,
            "t_start_s": float(self.raw[sl.start, K.O_T] - h),
            "RR_s": T,
            "HR_bpm": 60.0 / T,
            "EDV_mL": edv * 1e6,
            "ESV_mL": esv * 1e6,
            "SV_mL": sv * 1e6,
            "EF": sv / edv,
            "CO_L_min": convert(sv / T, "m^3/s", "L/min"),
            "SBP_mmHg": pa_to_mmhg(_extremum(par, True)),
            "DBP_mmHg": pa_to_mmhg(_extremum(par, False)),
            "MAP_mmHg": pa_to_mmhg(par.mean()),
            "Pv_max_mmHg": pa_to_mmhg(_extremum(pv, True)),
            "Pv_min_mmHg": pa_to_mmhg(pv.min()),
            "stroke_work_J": work,
            "stroke_work_mmHg_mL": work / MMHG * 1e6,
            "dPdt_max_mmHg_s": pa_to_mmhg(dpdt.max()) if dpdt.size else float("nan"),
            "dPdt_min_mmHg_s": pa_to_mmhg(dpdt.min()) if dpdt.size else float("nan"),
            "ejection_time_s": dur["ejection_s"],
            **dur,
        }

    @property
    def beats(self) -> pd.DataFrame:
        """One row of indicators per beat."""
        return pd.DataFrame([self.beat_indicators(k) for k in range(self.n_beats)])

    def last_beat(self) -> dict:
        return self.beat_indicators(self.n_beats - 1)

    def energy(self, k: int | None = None) -> dict:
        """Energy terms summed over beat k (all beats if None) [J]."""
        sl = slice(None) if k is None else self.beat_slices()[k]
        r = self.raw[sl]
        names = {"pressure_work": K.O_E_PDV, "kinetic": K.O_E_KIN, "elastic": K.O_E_ELASTIC,
                 "viscous_dissipation": K.O_E_VISC, "contractile_damping": K.O_E_DAMP,
                 "active_work": K.O_E_ACTIVE, "numerical_dissipation": K.O_E_NUM}
        return {name: float(r[:, i].sum()) for name, i in names.items()}


def _extremum(x: np.ndarray, largest: bool) -> float:
    """Extreme value of a uniformly sampled series, refined by the parabola through the
    three samples around the discrete extremum (sampling error O(h^3) on smooth peaks)."""
    i = int(np.argmax(x) if largest else np.argmin(x))
    if 0 < i < x.size - 1:
        y0, y1, y2 = x[i - 1], x[i], x[i + 1]
        curv = y2 - 2.0 * y1 + y0
        if (curv < 0) if largest else (curv > 0):
            return float(y1 - (y2 - y0) ** 2 / (8.0 * curv))
    return float(x[i])


def _phases(dp_in: np.ndarray, dp_out: np.ndarray) -> np.ndarray:
    """Phase code per step: 0 filling, 1 isovolumic contraction, 2 ejection, 3 relaxation.

    A valve is open when its pressure drop is positive. A closed stretch is contraction if
    it follows filling (or precedes ejection), relaxation if it follows ejection.
    """
    n = dp_in.size
    code = np.full(n, -1)
    code[dp_in > VALVE_OPEN_DP] = 0
    code[dp_out > VALVE_OPEN_DP] = 2
    # closed steps take their label from the last open phase, wrapping around the beat
    last = -1
    for i in list(range(n)) * 2:
        if code[i] in (0, 2):
            last = code[i]
        elif last != -1 and code[i] in (-1, 1, 3):
            code[i] = 1 if last == 0 else 3
    code[code == -1] = 1
    return code
