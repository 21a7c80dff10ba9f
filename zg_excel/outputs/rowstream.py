"""Whole rows streamed into an xlsxwriter worksheet (the long sheets of the summary).

xlsxwriter's per-cell API costs about 10 µs a cell (bench/PROFILE.md §2.1): for
the 100,000-row 录用明细 that is most of a merge. ``RowStream`` writes the same
SpreadsheetML that xlsxwriter's constant_memory mode writes for a row
(``<row><c r= s=>…</c></row>``) in one string per row, straight into the
worksheet's row-data file, and keeps everything else — styles, the shared-string
part, column widths, panes, filters, print setup, zipping — to xlsxwriter.
Strings go to the workbook's shared-string table (the part xlsxwriter writes
for a workbook without constant_memory), so a value repeated on 100,000 rows
(a file name, an explanation) is stored once; the columns named ``inline``
(titles: nearly every value distinct) are written in the cell, as xlsxwriter's
constant_memory mode does, so half a million titles are not also kept in the
table's dict until the workbook closes.

It relies on four attributes of xlsxwriter's ``Worksheet`` in constant_memory
mode (``row_data_fh``, ``previous_row``, ``_write_single_row``,
``_check_dimensions``) and the workbook's ``str_table``; ``tests/test_rowstream.py``
reads the written file back with two other readers and LibreOffice, so a
change in xlsxwriter that breaks this fails there.
"""

from __future__ import annotations

import math
import re

from xlsxwriter.utility import _preserve_whitespace, xl_col_to_name

_CHUNK = 4000  # rows joined per write to the row-data file
_ROWS, _COLS = 1_048_576, 16_384  # a worksheet's last row and column
_CELL_LIMIT = 32767  # Excel's limit of characters (UTF-16 units) in a cell
# A text needing none of xlsxwriter's escapes (&, <, >, control characters, _xHHHH_, U+FFFE/FFFF)
# nor xml:space="preserve" (leading or trailing whitespace) goes into <t> as it is.
_PLAIN_INLINE = re.compile(r"[\x00-\x1f&<>\ufffe\uffff]|_x[0-9A-Fa-f]{4}_|^\s|\s$")


def _fit(text: str) -> str:
    """``text`` cut to Excel's cell limit (as xlsxwriter's write_string does)."""
    if len(text) <= _CELL_LIMIT // 2:
        return text
    data = text.encode("utf-16-le")
    if len(data) // 2 <= _CELL_LIMIT:
        return text
    return data[: _CELL_LIMIT * 2].decode("utf-16-le", errors="ignore")


class RowStream:
    """Append rows to ``ws`` from row ``first_row`` (0-based) on, in order.

    ``add(values, formats)``: ``values[c]`` is the cell of column ``c`` — a
    ``str`` (stored as text, whatever it looks like), an ``int`` or ``float``
    (a number; a date is its serial number with a date format), or ``None`` /
    ``""`` for no cell; ``formats[c]`` is an xlsxwriter ``Format`` or ``None``.
    ``height`` sets the row height in points. With ``blanks=True`` a column with
    no value but a format gets an empty formatted cell (borders on a printed
    form), as xlsxwriter's ``write_blank``. ``close()`` must be called before
    anything else is written to the sheet; rows after the last streamed one can
    then be written with xlsxwriter as usual.
    """

    def __init__(self, ws, first_row: int, *, inline: tuple[int, ...] = ()):
        if not getattr(ws, "constant_memory", False):
            raise ValueError("RowStream needs a worksheet of a constant_memory workbook")
        held = first_row == ws.previous_row and (
            ws.table.get(first_row) or first_row in ws.row_info or first_row in ws.comments)
        if first_row < ws.previous_row or held:
            raise ValueError(f"row {first_row + 1} is already written or held by xlsxwriter")
        ws._write_single_row(first_row)  # flush the row xlsxwriter still holds (the header)
        self.ws = ws
        self.first = first_row
        self.row = first_row  # the next row to write, 0-based
        self.max_col = -1
        self._sst = ws.str_table  # the workbook's shared-string table
        self._index = self._sst._get_shared_string_index
        self._inline = frozenset(inline)
        self._escape_cc = ws._escape_control_characters
        self._escape = ws._escape_data
        self._xf: dict[int, str] = {}
        self._styles: dict[int, tuple[object, list[str]]] = {}  # id(formats) -> (formats, styles)
        self._strings: dict[str, int] = {}  # shared-string indexes already asked for
        self._repeats = 0  # references served from ``_strings`` (added to the table's count at close)
        self._cols: list[str] = []  # '<c r="B' per column
        self._buf: list[str] = []
        self._closed = False

    def _style(self, fmt) -> str:
        if fmt is None:
            return ""
        key = id(fmt)
        s = self._xf.get(key)
        if s is None:
            xf = fmt._get_xf_index()
            s = self._xf[key] = f' s="{xf}"' if xf else ""
        return s

    def _styles_of(self, formats) -> list[str]:
        """The ``s=`` attributes of a formats list; cached while the list is the same object."""
        got = self._styles.get(id(formats))
        if got is not None and got[0] is formats:
            return got[1]
        styles = [self._style(f) for f in formats]
        if len(self._styles) >= 64:
            self._styles.clear()
        self._styles[id(formats)] = (formats, styles)  # holding the list keeps its id from reuse
        return styles

    def add(self, values, formats, height: float | None = None, *, blanks: bool = False) -> None:
        r = self.row + 1
        if r > _ROWS:
            raise ValueError(f"row {r} is past the last row of a worksheet ({_ROWS})")
        cols = self._cols
        if len(cols) < len(values):
            if len(values) > _COLS:
                raise ValueError(f"{len(values)} columns is more than a worksheet has ({_COLS})")
            cols.extend(f'<c r="{xl_col_to_name(c)}' for c in range(len(cols), len(values)))
        styles = self._styles_of(formats)
        strings = self._strings
        inline = self._inline
        rs = str(r)
        if height is None:
            out = [f'<row r="{rs}">']
        else:
            px = int(height * 4.0 / 3.0 + 0.5)  # whole pixels, as xlsxwriter's set_row
            out = [f'<row r="{rs}" ht="{px * 0.75:.16g}" customHeight="1">']
        append = out.append
        last = -1
        for c, v in enumerate(values):
            t = type(v)
            if t is str:
                if not v:
                    if blanks and formats[c] is not None:
                        append(f'{cols[c]}{rs}"{styles[c]}/>')
                        last = c
                    continue
                if len(v) > _CELL_LIMIT // 2:
                    v = _fit(v)
                if c in inline:
                    append(f'{cols[c]}{rs}"{styles[c]} t="inlineStr">{self._inline_text(v)}</c>')
                else:
                    i = strings.get(v)
                    if i is None:
                        i = strings[v] = self._index(v)
                    else:
                        self._repeats += 1
                    append(f'{cols[c]}{rs}"{styles[c]} t="s"><v>{i}</v></c>')
            elif v is None:
                if blanks and formats[c] is not None:
                    append(f'{cols[c]}{rs}"{styles[c]}/>')
                    last = c
                continue
            elif t is int:
                append(f'{cols[c]}{rs}"{styles[c]}><v>{v}</v></c>')
            elif t is float:
                if v - v == 0:  # finite
                    append(f'{cols[c]}{rs}"{styles[c]}><v>{v:.16G}</v></c>')
                else:  # as xlsxwriter's nan_inf_to_errors
                    error = "#NUM!" if math.isnan(v) else "#DIV/0!"
                    append(f'{cols[c]}{rs}"{styles[c]} t="e"><v>{error}</v></c>')
            elif t is bool:
                append(f'{cols[c]}{rs}"{styles[c]} t="b"><v>{int(v)}</v></c>')
            else:
                raise TypeError(f"RowStream cannot write a {t.__name__} (column {c + 1}, row {r})")
            last = c
        append("</row>")
        if last > self.max_col:
            self.max_col = last
        buf = self._buf
        buf.append("".join(out))
        self.row += 1
        if len(buf) >= _CHUNK:
            self._flush()

    def _inline_text(self, text: str) -> str:
        """``<is><t>…</t></is>`` escaped as xlsxwriter's ``_write_cell`` does in constant_memory mode."""
        if _PLAIN_INLINE.search(text) is None:  # nothing to escape, no outer whitespace: most titles
            return f"<is><t>{text}</t></is>"
        text = self._escape_cc(text)
        space = ' xml:space="preserve"' if _preserve_whitespace(text) else ""
        return f"<is><t{space}>{self._escape(text)}</t></is>"

    def _flush(self) -> None:
        if self._buf:
            self.ws.row_data_fh.write("".join(self._buf))
            self._buf.clear()

    def close(self) -> int:
        """Write what is buffered; return the next free row (0-based)."""
        if self._closed:
            return self.row
        self._closed = True
        self._flush()
        ws = self.ws
        self._sst.count += self._repeats  # the table counts every reference
        self._repeats = 0
        if self.row > self.first:
            ws._check_dimensions(self.first, 0)
            ws._check_dimensions(self.row - 1, max(self.max_col, 0))
        ws.previous_row = self.row  # xlsxwriter refuses rows above this one from now on
        return self.row

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
