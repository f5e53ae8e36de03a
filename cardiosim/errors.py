"""Exceptions raised by cardiosim: each names what was wrong and where."""

from __future__ import annotations


class CardiosimError(Exception):
    """Base class of cardiosim's errors."""


class ParameterError(CardiosimError, ValueError):
    """A parameter is unknown, non-finite or out of its valid range."""


class MeshError(CardiosimError, ValueError):
    """A mesh is unusable: inverted or degenerate elements, missing markers, bad arrays."""


class SolverError(CardiosimError, RuntimeError):
    """A time step or nonlinear solve failed.

    Attributes
    ----------
    time_s : float
        Simulation time at the start of the failed step [s].
    state : dict
        The last good state (SI units).
    partial : object or None
        Results up to the last good step, when available.
    """

    def __init__(self, message: str, time_s: float = float("nan"), state: dict | None = None,
                 partial=None):
        super().__init__(message)
        self.time_s = time_s
        self.state = state or {}
        self.partial = partial
