"""Circulation blocks shared by the 0D and 3D ventricles, and their time-step kernels.

:mod:`.blocks` holds the parameter dataclasses (preload, valves, Windkessel afterloads, a
closed loop) and their step contract; :mod:`.kernels` the Numba twins a ventricle's time
step calls. A ventricle sees the circulation only through the condensed port pressures
``p = alpha + beta q`` of its two flows.
"""

from .blocks import (Afterload, AtrialPreload, Circulation, ClosedLoopWindkessel, LinearSystem,
                     TwoStageWindkessel, Valve, Windkessel2, Windkessel3, pack_linear_system,
                     windkessel_summary)

__all__ = ["Afterload", "AtrialPreload", "Circulation", "ClosedLoopWindkessel", "LinearSystem",
           "TwoStageWindkessel", "Valve", "Windkessel2", "Windkessel3", "pack_linear_system",
           "windkessel_summary"]
