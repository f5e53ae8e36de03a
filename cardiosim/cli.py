"""The ``cardiosim`` command: cardiac biomechanics from bedside signals.

Parses arguments, calls the library, prints progress; computes nothing itself.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from .errors import CardiosimError


def _parse_pairs(items: list[str] | None, option: str, form: str, example: str) -> dict:
    values = {}
    for item in items or []:
        if "=" not in item:
            raise CardiosimError(f"{option} expects {form} (e.g. {example}), got {item!r}")
        name, value = item.split("=", 1)
        values[name.strip()] = value.strip().strip("'\"")
    return values


def _parse_sets(items: list[str] | None) -> dict:
    return _parse_pairs(items, "--set", "NAME=VALUE", "sigma0='150 kPa'")


def _build_model(args):
    from .models import SphereModel, SphereParameters

    params = SphereParameters.simplified_bestel() if args.law == "simplified" else SphereParameters.caruel2014()
    model = SphereModel(params, dt=args.dt)
    return model.with_values(_parse_sets(args.set))


def cmd_simulate(args) -> int:
    from .output import report

    model = _build_model(args)
    res = model.simulate(beats=args.beats, hr=args.hr, until_periodic=args.until_periodic,
                         max_beats=args.beats if args.until_periodic else 200,
                         progress=args.progress or args.beats >= 50)
    command = _command(args)
    paths = report.write_simulation(res, args.out, command=command)
    print(f"simulated {res.n_beats} beats at {args.hr:g} bpm"
          + (f" (periodic after {res.meta['periodic_after_beats']})" if res.periodic else ""))
    print("last beat:")
    print("\n".join(report.summary_lines(res.last_beat())))
    print(f"wrote {', '.join(p.name for p in paths.values())} to {Path(args.out).resolve()}")
    return 0


def _calibration_settings(args):
    from .assimilation import CalibrationSettings

    kw = {"method": args.method, "seed": args.seed}
    if args.estimate:
        kw["estimate"] = tuple(s.strip() for s in args.estimate.split(",") if s.strip())
    if args.sigma_mmhg is not None:
        kw["sigma_mmhg"] = args.sigma_mmhg
    if args.drift is not None:
        kw["drift_log2_per_beat"] = args.drift
    if getattr(args, "reference", None):
        kw["reference"] = tuple(args.reference)
    if getattr(args, "observe", None):
        kw["observe"] = args.observe
    if getattr(args, "flow_sd_pct", None) is not None:
        kw["flow_sd_pct"] = args.flow_sd_pct
    return CalibrationSettings(**kw)


def _run_calibration(record, args, command: str, extra=None, patient=None, settings=None, truth=None) -> int:
    from .assimilation import calibrate

    cal = calibrate(record, settings or _calibration_settings(args), progress=not args.quiet, patient=patient)
    print(cal.summary_text())
    cal.write(args.out, command=command, truth=truth)
    if extra is not None:
        extra(cal, Path(args.out))
    print(f"report written to {Path(args.out).resolve()}/ (calibration.csv, run.json, trends.png, overlay.png"
          + (", truth.csv, truth_vs_estimate.csv)" if extra is not None else ")"))
    return 0


def cmd_calibrate(args) -> int:
    from .assimilation.patient import Patient

    settings = _calibration_settings(args)   # a bad --reference or --observe fails before any reading
    patient = Patient.parse(args.patient) if args.patient else None
    record = _read_record(args)
    return _run_calibration(record, args, _command(args), patient=patient, settings=settings)


def cmd_calibrate_cohort(args) -> int:
    from .assimilation.cohort import calibrate_cohort

    command = _command(args)
    where = (f"the Dask scheduler at {args.scheduler}" if args.scheduler else
             "this process (serial)" if args.workers == 0 else
             f"a local Dask cluster of {args.workers or 'one per core'} worker processes")
    print(f"calibrating the records of {Path(args.folder).resolve()} on {where}")
    table = calibrate_cohort(args.folder, args.out, _calibration_settings(args), workers=args.workers,
                             scheduler=args.scheduler, progress=not args.quiet, command=command)
    shown = table[[c for c in ("record", "status", "beats", "rmse_median_mmHg") if c in table]].copy()
    if "beats" in shown:
        shown["beats"] = shown["beats"].astype("string").fillna("-")
    print(shown.to_string(index=False, na_rep="-", float_format=lambda v: f"{v:.3g}"))
    for r in table[table["status"] != "ok"].itertuples():
        print(f"error in {r.record}: {r.error}")
    n_bad = int((table["status"] != "ok").sum())
    print(f"{len(table) - n_bad} of {len(table)} records calibrated; "
          f"cohort.csv, cohort.json and one folder per record written to {Path(args.out).resolve()}/")
    return 1 if n_bad else 0


def cmd_demo(args) -> int:
    import numpy as np
    import pandas as pd

    from . import io
    from .assimilation import synthetic

    if args.record:
        return cmd_calibrate(args)
    print("cardiosim demo: a synthetic patient under anaesthesia made by cardiosim's own 0D heart")
    print("(10 min at 125 Hz: baseline, hypotension from vasodilation and depressed contractility at")
    print("~3 min, vasopressor response at ~6 min; 1 mmHg noise, a flush, a gap and a zeroing),")
    print("calibrated and tracked beat by beat from its arterial pressure alone.")
    record, truth = synthetic.patient(seed=args.seed)
    if not args.reference:
        # as a thermodilution at the start of the case would give it: the truth's CO at 30 s
        co = float(np.interp(30.0, truth["t_s"], truth["CO_L_min"]))
        args.reference = [f"CO={co:.3f}@30"]
        print(f"one-point reference: the synthetic patient's CO at 30 s, {co:.3f} L/min (--reference CO={co:.3f}@30)")

    def compare(cal, out):
        io.write_csv(out / "truth.csv", truth)
        b = cal.beats
        rows = []
        for t_min in (2.0, 5.0, 9.5):
            k = int(np.searchsorted(b["t_s"], t_min * 60))
            j = int(np.searchsorted(truth["t_s"], t_min * 60))
            row = {"t_min": t_min}
            for name, tcol, ecol in (("sigma0_kPa", "sigma0_kPa", "sigma0"), ("Rd", "Rd_mmHg_s_per_mL", "Rd"),
                                     ("SV_mL", "SV_mL", "SV_mL"), ("MAP_mmHg", "MAP_mmHg", "model_MAP_mmHg")):
                have = ecol in b
                row[f"{name}_true"] = truth[tcol][j]
                # the 95 % band next to each estimate
                for suffix, col in (("est", ecol), ("lo", f"{ecol}_lo"), ("hi", f"{ecol}_hi")):
                    row[f"{name}_{suffix}"] = b[col][k] if have and col in b else np.nan
            rows.append(row)
        tab = pd.DataFrame(rows)
        io.write_csv(out / "truth_vs_estimate.csv", tab)
        print("truth vs estimate [95 % band] (baseline, hypotension, after vasopressor):")
        shown = pd.DataFrame({"t_min": tab["t_min"]})
        for name in ("sigma0_kPa", "Rd", "SV_mL", "MAP_mmHg"):
            shown[f"{name} true"] = tab[f"{name}_true"].map(lambda v: f"{v:.3g}")
            shown[f"{name} estimate"] = [f"{e:.3g} [{lo:.3g}-{hi:.3g}]" for e, lo, hi in
                                         zip(tab[f"{name}_est"], tab[f"{name}_lo"], tab[f"{name}_hi"])]
        print(shown.to_string(index=False))

    return _run_calibration(record, args, "cardiosim demo", extra=compare, truth=truth)


def _parse_roles(items: list[str] | None) -> dict:
    return {role.upper(): name for role, name in _parse_pairs(items, "--role", "ROLE=CHANNEL", "ABP=ART2").items()}


def _record_arguments(p: argparse.ArgumentParser) -> None:
    """The options that say how to read a record, shared by inspect and calibrate."""
    p.add_argument("--role", nargs="+", action="extend", metavar="ROLE=CHANNEL",
                   help="name the channel of a role, e.g. ABP=ART2")
    p.add_argument("--columns", metavar="NAMES",
                   help="comma-separated column names, with units, of a table without a header line "
                        "(time first unless --fs), e.g. time_s,flow_mL_s,ABP_central_mmHg,ABP_mmHg; or "
                        "the signal names of a .mat file without its .hea")
    p.add_argument("--unit", nargs="+", action="extend", metavar="CHANNEL=UNIT",
                   help='give or override a channel\'s unit, e.g. "ABP=kPa"')
    p.add_argument("--fs", type=float, metavar="HZ",
                   help="sampling rate of a headerless table without a time column or of a .mat file "
                        "without its .hea")


def _read_record(args):
    from .signals import read_record

    columns = None if args.columns is None else [c.strip() for c in args.columns.split(",")]
    units = _parse_pairs(args.unit, "--unit", "CHANNEL=UNIT", "ABP=mmHg") or None
    return read_record(args.record, roles=_parse_roles(args.role), units=units, columns=columns,
                       fs_hz=args.fs)


def cmd_inspect(args) -> int:
    from . import io
    from .signals import inspection
    from .signals import RecordError, analyse_arterial

    record = _read_record(args)
    try:
        analysis = analyse_arterial(record)
    except RecordError as exc:
        if record.find("ABP") is not None:
            raise
        print(inspection.summary_text(record, None))
        print(f"note: {exc}")
        return 0
    print(inspection.summary_text(record, analysis))
    written = []
    if args.plot:
        written.append(io.write_figure(args.plot, inspection.inspect_figure(record, analysis)))
    if args.out:
        out = Path(args.out)
        written.append(io.write_csv(out / "beats.csv", analysis.beats))
        written.append(io.write_csv(out / "segments.csv", analysis.segments))
        written.append(io.write_json(out / "inspect.json", io.provenance(
            "cardiosim inspect", {"record": str(args.record), "roles": _parse_roles(args.role),
                                  **analysis.settings})))
    for path in written:
        print(f"wrote {path}")
    return 0


HEARTBEAT_SETUP = {"mesh": "land", "level": 1, "order": 2, "dt": 1e-3, "period": 0.8, "peak_tension_kpa": 60.0,
                   "active": "twitch", "wall_ratio": 0.1, "scheme": "generalized-alpha"}


BENCHMARK_DEFAULTS = {"level": 3, "order": 1, "peak_tension_kpa": 120.0}


def _benchmark_mesh_file(path: Path, order: int):
    """A mesh of the benchmark's ventricle from a file: the toolkit's legacy FEniCS XDMF/HDF5
    (markers named by their surfaces), or any file meshio reads with ENDO, EPI and BASE."""
    from .fem.arostica2025 import benchmark_mesh
    from .geometry import Mesh

    if path.suffix.lower() in (".xdmf", ".h5"):
        return benchmark_mesh(path, order=order)
    m = Mesh.read(path)
    m.require("ENDO", "EPI", "BASE")
    return m.to_quadratic() if order == 2 and m.order == 1 else m


def cmd_heartbeat(args) -> int:
    from .io import provenance, write_json
    from .models import HeartbeatSimulation
    from .output import heartbeat as out

    setup = {k: getattr(args, k) for k in HEARTBEAT_SETUP}
    data = meta = None
    if args.resume:
        data, meta = out.read_checkpoint(args.resume)
        saved = meta.get("cli_setup", {})
        for k, v in setup.items():
            if v is not None and k in saved and v != saved[k]:
                raise CardiosimError(f"--{k.replace('_', '-')} {v} differs from the checkpoint's {saved[k]} "
                                     f"({args.resume}); leave it out to resume")
        setup = {**HEARTBEAT_SETUP, **saved}
    else:
        given = {k: v for k, v in setup.items() if v is not None}
        # the benchmark's ventricle (generated or a FILE): its own defaults (a finer first
        # level, P1, a twitch near the benchmark's active stress of 119 kPa)
        bench = given.get("mesh", "land") not in ("land", "sphere")
        setup = {**HEARTBEAT_SETUP, **(BENCHMARK_DEFAULTS if bench else {}), **given}
    mesh_file = None
    if setup["mesh"] not in ("land", "sphere", "benchmark"):
        mesh_file = Path(setup["mesh"])
        if not mesh_file.exists():
            raise CardiosimError(f"--mesh {setup['mesh']}: neither land, benchmark nor sphere, and no such mesh file")
    if args.beats < 1:
        raise CardiosimError(f"--beats must be >= 1, got {args.beats}")
    for opt in ("checkpoint_every", "fields_every"):
        if getattr(args, opt) < 0:
            raise CardiosimError(f"--{opt.replace('_', '-')} must be >= 0 steps, got {getattr(args, opt)}")
    if setup["mesh"] == "sphere":
        from .models.sphere import SphereParameters

        if not 0 < setup["wall_ratio"] < 1:
            raise CardiosimError(f"--wall-ratio must be in (0, 1), got {setup['wall_ratio']}")
        p = SphereParameters.caruel2014_wall(setup["wall_ratio"])
        r_in, _ = p.shell_radii   # the 0D sphere is the shell's mid-surface
        sim = HeartbeatSimulation.sphere_octant(p, r_in, p.d0, level=setup["level"], order=setup["order"],
                                                period=setup["period"], scheme=setup["scheme"])
        what = f"spherical shell (an eighth), d/R {setup['wall_ratio']:g}, the 0D sphere's laws"
    elif setup["mesh"] == "benchmark" or mesh_file is not None:
        mesh = None if mesh_file is None else _benchmark_mesh_file(mesh_file, setup["order"])
        sim = HeartbeatSimulation.benchmark_ellipsoid(setup["level"], setup["order"], period=setup["period"],
                                                      mesh=mesh, activation=setup["active"], scheme=setup["scheme"],
                                                      peak_tension=setup["peak_tension_kpa"] * 1e3)
        what = (f"elastodynamics-benchmark ventricle ({mesh.name if mesh is not None else 'generated'}), "
                f"{setup['active']} activation")
    else:
        sim = HeartbeatSimulation.land_ellipsoid(setup["level"], setup["order"], period=setup["period"],
                                                 peak_tension=setup["peak_tension_kpa"] * 1e3,
                                                 activation=setup["active"], scheme=setup["scheme"])
        what = f"Land ellipsoid, {setup['active']} activation"
    if data is not None:
        sim.restore(data, meta, source=str(args.resume))
    if args.energy:
        sim.track_energy()
    print(f"{what}, level {setup['level']}, P{setup['order']}: {sim.dyn.n} unknowns, "
          f"{setup['dt'] * 1e3:g} ms steps, from t = {sim.dyn.state.t:g} s")
    progress = None if args.quiet else True   # a tqdm bar per beat
    paths = out.run_to_folder(sim, args.beats, setup["dt"], args.out, args.checkpoint_every, args.fields_every,
                              progress=progress, meta_extra={"cli_setup": setup})
    write_json(Path(args.out) / "run.json", provenance(_command(args), {**setup, "beats": args.beats,
                                                                        "resume": args.resume}))
    if args.energy and sim.energy_rows:
        e = sim.energy_rows
        work = max(sum(abs(r.pressure_work) for r in e), sum(abs(r.active_work) for r in e))
        print(f"energy ledger ({setup['scheme']}): largest step defect {max(abs(r.defect) for r in e):.3e} J, "
              f"sum of defects {sum(r.defect for r in e):+.3e} J, against {work:.3e} J of work")
    for b in sim.beats()[-1:]:
        print(f"last beat: EDV {b['EDV_mL']:.2f} mL, ESV {b['ESV_mL']:.2f} mL, SV {b['SV_mL']:.2f} mL, "
              f"EF {100 * b['EF']:.0f} %, peak P {b['peak_P_mmHg']:.1f} mmHg")
    print(f"wrote {', '.join(sorted(p.name for p in paths.values()))}, run.json to {Path(args.out).resolve()}")
    return 0


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cardiosim", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True)

    sim = sub.add_parser("simulate", help="simulate the 0D heart and write results and figures")
    sim.add_argument("--beats", type=int, default=20, help="number of beats (default 20)")
    sim.add_argument("--hr", type=float, default=75.0, help="heart rate [bpm] (default 75)")
    sim.add_argument("--set", nargs="+", action="extend", metavar="NAME=VALUE",
                     help="parameter values, with units: sigma0='150 kPa' Rd='0.8 mmHg*s/mL' P_at='8 mmHg'")
    sim.add_argument("--law", choices=["bcs", "simplified"], default="bcs", help="active law (default bcs)")
    sim.add_argument("--dt", type=float, default=1e-3, help="time step [s] (default 1e-3)")
    sim.add_argument("--until-periodic", action="store_true", help="stop early once the beat is periodic")
    sim.add_argument("--out", default="cardiosim-out", help="output folder")
    sim.add_argument("--progress", action="store_true", help="show a progress bar")
    sim.set_defaults(func=cmd_simulate)

    ins = sub.add_parser("inspect", help="read a recording, find and flag every arterial beat")
    ins.add_argument("record", help="WFDB record (stem or .hea), CSV/Parquet file or folder, .vital file")
    ins.add_argument("--plot", metavar="FILE", help="write a figure of the signal with beats and flags")
    ins.add_argument("--out", metavar="DIR", help="write beats.csv, segments.csv and inspect.json")
    _record_arguments(ins)
    ins.set_defaults(func=cmd_inspect)

    cal = sub.add_parser("calibrate", help="calibrate and track the heart model on a record's arterial pressure")
    cal.add_argument("record", help="WFDB record (stem or .hea), CSV/Parquet file or folder, .vital file")
    _calibration_arguments(cal, "cardiosim-calibration")
    cal.add_argument("--observe", metavar="ABP[,CO][,SV][,FLOW]",
                     help="what the filter observes: ABP (default), plus the record's CO and/or SV numerics "
                          "(and any --reference) as sparse observations that track the SV/CO scale, and/or "
                          "FLOW: the SV of every beat from a flow waveform channel (e.g. an aortic probe)")
    cal.add_argument("--flow-sd-pct", type=float, dest="flow_sd_pct",
                     help="observation error of CO/SV values, %% of the value (default 10)")
    cal.add_argument("--patient", metavar="age=Y,sex=M|F,height=CM,weight=KG",
                     help="patient size; without --reference, height and weight set the SV/CO scale "
                          "from the expected heart size (body surface area)")
    _record_arguments(cal)
    cal.set_defaults(func=cmd_calibrate)

    coh = sub.add_parser("calibrate-cohort", help="calibrate every record of a folder, one Dask task per "
                                                  "record (local cluster or an existing one)")
    coh.add_argument("folder", metavar="DIR", help="folder of records: WFDB (.hea), CSV/Parquet files, "
                                                   "sub-folders of per-track tables")
    _calibration_arguments(coh, "cardiosim-cohort")
    where = coh.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N",
                       help="worker processes of the local Dask cluster (default: one per core; 0: serial)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on an existing Dask cluster, e.g. tcp://host:8786 (DIR and --out "
                            "must be on a file system the workers share)")
    coh.set_defaults(func=cmd_calibrate_cohort)

    hb = sub.add_parser("heartbeat", help="a 3D ventricle (finite elements) beating against the circulation: "
                                          "pv.csv, beats.csv, fields.xdmf, checkpoints/")
    hb.add_argument("--mesh", default=None, metavar="land|benchmark|sphere|FILE",
                    help="the ventricle: land (Land et al. 2015 ellipsoid, default), benchmark (the elastodynamics "
                         "benchmark's ventricle, Arostica et al. 2025, generated with its sloped base; level 3, P1 "
                         "and a 120 kPa twitch by default), FILE (a mesh of that ventricle: the toolkit's "
                         "ellipsoid_0.005.xdmf, or a meshio file with ENDO, EPI and BASE markers) or sphere (a "
                         "thick spherical shell with the 0D sphere's laws and circulation, BCS activation)")
    hb.add_argument("--wall-ratio", type=float, default=None, dest="wall_ratio",
                    help="sphere: wall thickness over the mid-wall radius, the 0D sphere's R0 (default 0.1; the "
                         "0D pressures are kept)")
    hb.add_argument("--level", type=int, default=None, help="mesh refinement level (default 1)")
    hb.add_argument("--order", type=int, choices=[1, 2], default=None, help="element order (default 2)")
    hb.add_argument("--beats", type=int, default=2, help="beats to run (default 2)")
    hb.add_argument("--dt", type=float, default=None, help="time step [s] (default 1e-3)")
    hb.add_argument("--period", type=float, default=None, help="heart period [s] (default 0.8)")
    hb.add_argument("--peak-tension-kpa", type=float, default=None, dest="peak_tension_kpa",
                    help="peak active tension of the twitch [kPa] (default 60)")
    hb.add_argument("--active", choices=["twitch", "bcs"], default=None,
                    help="activation: twitch (a prescribed tension, default) or bcs (the Bestel-Clement-Sorine "
                         "law of the 0D sphere at every quadrature point)")
    hb.add_argument("--scheme", choices=["generalized-alpha", "energy-consistent"], default=None,
                    help="time scheme (default generalized-alpha, alpha_m 0.2, alpha_f 0.4; energy-consistent: "
                         "the mid-point rule with the discrete-gradient stress)")
    hb.add_argument("--energy", action="store_true",
                    help="keep the energy ledger of every step in energy.csv (kinetic, stored, dissipated, "
                         "pressure and active work, defect)")
    hb.add_argument("--out", default="cardiosim-heartbeat", help="output folder")
    hb.add_argument("--checkpoint-every", type=int, default=0, metavar="N", dest="checkpoint_every",
                    help="write a checkpoint every N steps (default: at the end only)")
    hb.add_argument("--fields-every", type=int, default=10, metavar="N", dest="fields_every",
                    help="write the fields every N steps (default 10; 0: none)")
    hb.add_argument("--resume", metavar="FILE", help="continue from a checkpoint (its setup is used)")
    hb.add_argument("--quiet", action="store_true", help="no progress bar (one per beat otherwise)")
    hb.set_defaults(func=cmd_heartbeat)

    demo = sub.add_parser("demo", help="the main job on an embedded synthetic patient (or RECORD): "
                                       "writes ./cardiosim-demo/")
    demo.add_argument("record", nargs="?", help="optional record to calibrate instead of the synthetic patient")
    _calibration_arguments(demo, "cardiosim-demo")
    demo.add_argument("--role", nargs="+", action="extend", metavar="ROLE=CHANNEL", help=argparse.SUPPRESS)
    demo.set_defaults(func=cmd_demo)
    return parser


def _calibration_arguments(p, default_out: str) -> None:
    p.add_argument("--out", default=default_out, help=f"output folder (default ./{default_out})")
    p.add_argument("--method", choices=["roukf", "ukf", "enkf", "lsq"], default="roukf",
                   help="estimator (default roukf: reduced-order UKF)")
    p.add_argument("--estimate", metavar="NAMES",
                   help="parameters to estimate, e.g. sigma0,Rd,Cp (default: chosen by identifiability)")
    p.add_argument("--sigma-mmhg", type=float, dest="sigma_mmhg",
                   help="observation error [mmHg] (default: estimated from the first fit)")
    p.add_argument("--drift", type=float, help="parameter drift, log2 per beat (default 0.01)")
    p.add_argument("--seed", type=int, default=0, help="seed (EnKF ensemble; synthetic patient)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--reference", action="append", metavar="CO=L_MIN@S|SV=ML@S|first",
                   help="reference cardiac output [L/min] or stroke volume [mL] at a time [s from the "
                        "record start], e.g. CO=4.6@120 (repeatable), or 'first': the first value of the "
                        "record's CO or SV numeric. Sets the SV/CO scale; without it SV and CO are relative")


def _command(args) -> str:
    """The command line as typed (the argv given to main, not the host process's)."""
    return "cardiosim " + " ".join(shlex.quote(a) for a in args.argv)


def _version() -> str:
    from . import __version__
    return f"cardiosim {__version__}"


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return args.func(args)
    except (CardiosimError, ValueError) as exc:
        print(f"cardiosim {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
