"""0D heartbeats per second of several checkouts, alternately, in one time window.

On a shared machine absolute timings drift by 10-20 % within minutes; a regression is only
visible by timing the old and the new code alternately, best of several, in the same window.
Give the checkouts as paths (make old ones with ``git worktree add /tmp/wt-SHA SHA``); each
runs in its own subprocess with PYTHONPATH=<checkout> and its own Numba cache
(<cache-root>/<label>), warmed by one untimed run first. The case is the one of
benchmarks/sphere0d.py: ``SphereModel.run`` over --beats beats of 0.8 s at dt 8 ms,
record=False, best of --repeats, for the BCS model and the simplified law.

Prints one JSON line. Keys:
  checkouts       [{label, path, sha, dirty, package_dirty}] in the order given (label: the
                  short sha, "-dirty" when cardiosim/ has uncommitted changes)
  rounds          per round, per checkout: bcs, simplified (beats/s from the best wall time),
                  bcs_cpu, simplified_cpu (from the best process time: close to the wall
                  figure unless the process waited for a core), load1 (load average)
  best            per checkout label: the best bcs and simplified beats/s over the rounds
  relative_to_first  best bcs / simplified of each checkout over the first checkout's
Run: python benchmarks/sphere0d_checkouts.py /tmp/wt-6dc6d87 /tmp/wt-36d056f [--rounds 3]
     [--repeats 10] [--beats 400] [--cache-root DIR] [--quick]
(no path: the checkout this script is in). --quick: this checkout alone, one round, 40 beats, 1 repeat, the usual Numba
cache (results/quick/).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _record import _commit, record

HERE = Path(__file__).resolve().parent

CHILD = r"""
import json, os, sys, time
import numpy as np
import cardiosim as cs
root = os.path.realpath(sys.argv[1])
assert os.path.realpath(cs.__file__).startswith(root), (cs.__file__, root)
n, r = int(sys.argv[2]), int(sys.argv[3])
def bps(model):
    st = model.initial_state()
    model.run(st, [0.8], record=False)  # compile / load
    bw = bc = np.inf
    for _ in range(r):
        s = st.copy()
        t, c = time.perf_counter(), time.process_time()
        model.run(s, np.full(n, 0.8), record=False)
        bw = min(bw, time.perf_counter() - t)
        bc = min(bc, time.process_time() - c)
    return n / bw, n / bc
out = {}
out["bcs"], out["bcs_cpu"] = bps(cs.SphereModel(dt=0.008))
simple = cs.SphereParameters.simplified_bestel(sigma_max=22e3)
out["simplified"], out["simplified_cpu"] = bps(cs.SphereModel(simple, dt=0.008))
out = {k: round(v) for k, v in out.items()}
out["load1"] = round(os.getloadavg()[0], 2)
print(json.dumps(out))
"""


def run_child(path: Path, cache: Path | None, beats: int, repeats: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(path), NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")
    if cache is not None:
        env["NUMBA_CACHE_DIR"] = str(cache)
    r = subprocess.run([sys.executable, "-c", CHILD, str(path), str(beats), str(repeats)], capture_output=True,
                       text=True, env=env, cwd=tempfile.gettempdir())
    if r.returncode != 0:
        raise SystemExit(f"{path}: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkouts", nargs="*", help="checkout paths (default: this one)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=10, help="best of N runs per measurement")
    ap.add_argument("--beats", type=int, default=400)
    ap.add_argument("--cache-root", default=None,
                    help="Numba caches, one folder per checkout (default: a temp dir; --quick: the usual cache)")
    ap.add_argument("--quick", action="store_true", help="smoke run: this checkout, 1 round, 40 beats, 1 repeat")
    a = ap.parse_args()
    if a.quick:
        a.checkouts, a.rounds, a.repeats, a.beats = [], 1, 1, 40
    paths = [Path(p).resolve() for p in a.checkouts] or [HERE.parent]
    if a.cache_root:
        cache_root = Path(a.cache_root)
    else:
        cache_root = None if a.quick else Path(tempfile.gettempdir()) / "cardiosim-nc"
    checkouts = []
    for p in paths:
        c = _commit(p)
        label = (c["sha"] or p.name)[:7] + ("-dirty" if c["package_dirty"] else "")
        while label in {x["label"] for x in checkouts}:
            label += "+"
        checkouts.append({"label": label, "path": str(p), "sha": c["sha"], "dirty": c["dirty"],
                          "package_dirty": c["package_dirty"]})
    def cache(c):
        return cache_root / c["label"] if cache_root else None

    for c in checkouts:  # warm each cache (compile), untimed
        run_child(Path(c["path"]), cache(c), 1, 1)
    rounds = []
    for _ in range(a.rounds):
        rounds.append({c["label"]: run_child(Path(c["path"]), cache(c), a.beats, a.repeats)
                       for c in checkouts})
    best = {c["label"]: {k: max(r[c["label"]][k] for r in rounds) for k in ("bcs", "simplified")} for c in checkouts}
    first = best[checkouts[0]["label"]]
    rel = {lab: {k: round(v[k] / first[k], 3) for k in v} for lab, v in best.items()}
    record("sphere0d_checkouts", {"benchmark": "sphere0d_checkouts", "beats": a.beats, "repeats": a.repeats,
                                  "dt_s": 0.008, "checkouts": checkouts, "rounds": rounds, "best": best,
                                  "relative_to_first": rel}, a)


if __name__ == "__main__":
    main()
