"""Consistent mass matrix: Numba kernel against its NumPy twin, analytic element and inertia."""

import numpy as np
import pytest

from cardiosim.errors import ParameterError
from cardiosim.fem import kernels as FK
from cardiosim.fem import reference as REF
from cardiosim.fem.mass import mass_matrix
from cardiosim.fem.space import FunctionSpace
from cardiosim.geometry import Mesh, box

RHO = 1000.0
SIZE = (10e-3, 2e-3, 3e-3)


@pytest.mark.parametrize("order", [1, 2])
def test_mass_kernel_equals_the_numpy_reference(order):
    space = FunctionSpace(box(3, 2, 2, size=SIZE, order=order))
    Me = np.empty((space.mesh.n_cells, 3 * space.element.n_nodes, 3 * space.element.n_nodes))
    FK.mass(np.ascontiguousarray(space.element.N), space.wdet, RHO, Me)
    np.testing.assert_allclose(Me, REF.mass(space.element.N, space.wdet, RHO), rtol=1e-13, atol=0)


def test_p1_element_mass_is_rho_v_over_20_times_one_plus_delta():
    X = np.array([[0.0, 0, 0], [2e-3, 0, 0], [0, 1e-3, 0], [0, 0, 3e-3]])
    mesh = Mesh(X, np.array([[0, 1, 2, 3]]))
    M = mass_matrix(FunctionSpace(mesh), RHO).toarray()
    V = 2e-3 * 1e-3 * 3e-3 / 6
    exact = RHO * V / 20 * (np.ones((4, 4)) + np.eye(4))
    np.testing.assert_allclose(M[0::3, 0::3], exact, rtol=1e-13)
    np.testing.assert_allclose(M[1::3, 1::3], exact, rtol=1e-13)
    assert np.all(M[0::3, 1::3] == 0.0)                 # no coupling between components


@pytest.mark.parametrize("order", [1, 2])
def test_total_mass_and_the_kinetic_energy_of_a_rigid_rotation(order):
    a, b, c = SIZE
    space = FunctionSpace(box(4, 2, 2, size=SIZE, order=order))
    M = mass_matrix(space, RHO)
    assert M.shape == (space.n_u, space.n_u)
    ones_x = np.zeros(space.n_u)
    ones_x[0::3] = 1.0
    assert ones_x @ M @ ones_x == pytest.approx(RHO * a * b * c, rel=1e-12)
    # v = e_z x x: linear, so exact in P1 and P2; 0.5 v'Mv = 0.5 rho int (x^2 + y^2) dV
    x = space.mesh.points
    v = np.column_stack([-x[:, 1], x[:, 0], np.zeros(len(x))]).ravel()
    exact = 0.5 * RHO * a * b * c * (a * a + b * b) / 3
    assert 0.5 * v @ M @ v == pytest.approx(exact, rel=1e-12)
    assert abs(M - M.T).max() <= 1e-13 * abs(M).max()      # symmetric to round-off


def test_bad_mass_input_is_refused():
    space = FunctionSpace(box(1, 1, 1, size=SIZE, order=2), quadrature_degree=2)
    with pytest.raises(ParameterError, match="needs a cell rule of degree 4, the space has 2"):
        mass_matrix(space, RHO)
    for rho in (0.0, -1.0, float("nan")):
        with pytest.raises(ParameterError, match="density rho must be > 0 kg/m\\^3"):
            mass_matrix(FunctionSpace(box(1, 1, 1, size=SIZE)), rho)
