"""Progress reporting for long steps.

The analysis core never draws anything: a long step accepts ``progress``, a callable that it
calls with ``(done, total)`` as work completes.  The CLI turns that into a rich progress bar;
the web app will turn it into a job's progress.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

ProgressCallback = Callable[[int, int], None]
"""``progress(done, total)``: called as a long step advances; ``done == total`` at the end."""


def report(progress: ProgressCallback | None, done: int, total: int) -> None:
    """Call ``progress`` if there is one."""
    if progress is not None:
        progress(done, total)


def forward_only(progress: ProgressCallback | None) -> ProgressCallback | None:
    """``progress`` without steps back: a step run again (a solve retried) does not rewind
    the bar; reports below the furthest one so far are dropped.

    >>> seen = []
    >>> p = forward_only(lambda d, t: seen.append(d))
    >>> for d in (0, 4, 3, 4, 5):
    ...     p(d, 5)
    >>> seen
    [0, 4, 4, 5]
    """
    if progress is None:
        return None
    furthest = -1
    lock = threading.Lock()

    def forward(done: int, total: int) -> None:
        nonlocal furthest
        with lock:
            if done < furthest:
                return
            furthest = done
        progress(done, total)

    return forward


@contextmanager
def ticking(
    progress: ProgressCallback | None,
    done: int,
    span: int,
    total: int,
    seconds: float,
    *,
    every_s: float = 0.5,
) -> Iterator[None]:
    """Advance ``progress`` from ``done`` towards ``done + span`` as ``seconds`` pass.

    For a step whose only known measure is its time limit (a solver): the bar moves with
    the clock, stops one short of the step's end until the step returns, and a step that
    ends early simply jumps ahead.  Reports come from a daemon thread every ``every_s``.

    >>> seen = []
    >>> with ticking(lambda d, t: seen.append(d), 10, 5, 20, seconds=0.05, every_s=0.01):
    ...     time.sleep(0.1)
    >>> 10 <= min(seen) and max(seen) == 14  # never the step's end: that is the caller's
    True
    """
    if progress is None or span <= 0:
        yield
        return
    stop = threading.Event()
    start = time.perf_counter()

    def tick() -> None:
        while not stop.wait(every_s):
            share = (time.perf_counter() - start) / max(seconds, 1e-9)
            progress(done + min(int(span * share), span - 1), total)

    thread = threading.Thread(target=tick, name="linli-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
