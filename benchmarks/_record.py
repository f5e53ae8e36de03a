"""Benchmark results on file: one JSON document per run, with its provenance.

Every script in benchmarks/ ends with ``record(name, result, args, peers)``: it prints the
result as one JSON line (as the scripts always did) and writes

    benchmarks/results/<name>.json          measured runs
    benchmarks/results/quick/<name>.json    --quick runs (gitignored: never a measured figure)

(or ``$CARDIOSIM_BENCH_RESULTS/<name>.json`` when that variable is set: the tests use it),
atomically (temporary file in the same folder, then os.replace), holding

    benchmark  name;  quick  bool;  args  the script's arguments;  result  the JSON line
    commit     sha (git rev-parse HEAD of the checkout cardiosim was imported from), dirty
               (uncommitted changes anywhere in that checkout), package_dirty (under
               cardiosim/), dirty_paths (first 40); benchmarks_checkout if the scripts
               ran from another checkout; started_at (sha, dirty, package_dirty) when the
               checkout changed during the run (HEAD moved, files edited): the code that
               ran is that of the start
    date       UTC, ISO 8601, when the run ended;  wall_s  the script's run time
    machine    platform, processor, cores, memory_gib, load_average (1, 5, 15 min at the
               end of the run: the machine is shared, timings are noisy)
    versions   python, numpy, numba, scipy, cardiosim and each peer the run used (null:
               not installed or not run)
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

HERE = Path(__file__).resolve().parent
_T0 = time.perf_counter()


def _git(root: Path, *cmd: str) -> str | None:
    try:
        r = subprocess.run(["git", "-C", str(root), *cmd], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout if r.returncode == 0 else None


def _commit(root: Path) -> dict:
    sha = _git(root, "rev-parse", "HEAD")
    if sha is None:
        return {"sha": None, "dirty": None, "package_dirty": None, "dirty_paths": []}
    top = Path(_git(root, "rev-parse", "--show-toplevel").strip())
    status = _git(top, "status", "--porcelain", "--untracked-files=no") or ""
    paths = [line[3:] for line in status.splitlines() if line.strip()]
    return {"sha": sha.strip(), "dirty": bool(paths),
            "package_dirty": any("cardiosim/" in p for p in paths),
            "dirty_paths": paths[:40], "checkout": str(top)}


_START = _commit(HERE)


def _version(dist: str) -> str | None:
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def _processor() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def record(name: str, result: dict, args=None, peers: dict | None = None) -> Path | None:
    """Print ``result`` as one JSON line and write it with its provenance (module docstring).

    ``args``: the argparse namespace (or a dict); its ``quick`` entry picks the folder.
    ``peers``: {label: distribution name or None (not run)} of the peer codes the run used;
    their installed versions go to ``versions``. Returns the file written.
    """
    print(json.dumps(result), flush=True)
    a = dict(vars(args)) if args is not None and not isinstance(args, dict) else dict(args or {})
    quick = bool(a.get("quick", False))
    import cardiosim
    import numba
    import numpy
    import scipy

    pkg_root = Path(cardiosim.__file__).resolve().parent
    commit = _commit(pkg_root)
    if (_START.get("sha") and _START.get("checkout") == commit.get("checkout")
            and any(_START[k] != commit[k] for k in ("sha", "dirty", "package_dirty"))):
        # the checkout changed while the run went (a commit, an edit): the code that ran is the start's
        commit["started_at"] = {k: _START[k] for k in ("sha", "dirty", "package_dirty")}
    bench = _commit(HERE)
    if bench.get("checkout") != commit.get("checkout"):
        commit["benchmarks_checkout"] = bench
    versions = {"python": platform.python_version(), "numpy": numpy.__version__, "numba": numba.__version__,
                "scipy": scipy.__version__, "cardiosim": getattr(cardiosim, "__version__", None)}
    for label, dist in (peers or {}).items():
        versions[label] = _version(dist) if dist else None
    doc = {"benchmark": name, "quick": quick, "args": a, "result": result, "commit": commit,
           "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
           "wall_s": round(time.perf_counter() - _T0, 1),
           "machine": {"platform": platform.platform(), "processor": _processor(), "cores": os.cpu_count(),
                       "memory_gib": _memory_gib(),
                       "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg")
                       else None},
           "versions": versions, "argv": sys.argv[1:]}
    env = os.environ.get("CARDIOSIM_BENCH_RESULTS")
    folder = Path(env) if env else HERE / "results" / ("quick" if quick else "")
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f, indent=1, default=str)
            f.write("\n")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; results are for everyone
        os.replace(tmp, folder / f"{name}.json")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    print(f"# written {folder / (name + '.json')}", file=sys.stderr)
    return folder / f"{name}.json"
