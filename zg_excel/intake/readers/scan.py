"""xlsx / xlsm: the streaming scan of each sheet's XML.

One streaming pass over each sheet's XML, before any parser runs. It reads
the member in 4 MiB chunks cut at <row> starts (so every piece holds whole
cells) and collects what calamine does not report, plus the sheet's real
extent. Most pieces only pay for a few bytes searches; the per-cell work
runs only on pieces that contain a marker (hidden=, <f, t="e").
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass

from ..raw import IntakeLimits, RawSheet
from .grid import Budget, parse_ref, put_cell
from .hidden import hide_runs
from .limits import MAX_FORMULA_CHARS, MAX_FORMULAS_REPORTED, MB
from .parts import xml_attrs, xml_unescape

_HIDDEN_ATTR = re.compile(rb"\bhidden\s*=\s*[\"'](?:1|true)[\"']")
_F_OPEN = re.compile(rb"<(?:[\w.-]+:)?f[\s>/]")
_T_ERROR = re.compile(rb"\bt\s*=\s*[\"']e[\"']")
_MERGE = re.compile(rb"<(?:[\w.-]+:)?mergeCell\b([^>]*?)/?>")
_COL_TAG = re.compile(rb"<(?:[\w.-]+:)?col\b([^>]*?)/?>")
_ROW_NO_R = re.compile(rb'<row(?! r=")[\s>/]')
_ROW_TAG_PREFIXED = re.compile(rb"<[\w.-]+:row[\s>/]")
_ROW_TAG_PREFIXED_R = re.compile(rb"<[\w.-]+:row\s+r=\"")
_LAST_ROW_R = re.compile(rb"<(?:[\w.-]+:)?row\s+r=\"([0-9]{1,7})\"")
# References of cells that have content (``<c r="B7" ...>``, not the self-closing
# ``<c r="B7" s="3"/>`` of a formatted blank, which calamine skips too). The
# literal prefix keeps these fast (~0.1 s per 40 MB); the r= of a cell is the
# only attribute of sheet XML ending in "r" whose value looks like a cell reference.
_REF_COLS = re.compile(rb'r="([A-Z]{2,3})[0-9]{1,7}"[^/>]*>')
_REF_ROWS = re.compile(rb'r="[A-Z]{1,3}([0-9]{1,7})"[^/>]*>')
# Single-letter columns above the highest seen so far (one compiled pattern per lower bound): searched,
# not listed, so a sheet of columns A-D costs about one pass per piece, as _REF_COLS does.
_SINGLE_ABOVE = {top: re.compile(rb'r="([' + bytes([top + 1]) + rb'-Z])[0-9]{1,7}"[^/>]*>') for top in range(64, 90)}
PRESCAN_CHUNK = 4 * MB

_CELL_OPEN = re.compile(rb"<(?:[\w.-]+:)?c\b([^>]*?)(/?)>")
_F_TAG = re.compile(rb"<(?:[\w.-]+:)?f\b[^>]*?(/?)>")
_F_CLOSE = re.compile(rb"</(?:[\w.-]+:)?f>")
_V_TAG = re.compile(rb"<(?:[\w.-]+:)?v\b[^>]*?(/?)>")
_IS_TAG = re.compile(rb"<(?:[\w.-]+:)?is\b")
_V_CLOSE = re.compile(rb"</(?:[\w.-]+:)?v>")
_CELL_CLOSE = re.compile(rb"</(?:[\w.-]+:)?c>")
_SEQ_TAG = re.compile(rb"<(?:[\w.-]+:)?(row|c)\b([^>]*?)(/?)>")


@dataclass
class SheetScan:
    """What the streaming pass found in one sheet's XML (1-based positions)."""

    max_row: int = 0  # highest row of a cell with content
    max_col: int = 0  # highest column of a cell with content
    shared_refs: int = 0  # cells of type t="s" (references into sharedStrings.xml)
    hidden_rows: list = None  # inclusive runs [first, last]
    hidden_cols: list = None  # inclusive runs [first, last]
    formulas: dict = None  # (row, col) -> "=text" for formulas without a cached value
    errors: list = None  # (row, col, "#DIV/0!") error cells, which calamine reads as empty
    merged: list = None  # attributes of each <mergeCell> (bytes), for the openpyxl fallback
    last_row: int = 0  # row number of the last <row> seen (numbering state)
    sequential: bool = False  # rows or cells without r=: walk every tag in order
    prefixed: bool | None = None  # tags carry a namespace prefix (<x:c>)

    def __post_init__(self):
        self.hidden_rows, self.hidden_cols = [], []
        self.formulas, self.errors, self.merged = {}, [], []

    def hide_row(self, r: int) -> None:
        runs = self.hidden_rows
        if runs and runs[-1][1] == r - 1:
            runs[-1][1] = r
        elif not runs or runs[-1][1] < r:
            runs.append([r, r])
        else:  # out of order: keep it anyway
            runs.append([r, r])

    def record(self, rc: tuple[int, int], attrs: dict[str, str], body: bytes, want_f: bool, want_err: bool,
               max_errors: int) -> None:
        t = attrs.get("t", "n")
        if want_err and t == "e" and len(self.errors) < max_errors:
            v = _V_TAG.search(body)
            if v is not None and not v.group(1):
                close = _V_CLOSE.search(body, v.end())
                text = body[v.end():close.start() if close else len(body)]
                text = xml_unescape(text.decode("utf-8", "replace")).strip()
                if text:
                    self.errors.append((rc[0], rc[1], text[:64]))
        if not want_f:
            return
        f = _F_TAG.search(body)
        if f is None:
            return
        if f.group(1):  # <f .../>: a shared-formula child
            f_text_end = f_end = f.end()
        else:
            close = _F_CLOSE.search(body, f.end())
            f_text_end = close.start() if close else len(body)
            f_end = close.end() if close else len(body)
        v = _V_TAG.search(body, f_end)
        if v is not None:
            # <v>x</v> is a cached value; <v></v> or <v/> is one only for a text result
            if t == "str" or (not v.group(1) and body[v.end():v.end() + 1] != b"<"):
                return
        elif t == "inlineStr" and _IS_TAG.search(body, f_end):
            return  # LibreOffice caches text results as <is><t>…</t></is>
        if len(self.formulas) >= MAX_FORMULAS_REPORTED:
            return
        text = body[f.end():f_text_end][:MAX_FORMULA_CHARS * 4] if not f.group(1) else b""
        text = xml_unescape(text.decode("utf-8", "replace"))[:MAX_FORMULA_CHARS]
        self.formulas[rc] = "=" + text if text else ""


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def scan_sheet(zf: zipfile.ZipFile, part: str, limits: IntakeLimits) -> SheetScan:
    """Stream one sheet's XML. Raises zipfile / zlib errors for a broken member
    (e.g. a CRC error: more data than its declared size)."""
    scan = SheetScan()
    cols: set[bytes] = set()
    carry = b""
    with zf.open(part) as fh:
        while True:
            chunk = fh.read(PRESCAN_CHUNK)
            buf = carry + chunk if carry else chunk
            if chunk:
                cut = _piece_end(buf)
                if cut <= 0:
                    carry = buf  # one row longer than a chunk: read on
                    continue
                piece, carry = buf[:cut], buf[cut:]
            else:
                piece, carry = buf, b""
            if piece:
                _scan_piece(piece, scan, cols, limits)
            if not chunk:
                break
    # cells without r= (numbered by the sequential walk) have no letters to count: assume A-Z for them
    unknown_width = 26 if scan.max_row and not cols else 0
    scan.max_col = max(scan.max_col, unknown_width, *(_col_number(c) for c in cols))
    return scan


def _piece_end(buf: bytes) -> int:
    """Where to cut ``buf`` so the piece holds whole cells: at the start of its
    last <row> tag, else after its last tag."""
    cut = buf.rfind(b"<row")
    colon = buf.rfind(b":row", max(cut, 0))
    if colon > cut:
        lt = buf.rfind(b"<", 0, colon)
        if lt >= 0 and buf[lt + 1:lt + 2] != b"/":
            cut = lt
    if cut > 0:
        return cut
    if cut == 0:
        return 0
    return buf.rfind(b">") + 1


def _single_letter_cols(piece: bytes, cols: set[bytes]) -> None:
    """Add to ``cols`` the highest single-letter column with content in ``piece`` (only the highest matters)."""
    if any(len(c) > 1 for c in cols):
        return  # a column past Z is already known
    top = max((c[0] for c in cols), default=64)
    pos = 0
    while top < 90:
        m = _SINGLE_ABOVE[top].search(piece, pos)
        if m is None:
            return
        top, pos = m.group(1)[0], m.start()
        cols.add(m.group(1))


def _scan_piece(piece: bytes, scan: SheetScan, cols: set[bytes], limits: IntakeLimits) -> None:
    if scan.prefixed is None:  # <x:worksheet xmlns:x=...>: some generators prefix every tag
        scan.prefixed = b":worksheet" in piece[:4096] and b"<worksheet" not in piece[:4096]
    prefixed = scan.prefixed
    cols.update(_REF_COLS.findall(piece))
    _single_letter_cols(piece, cols)
    # rows come in order: the last content cells of the piece carry its highest row
    rows = _REF_ROWS.findall(piece, max(0, len(piece) - 65536)) or _REF_ROWS.findall(piece)
    if rows:
        scan.max_row = max(scan.max_row, max(map(int, rows)))
    scan.shared_refs += piece.count(b't="s"')
    if b"mergeCell" in piece:  # kept raw: parsed only for the openpyxl fallback (_merged_ranges)
        scan.merged.extend(m.group(1) for m in _MERGE.finditer(piece))
    has_hidden = b"hidden" in piece
    has_f = b"<f" in piece or (prefixed and b":f" in piece)
    has_err = b't="e"' in piece or b"t='e'" in piece
    if has_hidden and (b"<col" in piece or (prefixed and b":col" in piece)):
        for m in _COL_TAG.finditer(piece):
            a = xml_attrs(m.group(1))
            if a.get("hidden") in ("1", "true"):
                try:
                    lo, hi = int(a.get("min", "0")), int(a.get("max", "0"))
                except ValueError:
                    continue
                if 1 <= lo <= hi:
                    scan.hidden_cols.append([lo, min(hi, 16_384)])
    # rows without r= first (valid OOXML, rare): switch to numbering rows in order
    if not scan.sequential:
        if prefixed:
            if len(_ROW_TAG_PREFIXED.findall(piece)) != len(_ROW_TAG_PREFIXED_R.findall(piece)):
                scan.sequential = True
        elif _ROW_NO_R.search(piece):
            scan.sequential = True
    max_errors = limits.max_cells
    if not scan.sequential and (has_hidden or has_f or has_err):
        trial = SheetScan()
        if not _scan_fast(piece, trial, has_hidden, has_f, has_err, max_errors):
            for run in trial.hidden_rows:
                for r in range(run[0], run[1] + 1):
                    scan.hide_row(r)
            for rc, text in trial.formulas.items():
                if len(scan.formulas) < MAX_FORMULAS_REPORTED:
                    scan.formulas[rc] = text
            scan.errors.extend(trial.errors[:max(0, max_errors - len(scan.errors))])
        else:
            scan.sequential = True
    if scan.sequential:
        _scan_sequential(piece, scan, has_f, has_err, max_errors)
    else:
        tags = list(_LAST_ROW_R.finditer(piece, max(0, len(piece) - 4096)))
        if tags:
            scan.last_row = int(tags[-1].group(1))


def _tag_at(xml: bytes, pos: int) -> tuple[int, bytes]:
    """(start, local tag name) of the tag that contains byte ``pos``."""
    start = xml.rfind(b"<", 0, pos)
    m = re.match(rb"<(?:[\w.-]+:)?([\w.-]+)", xml[start:start + 64])
    return start, (m.group(1) if m else b"")


def _cell_body(xml: bytes, open_end: int) -> tuple[bytes, int]:
    end = xml.find(b"</c>", open_end)
    if end < 0 or xml.find(b":c>", open_end, end) >= 0:
        m = _CELL_CLOSE.search(xml, open_end)
        end = m.start() if m else len(xml)
    return xml[open_end:end], end


def _scan_fast(xml: bytes, scan: SheetScan, want_hidden: bool, want_f: bool, want_err: bool,
               max_errors: int) -> bool:
    """Hidden rows, formulas without a cached value and error cells, visiting
    only the tags that carry a marker. Returns True when a relevant row or cell
    has no r= attribute (the caller then walks the piece in order)."""
    if want_hidden:
        for m in _HIDDEN_ATTR.finditer(xml):
            start, tag = _tag_at(xml, m.start())
            if tag != b"row":
                continue
            r = xml_attrs(xml[start:xml.find(b">", start)]).get("r")
            if r is None:
                return True
            try:
                scan.hide_row(int(r))
            except ValueError:
                continue
    hits: list[int] = []
    if want_f:
        hits.extend(m.start() for m in _F_OPEN.finditer(xml))
    if want_err:
        hits.extend(m.start() for m in _T_ERROR.finditer(xml))
        hits.sort()
    done_until = -1
    for pos in hits:
        if pos < done_until:
            continue
        if want_f and xml.startswith(b"<f", pos):
            # fast path for the common case: <f>…</f><v>non-empty</v>
            gt = xml.find(b">", pos)
            if gt > 0:
                if xml[gt - 1:gt] == b"/":
                    f_end = gt + 1
                else:
                    f_end = xml.find(b"</f>", gt) + 4
                if f_end > 3 and xml.startswith(b"<v>", f_end) and xml[f_end + 3:f_end + 4] != b"<":
                    continue
        # the <c ...> open tag is right before <f> (or holds t="e"): look back a
        # bounded window only, so many hits cannot make this quadratic
        lo = max(0, pos - 4096)
        start = max(xml.rfind(b"<c ", lo, pos + 1), xml.rfind(b"<c>", lo, pos + 1))
        colon = xml.rfind(b":c ", lo, pos + 1)
        if colon > start:
            start = xml.rfind(b"<", lo, colon + 1)
        if start < 0:
            return True  # no open tag nearby: let the sequential walk sort it out
        m = _CELL_OPEN.match(xml, start)
        if m is None:
            continue
        attrs = xml_attrs(m.group(1))
        r = attrs.get("r")
        if r is None:
            return True
        rc = parse_ref(r)
        if rc is None:
            continue
        if m.group(2):  # <c .../> has no children
            done_until = m.end()
            continue
        body, done_until = _cell_body(xml, m.end())
        scan.record(rc, attrs, body, want_f, want_err, max_errors)
    return False


def _scan_sequential(xml: bytes, scan: SheetScan, want_f: bool, want_err: bool, max_errors: int) -> None:
    """Slow path for rows / cells without r= attributes: number them in order."""
    row_no = scan.last_row
    col_no = 0
    pos = 0
    while True:
        m = _SEQ_TAG.search(xml, pos)
        if m is None:
            break
        pos = m.end()
        a = xml_attrs(m.group(2))
        if m.group(1) == b"row":
            try:
                row_no = int(a["r"]) if "r" in a else row_no + 1
            except ValueError:
                row_no += 1
            col_no = 0
            if a.get("hidden") in ("1", "true"):
                scan.hide_row(row_no)
            continue
        rc = parse_ref(a["r"]) if "r" in a else None
        if rc is None:
            rc = (row_no, col_no + 1)
        col_no = rc[1]
        if rc[0] > scan.max_row and not m.group(3):
            scan.max_row = rc[0]
        if rc[1] > scan.max_col and not m.group(3):
            scan.max_col = rc[1]
        if m.group(3) or not (want_f or want_err):
            continue
        body, pos = _cell_body(xml, m.end())
        scan.record(rc, a, body, want_f, want_err, max_errors)
    scan.last_row = row_no


def apply_scan(sheet: RawSheet, scan: SheetScan, budget: Budget, merged: bool) -> None:
    """Put what the scan found into a sheet read by calamine / openpyxl."""
    for r, c, text in scan.errors:
        put_cell(sheet, budget, (r, c), text)
    hide_runs(sheet, scan.hidden_rows, scan.hidden_cols)
    sheet.formulas_without_value.update(scan.formulas)
    if merged:
        sheet.merged.extend(_merged_ranges(scan.merged))


def _merged_ranges(attrs: list[bytes]) -> list[tuple[int, int, int, int]]:
    """(r0, c0, r1, c1) of <mergeCell ref="A1:B2"> attribute blobs (malformed refs skipped)."""
    out = []
    for blob in attrs:
        ref = xml_attrs(blob).get("ref", "")
        a, _, b = ref.partition(":")
        p, q = parse_ref(a), parse_ref(b or a)
        if p and q:
            out.append((p[0], p[1], q[0], q[1]))
    return out


