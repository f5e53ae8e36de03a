"""meshes/: the reference meshes on disk are what meshes/make_meshes.py generates."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from cardiosim.geometry import Mesh

ROOT = Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location("make_meshes", ROOT / "meshes" / "make_meshes.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("name", sorted(_generator().reference_meshes()))
def test_reference_mesh_file_matches_its_generator(name):
    want = _generator().reference_meshes()[name]
    got = Mesh.read(ROOT / "meshes" / name)
    assert np.array_equal(got.cells, want.cells)
    assert np.abs(got.points - want.points).max() <= 1e-15
    assert sorted(got.facets) == sorted(want.facets)
    for k in want.facets:
        assert np.array_equal(got.facets[k], want.facets[k])
    assert got.fibres is not None and np.abs(got.fibres - want.fibres).max() < 1e-12
