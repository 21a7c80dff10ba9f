"""openpyxl (read-only, defusedxml) for xlsx that calamine refuses.
"""

from __future__ import annotations

import io

from ..raw import RawSheet
from .grid import Budget, clean_rows


def openpyxl_sheets(data: bytes, budget: Budget) -> list[RawSheet]:
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
                    row = list(row)
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


