"""Mixed-integer programs solved with HiGHS (highspy), built straight from sparse arrays.

A model is handed to HiGHS in one call (``passModel`` with the constraint matrix in
compressed sparse rows), never variable by variable, so building costs what numpy costs.
HiGHS writes nothing to the console: its log goes to this module's logger at DEBUG, and its
last lines are quoted in the :class:`~linli.SolverError` raised when it fails.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from linli._errors import SolverError
from linli.planning.result import Status

__all__ = ["Mip", "MipSolution", "solve_mip"]

log = logging.getLogger(__name__)

F8 = NDArray[np.float64]

_LIMITS = (
    "kTimeLimit",
    "kIterationLimit",
    "kSolutionLimit",
    "kInterrupt",
    "kMemoryLimit",
    "kObjectiveBound",
    "kObjectiveTarget",
)
_INFEASIBLE = ("kInfeasible", "kUnboundedOrInfeasible")
_FEASIBLE_POINT = 2  # HiGHS's primal_solution_status for "a feasible solution is known"

# HiGHS runs its threads in one scheduler per process, fixed by the first solve; asking for a
# different number later is an error unless the scheduler is reset first.
_scheduler_lock = threading.Lock()
_scheduler_threads: int | None = None


@dataclass(frozen=True)
class Mip:
    """A mixed-integer program: optimise ``cost @ x`` s.t. ``row_lower <= A x <= row_upper``.

    Attributes
    ----------
    cost : float array, length ``n_cols``
    matrix : scipy sparse array, ``n_rows x n_cols``
        The constraint matrix ``A`` (any scipy sparse format; converted to CSR).
    row_lower, row_upper : float array, length ``n_rows``
        ``-inf`` / ``inf`` for a one-sided row.
    col_lower, col_upper : float array, length ``n_cols``
    integer : bool array, length ``n_cols``
        Which variables must take integer values.
    maximize : bool
    offset : float
        Constant added to the objective.
    """

    cost: F8
    matrix: Any
    row_lower: F8
    row_upper: F8
    col_lower: F8
    col_upper: F8
    integer: NDArray[np.bool_]
    maximize: bool = False
    offset: float = 0.0

    @property
    def n_rows(self) -> int:
        """Number of constraints."""
        return int(self.matrix.shape[0])

    @property
    def n_cols(self) -> int:
        """Number of variables."""
        return int(self.matrix.shape[1])


@dataclass(frozen=True)
class MipSolution:
    """What HiGHS found.

    Attributes
    ----------
    x : float array
        The best solution found (empty when none is known).
    objective : float
        Its objective (offset included); NaN when there is none.
    bound : float
        The proven dual bound (lower when minimising, upper when maximising).
    status : Status
        ``optimal`` (within the relative gap asked for), ``time_limit`` (stopped by a limit
        with a feasible solution) or ``infeasible``.
    message : str
        HiGHS's model status, e.g. ``"Optimal"`` or ``"Time limit reached"``.
    nodes : int
        Branch-and-bound nodes.
    seconds : float
        HiGHS's run time.
    """

    x: F8
    objective: float
    bound: float
    status: Status
    message: str
    nodes: int
    seconds: float


def _core() -> Any:
    try:
        import highspy
    except ImportError as exc:
        raise SolverError(
            "the HiGHS solver is not installed: install it with `pip install highspy`"
        ) from exc
    return highspy


def _new_highs(highspy: Any, lines: deque[str]) -> Any:
    """A HiGHS instance whose log goes to ``lines`` and to the logger, never the console.

    ``highspy.Highs()`` installs its callback dispatcher in its constructor, before any
    option can be set, which prints HiGHS's banner to stdout; the compiled class underneath
    (``_Highs``) is the same solver without that wrapper.
    """
    cls = getattr(highspy, "_Highs", None) or highspy.Highs
    h = cls()
    h.setOptionValue("log_to_console", False)

    def on_log(_kind: Any, message: str, *_: Any) -> None:
        text = message.rstrip()
        if text:
            lines.append(text)
            log.debug("HiGHS: %s", text)

    h.setCallback(on_log, None)
    h.startCallback(highspy.cb.HighsCallbackType.kCallbackLogging)
    return h


def _set_threads(h: Any, threads: int | None) -> None:
    global _scheduler_threads
    if threads is None:
        return
    n = max(1, int(threads))
    with _scheduler_lock:
        if _scheduler_threads != n:
            # Blocks until the previous scheduler's workers have stopped.
            type(h).resetGlobalScheduler(True)
            _scheduler_threads = n
    h.setOptionValue("threads", n)


def _check_shapes(mip: Mip) -> None:
    """HiGHS reads the arrays by the counts given: wrong lengths must not reach it."""
    n_rows, n_cols = mip.n_rows, mip.n_cols
    wrong = [
        name
        for name, arr, n in (
            ("cost", mip.cost, n_cols),
            ("col_lower", mip.col_lower, n_cols),
            ("col_upper", mip.col_upper, n_cols),
            ("integer", mip.integer, n_cols),
            ("row_lower", mip.row_lower, n_rows),
            ("row_upper", mip.row_upper, n_rows),
        )
        if np.shape(arr) != (n,)
    ]
    if wrong:
        raise ValueError(f"Mip arrays of the wrong length for {n_rows} x {n_cols}: {wrong}")


def _check(status: Any, what: str, highspy: Any, lines: deque[str]) -> None:
    if status == highspy.HighsStatus.kError:
        raise SolverError(f"HiGHS could not {what}:\n" + "\n".join(lines))


def solve_mip(
    mip: Mip,
    *,
    time_limit_s: float,
    mip_gap: float,
    threads: int | None = None,
    options: Mapping[str, bool | int | float | str] | None = None,
    start_at: tuple[NDArray[np.int64], F8] | None = None,
    need_solution: bool = True,
) -> MipSolution:
    """Solve a mixed-integer program with HiGHS.

    Parameters
    ----------
    mip : Mip
    time_limit_s : float
        Wall-clock limit, seconds.
    mip_gap : float
        Relative gap at which HiGHS stops and calls the solution optimal.
    threads : int, optional
        Threads for HiGHS (process-wide in HiGHS: changing it resets its scheduler, so do
        not solve with different thread counts at the same time). Default: HiGHS's choice.
    options : mapping, optional
        Further HiGHS options by name (e.g. ``{"mip_heuristic_effort": 0.2}``).
    start_at : (int array, float array), optional
        A starting point: column positions and their values (a partial one is completed by
        HiGHS, which fixes the integer columns given and solves for the rest).  HiGHS
        ignores a start it finds infeasible.
    need_solution : bool
        Whether stopping at a limit without any feasible solution is an error (default).
        ``False`` returns an empty ``x`` with status ``time_limit`` and HiGHS's bound
        instead (the caller holds a plan of its own).

    Returns
    -------
    MipSolution

    Raises
    ------
    SolverError
        HiGHS is missing, rejects the model, fails, or stops at a limit before finding any
        feasible solution; the message quotes HiGHS's status and its last log lines.
    """
    _check_shapes(mip)
    highspy = _core()
    lines: deque[str] = deque(maxlen=30)
    h = _new_highs(highspy, lines)
    _set_threads(h, threads)
    h.setOptionValue("time_limit", float(max(time_limit_s, 1e-3)))
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    for key, value in (options or {}).items():
        _check(h.setOptionValue(key, value), f"set option {key}={value!r}", highspy, lines)

    a = mip.matrix.tocsr()
    a.sum_duplicates()
    n_rows, n_cols = a.shape
    sense = highspy.ObjSense.kMaximize if mip.maximize else highspy.ObjSense.kMinimize
    status = h.passModel(
        int(n_cols),
        int(n_rows),
        int(a.nnz),
        int(highspy.MatrixFormat.kRowwise.value),
        int(sense.value),
        float(mip.offset),
        np.ascontiguousarray(mip.cost, dtype=np.float64),
        np.ascontiguousarray(mip.col_lower, dtype=np.float64),
        np.ascontiguousarray(mip.col_upper, dtype=np.float64),
        np.ascontiguousarray(mip.row_lower, dtype=np.float64),
        np.ascontiguousarray(mip.row_upper, dtype=np.float64),
        np.ascontiguousarray(a.indptr, dtype=np.int32),
        np.ascontiguousarray(a.indices, dtype=np.int32),
        np.ascontiguousarray(a.data, dtype=np.float64),
        np.ascontiguousarray(mip.integer, dtype=np.int32),
    )
    _check(status, "load the model", highspy, lines)
    if start_at is not None and start_at[0].size:
        at_index, at_value = start_at
        _check(
            h.setSolution(
                int(at_index.shape[0]),
                np.ascontiguousarray(at_index, dtype=np.int32),
                np.ascontiguousarray(at_value, dtype=np.float64),
            ),
            "set the starting point",
            highspy,
            lines,
        )
    log.debug("HiGHS: %d rows, %d columns, %d nonzeros", n_rows, n_cols, a.nnz)

    start = time.perf_counter()
    status = h.run()
    seconds = time.perf_counter() - start
    model_status = h.getModelStatus()
    message = h.modelStatusToString(model_status)
    _check(status, f"solve the model (status: {message})", highspy, lines)

    info = h.getInfo()
    name = model_status.name
    has_point = info.primal_solution_status == _FEASIBLE_POINT
    x = np.asarray(h.getSolution().col_value, dtype=np.float64) if has_point else np.empty(0)
    objective = float(info.objective_function_value) if has_point else float("nan")
    if start_at is not None and has_point:
        value = float(np.asarray(mip.cost, dtype=np.float64) @ x + mip.offset)
        if abs(value - objective) > 1e-6 * max(1.0, abs(objective)) + 1e-9:
            # HiGHS 1.16 was seen to return its starting point with the objective (and a
            # status) of another solution: trust neither, solve again without the start.
            log.warning(
                "HiGHS returned a solution of objective %.10g labelled %.10g (%s); "
                "solving again without the starting point",
                value,
                objective,
                message,
            )
            return solve_mip(
                mip,
                time_limit_s=time_limit_s - seconds,
                mip_gap=mip_gap,
                threads=threads,
                options=options,
                need_solution=need_solution,
            )
    bound = float(info.mip_dual_bound)
    nodes = int(info.mip_node_count)

    result_status: Status
    if name == "kOptimal":
        result_status = "optimal"
    elif name in _INFEASIBLE:
        result_status = "infeasible"
        x, objective, bound = np.empty(0), float("nan"), float("nan")
    elif name in _LIMITS and (has_point or not need_solution):
        result_status = "time_limit"
    elif name in _LIMITS:
        raise SolverError(
            f"HiGHS stopped ({message}) after {seconds:.1f} s before finding any feasible "
            f"plan; allow more time (time_limit_s) or make the problem smaller"
        )
    else:
        raise SolverError(f"HiGHS failed: {message}\n" + "\n".join(lines))
    if result_status == "optimal" and not has_point:
        raise SolverError(f"HiGHS reported {message} without a solution\n" + "\n".join(lines))
    return MipSolution(
        x=x,
        objective=objective,
        bound=bound,
        status=result_status,
        message=message,
        nodes=nodes,
        seconds=seconds,
    )
