"""Write the stored 0D reference: per-step output of the sphere and the assimilation forecast.

Run once on the commit whose results later commits must reproduce bit for bit::

    python tests/data/make_sphere_reference.py

It writes ``tests/data/sphere_reference.npz``; ``tests/test_sphere_stored.py`` compares
fresh runs with it using exact equality.
"""

from __future__ import annotations

import pathlib
import subprocess

import numpy as np

import cardiosim as cs

HERE = pathlib.Path(__file__).parent
RR = [0.81, 0.79, 0.85, 0.72, 0.9]


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


def forecast_case():
    """Assimilation forecast: three members with their own sigma0, Rd, Cp over two beats."""
    from cardiosim.assimilation import BeatOperator, ParameterSet

    model = cs.SphereModel()
    ps = ParameterSet.build(model, "sigma0,Rd,Cp")
    op = BeatOperator(model, ps, n_obs=16, line=(8.0, 0.3))
    omega = np.array([[0.0, 0.0, 0.0], [0.1, -0.05, 0.2], [-0.2, 0.1, -0.1]])
    X = np.repeat(op.initial_state()[None, :], 3, axis=0)
    Zs, Ss = [], []
    for T in (0.8, 0.75):
        Z, S = op.forecast(X, omega, T)
        Zs.append(Z.copy())
        Ss.append(S.copy())
    return np.stack(Zs), np.stack(Ss), X.copy()


def main():
    data = {}
    for name, model, rr in cases():
        res = model.simulate(rr=rr)
        data[name + "/raw"] = res.raw
        data[name + "/final"] = res.final_state
    Z, S, X = forecast_case()
    data["forecast/Z"], data["forecast/summary"], data["forecast/X"] = Z, S, X
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=HERE).stdout.strip()
    data["commit"] = np.array(commit)
    np.savez_compressed(HERE / "sphere_reference.npz", **data)
    print("wrote", HERE / "sphere_reference.npz", "from", commit)


if __name__ == "__main__":
    main()
