"""The Holzapfel-Ogden law with the smoothed tension switch of the elastodynamics benchmark.

Against its energy written out in NumPy, the stress against finite differences of the
energy and the tangent against those of the stress (also across I4 = 1, where the hard
switch has its kink), a stress-free reference, and the hard switch as k grows.
"""

import numpy as np
import pytest
from test_materials import DC, VOIGT, deformations, frame, kernel, rel

from cardiosim.materials import HolzapfelOgden, HolzapfelOgdenSmooth, laws


def _energy(law, C, R):
    """The benchmark's W written out (isochoric I1, full-C I4 and I8, the penalty)."""
    J = np.sqrt(np.linalg.det(C))
    I1bar = J ** (-2 / 3) * np.trace(C)
    f, s = R[0], R[1]
    H = lambda x: 1 / (1 + np.exp(-law.k * x))
    x_f, x_s, i8 = f @ C @ f - 1, s @ C @ s - 1, f @ C @ s
    return (law.a / (2 * law.b) * (np.exp(law.b * (I1bar - 3)) - 1)
            + law.a_f / (2 * law.b_f) * H(x_f) * (np.exp(law.b_f * x_f ** 2) - 1)
            + law.a_s / (2 * law.b_s) * H(x_s) * (np.exp(law.b_s * x_s ** 2) - 1)
            + law.a_fs / (2 * law.b_fs) * (np.exp(law.b_fs * i8 ** 2) - 1)
            + law.kappa / 4 * (J ** 2 - 1 - 2 * np.log(J)))


def _fd(f, C, h=1e-6):
    return np.stack([(np.asarray(f(C + h * DC[B])) - np.asarray(f(C - h * DC[B]))) / (2 * h) for B in range(6)],
                    axis=-1)


def _cases(seed, n=8):
    rng = np.random.default_rng(seed)
    out = [(F.T @ F, frame(rng)) for F in deformations(rng, n, 0.15)]
    # on the switch: a fibre stretch exactly 1 (I4f = 1) under shear
    R = np.eye(3)
    F = np.eye(3)
    F[1, 2] = 0.1
    out.append((F.T @ F, R))
    return out


LAW = HolzapfelOgdenSmooth.arostica2025()


@pytest.mark.parametrize("C, R", _cases(11))
def test_smooth_switch_energy_stress_and_tangent(C, R):
    prm = LAW.pack()
    W, S, D = kernel(LAW.kind, C, R, prm)
    assert W == pytest.approx(_energy(LAW, C, R), rel=1e-10)
    S_fd = _fd(lambda CC: kernel(LAW.kind, CC, R, prm)[0], C)
    assert rel(S_fd, np.array([S[i, j] for (i, j) in VOIGT])) < 1e-6
    D_fd = _fd(lambda CC: np.array([kernel(LAW.kind, CC, R, prm)[1][i, j] for (i, j) in VOIGT]), C)
    assert rel(D_fd, D) < 1e-6
    assert np.array_equal(D, D.T)


def test_smooth_switch_reference_is_stress_free_and_tends_to_the_hard_switch():
    R = frame(np.random.default_rng(3))
    W, S, _ = kernel(LAW.kind, np.eye(3), R, LAW.pack())
    assert W == 0.0 and np.abs(S).max() < 1e-9
    hard = HolzapfelOgden(**{k: getattr(LAW, k) for k in ("a", "b", "a_f", "b_f", "a_s", "b_s", "a_fs", "b_fs",
                                                           "kappa")})
    F = np.diag([1.1, 0.97, 0.95])                       # fibres in tension, sheets compressed
    C = F.T @ F
    _, S_hard, _ = kernel(hard.kind, C, np.eye(3), hard.pack())
    diffs = []
    for k in (100.0, 1e3, 1e4):
        law = HolzapfelOgdenSmooth(**{**{n: getattr(LAW, n) for n in ("a", "b", "a_f", "b_f", "a_s", "b_s",
                                                                      "a_fs", "b_fs", "kappa")}, "k": k})
        diffs.append(np.abs(kernel(law.kind, C, np.eye(3), law.pack())[1] - S_hard).max() / np.abs(S_hard).max())
    # k = 100: the compressed sheets still carry a little (measured 5.8e-5 of the largest
    # stress); from k = 1000 on the hard switch to round-off
    assert 1e-5 < diffs[0] < 1e-3 and diffs[1] < 1e-12 and diffs[2] < 1e-12
    assert len(LAW.pack()) == laws.N_PRM[laws.HOLZAPFEL_OGDEN_SMOOTH]
