"""Write the quarterly 通报 as a .docx laid out per GB/T 9704-2012 《党政机关公文格式》.

The bulletin is first rendered to plain text (one paragraph per line, no
leading spaces); :func:`write_bulletin_docx` classifies those lines into the
公文 elements and typesets them:

* first non-empty line            -> 标题 (2号 方正小标宋简体, centred, 梯形 line break)
* a line ending in '：' right after the title -> 主送机关 (flush left)
* ``一、``                         -> 一级标题 (3号 黑体, style "Heading 1")
* ``（一）``                       -> 二级标题 (3号 楷体_GB2312, style "Heading 2")
* ``1.`` / ``1．``                 -> 三级标题 (3号 仿宋_GB2312, like the body)
* ``附件：...``                    -> 附件说明 (正文下空一行, 左空二字, 回行与名称对齐)
* last two lines, the last being a date ``YYYY年M月D日`` -> 发文机关署名 / 成文日期
* everything else                 -> 正文 (3号 仿宋_GB2312, 首行缩进二字, 两端对齐)

Blank lines of the text are ignored: the blank lines the standard requires
(below the title, above the 附件说明, above the 署名) are inserted here, so a
user-edited template cannot break the layout.

Page: A4, 天头 37 mm, 订口 28 mm, 版心 156 mm x 225 mm, 22 lines x 28 chars
(fixed line pitch 28.95 pt = 579 twips; 3号 runs condensed 0.25 pt -> 28 chars/line),
page numbers "— 1 —" in 4号 宋体, odd pages 右空一字, even pages 左空一字.

The optional ``attachment`` (the ranking table) starts on a new page: "附件"
(3号 黑体, 顶格, line 1), its title (2号 方正小标宋简体, centred, line 3), then
the table (header row repeated on every page, rows never split).

Output is deterministic (fixed zip timestamps, fixed core-property dates) and
written atomically (temporary file in the target folder + ``os.replace``).
"""

from __future__ import annotations

import copy
import datetime as _dt
import io
import math
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, Twips
from lxml import etree

from ..files import atomic_write_bytes

__all__ = ["Fonts", "write_bulletin_docx"]

# ---------------------------------------------------------------- constants

FONT_TITLE = "方正小标宋简体"
FONT_BODY = "仿宋_GB2312"
FONT_H1 = "黑体"
FONT_H2 = "楷体_GB2312"
FONT_PAGE_NUMBER = "宋体"



@dataclass(frozen=True)
class Fonts:
    """The font of each role (rules.toml ``[bulletin]`` font_*; GB/T 9704 names by default)."""

    title: str = FONT_TITLE  # 标题, 附件标题
    body: str = FONT_BODY  # 正文, 主送, 署名, table cells
    heading1: str = FONT_H1  # 一、, "附件", table header and group rows
    heading2: str = FONT_H2  # （一）
    page_number: str = FONT_PAGE_NUMBER


# Fallbacks recorded in word/fontTable.xml (w:altName) so that Word on a machine
# without the GB2312-era fonts substitutes the Windows equivalents.
_FONT_ALT_NAMES = {
    FONT_TITLE: "宋体",
    FONT_BODY: "仿宋",
    FONT_H1: "SimHei",
    FONT_H2: "楷体",
    FONT_PAGE_NUMBER: "SimSun",
}

SIZE_TITLE_PT = 22  # 2号
SIZE_BODY_PT = 16  # 3号
SIZE_PAGE_NUMBER_PT = 14  # 4号

# A4 and the GB/T 9704-2012 5.2.1 margins, in twips (1 mm = 1440 / 25.4 twips).
PAGE_WIDTH_TW = 11906  # 210 mm
PAGE_HEIGHT_TW = 16838  # 297 mm
MARGIN_TOP_TW = 2098  # 37 mm 天头
MARGIN_BOTTOM_TW = 1984  # 35 mm -> 版心高 225 mm
MARGIN_LEFT_TW = 1587  # 28 mm 订口
MARGIN_RIGHT_TW = 1474  # 26 mm -> 版心宽 156 mm
HEADER_DISTANCE_TW = 850  # 15 mm (headers are empty)
# 7.5: the 一字线 of the page number lies 7 mm below the 版心 (i.e. 28 mm above
# the paper edge).  The footer distance is measured to the bottom of the
# footer line box; a 14 pt line puts the dash ~3 mm above that bottom
# (LibreOffice renders the dash 7.1 mm below the 版心).
FOOTER_DISTANCE_TW = 1417  # 25 mm

TEXT_WIDTH_TW = PAGE_WIDTH_TW - MARGIN_LEFT_TW - MARGIN_RIGHT_TW  # 8845 = 156 mm
TEXT_WIDTH_MM = 156.0

# 5.2.3: 22 lines per page -> 225 mm / 22 = 28.95 pt per line, fixed.
LINE_PITCH_TW = 579
# 28 chars per line: 28 x 16 pt = 448 pt does not fit the 442.25 pt (156 mm)
# line, so 3号 runs are condensed by 0.25 pt (w:spacing w:val="-5", 字符间距
# 紧缩 0.25 磅): 28 x 15.75 pt = 441 pt.  A Word character grid
# (w:docGrid w:type="linesAndChars" w:charSpace="-842") would do the same in
# Word/WPS, but LibreOffice snaps every 16 pt character to two 15.8 pt grid
# cells (14 chars per line), so only the line grid is declared.
BODY_CHAR_SPACING_TW = -5

CHAR_TW = SIZE_BODY_PT * 20  # one 3号 character = 320 twips (nominal)

# python-docx stamps zip entries with the current time; use a fixed stamp.
_ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
_FALLBACK_TIMESTAMP = _dt.datetime(2000, 1, 1, 0, 0, 0)

_HEADING1_RE = re.compile(r"^[一二三四五六七八九十]+、")
_HEADING2_RE = re.compile(r"^[（(][一二三四五六七八九十]+[）)]")
_HEADING3_RE = re.compile(r"^\d+[.．](?!\d)")
_ATTACH_RE = re.compile(r"^附件[：:]")
_DATE_RE = re.compile(
    r"^(?:\d{4}|[〇○零一二三四五六七八九]{4})年"
    r"(?:\d{1,2}|[一二三四五六七八九十]{1,3})月"
    r"(?:\d{1,2}|[一二三四五六七八九十]{1,3})日$"
)
_ARABIC_DATE_RE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")

# Characters XML 1.0 cannot carry (python-docx would raise on them).
_XML_ILLEGAL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_STRIP_CHARS = " \t\r\n\u3000\ufeff\u00a0"

# Child order of w:pPr (ECMA-376 CT_PPrBase); Word rejects out-of-order children.
_PPR_SEQ = (
    "w:pStyle", "w:keepNext", "w:keepLines", "w:pageBreakBefore", "w:framePr",
    "w:widowControl", "w:numPr", "w:suppressLineNumbers", "w:pBdr", "w:shd",
    "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap",
    "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN",
    "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind",
    "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
    "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl",
    "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange",
)

# ------------------------------------------------------------- public API


def write_bulletin_docx(
    text: str,
    path: str | os.PathLike[str],
    *,
    attachment: dict[str, Any] | None = None,
    timestamp: _dt.datetime | None = None,
    seal: bool = False,
    fonts: Fonts | None = None,
) -> None:
    """Typeset the plain-text bulletin ``text`` as a GB/T 9704-2012 .docx at ``path``.

    ``attachment`` (optional) is the ranking table appended on a new page::

        {"title": str, "header": list[str], "rows": list[list[str]],
         "col_widths_mm": list[float] | None}

    A row whose only non-empty cell is the first one is a category group row
    (e.g. "镇街") and is merged across the table.

    ``timestamp`` sets the core properties' created/modified time; by default
    it is derived from the 成文日期 line (midnight), so output is reproducible.

    ``seal`` selects the 署名/日期 layout: ``False`` (default) is GB/T
    9704-2012 7.3.5.2 (不加盖印章); ``True`` is 7.3.5.1 (加盖印章: 成文日期右空四字,
    署名以成文日期为准居中, room left above for the seal).

    ``fonts`` names the font of each role (default: the GB/T 9704 fonts); each is
    set as the East Asian font (w:eastAsia) too, which Word/WPS use for CJK text.

    Raises ``ValueError`` (message in Chinese) for an empty text or a malformed
    attachment.  The file is replaced atomically.
    """
    if not isinstance(text, str):
        raise TypeError("通报正文必须是字符串")
    parsed = _parse(text)
    table = _normalise_attachment(attachment) if attachment is not None else None

    fonts = fonts or Fonts()
    doc = Document()
    _setup_package(doc)
    _setup_styles(doc, fonts)
    _setup_section(doc)
    _setup_footers(doc, fonts)
    _write_body(doc, parsed, fonts, seal=seal)
    if table is not None:
        _write_attachment(doc, table, fonts)
    _set_core_properties(doc, parsed, timestamp)

    buf = io.BytesIO()
    doc.save(buf)
    data = _normalise_zip(buf.getvalue(), fonts)
    atomic_write_bytes(Path(os.fspath(path)), data)


# ---------------------------------------------------------------- parsing


class _Parsed:
    """The bulletin text split into 公文 elements."""

    def __init__(self) -> None:
        self.title: str = ""
        self.addressee: str | None = None
        # (kind, text); kind in body/h1/h2/h3/attach/attach_cont
        self.blocks: list[tuple[str, str]] = []
        self.signature: str | None = None
        self.date: str | None = None


def _clean(line: str) -> str:
    line = _XML_ILLEGAL_RE.sub("", line)
    return line.strip(_STRIP_CHARS)


def _parse(text: str) -> _Parsed:
    lines = [_clean(raw) for raw in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise ValueError("通报正文为空，无法生成 Word 文档")
    parsed = _Parsed()
    parsed.title = lines[0]
    rest = lines[1:]

    if len(rest) >= 2 and _DATE_RE.match(rest[-1]):
        parsed.signature, parsed.date = rest[-2], rest[-1]
        rest = rest[:-2]

    if rest and rest[0].endswith(("：", ":")) and not _heading_kind(rest[0]):
        parsed.addressee = rest[0]
        rest = rest[1:]

    in_attach = False
    for line in rest:
        if _ATTACH_RE.match(line):
            parsed.blocks.append(("attach", line))
            in_attach = True
        elif in_attach:
            # further lines of a numbered 附件说明 ("2.××××")
            parsed.blocks.append(("attach_cont", line))
        else:
            parsed.blocks.append((_heading_kind(line) or "body", line))
    return parsed


def _heading_kind(line: str) -> str | None:
    if _HEADING1_RE.match(line):
        return "h1"
    if _HEADING2_RE.match(line):
        return "h2"
    if _HEADING3_RE.match(line):
        return "h3"
    return None


def _split_heading(line: str) -> tuple[str, str]:
    """Split "（一）小标题。正文……" into the heading sentence and the run-in body."""
    idx = line.find("。")
    if 0 <= idx < len(line) - 1:
        return line[: idx + 1], line[idx + 1 :]
    return line, ""


def _em_width(s: str) -> float:
    """Width of ``s`` in 全角 characters (CJK and ambiguous = 1, others = 0.5)."""
    width = 0.0
    for ch in s:
        width += 1.0 if unicodedata.east_asian_width(ch) in ("W", "F", "A") else 0.5
    return width


# Characters after which a title may be broken without splitting a word.
_TITLE_BREAK_AFTER = set("的度、）》”，和与及")
_TITLE_BAD_BREAK = 20.0  # cost of a break that may split a word


def _break_cost(title: str, i: int) -> float | None:
    """Cost of a line break before ``title[i]``; ``None`` if forbidden."""
    a, b = title[i - 1], title[i]
    if a.isascii() and a.isalnum() and b.isascii() and b.isalnum():
        return None  # never inside "2026" or a Latin word
    if b in "，。、：；！？）》”" or a in "（《“":
        return None
    if (
        a in _TITLE_BREAK_AFTER
        or (a == "于" and title[i - 2 : i] == "关于")
        or (a == "年" and b != "度")
        or b == "全"  # 全区/全市/全县…
        or title[i : i + 2] == "关于"
    ):
        return 0.0
    return _TITLE_BAD_BREAK


def _title_lines(title: str, capacity: float) -> list[str]:
    """Break a long title into 2 or 3 lines at word ends, 梯形 or 菱形.

    GB/T 9704-2012 7.3.1: 回行时要做到词意完整，排列对称，长短适宜，间距恰当，
    使用梯形或菱形.  Without word segmentation this is a heuristic: breaks after
    的/度/年/、/和…, before 全…/关于 are "good", any other costs as much as a
    badly unbalanced layout, so a third line is preferred to splitting a word.
    Titles needing more than three lines are left to the word processor.
    """
    total = _em_width(title)
    if total <= capacity or total > 3 * capacity:
        return [title]
    n = len(title)
    prefix = [0.0]
    for ch in title:
        prefix.append(prefix[-1] + _em_width(ch))
    costs = {i: _break_cost(title, i) for i in range(1, n)}
    allowed = [i for i, c in costs.items() if c is not None]
    best: tuple[float, tuple[int, ...]] | None = None

    def consider(cuts: tuple[int, ...]) -> None:
        nonlocal best
        bounds = (0, *cuts, n)
        widths = [prefix[bounds[k + 1]] - prefix[bounds[k]] for k in range(len(bounds) - 1)]
        if max(widths) > capacity:
            return
        score = sum(costs[c] or 0.0 for c in cuts) + max(widths) - min(widths)
        if len(widths) == 2 and widths[0] > widths[1]:
            score += 1.5  # prefer 正梯形 (upper line shorter)
        if len(widths) == 3 and widths[1] < max(widths[0], widths[2]):
            score += 1.5  # prefer 菱形 / 梯形 (middle line not the shortest)
        score += 4.0 * (len(widths) - 2)  # fewer lines when equally good
        if best is None or score < best[0]:
            best = (score, cuts)

    if total <= 2 * capacity:
        for i in allowed:
            consider((i,))
    for x, i in enumerate(allowed):
        for j in allowed[x + 1 :]:
            consider((i, j))
    if best is None:
        return [title]
    bounds = (0, *best[1], n)
    return [title[bounds[k] : bounds[k + 1]] for k in range(len(bounds) - 1)]


def _signature_indents(sig: str, date: str, *, seal: bool) -> tuple[float, float]:
    """Right indents, in characters, of the 署名 and 成文日期 lines.

    Without a seal (GB/T 9704-2012 7.3.5.2, the default): 署名 右空二字; 成文日期
    on the next line with its first character two characters right of the
    署名's first one.  If that would leave the date less than two characters
    from the right margin (成文日期长于发文机关署名), the date is set 右空二字 and
    the 署名's right space grows accordingly (keeping the two-character shift).

    With a seal (7.3.5.1): 成文日期 右空四字, 署名 centred on the date.
    """
    ls, ld = _em_width(sig), _em_width(date)
    if seal:
        rd = 4.0
        rs = max(0.0, rd + (ld - ls) / 2)
        return rs, rd
    rs = 2.0
    rd = rs + ls - ld - 2
    if rd < 2.0:
        rd = 2.0
        rs = rd + ld + 2 - ls
    return rs, rd


# ------------------------------------------------------------ xml helpers


def _el(tag: str, **attrs: str) -> Any:
    el = OxmlElement(tag)
    for key, value in attrs.items():
        el.set(qn(f"w:{key}"), value)
    return el


def _ppr_put(pPr: Any, el: Any) -> Any:
    """Insert/replace child ``el`` of ``pPr`` honouring the schema order."""
    tag = el.tag
    for old in pPr.findall(tag):
        pPr.remove(old)
    name = next(t for t in _PPR_SEQ if qn(t) == tag)
    successors = _PPR_SEQ[_PPR_SEQ.index(name) + 1 :]
    pPr.insert_element_before(el, *successors)
    return el


def _fonts_el(font: str) -> Any:
    return _el("w:rFonts", ascii=font, hAnsi=font, eastAsia=font, cs=font, hint="eastAsia")


def _reset_rpr(rPr: Any, font: str | None, size_pt: float, *, extra: Iterable[Any] = ()) -> None:
    """Replace every child of a (style or run) rPr by fonts + size (+ extras); no font: the style's."""
    for child in list(rPr):
        rPr.remove(child)
    if font is not None:
        rPr.append(_fonts_el(font))
    # 3号 text is condensed to fit 28 chars per line; other sizes reset it so
    # they do not inherit the condensing from Normal.
    spacing = BODY_CHAR_SPACING_TW if size_pt == SIZE_BODY_PT else 0
    rPr.append(_el("w:spacing", val=str(spacing)))
    half = str(int(round(size_pt * 2)))
    rPr.append(_el("w:sz", val=half))
    rPr.append(_el("w:szCs", val=half))
    for el in extra:
        rPr.append(el)


def _add_run(paragraph: Any, text: str, font: str, size_pt: float) -> Any:
    run = paragraph.add_run()
    _reset_rpr(run._r.get_or_add_rPr(), font, size_pt)
    if text:
        run.text = text
    return run


def _format_paragraph(
    paragraph: Any,
    *,
    align: Any,
    first_line_chars: float = 0.0,
    left_chars: float = 0.0,
    right_chars: float = 0.0,
    hanging_chars: float = 0.0,
    line_tw: int = LINE_PITCH_TW,
    keep_next: bool = False,
    page_break_before: bool = False,
    char_tw: int = CHAR_TW,
    use_char_units: bool = True,
    mark_font: str | None = None,
    mark_size: float = SIZE_BODY_PT,
    snap_to_grid: bool = True,
) -> None:
    """Direct paragraph formatting: exact line pitch, no spacing, indents in chars."""
    pf = paragraph.paragraph_format
    pf.alignment = align
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Twips(line_tw)
    pPr = paragraph._p.get_or_add_pPr()
    # no extra gap between CJK and Latin/digits (LibreOffice ignores the style-level setting)
    _ppr_put(pPr, _el("w:autoSpaceDE", val="0"))
    _ppr_put(pPr, _el("w:autoSpaceDN", val="0"))
    if not snap_to_grid:
        _ppr_put(pPr, _el("w:snapToGrid", val="0"))
    if keep_next:
        _ppr_put(pPr, _el("w:keepNext"))
    if page_break_before:
        _ppr_put(pPr, _el("w:pageBreakBefore"))
    ind = _el("w:ind")

    def put(name: str, chars: float) -> None:
        ind.set(qn(f"w:{name}"), str(int(round(chars * char_tw))))
        if use_char_units:
            ind.set(qn(f"w:{name}Chars"), str(int(round(chars * 100))))

    if left_chars:
        put("left", left_chars)
    if right_chars:
        put("right", right_chars)
    if hanging_chars:
        put("hanging", hanging_chars)
    elif first_line_chars:
        put("firstLine", first_line_chars)
    else:
        # explicit zero so no style indent leaks in
        ind.set(qn("w:firstLine"), "0")
        if use_char_units:
            ind.set(qn("w:firstLineChars"), "0")
    _ppr_put(pPr, ind)
    # paragraph-mark properties, so empty lines keep the grid font/size (no font: the style's, i.e. the body's)
    rPr = _el("w:rPr")
    _reset_rpr(rPr, mark_font, mark_size)
    _ppr_put(pPr, rPr)


# ------------------------------------------------------------ document setup


def _setup_package(doc: Any) -> None:
    """Drop python-docx's generic thumbnail so no unrelated preview is shipped."""
    rels = doc.part.package.rels
    for rid, rel in list(rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            del rels[rid]
    settings = doc.settings.element
    lang = settings.find(qn("w:themeFontLang"))
    if lang is not None:
        lang.set(qn("w:eastAsia"), "zh-CN")
    doc.settings.odd_and_even_pages_header_footer = True


def _setup_styles(doc: Any, fonts: Fonts) -> None:
    styles = doc.styles
    root = styles.element

    # docDefaults: fonts, 3号, zh-CN for East-Asian text, exact line pitch
    defaults = root.find(qn("w:docDefaults"))
    rpr_default = defaults.find(qn("w:rPrDefault"))
    rPr = rpr_default.find(qn("w:rPr"))
    _reset_rpr(
        rPr,
        fonts.body,
        SIZE_BODY_PT,
        extra=[_el("w:lang", val="en-US", eastAsia="zh-CN", bidi="ar-SA")],
    )
    ppr_default = defaults.find(qn("w:pPrDefault"))
    pPr = ppr_default.find(qn("w:pPr"))
    for child in list(pPr):
        pPr.remove(child)
    _ppr_put(pPr, _el("w:spacing", before="0", after="0", line=str(LINE_PITCH_TW), lineRule="exact"))

    def para_style(style: Any, font: str, size: float, *, first_line: bool, jc: str) -> None:
        st = style.element
        pPr = st.get_or_add_pPr()
        for tag in ("w:spacing", "w:ind", "w:jc", "w:contextualSpacing", "w:pBdr", "w:tabs"):
            for old in pPr.findall(qn(tag)):
                pPr.remove(old)
        _ppr_put(pPr, _el("w:widowControl", val="0"))
        _ppr_put(pPr, _el("w:autoSpaceDE", val="0"))
        _ppr_put(pPr, _el("w:autoSpaceDN", val="0"))
        _ppr_put(pPr, _el("w:spacing", before="0", after="0", line=str(LINE_PITCH_TW), lineRule="exact"))
        if first_line:
            _ppr_put(pPr, _el("w:ind", firstLine=str(2 * CHAR_TW), firstLineChars="200"))
        _ppr_put(pPr, _el("w:jc", val=jc))
        _reset_rpr(st.get_or_add_rPr(), font, size)

    para_style(styles["Normal"], fonts.body, SIZE_BODY_PT, first_line=False, jc="both")
    para_style(styles["Heading 1"], fonts.heading1, SIZE_BODY_PT, first_line=True, jc="both")
    para_style(styles["Heading 2"], fonts.heading2, SIZE_BODY_PT, first_line=True, jc="both")
    for name, font in (("Heading 1 Char", fonts.heading1), ("Heading 2 Char", fonts.heading2)):
        try:
            style = styles[name]
        except KeyError:
            continue
        _reset_rpr(style.element.get_or_add_rPr(), font, SIZE_BODY_PT)
    footer = styles["Footer"]
    para_style(footer, fonts.page_number, SIZE_PAGE_NUMBER_PT, first_line=False, jc="left")
    # the footer line is not on the body grid
    fpPr = footer.element.get_or_add_pPr()
    _ppr_put(fpPr, _el("w:snapToGrid", val="0"))
    _ppr_put(fpPr, _el("w:spacing", before="0", after="0", line="240", lineRule="auto"))


def _setup_section(doc: Any) -> None:
    section = doc.sections[0]
    section.page_width = Twips(PAGE_WIDTH_TW)
    section.page_height = Twips(PAGE_HEIGHT_TW)
    section.top_margin = Twips(MARGIN_TOP_TW)
    section.bottom_margin = Twips(MARGIN_BOTTOM_TW)
    section.left_margin = Twips(MARGIN_LEFT_TW)
    section.right_margin = Twips(MARGIN_RIGHT_TW)
    section.gutter = Twips(0)
    section.header_distance = Twips(HEADER_DISTANCE_TW)
    section.footer_distance = Twips(FOOTER_DISTANCE_TW)
    sectPr = section._sectPr
    grid = sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = _el("w:docGrid")
        sectPr.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(LINE_PITCH_TW))


def _setup_footers(doc: Any, fonts: Fonts) -> None:
    """Page numbers "— N —": odd pages 右空一字 (default footer), even 左空一字."""
    section = doc.sections[0]
    one_char = SIZE_PAGE_NUMBER_PT * 20  # 一字 of 4号 = 280 twips
    for footer, odd in ((section.footer, True), (section.even_page_footer, False)):
        footer.is_linked_to_previous = False
        paragraph = footer.paragraphs[0]
        paragraph.style = doc.styles["Footer"]
        pf = paragraph.paragraph_format
        pf.alignment = WD_ALIGN_PARAGRAPH.RIGHT if odd else WD_ALIGN_PARAGRAPH.LEFT
        pf.space_before = Pt(0)
        pf.space_after = Pt(0)
        pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
        pPr = paragraph._p.get_or_add_pPr()
        ind = _el("w:ind", firstLine="0")
        ind.set(qn("w:right" if odd else "w:left"), str(one_char))
        _ppr_put(pPr, ind)
        _page_field(paragraph, fonts)


def _page_field(paragraph: Any, fonts: Fonts) -> None:
    font, size = fonts.page_number, SIZE_PAGE_NUMBER_PT
    _add_run(paragraph, "— ", font, size)
    run = _add_run(paragraph, "", font, size)
    run._r.append(_el("w:fldChar", fldCharType="begin"))
    run = _add_run(paragraph, "", font, size)
    instr = _el("w:instrText")
    instr.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    instr.text = " PAGE "
    run._r.append(instr)
    run = _add_run(paragraph, "", font, size)
    run._r.append(_el("w:fldChar", fldCharType="separate"))
    _add_run(paragraph, "1", font, size)
    run = _add_run(paragraph, "", font, size)
    run._r.append(_el("w:fldChar", fldCharType="end"))
    _add_run(paragraph, " —", font, size)


# ---------------------------------------------------------------- content


def _blank(doc: Any, *, keep_next: bool = False) -> Any:
    paragraph = doc.add_paragraph()
    _format_paragraph(paragraph, align=WD_ALIGN_PARAGRAPH.LEFT, keep_next=keep_next)
    return paragraph


def _title(doc: Any, title: str, fonts: Fonts, *, page_break_before: bool = False) -> None:
    paragraph = doc.add_paragraph()
    _format_paragraph(
        paragraph,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        keep_next=True,
        page_break_before=page_break_before,
        mark_font=fonts.title,
        mark_size=SIZE_TITLE_PT,
        # a 22 pt line may not fit one grid line in LibreOffice, which would
        # then give it two; the exact 28.95 pt pitch already keeps the grid
        snap_to_grid=False,
    )
    capacity = math.floor(TEXT_WIDTH_TW / 20 / SIZE_TITLE_PT)  # 20 full-width chars
    for i, part in enumerate(_title_lines(title, capacity)):
        run = _add_run(paragraph, part, fonts.title, SIZE_TITLE_PT)
        if i:
            run._r.insert(1, OxmlElement("w:br"))  # after rPr, before w:t


def _write_body(doc: Any, parsed: _Parsed, fonts: Fonts, *, seal: bool) -> None:
    # python-docx's template starts with an empty body; all content is appended.
    _title(doc, parsed.title, fonts)
    _blank(doc)  # 标题下空一行
    if parsed.addressee is not None:
        p = doc.add_paragraph()
        _format_paragraph(p, align=WD_ALIGN_PARAGRAPH.LEFT)
        _add_run(p, parsed.addressee, fonts.body, SIZE_BODY_PT)

    last_content: Any = None
    prev_kind = ""
    for kind, line in parsed.blocks:
        if kind == "attach" and prev_kind not in ("attach", "attach_cont", ""):
            _blank(doc, keep_next=True)  # 正文下空一行编排附件说明
        p = doc.add_paragraph()
        if kind in ("h1", "h2"):
            head, tail = _split_heading(line)
            font = fonts.heading1 if kind == "h1" else fonts.heading2
            if not tail:
                p.style = doc.styles["Heading 1" if kind == "h1" else "Heading 2"]
            _format_paragraph(
                p,
                align=WD_ALIGN_PARAGRAPH.JUSTIFY,
                first_line_chars=2,
                keep_next=not tail,
                mark_font=fonts.body if tail else font,
            )
            _add_run(p, head, font, SIZE_BODY_PT)
            if tail:
                _add_run(p, tail, fonts.body, SIZE_BODY_PT)
        elif kind == "attach":
            # 左空二字 "附件：名称"; a wrapped name aligns after the colon
            _format_paragraph(p, align=WD_ALIGN_PARAGRAPH.JUSTIFY, left_chars=5, hanging_chars=3)
            _add_run(p, line, fonts.body, SIZE_BODY_PT)
        elif kind == "attach_cont":
            # "2.××××" under "附件：1.××××": aligned with the first name's number
            _format_paragraph(p, align=WD_ALIGN_PARAGRAPH.JUSTIFY, left_chars=5)
            _add_run(p, line, fonts.body, SIZE_BODY_PT)
        else:  # body, h3
            _format_paragraph(p, align=WD_ALIGN_PARAGRAPH.JUSTIFY, first_line_chars=2)
            _add_run(p, line, fonts.body, SIZE_BODY_PT)
        last_content = p
        prev_kind = kind

    if parsed.signature is None or parsed.date is None:
        return
    if last_content is not None:
        # keep the last lines of text on the page of the 署名 (no lone signature page)
        _ppr_put(last_content._p.get_or_add_pPr(), _el("w:keepNext"))
    # 7.3.5.2: 正文（或附件说明）下空一行; with a seal leave two lines for it.
    for _ in range(2 if seal else 1):
        _blank(doc, keep_next=True)
    rs, rd = _signature_indents(parsed.signature, parsed.date, seal=seal)
    p = doc.add_paragraph()
    _format_paragraph(p, align=WD_ALIGN_PARAGRAPH.RIGHT, right_chars=rs, keep_next=True)
    _add_run(p, parsed.signature, fonts.body, SIZE_BODY_PT)
    p = doc.add_paragraph()
    _format_paragraph(p, align=WD_ALIGN_PARAGRAPH.RIGHT, right_chars=rd)
    _add_run(p, parsed.date, fonts.body, SIZE_BODY_PT)


# ------------------------------------------------------------- attachment


class _Table:
    def __init__(self, title: str, header: list[str], rows: list[list[str]], widths: list[float], size_pt: float):
        self.title = title
        self.header = header
        self.rows = rows
        self.widths_mm = widths
        self.size_pt = size_pt


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    return _clean(_XML_ILLEGAL_RE.sub("", str(value)))


def _normalise_attachment(att: dict[str, Any]) -> _Table:
    if not isinstance(att, dict):
        raise ValueError("附件必须是包含 title、header、rows 的字典")
    header = [_cell_text(h) for h in (att.get("header") or [])]
    if not header:
        raise ValueError("附件表格缺少表头（header）")
    ncols = len(header)
    rows: list[list[str]] = []
    for i, row in enumerate(att.get("rows") or [], start=1):
        cells = [_cell_text(c) for c in row]
        if len(cells) > ncols:
            if any(cells[ncols:]):
                raise ValueError(f"附件表格第{i}行有{len(cells)}列，多于表头的{ncols}列")
            cells = cells[:ncols]
        rows.append(cells + [""] * (ncols - len(cells)))
    widths = att.get("col_widths_mm")
    size = 14.0 if ncols <= 6 else 12.0  # given widths: 4号, or 小四 for wide tables
    if widths:
        widths = [float(w) for w in widths]
        if len(widths) != ncols:
            raise ValueError(f"附件表格列宽（col_widths_mm）有{len(widths)}项，与表头的{ncols}列不符")
        if any(w <= 0 for w in widths):
            raise ValueError("附件表格列宽必须为正数")
    else:
        widths, size = _auto_widths(header, rows)
    total = sum(widths)
    if total > TEXT_WIDTH_MM:  # never wider than the 版心
        widths = [w * TEXT_WIDTH_MM / total for w in widths]
    title = _cell_text(att.get("title")) or "附件"
    return _Table(title, header, rows, widths, size)


# The attachment table (GB/T 9704 tables: 仿宋 4号, one step smaller when the table needs it).
TABLE_SIZES_PT = (14.0, 12.0, 10.5, 9.0)  # 4号, 小四, 五号, 小五: the largest at which the table fits
TABLE_CELL_MARGIN_TW = 57  # left and right padding of every cell (w:tblCellMar), 1 mm
_TABLE_SLACK_EM = 0.3  # a little room on top of the estimate below
_MM_PER_PT = 25.4 / 72


def _cell_em(s: str) -> float:
    """Width of a cell text in ems of its font, for the widest font it may be shown in.

    CJK (and ↑↓—) take 1 em. In 仿宋_GB2312 a digit or point is half an em, but
    where the office lacks it Word/WPS/LibreOffice show the digits in a
    proportional substitute (Arial/DejaVu: up to 0.64 em, % 0.95 em), so
    digits count 0.64, points and commas 0.35, % 0.95, other ASCII 0.7.
    """
    width = 0.0
    for ch in s:
        if unicodedata.east_asian_width(ch) in ("W", "F", "A"):
            width += 1.0
        elif ch.isdigit():
            width += 0.64
        elif ch in ".,":
            width += 0.35
        else:
            width += 0.95 if ch == "%" else 0.7
    return width


def _header_em(s: str) -> float:
    """A header may take two lines; one of two characters stays on one."""
    em = _cell_em(s)
    return em if em <= 2 else math.ceil(em / 2)


def _auto_widths(header: list[str], rows: list[list[str]]) -> tuple[list[float], float]:
    """Column widths (mm, summing to the 156 mm 版心) and the font size, computed from the texts.

    Every column but the widest-text one (the unit names) gets its longest
    value on one line (header on at most two); the names column takes the rest.
    The largest of ``TABLE_SIZES_PT`` at which the names fit on two lines is
    used; at the smallest size the names column takes whatever is left (at
    least four characters). Room left over goes to the names (up to one line
    each), then to every column in proportion.
    """
    ncols = len(header)
    body = [r for r in rows if not _is_group_row(r)]
    body_em = [max((_cell_em(r[j]) for r in body), default=0.0) for j in range(ncols)]
    head_em = [_header_em(h) for h in header]
    flex = max(range(ncols), key=lambda j: (body_em[j], -j))
    pad_mm = 2 * TABLE_CELL_MARGIN_TW * 25.4 / 1440
    for size in TABLE_SIZES_PT:
        em = size * _MM_PER_PT
        need = [(max(body_em[j], head_em[j]) + _TABLE_SLACK_EM) * em + pad_mm for j in range(ncols)]
        two_lines = (max(math.ceil(body_em[flex] / 2), head_em[flex]) + _TABLE_SLACK_EM) * em + pad_mm
        room = TEXT_WIDTH_MM - (sum(need) - need[flex])
        if room >= two_lines:
            break
    widths = list(need)
    widths[flex] = min(need[flex], max(room, 4 * em + pad_mm))
    total = sum(widths)
    if total < TEXT_WIDTH_MM:
        widths = [w * TEXT_WIDTH_MM / total for w in widths]
    return widths, size


def _balanced_header(header: list[str], widths_mm: list[float], size_pt: float) -> list[str]:
    """A header too wide for its column is broken in the middle (完成/进度, not 完成进/度)."""
    pad_mm = 2 * TABLE_CELL_MARGIN_TW * 25.4 / 1440
    out = []
    for head, width in zip(header, widths_mm):
        room_em = (width - pad_mm) / (size_pt * _MM_PER_PT)
        if "\n" not in head and len(head) > 2 and _cell_em(head) > room_em:
            k = math.ceil(len(head) / 2)
            head = head[:k] + "\n" + head[k:]
        out.append(head)
    return out


def _plain_text(value: str) -> bool:
    """Text a run holds as one <w:t> as it is (python-docx writes tabs, breaks and outer spaces otherwise)."""
    return not value or (value == value.strip() and "\t" not in value and "\n" not in value and "\r" not in value)


def _is_group_row(row: Sequence[str]) -> bool:
    return len(row) > 1 and bool(row[0]) and not any(row[1:])


def _write_attachment(doc: Any, table: _Table, fonts: Fonts) -> None:
    # 7.3.7: 另面编排; "附件" 3号黑体顶格 in line 1, title centred in line 3.
    p = doc.add_paragraph()
    _format_paragraph(p, align=WD_ALIGN_PARAGRAPH.LEFT, page_break_before=True, keep_next=True)
    _add_run(p, "附件", fonts.heading1, SIZE_BODY_PT)
    _blank(doc, keep_next=True)
    _title(doc, table.title, fonts)
    _blank(doc, keep_next=True)

    ncols = len(table.header)
    size = table.size_pt
    line_tw = int(round(size * 1.5 * 20))
    widths_tw = [int(round(w * 1440 / 25.4)) for w in table.widths_mm]

    t = doc.add_table(rows=0, cols=ncols)
    t.style = doc.styles["Table Grid"]
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    tblPr = t._tbl.tblPr
    tblW = tblPr.find(qn("w:tblW"))
    if tblW is None:
        tblW = _el("w:tblW")
        tblPr.append(tblW)
    tblW.set(qn("w:w"), str(sum(widths_tw)))
    tblW.set(qn("w:type"), "dxa")
    borders = _el("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        borders.append(_el(f"w:{side}", val="single", sz="4", space="0", color="000000"))
    # CT_TblPr order: ... tblW, jc, ..., tblBorders, shd, tblLayout, tblCellMar, tblLook
    successors = ("w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription")
    for old in tblPr.findall(qn("w:tblBorders")):
        tblPr.remove(old)
    tblPr.insert_element_before(borders, *successors)
    # the cell padding the widths were computed with (_auto_widths)
    margins = _el("w:tblCellMar")
    for side in ("left", "right"):
        margins.append(_el(f"w:{side}", w=str(TABLE_CELL_MARGIN_TW), type="dxa"))
    for old in tblPr.findall(qn("w:tblCellMar")):
        tblPr.remove(old)
    tblPr.insert_element_before(margins, "w:tblLook", "w:tblCaption", "w:tblDescription")
    for gc, w in zip(t._tbl.tblGrid.findall(qn("w:gridCol")), widths_tw):
        gc.set(qn("w:w"), str(w))

    def add_row(cells: list[str], *, header: bool) -> None:
        row = t.add_row()
        trPr = row._tr.get_or_add_trPr()
        trPr.append(_el("w:cantSplit"))
        if header:
            trPr.append(_el("w:tblHeader"))
        group = not header and _is_group_row(cells)
        row_cells = row.cells
        for cell, w in zip(row_cells, widths_tw):
            cell.width = Twips(w)
        if group:
            merged = row_cells[0].merge(row_cells[-1])
            targets = [(merged, cells[0])]
        else:
            targets = list(zip(row_cells, cells))
        for cell, value in targets:
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            paragraph = cell.paragraphs[0]
            align = WD_ALIGN_PARAGRAPH.LEFT if group else WD_ALIGN_PARAGRAPH.CENTER
            font = fonts.heading1 if (header or group) else fonts.body
            _format_paragraph(
                paragraph,
                align=align,
                line_tw=line_tw,
                char_tw=int(size * 20),
                use_char_units=False,
                mark_font=font,
                mark_size=size,
                snap_to_grid=False,
            )
            if value:
                _add_run(paragraph, value, font, size)

    add_row(_balanced_header(table.header, table.widths_mm, size), header=True)
    # Body rows are alike but for their texts: the first is built with python-docx (≈1 ms a cell)
    # and copied for the others (a city's 500-unit table: 3.5 s → a fraction of a second).
    body = None
    if len(table.rows) > 1:
        add_row(["X"] * ncols, header=False)  # every cell with a run, to fill in or remove
        body = t._tbl.tr_lst[-1]
        t._tbl.remove(body)
    for cells in table.rows:
        if body is None or _is_group_row(cells) or not all(_plain_text(v) for v in cells):
            add_row(cells, header=False)
            continue
        tr = copy.deepcopy(body)
        for tc, value in zip(tr.findall(qn("w:tc")), cells):
            run = tc.find(f"{qn('w:p')}/{qn('w:r')}")
            if value:
                run.find(qn("w:t")).text = value
            else:
                run.getparent().remove(run)
        t._tbl.append(tr)

    # Word wants a paragraph after a table at the end of the body; keep it tiny
    # so a table that fills the last page does not spill a blank page.
    tail = doc.add_paragraph()
    _format_paragraph(tail, align=WD_ALIGN_PARAGRAPH.LEFT, line_tw=20, mark_size=1, snap_to_grid=False)


# --------------------------------------------------------------- metadata


def _set_core_properties(doc: Any, parsed: _Parsed, timestamp: _dt.datetime | None) -> None:
    if timestamp is None:
        timestamp = _date_from_line(parsed.date) or _FALLBACK_TIMESTAMP
    elif timestamp.tzinfo is not None:
        timestamp = timestamp.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    timestamp = timestamp.replace(microsecond=0)
    cp = doc.core_properties
    author = parsed.signature or ""
    cp.title = parsed.title
    cp.subject = ""
    cp.author = author
    cp.last_modified_by = author
    cp.comments = ""
    cp.keywords = ""
    cp.category = ""
    cp.language = "zh-CN"
    cp.revision = 1
    cp.created = timestamp
    cp.modified = timestamp


def _date_from_line(line: str | None) -> _dt.datetime | None:
    if not line:
        return None
    m = _ARABIC_DATE_RE.match(line)
    if not m:
        return None
    try:
        return _dt.datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


# ------------------------------------------------------------ packaging


def _font_table(xml: bytes, fonts: Fonts) -> bytes:
    """Declare the fonts used (GB2312 charset, a fallback name for the GB/T 9704 ones) in fontTable.xml."""
    root = etree.fromstring(xml)
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    existing = {f.get(f"{{{w}}}name") for f in root.findall(f"{{{w}}}font")}
    for name in dict.fromkeys(astuple(fonts)):
        if name in existing:
            continue
        alt = _FONT_ALT_NAMES.get(name)
        fixed = name == fonts.body
        font = etree.SubElement(root, f"{{{w}}}font")
        font.set(f"{{{w}}}name", name)
        if alt and alt != name:
            etree.SubElement(font, f"{{{w}}}altName").set(f"{{{w}}}val", alt)
        etree.SubElement(font, f"{{{w}}}charset").set(f"{{{w}}}val", "86")
        etree.SubElement(font, f"{{{w}}}family").set(f"{{{w}}}val", "modern" if fixed else "auto")
        etree.SubElement(font, f"{{{w}}}pitch").set(f"{{{w}}}val", "fixed" if fixed else "variable")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _normalise_zip(data: bytes, fonts: Fonts) -> bytes:
    """Re-pack with fixed entry metadata so identical input gives identical bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            blob = src.read(info.filename)
            if info.filename == "word/fontTable.xml":
                blob = _font_table(blob, fonts)
            zi = zipfile.ZipInfo(info.filename, date_time=_ZIP_DATE_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.create_system = 0
            zi.external_attr = 0
            dst.writestr(zi, blob)
    return out.getvalue()

