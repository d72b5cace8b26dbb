"""Progress reporting for long steps.

The analysis core never draws anything: a long step accepts ``progress``, a callable that it
calls with ``(done, total)`` as work completes.  The CLI turns that into a rich progress bar;
the web app will turn it into a job's progress.
"""

from __future__ import annotations

from collections.abc import Callable

ProgressCallback = Callable[[int, int], None]
"""``progress(done, total)``: called as a long step advances; ``done == total`` at the end."""


def report(progress: ProgressCallback | None, done: int, total: int) -> None:
    """Call ``progress`` if there is one."""
    if progress is not None:
        progress(done, total)
