"""Every benchmark script runs (--quick) and prints its documented keys with finite values.

Each script in benchmarks/ runs in a subprocess with --quick (tiny sizes, no slow peers; a
few seconds each once the Numba kernels are cached) and must print one JSON line whose
documented keys (named in the script's docstring) hold finite numbers, and write its
results file with the provenance of benchmarks/_record.py. The results go to a temporary
folder (CARDIOSIM_BENCH_RESULTS), never over the measured figures in benchmarks/results/.
"""

from __future__ import annotations

import ast
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"

# script -> (results file name, keys that must be finite numbers; "a.b" is a nested key)
CASES = {
    "sphere0d": ("sphere0d", ["dt_s", "max_rel_error_vs_svzerod", "beats_per_second", "beats_per_second_simplified",
                              "svzerod_sphere_cycles_per_second", "speedup_vs_svzerod_sphere",
                              "svzerod_closed_loop_cycles_per_second", "beats_per_second_at_equal_dt",
                              "speedup_vs_svzerod_closed_loop", "beats_per_second_at_1000_steps",
                              "speedup_vs_svzerod_closed_loop_equal_steps",
                              "speedup_vs_svzerod_closed_loop_at_1pct"]),
    "assembly": ("assembly", ["linear_elasticity_P1.elements", "linear_elasticity_P1.dofs",
                              "linear_elasticity_P1.nnz", "linear_elasticity_P1.elements_per_second",
                              "linear_elasticity_P1.kernel_elements_per_second",
                              "linear_elasticity_P1.pattern_seconds",
                              "guccione_taylor_hood_P2P1.elements", "guccione_taylor_hood_P2P1.dofs",
                              "guccione_taylor_hood_P2P1.elements_per_second",
                              "guccione_taylor_hood_P2P1.kernel_elements_per_second"]),
    "land2015": ("land2015_p1_L1", ["dofs", "newton_iterations", "load_steps", "wall_s", "assembly_s", "solve_s",
                                    "peak_rss_mb", "beam_point_z_mm"]),
    "linear_solvers": ("linear_solvers", []),  # checked below
    "sphere0d_checkouts": ("sphere0d_checkouts", ["beats", "repeats", "best", "relative_to_first"]),
    "signals": ("signals", ["seconds_for_24h", "beats_per_second", "beats", "clean_beats",
                            "detection_seconds_for_24h", "beats_true", "beats_found_cardiosim"]),
    "cardiac_output": ("cardiac_output", ["mcl_sv_pe_pct", "mcl_sv_bias_pct", "mcl_co_direction_pct",
                                          "mcl_best_peer_sv_pe_pct", "mcl_prior_only_sv_pe_pct"]),
    "bands": ("bands", ["min_coverage_pct", "max_coverage_pct", "median_width_over_prior_width"]),
    "assimilation": ("assimilation", ["seconds_per_hour_of_record", "seconds_per_hour_with_co", "ms_per_beat", "cardiosim_ukf_ms_per_beat",
                                      "roukf_final_rel_error", "roukf_final_sd_log2"]),
    "shell0d": ("shell0d", ["thinnest_max_diff_pct", "dt_3d_s", "beats"]),
    "heartbeat": ("heartbeat_L1_dt0.004", ["dofs", "wall_s", "wall_s_per_beat", "newton_iterations",
                                           "volume_balance_max_rel"]),
    "elastodynamics": ("elastodynamics_step_1_P1", ["dofs", "wall_s", "newton_iterations", "p0_ux_peak_mm",
                                                    "p0_ux_peak_t_s"]),
}
# scripts that read the shared data folder, and the file they need
NEEDS_DATA = {"elastodynamics": Path("cardiac-elastodynamics-2025") / "mesh" / "ellipsoid_0.005.h5"}


def _get(d, key):
    for part in key.split("."):
        d = d[part]
    return d


def _finite(v):
    if isinstance(v, dict):
        return all(_finite(x) for x in v.values())
    if isinstance(v, list):
        return bool(v) and all(_finite(x) for x in v)
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def test_every_script_is_covered():
    scripts = {p.stem for p in BENCH.glob("*.py") if not p.stem.startswith("_") and p.stem != "make_docs"}
    assert scripts == set(CASES)


@pytest.mark.parametrize("script", sorted(CASES))
def test_quick_run(script, tmp_path):
    name, keys = CASES[script]
    path = BENCH / f"{script}.py"
    doc = ast.get_docstring(ast.parse(path.read_text()))
    for k in keys:
        assert k.split(".")[-1] in doc, f"{script}: key {k} is not documented in the docstring"
    assert re.search(r"^from _record import .*\brecord\b", path.read_text(), re.M)  # the shared writer, no copy

    if script in NEEDS_DATA:
        from conftest import data_dir

        if not (data_dir() / NEEDS_DATA[script]).exists():
            pytest.skip(f"{script} needs {NEEDS_DATA[script]} under {data_dir()} (CARDIOSIM_DATA)")
    # the suite is serial: a script with independent pieces may take the second core
    env = dict(os.environ, CARDIOSIM_BENCH_RESULTS=str(tmp_path), CARDIOSIM_BENCH_JOBS="2")
    r = subprocess.run([sys.executable, str(path), "--quick"], capture_output=True, text=True, env=env,
                       timeout=600, cwd=BENCH.parent)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    assert len(lines) == 1, r.stdout[-2000:]
    out = json.loads(lines[0])
    for k in keys:
        assert _finite(_get(out, k)), f"{script}: {k} = {_get(out, k)!r}"

    if script == "linear_solvers":
        assert out["cases"] and isinstance(out["default"], str)
        for case in out["cases"]:
            m = case["methods"]["superlu"]
            assert _finite([m["setup_s"], m["solve_s"], m["total_s"]]) and m["residual"] < 1e-8
    if script == "land2015":
        assert abs(out["beam_point_z_mm"] / 4.1692 - 1.0) < 0.05
    if script == "sphere0d":
        assert out["max_rel_error_vs_svzerod"] < 0.01

    rec = json.loads((tmp_path / f"{name}.json").read_text())
    assert rec["result"] == out and rec["quick"] is True and rec["args"]["quick"] is True
    assert rec["benchmark"] == name and rec["date"].endswith("+00:00")
    assert set(rec["commit"]) >= {"sha", "dirty"}
    assert rec["machine"]["cores"] >= 1 and rec["machine"]["platform"]
    for v in ("python", "numpy", "numba", "scipy", "cardiosim"):
        assert rec["versions"][v]


def test_docs_tables_are_those_the_results_files_give():
    """Every table between <!-- table:... --> markers is what make_docs.py makes of benchmarks/results/."""
    run = subprocess.run([sys.executable, str(BENCH / "make_docs.py"), "--check"], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
