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
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import os
import posixpath
import re
import struct
import zipfile
from dataclasses import dataclass
from typing import Iterable

from .raw import FileFailure, IntakeLimits, RawBook, RawSheet
from .sniff import (
    Sniffed,
    claims_spreadsheet,
    is_lock_file_name,
    office_document_part,
    sniff_bytes,
)

MB = 1 << 20
MAX_NOTES = 20  # per book; further notes are summarised
MAX_FORMULAS_REPORTED = 10_000  # per sheet
MAX_FORMULA_CHARS = 1_000
MAX_ZIP_MEMBERS = 20_000
RATIO_MIN_MEMBER = 1 * MB  # small members may compress extremely well and are harmless

# ------------------------------------------------------------- messages ---

RESEND_XLSX = "请用 Excel 或 WPS 打开后“另存为” Excel 工作簿(.xlsx) 再报送。"
COPY_TO_NEW = "请把有效数据复制到新建的工作簿，另存为 .xlsx 后重新报送。"

MESSAGES: dict[str, str] = {
    "lock_file": "这是 Excel/WPS 打开文件时自动生成的临时锁定文件（通常以 ~$ 开头、只有一百多字节），不是报表，已跳过。",
    "empty": "文件是空的（0 字节），可能在保存或发送时出错。请重新保存后再报送。",
    "unreadable": "无法打开此文件（{error}）。请确认文件没有被其他程序占用后重试。",
    "too_large_file": "文件过大（{size:.1f} MB，上限 {limit:g} MB），未读取。"
                      "请删除无关的工作表、图片和大片空白格式后重新报送。",
    "too_large_unzipped": "文件解压后过大（约 {size:.0f} MB，上限 {limit:g} MB），疑似压缩炸弹或含有大量空白格式，未读取。"
                          + COPY_TO_NEW,
    "too_large_ratio": "文件内部的“{member}”压缩比异常（{ratio:.0f} 倍，上限 {limit:g} 倍），疑似压缩炸弹，未读取。"
                       + COPY_TO_NEW,
    "too_large_members": "文件内部包含的部件过多（{count} 个），疑似构造异常的文件，未读取。" + COPY_TO_NEW,
    "too_large_cells": "表格内容过多（非空单元格超过 {limit} 个），未读取。请确认没有误填或误粘贴大量数据，"
                       "删除无关内容后重新报送。",
    "too_large_shared": "文件中的长文字被大量单元格重复引用（{refs} 个单元格 × 每段约 {size:.0f} KB，展开后约 {total:.0f} MB，"
                        "上限 {limit:g} MB），疑似恶意构造，未读取。" + COPY_TO_NEW,
    "too_large_declared": "文件声明的表格范围大得不合理（{cells} 个单元格），疑似恶意构造，未读取。" + COPY_TO_NEW,
    "too_large_grid": "工作表“{sheet}”的使用范围过大（延伸到 {ref}），未读取。通常是远处的单元格误填了内容或格式。"
                      + COPY_TO_NEW,
    "encrypted": "文件已加密（设置了打开密码），无法读取。请取消密码后重新报送。",
    "numbers": "这是苹果 Numbers 表格文件，无法直接读取。请在 Numbers 中选择“文件 > 导出为 > Excel”，"
               "导出 .xlsx 文件后重新报送。",
    "html": "这是网页文件（HTML），只是扩展名为 {ext}，并不是真正的 Excel 工作簿（常见于从网页系统直接导出的表格）。"
            + RESEND_XLSX,
    "xml": "这是 XML 格式的表格（{what}），扩展名为 {ext}，并不是 Excel 工作簿。" + RESEND_XLSX,
    "not_spreadsheet": "文件内容不是电子表格（{what}），无法读取。请确认是否发错了文件，并以 Excel 工作簿(.xlsx) 格式重新报送。",
    "not_spreadsheet_skipped": "不是电子表格文件（{what}），已跳过。",
    "corrupt": "文件已损坏或格式不完整，无法打开。请用 Excel 或 WPS 打开，确认内容无误后“另存为” Excel 工作簿(.xlsx) 再重新报送。",
    "corrupt_xml_entities": "文件中含有不允许的 XML 实体声明（可能是恶意构造的文件），已拒绝读取。"
                            "请用 Excel 或 WPS 打开后“另存为”新的 Excel 工作簿(.xlsx) 再报送。",
    # set by worker.py when the reader process itself fails
    "crashed": "读取此文件时读取程序异常退出（文件可能已损坏或构造异常），其他文件不受影响。"
               "请用 Excel 或 WPS 打开后“另存为”新的 Excel 工作簿(.xlsx) 再报送。",
    "memory": "读取此文件所需内存超过上限（{limit} MB），文件可能含有超大内容或大片空白格式，未读取。" + COPY_TO_NEW,
    "timeout": "读取此文件超时（超过 {limit:g} 秒），文件可能过大或构造异常，未读取。" + COPY_TO_NEW,
}

_WHAT = {
    "word": "Word 文档",
    "powerpoint": "PowerPoint 演示文稿",
    "opendocument": "OpenDocument 文字或演示文档",
    "zip": "压缩包",
    "cfb": "Office 复合文档，但其中没有工作簿",
    "binary": "无法识别的二进制数据",
    "text": "纯文本，不是以逗号或制表符分隔的表格",
    "spreadsheetml2003": "Excel 2003 XML 表格",
    "flat-ods": "LibreOffice 平面 XML 表格 .fods",
    "xml": "XML 文件",
}


def failure(path: str, code: str, key: str | None = None, *, skipped: bool = False, **fmt) -> FileFailure:
    """A ``FileFailure`` with the Chinese message ``MESSAGES[key or code]``."""
    msg = MESSAGES[key or code]
    if fmt:
        msg = msg.format(**fmt)
    return FileFailure(path=path, code=code, message=msg, skipped=skipped)


class _Refused(Exception):
    """Raised inside a reader to abandon the file with a prepared failure."""

    def __init__(self, fail: FileFailure):
        super().__init__(fail.code)
        self.failure = fail


# ---------------------------------------------------------------- entry ---

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
    except _Refused as r:
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
        return failure(path, "html", "xml", ext=ext, what=_WHAT.get(sn.detail, "XML 文件"))
    if kind == "corrupt":
        return failure(path, "corrupt")
    if kind == "not_spreadsheet":
        return _not_spreadsheet(path, sn.detail)
    if sn.zip is not None:
        fail = _check_zip_limits(path, sn.zip, limits)
        if fail is not None:
            return fail
    if kind in ("xlsx", "xlsm"):
        return _read_ooxml(path, data, sn, limits)
    if kind in ("xlsb", "ods"):
        return _read_calamine_only(path, data, sn, limits)
    if kind in ("xls", "biff"):
        return _read_xls(path, data, sn, limits)
    if kind == "text":
        return _read_text(path, data, sn.detail, limits)
    return failure(path, "corrupt")  # pragma: no cover - every kind is handled above


def _not_spreadsheet(path: str, detail: str) -> FileFailure:
    what = _WHAT.get(detail, _WHAT["binary"])
    if claims_spreadsheet(path):
        return failure(path, "not_spreadsheet", what=what)
    return failure(path, "not_spreadsheet", "not_spreadsheet_skipped", skipped=True, what=what)


# ----------------------------------------------------------- zip limits ---

def _check_zip_limits(path: str, zf: zipfile.ZipFile, limits: IntakeLimits) -> FileFailure | None:
    """Refuse zip bombs from the declared sizes, before inflating anything.

    Lying headers do not get past this: zipfile and calamine both stop reading
    a member at its declared size (CRC / "larger than declared" errors).
    """
    infos = zf.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        return failure(path, "too_large", "too_large_members", count=len(infos))
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size >= RATIO_MIN_MEMBER:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                return failure(path, "too_large", "too_large_ratio", member=info.filename,
                               ratio=ratio, limit=limits.max_ratio)
    if total > limits.max_uncompressed_mb * MB:
        return failure(path, "too_large", "too_large_unzipped", size=total / MB,
                       limit=limits.max_uncompressed_mb)
    return None


# ---------------------------------------------------------- cell grids ---

class _Budget:
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
            raise _Refused(failure(self.path, "too_large", "too_large_cells", limit=self.limits.max_cells))

    def check_grid(self, sheet: str, n_rows: int, n_cols: int) -> None:
        if n_rows * n_cols > self.grid_cap:
            raise _Refused(failure(self.path, "too_large", "too_large_grid", sheet=sheet,
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


def _clean_rows(rows: list[list], sheet: str, budget: _Budget) -> list[list]:
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


# ------------------------------------------------------- calamine core ---

def _calamine_sheets(path: str, data: bytes, budget: _Budget, with_merged: bool) -> list[RawSheet]:
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
            rows = _clean_rows(rows, meta.name, budget)
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


def _definite_failure(path: str, e: BaseException) -> FileFailure | None:
    """A calamine error that no fallback reader can get past: a password, or a DoS-sized range."""
    if _is_password_error(e):
        return failure(path, "encrypted")
    return _cell_limit_failure(path, e)


def _is_entity_error(e: BaseException) -> bool:
    text = str(e)
    return "entity" in text.lower() or "EntitiesForbidden" in repr(e.__context__ or "")


# ------------------------------------------------------------- ooxml ---

def _read_ooxml(path: str, data: bytes, sn: Sniffed, limits: IntakeLimits) -> RawBook | FileFailure:
    budget = _Budget(path, limits)
    zf = sn.zip
    assert zf is not None
    parts = _sheet_parts(zf)
    # One streaming pass over each sheet's XML before any parser sees it: the
    # real extent (a grid that would make calamine allocate rows x columns
    # cells is refused: one stray value in XFD1048576 = 17 G cells = an
    # abort), hidden rows / columns, formulas without value, error cells.
    scans: dict[str, _SheetScan] = {}
    for name, part in parts.items():
        try:
            scans[name] = sc = _scan_sheet(zf, part, limits)
        except _Refused:
            raise
        except Exception:  # noqa: BLE001 - CRC error (more data than declared), zlib.error, ...
            return failure(path, "corrupt")
        budget.check_grid(name, sc.max_row, sc.max_col)
    fail = _check_shared_string_amplification(path, zf, parts.values(),
                                              sum(sc.shared_refs for sc in scans.values()), limits)
    if fail is not None:
        return fail
    try:
        sheets = _calamine_sheets(path, data, budget, with_merged=True)
        reader = "calamine"
    except _Refused:
        raise
    except Exception as e:  # noqa: BLE001 - calamine raises its own family and OSError
        fail = _definite_failure(path, e)
        if fail is not None:
            return fail
        entity = _is_entity_error(e)
        budget = _Budget(path, limits)
        try:
            sheets = _openpyxl_sheets(data, budget)
        except _Refused:
            raise
        except Exception as e2:  # noqa: BLE001
            if entity or _is_entity_error(e2):
                return failure(path, "corrupt", "corrupt_xml_entities")
            return failure(path, "corrupt")
        if not sheets:
            return failure(path, "corrupt")
        reader = "openpyxl"
        budget.note("文件结构有轻微问题，已改用备用方式读取；建议用 Excel 打开后重新保存。")

    for s in sheets:
        sc = scans.get(s.name)
        if sc is not None:
            _apply_scan(s, sc, budget, merged=(reader != "calamine"))
    book = RawBook(path=path, format=sn.kind, sheets=sheets)
    _ooxml_doc_props(zf, book)
    book.notes = budget.final_notes()
    return book


def _check_shared_string_amplification(path: str, zf: zipfile.ZipFile, sheet_parts: Iterable[str], refs: int,
                                       limits: IntakeLimits) -> FileFailure | None:
    """Refuse a small sharedStrings.xml whose long items are referenced by many
    cells: readers copy the text into every cell (a 1 MB string x 12,000 cells =
    12 GB, poi/poc-shared-strings.xlsx). The text all references expand to must
    stay within the uncompressed-size budget. Cheap bounds first; the exact sum
    (item length per reference) only when they do not settle it."""
    if not refs:
        return None
    part = _shared_strings_part(zf)
    if part is None:
        return None
    budget = limits.max_uncompressed_mb * MB
    if refs * zf.getinfo(part).file_size <= budget:
        return None
    lengths = _item_lengths(zf, part)
    if not lengths or refs * max(lengths) <= budget:
        return None
    total = sum(_referenced_chars(zf, p, lengths) for p in sheet_parts)
    if total <= budget:
        return None
    return failure(path, "too_large", "too_large_shared", refs=refs, size=max(lengths) / 1024,
                   total=total / MB, limit=limits.max_uncompressed_mb)


_SI_OPEN = re.compile(rb"<(?:[\w.-]+:)?si[\s>]")
_SI_CLOSE = re.compile(rb"</(?:[\w.-]+:)?si>")
_S_CELL_VALUE = re.compile(rb't="s"[^>]*><(?:[\w.-]+:)?v>([0-9]{1,9})<')


def _chunks_cut_after(zf: zipfile.ZipFile, part: str, close: bytes) -> Iterable[bytes]:
    """A member in ~4 MiB pieces, each cut after the last ``close`` it holds."""
    carry = b""
    with zf.open(part) as fh:
        while True:
            chunk = fh.read(PRESCAN_CHUNK)
            if not chunk:
                if carry:
                    yield carry
                return
            buf = carry + chunk if carry else chunk
            cut = buf.rfind(close)
            if cut < 0:
                carry = buf
                continue
            cut += len(close)
            yield buf[:cut]
            carry = buf[cut:]


def _item_lengths(zf: zipfile.ZipFile, part: str) -> list[int]:
    """Byte length of each <si> item of sharedStrings.xml, in order."""
    out: list[int] = []
    for piece in _chunks_cut_after(zf, part, b"si>"):
        starts = [m.end() for m in _SI_OPEN.finditer(piece)]
        ends = [m.start() for m in _SI_CLOSE.finditer(piece)]
        out.extend(max(0, e - s) for s, e in zip(starts, ends))
    return out


def _referenced_chars(zf: zipfile.ZipFile, part: str, lengths: list[int]) -> int:
    total = 0
    n = len(lengths)
    for piece in _chunks_cut_after(zf, part, b"</c>"):
        for idx in map(int, _S_CELL_VALUE.findall(piece)):
            if idx < n:
                total += lengths[idx]
    return total


def _shared_strings_part(zf: zipfile.ZipFile) -> str | None:
    names = set(zf.namelist())
    main = office_document_part(zf, names)
    if main is None:
        return None
    base = posixpath.dirname(main)
    rels = _member(zf, posixpath.join(base, "_rels", posixpath.basename(main) + ".rels"), 16 * MB)
    for m in _REL_TAG.finditer(rels):
        a = _attrs(m.group(1))
        if a.get("Type", "").endswith("/sharedStrings") and a.get("Target"):
            t = a["Target"]
            full = t.lstrip("/") if t.startswith("/") else posixpath.normpath(posixpath.join(base, t))
            return full if full in names else None
    return None


def _openpyxl_sheets(data: bytes, budget: _Budget) -> list[RawSheet]:
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
                rows = _clean_rows(rows, ws.title, budget)
                sheets.append(RawSheet(name=ws.title, rows=rows,
                                       hidden=getattr(ws, "sheet_state", "visible") != "visible"))
            return sheets
        finally:
            wb.close()


_SHEET_TAG = re.compile(rb"<(?:[\w.-]+:)?sheet\b([^>]*?)/?>")
_REL_TAG = re.compile(rb"<(?:[\w.-]+:)?Relationship\b([^>]*?)/?>")
_ATTR = re.compile(rb"([\w.:-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


def _attrs(blob: bytes) -> dict[str, str]:
    out = {}
    for m in _ATTR.finditer(blob):
        val = m.group(2) if m.group(2) is not None else m.group(3)
        out[m.group(1).decode("utf-8", "replace")] = xml_unescape(val.decode("utf-8", "replace"))
    return out


_ENTITY = re.compile(r"&(#x[0-9A-Fa-f]+|#\d+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def xml_unescape(s: str) -> str:
    """Undo the five predefined XML entities and character references, nothing else."""
    if "&" not in s:
        return s

    def rep(m: re.Match) -> str:
        g = m.group(1)
        if g[0] == "#":
            try:
                cp = int(g[2:], 16) if g[1] in "xX" else int(g[1:])
                return chr(cp)
            except (ValueError, OverflowError):
                return m.group(0)
        return _NAMED[g]

    return _ENTITY.sub(rep, s)


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> zip member of its XML, from workbook.xml and its rels."""
    names = set(zf.namelist())
    main = office_document_part(zf, names)
    if main is None:
        return {}
    wb_xml = _member(zf, main, 16 * MB)
    base = posixpath.dirname(main)
    rels_xml = _member(zf, posixpath.join(base, "_rels", posixpath.basename(main) + ".rels"), 16 * MB)
    targets: dict[str, str] = {}
    for m in _REL_TAG.finditer(rels_xml):
        a = _attrs(m.group(1))
        rid, target = a.get("Id"), a.get("Target")
        if not rid or not target or a.get("TargetMode") == "External":
            continue
        if target.startswith("/"):
            full = target.lstrip("/")
        else:
            full = posixpath.normpath(posixpath.join(base, target))
        targets[rid] = full
    out: dict[str, str] = {}
    for m in _SHEET_TAG.finditer(wb_xml):
        a = _attrs(m.group(1))
        name = a.get("name")
        rid = next((v for k, v in a.items() if k == "id" or k.endswith(":id")), None)
        if name is None or rid is None:
            continue
        part = targets.get(rid)
        if part in names:
            out[name] = part
    return out


def _member(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    try:
        info = zf.getinfo(name)
    except KeyError:
        return b""
    if info.file_size > limit:
        return b""
    try:
        return zf.read(info)
    except Exception:  # noqa: BLE001
        return b""


# ------------------------------------------------------- sheet XML scan ---
#
# One streaming pass over each sheet's XML, before any parser runs. It reads
# the member in 4 MiB chunks cut at <row> starts (so every piece holds whole
# cells) and collects what calamine does not report, plus the sheet's real
# extent. Most pieces only pay for a few bytes searches; the per-cell work
# runs only on pieces that contain a marker (hidden=, <f, t="e").

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
class _SheetScan:
    """What the streaming pass found in one sheet's XML (1-based positions)."""

    max_row: int = 0  # highest row of a cell with content
    max_col: int = 0  # highest column of a cell with content (26 when all are single letters)
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


def _scan_sheet(zf: zipfile.ZipFile, part: str, limits: IntakeLimits) -> _SheetScan:
    """Stream one sheet's XML. Raises zipfile / zlib errors for a broken member
    (e.g. a CRC error: more data than its declared size)."""
    scan = _SheetScan()
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
    scan.max_col = max((_col_number(c) for c in cols), default=26)
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


def _scan_piece(piece: bytes, scan: _SheetScan, cols: set[bytes], limits: IntakeLimits) -> None:
    if scan.prefixed is None:  # <x:worksheet xmlns:x=...>: some generators prefix every tag
        scan.prefixed = b":worksheet" in piece[:4096] and b"<worksheet" not in piece[:4096]
    prefixed = scan.prefixed
    cols.update(_REF_COLS.findall(piece))
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
            a = _attrs(m.group(1))
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
        trial = _SheetScan()
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


def _scan_fast(xml: bytes, scan: _SheetScan, want_hidden: bool, want_f: bool, want_err: bool,
               max_errors: int) -> bool:
    """Hidden rows, formulas without a cached value and error cells, visiting
    only the tags that carry a marker. Returns True when a relevant row or cell
    has no r= attribute (the caller then walks the piece in order)."""
    if want_hidden:
        for m in _HIDDEN_ATTR.finditer(xml):
            start, tag = _tag_at(xml, m.start())
            if tag != b"row":
                continue
            r = _attrs(xml[start:xml.find(b">", start)]).get("r")
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
        attrs = _attrs(m.group(1))
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


def _scan_sequential(xml: bytes, scan: _SheetScan, want_f: bool, want_err: bool, max_errors: int) -> None:
    """Slow path for rows / cells without r= attributes: number them in order."""
    row_no = scan.last_row
    col_no = 0
    pos = 0
    while True:
        m = _SEQ_TAG.search(xml, pos)
        if m is None:
            break
        pos = m.end()
        a = _attrs(m.group(2))
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
        if m.group(3) or not (want_f or want_err):
            continue
        body, pos = _cell_body(xml, m.end())
        scan.record(rc, a, body, want_f, want_err, max_errors)
    scan.last_row = row_no


def _apply_scan(sheet: RawSheet, scan: _SheetScan, budget: _Budget, merged: bool) -> None:
    """Put what the scan found into a sheet read by calamine / openpyxl."""
    for r, c, text in scan.errors:
        _put_cell(sheet, budget, (r, c), text)
    _hide(sheet, scan.hidden_rows, scan.hidden_cols)
    sheet.formulas_without_value.update(scan.formulas)
    if merged:
        sheet.merged.extend(_merged_ranges(scan.merged))


def _merged_ranges(attrs: list[bytes]) -> list[tuple[int, int, int, int]]:
    """(r0, c0, r1, c1) of <mergeCell ref="A1:B2"> attribute blobs (malformed refs skipped)."""
    out = []
    for blob in attrs:
        ref = _attrs(blob).get("ref", "")
        a, _, b = ref.partition(":")
        p, q = parse_ref(a), parse_ref(b or a)
        if p and q:
            out.append((p[0], p[1], q[0], q[1]))
    return out


def _put_cell(sheet: RawSheet, budget: _Budget, rc: tuple[int, int], value) -> None:
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


# ----------------------------------------------------------- doc props ---

_MODIFIED = re.compile(rb"<(?:[\w.-]+:)?modified\b[^>]*>([^<]*)<", re.S)
_APPLICATION = re.compile(rb"<(?:[\w.-]+:)?Application\b[^>]*>([^<]*)<", re.S)
_PROPERTY = re.compile(rb"<(?:[\w.-]+:)?property\b([^>]*)>(.*?)</(?:[\w.-]+:)?property>", re.S)
_TAGS = re.compile(rb"<[^>]*>")
_W3CDTF = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$")


def parse_w3cdtf(text: str) -> _dt.datetime | None:
    """'2024-03-05T08:30:00Z' -> aware datetime (UTC when no offset is given)."""
    m = _W3CDTF.match(text.strip())
    if not m:
        return None
    y, mo, d, hh, mi, ss, frac, tz = m.groups()
    try:
        micro = int((frac or "0")[:6].ljust(6, "0"))
        if tz in (None, "Z"):
            tzinfo = _dt.timezone.utc
        else:
            sign = -1 if tz[0] == "-" else 1
            digits = tz[1:].replace(":", "")
            tzinfo = _dt.timezone(sign * _dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
        out = _dt.datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0), micro, tzinfo)
    except (ValueError, OverflowError):
        return None
    if out.year < 1980:
        return None  # unset / zeroed dates written by some exporters
    return out


def _text(blob: bytes) -> str:
    return xml_unescape(_TAGS.sub(b"", blob).decode("utf-8", "replace")).strip()


def _ooxml_doc_props(zf: zipfile.ZipFile, book: RawBook) -> None:
    core = _member(zf, "docProps/core.xml", MB)
    m = _MODIFIED.search(core)
    if m:
        book.saved_time = parse_w3cdtf(m.group(1).decode("utf-8", "replace"))
    app = _member(zf, "docProps/app.xml", MB)
    m = _APPLICATION.search(app)
    if m:
        book.application = xml_unescape(m.group(1).decode("utf-8", "replace")).strip()
    custom = _member(zf, "docProps/custom.xml", MB)
    for m in _PROPERTY.finditer(custom):
        name = _attrs(m.group(1)).get("name")
        if name:
            book.properties[name] = _text(m.group(2))


_ODS_DATE = re.compile(rb"<dc:date>([^<]*)</dc:date>")
_ODS_GENERATOR = re.compile(rb"<meta:generator>([^<]*)</meta:generator>")
_ODS_USER = re.compile(rb"<meta:user-defined\b([^>]*)>(.*?)</meta:user-defined>", re.S)


def _ods_meta(zf: zipfile.ZipFile, book: RawBook) -> None:
    meta = _member(zf, "meta.xml", MB)
    m = _ODS_DATE.search(meta)
    if m:
        book.saved_time = parse_w3cdtf(m.group(1).decode("utf-8", "replace"))
    m = _ODS_GENERATOR.search(meta)
    if m:
        book.application = xml_unescape(m.group(1).decode("utf-8", "replace")).strip()
    for m in _ODS_USER.finditer(meta):
        name = _attrs(m.group(1)).get("meta:name")
        if name:
            book.properties[name] = _text(m.group(2))


# ------------------------------------------------------------ xlsb, ods ---

def _read_calamine_only(path: str, data: bytes, sn: Sniffed, limits: IntakeLimits) -> RawBook | FileFailure:
    budget = _Budget(path, limits)
    try:
        sheets = _calamine_sheets(path, data, budget, with_merged=True)
    except _Refused:
        raise
    except Exception as e:  # noqa: BLE001
        fail = _definite_failure(path, e)
        if fail is not None:
            return fail
        if _is_entity_error(e):
            return failure(path, "corrupt", "corrupt_xml_entities")
        return failure(path, "corrupt")
    book = RawBook(path=path, format=sn.kind, sheets=sheets)
    if sn.kind == "ods" and sn.zip is not None:
        _apply_hidden(sheets, _ods_hidden(sn.zip))
        _ods_meta(sn.zip, book)
    elif sn.zip is not None:
        _ooxml_doc_props(sn.zip, book)
    book.notes = budget.final_notes()
    return book


_ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_HIDDEN_RUNS = dict[str, tuple[list[list[int]], list[list[int]]]]  # sheet -> (row runs, column runs)


def _ods_hidden(zf: zipfile.ZipFile) -> _HIDDEN_RUNS:
    """Hidden (collapsed or filtered) rows and columns of each table of an .ods, as 1-based
    inclusive runs; repeated rows/columns stay one run (LibreOffice writes a million of them).
    Best effort: an unreadable content.xml gives nothing (the cells were read by calamine)."""
    from defusedxml.ElementTree import iterparse

    t = _ODS_TABLE
    out: _HIDDEN_RUNS = {}
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


def _xls_hidden(data: bytes) -> _HIDDEN_RUNS:
    """Hidden rows and columns of an .xls (xlrd with formatting information; best effort)."""
    try:
        import xlrd

        wb = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True, logfile=io.StringIO())
    except Exception:  # noqa: BLE001 - BIFF2-4 and odd files: no formatting information
        return {}
    out: _HIDDEN_RUNS = {}
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


def _apply_hidden(sheets: list[RawSheet], hidden: _HIDDEN_RUNS) -> None:
    """Put hidden row/column runs into the sheets read."""
    for s in sheets:
        _hide(s, *hidden.get(s.name, ([], [])))


def _hide(sheet: RawSheet, row_runs: list, col_runs: list) -> None:
    """Mark 1-based inclusive runs of rows / columns hidden, clipped to the grid: "hide everything
    below the table" must not cost a million entries."""
    n_rows = len(sheet.rows)
    n_cols = max((len(r) for r in sheet.rows), default=0)
    for lo, hi in row_runs:
        sheet.hidden_rows.update(range(lo, min(hi, n_rows) + 1))
    for lo, hi in col_runs:
        sheet.hidden_cols.update(range(lo, min(hi, n_cols) + 1))


# ------------------------------------------------------------------ xls ---

def _read_xls(path: str, data: bytes, sn: Sniffed, limits: IntakeLimits) -> RawBook | FileFailure:
    budget = _Budget(path, limits)
    sheets = None
    if sn.kind == "xls":
        try:
            sheets = _calamine_sheets(path, data, budget, with_merged=True)
        except _Refused:
            raise
        except Exception as e:  # noqa: BLE001
            fail = _definite_failure(path, e)
            if fail is not None:
                return fail
            sheets = None
        if sheets is not None:
            _restore_xls_errors(data, sheets, budget)
    if sheets is None:
        budget = _Budget(path, limits)
        try:
            sheets = _xlrd_sheets(data, budget)
        except _Refused:
            raise
        except Exception as e:  # noqa: BLE001
            if "encrypted" in str(e).lower():
                return failure(path, "encrypted")
            return failure(path, "corrupt")
        if sn.kind == "xls":
            budget.note("文件结构有轻微问题，已改用备用方式读取；建议用 Excel 打开后另存为 .xlsx。")
    _apply_hidden(sheets, _xls_hidden(data))
    book = RawBook(path=path, format="xls", sheets=sheets)
    _cfb_meta(data, book)
    book.notes = budget.final_notes()
    return book


_BIFF_ERRORS = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?",
                0x24: "#NUM!", 0x2A: "#N/A", 0x2B: "#GETTING_DATA"}
_BIFF_FORMULA_ERROR = re.compile(rb"\x02\x00[\x00-\x2b]\x00\x00\x00\xff\xff")


def _restore_xls_errors(data: bytes, sheets: list[RawSheet], budget: _Budget) -> None:
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
                    _put_cell(sheet, budget, (r + 1, c + 1), _BIFF_ERRORS.get(body[6], "#N/A"))
                elif depth == 1 and rtype == 0x0006 and rlen >= 14 and body[6] == 2 and body[12:14] == b"\xff\xff":
                    r, c = struct.unpack_from("<HH", body, 0)
                    _put_cell(sheet, budget, (r + 1, c + 1), _BIFF_ERRORS.get(body[8], "#N/A"))
    except (struct.error, IndexError):
        return


def _xlrd_sheets(data: bytes, budget: _Budget) -> list[RawSheet]:
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
            rows = _clean_rows(rows, sh.name, budget)
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
    """Saved time and application from the SummaryInformation stream, when cheap."""
    if not data.startswith(b"\xd0\xcf\x11\xe0"):
        return
    try:
        import olefile

        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            meta = ole.get_metadata()
        saved = meta.last_saved_time
        if isinstance(saved, _dt.datetime) and saved.year >= 1980:
            book.saved_time = saved.replace(tzinfo=_dt.timezone.utc)
        app = meta.creating_application
        if isinstance(app, bytes):
            app = app.decode("utf-8", "replace")
        if app:
            book.application = str(app).strip("\x00 ").strip()
    except Exception:  # noqa: BLE001 - metadata is optional
        return


# ----------------------------------------------------------------- text ---

_DELIMITERS = (",", "\t", ";", "|")


def _read_text(path: str, data: bytes, enc_hint: str, limits: IntakeLimits) -> RawBook | FileFailure:
    text = _decode_text(data, enc_hint)
    if text is None:
        return _not_spreadsheet(path, "binary")
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    delim = _pick_delimiter(lines)
    if delim is None:
        return _not_spreadsheet(path, "text")
    budget = _Budget(path, limits)
    stem = os.path.splitext(os.path.basename(path))[0]
    try:
        rows = [list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delim)]
    except csv.Error:
        return failure(path, "corrupt")
    rows = _clean_rows(_budgeted(rows, stem, budget), stem, budget)
    book = RawBook(path=path, format="csv", sheets=[RawSheet(name=stem, rows=rows)])
    book.notes = budget.final_notes()
    return book


def _budgeted(rows: list[list], sheet: str, budget: _Budget) -> list[list]:
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
