"""Finite-element core: reference elements, quadrature, Numba kernels, assembly, solvers.

A script needs only this module (and :mod:`cardiosim.geometry` for the mesh)::

    from cardiosim.fem import (ActiveTension, Clamp, FunctionSpace, Pressure, Problem,
                               delayed_ramp, solve)

    space = FunctionSpace(mesh, taylor_hood=True)          # computed once, shareable
    prob = Problem(space, material, loads=[Clamp("BASE"), Pressure("ENDO", 10e3),
                                           ActiveTension(60e3, delayed_ramp(0.5))])
    u, info = solve(prob, steps=10)
"""

from .assembly import Pattern
from .elements import Element
from .linear import LinearSolverError, SolverUnavailableError, factorized, solve_linear
from .mass import mass_matrix
from .loads import ActiveTension, Clamp, Pressure, Springs, constant, delayed_ramp, ramp
from .measures import cavity_volume, probe, surface_flux_volume
from .solver import LinearSolver, NonlinearSolverError, Problem, solve
from .space import FunctionSpace
from .timeint import GeneralizedAlpha, energy, step_linear, step_midpoint_linear
from .cavity import Cavity, Isovolumic, VolumeLaw
from .active import FibreActivation
from .dynamics import DynamicState, Elastodynamics, StepInfo
from .robin import RobinSupport

__all__ = ["ActiveTension", "Cavity", "Clamp", "FibreActivation", "Isovolumic", "VolumeLaw", "DynamicState", "Elastodynamics", "RobinSupport", "StepInfo", "Element", "FunctionSpace", "GeneralizedAlpha", "energy", "mass_matrix", "step_linear", "step_midpoint_linear", "LinearSolver", "LinearSolverError",
           "NonlinearSolverError", "Pattern", "Pressure", "Problem", "SolverUnavailableError", "Springs",
           "cavity_volume", "constant", "delayed_ramp", "factorized", "probe", "ramp", "solve", "solve_linear",
           "surface_flux_volume"]
