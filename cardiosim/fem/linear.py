"""Sparse linear solvers for the Newton updates: one registry, several back ends.

Methods
-------
``"superlu"``  SciPy's SuperLU (always there). LU with threshold pivoting: any
               non-singular matrix, but 4-5x slower than PARDISO from ~30k unknowns
               (``benchmarks/linear_solvers.py``).
``"umfpack"``  UMFPACK (scikit-umfpack; needs SuiteSparse). Multifrontal LU, any
               non-singular matrix.
``"cholmod"``  CHOLMOD (scikit-sparse; needs SuiteSparse). Supernodal Cholesky: only for
               symmetric positive definite matrices (raises otherwise).
``"pardiso"``  MKL PARDISO (pypardiso). LU with static pivoting after scaling and weighted
               matching, plus iterative refinement; any non-singular matrix.
``"pyamg"``    Smoothed-aggregation AMG (pyamg) preconditioning CG (``symmetric=True``) or
               GMRES. For elliptic, nearly symmetric positive definite problems only;
               refuses saddle points (zero or negative diagonal) rather than iterate on
               them. Stalls on nearly incompressible (large kappa) tangents.
``"block-gmres"`` Taylor-Hood (u-p) saddle points only, for large meshes: right-
               preconditioned GMRES with a block-triangular preconditioner (one AMG
               V-cycle on the displacement block, a weighted pressure mass matrix for the
               Schur complement). Needs the layout of the unknowns and the pressure mass
               matrix (:func:`saddle_point_options`); not in :data:`METHODS` (it cannot
               take an arbitrary matrix) and never picked by ``"auto"``.
``"auto"``     The first installed method of :data:`AUTO_ORDER` (of :data:`AUTO_ORDER_SMALL`
               below :data:`AUTO_SMALL_N` unknowns), moving on to the next if it fails
               on the matrix.

Every method checks its answer: a non-finite result, a direct solve whose backward
error stays above ``check_tol`` after two steps of iterative refinement, or a Krylov
solve that did not reach ``rtol`` raise :class:`LinearSolverError` with the residual
reached (``"block-gmres"``: in its scaled norm, see :func:`factorized`). A missing
optional package raises :class:`SolverUnavailableError` (an ``ImportError``) that says
what to install.

Newton reuses the sparsity pattern, not the values: ``factorized(A2, m, reuse=f1)``
keeps the symbolic analysis (ordering) of ``f1`` for umfpack, pardiso and cholmod when
the pattern is the same, and ``f1`` may not be used afterwards.
"""

from __future__ import annotations

import functools
import importlib
import os
import time
import warnings
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..errors import ParameterError, SolverError

#: Methods tried by ``method="auto"``, first choice first. From benchmarks/linear_solvers.py
#: on one core (Land 2015 beam and ellipsoid, P2, Taylor-Hood and penalty tangents):
#: PARDISO is the fastest from ~9k unknowns (ellipsoid, 9k: 0.33-0.44 s per solve,
#: UMFPACK 0.6-0.7 s, SuperLU 0.8-1.0 s; 31-32k: 2.7-3.5 s, UMFPACK 4.7-4.9 s, SuperLU
#: 14 s or more) and never blew up. Only general LU solvers: "auto" must take saddle
#: points, so cholmod and pyamg are never picked.
AUTO_ORDER: tuple[str, ...] = ("pardiso", "umfpack", "superlu")
#: Below AUTO_SMALL_N unknowns "auto" tries AUTO_ORDER_SMALL: on the 3k-unknown beam
#: SuperLU and UMFPACK factorise in 40-60 ms and PARDISO in 60-100 ms (its nested
#: dissection and MKL set-up do not pay off yet), and SuperLU needs no import.
AUTO_SMALL_N = 5000
AUTO_ORDER_SMALL: tuple[str, ...] = ("superlu", "umfpack", "pardiso")
#: From AUTO_KRYLOV_N unknowns a Taylor-Hood problem (``Problem(linear_solver="auto")``)
#: uses "block-gmres" when pyamg is installed: Land problem 2, 51-52 Newton iterations,
#: PARDISO vs block-gmres: level 2 (9,954 unknowns) 19.8 vs 34.8 s, level 3 (33,715)
#: 130 vs 129 s; problem 3 on 62,446 unknowns > 900 s vs 446 s; and PARDISO's factors
#: would not fit in 24 GiB at 550,000 unknowns.
AUTO_KRYLOV_N = 40000

#: method -> (Python module, what to install). umfpack and cholmod compile against the
#: system SuiteSparse (PyPI has no wheels), so they are not in the ``solvers`` extra.
_REQUIRES: dict[str, tuple[str, str]] = {
    "superlu": ("scipy.sparse.linalg", "scipy (a core dependency)"),
    "umfpack": ("scikits.umfpack", ("scikit-umfpack, which builds against SuiteSparse: conda install "
                                    "-c conda-forge scikit-umfpack, or install SuiteSparse and SWIG "
                                    "(Debian/Ubuntu: apt-get install libsuitesparse-dev swig) then pip "
                                    "install scikit-umfpack")),
    "cholmod": ("sksparse.cholmod", ("scikit-sparse, which builds against SuiteSparse: conda install "
                                     "-c conda-forge scikit-sparse, or install SuiteSparse (Debian/Ubuntu: "
                                     "apt-get install libsuitesparse-dev) then pip install scikit-sparse "
                                     "(0.4.x for SuiteSparse 5)")),
    "pardiso": ("pypardiso", "pypardiso (Intel MKL, x86-64 only): pip install 'cardiosim[solvers]'"),
    "pyamg": ("pyamg", "pyamg: pip install 'cardiosim[solvers]'"),
    "block-gmres": ("pyamg", "pyamg: pip install 'cardiosim[solvers]'"),
}
#: methods for saddle points [[A, B^T], [B, C]] only, told the block layout by options
SADDLE_METHODS: tuple[str, ...] = ("block-gmres",)
#: general methods (any matrix the method suits, no layout needed)
METHODS: tuple[str, ...] = tuple(m for m in _REQUIRES if m not in SADDLE_METHODS)
#: options each method takes (others raise TypeError)
OPTIONS: dict[str, frozenset] = {
    "superlu": frozenset({"permc_spec", "diag_pivot_thresh", "symmetric_mode"}),
    "umfpack": frozenset(),
    "cholmod": frozenset({"ordering_method"}),
    "pardiso": frozenset({"mtype"}),
    "pyamg": frozenset({"coords", "dofs", "rtol", "maxiter", "accel", "max_coarse"}),
    "block-gmres": frozenset({"n_u", "coords", "dofs", "cells", "pressure_mass", "shear_modulus", "rtol",
                              "maxiter", "restart", "max_coarse"}),
}
#: options "block-gmres" cannot do without
BLOCK_REQUIRED: frozenset = frozenset({"n_u", "coords", "pressure_mass"})
_LU = ("superlu", "umfpack", "pardiso")


class LinearSolverError(SolverError):
    """A linear solve failed or its answer is not accurate. Attributes: ``method``,
    ``residual`` (backward error or relative residual reached; nan if unknown) and
    ``iterations`` (Krylov)."""

    def __init__(self, message: str, method: str, residual: float = float("nan"),
                 iterations: int | None = None):
        super().__init__(message)
        self.method = method
        self.residual = residual
        self.iterations = iterations


class SolverUnavailableError(ImportError):
    """The optional package behind a linear-solver method is not installed."""


def _import(method: str):
    mod, what = _REQUIRES[method]
    try:
        return importlib.import_module(mod)
    except ImportError as e:  # say what to install, not only which module is missing
        raise SolverUnavailableError(f"linear solver {method!r} needs {what} ({e})") from e


def available() -> dict[str, bool]:
    """Which methods (:data:`METHODS` and :data:`SADDLE_METHODS`) can run here, {method: bool}
    (imports the packages once)."""
    return dict(_available())


@functools.lru_cache(maxsize=1)
def _available() -> tuple:
    out = []
    for m in _REQUIRES:
        try:
            _import(m)
            out.append((m, True))
        except SolverUnavailableError:
            out.append((m, False))
    return tuple(out)


def auto_order(n: int) -> tuple[str, ...]:
    """The installed methods ``"auto"`` tries, in order, for n unknowns."""
    ok = available()
    return tuple(m for m in (AUTO_ORDER_SMALL if n < AUTO_SMALL_N else AUTO_ORDER) if ok[m])


def default_method(n: int = AUTO_SMALL_N) -> str:
    """The method ``"auto"`` tries first on this machine for n unknowns."""
    return auto_order(n)[0]


class Factorization:
    """A factorised (or preconditioned) matrix; call it with b (n,) or (n, k) to get x.

    Attributes
    ----------
    method : the method in use (for ``"auto"``: the one chosen; ``auto_errors`` lists
        the failures that made it move on)
    setup_s : factorisation or AMG-setup time [s]
    reused : whether the symbolic analysis of ``reuse=`` was kept
    last : of the last solve, ``residual`` (backward error of the equilibrated system,
        or Krylov relative residual), ``iterations``, ``refinements``
    """

    def __init__(self, A: sp.csr_matrix, method: str, symmetric: bool, check_tol: float,
                 opts: dict, reuse: Factorization | None = None, auto: bool = False,
                 cond_limit: float = 1e13):
        self.A, self.method, self.symmetric, self.check_tol, self.opts = A, method, symmetric, check_tol, opts
        self.cond_limit = cond_limit
        self.auto, self.auto_errors, self._all_opts = auto, [], opts
        self.last: dict = {}
        self._setup(reuse)

    def _setup(self, reuse):
        A, method = self.A, self.method
        mod = _import(method)
        state = None
        if (reuse is not None and reuse.method == method and reuse._state is not None
                and reuse.A.shape == A.shape and np.array_equal(reuse.A.indptr, A.indptr)
                and np.array_equal(reuse.A.indices, A.indices)):
            state = reuse._state
            reuse._invalidate()  # its back-end object now holds these factors
        t0 = time.perf_counter()
        n = A.shape[0]
        if method in _LU:
            # LU solvers get Dr A Dc: the Taylor-Hood system mixes displacement rows
            # (~10 N/m) with constraint rows (~1e-7 m^3), cond ~1e16 as it is, ~1e5
            # scaled; SciPy's SuperLU does not scale by itself.
            self.dr, self.dc = equilibrate(A)
            # scaled in place of a product: a sparse product drops exact zeros, and the
            # structure must stay that of A for the symbolic reuse checked above
            As = A.copy()
            As.data *= np.repeat(self.dr, np.diff(As.indptr)) * self.dc[As.indices]
        else:
            self.dr, self.dc = np.ones(n), np.ones(n)
            As = A
        b = _BACKENDS[method](mod, As, self.symmetric, self.opts, state)
        self.setup_s = time.perf_counter() - t0
        self._solve, self.direct, self.rtol = b["solve"], b["direct"], b.get("rtol")
        # Krylov residuals are measured as |w (b - A x)| / |w b| (w: 1, or the block
        # scaling of "block-gmres", where u and p rows differ by ~1e8 in units)
        self.weight = b.get("weight")
        self._state, self.info = b.get("state"), b.get("info", {})
        self.reused = state is not None
        # ||Dr A Dc||_inf: the backward error is measured on the equilibrated system,
        # where a normwise measure means something for a badly scaled saddle point
        self.normA = float(abs(As).sum(axis=1).max()) if A.nnz else 0.0

    def _invalidate(self):
        def dead(_):
            raise LinearSolverError(f"{self.method}: this factorisation was handed to a newer one "
                                    f"(reuse=) and holds its factors now", self.method)
        self._solve, self._state, self.auto = dead, None, False

    def __call__(self, b: np.ndarray) -> np.ndarray:
        b = np.asarray(b, dtype=float)
        if b.shape[0] != self.A.shape[0]:
            raise ParameterError(f"b has {b.shape[0]} rows, the matrix {self.A.shape[0]}")
        if b.ndim == 2:
            return np.column_stack([self(b[:, j]) for j in range(b.shape[1])])
        try:
            return self._direct(b) if self.direct else self._krylov(b)
        except LinearSolverError as e:
            nxt = _next_auto(self.method, self.A.shape[0]) if self.auto else None
            if nxt is None:
                raise
            # "auto": the next method of AUTO_ORDER takes over (e.g. PARDISO's perturbed
            # pivots not rescued by refinement on a nearly singular matrix)
            self.auto_errors.append(str(e))
            self.method = nxt
            self.opts = {k: v for k, v in self._all_opts.items() if k in OPTIONS[nxt]}
            self._setup(None)
            return self(b)

    def _backward_error(self, x, b):
        # normwise backward error |r| / (|A| |x| + |b|) (inf-norms) of the equilibrated
        # system: ~1e-16 for a stable solve whatever the conditioning, unlike |r|/|b|
        r = b - self.A @ x
        rs, xs, bs = self.dr * r, x / self.dc, self.dr * b
        den = self.normA * np.abs(xs).max(initial=0.0) + np.abs(bs).max(initial=0.0)
        return r, (float(np.abs(rs).max(initial=0.0) / den) if den > 0 else 0.0)

    def _scaled_solve(self, b):
        x = self.dc * np.asarray(self._solve(self.dr * b)).reshape(b.shape)
        self._finite(x)
        return x

    def _direct(self, b):
        x = self._scaled_solve(b)
        r, eta = self._backward_error(x, b)
        k = 0
        # refinement rescues PARDISO's perturbed pivots (and a poor SuperLU pivot sequence)
        while eta > self.check_tol and k < 2:
            x = x + self._scaled_solve(r)
            r, eta = self._backward_error(x, b)
            k += 1
        self.last = {"residual": eta, "iterations": None, "refinements": k}
        if eta > self.check_tol:
            raise LinearSolverError(
                f"{self.method}: inaccurate solve, backward error {eta:.2e} > {self.check_tol:.0e} after "
                f"{k} refinement steps (matrix nearly singular, e.g. a rigid mode not held by the "
                f"boundary conditions?)", self.method, eta)
        # a small backward error does not catch a singular matrix: x then solves a nearby
        # matrix, and is huge. |A| |x| / |b| is a lower bound of cond(A) (equilibrated).
        bs = np.abs(self.dr * b).max(initial=0.0)
        cond = self.normA * np.abs(x / self.dc).max(initial=0.0) / bs if bs > 0 else 0.0
        self.last["cond_lower_bound"] = cond
        if cond > self.cond_limit:
            raise LinearSolverError(
                f"{self.method}: the matrix is numerically singular (condition number >= {cond:.1e}; "
                f"a rigid-body mode not held by Dirichlet conditions, or a pressure mode?)", self.method, eta)
        return x

    def _krylov(self, b):
        x, it = self._solve(b)
        self._finite(x)
        w = 1.0 if self.weight is None else self.weight
        nb = float(np.linalg.norm(w * b))
        rel = float(np.linalg.norm(w * (b - self.A @ x)) / nb) if nb > 0 else 0.0
        self.last = {"residual": rel, "iterations": it, "refinements": 0}
        # 10x slack: pyamg stops on its own (recursive, preconditioned) residual
        if not rel <= 10 * self.rtol:
            why = f" ({self.info['stop']})" if self.info.get("stop", "converged") != "converged" else ""
            raise LinearSolverError(
                f"{self.method}: Krylov solver did not converge, relative residual {rel:.2e} after {it} "
                f"iterations (asked {self.rtol:.0e}){why}; raise maxiter, or use a direct method",
                self.method, rel, it)
        return x

    def _finite(self, x):
        if not np.all(np.isfinite(x)):
            raise LinearSolverError(
                f"{self.method}: the solution is not finite (singular matrix? e.g. missing Dirichlet "
                f"conditions, or an indefinite matrix given to a solver that needs it definite)",
                self.method)


def _next_auto(method: str, n: int) -> str | None:
    order = auto_order(n)
    return order[order.index(method) + 1] if method in order[:-1] else None


def factorized(A, method: str = "auto", symmetric: bool = False, check_tol: float = 1e-9,
               reuse: Factorization | None = None, cond_limit: float = 1e13, **opts: Any) -> Factorization:
    """Factorise (or set up the preconditioner of) ``A`` once; the result solves A x = b.

    Parameters
    ----------
    A : sparse (n, n) matrix (any scipy.sparse format).
    method : one of :data:`METHODS` or ``"auto"``.
    symmetric : the caller knows A is symmetric (pyamg then uses CG instead of GMRES).
    check_tol : largest backward error accepted from a direct method.
    cond_limit : a direct solve whose |A| |x| / |b| (a lower bound of the condition
        number, equilibrated) exceeds this raises: the matrix is numerically singular.
    reuse : a previous Factorization of a matrix with the same pattern (Newton): its
        symbolic analysis is kept (umfpack, pardiso, cholmod) and it becomes unusable.
    **opts : method options (:data:`OPTIONS`). superlu: ``permc_spec`` ("auto":
        MMD_AT_PLUS_A for a structurally symmetric pattern, else COLAMD),
        ``diag_pivot_thresh``, ``symmetric_mode`` (0.001 and True with MMD_AT_PLUS_A).
        pardiso: ``mtype`` (11, real nonsymmetric). cholmod: ``ordering_method``.
        pyamg: ``coords`` (n_nodes, 3) nodal coordinates for the rigid-body
        near-nullspace, ``dofs`` (index of each unknown in the interleaved 3 n_nodes
        vector, e.g. ``problem.free``; default: the unknowns are the nodes' x, y, z in
        order), ``rtol`` (1e-10), ``maxiter`` (300), ``accel`` ("cg" or "gmres").
        block-gmres (A = [[A_uu, B^T], [B, C]], displacements first; required:
        ``n_u``, ``coords``, ``pressure_mass``; :func:`saddle_point_options` builds them
        for a Problem): ``n_u`` number of displacement unknowns (rows/columns 0..n_u-1;
        pressures after), ``coords`` (n_nodes, 3) nodal coordinates (rigid-body modes),
        ``dofs`` (n_u,) index of each displacement unknown in the interleaved 3 n_nodes
        vector (default arange(n_u)), ``cells`` (n_cells, 10) P2 tetrahedra (node indices,
        vertices first, edges in :data:`cardiosim.geometry.TET_EDGES` order): AMG starts with a
        P2 -> P1 level (recommended; without it smoothed aggregation runs on the P2 block),
        ``pressure_mass`` (n - n_u, n - n_u) P1 mass matrix of the pressure unknowns [m^3],
        ``shear_modulus`` [Pa]: Schur complement ~ M_p / shear_modulus (default: a local
        modulus read off the tangent, better under load), ``rtol`` (1e-8: |D r| <= rtol |D b|,
        D = diag(|diag A_uu|^-1/2, |diag S_hat|^-1/2), the residual in ``last``),
        ``restart`` (100), ``maxiter`` (1000 GMRES iterations), ``max_coarse`` (300).
        ``last["iterations"]``: GMRES iterations; ``info``: AMG levels and complexity,
        the effective shear moduli (min, median, max) and ``history`` (relative
        residuals of the last solve).

    Returns
    -------
    Factorization : callable b -> x, with ``method``, ``setup_s`` and ``last``.
    """
    auto = method == "auto"
    if not auto and method not in _REQUIRES:
        raise ParameterError(f"unknown linear solver {method!r}; choose one of "
                             f"{', '.join(('auto',) + METHODS + SADDLE_METHODS)}")
    if not sp.issparse(A):
        raise TypeError(f"A must be a scipy.sparse matrix, got {type(A).__name__}")
    if A.shape[0] != A.shape[1]:
        raise ParameterError(f"A must be square, got shape {A.shape}")
    A = sp.csr_matrix(A, dtype=float)
    A.sum_duplicates()
    A.sort_indices()
    if not auto:
        unknown = set(opts) - OPTIONS[method]
        if unknown:
            raise TypeError(f"linear solver {method!r} has no option(s) {sorted(unknown)}; "
                            f"it takes {sorted(OPTIONS[method]) or 'none'}")
        missing = set(BLOCK_REQUIRED) - {k for k, v in opts.items() if v is not None}
        if method in SADDLE_METHODS and missing:
            raise TypeError(f"linear solver {method!r} needs the option(s) {sorted(missing)} (the block layout "
                            f"of the saddle point and the pressure mass matrix); for a Problem, pass "
                            f"**saddle_point_options(problem)")
        return Factorization(A, method, symmetric, check_tol, opts, reuse, cond_limit=cond_limit)
    errors = []
    for m in auto_order(A.shape[0]):
        try:
            f = Factorization(A, m, symmetric, check_tol, {k: v for k, v in opts.items() if k in OPTIONS[m]},
                              reuse, auto=True, cond_limit=cond_limit)
            f._all_opts = opts
        except LinearSolverError as e:  # e.g. a PARDISO error code: the next one tries
            errors.append(str(e))
            continue
        f.auto_errors = errors
        return f
    raise LinearSolverError("auto: no method could factorise the matrix: " + "; ".join(errors), "auto")


def solve_linear(A, b: np.ndarray, method: str = "auto", symmetric: bool = False, **opts: Any) -> np.ndarray:
    """Solve A x = b with ``method`` (options: see :func:`factorized`).

    Raises
    ------
    LinearSolverError : singular or unsuitable matrix, inaccurate or unconverged solve.
    SolverUnavailableError : the method's package is missing (an ``ImportError``).
    ParameterError : unknown method (a ValueError).
    TypeError : an option the method does not take, or a required one missing ("block-gmres").
    """
    return factorized(A, method, symmetric=symmetric, **opts)(b)


def equilibrate(A: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Row and column scalings (dr, dc), powers of 2 (exact), that bring the largest entry
    of every row and column of diag(dr) A diag(dc) into [0.7, 1.4] (as LAPACK's xGEEQUB)."""
    absA = abs(sp.csr_matrix(A))
    rmax = np.asarray(absA.max(axis=1).todense()).ravel()
    if np.any(rmax == 0):
        raise LinearSolverError(f"the matrix has {int(np.sum(rmax == 0))} empty row(s): singular "
                                f"(missing Dirichlet conditions, or an unused dof?)", "equilibrate")
    dr = np.exp2(-np.round(np.log2(rmax)))
    cmax = np.asarray((sp.diags(dr) @ absA).max(axis=0).todense()).ravel()
    if np.any(cmax == 0):
        raise LinearSolverError(f"the matrix has {int(np.sum(cmax == 0))} empty column(s): singular",
                                "equilibrate")
    return dr, np.exp2(-np.round(np.log2(cmax)))


def rigid_body_modes(coords: np.ndarray) -> np.ndarray:
    """The 6 rigid-body modes (3 translations, 3 rotations) of the nodes ``coords``
    (n, 3), interleaved (x, y, z of each node): (3 n, 6). Centred and scaled, for AMG."""
    X = np.asarray(coords, float)
    X = X - X.mean(axis=0)
    X = X / max(np.abs(X).max(), 1e-300)
    B = np.zeros((len(X), 3, 6))
    for i in range(3):
        B[:, i, i] = 1.0
    x, y, z = X.T
    B[:, 1, 3], B[:, 2, 3] = -z, y  # rotation about x
    B[:, 0, 4], B[:, 2, 4] = z, -x  # about y
    B[:, 0, 5], B[:, 1, 5] = -y, x  # about z
    return B.reshape(-1, 6)


# ---------------------------------------------------------------------------------------
# back ends: (module, CSR A (equilibrated for LU), symmetric, opts, reusable state or
# None) -> {"solve", "direct", "rtol", "state", "info"}

def _structurally_symmetric(A: sp.csr_matrix) -> bool:
    P = A.copy()
    P.data = np.ones_like(P.data)
    return (P != P.T).nnz == 0


def _superlu(mod, A, symmetric, opts, state):
    # SciPy's default COLAMD orders for A^T A; on a structurally symmetric FE matrix a
    # minimum degree on A + A^T gives less fill, but only while pivoting keeps to the
    # diagonal. Measured (benchmarks/linear_solvers.py, one core): with partial pivoting
    # (threshold 1) that ordering is 10-30x slower than COLAMD; with a 0.1 threshold it
    # is 3x faster on the Taylor-Hood ellipsoid but 3x slower on an indefinite penalty
    # tangent (99 s against 34 s at 31k unknowns); with 0.001 it took 14 s there and
    # 0.4 s instead of 7.7 s on a rough beam iterate, backward errors <= 4e-13. The
    # backward-error check and refinement below guard the small threshold.
    permc = opts.get("permc_spec", "auto")
    if permc == "auto":
        permc = "MMD_AT_PLUS_A" if _structurally_symmetric(A) else "COLAMD"
    sym = bool(opts.get("symmetric_mode", permc == "MMD_AT_PLUS_A"))
    kw = {"permc_spec": permc, "diag_pivot_thresh": opts.get("diag_pivot_thresh", 1e-3 if sym else 1.0),
          "options": {"SymmetricMode": sym}}
    try:
        lu = mod.splu(A.tocsc(), **kw)
    except RuntimeError as e:  # "Factor is exactly singular"
        raise LinearSolverError(f"superlu: {e} (missing Dirichlet conditions?)", "superlu") from e
    return {"solve": lu.solve, "direct": True, "info": kw}


def _umfpack(mod, A, symmetric, opts, state):
    A = A.tocsc()
    # scikit-umfpack picks its int32 or int64 routines from the index dtype and wants
    # indptr and indices alike (SciPy may mix them)
    it = np.int32 if A.nnz < 2**31 - 1 else np.int64
    A.indices, A.indptr = A.indices.astype(it), A.indptr.astype(it)
    ctx = state if state is not None else mod.UmfpackContext("di" if it is np.int32 else "dl")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            ctx.numeric(A)  # reuses ctx's symbolic analysis when there is one
        except RuntimeError as e:
            raise LinearSolverError(f"umfpack: {e}", "umfpack") from e
    if any("Singular" in str(x.message) for x in w):  # UMFPACK only warns
        raise LinearSolverError("umfpack: the matrix is singular (missing Dirichlet conditions?)", "umfpack")

    def solve(b):
        with warnings.catch_warnings():  # "(almost) singular": the checks above report it
            warnings.simplefilter("ignore", mod.UmfpackWarning)
            return ctx.solve(mod.UMFPACK_A, A, b, autoTranspose=True)

    return {"solve": solve, "direct": True, "state": ctx}


def _cholmod(mod, A, symmetric, opts, state):
    # CHOLMOD reads one triangle: a nonsymmetric A would be solved as another matrix
    # without a word, so check symmetry first
    amax = float(abs(A).max()) if A.nnz else 0.0
    asym = float(abs(A - A.T).max()) if A.nnz else 0.0
    if asym > 1e-12 * amax:
        raise LinearSolverError(
            f"cholmod needs a symmetric positive definite matrix; this one is not symmetric "
            f"(max |A - A^T| / max |A| = {asym / amax:.1e}; a follower-pressure tangent is not): use "
            f"superlu, umfpack or pardiso", "cholmod")
    try:
        if state is not None:
            state.cholesky_inplace(A.tocsc())  # same pattern: keep the ordering
            f = state
        else:
            # supernodal LL^T fails on a non-positive pivot; the simplicial LDL^T would not
            f = mod.cholesky(A.tocsc(), mode="supernodal", ordering_method=opts.get("ordering_method", "default"))
    except mod.CholmodNotPositiveDefiniteError as e:
        raise LinearSolverError(
            f"cholmod needs a symmetric positive definite matrix; this one is not positive definite "
            f"({e}): indefinite (saddle point?) or singular; use superlu, umfpack or pardiso",
            "cholmod") from e
    return {"solve": f.solve_A, "direct": True, "state": f}


class _PardisoHandle:
    """One PyPardisoSolver per factorisation chain (its handle holds the factors); MKL's
    memory is released when the handle is collected."""

    def __init__(self, mod, mtype):
        # pypardiso searches for libmkl_rt (find_library and a recursive glob, ~0.8 s)
        # in every new solver unless told where it is; its module-level solver found it
        lib = getattr(getattr(getattr(mod, "ps", None), "libmkl", None), "_name", None)
        if lib:
            os.environ.setdefault("PYPARDISO_MKL_RT", lib)
        self.s = mod.PyPardisoSolver(mtype=mtype)
        self.mod, self.A = mod, None
        weakref.finalize(self, _pardiso_free, self.s)

    def factor(self, A, numeric_only):
        self.A = A
        try:
            if numeric_only:
                # phase 22: numerical factorisation with the ordering of the last phase 11
                self.s._check_A(A)
                self.s.factorized_A = A.copy()
                self.s.set_phase(22)
                self.s._call_pardiso(A, np.zeros((A.shape[0], 1)))
            else:
                self.s.factorize(A)  # phase 12: analysis and factorisation
        except self.mod.pardiso_wrapper.PyPardisoError as e:
            raise LinearSolverError(f"pardiso: factorisation failed: {e}", "pardiso") from e

    def solve(self, b):
        # pypardiso checks A against the matrix it factorised, then runs phase 33
        return self.s.solve(self.A, np.asfortranarray(b))


def _pardiso_free(s):
    try:
        s.free_memory(everything=True)
    except Exception:  # noqa: BLE001, S110 - best effort, may run at interpreter shutdown
        pass


def _pardiso(mod, A, symmetric, opts, state):
    # mtype 11 (real nonsymmetric): MKL then scales and permutes large entries onto the
    # diagonal (weighted matching), which saddle points need; mtype 1 (structurally
    # symmetric) fails on the Taylor-Hood tangent (error -3, measured)
    mtype = int(opts.get("mtype", 11))
    reuse = state is not None and state.s.mtype == mtype
    h = state if reuse else _PardisoHandle(mod, mtype)
    h.factor(A, numeric_only=reuse)
    return {"solve": h.solve, "direct": True, "state": h, "info": {"mtype": mtype}}


def _pyamg(mod, A, symmetric, opts, state):
    d = A.diagonal()
    bad = int(np.count_nonzero(~(d > 0)))
    if bad:
        # SA-AMG smooths with Jacobi/Gauss-Seidel and its CG needs a definite matrix: on
        # a zero block it divides by zero or stagnates. Refuse up front.
        raise LinearSolverError(
            f"pyamg is for elliptic (nearly symmetric positive definite) systems; this matrix has {bad} "
            f"zero or negative diagonal entries (an indefinite saddle point, e.g. Taylor-Hood u-p?): use "
            f"a direct method (superlu, umfpack, pardiso)", "pyamg")
    n = A.shape[0]
    coords, dofs = opts.get("coords"), opts.get("dofs")
    B, Ab = None, A
    if coords is not None:
        Bfull = rigid_body_modes(coords)
        B = Bfull[np.asarray(dofs)] if dofs is not None else Bfull
        if B.shape[0] != n:
            raise ParameterError(f"pyamg: {B.shape[0]} rigid-body-mode rows for {n} unknowns; pass dofs= "
                                 f"(the index of each unknown in the 3 n_nodes vector)")
        if n % 3 == 0 and (dofs is None or np.all(np.asarray(dofs).reshape(-1, 3) % 3 == np.arange(3))):
            Ab = A.tobsr(blocksize=(3, 3))  # aggregate nodes: x, y, z of a node together
    # nearly symmetric (follower pressure) tangents: symmetric hierarchy, GMRES outside
    ml = mod.smoothed_aggregation_solver(Ab, B=B, max_coarse=int(opts.get("max_coarse", 300)))
    rtol = float(opts.get("rtol", 1e-10))
    maxiter = int(opts.get("maxiter", 300))
    accel = opts.get("accel", "cg" if symmetric else "gmres")

    def solve(b):
        res: list = []
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            x = ml.solve(b, tol=rtol, maxiter=maxiter, accel=accel, residuals=res)
        if any("ndefinite" in str(m.message) for m in w):
            # pyamg's CG stops and warns; say so instead of "did not converge"
            r = float(np.linalg.norm(b - A @ np.asarray(x).ravel()) / max(np.linalg.norm(b), 1e-300))
            raise LinearSolverError(f"pyamg: CG met an indefinite matrix (relative residual {r:.2e}): the "
                                    f"tangent is not positive definite; use a direct method", "pyamg", r,
                                    max(len(res) - 1, 0))
        return np.asarray(x).ravel(), max(len(res) - 1, 0)

    return {"solve": solve, "direct": False, "rtol": rtol, "info": {"levels": len(ml.levels), "accel": accel}}


# ---------------------------------------------------------------------------------------
# "block-gmres": Taylor-Hood saddle points [[A, B^T], [B, C]] (C = 0 here), unknowns
# ordered displacements first (n_u of them), then pressures.
#
# Right-preconditioned GMRES on D K D (D: block diagonal scaling below) with
#     P = [[A_hat, B^T], [0, S_hat]],  S_hat = C - s W^1/2 M_p W^1/2,
# A_hat^-1 one AMG V-cycle on A (p-multigrid P2 -> P1, then smoothed aggregation with the
# rigid-body modes), M_p the P1 pressure mass matrix, W = diag(w) a local 1 / (effective
# shear modulus) and s = +-1 the sign of B A^-1 B^T. Incompressible elasticity: B A^-1 B^T
# ~ M_p / mu. Under load the Guccione stiffness grows exponentially and unevenly, so w is
# read off the tangent: w_i = SCHUR_SCALE diag(B diag(A)^-1 B^T)_i / (M_p)_ii. Measured on
# Land 2015 problem 2 (exact A^-1, GMRES iterations to 1e-8; levels 2 / 3): at a converged
# 10 kPa state uniform M_p / mu 49 / 62, local W 32 / 35, diag(B diag(A)^-1 B^T) alone
# 43 / 49, LSC (two pressure Poisson solves) 32 / 36; at u = 0, load 2 kPa 62 / 65,
# 52 / 57, 68 / 78, 50 / 63.

#: w = SCHUR_SCALE diag(B diag(A)^-1 B^T) / diag(M_p). GMRES iterations with the AMG
#: V-cycle at SCHUR_SCALE 0.5, 1, 2, 4: converged 10 kPa state, level 2: 71, 55, 51, 52;
#: level 3: -, 56, 49, 48; u = 0 under 2 kPa, level 2: 48, 38, 37, 53.
SCHUR_SCALE = 2.0
#: Chebyshev steps for S_hat^-1 (~4e-4 error reduction at 8). Level 3, GMRES iterations
#: (converged 10 kPa / u = 0, 2 kPa) at 1, 2, 4, 8, 16 steps: 60/63, 60/40, 59/41, 59/41,
#: 59/41, as with a sparse LU of S_hat (59/41), whose cost grows faster than n.
SCHUR_CHEBYSHEV = 8
#: strength threshold of the aggregation. With pyamg's default 0 it coarsens too fast (two
#: levels, the coarse one ~1 % of the fine): 90 GMRES iterations on A alone (levels 2 and
#: 3); 0.1: 38 and 46 (SA on the P2 block) or 34 and 35 (p-multigrid first); 0.25: the
#: operator complexity blows up (12.6 on level 3).
AMG_THETA = 0.1

#: Gauss-Seidel sweeps before and after the coarse-grid correction (all levels). Measured
#: on level 3 (converged state): symmetric 49 iterations; forward/backward (half the work)
#: 74 and no faster; two symmetric sweeps 40 and slower; Jacobi (2 sweeps), block Jacobi,
#: Chebyshev (degree 3): 293, 169, 155 iterations, 2-5x slower.
AMG_SWEEPS: tuple[str, str] = ("symmetric", "symmetric")


def p1_mass_matrix(points: np.ndarray, tets: np.ndarray) -> sp.csr_matrix:
    """The P1 (linear tetrahedron) mass matrix int N_i N_j [m^3] of the nodes ``points``
    (n, 3) and the tetrahedra ``tets`` (n_cells, 4) indexing them: V/20 (1 + delta_ij) per
    tetrahedron (straight-sided volumes). CSR (n, n)."""
    X = np.asarray(points, float)
    T = np.asarray(tets, dtype=np.int64)
    if T.ndim != 2 or T.shape[1] != 4:
        raise ParameterError(f"tets must be (n_cells, 4) vertex indices, got shape {T.shape}")
    d = X[T[:, 1:]] - X[T[:, :1]]
    vol = np.abs(np.einsum("ij,ij->i", d[:, 0], np.cross(d[:, 1], d[:, 2]))) / 6.0
    Me = (np.ones((4, 4)) + np.eye(4)) / 20.0
    rows = np.repeat(T, 4, axis=1).ravel()
    cols = np.tile(T, (1, 4)).ravel()
    M = sp.csr_matrix(((vol[:, None, None] * Me).ravel(), (rows, cols)), shape=(len(X), len(X)))
    M.sum_duplicates()
    return M


def saddle_point_options(problem) -> dict:
    """The options of ``"block-gmres"`` for the tangent ``K[free][:, free]`` of a mixed
    (Taylor-Hood) :class:`cardiosim.fem.solver.Problem`: ``n_u`` (free displacement
    unknowns, which come first), ``coords`` (all mesh points), ``dofs`` (``free[:n_u]``),
    ``cells`` (P2 connectivity) and ``pressure_mass`` (P1 mass matrix of the vertex
    pressures, in their numbering). Build once per problem and pass to every solve:
    ``solve_linear(A, b, "block-gmres", **opts)``."""
    if getattr(problem, "formulation", None) != "mixed":
        raise ParameterError("saddle_point_options needs a mixed (Taylor-Hood u-p) problem, got formulation "
                             f"{getattr(problem, 'formulation', None)!r}")
    m, free = problem.mesh, np.asarray(problem.free)
    n_u = int(np.count_nonzero(free < problem.n_u))
    n_p = len(problem.vertices)
    if len(free) - n_u != n_p:
        raise ParameterError(f"{len(free) - n_u} free pressure unknowns for {n_p} vertices: block-gmres expects "
                             f"no pressure Dirichlet conditions")
    return {"n_u": n_u, "coords": problem.coords, "dofs": free[:n_u], "cells": m.cells,
            "pressure_mass": p1_mass_matrix(m.points[problem.vertices], problem.pdofs)}


def _p1_prolongation(cells: np.ndarray, dofs: np.ndarray, n_nodes: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """Interpolation from the P1 space of the vertices to the P2 space, restricted to the
    unknowns ``dofs`` (rows) and to the vertex unknowns among them (columns): a vertex keeps
    its value, an edge node takes the mean of its two ends (a fixed end contributes 0).
    Returns (P, vdofs): vdofs = index of each column in the interleaved 3 n_nodes vector."""
    from ..geometry.mesh import TET_EDGES  # edge node k of a P2 tetrahedron lies on TET_EDGES[k]

    cells = np.asarray(cells, dtype=np.int64)
    if cells.ndim != 2 or cells.shape[1] != 10:
        raise ParameterError(f"cells must be the (n_cells, 10) P2 tetrahedra, got shape {cells.shape}")
    verts = np.unique(cells[:, :4])
    vmap = np.full(n_nodes, -1, dtype=np.int64)
    vmap[verts] = np.arange(len(verts))
    mids, first = np.unique(cells[:, 4:].ravel(), return_index=True)
    ends = cells[:, TET_EDGES].reshape(-1, 2)[first]
    rows = np.concatenate([verts, mids, mids])
    cols = np.concatenate([vmap[verts], vmap[ends[:, 0]], vmap[ends[:, 1]]])
    vals = np.concatenate([np.ones(len(verts)), np.full(2 * len(mids), 0.5)])
    Ps = sp.csr_matrix((vals, (rows, cols)), shape=(n_nodes, len(verts)))
    vdofs = dofs[vmap[dofs // 3] >= 0]  # the free vertex unknowns: the P1 space
    P = sp.kron(Ps, sp.identity(3, format="csr"), format="csr")[dofs][:, 3 * vmap[vdofs // 3] + vdofs % 3]
    return sp.csr_matrix(P), vdofs


def _gmres(matvec, psolve, b, rtol, restart, maxiter):
    """Right-preconditioned restarted GMRES (psolve a fixed linear operator): x, iterations,
    relative residual history (Arnoldi estimates; the true one after each cycle), why it
    stopped. Classical Gram-Schmidt, twice (BLAS-2 on the stored basis: fast in NumPy).
    Stops at rtol |b|, after maxiter iterations, or early when the rate of the last
    restart cycle would need more than maxiter iterations in all (a hopeless solve, e.g.
    a far-off Newton iterate with a strongly indefinite displacement block, fails in 200
    iterations instead of 1000: level 3, u = 0 under the full 10 kPa)."""
    from scipy.linalg import solve_triangular

    n = b.shape[0]
    nb = float(np.linalg.norm(b))
    x = np.zeros(n)
    hist = [1.0]
    if nb == 0:
        return x, 0, hist, "converged"
    m = max(1, min(restart, maxiter))
    V = np.empty((m + 1, n))
    r, beta, it = b.copy(), nb, 0
    while True:
        it0 = it
        H = np.zeros((m + 1, m))
        cs, sn, g = np.zeros(m), np.zeros(m), np.zeros(m + 1)
        g[0] = beta
        V[0] = r / beta
        k = 0
        for j in range(m):
            w = matvec(psolve(V[j]))
            h = V[: j + 1] @ w
            w -= h @ V[: j + 1]
            h2 = V[: j + 1] @ w
            w -= h2 @ V[: j + 1]
            hn = float(np.linalg.norm(w))
            H[: j + 1, j] = h + h2
            H[j + 1, j] = hn
            for i in range(j):  # the previous Givens rotations
                H[i, j], H[i + 1, j] = cs[i] * H[i, j] + sn[i] * H[i + 1, j], -sn[i] * H[i, j] + cs[i] * H[i + 1, j]
            den = float(np.hypot(H[j, j], hn))
            cs[j], sn[j] = (H[j, j] / den, hn / den) if den > 0 else (1.0, 0.0)
            H[j, j], H[j + 1, j] = den, 0.0
            g[j + 1], g[j] = -sn[j] * g[j], cs[j] * g[j]
            it, k = it + 1, j + 1
            hist.append(abs(g[j + 1]) / nb)
            if hn > 0:
                V[j + 1] = w / hn
            if abs(g[j + 1]) <= rtol * nb or hn == 0 or it >= maxiter:
                break
        if np.all(np.diag(H[:k, :k]) != 0):
            y = solve_triangular(H[:k, :k], g[:k])
        else:  # singular least-squares problem (breakdown on a singular matrix)
            y = np.linalg.lstsq(H[:k, :k], g[:k], rcond=None)[0]
        x += psolve(y @ V[:k])
        r = b - matvec(x)
        old, beta = beta, float(np.linalg.norm(r))
        hist.append(beta / nb)
        if beta <= rtol * nb:
            return x, it, hist, "converged"
        if it >= maxiter:
            return x, it, hist, "maxiter"
        if not beta < (1 - 1e-3) * old:
            return x, it, hist, f"stagnated: restart cycle {it0}-{it} reduced the residual by {old / beta:.3g}x"
        needed = np.log(rtol * nb / beta) / (np.log(beta / old) / (it - it0))
        if it + needed > maxiter:
            return x, it, hist, (f"gave up: at the rate of iterations {it0}-{it} it would take ~{it + needed:.0f} "
                                 f"> maxiter = {maxiter} iterations")


def _chebyshev(S, lo, hi, iterations):
    """z ~ S^-1 r for S symmetric positive definite: ``iterations`` Chebyshev steps
    preconditioned by diag(S), for the spectrum of diag(S)^-1 S in [lo, hi] (Saad,
    Iterative Methods, alg. 12.1). A fixed polynomial in S: a linear operator."""
    dinv = 1.0 / S.diagonal()
    theta, delta = 0.5 * (hi + lo), 0.5 * (hi - lo)
    sigma = theta / delta

    def apply(r):
        z = np.zeros_like(r)
        res = r.copy()
        d = dinv * res / theta
        rho = 1.0 / sigma
        for _ in range(iterations):
            z += d
            res -= S @ d
            rho_new = 1.0 / (2.0 * sigma - rho)
            d = rho_new * rho * d + (2.0 * rho_new / delta) * (dinv * res)
            rho = rho_new
        return z

    return apply


def _block_gmres(mod, A, symmetric, opts, state):
    from pyamg.multilevel import MultilevelSolver
    from pyamg.relaxation.smoothing import change_smoothers
    from scipy.sparse.linalg import splu

    n = A.shape[0]
    nu = int(opts["n_u"])
    if not 0 < nu < n:
        raise ParameterError(f"block-gmres: n_u = {nu} displacement unknowns of {n}: need 0 < n_u < n")
    npr = n - nu
    Mp = sp.csr_matrix(opts["pressure_mass"], dtype=float)
    if Mp.shape != (npr, npr):
        raise ParameterError(f"block-gmres: pressure_mass is {Mp.shape}, the pressure block ({npr}, {npr}) "
                             f"(n - n_u unknowns, in the order of the matrix)")
    coords = np.asarray(opts["coords"], float)
    if coords.ndim != 2 or coords.shape[1] != 3:
        raise ParameterError(f"block-gmres: coords must be (n_nodes, 3) nodal coordinates, got shape {coords.shape}")
    dofs = np.arange(nu) if opts.get("dofs") is None else np.asarray(opts["dofs"], dtype=np.int64)
    if dofs.shape != (nu,) or dofs.min() < 0 or dofs.max() >= 3 * len(coords):
        raise ParameterError(f"block-gmres: dofs must give, for each of the {nu} displacement unknowns, its index "
                             f"in the interleaved 3 n_nodes = {3 * len(coords)} vector (e.g. problem.free[:n_u])")
    Auu, Bt = A[:nu, :nu].tocsr(), A[:nu, nu:].tocsr()
    B, C = A[nu:, :nu].tocsr(), A[nu:, nu:].tocsr()
    dA = Auu.diagonal()
    bad = int(np.count_nonzero(~(dA > 0)))
    if bad:
        raise LinearSolverError(
            f"block-gmres: the displacement block has {bad} zero or negative diagonal entries (is n_u = {nu} "
            f"right? the displacement unknowns must come first); AMG cannot smooth it", "block-gmres")
    # diag(B diag(A)^-1 B^T) ~ the Schur complement; its size per pressure dof against the
    # mass matrix gives the local 1 / (shear modulus), its sign the sign of B A^-1 B^T
    dS = np.asarray((B @ sp.diags(1.0 / dA)).multiply(Bt.T).sum(axis=1)).ravel()
    dM = Mp.diagonal()
    if np.any(~(dM > 0)):
        raise ParameterError(f"block-gmres: pressure_mass must be a mass matrix (positive diagonal), smallest "
                             f"diagonal entry {dM.min():.3g}")
    if np.any(dS == 0):
        raise LinearSolverError(f"block-gmres: {int(np.sum(dS == 0))} pressure unknown(s) not coupled to any "
                                f"displacement: the matrix is singular", "block-gmres")
    sign = 1.0 if dS.sum() > 0 else -1.0
    mu = opts.get("shear_modulus")
    if mu is None:
        w = SCHUR_SCALE * np.abs(dS) / dM  # [1/Pa]
    else:
        if not float(mu) > 0:
            raise ParameterError(f"block-gmres: shear_modulus must be > 0 Pa, got {mu}")
        w = np.full(npr, 1.0 / float(mu))
    sq = sp.diags(np.sqrt(w))
    S = sp.csr_matrix(C - sign * (sq @ Mp @ sq))
    if C.nnz == 0 or not abs(C).max() > 0:
        # S_hat^-1 by a fixed Chebyshev iteration (a linear operator, as right-preconditioned
        # GMRES needs): W^1/2 M_p W^1/2 scaled by its diagonal is similar to diag(M_p)^-1 M_p,
        # spectrum in [1/2, 5/2] for P1 tetrahedra (Wathen 1987) whatever W
        s_inv = _chebyshev(-sign * S, 0.5, 2.5, SCHUR_CHEBYSHEV)

        def schur_solve(r):
            return -sign * s_inv(r)
    else:
        try:
            schur_solve = splu(S.tocsc()).solve
        except RuntimeError as e:
            raise LinearSolverError(f"block-gmres: the Schur complement approximation is singular ({e})",
                                    "block-gmres") from e
    # AMG on A: nodes' x, y, z together (3x3 blocks) when whole nodes are unknowns
    nodes = dofs.reshape(-1, 3) if nu % 3 == 0 else None
    blocked = nodes is not None and bool(np.all(nodes % 3 == np.arange(3))
                                         and np.all(nodes // 3 == nodes[:, :1] // 3))

    def fmt(X):
        return X.tobsr(blocksize=(3, 3)) if blocked else sp.csr_matrix(X)

    gs = "block_gauss_seidel" if blocked else "gauss_seidel"
    pre, post = (gs, {"sweep": AMG_SWEEPS[0]}), (gs, {"sweep": AMG_SWEEPS[1]})
    sa = {"max_coarse": int(opts.get("max_coarse", 300)), "strength": ("symmetric", {"theta": AMG_THETA}),
          "presmoother": pre, "postsmoother": post}
    rbm = rigid_body_modes(coords)
    cells = opts.get("cells")
    A0 = fmt(Auu)
    if cells is not None:
        # p-multigrid: P2 -> P1 by interpolation, then SA on the P1 Galerkin operator
        # (the P1 space is nested in P2). Level 3: setup 0.3 s against 1.4 s, 35 GMRES
        # iterations on A alone against 46, operator complexity 1.36 against 1.83.
        if state is not None and state.get("cells") is cells and np.array_equal(state["dofs"], dofs):
            Pr, vdofs = state["P"], state["vdofs"]
        else:
            Pr, vdofs = _p1_prolongation(cells, dofs, len(coords))
        state = {"cells": cells, "dofs": dofs, "P": Pr, "vdofs": vdofs}
        P0 = fmt(Pr)
        ml1 = mod.smoothed_aggregation_solver(fmt(P0.T @ A0 @ P0), B=rbm[vdofs], **sa)
        top = MultilevelSolver.Level()
        top.A, top.P, top.R = A0, P0, fmt(P0.T)
        ml = MultilevelSolver([top] + ml1.levels, coarse_solver=ml1.coarse_solver)
        change_smoothers(ml, pre, post)
    else:
        ml = mod.smoothed_aggregation_solver(A0, B=rbm[dofs], **sa)
    # one V-cycle from x = 0; MultilevelSolver.solve(maxiter=1) would add two fine-level
    # residuals (b - A x) per cycle
    cycle = getattr(ml, "_MultilevelSolver__solve", None)

    def vcycle(r):
        if cycle is None or len(ml.levels) == 1:
            return ml.solve(r, maxiter=1, cycle="V", tol=1e-30)
        z = np.zeros_like(r)
        cycle(0, z, r, "V", 1)
        return z

    # scaling: unit diagonal displacement block, |diag S_hat| = 1. The Krylov residual is
    # measured in this norm (~ the norm of blockdiag(A, S)^-1): u rows are forces [N],
    # p rows volumes [m^3], 1e8 apart in size
    D = np.concatenate([1.0 / np.sqrt(dA), 1.0 / np.sqrt(np.abs(S.diagonal()))])
    rtol = float(opts.get("rtol", 1e-8))
    restart, maxiter = int(opts.get("restart", 100)), int(opts.get("maxiter", 1000))

    def precondition(r):
        r = r / D
        zp = schur_solve(r[nu:])
        zu = vcycle(r[:nu] - Bt @ zp)
        return np.concatenate([zu, zp]) / D

    def solve(b):
        y, it, hist, why = _gmres(lambda v: D * (A @ (D * v)), precondition, D * b, rtol, restart, maxiter)
        info["history"], info["stop"] = hist, why
        return D * y, it

    info = {"levels": len(ml.levels), "operator_complexity": float(ml.operator_complexity()),
            "p_multigrid": cells is not None, "schur_sign": sign,
            "effective_shear_modulus_Pa": (float(np.min(1 / w)), float(np.median(1 / w)), float(np.max(1 / w)))}
    return {"solve": solve, "direct": False, "rtol": rtol, "weight": D, "state": state, "info": info}


_BACKENDS: dict[str, Callable] = {"superlu": _superlu, "umfpack": _umfpack, "cholmod": _cholmod,
                                  "pardiso": _pardiso, "pyamg": _pyamg, "block-gmres": _block_gmres}
