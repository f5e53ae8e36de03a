"""A 3D heartbeat's run folder: ``pv.csv``, ``beats.csv``, ``fields.xdmf`` + ``fields.h5``,
``checkpoints/`` and, with the energy ledger on, ``energy.csv``.

Every file is written atomically (a crash leaves the previous version or none). Checkpoints
are NumPy ``.npz`` archives of plain arrays with their metadata as a JSON string, read with
``allow_pickle=False``: opening one cannot run code.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from ..errors import ParameterError
from ..io import atomic_write, json_default, write_text
from ..models.ventricle3d import PHASES
from ..units import ML, MMHG

PHASE_NAMES = tuple(p.replace(" ", "_") for p in PHASES)
PV_COLUMNS = ("t_s", "V_mL", "P_mmHg", "Q_in_mL_s", "Q_out_mL_s", "P_in_mmHg", "P_out_mmHg", "phase",
              "newton_iterations")
BEAT_COLUMNS = ("beat", "EDV_mL", "ESV_mL", "SV_mL", "EF", "peak_P_mmHg")
CHECKPOINT_FORMAT = "cardiosim-heartbeat-checkpoint/1"


def _g(v: float) -> str:
    return repr(float(v))   # shortest text that reads back to the same double: restarts compare exactly


def pv_text(rows) -> str:
    """``pv.csv`` of PV rows (SI, :class:`cardiosim.models.ventricle3d.PVRow`) in clinical units."""
    lines = [",".join(PV_COLUMNS)]
    for r in rows:
        phase = PHASE_NAMES[r.phase] if 0 <= r.phase < len(PHASE_NAMES) else str(r.phase)
        lines.append(",".join([_g(r.t), _g(r.V / ML), _g(r.P / MMHG), _g(r.q_in / ML), _g(r.q_out / ML),
                               _g(r.P_in / MMHG), _g(r.P_out / MMHG), phase, str(int(r.iterations))]))
    return "\n".join(lines) + "\n"


def write_pv(path, rows) -> Path:
    return write_text(path, pv_text(rows))


ENERGY_COLUMNS = ("t_s", "kinetic_J", "stored_J", "springs_J", "dissipated_J", "pressure_work_J", "active_work_J",
                  "cavity_work_J", "defect_J")


def write_energy(path, rows) -> Path:
    """``energy.csv``: the ledger of every step (:class:`cardiosim.models.ventricle3d.EnergyRow`)."""
    lines = [",".join(ENERGY_COLUMNS)]
    for r in rows:
        lines.append(",".join(_g(v) for v in (r.t, r.kinetic, r.stored, r.springs, r.dissipated, r.pressure_work,
                                               r.active_work, r.cavity_work, r.defect)))
    return write_text(path, "\n".join(lines) + "\n")


def write_beats(path, beats: list[dict]) -> Path:
    """``beats.csv``: one row per beat (BEAT_COLUMNS)."""
    lines = [",".join(BEAT_COLUMNS)]
    for b in beats:
        lines.append(",".join(str(int(b[c])) if c == "beat" else f"{b[c]:.6g}" for c in BEAT_COLUMNS))
    return write_text(path, "\n".join(lines) + "\n")


# -- checkpoints --------------------------------------------------------------------------------
def write_checkpoint(path, data: dict[str, np.ndarray], meta: dict) -> Path:
    """One checkpoint file: the arrays of ``data`` and ``meta`` (JSON-able) as ``meta_json``."""
    for k, v in data.items():
        a = np.asarray(v)
        if a.dtype == object:
            raise ParameterError(f"checkpoint field {k!r} is not plain data ({a.dtype})")
    meta = {"format": CHECKPOINT_FORMAT, **meta}
    arrays = {k: np.asarray(v) for k, v in data.items()}
    arrays["meta_json"] = np.array(json.dumps(meta, sort_keys=True, default=json_default))

    def write(p: Path):
        with open(p, "wb") as f:
            np.savez(f, **arrays)

    return atomic_write(path, write)


def read_checkpoint(path) -> tuple[dict[str, np.ndarray], dict]:
    """(arrays, meta) of a checkpoint; ParameterError naming the file if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"{path}: no such checkpoint file")
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as e:
        raise ParameterError(f"{path}: not a cardiosim checkpoint (an .npz of plain arrays): {e}") from None
    if "meta_json" not in data:
        raise ParameterError(f"{path}: not a cardiosim checkpoint (field 'meta_json' missing)")
    meta = json.loads(str(data.pop("meta_json")))
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise ParameterError(f"{path}: field 'format' is {meta.get('format')!r}, expected {CHECKPOINT_FORMAT!r}")
    return data, meta


# -- fields -------------------------------------------------------------------------------------
FIELD_UNITS = {"displacement_m": "m", "velocity_m_s": "m/s", "fibre_stretch": "1", "active_tension_Pa": "Pa",
               "fibre_stress_Pa": "Pa"}


class FieldsWriter:
    """An XDMF time series ``fields.xdmf`` + ``fields.h5`` (the layout meshio's
    TimeSeriesWriter makes: readable by meshio's TimeSeriesReader and by ParaView), its
    fields named with their units. Both files are written in a hidden folder inside
    ``folder`` and moved into place by :meth:`close`: a crash leaves no half-written series
    under the final names."""

    _TOPOLOGY = {1: ("Tetrahedron", 4), 2: ("Tetrahedron_10", 10)}

    def __init__(self, folder, mesh):
        import h5py

        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._tmp = Path(tempfile.mkdtemp(prefix=".fields.", dir=self.folder))
        self._h5 = h5py.File(self._tmp / "fields.h5", "w")
        self._n = 0
        topo, nn = self._TOPOLOGY[mesh.order]
        cells = mesh.to_meshio().cells[0].data       # VTK node order, which XDMF shares
        g = self._data(np.asarray(mesh.points, float))
        c = self._data(np.asarray(cells, np.int64))
        self._mesh_xml = (f'<Grid Name="mesh" GridType="Uniform"><Geometry GeometryType="XYZ">{g}</Geometry>'
                          f'<Topology TopologyType="{topo}" NumberOfElements="{len(cells)}" '
                          f'NodesPerElement="{nn}">{c}</Topology></Grid>')
        self._steps: list[str] = []
        self._n_points = len(mesh.points)

    def _data(self, a: np.ndarray) -> str:
        name = f"data{self._n}"
        self._n += 1
        self._h5.create_dataset(name, data=a)
        kind = "Int" if a.dtype.kind in "iu" else "Float"
        dims = " ".join(str(d) for d in a.shape)
        return f'<DataItem DataType="{kind}" Dimensions="{dims}" Format="HDF" Precision="8">fields.h5:/{name}</DataItem>'

    def write(self, t: float, fields: dict[str, np.ndarray]) -> None:
        """One time step: arrays of n_points rows are node fields, of n_cells rows cell fields."""
        attrs = []
        for name, v in fields.items():
            v = np.ascontiguousarray(v, float)
            centre = "Node" if len(v) == self._n_points else "Cell"
            kind = "Vector" if v.ndim == 2 else "Scalar"
            unit = FIELD_UNITS.get(name, "")
            # the unit beside the attribute, not in it: meshio reads an Attribute's one DataItem only
            attrs.append(f'<Information Name="unit:{name}" Value="{unit}" />'
                         f'<Attribute Name="{name}" AttributeType="{kind}" Center="{centre}">{self._data(v)}</Attribute>')
        self._steps.append('<Grid><xi:include xpointer="xpointer(//Grid[@Name=&quot;mesh&quot;]/*[self::Topology '
                           f'or self::Geometry])" /><Time Value="{float(t)!r}" />{"".join(attrs)}</Grid>')

    def close(self) -> list[Path]:
        """Finish the series; returns [fields.xdmf, fields.h5]."""
        self._h5.close()
        xml = ('<?xml version="1.0"?>\n<Xdmf xmlns:xi="http://www.w3.org/2003/XInclude" Version="3.0"><Domain>'
               '<Grid Name="TimeSeries" GridType="Collection" CollectionType="Temporal">'
               + "".join(self._steps) + "</Grid>" + self._mesh_xml + "</Domain></Xdmf>\n")
        (self._tmp / "fields.xdmf").write_text(xml, encoding="utf-8")
        # the heavy data first: a fields.xdmf in place always finds its fields.h5
        for name in ("fields.h5", "fields.xdmf"):
            os.replace(self._tmp / name, self.folder / name)
        shutil.rmtree(self._tmp, ignore_errors=True)
        return [self.folder / "fields.xdmf", self.folder / "fields.h5"]

    def abort(self) -> None:
        try:
            self._h5.close()
        finally:
            shutil.rmtree(self._tmp, ignore_errors=True)


# -- a run --------------------------------------------------------------------------------------
def run_to_folder(sim, beats: int, dt: float, out, checkpoint_every: int = 0, fields_every: int = 0,
                  progress=None, meta_extra: dict | None = None) -> dict[str, Path]:
    """Write the run folder ``out`` of ``sim`` (a :class:`cardiosim.models.HeartbeatSimulation`)
    as it runs ``beats`` beats of steps ``dt`` [s] from its current state: ``pv.csv`` (the steps this run
    computed), ``beats.csv`` (the beats all of whose steps it holds), ``fields.xdmf/.h5``
    (every ``fields_every`` steps, 0: none) and ``checkpoints/step_NNNNNNN.npz`` (every
    ``checkpoint_every`` steps and at the end; 0: at the end only). If the solver fails,
    the last good state is written as a checkpoint and the files so far are kept, then the
    error is raised again naming that checkpoint."""
    from ..errors import SolverError

    n = sim.steps_per_beat(dt)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {**sim.signature(), "dt_s": float(dt), **(meta_extra or {})}
    paths: dict[str, Path] = {}

    def checkpoint() -> Path:
        p = out / "checkpoints" / f"step_{sim.dyn.state.steps:07d}.npz"
        return write_checkpoint(p, sim.checkpoint(), meta)

    def flush():
        paths["pv"] = write_pv(out / "pv.csv", sim.rows[sim.first_computed:])
        paths["beats"] = write_beats(out / "beats.csv", sim.beats())
        if sim.dyn.track_work:
            paths["energy"] = write_energy(out / "energy.csv", sim.energy_rows)

    fw = FieldsWriter(out, sim.mesh) if fields_every else None
    if fw is not None:
        fw.write(sim.dyn.state.t, sim.fields())

    def on_step(done: int):
        if fw is not None and done % fields_every == 0:
            fw.write(sim.dyn.state.t, sim.fields())
        if checkpoint_every and done % checkpoint_every == 0:
            paths["checkpoint"] = checkpoint()

    try:
        sim.run(beats, dt, progress=progress, on_step=on_step, on_beat=lambda b: flush())
    except SolverError as e:
        flush()
        p = checkpoint()
        if fw is not None:
            paths.update(zip(("fields_xdmf", "fields_h5"), fw.close()))
        raise SolverError(f"{e} (last good state written to {p}, the steps so far to {out / 'pv.csv'})",
                          getattr(e, "time_s", float("nan")), getattr(e, "state", None), p) from e
    except BaseException:
        if fw is not None:
            fw.abort()
        raise
    if not (checkpoint_every and (n * int(beats)) % checkpoint_every == 0):
        paths["checkpoint"] = checkpoint()
    if fw is not None:
        paths.update(zip(("fields_xdmf", "fields_h5"), fw.close()))
    return paths
