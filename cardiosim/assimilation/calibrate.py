"""From a monitoring record to a calibrated, tracked patient model.

Pipeline (one way): record -> arterial analysis (beats, flags) -> observations (clean beats
at fixed phases, RR) -> parameters to estimate (identifiability at the baseline) -> batch
least squares on the first minute (start point, lag, observation error) -> sequential
filter over every beat -> per-beat parameters with sd, model vs measured pressure, derived
indicators.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..signals.record import RecordError
from ..models.sphere import SphereModel
from ..units import MMHG, convert
from . import kernels as AK
from .errormodel import lag_one_correlation
from .filters import FILTERS, Track, run_filter
from .identifiability import CANDIDATES, Identifiability, analyse
from .lsq import LsqResult, fit_periodic
from .observations import BeatObservations, ObservationError, flow_observations, from_record, require_observed
from .operator import BeatOperator
from .parameters import (ESTIMABLE, FLOW_EXPONENT, Estimated, ParameterSet, apply, clinical_unit,
                         scale_parameters, to_clinical)
from .indicators import flag_implausible
from .patient import Patient, size_scale
from .reanalysis import BeatFit, reanalyse
from .reference import FlowScale, Reference, flow_scale, parse_reference, resolve

METHODS = ("roukf", "ukf", "enkf", "lsq")
#: beat-table columns whose value depends on the flow scale (volumes, flows, work, elastances):
#: written only when the calibration has one; EF, Ea/Ees and efficiency are scale-free
ABSOLUTE_COLUMNS = ("EDV_mL", "ESV_mL", "SV_mL", "CO_L_min", "SV_beat_mL", "stroke_work_J",
                    "Ea_mmHg_per_mL", "Ees_mmHg_per_mL")


@dataclass(frozen=True)
class CalibrationSettings:
    """Choices of a calibration (all have defaults; units in the names).

    ``estimate`` None lets the identifiability analysis choose the parameters;
    ``sigma_mmhg`` None estimates the observation error from the first-fit residuals;
    ``corrected`` None lets the filters correct the model's default state entries (the
    circulation's node pressures, ``Ventricle.corrected_states``). ``reference``: one-point
    SV/CO references as text (``"CO=4.6@120"``, ``"first"``; see :func:`calibrate`);
    ``observe``: "ABP" plus "CO"/"SV" to observe the record's numerics in the filter.
    ``align_foot``: observe each beat relative to the model's own foot instead of a fixed lag
    (the pre-ejection time moves with contractility and afterload). ``obs_correlation``: the
    pressure points' lag-one correlation between phases, measured on the first-fit
    residuals, counted in the filter (fewer independent points per beat).
    ``adaptive_q_beats``/``adaptive_r_beats``: windows (observed beats) of the model-error
    and observation-error covariances matched to the innovations; 0 holds them fixed (the
    drift and the first-fit error). Together they make the bands hold the truth in twins with
    model error (docs/verification.md, bands).
    """

    method: str = "roukf"
    estimate: tuple | None = None
    n_obs: int = 32
    sigma_mmhg: float | None = None
    prior_sd_log2: float = 0.25
    drift_log2_per_beat: float = 0.01
    fit_beats: int = 120
    burn_in_beats: int = 20
    min_observed: int = 20
    members: int = 32
    seed: int = 0
    corrected: tuple | None = None
    dt_s: float = 1e-3
    line: bool = True
    reference: tuple = ()
    observe: tuple = ("ABP",)
    flow_sd_pct: float = 10.0
    flow_scale_sd_log2: float = 0.5
    flow_scale_drift_log2_per_beat: float = 0.002
    beat_fit: bool = True
    align_foot: bool = True
    obs_correlation: bool = True
    adaptive_q_beats: int = 30
    adaptive_r_beats: int = 30

    def __post_init__(self):
        if self.method not in METHODS:
            raise ParameterError(f"method must be one of {METHODS}, got {self.method!r}")
        for name in ("prior_sd_log2",):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ParameterError(f"{name} must be > 0, got {v!r}")
        if not (math.isfinite(self.drift_log2_per_beat) and self.drift_log2_per_beat >= 0):
            raise ParameterError(f"drift_log2_per_beat must be >= 0, got {self.drift_log2_per_beat!r}")
        if self.sigma_mmhg is not None and not (math.isfinite(self.sigma_mmhg) and self.sigma_mmhg > 0):
            raise ParameterError(f"sigma_mmhg must be > 0 mmHg, got {self.sigma_mmhg!r}")
        if self.method == "enkf" and self.members < 8:
            raise ParameterError(f"members must be >= 8 for the ensemble filter, got {self.members}")
        for name in ("adaptive_q_beats", "adaptive_r_beats"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise ParameterError(f"{name} must be a whole number of beats >= 0 (0: fixed), got {v!r}")
        if self.fit_beats < 5:
            raise ParameterError(f"fit_beats must be >= 5, got {self.fit_beats}")
        refs = (self.reference,) if isinstance(self.reference, str) else tuple(self.reference)
        object.__setattr__(self, "reference", refs)
        for r in self.reference:
            if isinstance(r, str):
                parse_reference(r)   # a malformed or out-of-range value fails here, before any work
        obs = tuple(s.strip().upper() for s in (self.observe.split(",") if isinstance(self.observe, str)
                                                else self.observe) if s.strip())
        object.__setattr__(self, "observe", obs)
        unknown = [o for o in obs if o not in ("ABP", "CO", "SV", "FLOW")]
        if unknown or "ABP" not in obs:
            raise ParameterError(f"observe must name ABP and optionally CO, SV, FLOW (e.g. ABP,CO), got "
                                 f"{','.join(obs) or 'nothing'}")
        if not (math.isfinite(self.flow_sd_pct) and self.flow_sd_pct > 0):
            raise ParameterError(f"flow_sd_pct must be > 0 %, got {self.flow_sd_pct!r}")
        if self.method == "lsq" and len(obs) > 1:
            raise ParameterError("flow observations (observe CO/SV) need a sequential filter, not lsq")


@dataclass
class Calibration:
    """Result of :func:`calibrate`: per-beat table, first fit, filter track, provenance."""

    source: str
    settings: CalibrationSettings
    parameters: ParameterSet
    observations: BeatObservations
    lsq: LsqResult
    track: Track | None
    identifiability: Identifiability | None
    sigma_pa: float
    espvr: dict
    beats: pd.DataFrame
    analysis: Any = None
    warnings: list = field(default_factory=list)
    model: SphereModel | None = None
    line: tuple | None = None
    scale: FlowScale | None = None
    patient: Patient | None = None
    respiratory: pd.DataFrame | None = None
    obs_rho: float = 0.0

    @property
    def scale_text(self) -> str:
        """Where the SV and CO scale came from, as the summary and the figures say it."""
        if self.scale is not None:
            return f"scale: {self.scale.source}; flow scale k = {self.scale.k:.3f}"
        return ("scale: none - SV and CO come from the default adult heart (Caruel 2014 sphere), "
                "not from this patient: read them, and the resistances and compliances, as relative "
                "(give --reference or --patient for a true scale)")

    # -- figures the user reads ---------------------------------------------------------
    def rmse_mmhg(self) -> dict:
        """Per-beat RMSE model vs measured on observed beats after burn-in (mmHg)."""
        b = self.beats
        sel = b["observed"] & (b["beat"] >= self.settings.burn_in_beats)
        r = b.loc[sel, "rmse_mmHg"].to_numpy()
        if r.size == 0:
            return {"beats": 0, "median": float("nan"), "mean": float("nan"), "p95": float("nan")}
        return {"beats": int(r.size), "median": float(np.median(r)), "mean": float(np.mean(r)),
                "p95": float(np.percentile(r, 95))}

    def final(self) -> dict[str, dict]:
        """Last estimate of each parameter: value, sd, 95 % band (clinical units)."""
        last = self.beats.iloc[-1]
        out = {}
        for n in self.parameters.names:
            u = clinical_unit(n)
            out[n] = {"unit": u, "value": float(last[f"{n}"]), "sd": float(last[f"{n}_sd"]),
                      "lo95": float(last[f"{n}_lo"]), "hi95": float(last[f"{n}_hi"])}
        return out

    def skipped(self) -> pd.DataFrame:
        return self.observations.skipped()

    def correlation(self, beat: int = -1) -> pd.DataFrame | None:
        """Posterior correlation of the estimated parameters at a beat (default: the last)."""
        if self.track is None:
            return None
        C = self.track.cov[beat]
        sd = np.sqrt(np.maximum(np.diag(C), 1e-300))
        names = list(self.parameters.names)
        return pd.DataFrame(C / np.outer(sd, sd), index=names, columns=names)

    def correlated_pairs(self, threshold: float = 0.8, beat: int = -1) -> list[tuple[str, str, float]]:
        """Pairs of estimated parameters whose posterior correlation exceeds ``threshold`` in size."""
        corr = self.correlation(beat)
        if corr is None or len(corr) < 2:
            return []
        c = corr.to_numpy()
        n = list(corr.index)
        return [(n[i], n[j], float(c[i, j])) for i in range(len(n)) for j in range(i + 1, len(n))
                if abs(c[i, j]) > threshold]

    def ridges(self, threshold: float = 0.8, beat: int = -1) -> list[dict]:
        """The combination the pressure determines for each pair of :meth:`correlated_pairs`.

        Along a ridge two parameters trade off; the combination theta_a^alpha theta_b^beta with
        (alpha, beta) the covariance's eigenvector of least variance in omega = log2 theta
        (alpha^2 + beta^2 = 1) is the one the data fix best. Returns per pair: ``a``, ``b``,
        ``r``, ``alpha``, ``beta``, and the 95 % half-widths [%] of the combination and of each
        parameter alone (``pm_pct``, ``pm_a_pct``, ``pm_b_pct``).
        """
        out = []
        names = list(self.parameters.names)
        C = self.track.cov[beat] if self.track is not None else None
        for a, b, r in self.correlated_pairs(threshold, beat):
            i, j = names.index(a), names.index(b)
            P = C[np.ix_([i, j], [i, j])]
            w, V = np.linalg.eigh(0.5 * (P + P.T))
            v = V[:, 0] * (1.0 if V[0, 0] >= 0 else -1.0)

            def pm(var):
                return 100.0 * (2.0 ** (1.96 * math.sqrt(max(var, 0.0))) - 1.0)

            out.append({"a": a, "b": b, "r": r, "alpha": float(v[0]), "beta": float(v[1]),
                        "pm_pct": pm(w[0]), "pm_a_pct": pm(P[0, 0]), "pm_b_pct": pm(P[1, 1])})
        return out

    def waveforms(self) -> pd.DataFrame:
        """Measured and model (forecast) pressure at the observation phases of every observed beat."""
        obs, tr = self.observations, self.track
        k = np.flatnonzero(obs.observed[:tr.n])
        n_obs = obs.n_obs
        phases = (np.arange(n_obs) + 0.5) / n_obs
        return pd.DataFrame({
            "beat": np.repeat(k, n_obs),
            "t_s": (obs.t_s[k, None] + phases[None, :] * obs.rr_s[k, None]).ravel(),
            "measured_mmHg": (obs.z_pa[k] / MMHG).ravel(),
            "model_mmHg": (tr.z_pred[k] / MMHG).ravel(),
        })

    def variation(self, record=None, window_s: float = 30.0) -> pd.DataFrame:
        """PPV (measured) and the model's SVV [%] per window of ``window_s``, per respiratory cycle.

        The cycle is that of the record's respiration channel (role RESP) when ``record`` has
        one, otherwise the modulation of the measured pulse pressure (Michard et al. 2000).
        """
        from ..signals.variation import cycle_variation, respiratory_period, windowed

        a = self.analysis.beats
        clean = a[a["clean"]]
        t_pp, pp = clean["peak_s"].to_numpy(float), clean["pp_mmHg"].to_numpy(float)
        resp = record.find("RESP") if record is not None else None
        if resp is not None:
            period, source = respiratory_period(resp.times_s, np.asarray(resp.values, float)), f"channel {resp.name}"
        else:
            period, source = respiratory_period(t_pp, pp), "pulse-pressure modulation"
        b = self.beats[self.beats["observed"]]
        t0, t1 = float(t_pp[0]), float(t_pp[-1])
        ppv = windowed(cycle_variation(t_pp, pp, period), window_s, t0, t1)
        sv = b["SV_beat_mL"] if "SV_beat_mL" in b else b["SV_mL"]
        svv = windowed(cycle_variation(b["t_s"].to_numpy(float), sv.to_numpy(float), period),
                       window_s, t0, t1)
        return pd.DataFrame({"start_s": ppv.start_s, "end_s": ppv.end_s, "cycles": ppv.cycles,
                             "PPV_pct": ppv.variation_pct, "SVV_pct": svv.variation_pct,
                             "resp_period_s": period, "period_from": source})

    def summary_text(self) -> str:
        obs = self.observations
        lines = [f"calibration of {self.source}: method {self.settings.method}, "
                 f"{obs.n} beats ({int(obs.observed.sum())} observed, {obs.n - int(obs.observed.sum())} skipped)"]
        sk = self.skipped()
        for r in sk.itertuples():
            lines.append(f"  skipped {r.beats:5d}  {r.reason}")
        if self.line is not None:
            lines.append(f"measuring-site line: {self.line[0]:.2f} Hz, damping {self.line[1]:.2f}")
        lines.append(self.scale_text)
        if self.scale is not None and len(self.scale.table) > 1 and "residual_pct" in self.scale.table:
            for r in self.scale.table.itertuples():
                lines.append(f"  reference {r.kind} {r.reference:g} {r.unit} at {r.t_s:g} s: model "
                             f"{r.model_scaled:.3g} ({r.residual_pct:+.1f} %)")
        lines.append(f"observation error {self.sigma_pa / MMHG:.2f} mmHg per point; lag {obs.lag_s * 1e3:.0f} ms; "
                     f"first fit RMSE {self.lsq.rmse_pa / MMHG:.2f} mmHg on the mean beat")
        if "obs_sd_mmHg" in self.beats and self.settings.adaptive_r_beats > 0:
            lines.append(f"  matched to the innovations: median {np.nanmedian(self.beats['obs_sd_mmHg']):.2f} mmHg "
                         f"per point; lag-one correlation between points {self.obs_rho:.2f} (a beat counts as "
                         f"{obs.n_obs * (1 - self.obs_rho) / (1 + self.obs_rho):.1f} independent points)")
        r = self.rmse_mmhg()
        lines.append(f"per-beat RMSE model vs measured after {self.settings.burn_in_beats} beats: "
                     f"median {r['median']:.2f}, mean {r['mean']:.2f}, p95 {r['p95']:.2f} mmHg ({r['beats']} beats)")
        lines.append("estimates at the last beat (95 % band):")
        for n, v in self.final().items():
            lines.append(f"  {n:8s} {v['value']:10.4g} {v['unit']:10s} [{v['lo95']:.4g} - {v['hi95']:.4g}]")
        for g in self.ridges():
            a, b_, r = g["a"], g["b"], g["r"]
            lines.append(f"posterior correlation {a}-{b_} {r:+.2f}: the pressure fixes a combination of the "
                         f"two better than each ({'one rises as the other falls' if r < 0 else 'they move together'}"
                         f" along a ridge); their bands are not independent, read them together: "
                         f"{a}^{g['alpha']:.2f} x {b_}^{g['beta']:+.2f} is known to +-{g['pm_pct']:.2g} % "
                         f"(95 %), {a} alone to +-{g['pm_a_pct']:.2g} %, {b_} to +-{g['pm_b_pct']:.2g} %")
        b = self.beats
        cols = ((("SV_mL", "mL"), ("CO_L_min", "L/min")) if self.scale is not None else
                (("SV_rel", "of the first minute"), ("CO_rel", "of the first minute")))
        for col, unit in (*cols, ("EF", ""), ("Ea_Ees", "")):
            if col in b:
                lines.append(f"  {col:8s} median {np.nanmedian(b[col]):.3g} {unit}")
        if self.respiratory is not None and self.respiratory["cycles"].sum() > 0:
            v = self.respiratory
            lines.append(f"  PPV      median {np.nanmedian(v.PPV_pct):.3g} %, model SVV median "
                         f"{np.nanmedian(v.SVV_pct):.3g} % (respiratory period {v.resp_period_s.iloc[0]:.2g} s "
                         f"from the {v.period_from.iloc[0]})")
        for w in self.warnings:
            lines.append(f"warning: {w}")
        return "\n".join(lines)

    def describe(self) -> dict:
        return {
            "source": self.source,
            "settings": dataclasses.asdict(self.settings),
            "parameters": self.parameters.describe(),
            "observation_error_mmHg": self.sigma_pa / MMHG,
            "observation_error_lag_one_correlation": self.obs_rho,
            "observation_error_median_mmHg": (float(np.nanmedian(self.beats["obs_sd_mmHg"]))
                                              if "obs_sd_mmHg" in self.beats else None),
            "lag_s": self.observations.lag_s,
            "first_fit": {"method": "bounded least squares on the periodic beat",
                          "rmse_mmHg": self.lsq.rmse_pa / MMHG, "nfev": self.lsq.nfev,
                          "success": self.lsq.success, "message": self.lsq.message,
                          "estimate": self.parameters.clinical(self.parameters.theta(self.lsq.omega))},
            "identifiability": None if self.identifiability is None else {
                "selected": list(self.identifiability.selected),
                "collinearity_index": self.identifiability.collinearity,
                "table": self.identifiability.table.to_dict(orient="records")},
            "espvr": self.espvr,
            "patient": None if self.patient is None else {**dataclasses.asdict(self.patient),
                                                           "bsa_m2": self.patient.bsa_m2},
            "scale": {"text": self.scale_text,
                      **({"k": None, "source": "none"} if self.scale is None else self.scale.describe())},
            "measuring_site_line": None if self.line is None else {
                "natural_frequency_Hz": self.line[0], "damping_ratio": self.line[1],
                "meaning": "second-order transfer from the model's arterial pressure to the "
                           "measured one, fitted in the first fit and then held"},
            "skipped": self.skipped().to_dict(orient="records"),
            "rmse_mmHg": self.rmse_mmhg(),
            "final": self.final(),
            "posterior_correlation_last_beat": None if self.track is None else self.correlation().to_dict(),
            "ridges_last_beat": None if self.track is None else self.ridges(),
            "warnings": self.warnings,
            "model": None if self.model is None else self.model.describe(),
        }

    def table(self) -> pd.DataFrame:
        """The per-beat table as it is written to ``calibration.csv``.

        Without a flow scale the volumes, flows and elastances of the default adult heart
        (:data:`ABSOLUTE_COLUMNS`) are left out: SV and CO are given relative to the first
        minute (``SV_rel``, ``CO_rel``, ``SV_beat_rel``), never in mL or L/min. The estimated
        resistances and compliances stay (their band is what the filter estimated), and are
        as relative as SV: the summary says so.
        """
        if self.scale is not None:
            return self.beats
        absolute = [c for c in self.beats if c in ABSOLUTE_COLUMNS
                    or c.removesuffix("_lo").removesuffix("_hi") in ABSOLUTE_COLUMNS]
        return self.beats.drop(columns=absolute)

    def write(self, out_dir, command: str = "cardiosim calibrate", truth: pd.DataFrame | None = None) -> dict:
        """Write calibration.csv, waveforms.csv, run.json, trends.png and overlay.png atomically.

        ``truth`` (a twin's per-beat truth, :func:`~.synthetic.patient`) is drawn dashed in
        ``trends.png``.
        """
        from .. import io
        from . import figures

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        io.write_csv(out / "calibration.csv", self.table())
        io.write_csv(out / "waveforms.csv", self.waveforms())
        if self.respiratory is not None:
            io.write_csv(out / "variation.csv", self.respiratory)
        meta = io.provenance(command, self.describe(), seed=self.settings.seed)
        io.write_json(out / "run.json", meta)
        io.write_figure(out / "trends.png", figures.trends(self, truth))
        io.write_figure(out / "overlay.png", figures.overlay(self))
        return meta


# ---------------------------------------------------------------------------------------
def calibrate(record, settings: CalibrationSettings | None = None, *, model: SphereModel | None = None,
              analysis=None, progress: bool | Callable[[int], None] = False,
              reference: "Reference | str | list | tuple | None" = None,
              patient: "Patient | str | None" = None, **overrides) -> Calibration:
    """Calibrate and track the 0D model on a record's arterial pressure.

    Parameters
    ----------
    record : MonitoringRecord or path
        A record with an arterial-pressure channel (see :func:`cardiosim.signals.read_record`).
    settings : CalibrationSettings, optional
        Overridden by keyword arguments of the same names (``method="ukf"``, ...).
    model : SphereModel, optional
        Baseline model and prior mean (default: Caruel 2014).
    analysis : ArterialAnalysis, optional
        Reuse an analysis of the record.
    progress : bool or callable
        Show a tqdm bar, or call ``progress(beats_done)``.
    reference : Reference, str or sequence of them, optional
        Reference SV or CO (``"CO=4.6@120"``: L/min at 120 s; ``"SV=70@0"``; ``"first"``: the
        first value of the record's CO or SV numeric). It fixes the flow scale that the
        pressure cannot see (:mod:`.reference`), which is then held over the record.
    patient : Patient or str, optional
        Patient size (``"age=62,sex=F,height=165,weight=70"``); default: age and sex from the
        record's header where it gives them. Without a reference, height and weight set the
        flow scale from the expected heart size (:mod:`.patient`).
    """
    from ..signals import analyse_arterial, read_record

    known = [f.name for f in dataclasses.fields(CalibrationSettings)]
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        raise ParameterError(f"unknown calibration setting(s) {', '.join(unknown)}; settings are: "
                             f"{', '.join(known)}")
    settings = dataclasses.replace(settings or CalibrationSettings(), **overrides)
    if isinstance(settings.estimate, str):
        settings = dataclasses.replace(settings, estimate=tuple(
            s.strip() for s in settings.estimate.split(",") if s.strip()))
    if not hasattr(record, "channels"):
        record = read_record(record)
    if reference is None:
        reference = ()
    elif isinstance(reference, (str, Reference)):
        reference = (reference,)
    refs = resolve(tuple(settings.reference) + tuple(reference), record)
    if isinstance(patient, str):
        patient = Patient.parse(patient)
    patient = patient or Patient.from_record(record)
    analysis = analysis or analyse_arterial(record)
    model = model or SphereModel()
    model = dataclasses.replace(model, dt=settings.dt_s)
    clean = analysis.clean
    if len(clean) < settings.min_observed:
        flagged = "; ".join(f"{r.flag}: {r.beats}" for r in analysis.exclusions().itertuples()
                            if getattr(r, "flag", "") != "clean")
        rr = float(np.nanmedian(analysis.beats["rr_s"])) if len(analysis.beats) else float("nan")
        span = f", about {settings.min_observed * rr:.0f} s at this heart rate" if math.isfinite(rr) else ""
        raise ObservationError(
            f"{record.source}: only {len(clean)} clean arterial beats of {len(analysis.beats)} "
            f"(need >= {settings.min_observed}); "
            + (f"flagged beats by flag (a beat may carry several): {flagged}" if flagged else
               "no beat is flagged: the recording is too short")
            + f". Give a longer or cleaner recording (>= {settings.min_observed} clean beats{span}); "
            f"inspect the line with `cardiosim inspect`.")
    T_med = float(np.median(clean["rr_s"]))
    # 1. which parameters
    ident = None
    if settings.estimate is None:
        ident = analyse(model, CANDIDATES, T=T_med, n_obs=settings.n_obs)
        names = ident.selected
    else:
        names = settings.estimate
    names = [n for n in names if not n.startswith("line_")]
    ps = ParameterSet.build(model, names, prior_sd=settings.prior_sd_log2,
                            drift=settings.drift_log2_per_beat)
    # 2. first fit on the ensemble-averaged beat, with the lag and the measuring-site line
    fit_names = names + (["line_hz", "line_zeta"] if settings.line else [])
    ps_fit = ParameterSet.build(model, fit_names, prior_sd=max(settings.prior_sd_log2, 1.0))
    op_fit = BeatOperator(model, ps_fit, n_obs=settings.n_obs)
    lag0 = model_foot_s(BeatOperator(model, ps, n_obs=settings.n_obs), T_med)
    target = EnsembleBeat(record, analysis, T_med, op_fit.phases, settings.fit_beats)
    res_fit = fit_periodic(op_fit, T_med, target, sd_mean_pa=max(target.sd_mean_pa, 0.1 * MMHG),
                           lag0=lag0, fit_lag=True)
    line = None
    if settings.line:
        th = ps_fit.theta(res_fit.omega)
        line = (float(th[-2]), float(th[-1]))
    p = ps.p
    res = dataclasses.replace(res_fit, omega=res_fit.omega[:p], cov=res_fit.cov[:p, :p])
    op = BeatOperator(model, ps, n_obs=settings.n_obs, line=line)
    omega0 = res.omega
    # 3. observations with the fitted lag, and their error
    obs = from_record(record, analysis, n_obs=settings.n_obs, lag_s=res.lag_s)
    require_observed(obs, settings.min_observed)
    if settings.sigma_mmhg is not None:
        sigma = settings.sigma_mmhg * MMHG
    else:
        idx = np.flatnonzero(obs.observed)[:settings.fit_beats]
        resid = obs.z_pa[idx] - res.z_model[None, :]
        sigma = max(float(np.sqrt(np.mean(resid ** 2))), obs.noise_pa if math.isfinite(obs.noise_pa) else 0.0,
                    0.5 * MMHG)
    rho = 0.0
    if settings.obs_correlation:
        # lag-one correlation of the first-fit residuals between phases, pooled over beats
        idx = np.flatnonzero(obs.observed)[:settings.fit_beats]
        rho = lag_one_correlation(obs.z_pa[idx] - res.z_model[None, :])
    espvr = espvr_at(op, omega0, T_med, res.x_periodic)
    # flow observations: the scale k becomes a filter parameter, started from the first one
    flow_kinds = [o for o in settings.observe if o != "ABP"]
    flows, flow_table = ({}, None)
    if flow_kinds:
        flows, flow_table = flow_observations(record, obs, flow_kinds, settings.flow_sd_pct, refs)
        if not flows:
            raise ObservationError(f"{record.source}: no {'/'.join(flow_kinds)} value falls within a beat")
        first = flows[min(flows)]
        _, S0 = op.forecast(res.x_periodic[None].copy(), res.omega[None], T_med)
        sv0 = float(S0[0, AK.B_VMAX] - S0[0, AK.B_VMIN])
        v0 = first.values[0] * (T_med if first.kinds[0] == "CO" else 1.0)
        items = [Estimated(n, prior_sd=settings.prior_sd_log2, drift=settings.drift_log2_per_beat) for n in names]
        items.append(Estimated("flow_scale", prior_sd=settings.flow_scale_sd_log2,
                               drift=settings.flow_scale_drift_log2_per_beat, baseline=v0 / sv0))
        ps = ParameterSet.build(model, items)
        op = BeatOperator(model, ps, n_obs=settings.n_obs, line=line)
        omega0 = np.concatenate([res.omega, [0.0]])
    if settings.align_foot:
        # observe each beat relative to the model's own foot: the pre-ejection time moves with
        # contractility and afterload, and the data are cut at their measured foot
        Xp = res.x_periodic[None].copy()
        op.forecast(Xp, omega0[None], T_med)
        op.foot_ref = float(op.last_foot[0])
    # 4. the filter
    x0 = res.x_periodic
    cal_warn: list[str] = []
    bar = None
    cb = progress if callable(progress) else None
    if progress is True:
        from tqdm.auto import tqdm
        bar = tqdm(total=obs.n, unit="beat", desc=f"{settings.method} {Path(str(record.source)).name}")
        cb = lambda k, _b=bar: _b.update(k - _b.n)  # noqa: E731
    track = None
    try:
        if settings.method == "lsq":
            track = _lsq_track(op, res, obs)
        else:
            cls = FILTERS[settings.method]
            kw = {"members": settings.members} if settings.method == "enkf" else {}
            flt = cls(op, x0, omega0, np.diag(ps.prior_sd ** 2), sigma,
                      corrected=settings.corrected, seed=settings.seed, obs_rho=rho,
                      adaptive_q_beats=settings.adaptive_q_beats,
                      adaptive_r_beats=settings.adaptive_r_beats, **kw)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                track = run_filter(flt, obs.rr_s, obs.z_pa, obs.observed, progress=cb, flows=flows)
            cal_warn += [str(w.message) for w in caught]
    finally:
        if bar is not None:
            bar.close()
    if np.any(track.clipped):
        cal_warn.append(f"a parameter reached its bound on {int(track.clipped.sum())} beats; the "
                        f"estimate there is the bound (widen the bounds if this is physiological)")
    # each observed beat re-fitted to its own pressure: the model's beat-to-beat SV (its SVV)
    fit = None
    if settings.beat_fit:
        # the re-fit reads each beat on the fixed lag: a stronger beat also opens earlier, and
        # that timing is part of what tells one beat's strength from the next one's
        op_fixed = copy.copy(op)
        op_fixed.foot_ref = None
        fit = reanalyse(op_fixed, track.omega, track.x, obs.z_pa, obs.rr_s, obs.observed, sigma,
                        start=(x0, omega0))
    if fit is not None and fit.failed:
        cal_warn.append(f"the beat-by-beat re-fit did not solve on {len(fit.failed)} beats (first: beat "
                        f"{fit.failed[0]}); SV_beat_mL is empty there")
    beats = beat_table(ps, obs, track, analysis, espvr, fit)
    scale = None
    if flows:
        k_last = float(beats["flow_scale"].iloc[-1])
        used = ", ".join(f"{n} {kind}" for kind, n in flow_table.kind.value_counts().items())
        scale = FlowScale(k_last, f"flow observations in the filter ({used}, sd {settings.flow_sd_pct:g} %)",
                          flow_table)
        model = model.scaled(k_last)
        espvr = _scaled_espvr(espvr, k_last)
    elif refs:
        # the pressure cannot see k: fit it to the references, then scale everything exactly
        scale = flow_scale(refs, beats["t_s"].to_numpy(), beats["SV_mL"].to_numpy(), beats["rr_s"].to_numpy(),
                           beats["observed"].to_numpy())
    elif patient is not None and patient.bsa_m2 is not None:
        scale = size_scale(patient, beats["t_s"].to_numpy(), beats["EDV_mL"].to_numpy(),
                           beats["observed"].to_numpy())
    if scale is not None and not flows:
        k = scale.k
        model = model.scaled(k)
        ps = scale_parameters(ps, k)
        track = dataclasses.replace(
            track, summary=track.summary * k ** AK.SUMMARY_FLOW_EXPONENT, x=_scale_state(model, track.x, k),
            summary_members=None if track.summary_members is None
            else track.summary_members * k ** AK.SUMMARY_FLOW_EXPONENT)
        res = dataclasses.replace(res, x_periodic=_scale_state(model, res.x_periodic, k))
        espvr = _scaled_espvr(espvr, k)
        fit = fit.scaled(k) if fit is not None else None
        beats = beat_table(ps, obs, track, analysis, espvr, fit)
    beats["scale"] = (("flow observations" if flows else "reference" if refs else "patient size")
                      if scale is not None else "none: relative")
    # trends that need no scale: SV and CO relative to their median over the first minute
    first = beats["observed"] & (beats["t_s"] <= beats["t_s"].iloc[0] + 60.0)
    for col, rel in (("SV_mL", "SV_rel"), ("CO_L_min", "CO_rel")):
        ref = float(np.nanmedian(beats.loc[first, col])) if first.any() else float("nan")
        ok = math.isfinite(ref) and ref > 0
        beats[rel] = beats[col] / ref if ok else np.nan
        if col == "SV_mL" and "SV_beat_mL" in beats:
            beats["SV_beat_rel"] = beats["SV_beat_mL"] / ref if ok else np.nan
    beats["implausible"], implausible = flag_implausible(beats)
    cal_warn += implausible
    cal = Calibration(str(record.source), settings, ps, obs, res, track, ident, sigma, espvr, beats,
                      analysis, cal_warn, model, line, scale, patient, obs_rho=rho)
    try:
        cal.respiratory = cal.variation(record)
    except RecordError as exc:
        cal.warnings.append(f"no PPV/SVV: {exc}")
    return cal



def _scaled_espvr(espvr: dict, k: float) -> dict:
    """The ESPVR of the model scaled by k: elastance / k, dead volume x k."""
    return dict(espvr, Ees_mmHg_per_mL=espvr["Ees_mmHg_per_mL"] / k, V_d_mL=espvr["V_d_mL"] * k)


def _scale_state(model: SphereModel, X: np.ndarray, k: float) -> np.ndarray:
    """Model states scaled by k; the entries the operator appends (the line) do not change."""
    n = len(model.state_names)
    out = np.array(X, dtype=float)
    out[..., :n] = model.scale_state(out[..., :n], k)
    return out


class EnsembleBeat:
    """Mean measured beat at the observation phases, as a function of the lag [s].

    Clean beats of the first ``count`` whose RR is within 10 % of the median are averaged
    on a common time axis relative to their foot.
    """

    def __init__(self, record, analysis, T: float, phases: np.ndarray, count: int = 60):
        ch = record.channel(analysis.channel)
        b = analysis.clean
        b = b[np.abs(b["rr_s"] - T) < 0.1 * T].head(count)
        if len(b) < 3:
            b = analysis.clean.head(count)
        fs = ch.fs_hz
        self.grid = np.arange(-0.6, T + 1e-9, 1.0 / fs)
        v = np.asarray(ch.values, float)
        rows = []
        for t0 in np.where(np.isfinite(b["foot_s"]), b["foot_s"], b["onset_s"]):
            pos = (t0 + self.grid - ch.t0_s) * fs
            if pos[0] < 0 or pos[-1] + 1 >= v.size:
                continue
            i0 = np.floor(pos).astype(int)
            w = pos - i0
            seg = (1 - w) * v[i0] + w * v[i0 + 1]
            if np.all(np.isfinite(seg)):
                rows.append(seg)
        if not rows:
            raise ObservationError(f"{record.source}: no clean beat to average for the first fit")
        R = np.array(rows)
        self.mean = R.mean(axis=0)
        self.n = len(rows)
        self.sd_mean_pa = float(np.sqrt(np.mean(R.var(axis=0)) / self.n))
        self.T = T
        self.phases = phases

    def __call__(self, lag: float) -> np.ndarray:
        return np.interp(-lag + self.phases * self.T, self.grid, self.mean)


def model_foot_s(op: BeatOperator, T: float) -> float:
    """Time from activation to the arterial pressure minimum in the periodic baseline beat."""
    fine = BeatOperator(op.model, op.parameters, n_obs=400)
    _, Z, _ = fine.periodic(np.zeros((1, op.parameters.p)), T, beats=40)
    z = Z[0]
    k = int(np.argmax(z))
    return float(fine.phases[int(np.argmin(z[: k + 1]))] * T)


def espvr_at(op: BeatOperator, omega: np.ndarray, T: float, x0: np.ndarray) -> dict:
    """End-systolic elastance and dead volume from two preloads (+-20 % filling pressure)."""
    model = apply(op.model, op.parameters.names, op.parameters.theta(omega))
    pts = []
    for f in (0.8, 1.2):
        m = model.with_values({"P_at": model.parameter_value("P_at") * f})
        o = BeatOperator(m, ParameterSet.build(m, ["sigma0"]), n_obs=8)
        _, _, S = o.periodic(np.zeros((1, 1)), T, beats=40)
        pts.append((S[0, AK.B_VMIN], S[0, AK.B_PES]))
    (v1, p1), (v2, p2) = pts
    ees = (p2 - p1) / (v2 - v1) if v2 != v1 else float("nan")
    vd = v1 - p1 / ees if ees and math.isfinite(ees) else float("nan")
    return {"Ees_mmHg_per_mL": ees / MMHG * 1e-6, "V_d_mL": vd * 1e6,
            "method": "two periodic beats at 0.8 and 1.2 x the fitted filling pressure"}


def _lsq_track(op: BeatOperator, res: LsqResult, obs: BeatObservations) -> Track:
    """The batch fit as a constant 'track': the fitted model run over the recorded RR."""
    n = obs.n
    X = res.x_periodic[None, :].copy()
    Z = np.full((n, op.n_obs), np.nan)
    S = np.full((n, AK.N_SUMMARY), np.nan)
    xs = np.full((n, X.shape[1]), np.nan)
    arrays = op.members(res.omega[None])
    for k in range(n):
        z, s = op.forecast(X, res.omega[None], obs.rr_s[k], arrays=arrays)
        Z[k], S[k], xs[k] = z[0], s[0], X[0]
    nis = np.full(n, np.nan)
    return Track("lsq", op.parameters.names, np.repeat(res.omega[None], n, 0),
                 np.repeat(res.cov[None], n, 0), Z, nis, S, xs, np.zeros(n, bool))


def _indicators(S: np.ndarray, rr_s, vd) -> dict:
    """The beat table's indicators from summaries S (..., N_SUMMARY) [SI in, clinical out]."""
    edv, esv, pes = S[..., AK.B_VMAX], S[..., AK.B_VMIN], S[..., AK.B_PES]
    sv = edv - esv
    ea = pes / MMHG / (sv * 1e6)
    ees = pes / (esv - vd) / MMHG * 1e-6
    return {"SV_mL": sv * 1e6, "CO_L_min": convert(sv / rr_s, "m^3/s", "L/min"), "EF": sv / edv,
            "Ea_mmHg_per_mL": ea, "Ees_mmHg_per_mL": ees, "Ea_Ees": ea / ees,
            "model_MAP_mmHg": S[..., AK.B_PMEAN] / MMHG}


def indicator_bands(members: np.ndarray, weights, rr_s: np.ndarray, vd, table: dict):
    """95 % bands (value +- 1.96 sd) of the indicators of :func:`_indicators` per beat.

    ``members`` (n, m, N_SUMMARY) are the filter's per-member forecasts of each beat and
    ``weights`` their (mean, covariance) weights: the sd is the members' weighted spread of
    each indicator (the sigma points' or the ensemble's), centred on the table's value, for
    the indicators ``table`` holds.
    """
    wm, wc = (np.asarray(w, float) for w in weights)
    rr = np.asarray(rr_s, float)[:, None]
    vdm = vd[:, None] if np.ndim(vd) else vd
    per = _indicators(members, rr, vdm)
    with np.errstate(invalid="ignore"):
        for col, v in per.items():
            if col not in table:
                continue
            mean = v @ wm
            sd = np.sqrt(np.maximum(((v - mean[:, None]) ** 2) @ wc, 0.0))
            yield col, table[col] - 1.96 * sd, table[col] + 1.96 * sd


def beat_table(ps: ParameterSet, obs: BeatObservations, tr: Track, analysis, espvr: dict,
               fit: BeatFit | None = None) -> pd.DataFrame:
    """Per-beat parameters (clinical units, sd, 95 % band), pressures and indicators.

    With a :class:`~.reanalysis.BeatFit`, ``SV_beat_mL`` is each beat's SV re-fitted to its
    own pressure and ``beat_strength`` the factor on the contractility that did it.
    """
    n = tr.n
    d: dict[str, Any] = {"beat": np.arange(n), "t_s": obs.t_s[:n] + obs.lag_s, "rr_s": obs.rr_s[:n],
                         "observed": obs.observed[:n], "reason": obs.reason[:n]}
    theta = ps.theta(tr.omega)
    sd = tr.sd
    # a tracked flow scale k shows the parameters of the k-scaled model (R / k, C x k)
    kb = theta[:, ps.names.index("flow_scale")] if "flow_scale" in ps.names else np.ones(n)
    for i, name in enumerate(ps.names):
        f = kb ** FLOW_EXPONENT.get(ESTIMABLE[name][2], 0)
        d[name] = to_clinical(name, theta[:, i]) * f
        d[f"{name}_sd"] = d[name] * math.log(2) * sd[:, i]
        d[f"{name}_lo"] = to_clinical(name, ps.theta0[i] * np.exp2(tr.omega[:, i] - 1.96 * sd[:, i])) * f
        d[f"{name}_hi"] = to_clinical(name, ps.theta0[i] * np.exp2(tr.omega[:, i] + 1.96 * sd[:, i])) * f
    S = tr.summary
    edv, esv, pes = S[:, AK.B_VMAX], S[:, AK.B_VMIN], S[:, AK.B_PES]
    vd = espvr.get("V_d_mL", float("nan")) * 1e-6 * kb
    ind = _indicators(S, obs.rr_s[:n], vd)   # the same formulas give the members' bands below
    d["EDV_mL"], d["ESV_mL"], d["SV_mL"] = edv * 1e6, esv * 1e6, ind["SV_mL"]
    d["EF"], d["CO_L_min"] = ind["EF"], ind["CO_L_min"]
    d["stroke_work_J"] = S[:, AK.B_WORK]
    d["Pes_mmHg"] = pes / MMHG
    for col in ("Ea_mmHg_per_mL", "Ees_mmHg_per_mL", "Ea_Ees"):
        d[col] = ind[col]
    pe = 0.5 * pes * (esv - vd)
    d["efficiency"] = S[:, AK.B_WORK] / (S[:, AK.B_WORK] + pe)
    d["dPdt_max_mmHg_s"] = S[:, AK.B_DPDT] / MMHG
    d["model_SBP_mmHg"] = S[:, AK.B_PMAX] / MMHG
    d["model_DBP_mmHg"] = S[:, AK.B_PMIN] / MMHG
    d["model_MAP_mmHg"] = ind["model_MAP_mmHg"]
    z = obs.z_pa[:n]
    res = z - tr.z_pred
    with np.errstate(invalid="ignore"):
        d["rmse_mmHg"] = np.where(obs.observed[:n], np.sqrt(np.mean(res ** 2, axis=1)) / MMHG, np.nan)
    d["nis"] = tr.nis
    if tr.obs_sd is not None:
        d["obs_sd_mmHg"] = tr.obs_sd / MMHG
    meas = {c: np.full(n, np.nan) for c in ("sbp_mmHg", "dbp_mmHg", "map_mmHg")}
    if analysis is not None:
        rows = obs.beat_index[:n]
        ok = rows >= 0
        for c in meas:
            meas[c][ok] = analysis.beats[c].to_numpy()[rows[ok]]
    d["SBP_mmHg"], d["DBP_mmHg"], d["MAP_mmHg"] = meas["sbp_mmHg"], meas["dbp_mmHg"], meas["map_mmHg"]
    d["at_bound"] = tr.clipped
    if tr.summary_members is not None:
        for col, lo, hi in indicator_bands(tr.summary_members, tr.member_weights, obs.rr_s[:n], vd, d):
            d[f"{col}_lo"], d[f"{col}_hi"] = lo, hi
    if fit is not None:
        d["SV_beat_mL"] = fit.sv_m3[:n] * 1e6
        d["beat_strength"] = fit.strength[:n]
        d["beat_rmse_mmHg"] = fit.rmse_pa[:n] / MMHG
    return pd.DataFrame(d)
