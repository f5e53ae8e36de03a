"""The energy-consistent (discrete-gradient) stress: Numba kernels against their NumPy twins,
and the identity that makes the scheme conserve energy, int F_m S_a : grad(u1 - u0) dV =
W(u1) - W(u0), for the benchmark's anisotropic law with a tension switch."""

import numpy as np
import pytest

from cardiosim.fem import Problem
from cardiosim.fem import energy_consistent as EK
from cardiosim.fem import reference as REF
from cardiosim.geometry import box
from cardiosim.materials import HolzapfelOgdenSmooth

SIZE = (4e-3, 2e-3, 3e-3)
MAT = HolzapfelOgdenSmooth.arostica2025()


def _frames(points):
    """Fibres turning about z with x: a field that is not aligned with the mesh."""
    a = 300.0 * points[:, 0]
    f = np.column_stack([np.cos(a), np.sin(a), np.zeros_like(a)])
    s = np.column_stack([-np.sin(a), np.cos(a), np.zeros_like(a)])
    n = np.tile([0.0, 0.0, 1.0], (len(a), 1))
    return np.stack([f, s, n], axis=1)


@pytest.fixture(scope="module")
def setup():
    prob = Problem(box(2, 1, 2, size=SIZE, order=2), MAT, fibre_field=_frames, formulation="penalty")
    rng = np.random.default_rng(4)
    X = prob.mesh.points
    G0 = np.array([[0.12, 0.05, 0.0], [0.02, -0.06, 0.03], [0.0, 0.04, -0.05]])     # fibres stretched
    u0 = X @ G0.T + 2e-5 * rng.standard_normal(X.shape)
    u1 = u0 + X @ (0.3 * G0).T + 1e-5 * rng.standard_normal(X.shape)
    return prob, u0, u1


def _cells(prob, u):
    return np.ascontiguousarray(u[prob.mesh.cells])


def test_stored_energy_equals_the_numpy_twin(setup):
    prob, u0, _ = setup
    sp = prob.space
    W = EK.stored_energy(sp.dNdX, sp.wdet, _cells(prob, u0), prob.R, prob.kind, prob.prm)
    assert W == pytest.approx(REF.stored_energy(sp.dNdX, sp.wdet, _cells(prob, u0), prob.R, MAT), rel=1e-12)
    assert W > 0


def test_discrete_gradient_correction_equals_the_numpy_twin(setup):
    prob, u0, u1 = setup
    sp = prob.space
    dofs = np.ascontiguousarray(sp.pattern.dofs[:, : 3 * sp.element.n_nodes])
    rg = np.zeros(sp.n_dofs)
    EK.assemble_discrete_gradient(sp.dNdX, sp.wdet, _cells(prob, u0), _cells(prob, u1), prob.R, prob.kind,
                                  prob.prm, dofs, rg)
    ref = np.zeros(sp.n_dofs)
    np.add.at(ref, dofs, REF.discrete_gradient(sp.dNdX, sp.wdet, _cells(prob, u0), _cells(prob, u1), prob.R, MAT))
    np.testing.assert_allclose(rg, ref, rtol=0, atol=1e-10 * np.abs(ref).max())
    assert np.abs(ref).max() > 0


def test_the_power_of_the_algorithmic_stress_is_the_energy_change(setup):
    prob, u0, u1 = setup
    sp = prob.space
    dofs = np.ascontiguousarray(sp.pattern.dofs[:, : 3 * sp.element.n_nodes])
    um = 0.5 * (u0 + u1)
    R, _, inv = prob.assemble(um.ravel(), 0.0, want_k=False)      # int F_m S(F_m' F_m) : grad w
    assert inv < 0
    plain = float((u1 - u0).ravel() @ R)
    dW = EK.assemble_discrete_gradient(sp.dNdX, sp.wdet, _cells(prob, u0), _cells(prob, u1), prob.R, prob.kind,
                                       prob.prm, dofs, R)
    W0 = EK.stored_energy(sp.dNdX, sp.wdet, _cells(prob, u0), prob.R, prob.kind, prob.prm)
    W1 = EK.stored_energy(sp.dNdX, sp.wdet, _cells(prob, u1), prob.R, prob.kind, prob.prm)
    assert dW == pytest.approx(W1 - W0, rel=1e-12)
    work = float((u1 - u0).ravel() @ R)
    assert work == pytest.approx(W1 - W0, rel=1e-9)
    assert abs(plain - (W1 - W0)) > 1e-6 * abs(W1 - W0)            # the plain mid-point stress is not
