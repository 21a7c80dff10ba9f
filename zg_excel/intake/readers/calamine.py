"""python-calamine, the first reader for every binary format, and how its errors are classified.

python-calamine is compiled (Rust); where it has no wheel (龙芯 loongarch64, 申威 sw_64) zg-excel is
installed without it and ``available()`` is False: xlsx / xlsm are then read by openpyxl and xls by
xlrd, to the same values (``openpyxl_fallback.like_calamine``), while xlsb and ods are refused with
the ``needs_full`` message. Nothing here imports it before a file is read.
"""

from __future__ import annotations

import importlib.util
import io
import os
import re

from ..raw import FileFailure, RawSheet
from .failures import failure
from .grid import Budget, clean_rows


_AVAILABLE = importlib.util.find_spec("python_calamine") is not None


def available() -> bool:
    """Whether python-calamine is installed (the 完整版); else the pure-Python readers are used."""
    return _AVAILABLE


def calamine_sheets(path: str, data: bytes, budget: Budget, with_merged: bool) -> list[RawSheet]:
    """Read every worksheet with calamine. Raises calamine errors to the caller."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    try:
        # from the bytes already checked, not the path: calamine's from_path picks the
        # format by extension, and the file must not change between check and parse
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as e:  # noqa: BLE001
        # From bytes, calamine tries each format in turn and reports only "Cannot
        # detect file format"; when the extension agrees with the sniffed format,
        # from_path gives the real reason (e.g. "Cell limit exceeded").
        if "Cannot detect" not in str(e) or not _extension_agrees(path, data):
            raise
        wb = CalamineWorkbook.from_path(path)
    try:
        sheets: list[RawSheet] = []
        for meta in wb.sheets_metadata:
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue  # chart / dialog / macro sheets hold no cells
            sh = wb.get_sheet_by_name(meta.name)
            end = sh.end
            if end is None:
                rows: list[list] = []
            else:
                budget.check_grid(meta.name, end[0] + 1, end[1] + 1)
                rows = sh.to_python(skip_empty_area=False)
            rows = clean_rows(rows, meta.name, budget)
            merged: list[tuple[int, int, int, int]] = []
            if with_merged:
                for (r0, c0), (r1, c1) in sh.merged_cell_ranges or ():
                    merged.append((r0 + 1, c0 + 1, r1 + 1, c1 + 1))
            sheets.append(RawSheet(
                name=meta.name,
                rows=rows,
                hidden=meta.visible != SheetVisibleEnum.Visible,
                merged=merged,
            ))
        return sheets
    finally:
        wb.close()


def _extension_agrees(path: str, data: bytes) -> bool:
    ext = os.path.splitext(path)[1].lower()
    if data.startswith(b"PK"):
        return ext in (".xlsx", ".xlsm", ".xlsb", ".ods")
    return ext in (".xls", ".xla")


def _is_password_error(e: BaseException) -> bool:
    return type(e).__name__ == "PasswordError"


def _cell_limit_failure(path: str, e: BaseException) -> FileFailure | None:
    """calamine refuses ranges above 100 M cells ("Cell limit exceeded"): a DoS file."""
    text = str(e)
    if "Cell limit exceeded" in text:
        m = re.search(r"(\d+) cells requested", text)
        return failure(path, "too_large", "too_large_declared", cells=m.group(1) if m else "上亿")
    return None


def definite_failure(path: str, e: BaseException) -> FileFailure | None:
    """A calamine error that no fallback reader can get past: a password, or a DoS-sized range."""
    if _is_password_error(e):
        return failure(path, "encrypted")
    return _cell_limit_failure(path, e)


def is_entity_error(e: BaseException) -> bool:
    text = str(e)
    return "entity" in text.lower() or "EntitiesForbidden" in repr(e.__context__ or "")




def first_sheet_rows(path: str) -> list[list]:
    """The cells of the first sheet of a small trusted-size settings workbook (roster, catalog), as
    calamine reads them; openpyxl with calamine's values when calamine is not installed. Raises on
    a file that cannot be opened."""
    if not available():
        import warnings

        import openpyxl

        from .openpyxl_fallback import like_calamine

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
            try:
                ws = wb.worksheets[0]
                rows = [[like_calamine(v) for v in row] for row in ws.iter_rows(values_only=True)]
            finally:
                wb.close()
        width = max((len(r) for r in rows), default=0)
        return [r + [None] * (width - len(r)) for r in rows]
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(path)
    try:
        return wb.get_sheet_by_index(0).to_python(skip_empty_area=False)
    finally:
        wb.close()
