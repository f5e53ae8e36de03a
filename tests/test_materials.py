"""Hyperelastic laws (cardiosim.materials): S = 2 dW/dC and D = dS/dE by finite differences,
stress-free reference, small-strain limits, objectivity, isochoric invariance, the active
stress, the Numba kernels against the NumPy reference of tests/reference_materials.py (whose
closed forms are checked here by complex step), and parameter validation."""

import dataclasses

import numpy as np
import pytest
import reference_materials as ref

from cardiosim.errors import ParameterError
from cardiosim.materials import (
    GUCCIONE,
    HOLZAPFEL_OGDEN,
    KAPPA_FACTOR,
    Caruel,
    NEO_HOOKE,
    Guccione,
    HolzapfelOgden,
    HolzapfelOgdenSmooth,
    NeoHooke,
    active_stress,
    laws,
    stress,
    stress_tangent,
)

VOIGT = ref.VOIGT
#: C-perturbation of a unit step of the engineering strain component B: dC = 2 dE
DC = []
for (k, l) in VOIGT:
    m = np.zeros((3, 3))
    m[k, l] = m[l, k] = 1.0 if k != l else 2.0
    DC.append(m)

LAWS = {
    "neo_hooke": NeoHooke(mu=5.0e3),
    "guccione_p1": Guccione.land2015_problem1(),
    "guccione_p2": Guccione.land2015_problem2(),
    "holzapfel_ogden": HolzapfelOgden.holzapfel_ogden2009(),
    "caruel": Caruel.caruel2014(),
    "caruel_one_family": Caruel.caruel2014(delta=0.0),
}


def prm_of(law, kappa="auto"):
    prm = law.pack()
    if kappa != "auto":
        prm[-1] = kappa
    return prm


def kernel(kind, C, R, prm):
    S, D = np.empty((3, 3)), np.empty((6, 6))
    W = stress_tangent(kind, np.ascontiguousarray(C), np.ascontiguousarray(R), prm, S, D)
    return W, S, D


def frame(rng):
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q.T.copy()  # rows f0, s0, n0: orthonormal


def rotation(rng):
    q = frame(rng)
    return q if np.linalg.det(q) > 0 else -q


def deformations(rng, n, scale):
    out = []
    while len(out) < n:
        F = np.eye(3) + scale * rng.uniform(-1, 1, (3, 3))
        if np.linalg.det(F) > 0.3:
            out.append(F)
    return out


def away_from_kink(law, C, R):
    """Holzapfel-Ogden: keep I4f, I4s away from 1 so that central differences do not
    straddle the tension switch."""
    if law.kind != HOLZAPFEL_OGDEN:
        return True
    return all(abs(R[a] @ C @ R[a] - 1.0) > 1e-3 for a in (0, 1))


def cases(seed, n=6):
    """(law name, kappa, C, R): near identity and at moderately large stretch, with the
    penalty on (automatic kappa) and off (isochoric part alone)."""
    rng = np.random.default_rng(seed)
    out = []
    for name, law in LAWS.items():
        for kappa in ("auto", 0.0):
            for scale in (0.02, 0.3):
                k = 0
                for F in deformations(rng, 4 * n, scale):
                    R, C = frame(rng), F.T @ F
                    if away_from_kink(law, C, R) and k < n:
                        out.append((name, kappa, C, R))
                        k += 1
    return out


def rel(a, b):
    return np.linalg.norm(np.asarray(a) - np.asarray(b)) / np.linalg.norm(b)


@pytest.fixture(scope="module", autouse=True)
def compiled():
    """Compile (or load from cache) once, outside the timed tests."""
    for law in LAWS.values():
        kernel(law.kind, np.eye(3), np.eye(3), law.pack())
    S = np.zeros((3, 3))
    stress(GUCCIONE, np.eye(3), np.eye(3), LAWS["guccione_p1"].pack(), S)
    active_stress(1.0, np.eye(3), S)


# ---- 1, 2: S = 2 dW/dC and D = dS/dE by central differences ------------------------
def _strain_derivative(f, C, h=1e-6):
    """Central differences of f(C) along each engineering-strain direction DC[B] (last axis)."""
    return np.stack([(np.asarray(f(C + h * DC[B])) - np.asarray(f(C - h * DC[B]))) / (2 * h)
                     for B in range(6)], axis=-1)


@pytest.mark.parametrize("name, kappa, C, R", cases(1))
def test_stress_is_energy_derivative(name, kappa, C, R):
    law = LAWS[name]
    prm = prm_of(law, kappa)
    _, S, _ = kernel(law.kind, C, R, prm)
    S_fd = _strain_derivative(lambda CC: kernel(law.kind, CC, R, prm)[0], C)  # dW/dEhat_B = S_v[B]
    S_v = np.array([S[i, j] for (i, j) in VOIGT])
    assert rel(S_fd, S_v) < 1e-6
    assert np.array_equal(S, S.T)


@pytest.mark.parametrize("name, kappa, C, R", cases(2))
def test_tangent_is_stress_derivative(name, kappa, C, R):
    law = LAWS[name]
    prm = prm_of(law, kappa)
    _, _, D = kernel(law.kind, C, R, prm)
    D_fd = _strain_derivative(lambda CC: np.array([kernel(law.kind, CC, R, prm)[1][i, j] for (i, j) in VOIGT]), C)
    assert rel(D_fd, D) < 1e-6
    assert np.array_equal(D, D.T)


# ---- 3: stress-free reference ------------------------------------------------------
@pytest.mark.parametrize("name", LAWS)
def test_reference_state_is_stress_free(name):
    law = LAWS[name]
    rng = np.random.default_rng(3)
    for R in (np.eye(3), frame(rng), frame(rng)):
        W, S, _ = kernel(law.kind, np.eye(3), R, law.pack())
        assert abs(W) <= 1e-12 * law.reference_modulus
        assert np.abs(S).max() <= 1e-12 * law.reference_modulus


def test_reference_stress_free_with_slightly_non_unit_fibres():
    # interpolated fibre fields are only approximately unit: I4 - 1 = f.(C - I)f keeps the
    # reference stress-free anyway
    R = frame(np.random.default_rng(4)) * np.array([[1.02], [0.97], [1.0]])
    law = HolzapfelOgden.holzapfel_ogden2009()
    W, S, _ = kernel(law.kind, np.eye(3), R, law.pack())
    assert W == 0.0 and np.abs(S).max() <= 1e-12 * law.reference_modulus


# ---- 4: small-strain limits --------------------------------------------------------
def isotropic_voigt(lam, mu):
    D = np.zeros((6, 6))
    D[:3, :3] = lam
    D[np.arange(3), np.arange(3)] += 2 * mu
    D[np.arange(3, 6), np.arange(3, 6)] = mu  # S12 = 2 mu E12 = mu (2 E12)
    return D


def test_neo_hooke_small_strain_is_isotropic_linear_elasticity():
    law = NeoHooke(mu=5.0e3, kappa=2.0e6)
    _, _, D = kernel(law.kind, np.eye(3), np.eye(3), law.pack())
    expected = isotropic_voigt(law.kappa - 2 * law.mu / 3, law.mu)
    assert np.abs(D - expected).max() <= 1e-10 * np.abs(expected).max()


def test_guccione_isotropic_small_strain_shear_modulus_is_half_C():
    # With b_f = b_t = b_fs = 1, Q = E:E and W_iso ~ (C/2) Ebar:Ebar: the isochoric tangent
    # at rest is C (II - I(x)I/3) = 2 mu (II - I(x)I/3), i.e. shear modulus mu = C/2 (not
    # C), and the penalty adds kappa I(x)I, so lambda = kappa - C/3 = kappa - 2 mu/3.
    law = Guccione.land2015_problem2()
    rng = np.random.default_rng(5)
    for R in (np.eye(3), frame(rng)):  # isotropic: the frame must not matter
        _, _, D = kernel(law.kind, np.eye(3), R, law.pack())
        mu = law.C / 2
        expected = isotropic_voigt(law.bulk_modulus - 2 * mu / 3, mu)
        assert np.abs(D - expected).max() <= 1e-10 * np.abs(expected).max()


def test_holzapfel_ogden_small_strain_tangent():
    # at rest: isotropic part has shear modulus a; fibres and sheets (I4 = 1, not in
    # tension) contribute nothing; the fibre-sheet term adds 4 a_fs N (x) N, N = sym(f(x)s)
    law = HolzapfelOgden.holzapfel_ogden2009()
    R = np.eye(3)
    _, _, D = kernel(law.kind, np.eye(3), R, law.pack())
    expected = isotropic_voigt(law.bulk_modulus - 2 * law.a / 3, law.a)
    expected[3, 3] += law.a_fs  # 4 a_fs * (1/2)(1/2)
    assert np.abs(D - expected).max() <= 1e-10 * np.abs(expected).max()


# ---- 5: objectivity and material-frame invariance ----------------------------------
def tensor4(D):
    idx = laws.VOIGT_INDEX
    return D[idx[:, :, None, None], idx[None, None, :, :]]


@pytest.mark.parametrize("name", LAWS)
def test_objectivity_and_material_frame(name):
    law = LAWS[name]
    rng = np.random.default_rng(6)
    for F in deformations(rng, 5, 0.3):
        R, Q = frame(rng), rotation(rng)
        C = F.T @ F
        W, S, D = kernel(law.kind, C, R, law.pack())
        QF = Q @ F
        W2 = kernel(law.kind, QF.T @ QF, R, law.pack())[0]
        assert W2 == pytest.approx(W, rel=1e-12)
        # rotate the reference configuration: C -> Q C Q^T, fibres f0 -> Q f0
        Wr, Sr, Dr = kernel(law.kind, Q @ C @ Q.T, R @ Q.T, law.pack())
        assert Wr == pytest.approx(W, rel=1e-12)
        assert rel(Sr, Q @ S @ Q.T) < 1e-12
        CCr = np.einsum("ia,jb,kc,ld,abcd->ijkl", Q, Q, Q, Q, tensor4(D))
        assert rel(tensor4(Dr), CCr) < 1e-12


# ---- 6: the isochoric part ignores volume change -----------------------------------
@pytest.mark.parametrize("name", LAWS)
def test_isochoric_part_is_volume_invariant(name):
    law = LAWS[name]
    if law.kind == HOLZAPFEL_OGDEN:
        law = dataclasses.replace(law, a_f=0.0, a_s=0.0, a_fs=0.0)  # isotropic term only
    prm = prm_of(law, 0.0)
    rng = np.random.default_rng(7)
    for F in deformations(rng, 5, 0.3):
        R, C = frame(rng), F.T @ F
        W, S, D = kernel(law.kind, C, R, prm)
        for alpha in (0.8, 1.1, 1.7):
            Wa, Sa, Da = kernel(law.kind, alpha ** 2 * C, R, prm)
            assert Wa == pytest.approx(W, rel=1e-12)
            assert rel(alpha ** 2 * Sa, S) < 1e-12    # S_iso is homogeneous of degree -1
            assert rel(alpha ** 4 * Da, D) < 1e-12    # CC_iso of degree -2


def test_holzapfel_ogden_anisotropic_terms_see_volume_change():
    # documents the choice: fibre/sheet terms use the full C (I4 = f.C f), not Cbar
    law = HolzapfelOgden.holzapfel_ogden2009()
    prm = prm_of(law, 0.0)
    C = np.diag([1.1, 1.0, 1.0])
    W1 = kernel(law.kind, C, np.eye(3), prm)[0]
    W2 = kernel(law.kind, 1.2 * C, np.eye(3), prm)[0]
    Wref = sum(ref.energy_parts(law.kind, 1.2 * C, np.eye(3), prm)[:2])
    assert W2 > 2 * W1 and W2 == pytest.approx(Wref, rel=1e-12)


# ---- 7: active stress --------------------------------------------------------------
def test_active_stress_adds_Ta_f0_f0_exactly():
    rng = np.random.default_rng(8)
    law = LAWS["guccione_p1"]
    R = frame(rng)
    F = deformations(rng, 1, 0.2)[0]
    _, S, D = kernel(law.kind, F.T @ F, R, law.pack())
    S0, D0 = S.copy(), D.copy()
    Ta = 60.0e3
    active_stress(Ta, R, S)
    f = R[0]
    assert np.array_equal(S, S0 + Ta * np.outer(f, f))
    assert np.array_equal(S, S.T) and np.array_equal(D, D0)
    # only the fibre direction matters
    R2 = R.copy()
    R2[1:] = frame(rng)[1:]
    S2 = S0.copy()
    active_stress(Ta, R2, S2)
    assert np.array_equal(S2, S)


# ---- 8: Numba kernels against the NumPy reference ----------------------------------
@pytest.mark.parametrize("name, kappa, C, R", cases(9, n=4))
def test_kernel_matches_numpy_reference(name, kappa, C, R):
    law = LAWS[name]
    prm = prm_of(law, kappa)
    W, S, D = kernel(law.kind, C, R, prm)
    W_ref, S_ref, D_ref = ref.stress_tangent(law.kind, C, R, prm)
    # 1e-12 relative; near C = I, W and S are differences of terms of the size of the
    # stiffness (I1bar - 3, Dev(Sbar), det C - 1) and their conditioning grows like
    # 1/strain^2 (measured: up to ~6e-12 relative, 2e-15 x stiffness absolute, between
    # two correct implementations), hence the absolute floor of 1e-14 x stiffness.
    scale = max(prm[-1], law.reference_modulus)
    for x, x_ref in ((W, W_ref), (S, S_ref), (D, D_ref)):
        err = np.linalg.norm(np.asarray(x) - x_ref)
        assert err <= 1e-12 * np.linalg.norm(x_ref) + 1e-14 * scale
    if np.linalg.norm(C - np.eye(3)) > 0.2:  # well-conditioned: plain relative error
        assert W == pytest.approx(W_ref, rel=1e-12)
        assert rel(S, S_ref) < 1e-12 and rel(D, D_ref) < 1e-12
    # the residual-only kernel gives the same stress and energy, bit for bit
    S2 = np.empty((3, 3))
    assert stress(law.kind, C, R, prm, S2) == W and np.array_equal(S2, S)


@pytest.mark.parametrize("name", LAWS)
def test_reference_closed_forms_by_complex_step(name):
    """The NumPy reference's S and D equal complex-step derivatives of its W and S."""
    law = LAWS[name]
    prm = prm_of(law, 50.0 * law.reference_modulus)  # volumetric part comparable to the rest
    rng = np.random.default_rng(10)
    h = 1e-30
    for F in deformations(rng, 3, 0.3):
        R, C = frame(rng), F.T @ F
        if not away_from_kink(law, C, R):
            continue
        _, S, D = ref.stress_tangent(law.kind, C, R, prm)
        S_v = np.array([S[i, j] for (i, j) in VOIGT])
        S_cs = np.array([ref.energy(law.kind, C + 1j * h * DC[B], R, prm).imag / h
                         for B in range(6)])
        D_cs = np.empty((6, 6))
        for B in range(6):
            Sc = ref.stress_tangent(law.kind, C + 1j * h * DC[B], R, prm)[1]
            D_cs[:, B] = [Sc[i, j].imag / h for (i, j) in VOIGT]
        assert rel(S_cs, S_v) < 1e-12
        assert rel(D_cs, D) < 1e-12


# ---- 9: parameters -----------------------------------------------------------------
@pytest.mark.parametrize("make, field, value", [
    (lambda: Guccione(C=-2.0e3), "C", "-2000"),
    (lambda: Guccione(b_f=0.0), "b_f", "0.0"),
    (lambda: Guccione(b_fs=float("nan")), "b_fs", "nan"),
    (lambda: NeoHooke(mu=0.0), "mu", "0.0"),
    (lambda: NeoHooke(mu=1e3, kappa=-5.0), "kappa", "-5.0"),
    (lambda: NeoHooke(mu=1e3, kappa=float("inf")), "kappa", "inf"),
    (lambda: HolzapfelOgden(b=-1.0), "b", "-1.0"),
    (lambda: HolzapfelOgden(a_f=-1.0), "a_f", "-1.0"),
    (lambda: HolzapfelOgden(a="soft"), "a", "soft"),
    (lambda: Guccione().with_values({"C": "-2 kPa"}), "C", "-2000"),
])
def test_bad_parameters_name_field_and_value(make, field, value):
    with pytest.raises(ParameterError) as err:
        make()
    msg = str(err.value)
    assert f".{field} " in msg and value in msg


def test_named_sets_pack_and_default_kappa():
    p1, p2, p3 = (Guccione.land2015_problem1(), Guccione.land2015_problem2(),
                  Guccione.land2015_problem3())
    assert p1 == p3 and p1.kind == GUCCIONE
    np.testing.assert_array_equal(p1.pack(), [2e3, 8, 2, 4, KAPPA_FACTOR * 2e3 * 8 / 2])
    np.testing.assert_array_equal(p2.pack(), [10e3, 1, 1, 1, KAPPA_FACTOR * 10e3 / 2])
    ho = HolzapfelOgden.holzapfel_ogden2009()
    assert ho.kind == HOLZAPFEL_OGDEN
    np.testing.assert_array_equal(ho.pack(), [59.0, 8.023, 18472.0, 16.026, 2481.0, 11.12,
                                              216.0, 11.436, KAPPA_FACTOR * 18472.0])
    nh = NeoHooke(4e3, 1e6)
    assert nh.kind == NEO_HOOKE and list(nh.pack()) == [4e3, 1e6]
    assert NeoHooke(4e3).bulk_modulus == KAPPA_FACTOR * 4e3
    # the automatic kappa follows the stiffness; an explicit one stays
    assert dataclasses.replace(p2, C=20e3).pack()[-1] == 2 * p2.pack()[-1]
    assert p2.with_values({"C": "20 kPa", "kappa": "1 MPa"}).pack()[-1] == 1e6
    assert Guccione.land2015_problem2(kappa=3e6).bulk_modulus == 3e6
    smooth = HolzapfelOgdenSmooth.arostica2025()
    assert smooth.kind == laws.HOLZAPFEL_OGDEN_SMOOTH and smooth.pack()[-2:].tolist() == [100.0, 1e6]
    assert [len(law.pack()) for law in (nh, p1, ho, smooth, Caruel.caruel2014())] == list(laws.N_PRM)


def test_convenience_method_matches_kernel():
    law = HolzapfelOgden.holzapfel_ogden2009()
    C = np.diag([1.2, 0.95, 0.9])
    W, S, D = law.energy_stress_tangent(C)
    W2, S2, D2 = kernel(law.kind, C, np.eye(3), law.pack())
    assert W == W2 and np.array_equal(S, S2) and np.array_equal(D, D2)


def test_inadmissible_C_gives_nan_and_unknown_law_raises():
    law = LAWS["neo_hooke"]
    W, S, D = kernel(law.kind, np.diag([1.0, 1.0, -1.0]), np.eye(3), law.pack())
    assert np.isnan(W) and np.isnan(S).all() and np.isnan(D).all()
    with pytest.raises(ParameterError, match="kind must be .* got 7"):
        kernel(7, np.eye(3), np.eye(3), law.pack())


@pytest.mark.parametrize("C", [0.7, 0.95, 1.0, 1.2, 1.6, 2.2])
def test_caruel_law_on_sphere_kinematics_is_the_0d_law(C):
    """On an incompressible spherical shell (tangential C, radial C^-2) with the fibre
    term even in the tangent plane, the 3D law's energy is the 0D sphere's (less its
    constant C0 + C2) and its spherical stress S11 + S22 - 2 C^-3 S33 (the derivative
    along that path, 2 dW/dC; the penalty's pressure cancels in it) is the 0D Sigma_p."""
    from cardiosim.models import sphere_kernels as SK
    from cardiosim.models.sphere import SphereParameters

    sp = SphereParameters.caruel2014().pack()
    law = Caruel.caruel2014()  # delta = 1/2
    Cm = np.diag([C, C, C ** -2.0])
    R = np.eye(3)  # f0, s0 tangent (x, y), n0 radial (z)
    W, S, _ = kernel(law.kind, Cm, R, law.pack())
    assert W == pytest.approx(SK.passive_energy(C, sp) - 2 * 1.9e3, rel=1e-10, abs=1e-9)
    sigma = S[0, 0] + S[1, 1] - 2 * C ** -3.0 * S[2, 2]
    assert sigma == pytest.approx(SK.passive_stress(C, sp), rel=1e-9, abs=1e-7)
    # one fibre family is not: its tangential stresses differ
    _, S1, _ = kernel(law.kind, Cm, R, Caruel.caruel2014(delta=0.0).pack())
    if C != 1.0:
        assert abs(S1[0, 0] - S1[1, 1]) > 1e-3 * abs(S1[0, 0])
