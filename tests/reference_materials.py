"""Slow NumPy reference of the hyperelastic laws, written apart from the Numba kernels of
:mod:`cardiosim.materials.laws` (no shared code but the law codes and parameter order).

Full 3x3 and 3x3x3x3 tensors with np.einsum, the strain energy written as in the law's
formula (Guccione: E rotated into the fibre frame, Q summed term by term), S and the
elasticity tensor by Holzapfel's closed forms with the fictitious elasticity built as a
4th-order tensor (no outer-product shortcut). Every function accepts complex C, so that
``tests/test_materials.py`` can check S = 2 dW/dC and CC = dS/dE by complex-step
differentiation to round-off.
"""

from __future__ import annotations

import numpy as np

NEO_HOOKE, GUCCIONE, HOLZAPFEL_OGDEN, CARUEL = 0, 1, 2, 4
VOIGT = [(0, 0), (1, 1), (2, 2), (0, 1), (1, 2), (0, 2)]
I3 = np.eye(3)


def outer(a, b):
    return np.einsum("ij,kl->ijkl", a, b)


def odot(a, b):
    """(a (.) b)_ijkl = (a_ik b_jl + a_il b_jk)/2."""
    return 0.5 * (np.einsum("ik,jl->ijkl", a, b) + np.einsum("il,jk->ijkl", a, b))


II = odot(I3, I3)


def to_voigt(CC):
    return np.array([[CC[i, j, k, l] for (k, l) in VOIGT] for (i, j) in VOIGT])


def stress_voigt(S):
    return np.array([S[i, j] for (i, j) in VOIGT])


def _kin(C):
    J = np.sqrt(np.linalg.det(C))
    Cbar = J ** (-2.0 / 3.0) * C
    return J, Cbar


def _pos(x):
    """(x)_+ that keeps a complex-step perturbation: branch on the real part."""
    return x if x.real > 0 else 0.0 * x


def energy_parts(kind, C, R, prm):
    """(W_iso, W_aniso, W_vol) at C."""
    J, Cbar = _kin(C)
    kappa = prm[-1]
    # U = (kappa/4)(J^2 - 1 - 2 ln J), written with d = J^2 - 1 = det C - 1: the literal
    # form cancels O(1) terms and loses ~eps/d^2 of relative accuracy near J = 1
    d = np.linalg.det(C) - 1.0
    W_vol = kappa / 4.0 * (d - np.log1p(d))
    W_aniso = 0.0 * J
    if kind == NEO_HOOKE:
        mu = prm[0]
        W_iso = mu / 2.0 * (np.trace(Cbar) - 3.0)
    elif kind == GUCCIONE:
        Cg, bf, bt, bfs = prm[:4]
        E = 0.5 * (Cbar - I3)
        Ef = R @ E @ R.T  # Ef[a, b] = r_a . E r_b
        Q = (bf * Ef[0, 0] ** 2 + bt * (Ef[1, 1] ** 2 + Ef[2, 2] ** 2 + 2 * Ef[1, 2] ** 2)
             + bfs * (2 * Ef[0, 1] ** 2 + 2 * Ef[0, 2] ** 2))
        W_iso = Cg / 2.0 * (np.exp(Q) - 1.0)
    elif kind == HOLZAPFEL_OGDEN:
        a, b, af, bf, as_, bs, afs, bfs = prm[:8]
        f, s = R[0], R[1]
        W_iso = a / (2 * b) * (np.exp(b * (np.trace(Cbar) - 3.0)) - 1.0)
        I4f, I4s, I8 = f @ C @ f, s @ C @ s, f @ C @ s
        W_aniso = (af / (2 * bf) * (np.exp(bf * _pos(I4f - 1) ** 2) - 1)
                   + as_ / (2 * bs) * (np.exp(bs * _pos(I4s - 1) ** 2) - 1)
                   + afs / (2 * bfs) * (np.exp(bfs * I8 ** 2) - 1))
    elif kind == CARUEL:
        c0, c1, c2, c3, dl = prm[:5]
        A = (1 - dl) * np.outer(R[0], R[0]) + dl * np.outer(R[1], R[1])
        x1 = np.trace(Cbar) - 3.0
        x4 = np.einsum("ij,ij", A, Cbar - I3)
        W_iso = c0 * (np.exp(c1 * x1 ** 2) - 1) + c2 * (np.exp(c3 * x4 ** 2) - 1)
    else:
        raise ValueError(kind)
    return W_iso, W_aniso, W_vol


def energy(kind, C, R, prm):
    return sum(energy_parts(kind, C, R, prm))


def _fictitious(kind, Cbar, R, prm):
    """Sbar = 2 dW_iso/dCbar and CCt = 4 d2W_iso/dCbar2 (full tensors)."""
    if kind == NEO_HOOKE:
        return prm[0] * I3 + 0 * Cbar, np.zeros((3, 3, 3, 3), dtype=Cbar.dtype)
    if kind == GUCCIONE:
        Cg, bf, bt, bfs = prm[:4]
        B = np.array([[bf, bfs, bfs], [bfs, bt, bt], [bfs, bt, bt]])  # Q = sum_ab B_ab Ef_ab^2
        E = 0.5 * (Cbar - I3)
        Ef = R @ E @ R.T
        Q = np.sum(B * Ef * Ef)
        eQ = np.exp(Q)
        Af = B * Ef  # dQ/dEf = 2 Af
        A = R.T @ Af @ R
        # d2Q/dEf2 = 2 B_ab (d_ac d_bd + d_ad d_bc)/2, rotated back to the global frame
        Bf = np.zeros((3, 3, 3, 3))
        for p in range(3):
            for q in range(3):
                Bf[p, q, p, q] += 0.5 * B[p, q]
                Bf[p, q, q, p] += 0.5 * B[p, q]
        Bg = np.einsum("ai,bj,ck,dl,abcd->ijkl", R, R, R, R, Bf)
        Sbar = Cg * eQ * A                      # dW/dE, E = (Cbar - I)/2
        CCt = Cg * eQ * (2.0 * outer(A, A) + Bg)  # d2W/dE2
        return Sbar, CCt
    if kind == HOLZAPFEL_OGDEN:
        a, b = prm[:2]
        e = np.exp(b * (np.trace(Cbar) - 3.0))
        return a * e * I3, 2.0 * a * b * e * outer(I3, I3)
    if kind == CARUEL:
        c0, c1, c2, c3, dl = prm[:5]
        A = (1 - dl) * np.outer(R[0], R[0]) + dl * np.outer(R[1], R[1])
        x1 = np.trace(Cbar) - 3.0
        x4 = np.einsum("ij,ij", A, Cbar - I3)
        e1, e4 = np.exp(c1 * x1 ** 2), np.exp(c3 * x4 ** 2)
        Sbar = 4 * c0 * c1 * x1 * e1 * I3 + 4 * c2 * c3 * x4 * e4 * A
        CCt = (8 * c0 * c1 * e1 * (1 + 2 * c1 * x1 ** 2) * outer(I3, I3)
               + 8 * c2 * c3 * e4 * (1 + 2 * c3 * x4 ** 2) * outer(A, A))
        return Sbar, CCt
    raise ValueError(kind)


def stress_tangent(kind, C, R, prm):
    """(W, S 3x3, D 6x6 Voigt) by Holzapfel's closed forms on full tensors."""
    J, Cbar = _kin(C)
    Ci = np.linalg.inv(C)
    kappa = prm[-1]
    Sbar, CCt = _fictitious(kind, Cbar, R, prm)
    j23 = J ** (-2.0 / 3.0)
    # isochoric
    S_iso = j23 * (Sbar - np.einsum("ij,ij", Sbar, C) / 3.0 * Ci)  # J^-2/3 Dev(Sbar)
    P = II - outer(Ci, C) / 3.0
    PT = np.einsum("ijkl->klij", P)
    Ptilde = odot(Ci, Ci) - outer(Ci, Ci) / 3.0
    Tr = j23 * np.einsum("ij,ij", Sbar, C)
    CC_iso = (j23 ** 2 * np.einsum("ijab,abcd,cdkl->ijkl", P, CCt, PT)
              + 2.0 / 3.0 * Tr * Ptilde
              - 2.0 / 3.0 * (outer(Ci, S_iso) + outer(S_iso, Ci)))
    # volumetric
    p = kappa / 2.0 * (J - 1.0 / J)
    dp = kappa / 2.0 * (1.0 + 1.0 / J ** 2)
    ptil = p + J * dp
    S_vol = J * p * Ci
    CC_vol = J * ptil * outer(Ci, Ci) - 2.0 * J * p * odot(Ci, Ci)
    S, CC = S_iso + S_vol, CC_iso + CC_vol
    if kind == HOLZAPFEL_OGDEN:
        _, _, af, bf, as_, bs, afs, bfs = prm[:8]
        f, s = R[0], R[1]
        ff, ss = np.outer(f, f), np.outer(s, s)
        fs = 0.5 * (np.outer(f, s) + np.outer(s, f))
        for (ai, bi, M, tension) in ((af, bf, ff, True), (as_, bs, ss, True),
                                     (afs, bfs, fs, False)):
            x = np.einsum("ij,ij", M, C) - (1.0 if tension else 0.0)
            if tension and not x.real > 0:
                continue
            e = np.exp(bi * x ** 2)
            S = S + 2.0 * ai * x * e * M
            CC = CC + 4.0 * ai * e * (1.0 + 2.0 * bi * x ** 2) * outer(M, M)
    return energy(kind, C, R, prm), S, to_voigt(CC)
