"""openpyxl (read-only, defusedxml) for xlsx that calamine refuses, and for every xlsx without calamine.
"""

from __future__ import annotations

import datetime as _dt
import io

from ..raw import RawSheet
from .grid import Budget, clean_rows

_EPOCH_DAY = _dt.date(1899, 12, 30)  # serial 0: a time-of-day cell's date part in openpyxl


def like_calamine(value):
    """A value as python-calamine reads the same cell: numbers are floats, a date at midnight is a
    ``date``, a time of day (serial below 1) a ``time``, a duration of a day or more a float of days."""
    t = type(value)
    if t is int:
        return float(value)
    if t is _dt.datetime:
        if value.date() == _EPOCH_DAY:
            return value.time()
        if value.hour == value.minute == value.second == value.microsecond == 0:
            return value.date()
        return value
    if t is _dt.timedelta:
        if _dt.timedelta(0) <= value < _dt.timedelta(days=1):
            return (_dt.datetime.min + value).time()
        return value / _dt.timedelta(days=1)
    return value


def openpyxl_sheets(data: bytes, budget: Budget, calamine_values: bool = False) -> list[RawSheet]:
    """Every worksheet, read by openpyxl; ``calamine_values``: cell values as calamine gives them
    (``like_calamine``), when openpyxl stands in for a calamine that is not installed."""
    import warnings

    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        try:
            sheets = []
            for ws in wb.worksheets:
                if not hasattr(ws, "iter_rows"):
                    continue
                try:
                    ws.reset_dimensions()
                except AttributeError:
                    pass
                rows: list[list] = []
                pending_empty = 0
                for row in ws.iter_rows(values_only=True):
                    row = [like_calamine(v) for v in row] if calamine_values else list(row)
                    n = len(row) - row.count(None) - row.count("")
                    if not n:
                        # do not store long runs of formatted blank rows
                        pending_empty += 1
                        continue
                    if pending_empty:
                        budget.check_grid(ws.title, len(rows) + pending_empty, 1)
                        rows.extend([] for _ in range(pending_empty))
                        pending_empty = 0
                    budget.check_grid(ws.title, len(rows) + 1, len(row))
                    rows.append(row)
                width = max((len(r) for r in rows), default=0)
                budget.check_grid(ws.title, len(rows), width)
                rows = clean_rows(rows, ws.title, budget)
                sheets.append(RawSheet(name=ws.title, rows=rows,
                                       hidden=getattr(ws, "sheet_state", "visible") != "visible"))
            return sheets
        finally:
            wb.close()


