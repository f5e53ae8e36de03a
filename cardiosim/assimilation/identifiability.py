"""Which parameters can the arterial pressure identify?

Local analysis at a parameter point: sensitivities S_ij = dz_i/domega_j of the periodic
beat's observations (finite differences), scaled by the observation error and the number of
observed beats. From S: Fisher information F = S'S, its rank and condition number, the
posterior sd and correlations of omega from F^-1, and the collinearity index of Brun et al.
2001 (1/sqrt(smallest eigenvalue of the column-normalised S'S)), above 10-15 a set of
parameters is practically not identifiable together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..units import MMHG
from .operator import BeatOperator
from .parameters import ESTIMABLE, ParameterSet

#: candidates examined by default, in the order a clinician would want them
CANDIDATES = ("sigma0", "Rd", "Cp", "P_at", "Cd", "Rp", "P_venous", "C0")
COLLINEARITY_LIMIT = 15.0
RELATIVE_SD_LIMIT = 0.10


@dataclass
class Identifiability:
    names: tuple
    sensitivity: np.ndarray       # (n_obs, p) dz/domega [Pa per unit log2]
    sd_omega: np.ndarray          # posterior sd of omega with all p estimated
    correlation: np.ndarray       # (p, p)
    rank: int
    condition: float
    collinearity: float
    selected: tuple               # the identifiable subset chosen
    table: pd.DataFrame

    def report(self) -> str:
        lines = [f"identifiability from arterial pressure ({len(self.names)} candidates): rank "
                 f"{self.rank}, condition {self.condition:.3g}, collinearity index {self.collinearity:.3g}"]
        lines.append(self.table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
        lines.append(f"identifiable together: {', '.join(self.selected)}")
        return "\n".join(lines)


def sensitivities(op: BeatOperator, omega: np.ndarray, T: float, step: float = 0.02,
                  beats: int = 40, x0=None) -> np.ndarray:
    """Central-difference sensitivity of the periodic beat's observations to omega."""
    p = op.parameters.p
    om = np.repeat(np.asarray(omega, float)[None, :], 2 * p, axis=0)
    for j in range(p):
        om[2 * j, j] += step
        om[2 * j + 1, j] -= step
    _, Z, _ = op.periodic(om, T, beats=beats, x0=x0, tol=0.0)
    return ((Z[0::2] - Z[1::2]) / (2 * step)).T


def analyse(model, candidates=CANDIDATES, omega=None, T: float = 0.8, obs_sd_pa: float = 2 * MMHG,
            beats_observed: int = 100, n_obs: int = 32, x0=None,
            collinearity_limit: float = COLLINEARITY_LIMIT,
            relative_sd_limit: float = RELATIVE_SD_LIMIT) -> Identifiability:
    """Identifiability of ``candidates`` at ``omega`` (default: the model's values).

    The selected set is built greedily: candidates in order of decreasing sensitivity,
    each kept if the set stays below the collinearity limit and every parameter's posterior
    sd (after ``beats_observed`` beats with noise ``obs_sd_pa``) stays below
    ``relative_sd_limit`` (relative to its value).
    """
    candidates = tuple(c for c in candidates if _available(model, c))
    ps = ParameterSet.build(model, list(candidates))
    op = BeatOperator(model, ps, n_obs=n_obs)
    om = np.zeros(ps.p) if omega is None else np.asarray(omega, float)
    S = sensitivities(op, om, T, x0=x0)
    Ss = S / obs_sd_pa * np.sqrt(beats_observed)
    sd, corr, rank, cond, coll = _stats(Ss)
    norms = np.linalg.norm(S, axis=0) / np.sqrt(S.shape[0]) / MMHG * np.log(2) * 0.1
    order = np.argsort(-norms)
    chosen: list[int] = []
    for j in order:
        trial = chosen + [int(j)]
        sd_t, _, rank_t, _, coll_t = _stats(Ss[:, trial])
        rel = np.log(2) * sd_t
        if rank_t == len(trial) and coll_t < collinearity_limit and np.all(rel < relative_sd_limit):
            chosen = trial
    chosen.sort(key=lambda j: candidates.index(candidates[j]))
    sel = tuple(candidates[j] for j in chosen)
    alone = np.log(2) / np.maximum(np.linalg.norm(Ss, axis=0), 1e-300)
    table = pd.DataFrame({
        "parameter": candidates,
        "meaning": [ESTIMABLE[c][3] for c in candidates],
        "mmHg_per_10pct": norms,
        "rel_sd_alone": alone,
        "rel_sd_all": np.log(2) * sd,
        "selected": [c in sel for c in candidates],
    })
    return Identifiability(candidates, S, sd, corr, rank, cond, coll, sel, table)


def _available(model, name) -> bool:
    from .parameters import model_value
    try:
        model_value(model, name)
        return True
    except Exception:
        return False


def _stats(Ss: np.ndarray):
    p = Ss.shape[1]
    sv = np.linalg.svd(Ss, compute_uv=False)
    tol = sv[0] * max(Ss.shape) * np.finfo(float).eps if sv.size else 0.0
    rank = int(np.sum(sv > tol))
    cond = float(sv[0] / sv[-1]) if sv[-1] > 0 else float("inf")
    F = Ss.T @ Ss
    try:
        Cov = np.linalg.inv(F)
        sd = np.sqrt(np.maximum(np.diag(Cov), 0.0))
        corr = Cov / np.outer(sd, sd)
    except np.linalg.LinAlgError:
        sd = np.full(p, np.inf)
        corr = np.full((p, p), np.nan)
    Sn = Ss / np.maximum(np.linalg.norm(Ss, axis=0), 1e-300)
    lam = np.linalg.eigvalsh(Sn.T @ Sn)
    coll = float(1.0 / np.sqrt(max(lam[0], 1e-300)))
    return sd, corr, rank, cond, coll
