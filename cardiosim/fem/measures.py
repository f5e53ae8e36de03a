"""Quantities read off a solution: point displacements, enclosed and cavity volumes."""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError
from ..geometry.mesh import Mesh
from .elements import Element, shape_functions


def probe(mesh: Mesh, u: np.ndarray, point) -> np.ndarray:
    """Displacement [m] at the reference ``point`` [m], interpolated in the element
    containing it (located through its straight-sided vertex tetrahedron)."""
    p = np.asarray(point, float)
    x = mesh.points[mesh.cells[:, :4]]
    T = np.stack([x[:, 1] - x[:, 0], x[:, 2] - x[:, 0], x[:, 3] - x[:, 0]], axis=2)
    lam = np.linalg.solve(T, (p - x[:, 0])[:, :, None])[:, :, 0]
    inside = np.all(lam >= -1e-9, axis=1) & (lam.sum(axis=1) <= 1 + 1e-9)
    idx = np.flatnonzero(inside)
    if idx.size == 0:
        raise ParameterError(f"point = {tuple(point)} m is outside the mesh {mesh.name!r}")
    e = idx[0]
    N, _ = shape_functions(mesh.order, lam[e][None, :])
    return N[0] @ np.asarray(u).reshape(-1, 3)[mesh.cells[e]]


def surface_flux_volume(mesh: Mesh, u: np.ndarray | None, marker: str, origin=(0.0, 0.0, 0.0)) -> float:
    """(1/3) int (x - x0) . n da over the DEFORMED facets of ``marker`` [m^3], n the
    facets' orientation (outward from the solid for boundary facets).

    Over the whole boundary of the solid this is the solid's deformed volume (divergence
    theorem); over a cavity surface closed by a plane through ``origin`` it is minus the
    cavity volume, the plane contributing nothing since (x - x0) . n = 0 on it. Exact for
    P1/P2 geometry (degree-4 rule on the triangles).
    """
    fac = mesh.facets[marker]
    el = Element.triangle(mesh.order, degree=4)
    x = mesh.points if u is None else mesh.points + np.asarray(u).reshape(-1, 3)
    xf = x[fac] - np.asarray(origin, float)  # (nf, nn, 3)
    xq = np.einsum("qa,fai->fqi", el.N, xf)
    a = np.einsum("qa,fai->fqi", el.dN[:, :, 0], xf)
    b = np.einsum("qa,fai->fqi", el.dN[:, :, 1], xf)
    n = np.cross(a, b)  # area-weighted normal per reference triangle area
    return float(np.einsum("fqi,fqi,q->", xq, n, el.weights) / 3.0)


def cavity_volume(mesh: Mesh, u: np.ndarray | None = None, marker: str = "ENDO",
                  base_point=(0.0, 0.0, 0.0)) -> float:
    """Volume [m^3] of the cavity bounded by the deformed ``marker`` surface (oriented
    outward from the wall, i.e. into the cavity) and the base plane through ``base_point``.

    Assumes the endocardial rim stays in that plane (a fixed or in-plane sliding base)."""
    return -surface_flux_volume(mesh, u, marker, base_point)


def cavity_volume_gradient(mesh: Mesh, u: np.ndarray | None = None, marker: str = "ENDO",
                           base_point=(0.0, 0.0, 0.0)) -> np.ndarray:
    """dV/du (n_points * 3,) [m^2] of :func:`cavity_volume`: the exact derivative of the
    discrete flux formula. For a closed surface it is -int N_a n da, minus the follower
    pressure load per unit pressure, so that the pressure's work is p dV."""
    fac = mesh.facets[marker]
    el = Element.triangle(mesh.order, degree=4)
    x = mesh.points if u is None else mesh.points + np.asarray(u).reshape(-1, 3)
    xf = x[fac] - np.asarray(base_point, float)
    y = np.einsum("qa,fai->fqi", el.N, xf)
    a = np.einsum("qa,fai->fqi", el.dN[:, :, 0], xf)
    b = np.einsum("qa,fai->fqi", el.dN[:, :, 1], xf)
    n = np.cross(a, b)
    # d(y . a x b)/dx_c = N_c (a x b) + dN_c,xi (b x y) + dN_c,eta (y x a)
    g = (np.einsum("q,qc,fqi->fci", el.weights, el.N, n)
         + np.einsum("q,qc,fqi->fci", el.weights, el.dN[:, :, 0], np.cross(b, y))
         + np.einsum("q,qc,fqi->fci", el.weights, el.dN[:, :, 1], np.cross(y, a)))
    out = np.zeros((mesh.n_points, 3))
    np.add.at(out, fac, g)
    return -out.ravel() / 3.0
