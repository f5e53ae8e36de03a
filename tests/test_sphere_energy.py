"""Discrete energy balance and conservation laws of the 0D time scheme.

The scheme is built so that, per step, the cavity-pressure work equals the change of
kinetic and stored elastic energy plus the dissipation (wall viscosity, contractile
damping, numerical damping of the kinematics) plus the work of the active element,
*exactly* up to the nonlinear residual (module docstring of sphere_kernels). Measured:
about 4e-14 relative over 5 beats, i.e. round-off; the tests require 1e-11.
"""

import numpy as np
import pytest

import cardiosim as cs
from cardiosim.models import sphere_kernels as K

TERMS = [K.O_E_KIN, K.O_E_ELASTIC, K.O_E_VISC, K.O_E_DAMP, K.O_E_ACTIVE, K.O_E_NUM]


@pytest.fixture(scope="module", params=["bcs", "simplified"])
def run(request):
    p = cs.SphereParameters(active_law=request.param, sigma_max=22e3)
    model = cs.SphereModel(p, dt=1e-3)
    return model, model.simulate(beats=4, hr=75)


def test_energy_balance_per_step(run):
    _, res = run
    R = res.raw
    defect = R[:, K.O_E_PDV] - R[:, TERMS].sum(axis=1)
    work = np.abs(R[:, K.O_E_PDV]).sum()
    assert work > 1.0  # a real heartbeat did work (J over 4 beats)
    assert np.abs(defect).sum() < 1e-11 * work
    # over each beat as well: pressure work = dissipation + active work + changes of storage
    for k in range(res.n_beats):
        e = res.energy(k)
        total = sum(v for name, v in e.items() if name != "pressure_work")
        assert e["pressure_work"] == pytest.approx(total, rel=1e-11)


def test_dissipation_is_nonnegative(run):
    _, res = run
    R = res.raw
    assert R[:, K.O_E_VISC].min() >= 0
    assert R[:, K.O_E_DAMP].min() >= 0
    assert R[:, K.O_E_NUM].min() >= 0
    # numerical damping of the kinematics is negligible next to the physics
    assert R[:, K.O_E_NUM].sum() < 1e-4 * R[:, K.O_E_VISC].sum() * 100


def test_midpoint_stress_would_break_the_balance(run):
    """The discrete gradient matters: evaluating the passive stress at the mid-point
    instead leaves a defect many orders above the scheme's; the test above can fail."""
    model, res = run
    sp = model.params.pack()
    R = res.raw
    y = np.concatenate([[res.starts[0][K.X_Y]], R[:, K.O_Y]])
    C = (1 + y / model.params.R0) ** 2
    dW = np.array([K.passive_energy(c1, sp) - K.passive_energy(c0, sp) for c0, c1 in zip(C[:-1], C[1:])])
    mid = np.array([0.5 * K.passive_stress(0.5 * (c0 + c1), sp) * (c1 - c0) for c0, c1 in zip(C[:-1], C[1:])])
    vol = 4 * np.pi * model.params.R0 ** 2 * model.params.d0
    assert np.abs(vol * (mid - dW)).sum() > 1e-7 * np.abs(R[:, K.O_E_PDV]).sum()


def test_volume_conservation_of_the_circulation(run):
    """Blood volume: cavity + compliances changes only by inflow minus venous outflow."""
    model, res = run
    wk = model.circulation.afterload
    R = res.raw
    h = np.repeat(res.beat_lengths / res.steps, res.steps)
    start = res.starts[0]
    V = np.concatenate([[res.beat_start_volume(0)], R[:, K.O_V]])
    p1 = np.concatenate([[start[K.X_C]], R[:, K.O_C]])
    p2 = np.concatenate([[start[K.X_C + 1]], R[:, K.O_C + 1]])
    stored = V + wk.Cp * p1 + wk.Cd * p2
    q_ven = (0.5 * (p2[1:] + p2[:-1]) - wk.P_venous) / wk.Rd
    lhs = np.diff(stored)
    rhs = h * (R[:, K.O_QIN] - q_ven)
    np.testing.assert_allclose(lhs, rhs, atol=1e-12 * V.max())


def test_circulation_energy_balance(run):
    """Power in from the atrium = power out to the veins + valve and resistor dissipation
    + change of capacitor energy + pressure work on the ventricle (exact for the trapezoid)."""
    model, res = run
    wk = model.circulation.afterload
    R = res.raw
    h = np.repeat(res.beat_lengths / res.steps, res.steps)
    start = res.starts[0]
    p1 = np.concatenate([[start[K.X_C]], R[:, K.O_C]])
    p2 = np.concatenate([[start[K.X_C + 1]], R[:, K.O_C + 1]])
    p1m, p2m = 0.5 * (p1[1:] + p1[:-1]), 0.5 * (p2[1:] + p2[:-1])
    pat, pv, qin, qout = R[:, K.O_PAT], R[:, K.O_PV], R[:, K.O_QIN], R[:, K.O_QOUT]
    pin = h * pat * qin
    q_ven = (p2m - wk.P_venous) / wk.Rd
    out = h * wk.P_venous * q_ven
    valves = h * ((pat - pv) * qin + (pv - p1m) * qout)
    resist = h * ((p1m - p2m) ** 2 / wk.Rp + (p2m - wk.P_venous) ** 2 / wk.Rd)
    cap = 0.5 * wk.Cp * np.diff(p1 ** 2) + 0.5 * wk.Cd * np.diff(p2 ** 2)
    ventricle = -R[:, K.O_E_PDV]  # work done by the ventricle on the blood
    assert (valves >= -1e-15).all()
    balance = pin + ventricle - out - valves - resist - cap
    assert np.abs(balance).sum() < 1e-10 * np.abs(ventricle).sum()
