"""Beat-by-beat reanalysis: each observed beat re-fitted to its own pressure.

The sequential filter forecasts beat k from the state and parameters it had after beat k-1,
then corrects them with beat k's pressure. Its stroke volume of beat k is therefore the
forecast's: blind to whatever made this beat larger or smaller than the last, which is what
a breath does under controlled ventilation (Michard F et al., Am J Respir Crit Care Med
162:134-138, 2000), and the parameters it estimates are meant to move slowly. The
reanalysis asks, for each observed beat on its own: starting where the filter started
this beat and with the filter's parameters, which change of this beat's ejection and of its
arterial starting pressure makes the model beat match the measured one? Two unknowns per
beat: a factor on the contractility (log-normal prior, sd ``strength_sd_log``) and an
offset added to the arterial node pressures and the measuring-site line (normal prior, sd
``offset_sd_mmhg``), fitted by Gauss-Newton on the beat's pressure points with the
calibration's observation error. The fitted beat's stroke volume is the model's
beat-to-beat SV, from which its stroke-volume variation follows.

It needs only beat k's start state, its parameters and its pressure, so it can run online as
each beat ends; the filter's estimates and its forecast SV are left as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError, SolverError
from ..units import MMHG
from . import kernels as AK
from .operator import BeatOperator
from .parameters import ParameterSet

#: contractility parameters a reanalysis may use, in order of preference
STRENGTH_PARAMETERS = ("sigma0", "sigma_max")


@dataclass(frozen=True)
class BeatFit:
    """Per-beat result of :func:`reanalyse` (NaN on beats not observed or not fitted)."""

    sv_m3: np.ndarray          # stroke volume of the re-fitted beat [m^3]
    edv_m3: np.ndarray         # its end-diastolic (largest) volume [m^3]
    strength: np.ndarray       # factor on the contractility parameter for this beat
    offset_pa: np.ndarray      # offset of the arterial start pressure [Pa]
    rmse_pa: np.ndarray        # pressure RMSE of the re-fitted beat [Pa]
    parameter: str             # the contractility parameter the factor applies to
    failed: tuple = ()         # beats whose re-fit did not solve (left NaN)

    def scaled(self, k: float) -> BeatFit:
        """The fit of the model scaled by the flow scale ``k`` (volumes x k)."""
        return BeatFit(self.sv_m3 * k, self.edv_m3 * k, self.strength, self.offset_pa, self.rmse_pa,
                       self.parameter, self.failed)


def reanalyse(op: BeatOperator, omega: np.ndarray, x_end: np.ndarray, z_pa: np.ndarray, rr_s: np.ndarray,
              observed: np.ndarray, sigma_pa: float, *, strength_sd_log: float = 2.0,
              offset_sd_mmhg: float = 5.0, iterations: int = 3, parameter: str | None = None,
              start: tuple[np.ndarray, np.ndarray] | None = None) -> BeatFit:
    """Re-fit every observed beat to its own pressure (see the module docstring).

    Parameters
    ----------
    op : BeatOperator
        The filter's operator (its parameter set is that of ``omega``).
    omega, x_end : ndarray
        Per beat, the filter's parameters (n, p) and state (n, n_state) after the beat: beat
        k starts from ``x_end[k - 1]`` with ``omega[k - 1]``, as the filter's forecast did.
    z_pa, rr_s, observed : ndarray
        The measured pressure points (n, n_obs) [Pa], beat lengths [s], observed mask.
    sigma_pa : float
        Observation error of one pressure point [Pa].
    strength_sd_log, offset_sd_mmhg : float
        Prior sd of the log contractility factor and of the arterial offset [mmHg].
    iterations : int
        Gauss-Newton iterations per beat (each runs three members of one beat).
    parameter : str, optional
        The contractility parameter; default the first of :data:`STRENGTH_PARAMETERS` the
        model has.
    start : (x0, omega0), optional
        The filter's start state and parameters, from which beat 0 is re-fitted (without
        them beat 0 is not).
    """
    if not (np.isfinite(sigma_pa) and sigma_pa > 0):
        raise ParameterError(f"reanalysis: observation error must be > 0 Pa, got {sigma_pa!r}")
    if not (strength_sd_log > 0 and offset_sd_mmhg > 0 and iterations >= 1):
        raise ParameterError(f"reanalysis: prior sds must be > 0 and iterations >= 1, got "
                             f"{strength_sd_log}, {offset_sd_mmhg}, {iterations}")
    omega = np.asarray(omega, float)
    if start is not None:
        # beat 0 starts where the filter started: prepend that start to the per-beat ends
        omega = np.concatenate([np.asarray(start[1], float)[None], omega])
        x_end = np.concatenate([np.asarray(start[0], float)[None], x_end])
    op, omega, name = _with_strength(op, omega, parameter)
    first = 0 if start is not None else 1
    j = op.parameters.names.index(name)
    shifted = np.array([n in op.model.corrected_states or n in ("line_p", "line_in") for n in op.state_names])
    n = omega.shape[0] - (1 if start is not None else 0)
    out = {key: np.full(n, np.nan) for key in ("sv", "edv", "strength", "offset", "rmse")}
    prior = np.array([1.0 / strength_sd_log ** 2, 1.0 / (offset_sd_mmhg * MMHG) ** 2])
    h = np.array([0.02, 1.0 * MMHG])     # finite-difference steps: 2 % of strength, 1 mmHg
    s2 = float(sigma_pa) ** 2
    failed: list[int] = []
    for k in np.flatnonzero(observed[:n]):
        if k < first:
            continue
        x0, om = x_end[k - 1 + (1 - first)], omega[k - 1 + (1 - first)]
        z, T = z_pa[k], float(rr_s[k])
        if not (np.all(np.isfinite(x0)) and np.all(np.isfinite(om)) and np.all(np.isfinite(z))):
            continue
        try:
            edv, esv, d, resid = _fit_beat(op, j, shifted, x0, om, z, T, h, prior, s2, iterations)
        except SolverError:
            failed.append(int(k))
            continue
        out["sv"][k], out["edv"][k] = edv - esv, edv
        out["strength"][k], out["offset"][k] = np.exp(d[0]), d[1]
        out["rmse"][k] = float(np.sqrt(np.mean(resid ** 2)))
    return BeatFit(out["sv"], out["edv"], out["strength"], out["offset"], out["rmse"], name, tuple(failed))


def _fit_beat(op, j, shifted, x0, om, z, T, h, prior, s2, iterations):
    """Gauss-Newton on (log contractility factor, arterial offset) of one beat."""
    cols = [AK.B_VMAX, AK.B_VMIN]
    d = np.zeros(2)
    for _ in range(iterations):
        D = np.repeat(d[None], 3, axis=0)
        D[1:] += np.diag(h)
        X = np.repeat(x0[None], 3, axis=0)
        X[:, shifted] += D[:, 1:2]
        Om = np.repeat(om[None], 3, axis=0)
        Om[:, j] += D[:, 0] / np.log(2.0)      # omega is log2 of the factor
        Z, S = op.forecast(np.ascontiguousarray(X), Om, T)
        J = ((Z[1:] - Z[0]) / h[:, None]).T
        H = J.T @ J / s2 + np.diag(prior)
        step = np.linalg.solve(H, J.T @ (z - Z[0]) / s2 - prior * d)
        # the volumes and the residual at the new point, to first order
        edv, esv = S[0, cols] + step @ ((S[1:, cols] - S[0, cols]) / h[:, None])
        resid = z - Z[0] - J @ step
        d = d + step
    return edv, esv, d, resid


def _with_strength(op: BeatOperator, omega: np.ndarray, parameter: str | None):
    """The operator and omega with the contractility parameter among the estimated ones."""
    ps = op.parameters
    if parameter is None:
        for cand in STRENGTH_PARAMETERS:
            if cand in ps.names:
                parameter = cand
                break
        else:
            for cand in STRENGTH_PARAMETERS:
                try:
                    op.model.parameter_value(cand)
                except ParameterError:
                    continue
                parameter = cand
                break
            else:
                raise ParameterError(f"reanalysis: the model has none of {STRENGTH_PARAMETERS}")
    if parameter in ps.names:
        return op, omega, parameter
    ps2 = ParameterSet.build(op.model, list(ps.names) + [parameter])
    theta = np.concatenate([ps.theta(omega), np.full((omega.shape[0], 1), op.model.parameter_value(parameter))],
                           axis=1)
    op2 = BeatOperator(op.model, ps2, n_obs=op.n_obs, line=op.line)
    return op2, ps2.omega(theta), parameter
