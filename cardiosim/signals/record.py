"""The monitoring record: named, unit-carrying channels on one time axis.

A :class:`MonitoringRecord` is what every reader returns and what every
analysis takes.  Values are stored in SI (Pa, V, m^3/s, m^3, Hz) whenever the
recorded unit is known to :mod:`cardiosim.units`; a channel whose unit is not
a physical one (pleth "NU", impedance "Ohm") keeps its values as recorded.
Times are seconds from the record start.  Missing samples are NaN, never
dropped, so that sample ``k`` of a channel is always at ``t0_s + k / fs_hz``.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import CardiosimError
from ..units import SI_UNITS, UnitError, lookup_unit

__all__ = ["RecordError", "Channel", "Numeric", "MonitoringRecord", "si_values"]


class RecordError(CardiosimError, ValueError):
    """A record cannot be read or used: names the file, channel and what was wrong.

    Attributes
    ----------
    path : str or None
        The file (or folder) concerned.
    channel : str or None
        The channel concerned, if any.
    """

    def __init__(self, message: str, path: str | Path | None = None,
                 channel: str | None = None):
        where = []
        if path is not None:
            where.append(str(path))
        if channel is not None:
            where.append(f"channel {channel!r}")
        super().__init__((": ".join(where) + ": " if where else "") + message)
        self.path = None if path is None else str(path)
        self.channel = channel


def si_values(values: np.ndarray, unit: str) -> tuple[np.ndarray, str, str | None]:
    """Convert recorded values to SI when the unit is a known physical one.

    Returns
    -------
    values : numpy.ndarray
        float64 values, in SI when the unit is known, else as recorded.
    si_unit : str
        The unit of the returned values ("Pa", "V", ...) or the recorded unit.
    dimension : str or None
        The physical dimension, or None when the unit is unknown or missing
        (an empty unit is not a ratio: the file simply does not say).
    """
    values = np.asarray(values, dtype=np.float64)
    if not isinstance(unit, str) or not unit.strip():
        return values, unit, None
    try:
        factor, dimension = lookup_unit(unit)
    except (UnitError, TypeError):
        return values, unit, None
    return values * factor, SI_UNITS[dimension], dimension


@dataclass(frozen=True)
class Channel:
    """One uniformly sampled waveform.

    Attributes
    ----------
    name : str
        Name as recorded (e.g. ``"ABP"``, ``"II"``, ``"Intellivue/ART"``).
    role : str or None
        What it measures: one of :data:`cardiosim.signals.roles.ROLES`, or None.
    values : numpy.ndarray
        Samples, float64, in ``unit``; missing samples are NaN.
    fs_hz : float
        Sampling rate [Hz].
    unit : str
        Unit of ``values``: the SI unit when ``source_unit`` is known, else ``source_unit``.
    source_unit : str
        Unit as recorded in the file.
    t0_s : float
        Time of sample 0 from the record start [s].
    limits : tuple of float or None
        Lowest and highest value the recorder can represent, in ``unit``
        (from the ADC range of WFDB files); samples there are saturated.
    """

    name: str
    role: str | None
    values: np.ndarray
    fs_hz: float
    unit: str
    source_unit: str
    t0_s: float = 0.0
    limits: tuple[float, float] | None = None

    def __post_init__(self):
        v = np.ascontiguousarray(self.values, dtype=np.float64)
        v.setflags(write=False)
        object.__setattr__(self, "values", v)
        if not (np.isfinite(self.fs_hz) and self.fs_hz > 0):
            raise RecordError(f"sampling rate must be positive, got {self.fs_hz!r} Hz",
                              channel=self.name)

    @property
    def n_samples(self) -> int:
        return int(self.values.size)

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.fs_hz

    @property
    def times_s(self) -> np.ndarray:
        """Sample times from the record start [s]."""
        return self.t0_s + np.arange(self.n_samples) / self.fs_hz

    def in_unit(self, unit: str) -> np.ndarray:
        """Values converted to ``unit`` (e.g. ``"mmHg"``)."""
        factor, dim = lookup_unit(unit)
        if self.unit == unit:
            return self.values.copy()
        own, own_dim = lookup_unit(self.unit)
        if own_dim != dim:
            raise UnitError(f"channel {self.name!r} is in {self.unit!r} ({own_dim}); "
                            f"cannot express it in {unit!r} ({dim})")
        return self.values * (own / factor)

    def nan_fraction(self) -> float:
        return float(np.isnan(self.values).mean()) if self.values.size else 1.0

    def integrals(self, start_s: np.ndarray, end_s: np.ndarray) -> np.ndarray:
        """Integral of the values over each window [start, end) [unit x s], by the sample sum.

        NaN where a window holds fewer than 4 samples, leaves the channel or contains a
        missing sample (a gap is not integrated as zero).
        """
        v = np.asarray(self.values, dtype=float)
        finite = np.isfinite(v)
        cs = np.concatenate([[0.0], np.cumsum(np.where(finite, v, 0.0))])
        n_ok = np.concatenate([[0], np.cumsum(finite)])
        a = np.searchsorted(self.times_s, np.asarray(start_s, dtype=float))
        b = np.searchsorted(self.times_s, np.asarray(end_s, dtype=float))
        out = (cs[b] - cs[a]) / self.fs_hz
        t = self.times_s
        outside = (np.asarray(start_s) < t[0]) | (np.asarray(end_s) > t[-1] + 1.0 / self.fs_hz)
        bad = (b - a < 4) | (n_ok[b] - n_ok[a] < b - a) | outside
        return np.where(bad, np.nan, out)


@dataclass(frozen=True)
class Numeric:
    """An irregularly sampled series: a monitor's numerics (SBP, HR, CO, SV...).

    Attributes
    ----------
    name, role, unit, source_unit
        As for :class:`Channel`.
    times_s : numpy.ndarray
        Time of each value from the record start [s].
    values : numpy.ndarray
        Values in ``unit`` (SI when known); NaN where the monitor gave none.
    """

    name: str
    role: str | None
    times_s: np.ndarray
    values: np.ndarray
    unit: str
    source_unit: str

    def __post_init__(self):
        for attr in ("times_s", "values"):
            a = np.ascontiguousarray(getattr(self, attr), dtype=np.float64)
            a.setflags(write=False)
            object.__setattr__(self, attr, a)
        if self.times_s.shape != self.values.shape:
            raise RecordError("times and values differ in length "
                              f"({self.times_s.size} vs {self.values.size})", channel=self.name)

    def in_unit(self, unit: str) -> np.ndarray:
        factor, _ = lookup_unit(unit)
        own, _ = lookup_unit(self.unit)
        return self.values * (own / factor)

    def updates(self, unit: str) -> tuple[np.ndarray, np.ndarray]:
        """(times [s], values in ``unit``) of the distinct finite updates: a monitor repeats
        its value until it computes a new one, so only changes count as new values."""
        v = self.in_unit(unit)
        new = np.ones(v.size, dtype=bool)
        new[1:] = v[1:] != v[:-1]
        keep = new & np.isfinite(v)
        return np.asarray(self.times_s, dtype=float)[keep], v[keep]


@dataclass(frozen=True)
class MonitoringRecord:
    """A patient recording: waveform channels, numerics and events.

    Attributes
    ----------
    source : str
        The file or folder it was read from.
    channels : Mapping[str, Channel]
        Waveforms by name, in file order.
    numerics : Mapping[str, Numeric]
        Irregular series (monitor numerics) by name.
    events : pandas.DataFrame
        Columns ``time_s`` and ``event`` (text markers), possibly empty.
    start_time : datetime.datetime or None
        Wall-clock time of the record start, when the file gives it.
    provenance : Mapping
        Reader, library versions, file names and what the reader did
        (gaps filled with NaN, unit conversions).
    """

    source: str
    channels: Mapping[str, Channel]
    numerics: Mapping[str, Numeric] = field(default_factory=dict)
    events: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {"time_s": np.zeros(0), "event": np.zeros(0, dtype=object)}))
    start_time: _dt.datetime | None = None
    provenance: Mapping = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "channels", MappingProxyType(dict(self.channels)))
        object.__setattr__(self, "numerics", MappingProxyType(dict(self.numerics)))
        object.__setattr__(self, "provenance", MappingProxyType(dict(self.provenance)))
        if not self.channels and not self.numerics:
            raise RecordError("the record holds no channel", path=self.source)

    @property
    def duration_s(self) -> float:
        """Longest channel span [s]."""
        spans = [c.t0_s + c.duration_s for c in self.channels.values()]
        spans += [float(n.times_s.max()) for n in self.numerics.values() if n.times_s.size]
        return max(spans) if spans else 0.0

    def roles(self) -> dict[str, str]:
        """Role -> channel or numeric name, for every entry that has a role."""
        out: dict[str, str] = {}
        for name, c in list(self.channels.items()) + list(self.numerics.items()):
            if c.role is not None and c.role not in out:
                out[c.role] = name
        return out

    def find(self, role: str) -> Channel | None:
        """The first waveform channel with ``role``, or None."""
        for c in self.channels.values():
            if c.role == role:
                return c
        return None

    def channel(self, name_or_role: str) -> Channel:
        """A waveform by name, or else by role; a clear error if absent."""
        if name_or_role in self.channels:
            return self.channels[name_or_role]
        c = self.find(name_or_role)
        if c is None:
            raise RecordError(
                f"no channel named or playing the role {name_or_role!r}; channels: "
                + ", ".join(f"{n} ({c.role or 'no role'})" for n, c in self.channels.items()),
                path=self.source)
        return c

    def numeric(self, name_or_role: str) -> Numeric | None:
        """A numeric series by name, or else by role; None if absent."""
        if name_or_role in self.numerics:
            return self.numerics[name_or_role]
        for n in self.numerics.values():
            if n.role == name_or_role:
                return n
        return None

    def summary(self) -> pd.DataFrame:
        """One row per channel and numeric: name, role, unit, rate, span, NaN share."""
        rows = []
        for c in self.channels.values():
            rows.append({"name": c.name, "kind": "waveform", "role": c.role or "",
                         "unit": c.source_unit, "fs_hz": c.fs_hz, "start_s": c.t0_s,
                         "duration_s": c.duration_s, "samples": c.n_samples,
                         "nan_percent": 100.0 * c.nan_fraction()})
        for n in self.numerics.values():
            span = float(n.times_s.max() - n.times_s.min()) if n.times_s.size else 0.0
            rows.append({"name": n.name, "kind": "numeric", "role": n.role or "",
                         "unit": n.source_unit,
                         "fs_hz": (n.times_s.size - 1) / span if span > 0 else float("nan"),
                         "start_s": float(n.times_s.min()) if n.times_s.size else float("nan"),
                         "duration_s": span, "samples": int(n.times_s.size),
                         "nan_percent": 100.0 * float(np.isnan(n.values).mean())
                         if n.values.size else 100.0})
        return pd.DataFrame(rows)
