"""Write the reference meshes that tests and benchmarks read (run from the repository root):

    python meshes/make_meshes.py

* land_beam_L{1,2}_P2.vtu: Land 2015 problem 1 beam (10 x 1 x 1 mm), level hexahedra across
  the section, 6 tetrahedra each, quadratic; markers X0..Z1; fibres f = x per cell.
* land_ellipsoid_L{1,2}_P2.vtu: the truncated ellipsoid of problems 2 and 3 (curved P2);
  markers ENDO, EPI, BASE; the problem-3 fibre frames per cell (at the cell centroid).

Points are in metres. The files are regenerated bit for bit by this script (the generators
are deterministic); tests/test_mesh_files.py checks that they still match.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from cardiosim.geometry import Mesh, TruncatedEllipsoid, land_beam

HERE = Path(__file__).resolve().parent
LEVELS = (1, 2)


def reference_meshes() -> dict[str, Mesh]:
    out = {}
    for level in LEVELS:
        m = land_beam(level, order=2)
        out[f"land_beam_L{level}_P2.vtu"] = m.with_fibres(np.tile(np.eye(3), (m.n_cells, 1, 1)))
    geo = TruncatedEllipsoid.land2015()
    for level in LEVELS:
        m = geo.mesh(level, order=2)
        out[f"land_ellipsoid_L{level}_P2.vtu"] = m.with_fibres(geo.fibres(m.points[m.cells].mean(axis=1)))
    return out


def main(argv=None):
    for name, m in reference_meshes().items():
        path = m.write(HERE / name)
        print(f"{path.name}: {m.n_points} nodes, {m.n_cells} cells, markers {sorted(m.facets)}")


if __name__ == "__main__":
    main(sys.argv[1:])
