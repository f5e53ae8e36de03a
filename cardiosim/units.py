"""Unit conversion for cardiosim.

Everything inside the package is SI (Pa, m^3, m^3/s, s, Hz, Pa*s/m^3, m^3/Pa).
Clinical units (mmHg, mL, L/min, bpm, ...) appear only at the edges: config
files, command-line arguments, plots and reports.  This module is the single
place that knows conversion factors, so that a factor is never retyped (and
mistyped) elsewhere.

Examples
--------
>>> parse_quantity("124 kPa")
124000.0
>>> format_quantity(2.5e-9, "mL/mmHg")
'0.3333 mL/mmHg'
>>> convert(75.0, "bpm", "Hz")
1.25
"""

from __future__ import annotations

import itertools
import math
import numbers
import re
from types import MappingProxyType
from typing import Mapping, TypeVar

import numpy as np

__all__ = [
    "MMHG",
    "KPA",
    "ML",
    "L",
    "MM",
    "CM",
    "MIN",
    "MS",
    "UnitError",
    "UNITS",
    "SI_UNITS",
    "DIMENSIONS",
    "CLINICAL_UNITS",
    "mmhg_to_pa",
    "pa_to_mmhg",
    "ml_to_m3",
    "m3_to_ml",
    "lpm_to_m3s",
    "m3s_to_lpm",
    "m3s_to_mls",
    "bpm_to_period_s",
    "period_s_to_bpm",
    "lookup_unit",
    "parse_quantity",
    "convert",
    "format_quantity",
]

# ---------------------------------------------------------------------------
# SI factors
# ---------------------------------------------------------------------------

MMHG = 133.322387415  # Pa per mmHg: conventional 13.5951 g/cm^3 Hg at g_n, as used by clinical monitors.
KPA = 1e3  # Pa per kPa; kPa is the usual unit for myocardial stiffness parameters.
ML = 1e-6  # m^3 per mL; ventricular volumes are reported in mL.
L = 1e-3  # m^3 per litre; cardiac output is reported in L/min.
MM = 1e-3  # m per mm; wall thicknesses and mesh coordinates are often in mm.
CM = 1e-2  # m per cm; echo dimensions are often in cm.
MIN = 60.0  # s per minute; heart rate (bpm) and cardiac output (L/min) are per minute.
MS = 1e-3  # s per ms; ECG and valve timings are reported in ms.


class UnitError(ValueError):
    """Invalid quantity string, unknown unit, or dimension mismatch."""


# A TypeVar rather than a Union so that a float in gives a float out and an
# array in gives an array out, as far as a type checker is concerned.
_F = TypeVar("_F", float, np.ndarray)

# ---------------------------------------------------------------------------
# Unit table
# ---------------------------------------------------------------------------

PRESSURE = "pressure"
LENGTH = "length"
VOLUME = "volume"
FLOW = "flow"
TIME = "time"
FREQUENCY = "frequency"
RESISTANCE = "resistance"
COMPLIANCE = "compliance"
VISCOSITY = "viscosity"
DENSITY = "density"
STRESS_RATE = "stress-rate"
DIMENSIONLESS = "dimensionless"
POTENTIAL = "electric potential"

# Canonical spellings only; the lower-case-litre, "." for "*" and "m3" for
# "m^3" variants are generated below so that each factor is written once.
# Order within a dimension matters: it is the order used in error hints.
_CANONICAL: dict[str, tuple[float, str]] = {
    "Pa": (1.0, PRESSURE),
    "kPa": (KPA, PRESSURE),
    "MPa": (1e6, PRESSURE),
    "mmHg": (MMHG, PRESSURE),
    # Ventilator airway pressure; conventional water density 1000 kg/m^3 at g_n.
    "cmH2O": (98.0665, PRESSURE),
    "m": (1.0, LENGTH),
    "cm": (CM, LENGTH),
    "mm": (MM, LENGTH),
    "m^3": (1.0, VOLUME),
    "mL": (ML, VOLUME),
    "L": (L, VOLUME),
    "m^3/s": (1.0, FLOW),
    "mL/s": (ML, FLOW),
    "L/min": (L / MIN, FLOW),
    "mL/min": (ML / MIN, FLOW),
    "s": (1.0, TIME),
    "ms": (MS, TIME),
    "min": (MIN, TIME),
    "Hz": (1.0, FREQUENCY),
    "1/s": (1.0, FREQUENCY),
    # bpm is a rate, not a period: 60 bpm == 1 Hz.
    "bpm": (1.0 / MIN, FREQUENCY),
    "/min": (1.0 / MIN, FREQUENCY),
    "1/min": (1.0 / MIN, FREQUENCY),
    "mmHg*s/mL": (MMHG / ML, RESISTANCE),
    # Systemic vascular resistance as monitors report it (CGS): 1 dyn*s/cm^5 = 1e5 Pa*s/m^3.
    "dyn*s/cm^5": (1e5, RESISTANCE),
    "Pa*s/m^3": (1.0, RESISTANCE),
    "mL/mmHg": (ML / MMHG, COMPLIANCE),
    "m^3/Pa": (1.0, COMPLIANCE),
    "Pa*s": (1.0, VISCOSITY),
    "kg/m^3": (1.0, DENSITY),
    # Written as a literal: CM**3 is not exactly 1e-6 in binary.
    "g/cm^3": (1e3, DENSITY),
    "Pa/s": (1.0, STRESS_RATE),
    "kPa/s": (KPA, STRESS_RATE),
    "mmHg/s": (MMHG, STRESS_RATE),  # dP/dt is reported in mmHg/s
    # Monitors label stroke volume "mL/beat"; the "per beat" is a count.
    "mL/beat": (ML, VOLUME),
    "V": (1.0, POTENTIAL),
    "mV": (1e-3, POTENTIAL),
    "uV": (1e-6, POTENTIAL),
    "1": (1.0, DIMENSIONLESS),
    "": (1.0, DIMENSIONLESS),
    "%": (0.01, DIMENSIONLESS),
}

# Each rewrite is applied or not independently, giving every combination.
_SPELLING_VARIANTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<![A-Za-z])mL(?![A-Za-z])"), "ml"),
    (re.compile(r"(?<![A-Za-z])L(?![A-Za-z])"), "l"),
    (re.compile(r"\*"), "."),
    (re.compile(r"\^(\d)"), r"\1"),
)


def _build_table() -> dict[str, tuple[float, str]]:
    table: dict[str, tuple[float, str]] = {}
    for key, entry in _CANONICAL.items():
        for mask in itertools.product((False, True), repeat=len(_SPELLING_VARIANTS)):
            alias = key
            for use, (pattern, repl) in zip(mask, _SPELLING_VARIANTS):
                if use:
                    alias = pattern.sub(repl, alias)
            # Guard future edits: two units must never share a spelling.
            if table.get(alias, entry) != entry:
                raise RuntimeError(f"unit spelling {alias!r} is ambiguous")
            table[alias] = entry
    return table


#: Unit string -> (SI factor, dimension name).  SI value = value * factor.
#: Read-only so that no other module can quietly change a factor.
UNITS: Mapping[str, tuple[float, str]] = MappingProxyType(_build_table())

#: All dimension names that appear in :data:`UNITS`.
DIMENSIONS: frozenset[str] = frozenset(dim for _, dim in _CANONICAL.values())

#: The SI unit cardiosim stores each dimension in.
SI_UNITS: Mapping[str, str] = MappingProxyType({
    PRESSURE: "Pa", LENGTH: "m", VOLUME: "m^3", FLOW: "m^3/s", TIME: "s", FREQUENCY: "Hz",
    RESISTANCE: "Pa*s/m^3", COMPLIANCE: "m^3/Pa", VISCOSITY: "Pa*s", DENSITY: "kg/m^3",
    STRESS_RATE: "Pa/s", DIMENSIONLESS: "1", POTENTIAL: "V",
})

#: Preferred display unit per dimension for clinician-facing output.
CLINICAL_UNITS: dict[str, str] = {
    PRESSURE: "mmHg",
    VOLUME: "mL",
    FLOW: "mL/s",
    RESISTANCE: "mmHg*s/mL",
    COMPLIANCE: "mL/mmHg",
    FREQUENCY: "bpm",
    TIME: "s",
}

# Config files and papers use "Pa . s", "Pa·s" and "m³" interchangeably.
_AROUND_OPERATOR = re.compile(r"\s*([*/.^])\s*")
_UNICODE_UNIT = str.maketrans({"\u00b7": "*", "\u22c5": "*", "\u00b3": "^3"})


def _normalize_unit(unit: str) -> str:
    return _AROUND_OPERATOR.sub(r"\1", unit.translate(_UNICODE_UNIT).strip())


def _units_of(dimension: str) -> list[str]:
    return [k for k, (_, d) in _CANONICAL.items() if d == dimension and k]


def _unknown_unit_message(unit: str, context: str, expected: str | None) -> str:
    msg = f"unknown unit {unit!r}"
    if context.strip() != unit:
        msg += f" in {context!r}"
    # Matching is case-sensitive on purpose (mPa vs MPa), so point out the
    # likely intended spelling instead of guessing.
    near = sorted({k for k in UNITS if k.lower() == unit.lower() and k})
    if near:
        msg += f" (did you mean {' or '.join(repr(k) for k in near)}?)"
    if expected is not None:
        accepted = ", ".join(repr(k) for k in _units_of(expected))
        msg += f"; accepted {expected} units include {accepted}"
    else:
        msg += "; see cardiosim.units.UNITS for accepted units"
    return msg


def lookup_unit(unit: str) -> tuple[float, str]:
    """Return the SI factor and dimension of a unit string.

    Parameters
    ----------
    unit : str
        Unit such as ``"mmHg"`` or ``"mL / mmHg"`` (whitespace around
        ``*``, ``/``, ``.`` and ``^`` is ignored).

    Returns
    -------
    factor : float
        Multiply a value in ``unit`` by this to get SI.
    dimension : str
        Dimension name, one of :data:`DIMENSIONS`.

    Raises
    ------
    UnitError
        If the unit is not in :data:`UNITS`.
    """
    if not isinstance(unit, str):
        raise TypeError(f"unit must be a str, got {type(unit).__name__}: {unit!r}")
    key = _normalize_unit(unit)
    try:
        return UNITS[key]
    except KeyError:
        raise UnitError(_unknown_unit_message(key, unit, None)) from None


# ---------------------------------------------------------------------------
# Convenience converters
# ---------------------------------------------------------------------------


def _numeric(x):
    # Lists/tuples would otherwise fail (or repeat!) under `*`.
    return np.asarray(x, dtype=float) if isinstance(x, (list, tuple)) else x


def mmhg_to_pa(p: _F) -> _F:
    """Convert pressure from mmHg to Pa."""
    return _numeric(p) * MMHG


def pa_to_mmhg(p: _F) -> _F:
    """Convert pressure from Pa to mmHg."""
    return _numeric(p) / MMHG


def ml_to_m3(v: _F) -> _F:
    """Convert volume from mL to m^3."""
    return _numeric(v) * ML


def m3_to_ml(v: _F) -> _F:
    """Convert volume from m^3 to mL."""
    return _numeric(v) / ML


def lpm_to_m3s(q: _F) -> _F:
    """Convert flow from L/min (e.g. cardiac output) to m^3/s."""
    return _numeric(q) * L / MIN


def m3s_to_lpm(q: _F) -> _F:
    """Convert flow from m^3/s to L/min."""
    return _numeric(q) * MIN / L


def m3s_to_mls(q: _F) -> _F:
    """Convert flow from m^3/s to mL/s."""
    return _numeric(q) / ML


def _require_positive_finite(x, what: str) -> None:
    arr = np.asarray(x, dtype=float)
    bad = ~np.isfinite(arr) | (arr <= 0)
    if not bad.any():
        return
    if arr.ndim == 0:
        shown = repr(x.item() if isinstance(x, np.generic) else x)
    else:
        shown = f"{arr[bad][:5].tolist()} (at {int(bad.sum())} of {arr.size} entries)"
    raise UnitError(f"{what} must be positive and finite, got {shown}")


def bpm_to_period_s(rate_bpm: _F) -> _F:
    """Convert heart rate in beats per minute to the RR interval in seconds.

    Raises
    ------
    UnitError
        If any rate is zero, negative, NaN or infinite.
    """
    rate_bpm = _numeric(rate_bpm)
    _require_positive_finite(rate_bpm, "heart rate (bpm)")
    return MIN / rate_bpm


def period_s_to_bpm(period_s: _F) -> _F:
    """Convert an RR interval in seconds to heart rate in beats per minute.

    Raises
    ------
    UnitError
        If any period is zero, negative, NaN or infinite.
    """
    period_s = _numeric(period_s)
    _require_positive_finite(period_s, "cardiac period (s)")
    return MIN / period_s


# ---------------------------------------------------------------------------
# Parsing, generic conversion, formatting
# ---------------------------------------------------------------------------

# nan/inf are matched so they get a precise error rather than "not a number".
_NUMBER = re.compile(
    r"[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|nan|inf(?:inity)?)",
    re.IGNORECASE,
)


def parse_quantity(text: str | float, expected: str | None = None) -> float:
    """Parse ``"<number> [unit]"`` and return the value in SI units.

    Parameters
    ----------
    text : str or float
        E.g. ``"124 kPa"``, ``"0.33 mL/mmHg"``, ``"75 bpm"``.  A bare number
        (string or int/float) is taken to be SI already.
    expected : str, optional
        Dimension the unit must have, e.g. ``"pressure"``; see
        :data:`DIMENSIONS`.  Bare numbers pass unchecked.

    Returns
    -------
    float
        Value in SI units.

    Raises
    ------
    UnitError
        Empty or unparseable text, unknown unit, NaN/inf, or a unit whose
        dimension differs from ``expected``.
    TypeError
        If ``text`` is neither a string nor a real number.
    """
    if expected is not None and expected not in DIMENSIONS:
        raise UnitError(
            f"unknown dimension {expected!r}; known: {', '.join(sorted(DIMENSIONS))}"
        )

    # bool is an int subclass, but True as a pressure is always a bug.
    if isinstance(text, numbers.Real) and not isinstance(text, bool):
        value = float(text)
        if not math.isfinite(value):
            raise UnitError(f"quantity must be finite, got {text!r}")
        return value
    if not isinstance(text, str):
        raise TypeError(
            f"quantity must be a str or real number, got {type(text).__name__}: {text!r}"
        )

    # Unicode minus appears in text pasted from papers.
    s = text.replace("\u2212", "-").strip()
    if not s:
        raise UnitError(f"empty quantity string {text!r}; expected '<number> [unit]'")

    match = _NUMBER.match(s)
    rest = s[match.end():] if match else ""
    # A unit may follow directly ("124kPa", "50%", "5/min") but not more
    # digits or dots, which would mean a malformed number like "1.2.3".
    if match is None or (rest and not (rest[0].isspace() or rest[0].isalpha() or rest[0] in "%/")):
        raise UnitError(f"could not parse a number from {text!r}; expected '<number> [unit]'")

    number = float(match.group())
    if not math.isfinite(number):
        raise UnitError(f"quantity must be finite, got {text!r}")

    unit = _normalize_unit(rest)
    try:
        factor, dimension = UNITS[unit]
    except KeyError:
        raise UnitError(_unknown_unit_message(unit, text, expected)) from None

    # A bare number is SI of whatever dimension the caller expects.
    if unit and expected is not None and dimension != expected:
        raise UnitError(
            f"{text!r} has unit {unit!r} of dimension {dimension!r}, expected {expected!r}"
        )

    value = number * factor
    if not math.isfinite(value):
        raise UnitError(f"quantity {text!r} overflows when converted to SI")
    return value


def convert(value: _F, from_unit: str, to_unit: str) -> _F:
    """Convert ``value`` between two units of the same dimension.

    Parameters
    ----------
    value : float or numpy.ndarray
        Value(s) in ``from_unit``; lists and tuples are converted to arrays.
    from_unit, to_unit : str
        Keys of :data:`UNITS`.

    Returns
    -------
    float or numpy.ndarray
        Value(s) in ``to_unit``.

    Raises
    ------
    UnitError
        Unknown unit, or units of different dimensions.
    """
    f_from, d_from = lookup_unit(from_unit)
    f_to, d_to = lookup_unit(to_unit)
    if d_from != d_to:
        raise UnitError(
            f"cannot convert {from_unit!r} ({d_from}) to {to_unit!r} ({d_to})"
        )
    # Via SI rather than by the ratio of factors, so that conversions to or
    # from SI (factor 1.0) are exact.
    return _numeric(value) * f_from / f_to


def format_quantity(value_si: float, unit: str, digits: int = 4) -> str:
    """Format an SI value in ``unit`` with ``digits`` significant figures.

    Examples
    --------
    >>> format_quantity(124e3, "kPa")
    '124 kPa'
    """
    factor, _ = lookup_unit(unit)
    v = value_si / factor
    label = unit.strip()
    return f"{v:.{digits}g} {label}" if label else f"{v:.{digits}g}"
