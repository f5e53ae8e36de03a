"""Ventricle models coupled to the circulation blocks, and their results.

Every model is seen by the estimators through :class:`~.protocol.Ventricle`.
"""

from .protocol import BeatBatch, Ventricle
from .results import Results
from .sphere import SphereModel, SphereParameters

__all__ = ["BeatBatch", "Results", "SphereModel", "SphereParameters", "Ventricle"]
