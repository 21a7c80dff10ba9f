"""xls (BIFF8) with calamine, error cells put back from the records; xlrd for what calamine cannot read (BIFF2-4).
"""

from __future__ import annotations

import datetime as _dt
import io
import re
import struct

from ..raw import FileFailure, IntakeLimits, RawBook, RawSheet
from ..sniff import Sniffed
from .calamine import available as calamine_available
from .calamine import calamine_sheets, definite_failure
from .failures import Refused, failure
from .grid import Budget, clean_rows, put_cell
from .hidden import apply_hidden, xls_hidden


def read_xls(path: str, data: bytes, sn: Sniffed, limits: IntakeLimits) -> RawBook | FileFailure:
    budget = Budget(path, limits)
    sheets = None
    if sn.kind == "xls" and calamine_available():
        try:
            sheets = calamine_sheets(path, data, budget, with_merged=True)
        except Refused:
            raise
        except Exception as e:  # noqa: BLE001
            fail = definite_failure(path, e)
            if fail is not None:
                return fail
            sheets = None
        if sheets is not None:
            _restore_xls_errors(data, sheets, budget)
    if sheets is None:
        budget = Budget(path, limits)
        try:
            sheets = _xlrd_sheets(data, budget)
        except Refused:
            raise
        except Exception as e:  # noqa: BLE001
            if "encrypted" in str(e).lower():
                return failure(path, "encrypted")
            return failure(path, "corrupt")
        if sn.kind == "xls" and calamine_available():
            budget.note("文件结构有轻微问题，已改用备用方式读取；建议用 Excel 打开后另存为 .xlsx。")
    apply_hidden(sheets, xls_hidden(data))
    book = RawBook(path=path, format="xls", sheets=sheets)
    _cfb_meta(data, book)
    book.notes = budget.final_notes()
    return book


_BIFF_ERRORS = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?",
                0x24: "#NUM!", 0x2A: "#N/A", 0x2B: "#GETTING_DATA"}
_BIFF_FORMULA_ERROR = re.compile(rb"\x02\x00[\x00-\x2b]\x00\x00\x00\xff\xff")


def _restore_xls_errors(data: bytes, sheets: list[RawSheet], budget: Budget) -> None:
    """Put back the error values (#DIV/0! ...) that calamine reads as empty in xls:
    BOOLERR records and FORMULA records whose cached result is an error. Best
    effort: a stream it cannot walk is left as calamine read it."""
    try:
        import olefile

        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            names = {"/".join(e).lower(): e for e in ole.listdir(streams=True, storages=False)}
            entry = names.get("workbook") or names.get("book")
            if entry is None:
                return
            with ole.openstream(entry) as st:
                stream = st.read()
    except Exception:  # noqa: BLE001
        return
    if b"\x05\x02\x08\x00" not in stream and not _BIFF_FORMULA_ERROR.search(stream):
        return  # no BOOLERR record and no error result: nothing to restore
    try:
        # worksheets in BOUNDSHEET order <-> calamine's worksheets in order
        offsets = []
        pos, n = 0, len(stream)
        while pos + 4 <= n:
            rtype, rlen = struct.unpack_from("<HH", stream, pos)
            if rtype == 0x0085 and rlen >= 6:
                ply, _state, kind = struct.unpack_from("<IBB", stream, pos + 4)
                if kind == 0:
                    offsets.append(ply)
            elif rtype == 0x000A:
                break
            pos += 4 + rlen
        for sheet, start in zip(sheets, offsets):
            pos = start
            depth = 0
            while pos + 4 <= n:
                rtype, rlen = struct.unpack_from("<HH", stream, pos)
                body = stream[pos + 4:pos + 4 + rlen]
                pos += 4 + rlen
                if rtype in (0x0809, 0x0409, 0x0209, 0x0009):
                    depth += 1
                elif rtype == 0x000A:
                    depth -= 1
                    if depth <= 0:
                        break
                elif depth == 1 and rtype == 0x0205 and rlen >= 8 and body[7] == 1:  # BOOLERR, an error
                    r, c = struct.unpack_from("<HH", body, 0)
                    put_cell(sheet, budget, (r + 1, c + 1), _BIFF_ERRORS.get(body[6], "#N/A"))
                elif depth == 1 and rtype == 0x0006 and rlen >= 14 and body[6] == 2 and body[12:14] == b"\xff\xff":
                    r, c = struct.unpack_from("<HH", body, 0)
                    put_cell(sheet, budget, (r + 1, c + 1), _BIFF_ERRORS.get(body[8], "#N/A"))
    except (struct.error, IndexError):
        return


def _xlrd_sheets(data: bytes, budget: Budget) -> list[RawSheet]:
    """Every worksheet, read by xlrd (numbers are floats; calamine gives an RK integer as ``int``,
    which compares and scores the same)."""
    import xlrd
    from xlrd.xldate import xldate_as_datetime

    log = io.StringIO()  # xlrd writes warnings to stdout unless given a logfile
    wb = xlrd.open_workbook(file_contents=data, on_demand=True, logfile=log, ragged_rows=True)
    try:
        sheets = []
        errors = xlrd.error_text_from_code
        for idx in range(wb.nsheets):
            sh = wb.sheet_by_index(idx)
            budget.check_grid(sh.name, sh.nrows, sh.ncols)
            rows: list[list] = []
            for r in range(sh.nrows):
                types = sh.row_types(r)
                values = sh.row_values(r)
                row: list = []
                for t, v in zip(types, values):
                    if t in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                        row.append(None)
                    elif t == xlrd.XL_CELL_DATE:
                        row.append(_xlrd_date(v, wb.datemode, xldate_as_datetime))
                    elif t == xlrd.XL_CELL_BOOLEAN:
                        row.append(bool(v))
                    elif t == xlrd.XL_CELL_ERROR:
                        row.append(errors.get(v, "#N/A"))
                    else:
                        row.append(v)
                rows.append(row)
            rows = clean_rows(rows, sh.name, budget)
            sheets.append(RawSheet(name=sh.name, rows=rows, hidden=bool(getattr(sh, "visibility", 0))))
            wb.unload_sheet(idx)
        return sheets
    finally:
        wb.release_resources()


def _xlrd_date(v: float, datemode: int, conv):
    try:
        if 0 <= v < 1:
            d = conv(v, datemode)
            return d.time()
        d = conv(v, datemode)
        if d.hour == d.minute == d.second == d.microsecond == 0:
            return d.date()
        return d
    except Exception:  # noqa: BLE001 - out-of-range serials stay numbers
        return v


def _cfb_meta(data: bytes, book: RawBook) -> None:
    """Saved time from the SummaryInformation stream, when cheap."""
    if not data.startswith(b"\xd0\xcf\x11\xe0"):
        return
    try:
        import olefile

        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            meta = ole.get_metadata()
        saved = meta.last_saved_time
        if isinstance(saved, _dt.datetime) and saved.year >= 1980:
            book.saved_time = saved.replace(tzinfo=_dt.timezone.utc)
    except Exception:  # noqa: BLE001 - metadata is optional
        return


