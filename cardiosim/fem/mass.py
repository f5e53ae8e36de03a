"""The consistent mass matrix of the displacement, for elastodynamics.

M = int_Omega0 rho N_a N_b dV (x the 3x3 identity), in the reference configuration: the
kinetic energy of a velocity field v is 0.5 v' M v. Assembled by the Numba kernel
:func:`~.kernels.assemble_mass` straight into CSR; the cell rule must be exact for degree
2 x the order (the default of :class:`~.space.FunctionSpace`), or M is not the consistent one.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from ..errors import ParameterError
from . import kernels as FK
from .assembly import Pattern
from .space import FunctionSpace


def mass_matrix(space: FunctionSpace, rho: float) -> sp.csr_matrix:
    """Consistent mass (n_u x n_u, CSR) of ``space``'s displacement; ``rho`` [kg/m^3].

    For a Taylor-Hood space the pressures carry no mass: the matrix covers the first
    ``space.n_u`` unknowns.
    """
    if not (isinstance(rho, (int, float)) and math.isfinite(rho) and rho > 0):
        raise ParameterError(f"density rho must be > 0 kg/m^3, got {rho!r}")
    needed = 2 * space.mesh.order
    if space.quadrature_degree is not None and space.quadrature_degree < needed:
        raise ParameterError(f"{space.mesh.name}: the consistent mass of P{space.mesh.order} needs a cell rule of "
                             f"degree {needed}, the space has {space.quadrature_degree}")
    pat = Pattern(space.mesh.cells, space.mesh.n_points, 3)
    data = np.empty(pat.nnz)
    FK.assemble_mass(np.ascontiguousarray(space.element.N), space.wdet, float(rho), pat.pos, data)
    return sp.csr_matrix((data, pat.indices, pat.indptr), shape=(pat.n, pat.n))
