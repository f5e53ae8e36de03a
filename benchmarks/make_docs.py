"""Regenerate the result tables in docs/*.md and README.md from benchmarks/results/*.json.

Each table sits between ``<!-- table:NAME -->`` and ``<!-- /table -->``; everything in
between is rewritten from the results files (benchmarks/_record.py writes them), with a line
stating the commit and date the figures were measured at. Text outside the markers is left
alone. A table whose results file is missing says how to produce it.

Run: python benchmarks/make_docs.py [--check]   (--check: exit 1 if a file would change)
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
FILES = [ROOT / "docs" / "verification.md", ROOT / "docs" / "performance.md", ROOT / "README.md"]
MARK = re.compile(r"(<!-- table:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /table -->)", re.S)
PERF = "docs/performance.md"
VERIF = "docs/verification.md"


# ---- loading and formatting -----------------------------------------------------------
def load(name: str) -> dict | None:
    f = RESULTS / f"{name}.json"
    return json.loads(f.read_text()) if f.exists() else None


def land_runs() -> list[dict]:
    runs = [json.loads(f.read_text()) for f in sorted(RESULTS.glob("land2015_*.json"))]
    key = (lambda d: (d["result"]["problem"], d["result"]["dofs"]))
    return sorted(runs, key=key)


def num(v, digits: int = 0) -> str:
    """1234.5 -> '1,234' (digits=0) or '1,234.5' (digits=1); None -> 'n/a'."""
    if v is None:
        return "n/a"
    return f"{v:,.{digits}f}"


def sig(v, n: int = 3) -> str:
    """Three significant figures with thousands separators (timings are noisy)."""
    if v is None:
        return "n/a"
    if v == 0:
        return "0"
    from math import floor, log10
    d = max(0, n - 1 - int(floor(log10(abs(v)))))
    return num(round(v, d), d)


def pct(v, digits: int = 2) -> str:
    return "n/a" if v is None else f"{100 * v:+.{digits}f} %"


def provenance(docs: list[dict], how: str) -> str:
    """One line: commit(s), date(s), versions and load of the runs behind a table."""
    docs = [d for d in docs if d]
    shas = sorted({((d["commit"].get("started_at") or d["commit"]).get("sha") or "unknown")[:7] for d in docs})
    dates = sorted(d["date"][:16].replace("T", " ") for d in docs)
    when = dates[0] if dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}"
    # the code that ran is the start's when the checkout changed during the run
    pkg_dirty = any((d["commit"].get("started_at") or d["commit"]).get("package_dirty") for d in docs)
    state = "cardiosim with uncommitted changes" if pkg_dirty else "cardiosim as committed"
    v = docs[-1]["versions"]
    m = docs[-1]["machine"]
    loads = [d["machine"].get("load_average", [None])[0] for d in docs]
    loads = [x for x in loads if x is not None]
    lo, hi = (f"{min(loads):.1f}", f"{max(loads):.1f}") if loads else ("", "")
    span = lo if lo == hi else f"{lo}-{hi}"
    load = f", load average {span} at the end of the run{'s' if len(docs) > 1 else ''}" if loads else ""
    return (f"*Measured at commit `{', '.join(shas)}` ({state}), {when} UTC, with `{how}`; "
            f"Python {v['python']}, NumPy {v['numpy']}, Numba {v['numba']}, SciPy {v['scipy']}; "
            f"{m['processor']}, {m['cores']} cores shared with other jobs{load}. "
            f"Results: `benchmarks/results/`.*\n")


def missing(name: str, how: str) -> str:
    return f"*Not measured at this commit: run `{how}` (writes benchmarks/results/{name}.json).*\n"


def table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out) + "\n"


# ---- 0D heart -------------------------------------------------------------------------
def from_results(name: str, how: str):
    """A table made from the results file ``name``: the decorated function gets its result
    and the whole record and returns the table; the provenance line is put above it, and a
    missing file is reported with the command (``how``) that makes it."""
    def wrap(build):
        @functools.wraps(build)
        def table_text() -> str:
            d = load(name)
            if d is None:
                return missing(name, how)
            return provenance([d], how) + "\n" + build(d["result"], d)
        return table_text
    return wrap


@from_results("sphere0d", "python benchmarks/sphere0d.py")
def t_sphere0d(r: dict, d: dict) -> str:
    rows = [
        ["time step meeting 1 % vs svzerod (EDV, ESV, peak P_v, SBP, DBP)",
         f"{1e3 * r['dt_s']:g} ms ({r['steps_per_beat']} steps/beat), "
         f"error {100 * r['max_rel_error_vs_svzerod']:.2f} %"],
        ["heartbeats per second, BCS model at that step", f"**{num(r['beats_per_second'])}**"],
        ["heartbeats per second, simplified law at that step", num(r["beats_per_second_simplified"])],
        ["svzerod ChamberSphere, same model, same steps per beat",
         f"{num(r['svzerod_sphere_cycles_per_second'])} cycles/s: simplified law "
         f"**{r['speedup_vs_svzerod_sphere']:.0f}x**"],
        ["svzerod closed-loop heart test case (1,000 steps per cycle, "
         f"dt {1e3 * r['svzerod_closed_loop_dt_s']:.3f} ms)",
         f"{r['svzerod_closed_loop_cycles_per_second']:.1f} cycles/s"],
        ["BCS model at that same time step", f"{num(r['beats_per_second_at_equal_dt'])} beats/s: "
                                             f"**{r['speedup_vs_svzerod_closed_loop']:.0f}x**"],
        ["BCS model at 1,000 steps per beat (dt 0.8 ms)", f"{num(r['beats_per_second_at_1000_steps'])} beats/s: "
                                                          f"{r['speedup_vs_svzerod_closed_loop_equal_steps']:.0f}x"],
        ["BCS model at its 1 %-accurate step vs svzerod at 1,000 steps/cycle",
         f"**{r['speedup_vs_svzerod_closed_loop_at_1pct']:.0f}x**"],
    ]
    return table(["quantity", "value"], rows)


@from_results("sphere0d", "python benchmarks/sphere0d.py")
def t_sphere0d_accuracy(r: dict, d: dict) -> str:
    rows = [["periodic beat of the simplified law vs svzerod 3.2 at 6,400 steps per beat (EDV, ESV, peak P_v, "
             "SBP, DBP): largest time step of 8, 4, 2, 1 ms within 1 %",
             f"{1e3 * r['dt_s']:g} ms, largest error {100 * r['max_rel_error_vs_svzerod']:.2f} %",
             "`benchmarks/sphere0d.py`"]]
    return table(["check", "result", "measured by"], rows)


@from_results("sphere0d_checkouts", "python benchmarks/sphere0d_checkouts.py CHECKOUT ...")
def t_sphere0d_checkouts(r: dict, d: dict) -> str:
    rows = []
    for c in r["checkouts"]:
        lab = c["label"]
        rounds = " ; ".join(f"{num(x[lab]['bcs'])} / {num(x[lab]['simplified'])}" for x in r["rounds"])
        rel = r["relative_to_first"][lab]
        rows.append([f"`{lab}`", rounds, f"**{num(r['best'][lab]['bcs'])}** / {num(r['best'][lab]['simplified'])}",
                     f"{rel['bcs']:.3f} / {rel['simplified']:.3f}"])
    loads = sorted({x[c["label"]]["load1"] for x in r["rounds"] for c in r["checkouts"]})
    note = (f"\nBeats per second, BCS model / simplified law, dt {1e3 * r['dt_s']:g} ms, best of {r['repeats']} "
            f"runs of {r['beats']} beats per measurement; checkouts run alternately, round after round, each with "
            f"its own Numba cache; load average {loads[0]:g}-{loads[-1]:g} during the rounds. "
            "A `-dirty` label would mean uncommitted changes under cardiosim/.\n")
    return table(
        ["checkout", "per round", "best", "relative to the first"], rows) + note


# ---- finite elements --------------------------------------------------------------------
def _mesh(r: dict) -> str:
    if r["problem"] == 1:
        s = f"beam level {r['level']}"
    else:
        s = f"ellipsoid level {r['level']}"
        if r.get("layers"):
            s += f", {r['layers']} layers"
        if r.get("apex_grading", 1.0) != 1.0:
            s += f", grading {r['apex_grading']:g}"
    return s + f" ({num(r['cells'])} tets)"


def _qoi(r: dict) -> tuple[str, str]:
    if r["problem"] == 1:
        return f"{r['beam_point_z_mm']:.4f} mm ({r['reference']['beam_point_z_mm']})", pct(r["beam_point_z_rel_error"])
    ref = r["reference"]
    val = f"{r['endo_apex_z_mm']:.3f} / {r['epi_apex_z_mm']:.3f} mm / {r['cavity_volume_mm3']:.1f} mm^3"
    val += f" ({ref['endo_apex_z_mm']} / {ref['epi_apex_z_mm']} / {ref['cavity_volume_mm3']})"
    err = " / ".join(f"{100 * r[k]:+.2f}" for k in ("endo_apex_z_rel_error", "epi_apex_z_rel_error",
                                                   "cavity_volume_rel_error")) + " %"
    return val, err


def t_land2015() -> str:
    how = "python benchmarks/land2015.py --problem P --level L [--layers T --apex-grading G]"
    runs = land_runs()
    if not runs:
        return missing("land2015_p1_L3", how)
    rows = []
    for d in runs:
        r = d["result"]
        val, err = _qoi(r)
        rows.append([str(r["problem"]), _mesh(r), num(r["dofs"]), val, err, str(r["newton_iterations"]),
                     f"{sig(r['wall_s'])} s"])
    return provenance(runs, how) + "\n" + table(
        ["problem", "mesh", "unknowns", "result (reference)", "error", "Newton its", "wall"], rows)


def t_land2015_time() -> str:
    how = "python benchmarks/land2015.py --problem P --level L"
    runs = land_runs()
    if not runs:
        return missing("land2015_p2_L2", how)
    rows = []
    for d in runs:
        r = d["result"]
        rows.append([str(r["problem"]), _mesh(r), num(r["dofs"]), r["linear_solver"],
                     f"{r['newton_iterations']} ({r['load_steps']} steps)", f"**{sig(r['wall_s'])} s**",
                     f"{sig(r['assembly_s'])} s", f"{sig(r['solve_s'])} s", f"{num(r['peak_rss_mb'])} MB"])
    return provenance(runs, how) + "\n" + table(
        ["problem", "mesh", "unknowns", "linear solver", "Newton its", "wall (solve)", "assembly", "linear solves",
         "peak RSS"], rows)


def elastodynamics_runs() -> list[dict]:
    order = {"step_0A": 0, "step_0B": 1, "step_1": 2, "step_2A": 3, "step_2B": 4, "step_2C": 5}
    runs = [json.loads(f.read_text()) for f in sorted(RESULTS.glob("elastodynamics_step_*.json"))]
    return sorted(runs, key=lambda d: (order.get(d["result"]["case"], 9), -d["result"]["order"],
                                       d["benchmark"]))


def _ed_run(r: dict) -> str:
    s = f"P{r['order']}, {num(r['dofs'])} unknowns, dt {1e3 * r['dt_s']:g} ms, {r['scheme']}"
    return s + (", energy ledger" if "energy_defect_max_rel" in r else "")


def t_elastodynamics() -> str:
    how = "python benchmarks/elastodynamics.py --case CASE [--order 1]"
    runs = elastodynamics_runs()
    if not runs:
        return missing("elastodynamics_step_1", how)
    rows = []
    for d in runs:
        r = d["result"]
        red = r.get("red_vs_team_mean")
        med = r.get("median_team_red")
        if red:
            ok = all(red[k] <= med[k] for k in ("p0", "p1"))
            score = (f"{red['p0']:.4f} / {red['p1']:.4f} (median {med['p0']:.4f} / {med['p1']:.4f}): "
                     + ("**within**" if ok else "**above**"))
            lo, hi = r["team_p0_ux_peak_mm"]
            t0, t1 = r["team_p0_ux_peak_t_s"]
            inside = lo <= r["p0_ux_peak_mm"] <= hi and t0 - 1e-9 <= r["p0_ux_peak_t_s"] <= t1 + 1e-9
            peak = (f"{r['p0_ux_peak_mm']:.2f} mm at {r['p0_ux_peak_t_s']:.2f} s (teams {lo:.2f} .. {hi:.2f} "
                    f"at {t0:.2f}-{t1:.2f}): " + ("inside" if inside else "**outside**"))
        else:
            score = "blinded: no team curves"
            peak = f"{r['p0_ux_peak_mm']:.2f} mm at {r['p0_ux_peak_t_s']:.2f} s"
        rows.append([r["case"].replace("step_", ""), _ed_run(r), score, peak,
                     f"{r['newton_iterations']} ({r['substeps']} cut)", f"{sig(r['wall_s'] / 60)} min",
                     f"{num(r['peak_rss_mb'])} MB"])
    return provenance(runs, how) + "\n" + table(
        ["step", "run", "RED vs team mean, p0 / p1", "p0 peak u_x", "Newton its", "wall", "peak RSS"], rows)


def t_elastodynamics_energy() -> str:
    how = "python benchmarks/elastodynamics.py --case CASE --energy [--scheme energy-consistent]"
    runs = [d for d in elastodynamics_runs() if "energy_defect_max_rel" in d["result"]]
    if not runs:
        return missing("elastodynamics_step_1_P1_energy", how)
    rows = [[d["result"]["case"].replace("step_", ""), _ed_run(d["result"]),
             f"{d['result']['energy_defect_max_rel']:.2e}", f"{d['result']['energy_defect_total_rel']:+.2e}"]
            for d in runs]
    return provenance(runs, how) + "\n" + table(
        ["step", "run", "largest step defect / largest step work", "summed defect / summed work"], rows)


def t_elastodynamics_dolfinx() -> str:
    """The runs with the DOLFINx peer beside them (``--peer dolfinx``)."""
    how = ("CARDIOSIM_DOLFINX_PYTHON=... python benchmarks/elastodynamics.py --case CASE --order 1 "
           "--peer dolfinx")
    runs = [d for d in elastodynamics_runs() if d["result"].get("dolfinx")]
    if not runs:
        return missing("elastodynamics_step_1_P1", how)
    rows = []
    for d in runs:
        r, p = d["result"], d["result"]["dolfinx"]
        ratio = r["speedup_vs_dolfinx"]
        rows.append([r["case"].replace("step_", ""), _ed_run(r), f"DOLFINx {p['version']}, {p['linear_solver']}",
                     f"{r['wall_s']:.0f} s ({r['newton_iterations']} its)",
                     f"{p['wall_s']:.0f} s ({p['newton_iterations']} its, {p['jacobian_assemblies']} Jacobians)",
                     f"{ratio:.2f}: " + ("**cardiosim faster**" if ratio > 1 else "**DOLFINx faster**"),
                     "{:.0f} / {:.0f} ms vs {:.0f} / {:.0f} ms".format(
                         *(1e3 * x[k] / x["newton_iterations"] for x in (r, p) for k in ("assembly_s", "solve_s"))),
                     f"{r['dolfinx_curve_max_rel_diff']:.1e}", f"{num(r['peak_rss_mb'])} / {num(p['peak_rss_mb'])} MB"])
    return provenance(runs, how) + "\n" + table(
        ["step", "run", "peer", "cardiosim wall", "DOLFINx wall", "DOLFINx / cardiosim time",
         "assembly / solve a Newton iteration, cardiosim vs DOLFINx", "curves' largest difference / peak",
         "peak RSS"], rows)


@from_results("heartbeat_L2", "python benchmarks/heartbeat.py")
def t_heartbeat(r: dict, d: dict) -> str:
    beats = r["per_beat"]
    rows = [[str(int(b["beat"])), f"{b['EDV_mL']:.3f}", f"{b['ESV_mL']:.3f}", f"{b['SV_mL']:.3f}",
             f"{100 * b['EF']:.1f} %", f"{b['peak_P_mmHg']:.1f}"] for b in beats]
    per_beat = r["wall_s_per_beat"]
    head = (f"Land ellipsoid, level {r['level']}, P{r['order']} ({num(r['dofs'])} unknowns), "
            f"{r['dt_s'] * 1e3:g} ms steps ({r['steps_per_beat']} a beat), {r['beats']} beats: "
            f"**{sig(per_beat / 60)} min a beat** (target 5 min: " + ("met" if per_beat <= 300 else "**not met**")
            + f"), {num(r['newton_iterations'])} Newton iterations, peak RSS {num(r['peak_rss_mb'])} MB; "
            f"EDV and ESV change between the last two beats **{100 * r['limit_cycle_change']:.2f} %** "
            f"(limit cycle: below 1 %); the largest step's volume balance |dV - dt (Q_in - Q_out)| / EDV "
            f"{r['volume_balance_max_rel']:.1e}.\n\n")
    out = head + table(["beat", "EDV [mL]", "ESV [mL]", "SV [mL]", "EF", "peak P [mmHg]"], rows)
    small = load("heartbeat_L1")
    if small is not None and small["result"]["dt_s"] == r["dt_s"] and small["result"]["dofs"] < r["dofs"]:
        s1 = small["result"]
        ratio = r["dofs"] / s1["dofs"]
        a_t = math.log(per_beat / s1["wall_s_per_beat"]) / math.log(ratio)
        a_m = math.log(r["peak_rss_mb"] / s1["peak_rss_mb"]) / math.log(ratio)
        big = 5e5 / r["dofs"]
        out += (f"\nScaling from level {s1['level']} ({num(s1['dofs'])} unknowns, "
                f"{sig(s1['wall_s_per_beat'])} s a beat, {num(s1['peak_rss_mb'])} MB; commit "
                f"`{((small['commit'].get('started_at') or small['commit'])['sha'] or '')[:7]}`) to level "
                f"{r['level']}: wall time a beat grows as n^{a_t:.2f}, memory as n^{a_m:.2f}. Extrapolated, "
                f"a 500k-unknown heartbeat at the same step would take about "
                f"**{sig(per_beat * big ** a_t / 3600)} h** and {sig(r['peak_rss_mb'] * big ** a_m / 1024)} GB "
                f"on one core. It is likely an underestimate: a sparse direct factorisation of a 3D mesh "
                f"grows as about n^2 (nested dissection), faster than these small meshes show.\n")
    return out


def t_shell0d() -> str:
    """The 3D shell against the 0D sphere: every shell0d*.json, one table."""
    how = "python benchmarks/shell0d.py [--levels 2]"
    docs = [d for d in (load(p.stem) for p in sorted((RESULTS).glob("shell0d*.json"))) if d is not None]
    if not docs:
        return missing("shell0d", how)
    rows = []
    for d in docs:
        r = d["result"]
        for x in r["rows"]:
            if "failed" in x:
                rows.append([f"{x['ratio']:g}", f"L{x['level']}", num(x["dofs"]), "failed: " + x["failed"][:80]]
                            + [""] * 8)
                continue
            lc = x["limit_cycle_change"]
            inner = (f"{x['EDV_diff_inner_pct']:+.1f} / {x['ESV_diff_inner_pct']:+.1f} / "
                     f"{x['peak_P_diff_inner_pct']:+.1f} %") if "EDV_diff_inner_pct" in x else "-"
            rows.append([f"{x['ratio']:g}", f"L{x['level']}, {x['layers']} layer" + ("s" if x["layers"] > 1 else ""),
                         num(x["dofs"]), f"{x['EDV_3d_mL']:.2f} / {x['EDV_0d_mL']:.2f}",
                         f"{x['ESV_3d_mL']:.2f} / {x['ESV_0d_mL']:.2f}",
                         f"{x['peak_P_3d_mmHg']:.1f} / {x['peak_P_0d_mmHg']:.1f}",
                         f"{x['EDV_diff_pct']:+.2f} %", f"{x['ESV_diff_pct']:+.2f} %", f"{x['peak_P_diff_pct']:+.2f} %",
                         inner, "-" if lc is None else f"{100 * lc:.2f} %", f"{x['wall_s']:.0f}"])
    r0 = docs[0]["result"]
    head = (f"3D shell (an eighth, P2, {r0['dt_3d_s'] * 1e3:g} ms steps) against the 0D sphere "
            f"({r0['dt_0d_s'] * 1e3:g} ms steps), beat {r0['beats']}; values 3D / 0D (the 0D sphere read as the "
            f"mid-surface: its volume less half the wall's), differences (3D - 0D) / 0D; `inner`: EDV / ESV / "
            f"peak P differences with the 0D radius read as the inner radius.\n\n")
    return (provenance(docs, how) + "\n" + head
            + table(["d/R", "mesh", "unknowns", "EDV [mL]", "ESV [mL]", "peak P [mmHg]", "EDV diff", "ESV diff",
                     "peak P diff", "inner", "last-beat change", "wall [s]"], rows))


@from_results("assembly", "python benchmarks/assembly.py")
def t_assembly(r: dict, d: dict) -> str:
    p1, th = r["linear_elasticity_P1"], r["guccione_taylor_hood_P2P1"]
    v = d["versions"]
    peers = []
    if p1.get("skfem_elements_per_second"):
        peers.append(f"scikit-fem {v.get('scikit-fem')}: {num(p1['skfem_elements_per_second'])}/s "
                     f"(**{p1['speedup_vs_skfem']:g}x**)")
    if p1.get("sfepy_elements_per_second"):
        peers.append(f"sfepy {v.get('sfepy')}: {num(p1['sfepy_elements_per_second'])}/s "
                     f"(**{p1['speedup_vs_sfepy']:g}x**)")
    if th.get("dolfinx_elements_per_second"):
        peer_th = (f"DOLFINx: {num(th['dolfinx_elements_per_second'])}/s (**{th['speedup_vs_dolfinx']:g}x**)")
    else:
        peer_th = "DOLFINx: not run at this commit (its environment is absent); earlier figure below"
    rows = [
        [f"linear-elasticity stiffness, {num(p1['elements'])} P1 tets, assembled into CSR",
         f"**{sig(p1['elements_per_second'] / 1e6)} M elements/s** (element matrices alone "
         f"{sig(p1['kernel_elements_per_second'] / 1e6)} M/s)", "; ".join(peers) or "no peer installed"],
        [f"Guccione Taylor-Hood P2-P1 residual + tangent, {num(th['elements'])} curved tets, "
         f"{th['quadrature_points']} points, assembled into CSR",
         f"**{num(th['elements_per_second'])} elements/s** (element kernel alone "
         f"{num(th['kernel_elements_per_second'])}/s)", peer_th],
    ]
    if p1.get("max_abs_difference_vs_skfem") is not None:
        rows.append(["stiffness matrix, cardiosim vs scikit-fem (max difference / max entry)",
                     f"{p1['max_abs_difference_vs_skfem']:.1e}", ""])
    return table(["case", "cardiosim", "peers (same script, same mesh and element)"],
                                               rows)


@from_results("linear_solvers", "python benchmarks/linear_solvers.py --levels 1 2 --ellipsoid 2")
def t_linear_solvers(r: dict, d: dict) -> str:
    methods = [m for m in ("superlu", "umfpack", "cholmod", "pardiso", "pyamg", "block-gmres")
               if any("total_s" in c["methods"].get(m, {}) for c in r["cases"])]
    rows = []
    for c in r["cases"]:
        cells = []
        for m in methods:
            x = c["methods"].get(m)
            if x is None:
                cells.append("")
            elif "total_s" in x:
                s = f"{sig(x['total_s'])}"
                if x.get("refactor_s") is not None:
                    s += f" (refactor {sig(x['refactor_s'])})"
                if x["residual"] > 1e-8:
                    s += f", residual {x['residual']:.0e}"
                cells.append(s)
            else:
                cells.append("failed" if "failed" in x else "skipped")
        rows.append([c["case"], num(c["n"]), num(c["nnz"])] + cells)
    skipped = sorted({m for c in r["cases"] for m, x in c["methods"].items() if "skipped" in x})
    note = f"\nSeconds per factorisation + one solve (refactor: numerical factorisation keeping the symbolic " \
           f"analysis, as a Newton iteration does); best of {d['args'].get('repeat')}. Fastest robust method over " \
           f"the general cases: **{r['default']}**."
    if skipped:
        note += f" Not installed here: {', '.join(skipped)}."
    return table(["case", "unknowns", "nonzeros"] + methods, rows) + note + "\n"


# ---- signals and assimilation -----------------------------------------------------------
@from_results("signals", "python benchmarks/signals.py")
def t_signals(r: dict, d: dict) -> str:
    rows = [
        [f"{r['hours']} h of ABP at 125 Hz ({sig(r['samples'] / 1e6)} M samples, {num(r['beats'])} beats): "
         "detection, features, artefacts, flags",
         f"**{sig(r['seconds_for_24h'])} s** for 24 h, {num(r['beats_per_second'])} beats/s"],
        ["onset detection alone, cardiosim", f"{sig(r['detection_seconds_for_24h'])} s"],
        ["beats found (cardiosim / true)", f"{num(r['beats_found_cardiosim'])} / {num(r['beats_true'])}"],
    ]
    if r.get("biosppy_seconds_for_24h") is not None:
        rows.append([f"onset detection alone, BioSPPy {d['versions'].get('biosppy')} `abp.abp` (Zong 2003)",
                     f"{sig(r['biosppy_seconds_for_24h'])} s: cardiosim **{r['speedup_vs_biosppy']:.1f}x** "
                     f"({num(r['beats_found_biosppy'])} beats found)"])
    return table(["quantity", "value"], rows)


@from_results("assimilation", "python benchmarks/assimilation.py")
def t_assimilation(r: dict, d: dict) -> str:
    rows = [
        [f"ROUKF tracking one hour of arterial pressure ({num(r['beats'])} beats, {r['n_obs']} observations, "
         f"{len(r['parameters'].split(','))} parameters)",
         f"**{sig(r['seconds_per_hour_of_record'])} s**, {sig(r['ms_per_beat'])} ms per beat, "
         f"{r['roukf_sigma_points']} model runs per beat"],
        *([[f"the same with a monitor CO every 25 beats also observed ({r['co_observations']} values) and the "
            f"flow scale estimated", f"**{sig(r['seconds_per_hour_with_co'])} s** per hour; flow scale "
            f"{100 * r['roukf_co_final_rel_error']['flow_scale']:+.1f} % of the truth at the last beat"]]
          if r.get("seconds_per_hour_with_co") is not None else []),
        *([["the beat-by-beat reanalysis after the filter (each beat re-fitted to its own pressure: SV_beat_mL, "
            "the model's SVV)", f"**{sig(r['seconds_per_hour_beat_fit'])} s** per hour "
            f"({r['beat_fit_failed_beats']} beats not solved)"]]
          if r.get("seconds_per_hour_beat_fit") is not None else []),
        [f"cardiosim UKF on the augmented state ({r['ukf_sigma_points']} sigma points)",
         f"{sig(r['cardiosim_ukf_ms_per_beat'])} ms per beat"],
    ]
    if r.get("filterpy_ms_per_beat") is not None:
        rows.append([f"filterpy {d['versions'].get('filterpy')} `UnscentedKalmanFilter`, same model, same "
                     f"{r['filterpy_sigma_points']} sigma points",
                     f"{sig(r['filterpy_ms_per_beat'])} ms per beat: ROUKF **{r['speedup_vs_filterpy']:.1f}x** "
                     f"faster, cardiosim's UKF {r['speedup_ukf_vs_filterpy']:.2f}x"])
    err = ", ".join(f"{k} {100 * v:+.1f} %" for k, v in r["roukf_final_rel_error"].items())
    rows.append(["ROUKF estimate at the last beat vs the truth (sanity check)", err])
    return table(["quantity", "value"], rows)


@from_results("cardiac_output", "python benchmarks/cardiac_output.py")
def t_cardiac_output(r: dict, d: dict) -> str:
    peers = ", ".join(f"{k} {v:.1f}" for k, v in sorted(r["mcl_peer_sv_pe_pct"].items(), key=lambda kv: kv[1]))
    rows = [
        ["mock loop, one-point CO on the first step: SV percentage error, pooled (goal <= 20 %)",
         f"**{r['mcl_sv_pe_pct']:.1f} %**"],
        ["  per state: normovolemic / cardiogenic shock / hyperdynamic",
         " / ".join(f"{v['sv_pe_pct']:.1f} %" for v in r["mcl_states"].values())],
        ["mock loop: SV bias (goal within +-5 %)", f"{r['mcl_sv_bias_pct']:+.1f} %"],
        ["mock loop: direction of CO change > 0.2 L/min (goal >= 95 %)", f"{r['mcl_co_direction_pct']:.0f} %"],
        ["mock loop: classical estimators, same point (pooled percentage error)",
         f"best {r['mcl_best_peer']} **{r['mcl_best_peer_sv_pe_pct']:.1f} %**; {peers}"],
        ["mock loop: patient-size prior only, adult of 1.8 m2 (goal <= 45 %)",
         f"{r['mcl_prior_only_sv_pe_pct']:.1f} % (bias {r['mcl_prior_only_sv_bias_pct']:+.1f} %)"],
    ]
    if r.get("mcl_ppv_r") is not None:
        rows.append([f"mock loop SVV steps ({r['mcl_svv_steps']}): PPV vs flow SVV (goal r >= 0.9, bias within 2)",
                     f"r {r['mcl_ppv_r']:.3f}, bias {r['mcl_ppv_bias_pts']:+.1f} points"])
    if r.get("mcl_svv_r") is not None:
        rows.append(["mock loop SVV steps: model SVV vs flow SVV, each beat re-fitted to its own pressure "
                     "(`SV_beat_mL`; goal r >= 0.9, bias within 2)",
                     f"r {r['mcl_svv_r']:.3f}, bias **{r['mcl_svv_bias_pts']:+.1f} points**"])
    if r.get("mcl_svv_forecast_r") is not None:
        rows.append(["mock loop SVV steps: the filter's forecast SV (`SV_mL`) instead",
                     f"r {r['mcl_svv_forecast_r']:.3f}, bias {r['mcl_svv_forecast_bias_pts']:+.1f} points"])
    if r.get("flotrac_sv_pe_pct") is not None:
        rows.append(["FloTrac record, `--reference first`: SV / CO percentage error (goal <= 30 %)",
                     f"{r['flotrac_sv_pe_pct']:.1f} % / {r['flotrac_co_pe_pct']:.1f} %"])
        rows.append(["FloTrac: concordance of CO changes (goal >= 90 %)", f"{r['flotrac_co_concordance_pct']:.0f} %"])
        rows.append(["FloTrac: fluid boluses, SV change FloTrac vs model (goal within 10 points)",
                     "; ".join(f"{a:+.1f} % vs {b:+.1f} %" for a, b in r["flotrac_bolus_sv_changes_pct"])])
        if r.get("flotrac_svv_bias_pts") is not None:
            rows.append(["FloTrac: model SVV - EV1000 SVV per 30 s window (goal within 3 points); PPV - EV1000",
                         f"{r['flotrac_svv_bias_pts']:+.1f} points; {r['flotrac_ppv_bias_pts']:+.1f} points "
                         f"({r['flotrac_svv_windows']} windows)"])
        if r.get("flotrac_observed_co_sv_pe_pct") is not None:
            rows.append(["FloTrac: every EV1000 CO observed in the filter (`--observe ABP,CO`, not independent): "
                         "SV / CO percentage error, SV r",
                         f"{r['flotrac_observed_co_sv_pe_pct']:.1f} % / {r['flotrac_observed_co_co_pe_pct']:.1f} %, "
                         f"r {r['flotrac_observed_co_sv_r']:.2f}"])
    return table(["quantity", "value"], rows)


# ---- README summaries -------------------------------------------------------------------
def t_readme_speed() -> str:
    rows, docs = [], []
    s = load("sphere0d")
    if s:
        r = s["result"]
        docs.append(s)
        rows.append([f"0D heart: `SphereModel.run` over {num(r.get('beats_timed', 400))} beats, BCS model, "
                     f"{1e3 * r['dt_s']:g} ms step (within 1 % of svzerod)",
                     f"{num(r['beats_per_second'])} heartbeats/s",
                     f"svzerod: simplified law {r['speedup_vs_svzerod_sphere']:.0f}x; "
                     f"{r['speedup_vs_svzerod_closed_loop']:.0f}x at equal time step",
                     f"[0D heart]({PERF}#0d-heart-model)"])
    a = load("assembly")
    if a:
        p1, th = a["result"]["linear_elasticity_P1"], a["result"]["guccione_taylor_hood_P2P1"]
        docs.append(a)
        peer = f"scikit-fem {p1['speedup_vs_skfem']:g}x" if p1.get("speedup_vs_skfem") else ""
        if p1.get("speedup_vs_sfepy"):
            peer += f", sfepy {p1['speedup_vs_sfepy']:g}x"
        rows.append(["FE assembly, P1 linear elasticity into CSR",
                     f"{sig(p1['elements_per_second'] / 1e6)} M elements/s",
                     peer, f"[assembly]({PERF}#finite-element-assembly)"])
        rows.append(["FE assembly, Guccione Taylor-Hood P2-P1 residual + tangent",
                     f"{num(th['elements_per_second'])} elements/s",
                     f"DOLFINx {th['speedup_vs_dolfinx']:g}x" if th.get("speedup_vs_dolfinx")
                     else "DOLFINx: not run at this commit", f"[assembly]({PERF}#finite-element-assembly)"])
    land = {(d["result"]["problem"], d["result"]["level"]): d for d in land_runs()
            if not d["result"].get("layers") and d["result"].get("apex_grading", 1.0) == 1.0}
    if (2, 2) in land:
        d = land[(2, 2)]
        r = d["result"]
        docs.append(d)
        rows.append([f"Land 2015 problem 2, level 2 ({num(r['dofs'])} unknowns), solved from rest",
                     f"{sig(r['wall_s'])} s", f"{r['newton_iterations']} Newton iterations, {r['linear_solver']}",
                     f"[Land 2015]({PERF}#land-2015-time-to-solution)"])
    g = load("signals")
    if g:
        r = g["result"]
        docs.append(g)
        rows.append(["24 h of arterial pressure at 125 Hz: beats, features, artefact flags",
                     f"{sig(r['seconds_for_24h'])} s",
                     f"BioSPPy onsets {r['speedup_vs_biosppy']:.1f}x" if r.get("speedup_vs_biosppy") else "",
                     f"[signals]({PERF}#monitoring-signals)"])
    m = load("assimilation")
    if m:
        r = m["result"]
        docs.append(m)
        rows.append(["ROUKF tracking one hour of arterial pressure (4 parameters)",
                     f"{sig(r['seconds_per_hour_of_record'])} s",
                     f"filterpy UKF {r['speedup_vs_filterpy']:.1f}x" if r.get("speedup_vs_filterpy") else "",
                     f"[assimilation]({PERF}#data-assimilation)"])
    if not rows:
        return "*No results on file: run the scripts in benchmarks/.*\n"
    return provenance(docs, "python benchmarks/<script>.py") + "\n" + table(
        ["job (one core)", "cardiosim", "vs peer, same script", "details"], rows)


def t_readme_verification() -> str:
    rows = [
        ["0D: discrete energy balance per step", "exact to round-off (asserted < 1e-11 of the pressure work)",
         f"[0D heart]({VERIF}#0d-heart-model)"],
        ["0D vs SciPy Radau (rtol 1e-10) on the same equations",
         "EDV, ESV, SBP, peak P_v: asserted within 0.002 %, DBP 0.04 %", f"[0D heart]({VERIF}#0d-heart-model)"],
        ["0D vs svZeroDSolver 3.2, simplified law, 0.5 ms step", "EDV, ESV, peak P_v, SBP, DBP: asserted within 0.01 %",
         f"[0D heart]({VERIF}#0d-heart-model)"],
        ["closed-loop circulation: blood volume", "conserved to 1e-11 (asserted)", f"[0D heart]({VERIF}#0d-heart-model)"],
    ]
    docs = []
    s = load("sphere0d")
    if s:
        docs.append(s)
        rows.append(["0D at the benchmark's 8 ms step vs svZeroDSolver at 6,400 steps per beat",
                     f"within {100 * s['result']['max_rel_error_vs_svzerod']:.2f} % (EDV, ESV, peak P_v, SBP, DBP)",
                     f"[0D heart]({VERIF}#0d-heart-model)"])
    land = {(d["result"]["problem"], d["result"]["level"]): d for d in land_runs()
            if not d["result"].get("layers") and d["result"].get("apex_grading", 1.0) == 1.0}
    for key, label in (((1, 3), "Land 2015 problem 1 (beam), level 3"),
                       ((2, 2), "Land 2015 problem 2 (ellipsoid), level 2")):
        if key in land:
            d = land[key]
            docs.append(d)
            _, err = _qoi(d["result"])
            rows.append([f"{label}, {num(d['result']['dofs'])} unknowns", f"error {err} vs the reference",
                         f"[Land 2015]({VERIF}#land-2015-mesh-convergence)"])
    c = load("cardiac_output")
    if c:
        docs.append(c)
        r = c["result"]
        rows.append(["SV vs measured aortic flow (FDA mock loop, radial pressure, one-point CO)",
                     f"percentage error {r['mcl_sv_pe_pct']:.1f} %, bias {r['mcl_sv_bias_pct']:+.1f} % "
                     f"(best classical estimator {r['mcl_best_peer_sv_pe_pct']:.1f} %)",
                     f"[SV/CO scale]({VERIF}#stroke-volume-and-cardiac-output-on-a-true-scale)"])
    rows += [
        ["ABP beat detection vs the ECG on three real recordings", "sensitivity and PPV asserted >= 99 %",
         f"[signals]({VERIF}#monitoring-signals)"],
        ["twin experiment, 400 beats, ROUKF / UKF / EnKF", "every parameter within 5 % of the truth",
         f"[assimilation]({VERIF}#data-assimilation)"],
    ]
    head = provenance(docs, "python benchmarks/<script>.py") + "Rows without a results file are asserted by the " \
                                                               "tests named in the linked sections.\n"
    return head + "\n" + table(["check", "result", "details"], rows)


@from_results("bands", "python benchmarks/bands.py")
def t_coverage(r: dict, d: dict) -> str:
    fams = list(r["coverage"])
    quantities = []
    for f in fams:
        quantities += [q for q in r["coverage"][f] if q not in quantities]

    def cell(f, q):
        v = r["coverage"][f].get(q)
        if v is None or v.get("beats") is None:
            return "-"
        if v.get("coverage_pct") is None:
            return f"no band (RMSE {sig(v['rmse'])})"
        w = f", width {sig(v['width_over_prior'])} of the prior's" if v.get("width_over_prior") is not None else ""
        return f"{v['coverage_pct']:.0f} %{w}"

    rows = [[q] + [cell(f, q) for f in fams] for q in quantities]
    rows.append(["all: min / max coverage (goal 85-99 %); median width over the prior's 95 % range (goal <= 0.5)",
                 f"**{r['min_coverage_pct']:.0f} % / {r['max_coverage_pct']:.0f} %**; "
                 f"{sig(r['median_width_over_prior_width'])}"] + [""] * (len(fams) - 1))
    out = table(["95 % band holds the truth on (observed beats)"] + fams, rows)
    extra = []
    for seed, dm in (r.get("demo") or {}).items():
        cov = ", ".join(f"{q} {v['coverage_pct']:.0f} %" for q, v in dm["coverage"].items()
                        if v.get("coverage_pct") is not None)
        inside = "; ".join(f"{t} min: " + ", ".join(n for n, ok in v.items() if not ok) for t, v in
                           dm["inside_at_report_times"].items() if not all(v.values()))
        extra.append([f"`cardiosim demo --seed {seed}` (goal: sigma0, Rd, SV >= 85 %; truth inside the band "
                      f"at 2, 5 and 9.5 min)", f"{cov}; outside the band: {inside or 'none'}"])
    for rec, v in (r.get("real") or {}).items():
        extra.append([f"{rec}: mean NIS (goal 0.7-1.5); median per-beat RMSE",
                      "no record" if v is None else f"{v['mean_nis']:.2f}; {v['rmse_median_mmHg']:.2f} mmHg"])
    if extra:
        out += "\n" + table(["check", "measured"], extra)
    return out


RENDER = {"heartbeat": t_heartbeat, "shell0d": t_shell0d, "sphere0d": t_sphere0d, "coverage": t_coverage, "sphere0d-accuracy": t_sphere0d_accuracy,
          "sphere0d-checkouts": t_sphere0d_checkouts, "land2015": t_land2015, "land2015-time": t_land2015_time,
          "assembly": t_assembly, "linear-solvers": t_linear_solvers, "signals": t_signals,
          "assimilation": t_assimilation, "cardiac-output": t_cardiac_output, "readme-speed": t_readme_speed,
          "elastodynamics": t_elastodynamics, "elastodynamics-energy": t_elastodynamics_energy,
          "elastodynamics-dolfinx": t_elastodynamics_dolfinx, "readme-verification": t_readme_verification}


def render(text: str) -> str:
    def sub(m):
        name = m.group("name")
        if name not in RENDER:
            raise SystemExit(f"unknown table {name!r} (known: {', '.join(RENDER)})")
        return m.group(1) + RENDER[name]() + m.group(4)
    return MARK.sub(sub, text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if a file is not up to date")
    a = ap.parse_args()
    stale = []
    for f in FILES:
        if not f.exists():
            continue
        old = f.read_text()
        new = render(old)
        if new != old:
            stale.append(f)
            if not a.check:
                f.write_text(new)
    for f in stale:
        print(("stale: " if a.check else "updated: ") + str(f.relative_to(ROOT)))
    return 1 if (a.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
