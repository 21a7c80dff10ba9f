"""Atomic file writing: a temporary name beside the target (or in a staging folder), then a rename.

``atomic_open`` / ``atomic_write_bytes`` write a file and rename it over its
target only when the whole content is on disk; ``atomic_target`` gives writers
that take a file name (xlsxwriter) a temporary name beside the target. Every
temporary name starts with ``.~`` so a sweep can recognise leftovers.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

TEMP_PREFIX = ".~"


def public_mode() -> int:
    """The mode an ordinary new file gets (mkstemp's 0600 would hide outputs from colleagues)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary name in the same folder, then rename over the target."""
    with atomic_open(path, binary=True) as fh:
        fh.write(data)


@contextlib.contextmanager
def atomic_open(path: Path, encoding: str = "utf-8", *, binary: bool = False):
    """A file written beside ``path`` (text, or bytes with ``binary``), on disk (fsync) and renamed
    over ``path`` when the block ends without error; removed otherwise."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX + _short(path.name), suffix=".tmp", dir=path.parent)
    try:
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding=encoding, newline="\n")) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())  # on disk before it replaces the old file
        os.chmod(tmp, public_mode())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_target(path: Path) -> str:
    """A temporary file name beside ``path`` for writers that take a file name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX + _short(path.stem), suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, public_mode())
    return tmp


def _short(name: str, limit: int = 40) -> str:
    """The start of ``name`` for a temporary name: a long unit name must not make it too long."""
    return name if len(name) <= limit else name[:limit]
