"""Model and observation operators of the assimilation: one heartbeat of a ventricle model.

The model operator advances the ventricle and circulation over one measured beat (its
length from the recording's RR interval); the observation operator returns the arterial
pressure at fixed phases of that beat, after the measuring-site line. The model is seen
only through :class:`cardiosim.models.Ventricle`; the filter's state is the model's state
followed by the line's three entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ParameterError, SolverError
from ..models.protocol import Ventricle
from ..units import MMHG
from . import kernels as AK
from .parameters import ESTIMABLE, ParameterSet


def default_phases(n_obs: int) -> np.ndarray:
    """Observation phases (j + 1/2)/n in (0, 1): fixed points per beat."""
    if n_obs < 4:
        raise ParameterError(f"need at least 4 observation points per beat, got {n_obs}")
    return (np.arange(n_obs) + 0.5) / n_obs


@dataclass
class Members:
    """Per-member parameters: the model's opaque rows, the line, and theta [SI]."""

    model: Any
    line: np.ndarray
    theta: np.ndarray
    scale: np.ndarray | None = None


class BeatOperator:
    """One beat of ``model`` for many members with their own parameters.

    Parameters
    ----------
    model : Ventricle
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

    def __init__(self, model: Ventricle, parameters: ParameterSet, n_obs: int = 32,
                 line: tuple[float, float] | None = None):
        self.model = model
        self.line = line
        if line is not None and not (line[0] > 0 and line[1] > 0):
            raise ParameterError(f"line needs a natural frequency > 0 Hz and damping > 0, got {line}")
        self.parameters = parameters
        self.phases = default_phases(n_obs)
        self._line_idx = [(i, 0 if n == "line_hz" else 1) for i, n in enumerate(parameters.names)
                          if ESTIMABLE[n][0] == "line"]
        self._model_idx = [i for i, n in enumerate(parameters.names) if ESTIMABLE[n][0] == "model"]
        self._scale_idx = [i for i, n in enumerate(parameters.names) if ESTIMABLE[n][0] == "scale"]
        if self._line_idx and line is None and len(self._line_idx) < 2:
            raise ParameterError("estimating one of line_hz/line_zeta needs line=(hz, zeta) for the other")
        for i in self._model_idx:
            model.parameter_value(parameters.names[i])  # an unknown name fails here, not per beat
        self.n_model = len(model.state_names)
        # where each summary column comes from: the measuring site (P_max, P_min, P_mean)
        # or the model's own summaries, by name
        site = ("P_max", "P_min", "P_mean")
        src = {name: i for i, name in enumerate(model.summary_names)}
        absent = [n for n in AK.SUMMARY_NAMES if n not in site and n not in src]
        if absent:
            raise ParameterError(f"the model's beat summaries lack {absent}; it has {list(model.summary_names)}")
        self._site_cols = [AK.SUMMARY_NAMES.index(n) for n in site]
        self._model_cols = [j for j, n in enumerate(AK.SUMMARY_NAMES) if n not in site]
        self._model_src = [src[AK.SUMMARY_NAMES[j]] for j in self._model_cols]
        self.retries = 0  # member-beats rerun with a finer step after a failed solve
        # None: the model observed at fixed phases from its beat start; a time [s]: each beat
        # observed relative to its own site-pressure foot, shifted by (foot - foot_ref)
        self.foot_ref: float | None = None
        self.last_foot: np.ndarray | None = None

    # -- the state as the filters see it -----------------------------------------------
    @property
    def n_obs(self) -> int:
        return self.phases.size

    @property
    def state_names(self) -> tuple[str, ...]:
        """Model state (entry 0 is time), then the measuring-site line's entries."""
        return tuple(self.model.state_names) + AK.LINE_STATE_NAMES

    @property
    def n_state(self) -> int:
        return self.n_model + len(AK.LINE_STATE_NAMES)

    def state_scale(self) -> np.ndarray:
        return np.concatenate([self.model.state_scale(), AK.LINE_STATE_SCALE])

    @property
    def corrected_default(self) -> tuple[str, ...]:
        return tuple(self.model.corrected_states)

    @property
    def summary_index(self) -> dict[str, int]:
        """Column of each named beat summary in the arrays :meth:`forecast` returns."""
        return {n: i for i, n in enumerate(AK.SUMMARY_NAMES)}

    # -- parameters -> members ----------------------------------------------------------
    def members(self, omega: np.ndarray) -> Members:
        """Per-member parameters for each row of ``omega`` (shape (m, p))."""
        omega = np.atleast_2d(omega)
        theta = self.parameters.theta(omega)
        m = omega.shape[0]
        names = [self.parameters.names[i] for i in self._model_idx]
        rows = self.model.member_parameters(names, theta[:, self._model_idx])
        LINE = np.zeros((m, 2))
        if self.line is not None:
            LINE[:] = (2 * np.pi * self.line[0], self.line[1])
        for i, which in self._line_idx:
            LINE[:, which] = theta[:, i] * (2 * np.pi if which == 0 else 1.0)
        scale = theta[:, self._scale_idx[0]].copy() if self._scale_idx else None
        return Members(rows, LINE, theta, scale)

    # -- one beat ----------------------------------------------------------------------
    def forecast(self, X: np.ndarray, omega: np.ndarray, T: float, arrays: Members | None = None):
        """Advance the states ``X`` (m, n_state; in place) over one beat of length ``T`` [s].

        Returns (Z, summary): arterial pressure [Pa] at the observation phases (m, n_obs)
        and the beat summaries (m, N_SUMMARY; columns :attr:`summary_index`). A member whose
        solve fails is rerun from its start state with a 4x finer step (counted in
        ``retries``); if that fails too, :class:`SolverError` names it, and its row holds
        the last good step of the rerun.
        """
        if not X.flags.c_contiguous:
            raise ValueError("X must be C-contiguous (it is advanced in place)")
        m = X.shape[0]
        mem = self.members(omega) if arrays is None else arrays
        n = self.model.steps_per_beat(T)
        X0 = X.copy()
        Z, S, ok = self._run(X, mem.model, mem.line, T, n)
        bad = np.flatnonzero(~ok)
        if bad.size:
            # retry the failed members from their start state with a 4x finer step
            names = [self.parameters.names[i] for i in self._model_idx]
            rows = self.model.member_parameters(names, mem.theta[bad][:, self._model_idx])
            Xb = np.ascontiguousarray(X0[bad])
            Zb, Sb, okb = self._run(Xb, rows, mem.line[bad], T, 4 * n)
            X[bad], Z[bad], S[bad], ok[bad] = Xb, Zb, Sb, okb
            self.retries += bad.size
            bad = np.flatnonzero(~ok)
        if bad.size:
            vals = ", ".join(f"{n}={v:.4g}" for n, v in zip(self.parameters.names, mem.theta[bad[0]]))
            raise SolverError(f"model beat of {T:.3f} s failed for {bad.size} of {m} members "
                              f"(first: {vals} SI), also with a 4x finer step; "
                              f"t = {X[bad[0], 0]:.3f} s", time_s=float(X[bad[0], 0]))
        if mem.scale is not None:
            # the flow scale is an exact similarity: pressures unchanged, volumes x k
            S *= mem.scale[:, None] ** AK.SUMMARY_FLOW_EXPONENT
        return Z, S

    def flow_forecast(self, S: np.ndarray, T: float, kinds) -> np.ndarray:
        """Forecast of flow observations from beat summaries ``S``: "SV" [m^3], "CO" [m^3/s]."""
        sv = S[:, AK.B_VMAX] - S[:, AK.B_VMIN]
        cols = []
        for kind in kinds:
            if kind == "SV":
                cols.append(sv)
            elif kind == "CO":
                cols.append(sv / T)
            else:
                raise ParameterError(f"unknown flow observation {kind!r}; known: SV, CO")
        return np.stack(cols, axis=1)

    def _run(self, X, rows, LINE, T, n):
        m = X.shape[0]
        nm = self.n_model
        Xm = np.ascontiguousarray(X[:, :nm])
        batch = self.model.advance_members(Xm, rows, float(T), n)
        L = np.ascontiguousarray(X[:, nm:])
        Z = np.empty((m, self.n_obs))
        P_stats = np.empty((m, 3))
        F = np.zeros(m)
        AK.observe(batch.p_entry, batch.ok, float(T), LINE, L, self.phases, Z, P_stats,
                   -1.0 if self.foot_ref is None else float(self.foot_ref), F)
        self.last_foot = F
        X[:, :nm] = Xm
        X[:, nm:] = L
        S = np.empty((m, AK.N_SUMMARY))
        S[:, self._site_cols] = P_stats
        S[:, self._model_cols] = batch.summary[:, self._model_src]
        return Z, S, batch.ok.copy()

    def initial_state(self) -> np.ndarray:
        x0 = self.model.initial_state()
        p_art = x0[self.model.state_names.index(self.model.corrected_states[0])]
        return np.concatenate([x0, [p_art, 0.0, p_art]])

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
        arrays = self.members(omega)
        Zprev = None
        for _ in range(beats):
            Z, S = self.forecast(X, omega, T, arrays=arrays)
            if tol > 0 and Zprev is not None and np.max(np.abs(Z - Zprev)) < tol:
                break
            Zprev = Z
        return X, Z, S
