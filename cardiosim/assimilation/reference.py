"""Reference stroke volume or cardiac output: where the model's flow scale comes from.

Arterial pressure fixes the product of resistance and compliance but not the flow scale:
the 0D model scaled by k (every volume and flow x k, resistances / k, compliances x k,
:meth:`cardiosim.models.sphere.SphereModel.scaled`) gives the same pressure at every
instant. A one-point calibration (thermodilution, lithium dilution, an echocardiographic SV,
or a monitor's calibrated CO; as PiCCO and LiDCO calibrate their pulse-contour constant)
fixes k. Because the pressure cannot see k, fitting it jointly with the pressure is the same
as fitting the pressure and then choosing k to match the reference: :func:`flow_scale`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import ParameterError

#: accepted ranges of a reference (outside them the value is refused, not clipped): adult
#: and paediatric cardiac outputs lie well inside 0.5-20 L/min, stroke volumes 5-250 mL
CO_RANGE_L_MIN = (0.5, 20.0)
SV_RANGE_ML = (5.0, 250.0)
#: beats around the reference time whose model SV is compared with it
WINDOW_S = 30.0


@dataclass(frozen=True)
class Reference:
    """A reference flow at a time: ``kind`` "CO" (L/min) or "SV" (mL), ``t_s`` from the record start."""

    kind: str
    value: float
    t_s: float
    source: str = "given"

    def __post_init__(self):
        if self.kind not in ("CO", "SV"):
            raise ParameterError(f"reference kind must be CO or SV, got {self.kind!r}")
        lo, hi = CO_RANGE_L_MIN if self.kind == "CO" else SV_RANGE_ML
        unit = "L/min" if self.kind == "CO" else "mL"
        if not (isinstance(self.value, (int, float)) and math.isfinite(self.value) and lo <= self.value <= hi):
            raise ParameterError(f"reference {self.kind} = {self.value!r} {unit} is outside the accepted "
                                 f"range {lo:g}-{hi:g} {unit}")
        if not (math.isfinite(self.t_s) and self.t_s >= 0):
            raise ParameterError(f"reference time must be >= 0 s from the record start, got {self.t_s!r}")

    @property
    def unit(self) -> str:
        return "L/min" if self.kind == "CO" else "mL"

    def label(self) -> str:
        return f"one-point {self.kind} {self.value:g} {self.unit} at {self.t_s:g} s ({self.source})"


def parse_reference(text: str) -> Reference | str:
    """``"CO=4.6@120"`` (CO in L/min, time in s) or ``"SV=70@0"`` (mL); ``"first"`` is returned as is."""
    s = text.strip()
    if s == "first":
        return s
    m = re.fullmatch(r"(CO|SV)\s*=\s*([^@\s]+)\s*@\s*(\S+)", s, flags=re.IGNORECASE)
    if not m:
        raise ParameterError(f"--reference {text!r}: expected CO=<L/min>@<s>, SV=<mL>@<s> or first "
                             f"(e.g. CO=4.6@120)")
    kind, value, t = m.group(1).upper(), m.group(2), m.group(3)
    try:
        v, ts = float(value), float(t)
    except ValueError:
        raise ParameterError(f"--reference {text!r}: {value!r} or {t!r} is not a number") from None
    return Reference(kind, v, ts)


def first_in_record(record) -> Reference:
    """The first finite value of the record's CO numeric (else its SV numeric) as a reference."""
    for role, unit in (("CO", "L/min"), ("SV", "mL")):
        num = record.numeric(role)
        if num is None:
            continue
        v = num.in_unit(unit)
        ok = np.flatnonzero(np.isfinite(v))
        if ok.size:
            i = int(ok[0])
            return Reference(role, float(v[i]), float(num.times_s[i]), source=f"first value of {num.name}")
    raise ParameterError(f"{record.source}: --reference first needs a CO or SV numeric channel; the record "
                         f"has none (channels: {', '.join(list(record.channels) + list(record.numerics))})")


def resolve(references: Sequence[Reference | str], record) -> list[Reference]:
    """References with ``"first"`` replaced by the record's value, each checked against its span."""
    out = []
    for r in references:
        ref = r if isinstance(r, Reference) else parse_reference(str(r))
        if ref == "first":
            ref = first_in_record(record)
        end = record.duration_s
        if ref.t_s > end:
            raise ParameterError(f"{record.source}: reference {ref.kind} at {ref.t_s:g} s is after the end of "
                                 f"the record ({end:.1f} s)")
        out.append(ref)
    return out


@dataclass(frozen=True)
class FlowScale:
    """The model's flow scale: the factor k, where it came from, and each reference's fit."""

    k: float
    source: str
    table: pd.DataFrame

    def describe(self) -> dict:
        return {"k": self.k, "source": self.source, "references": self.table.to_dict(orient="records")}


def flow_scale(references: Sequence[Reference], t_s: np.ndarray, sv_ml: np.ndarray, rr_s: np.ndarray,
               use: np.ndarray) -> FlowScale:
    """Flow scale k (geometric mean over the references) from the model's per-beat SV.

    Each reference is compared with the median model SV (or SV / RR for CO) of the beats
    ``use`` within +-15 s of its time (the nearest 10 such beats if none lie that close).
    """
    rows = []
    t_s, sv_ml, rr_s, use = (np.asarray(a) for a in (t_s, sv_ml, rr_s, use))
    ok = use & np.isfinite(sv_ml) & (sv_ml > 0)
    if not ok.any():
        raise ParameterError("flow scale: the model has no beat with a stroke volume to compare with")
    for ref in references:
        near = ok & (np.abs(t_s - ref.t_s) <= WINDOW_S / 2)
        if near.sum() < 3:
            idx = np.flatnonzero(ok)
            near = np.zeros_like(ok)
            near[idx[np.argsort(np.abs(t_s[idx] - ref.t_s))[:10]]] = True
        if ref.kind == "SV":
            model = float(np.median(sv_ml[near]))
        else:
            model = float(np.median(sv_ml[near] / rr_s[near])) * 60.0 / 1000.0
        rows.append({"kind": ref.kind, "t_s": ref.t_s, "reference": ref.value, "unit": ref.unit,
                     "model_unscaled": model, "beats": int(near.sum()), "source": ref.source})
    table = pd.DataFrame(rows)
    k = float(np.exp(np.mean(np.log(table["reference"] / table["model_unscaled"]))))
    table["model_scaled"] = table["model_unscaled"] * k
    table["residual_pct"] = 100.0 * (table["model_scaled"] / table["reference"] - 1.0)
    label = "; ".join(r.label() for r in references)
    return FlowScale(k, label, table)
