"""Hidden rows and columns of .ods and .xls, read after the cells (best effort), and clipping runs to the grid.
"""

from __future__ import annotations

import io
import zipfile

from ..raw import RawSheet

_ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
HiddenRuns = dict[str, tuple[list[list[int]], list[list[int]]]]  # sheet -> (row runs, column runs)


def ods_hidden(zf: zipfile.ZipFile) -> HiddenRuns:
    """Hidden (collapsed or filtered) rows and columns of each table of an .ods, as 1-based
    inclusive runs; repeated rows/columns stay one run (LibreOffice writes a million of them).
    Best effort: an unreadable content.xml gives nothing (the cells were read by calamine)."""
    from defusedxml.ElementTree import iterparse

    t = _ODS_TABLE
    out: HiddenRuns = {}
    try:
        with zf.open("content.xml") as fh:
            depth = 0  # nesting of <table:table> (a table inside a cell is not a sheet)
            runs = None
            row = col = 0
            for event, el in iterparse(fh, events=("start", "end")):
                tag = el.tag
                if event == "end":
                    if tag == t + "table":
                        depth -= 1
                    el.clear()
                    continue
                if tag == t + "table":
                    depth += 1
                    if depth == 1:
                        runs = out.setdefault(el.get(t + "name") or "", ([], []))
                        row = col = 0
                    continue
                if depth != 1 or runs is None or tag not in (t + "table-row", t + "table-column"):
                    continue
                is_row = tag == t + "table-row"
                try:
                    n = max(1, int(el.get(t + ("number-rows-repeated" if is_row else "number-columns-repeated"), 1)))
                except ValueError:
                    n = 1
                start = row if is_row else col
                if el.get(t + "visibility") in ("collapse", "filter"):
                    runs[0 if is_row else 1].append([start + 1, start + n])
                if is_row:
                    row += n
                else:
                    col += n
    except Exception:  # noqa: BLE001 - best effort, see above
        return {}
    return out


def xls_hidden(data: bytes) -> HiddenRuns:
    """Hidden rows and columns of an .xls (xlrd with formatting information; best effort)."""
    try:
        import xlrd

        wb = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True, logfile=io.StringIO())
    except Exception:  # noqa: BLE001 - BIFF2-4 and odd files: no formatting information
        return {}
    out: HiddenRuns = {}
    try:
        for idx in range(wb.nsheets):
            sh = wb.sheet_by_index(idx)
            rows = [[r + 1, r + 1] for r, info in sorted(sh.rowinfo_map.items()) if info.hidden]
            cols = [[c + 1, c + 1] for c, info in sorted(sh.colinfo_map.items()) if info.hidden]
            out[sh.name] = (rows, cols)
            wb.unload_sheet(idx)
    except Exception:  # noqa: BLE001
        return out
    finally:
        wb.release_resources()
    return out


def apply_hidden(sheets: list[RawSheet], hidden: HiddenRuns) -> None:
    """Put hidden row/column runs into the sheets read."""
    for s in sheets:
        hide_runs(s, *hidden.get(s.name, ([], [])))


def hide_runs(sheet: RawSheet, row_runs: list, col_runs: list) -> None:
    """Mark 1-based inclusive runs of rows / columns hidden, clipped to the grid: "hide everything
    below the table" must not cost a million entries."""
    n_rows = len(sheet.rows)
    n_cols = max((len(r) for r in sheet.rows), default=0)
    for lo, hi in row_runs:
        sheet.hidden_rows.update(range(lo, min(hi, n_rows) + 1))
    for lo, hi in col_runs:
        sheet.hidden_cols.update(range(lo, min(hi, n_cols) + 1))


