"""Hyperelastic and pressure kernels: tangents against finite differences, NumPy twin, balances."""

import numpy as np
import pytest

from cardiosim import materials as MAT
from cardiosim.fem import Element, Pattern
from cardiosim.fem import hyperelastic as HK
from cardiosim.fem import kernels as FK
from cardiosim.geometry import Mesh, boundary_facets, box


def _laws():
    return [MAT.NeoHooke(mu=1.0e3, kappa=5.0e4), MAT.Guccione.land2015_problem1(),
            MAT.HolzapfelOgden.holzapfel_ogden2009()]


def _frames(ne, nq, rng):
    """A different orthonormal frame at every quadrature point (rows f0, s0, n0)."""
    Q = np.linalg.qr(rng.standard_normal((ne * nq, 3, 3)))[0]
    return np.ascontiguousarray(np.transpose(Q, (0, 2, 1)).reshape(ne, nq, 3, 3))


def _setup(order, rng, amount=0.05):
    m = box(1, 1, 1, size=(1e-3, 1e-3, 1e-3), order=order)
    el = Element.tetra(order)
    X = np.ascontiguousarray(m.points[m.cells])
    ne, nq, nn = m.n_cells, len(el.weights), el.n_nodes
    dNdX = np.empty((ne, nq, nn, 3))
    wdet = np.empty((ne, nq))
    FK.geometry(X, el.dN, el.weights, dNdX, wdet)
    u = amount * 1e-3 * rng.standard_normal((m.n_points, 3))
    return m, dNdX, wdet, u


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("law", range(3))
def test_element_tangent_matches_finite_differences(order, law):
    rng = np.random.default_rng(order * 10 + law)
    mat = _laws()[law]
    m, dNdX, wdet, u = _setup(order, rng)
    R = _frames(m.n_cells, dNdX.shape[1], rng)
    Ta = np.full(m.n_cells, 2.0e3)
    nn = m.cells.shape[1]
    prm = np.asarray(mat.pack(), float)

    def res(uu):
        Re = np.empty((m.n_cells, 3 * nn))
        Ke = np.empty((m.n_cells, 3 * nn, 3 * nn))
        w = HK.hyperelastic(dNdX, wdet, np.ascontiguousarray(uu[m.cells]), R, mat.kind, prm, Ta, Re, Ke)
        assert w > 0  # no inverted element: the kernel returns -1 - e otherwise
        return Re, Ke

    Re, Ke = res(u)
    h = 1e-9
    e = 0
    Kfd = np.zeros_like(Ke[e])
    for a in range(nn):
        for i in range(3):
            up, um = u.copy(), u.copy()
            up[m.cells[e, a], i] += h
            um[m.cells[e, a], i] -= h
            Kfd[:, 3 * a + i] = (res(up)[0][e] - res(um)[0][e]) / (2 * h)
    assert np.abs(Ke[e] - Kfd).max() < 1e-5 * np.abs(Ke[e]).max()


def test_residual_is_the_gradient_of_the_energy_and_zero_at_rest():
    rng = np.random.default_rng(3)
    mat = MAT.Guccione.land2015_problem1()
    m, dNdX, wdet, u = _setup(2, rng, amount=0.03)
    R = _frames(m.n_cells, dNdX.shape[1], rng)
    Ta = np.zeros(m.n_cells)
    prm = np.asarray(mat.pack(), float)
    Re = np.empty((m.n_cells, 30))
    Ke = np.empty((m.n_cells, 30, 30))
    HK.hyperelastic(dNdX, wdet, np.zeros((m.n_cells, 10, 3)), R, mat.kind, prm, Ta, Re, Ke)
    assert np.abs(Re).max() < 1e-12
    pat = Pattern(m.cells, m.n_points)

    def energy(uu):
        return HK.hyperelastic(dNdX, wdet, np.ascontiguousarray(uu[m.cells]), R, mat.kind, prm, Ta, Re, Ke)

    assert energy(u) > 0
    g = pat.vector(Re.copy())
    du = 1e-3 * 1e-3 * rng.standard_normal(u.shape)
    d = (energy(u + 1e-4 * du) - energy(u - 1e-4 * du)) / 2e-4
    assert d == pytest.approx(g @ du.ravel(), rel=1e-6)


@pytest.mark.parametrize("order", [1, 2])
def test_pressure_tangent_and_closed_surface_balance(order):
    rng = np.random.default_rng(7)
    m = box(1, 1, 1, size=(1e-3, 1e-3, 1e-3))
    fac = boundary_facets(m)
    m = Mesh(m.points, m.cells, {"ALL": fac})
    if order == 2:
        m = m.to_quadratic()
    fac = m.facets["ALL"]
    el = Element.triangle(order)
    X = np.ascontiguousarray(m.points[fac])
    u = 0.1e-3 * rng.standard_normal((m.n_points, 3))
    nf, nn = fac.shape

    def res(uu):
        Re = np.empty((nf, 3 * nn))
        Ke = np.empty((nf, 3 * nn, 3 * nn))
        HK.pressure(X, np.ascontiguousarray(uu[fac]), el.N, el.dN, el.weights, 1.0e3, Re, Ke)
        return Re, Ke

    pat = Pattern(fac, m.n_points)
    Re, Ke = res(u)
    # a uniform pressure on a closed surface exerts no net force, deformed or not
    F = pat.vector(Re).reshape(-1, 3).sum(axis=0)
    assert np.abs(F).max() < 1e-12 * np.abs(Re).max()
    # the load at rest equals p times the outward area vector of each face
    R0, _ = res(np.zeros_like(u))
    assert pat.vector(R0).reshape(-1, 3)[:, 2].clip(0).sum() == pytest.approx(1.0e3 * 1e-6, rel=1e-12)
    K = pat.matrix(Ke)
    h = 1e-10
    d = rng.standard_normal(u.size)
    fd = (pat.vector(res(u + h * d.reshape(-1, 3))[0]) - pat.vector(res(u - h * d.reshape(-1, 3))[0])) / (2 * h)
    assert np.abs(K @ d - fd).max() < 1e-6 * np.abs(fd).max()


def _mixed_setup(rng, law):
    from cardiosim.fem.elements import shape_functions

    mat = _laws()[law]
    m, dNdX, wdet, u = _setup(2, rng, amount=0.05)
    el = Element.tetra(2)
    Np = np.ascontiguousarray(shape_functions(1, el.points)[0])
    prm = np.asarray(mat.pack(), float)
    prm[-1] = 0.0
    R = _frames(m.n_cells, dNdX.shape[1], rng)
    return mat, m, dNdX, wdet, u, Np, prm, R


@pytest.mark.parametrize("law", range(3))
def test_taylor_hood_tangent_matches_finite_differences(law):
    """The u-p element matrix (K_uu with the pressure's geometric terms, K_up, K_pp = 0)
    is the derivative of the u-p residual, in u and in p."""
    rng = np.random.default_rng(40 + law)
    mat, m, dNdX, wdet, u, Np, prm, R = _mixed_setup(rng, law)
    P = 2.0e3 * rng.standard_normal((m.n_cells, 4))  # element-wise: any values will do here
    Ta = np.full(m.n_cells, 1.5e3)

    def res(uu, PP):
        Re = np.empty((m.n_cells, 34))
        Ke = np.empty((m.n_cells, 34, 34))
        lag = HK.hyperelastic_up(dNdX, Np, wdet, np.ascontiguousarray(uu[m.cells]), PP, R, mat.kind, prm, Ta, Re,
                                 Ke)
        assert lag > -1.0  # no inverted element
        return Re, Ke

    Re, Ke = res(u, P)
    e = 1
    Kfd = np.zeros_like(Ke[e])
    h = 1e-9
    for a in range(10):
        for i in range(3):
            up, um = u.copy(), u.copy()
            up[m.cells[e, a], i] += h
            um[m.cells[e, a], i] -= h
            Kfd[:, 3 * a + i] = (res(up, P)[0][e] - res(um, P)[0][e]) / (2 * h)
    hp = 1.0
    for j in range(4):
        Pp, Pm = P.copy(), P.copy()
        Pp[e, j] += hp
        Pm[e, j] -= hp
        Kfd[:, 30 + j] = (res(u, Pp)[0][e] - res(u, Pm)[0][e]) / (2 * hp)
    scale_uu = np.abs(Ke[e, :30, :30]).max()
    scale_up = np.abs(Ke[e, :30, 30:]).max()
    assert np.abs(Ke[e, :30, :30] - Kfd[:30, :30]).max() < 1e-5 * scale_uu
    assert np.abs(Ke[e, :30, 30:] - Kfd[:30, 30:]).max() < 1e-6 * scale_up
    assert np.abs(Ke[e, 30:, :30] - Kfd[30:, :30]).max() < 1e-6 * scale_up
    assert np.abs(Ke[e, 30:, 30:]).max() == 0.0 and np.abs(Kfd[30:, 30:]).max() < 1e-12 * scale_up
    assert np.abs(Ke[e] - Ke[e].T).max() == 0.0


def test_taylor_hood_residual_is_the_gradient_of_the_lagrangian():
    """Without active tension the u-p residual is the gradient of
    L = int W_iso dV - int p (J - 1) dV, in both fields; R_p vanishes at J = 1."""
    rng = np.random.default_rng(5)
    mat, m, dNdX, wdet, u, Np, prm, R = _mixed_setup(rng, 1)
    P = 1.0e3 * rng.standard_normal((m.n_cells, 4))
    Ta = np.zeros(m.n_cells)
    Re = np.empty((m.n_cells, 34))
    Ke = np.empty((m.n_cells, 34, 34))

    def lag(uu, PP):
        return HK.hyperelastic_up(dNdX, Np, wdet, np.ascontiguousarray(uu[m.cells]), PP, R, mat.kind, prm, Ta,
                                  Re, Ke, False)

    HK.hyperelastic_up(dNdX, Np, wdet, np.zeros((m.n_cells, 10, 3)), P, R, mat.kind, prm, Ta, Re, Ke)
    assert np.abs(Re[:, 30:]).max() == 0.0  # J = 1 at rest
    lag(u, P)
    g_u = Pattern(m.cells, m.n_points).vector(np.ascontiguousarray(Re[:, :30]))
    g_p = Re[:, 30:].copy()
    du = 1e-6 * rng.standard_normal(u.shape)
    dP = rng.standard_normal(P.shape)
    d_u = (lag(u + 1e-3 * du, P) - lag(u - 1e-3 * du, P)) / 2e-3
    d_p = (lag(u, P + dP) - lag(u, P - dP)) / 2.0
    assert d_u == pytest.approx(g_u @ du.ravel(), rel=1e-6)
    assert d_p == pytest.approx(np.sum(g_p * dP), rel=1e-9)


def test_spring_is_linear_symmetric_and_integrates_the_area():
    rng = np.random.default_rng(11)
    m = box(2, 1, 1, size=(2e-3, 1e-3, 1e-3), order=2)
    fac = m.facets["X1"]
    el = Element.triangle(2)
    X = np.ascontiguousarray(m.points[fac])
    nf, nn = fac.shape
    pat = Pattern(fac, m.n_points)
    k = 3.0e6
    u = 1e-5 * rng.standard_normal((m.n_points, 3))
    Re = np.empty((nf, 3 * nn))
    Ke = np.empty((nf, 3 * nn, 3 * nn))
    HK.spring(X, np.ascontiguousarray(u[fac]), el.N, el.dN, el.weights, k, Re, Ke)
    K = pat.matrix(Ke)
    assert np.abs(K @ u.ravel() - pat.vector(Re)).max() < 1e-12 * np.abs(pat.vector(Re)).max()
    assert abs(K - K.T).max() < 1e-14 * abs(K).max()  # symmetric to summation order
    # a uniform displacement d of the 1 x 1 mm face meets the force k * d * area
    d = np.array([1e-6, -2e-6, 3e-6])
    f = (K @ np.tile(d, m.n_points)).reshape(-1, 3).sum(axis=0)
    assert np.allclose(f, k * d * 1e-6, rtol=1e-12, atol=0)
