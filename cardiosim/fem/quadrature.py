"""Quadrature on the reference tetrahedron and triangle.

Tetrahedron: symmetric 1-, 4- and 14-point rules up to degree 5 (the 14-point rule of
Walkington 2014, degree 5, positive weights; it serves degrees 3-5, so P2 stiffness and
Guccione tangents cost 14 points, as in DOLFINx/basix at degree 4); above degree 5 the
conical (collapsed) Gauss-Jacobi product rules (Stroud 1971): positive weights, any degree.
Triangle: conical rules. Reference tetrahedron: vertices
(0,0,0), (1,0,0), (0,1,0), (0,0,1), volume 1/6; reference triangle: (0,0), (1,0), (0,1).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import roots_jacobi


def _gauss_jacobi01(n: int, alpha: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights on [0, 1] for the weight (1 - t)^alpha."""
    x, w = roots_jacobi(n, alpha, 0.0)
    return 0.5 * (x + 1.0), w / 2.0 ** (alpha + 1)


def _walkington14() -> tuple[np.ndarray, np.ndarray]:
    """14 points: 6 on the edge-midpoint orbit (a, a, 1/2 - a, 1/2 - a), two vertex orbits."""
    a = 0.0455037041256496
    b = 0.5 - a
    pts, w = [], []
    for i, j in ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)):
        lam = np.full(4, b)
        lam[[i, j]] = a
        pts.append(lam[1:])
        w.append(0.007091003462846911)
    for c, wc in ((0.0927352503108912, 0.01224884051939366), (0.3108859192633006, 0.01878132095300264)):
        for k in range(4):
            lam = np.full(4, c)
            lam[k] = 1.0 - 3.0 * c
            pts.append(lam[1:])
            w.append(wc)
    return np.array(pts), np.array(w)


_WALKINGTON14 = _walkington14()


def tetrahedron(degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Points (nq, 3) and weights (nq,) exact for total degree ``degree``; weights sum to 1/6.

    Degrees 1, 2 and 3-5 use the symmetric 1-, 4- and 14-point rules; higher degrees the
    conical rule.
    """
    if degree <= 1:
        return np.array([[0.25, 0.25, 0.25]]), np.array([1.0 / 6.0])
    if degree == 2:
        a, b = 0.5854101966249685, 0.1381966011250105
        pts = np.array([[b, b, b], [a, b, b], [b, a, b], [b, b, a]])
        return pts, np.full(4, 1.0 / 24.0)
    if degree <= 5:
        return _WALKINGTON14[0].copy(), _WALKINGTON14[1].copy()
    n = max(1, math.ceil((degree + 1) / 2))
    u, wu = _gauss_jacobi01(n, 2)
    v, wv = _gauss_jacobi01(n, 1)
    w_, ww = _gauss_jacobi01(n, 0)
    U, V, W = np.meshgrid(u, v, w_, indexing="ij")
    WU, WV, WW = np.meshgrid(wu, wv, ww, indexing="ij")
    x = U
    y = V * (1 - U)
    z = W * (1 - U) * (1 - V)
    pts = np.column_stack([x.ravel(), y.ravel(), z.ravel()])
    return pts, (WU * WV * WW).ravel()


def triangle(degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Points (nq, 2) and weights (nq,) exact for total degree ``degree``; weights sum to 1/2."""
    n = max(1, math.ceil((degree + 1) / 2))
    u, wu = _gauss_jacobi01(n, 1)
    v, wv = _gauss_jacobi01(n, 0)
    U, V = np.meshgrid(u, v, indexing="ij")
    WU, WV = np.meshgrid(wu, wv, indexing="ij")
    return np.column_stack([U.ravel(), (V * (1 - U)).ravel()]), (WU * WV).ravel()
