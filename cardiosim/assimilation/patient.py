"""Patient size: body surface area and the heart size it predicts, a prior for the flow scale.

Without a reference flow the model's SV scale can come from the patient's size: the normal
left-ventricular end-diastolic volume index (2D echocardiography, biplane Simpson) of
Lang RM et al., "Recommendations for cardiac chamber quantification by echocardiography in
adults", J Am Soc Echocardiogr 28:1-39 (2015), Table 1: 54 +- 10 mL/m2 in men, 45 +- 8 mL/m2
in women, times the body surface area of Mosteller RD, "Simplified calculation of body-surface
area", N Engl J Med 317:1098 (1987): BSA = sqrt(height [cm] x weight [kg] / 3600) m2.
The scale k makes the model's median end-diastolic volume over the first minute equal that
EDV. It is a population prior (about +-20 % at one sd), much weaker than a measured reference.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ParameterError
from .reference import FlowScale

#: LV EDV index [mL/m2], mean and sd, by sex (Lang et al. 2015, Table 1)
EDV_INDEX_ML_M2 = {"M": (54.0, 10.0), "F": (45.0, 8.0)}
#: accepted ranges (outside: refused as impossible, not clipped)
AGE_RANGE_Y = (0.0, 120.0)
HEIGHT_RANGE_CM = (40.0, 250.0)
WEIGHT_RANGE_KG = (2.0, 350.0)


@dataclass(frozen=True)
class Patient:
    """Age [years], sex ("M" or "F"), height [cm], weight [kg]; any may be None if unknown."""

    age_y: float | None = None
    sex: str | None = None
    height_cm: float | None = None
    weight_kg: float | None = None

    def __post_init__(self):
        for name, (lo, hi), unit in (("age_y", AGE_RANGE_Y, "years"), ("height_cm", HEIGHT_RANGE_CM, "cm"),
                                     ("weight_kg", WEIGHT_RANGE_KG, "kg")):
            v = getattr(self, name)
            if v is None:
                continue
            if not (isinstance(v, (int, float)) and math.isfinite(v) and lo <= v <= hi):
                raise ParameterError(f"patient {name.split('_')[0]} = {v!r} {unit} is impossible "
                                     f"(accepted {lo:g}-{hi:g} {unit})")
        if self.sex is not None:
            s = str(self.sex).strip().upper()[:1]
            if s not in ("M", "F"):
                raise ParameterError(f"patient sex must be M or F, got {self.sex!r}")
            object.__setattr__(self, "sex", s)

    @classmethod
    def parse(cls, text: str) -> "Patient":
        """From ``"age=62,sex=F,height=165,weight=70"`` (years, M/F, cm, kg)."""
        keys = {"age": "age_y", "sex": "sex", "height": "height_cm", "weight": "weight_kg"}
        vals: dict = {}
        for item in (s.strip() for s in text.split(",") if s.strip()):
            if "=" not in item:
                raise ParameterError(f"--patient {text!r}: {item!r} is not NAME=VALUE "
                                     f"(e.g. age=62,sex=F,height=165,weight=70)")
            k, v = (a.strip() for a in item.split("=", 1))
            if k not in keys:
                raise ParameterError(f"--patient: unknown field {k!r}; fields: {', '.join(keys)}")
            if k == "sex":
                vals["sex"] = v
            else:
                try:
                    vals[keys[k]] = float(v)
                except ValueError:
                    raise ParameterError(f"--patient: {k}={v!r} is not a number") from None
        return cls(**vals)

    @classmethod
    def from_record(cls, record) -> "Patient | None":
        """Age and sex from a WFDB header comment such as ``<age>: 60 <sex>: F`` (MIMIC)."""
        comments = " ".join((getattr(record, "provenance", None) or {}).get("comments", []) or [])
        age = re.search(r"<age>:\s*([0-9.]+)", comments)
        sex = re.search(r"<sex>:\s*([MFmf])", comments)
        if not (age or sex):
            return None
        return cls(age_y=float(age.group(1)) if age else None, sex=sex.group(1) if sex else None)

    @property
    def bsa_m2(self) -> float | None:
        """Body surface area (Mosteller 1987) [m2], None without height and weight."""
        if self.height_cm is None or self.weight_kg is None:
            return None
        return math.sqrt(self.height_cm * self.weight_kg / 3600.0)

    def edv_ml(self) -> tuple[float, float]:
        """Expected LV end-diastolic volume [mL] and its sd (Lang et al. 2015 x BSA)."""
        bsa = self.bsa_m2
        if bsa is None:
            raise ParameterError("patient size needs height and weight (for the body surface area)")
        if self.sex is None:
            m = 0.5 * (EDV_INDEX_ML_M2["M"][0] + EDV_INDEX_ML_M2["F"][0])
            sd = 0.5 * (EDV_INDEX_ML_M2["M"][1] + EDV_INDEX_ML_M2["F"][1])
        else:
            m, sd = EDV_INDEX_ML_M2[self.sex]
        return m * bsa, sd * bsa

    def label(self) -> str:
        bits = [f"BSA {self.bsa_m2:.2f} m2"] if self.bsa_m2 else []
        if self.age_y is not None:
            bits.append(f"age {self.age_y:g}")
        if self.sex:
            bits.append(f"sex {self.sex}")
        return "patient size (" + ", ".join(bits) + ")"


def size_scale(patient: Patient, t_s: np.ndarray, edv_ml: np.ndarray, use: np.ndarray,
               window_s: float = 60.0) -> FlowScale:
    """Flow scale from the patient's expected EDV and the model's median EDV over the first minute."""
    edv, sd = patient.edv_ml()
    t_s, edv_ml, use = (np.asarray(a) for a in (t_s, edv_ml, use))
    ok = use & np.isfinite(edv_ml) & (edv_ml > 0)
    if not ok.any():
        raise ParameterError("patient size prior: the model has no beat with an end-diastolic volume")
    first = ok & (t_s <= t_s[ok][0] + window_s)
    model = float(np.median(edv_ml[first]))
    k = edv / model
    table = pd.DataFrame([{"kind": "EDV", "t_s": float(t_s[ok][0]), "reference": edv, "unit": "mL",
                           "sd": sd, "model_unscaled": model, "beats": int(first.sum()),
                           "source": "Lang et al. 2015 EDV index x BSA (Mosteller 1987)",
                           "model_scaled": model * k, "residual_pct": 0.0}])
    return FlowScale(k, patient.label(), table)
