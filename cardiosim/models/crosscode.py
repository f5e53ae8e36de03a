"""Side-by-side runs of svZeroDSolver (pip package ``svzerod``) on cardiosim's parameters.

Used by the cross-code tests and ``benchmarks/sphere0d.py``. svzerod 3.2's ``ChamberSphere``
has the simplified Bestel activation (``double_tanh``) and the exponential material, not
the length-dependent BCS law, so the comparison uses
:meth:`SphereParameters.simplified_bestel` with the Caruel geometry, passive law and
circulation (Caruel et al. 2014). ``svzerod`` is an optional extra (``.[compare]``).
"""

from __future__ import annotations

import contextlib
import io
import os

import numpy as np

from ..circulation import TwoStageWindkessel
from ..errors import ParameterError
from ..units import MMHG
from .sphere import SphereModel


def svzerod_available() -> bool:
    try:
        import svzerod  # noqa: F401
    except ImportError:
        return False
    return True


def sphere_config(model: SphereModel, period: float, points_per_cycle: int, cycles: int = 30) -> dict:
    """svZeroDSolver 3.2 configuration of ``model`` (simplified law, two-stage Windkessel)."""
    p, c = model.params, model.circulation
    if p.active_law != "simplified":
        raise ParameterError("svzerod's ChamberSphere only has the simplified Bestel law")
    if not isinstance(c.afterload, TwoStageWindkessel) or c.preload.waveform is not None:
        raise ParameterError("the svzerod comparison needs a constant preload and a TwoStageWindkessel")
    wk = c.afterload

    def vessel(i, name, R, C, bc=None):
        v = {"vessel_id": i, "vessel_length": 1.0, "vessel_name": name, "zero_d_element_type": "BloodVessel",
             "zero_d_element_values": {"R_poiseuille": R, "C": C}}
        if bc:
            v["boundary_conditions"] = bc
        return v

    def valve(name, vlv, up, down):
        return {"type": "ValveTanh", "name": name,
                "params": {"Rmax": vlv.r_closed, "Rmin": vlv.r_open, "Steepness": vlv.steepness,
                           "upstream_block": up, "downstream_block": down}}

    return {
        "simulation_parameters": {
            "number_of_cardiac_cycles": cycles, "number_of_time_pts_per_cardiac_cycle": points_per_cycle,
            "cardiac_period": period, "steady_initial": False, "output_variable_based": True,
            "absolute_tolerance": 1e-9, "output_all_cycles": False, "max_iter_error_to_warning": True},
        "boundary_conditions": [
            {"bc_name": "IN", "bc_type": "PRESSURE", "bc_values": {"P": [c.preload.pressure] * 2, "t": [0.0, period]}},
            {"bc_name": "OUT", "bc_type": "PRESSURE", "bc_values": {"P": [wk.P_venous] * 2, "t": [0.0, period]}}],
        "vessels": [
            vessel(0, "upstream_vessel", 0.0, 1e-9, {"inlet": "IN"}),
            vessel(1, "proximal_compliance", 0.0, wk.Cp),
            vessel(2, "proximal_resistance", wk.Rp, 0.0),
            vessel(3, "distal_compliance", 0.0, wk.Cd),
            vessel(4, "distal_resistance", wk.Rd, 0.0, {"outlet": "OUT"})],
        "chambers": [{
            "type": "ChamberSphere", "name": "ventricle",
            "values": {"rho": p.rho, "thick0": p.d0, "radius0": p.R0, "eta": p.eta,
                       "sigma_max": p.sigma_max, "alpha_max": p.alpha_max, "alpha_min": p.alpha_min},
            "activation_function": {"type": "double_tanh", "tsys": p.t_sys, "tdias": p.t_dia,
                                    "steepness": p.gamma},
            "material": {"type": "exponential", "C0": p.C0, "C1": p.C1, "C2": p.C2, "C3": p.C3}}],
        "valves": [valve("inlet_valve", c.inlet_valve, "upstream_vessel", "ventricle"),
                   valve("outlet_valve", c.outlet_valve, "ventricle", "proximal_compliance")],
        "junctions": [
            {"junction_name": f"J{i}", "junction_type": "NORMAL_JUNCTION", "inlet_vessels": [i + 1],
             "outlet_vessels": [i + 2]} for i in range(3)],
        "initial_condition": {"pressure:upstream_vessel:inlet_valve": c.preload.pressure,
                              "pressure:inlet_valve:ventricle": c.preload.pressure,
                              "pressure:ventricle:outlet_valve": c.preload.pressure,
                              "pressure:proximal_compliance:J0": 80 * MMHG,
                              "pressure:distal_compliance:J2": 80 * MMHG},
    }


@contextlib.contextmanager
def _quiet():
    """svzerod prints Newton warnings from C++ to fd 1; keep them out of our output."""
    try:
        fd = os.dup(1)
    except OSError:  # pragma: no cover
        yield
        return
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                yield
        finally:
            os.dup2(fd, 1)
            os.close(fd)


def run_sphere(config: dict):
    """Run svzerod on a config; return its long-format DataFrame (name, time, y)."""
    import svzerod

    with _quiet():
        return svzerod.simulate(config)


def indicators(df, radius0: float) -> dict:
    """EDV, ESV, peak ventricular pressure, SBP, DBP of svzerod's last cycle (clinical units)."""
    def series(name):
        s = df[df.name == name]
        return s.y.to_numpy()

    # svzerod integrates "volume" from 0; the radius gives the true cavity volume
    V = 4.0 / 3.0 * np.pi * (series("radius:ventricle") + radius0) ** 3 * 1e6
    pv = series("pressure:ventricle:outlet_valve") / MMHG
    par = series("pressure:outlet_valve:proximal_compliance") / MMHG
    return {"EDV_mL": V.max(), "ESV_mL": V.min(), "Pv_max_mmHg": pv.max(), "SBP_mmHg": par.max(),
            "DBP_mmHg": par.min()}


def closed_loop_heart_config(points_per_cycle: int = 1000, cycles: int = 10) -> dict:
    """svZeroDSolver's closed-loop heart test case (``tests/cases/closedLoopHeart_singleVessel.json``).

    Four-chamber elastance heart with pulmonary circulation, one aortic vessel and a
    closed-loop RCR: what a modeller would pick instead of a sphere. Parameter values as
    published in that file (svZeroDSolver, BSD-3-Clause; CGS units, as svzerod expects).
    """
    return {
        "simulation_parameters": {"number_of_cardiac_cycles": cycles,
                                  "number_of_time_pts_per_cardiac_cycle": points_per_cycle,
                                  "absolute_tolerance": 1e-8, "steady_initial": False},
        "boundary_conditions": [{"bc_name": "RCR_aorta", "bc_type": "ClosedLoopRCR",
                                 "bc_values": {"Rp": 0.134156617, "Rd": 1.356472458, "C": 0.238401833,
                                               "closed_loop_outlet": True}}],
        "vessels": [{"vessel_name": "branch0_seg0", "boundary_conditions": {"outlet": "RCR_aorta"},
                     "vessel_id": 0, "vessel_length": 10.0, "zero_d_element_type": "BloodVessel",
                     "zero_d_element_values": {"R_poiseuille": 0.003348073, "L": 0.004}}],
        "closed_loop_blocks": [{
            "outlet_blocks": ["branch0_seg0"], "closed_loop_type": "ClosedLoopHeartAndPulmonary",
            "cardiac_cycle_period": 1.0169,
            "parameters": {
                "Tsa": 0.40742, "tpwave": 8.976868, "Erv_s": 2.125279, "Elv_s": 3.125202, "iml": 0.509365,
                "imr": 0.806369, "Lrv_a": 0.000186865, "Rrv_a": 0.035061704, "Lra_v": 0.000217032,
                "Rra_v": 0.007887459, "Lla_v": 0.000351787, "Rla_v": 0.005310825, "Rlv_ao": 0.034320234,
                "Llv_a": 0.000110776, "Vrv_u": 9.424629, "Vlv_u": 5.606007, "Rpd": 0.098865401,
                "Cp": 1.090989, "Cpa": 0.556854, "Kxp_ra": 9.22244, "Kxv_ra": 0.004837,
                "Emax_ra": 0.208858, "Vaso_ra": 4.848742, "Kxp_la": 9.194992, "Kxv_la": 0.008067,
                "Emax_la": 0.303119, "Vaso_la": 9.355754}}],
        "initial_condition": {"V_RA:CLH": 38.43, "V_RV:CLH": 96.07, "V_LA:CLH": 38.43, "V_LV:CLH": 96.07,
                              "P_pul:CLH": 8.0},
    }
