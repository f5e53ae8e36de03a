"""Sequential estimators: reduced-order UKF, augmented-state UKF, ensemble (ETKF) filter.

All three share one loop (:func:`run_filter`): per beat, forecast every member through the
beat operator, then correct with the beat's observation when it has one. The filter state is
the model state plus omega = log2(theta/theta0) of the estimated parameters. The filters
know their own error only through the innovations: serially correlated pressure points, and
model-error (Q) and observation-error (R) covariances matched to the innovations online
(Mehra 1972; Mohamed & Schwarz 1999), so that their bands hold the truth when the model is
not the one that made the data. Only the
parameters and the state entries in ``corrected`` (default: the arterial compartment
pressures) are corrected, so a correction never puts the wall or the contractile element in
a state the model could not have reached.
"""

from __future__ import annotations

import math
import warnings
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from ..errors import CardiosimError, SolverError
from . import kernels as AK
from .errormodel import RHO_MAX, ar1_whiten, variance_inflation
from .operator import BeatOperator
from .sigma import merwe_weights, safe_cholesky, simplex_points


class AssimilationError(CardiosimError, RuntimeError):
    """A filter could not go on. ``partial`` holds the track up to the last good beat."""

    def __init__(self, message: str, beat: int = -1, partial=None):
        super().__init__(message)
        self.beat = beat
        self.partial = partial


class DivergenceWarning(UserWarning):
    """The filter's normalised innovations stay far above 1: model and data disagree."""


@dataclass
class Track:
    """Per-beat output of a filter (omega space; see :class:`~.calibrate.Calibration` for SI)."""

    method: str
    names: tuple
    omega: np.ndarray          # (n, p) analysis mean
    cov: np.ndarray            # (n, p, p) analysis covariance of omega
    z_pred: np.ndarray         # (n, n_obs) forecast mean of the observation [Pa]
    nis: np.ndarray            # (n,) normalised innovation squared / n_obs (NaN: not observed)
    summary: np.ndarray        # (n, N_SUMMARY) forecast mean of the beat summaries
    x: np.ndarray              # (n, n_state) analysis mean state at the end of the beat
    clipped: np.ndarray        # (n,) a parameter hit its bound at this beat
    warnings: list = field(default_factory=list)
    summary_members: np.ndarray | None = None   # (n, members, N_SUMMARY) each member's forecast
    member_weights: tuple | None = None         # (mean weights, covariance weights) of the members
    obs_sd: np.ndarray | None = None            # (n,) per-point observation error used at each beat [Pa]

    @property
    def n(self) -> int:
        return self.omega.shape[0]

    @property
    def sd(self) -> np.ndarray:
        return np.sqrt(np.maximum(np.einsum("kii->ki", self.cov), 0.0))

    def truncate(self, n: int) -> "Track":
        return Track(self.method, self.names, self.omega[:n], self.cov[:n], self.z_pred[:n],
                     self.nis[:n], self.summary[:n], self.x[:n], self.clipped[:n], list(self.warnings),
                     None if self.summary_members is None else self.summary_members[:n], self.member_weights,
                     None if self.obs_sd is None else self.obs_sd[:n])


class SequentialFilter:
    """Common set-up: operator, start, prior, observation error, correction mask.

    ``obs_sd_pa`` is the per-point error of the pressure points and ``obs_rho`` their lag-one
    correlation between phases (AR(1)): the update counts the points as
    n (1 - rho) / (1 + rho) independent ones (:meth:`_update_sd`), the NIS tests the AR(1)
    model itself (:meth:`_whiten`). ``adaptive_q_beats`` > 0 estimates the parameters'
    model-error covariance from their last corrections (:meth:`_adapt_q`), and
    ``adaptive_r_beats`` > 0 the per-point error from the last innovations (:meth:`_adapt_r`),
    each over that many observed beats.
    """

    method = "base"

    def __init__(self, op: BeatOperator, x0: np.ndarray, omega0: np.ndarray, P0: np.ndarray,
                 obs_sd_pa: float, corrected: tuple | None = None, seed: int = 0,
                 obs_rho: float = 0.0, adaptive_q_beats: int = 0, adaptive_r_beats: int = 0):
        self.op = op
        self.ns = op.n_state
        self.p = op.parameters.p
        self.x = np.array(x0, dtype=float)
        self.om = np.array(omega0, dtype=float)
        self.P0 = np.array(P0, dtype=float)
        if not (math.isfinite(obs_sd_pa) and obs_sd_pa > 0):
            raise ValueError(f"observation error sd must be > 0 Pa, got {obs_sd_pa!r}")
        self.sigma = float(obs_sd_pa)
        names = op.state_names
        corrected = op.corrected_default if corrected is None else tuple(corrected)
        unknown = [c for c in corrected if c not in names[1:]]
        if unknown:
            raise ValueError(f"cannot correct state entries {unknown}; known: {names[1:]}")
        self.state_mask = np.array([n in corrected for n in names], dtype=float)
        self.Q = np.diag(op.parameters.drift ** 2)
        self.seed = seed
        self._sd_z = None  # the pressure points' sd vector, made once
        self.members_S = None  # the last beat's forecast summaries per member (the bands of indicators)
        self.member_weights = None
        if not (0.0 <= obs_rho <= RHO_MAX):
            raise ValueError(f"obs_rho must be in [0, {RHO_MAX}], got {obs_rho!r}")
        self.rho = float(obs_rho)
        self.Q_base = self.Q.copy()
        self.adaptive_q_beats = int(adaptive_q_beats)
        self._increments: deque = deque(maxlen=max(self.adaptive_q_beats, 1))
        self.adaptive_r_beats = int(adaptive_r_beats)
        self.sigma0 = self.sigma
        self._r_samples: deque = deque(maxlen=max(self.adaptive_r_beats, 1))

    def _adapt_q(self, delta_omega: np.ndarray):
        """Model-error covariance from the last parameter corrections (Mohamed & Schwarz 1999).

        Q = Q_drift + mean(d omega d omega^T) over the last ``adaptive_q_beats`` corrections:
        corrections larger than the drift allows (a step, a ramp, a model error the filter
        keeps correcting) widen the band and let the estimate follow.
        """
        if self.adaptive_q_beats <= 0:
            return
        self._increments.append(np.asarray(delta_omega, float))
        D = np.array(self._increments)
        Qh = D.T @ D / D.shape[0]
        # within one window no parameter may wander further than half its prior sd: the
        # estimate feeds back on itself (a larger Q, a larger gain, larger corrections), and
        # a swing within each breath is not a drift to follow
        sd = np.sqrt(np.maximum(np.diag(Qh), 1e-300))
        cap = 0.5 * np.sqrt(np.diag(self.P0) / self.adaptive_q_beats)
        f = np.minimum(1.0, cap / sd)
        self.Q = self.Q_base + Qh * np.outer(f, f)

    def _adapt_r(self, d_pa: np.ndarray, pred_trace_pa2: float):
        """Per-point observation error by covariance matching of the innovations (Mehra 1972).

        ``d_pa`` are the pressure innovations of a beat [Pa], ``pred_trace_pa2`` the trace of
        their forecast covariance from the members' spread [Pa^2]: over the last
        ``adaptive_r_beats`` beats, sigma^2 = mean((d'd - trace) / n), held within a quarter
        and four times the first-fit variance.
        """
        n = d_pa.size
        if self.adaptive_r_beats <= 0 or n == 0:
            return
        self._r_samples.append((float(d_pa @ d_pa) - pred_trace_pa2) / n)
        est = float(np.mean(self._r_samples))
        self.sigma = math.sqrt(min(max(est, 0.05 * self.sigma0 ** 2), 4.0 * self.sigma0 ** 2))
        self._sd_z = None

    def _whiten(self, v: np.ndarray, n: int) -> np.ndarray:
        """The first ``n`` entries (the pressure points) whitened along the last axis.

        The NIS and the covariance matching read the innovations whitened, so that they test
        the stated error model (sd sigma, lag-one correlation rho between phases).
        """
        return ar1_whiten(v, self.rho, n)

    def _update_sd(self, sd: np.ndarray, n_p: int) -> np.ndarray:
        """The sd the update uses: the pressure points' inflated by the variance inflation factor.

        Serially correlated errors (lag-one correlation rho between phases, AR(1)) carry the
        information of n (1 - rho) / (1 + rho) independent points on the beat's slow
        features (level, area): the update treats the points as independent with the
        variance (1 + rho) / (1 - rho) sigma^2, which keeps the fit's weights uniform (the
        pressure level counts, as it does in the RMSE) and does not over-count the points.
        """
        if self.rho == 0.0 or n_p == 0:
            return sd
        out = np.array(sd, dtype=float, copy=True)
        out[:n_p] *= math.sqrt(variance_inflation(self.rho))
        return out

    def _clip(self):
        self.om, clipped = self.op.parameters.clip(self.om)
        return bool(np.any(clipped))

    def _observed(self, z, Z, Sm, T, flows):
        """(observed values, their forecast per member, sd, number of pressure points), or None.

        The arterial pressure points (sd ``sigma``) followed by the beat's flow observations
        (SV or CO, each with its own sd), predicted from the members' beat summaries.
        """
        if flows is None:
            if z is None:
                return None
            if self._sd_z is None or self._sd_z.size != z.size:
                self._sd_z = np.full(z.size, self.sigma)
            return z, Z, self._sd_z, z.size
        parts_z, parts_Z, parts_sd = [], [], []
        if z is not None:
            parts_z.append(z)
            parts_Z.append(Z)
            parts_sd.append(np.full(z.size, self.sigma))
        parts_z.append(flows.values)
        parts_Z.append(self.op.flow_forecast(Sm, T, flows.kinds))
        parts_sd.append(flows.sd)
        return (np.concatenate(parts_z), np.concatenate(parts_Z, axis=1), np.concatenate(parts_sd),
                0 if z is None else z.size)


class ROUKF(SequentialFilter):
    """Reduced-order UKF with simplex sigma points (Moireau & Chapelle 2011).

    The covariance is kept factorised as P = L U^-1 L^T with L of size (n_state + p, p): p + 1
    model runs per beat, whatever the size of the state.
    """

    method = "roukf"

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        p = self.p
        self.I = simplex_points(p)
        self.a = 1.0 / (p + 1)
        NS = self.ns
        self.L = np.zeros((NS + p, p))
        self.L[NS:, :] = np.eye(p)
        self.U = np.linalg.inv(self.P0)
        # simplex points: sum a I_i = 0, sum a I_i I_i' = Id, so a-weighted spreads are covariances
        w = np.full(p + 1, self.a)
        self.member_weights = (w, w)

    def step(self, T: float, z: np.ndarray | None, flows: "FlowObservation | None" = None):
        p, a, I, NS = self.p, self.a, self.I, self.ns
        C = safe_cholesky(np.linalg.inv(self.U), "U^-1")
        L = self.L @ C
        s = np.concatenate([self.x, self.om])
        S = s[None, :] + (L @ I).T
        X = np.ascontiguousarray(S[:, :NS])
        X[:, 0] = self.x[0]  # entry 0 is time
        Om = S[:, NS:]
        Z, Sm = self.op.forecast(X, Om, T)
        self.members_S = Sm
        Sf = np.concatenate([X, Om], axis=1)
        s_ = a * Sf.sum(axis=0)
        L = a * Sf.T @ I.T
        Lth = L[NS:]
        if np.any(self.Q):
            Li = np.linalg.inv(Lth)
            Uprior = np.linalg.inv(np.eye(p) + Li @ self.Q @ Li.T)
        else:
            Uprior = np.eye(p)
        zbar = a * Z.sum(axis=0)
        nis = np.nan
        obs = self._observed(z, Z, Sm, T, flows)
        if obs is not None:
            zo, Zo, sd, n_p = obs
            r = sd / self._update_sd(sd, n_p)
            HL0 = a * Zo.T @ I.T / sd[:, None]          # innovations in units of their sd
            d0 = (zo - a * Zo.sum(axis=0)) / sd
            HL, d = HL0 * r[:, None], d0 * r
            U = Uprior + HL.T @ HL
            U = 0.5 * (U + U.T)
            b = HL.T @ d
            g = np.linalg.solve(U, b)
            mask = np.concatenate([self.state_mask, np.ones(p)])
            inc = mask * (L @ g)
            s_ = s_ + inc
            # NIS against the stated error model (AR(1) points; the inflation is the update's)
            dw, HLw = self._whiten(d0, n_p), self._whiten(HL0.T, n_p).T
            U0 = Uprior + HLw.T @ HLw
            b0 = HLw.T @ dw
            nis = (dw @ dw - b0 @ np.linalg.solve(U0, b0)) / zo.size
            self._adapt_q(inc[NS:])
            Hp = HLw[:n_p] * sd[:n_p, None]
            self._adapt_r(dw[:n_p] * sd[:n_p], float(np.sum(Hp * np.linalg.solve(Uprior, Hp.T).T)))
        else:
            U = Uprior
        self.x, self.om = s_[:NS], s_[NS:]
        self.L, self.U = L, U
        clipped = self._clip()
        cov = Lth @ np.linalg.solve(U, Lth.T)
        return 0.5 * (cov + cov.T), zbar, a * Sm.sum(axis=0), nis, clipped


class UKF(SequentialFilter):
    """Unscented Kalman filter on the augmented state (model state without time, and omega).

    Scaled symmetric sigma points (alpha 0.5, beta 2, kappa 0): 2 n + 1 model runs per beat.
    The covariance update uses the form valid for any gain, P - K Pxz' - Pxz K' + K Pzz K',
    since rows of uncorrected state entries are zeroed in K.
    """

    method = "ukf"

    def __init__(self, *args, alpha: float = 0.5, beta: float = 2.0, kappa: float = 0.0, **kw):
        super().__init__(*args, **kw)
        p, NS = self.p, self.ns
        self.n = NS - 1 + p
        self.c, self.Wm, self.Wc = merwe_weights(self.n, alpha, beta, kappa)
        sx = (1e-3 * self.op.state_scale()[1:]) ** 2
        self.Qx = np.diag(np.concatenate([sx, np.zeros(p)]))
        self.P = self.Qx.copy()
        self.P[NS - 1:, NS - 1:] = self.P0
        self.gain_mask = np.concatenate([self.state_mask[1:], np.ones(p)])
        self.member_weights = (self.Wm, self.Wc)

    def step(self, T: float, z: np.ndarray | None, flows: "FlowObservation | None" = None):
        NS = self.ns
        s = np.concatenate([self.x[1:], self.om])
        Lc = safe_cholesky(self.P) * self.c
        S = np.vstack([s, s + Lc.T, s - Lc.T])
        X = np.empty((S.shape[0], NS))
        X[:, 0] = self.x[0]
        X[:, 1:] = S[:, :NS - 1]
        Om = S[:, NS - 1:]
        Z, Sm = self.op.forecast(X, Om, T)
        self.members_S = Sm
        Sf = np.concatenate([X[:, 1:], Om], axis=1)
        m = self.Wm @ Sf
        D = Sf - m
        P = (D.T * self.Wc) @ D + self.Qx
        P[NS - 1:, NS - 1:] += self.Q
        zbar = self.Wm @ Z
        nis = np.nan
        obs = self._observed(z, Z, Sm, T, flows)
        if obs is not None:
            zo, Zo, sd, n_p = obs
            zobar = self.Wm @ Zo
            Dz = Zo - zobar
            Pzz_f = (Dz.T * self.Wc) @ Dz
            Pzz = Pzz_f + np.diag(self._update_sd(sd, n_p) ** 2)
            Pxz = (D.T * self.Wc) @ Dz
            Kg = np.linalg.solve(Pzz, Pxz.T).T * self.gain_mask[:, None]
            d = zo - zobar
            self._adapt_q((Kg @ d)[NS - 1:])
            m = m + Kg @ d
            P = P - Kg @ Pxz.T - Pxz @ Kg.T + Kg @ Pzz @ Kg.T
            Dzw, dw = self._whiten(Dz, n_p), self._whiten(d, n_p)
            Pw = (Dzw.T * self.Wc) @ Dzw
            nis = dw @ np.linalg.solve(Pw + np.diag(sd ** 2), dw) / zo.size
            self._adapt_r(dw[:n_p], float(np.trace(Pw[:n_p, :n_p])))
        self.P = 0.5 * (P + P.T)
        self.x = np.concatenate([[X[0, 0]], m[:NS - 1]])
        self.om = m[NS - 1:]
        clipped = self._clip()
        return self.P[NS - 1:, NS - 1:].copy(), zbar, self.Wm @ Sm, nis, clipped


class EnKF(SequentialFilter):
    """Ensemble transform Kalman filter (deterministic square root; Bishop et al. 2001).

    The ensemble is drawn once from the prior with ``seed``; parameter drift adds seeded
    random-walk noise. ``inflation`` multiplies the forecast anomalies.
    """

    method = "enkf"

    def __init__(self, *args, members: int = 32, inflation: float = 1.0, **kw):
        super().__init__(*args, **kw)
        if members < self.p + 2:
            raise ValueError(f"EnKF needs at least p + 2 = {self.p + 2} members, got {members}")
        self.rng = np.random.default_rng(self.seed)
        self.N = members
        self.inflation = inflation
        Lp = safe_cholesky(self.P0)
        self.Om = self.om + self.rng.standard_normal((members, self.p)) @ Lp.T
        self.X = np.repeat(self.x[None, :], members, axis=0)
        self.member_weights = (np.full(members, 1.0 / members), np.full(members, 1.0 / (members - 1)))

    def step(self, T: float, z: np.ndarray | None, flows: "FlowObservation | None" = None):
        N, NS = self.N, self.ns
        Z, Sm = self.op.forecast(self.X, self.Om, T)
        self.members_S = Sm
        if np.any(self.Q):
            self.Om = self.Om + self.rng.standard_normal(self.Om.shape) @ safe_cholesky(self.Q, "Q").T
        E = np.concatenate([self.X, self.Om], axis=1)
        m = E.mean(axis=0)
        A = (E - m) * self.inflation
        zbar = Z.mean(axis=0)
        nis = np.nan
        obs = self._observed(z, Z, Sm, T, flows)
        if obs is not None:
            zo, Zo, sd, n_p = obs
            zobar = Zo.mean(axis=0)
            sd_u = self._update_sd(sd, n_p)
            Y = (Zo - zobar) * self.inflation / sd_u
            dn = (zo - zobar) / sd_u
            G = (N - 1) * np.eye(N) + Y @ Y.T
            w, V = np.linalg.eigh(0.5 * (G + G.T))
            Pa = (V / w) @ V.T
            wbar = Pa @ (Y @ dn)
            Wa = (V * np.sqrt((N - 1) / w)) @ V.T
            mask = np.concatenate([self.state_mask, np.ones(self.p)])
            upd = m + (A.T @ (wbar[:, None] + Wa)).T
            self._adapt_q((A.T @ wbar)[NS:])
            E = np.where(mask[None, :] > 0, upd, E)
            # NIS per point with S = Y0'Y0/(N-1) + I in units of the per-point sd (Woodbury through G0)
            Y0 = self._whiten(Zo - zobar, n_p) * self.inflation / sd
            d0 = self._whiten(zo - zobar, n_p) / sd
            G0 = (N - 1) * np.eye(N) + Y0 @ Y0.T
            yd = Y0 @ d0
            nis = (d0 @ d0 - yd @ np.linalg.solve(G0, yd)) / zo.size
            Yp = Y0[:, :n_p] * sd[:n_p]
            self._adapt_r(d0[:n_p] * sd[:n_p], float(np.sum(Yp * Yp)) / (N - 1))
        else:
            E = m + A
        E[:, 0] = self.X[0, 0]  # entry 0 is time
        self.X = np.ascontiguousarray(E[:, :NS])
        self.Om = E[:, NS:]
        lo, hi = self.op.parameters.omega_bounds
        clipped = bool(np.any((self.Om < lo) | (self.Om > hi)))
        self.Om = np.clip(self.Om, lo, hi)
        self.x = self.X.mean(axis=0)
        self.om = self.Om.mean(axis=0)
        return np.cov(self.Om, rowvar=False).reshape(self.p, self.p), zbar, Sm.mean(axis=0), nis, clipped


FILTERS = {"roukf": ROUKF, "ukf": UKF, "enkf": EnKF}


@dataclass(frozen=True)
class FlowObservation:
    """Flow observations of one beat: ``kinds`` ("SV" [m^3] or "CO" [m^3/s]), values, sd (SI)."""

    kinds: tuple
    values: np.ndarray
    sd: np.ndarray


def run_filter(flt: SequentialFilter, rr_s: np.ndarray, z_pa: np.ndarray, observed: np.ndarray,
               progress=None, divergence_nis: float = 10.0, divergence_beats: int = 30,
               flows: "dict[int, FlowObservation] | None" = None) -> Track:
    """Run ``flt`` over beats of lengths ``rr_s`` with observations ``z_pa`` where ``observed``.

    ``flows`` maps a beat index to its :class:`FlowObservation` (sparse SV/CO observations).
    ``progress`` is an optional callable receiving the number of beats done. A normalised
    NIS above ``divergence_nis`` on ``divergence_beats`` consecutive observed beats raises a
    :class:`DivergenceWarning` (once), recorded in ``Track.warnings``.
    """
    n, p, n_obs = rr_s.size, flt.p, z_pa.shape[1]
    tr = Track(flt.method, flt.op.parameters.names, np.full((n, p), np.nan), np.full((n, p, p), np.nan),
               np.full((n, n_obs), np.nan), np.full(n, np.nan), np.full((n, AK.N_SUMMARY), np.nan),
               np.full((n, flt.ns), np.nan), np.zeros(n, dtype=bool), obs_sd=np.full(n, np.nan))
    run_high = 0
    warned = False
    for k in range(n):
        z = z_pa[k] if observed[k] else None
        sigma_used = flt.sigma
        try:
            cov, zbar, summ, nis, clipped = flt.step(float(rr_s[k]), z, (flows or {}).get(k))
        except (SolverError, np.linalg.LinAlgError) as exc:
            raise AssimilationError(f"{flt.method}: beat {k} (RR {rr_s[k]:.3f} s) failed: {exc}. "
                                    f"The estimate up to beat {k - 1} is kept in .partial; try a "
                                    f"smaller prior sd or a larger observation error.", k,
                                    tr.truncate(k)) from exc
        if not (np.all(np.isfinite(flt.om)) and np.all(np.isfinite(cov))):
            raise AssimilationError(f"{flt.method}: non-finite estimate at beat {k}; the estimate up "
                                    f"to beat {k - 1} is kept in .partial", k, tr.truncate(k))
        tr.omega[k], tr.cov[k], tr.z_pred[k], tr.nis[k] = flt.om, cov, zbar, nis
        tr.summary[k], tr.x[k], tr.clipped[k] = summ, flt.x, clipped
        tr.obs_sd[k] = sigma_used
        if flt.members_S is not None:
            if tr.summary_members is None:
                tr.summary_members = np.full((n,) + flt.members_S.shape, np.nan)
                tr.member_weights = flt.member_weights
            tr.summary_members[k] = flt.members_S
        if observed[k]:
            run_high = run_high + 1 if nis > divergence_nis else 0
            if run_high >= divergence_beats and not warned:
                msg = (f"{flt.method}: normalised innovation (NIS/n) above {divergence_nis:g} for "
                       f"{divergence_beats} observed beats up to beat {k}: the model cannot follow "
                       f"the data with this observation error. Raise the observation error "
                       f"(sigma_mmhg; --sigma-mmhg on the command line), allow more drift "
                       f"(drift_log2_per_beat; --drift), or check the beats in `cardiosim inspect`.")
                warnings.warn(msg, DivergenceWarning, stacklevel=2)
                tr.warnings.append(msg)
                warned = True
        if progress is not None:
            progress(k + 1)
    return tr
