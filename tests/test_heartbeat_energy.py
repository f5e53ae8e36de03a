"""The energy ledger of a 3D heartbeat (Land ellipsoid, BCS law at every point, coupled to
the circulation): with the energy-consistent scheme (mid-point rule, discrete-gradient
stress; Gonzalez 2000, Chapelle et al. 2012) the change of kinetic + stored + spring energy
plus the dissipated energy equals the pressure and active work of every step to the Newton
tolerance; generalized-alpha's defect is its numerical dissipation, measured here."""

import pandas as pd
import pytest

from cardiosim.cli import main
from cardiosim.models import HeartbeatSimulation
from cardiosim.models.ventricle3d import EnergyRow

DT, PERIOD = 0.008, 0.48
STEPS = 36   # generalized-alpha: through filling, contraction and ejection
COLUMNS = ["t_s", "kinetic_J", "stored_J", "springs_J", "dissipated_J", "pressure_work_J", "active_work_J",
           "cavity_work_J", "defect_J"]


@pytest.fixture(scope="module")
def ledgers(tmp_path_factory):
    """The energy-consistent beat from the command line (P1, one beat), generalized-alpha's
    first STEPS steps through the library."""
    out = tmp_path_factory.mktemp("energy")
    assert main(["heartbeat", "--active", "bcs", "--order", "1", "--scheme", "energy-consistent", "--energy",
                 "--dt", str(DT), "--period", str(PERIOD), "--beats", "1", "--fields-every", "0", "--quiet",
                 "--out", str(out)]) == 0
    e = pd.read_csv(out / "energy.csv")
    assert list(e.columns) == COLUMNS and len(e) == round(PERIOD / DT)
    ec = [EnergyRow(*r) for r in e.itertuples(index=False)]
    sim = HeartbeatSimulation.land_ellipsoid(level=1, order=1, period=PERIOD, activation="bcs",
                                             scheme="generalized-alpha")
    sim.track_energy()
    for _ in range(STEPS):
        sim.step(DT)
    return {"energy-consistent": ec, "generalized-alpha": sim.energy_rows}


def test_the_energy_consistent_ledger_closes_to_the_newton_tolerance(ledgers):
    rows = ledgers["energy-consistent"]
    work = sum(abs(r.pressure_work) + abs(r.active_work) for r in rows)
    assert work > 1e-3                                    # ejection happened: millijoules of work
    assert max(abs(r.pressure_work) for r in rows) > 1e-5
    worst = max(abs(r.defect) / (abs(r.pressure_work) + abs(r.active_work) + 1e-12) for r in rows)
    print("energy-consistent: worst relative step defect", worst, "total work", work)
    assert worst < 1e-6


def test_generalized_alpha_dissipates_more_than_the_newton_tolerance(ledgers):
    ec = ledgers["energy-consistent"][:STEPS]
    ga = ledgers["generalized-alpha"]
    d_ec = sum(abs(r.defect) for r in ec)
    d_ga = sum(abs(r.defect) for r in ga)
    work = sum(abs(r.pressure_work) + abs(r.active_work) for r in ga)
    print("sum |defect|: energy-consistent", d_ec, "generalized-alpha", d_ga, "of work", work)
    assert d_ga > 100 * d_ec


def test_the_circulation_sees_the_pressure_work_the_wall_does(ledgers):
    """The cavity's ledger: the circulation's p1 (V1 - V0) against the pressure's work on the
    wall as the scheme counts it (p1 times the volume's gradient at the stage, times du):
    the mid-point rule's error on the cubic volume."""
    rows = ledgers["energy-consistent"]
    wall = sum(r.pressure_work for r in rows)
    circ = sum(r.cavity_work for r in rows)
    print("pressure work: wall", wall, "circulation", circ)
    assert abs(wall - circ) <= 1e-3 * sum(abs(r.cavity_work) for r in rows)
