"""Circulation blocks: the step contract, its kernels, and the closed loop."""

import numpy as np
import pytest

import cardiosim as cs
from cardiosim.circulation import kernels as CK
from cardiosim.models import sphere_kernels as K

BLOCKS = [cs.TwoStageWindkessel.caruel2014(), cs.Windkessel3(), cs.Windkessel2(), cs.ClosedLoopWindkessel()]


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: type(b).__name__)
def test_kernel_condensation_matches_the_numpy_step_contract(block):
    """x1 = x_free + G q and p = alpha + beta q from the kernel equal the NumPy reference,
    and the block's trapezoidal residual vanishes at that x1."""
    sys = block.linear_system()
    cp = cs.Circulation(afterload=block).pack()
    rng = np.random.default_rng(4)
    h = 1.1e-3
    M, N = CK.step_matrices(cp, h)
    for _ in range(5):
        x0 = rng.uniform(500.0, 15000.0, sys.n)
        q = rng.uniform(-1e-5, 5e-4, 2)
        xf, gi, go = np.empty(sys.n), np.empty(sys.n), np.empty(sys.n)
        a_in, b_ii, b_io, a_out, b_oi, b_oo = CK.condense(cp, x0, 0, M, N, h, xf, gi, go)
        x_free, G, alpha, beta = sys.condense(x0, h)
        np.testing.assert_allclose(xf, x_free, rtol=1e-13)
        np.testing.assert_allclose(np.column_stack([gi, go]), G, rtol=1e-13, atol=1e-20)
        np.testing.assert_allclose([a_in, a_out], alpha, rtol=1e-13, atol=1e-9)
        np.testing.assert_allclose([[b_ii, b_io], [b_oi, b_oo]], beta, rtol=1e-13, atol=1e-9)
        x1 = np.empty(sys.n)
        CK.advance(xf, gi, go, q[0], q[1], sys.closes_loop, x1)
        r = sys.step_residual(x0, x1, q if sys.closes_loop else np.array([0.0, q[1]]), h)
        assert np.abs(r).max() < 1e-12 * np.abs(x0).max() / h
        # the condensed pressures are the block's output equation at the step mid-point
        p_mid = sys.E @ (0.5 * (x0 + x1)) + sys.Z @ q
        np.testing.assert_allclose(p_mid[1], a_out + b_oi * q[0] * sys.closes_loop + b_oo * q[1], rtol=1e-12)


def test_open_loop_blocks_leave_the_inlet_to_the_preload():
    for block in BLOCKS[:3]:
        assert not block.linear_system().closes_loop
    assert BLOCKS[3].linear_system().closes_loop


def _closed(cat=1.5e-7):
    return cs.SphereModel(circulation=cs.Circulation.closed_loop(Cat=cat))


def test_closed_loop_conserves_blood_volume():
    """Cavity + compliance volumes are constant: the trapezoid is exact on linear invariants."""
    model = _closed()
    res = model.simulate(beats=5, hr=75)
    C = model.circulation.afterload.compliances()
    V = np.concatenate([[res.beat_start_volume(0)], res.raw[:, K.O_V]])
    nodes = np.vstack([res.starts[0][K.X_C:], res.raw[:, K.O_C:]])
    total = V + nodes @ C
    assert np.abs(total - total[0]).max() < 1e-11 * total[0]
    # the blood really moves: the atrial compliance holds a changing volume
    assert np.ptp(nodes[:, 2]) * C[2] > 0.1 * res.beats["SV_mL"].iloc[-1] * 1e-6


def test_closed_loop_tends_to_the_open_loop_as_the_atrium_grows():
    """With an infinite atrial compliance the atrial pressure is constant: the open loop with
    P_venous = P_at. The difference falls as 1/C_at."""
    open_model = cs.SphereModel(circulation=cs.Circulation(
        afterload=cs.TwoStageWindkessel(P_venous=800.0)))
    ref = open_model.simulate(beats=3, hr=75).beats
    diffs = []
    for cat in (1e-6, 1e-5):
        b = _closed(cat).simulate(beats=3, hr=75).beats
        diffs.append(max(abs(b[c].iloc[-1] / ref[c].iloc[-1] - 1) for c in ("SV_mL", "SBP_mmHg", "EDV_mL")))
    assert diffs[1] < 2e-3
    assert 7.0 < diffs[0] / diffs[1] < 13.0  # first order in 1/C_at


def test_closed_loop_reaches_a_periodic_state_with_physiological_values():
    res = _closed().simulate(hr=75, until_periodic=True, tol=1e-6)
    assert res.periodic
    last = res.last_beat()
    assert 0.55 < last["EF"] < 0.75 and 100 < last["SBP_mmHg"] < 130 and 55 < last["DBP_mmHg"] < 75


def test_closed_loop_refuses_a_per_member_filling_pressure():
    with pytest.raises(cs.ParameterError, match="closed loop"):
        _closed().member_parameters(["P_at"], np.array([[900.0]]))


def test_closed_loop_bad_compliance_names_the_field():
    with pytest.raises(cs.ParameterError, match=r"ClosedLoopWindkessel.Cat must be > 0"):
        cs.ClosedLoopWindkessel(Cat=-1.0)


@pytest.mark.parametrize("kind", ["smooth", "ideal"])
def test_valve_step_contract_matches_the_kernel(kind):
    v = cs.Valve(r_open=7.7e4, r_closed=2e9, steepness=10.0, kind=kind)
    for dp in (-500.0, -0.1, 0.02, 0.3, 800.0):
        q, g = CK.valve_flow(dp, *v.pack())
        assert v.step_residual(q, 1000.0 + dp, 1000.0) == pytest.approx(0.0, abs=1e-18)
        dq, dup, ddown = v.step_tangent(1000.0 + dp, 1000.0)
        assert (dq, dup, ddown) == (1.0, pytest.approx(-g, rel=1e-13), pytest.approx(g, rel=1e-13))


def test_preload_waveform_is_the_time_dependent_part():
    pre = cs.AtrialPreload(waveform=((0.0, 0.7, 0.85, 1.0), (700.0, 700.0, 1300.0, 700.0)))
    ph = np.linspace(0, 1, 41)
    ph_t, p_t = pre.table()
    np.testing.assert_allclose(pre.pressure_at(ph), [CK.interp_clamped(x, ph_t, p_t) for x in ph], rtol=1e-14)
