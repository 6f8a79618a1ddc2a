r"""Eisenberg–Noe clearing of a network of payment obligations (pure math on arrays).

Nodes i = 1 … n (operators). In one period:

- ``L[i, j] ≥ 0`` — what node i owes node j (lease and compute payments), ``L[i, i] = 0``;
- ``b[i] ≥ 0`` — what node i owes outside the network (debt service, operating and power
  costs, payments to estates of defaulted nodes);
- ``e[i] ≥ 0`` — what node i has from outside the network (cash on hand, payments from
  customers that are not nodes, merchant revenue).

Total obligation p̄_i = Σ_j L_ij + b_i; relative liabilities Π_ij = L_ij / p̄_i (0 when
p̄_i = 0). All obligations of a node rank equally (pari passu): a node that cannot pay in
full pays every creditor the same share. A **clearing vector** p ∈ [0, p̄] solves

.. math::

    p_i = \min\bigl(\bar p_i,\; e_i + \textstyle\sum_j \Pi_{ji}\, p_j\bigr)
    \qquad \text{for every } i,

i.e. p = Φ(p) with the Eisenberg–Noe map Φ(p) = min(p̄, e + Πᵀp). Φ is monotone on the
lattice [0, p̄], so the greatest clearing vector p* exists (Tarski) and is the limit of the
decreasing iteration p⁰ = p̄, pᵏ⁺¹ = Φ(pᵏ) (:func:`clearing_fixed_point`). Eisenberg and
Noe (2001, Lemma 4) show that p* is also the unique solution of the linear program

.. math::

    \max_p \; \textstyle\sum_i p_i
    \quad\text{s.t.}\quad p_i - \textstyle\sum_j \Pi_{ji}\, p_j \le e_i,
    \quad 0 \le p_i \le \bar p_i,

(any strictly increasing objective gives the same p*), which :func:`clearing_lp` solves
with HiGHS. A node **defaults** when p_i < p̄_i; its equity after clearing is
e_i + Σ_j Π_ji p_j − p_i ≥ 0 (0 for a defaulted node).

With b_i > 0 for every node each row of Π sums to less than 1, Φ is a contraction in the
1-norm and the iteration converges geometrically; without it convergence can be slow, but
the LP is unaffected.

Reference: L. Eisenberg and T. H. Noe, "Systemic Risk in Financial Systems",
Management Science 47(2), 2001, 236–249.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np

from models.highs_quiet import quiet_highs

#: Relative tolerance (of the largest obligation) for calling a shortfall a default.
DEFAULT_TOL = 1e-7


@dataclass(frozen=True)
class Clearing:
    """The cleared payments of one period, in the unit of the inputs (e.g. USD).

    Attributes
    ----------
    payments : p, what each node pays in total.
    due : p̄, what each node owes in total.
    received : Σ_j Π_ji p_j, what each node receives from the other nodes.
    equity : e + received − payments, what each node keeps (≥ 0).
    defaulted : p < p̄ (beyond the tolerance).
    relative : Π, the relative liability matrix.
    iterations : fixed-point iterations (0 for the LP).
    """

    payments: np.ndarray
    due: np.ndarray
    received: np.ndarray
    equity: np.ndarray
    defaulted: np.ndarray
    relative: np.ndarray
    iterations: int = 0

    @property
    def recovery(self) -> np.ndarray:
        """p / p̄: the share of its obligations each node pays (1 where nothing is due)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.due > 0, self.payments / np.where(self.due > 0, self.due, 1),
                            1.0)


def relative_liabilities(
    liabilities: np.ndarray, external_liabilities: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """p̄_i = Σ_j L_ij + b_i and Π_ij = L_ij / p̄_i.

    Examples
    --------
    >>> due, rel = relative_liabilities(np.array([[0.0, 30.0], [0.0, 0.0]]), np.array([10., 5.]))
    >>> due.tolist(), rel.tolist()
    ([40.0, 5.0], [[0.0, 0.75], [0.0, 0.0]])
    """
    L, b = _check(liabilities, None, external_liabilities)
    due = L.sum(axis=1) + b
    safe = np.where(due > 0, due, 1.0)
    rel = np.where(due[:, None] > 0, L / safe[:, None], 0.0)
    return due, rel


def eisenberg_noe_map(
    p: np.ndarray, due: np.ndarray, relative: np.ndarray, external_assets: np.ndarray
) -> np.ndarray:
    """Φ(p) = min(p̄, e + Πᵀ p)."""
    return np.minimum(due, external_assets + relative.T @ p)


def clearing_lp(
    liabilities: np.ndarray,
    external_assets: np.ndarray,
    external_liabilities: np.ndarray | None = None,
    *,
    tol: float = DEFAULT_TOL,
) -> Clearing:
    """The greatest clearing vector from the Eisenberg–Noe LP, solved with HiGHS.

    Parameters
    ----------
    liabilities : L, n × n, ``L[i, j]`` owed by i to j (≥ 0, zero diagonal).
    external_assets : e, length n (≥ 0).
    external_liabilities : b, length n (≥ 0); default zeros.
    tol : relative tolerance for a default (of the largest obligation).

    The LP (module docstring) is handed to HiGHS in memory with ``passModel``
    (column-wise matrix I − Πᵀ), after dividing every amount by the largest one
    so HiGHS sees numbers of order one.

    Examples
    --------
    Node 0 owes node 1 10 and has nothing; node 1 owes 10 outside and has 4:

    >>> c = clearing_lp(np.array([[0.0, 10.0], [0.0, 0.0]]), np.array([0.0, 4.0]),
    ...                 np.array([0.0, 10.0]))
    >>> c.payments.round(9).tolist(), c.defaulted.tolist()
    ([0.0, 4.0], [True, True])
    """
    L, b = _check(liabilities, external_assets, external_liabilities)
    e = np.asarray(external_assets, dtype=float)
    n = len(e)
    due, rel = relative_liabilities(L, b)
    if n == 0:
        return _result(np.zeros(0), due, rel, e, tol, 0)
    scale = max(float(due.max(initial=0.0)), float(e.max(initial=0.0)), 1e-300)

    # rows: p_i − Σ_j Π_ji p_j ≤ e_i, i.e. (I − Πᵀ) p ≤ e; column j holds −Π_jk in row k
    # and 1 in row j.
    a = np.eye(n) - rel.T
    starts, index, value = [0], [], []
    for j in range(n):
        nz = np.flatnonzero(np.abs(a[:, j]) > 0)
        index.extend(nz.tolist())
        value.extend(a[nz, j].tolist())
        starts.append(len(index))

    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = n
    lp.col_cost_ = -np.ones(n)  # maximise Σ p
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = due / scale
    lp.row_lower_ = np.full(n, -highspy.kHighsInf)
    lp.row_upper_ = e / scale
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.asarray(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.asarray(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.asarray(value, dtype=float)
    lp.a_matrix_.num_col_ = n
    lp.a_matrix_.num_row_ = n

    h = quiet_highs()
    h.setOptionValue("primal_feasibility_tolerance", 1e-10)
    h.setOptionValue("dual_feasibility_tolerance", 1e-10)
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:  # pragma: no cover - always feasible
        raise RuntimeError(f"clearing LP not optimal: {h.modelStatusToString(status)}")
    p = np.clip(np.asarray(h.getSolution().col_value, dtype=float) * scale, 0.0, due)
    return _result(p, due, rel, e, tol, 0)


def clearing_fixed_point(
    liabilities: np.ndarray,
    external_assets: np.ndarray,
    external_liabilities: np.ndarray | None = None,
    *,
    tol: float = DEFAULT_TOL,
    step_tol: float = 1e-13,
    max_iter: int = 1_000_000,
) -> Clearing:
    """The greatest clearing vector by iterating Φ from p̄ (the reference for the LP).

    Stops when no payment moves by more than ``step_tol`` × the largest
    obligation. Raises ``RuntimeError`` after ``max_iter`` iterations.

    Examples
    --------
    >>> c = clearing_fixed_point(np.array([[0.0, 10.0], [0.0, 0.0]]), np.array([0.0, 4.0]),
    ...                          np.array([0.0, 10.0]))
    >>> c.payments.tolist()
    [0.0, 4.0]
    """
    L, b = _check(liabilities, external_assets, external_liabilities)
    e = np.asarray(external_assets, dtype=float)
    due, rel = relative_liabilities(L, b)
    scale = max(float(due.max(initial=0.0)), 1e-300)
    p = due.copy()
    for k in range(1, max_iter + 1):
        nxt = eisenberg_noe_map(p, due, rel, e)
        moved = float(np.abs(nxt - p).max(initial=0.0))
        p = nxt
        if moved <= step_tol * scale:
            return _result(p, due, rel, e, tol, k)
    raise RuntimeError(f"Eisenberg–Noe iteration did not converge in {max_iter} steps")


def _result(p: np.ndarray, due: np.ndarray, rel: np.ndarray, e: np.ndarray, tol: float,
            iterations: int) -> Clearing:
    received = rel.T @ p
    scale = max(float(due.max(initial=0.0)), 1.0)
    defaulted = p < due - tol * scale
    equity = np.maximum(e + received - p, 0.0)
    return Clearing(payments=p, due=due, received=received, equity=equity,
                    defaulted=defaulted, relative=rel, iterations=iterations)


def _check(
    liabilities: np.ndarray,
    external_assets: np.ndarray | None,
    external_liabilities: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    L = np.asarray(liabilities, dtype=float)
    if L.ndim != 2 or L.shape[0] != L.shape[1]:
        raise ValueError(f"liabilities must be a square matrix, got shape {L.shape}")
    n = L.shape[0]
    b = np.zeros(n) if external_liabilities is None else \
        np.asarray(external_liabilities, dtype=float)
    arrays = [("liabilities", L), ("external_liabilities", b)]
    if external_assets is not None:
        arrays.append(("external_assets", np.asarray(external_assets, dtype=float)))
    for name, arr in arrays[1:]:
        if arr.shape != (n,):
            raise ValueError(f"{name} must have length {n}, got shape {arr.shape}")
    for name, arr in arrays:
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ValueError(f"{name} must be finite and >= 0")
    if n and np.any(np.diag(L) != 0):
        raise ValueError("a node cannot owe itself: the diagonal of liabilities must be 0")
    return L, b
