"""Textbook location MIPs on dense matrices, written plainly with scipy.optimize.milp.

The reference the library's models are checked against: one variable per (demand, site)
pair of the dense matrix (a pair that is not allowed gets an upper bound of 0), constraints
written the way a textbook states them, no reduction, no strengthening (p-median links
demand to sites with the aggregated ``Σ_i x_ij <= m y_j``).  Each function returns the
optimal objective, or ``None`` when the problem is infeasible.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, milp

F8 = NDArray[np.float64]
B1 = NDArray[np.bool_]

OPTIONS = {"mip_rel_gap": 0.0, "time_limit": 60.0}


def _site_bounds(n: int, required: B1, forbidden: B1) -> tuple[F8, F8]:
    lo = np.where(required, 1.0, 0.0)
    hi = np.where(forbidden, 0.0, 1.0)
    return lo, hi


def _solve(c: F8, cons: list[LinearConstraint], lo: F8, hi: F8, integ: F8) -> float | None:
    res = milp(c, constraints=cons, bounds=Bounds(lo, hi), integrality=integ, options=OPTIONS)
    if res.status == 2:  # infeasible
        return None
    assert res.status == 0, res.message
    return float(res.fun)


def set_cover(
    allowed: B1,
    *,
    site_cost: F8,
    required: B1,
    forbidden: B1,
    weights: F8 | None = None,
    capacity: F8 | None = None,
) -> float | None:
    """min Σ f_j y_j s.t. every row covered (with capacity: assigned to one site)."""
    m, n = allowed.shape
    lo, hi = _site_bounds(n, required, forbidden)
    if capacity is None:
        cons = [LinearConstraint(allowed.astype(float), 1.0, np.inf)]
        return _solve(site_cost, cons, lo, hi, np.ones(n))
    assert weights is not None
    # variables: y (n), then x (m*n) row-major
    c = np.concatenate([site_cost, np.zeros(m * n)])
    assign = np.hstack([np.zeros((m, n)), np.kron(np.eye(m), np.ones((1, n)))])
    cap = np.hstack([-np.diag(capacity), np.kron(weights[None, :], np.eye(n))])
    cons = [LinearConstraint(assign, 1.0, 1.0), LinearConstraint(cap, -np.inf, 0.0)]
    x_hi = allowed.ravel().astype(float)
    return _solve(
        c,
        cons,
        np.concatenate([lo, np.zeros(m * n)]),
        np.concatenate([hi, x_hi]),
        np.ones(n + m * n),
    )


def max_cover(
    allowed: B1,
    *,
    weights: F8,
    required: B1,
    forbidden: B1,
    p: int | None = None,
    budget: float | None = None,
    site_cost: F8 | None = None,
    capacity: F8 | None = None,
) -> float | None:
    """max Σ w_i z_i with at most p sites and/or within the budget."""
    m, n = allowed.shape
    lo, hi = _site_bounds(n, required, forbidden)
    site_cost = np.ones(n) if site_cost is None else site_cost
    k = m if capacity is None else m * n
    limits = []
    if p is not None:
        limits.append(LinearConstraint(np.concatenate([np.ones(n), np.zeros(k)])[None], 0, p))
    if budget is not None:
        limits.append(
            LinearConstraint(np.concatenate([site_cost, np.zeros(k)])[None], -np.inf, budget)
        )
    if capacity is None:
        c = -np.concatenate([np.zeros(n), weights])
        link = np.hstack([-allowed.astype(float), np.eye(m)])
        cons = [LinearConstraint(link, -np.inf, 0.0), *limits]
        value = _solve(
            c,
            cons,
            np.concatenate([lo, np.zeros(m)]),
            np.concatenate([hi, np.ones(m)]),
            np.concatenate([np.ones(n), np.ones(m)]),
        )
        return None if value is None else -value
    c = -np.concatenate([np.zeros(n), np.repeat(weights, n)])
    assign = np.hstack([np.zeros((m, n)), np.kron(np.eye(m), np.ones((1, n)))])
    cap = np.hstack([-np.diag(capacity), np.kron(weights[None, :], np.eye(n))])
    cons = [
        LinearConstraint(assign, -np.inf, 1.0),
        LinearConstraint(cap, -np.inf, 0.0),
        *limits,
    ]
    value = _solve(
        c,
        cons,
        np.concatenate([lo, np.zeros(m * n)]),
        np.concatenate([hi, allowed.ravel().astype(float)]),
        np.ones(n + m * n),
    )
    return None if value is None else -value


def p_median(
    cost: F8,
    allowed: B1,
    *,
    weights: F8,
    p: int,
    required: B1,
    forbidden: B1,
    capacity: F8 | None = None,
) -> float | None:
    """min Σ w_i c_ij x_ij with exactly p sites, each row assigned to one open site."""
    m, n = allowed.shape
    lo, hi = _site_bounds(n, required, forbidden)
    c = np.concatenate([np.zeros(n), (weights[:, None] * np.where(allowed, cost, 0)).ravel()])
    assign = np.hstack([np.zeros((m, n)), np.kron(np.eye(m), np.ones((1, n)))])
    link = np.hstack([-m * np.eye(n), np.kron(np.ones((1, m)), np.eye(n))])
    count = np.concatenate([np.ones(n), np.zeros(m * n)])[None]
    cons = [
        LinearConstraint(assign, 1.0, 1.0),
        LinearConstraint(link, -np.inf, 0.0),
        LinearConstraint(count, p, p),
    ]
    if capacity is not None:
        cap = np.hstack([-np.diag(capacity), np.kron(weights[None, :], np.eye(n))])
        cons.append(LinearConstraint(cap, -np.inf, 0.0))
    integ = np.concatenate([np.ones(n), np.full(m * n, 0.0 if capacity is None else 1.0)])
    return _solve(
        c,
        cons,
        np.concatenate([lo, np.zeros(m * n)]),
        np.concatenate([hi, allowed.ravel().astype(float)]),
        integ,
    )
