"""Patient monitoring signals: records, beats, features and artefacts.

``read_record(path)`` -> :class:`MonitoringRecord` -> ``analyse_arterial(record)``
-> :class:`ArterialAnalysis` (one row per beat, each with its quality flag and reason).
This package knows nothing of models: it turns recordings into observations.
"""

from .analysis import ArterialAnalysis, analyse_arterial
from .arterial import DetectionSettings
from .quality import FLAGS, SIGNAL_FLAGS, QualitySettings
from .readers import read_record
from .record import Channel, MonitoringRecord, Numeric, RecordError
from .roles import ROLES
from .variation import pulse_pressure_variation

__all__ = ["ArterialAnalysis", "analyse_arterial", "DetectionSettings", "FLAGS", "SIGNAL_FLAGS",
           "QualitySettings", "read_record", "Channel", "MonitoringRecord", "Numeric",
           "RecordError", "ROLES", "pulse_pressure_variation"]
