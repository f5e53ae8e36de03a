"""The output fields of a deformed wall (fibre stretch, active tension, Cauchy fibre stress at
the cell centroids): the Numba kernel against a NumPy twin built on the closed-form stresses
of reference_materials, and the exact stretch of a homogeneous deformation."""

import numpy as np
import pytest

from cardiosim.fem.elements import shape_functions
from cardiosim.fem.fields import cell_frames, wall_fields
from cardiosim.geometry import TruncatedEllipsoid
from cardiosim.materials import Guccione

from reference_materials import GUCCIONE, stress_tangent


@pytest.fixture(scope="module")
def mesh():
    g = TruncatedEllipsoid.land2015()
    m = g.mesh(1, order=2)
    return m.with_fibres(g.fibres(m.points[m.cells[:, :4]].mean(axis=1)), at="cell")


def twin(mesh, material, u, Ta):
    """Cell by cell: F at the centroid, S of the closed forms plus Ta f0 f0, sigma = F S F'/J."""
    _, dN = shape_functions(2, np.full((1, 3), 0.25))
    U = u.reshape(-1, 3)
    prm = material.pack()
    out = np.empty((len(mesh.cells), 2))
    for c, cell in enumerate(mesh.cells):
        X, Uc = mesh.points[cell], U[cell]
        dXdxi = X.T @ dN[0]
        dNdX = np.linalg.solve(dXdxi.T, dN[0].T).T
        F = np.eye(3) + Uc.T @ dNdX
        R = mesh.fibres[c]
        _, S, _ = stress_tangent(GUCCIONE, F.T @ F, R, prm)
        S = S + Ta[c] * np.outer(R[0], R[0])
        sigma = F @ S @ F.T / np.linalg.det(F)
        f = F @ R[0] / np.linalg.norm(F @ R[0])
        out[c] = np.linalg.norm(F @ R[0]), f @ sigma @ f
    return out


def test_fields_match_the_numpy_twin(mesh):
    rng = np.random.default_rng(3)
    u = 2e-4 * rng.standard_normal(mesh.n_points * 3)
    Ta = 30e3 * rng.random(len(mesh.cells))
    mat = Guccione.land2015_problem3()
    got = wall_fields(mesh, mat, u, Ta)
    ref = twin(mesh, mat, u, Ta)
    np.testing.assert_allclose(got["fibre_stretch"], ref[:, 0], rtol=1e-12)
    np.testing.assert_allclose(got["fibre_stress_Pa"], ref[:, 1], rtol=1e-9, atol=1e-9 * np.abs(ref[:, 1]).max())
    np.testing.assert_array_equal(got["active_tension_Pa"], Ta)


def test_a_homogeneous_deformation_stretches_every_fibre_by_F_f0(mesh):
    F0 = np.array([[1.1, 0.05, 0.0], [0.0, 0.95, 0.02], [0.01, 0.0, 0.97]])
    u = (mesh.points @ (F0 - np.eye(3)).T).ravel()
    got = wall_fields(mesh, Guccione.land2015_problem3(), u, 0.0)
    f0 = cell_frames(mesh)[:, 0]
    np.testing.assert_allclose(got["fibre_stretch"], np.linalg.norm(f0 @ F0.T, axis=1), rtol=1e-12)
    # no strain, no stress: the reference state carries none
    rest = wall_fields(mesh, Guccione.land2015_problem3(), np.zeros_like(u), 0.0)
    np.testing.assert_allclose(rest["fibre_stretch"], 1.0, rtol=1e-14)
    np.testing.assert_allclose(rest["fibre_stress_Pa"], 0.0, atol=1e-9)
