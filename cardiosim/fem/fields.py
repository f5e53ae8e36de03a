"""Fields of a deformed wall at the cell centroids, for output: fibre stretch, active
tension and the Cauchy fibre stress.

The fibre stress is sigma_ff = f . sigma f with f = F f0 / |F f0| and
sigma = F S F^T / J, S the second Piola-Kirchhoff stress of the passive law (with its
volumetric penalty) plus the active part T_a f0 (x) f0 (Guccione et al. 1991; the active
stress of Land et al. 2015).
"""

from __future__ import annotations

import numba
import numpy as np

from ..geometry import Mesh
from ..materials.laws import stress
from .elements import shape_functions


def centroid_gradients(mesh: Mesh) -> np.ndarray:
    """dN/dX (n_cells, n_nodes, 3) of every cell at its centroid."""
    _, dN = shape_functions(mesh.order, np.full((1, 3), 0.25))
    X = mesh.points[mesh.cells]                                  # (m, nn, 3)
    J = np.einsum("mai,aj->mij", X, dN[0])                      # dX/dxi
    return np.einsum("aj,mji->mai", dN[0], np.linalg.inv(J))


def cell_frames(mesh: Mesh) -> np.ndarray:
    """Fibre frames (n_cells, 3, 3), rows f0, s0, n0: the mesh's per cell, or the mean of its
    nodes' re-orthonormalised (f0 kept along the mean fibre)."""
    if mesh.fibres is None:
        raise ValueError(f"mesh {mesh.name!r} has no fibres")
    if mesh.fibres_at == "cell":
        return np.ascontiguousarray(mesh.fibres, float)
    R = mesh.fibres[mesh.cells[:, :4]].mean(axis=1)
    f = R[:, 0] / np.linalg.norm(R[:, 0], axis=1)[:, None]
    s = R[:, 1] - np.einsum("mi,mi->m", R[:, 1], f)[:, None] * f
    s /= np.linalg.norm(s, axis=1)[:, None]
    return np.ascontiguousarray(np.stack([f, s, np.cross(f, s)], axis=1))


@numba.njit(cache=True)
def fibre_fields(dNdX, U, R, Ta, kind, prm, out):
    """out[c] = (fibre stretch, Cauchy fibre stress [Pa]) of cell c, from its centroid
    gradients dNdX (m, nn, 3), nodal displacements U (m, nn, 3), frames R (m, 3, 3) and
    active tension Ta (m,) [Pa]."""
    m, nn = dNdX.shape[0], dNdX.shape[1]
    F = np.empty((3, 3))
    C = np.empty((3, 3))
    S = np.empty((3, 3))
    Rc = np.empty((3, 3))
    for c in range(m):
        for i in range(3):
            for j in range(3):
                v = 1.0 if i == j else 0.0
                for a in range(nn):
                    v += U[c, a, i] * dNdX[c, a, j]
                F[i, j] = v
        for i in range(3):
            for j in range(3):
                v = 0.0
                for k in range(3):
                    v += F[k, i] * F[k, j]
                C[i, j] = v
                Rc[i, j] = R[c, i, j]
        stress(kind, C, Rc, prm, S)
        f0 = R[c, 0]
        for i in range(3):
            for j in range(3):
                S[i, j] += Ta[c] * f0[i] * f0[j]
        Ff = np.zeros(3)
        for i in range(3):
            for j in range(3):
                Ff[i] += F[i, j] * f0[j]
        lam2 = Ff[0] ** 2 + Ff[1] ** 2 + Ff[2] ** 2
        detF = (F[0, 0] * (F[1, 1] * F[2, 2] - F[1, 2] * F[2, 1])
                - F[0, 1] * (F[1, 0] * F[2, 2] - F[1, 2] * F[2, 0])
                + F[0, 2] * (F[1, 0] * F[2, 1] - F[1, 1] * F[2, 0]))
        # f . F S F^T f / (J |F f0|^2) = (F^T f)' S (F^T f) / J with F^T f = C f0 / |F f0|
        Cf = np.zeros(3)
        for i in range(3):
            for j in range(3):
                Cf[i] += C[i, j] * f0[j]
        v = 0.0
        for i in range(3):
            for j in range(3):
                v += Cf[i] * S[i, j] * Cf[j]
        out[c, 0] = np.sqrt(lam2)
        out[c, 1] = v / (detF * lam2)


def wall_fields(mesh: Mesh, material, u: np.ndarray, Ta: np.ndarray, dNdX: np.ndarray | None = None,
                frames: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per cell at its centroid: ``fibre_stretch`` [-], ``active_tension_Pa`` (the cell's
    ``Ta``), ``fibre_stress_Pa`` (Cauchy) of displacement u (n_points * 3,) [m]."""
    dNdX = centroid_gradients(mesh) if dNdX is None else dNdX
    R = cell_frames(mesh) if frames is None else frames
    U = np.ascontiguousarray(np.asarray(u, float).reshape(-1, 3)[mesh.cells])
    Ta = np.ascontiguousarray(np.broadcast_to(np.asarray(Ta, float), (len(mesh.cells),)))
    out = np.empty((len(mesh.cells), 2))
    fibre_fields(dNdX, U, R, Ta, material.kind, material.pack(), out)
    return {"fibre_stretch": out[:, 0], "active_tension_Pa": Ta.copy(), "fibre_stress_Pa": out[:, 1]}
