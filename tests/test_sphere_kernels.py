"""Each Numba kernel against a slow NumPy reference or an exact identity."""


import numpy as np
import pytest

import cardiosim as cs
from cardiosim.models import sphere_kernels as K
from cardiosim.circulation import kernels as CK


@pytest.fixture(scope="module")
def sp():
    return cs.SphereParameters.caruel2014().pack()


def numpy_energy(C, p):
    J1 = 2 * C + C ** -2
    return p.C0 * np.exp(p.C1 * (J1 - 3) ** 2) + p.C2 * np.exp(p.C3 * (C - 1) ** 2)


@pytest.mark.parametrize("C", [0.5, 0.9, 1.0, 1.3, 2.0, 2.6])
def test_passive_stress_is_twice_energy_derivative(C, sp):
    p = cs.SphereParameters.caruel2014()
    h = 1e-6
    fd = 2 * (numpy_energy(C + h, p) - numpy_energy(C - h, p)) / (2 * h)
    assert K.passive_energy(C, sp) == pytest.approx(numpy_energy(C, p), rel=1e-14)
    assert K.passive_stress(C, sp) == pytest.approx(fd, rel=1e-7, abs=1e-6)


def test_passive_discrete_gradient_is_exact(sp):
    rng = np.random.default_rng(1)
    for _ in range(50):
        Ca, Cb = rng.uniform(0.6, 2.5, 2)
        Wa, Wb = K.passive_energy(Ca, sp), K.passive_energy(Cb, sp)
        s = K.passive_stress_dg(Ca, Cb, Wa, Wb, sp)
        assert 0.5 * s * (Cb - Ca) == pytest.approx(Wb - Wa, rel=1e-12)
    # coincident states fall back to the mid-point stress, continuous with the quotient
    C = 1.7
    assert K.passive_stress_dg(C, C, K.passive_energy(C, sp), K.passive_energy(C, sp), sp) == \
        pytest.approx(K.passive_stress(C, sp), rel=1e-12)
    d = 1e-5
    s_close = K.passive_stress_dg(C - d, C + d, K.passive_energy(C - d, sp), K.passive_energy(C + d, sp), sp)
    assert s_close == pytest.approx(K.passive_stress(C, sp), rel=1e-6)


@pytest.mark.parametrize("kind", ["smooth", "ideal"])
def test_valve_flow_matches_numpy_law(kind):
    v = cs.Valve(r_open=7.7e4, r_closed=2e9, steepness=10.0, kind=kind)
    packed = v.pack()
    dps = np.array([-2000.0, -1.0, -0.05, 0.0, 0.05, 0.3, 10.0, 3000.0])
    for dp in dps:
        q, dq = CK.valve_flow(dp, *packed)
        assert q == pytest.approx(float(v.flow(dp)), rel=1e-14, abs=0)
        h = 1e-6 * max(1.0, abs(dp))
        if kind == "smooth":
            fd = (v.flow(dp + h) - v.flow(dp - h)) / (2 * h)
            assert dq == pytest.approx(float(fd), rel=1e-5)
        assert q * dp >= 0  # valves only dissipate


@pytest.mark.parametrize("wk", [cs.TwoStageWindkessel.caruel2014(), cs.Windkessel3(), cs.Windkessel2(),
                                cs.ClosedLoopWindkessel()])
def test_circulation_step_matrices(wk):
    cp = cs.Circulation(afterload=wk).pack()
    h = 1.3e-3
    M, N = CK.step_matrices(cp, h)
    A = wk.linear_system().A
    I = np.eye(A.shape[0])
    np.testing.assert_allclose(M, np.linalg.inv(I - h / 2 * A), rtol=1e-13)
    np.testing.assert_allclose(N, np.linalg.inv(I - h / 2 * A) @ (I + h / 2 * A), rtol=1e-13, atol=1e-16)


def test_step_system_block_solve_matches_numpy():
    rng = np.random.default_rng(3)
    for _ in range(50):
        J00, J01, J02, J10, J11, J20 = rng.normal(size=6)
        J22, J32 = rng.uniform(0.1, 2.0), -rng.uniform(0.1, 2.0)  # valve conductance signs
        J33 = 1.0 + rng.uniform(0.0, 3.0)
        r = rng.normal(size=4)
        J = np.array([[J00, J01, J02, 0], [J10, J11, 0, 0], [J20, 0, J22, 1.0], [0, 0, J32, J33]])
        ok, *d = K.solve_step_system(J00, J01, J02, J10, J11, J20, J22, J32, J33, *r)
        assert ok
        np.testing.assert_allclose(d, np.linalg.solve(J, r), rtol=1e-9, atol=1e-11)


def test_reference_volume_and_windkessel_units():
    p = cs.SphereParameters.caruel2014()
    assert p.V0 * 1e6 == pytest.approx(55.06, abs=0.01)  # 4/3 pi R0^3, R0 = 23.6 mm (Caruel et al. 2014)
    wk = cs.circulation.windkessel_summary(cs.TwoStageWindkessel.caruel2014())
    assert wk["Cp_mL_per_mmHg"] == pytest.approx(0.3333, abs=1e-4)
    assert wk["Rp_mmHg_s_per_mL"] == pytest.approx(0.0600, abs=1e-4)
    assert wk["Cd_mL_per_mmHg"] == pytest.approx(1.3332, abs=1e-4)
    assert wk["Rd_mmHg_s_per_mL"] == pytest.approx(0.7501, abs=1e-4)


@pytest.mark.parametrize("law", ["bcs", "simplified"])
def test_analytic_wall_jacobian_matches_differences(law):
    p = cs.SphereParameters(active_law=law, sigma_max=22e3)
    sp = p.pack()
    n0x, n0y = (np.array(a) for a in p.n0)
    m0x, m0y = (np.array(a) for a in p.m0)
    st = np.zeros(K.X_C + 2)
    st[K.X_Y], st[K.X_V], st[K.X_EC], st[K.X_TAU], st[K.X_KC], st[K.X_OM] = 0.008, -0.05, 0.27, 4e4, 5e4, 1.1
    W0 = K.passive_energy((1 + st[K.X_Y] / p.R0) ** 2, sp)
    h, u = 1e-3, 20.0
    for y1, ec1 in [(0.0079, 0.268), (0.0075, 0.2705), (0.008 + 1e-9, 0.27)]:
        J = np.array(K.wall_jacobian(y1, ec1, st, h, u, W0, sp, n0x, n0y, m0x, m0y)).reshape(2, 2)
        dy, dc = 1e-8 * p.R0, 1e-8
        F = np.array(K.wall_residual(y1, ec1, st, h, u, W0, sp, n0x, n0y, m0x, m0y)[:2])
        Fy = np.array(K.wall_residual(y1 + dy, ec1, st, h, u, W0, sp, n0x, n0y, m0x, m0y)[:2])
        Fc = np.array(K.wall_residual(y1, ec1 + dc, st, h, u, W0, sp, n0x, n0y, m0x, m0y)[:2])
        fd = np.column_stack([(Fy - F) / dy, (Fc - F) / dc])
        np.testing.assert_allclose(J, fd, rtol=2e-4, atol=1e-3 * np.abs(fd).max())
