"""Read monitoring records from files: WFDB, CSV/Parquet tables, folders of tables, VitalDB.

Every reader returns a :class:`~cardiosim.signals.record.MonitoringRecord`
with values in SI (when the recorded unit is known to :mod:`cardiosim.units`),
times in seconds from the record start and missing samples as NaN.  Each
format reader only turns the file into a list of :class:`_Entry` objects in
the recorded units; naming, user overrides, role guessing, plausibility checks
and the SI conversion are done once, in :func:`_build_record`, so that all
formats behave the same.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import struct
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd

from ..io import package_version
from ..units import UnitError, lookup_unit
from .record import Channel, MonitoringRecord, Numeric, RecordError, si_values
from .roles import assign_roles, guess_role

__all__ = ["read_record"]

_TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet")
_WFDB_SUFFIXES = (".hea", ".dat", ".mat")

#: A regularly sampled column at this rate or faster is a waveform, slower is a numeric.
_MIN_WAVEFORM_HZ = 10.0
#: A time step longer than this many sample periods is a gap (filled with NaN).
_GAP_STEPS = 1.5
#: A sample further than this many periods from the grid (outside gaps) is an error.
_MAX_OFFGRID_STEPS = 0.25
#: Gaps listed one by one in the provenance, per column; more are only counted.
_MAX_LISTED_GAPS = 100

# Units the unit table does not know (they have no SI form) but that are
# clearly units, so that "PLETH_NU" or "CI_L/min/m2" split into name and unit.
_NON_PHYSICAL_UNITS = frozenset({
    "NU", "nu", "n.u.", "a.u.", "AU", "au", "Ohm", "ohm", "Ohms", "\u03a9", "count",
    "mL/m2", "ml/m2", "mL/m^2", "ml/m^2", "L/min/m2", "l/min/m2", "L/min/m^2", "l/min/m^2",
    "mL/kg", "ml/kg", "dyn.s.m2/cm5", "dyn*s*m^2/cm^5", "dyn.s/cm5/m2", "dyn*s/cm^5/m^2",
    "degC", "\u00b0C", "mmol/L", "mmol/l", "g/dL", "g/dl", "mEq/L", "ratio",
})
# Suffixes that look like units but are usually part of a name in "NAME_UNIT"
# headers: ECG lead V ("ECG_V") and a minimum ("HR_min").  Write "ECG [V]" for volts.
_AMBIGUOUS_SUFFIXES = frozenset({"V", "min"})

_TIME_NAMES = frozenset({"time", "t", "times", "timestamp", "elapsed", "seconds", "sec", "secs"})
_EVENT_NAMES = frozenset({"event", "events", "marker", "markers"})

# Roles whose values only make sense in one dimension.  "strict" roles lose
# the role when the unit is unknown too: a pressure of unknown scale cannot
# be used, nor checked for kPa.
_ROLE_DIMENSION: dict[str, tuple[str, bool]] = {
    "ABP": ("pressure", True), "CVP": ("pressure", True), "PAP": ("pressure", True),
    "SBP": ("pressure", True), "DBP": ("pressure", True), "MAP": ("pressure", True),
    "ECG": ("electric potential", False), "CO": ("flow", False),
    "SV": ("volume", False), "HR": ("frequency", False),
}

# Pressures recorded in kPa but labelled mmHg: (median low, median high, 99th
# percentile below), in mmHg.  An arterial pressure in kPa reads 3-25 "mmHg"
# (7.5x would be a normal pressure); so do systolic and mean numerics.  A
# pulmonary one reads 1-5 "mmHg", which a connected PA catheter never shows.
# Not checked: CVP (in kPa and in mmHg it falls in the same range) and
# diastolic numerics (a genuine DBP in shock can sit at 20-25 mmHg).
_KPA_LOOKALIKE: dict[str, tuple[float, float, float]] = {
    "ABP": (3.0, 25.0, 27.0), "SBP": (3.0, 25.0, 27.0), "MAP": (3.0, 25.0, 27.0),
    "PAP": (1.0, 5.0, 8.0),
}

# Bytes per sample of the fixed-width WFDB signal formats (WFDB spec, signal(5)):
# with them a truncated file is found before wfdb fails on it.
_WFDB_BYTES_PER_SAMPLE = {"8": 1.0, "16": 2.0, "24": 3.0, "32": 4.0, "61": 2.0, "80": 1.0,
                          "160": 2.0, "212": 1.5, "310": 4 / 3, "311": 4 / 3}
_WFDB_FLAC_FORMATS = frozenset({"508", "516", "524"})
# Sample width in bits of each format: its lowest code is WFDB's "invalid sample".
_WFDB_FORMAT_BITS = {"8": 8, "16": 16, "24": 24, "32": 32, "61": 16, "80": 8, "160": 16,
                     "212": 12, "310": 10, "311": 10, "508": 8, "516": 16, "524": 24}

# What wfdb, soundfile, pandas and vitaldb raise on damaged input (wfdb alone
# raises HeaderSyntaxError, IndexError, TypeError, KeyError, struct errors and
# soundfile's LibsndfileError, a RuntimeError).  Listed rather than a bare
# Exception so that programming errors and MemoryError are not disguised.
_READ_ERRORS = (ValueError, TypeError, IndexError, KeyError, AttributeError, ArithmeticError,
                struct.error, zlib.error, EOFError, OSError, RuntimeError)


@dataclass
class _Entry:
    """One channel (``fs_hz`` set) or numeric (``times_s`` set), in recorded units."""

    name: str
    values: np.ndarray
    unit: str
    file: Path
    fs_hz: float | None = None
    t0_s: float = 0.0
    times_s: np.ndarray | None = None
    limits: tuple[float, float] | None = None
    declared: bool = False  # unit given by the user through ``units=``


@dataclass
class _Parsed:
    """What a format reader found, before names, roles and units are settled."""

    entries: list[_Entry]
    events: pd.DataFrame | None = None
    start_time: _dt.datetime | None = None
    provenance: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------


def read_record(path: str | os.PathLike, *, roles: dict[str, str] | None = None,
                units: dict[str, str] | None = None,
                channels: list[str] | None = None,
                columns: Sequence[str] | None = None,
                fs_hz: float | None = None) -> MonitoringRecord:
    """Read a monitoring record from a WFDB record, a table, a folder of tables or a .vital file.

    Parameters
    ----------
    path : str or os.PathLike
        A WFDB record stem or its ``.hea``/``.dat``/``.mat`` file; a ``.csv``,
        ``.csv.gz`` or ``.parquet`` table (time in the first column); a folder
        of such tables (one per track, merged on their shared time axis); or a
        VitalDB ``.vital`` file (needs ``pip install "cardiosim[vital]"``).
    roles : dict, optional
        ``{role: channel_name}`` overriding the guessed roles, e.g.
        ``{"ABP": "ART2"}``; see :data:`cardiosim.signals.roles.ROLES`.
    units : dict, optional
        ``{channel_name: unit}`` giving or overriding the recorded unit, e.g.
        ``{"ABP": "kPa"}``.  A unit declared here also skips the check for
        kPa values labelled mmHg.
    channels : list of str, optional
        Keep only these channels and numerics (events are always kept).
    columns : list of str, optional
        Names (with units: ``"flow_mL_s"``, ``"ABP [mmHg]"``) of the columns of a table
        that has no header line, in file order; the first is the time unless ``fs_hz``
        is given. For a MATLAB ``.mat`` signal file without its ``.hea`` header: the
        names of its signals (rows of the ``val`` matrix), with ``fs_hz``.
    fs_hz : float, optional
        Sampling rate [Hz] of a headerless table without a time column, or of a ``.mat``
        signal file without a ``.hea`` header.

    Returns
    -------
    MonitoringRecord
        Values in SI where the unit is known, missing samples NaN, times from
        the record start; ``provenance`` lists files, library versions, gaps
        filled with NaN, unit conversions and ``warnings``.

    Raises
    ------
    RecordError
        Missing or unreadable file, corrupt or truncated WFDB files, a table
        without a usable time axis, irregular sample times, pressures that
        look like kPa labelled mmHg, or ``roles``/``units``/``channels``
        naming an unknown channel or role.  The message names the file and
        the channel and says what to do.
    """
    p = Path(path)
    if columns is not None or fs_hz is not None:
        parsed = _parse_described(p, columns, fs_hz)
    else:
        parsed = _parse(p)
    return _build_record(p, parsed, roles=roles, units=units, channels=channels)


def _parse_described(p: Path, columns: Sequence[str] | None, fs_hz: float | None) -> _Parsed:
    """A file whose layout the caller gives: a headerless table, or a .mat without its .hea."""
    if fs_hz is not None and not (isinstance(fs_hz, (int, float)) and np.isfinite(fs_hz) and fs_hz > 0):
        raise RecordError(f"the sampling rate (--fs) must be a number > 0 Hz, got {fs_hz!r}", path=p)
    if columns is not None:
        columns = [str(c).strip() for c in columns]
        if not columns or any(not c for c in columns):
            raise RecordError(f"--columns needs one non-empty name per column, got {columns!r}", path=p)
        dup = sorted({c for c in columns if columns.count(c) > 1})
        if dup:
            raise RecordError(f"--columns names {dup[0]!r} twice", path=p)
    if not p.is_file():
        raise RecordError("no such file", path=p)
    lower = p.name.lower()
    if lower.endswith(".mat"):
        if fs_hz is None or columns is None:
            raise RecordError("a .mat signal file without its .hea header needs the sampling rate "
                              "(--fs HZ) and the names of its signals (--columns)", path=p)
        return _read_plain_mat(p, columns, float(fs_hz))
    if lower.endswith((".csv", ".csv.gz")):
        if columns is None:
            raise RecordError("--fs for a table needs --columns: the table then has no header "
                              "line and no time column", path=p)
        return _place_tables(p, [_read_table(p, columns=columns, fs_hz=fs_hz)])
    raise RecordError("--columns and --fs describe a headerless .csv/.csv.gz table or a .mat "
                      "signal file without its .hea; this is neither", path=p)


def _read_plain_mat(p: Path, columns: Sequence[str], fs_hz: float) -> _Parsed:
    """The ``val`` matrix (signals x samples) of a MATLAB file, in the units the names give."""
    from scipy.io import loadmat

    try:
        mat = loadmat(p)
    except _READ_ERRORS as e:
        raise RecordError(f"cannot read the MATLAB file ({type(e).__name__}: {e})", path=p) from e
    arrays = {k: v for k, v in mat.items() if not k.startswith("__") and isinstance(v, np.ndarray)
              and v.ndim == 2 and np.issubdtype(v.dtype, np.number)}
    if not arrays:
        raise RecordError("the MATLAB file holds no numeric matrix", path=p)
    name = "val" if "val" in arrays else next(iter(arrays))
    val = np.asarray(arrays[name], dtype=float)
    if val.shape[0] != len(columns) and val.shape[1] == len(columns):
        val = val.T
    if val.shape[0] != len(columns):
        raise RecordError(f"--columns names {len(columns)} signals, the matrix {name!r} holds "
                          f"{min(val.shape)} (shape {val.shape})", path=p)
    entries = []
    for row, col in zip(val, columns):
        cname, unit = _split_header(col)
        entries.append(_Entry(name=cname, values=row, unit=unit, file=p, fs_hz=fs_hz))
    prov = {"reader": "cardiosim.signals.readers (MATLAB matrix)", "format": "mat",
            "files": [p.name], "matrix": name, "fs_hz_given": fs_hz, "columns_given": list(columns),
            "gaps": [], "warnings": []}
    return _Parsed(entries=entries, provenance=prov)


def _parse(p: Path) -> _Parsed:
    if p.is_dir():
        return _read_folder(p)
    lower = p.name.lower()
    if lower.endswith(_TABLE_SUFFIXES):
        if not p.is_file():
            raise RecordError("no such file", path=p)
        table = _read_table(p)
        return _place_tables(p, [table])
    if lower.endswith(".vital"):
        if not p.is_file():
            raise RecordError("no such file", path=p)
        return _read_vital(p)
    if p.suffix.lower() in _WFDB_SUFFIXES or Path(f"{p}.hea").is_file():
        return _read_wfdb(p)
    if not p.exists():
        raise RecordError("no such file or folder (for a WFDB record give its stem, "
                          "with the .hea file next to it)", path=p)
    raise RecordError("unrecognised format: expected a WFDB record (.hea/.dat/.mat), a "
                      ".csv, .csv.gz or .parquet table, a folder of tables or a .vital file",
                      path=p)


# ---------------------------------------------------------------------------
# WFDB
# ---------------------------------------------------------------------------

_FS_FIELD = re.compile(r"^\d*\.?\d+(?:[eE][+-]?\d+)?(?:/\d*\.?\d+(?:[eE][+-]?\d+)?"
                       r"(?:\([+-]?\d+\))?)?$")
_GAIN_FIELD = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?:\([+-]?\d+\))?(?:/.*)?$")
_INT_FIELD = re.compile(r"^[+-]?\d+$")
_FORMAT_FIELD = re.compile(r"^\d+(?:x\d+)?(?::\d+)?(?:\+\d+)?$")  # fmt[xspf][:skew][+offset]


def _read_wfdb(p: Path) -> _Parsed:
    hea = _find_header(p)
    try:
        import wfdb
    except ImportError as e:  # a dependency, but keep the message useful
        raise RecordError("reading WFDB records needs the wfdb package: pip install wfdb",
                          path=hea) from e
    stem = hea.with_suffix("")
    problem = _header_text_problem(hea.read_text(encoding="latin-1"))
    if problem:
        raise RecordError(f"corrupt or truncated WFDB header: {problem}; fix the header "
                          "or get an intact copy of the record", path=hea)
    try:
        header = wfdb.rdheader(str(stem))
    except _READ_ERRORS as e:
        raise RecordError(f"corrupt or truncated WFDB header ({type(e).__name__}: {e}); "
                          "fix the header or get an intact copy of the record",
                          path=hea) from e
    if isinstance(header, wfdb.MultiRecord) or getattr(header, "seg_name", None):
        raise RecordError("multi-segment WFDB records are not supported; read the "
                          "segments' own headers one by one", path=hea)
    _check_header_fields(header, hea)
    _check_signal_files(header, hea)
    try:
        rec = wfdb.rdrecord(str(stem), smooth_frames=False)
    except (*_READ_ERRORS, ImportError) as e:
        _raise_signal_read_error(header, hea, e)
    dirn = hea.parent
    entries = []
    for i, name in enumerate(rec.sig_name):
        values = np.asarray(rec.e_p_signal[i], dtype=np.float64)
        expected = rec.sig_len * rec.samps_per_frame[i]
        if values.size < expected:
            # Seen with no wfdb version yet (it raises instead), but cheap to guard.
            raise _truncated(dirn / rec.file_name[i], name, expected, values.size)
        entries.append(_Entry(
            name=name, values=values, unit=rec.units[i] or "", file=dirn / rec.file_name[i],
            fs_hz=float(rec.fs) * rec.samps_per_frame[i], t0_s=0.0,
            limits=_adc_limits(rec, i)))
    start_time = None
    if rec.base_date is not None and rec.base_time is not None:
        start_time = _dt.datetime.combine(rec.base_date, rec.base_time)
    files = [hea.name] + list(dict.fromkeys(rec.file_name))
    prov = {"reader": "cardiosim.signals.readers (WFDB)", "format": "WFDB",
            "wfdb_version": getattr(wfdb, "__version__", "unknown"), "files": files,
            "header": str(hea), "comments": list(rec.comments or [])}
    if start_time is None and rec.base_time is not None:
        prov["base_time"] = str(rec.base_time)  # a time of day without a date
    return _Parsed(entries=entries, start_time=start_time, provenance=prov)


def _find_header(p: Path) -> Path:
    suffix = p.suffix.lower()
    if suffix == ".hea":
        hea = p
    elif suffix in (".dat", ".mat"):
        hea = p.with_suffix(".hea")
        if not hea.is_file() and p.parent.is_dir():
            # Multi-file records ("rec_e.dat" under "rec.hea"): find the header listing it.
            hea = next((h for h in sorted(p.parent.glob("*.hea")) if _header_lists(h, p.name)),
                       hea)
    else:
        hea = Path(f"{p}.hea")
    if not hea.is_file():
        what = "no such file" if not p.exists() else "no WFDB header (.hea) found for it"
        raise RecordError(f"{what}; a WFDB record needs its .hea file next to the signal "
                          f"files (looked for {hea.name})", path=p)
    return hea


def _header_lists(hea: Path, file_name: str) -> bool:
    try:
        lines = hea.read_text(encoding="latin-1").splitlines()
    except OSError:
        return False
    return any(ln.split()[:1] == [file_name] for ln in lines[1:] if not ln.startswith("#"))


def _header_text_problem(text: str) -> str | None:
    """What wfdb would silently misread in a header (it falls back to defaults)."""
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    if not lines:
        return "the header is empty"
    fields = lines[0].split()
    if "/" in fields[0]:
        return None  # multi-segment layout: left to wfdb
    if len(fields) < 2 or not _INT_FIELD.match(fields[1]):
        return f"the record line {lines[0]!r} has no valid signal count"
    n_sig = int(fields[1])
    if len(fields) > 2 and not _FS_FIELD.match(fields[2]):
        return f"sampling frequency {fields[2]!r} on the record line is not a positive number"
    if len(fields) > 3 and not _INT_FIELD.match(fields[3]):
        return f"signal length {fields[3]!r} on the record line is not an integer"
    signal_lines = lines[1:]
    if len(signal_lines) < n_sig:
        return f"it declares {n_sig} signals but describes {len(signal_lines)}"
    for ln in signal_lines[:n_sig]:
        sf = ln.split()
        if len(sf) > 1 and not _FORMAT_FIELD.match(sf[1]):
            return f"format field {sf[1]!r} in signal line {ln!r} is not valid"
        if len(sf) > 2 and not _GAIN_FIELD.match(sf[2]):
            return f"gain field {sf[2]!r} in signal line {ln!r} is not a number"
        bad = [f for f in sf[3:8] if not _INT_FIELD.match(f)]
        if bad:
            return f"field {bad[0]!r} in signal line {ln!r} should be an integer"
    return None


def _check_header_fields(header, hea: Path) -> None:
    names = header.sig_name or []
    if header.n_sig and len(names) != header.n_sig:
        raise RecordError(f"corrupt or truncated WFDB header: it declares {header.n_sig} "
                          f"signals but describes {len(names)}", path=hea)
    if not names:
        raise RecordError("the WFDB header describes no signal", path=hea)
    unknown = sorted({str(f) for f in header.fmt or []} - set(_WFDB_FORMAT_BITS))
    if unknown:
        raise RecordError(f"corrupt WFDB header: unknown signal format {unknown[0]!r} "
                          f"(known: {', '.join(_WFDB_FORMAT_BITS)})", path=hea)
    if any(not spf or spf < 1 for spf in header.samps_per_frame or []):
        raise RecordError("corrupt WFDB header: a signal has 0 samples per frame", path=hea)
    if not (header.fs and np.isfinite(header.fs) and header.fs > 0):
        raise RecordError(f"invalid sampling frequency {header.fs!r} in the WFDB header",
                          path=hea)


def _files_of(header) -> dict[str, list[int]]:
    by_file: dict[str, list[int]] = {}
    for i, f in enumerate(header.file_name):
        by_file.setdefault(f, []).append(i)
    return by_file


def _check_signal_files(header, hea: Path) -> None:
    """Missing or short signal files, found before wfdb fails on them with an opaque error."""
    for fname, idx in _files_of(header).items():
        fpath = hea.parent / fname
        names = ", ".join(header.sig_name[i] for i in idx)
        if not fpath.is_file():
            raise RecordError(f"signal file is missing (the header {hea.name} lists it for "
                              f"signals {names}); copy it next to the header", path=fpath,
                              channel=names)
        if header.sig_len is None:
            continue  # length not declared: wfdb reads to the end of the file
        fmt = str(header.fmt[idx[0]])
        expected = header.sig_len * sum(header.samps_per_frame[i] for i in idx)
        if fmt in _WFDB_BYTES_PER_SAMPLE:
            offset = (header.byte_offset[idx[0]] if header.byte_offset else None) or 0
            found = int(np.floor((fpath.stat().st_size - offset) / _WFDB_BYTES_PER_SAMPLE[fmt]
                                 + 1e-9))
            if found < expected:
                raise _truncated(fpath, names, expected, max(found, 0))
        elif fmt in _WFDB_FLAC_FORMATS:
            declared = _flac_declared_frames(fpath)
            per_channel = header.sig_len * header.samps_per_frame[idx[0]]
            if declared is not None and declared < per_channel:
                raise _truncated(fpath, names, per_channel, declared, per_channel=True)


def _raise_signal_read_error(header, hea: Path, exc: Exception) -> NoReturn:
    """wfdb failed although the sizes looked right: find the damaged file or say why."""
    by_file = _files_of(header)
    if isinstance(exc, ImportError):
        raise RecordError("FLAC-compressed WFDB signal files (formats 508/516/524) need the "
                          f"soundfile package: pip install soundfile ({exc})",
                          path=hea) from exc
    for fname, idx in by_file.items():
        if str(header.fmt[idx[0]]) in _WFDB_FLAC_FORMATS and header.sig_len is not None:
            fpath = hea.parent / fname
            per_channel = header.sig_len * header.samps_per_frame[idx[0]]
            found = _flac_decodable_frames(fpath)
            if found is not None and found < per_channel:
                raise _truncated(fpath, ", ".join(header.sig_name[i] for i in idx),
                                 per_channel, found, per_channel=True) from exc
    files = ", ".join(by_file)
    raise RecordError(f"cannot read the signal files {files} ({type(exc).__name__}: {exc}); "
                      "they may be corrupt: get an intact copy of the record", path=hea,
                      channel=", ".join(header.sig_name)) from exc


def _truncated(fpath: Path, names: str, expected: int, found: int,
               per_channel: bool = False) -> RecordError:
    if per_channel:  # FLAC: a cut file and a damaged frame both stop the decoder
        what, state, holds = "samples per channel", "truncated or damaged", f"{found} decodable"
    else:
        what, state, holds = "samples", "truncated", str(found)
    return RecordError(f"signal file is {state}: the header expects {expected} {what}, "
                       f"the file holds {holds}; get a complete copy of the record",
                       path=fpath, channel=names)


def _flac_declared_frames(fpath: Path) -> int | None:
    try:
        import soundfile
        return int(soundfile.info(str(fpath)).frames)
    except (ImportError, *_READ_ERRORS):
        return None  # unreadable here: diagnosed when wfdb reads it


def _flac_decodable_frames(fpath: Path) -> int | None:
    """Frames libsndfile decodes before it hits damage (it stops with an error there)."""
    try:
        import soundfile
    except ImportError:
        return None
    n = 0
    try:
        with soundfile.SoundFile(str(fpath)) as f:
            while True:
                block = f.read(4096, dtype="int32")
                if not len(block):
                    break
                n += len(block)
    except _READ_ERRORS:
        return n  # decoding stops with an error where the intact data end
    return n


def _adc_limits(rec, i: int) -> tuple[float, float] | None:
    res = (rec.adc_res or [0] * rec.n_sig)[i]
    gain = rec.adc_gain[i]
    if not res or not gain or not 0 < int(res) <= 32:
        return None
    half = 2 ** (int(res) - 1)
    zero, baseline = rec.adc_zero[i], rec.baseline[i]
    low_code, high_code = zero - half, zero + half - 1
    # WFDB reserves the format's lowest code for "invalid sample" (read as
    # NaN): when the ADC range reaches it, the lowest valid value is one up.
    # A 12-bit ADC stored in 16-bit FLAC (adc_zero 2048) does not reach it.
    bits = _WFDB_FORMAT_BITS.get(str(rec.fmt[i]))
    if bits is not None and low_code <= -(2 ** (bits - 1)):
        low_code = -(2 ** (bits - 1)) + 1
    low = (low_code - baseline) / gain
    high = (high_code - baseline) / gain
    return float(low), float(high)


# ---------------------------------------------------------------------------
# Tables (CSV, Parquet) and folders of them
# ---------------------------------------------------------------------------


@dataclass
class _Table:
    """One table file read in its own time axis (seconds, not yet shifted)."""

    path: Path
    entries: list[_Entry]
    events: pd.DataFrame | None
    gaps: list[dict]
    warnings: list[str]
    first_time_s: float | None


def _read_folder(folder: Path) -> _Parsed:
    files = sorted(f for f in folder.iterdir()
                   if f.is_file() and not f.name.startswith(".")
                   and f.name.lower().endswith(_TABLE_SUFFIXES))
    if not files:
        raise RecordError("the folder holds no readable table (.csv, .csv.gz or .parquet "
                          "files, one per track, time in the first column)", path=folder)
    parsed = _place_tables(folder, [_read_table(f) for f in files])
    ignored = sorted(f.name for f in folder.iterdir() if f.is_file() and f not in files)
    if ignored:
        parsed.provenance["ignored_files"] = ignored
    return parsed


def _place_tables(source: Path, tables: list[_Table]) -> _Parsed:
    """Shift all tables to the record start: the earliest waveform sample over all files."""
    wave_starts = [e.t0_s for t in tables for e in t.entries if e.fs_hz is not None]
    any_starts = [t.first_time_s for t in tables if t.first_time_s is not None]
    start = min(wave_starts) if wave_starts else (min(any_starts) if any_starts else 0.0)
    entries, events, gaps, warnings = [], [], [], []
    for t in tables:
        for e in t.entries:
            if e.fs_hz is not None:
                e.t0_s -= start
            else:
                e.times_s = e.times_s - start
            entries.append(e)
        if t.events is not None and len(t.events):
            events.append(t.events.assign(time_s=t.events["time_s"] - start))
        for g in t.gaps:
            gaps.append({**g, "start_s": g["start_s"] - start, "end_s": g["end_s"] - start})
        warnings.extend(t.warnings)
    ev = None
    if events:
        ev = pd.concat(events, ignore_index=True).sort_values("time_s", kind="stable")
        ev = ev.reset_index(drop=True)
    prov = {"reader": "cardiosim.signals.readers (table)",
            "format": "folder of tables" if source.is_dir() else "table",
            "pandas_version": pd.__version__, "files": [t.path.name for t in tables],
            "time_offset_s": start, "gaps": gaps, "warnings": warnings}
    if any(t.path.name.lower().endswith(".parquet") for t in tables):
        prov["pyarrow_version"] = package_version("pyarrow")
    return _Parsed(entries=entries, events=ev, provenance=prov)


def _load_frame(path: Path, names: Sequence[str] | None = None) -> pd.DataFrame:
    if names is not None:
        return _load_headerless(path, names)
    try:
        if path.name.lower().endswith(".parquet"):
            try:
                return pd.read_parquet(path)
            except ImportError as e:
                raise RecordError('reading Parquet files needs pyarrow: pip install '
                                  '"cardiosim[parquet]"', path=path) from e
        try:
            return pd.read_csv(path, skipinitialspace=True, encoding="utf-8-sig")
        except UnicodeDecodeError:  # exports from older monitors: "°C" in Latin-1
            return pd.read_csv(path, skipinitialspace=True, encoding="latin-1")
    except RecordError:
        raise
    except pd.errors.EmptyDataError as e:
        raise RecordError("the table is empty (no header line)", path=path) from e
    except _READ_ERRORS as e:  # parser, gzip and decoding errors alike
        raise RecordError(f"cannot parse the table ({type(e).__name__}: {e}); check that it "
                          "is a comma-separated file with one header line", path=path) from e


def _load_headerless(path: Path, names: Sequence[str]) -> pd.DataFrame:
    """A table without a header line whose columns are ``names``; the counts must agree."""
    try:
        first = pd.read_csv(path, header=None, nrows=1, skipinitialspace=True)
    except pd.errors.EmptyDataError as e:
        raise RecordError("the table is empty", path=path) from e
    except _READ_ERRORS as e:
        raise RecordError(f"cannot parse the table ({type(e).__name__}: {e})", path=path) from e
    if first.shape[1] != len(names):
        raise RecordError(f"--columns names {len(names)} columns ({', '.join(names)}), the file has "
                          f"{first.shape[1]} per line", path=path)
    if all(isinstance(v, str) for v in first.iloc[0]):
        raise RecordError(f"the first line looks like a header ({', '.join(map(str, first.iloc[0]))}): "
                          "read the file without --columns", path=path)
    try:
        return pd.read_csv(path, header=None, names=list(names), skipinitialspace=True)
    except _READ_ERRORS as e:
        raise RecordError(f"cannot parse the table ({type(e).__name__}: {e})", path=path) from e


def _read_table(path: Path, columns: Sequence[str] | None = None, fs_hz: float | None = None) -> _Table:
    df = _load_frame(path, names=columns)
    if df.shape[1] == 0 or len(df) == 0:
        raise RecordError("the table has no data rows", path=path)
    if fs_hz is not None:
        # no time column: the rows are samples at fs_hz from 0
        df.insert(0, "time_s", np.arange(len(df)) / fs_hz)
    headers = [str(c) for c in df.columns]
    split = [_split_header(h) for h in headers]
    tcol = _time_column(split)
    if tcol is None:
        hint = ("; the file looks semicolon-separated: save it comma-separated"
                if len(headers) == 1 and ";" in headers[0] else "")
        raise RecordError(f"no time column: the first column is {headers[0]!r}; put the time "
                          f"first and name it 'time_s' (or 'time [s]', 'time (ms)'){hint}",
                          path=path, channel=headers[0])
    t = _time_seconds(df.iloc[:, tcol], split[tcol][1], path, headers[tcol])
    data, events, warnings = _sort_columns(df, headers, split, tcol, t, path)
    if data:
        step = np.diff(t)
        if np.any(step < 0):
            i = int(np.flatnonzero(step < 0)[0])
            raise RecordError(f"time goes backwards at data row {i + 2} ({t[i]:g} s -> "
                              f"{t[i + 1]:g} s); sort the rows by time", path=path,
                              channel=headers[tcol])
    fast_rows = len(t) > 2 and 0 < np.median(np.diff(t)) <= 1.0 / _MIN_WAVEFORM_HZ
    entries, gaps = [], []
    for j, values in data:
        entry, col_gaps = _column_entry(split[j], headers[j], t, values, fast_rows, path)
        entries.append(entry)
        if len(col_gaps) > _MAX_LISTED_GAPS:
            warnings.append(f"{path.name}: column {headers[j]!r} has {len(col_gaps)} time "
                            f"gaps filled with NaN; only the first {_MAX_LISTED_GAPS} are listed")
        gaps.extend(col_gaps[:_MAX_LISTED_GAPS])
    return _Table(path=path, entries=entries, events=events, gaps=gaps, warnings=warnings,
                  first_time_s=float(t[0]))


def _sort_columns(df: pd.DataFrame, headers: list[str], split: list[tuple[str, str]],
                  tcol: int, t: np.ndarray, path: Path):
    """Numeric columns as ``(index, values)``, event markers and warnings for the rest."""
    data: list[tuple[int, np.ndarray]] = []
    events: list[pd.DataFrame] = []
    warnings: list[str] = []
    for j, header in enumerate(headers):
        if j == tcol:
            continue
        col = df.iloc[:, j]
        values, n_text = _numeric_values(col)
        if split[j][0].strip().lower() in _EVENT_NAMES and n_text > 0:
            text = col.astype(str).str.strip()
            keep = (col.notna() & (text != "")).to_numpy()
            events.append(pd.DataFrame({"time_s": t[keep], "event": text[keep].to_numpy()}))
            continue
        present = int(col.notna().sum())
        if present and n_text > present / 2:
            warnings.append(f"{path.name}: column {header!r} holds text, not numbers; skipped "
                            "(name it 'event' to read it as event markers)")
            continue
        if n_text:
            warnings.append(f"{path.name}: column {header!r}: {n_text} non-numeric cells "
                            "read as missing (NaN)")
        data.append((j, values))
    ev = None
    if events:
        ev = pd.concat(events, ignore_index=True).sort_values("time_s", kind="stable")
    return data, ev, warnings


def _column_entry(name_unit: tuple[str, str], header: str, t: np.ndarray, values: np.ndarray,
                  fast_rows: bool, path: Path) -> tuple[_Entry, list[dict]]:
    """A waveform on a uniform grid (gaps NaN) when regularly sampled, else a numeric."""
    name, unit = name_unit
    present = ~np.isnan(values)
    # In a fast table a mostly empty column is a slower series padded to the
    # table's rows: its own rows are those with a value.  An all-empty column
    # keeps every row: a dead lead is still a channel.
    sparse = fast_rows and 0 < present.sum() < 0.5 * len(t)
    tt, vv = (t[present], values[present]) if sparse else (t, values)
    fs0 = _regular_rate(tt)
    if fs0 is None:
        return _Entry(name=name, values=vv, unit=unit, file=path, times_s=tt), []
    k, fs, gaps = _grid_indices(tt, fs0, path, header)
    grid = np.full(int(k[-1]) + 1, np.nan)
    grid[k] = vv
    return _Entry(name=name, values=grid, unit=unit, file=path, fs_hz=fs,
                  t0_s=float(tt[0])), gaps


def _is_unit(text: str) -> bool:
    if not text or text in _NON_PHYSICAL_UNITS:
        return bool(text)
    try:
        lookup_unit(text)
    except (UnitError, TypeError):
        return False
    return True


_BRACKETED = re.compile(r"^(?P<name>.*?\S)\s*(?:\[(?P<u1>[^\[\]]*)\]|\((?P<u2>[^()]*)\))\s*$")


def _split_header(header: str) -> tuple[str, str]:
    """``"ABP [mmHg]"``, ``"ABP (mmHg)"``, ``"ABP_mmHg"`` -> ``("ABP", "mmHg")``.

    A bracketed unit is taken as written (an unknown one is kept raw); after
    an underscore only a known unit counts, since names contain underscores
    too ("ECG_II_mV" is ECG_II in mV).  The leftmost split wins, which keeps
    units with slashes whole ("CI_L/min/m2"); underscores inside the unit may stand
    for slashes ("flow_mL_s" is flow in mL/s).
    """
    h = header.strip()
    m = _BRACKETED.match(h)
    if m:
        unit = m.group("u1") if m.group("u1") is not None else m.group("u2")
        return m.group("name").strip(), unit.strip()
    for i, ch in enumerate(h):
        if ch == "_" and i > 0:
            suffix = h[i + 1:]
            if suffix not in _AMBIGUOUS_SUFFIXES and _is_unit(suffix):
                return h[:i], suffix
            # "flow_mL_s", "CO_L_min": underscores inside a unit stand for "/"
            slashed = suffix.replace("_", "/")
            if "_" in suffix and _is_unit(slashed):
                return h[:i], slashed
    return h, ""


def _time_column(split: Sequence[tuple[str, str]]) -> int | None:
    for j, (name, _) in enumerate(split):
        if name.strip().lower() in _TIME_NAMES:
            return j
    # An unnamed time axis is accepted when its unit says it is a time.
    unit = split[0][1]
    if unit and _is_unit(unit) and unit not in _NON_PHYSICAL_UNITS \
            and lookup_unit(unit)[1] == "time":
        return 0
    return None


def _time_seconds(col: pd.Series, unit: str, path: Path, header: str) -> np.ndarray:
    unit = unit or "s"
    try:
        factor, dim = lookup_unit(unit)
    except (UnitError, TypeError):
        factor, dim = 0.0, None
    if dim != "time":
        raise RecordError(f"time unit {unit!r} is not a time unit known to cardiosim.units "
                          "(use s, ms or min)", path=path, channel=header)
    if pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_timedelta64_dtype(col):
        raise RecordError("time is a date/time, not a number; convert it to seconds from "
                          "the start and name the column 'time_s'", path=path, channel=header)
    t = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(t)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise RecordError(f"time is missing or not numeric at data row {i + 1} (value "
                          f"{str(col.iloc[i])!r}); "
                          "give the time in seconds as plain numbers", path=path,
                          channel=header)
    return t * factor


def _numeric_values(col: pd.Series) -> tuple[np.ndarray, int]:
    """Values as float (text cells -> NaN) and the number of text cells."""
    if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
        return col.to_numpy(dtype=np.float64, na_value=np.nan), 0
    num = pd.to_numeric(col, errors="coerce")
    text = col.notna() & num.isna() & (col.astype(str).str.strip() != "")
    return num.to_numpy(dtype=np.float64, na_value=np.nan), int(text.sum())


def _regular_rate(t: np.ndarray) -> float | None:
    """Sampling rate if ``t`` is a >= 10 Hz grid (gaps allowed), else None (a numeric)."""
    if t.size < 3:
        return None
    dt = np.diff(t)
    med = float(np.median(dt))
    if not med > 0 or 1.0 / med < _MIN_WAVEFORM_HZ:
        return None
    # Mostly one step: a sampled waveform (whose timing is then checked
    # strictly); otherwise an irregular series such as beat-by-beat values.
    if np.mean((dt >= 0.5 * med) & (dt <= 1.5 * med)) < 0.5:
        return None
    return 1.0 / med


def _grid_indices(t: np.ndarray, fs0: float, path: Path,
                  column: str) -> tuple[np.ndarray, float, list[dict]]:
    """Sample index of each time on the grid ``t[0] + k/fs``, the rate and the gaps."""
    step = np.diff(t)
    breaks = np.flatnonzero(step > _GAP_STEPS / fs0) + 1
    starts = np.r_[0, breaks]
    ends = np.r_[breaks, t.size]
    # Times written with few decimals (249.89 Hz in whole ms) make the median
    # step inexact; the mean step over gap-free stretches is then used.
    span = float(np.sum(t[ends - 1] - t[starts]))
    fs = fs0
    if span > 0:
        fs_fit = float(np.sum(ends - starts - 1)) / span
        if abs(fs_fit / fs0 - 1.0) * np.max(ends - starts) > 0.1:
            fs = fs_fit
    fs = float(f"{fs:.10g}")  # 124.99999999999997 from float steps -> 125.0

    seg = np.zeros(t.size, dtype=np.int64)
    seg[breaks] = 1
    seg = np.cumsum(seg)
    j = np.arange(t.size) - starts[seg]
    resid = t - j / fs
    phase = pd.Series(resid).groupby(seg).median().to_numpy()
    dev = resid - phase[seg]
    off = np.abs(dev) > _MAX_OFFGRID_STEPS / fs
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise RecordError(f"irregular sample times: the sample at {t[i]:.6g} s is "
                          f"{abs(dev[i]) * fs:.2f} sample periods off the {fs:g} Hz grid "
                          f"(allowed {_MAX_OFFGRID_STEPS}); resample the column to a uniform "
                          "rate or export it without jitter", path=path, channel=column)
    # After a gap the samples resume at the nearest grid point; the shift
    # (at most half a period) is recorded with the gap.
    k0 = np.rint((phase - t[0]) * fs).astype(np.int64)
    k0[0] = 0
    k = k0[seg] + j
    gaps = []
    for s in breaks:
        missing = int(k[s] - k[s - 1] - 1)
        gaps.append({"file": path.name, "column": column, "start_s": float(t[s - 1]),
                     "end_s": float(t[s]), "duration_s": float(t[s] - t[s - 1]),
                     "nan_samples": missing,
                     "realigned_s": float(t[0] + k[s] / fs - t[s])})
    return k, fs, gaps


# ---------------------------------------------------------------------------
# VitalDB
# ---------------------------------------------------------------------------


def _read_vital(p: Path) -> _Parsed:
    try:
        import vitaldb
    except ImportError as e:
        raise RecordError('reading .vital files needs the optional vitaldb package: '
                          'pip install "cardiosim[vital]"', path=p) from e
    try:
        vf = vitaldb.VitalFile(str(p))
    except _READ_ERRORS as e:
        raise RecordError(f"cannot read the .vital file ({type(e).__name__}: {e}); it may be "
                          "truncated or not a Vital Recorder file", path=p) from e
    fmt_nan = getattr(getattr(vitaldb, "utils", None), "FMT_NAN", {})
    waves, nums, events, warnings = [], [], [], []
    for dtname, trk in vf.trks.items():
        recs = sorted((r for r in trk.recs if "dt" in r and "val" in r), key=lambda r: r["dt"])
        if not recs:
            warnings.append(f"track {dtname!r} has no records; skipped")
            continue
        if trk.type == 1 and trk.srate > 0:
            waves.append((dtname, trk, recs))
        elif trk.type == 5:
            events += [(float(r["dt"]), str(r["val"])) for r in recs]
        else:
            nums.append((dtname, trk, recs))
    if not waves and not nums:
        raise RecordError("the .vital file holds no wave or numeric track (is it a Vital "
                          "Recorder file?)", path=p)
    firsts = [recs[0]["dt"] for _, _, recs in waves] or \
        [recs[0]["dt"] for _, _, recs in nums] or [vf.dtstart]
    start = float(min(firsts))
    entries = [_vital_wave(dtname, trk, recs, start, p, fmt_nan) for dtname, trk, recs in waves]
    for dtname, trk, recs in nums:
        entries.append(_Entry(name=dtname, file=p, unit=trk.unit or "",
                              times_s=np.array([r["dt"] for r in recs], float) - start,
                              values=np.array([_float_or_nan(r["val"]) for r in recs])))
    ev = None
    if events:
        ev = pd.DataFrame({"time_s": [t - start for t, _ in events],
                           "event": [s for _, s in events]})
        ev = ev.sort_values("time_s", kind="stable").reset_index(drop=True)
    # dgmt is UTC minus local time in minutes, so the local offset is -dgmt.
    tz = _dt.timezone(_dt.timedelta(minutes=-float(vf.dgmt or 0)))
    prov = {"reader": "cardiosim.signals.readers (VitalDB)", "format": "vital",
            "vitaldb_version": package_version("vitaldb"), "files": [p.name],
            "file_start_epoch_s": float(vf.dtstart), "record_start_epoch_s": start,
            "warnings": warnings}
    return _Parsed(entries=entries, events=ev, provenance=prov,
                   start_time=_dt.datetime.fromtimestamp(start, tz=tz))


def _vital_wave(dtname: str, trk, recs: list, start: float, p: Path, fmt_nan: Mapping) -> _Entry:
    fs = float(trk.srate)
    first = float(recs[0]["dt"])
    offsets = np.rint((np.array([r["dt"] for r in recs], float) - first) * fs).astype(np.int64)
    lengths = np.array([len(r["val"]) for r in recs], dtype=np.int64)
    values = np.full(int(np.max(offsets + lengths)), np.nan)
    for k, r in zip(offsets, recs):
        v = np.asarray(r["val"], dtype=np.float64)
        if trk.fmt > 2:  # integer storage: a sentinel code marks no data, then scale
            v = np.where(v == fmt_nan.get(trk.fmt, np.nan), np.nan, v) * trk.gain + trk.offset
        values[k:k + v.size] = v
    # vitaldb's own reader treats inf and values above 4e9 as no data.
    values[~np.isfinite(values) | (values > 4e9)] = np.nan
    return _Entry(name=dtname, values=values, unit=trk.unit or "", file=p, fs_hz=fs,
                  t0_s=first - start)


def _float_or_nan(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


# ---------------------------------------------------------------------------
# Names, user overrides, roles, checks and SI conversion (all formats)
# ---------------------------------------------------------------------------


def _build_record(source: Path, parsed: _Parsed, *, roles: Mapping[str, str] | None,
                  units: Mapping[str, str] | None,
                  channels: Sequence[str] | None) -> MonitoringRecord:
    prov = dict(parsed.provenance)
    warnings: list[str] = list(prov.pop("warnings", []))
    entries = _unique_names(parsed.entries, warnings)
    by_name = {e.name: e for e in entries}
    available = ", ".join(by_name) or "none"

    for name, unit in (units or {}).items():
        if name not in by_name:
            raise RecordError(f"units= names {name!r}, which is not in this record; "
                              f"available: {available}", path=source, channel=name)
        by_name[name].unit, by_name[name].declared = str(unit), True

    try:
        assigned = assign_roles(list(by_name), {e.name: e.unit for e in entries}, roles)
    except KeyError as e:
        name = e.args[0]
        raise RecordError(f"roles= names {name!r}, which is not in this record; "
                          f"available: {available}", path=source, channel=name) from None
    except ValueError as e:
        raise RecordError(f"roles=: {e}", path=source) from None
    _check_role_units(assigned, by_name, set((roles or {}).values()), warnings)

    if channels is not None:
        unknown = [c for c in channels if c not in by_name]
        if unknown:
            raise RecordError(f"channels= names {unknown[0]!r}, which is not in this record; "
                              f"available: {available}", path=source, channel=unknown[0])
        lost = sorted(set((roles or {}).values()) - set(channels))
        if lost:
            raise RecordError(f"roles= names {lost[0]!r}, which channels= leaves out",
                              path=source, channel=lost[0])
        keep = set(channels)
        entries = [e for e in entries if e.name in keep]

    chans: dict[str, Channel] = {}
    nums: dict[str, Numeric] = {}
    conversions: dict[str, str] = {}
    for e in entries:
        role = assigned[e.name]
        if role in _KPA_LOOKALIKE and not e.declared:
            _check_not_kpa(e, role)
        values, unit, dim = si_values(e.values, e.unit)
        if dim is not None and unit != e.unit:
            conversions[e.name] = f"{e.unit} -> {unit}"
        if e.fs_hz is not None:
            limits = None
            if e.limits is not None:
                lo, hi = si_values(np.asarray(e.limits, dtype=np.float64), e.unit)[0]
                limits = (float(lo), float(hi))
            chans[e.name] = Channel(name=e.name, role=role, values=values, fs_hz=e.fs_hz,
                                    unit=unit, source_unit=e.unit, t0_s=float(e.t0_s),
                                    limits=limits)
            warnings.extend(_flat_warnings(e.name, values))
        else:
            nums[e.name] = Numeric(name=e.name, role=role, times_s=e.times_s, values=values,
                                   unit=unit, source_unit=e.unit)
            if values.size and not np.isfinite(values).any():
                warnings.append(f"{e.name}: numeric has no valid value")

    prov.update({"source": str(source), "roles": {n: assigned[n] for n in (*chans, *nums)},
                 "role_overrides": dict(roles or {}), "units_declared": dict(units or {}),
                 "conversions": conversions, "warnings": warnings})
    kwargs = {}
    if parsed.events is not None:
        kwargs["events"] = parsed.events[["time_s", "event"]].reset_index(drop=True)
    return MonitoringRecord(source=str(source), channels=chans, numerics=nums,
                            start_time=parsed.start_time, provenance=prov, **kwargs)


def _check_role_units(assigned: dict[str, str | None], by_name: Mapping[str, _Entry],
                      overridden: set[str], warnings: list[str]) -> None:
    """Drop guessed roles whose unit has the wrong dimension (ABP in mV is no pressure)."""
    for name, e in by_name.items():
        # guess_role already skips a pressure name in mV: ask it without the unit
        # too, so that the user learns why the channel has no role.
        role = assigned[name] or (None if name in overridden else guess_role(name))
        if role not in _ROLE_DIMENSION:
            continue
        want, strict = _ROLE_DIMENSION[role]
        dim = _dimension(e.unit)
        if dim == want or (dim is None and not strict):
            continue
        shown = f"unit {e.unit!r}" if e.unit else "no unit"
        if name in overridden:
            warnings.append(f"{name}: given the role {role} by roles=, but has {shown} "
                            f"(not a {want})")
            continue
        assigned[name] = None
        warnings.append(f"{name}: named like {role} but has {shown}, not a {want}; no role "
                        f"given (declare units={{{name!r}: ...}} or roles={{{role!r}: "
                        f"{name!r}}})")


def _unique_names(entries: list[_Entry], warnings: list[str]) -> list[_Entry]:
    """Names clashing across files get the file stem as prefix, within one file a counter."""
    files_of: dict[str, set[Path]] = {}
    for e in entries:
        files_of.setdefault(e.name, set()).add(e.file)
    for e in entries:
        if len(files_of[e.name]) > 1:
            new = f"{_file_stem(e.file)}/{e.name}"
            warnings.append(f"{e.name} is in several files; renamed {new!r}")
            e.name = new
    seen: dict[str, int] = {}
    for e in entries:
        if e.name in seen:
            seen[e.name] += 1
            new = f"{e.name}.{seen[e.name]}"
            warnings.append(f"{e.file.name}: a second channel named {e.name!r}; renamed {new!r}")
            e.name = new
        else:
            seen[e.name] = 0
    return entries


def _file_stem(path: Path) -> str:
    name = path.name
    for suffix in (".csv.gz", ".csv", ".parquet", ".dat", ".mat", ".vital"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _dimension(unit: str) -> str | None:
    return si_values(np.zeros(0), unit)[2]


def _check_not_kpa(e: _Entry, role: str) -> None:
    try:
        is_mmhg = lookup_unit(e.unit) == lookup_unit("mmHg")
    except (UnitError, TypeError):
        is_mmhg = False
    finite = e.values[np.isfinite(e.values)]
    if not is_mmhg or finite.size == 0:
        return
    low, high, p99_max = _KPA_LOOKALIKE[role]
    median, p99 = float(np.median(finite)), float(np.percentile(finite, 99))
    if low <= median <= high and p99 < p99_max:
        raise RecordError(
            f"{role} values look like kPa, not mmHg (median {median:.3g}, 99th percentile "
            f"{p99:.3g}); if they are kPa declare units={{{e.name!r}: 'kPa'}} (command line: "
            f"--unit \"{e.name}=kPa\"), if they really are mmHg declare units={{{e.name!r}: 'mmHg'}} "
            f"(--unit \"{e.name}=mmHg\")", path=e.file, channel=e.name)


def _flat_warnings(name: str, values: np.ndarray) -> list[str]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return [f"{name}: every sample is missing (NaN)"]
    if finite.size > 1 and finite.min() == finite.max():
        return [f"{name}: constant at {finite[0]:g} (lead off or not connected?)"]
    return []


