"""The Bestel-Clement-Sorine law of cardiosim.materials.bcs: its discrete identities, its
point solve (used per quadrature point by the 3D ventricle) and its agreement with the 0D
sphere that calls the same kernels."""

import numpy as np
import pytest

import cardiosim as cs
from cardiosim.materials import bcs as BK
from cardiosim.models import sphere_kernels as K


@pytest.fixture(scope="module")
def law():
    p = cs.SphereParameters.caruel2014()
    bp = p.pack()[K.S_BCS:K.S_BCS + BK.N_BCS].copy()
    ut, uv, n0x, n0y, m0x, m0y = p.tables()
    return p, bp, (n0x, n0y, m0x, m0y), (ut, uv)


def test_parameter_block_of_the_sphere_is_the_law_layout(law):
    p, bp, _, _ = law
    assert (bp[BK.B_ES], bp[BK.B_MU], bp[BK.B_ALPHA], bp[BK.B_ALPHA_R], bp[BK.B_K0], bp[BK.B_SIGMA0]) == \
        (p.Es, p.mu, p.alpha, p.alpha_r, p.k0, p.sigma0)
    assert (bp[BK.B_TREF], bp[BK.B_TSCALE_EXP], bp[BK.B_LAW]) == (p.T_ref, p.time_scaling, 0.0)


def test_series_spring_gradient_exact_and_consistent():
    Es = 3e7
    rng = np.random.default_rng(2)
    for _ in range(50):
        e0, e1 = rng.uniform(0.0, 0.5, 2)
        c0, c1 = rng.uniform(-0.05, 0.45, 2)
        tau, g = BK.series_dg(e0, e1, c0, c1, Es)
        dW = BK.series_energy(e1, c1, Es) - BK.series_energy(e0, c0, Es)
        assert tau * (e1 - e0) + g * (c1 - c0) == pytest.approx(dW, rel=1e-10, abs=1e-9)
        # its partial derivatives against central differences
        d = 1e-7
        dt_de, dt_dc, dg_de, dg_dc = BK.series_dg_derivatives(e0, e1, c0, c1, Es)
        fd = [(np.subtract(BK.series_dg(e0, e1 + d, c0, c1, Es), BK.series_dg(e0, e1 - d, c0, c1, Es))) / (2 * d),
              (np.subtract(BK.series_dg(e0, e1, c0, c1 + d, Es), BK.series_dg(e0, e1, c0, c1 - d, Es))) / (2 * d)]
        np.testing.assert_allclose([dt_de, dg_de, dt_dc, dg_dc], [fd[0][0], fd[0][1], fd[1][0], fd[1][1]],
                                   rtol=1e-5, atol=1e-3)
    # at coincident points: the Hill-model relations of Caruel et al. 2014
    e, c = 0.31, 0.28
    tau, g = BK.series_dg(e, e, c, c, Es)
    assert tau == pytest.approx(Es * (e - c) / (1 + 2 * c) ** 2, rel=1e-13)
    assert -g == pytest.approx(Es * (e - c) * (1 + 2 * e) / (1 + 2 * c) ** 3, rel=1e-13)


def test_active_update_matches_numpy_trapezoid(law):
    p, bp, (n0x, n0y, m0x, m0y), _ = law
    h = 1e-3
    for u, ec0, ec1, tau0, kc0, om0 in [(35.0, 0.30, 0.299, 2e4, 5e4, 1.0), (-12.0, 0.2, 0.203, 8e4, 9e4, 1.3),
                                        (0.0, 0.5, 0.5, 1e3, 1e3, 1.87)]:
        tau1, kc1, om1 = BK.active_update(ec0, ec1, tau0, kc0, om0, u, h, bp, n0x, n0y, m0x, m0y)
        # the trapezoidal equations, checked as residuals
        ecm, decdt = 0.5 * (ec0 + ec1), (ec1 - ec0) / h
        up, um = max(u, 0), max(-u, 0)
        assert (om1 - om0) / h == pytest.approx((np.interp(ecm, m0x, m0y) - 0.5 * (om0 + om1)) / p.alpha_r, rel=1e-10)
        a = up + 0.5 * (om0 + om1) * um + p.alpha * abs(decdt)
        n0 = BK.interp_clamped(ecm, n0x, n0y)
        assert (kc1 - kc0) / h == pytest.approx(-a * 0.5 * (kc0 + kc1) + n0 * p.k0 * up, rel=1e-10, abs=1e-6)
        assert (tau1 - tau0) / h == pytest.approx(
            -a * 0.5 * (tau0 + tau1) + 0.5 * (kc0 + kc1) * decdt + n0 * p.sigma0 * up, rel=1e-10, abs=1e-6)


def test_interp_clamped_matches_numpy_and_steps():
    xp = np.array([0.1, 0.27, 0.32, 0.34, 0.46, 0.59, 0.6])
    fp = np.array([-3.2, 35.0, 35.0, 0.0, -12.0, -12.0, -3.2])
    for x in np.linspace(-0.5, 1.0, 301):
        assert BK.interp_clamped(x, xp, fp) == pytest.approx(np.interp(x, xp, fp), abs=1e-12)
    n0x, n0y = (np.array(a) for a in cs.SphereParameters().n0)
    assert BK.interp_clamped(-0.4, n0x, n0y) == 0.0       # clamps to 0 at -0.4
    assert BK.interp_clamped(-0.399999, n0x, n0y) == pytest.approx(0.008, abs=1e-6)


@pytest.mark.parametrize("u, e0, e1", [(35.0, 0.20, 0.195), (-12.0, 0.10, 0.104), (0.0, 0.3, 0.3)])
def test_point_step_solves_the_contractile_element_and_its_tangent_is_exact(law, u, e0, e1):
    _, bp, tabs, _ = law
    h, ec0, tau0, kc0, om0 = 1e-3, e0 - 2e-3, 5e4, 6e4, 1.2
    ok, t1d, dtde, ec1, tau1, kc1, om1 = BK.point_step(e0, e1, ec0, tau0, kc0, om0, u, h, bp, *tabs, 1e-12)
    assert ok
    F, t = BK.contractile_residual(e0, e1, ec0, ec1, tau0, kc0, om0, u, h, bp, *tabs)
    assert abs(F) < 1e-9 * bp[BK.B_SIGMA0] and t == t1d
    # the total derivative through e_c1 against central differences of the whole solve
    d = 1e-8
    tp = BK.point_step(e0, e1 + d, ec0, tau0, kc0, om0, u, h, bp, *tabs, 1e-12)[1]
    tm = BK.point_step(e0, e1 - d, ec0, tau0, kc0, om0, u, h, bp, *tabs, 1e-12)[1]
    assert dtde == pytest.approx((tp - tm) / (2 * d), rel=2e-4)
    # a stiff series spring: the active stress is nearly the contractile stress, and
    # the tangent far below E_s (the element yields)
    assert 0 < dtde < bp[BK.B_ES]


def test_point_law_driven_by_the_spheres_strain_reproduces_the_sphere(law):
    """The 0D sphere solves the contractile element together with its momentum; the 3D
    point solve, given the sphere's fibre strain step by step, must land on the same e_c,
    tau_c, k_c and omega (to the Newton tolerances)."""
    p, bp, tabs, (ut, uv) = law
    model = cs.SphereModel(params=p, dt=1e-3)
    res = model.simulate(beats=1)
    raw = res.raw
    a = 1.0 + raw[:, K.O_Y] / p.R0
    e = 0.5 * (a * a - 1.0)
    x0 = model.initial_state()
    e_prev = 0.5 * ((1.0 + x0[K.X_Y] / p.R0) ** 2 - 1.0)
    st = np.array([x0[K.X_EC], x0[K.X_TAU], x0[K.X_KC], x0[K.X_OM]])
    h = 1e-3
    got = []
    for k in range(len(e)):
        u = BK.activation_rate((k + 0.5) * h, 0.8, bp, ut, uv)
        ok, t1d, _, ec1, tau1, kc1, om1 = BK.point_step(e_prev, e[k], *st, u, h, bp, *tabs, 1e-12)
        assert ok
        st = np.array([ec1, tau1, kc1, om1])
        got.append(st)
        e_prev = e[k]
    got = np.array(got)
    ref = raw[:, [K.O_EC, K.O_TAU, K.O_KC, K.O_OM]]
    assert np.abs(got[:, 0] - ref[:, 0]).max() < 1e-7
    assert np.abs(got[:, 1] - ref[:, 1]).max() < 1e-4 * np.abs(ref[:, 1]).max()
    assert np.abs(got[:, 2] - ref[:, 2]).max() < 1e-4 * np.abs(ref[:, 2]).max()
    assert np.abs(got[:, 3] - ref[:, 3]).max() < 1e-7
    assert ref[:, 1].max() > 2e4  # the beat contracted: tau_c of tens of kPa
