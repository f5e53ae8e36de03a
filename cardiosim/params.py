"""Parameter dataclasses: unit-aware setting, validation and round-trip to dicts.

Every parameter field carries metadata ``unit`` (its SI unit) and ``dim`` (the physical
dimension understood by :func:`cardiosim.units.parse_quantity`), and a ``check``:
``"positive"``, ``"nonnegative"`` or ``"finite"``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping, TypeVar

from .errors import ParameterError
from . import units

T = TypeVar("T")


def param(default: Any, unit: str, dim: str, check: str = "positive", doc: str = "") -> Any:
    """A dataclass field holding a physical parameter in SI units."""
    return dataclasses.field(default=default, metadata={"unit": unit, "dim": dim, "check": check,
                                                         "doc": doc})


def parameter_names(obj: Any) -> list[str]:
    """Names of the physical parameters of a parameter dataclass."""
    return [f.name for f in dataclasses.fields(obj) if "unit" in f.metadata]


def validate(obj: Any, where: str | None = None) -> None:
    """Raise :class:`ParameterError` for any non-finite or out-of-range parameter."""
    where = where or type(obj).__name__
    for f in dataclasses.fields(obj):
        if "unit" not in f.metadata:
            continue
        value = getattr(obj, f.name)
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ParameterError(f"{where}.{f.name} must be a number, got {value!r}") from None
        if not math.isfinite(v):
            raise ParameterError(f"{where}.{f.name} is not finite: {value!r} {f.metadata['unit']}")
        check = f.metadata.get("check", "finite")
        if check == "positive" and not v > 0:
            raise ParameterError(f"{where}.{f.name} must be > 0, got {v!r} {f.metadata['unit']}")
        if check == "nonnegative" and not v >= 0:
            raise ParameterError(f"{where}.{f.name} must be >= 0, got {v!r} {f.metadata['unit']}")


def to_si(obj: Any, name: str, value: Any) -> float:
    """Convert ``value`` (number in SI, or a string with a unit) for field ``name`` of ``obj``."""
    fields = {f.name: f for f in dataclasses.fields(obj)}
    f = fields[name]
    try:
        return float(units.parse_quantity(value, expected=f.metadata.get("dim")))
    except units.UnitError as exc:
        raise ParameterError(f"{type(obj).__name__}.{name}: {exc}") from None


def with_values(obj: T, values: Mapping[str, Any]) -> T:
    """Return a copy of ``obj`` with ``values`` set (numbers in SI or strings with units)."""
    names = parameter_names(obj)
    changes = {}
    for key, value in values.items():
        if key not in names:
            raise ParameterError(f"unknown parameter {key!r} for {type(obj).__name__}; "
                                 f"known: {', '.join(names)}")
        changes[key] = to_si(obj, key, value)
    new = dataclasses.replace(obj, **changes)
    validate(new)
    return new


def as_dict(obj: Any) -> dict:
    """Plain dict of a (possibly nested) parameter dataclass, SI values, for JSON."""
    out = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            out[f.name] = {"type": type(value).__name__, **as_dict(value)}
        elif isinstance(value, tuple):
            out[f.name] = [list(v) if isinstance(v, tuple) else v for v in value]
        else:
            out[f.name] = value
    return out
