"""0D spherical ventricle (Caruel, Chabiniok, Moireau, Lecarpentier, Chapelle 2014).

A thin spherical shell (reference radius R0, thickness d0, density rho) whose radial
displacement y gives the cavity volume V = 4/3 pi (R0 + y)^3. Equations (SI units):

* momentum:  rho d0 y'' + (d0/R0)(1 + y/R0) Sigma = P_v C,          C = (1 + y/R0)^2
* stress:    Sigma = Sigma_p + Sigma_v + tau_1D
* passive:   Sigma_p = 2 dW/dC,  W = C0 exp[C1 (J1-3)^2] + C2 exp[C3 (C-1)^2],  J1 = 2C + C^-2
* viscous:   Sigma_v = eta C' (1 + 2 C^-6)
* Hill model (series spring E_s, contractile element e_c, damping mu), e = (C-1)/2:
  tau_1D = E_s (e - e_c)/(1 + 2 e_c)^2,
  mu e_c' = E_s (e - e_c)(1 + 2e)/(1 + 2 e_c)^3 - tau_c
* BCS active law with length dependence (n0, m0 tables) or the simplified Bestel law,
  see :func:`cardiosim.materials.bcs.active_update` (shared with the 3D ventricle).

Verified here rather than taken on trust (the published forms differ between sources):

* the viscous term. The svZeroDSolver source documents Sigma_v = 2 eta C'(1 - 2 C^-6),
  which is not dissipative for C < 2^(1/6) and makes the solve blow up once the sphere
  contracts below its reference volume. The viscous pseudo-potential (eta/2) tr(E'^2) of
  an incompressible shell gives Sigma_v = eta C'(1 + 2 C^-6), dissipation >= 0 for every
  C. The installed svzerod 3.2 reproduces this form to 1e-5 (and not the documented one):
  ``tests/test_sphere_crosscode.py``; ``tests/test_sphere_energy.py`` checks the balance.
* the passive stress Sigma_p = 2 dW/dC: checked symbolically against the energy (finite
  differences in ``tests/test_sphere_kernels.py``) and equal to svZeroDSolver's expanded
  ``ExponentialMaterial``.
* the Hill-model series-spring relations: they are the derivatives of the series-spring
  energy (E_s/2) e_s^2, e_s = (e - e_c)/(1 + 2 e_c) (also tested by finite differences).
"""

from __future__ import annotations

import dataclasses
import math
import types
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..circulation import Circulation, pack_linear_system
from ..errors import ParameterError, SolverError
from ..params import param, validate, with_values, as_dict
from ..units import MMHG, bpm_to_period_s
from . import sphere_kernels as K
from .protocol import BeatBatch

#: Caruel 2014 tables as in svZeroDSolver's Caruel test case: n0(e_c) clamps to 0
#: at or below e_c = -0.4 (repeated abscissa), m0(e_c), and the activation input u(t) [1/s]
#: over a 0.8 s beat, held constant outside [0.1, 0.6] s.
N0 = ((-0.4, -0.4, 0.3, 1.0, 1.3, 2.4), (0.0, 0.008, 0.379, 1.0, 1.0, 0.0))
M0 = ((0.95, 1.0), (1.87, 1.0))
U = ((0.1, 0.27, 0.32, 0.34, 0.46, 0.59, 0.6), (-3.2, 35.0, 35.0, 0.0, -12.0, -12.0, -3.2))

_LAWS = ("bcs", "simplified")

#: where each numeric parameter sits in the packed array of the kernels
PACK_INDEX = {"R0": K.S_R0, "d0": K.S_D0, "rho": K.S_RHO, "C0": K.S_C0, "C1": K.S_C1,
              "C2": K.S_C2, "C3": K.S_C3, "eta": K.S_ETA, "Es": K.S_ES, "mu": K.S_MU,
              "alpha": K.S_ALPHA, "alpha_r": K.S_ALPHA_R, "k0": K.S_K0, "sigma0": K.S_SIGMA0,
              "sigma_max": K.S_SIGMA_MAX, "alpha_max": K.S_ALPHA_MAX, "alpha_min": K.S_ALPHA_MIN,
              "t_sys": K.S_TSYS, "t_dia": K.S_TDIA, "gamma": K.S_GAMMA, "T_ref": K.S_TREF,
              "time_scaling": K.S_TSCALE_EXP, "theta": K.S_THETA}


def _table(values, name) -> tuple:
    xs, ys = (tuple(float(v) for v in a) for a in values)
    if len(xs) != len(ys) or len(xs) < 1:
        raise ParameterError(f"SphereParameters.{name} needs two sequences of equal length")
    if not all(math.isfinite(v) for v in xs + ys):
        raise ParameterError(f"SphereParameters.{name} contains NaN or inf")
    if any(b < a for a, b in zip(xs, xs[1:])):
        raise ParameterError(f"SphereParameters.{name} abscissae must not decrease: {xs}")
    return (xs, ys)


@dataclass(frozen=True)
class SphereParameters:
    """Parameters of the spherical ventricle, SI units. Named sets: :meth:`caruel2014`."""

    R0: float = param(0.0236, "m", "length", doc="reference (unloaded) radius")
    d0: float = param(0.0142, "m", "length", doc="reference wall thickness")
    rho: float = param(1000.0, "kg/m^3", "density", "nonnegative", doc="wall density")
    C0: float = param(1.9e3, "Pa", "pressure", doc="passive law, isotropic stiffness")
    C1: float = param(0.11, "1", "dimensionless", doc="passive law, isotropic exponent")
    C2: float = param(1.9e3, "Pa", "pressure", "nonnegative", doc="passive law, fibre stiffness")
    C3: float = param(0.11, "1", "dimensionless", "nonnegative", doc="passive law, fibre exponent")
    eta: float = param(70.0, "Pa*s", "viscosity", "nonnegative", doc="wall viscosity")
    Es: float = param(3.0e7, "Pa", "pressure", doc="series elastic modulus")
    mu: float = param(70.0, "Pa*s", "viscosity", doc="contractile-element damping")
    alpha: float = param(1.5, "1", "dimensionless", "nonnegative", doc="cross-bridge velocity factor")
    alpha_r: float = param(0.12, "s", "time", doc="relaxation time constant of omega")
    k0: float = param(1.0e5, "Pa", "pressure", "nonnegative", doc="maximal active stiffness")
    sigma0: float = param(1.24e5, "Pa", "pressure", "nonnegative", doc="contractility")
    sigma_max: float = param(1.85e5, "Pa", "pressure", "nonnegative",
                             doc="simplified law: maximal active stress")
    alpha_max: float = param(30.0, "1/s", "frequency", "finite", doc="simplified law: activation rate")
    alpha_min: float = param(-30.0, "1/s", "frequency", "finite", doc="simplified law: relaxation rate")
    t_sys: float = param(0.17, "s", "time", "nonnegative", doc="simplified law: start of systole")
    t_dia: float = param(0.484, "s", "time", "nonnegative", doc="simplified law: start of diastole")
    gamma: float = param(0.005, "s", "time", doc="simplified law: switch width")
    T_ref: float = param(0.8, "s", "time", doc="beat length of the published activation profile")
    time_scaling: float = param(0.5, "1", "dimensionless", "nonnegative",
                                doc="activation times scale as (RR/T_ref)^time_scaling")
    n0: tuple = N0
    m0: tuple = M0
    u: tuple = U
    active_law: str = "bcs"
    theta: float = 0.6  # kinematics y1-y0 = h((1-theta) v0 + theta v1): damps the stiff pressure zigzag

    def __post_init__(self):
        validate(self)
        for name in ("n0", "m0", "u"):
            object.__setattr__(self, name, _table(getattr(self, name), name))
        if self.active_law not in _LAWS:
            raise ParameterError(f"SphereParameters.active_law must be one of {_LAWS}, got {self.active_law!r}")
        if not 0.5 <= self.theta <= 1.0:
            raise ParameterError(f"SphereParameters.theta must be in [0.5, 1], got {self.theta}")
        if self.t_dia <= self.t_sys:
            raise ParameterError(f"SphereParameters.t_dia ({self.t_dia}) must exceed t_sys ({self.t_sys})")

    @classmethod
    def caruel2014(cls) -> "SphereParameters":
        """Baseline of svZeroDSolver's ``chamber_sphere_straindependent_Caruel`` case (Caruel et al. 2014)."""
        return cls()

    @classmethod
    def caruel2014_wall(cls, ratio: float) -> "SphereParameters":
        """The Caruel 2014 set with wall thickness d0 = ``ratio`` x R0 and the same pressures:
        every stress-like parameter (C0, C2, E_s, k0, sigma0, eta, mu) scaled by
        (0.6 / ratio), 0.6 being the set's own d0 / R0, so that thickness times stress, which
        the cavity pressure follows, is unchanged. For thin shells (the 0D model's kinematics)
        and their 3D counterparts (:meth:`HeartbeatSimulation.sphere_octant`)."""
        if not (isinstance(ratio, (int, float)) and math.isfinite(ratio) and 0 < ratio < 1):
            raise ParameterError(f"wall ratio d0/R0 must be in (0, 1), got {ratio!r}")
        p = cls()
        s = (p.d0 / p.R0) / float(ratio)
        return dataclasses.replace(p, d0=float(ratio) * p.R0, C0=p.C0 * s, C2=p.C2 * s, Es=p.Es * s, k0=p.k0 * s,
                                   sigma0=p.sigma0 * s, eta=p.eta * s, mu=p.mu * s)

    @classmethod
    def simplified_bestel(cls, **overrides: Any) -> "SphereParameters":
        """Caruel geometry and passive law with the simplified Bestel activation.

        Active-law values are the svZeroDSolver ``ChamberSphere`` example (sigma_max = 185 kPa,
        alpha_max/min = +-30 1/s, t_sys = 0.17 s, t_dia = 0.484 s, gamma = 5 ms).
        """
        return dataclasses.replace(cls(active_law="simplified"), **overrides)

    @property
    def shell_radii(self) -> tuple[float, float]:
        """Inner and outer radius [m] of the thick shell whose mid-surface this sphere is,
        R0 -+ d0/2. Read so, the sphere's volume is the cavity's plus half the wall's, and a
        thin-shell reduction's error is second order in d0/R0 (first order with R0 read as
        the inner radius)."""
        return self.R0 - 0.5 * self.d0, self.R0 + 0.5 * self.d0

    @property
    def half_wall_volume(self) -> float:
        """Half the volume [m^3] of the shell of :attr:`shell_radii`: the sphere's volume
        less the cavity's."""
        ri, ro = self.shell_radii
        return 2.0 / 3.0 * math.pi * (ro ** 3 - ri ** 3)

    @property
    def V0(self) -> float:
        """Reference cavity volume 4/3 pi R0^3 [m^3]."""
        return 4.0 / 3.0 * math.pi * self.R0 ** 3

    def with_values(self, values: Mapping[str, Any]) -> "SphereParameters":
        """Copy with parameters set from numbers (SI) or strings with units ("150 kPa")."""
        return with_values(self, values)

    def scaled(self, k: float) -> "SphereParameters":
        """The same ventricle with every volume multiplied by ``k`` at the same wall stresses.

        R0 and d0 grow by s = k^(1/3), so strains, d0/R0 and the cavity pressure at a given
        strain are unchanged; the wall inertia rho d0 y'' grows by s^2, so rho is divided by
        s^2 to keep the momentum balance exactly the same in pressure.
        """
        if not (isinstance(k, (int, float)) and math.isfinite(k) and k > 0):
            raise ParameterError(f"volume scale must be a number > 0, got {k!r}")
        s = float(k) ** (1.0 / 3.0)
        return dataclasses.replace(self, R0=self.R0 * s, d0=self.d0 * s, rho=self.rho / s ** 2)

    def pack(self) -> np.ndarray:
        sp = np.zeros(K.N_SPHERE)
        for name, idx in PACK_INDEX.items():
            sp[idx] = getattr(self, name)
        sp[K.S_LAW] = float(_LAWS.index(self.active_law))
        return sp

    def tables(self) -> tuple[np.ndarray, ...]:
        return tuple(np.asarray(a, dtype=np.float64) for t in (self.u, self.n0, self.m0) for a in t)

    def fibre_activation(self, period: float, delta: float = 0.5):
        """This sphere's active law and parameters at every quadrature point of a 3D wall
        (:class:`cardiosim.fem.FibreActivation`), beating with ``period`` [s]; ``delta`` = 1/2
        spreads it evenly over the f0-s0 plane, as the 0D model's tangent plane."""
        from ..fem import FibreActivation
        from ..materials.bcs import N_BCS

        return FibreActivation(self.pack()[K.S_BCS:K.S_BCS + N_BCS], self.tables(), period, delta)


#: the ventricle's state entries; the circulation's node pressures follow (``state_names``)
WALL_STATE_NAMES = ("t", "y", "v", "e_c", "tau_c", "k_c", "omega", "P_v", "Q_out", "Q_in")
#: typical size of each of them (SI), for filters' noise and the periodicity test
WALL_STATE_SCALE = (1.0, 1e-3, 1e-2, 1e-2, 1e3, 1e3, 1e-2, 100.0, 1e-6, 1e-6)
#: typical size of a circulation node pressure [Pa]
NODE_SCALE = 100.0


@dataclass
class SphereModel:
    """The spherical ventricle coupled to its circulation.

    Examples
    --------
    >>> model = SphereModel(SphereParameters.caruel2014(), Circulation.caruel2014())
    >>> res = model.simulate(beats=5, hr=75)            # doctest: +SKIP
    >>> res.beats[["EDV_mL", "ESV_mL", "SBP_mmHg"]]      # doctest: +SKIP
    """

    params: SphereParameters = field(default_factory=SphereParameters.caruel2014)
    circulation: Circulation = field(default_factory=Circulation.caruel2014)
    dt: float = 1.0e-3
    newton_tol: float = 1e-9
    max_newton: int = 40

    def __post_init__(self):
        if not (math.isfinite(self.dt) and self.dt > 0):
            raise ParameterError(f"SphereModel.dt must be > 0 s, got {self.dt!r}")

    # -- set-up --------------------------------------------------------------------------
    def with_values(self, values: Mapping[str, Any]) -> "SphereModel":
        """Copy with parameters of the ventricle or of any circulation block set by name.

        Names are those of :class:`SphereParameters` or of the circulation blocks
        (``Rd``, ``Cp``, ``pressure`` of the preload, ...); prefix with the block
        (``afterload.Rd``, ``preload.pressure``, ``inlet_valve.r_open``) to be explicit.
        """
        sphere_vals, blocks = {}, {}
        circ_blocks = self.circulation.blocks()
        for key, value in values.items():
            if "." in key:
                block, name = key.split(".", 1)
                if block not in circ_blocks:
                    raise ParameterError(f"unknown block {block!r} in {key!r}; known: {', '.join(circ_blocks)}")
                blocks.setdefault(block, {})[name] = value
                continue
            if key in _sphere_names():
                sphere_vals[key] = value
                continue
            owners = [b for b, obj in circ_blocks.items() if key in _fields(obj)]
            if key == "P_at":
                owners = ["preload"]
                key = "pressure"
            if len(owners) > 1:
                raise ParameterError(f"parameter {key!r} is ambiguous, prefix it with one of {owners}")
            if not owners:
                known = sorted(set(_sphere_names()) | {f for o in circ_blocks.values() for f in _fields(o)})
                raise ParameterError(f"unknown parameter {key!r}; known: {', '.join(known)}, P_at")
            blocks.setdefault(owners[0], {})[key] = value
        params = self.params.with_values(sphere_vals) if sphere_vals else self.params
        circ = self.circulation
        for block, vals in blocks.items():
            circ = dataclasses.replace(circ, **{block: with_values(circ_blocks[block], vals)})
        return dataclasses.replace(self, params=params, circulation=circ)

    def scaled(self, k: float) -> "SphereModel":
        """The model carrying ``k`` times the volumes and flows at the same pressures.

        An exact similarity (ventricle :meth:`SphereParameters.scaled`, circulation
        :meth:`cardiosim.circulation.Circulation.scaled`): pressures are unchanged, SV, CO
        and volumes grow by ``k``, resistances and elastances fall by ``k``.
        """
        return dataclasses.replace(self, params=self.params.scaled(k), circulation=self.circulation.scaled(k))

    def scale_state(self, X: np.ndarray, k: float) -> np.ndarray:
        """States of :meth:`scaled` ``(k)`` matching the states ``X`` of this model (last axis)."""
        f = np.ones(len(self.state_names))
        s = float(k) ** (1.0 / 3.0)
        f[[K.X_Y, K.X_V]] = s
        f[[K.X_QO, K.X_QI]] = k
        return np.asarray(X) * f

    # -- the state as the estimators see it (cardiosim.models.protocol.Ventricle) ---------
    summary_names = K.BEAT_SUMMARIES

    @property
    def state_names(self) -> tuple[str, ...]:
        """Names of the state entries: the ventricle's, then the circulation's node pressures."""
        return WALL_STATE_NAMES + self.circulation.state_names

    def state_scale(self) -> np.ndarray:
        """Typical magnitude of each state entry (SI)."""
        return np.array(WALL_STATE_SCALE + (NODE_SCALE,) * len(self.circulation.state_names))

    @property
    def corrected_states(self) -> tuple[str, ...]:
        """The circulation's node pressures: what a filter corrects by default."""
        return self.circulation.state_names

    def parameter_value(self, name: str) -> float:
        """Current SI value of a parameter of the ventricle or of a circulation block."""
        if name in _sphere_names():
            return float(getattr(self.params, name))
        if name == "P_at":
            return float(self.circulation.preload.pressure)
        aft = self.circulation.afterload
        if name in _fields(aft):
            return float(getattr(aft, name))
        raise ParameterError(f"the model has no parameter {name!r}; the afterload {type(aft).__name__} has "
                             f"{', '.join(_fields(aft))}")

    def member_parameters(self, names: Sequence[str], theta: np.ndarray) -> tuple[np.ndarray, ...]:
        """Packed (sphere, circulation, preload) rows of the kernels, one per row of ``theta`` [SI]."""
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        m = theta.shape[0]
        sp, cp, _, pre_p, *_ = self._arrays()
        SP = np.repeat(sp[None, :], m, axis=0)
        CP = np.repeat(cp[None, :], m, axis=0)
        PRE = np.repeat(pre_p[None, :], m, axis=0)
        aft = self.circulation.afterload
        aft_fields = {f: getattr(aft, f) for f in _fields(aft)}
        aft_names = []
        for i, name in enumerate(names):
            if name in PACK_INDEX:
                SP[:, PACK_INDEX[name]] = theta[:, i]
            elif name == "P_at":
                if self.circulation.closes_loop:
                    raise ParameterError("P_at cannot be set per member in a closed loop: the filling "
                                         "follows from the blood volume (estimate Cat or the start state)")
                # the preload (constant or waveform) scaled so that its first value is P_at
                PRE *= (theta[:, i] / pre_p[0])[:, None]
            elif name in aft_fields:
                aft_names.append((i, name))
            else:
                raise ParameterError(f"the model has no parameter {name!r} to set per member")
        if aft_names:
            lin = type(aft).linear_system
            for j in range(m):
                # a namespace, not the dataclass: no validation per member and beat
                ns = types.SimpleNamespace(**aft_fields)
                for i, name in aft_names:
                    setattr(ns, name, theta[j, i])
                pack_linear_system(CP[j], lin(ns))
        return SP, CP, PRE

    def advance_members(self, X: np.ndarray, members: tuple[np.ndarray, ...], T: float,
                        n_steps: int) -> BeatBatch:
        """Advance the rows of ``X`` in place over one beat of length T [s] (protocol method)."""
        if not X.flags.c_contiguous or X.shape[1] != len(self.state_names):
            raise ParameterError(f"X must be C-contiguous with {len(self.state_names)} columns, got {X.shape}")
        SP, CP, PRE = members
        m = X.shape[0]
        p_entry = np.empty((m, n_steps))
        summary = np.empty((m, len(K.BEAT_SUMMARIES)))
        status = np.zeros(m, dtype=np.int64)
        pre_t, _ = self.circulation.preload.table()
        ut, uv, n0x, n0y, m0x, m0y = self.params.tables()
        K.run_members(X, SP, CP, PRE, float(T), int(n_steps), pre_t, ut, uv, n0x, n0y, m0x, m0y,
                      self.newton_tol, self.max_newton, p_entry, summary, status)
        return BeatBatch(p_entry, summary, status == K.OK)

    def initial_state(self, p_arterial: float = 80 * MMHG) -> np.ndarray:
        """Passive equilibrium at the atrial pressure, arterial nodes at ``p_arterial``."""
        from scipy.optimize import brentq

        p = self.params
        sp = p.pack()
        pat = float(self.circulation.preload.table()[1][0])

        def balance(a):
            C = a * a
            return p.d0 / p.R0 * a * K.passive_stress(C, sp) - pat * C

        a = brentq(balance, 1.0, 3.0, xtol=1e-14)
        st = np.zeros(len(self.state_names))
        st[K.X_Y] = (a - 1.0) * p.R0
        e = 0.5 * (a * a - 1.0)
        st[K.X_EC] = e  # series spring at rest
        st[K.X_OM] = 1.0
        st[K.X_C:] = self.circulation.initial_state(p_arterial)
        st[K.X_PV] = pat
        return st

    def _arrays(self):
        sp = self.params.pack()
        cp = self.circulation.pack()
        pre_t, pre_p = self.circulation.preload.table()
        ut, uv, n0x, n0y, m0x, m0y = self.params.tables()
        return sp, cp, pre_t, pre_p, ut, uv, n0x, n0y, m0x, m0y

    def steps_per_beat(self, T: float) -> int:
        return max(8, int(math.ceil(T / self.dt - 1e-9)))

    # -- running -------------------------------------------------------------------------
    def run(self, state: np.ndarray, beat_lengths: Sequence[float], record: bool = True,
            arrays: tuple | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Advance ``state`` (in place) over beats of the given lengths [s].

        ``arrays`` are the packed parameters (:meth:`_arrays`), passed by callers that run
        many short calls. Returns (per-step output array, steps per beat). Raises :class:`SolverError` with
        the time and last good state if a step fails; ``state`` then holds that state.
        """
        T = np.asarray(beat_lengths, dtype=np.float64)
        _check_beats(T)
        n = np.array([self.steps_per_beat(t) for t in T], dtype=np.int64)
        out = np.zeros((int(n.sum()) if record else 1, K.O_C + len(self.circulation.state_names)))
        arrays = self._arrays() if arrays is None else arrays
        status, done = K.run_beats(state, T, n, *arrays, self.newton_tol, self.max_newton, out, record)
        if status != K.OK:
            what = "Newton did not converge" if status == K.NEWTON_FAILED else "non-finite values appeared"
            st = {name: float(v) for name, v in zip(self.state_names, state)}
            st["V_mL"] = 4 / 3 * math.pi * (self.params.R0 + st["y"]) ** 3 * 1e6
            raise SolverError(
                f"0D sphere step failed at t = {state[K.X_T]:.6f} s (step {done}): {what}; "
                f"last good state: V = {st['V_mL']:.2f} mL, P_v = {st['P_v'] / MMHG:.2f} mmHg, "
                f"{self.state_names[K.X_C]} = {state[K.X_C] / MMHG:.2f} mmHg. Try a smaller dt (now {self.dt} s).",
                time_s=float(state[K.X_T]), state=st, partial=out[:done] if record else None)
        return out, n

    def simulate(self, beats: int = 10, hr: float | None = 75.0, rr: Iterable[float] | None = None,
                 until_periodic: bool = False, tol: float = 1e-6, max_beats: int = 200,
                 state: np.ndarray | None = None, progress: bool = False):
        """Simulate beats and return :class:`cardiosim.models.results.Results`.

        Parameters
        ----------
        beats : int
            Number of beats (ignored when ``rr`` is given; a maximum with ``until_periodic``
            is ``max_beats``).
        hr : float
            Constant heart rate [bpm] when ``rr`` is not given.
        rr : sequence of float, optional
            Measured RR intervals [s], one beat each.
        until_periodic : bool
            Stop when the scaled state change between two beat starts is below ``tol``.
        state : ndarray, optional
            Start state (default: :meth:`initial_state`).
        progress : bool
            Show a tqdm progress bar.
        """
        from .results import Results

        if rr is not None:
            lengths = np.asarray(list(rr), dtype=float)
            _check_beats(lengths, what="rr")
        else:
            if hr is None:
                raise ParameterError("give a heart rate hr [bpm] or RR intervals rr [s]")
            period = bpm_to_period_s(hr)
            n_beats = max_beats if until_periodic else int(beats)
            if n_beats < 1:
                raise ParameterError(f"beats must be >= 1, got {beats!r}")
            lengths = np.full(n_beats, period)
        st = self.initial_state() if state is None else np.array(state, dtype=float)
        chunks, steps, starts = [], [], [st.copy()]
        arrays = self._arrays()
        periodic_at = None
        bar = None
        if progress:
            from tqdm.auto import tqdm
            bar = tqdm(total=len(lengths), unit="beat", desc="simulating")
        try:
            for k, T in enumerate(lengths):
                try:
                    out, n = self.run(st, [T], arrays=arrays)
                except SolverError as exc:
                    # partial results are the completed beats; the last good state is exc.state
                    exc.partial = Results.from_arrays(self, chunks, steps, lengths[:len(chunks)], starts) \
                        if chunks else None
                    raise
                chunks.append(out)
                steps.append(int(n[0]))
                starts.append(st.copy())
                if bar is not None:
                    bar.update(1)
                if until_periodic and k >= 1 and self.beat_change(starts[-2], starts[-1]) < tol:
                    periodic_at = k
                    break
        finally:
            if bar is not None:
                bar.close()
        res = Results.from_arrays(self, chunks, steps, lengths[:len(chunks)], starts)
        res.periodic = periodic_at is not None
        res.meta["until_periodic"] = bool(until_periodic)
        res.meta["periodic_tolerance"] = tol
        res.meta["periodic_after_beats"] = None if periodic_at is None else periodic_at + 1
        return res

    def beat_change(self, a: np.ndarray, b: np.ndarray) -> float:
        """Scaled max-norm of the state change between two beat starts."""
        p = self.params
        nc = len(self.circulation.state_names)
        scale = np.array([np.inf, p.R0, 1.0, 1.0, max(p.sigma0, p.sigma_max), max(p.k0, 1.0), 1.0,
                          1.0e4, 1.0e-4, 1.0e-4] + [1.0e4] * nc)
        d = np.abs(np.asarray(b) - np.asarray(a)) / scale
        d[[K.X_PV, K.X_QO, K.X_QI]] = 0.0  # mid-step algebraic values: not part of the state
        return float(np.max(d))

    def describe(self) -> dict:
        """Parameters of the ventricle and circulation as a JSON-ready dict (SI)."""
        return {"sphere": as_dict(self.params),
                "circulation": {name: {"type": type(b).__name__, **as_dict(b)}
                                for name, b in self.circulation.blocks().items()},
                "dt_s": self.dt, "newton_tol": self.newton_tol}


def _fields(obj) -> list[str]:
    return [f.name for f in dataclasses.fields(obj) if "unit" in f.metadata]


def _sphere_names() -> list[str]:
    return [f.name for f in dataclasses.fields(SphereParameters) if "unit" in f.metadata]


def _check_beats(T: np.ndarray, what: str = "beat length") -> None:
    if T.ndim != 1 or T.size == 0:
        raise ParameterError(f"{what}: need at least one beat")
    bad = np.flatnonzero(~np.isfinite(T) | (T <= 0.2) | (T > 5.0))
    if bad.size:
        i = int(bad[0])
        raise ParameterError(f"{what}[{i}] = {float(T[i])!r} s is outside (0.2, 5] s (12-300 bpm)")
