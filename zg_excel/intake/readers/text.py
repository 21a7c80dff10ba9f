"""Delimited text (csv, tab-separated) that claims to be a spreadsheet.
"""

from __future__ import annotations

import csv
import io
import os
from typing import Iterable

from ..raw import FileFailure, IntakeLimits, RawBook, RawSheet
from .failures import failure, not_spreadsheet
from .grid import Budget, clean_rows

_DELIMITERS = (",", "\t", ";", "|")


def read_text(path: str, data: bytes, enc_hint: str, limits: IntakeLimits) -> RawBook | FileFailure:
    text = _decode_text(data, enc_hint)
    if text is None:
        return not_spreadsheet(path, "binary")
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    delim = _pick_delimiter(lines)
    if delim is None:
        return not_spreadsheet(path, "text")
    budget = Budget(path, limits)
    stem = os.path.splitext(os.path.basename(path))[0]
    try:
        rows = [list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delim)]
    except csv.Error:
        return failure(path, "corrupt")
    rows = clean_rows(_budgeted(rows, stem, budget), stem, budget)
    book = RawBook(path=path, format="csv", sheets=[RawSheet(name=stem, rows=rows)])
    book.notes = budget.final_notes()
    return book


def _budgeted(rows: list[list], sheet: str, budget: Budget) -> list[list]:
    width = max((len(r) for r in rows), default=0)
    budget.check_grid(sheet, len(rows), width)
    return rows


def _decode_text(data: bytes, hint: str) -> str | None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encs: Iterable[str] = ("utf-16",)
    elif data.startswith(b"\xef\xbb\xbf"):
        encs = ("utf-8-sig",)
    else:
        encs = ("utf-8", "gb18030") if hint != "gb18030" else ("gb18030", "utf-8")
    for enc in encs:
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return None


def _pick_delimiter(lines: list[str]) -> str | None:
    """The delimiter that splits most sample lines into >= 2 fields, consistently;
    None when the text is not a table."""
    if len(lines) < 2:
        return None
    best, best_score = None, 0
    for d in _DELIMITERS:
        try:
            counts = [len(r) for r in csv.reader(lines, delimiter=d)]
        except csv.Error:
            continue
        multi = [c for c in counts if c >= 2]
        if len(multi) * 2 < len(counts):
            continue
        # most common field count should cover most lines
        common = max(set(multi), key=multi.count)
        score = multi.count(common) * 10 + len(multi)
        if score > best_score:
            best, best_score = d, score
    return best
