"""Writing outputs atomically: nothing half-written is ever left at the target path."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_dir", "atomic_path"]


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; move it onto ``target`` only on success.

    On an exception the temporary file is removed and ``target`` is left as it was.
    """
    dest = Path(target)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=dest.suffix, dir=dest.parent)
    os.close(fd)
    os.unlink(tmp)  # writers such as GDAL want to create the file themselves
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_dir(target: str | Path) -> Iterator[Path]:
    """Yield a temporary directory; on success its files are moved into ``target``.

    Outputs appear in ``target`` only after every one of them was written; on an exception
    nothing in ``target`` changes.
    """
    dest = Path(target)
    dest.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".linli-", dir=dest))
    try:
        yield tmp
        for item in tmp.iterdir():
            os.replace(item, dest / item.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
