"""Write the stored 0D reference: per-step output of the sphere and the assimilation forecast.

Run on the commit whose results later commits must reproduce bit for bit::

    python tests/data/make_sphere_reference.py

It writes ``tests/data/sphere_reference.npz`` with every quantity under its own name (so a
change of the kernels' memory layout does not touch it); ``tests/test_sphere_stored.py``
compares fresh runs with it using exact equality. The stored file was made at commit
85b231c, before the circulation became its own package.
"""

from __future__ import annotations

import pathlib
import subprocess

import numpy as np

import cardiosim as cs
from cardiosim.models import sphere_kernels as K

HERE = pathlib.Path(__file__).parent
RR = [0.81, 0.79, 0.85, 0.72, 0.9]

#: per-step output columns by name
OUT = {"t": K.O_T, "y": K.O_Y, "V": K.O_V, "e_c": K.O_EC, "tau_c": K.O_TAU, "k_c": K.O_KC,
       "omega": K.O_OM, "P_v": K.O_PV, "Q_in": K.O_QIN, "Q_out": K.O_QOUT, "P_at": K.O_PAT,
       "P_entry": K.O_PENTRY, "u": K.O_ACT, "E_pdv": K.O_E_PDV, "E_kin": K.O_E_KIN,
       "E_elastic": K.O_E_ELASTIC, "E_visc": K.O_E_VISC, "E_damp": K.O_E_DAMP,
       "E_active": K.O_E_ACTIVE, "E_num": K.O_E_NUM}
#: state entries by name (the circulation's nodes are node0, node1, ...)
STATE = ("t", "y", "v", "e_c", "tau_c", "k_c", "omega", "P_v", "Q_out")
#: beat summaries of the forecast by name
SUMMARY = ("V_max", "V_min", "ejected", "work", "P_max", "P_min", "P_mean", "P_es", "Pv_max", "dPdt_max")


def cases():
    """(name, model, rr) of the stored runs: both active laws, three afterloads, a waveform preload."""
    wave = cs.AtrialPreload(pressure=800.0, waveform=((0.0, 0.7, 0.85, 1.0), (700.0, 700.0, 1300.0, 700.0)))
    return [
        ("bcs_two_stage", cs.SphereModel(), RR),
        ("simplified_two_stage", cs.SphereModel(cs.SphereParameters.simplified_bestel()), RR),
        ("bcs_windkessel3", cs.SphereModel(circulation=cs.Circulation(afterload=cs.Windkessel3())), RR),
        ("bcs_windkessel2_ideal", cs.SphereModel(circulation=cs.Circulation(
            afterload=cs.Windkessel2(), outlet_valve=cs.Valve(r_open=7.7e4, kind="ideal"))), RR),
        ("bcs_waveform_dt2ms", cs.SphereModel(circulation=cs.Circulation(preload=wave), dt=2e-3), RR),
    ]


def named_run(name, model, rr) -> dict:
    """Every output column and final state entry of ``model.simulate(rr=rr)`` by name."""
    res = model.simulate(rr=rr)
    out = {f"{name}/out/{col}": res.raw[:, i] for col, i in OUT.items()}
    nodes = len(model.circulation.state_names)
    out.update({f"{name}/out/node{i}": res.raw[:, K.O_C + i] for i in range(nodes)})
    st = dict(zip(model.state_names, res.final_state))
    out.update({f"{name}/final/{s}": st[s] for s in STATE})
    out.update({f"{name}/final/node{i}": res.final_state[K.X_C + i] for i in range(nodes)})
    return out


def forecast_case() -> dict:
    """Assimilation forecast: three members with their own sigma0, Rd, Cp over two beats."""
    from cardiosim.assimilation import BeatOperator, ParameterSet

    model = cs.SphereModel()
    ps = ParameterSet.build(model, "sigma0,Rd,Cp")
    op = BeatOperator(model, ps, n_obs=16, line=(8.0, 0.3))
    omega = np.array([[0.0, 0.0, 0.0], [0.1, -0.05, 0.2], [-0.2, 0.1, -0.1]])
    X = np.repeat(op.initial_state()[None, :], 3, axis=0)
    out = {}
    for k, T in enumerate((0.8, 0.75)):
        Z, S = op.forecast(X, omega, T)
        out[f"forecast/{k}/Z"] = Z.copy()
        for i, name in enumerate(SUMMARY):
            out[f"forecast/{k}/{name}"] = S[:, op.summary_index[name]].copy()
    names = op.state_names
    for s in STATE + ("line_p", "line_dp", "line_in"):
        out[f"forecast/final/{s}"] = X[:, names.index(s)].copy()
    for i, s in enumerate(model.circulation.state_names):
        out[f"forecast/final/node{i}"] = X[:, names.index(s)].copy()
    return out


def main():
    data = {}
    for case in cases():
        data.update(named_run(*case))
    data.update(forecast_case())
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=HERE).stdout.strip()
    data["commit"] = np.array(commit)
    np.savez_compressed(HERE / "sphere_reference.npz", **data)
    print("wrote", HERE / "sphere_reference.npz", "from", commit)


if __name__ == "__main__":
    main()
