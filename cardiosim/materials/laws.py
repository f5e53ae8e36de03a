"""Numba kernels of the hyperelastic laws: strain energy, second Piola-Kirchhoff stress and
material tangent, plus the active stress of Land et al. (2015), Proc. R. Soc. A
471:20150641, problem 3.

Plain functions over float64 arrays, no Python objects: :mod:`cardiosim.materials` packs
the parameter dataclasses into the ``prm`` arrays below. SI units (Pa).

Conventions
-----------
* ``C`` (3x3) is the right Cauchy-Green tensor F^T F; it is read symmetrised,
  ``(C + C^T)/2``. ``J = sqrt(det C)``: the sign of det F is lost in C, so the FE kernel
  must itself reject inverted elements (det F <= 0). If det C <= 0 or is not finite,
  S and D are filled with NaN and NaN is returned.
* ``R`` (3x3): its ROWS are the fibre, sheet and normal unit vectors f0, s0, n0 of the
  reference configuration (ignored by neo-Hooke).
* Voigt order (11, 22, 33, 12, 23, 13). Stresses S_v = (S11, S22, S33, S12, S23, S13);
  strains in engineering form Ehat = (E11, E22, E33, 2E12, 2E23, 2E13). The tangent D
  (6x6, symmetric) satisfies dS_v = D dEhat: D[A, B] = CC_ijkl with (i, j) = pair A,
  (k, l) = pair B, CC = dS/dE = 2 dS/dC the material elasticity tensor.

Split (every law): W(C) = W_iso(Cbar) [+ W_aniso(C) for Holzapfel-Ogden] + U(J), with
Cbar = J^(-2/3) C and the penalty U(J) = (kappa/4)(J^2 - 1 - 2 ln J) (U(1) = U'(1) = 0,
U''(1) = kappa). ``kappa`` is always the LAST entry of ``prm``; ``prm[-1] = 0`` switches the
penalty off and leaves the isochoric part alone (e.g. for a mixed u-p formulation, whose
pressure term the FE core adds itself).

Closed forms (Holzapfel, *Nonlinear Solid Mechanics*, 2000, section 6.6), with the
fictitious stress Sbar = 2 dW_iso/dCbar and fictitious elasticity CCt = 4 d2W_iso/dCbar2:

* S_iso = J^(-2/3) Dev(Sbar), Dev(X) = X - (1/3)(X:C) C^-1;
* S_vol = J p C^-1, p = U'(J) = (kappa/2)(J - 1/J);
* CC_iso = J^(-4/3) P:CCt:P^T + (2/3) Tr P~ - (2/3)(C^-1 (x) S_iso + S_iso (x) C^-1),
  P = II - (1/3) C^-1 (x) C, P~ = C^-1 (.) C^-1 - (1/3) C^-1 (x) C^-1, Tr = J^(-2/3) Sbar:C,
  (C^-1 (.) C^-1)_ijkl = (Ci_ik Ci_jl + Ci_il Ci_jk)/2;
* CC_vol = J p~ C^-1 (x) C^-1 - 2 J p C^-1 (.) C^-1, p~ = p + J U''(J) = kappa J.

Every CCt used here is a sum of outer products a (x) a, so P:CCt:P^T is the same sum over
the projected tensors a - (1/3)(a:C) C^-1. ``tests/test_materials.py`` checks S and D
against finite differences of W and S, and against the independent NumPy reference in
``tests/reference_materials.py`` (whose closed forms are in turn checked by complex-step
differentiation to ~1e-13).

Laws and parameter order of ``prm``
-----------------------------------
NEO_HOOKE (0):        [mu, kappa];            W_iso = (mu/2)(I1bar - 3)
GUCCIONE (1):         [C, b_f, b_t, b_fs, kappa];  W_iso = (C/2)(exp(Q) - 1),
    Q = b_f E_ff^2 + b_t (E_ss^2 + E_nn^2 + 2 E_sn^2) + b_fs (2 E_fs^2 + 2 E_fn^2),
    E = (Cbar - I)/2 in the (f, s, n) frame, E_ab = a . E b (Guccione et al. 1991, J.
    Biomech. Eng. 113:42-55; isochoric, as Pezzuto's code in Land et al. 2015).
HOLZAPFEL_OGDEN (2):  [a, b, a_f, b_f, a_s, b_s, a_fs, b_fs, kappa];
    W = a/(2b)(exp(b(I1bar - 3)) - 1) + sum_{i=f,s} a_i/(2b_i)(exp(b_i (I4i - 1)_+^2) - 1)
        + a_fs/(2b_fs)(exp(b_fs I8fs^2) - 1) + U(J).
    Choice: only the isotropic term is isochoric; the fibre/sheet terms use the FULL C
    (I4f = f0.C f0, I4s = s0.C s0, I8fs = f0.C s0), as Holzapfel & Ogden write them and as
    Nolan et al. (2014) recommend for compressible anisotropic laws, so that the fibres
    feel volume change. (Consequence: W_aniso is not invariant under C -> alpha^2 C; the
    tests assert both facts.) Evaluated as I4 - 1 = f0.(C - I)f0 and I8 = f0.(C - I)s0:
    identical for an orthonormal frame, and exactly zero at C = I even when the frame is
    only approximately orthonormal (interpolated fibres), so the reference stays
    stress-free. Fibres and sheets carry load only in tension: (x)_+ = max(x, 0), with
    the tension branch taken for I4 - 1 > 0 strictly; at I4 = 1 (e.g. C = I) the one-sided
    tangent without the fibre term is returned (W is C^1 there, not C^2).
HOLZAPFEL_OGDEN_SMOOTH (3): [a, b, a_f, b_f, a_s, b_s, a_fs, b_fs, k, kappa]; as (2) with
    the switch smoothed: a_i/(2b_i) H(I4i - 1)(exp(b_i (I4i - 1)^2) - 1), H(x) = 1/(1 +
    exp(-k x)), smooth everywhere (the cardiac elastodynamics benchmark's form, Arostica et
    al. 2025, k = 100; written so in the Simula reference code). At C = I: W = 0, S = 0.
CARUEL (4):           [C0, C1, C2, C3, delta, kappa];
    W_iso = C0 (exp(C1 (I1bar - 3)^2) - 1) + C2 (exp(C3 (I4bar - 1)^2) - 1),
    I4bar - 1 = A : (Cbar - I), A = (1 - delta) f0 (x) f0 + delta s0 (x) s0,
    the exponential law of the 0D sphere (Caruel et al. 2014, Biomech. Model. Mechanobiol.
    13:897-914) in 3D: on a spherical shell with f0, s0 tangent and delta = 1/2 (fibres
    spread evenly in the tangent plane) its spherical stress 2 dW/dC is the 0D model's
    Sigma_p exactly (J1 = I1bar, J4 = I4bar); delta = 0 is one fibre family. The fibre
    term acts in tension and compression, as in the 0D law. The constant of the 0D energy
    (C0 + C2) is dropped, so W(I) = 0.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..errors import ParameterError

# ---- law codes -----------------------------------------------------------------------
NEO_HOOKE, GUCCIONE, HOLZAPFEL_OGDEN, HOLZAPFEL_OGDEN_SMOOTH, CARUEL = 0, 1, 2, 3, 4

# ---- parameter positions in ``prm`` (kappa is always last) ---------------------------
NH_MU, NH_KAPPA = 0, 1
N_PRM_NEO_HOOKE = 2
GU_C, GU_BF, GU_BT, GU_BFS, GU_KAPPA = 0, 1, 2, 3, 4
N_PRM_GUCCIONE = 5
HO_A, HO_B, HO_AF, HO_BF, HO_AS, HO_BS, HO_AFS, HO_BFS, HO_KAPPA = range(9)
N_PRM_HOLZAPFEL_OGDEN = 9
HO_K = 8  # smoothed switch only: [a, ..., b_fs, k, kappa]
N_PRM_HOLZAPFEL_OGDEN_SMOOTH = 10
CA_C0, CA_C1, CA_C2, CA_C3, CA_DELTA, CA_KAPPA = range(6)
N_PRM_CARUEL = 6
#: number of parameters by law code
N_PRM = (N_PRM_NEO_HOOKE, N_PRM_GUCCIONE, N_PRM_HOLZAPFEL_OGDEN, N_PRM_HOLZAPFEL_OGDEN_SMOOTH, N_PRM_CARUEL)

# ---- Voigt pairs (11, 22, 33, 12, 23, 13) --------------------------------------------
VOIGT_I = np.array([0, 1, 2, 0, 1, 0], dtype=np.int64)
VOIGT_J = np.array([0, 1, 2, 1, 2, 2], dtype=np.int64)
#: Voigt position of the tensor component (i, j)
VOIGT_INDEX = np.array([[0, 3, 5], [3, 1, 4], [5, 4, 2]], dtype=np.int64)

_THIRD = 1.0 / 3.0


# ---- small helpers on stress-like Voigt 6-vectors (tensor components, no factor 2) ---
@njit(cache=True, inline="always")
def _ddot(a, b):
    """a : b of two symmetric tensors stored as stress-like Voigt vectors."""
    return (a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
            + 2.0 * (a[3] * b[3] + a[4] * b[4] + a[5] * b[5]))


@njit(cache=True, inline="always")
def _inverse(c, ci):
    """Inverse of the symmetric tensor ``c`` into ``ci``; returns det c."""
    c00, c11, c22, c01, c12, c02 = c[0], c[1], c[2], c[3], c[4], c[5]
    k00 = c11 * c22 - c12 * c12
    k11 = c00 * c22 - c02 * c02
    k22 = c00 * c11 - c01 * c01
    k01 = c02 * c12 - c01 * c22
    k12 = c01 * c02 - c00 * c12
    k02 = c01 * c12 - c02 * c11
    det = c00 * k00 + c01 * k01 + c02 * k02
    inv = 1.0 / det
    ci[0] = k00 * inv
    ci[1] = k11 * inv
    ci[2] = k22 * inv
    ci[3] = k01 * inv
    ci[4] = k12 * inv
    ci[5] = k02 * inv
    return det


@njit(cache=True, inline="always")
def _project(x, c, ci, out):
    """out = P : x = x - (1/3)(x : C) C^-1 (the deviator in the reference metric)."""
    t = _THIRD * _ddot(x, c)
    for a in range(6):
        out[a] = x[a] - t * ci[a]


@njit(cache=True, inline="always")
def _add_outer(D, coef, a):
    """Upper triangle of D += coef a (x) a."""
    for p in range(6):
        cp = coef * a[p]
        for q in range(p, 6):
            D[p, q] += cp * a[q]


@njit(cache=True, inline="always")
def _add_outer_sym(D, coef, a, b):
    """Upper triangle of D += coef (a (x) b + b (x) a)."""
    for p in range(6):
        for q in range(p, 6):
            D[p, q] += coef * (a[p] * b[q] + b[p] * a[q])


@njit(cache=True, inline="always")
def _add_odot(D, coef, ci):
    """Upper triangle of D += coef C^-1 (.) C^-1."""
    for p in range(6):
        i = VOIGT_I[p]
        j = VOIGT_J[p]
        for q in range(p, 6):
            k = VOIGT_I[q]
            l = VOIGT_J[q]
            D[p, q] += coef * 0.5 * (ci[VOIGT_INDEX[i, k]] * ci[VOIGT_INDEX[j, l]]
                                     + ci[VOIGT_INDEX[i, l]] * ci[VOIGT_INDEX[j, k]])


@njit(cache=True, inline="always")
def _structural(R, a, b, out):
    """out = sym(r_a (x) r_b) as a stress-like Voigt vector (r_a = row a of R)."""
    for p in range(6):
        i = VOIGT_I[p]
        j = VOIGT_J[p]
        out[p] = 0.5 * (R[a, i] * R[b, j] + R[a, j] * R[b, i])


# ---- isochoric parts: fill sbar (fictitious stress) and add J^-4/3 P:CCt:P^T to D ----
@njit(cache=True, inline="always")
def _neo_hooke_iso(c, prm, j23, sbar):
    mu = prm[NH_MU]
    tr = c[0] + c[1] + c[2]
    for a in range(3):
        sbar[a] = mu
        sbar[a + 3] = 0.0
    return 0.5 * mu * (j23 * tr - 3.0)  # CCt = 0


@njit(cache=True, inline="always")
def _guccione_iso(c, ci, R, prm, j23, sbar, D, want_d, wk):
    cg = prm[GU_C]
    bf = prm[GU_BF]
    bt = prm[GU_BT]
    bfs = prm[GU_BFS]
    e, w, em, amat, proj = wk[4], wk[5], wk[6], wk[7], wk[8]
    nm = wk[9:15]
    # E = (Cbar - I)/2, stress-like Voigt
    for a in range(6):
        e[a] = 0.5 * j23 * c[a]
    for a in range(3):
        e[a] -= 0.5
    # the six structural tensors N_m = sym(r_a (x) r_b), m in (ff, ss, nn, fs, sn, fn),
    # E_ab = N_m : E, and Q = sum_m w_m E_m^2 with the weights below
    w[0] = bf
    w[1] = bt
    w[2] = bt
    w[3] = 2.0 * bfs
    w[4] = 2.0 * bt
    w[5] = 2.0 * bfs
    q = 0.0
    for m in range(6):
        _structural(R, VOIGT_I[m], VOIGT_J[m], nm[m])
        em[m] = _ddot(nm[m], e)
        q += w[m] * em[m] * em[m]
    # dQ/dE = 2 A, A = sum_m w_m E_m N_m; Sbar = dW/dE = C e^Q A
    for a in range(6):
        amat[a] = 0.0
    for m in range(6):
        for a in range(6):
            amat[a] += w[m] * em[m] * nm[m, a]
    eq = math.exp(q)
    for a in range(6):
        sbar[a] = cg * eq * amat[a]
    if want_d:
        # CCt = d2W/dE2 = C e^Q (2 A (x) A + sum_m w_m N_m (x) N_m)
        coef = j23 * j23 * cg * eq
        _project(amat, c, ci, proj)
        _add_outer(D, 2.0 * coef, proj)
        for m in range(6):
            _project(nm[m], c, ci, proj)
            _add_outer(D, coef * w[m], proj)
    return 0.5 * cg * math.expm1(q)


@njit(cache=True, inline="always")
def _ho_iso(c, ci, prm, j23, sbar, D, want_d, wk):
    a = prm[HO_A]
    b = prm[HO_B]
    x = j23 * (c[0] + c[1] + c[2]) - 3.0  # I1bar - 3
    ex = math.exp(b * x)
    for k in range(3):
        sbar[k] = a * ex
        sbar[k + 3] = 0.0
    if want_d:
        # CCt = 2 a b e^(b x) I (x) I
        eye, proj = wk[4], wk[8]
        for k in range(3):
            eye[k] = 1.0
            eye[k + 3] = 0.0
        _project(eye, c, ci, proj)
        _add_outer(D, j23 * j23 * 2.0 * a * b * ex, proj)
    return 0.5 * a / b * math.expm1(b * x)


@njit(cache=True, inline="always")
def _caruel_iso(c, ci, R, prm, j23, sbar, D, want_d, wk):
    c0, c1, c2, c3, dl = prm[CA_C0], prm[CA_C1], prm[CA_C2], prm[CA_C3], prm[CA_DELTA]
    amat, eye, proj, nf = wk[4], wk[5], wk[8], wk[9]
    _structural(R, 0, 0, amat)
    _structural(R, 1, 1, nf)
    for k in range(6):
        amat[k] = (1.0 - dl) * amat[k] + dl * nf[k]
    tra = amat[0] + amat[1] + amat[2]
    x1 = j23 * (c[0] + c[1] + c[2]) - 3.0          # I1bar - 3
    x4 = j23 * _ddot(amat, c) - tra                 # A : (Cbar - I)
    e1 = math.exp(c1 * x1 * x1)
    e4 = math.exp(c3 * x4 * x4)
    w1 = 2.0 * c0 * c1 * x1 * e1                    # dW/dI1bar
    w4 = 2.0 * c2 * c3 * x4 * e4                    # dW/dI4bar
    for k in range(6):
        sbar[k] = 2.0 * w4 * amat[k]
    for k in range(3):
        sbar[k] += 2.0 * w1
    if want_d:
        # CCt = 4 (W11 I (x) I + W44 A (x) A)
        for k in range(3):
            eye[k] = 1.0
            eye[k + 3] = 0.0
        _project(eye, c, ci, proj)
        _add_outer(D, j23 * j23 * 8.0 * c0 * c1 * e1 * (1.0 + 2.0 * c1 * x1 * x1), proj)
        _project(amat, c, ci, proj)
        _add_outer(D, j23 * j23 * 8.0 * c2 * c3 * e4 * (1.0 + 2.0 * c3 * x4 * x4), proj)
    return c0 * math.expm1(c1 * x1 * x1) + c2 * math.expm1(c3 * x4 * x4)


@njit(cache=True, inline="always")
def _ho_aniso(c, R, prm, s, D, want_d, wk, ks):
    """Fibre, sheet and fibre-sheet terms on the full C; adds to s and D, returns W.

    ``ks`` > 0: the tension switch of the fibres and sheets is the sigmoid of sharpness ks.
    """
    cm, n = wk[4], wk[5]  # C - I
    for k in range(6):
        cm[k] = c[k] - (1.0 if k < 3 else 0.0)
    w = 0.0
    for term in range(3):
        if term == 0:
            ra, rb, ai, bi = 0, 0, prm[HO_AF], prm[HO_BF]
        elif term == 1:
            ra, rb, ai, bi = 1, 1, prm[HO_AS], prm[HO_BS]
        else:
            ra, rb, ai, bi = 0, 1, prm[HO_AFS], prm[HO_BFS]
        _structural(R, ra, rb, n)
        x = _ddot(n, cm)  # I4 - 1, or I8
        if term < 2 and ks > 0.0:
            # W = (a/2b) H E, E = e^(b x^2) - 1: dW/dx and d2W/dx2 with H' = k H (1 - H)
            h = 0.5 * (1.0 + math.tanh(0.5 * ks * x))
            h1 = ks * h * (1.0 - h)
            h2 = ks * h1 * (1.0 - 2.0 * h)
            e1 = math.expm1(bi * x * x)
            ex = e1 + 1.0
            c0 = 0.5 * ai / bi
            w += c0 * h * e1
            g = 2.0 * c0 * (h1 * e1 + h * 2.0 * bi * x * ex)  # 2 dW/dx
            for k in range(6):
                s[k] += g * n[k]
            if want_d:
                d2 = c0 * (h2 * e1 + 4.0 * h1 * bi * x * ex + h * (2.0 * bi + 4.0 * bi * bi * x * x) * ex)
                _add_outer(D, 4.0 * d2, n)
            continue
        if term < 2 and not x > 0.0:
            continue  # fibres and sheets only in tension
        ex = math.exp(bi * x * x)
        w += 0.5 * ai / bi * math.expm1(bi * x * x)
        g = 2.0 * ai * x * ex  # 2 dW/dx
        for k in range(6):
            s[k] += g * n[k]
        if want_d:
            _add_outer(D, 4.0 * ai * ex * (1.0 + 2.0 * bi * x * x), n)
    return w


#: rows of the work array of :func:`evaluate`: c, C^-1, Sbar, S, then the laws' scratch
N_WORK = 15


@njit(cache=True)
def evaluate(kind, C, R, prm, S, D, want_d, wk):
    """W, S and (if ``want_d``) D of law ``kind``, with the caller's work array ``wk``
    (N_WORK, 6): no heap allocation per call, which the FE kernels make at every
    quadrature point (allocations were half the Guccione evaluation's time)."""
    c, ci, sbar, s = wk[0], wk[1], wk[2], wk[3]
    for p in range(6):
        i = VOIGT_I[p]
        j = VOIGT_J[p]
        c[p] = 0.5 * (C[i, j] + C[j, i])
    det = _inverse(c, ci)
    if not (det > 0.0 and math.isfinite(det)):
        S[:, :] = np.nan
        if want_d:
            D[:, :] = np.nan
        return np.nan
    j23 = det ** (-_THIRD)  # J^(-2/3), J = sqrt(det C)
    kappa = prm[prm.shape[0] - 1]
    if want_d:
        D[:, :] = 0.0
    if kind == NEO_HOOKE:
        w = _neo_hooke_iso(c, prm, j23, sbar)
    elif kind == GUCCIONE:
        w = _guccione_iso(c, ci, R, prm, j23, sbar, D, want_d, wk)
    elif kind == HOLZAPFEL_OGDEN or kind == HOLZAPFEL_OGDEN_SMOOTH:
        w = _ho_iso(c, ci, prm, j23, sbar, D, want_d, wk)
    elif kind == CARUEL:
        w = _caruel_iso(c, ci, R, prm, j23, sbar, D, want_d, wk)
    else:
        raise ParameterError("unknown material law code: kind must be NEO_HOOKE (0), GUCCIONE (1), "
                             "HOLZAPFEL_OGDEN (2), HOLZAPFEL_OGDEN_SMOOTH (3) or CARUEL (4), got "
                             + str(kind))
    # isochoric stress S_iso = J^-2/3 Dev(Sbar)
    tr = j23 * _ddot(sbar, c)
    for a in range(6):
        s[a] = j23 * sbar[a] - _THIRD * tr * ci[a]
    if want_d:
        _add_odot(D, (2.0 / 3.0) * tr, ci)
        _add_outer(D, -(2.0 / 9.0) * tr, ci)
        _add_outer_sym(D, -(2.0 / 3.0), ci, s)
    # volumetric penalty U(J) = (kappa/4)(J^2 - 1 - 2 ln J)
    if kappa != 0.0:
        d = det - 1.0
        w += 0.25 * kappa * (d - math.log1p(d))
        jp = 0.5 * kappa * (det - 1.0)  # J p = (kappa/2)(J^2 - 1)
        for a in range(6):
            s[a] += jp * ci[a]
        if want_d:
            _add_outer(D, kappa * det, ci)  # J p~ = kappa J^2
            _add_odot(D, -2.0 * jp, ci)
    if kind == HOLZAPFEL_OGDEN:
        w += _ho_aniso(c, R, prm, s, D, want_d, wk, 0.0)
    elif kind == HOLZAPFEL_OGDEN_SMOOTH:
        w += _ho_aniso(c, R, prm, s, D, want_d, wk, prm[HO_K])
    for p in range(6):
        i = VOIGT_I[p]
        j = VOIGT_J[p]
        S[i, j] = s[p]
        S[j, i] = s[p]
    if want_d:
        for p in range(6):
            for q in range(p + 1, 6):
                D[q, p] = D[p, q]
    return w


@njit(cache=True)
def stress_tangent(kind, C, R, prm, S, D):
    """Second Piola-Kirchhoff stress S (3x3) and tangent D (6x6, Voigt, dS_v = D dEhat) of
    law ``kind`` at the right Cauchy-Green tensor ``C``, fibre frame ``R`` (rows f0, s0, n0),
    parameters ``prm``; S and D are overwritten. Returns the strain energy W [J/m^3 = Pa]."""
    return evaluate(kind, C, R, prm, S, D, True, np.empty((N_WORK, 6)))


@njit(cache=True)
def stress(kind, C, R, prm, S):
    """As :func:`stress_tangent` without the tangent (residual-only assembly); returns W."""
    return evaluate(kind, C, R, prm, S, S, False, np.empty((N_WORK, 6)))  # S stands in for the unused D


@njit(cache=True)
def active_stress(Ta, R, S):
    """Add the active stress Ta f0 (x) f0 to S (Land et al. 2015, problem 3:
    S = S_pass + T_a f0 (x) f0, f0 = R[0]); its contribution to the tangent is zero. Note
    mechbench writes the active term as an energy (T_a/2)(I4bar - 1) on the isochoric C,
    which is not the same thing away from J = 1; cardiosim follows the stress form, as
    fenicsx-pulse does."""
    for i in range(3):
        for j in range(i, 3):
            t = Ta * (R[0, i] * R[0, j])
            S[i, j] += t
            if j != i:
                S[j, i] += t  # same value on both sides: a symmetric S stays symmetric
