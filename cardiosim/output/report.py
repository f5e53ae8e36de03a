"""Writing a simulation's results and figures to a folder."""

from __future__ import annotations

from pathlib import Path

from .. import io
from . import plots


def write_simulation(results, out_dir, command: str, seed: int | None = None) -> dict:
    """Write time series, per-beat indicators, parameters/provenance and figures.

    Files: ``timeseries.csv``, ``beats.csv``, ``run.json``, ``heartbeat.png``,
    ``pv_loop.png``. Returns a dict of the paths written.
    """
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    paths = {
        "timeseries": io.write_csv(out / "timeseries.csv", results.timeseries),
        "beats": io.write_csv(out / "beats.csv", results.beats),
    }
    meta = io.provenance(command, results.meta.get("model", {}), seed=seed,
                         periodic=bool(results.periodic),
                         beats=int(results.n_beats),
                         **{k: v for k, v in results.meta.items() if k != "model"},
                         last_beat=results.last_beat())
    paths["run"] = io.write_json(out / "run.json", meta)
    fig = plots.report_figure(results)
    paths["figure"] = io.write_figure(out / "heartbeat.png", fig)
    plt.close(fig)
    fig = plots.pv_loop(results, beats=range(max(0, results.n_beats - 5), results.n_beats))
    paths["pv_loop"] = io.write_figure(out / "pv_loop.png", fig)
    plt.close(fig)
    return paths


def summary_lines(beat: dict) -> list[str]:
    """Human-readable summary of one beat's indicators."""
    return [
        f"  heart rate        {beat['HR_bpm']:7.1f} bpm",
        f"  EDV / ESV         {beat['EDV_mL']:7.1f} / {beat['ESV_mL']:.1f} mL",
        f"  stroke volume     {beat['SV_mL']:7.1f} mL    EF {100 * beat['EF']:.0f} %",
        f"  cardiac output    {beat['CO_L_min']:7.2f} L/min",
        f"  arterial pressure {beat['SBP_mmHg']:7.1f} / {beat['DBP_mmHg']:.1f} mmHg (MAP {beat['MAP_mmHg']:.1f})",
        f"  max dP/dt         {beat['dPdt_max_mmHg_s']:7.0f} mmHg/s",
        f"  stroke work       {beat['stroke_work_J']:7.3f} J",
        f"  phases [ms]       filling {1e3 * beat['filling_s']:.0f}, isovolumic contraction "
        f"{1e3 * beat['isovolumic_contraction_s']:.0f}, ejection {1e3 * beat['ejection_s']:.0f}, "
        f"isovolumic relaxation {1e3 * beat['isovolumic_relaxation_s']:.0f}",
    ]
