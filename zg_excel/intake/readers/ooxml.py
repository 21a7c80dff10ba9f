"""xlsx / xlsm: streaming pre-scan, shared-string amplification check, calamine, openpyxl fallback.
"""

from __future__ import annotations

import re
import zipfile
from typing import Iterable

from ..raw import FileFailure, IntakeLimits, RawBook
from ..sniff import Sniffed
from .calamine import available as calamine_available
from .calamine import calamine_sheets, definite_failure, is_entity_error
from .docprops import ooxml_doc_props
from .failures import Refused, failure
from .grid import Budget
from .limits import MB
from .openpyxl_fallback import openpyxl_sheets
from .parts import shared_strings_part, sheet_parts
from .scan import PRESCAN_CHUNK, SheetScan, apply_scan, scan_sheet


def read_ooxml(path: str, data: bytes, sn: Sniffed, limits: IntakeLimits) -> RawBook | FileFailure:
    budget = Budget(path, limits)
    zf = sn.zip
    assert zf is not None
    parts = sheet_parts(zf)
    # One streaming pass over each sheet's XML before any parser sees it: the
    # real extent (a grid that would make calamine allocate rows x columns
    # cells is refused: one stray value in XFD1048576 = 17 G cells = an
    # abort), hidden rows / columns, formulas without value, error cells.
    scans: dict[str, SheetScan] = {}
    for name, part in parts.items():
        try:
            scans[name] = sc = scan_sheet(zf, part, limits)
        except Refused:
            raise
        except Exception:  # noqa: BLE001 - CRC error (more data than declared), zlib.error, ...
            return failure(path, "corrupt")
        budget.check_grid(name, sc.max_row, sc.max_col)
    fail = _check_shared_string_amplification(path, zf, parts.values(),
                                              sum(sc.shared_refs for sc in scans.values()), limits)
    if fail is not None:
        return fail
    if not calamine_available():  # the pure-Python install: openpyxl, with calamine's values
        try:
            sheets = openpyxl_sheets(data, budget, calamine_values=True)
        except Refused:
            raise
        except Exception as e:  # noqa: BLE001
            if is_entity_error(e):
                return failure(path, "corrupt", "corrupt_xml_entities")
            return failure(path, "corrupt")
        reader = "openpyxl"
    else:
        try:
            sheets = calamine_sheets(path, data, budget, with_merged=True)
            reader = "calamine"
        except Refused:
            raise
        except Exception as e:  # noqa: BLE001 - calamine raises its own family and OSError
            fail = _fallback(path, data, limits, e)
            if isinstance(fail, FileFailure):
                return fail
            budget, sheets = fail
            reader = "openpyxl"

    for s in sheets:
        sc = scans.get(s.name)
        if sc is not None:
            apply_scan(s, sc, budget, merged=(reader != "calamine"))
    book = RawBook(path=path, format=sn.kind, sheets=sheets)
    ooxml_doc_props(zf, book)
    book.notes = budget.final_notes()
    return book


def _fallback(path: str, data: bytes, limits: IntakeLimits, e: Exception) -> FileFailure | tuple[Budget, list]:
    """openpyxl for a file calamine refused (with a note), unless no reader can get past the error."""
    fail = definite_failure(path, e)
    if fail is not None:
        return fail
    entity = is_entity_error(e)
    budget = Budget(path, limits)
    try:
        sheets = openpyxl_sheets(data, budget)
    except Refused:
        raise
    except Exception as e2:  # noqa: BLE001
        if entity or is_entity_error(e2):
            return failure(path, "corrupt", "corrupt_xml_entities")
        return failure(path, "corrupt")
    if not sheets:
        return failure(path, "corrupt")
    budget.note("文件结构有轻微问题，已改用备用方式读取；建议用 Excel 打开后重新保存。")
    return budget, sheets


def _check_shared_string_amplification(path: str, zf: zipfile.ZipFile, sheet_parts: Iterable[str], refs: int,
                                       limits: IntakeLimits) -> FileFailure | None:
    """Refuse a small sharedStrings.xml whose long items are referenced by many
    cells: readers copy the text into every cell (a 1 MB string x 12,000 cells =
    12 GB, as in Apache POI's proof-of-concept file). The text all references expand to must
    stay within the uncompressed-size budget. Cheap bounds first; the exact sum
    (item length per reference) only when they do not settle it."""
    if not refs:
        return None
    part = shared_strings_part(zf)
    if part is None:
        return None
    budget = limits.max_uncompressed_mb * MB
    if refs * zf.getinfo(part).file_size <= budget:
        return None
    lengths = _item_lengths(zf, part)
    if not lengths or refs * max(lengths) <= budget:
        return None
    total = sum(_referenced_chars(zf, p, lengths) for p in sheet_parts)
    if total <= budget:
        return None
    return failure(path, "too_large", "too_large_shared", refs=refs, size=max(lengths) / 1024,
                   total=total / MB, limit=limits.max_uncompressed_mb)


_SI_OPEN = re.compile(rb"<(?:[\w.-]+:)?si[\s>]")
_SI_CLOSE = re.compile(rb"</(?:[\w.-]+:)?si>")
_S_CELL_VALUE = re.compile(rb't="s"[^>]*><(?:[\w.-]+:)?v>([0-9]{1,9})<')


def _chunks_cut_after(zf: zipfile.ZipFile, part: str, close: bytes) -> Iterable[bytes]:
    """A member in ~4 MiB pieces, each cut after the last ``close`` it holds."""
    carry = b""
    with zf.open(part) as fh:
        while True:
            chunk = fh.read(PRESCAN_CHUNK)
            if not chunk:
                if carry:
                    yield carry
                return
            buf = carry + chunk if carry else chunk
            cut = buf.rfind(close)
            if cut < 0:
                carry = buf
                continue
            cut += len(close)
            yield buf[:cut]
            carry = buf[cut:]


def _item_lengths(zf: zipfile.ZipFile, part: str) -> list[int]:
    """Byte length of each <si> item of sharedStrings.xml, in order."""
    out: list[int] = []
    for piece in _chunks_cut_after(zf, part, b"si>"):
        starts = [m.end() for m in _SI_OPEN.finditer(piece)]
        ends = [m.start() for m in _SI_CLOSE.finditer(piece)]
        out.extend(max(0, e - s) for s, e in zip(starts, ends))
    return out


def _referenced_chars(zf: zipfile.ZipFile, part: str, lengths: list[int]) -> int:
    total = 0
    n = len(lengths)
    for piece in _chunks_cut_after(zf, part, b"</c>"):
        for idx in map(int, _S_CELL_VALUE.findall(piece)):
            if idx < n:
                total += lengths[idx]
    return total


