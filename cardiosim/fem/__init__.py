"""Finite-element core: reference elements, quadrature, Numba kernels, assembly, solvers."""

from .assembly import Pattern
from .elements import Element

__all__ = ["Element", "Pattern"]
