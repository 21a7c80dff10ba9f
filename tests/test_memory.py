"""release_memory: freed heap pages go back to the OS on glibc Linux (the W5 peak depends on it)."""

from __future__ import annotations

import ctypes
import sys

import pytest

from zg_excel.memory import release_memory


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 2**20


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc_trim is Linux-only")
def test_freed_heap_blocks_are_returned():
    ctypes.CDLL("libc.so.6").malloc_trim  # noqa: B018 - the C library this relies on is there
    before = _rss_mb()
    blocks = [bytearray(60_000) for _ in range(1700)]  # ~100 MB of heap (below the mmap threshold)
    for b in blocks:
        b[::4096] = b"\x01" * len(b[::4096])
    grown = _rss_mb()
    del blocks[::2]  # free every other block: holes glibc keeps without a trim
    assert release_memory(collect=True) is True
    after = _rss_mb()
    assert grown - before > 80
    assert grown - after > 35  # about half went back
    del blocks
