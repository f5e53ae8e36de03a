"""Sequential estimators: reduced-order UKF, augmented-state UKF, ensemble (ETKF) filter.

All three share one loop (:func:`run_filter`): per beat, forecast every member through the
beat operator, then correct with the beat's observation when it has one. The filter state is
the model state plus omega = log2(theta/theta0) of the estimated parameters. Only the
parameters and the state entries in ``corrected`` (default: the arterial compartment
pressures) are corrected, so a correction never puts the wall or the contractile element in
a state the model could not have reached.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..errors import CardiosimError, SolverError
from . import kernels as AK
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

    @property
    def n(self) -> int:
        return self.omega.shape[0]

    @property
    def sd(self) -> np.ndarray:
        return np.sqrt(np.maximum(np.einsum("kii->ki", self.cov), 0.0))

    def truncate(self, n: int) -> "Track":
        return Track(self.method, self.names, self.omega[:n], self.cov[:n], self.z_pred[:n],
                     self.nis[:n], self.summary[:n], self.x[:n], self.clipped[:n], list(self.warnings),
                     None if self.summary_members is None else self.summary_members[:n], self.member_weights)


class SequentialFilter:
    """Common set-up: operator, start, prior, observation error, correction mask."""

    method = "base"

    def __init__(self, op: BeatOperator, x0: np.ndarray, omega0: np.ndarray, P0: np.ndarray,
                 obs_sd_pa: float, corrected: tuple | None = None, seed: int = 0):
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

    def _clip(self):
        self.om, clipped = self.op.parameters.clip(self.om)
        return bool(np.any(clipped))

    def _observed(self, z, Z, Sm, T, flows):
        """(observed values, their forecast per member, sd) of this beat, or None.

        The arterial pressure points (sd ``sigma``) followed by the beat's flow observations
        (SV or CO, each with its own sd), predicted from the members' beat summaries.
        """
        if flows is None:
            if z is None:
                return None
            if self._sd_z is None or self._sd_z.size != z.size:
                self._sd_z = np.full(z.size, self.sigma)
            return z, Z, self._sd_z
        parts_z, parts_Z, parts_sd = [], [], []
        if z is not None:
            parts_z.append(z)
            parts_Z.append(Z)
            parts_sd.append(np.full(z.size, self.sigma))
        parts_z.append(flows.values)
        parts_Z.append(self.op.flow_forecast(Sm, T, flows.kinds))
        parts_sd.append(flows.sd)
        return np.concatenate(parts_z), np.concatenate(parts_Z, axis=1), np.concatenate(parts_sd)


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
            zo, Zo, sd = obs
            HL = a * Zo.T @ I.T / sd[:, None]           # innovations in units of their sd
            U = Uprior + HL.T @ HL
            U = 0.5 * (U + U.T)
            d = (zo - a * Zo.sum(axis=0)) / sd
            b = HL.T @ d
            g = np.linalg.solve(U, b)
            mask = np.concatenate([self.state_mask, np.ones(p)])
            s_ = s_ + mask * (L @ g)
            nis = (d @ d - b @ np.linalg.solve(U, b)) / zo.size
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
            zo, Zo, sd = obs
            zobar = self.Wm @ Zo
            Dz = Zo - zobar
            Pzz = (Dz.T * self.Wc) @ Dz + np.diag(sd ** 2)
            Pxz = (D.T * self.Wc) @ Dz
            Kg = np.linalg.solve(Pzz, Pxz.T).T * self.gain_mask[:, None]
            d = zo - zobar
            m = m + Kg @ d
            P = P - Kg @ Pxz.T - Pxz @ Kg.T + Kg @ Pzz @ Kg.T
            nis = d @ np.linalg.solve(Pzz, d) / zo.size
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
            self.Om = self.Om + self.rng.standard_normal(self.Om.shape) @ np.sqrt(self.Q)
        E = np.concatenate([self.X, self.Om], axis=1)
        m = E.mean(axis=0)
        A = (E - m) * self.inflation
        zbar = Z.mean(axis=0)
        nis = np.nan
        obs = self._observed(z, Z, Sm, T, flows)
        if obs is not None:
            zo, Zo, sd = obs
            zobar = Zo.mean(axis=0)
            Y = (Zo - zobar) * self.inflation / sd
            dn = (zo - zobar) / sd
            G = (N - 1) * np.eye(N) + Y @ Y.T
            w, V = np.linalg.eigh(0.5 * (G + G.T))
            Pa = (V / w) @ V.T
            wbar = Pa @ (Y @ dn)
            Wa = (V * np.sqrt((N - 1) / w)) @ V.T
            mask = np.concatenate([self.state_mask, np.ones(self.p)])
            upd = m + (A.T @ (wbar[:, None] + Wa)).T
            E = np.where(mask[None, :] > 0, upd, E)
            # NIS with S = Y'Y/(N-1) + I in units of sigma^2 (Woodbury through G)
            yd = Y @ dn
            nis = (dn @ dn - yd @ np.linalg.solve(G, yd)) / zo.size
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
               np.full((n, flt.ns), np.nan), np.zeros(n, dtype=bool))
    run_high = 0
    warned = False
    for k in range(n):
        z = z_pa[k] if observed[k] else None
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
