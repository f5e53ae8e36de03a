"""Speed of tracking: one hour of arterial pressure through the reduced-order UKF, against filterpy.

Twin experiment. The record: ``--beats`` beats at 75 bpm (RR 0.8 s, seeded 3 % variability,
4500 beats ~ one hour), made by the beat operator itself with one member at known parameters
(sigma0, Rd, P_at, Rp = 0.9, 1.2, 1.0, 1.1 x baseline), observed at 32 phases per beat with
seeded 2 mmHg noise. The filters start from the periodic beat of the baseline (omega = 0),
prior sd 0.5 (log2), drift 0.01 (log2 per beat), observation sd 2 mmHg, model dt 1 ms.

Prints one JSON line. Keys:
  seconds_per_hour_of_record  ROUKF (4 parameters, p + 1 = 5 sigma points, one kernel call per
                              beat) over the whole record, wall time scaled to 3600 s of record
  ms_per_beat                 the same run per beat
  roukf_final_rel_error       theta/theta_true - 1 at the last beat, per parameter (sanity)
  roukf_final_sd_log2         the filter's own sd of omega at the last beat
  seconds_per_hour_with_co    the same hour with a monitor CO every 25 beats (5 % noise) also
                              observed and the flow scale estimated (truth 1.2): 6 sigma points
  roukf_co_final_rel_error    that run's theta/theta_true - 1 at the last beat, flow_scale included
  seconds_per_hour_beat_fit   the beat-by-beat reanalysis of the first run's track (each beat
                              re-fitted to its own pressure: 3 Gauss-Newton iterations of 3 model
                              runs; what calibrate adds after the filter for SV_beat_mL and SVV)
  roukf_retried_member_beats  member-beats the operator re-ran with a finer step after a failed
                              solve (inside the timing; null if the operator does not count them)
  filterpy_ms_per_beat        filterpy's UnscentedKalmanFilter + MerweScaledSigmaPoints (alpha 0.5,
                              beta 2, kappa 0) on the augmented state [model state without time,
                              omega] (2 n + 1 = 35 points), on the first ``--filterpy-beats`` beats
  cardiosim_ukf_ms_per_beat   cardiosim.assimilation.UKF (the same 35 points, the same weights) on
                              the same beats: filterpy / this = overhead alone (speedup_ukf_vs_filterpy)
  speedup_vs_filterpy         filterpy_ms_per_beat / ms_per_beat (fewer sigma points and less overhead)
  filterpy_rerun_ms_per_beat  filterpy through its public API only, where hx runs the beat again
                              (see below), on the same beats
  *_final_rel_error           the same sanity check after the short runs (not converged there)
How the model goes into filterpy: fx(x, dt) advances ONE member one beat (op.forecast on a
(1, n) row, time kept in the closure) and caches the beat's 32 pressures keyed by the returned
row; hx(x) looks them up. filterpy 2.0's predict() re-draws fresh sigma points from the predicted
(x, P) after the transform, so hx would never see the rows fx returned; the loop therefore puts
the propagated rows back (ukf.sigmas_f) before update(). That is the standard UKF (the one
cardiosim's UKF implements) with one model beat per sigma point, the cheapest way to use
filterpy here, so speedup_vs_filterpy is conservative. The pure-API alternative (update with
z_k before predict, hx running beat k from each sigma point and throwing the state away: two
model beats per sigma point) is timed too, as filterpy_rerun_ms_per_beat. filterpy has no gain
mask, so it corrects every state entry (cardiosim corrects P_ar, P_d and omega); the cost is the
same. Q: (1e-3 x the state scale)^2 on the state, drift^2 on omega; R = (2 mmHg)^2 I; omega is
clipped to its bounds after each update in every filter.
Every kernel is compiled (or loaded) and run on a few beats before any timing (compile_excluded).
The hour run is timed once; the short runs are the best of ``--repeats``.
Run: python benchmarks/assimilation.py   [--quick]   (filterpy: pip install filterpy)
--quick: 100 beats, 10 UKF beats, one repeat, no filterpy (results/quick/).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import cardiosim as cs  # noqa: E402
from _record import record  # noqa: E402
from cardiosim.assimilation import ROUKF, UKF, BeatOperator, ParameterSet, run_filter  # noqa: E402
from cardiosim.assimilation import kernels as AK  # noqa: E402
from cardiosim.assimilation.filters import FlowObservation  # noqa: E402
from cardiosim.units import MMHG  # noqa: E402

NAMES = "sigma0,Rd,P_at,Rp"
THETA_RATIO_TRUE = np.array([0.9, 1.2, 1.0, 1.1])
RR_MEAN = 0.8
NOISE_MMHG = 2.0
DRIFT = 0.01
PRIOR_SD = 0.5
CO_EVERY = 25  # beats between monitor CO values (about 20 s)


def twin(op: BeatOperator, n_beats: int, seed: int):
    """RR sequence, noisy observations Z (n_beats, n_obs) [Pa] and the true omega."""
    rng = np.random.default_rng(seed)
    rr = np.clip(RR_MEAN * (1.0 + 0.03 * rng.standard_normal(n_beats)), 0.7, 0.9)
    om_true = np.log2(THETA_RATIO_TRUE)[None, :]
    X, _, _ = op.periodic(om_true, RR_MEAN)
    arrays = op.members(om_true)  # packed once
    Z = np.empty((n_beats, op.n_obs))
    co = np.empty(n_beats)
    for k in range(n_beats):
        z, S = op.forecast(X, om_true, float(rr[k]), arrays=arrays)
        Z[k] = z[0]
        co[k] = (S[0, AK.B_VMAX] - S[0, AK.B_VMIN]) / rr[k]   # [m^3/s]
    Z += NOISE_MMHG * MMHG * rng.standard_normal(Z.shape)
    return rr, Z, om_true[0], co


def rel_error(ps: ParameterSet, omega, om_true) -> dict:
    err = ps.theta(omega) / ps.theta(om_true) - 1.0
    return {n: round(float(e), 4) for n, e in zip(ps.names, err)}


def best_of(n, f):
    best, out = np.inf, None
    for _ in range(n):
        t0 = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t0)
    return best, out


def cardiosim_track(cls, op, x0, rr, z, flows=None):
    ps = op.parameters
    flt = cls(op, x0, np.zeros(ps.p), ps.prior_cov(), NOISE_MMHG * MMHG)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tr = run_filter(flt, rr, z, np.ones(rr.size, dtype=bool), flows=flows)
    return tr, len(caught)


def filterpy_track(op, x0, rr, z, rerun: bool = False):
    """filterpy's UKF on [x0[1:], omega]; returns the final omega. See the module docstring."""
    from filterpy.kalman import MerweScaledSigmaPoints, UnscentedKalmanFilter

    ps = op.parameters
    ns, p = op.n_state - 1, ps.p
    lo, hi = ps.omega_bounds
    clock = {"t": float(x0[0])}
    cache, propagated = {}, []

    def run_beat(s, dt):
        X = np.empty((1, ns + 1))
        X[0, 0] = clock["t"]
        X[0, 1:] = s[:ns]
        Z, _ = op.forecast(X, s[None, ns:], dt)
        return np.concatenate([X[0, 1:], s[ns:]]), Z[0]

    def fx(s, dt):
        out, Z = run_beat(s, dt)
        cache[out.tobytes()] = Z
        propagated.append(out)
        return out

    def hx(s):
        return cache[s.tobytes()]

    points = MerweScaledSigmaPoints(ns + p, alpha=0.5, beta=2.0, kappa=0.0)
    ukf = UnscentedKalmanFilter(ns + p, op.n_obs, RR_MEAN, hx, fx, points)
    ukf.x = np.concatenate([x0[1:], np.zeros(p)])
    sx = (1e-3 * op.state_scale()[1:]) ** 2
    ukf.P = np.diag(np.concatenate([sx, ps.prior_sd ** 2]))
    ukf.Q = np.diag(np.concatenate([sx, ps.drift ** 2]))
    ukf.R = (NOISE_MMHG * MMHG) ** 2 * np.eye(op.n_obs)
    if not rerun:
        for k in range(rr.size):
            cache.clear()
            propagated.clear()
            ukf.predict(dt=float(rr[k]))
            ukf.sigmas_f = np.array(propagated)  # undo predict()'s re-draw: hx needs fx's rows
            ukf.update(z[k])
            ukf.x[ns:] = np.clip(ukf.x[ns:], lo, hi)
            clock["t"] += float(rr[k])
    else:
        ukf.compute_process_sigmas(0.0, fx=lambda s, dt: s)  # sigma points for the first update
        for k in range(rr.size):
            T = float(rr[k])
            ukf.update(z[k], hx=lambda s, T=T: run_beat(s, T)[1])  # z_k is a function of the start state
            ukf.x[ns:] = np.clip(ukf.x[ns:], lo, hi)
            ukf.predict(dt=T, fx=lambda s, dt: run_beat(s, dt)[0])
            clock["t"] += T
    return ukf.x[ns:].copy()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--beats", type=int, default=4500, help="beats of record for ROUKF (4500 ~ 1 h)")
    ap.add_argument("--filterpy-beats", type=int, default=100,
                    help="beats for filterpy and cardiosim's UKF (filterpy is slow)")
    ap.add_argument("--repeats", type=int, default=3, help="best of N for the short runs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="smoke run: 100 beats, 10 UKF beats, 1 repeat, no filterpy")
    a = ap.parse_args()
    if a.quick:
        a.beats, a.filterpy_beats, a.repeats = 100, 10, 1
    nf = min(a.filterpy_beats, a.beats)

    model = cs.SphereModel()
    ps = ParameterSet.build(model, NAMES, prior_sd=PRIOR_SD, drift=DRIFT)
    op = BeatOperator(model, ps, n_obs=32)
    rr, z, om_true, co = twin(op, a.beats, a.seed)
    X0, _, _ = op.periodic(np.zeros((1, ps.p)), RR_MEAN)
    x0 = X0[0]

    # warm-up: compile (or load) every kernel and touch every code path outside the timings
    cardiosim_track(ROUKF, op, x0, rr[:3], z[:3])
    cardiosim_track(UKF, op, x0, rr[:3], z[:3])
    try:
        if a.quick:
            raise ImportError("no peers in --quick")
        import filterpy
        filterpy_track(op, x0, rr[:3], z[:3])
        fp_version = filterpy.__version__
    except ImportError:
        fp_version = None

    out = {"benchmark": "assimilation", "method": "roukf", "parameters": NAMES, "beats": int(a.beats),
           "record_s": round(float(rr.sum()), 3), "n_obs": op.n_obs, "dt_s": model.dt,
           "noise_mmhg": NOISE_MMHG, "drift_log2_per_beat": DRIFT, "prior_sd_log2": PRIOR_SD,
           "theta_true_over_baseline": THETA_RATIO_TRUE.tolist(), "seed": a.seed,
           "roukf_sigma_points": ps.p + 1}
    r0 = op.retries
    t0 = time.perf_counter()
    tr, n_warn = cardiosim_track(ROUKF, op, x0, rr, z)
    t_hour = time.perf_counter() - t0
    out["roukf_retried_member_beats"] = op.retries - r0
    out["seconds"] = round(t_hour, 3)
    out["seconds_per_hour_of_record"] = round(t_hour * 3600.0 / float(rr.sum()), 3)
    out["ms_per_beat"] = round(1e3 * t_hour / a.beats, 4)
    out["roukf_final_rel_error"] = rel_error(ps, tr.omega[-1], om_true)
    out["roukf_final_sd_log2"] = [round(float(s), 4) for s in tr.sd[-1]]
    out["roukf_divergence_warnings"] = n_warn

    # the same hour with a monitor CO every CO_EVERY beats (5 % seeded noise) observed too, and
    # the flow scale (truth 1.2 x the model's) estimated with the other four
    ps_f = ParameterSet.build(model, [*NAMES.split(","), "flow_scale"], prior_sd=PRIOR_SD, drift=DRIFT)
    op_f = BeatOperator(model, ps_f, n_obs=32)
    rng = np.random.default_rng(a.seed + 1)
    flows = {k: FlowObservation(("CO",), np.array([1.2 * co[k] * (1 + 0.05 * rng.standard_normal())]),
                                np.array([0.05 * 1.2 * co[k]])) for k in range(0, a.beats, CO_EVERY)}
    cardiosim_track(ROUKF, op_f, x0, rr[:3], z[:3], {0: flows[0]})
    t0 = time.perf_counter()
    tr_f, _ = cardiosim_track(ROUKF, op_f, x0, rr, z, flows)
    t_f = time.perf_counter() - t0
    out["co_observations"] = len(flows)
    out["seconds_per_hour_with_co"] = round(t_f * 3600.0 / float(rr.sum()), 3)
    om_true_f = np.concatenate([om_true, [np.log2(1.2)]])
    out["roukf_co_final_rel_error"] = rel_error(ps_f, tr_f.omega[-1], om_true_f)

    # the beat-by-beat reanalysis that calibrate runs after the filter (SV_beat_mL, SVV)
    from cardiosim.assimilation.reanalysis import reanalyse
    sigma = NOISE_MMHG * MMHG
    reanalyse(op, tr.omega[:3], tr.x[:3], z[:3], rr[:3], np.ones(3, dtype=bool), sigma)
    t0 = time.perf_counter()
    fit = reanalyse(op, tr.omega, tr.x, z, rr, np.ones(rr.size, dtype=bool), sigma)
    t_fit = time.perf_counter() - t0
    out["seconds_per_hour_beat_fit"] = round(t_fit * 3600.0 / float(rr.sum()), 3)
    out["beat_fit_failed_beats"] = len(fit.failed)

    rs, zs = rr[:nf], z[:nf]
    t_ukf, (tr_u, _) = best_of(a.repeats, lambda: cardiosim_track(UKF, op, x0, rs, zs))
    out["ukf_sigma_points"] = 2 * (op.n_state - 1 + ps.p) + 1
    out["cardiosim_ukf_ms_per_beat"] = round(1e3 * t_ukf / nf, 4)
    out["cardiosim_ukf_final_rel_error"] = rel_error(ps, tr_u.omega[-1], om_true)
    out["filterpy_beats_timed"] = nf
    out["filterpy_sigma_points"] = out["ukf_sigma_points"]
    if fp_version is not None:
        t_fp, om_fp = best_of(a.repeats, lambda: filterpy_track(op, x0, rs, zs))
        t_fr, om_fr = best_of(a.repeats, lambda: filterpy_track(op, x0, rs, zs, rerun=True))
        ms_fp = 1e3 * t_fp / nf
        out["filterpy_ms_per_beat"] = round(ms_fp, 4)
        out["speedup_vs_filterpy"] = round(ms_fp / (1e3 * t_hour / a.beats), 2)
        out["speedup_ukf_vs_filterpy"] = round(t_fp / t_ukf, 2)
        out["filterpy_final_rel_error"] = rel_error(ps, om_fp, om_true)
        out["filterpy_rerun_ms_per_beat"] = round(1e3 * t_fr / nf, 4)
        out["filterpy_rerun_final_rel_error"] = rel_error(ps, om_fr, om_true)
    else:
        out.update(filterpy_ms_per_beat=None, speedup_vs_filterpy=None, speedup_ukf_vs_filterpy=None)
    out["repeats_short_runs"] = a.repeats
    out["compile_excluded"] = True
    out["cardiosim"] = cs.__version__
    out["filterpy"] = fp_version
    record("assimilation", out, a, peers={"filterpy": "filterpy" if fp_version else None})


if __name__ == "__main__":
    main()
