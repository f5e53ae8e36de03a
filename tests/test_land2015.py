"""Land et al. 2015 benchmark on coarse meshes (Land S et al., Verification of cardiac
mechanics software: benchmark problems and solutions for testing active and passive material
behaviour, Proc R Soc A 471:20150641, 2015; problems 1-3), Taylor-Hood P2-P1: each quantity
equals the figure the README's verification table gives for that mesh (to 1e-4) and lies
within the error bound it states of the reference value. The converged figures on finer
meshes are in the README (benchmarks/land2015.py)."""

import pytest

from cardiosim.fem.land2015 import REFERENCE, run


#: README verification table: the result on each test mesh, and the bound on its error
#: against REFERENCE (problem 1: the error itself, -0.67 %, to its printed digits)
README = {
    1: ({"beam_point_z_mm": 4.1411}, 0.0068),
    2: ({"endo_apex_z_mm": -26.625, "epi_apex_z_mm": -27.822, "cavity_volume_mm3": 10703.0}, 0.017),
    3: ({"endo_apex_z_mm": -12.097, "epi_apex_z_mm": -15.495, "cavity_volume_mm3": 1798.6}, 0.021),
}


def _check(out, problem):
    stated, bound = README[problem]
    for k, ref in REFERENCE[problem].items():
        assert out[k] == pytest.approx(stated[k], rel=1e-4), k
        assert abs(out[k] / ref - 1) < bound, k


@pytest.fixture(scope="module")
def problem2_level1():
    """Problem 2 on level 1 with the default ("auto": a direct solver at 1,955 unknowns),
    solved once for the tests that need it."""
    return run(2, 1)


def test_problem1_beam_level2():
    out = run(1, 2)
    _check(out, 1)
    assert out["beam_point_z_rel_error"] == pytest.approx(-0.0067, abs=5e-5)  # -0.67 %
    assert out["formulation"] == "mixed" and out["cutbacks"] == 0


def test_problem2_ellipsoid_inflation_level1(problem2_level1):
    _check(problem2_level1, 2)


@pytest.mark.slow
def test_problem3_inflation_and_contraction_level2_graded():
    """Problem 3's endocardial apex is the most mesh-sensitive number (Land et al. 2015): the
    fibres turn through 180 degrees across the wall and converge at the apex, so it needs
    transmural layers and apex refinement more than overall refinement (level 2 with 2
    layers: -3.3 %; level 2 with 4 layers and rings 3x closer at the apex: -2.0 %)."""
    out = run(3, 2, layers=4, apex_grading=3.0, steps=8)
    _check(out, 3)


def test_problem2_with_the_block_krylov_solver_matches_the_direct_solve(problem2_level1):
    """The AMG-preconditioned GMRES of the saddle point (the solver for large meshes) gives
    the direct solver's answer through the whole Newton solve."""
    pytest.importorskip("pyamg")
    a = problem2_level1
    assert a["linear_solver"] in ("superlu", "umfpack", "pardiso")  # "auto" chose a direct solver
    b = run(2, 1, linear_solver="block-gmres")
    for k in REFERENCE[2]:
        assert b[k] == pytest.approx(a[k], rel=1e-6), k
