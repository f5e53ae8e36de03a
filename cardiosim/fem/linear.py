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
``"auto"``     The first installed method of :data:`AUTO_ORDER` (of :data:`AUTO_ORDER_SMALL`
               below :data:`AUTO_SMALL_N` unknowns), moving on to the next if it fails
               on the matrix.

Every method checks its answer: a non-finite result, a direct solve whose backward
error stays above ``check_tol`` after two steps of iterative refinement, or a Krylov
solve that did not reach ``rtol`` raise :class:`LinearSolverError` with the residual
reached. A missing optional package raises :class:`SolverUnavailableError` (an
``ImportError``) that says what to install.

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

from ..errors import SolverError

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
}
METHODS: tuple[str, ...] = tuple(_REQUIRES)
#: options each method takes (others raise TypeError)
OPTIONS: dict[str, frozenset] = {
    "superlu": frozenset({"permc_spec", "diag_pivot_thresh", "symmetric_mode"}),
    "umfpack": frozenset(),
    "cholmod": frozenset({"ordering_method"}),
    "pardiso": frozenset({"mtype"}),
    "pyamg": frozenset({"coords", "dofs", "rtol", "maxiter", "accel", "max_coarse"}),
}
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
    """Which methods can run here, {method: bool} (imports the packages once)."""
    return dict(_available())


@functools.lru_cache(maxsize=1)
def _available() -> tuple:
    out = []
    for m in METHODS:
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
            As = sp.csr_matrix(sp.diags(self.dr) @ A @ sp.diags(self.dc))
            As.sort_indices()
        else:
            self.dr, self.dc = np.ones(n), np.ones(n)
            As = A
        b = _BACKENDS[method](mod, As, self.symmetric, self.opts, state)
        self.setup_s = time.perf_counter() - t0
        self._solve, self.direct, self.rtol = b["solve"], b["direct"], b.get("rtol")
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
            raise ValueError(f"b has {b.shape[0]} rows, the matrix {self.A.shape[0]}")
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
        nb = float(np.linalg.norm(b))
        rel = float(np.linalg.norm(b - self.A @ x) / nb) if nb > 0 else 0.0
        self.last = {"residual": rel, "iterations": it, "refinements": 0}
        # 10x slack: pyamg stops on its own (recursive, preconditioned) residual
        if not rel <= 10 * self.rtol:
            raise LinearSolverError(
                f"{self.method}: Krylov solver did not converge, relative residual {rel:.2e} after {it} "
                f"iterations (asked {self.rtol:.0e}); raise maxiter, or use a direct method",
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

    Returns
    -------
    Factorization : callable b -> x, with ``method``, ``setup_s`` and ``last``.
    """
    auto = method == "auto"
    if not auto and method not in _REQUIRES:
        raise ValueError(f"unknown linear solver {method!r}; choose one of {', '.join(('auto',) + METHODS)}")
    if not sp.issparse(A):
        raise TypeError(f"A must be a scipy.sparse matrix, got {type(A).__name__}")
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"A must be square, got shape {A.shape}")
    A = sp.csr_matrix(A, dtype=float)
    A.sum_duplicates()
    A.sort_indices()
    if not auto:
        unknown = set(opts) - OPTIONS[method]
        if unknown:
            raise TypeError(f"linear solver {method!r} has no option(s) {sorted(unknown)}; "
                            f"it takes {sorted(OPTIONS[method]) or 'none'}")
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
    ValueError : unknown method. TypeError : an option the method does not take.
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
            raise ValueError(f"pyamg: {B.shape[0]} rigid-body-mode rows for {n} unknowns; pass dofs= "
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


_BACKENDS: dict[str, Callable] = {"superlu": _superlu, "umfpack": _umfpack, "cholmod": _cholmod,
                                  "pardiso": _pardiso, "pyamg": _pyamg}
