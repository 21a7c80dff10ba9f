"""Read one untrusted spreadsheet file into a ``RawBook`` (or say why not).

``read_book(path, limits)`` runs in-process; ``worker.read_books`` runs it in
capped child processes. The order of work is chosen so that a hostile file
costs as little as possible before it is refused:

1. the name (``~$`` lock files are never opened), the size on disk;
2. the leading bytes (``sniff``), never the extension;
3. for zips, the *declared* sizes: total uncompressed size and per-member
   compression ratio (zip bombs), before any member is inflated;
4. parsing with python-calamine (xlsx, xlsm, xlsb, ods, xls), with openpyxl
   (read-only, defusedxml) as fallback for xlsx that calamine refuses and
   xlrd for xls calamine cannot read and for raw BIFF2-4;
5. for xlsx / xlsm, before any parser runs, one streaming bytes scan of each
   sheet's XML: the real extent of the cells (a stray value in XFD1048576
   would make calamine allocate 17 G cells), the text that shared-string
   references expand to, and what calamine does not report: hidden rows and
   columns, formulas without a cached value, error cells (``#VALUE!``, which
   calamine reads as empty). Per-cell work only happens in the parts of the
   XML where those markers occur. For xls read by calamine, error values are
   put back from the BOOLERR / FORMULA records of the workbook stream;
   hidden rows and columns of .ods (content.xml, streamed) and .xls (xlrd's
   formatting information) are read after the cells, best effort.

Declared dimensions are never trusted: calamine sizes a sheet from its cells,
the openpyxl fallback calls ``reset_dimensions()``, and every grid is trimmed
of trailing empty rows. XML entities are never expanded (calamine does not,
openpyxl refuses them through defusedxml, and the scans here are regexes).

Values are kept as read (``str int float bool date datetime time``; calamine
durations become ``time`` below one day, else a float number of days); empty
cells are ``None``. Interpreting them is the caller's job.

One module per part: ``failures`` (codes and Chinese messages), ``limits``
(declared sizes, zip bombs), ``grid`` (cell budget, cleaning, A1 references),
``parts`` (OOXML zip parts and attributes), ``scan`` (the streaming sheet XML
scan), ``ooxml`` (xlsx / xlsm), ``calamine``, ``openpyxl_fallback``,
``xlsb_ods``, ``xls`` (calamine, BIFF records, xlrd), ``hidden`` (hidden rows
and columns of .ods / .xls), ``docprops`` (saved time, custom properties), ``text``
(csv). Only ``read_book``, ``failure`` and ``MESSAGES`` are meant for callers, and
``first_sheet_rows`` (the roster and catalog) and ``calamine_available`` (完整版 or 纯Python版).

Without python-calamine (the pure-Python install) xlsx / xlsm are read by openpyxl and xls by
xlrd, with calamine's values (tests/test_pure_python.py); xlsb and ods are refused (``needs_full``).
"""

from __future__ import annotations

import os

from ..raw import FileFailure, IntakeLimits, RawBook
from ..sniff import Sniffed, is_lock_file_name, sniff_bytes
from .failures import MESSAGES, WHAT, Refused, failure, not_spreadsheet
from .limits import MB, check_zip_limits
from .calamine import available as calamine_available
from .calamine import first_sheet_rows
from .ooxml import read_ooxml
from .text import read_text
from .xls import read_xls
from .xlsb_ods import read_calamine_only

__all__ = ["MESSAGES", "calamine_available", "failure", "first_sheet_rows", "read_book"]


def read_book(path: str, limits: IntakeLimits) -> RawBook | FileFailure:
    """Read one file, in this process. Never raises for a bad file.

    Returns a ``RawBook`` or a ``FileFailure`` whose ``code`` is one of
    ``lock_file empty unreadable too_large encrypted numbers html
    not_spreadsheet corrupt memory crashed`` (``worker.read_books`` adds
    ``timeout``, and ``crashed`` / ``memory`` when the reading process dies).
    A Rust panic inside calamine (pyo3 ``PanicException``, a
    ``BaseException``) is reported as ``crashed``; a reader that aborts the
    process cannot be caught here — use ``worker.read_books`` for that.
    """
    try:
        return _read_book(path, limits)
    except Refused as r:
        return r.failure
    except MemoryError:
        return failure(path, "memory", limit=limits.memory_mb)
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except RecursionError:
        return failure(path, "corrupt")
    except BaseException as e:  # noqa: BLE001 - any reader bug on any input costs one file
        if type(e).__name__ == "PanicException":
            return failure(path, "crashed")
        return failure(path, "corrupt")


def _read_book(path: str, limits: IntakeLimits) -> RawBook | FileFailure:
    name = os.path.basename(path)
    if is_lock_file_name(name):
        return failure(path, "lock_file", skipped=True)
    try:
        size = os.stat(path).st_size
    except OSError as e:
        return failure(path, "unreadable", error=e.strerror or type(e).__name__)
    if size == 0:
        return failure(path, "empty")
    if size > limits.max_file_mb * MB:
        return failure(path, "too_large", "too_large_file", size=size / MB, limit=limits.max_file_mb)
    try:
        with open(path, "rb") as fh:
            data = fh.read(int(limits.max_file_mb * MB) + 1)
    except OSError as e:
        return failure(path, "unreadable", error=e.strerror or type(e).__name__)
    if len(data) > limits.max_file_mb * MB:  # grew since stat
        return failure(path, "too_large", "too_large_file", size=len(data) / MB, limit=limits.max_file_mb)
    if not data:
        return failure(path, "empty")

    sn = sniff_bytes(data, name)
    try:
        return _dispatch(path, data, sn, limits)
    finally:
        if sn.zip is not None:
            sn.zip.close()


def _dispatch(path: str, data: bytes, sn: Sniffed, limits: IntakeLimits) -> RawBook | FileFailure:
    kind = sn.kind
    ext = os.path.splitext(path)[1].lower() or "（无）"
    if kind == "lock_file":
        return failure(path, "lock_file", skipped=True)
    if kind == "empty":
        return failure(path, "empty")
    if kind == "encrypted":
        return failure(path, "encrypted")
    if kind == "numbers":
        return failure(path, "numbers")
    if kind == "html":
        if sn.detail == "html":
            return failure(path, "html", ext=ext)
        return failure(path, "html", "xml", ext=ext, what=WHAT.get(sn.detail, "XML 文件"))
    if kind == "corrupt":
        return failure(path, "corrupt")
    if kind == "not_spreadsheet":
        return not_spreadsheet(path, sn.detail)
    if sn.zip is not None:
        fail = check_zip_limits(path, sn.zip, limits)
        if fail is not None:
            return fail
    if kind in ("xlsx", "xlsm"):
        return read_ooxml(path, data, sn, limits)
    if kind in ("xlsb", "ods"):
        return read_calamine_only(path, data, sn, limits)
    if kind in ("xls", "biff"):
        return read_xls(path, data, sn, limits)
    if kind == "text":
        return read_text(path, data, sn.detail, limits)
    return failure(path, "corrupt")  # pragma: no cover - every kind is handled above

