"""Records joined end to end: a recording split over several files, read as one."""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np
import pandas as pd

from .record import MonitoringRecord, RecordError


def join_records(records: Sequence[MonitoringRecord], source: str | None = None) -> MonitoringRecord:
    """One record holding ``records`` one after the other, each starting where the last ended.

    Every record must have the same waveform channels at the same rates and units. A part
    starts one sample after the previous part's last sample; numerics and events are shifted
    alike. ``provenance["parts"]`` lists each part's source and start time [s].
    """
    if not records:
        raise RecordError("join_records: no record to join")
    first = records[0]
    names = list(first.channels)
    parts, values, nums, events = [], {n: [] for n in names}, {}, []
    offset = 0.0
    for rec in records:
        if list(rec.channels) != names:
            raise RecordError(f"join_records: {rec.source} has channels {list(rec.channels)}, the first "
                              f"record {names}", path=rec.source)
        for n in names:
            a, b = first.channels[n], rec.channels[n]
            if b.fs_hz != a.fs_hz or b.unit != a.unit:
                raise RecordError(f"join_records: channel {n} of {rec.source} is at {b.fs_hz:g} Hz in {b.unit}, "
                                  f"the first record's at {a.fs_hz:g} Hz in {a.unit}", path=rec.source)
        t0 = min(c.t0_s for c in rec.channels.values())
        parts.append({"source": str(rec.source), "start_s": offset})
        span = max(c.t0_s - t0 + c.n_samples / c.fs_hz for c in rec.channels.values())
        for n in names:
            values[n].append(np.asarray(rec.channels[n].values))
        for name, num in rec.numerics.items():
            nums.setdefault(name, []).append(dataclasses.replace(num, times_s=num.times_s - t0 + offset))
        if len(rec.events):
            ev = rec.events.copy()
            ev["time_s"] = ev["time_s"] - t0 + offset
            events.append(ev)
        offset += span
    channels = {n: dataclasses.replace(first.channels[n], values=np.concatenate(values[n]),
                                       t0_s=first.channels[n].t0_s - min(c.t0_s for c in first.channels.values()))
                for n in names}
    numerics = {}
    for name, items in nums.items():
        numerics[name] = dataclasses.replace(items[0], times_s=np.concatenate([i.times_s for i in items]),
                                             values=np.concatenate([i.values for i in items]))
    ev = pd.concat(events, ignore_index=True) if events else first.events
    prov = {"reader": "cardiosim.signals.join_records", "parts": parts}
    return MonitoringRecord(source or f"{first.source} (+{len(records) - 1} joined)", channels, numerics, ev,
                            first.start_time, prov)
