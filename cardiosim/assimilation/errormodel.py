"""The pressure points' error model: serially correlated (AR(1)) errors between phases.

A beat's residuals (model error and noise) are not independent from one phase to the next;
treated as independent, 32 points per beat would tell the filter far more than they hold.
The error model is AR(1) between consecutive phases, sd sigma and lag-one correlation rho:
the exact inverse covariance is that of the whitened points (:func:`ar1_whiten`), and the
information the beat carries on its slow features (level, area, slopes spread over the
beat) is that of n (1 - rho) / (1 + rho) independent points (:func:`variance_inflation`;
e.g. Box, Jenkins & Reinsel, Time Series Analysis, for the effective sample size of an AR(1)
mean).
"""

from __future__ import annotations

import math

import numpy as np

#: the largest correlation used: above it a beat would count as less than one point in 32
RHO_MAX = 0.95


def lag_one_correlation(residuals: np.ndarray) -> float:
    """Pooled lag-one correlation between phases of residuals (beats, phases), in [0, RHO_MAX]."""
    r = np.asarray(residuals, dtype=float)
    if r.ndim != 2 or r.shape[1] < 2:
        raise ValueError(f"residuals must be (beats, phases >= 2), got shape {r.shape}")
    r = r[np.all(np.isfinite(r), axis=1)]
    den = float(np.mean(r * r))
    if den <= 0.0:
        return 0.0
    return float(np.clip(np.mean(r[:, 1:] * r[:, :-1]) / den, 0.0, RHO_MAX))


def ar1_whiten(v: np.ndarray, rho: float, n: int) -> np.ndarray:
    """Whiten the first ``n`` entries along the last axis for AR(1) errors of correlation ``rho``.

    e_0 stays, e_i -> (e_i - rho e_(i-1)) / sqrt(1 - rho^2): errors with covariance
    sigma^2 rho^|i-j| become independent with variance sigma^2. Entries after ``n`` (flow
    observations) are left as they are.
    """
    if not (0.0 <= rho < 1.0):
        raise ValueError(f"rho must be in [0, 1), got {rho!r}")
    v = np.asarray(v, dtype=float)
    if rho == 0.0 or n < 2:
        return v
    out = v.copy()
    out[..., 1:n] = (v[..., 1:n] - rho * v[..., :n - 1]) / math.sqrt(1.0 - rho * rho)
    return out


def variance_inflation(rho: float) -> float:
    """(1 + rho) / (1 - rho): the variance by which independent points carry AR(1) information."""
    if not (0.0 <= rho < 1.0):
        raise ValueError(f"rho must be in [0, 1), got {rho!r}")
    return (1.0 + rho) / (1.0 - rho)
