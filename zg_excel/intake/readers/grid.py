"""Cell grids as readers hand them over: the per-book cell budget, cleaning, A1 references.
"""

from __future__ import annotations

import datetime as _dt
import re

from ..raw import IntakeLimits, RawSheet
from .failures import Refused, failure
from .limits import MAX_NOTES


class Budget:
    """Counts non-empty cells over a whole book and collects notes."""

    def __init__(self, path: str, limits: IntakeLimits):
        self.path = path
        self.limits = limits
        self.cells = 0
        self.notes: list[str] = []
        self.dropped_notes = 0
        self.grid_cap = max(2 * limits.max_cells, 1_000_000)
        self._cuts: dict[str, str] = {}

    def note(self, text: str) -> None:
        if len(self.notes) < MAX_NOTES:
            self.notes.append(text)
        else:
            self.dropped_notes += 1

    def add(self, n: int) -> None:
        self.cells += n
        if self.cells > self.limits.max_cells:
            raise Refused(failure(self.path, "too_large", "too_large_cells", limit=self.limits.max_cells))

    def check_grid(self, sheet: str, n_rows: int, n_cols: int) -> None:
        if n_rows * n_cols > self.grid_cap:
            raise Refused(failure(self.path, "too_large", "too_large_grid", sheet=sheet,
                                   ref=cell_ref(n_rows, n_cols)))

    def truncated(self, v: str) -> str:
        """``v`` cut to max_string_chars; one shared copy per distinct string, so a
        shared string referenced by 10,000 cells stays one object (and one pickle)."""
        cut = self._cuts.get(v)
        if cut is None:
            cut = self._cuts[v] = v[:self.limits.max_string_chars]
        return cut

    def final_notes(self) -> list[str]:
        if self.dropped_notes:
            return self.notes + [f"另有 {self.dropped_notes} 条类似提示未列出。"]
        return self.notes


def clean_rows(rows: list[list], sheet: str, budget: Budget) -> list[list]:
    """In place: '' -> None, count non-empty cells, truncate long strings,
    convert durations, pad to a rectangle, drop trailing empty rows."""
    max_chars = budget.limits.max_string_chars
    width = 0
    last_nonempty = -1
    for i, row in enumerate(rows):
        row = [None if v == "" else v for v in row]
        rows[i] = row
        n = len(row) - row.count(None)
        if not n:
            continue
        budget.add(n)
        last_nonempty = i
        # trailing Nones do not count towards the width
        w = len(row)
        while w and row[w - 1] is None:
            w -= 1
        if w > width:
            width = w
        for j, v in enumerate(row):
            t = type(v)
            if t is str:
                if len(v) > max_chars:
                    row[j] = budget.truncated(v)
                    budget.note(f"工作表“{sheet}”单元格 {cell_ref(i + 1, j + 1)} 的文字超过 {max_chars} 个字符，已截断。")
            elif t is _dt.timedelta:
                row[j] = _duration(v)
            elif t is float and v != v:  # NaN from a broken file: treat as blank
                row[j] = None
    del rows[last_nonempty + 1:]
    for i, row in enumerate(rows):
        if len(row) < width:
            row.extend([None] * (width - len(row)))
        elif len(row) > width:
            del row[width:]
    return rows


def _duration(td: _dt.timedelta):
    if _dt.timedelta(0) <= td < _dt.timedelta(days=1):
        secs = td.seconds
        return _dt.time(secs // 3600, secs // 60 % 60, secs % 60, td.microseconds)
    return td.total_seconds() / 86400.0


def col_letters(col: int) -> str:
    """1 -> A, 27 -> AA."""
    s = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        s = chr(65 + rem) + s
    return s


def cell_ref(row: int, col: int) -> str:
    """1-based (row, col) -> 'B7'."""
    return f"{col_letters(col)}{row}"


_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d{1,7})")


def parse_ref(ref: str) -> tuple[int, int] | None:
    """'B7' -> (7, 2), 1-based; None when it is not a cell reference."""
    m = _REF.fullmatch(ref.strip())
    if not m:
        return None
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    row = int(m.group(2))
    if not (1 <= row <= 1_048_576 and 1 <= col <= 16_384):
        return None
    return row, col


def put_cell(sheet: RawSheet, budget: Budget, rc: tuple[int, int], value) -> None:
    """Set a cell the reader dropped (error values), growing the grid if needed."""
    r, c = rc
    rows = sheet.rows
    width = len(rows[0]) if rows else 0
    if r > len(rows) or c > width:
        new_rows, new_w = max(r, len(rows)), max(c, width)
        budget.check_grid(sheet.name, new_rows, new_w)
        for row in rows:
            row.extend([None] * (new_w - len(row)))
        rows.extend([None] * new_w for _ in range(new_rows - len(rows)))
    if rows[r - 1][c - 1] is None:
        budget.add(1)
    rows[r - 1][c - 1] = value


