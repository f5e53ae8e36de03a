"""Robin spring-dashpot supports: the surface matrices' totals (area), the normal-only
projection, symmetry, and refusal of bad parameters or markers."""

import numpy as np
import pytest

from cardiosim.errors import MeshError, ParameterError
from cardiosim.fem import RobinSupport
from cardiosim.fem.robin import surface_matrix
from cardiosim.fem.space import FunctionSpace
from cardiosim.geometry import box

SIZE = (4e-3, 2e-3, 3e-3)


def _uniform(space, vec):
    x = np.zeros(space.n_dofs)
    x[: space.n_u] = np.tile(vec, space.mesh.n_points)
    return x


@pytest.mark.parametrize("order", [1, 2])
def test_full_support_carries_area_times_the_uniform_displacement(order):
    space = FunctionSpace(box(3, 2, 2, size=SIZE, order=order))
    B = space.pattern.csr(surface_matrix(space, RobinSupport("X1", 1.0)))
    area = SIZE[1] * SIZE[2]
    for e in np.eye(3):
        f = B @ _uniform(space, e)                   # the nodal forces of unit k and unit u
        assert f[: space.n_u].reshape(-1, 3).sum(axis=0) == pytest.approx(area * e, abs=1e-15)
    assert abs(B - B.T).max() <= 1e-14 * abs(B).max()
    # B u . u = int |u|^2 dA for u linear along the face (exact in P1 and P2): u_y = z
    z = space.mesh.points[:, 2]
    u = np.zeros(space.n_dofs)
    u[1: space.n_u: 3] = z
    assert u @ (B @ u) == pytest.approx(SIZE[1] * SIZE[2] ** 3 / 3, rel=1e-12)


def test_normal_only_support_leaves_the_tangential_motion_free():
    space = FunctionSpace(box(3, 2, 2, size=SIZE, order=2))
    B = space.pattern.csr(surface_matrix(space, RobinSupport("Z0", 1.0, normal_only=True)))
    area = SIZE[0] * SIZE[1]
    for e, total in ((np.array([1.0, 0, 0]), 0.0), (np.array([0, 1.0, 0]), 0.0), (np.array([0, 0, 1.0]), area)):
        f = (B @ _uniform(space, e))[: space.n_u].reshape(-1, 3)
        assert np.abs(f[:, :2]).max() <= 1e-18
        assert f[:, 2].sum() == pytest.approx(total, abs=1e-15)


def test_bad_supports_are_refused():
    for k in (-1.0, float("nan"), "1e5"):
        with pytest.raises(ParameterError, match="stiffness must be a finite number >= 0 Pa/m"):
            RobinSupport("EPI", k)
    with pytest.raises(ParameterError, match="damping must be a finite number >= 0 Pa s/m"):
        RobinSupport("EPI", 1.0, -5.0)
    space = FunctionSpace(box(1, 1, 1, size=SIZE))
    with pytest.raises(MeshError, match="EPI"):
        surface_matrix(space, RobinSupport("EPI", 1.0))


def test_the_benchmark_supports():
    epi, base = RobinSupport.arostica2025()
    assert (epi.marker, epi.stiffness, epi.damping, epi.normal_only) == ("EPI", 1e8, 5e3, True)
    assert (base.marker, base.stiffness, base.damping, base.normal_only) == ("BASE", 1e5, 5e3, False)
