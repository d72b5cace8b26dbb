"""Existing centres in a plan: who they already serve, held there while the rest is planned.

Planning the gaps an audit found keeps the existing centres and does not plan again for the
residents they serve.  :func:`hold_served` says who that is (nearest existing centre with
room, within the tier's circle); :func:`held_matrix` cuts those residents' rows of a walking
matrix to their centre, so that any location model built on it (``SetCover``,
``TwoTierPlan``) keeps them there and plans only for everyone else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from linli.access.engine import WalkMatrix

__all__ = ["held_matrix", "hold_served"]


def hold_served(
    matrix: WalkMatrix,
    weights: NDArray[np.float64],
    *,
    existing: Sequence[int],
    walk_min: float,
    capacity: float,
) -> NDArray[np.int64]:
    """The existing centre each demand point is already served by, nearest first, to capacity.

    Pairs (demand point, existing centre) within ``walk_min`` are taken in order of walking
    minutes (ties: demand position, then site position); a demand point goes to the centre
    of the pair if it has none yet and its residents fit in the centre's remaining
    capacity.  So residents go to the nearest existing centre with room, and a centre fills
    with its nearest residents.  Except: demand points that no other site of the matrix
    reaches within ``walk_min`` (only existing centres do) are taken first, nearest first,
    so that a centre full of neighbours who could walk to a new site does not leave them
    with no site at all.

    Parameters
    ----------
    matrix : WalkMatrix
        Walking minutes from demand points (rows) to sites (columns), positions as labels.
    weights : float array
        Residents per demand point.
    existing : sequence of int
        Site positions of the existing centres of the tier.
    walk_min : float
        The tier's circle, minutes (inclusive).
    capacity : float
        Residents one centre serves.

    Returns
    -------
    int array
        Per demand point, the site position it is held at, or -1.

    Examples
    --------
    >>> held = hold_served(m, w, existing=[7], walk_min=10, capacity=12_000)  # doctest: +SKIP
    """
    held = np.full(matrix.n_origins, -1, dtype=np.int64)
    if len(existing) == 0:
        return held
    rows = matrix.origin_positions()
    cols = matrix.indices.astype(np.int64)
    minutes = matrix.walk_min
    within = minutes <= walk_min
    is_existing = np.isin(cols, np.asarray(existing, dtype=np.int64))
    has_other = np.zeros(matrix.n_origins, dtype=bool)
    has_other[rows[within & ~is_existing]] = True
    keep = is_existing & within
    rows, cols, minutes = rows[keep], cols[keep], minutes[keep]
    room = dict.fromkeys((int(j) for j in existing), float(capacity))
    for k in np.lexsort((cols, rows, minutes, has_other[rows])):
        i, j = int(rows[k]), int(cols[k])
        if held[i] < 0 and weights[i] <= room[j] + 1e-9:
            held[i] = j
            room[j] -= float(weights[i])
    return held


def held_matrix(matrix: WalkMatrix, held: NDArray[np.int64]) -> WalkMatrix:
    """``matrix`` with each held demand point's row cut to the pair with its centre.

    Parameters
    ----------
    matrix : WalkMatrix
    held : int array
        Per row, the site position it is held at (-1: not held), as from
        :func:`hold_served`.

    Returns
    -------
    WalkMatrix
        The same matrix where held rows keep only their centre: a location model given it
        can assign them nowhere else.
    """

    rows = matrix.origin_positions()
    cols = matrix.indices.astype(np.int64)
    keep = (held[rows] < 0) | (cols == held[rows])
    indptr = np.zeros(matrix.n_origins + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows[keep], minlength=matrix.n_origins), out=indptr[1:])
    return replace(
        matrix, indptr=indptr, indices=matrix.indices[keep], walk_min=matrix.walk_min[keep]
    )
