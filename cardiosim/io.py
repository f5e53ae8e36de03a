"""Writing results: atomic files and the provenance written beside every result."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Write a file through ``write(tmp_path)`` then rename it into place.

    A crash never leaves a half-written result under the final name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600; results are ordinary files
    try:
        write(tmp_path)
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
    return path


def write_text(path, text: str) -> Path:
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_json(path, obj: Any) -> Path:
    return write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=json_default) + "\n")


def write_csv(path, frame) -> Path:
    return atomic_write(path, lambda p: frame.to_csv(p, index=False, float_format="%.6g"))


def write_figure(path, fig, close: bool = True) -> Path:
    """Save ``fig`` atomically; close it (pyplot keeps every open figure alive) unless told not to."""
    suffix = Path(path).suffix.lstrip(".") or "png"
    try:
        return atomic_write(path, lambda p: fig.savefig(p, format=suffix, dpi=120, bbox_inches="tight"))
    finally:
        if close:
            import matplotlib.pyplot as plt
            plt.close(fig)


def json_default(obj):
    """``default=`` of json.dumps for NumPy scalars and arrays, tuples, sets and paths."""
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (tuple, set)):
        return list(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def package_version(package: str) -> str | None:
    """Installed version of a distribution, or None when it is not installed."""
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def versions() -> dict:
    """Versions of cardiosim, Python and the libraries a result depends on."""
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for pkg in ("cardiosim", "numpy", "scipy", "numba", "pandas", "matplotlib", "wfdb"):
        out[pkg] = package_version(pkg)
    return out


def provenance(command: str, parameters: dict, seed: int | None = None, **extra) -> dict:
    """What was run, with which parameters, versions and seed."""
    return {
        "command": command,
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "seed": seed,
        "versions": versions(),
        "parameters": parameters,
        **extra,
    }
