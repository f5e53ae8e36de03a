"""Model and observation operators of the assimilation: one heartbeat of the 0D model.

The model operator advances the ventricle and circulation over one measured beat (its
length from the recording's RR interval); the observation operator returns the arterial
pressure at fixed phases of that beat. Both come out of one kernel call that advances all
members (sigma points, ensemble members) at once.
"""

from __future__ import annotations

import dataclasses
import types

import numpy as np

from ..errors import ParameterError, SolverError
from ..models import sphere_kernels as K
from ..models.sphere import PACK_INDEX, SphereModel
from ..units import MMHG
from . import kernels as AK
from .parameters import ESTIMABLE, ParameterSet

#: names of the model state entries (the filter's state x); entry 0 is time
STATE_NAMES = ("t", "y", "v", "e_c", "tau_c", "k_c", "omega", "x1", "x2", "P_v", "Q_out",
               "line_p", "line_dp", "line_in")
#: state entries corrected by the filters by default: the arterial compartment pressures
DEFAULT_CORRECTED = ("x1", "x2")


def default_phases(n_obs: int) -> np.ndarray:
    """Observation phases (j + 1/2)/n in (0, 1): fixed points per beat."""
    if n_obs < 4:
        raise ParameterError(f"need at least 4 observation points per beat, got {n_obs}")
    return (np.arange(n_obs) + 0.5) / n_obs


class BeatOperator:
    """One beat of ``model`` for many members with their own parameters.

    Parameters
    ----------
    model : SphereModel
        The model whose other parameters stay fixed.
    parameters : ParameterSet
        The estimated parameters (omega space).
    n_obs : int
        Observation points per beat (arterial pressure at phases (j + 1/2)/n_obs).
    line : (float, float), optional
        Measuring-site line (natural frequency [Hz], damping ratio) between the model's
        arterial pressure and the observed one; None observes the model pressure itself.
        ``line_hz`` and ``line_zeta`` in the parameter set override it per member.
    """

    def __init__(self, model: SphereModel, parameters: ParameterSet, n_obs: int = 32,
                 line: tuple[float, float] | None = None):
        self.model = model
        self.line = line
        if line is not None and not (line[0] > 0 and line[1] > 0):
            raise ParameterError(f"line needs a natural frequency > 0 Hz and damping > 0, got {line}")
        self.parameters = parameters
        self.phases = default_phases(n_obs)
        sp, cp, pre_t, pre_p, ut, uv, n0x, n0y, m0x, m0y = model._arrays()
        self._sp, self._cp, self._pre_p = sp, cp, pre_p
        self._fixed = (pre_t, ut, uv, n0x, n0y, m0x, m0y)
        self._aft = model.circulation.afterload
        self._aft_fields = {f.name: getattr(self._aft, f.name) for f in dataclasses.fields(self._aft)}
        self._sphere_idx, self._aft_names, self._preload, self._line_idx = [], [], None, []
        for i, name in enumerate(parameters.names):
            where = ESTIMABLE[name][0]
            if where == "sphere":
                self._sphere_idx.append((i, PACK_INDEX[name]))
            elif where == "line":
                self._line_idx.append((i, 0 if name == "line_hz" else 1))
            elif where == "afterload":
                if name not in self._aft_fields:
                    raise ParameterError(f"the afterload {type(self._aft).__name__} has no parameter {name!r}")
                self._aft_names.append((i, name))
            else:
                self._preload = i
        self._p_at0 = float(pre_p[0]) if pre_p.size else 0.0
        self.retries = 0  # member-beats rerun with a finer step after a failed solve

    @property
    def n_obs(self) -> int:
        return self.phases.size

    @property
    def n_state(self) -> int:
        return AK.N_STATE_EXT

    # -- parameters -> packed arrays ----------------------------------------------------
    def member_arrays(self, omega: np.ndarray):
        """Packed (SP, CP, PRE_P) rows for each row of ``omega`` (shape (m, p))."""
        omega = np.atleast_2d(omega)
        theta = self.parameters.theta(omega)
        m = omega.shape[0]
        SP = np.repeat(self._sp[None, :], m, axis=0)
        CP = np.repeat(self._cp[None, :], m, axis=0)
        PRE = np.repeat(self._pre_p[None, :], m, axis=0)
        for i, idx in self._sphere_idx:
            SP[:, idx] = theta[:, i]
        if self._aft_names:
            lin = type(self._aft).linear_system
            for j in range(m):
                ns = types.SimpleNamespace(**self._aft_fields)
                for i, name in self._aft_names:
                    setattr(ns, name, theta[j, i])
                A, b, f, e, Z = lin(ns)
                CP[j, K.A_A:] = [*np.asarray(A, float).ravel(), *b, *f, *e, Z]
        if self._preload is not None:
            PRE *= (theta[:, self._preload] / self.parameters.theta0[self._preload])[:, None] \
                * (self.parameters.theta0[self._preload] / self._p_at0 if self._p_at0 else 1.0)
        LINE = np.zeros((m, 2))
        if self.line is not None:
            LINE[:] = (2 * np.pi * self.line[0], self.line[1])
        for i, which in self._line_idx:
            LINE[:, which] = theta[:, i] * (2 * np.pi if which == 0 else 1.0)
        if self._line_idx and self.line is None and len(self._line_idx) < 2:
            raise ParameterError("estimating one of line_hz/line_zeta needs line=(hz, zeta) for the other")
        return SP, CP, PRE, LINE

    # -- one beat ----------------------------------------------------------------------
    def forecast(self, X: np.ndarray, omega: np.ndarray, T: float, arrays=None):
        """Advance the states ``X`` (m, n_state; in place) over one beat of length ``T`` [s].

        Returns (Z, summary): arterial pressure [Pa] at the observation phases (m, n_obs)
        and the beat summaries (m, N_SUMMARY). A member whose solve fails is rerun from its
        start state with a 4x finer step (counted in ``retries``); if that fails too,
        :class:`SolverError` names it, and its row holds the last good step of the rerun.
        """
        if not X.flags.c_contiguous:
            raise ValueError("X must be C-contiguous (it is advanced in place)")
        m = X.shape[0]
        SP, CP, PRE, LINE = self.member_arrays(omega) if arrays is None else arrays
        n = self.model.steps_per_beat(T)
        X0 = X.copy()
        Z, S, status = self._run(X, SP, CP, PRE, LINE, T, n)
        bad = np.flatnonzero(status != K.OK)
        if bad.size:
            # retry the failed members from their start state with a 4x finer step
            Xb = np.ascontiguousarray(X0[bad])
            Zb, Sb, sb = self._run(Xb, SP[bad], CP[bad], PRE[bad], LINE[bad], T, 4 * n)
            X[bad], Z[bad], S[bad], status[bad] = Xb, Zb, Sb, sb
            self.retries += bad.size
            bad = np.flatnonzero(status != K.OK)
        if bad.size:
            theta = self.parameters.theta(np.atleast_2d(omega)[bad[0]])
            vals = ", ".join(f"{n}={v:.4g}" for n, v in zip(self.parameters.names, theta))
            raise SolverError(f"model beat of {T:.3f} s failed for {bad.size} of {m} members "
                              f"(first: {vals} SI), also with a 4x finer step; "
                              f"t = {X[bad[0], K.X_T]:.3f} s", time_s=float(X[bad[0], K.X_T]))
        return Z, S

    def _run(self, X, SP, CP, PRE, LINE, T, n):
        m = X.shape[0]
        Z = np.empty((m, self.n_obs))
        S = np.empty((m, AK.N_SUMMARY))
        status = np.zeros(m, dtype=np.int64)
        pre_t, ut, uv, n0x, n0y, m0x, m0y = self._fixed
        AK.forecast_members(X, SP, CP, PRE, LINE, float(T), n, pre_t, ut, uv, n0x, n0y, m0x, m0y,
                            self.model.newton_tol, self.model.max_newton, self.phases, Z, S, status)
        return Z, S, status

    def initial_state(self) -> np.ndarray:
        x = np.zeros(AK.N_STATE_EXT)
        x[:K.N_STATE] = self.model.initial_state()
        x[AK.X_LINE_P] = x[AK.X_LINE_IN] = x[K.X_P1]
        return x

    def periodic(self, omega: np.ndarray, T: float, beats: int = 30, x0: np.ndarray | None = None,
                 tol: float = 1e-3 * MMHG):
        """Run beats of length T from ``x0`` until the observed beat repeats within ``tol`` [Pa].

        ``omega`` has shape (m, p); returns (X, Z, summary) of the last beat of each member.
        A fixed maximum of ``beats`` keeps the map deterministic for finite differences
        when ``tol`` is 0.
        """
        omega = np.atleast_2d(omega)
        m = omega.shape[0]
        x0 = self.initial_state() if x0 is None else np.asarray(x0, dtype=float)
        X = np.repeat(x0[None, :], m, axis=0) if x0.ndim == 1 else x0.copy()
        arrays = self.member_arrays(omega)
        Zprev = None
        for _ in range(beats):
            Z, S = self.forecast(X, omega, T, arrays=arrays)
            if tol > 0 and Zprev is not None and np.max(np.abs(Z - Zprev)) < tol:
                break
            Zprev = Z
        return X, Z, S
