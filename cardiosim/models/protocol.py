"""The one interface through which estimators see a ventricle model.

A filter or a least-squares fit needs to run many copies of a model over one measured beat,
each with its own parameters, and to read what a monitor would measure. It needs the
model's state only as a vector with names and typical sizes, never its memory layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np


@dataclass
class BeatBatch:
    """One beat of m model copies.

    Attributes
    ----------
    p_entry : ndarray (m, n_steps)
        Arterial (entry) pressure [Pa] at the mid-time of each step, step length T / n_steps.
    summary : ndarray (m, len(summary_names))
        Beat summaries in SI units, columns named by ``Ventricle.summary_names``.
    ok : ndarray of bool (m,)
        False where the member's solve failed; its state row then holds its last good step.
    """

    p_entry: np.ndarray
    summary: np.ndarray
    ok: np.ndarray


@runtime_checkable
class Ventricle(Protocol):
    """A ventricle coupled to its circulation, as the estimators see it.

    The state vector's entry 0 is time [s]; the others are named by ``state_names`` and
    have the typical sizes ``state_scale()`` (SI). Members are copies of the model that
    differ in the estimated parameters only.
    """

    #: names of the beat summaries of :meth:`advance_members`
    summary_names: tuple[str, ...]

    @property
    def state_names(self) -> tuple[str, ...]: ...

    def state_scale(self) -> np.ndarray:
        """Typical magnitude of each state entry (SI), for noise and convergence scales."""

    @property
    def corrected_states(self) -> tuple[str, ...]:
        """State entries a filter may correct by default (the circulation's node pressures)."""

    def initial_state(self) -> np.ndarray: ...

    def steps_per_beat(self, T: float) -> int: ...

    def parameter_value(self, name: str) -> float:
        """Current SI value of a named parameter (raises ParameterError if unknown)."""

    def with_values(self, values: Mapping[str, Any]) -> "Ventricle": ...

    def member_parameters(self, names: Sequence[str], theta: np.ndarray) -> Any:
        """Opaque per-member parameters for ``theta`` (m, len(names)) [SI]."""

    def advance_members(self, X: np.ndarray, members: Any, T: float, n_steps: int) -> BeatBatch:
        """Advance the C-contiguous states ``X`` (m, n_state) in place over one beat of T [s]."""

    def describe(self) -> dict: ...
