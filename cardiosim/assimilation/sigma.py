"""Sigma-point sets."""

from __future__ import annotations

import numpy as np


def simplex_points(p: int) -> np.ndarray:
    """Simplex sigma points of Moireau & Chapelle 2011 (ESAIM COCV 17:380-405), shape (p, p + 1).

    Equal weights 1/(p + 1); the points have zero mean and (1/(p+1)) sum I I^T = I_p.
    """
    if p < 1:
        raise ValueError("need at least one parameter")
    r = p + 1
    beta = p / r
    W = np.zeros((p, r))
    W[0, 0] = -1.0 / np.sqrt(2.0 * beta)
    W[0, 1] = 1.0 / np.sqrt(2.0 * beta)
    for i in range(1, p):
        c = 1.0 / np.sqrt(beta * (i + 1) * (i + 2))
        W[i, : i + 1] = c
        W[i, i + 1] = -(i + 1) * c
    return np.sqrt(p) * W


def merwe_weights(n: int, alpha: float = 0.5, beta: float = 2.0, kappa: float = 0.0):
    """Scaled symmetric sigma points (van der Merwe): (scale, Wm, Wc) for 2n + 1 points."""
    lam = alpha ** 2 * (n + kappa) - n
    c = n + lam
    Wm = np.full(2 * n + 1, 0.5 / c)
    Wc = Wm.copy()
    Wm[0] = lam / c
    Wc[0] = lam / c + (1.0 - alpha ** 2 + beta)
    return np.sqrt(c), Wm, Wc


def safe_cholesky(P: np.ndarray, what: str = "covariance") -> np.ndarray:
    """Lower Cholesky factor of a symmetrised P, with growing jitter if it is not quite SPD."""
    P = 0.5 * (P + P.T)
    scale = max(float(np.max(np.abs(np.diag(P)))), 1e-300)
    for k in range(8):
        try:
            return np.linalg.cholesky(P + (0.0 if k == 0 else 10.0 ** (k - 13)) * scale * np.eye(len(P)))
        except np.linalg.LinAlgError:
            continue
    w, V = np.linalg.eigh(P)
    w = np.maximum(w, 1e-12 * scale)
    return np.linalg.cholesky((V * w) @ V.T)
