"""Give memory freed after a large step back to the operating system.

CPython returns its own small-object arenas when they empty, but the large blocks
(the dicts and lists of a 500,000-row step, lxml's tree of a .docx) are glibc
heap memory, kept by the process after they are freed. ``release_memory`` calls
glibc's ``malloc_trim`` so the next step (another allocator) starts from what is
really in use; elsewhere (Windows, musl, macOS) it does nothing.
"""

from __future__ import annotations

import gc
import sys

_trim = None


def release_memory(*, collect: bool = False) -> bool:
    """Return freed heap pages to the OS; True when something could be asked of the allocator.

    ``collect``: run the cycle collector first, for a step whose objects refer to each
    other (python-docx's parts and their package) and are freed only by it.
    """
    global _trim
    if collect:
        gc.collect()
    if _trim is None:
        _trim = False
        if sys.platform.startswith("linux"):
            import ctypes

            try:
                _trim = ctypes.CDLL("libc.so.6").malloc_trim
                _trim.argtypes = [ctypes.c_size_t]
                _trim.restype = ctypes.c_int
            except (OSError, AttributeError):
                _trim = False
    if not _trim:
        return False
    _trim(0)
    return True
