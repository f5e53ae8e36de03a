"""Quadrature rules integrate every monomial of their degree exactly (closed form
int x^i y^j z^k = i! j! k! / (i + j + k + 3)! on the reference tetrahedron)."""

import math

import numpy as np
import pytest

from cardiosim.fem import quadrature


def _exact(exps):
    d = len(exps)
    return math.prod(math.factorial(e) for e in exps) / math.factorial(sum(exps) + d)


def _monomials(dim, degree):
    if dim == 2:
        return [(i, degree - i) for i in range(degree + 1)]
    return [(i, j, degree - i - j) for i in range(degree + 1) for j in range(degree + 1 - i)]


@pytest.mark.parametrize("degree", range(1, 9))
@pytest.mark.parametrize("shape", ["tetrahedron", "triangle"])
def test_rule_is_exact_to_its_degree_with_positive_weights(shape, degree):
    pts, w = getattr(quadrature, shape)(degree)
    assert np.all(w > 0) and np.all(pts >= 0) and np.all(pts.sum(axis=1) <= 1)
    dim = pts.shape[1]
    for d in range(degree + 1):
        for e in _monomials(dim, d):
            q = np.sum(w * np.prod(pts ** np.array(e), axis=1))
            assert q == pytest.approx(_exact(e), rel=1e-13, abs=1e-16)


def test_p2_stiffness_rule_has_fourteen_points_and_degree_five():
    pts, w = quadrature.tetrahedron(4)
    assert len(w) == 14
    e = (2, 2, 1)
    assert np.sum(w * np.prod(pts ** np.array(e), axis=1)) == pytest.approx(_exact(e), rel=1e-13)
    e = (2, 2, 2)  # degree 6: not exact
    assert abs(np.sum(w * np.prod(pts ** np.array(e), axis=1)) / _exact(e) - 1) > 1e-3
