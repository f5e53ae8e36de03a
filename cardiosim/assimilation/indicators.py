"""Plausibility of the derived indicators: values no living adult circulation has are flagged.

The limits are wide on purpose (they mark what cannot be true, not what is abnormal):

* EF 0.05-0.90: below 5 % no measurable ejection; the normal LV EF is 52-72 % in men and
  54-74 % in women (Lang RM et al., J Am Soc Echocardiogr 28:1-39, 2015, Table 2).
* SV 10-200 mL and CO 0.5-15 L/min at rest: outside what thermodilution records in adults
  (normal resting CO 4-8 L/min; Lang et al. 2015 give LV volumes whose difference is 45-90 mL).
* Ees 0.2-10 mmHg/mL: the single-beat end-systolic elastance of Chen CH et al., J Am Coll
  Cardiol 38:2028-2034 (2001), spans about 0.5-5 mmHg/mL across normal and failing hearts.
* Ea/Ees 0.2-4: 0.5-1.2 at rest in health and up to about 3 in systolic heart failure
  (Chantler PD, Lakatta EG, Najjar SS, J Appl Physiol 105:1342-1351, 2008).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: column -> (low, high, shown as, likely cause when out of range)
LIMITS = {
    "EF": (0.05, 0.90, "EF", "the model's heart does not match this circulation: its size or filling "
                              "is off (give --reference or --patient; check the zero of the transducer)"),
    "SV_mL": (10.0, 200.0, "SV [mL]", "no true flow scale (give --reference or --patient)"),
    "CO_L_min": (0.5, 15.0, "CO [L/min]", "no true flow scale (give --reference or --patient)"),
    "Ees_mmHg_per_mL": (0.2, 10.0, "Ees [mmHg/mL]", "no true flow scale, or a pressure offset"),
    "Ea_Ees": (0.2, 4.0, "Ea/Ees", "a pressure offset (transducer zero or level) or a heart fit at "
                                   "the edge of its bounds"),
}


def flag_implausible(beats: pd.DataFrame) -> tuple[pd.Series, list[str]]:
    """Per-beat names of the indicators out of range (";"-joined, "" if none) and warnings.

    A warning is given for an indicator whose median over the beats is out of range, with
    the range and the likely cause.
    """
    names = np.full(len(beats), "", dtype=object)
    warnings = []
    for col, (lo, hi, label, cause) in LIMITS.items():
        if col not in beats:
            continue
        v = beats[col].to_numpy(float)
        bad = np.isfinite(v) & ((v < lo) | (v > hi))
        names[bad] = [f"{n};{col}" if n else col for n in names[bad]]
        med = float(np.nanmedian(v)) if np.isfinite(v).any() else float("nan")
        if np.isfinite(med) and not lo <= med <= hi:
            warnings.append(f"{label} median {med:.3g} is outside the physiological range {lo:g}-{hi:g} "
                            f"({int(bad.sum())} of {int(np.isfinite(v).sum())} beats): likely cause: {cause}")
    return pd.Series(names, index=beats.index, name="implausible"), warnings
