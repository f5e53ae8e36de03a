"""Quadrature on the reference tetrahedron and triangle.

Conical (collapsed) Gauss-Jacobi product rules (Stroud 1971): positive weights, exact for
polynomials of the requested total degree, any degree. Reference tetrahedron: vertices
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


def tetrahedron(degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Points (nq, 3) and weights (nq,) exact for total degree ``degree``; weights sum to 1/6.

    Degree 1 and 2 use the symmetric 1- and 4-point rules; higher degrees the conical rule.
    """
    if degree <= 1:
        return np.array([[0.25, 0.25, 0.25]]), np.array([1.0 / 6.0])
    if degree == 2:
        a, b = 0.5854101966249685, 0.1381966011250105
        pts = np.array([[b, b, b], [a, b, b], [b, a, b], [b, b, a]])
        return pts, np.full(4, 1.0 / 24.0)
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
