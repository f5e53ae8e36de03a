"""Ventricle models coupled to the circulation blocks, and their results.

Every model is seen by the estimators through :class:`~.protocol.Ventricle`.
"""

from .protocol import BeatBatch, Ventricle
from .results import Results
from .sphere import SphereModel, SphereParameters
from .ventricle3d import CirculationLaw, HeartbeatSimulation, twitch

__all__ = ["BeatBatch", "CirculationLaw", "HeartbeatSimulation", "Results", "SphereModel", "SphereParameters",
           "Ventricle", "twitch"]
