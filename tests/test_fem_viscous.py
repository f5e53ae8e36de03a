"""Kelvin-Voigt viscosity: the Numba kernel against its NumPy twin, its combined tangent
against finite differences, no dissipation in rigid motion, the dissipation of a uniform
stretching rate."""

import numpy as np
import pytest

from cardiosim.fem import reference as REF
from cardiosim.fem import viscous as VK
from cardiosim.fem.space import FunctionSpace
from cardiosim.geometry import box

SIZE = (4e-3, 2e-3, 3e-3)
ETA = 100.0


def _space(order):
    return FunctionSpace(box(2, 1, 2, size=SIZE, order=order))


def _fields(space, seed=0, scale=2e-4):
    rng = np.random.default_rng(seed)
    n = space.mesh.n_points
    return scale * rng.standard_normal((n, 3)), 1e-2 * rng.standard_normal((n, 3))


def _kernel(space, u, v, cu=1.0, cv=1.0, want_k=True):
    m = space.mesh
    nn3 = 3 * space.element.n_nodes
    dofs = np.ascontiguousarray(space.pattern.dofs[:, :nn3])
    pos = np.ascontiguousarray(space.pattern.pos[:, :nn3, :nn3])
    R = np.zeros(space.n_dofs)
    data = np.zeros(space.pattern.nnz)
    U = np.ascontiguousarray(u[m.cells])
    V = np.ascontiguousarray(v[m.cells])
    power = VK.assemble_kelvin_voigt(space.dNdX, space.wdet, U, V, ETA, cu, cv, dofs, pos, R, data, want_k)
    return R, space.pattern.csr(data), power


@pytest.mark.parametrize("order", [1, 2])
def test_kernel_equals_the_numpy_twin(order):
    space = _space(order)
    u, v = _fields(space)
    R, _, power = _kernel(space, u, v)
    m = space.mesh
    Re, p_ref = REF.kelvin_voigt(space.dNdX, space.wdet, u[m.cells], v[m.cells], ETA)
    R_ref = np.zeros(space.n_dofs)
    np.add.at(R_ref, space.pattern.dofs[:, : Re.shape[1]], Re)
    np.testing.assert_allclose(R, R_ref, rtol=0, atol=1e-12 * np.abs(R_ref).max())
    assert power == pytest.approx(p_ref, rel=1e-12) and power > 0


@pytest.mark.parametrize("order", [1, 2])
def test_combined_tangent_is_the_derivative_along_the_scheme(order):
    """u = u0 + cu s d, v = v0 + cv s d: dR/ds at s = 0 is (cu dR/du + cv dR/dv) d."""
    space = _space(order)
    u0, v0 = _fields(space, seed=1)
    d = np.random.default_rng(2).standard_normal(space.n_u)
    cu, cv = 0.6, 0.6 * 0.7 / (0.36 * 1e-3)          # generalized-alpha's, dt = 1 ms
    _, K, _ = _kernel(space, u0, v0, cu, cv)
    h = 1e-8
    Rp = _kernel(space, u0 + cu * h * d.reshape(-1, 3), v0 + cv * h * d.reshape(-1, 3), want_k=False)[0]
    Rm = _kernel(space, u0 - cu * h * d.reshape(-1, 3), v0 - cv * h * d.reshape(-1, 3), want_k=False)[0]
    fd = (Rp - Rm) / (2 * h)
    Kd = K @ np.concatenate([d, np.zeros(space.n_dofs - space.n_u)])
    assert np.abs(Kd - fd).max() <= 1e-6 * np.abs(fd).max()
    # dR/dv is symmetric (the Hessian of the pseudo-potential)
    _, Kv, _ = _kernel(space, u0, v0, 0.0, 1.0)
    assert abs(Kv - Kv.T).max() <= 1e-12 * abs(Kv).max()


def test_rigid_motion_dissipates_nothing():
    """F = Q (a finite rotation), grad v = W Q with W skew: F' grad v = Q' W Q is skew, Edot = 0."""
    space = _space(2)
    X = space.mesh.points
    c, s = np.cos(0.7), np.sin(0.7)
    Q = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    W = np.array([[0, -3.0, 1.0], [3.0, 0, -2.0], [-1.0, 2.0, 0]])
    u = X @ Q.T - X
    v = X @ (W @ Q).T + np.array([0.1, -0.2, 0.3])
    R, _, power = _kernel(space, u, v)
    scale = ETA * np.abs(W).max() * space.wdet.sum() / SIZE[0]
    assert np.abs(R).max() <= 1e-12 * scale
    assert abs(power) <= 1e-12 * ETA * space.wdet.sum() * 9.0


def test_a_uniform_stretching_rate_dissipates_eta_rate_squared_per_volume():
    space = _space(1)
    X = space.mesh.points
    rate = 2.5
    v = np.column_stack([rate * X[:, 0], np.zeros(len(X)), np.zeros(len(X))])
    _, _, power = _kernel(space, np.zeros_like(X), v)
    assert power == pytest.approx(ETA * rate ** 2 * np.prod(SIZE), rel=1e-12)
