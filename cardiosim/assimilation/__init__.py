"""Data assimilation: calibrate and track the 0D heart on an arterial-pressure recording.

``calibrate(record)`` is the entry point; the pieces are usable alone:
:class:`ParameterSet` (theta = theta0 2**omega, priors, bounds), :class:`BeatOperator`
(model and observation operators, one beat), :class:`ROUKF`, :class:`UKF`, :class:`EnKF`
and :func:`run_filter`, :func:`fit_periodic` (bounded least squares),
:func:`identifiability.analyse`. The SV/CO scale: :class:`Reference` (one-point SV or CO),
:class:`Patient` (size prior), :class:`FlowObservation` (sparse SV/CO in the filters).
:func:`reanalyse`: each beat re-fitted to its own pressure after the filter (beat-to-beat SV).
"""

from .calibrate import Calibration, CalibrationSettings, calibrate
from .filters import EnKF, ROUKF, UKF, AssimilationError, DivergenceWarning, FlowObservation, Track, run_filter
from .lsq import fit_periodic
from .observations import BeatObservations, ObservationError, from_record
from .operator import BeatOperator
from .parameters import Estimated, ParameterSet
from .patient import Patient
from .reanalysis import BeatFit, reanalyse
from .reference import Reference
from .sigma import simplex_points

__all__ = ["Calibration", "CalibrationSettings", "calibrate", "EnKF", "ROUKF", "UKF",
           "AssimilationError", "DivergenceWarning", "Track", "run_filter", "fit_periodic",
           "BeatObservations", "ObservationError", "from_record", "BeatOperator", "Estimated",
           "ParameterSet", "simplex_points", "FlowObservation", "Patient", "Reference", "BeatFit",
           "reanalyse"]
