"""Robin spring-dashpot supports of elastodynamics, on the reference surface.

A :class:`RobinSupport` on a boundary marker puts the traction

    t = -(k u + c v)                      (full vector), or
    t = -(k u . N + c v . N) N            (``normal_only``: the wall slides freely along the surface)

on the reference facets, N their unit normal: the epicardial and basal supports of the
cardiac elastodynamics benchmark (Arostica et al. 2025, CMAME 435:117485: normal-only on the
epicardium, full vector on the base). Both are linear in (u, v), so each support is one
constant surface matrix B = int N_a N_b P dA, P = I or N (x) N, assembled once
(:func:`surface_matrix`): the residual gains k B u + c B v.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError
from . import kernels as FK
from .space import FunctionSpace


@dataclass(frozen=True)
class RobinSupport:
    """Spring-dashpot on the facets of ``marker``.

    Parameters
    ----------
    marker : str
    stiffness : float
        k [Pa/m] per reference area, >= 0.
    damping : float
        c [Pa s/m] per reference area, >= 0.
    normal_only : bool
        Act along the reference normal only (tangential motion free).
    """

    marker: str
    stiffness: float
    damping: float = 0.0
    normal_only: bool = False

    def __post_init__(self):
        object.__setattr__(self, "marker", str(self.marker))
        for name in ("stiffness", "damping"):
            v = getattr(self, name)
            unit = "Pa/m" if name == "stiffness" else "Pa s/m"
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ParameterError(f"Robin support on {self.marker!r}: {name} must be a finite number >= 0 "
                                     f"{unit}, got {v!r}")
            object.__setattr__(self, name, float(v))

    @classmethod
    def arostica2025(cls) -> tuple[RobinSupport, RobinSupport]:
        """The benchmark's supports: epicardium normal-only k = 1e8 Pa/m, c = 5e3 Pa s/m; base
        full vector k = 1e5 Pa/m, c = 5e3 Pa s/m."""
        return (cls("EPI", 1e8, 5e3, normal_only=True), cls("BASE", 1e5, 5e3))


def facet_matrices(Xf: np.ndarray, N: np.ndarray, dN: np.ndarray, w: np.ndarray, normal_only: bool) -> np.ndarray:
    """Element matrices (nf, 3 nn, 3 nn) of int N_a N_b P dA over reference triangles ``Xf``
    (nf, nn, 3); P = I, or N (x) N with N the unit normal at each quadrature point."""
    a = np.einsum("qk,fki->fqi", dN[:, :, 0], Xf)
    b = np.einsum("qk,fki->fqi", dN[:, :, 1], Xf)
    n = np.cross(a, b)
    area = np.linalg.norm(n, axis=2)
    if np.any(area <= 0):
        raise ParameterError("surface facets of zero area: cannot form a Robin support")
    dA = area * w[None, :]
    if normal_only:
        nh = n / area[..., None]
        P = nh[..., :, None] * nh[..., None, :]
    else:
        P = np.broadcast_to(np.eye(3), dA.shape + (3, 3))
    nf, nn = Xf.shape[0], Xf.shape[1]
    Me = np.einsum("fq,qa,qb,fqij->faibj", dA, N, N, P)
    return np.ascontiguousarray(Me.reshape(nf, 3 * nn, 3 * nn))


def surface_matrix(space: FunctionSpace, support: RobinSupport) -> np.ndarray:
    """Data array (``space.pattern``) of B = int N_a N_b P dA on the support's marker."""
    fac, Xf, fdofs, fpos = space.facet_data(support.marker)
    fe = space.facet_element
    Me = facet_matrices(Xf, fe.N, fe.dN, fe.weights, support.normal_only)
    data = np.zeros(space.pattern.nnz)
    FK.scatter_matrix(Me, fpos, data)
    return data
