"""Calibrate a cohort: one record per task, serially or on a Dask cluster.

``calibrate_cohort(folder, out)`` finds the records of a folder (:func:`find_records`),
calibrates each one in its own task (:func:`calibrate_one`: read, calibrate, write
``out/<record>/``) on a Dask ``distributed`` cluster (a :class:`~distributed.LocalCluster`
of single-threaded worker processes by default, or an existing cluster given by its
scheduler address) and writes one row per record to ``out/cohort.csv`` with the
provenance in ``out/cohort.json``.

A task is a pure function of its record and the settings (the filters are seeded with
``settings.seed``), so the results do not depend on the worker that ran it: a cohort
run on a cluster gives the same tables as the serial run (``serial=True``).  A record
that cannot be calibrated (unreadable, too few clean beats, a diverging filter) is
reported in its row with status ``"error"`` and the message; the others go on.

On an existing cluster the workers read the records and write the results
themselves: the folder and ``out`` must be on a file system they share with the
client, and the workers need cardiosim installed (same version); one thread per worker
(``dask worker ADDRESS --nthreads 1``) is the layout the local cluster uses.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import threading
import time
import traceback
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import CardiosimError
from ..units import MMHG
from .calibrate import CalibrationSettings, calibrate

__all__ = ["COHORT_COLUMNS", "TIMING_COLUMNS", "calibrate_cohort", "calibrate_one", "find_records",
           "record_names"]

#: Record files found in a cohort folder (WFDB records by their header).
_TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet")
_FILE_SUFFIXES = (".hea",) + _TABLE_SUFFIXES + (".vital",)

#: Leading columns of cohort.csv (then the final estimates, then the timing).
COHORT_COLUMNS = ("record", "path", "status", "error_type", "error", "method", "estimated",
                  "beats", "observed", "skipped", "rmse_beats", "rmse_median_mmHg",
                  "rmse_mean_mmHg", "rmse_p95_mmHg", "first_fit_rmse_mmHg",
                  "observation_error_mmHg", "lag_s", "n_warnings")
#: Columns that depend on the run, not on the record (left out when comparing runs).
TIMING_COLUMNS = ("elapsed_s",)
#: Held while a task draws its figures (workers with several threads run several tasks).
_FIGURES = threading.Lock()


# ---------------------------------------------------------------------------------------
def _suffix(name: str) -> str | None:
    lower = name.lower()
    return next((s for s in _FILE_SUFFIXES if lower.endswith(s)), None)


def _holds_tables(folder: Path) -> bool:
    return any(f.is_file() and not f.name.startswith(".") and f.name.lower().endswith(_TABLE_SUFFIXES)
               for f in folder.iterdir())


def find_records(folder, exclude=()) -> list[Path]:
    """The records of a cohort folder, one entry each, sorted by file name.

    A record is a WFDB record (its ``.hea`` header; the ``.dat``/``.mat`` signal files
    beside it are part of it), a ``.csv``, ``.csv.gz`` or ``.parquet`` table, a ``.vital``
    file, or a sub-folder of per-track tables (as :func:`cardiosim.signals.read_record`
    reads them).  Hidden entries (``.name``) and the paths in ``exclude`` (e.g. an output
    folder inside ``folder``) are skipped; other files are ignored.  Sub-folders are not
    searched further.

    Raises
    ------
    RecordError
        ``folder`` is not a folder or holds no record.
    """
    from ..signals import RecordError

    root = Path(folder)
    if not root.is_dir():
        raise RecordError("no such folder (calibrate-cohort takes a folder of records)", path=root)
    skip = {Path(p).resolve() for p in exclude}
    found = []
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") or entry.resolve() in skip:
            continue
        if entry.is_dir():
            if _holds_tables(entry):
                found.append(entry)
        elif entry.is_file() and _suffix(entry.name) is not None:
            found.append(entry)
    if not found:
        raise RecordError("no record found: expected WFDB records (.hea with their signal files), "
                          ".csv, .csv.gz, .parquet or .vital files, or sub-folders of per-track "
                          "tables, directly in this folder (nested WFDB folders are not searched: "
                          "give the folder that holds the .hea files)", path=root)
    return found


def _record_stem(path: Path) -> str:
    s = None if path.is_dir() else _suffix(path.name)
    return path.name[: -len(s)] if s else path.name


def record_names(paths) -> list[str]:
    """Output-folder names of records: the name without its suffix, the full file name where
    two records would share it (``a.csv`` and ``a.hea``)."""
    paths = [Path(p) for p in paths]
    stems = [_record_stem(p) for p in paths]
    return [s if stems.count(s) == 1 else p.name for s, p in zip(stems, paths)]


# ---------------------------------------------------------------------------------------
@contextlib.contextmanager
def _single_threaded():
    """BLAS on one thread, as in a Dask worker (its nanny sets OPENBLAS_NUM_THREADS=1 and the
    like), so that a serial run does the same floating-point operations as a distributed one."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: the matrices are small enough for BLAS to stay serial
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@contextlib.contextmanager
def _closing_new_figures():
    """Close the figures :meth:`Calibration.write` leaves open (they pile up over a cohort)."""
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    try:
        yield
    finally:
        for num in set(plt.get_fignums()) - before:
            plt.close(num)


def _finite(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def calibrate_one(path, settings: CalibrationSettings | None, out_dir, name: str | None = None,
                  command: str = "cardiosim calibrate-cohort") -> dict:
    """Read, calibrate and write one record into ``out_dir/<name>/``; return its summary row.

    The summary is a flat, JSON-able dict: record, path, status (``"ok"`` or ``"error"``),
    error type and message, beats (observed, skipped), per-beat RMSE after the burn-in,
    first-fit RMSE, observation error, lag, number of warnings, the estimates at the last
    beat (``<name>`` and ``<name>_sd``, clinical units) and ``elapsed_s``.  A record that
    cannot be calibrated (:class:`~cardiosim.errors.CardiosimError` or ``ValueError``) gives
    status ``"error"`` instead of raising, and nothing is written for it.
    """
    t0 = time.perf_counter()
    path = Path(path)
    settings = settings or CalibrationSettings()
    name = name or record_names([path])[0]
    row: dict[str, Any] = {"record": name, "path": str(path), "status": "ok", "error_type": None,
                           "error": None, "method": settings.method, "estimated": None,
                           "beats": None, "observed": None, "skipped": None}
    try:
        from ..signals import read_record

        record = read_record(path)
        cal = calibrate(record, settings, progress=False)
        with _FIGURES, _closing_new_figures():  # pyplot is not thread-safe
            cal.write(Path(out_dir) / name, command=f"{command} {path}")
    except (CardiosimError, ValueError) as exc:
        row.update(status="error", error_type=type(exc).__name__, error=str(exc))
    else:
        obs = cal.observations
        r = cal.rmse_mmhg()
        row.update(
            estimated=",".join(cal.parameters.names), beats=int(obs.n),
            observed=int(obs.observed.sum()), skipped=int(obs.n - obs.observed.sum()),
            rmse_beats=r["beats"], rmse_median_mmHg=_finite(r["median"]),
            rmse_mean_mmHg=_finite(r["mean"]), rmse_p95_mmHg=_finite(r["p95"]),
            first_fit_rmse_mmHg=_finite(cal.lsq.rmse_pa / MMHG),
            observation_error_mmHg=_finite(cal.sigma_pa / MMHG),
            lag_s=_finite(obs.lag_s), n_warnings=len(cal.warnings))
        for pname, v in cal.final().items():
            row[pname] = _finite(v["value"])
            row[f"{pname}_sd"] = _finite(v["sd"])
    row["elapsed_s"] = round(time.perf_counter() - t0, 3)
    return row


def _unexpected(path: Path, name: str, exc: BaseException, settings: CalibrationSettings) -> dict:
    """Row of a task that failed outside the calibration's own errors (a lost worker, a bug)."""
    return {"record": name, "path": str(path), "status": "error", "error_type": type(exc).__name__,
            "error": f"unexpected failure (not a calibration error; see cohort.json): {exc}",
            "method": settings.method, "traceback": "".join(
                traceback.format_exception(type(exc), exc, exc.__traceback__))}


# ---------------------------------------------------------------------------------------
def calibrate_cohort(folder, out, settings: CalibrationSettings | None = None, *,
                     workers: int | None = None, scheduler: str | None = None, serial: bool = False,
                     progress: bool = True, command: str = "cardiosim calibrate-cohort",
                     cluster_options: dict | None = None) -> pd.DataFrame:
    """Calibrate every record of ``folder`` (one task each) and write ``out/``.

    Parameters
    ----------
    folder : path
        Folder of records (see :func:`find_records`).
    out : path
        Output folder: ``<record>/`` per record (calibration.csv, run.json, trends.png,
        overlay.png), ``cohort.csv`` (one row per record, in record order) and
        ``cohort.json`` (settings, versions, scheduler, rows).
    settings : CalibrationSettings, optional
        The same for every record.
    workers : int, optional
        Worker processes of the local cluster (one thread each; default: one per core).
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``) to run the tasks on
        instead of a local cluster; it is left running.
    serial : bool
        Run the tasks one after the other in this process (no Dask).
    progress : bool
        A tqdm bar over the records as they complete.
    cluster_options : dict, optional
        Extra keyword arguments of :class:`distributed.LocalCluster` (e.g.
        ``{"dashboard_address": ":8787"}``).

    Returns
    -------
    pandas.DataFrame
        The rows of cohort.csv.
    """
    from .. import io

    if scheduler is not None and (workers is not None or serial):
        raise ValueError("give either a scheduler address or a number of local workers (or serial), not both")
    if workers is not None and workers < 0:
        raise ValueError(f"workers must be >= 0 (0: serial), got {workers}")
    settings = settings or CalibrationSettings()
    if isinstance(settings.estimate, str):
        settings = dataclasses.replace(settings, estimate=tuple(
            s.strip() for s in settings.estimate.split(",") if s.strip()))
    folder = Path(folder).resolve()
    out = Path(out).resolve()
    paths = find_records(folder, exclude=[out])
    names = record_names(paths)
    out.mkdir(parents=True, exist_ok=True)
    serial = serial or workers == 0
    t0 = time.perf_counter()
    if serial:
        rows, info = _run_serial(paths, names, settings, out, progress, command)
    else:
        rows, info = _run_distributed(paths, names, settings, out, progress, command, workers,
                                      scheduler, cluster_options or {})
    elapsed = time.perf_counter() - t0
    tracebacks = {r["record"]: r.pop("traceback") for r in rows if "traceback" in r}
    table = _table(rows)
    io.write_csv(out / "cohort.csv", table)
    counts = table["status"].value_counts().to_dict()
    meta = io.provenance(
        command, {"folder": str(folder), "out": str(out), "settings": dataclasses.asdict(settings)},
        seed=settings.seed, scheduler=info, elapsed_s=round(elapsed, 3),
        records={"total": len(rows), "ok": int(counts.get("ok", 0)),
                 "error": int(counts.get("error", 0))},
        rows=[{k: _json_value(v) for k, v in r.items()} for r in rows],
        tracebacks=tracebacks)
    io.write_json(out / "cohort.json", meta)
    return table


def _table(rows: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    lead = [c for c in COHORT_COLUMNS if c in table]
    rest = [c for c in table if c not in lead and c not in TIMING_COLUMNS]
    table = table[lead + rest + [c for c in TIMING_COLUMNS if c in table]]
    for c in ("beats", "observed", "skipped", "rmse_beats", "n_warnings"):
        if c in table:
            table[c] = table[c].astype("Int64")
    return table


def _json_value(v):
    if v is None:
        return None
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _bar(total: int, progress: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="record", desc="calibrate-cohort", disable=not progress)


def _run_serial(paths, names, settings, out, progress, command):
    rows = []
    with _bar(len(paths), progress) as bar, _single_threaded():
        for path, name in zip(paths, names):
            try:
                rows.append(calibrate_one(path, settings, out, name=name, command=command))
            except Exception as exc:  # noqa: BLE001 - one record's bug must not lose the cohort
                rows.append(_unexpected(path, name, exc, settings))
            bar.update()
    return rows, {"mode": "serial", "pid": os.getpid()}


def _run_distributed(paths, names, settings, out, progress, command, workers, scheduler, cluster_options):
    from distributed import Client, LocalCluster, as_completed

    from ..io import package_version

    with contextlib.ExitStack() as stack:
        if scheduler is None:
            opts = {"n_workers": workers, "threads_per_worker": 1, "processes": True,
                    "dashboard_address": None, "silence_logs": logging.ERROR, **cluster_options}
            cluster = stack.enter_context(LocalCluster(**opts))
            client = stack.enter_context(Client(cluster, set_as_default=False))
            mode = "local"
        else:
            try:
                client = stack.enter_context(Client(scheduler, set_as_default=False))
            except OSError as exc:  # refused, unknown host, timed out
                raise CardiosimError(f"cannot connect to the Dask scheduler at {scheduler!r} ({exc}); "
                                     f"start one with `dask scheduler` and workers with "
                                     f"`dask worker ADDRESS`, or drop --scheduler for a local "
                                     f"cluster") from exc
            mode = "address"
        sinfo = client.scheduler_info()
        wk = sinfo.get("workers", {})
        info = {"mode": mode, "address": client.scheduler.address, "workers": len(wk),
                "threads": int(sum(w.get("nthreads", 0) for w in wk.values())),
                "dask": package_version("dask"), "distributed": package_version("distributed")}
        if mode == "local":
            info["threads_per_worker"] = 1
        futures = [client.submit(calibrate_one, str(p), settings, str(out), name=n, command=command,
                                 key=f"calibrate-{n}-{os.urandom(4).hex()}", pure=False)
                   for p, n in zip(paths, names)]
        index = {f.key: i for i, f in enumerate(futures)}
        rows: list[dict | None] = [None] * len(futures)
        try:
            with _bar(len(futures), progress) as bar:
                for fut in as_completed(futures, loop=client.loop):
                    i = index[fut.key]
                    try:
                        rows[i] = fut.result()
                    except Exception as exc:  # noqa: BLE001 - a lost worker or a bug in one task
                        rows[i] = _unexpected(paths[i], names[i], exc, settings)
                    bar.update()
        finally:
            client.cancel([f for f in futures if not f.done()])
    return rows, info
