"""Estimated parameters: names, transform theta = theta0 * 2**omega, priors and bounds.

The filters work on omega (log2 of the ratio to the baseline): positivity is automatic,
a prior sd of 1 in omega spans theta0/2 .. 2 theta0 at one sd, and relative changes are
symmetric. Values the user sees are in clinical units (kPa, mmHg*s/mL, mL/mmHg, mmHg).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..errors import ParameterError
from ..units import convert, parse_quantity

#: parameters the beat operator can estimate: of the model (which must have them, see
#: ``Ventricle.parameter_value``) or of the measuring-site line, and how they are shown
ESTIMABLE = {
    "sigma0": ("model", "kPa", "pressure", "contractility sigma0"),
    "sigma_max": ("model", "kPa", "pressure", "maximal active stress (simplified law)"),
    "k0": ("model", "kPa", "pressure", "maximal active stiffness k0"),
    "C0": ("model", "kPa", "pressure", "passive stiffness C0"),
    "Rd": ("model", "mmHg*s/mL", "resistance", "distal (systemic) resistance Rd"),
    "Rp": ("model", "mmHg*s/mL", "resistance", "proximal resistance Rp"),
    "Cp": ("model", "mL/mmHg", "compliance", "proximal compliance Cp"),
    "Cd": ("model", "mL/mmHg", "compliance", "distal compliance Cd"),
    "R": ("model", "mmHg*s/mL", "resistance", "peripheral resistance R"),
    "C": ("model", "mL/mmHg", "compliance", "arterial compliance C"),
    "Zc": ("model", "mmHg*s/mL", "resistance", "characteristic impedance Zc"),
    "P_venous": ("model", "mmHg", "pressure", "venous outflow pressure"),
    "P_at": ("model", "mmHg", "pressure", "filling (atrial) pressure P_at"),
    "flow_scale": ("scale", "1", "dimensionless", "flow scale k (SV, CO and volumes x k; pressures unchanged)"),
    "line_hz": ("line", "Hz", "frequency", "natural frequency of the measuring-site line"),
    "line_zeta": ("line", "1", "dimensionless", "damping ratio of the measuring-site line"),
}

SI_OF_DIM = {"pressure": "Pa", "resistance": "Pa*s/m^3", "compliance": "m^3/Pa", "frequency": "Hz",
             "dimensionless": "1"}


def clinical_unit(name: str) -> str:
    return ESTIMABLE[name][1]


def to_clinical(name: str, value_si):
    _, unit, dim, _ = ESTIMABLE[name]
    return convert(value_si, SI_OF_DIM[dim], unit)


@dataclass(frozen=True)
class Estimated:
    """One estimated parameter.

    Parameters
    ----------
    name : str
        Model parameter name (``sigma0``, ``Rd``, ``Cp``, ``P_at``, ...; see ``ESTIMABLE``).
    prior_sd : float
        Prior standard deviation of omega = log2(theta/theta0) (1.0: a factor 2 at 1 sd).
    lower, upper : float or str, optional
        Bounds in SI or as strings with units ("0.3 mmHg*s/mL"). Default theta0/8 .. 8 theta0.
    drift : float
        Random-walk standard deviation of omega per beat, for tracking changes (0: constant).
    baseline : float or str, optional
        Prior mean theta0 (default: the model's value).
    """

    name: str
    prior_sd: float = 0.5
    lower: Any = None
    upper: Any = None
    drift: float = 0.0
    baseline: Any = None


@dataclass(frozen=True)
class ParameterSet:
    """The estimated parameters with baselines theta0 [SI], priors and bounds (omega space)."""

    names: tuple[str, ...]
    theta0: np.ndarray
    prior_sd: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    drift: np.ndarray

    @property
    def p(self) -> int:
        return len(self.names)

    def theta(self, omega) -> np.ndarray:
        """theta = theta0 * 2**omega (works on arrays of shape (..., p))."""
        return self.theta0 * np.exp2(np.asarray(omega, dtype=float))

    def omega(self, theta) -> np.ndarray:
        return np.log2(np.asarray(theta, dtype=float) / self.theta0)

    @property
    def omega_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self.omega(self.lower), self.omega(self.upper)

    def clip(self, omega: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Project onto the bounds; return (omega, boolean mask of clipped entries)."""
        lo, hi = self.omega_bounds
        clipped = (omega < lo) | (omega > hi)
        return np.clip(omega, lo, hi), clipped

    def prior_cov(self) -> np.ndarray:
        return np.diag(self.prior_sd ** 2)

    def clinical(self, theta: np.ndarray) -> dict[str, float]:
        return {n: float(to_clinical(n, v)) for n, v in zip(self.names, np.asarray(theta))}

    def with_baseline(self, theta0: Sequence[float], prior_sd: Sequence[float] | None = None) -> "ParameterSet":
        theta0 = np.asarray(theta0, dtype=float)
        sd = self.prior_sd if prior_sd is None else np.asarray(prior_sd, dtype=float)
        return dataclasses.replace(self, theta0=theta0, prior_sd=sd)

    def describe(self) -> list[dict]:
        out = []
        for i, n in enumerate(self.names):
            u = clinical_unit(n)
            out.append({"name": n, "unit": u, "baseline": float(to_clinical(n, self.theta0[i])),
                        "prior_sd_log2": float(self.prior_sd[i]),
                        "lower": float(to_clinical(n, self.lower[i])),
                        "upper": float(to_clinical(n, self.upper[i])),
                        "drift_log2_per_beat": float(self.drift[i])})
        return out

    @classmethod
    def build(cls, model, spec: "str | Iterable[str | Estimated] | Mapping[str, Any]",
              prior_sd: float = 0.5, drift: float = 0.0) -> "ParameterSet":
        """Parameter set for ``model`` from names ("sigma0,Rd,Cp"), Estimated items or a dict.

        Raises :class:`ParameterError` for an unknown or unestimable name, a non-positive
        prior sd, or bounds that exclude the baseline.
        """
        if isinstance(spec, str):
            spec = [s.strip() for s in spec.split(",") if s.strip()]
        if isinstance(spec, Mapping):
            items = [v if isinstance(v, Estimated) else Estimated(k, **dict(v)) for k, v in spec.items()]
        else:
            items = [s if isinstance(s, Estimated) else Estimated(str(s), prior_sd=prior_sd, drift=drift)
                     for s in spec]
        if not items:
            raise ParameterError("no parameter to estimate; give names such as sigma0,Rd,Cp")
        names = [it.name for it in items]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ParameterError(f"parameter(s) listed twice: {sorted(dup)}")
        theta0, sd, lo, hi, dr = [], [], [], [], []
        for it in items:
            if it.name not in ESTIMABLE:
                raise ParameterError(f"cannot estimate {it.name!r}; estimable: {', '.join(ESTIMABLE)}")
            where, unit, dim, _ = ESTIMABLE[it.name]
            base = model_value(model, it.name)
            if it.baseline is not None:
                base = _si(it.baseline, dim, f"baseline of {it.name}")
            if not (math.isfinite(base) and base > 0):
                raise ParameterError(f"baseline of {it.name} must be > 0, got {base!r}")
            if not (math.isfinite(it.prior_sd) and it.prior_sd > 0):
                raise ParameterError(f"prior_sd of {it.name} must be > 0 (log2 units), got {it.prior_sd!r}")
            if not (math.isfinite(it.drift) and it.drift >= 0):
                raise ParameterError(f"drift of {it.name} must be >= 0 (log2 per beat), got {it.drift!r}")
            low = base / 8.0 if it.lower is None else _si(it.lower, dim, f"lower bound of {it.name}")
            up = base * 8.0 if it.upper is None else _si(it.upper, dim, f"upper bound of {it.name}")
            if not (0 < low < up):
                raise ParameterError(f"bounds of {it.name} must satisfy 0 < lower < upper, got "
                                     f"{to_clinical(it.name, low):.4g} .. {to_clinical(it.name, up):.4g} {unit}")
            if not (low <= base <= up):
                raise ParameterError(
                    f"bounds of {it.name} ({to_clinical(it.name, low):.4g} .. {to_clinical(it.name, up):.4g} "
                    f"{unit}) exclude its baseline {to_clinical(it.name, base):.4g} {unit}; widen the "
                    f"bounds or set a baseline inside them")
            theta0.append(base)
            sd.append(it.prior_sd)
            lo.append(low)
            hi.append(up)
            dr.append(it.drift)
        return cls(tuple(names), *(np.array(a, dtype=float) for a in (theta0, sd, lo, hi, dr)))


#: power of the flow scale k in each dimension (similarity of the model at fixed pressures)
FLOW_EXPONENT = {"resistance": -1, "compliance": 1}


def scale_parameters(ps: ParameterSet, k: float) -> ParameterSet:
    """The parameter set of the model scaled by ``k`` (resistances / k, compliances x k).

    Baselines and bounds scale together, so every omega = log2(theta / theta0) is unchanged.
    """
    f = np.array([float(k) ** FLOW_EXPONENT.get(ESTIMABLE[n][2], 0) for n in ps.names])
    return dataclasses.replace(ps, theta0=ps.theta0 * f, lower=ps.lower * f, upper=ps.upper * f)


def _si(value, dim: str, what: str) -> float:
    try:
        return float(parse_quantity(value, expected=dim))
    except Exception as exc:  # UnitError or a bad number
        raise ParameterError(f"{what}: {exc}") from None


def model_value(model, name: str) -> float:
    """Current SI value of an estimable parameter: the model's, or the line's default."""
    if ESTIMABLE[name][0] == "line":
        return {"line_hz": 6.0, "line_zeta": 0.3}[name]
    if ESTIMABLE[name][0] == "scale":
        return 1.0
    return model.parameter_value(name)


def apply(model, names: Sequence[str], theta: Sequence[float]):
    """The model with the estimated parameters set to ``theta`` [SI]."""
    model = model.with_values({n: float(v) for n, v in zip(names, theta) if ESTIMABLE[n][0] == "model"})
    k = [float(v) for n, v in zip(names, theta) if ESTIMABLE[n][0] == "scale"]
    return model.scaled(k[0]) if k else model
