"""Size limits checked before anything is parsed: zip members, declared sizes, compression ratio.
"""

from __future__ import annotations

import zipfile

from ..raw import FileFailure, IntakeLimits
from .failures import failure

MB = 1 << 20
MAX_NOTES = 20  # per book; further notes are summarised
MAX_FORMULAS_REPORTED = 10_000  # per sheet
MAX_FORMULA_CHARS = 1_000
MAX_ZIP_MEMBERS = 20_000
RATIO_MIN_MEMBER = 1 * MB  # small members may compress extremely well and are harmless

# ----------------------------------------------------------- zip limits ---

def check_zip_limits(path: str, zf: zipfile.ZipFile, limits: IntakeLimits) -> FileFailure | None:
    """Refuse zip bombs from the declared sizes, before inflating anything.

    Lying headers do not get past this: zipfile and calamine both stop reading
    a member at its declared size (CRC / "larger than declared" errors).
    """
    infos = zf.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        return failure(path, "too_large", "too_large_members", count=len(infos))
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size >= RATIO_MIN_MEMBER:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                return failure(path, "too_large", "too_large_ratio", member=info.filename,
                               ratio=ratio, limit=limits.max_ratio)
    if total > limits.max_uncompressed_mb * MB:
        return failure(path, "too_large", "too_large_unzipped", size=total / MB,
                       limit=limits.max_uncompressed_mb)
    return None


