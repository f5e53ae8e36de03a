"""cardiosim: cardiac biomechanics from bedside monitoring signals.

Data flows one way: geometry -> model -> simulation -> observation -> estimate.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .circulation import (AtrialPreload, Circulation, ClosedLoopWindkessel, TwoStageWindkessel, Valve,
                          Windkessel2, Windkessel3)
from .errors import CardiosimError, ParameterError, SolverError
from .models import SphereModel, SphereParameters

__all__ = ["AtrialPreload", "Circulation", "ClosedLoopWindkessel", "TwoStageWindkessel", "Valve",
           "Windkessel2", "Windkessel3", "CardiosimError", "ParameterError", "SolverError", "SphereModel",
           "SphereParameters", "__version__"]
