"""release_memory: freed heap pages go back to the OS on glibc Linux (the W5 peak depends on it)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Run in a fresh interpreter: a heap that earlier tests left with free space would hide the effect.
SCRIPT = r"""
import json, sys
from zg_excel.memory import release_memory

def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 2**20

trim = sys.argv[1] == "trim"
before = rss()
blocks = [bytearray(60_000) for _ in range(1700)]  # ~100 MB of heap blocks (below glibc's mmap threshold)
for b in blocks:
    b[::4096] = b"\x01" * len(b[::4096])
grown = rss()
del blocks[::2]  # every other block freed: holes that glibc keeps unless trimmed
asked = release_memory(collect=True) if trim else None
print(json.dumps({"before": before, "grown": grown, "after": rss(), "asked": asked}))
"""


def _run(mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc_trim is Linux-only")
def test_freed_heap_blocks_are_returned():
    kept, trimmed = _run("keep"), _run("trim")
    assert trimmed["asked"] is True
    for r in (kept, trimmed):
        assert r["grown"] - r["before"] > 80
    assert kept["grown"] - kept["after"] < 20  # without a trim the holes stay resident
    assert trimmed["grown"] - trimmed["after"] > 35  # with it about half goes back
