"""The 3D active stress of the BCS law (cardiosim.fem.active): its kernels against NumPy
twins and finite differences, and a wall driven by it next to the 0D sphere's law."""

import numpy as np
import pytest

from cardiosim.fem import FunctionSpace
from cardiosim.fem import active as AK
from cardiosim.geometry import TruncatedEllipsoid


@pytest.fixture(scope="module")
def setup():
    g = TruncatedEllipsoid.land2015()
    m = g.mesh(1, order=1)
    m = m.with_fibres(g.fibres(m.points[m.cells[:, :4]].mean(axis=1)), at="cell")
    sp = FunctionSpace(m)
    R = sp.frames(None)
    rng = np.random.default_rng(5)
    u = 1e-3 * rng.standard_normal(m.n_points * 3)
    return m, sp, R, u


def _U(m, u):
    return np.ascontiguousarray(u.reshape(-1, 3)[m.cells])


@pytest.mark.parametrize("delta", [0.0, 0.5, 0.3])
def test_fibre_strain_is_A_colon_E(setup, delta):
    m, sp, R, u = setup
    e = np.empty((m.n_cells, sp.n_quadrature_points))
    AK.fibre_strains(sp.dNdX, _U(m, u), R, delta, e)
    U = _U(m, u)
    for c in range(0, m.n_cells, 7):
        for q in range(sp.n_quadrature_points):
            F = np.eye(3) + U[c].T @ sp.dNdX[c, q]
            E = 0.5 * (F.T @ F - np.eye(3))
            A = (1 - delta) * np.outer(R[c, q, 0], R[c, q, 0]) + delta * np.outer(R[c, q, 1], R[c, q, 1])
            assert e[c, q] == pytest.approx(np.sum(A * E), rel=1e-12, abs=1e-16)


def _residual(m, sp, R, delta, u, law):
    """R(u) with tau = law(e(u)) at each point, by the kernel (no tangent)."""
    e = np.empty((m.n_cells, sp.n_quadrature_points))
    AK.fibre_strains(sp.dNdX, _U(m, u), R, delta, e)
    tau, dtau = law(e)
    pat = sp.pattern
    rg = np.zeros(pat.n)
    nn3 = 3 * sp.element.n_nodes
    AK.assemble_active(sp.dNdX, sp.wdet, _U(m, u), R, delta, tau, dtau, 1.0, np.ascontiguousarray(pat.dofs[:, :nn3]),
                       np.ascontiguousarray(pat.pos[:, :nn3, :nn3]), rg, np.zeros(0), False)
    return rg


@pytest.mark.parametrize("delta", [0.0, 0.5])
def test_residual_is_the_work_of_tau_A_and_the_tangent_its_derivative(setup, delta):
    m, sp, R, u = setup
    # a nonlinear tau(e): stiffening active stress
    law = lambda e: (4e4 + 2e5 * e + 3e6 * e ** 2, 2e5 + 6e6 * e)  # noqa: E731
    pat = sp.pattern
    nn3 = 3 * sp.element.n_nodes
    e = np.empty((m.n_cells, sp.n_quadrature_points))
    AK.fibre_strains(sp.dNdX, _U(m, u), R, delta, e)
    tau, dtau = law(e)
    rg = np.zeros(pat.n)
    data = np.zeros(pat.nnz)
    AK.assemble_active(sp.dNdX, sp.wdet, _U(m, u), R, delta, tau, dtau, 1.0, np.ascontiguousarray(pat.dofs[:, :nn3]),
                       np.ascontiguousarray(pat.pos[:, :nn3, :nn3]), rg, data, True)
    K = pat.csr(data)
    # residual = d/du of int W(e) dV with W' = tau: check along a random direction
    W = lambda uu: float(np.sum(sp.wdet * _energy(m, sp, R, delta, uu)))  # noqa: E731
    rng = np.random.default_rng(8)
    d = rng.standard_normal(u.size)
    h = 1e-7
    assert rg[: u.size] @ d == pytest.approx((W(u + h * d) - W(u - h * d)) / (2 * h), rel=1e-6)
    # tangent against central differences of the residual
    fd = (_residual(m, sp, R, delta, u + h * d, law) - _residual(m, sp, R, delta, u - h * d, law)) / (2 * h)
    Kd = K @ np.concatenate([d, np.zeros(pat.n - u.size)])
    assert np.linalg.norm(Kd - fd) < 1e-6 * np.linalg.norm(fd)
    assert abs(K - K.T).max() < 1e-9 * abs(K).max()


def _energy(m, sp, R, delta, u):
    e = np.empty((m.n_cells, sp.n_quadrature_points))
    AK.fibre_strains(sp.dNdX, _U(m, u), R, delta, e)
    return 4e4 * e + 1e5 * e ** 2 + 1e6 * e ** 3
