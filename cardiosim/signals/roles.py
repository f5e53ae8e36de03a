"""Channel names -> roles.

Monitors and databases name the same signal many ways ("ABP", "ART", "ART1",
"SNUADC/ART", "Intellivue/ABP", "AOBP"...).  A role is what the analysis
needs to know: which channel is the arterial pressure, which the ECG.  The
mapping is by pattern on the last path component of the name, upper-cased,
with the unit as a tie-breaker; users override it with ``roles={...}``.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping

__all__ = ["ROLES", "guess_role", "assign_roles"]

#: Roles known to cardiosim and what they mean.
ROLES: dict[str, str] = {
    "ABP": "invasive arterial blood pressure waveform",
    "ECG": "electrocardiogram lead",
    "PLETH": "photoplethysmogram (pulse oximeter waveform)",
    "CVP": "central venous pressure",
    "PAP": "pulmonary artery pressure",
    "RESP": "respiration (impedance or flow)",
    "CO": "cardiac output",
    "SV": "stroke volume",
    "HR": "heart rate",
    "SBP": "systolic pressure (monitor numeric)",
    "DBP": "diastolic pressure (monitor numeric)",
    "MAP": "mean arterial pressure (monitor numeric)",
}

# Order matters: the first pattern that matches wins, so numerics derived from
# a pressure (ABP_SYS) are tested before the waveform pattern (ABP).
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (role, re.compile(p)) for role, p in (
        ("SBP", r"^(ABP|ART|AP|IBP|NIBP|ART_?MBP)?[_ ]?(SYS|SBP|SYSTOLIC)\b.*"),
        ("DBP", r"^(ABP|ART|AP|IBP|NIBP)?[_ ]?(DIA|DBP|DIASTOLIC)\b.*"),
        ("MAP", r"^((ABP|ART|AP|IBP|NIBP)[_ ]?(MEAN|MBP|MAP)|MAP|MBP|ART_MBP)\b.*"),
        ("ABP", r"^(ABP|ART|ART\d|AOBP|AO|IBP\d?|ARTERIAL.*|FAP|RAD|BP|P_?ART)$"),
        ("CVP", r"^(CVP|RAP|CVP\d)$"),
        ("PAP", r"^(PAP|PA|PAP\d)$"),
        ("ECG", r"^(ECG.*|EKG.*|I|II|III|AVR|AVL|AVF|V\d?|MCL\d?|ML(I|II|III)|LEAD.*)$"),
        ("PLETH", r"^(PLETH.*|PPG|SPO2_?WAVE|PLETH\d?)$"),
        ("RESP", r"^(RESP.*|IMP|CO2|AWP|AWF)$"),
        ("CO", r"^(CO|CCO|CO_?(TD|PC|FT))$"),
        ("SV", r"^(SV|SV_?(TD|PC|FT))$"),
        ("HR", r"^(HR|PULSE|PR)(_.*)?$"),
    )
)

_UNIT_SUFFIX = re.compile(r"[ _]*[\[(]?(mmhg|kpa|mv|nu|ohm|ml|l/min|bpm|%)[\])]?$",
                          re.IGNORECASE)


def _key(name: str) -> str:
    name = _UNIT_SUFFIX.sub("", name.strip())
    return re.split(r"[/\\]", name)[-1].strip().upper()


def guess_role(name: str, unit: str | None = None) -> str | None:
    """The role a channel name suggests, or None.

    Examples
    --------
    >>> guess_role("Intellivue/ABP"), guess_role("II"), guess_role("ABP_SYS")
    ('ABP', 'ECG', 'SBP')
    """
    key = _key(name)
    for role, pattern in _PATTERNS:
        if pattern.match(key):
            # A pressure-named channel in mV is not a pressure.
            if role in ("ABP", "CVP", "PAP") and unit and unit.strip().lower() in ("mv", "v"):
                continue
            return role
    return None


def assign_roles(names: Iterable[str], units: Mapping[str, str] | None = None,
                 overrides: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """Role of each name: the override when given, else the guess.

    Parameters
    ----------
    names : iterable of str
        Channel names of one record.
    units : mapping, optional
        Unit of each name, used to reject implausible guesses.
    overrides : mapping, optional
        ``{role: channel_name}``; that channel gets the role and no other does.

    Raises
    ------
    KeyError
        With the unknown channel name, when an override names a channel that
        is not in ``names`` (readers turn it into a :class:`RecordError`).
    ValueError
        When an override names an unknown role.
    """
    names = list(names)
    units = dict(units or {})
    out = {n: guess_role(n, units.get(n)) for n in names}
    for role, name in (overrides or {}).items():
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; known roles: {', '.join(ROLES)}")
        if name not in out:
            raise KeyError(name)
        for n in out:
            if out[n] == role:
                out[n] = None
        out[name] = role
    return out
