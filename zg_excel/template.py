"""The yearly workbook each unit fills in (填报模板), generated from the schema.

One workbook per unit and year: 填报说明 (instructions and the points table),
报送登记 and 录用登记 (the two data sheets of ``schema.DATA_SHEETS``), 媒体目录
(the catalog, read-only) and the hidden ``_zg`` sheet holding a machine-readable
fingerprint (unit, year, template version) plus the lists the dropdowns use.

Every column, header text, width, dropdown and input message comes from
``schema``; every value list and point from the rules, roster and catalog. The
output is deterministic (pinned document dates, in-memory zip with fixed member
times) and written atomically. Its file name is ``Workspace.template_path``;
points are written by ``text.points_text``.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import quote_sheetname, xl_range_abs

from . import TEMPLATE_VERSION
from .roster import CATALOG_COLUMNS, Catalog, Roster, Unit
from .rules import ConfigError, Rules
from .schema import (
    CATALOG_SHEET,
    DATA_SHEETS,
    DESTINATIONS,
    EVENT_SHEET,
    FIRST_DATA_ROW,
    FORMS,
    HEADER_ROW,
    INSTRUCTIONS,
    LEVELS,
    META_SHEET,
    SUBMISSION_SHEET,
    TITLE_ROW,
    UNIT_LABEL,
    UNIT_ROW,
    YES_NO,
    Column,
    SheetSchema,
)
from .text import points_text
from .files import atomic_write_bytes
from .workspace import Workspace, template_filename

__all__ = ["DATA_ROWS", "FINGERPRINT_TAG", "template_filename", "write_template", "write_templates"]

FONT = "宋体"  # present in every Chinese Windows/WPS; LibreOffice substitutes a CJK serif
FONT_CHARSET = 134  # GB2312: tells Excel the font is East Asian
DATA_ROWS = 1000  # rows (from FIRST_DATA_ROW) that carry the dropdowns and checks
FINGERPRINT_TAG = ("zg-excel", "fingerprint")  # first row of the _zg sheet

# Rows of the layout as 0-based xlsxwriter indexes.
_TITLE = TITLE_ROW - 1
_UNIT = UNIT_ROW - 1
_HEADER = HEADER_ROW - 1
_FIRST = FIRST_DATA_ROW - 1
_LAST = _FIRST + DATA_ROWS - 1

# What a unit may still do on a protected data sheet: everything except
# overwriting the title, the 填报单位 cell and the header, or adding columns.
_DATA_PROTECTION = {
    "format_cells": True,
    "format_columns": True,
    "format_rows": True,
    "insert_rows": True,
    "delete_rows": True,
    "sort": True,
    "autofilter": True,
    "select_locked_cells": True,
    "select_unlocked_cells": True,
}
_READ_ONLY_PROTECTION = {"select_locked_cells": True, "select_unlocked_cells": True, "autofilter": True}

# ----------------------------------------------------------------- writing


def write_template(path, *, unit, year: int, roster: Roster, catalog: Catalog, rules: Rules) -> None:
    """Write the template of ``unit`` (a roster ``Unit`` or its name) for ``year`` to ``path``.

    Atomic: the workbook is built in memory, written to a temporary file in the
    target folder and moved over ``path``; a failure leaves ``path`` untouched.
    """
    unit = _resolve_unit(unit, roster)
    year = int(year)
    data = _build(unit=unit, year=year, roster=roster, catalog=catalog, rules=rules)
    atomic_write_bytes(Path(path), data)


def write_templates(
    outdir,
    *,
    year: int,
    roster: Roster,
    catalog: Catalog,
    rules: Rules,
    units: Iterable | None = None,
    on_done: Callable[[Path], None] | None = None,
) -> list[Path]:
    """Write one template per roster unit (or per unit of ``units``) into ``outdir``.

    Returns the paths in roster (or ``units``) order; ``on_done(path)`` is called
    after each file, for progress display.
    """
    ws = Workspace.for_outbox(Path(outdir))
    chosen = [_resolve_unit(u, roster) for u in (roster.units if units is None else units)]
    names: dict[str, str] = {}
    for u in chosen:
        fname = template_filename(u.name, year)
        other = names.setdefault(fname.casefold(), u.name)
        if other != u.name:
            raise ConfigError(f"单位“{other}”和“{u.name}”的模板文件名相同（{fname}），请修改单位名册中的名称")
    ws.outbox.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    seen: set[str] = set()
    for u in chosen:
        if u.name in seen:  # the same unit asked for twice: one file
            continue
        seen.add(u.name)
        path = ws.template_path(u.name, year)
        write_template(path, unit=u, year=year, roster=roster, catalog=catalog, rules=rules)
        written.append(path)
        if on_done is not None:
            on_done(path)
    return written


def _resolve_unit(unit, roster: Roster) -> Unit:
    if isinstance(unit, Unit):
        return unit
    found = roster.find(str(unit))
    if found is None:
        raise ConfigError(f"单位名册（{roster.source}）中没有“{unit}”")
    return found




# ----------------------------------------------------------------- workbook


class _Styles:
    """The workbook's formats, created once (xlsxwriter dedupes by properties anyway)."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        def fmt(**props):
            props.setdefault("font_name", FONT)
            props.setdefault("font_charset", FONT_CHARSET)
            props.setdefault("font_scheme", "none")  # "minor" would swap in the theme's Latin font
            props.setdefault("valign", "vcenter")
            return wb.add_format(props)

        self.fmt = fmt
        self.title = fmt(bold=True, font_size=16, align="center")
        self.unit = fmt(bold=True, font_size=12, align="left")
        self.legend = fmt(font_size=9, font_color="#7F7F7F", align="right", text_wrap=True)
        head = dict(bold=True, align="center", text_wrap=True, border=1, bg_color="#DDEBF7")
        self.header = fmt(**head)
        self.header_required = fmt(**head, font_color="#C00000")
        self.cell = fmt(border=1, text_wrap=True)
        self.cell_center = fmt(border=1, align="center", text_wrap=True)
        self.text = fmt(text_wrap=True, valign="top")
        self.text_bold = fmt(text_wrap=True, bold=True, font_size=12)
        self.number = fmt(align="right", valign="top")
        self.note = fmt(font_size=10, font_color="#595959", text_wrap=True, valign="top")
        self.meta = fmt()


# The unlocked format of each data column kind (applied to whole columns).
_KIND_FORMATS = {
    "date": dict(num_format="yyyy-mm-dd", align="center"),
    "text": dict(text_wrap=True),
    "count": dict(num_format="0", align="right"),
    "minutes": dict(num_format="General", align="right"),
    "choice": dict(align="center"),
    "yesno": dict(align="center"),
    "section": dict(align="center"),
    "media": dict(),
}


def _build(*, unit: Unit, year: int, roster: Roster, catalog: Catalog, rules: Rules) -> bytes:
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(
        out,
        {
            "in_memory": True,  # fixed zip member times: identical bytes on every run
            "default_format_properties": {"font_name": FONT, "font_size": 11, "font_charset": FONT_CHARSET},
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    title = template_filename(unit.name, year)[: -len(".xlsx")]
    wb.set_properties(
        {
            "title": title,
            "subject": "组工信息报送登记",
            "author": "zg-excel",
            "company": "区委组织部",
            "category": "组工信息",
            "keywords": f"zg-excel,{unit.name},{year}",
            "comments": "由 zg-excel 生成。请勿修改工作表名称和表头，勿设置密码。",
            "created": dt.datetime(year, 1, 1),
        }
    )
    # The fingerprint twice: document properties (kept by Excel and WPS) and the
    # hidden _zg sheet (kept by every suite); the intake reads whichever survived.
    wb.set_custom_property("zg_unit", unit.name)
    wb.set_custom_property("zg_year", year)
    wb.set_custom_property("zg_template_version", str(TEMPLATE_VERSION))
    if unit.category:
        wb.set_custom_property("zg_category", unit.category)

    st = _Styles(wb)
    ws_help = wb.add_worksheet(INSTRUCTIONS)
    data_ws = {s.name: wb.add_worksheet(s.name) for s in DATA_SHEETS}
    ws_cat = wb.add_worksheet(CATALOG_SHEET)
    ws_meta = wb.add_worksheet(META_SHEET)

    lists = _MetaLists(ws_meta, first_col=3)
    _write_meta(ws_meta, unit=unit, year=year)
    media_source = _write_catalog(ws_cat, catalog, st)
    sections = [u.name for u in roster.sections(rules.section_category)]
    section_source = lists.add("sections", sections)
    for schema in DATA_SHEETS:
        _write_data_sheet(
            data_ws[schema.name], schema, st, unit=unit, year=year, rules=rules,
            media_source=media_source, section_source=section_source, sections=sections, lists=lists,
        )
    _write_instructions(ws_help, st, unit=unit, year=year, rules=rules)

    ws_meta.protect("", dict(_READ_ONLY_PROTECTION))
    ws_meta.hide()  # 'hidden', not 'veryHidden': the latter is lost by some suites
    ws_help.activate()
    wb.close()
    return out.getvalue()


# ----------------------------------------------------------------- _zg


def _write_meta(ws, *, unit: Unit, year: int) -> None:
    rows = [
        FINGERPRINT_TAG,
        ("unit", unit.name),
        ("year", year),
        ("template_version", str(TEMPLATE_VERSION)),
        ("category", unit.category),
    ]
    for r, (key, value) in enumerate(rows):
        ws.write_string(r, 0, key)
        if isinstance(value, int):
            ws.write_number(r, 1, value)
        else:
            ws.write_string(r, 1, value)
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 30)


class _MetaLists:
    """Dropdown lists kept in columns of the hidden sheet: header ``list:<name>`` in row 1."""

    def __init__(self, ws, first_col: int) -> None:
        self.ws = ws
        self.col = first_col

    def add(self, name: str, values: list[str]) -> str | None:
        """Store ``values``; return the absolute range formula, or None when empty."""
        if not values:
            return None
        col = self.col
        self.col += 1
        self.ws.write_string(0, col, f"list:{name}")
        for i, v in enumerate(values, start=1):
            self.ws.write_string(i, col, v)
        self.ws.set_column(col, col, 20)
        return f"={quote_sheetname(META_SHEET)}!{xl_range_abs(1, col, len(values), col)}"


# ----------------------------------------------------------------- 媒体目录


def _write_catalog(ws, catalog: Catalog, st: _Styles) -> str | None:
    """The catalog sheet (read-only); returns the range formula of the outlet names."""
    fields = {
        "媒体名称": lambda o: o.name,
        "级别": lambda o: o.level,
        "类别": lambda o: o.group,
        "别名": lambda o: "；".join(o.aliases),
        "备注": lambda o: o.note,
    }
    widths = {"媒体名称": 26, "级别": 9, "类别": 16, "别名": 40, "备注": 26}
    columns = [c for c in CATALOG_COLUMNS if c in fields]
    for c, name in enumerate(columns):
        ws.write_string(0, c, name, st.header)
        ws.set_column(c, c, widths.get(name, 14))
    for r, outlet in enumerate(catalog.outlets, start=1):
        for c, name in enumerate(columns):
            value = fields[name](outlet)
            ws.write_string(r, c, value, st.cell_center if name == "级别" else st.cell)
    n = len(catalog.outlets)
    last = len(columns) - 1
    # The note goes below the table: the outlet names must stay one contiguous column from A2.
    note_row = n + 2
    _merge(ws, note_row, 0, last,
           "说明：本表为只读的媒体目录，供“媒体名称”下拉选择，媒体级别以本表为准。"
           "列表中没有的媒体可直接填写，并在“备注”中注明级别，由区委组织部核定。", st.note)
    ws.set_row(note_row, 30)
    ws.set_row(0, 24)
    ws.freeze_panes(1, 0)
    if n:
        ws.autofilter(0, 0, n, last)
    ws.protect("", dict(_READ_ONLY_PROTECTION))
    _print_setup(ws, title=CATALOG_SHEET, landscape=False, repeat=(0, 0))
    ws.print_area(0, 0, note_row, last)
    if not n:
        return None
    # The first catalog column is 媒体名称: the dropdown lists every outlet.
    return f"={quote_sheetname(CATALOG_SHEET)}!{xl_range_abs(1, 0, n, 0)}"


# ----------------------------------------------------------------- data sheets


def _choices_for(col: Column, rules: Rules) -> tuple[str, ...]:
    """A choice column's dropdown values: the rules' list where the schema names one."""
    from_rules = {FORMS: rules.forms, LEVELS: rules.levels, DESTINATIONS: rules.destinations}
    return tuple(from_rules.get(col.choices, col.choices)) or (YES_NO if col.kind == "yesno" else ())


def _input_title(col: Column) -> str:
    if col.required_for:
        title = f"{col.name}（{'、'.join(col.required_for)}必填）"
    elif col.required:
        title = f"{col.name}（必填）"
    else:
        title = col.name
    return title[:32]  # Excel's limit for an input title


def _prompt(col: Column, year: int) -> str:
    return col.prompt.replace("{year}", str(year))[:255]


def _list_source(values: tuple[str, ...], lists: _MetaLists, name: str) -> list[str] | str | None:
    """A literal list when Excel accepts it (≤255 characters, no commas), else a _zg range."""
    if not values:
        return None
    if all("," not in v and '"' not in v for v in values) and len(",".join(values)) <= 250:
        return list(values)
    return lists.add(name, list(values))


def _validation(col: Column, *, year: int, rules: Rules, media_source, section_source,
                sections: list[str], lists: _MetaLists) -> dict:
    """The data validation of one column (kind → type, values and error behaviour).

    Error types, chosen so a hard stop only guards a closed list:
    - choice / yesno: 'stop' — the list is complete; the dropdown is the easy way;
    - date: 'warning' — the intake reads forms Excel does not take for dates
      (2026.3.5, 20260305), and a date outside the year is listed by the merge,
      not lost; the warning still catches typos like 2062;
    - section: 'warning' — a 科室 renamed or added after the template was sent
      must still be enterable (the merge checks it against the current roster);
    - count: 'warning' — "1200字" or "约1200" is read by the intake;
    - minutes: 'information' — the prompt itself invites "1分30秒";
    - media: 'information' — an outlet missing from the catalog must be typeable.
    """
    dv: dict = {"input_title": _input_title(col), "ignore_blank": True}
    prompt = _prompt(col, year)
    if prompt:
        dv["input_message"] = prompt
    kind = col.kind
    if kind == "date":
        dv.update(
            validate="date", criteria="between",
            minimum=dt.date(year, 1, 1), maximum=dt.date(year, 12, 31),
            error_type="warning", error_title="日期不在本年度或格式有误",
            error_message=(f"“{col.name}”应为{year}年内的日期，如 {year}-03-05。\n"
                           "确认无误要保留的，请点“是”。"),
        )
    elif kind in ("choice", "yesno"):
        values = _choices_for(col, rules)
        source = _list_source(values, lists, col.name)
        if source is None:
            return dv | {"validate": "any"}
        dv.update(
            validate="list", source=source, error_type="stop", error_title="请从下拉列表中选择",
            error_message=f"“{col.name}”只能是：{'、'.join(values)}。\n请点“重试”，再从下拉列表中选择。"[:255],
        )
    elif kind == "section":
        if section_source is None:
            return dv | {"validate": "any"}
        listed = "、".join(sections)
        msg = f"“{col.name}”应为区委组织部的科室：{listed}。\n确认无误要保留的，请点“是”。"
        if len(msg) > 255:
            msg = f"“{col.name}”应为区委组织部的科室，请从下拉列表中选择。\n确认无误要保留的，请点“是”。"
        dv.update(validate="list", source=section_source, error_type="warning",
                  error_title="不是区委组织部的科室", error_message=msg)
    elif kind == "media":
        if media_source is None:
            return dv | {"validate": "any"}
        dv.update(
            validate="list", source=media_source, error_type="information", error_title="媒体不在媒体目录中",
            error_message=("“媒体目录”中没有这个媒体。点“确定”可保留所填名称，请在“备注”中注明媒体级别，"
                           "由区委组织部核定后计分。"),
        )
    elif kind == "count":
        dv.update(
            validate="integer", criteria=">=", value=0, error_type="warning", error_title="字数应为整数",
            error_message=f"“{col.name}”请填整数，如 1200。\n确认无误要保留的，请点“是”。",
        )
    elif kind == "minutes":
        dv.update(
            validate="decimal", criteria=">=", value=0, error_type="information", error_title="时长按分钟填写",
            error_message=(f"“{col.name}”建议填分钟数，可带小数，如 1.5。"
                           "写成“1分30秒”“90秒”也能识别，点“确定”保留即可。"),
        )
    else:  # text: only the input message
        dv["validate"] = "any"
    return dv


def _write_data_sheet(ws, schema: SheetSchema, st: _Styles, *, unit: Unit, year: int, rules: Rules,
                      media_source, section_source, sections, lists: _MetaLists) -> None:
    cols = schema.columns
    last = len(cols) - 1
    title = schema.title.format(year=year)

    # Data columns: unlocked whole columns, so inserted and sorted rows stay editable.
    for c, col in enumerate(cols):
        fmt = st.fmt(locked=False, **_KIND_FORMATS.get(col.kind, {}))
        ws.set_column(c, c, col.width, fmt)

    # Rows 1–3 are written cell by cell with locked formats (the column format would unlock them).
    _merge(ws, _TITLE, 0, last, title, st.title)
    ws.set_row(_TITLE, 32)
    split = _unit_span(cols)
    _merge(ws, _UNIT, 0, split, f"{UNIT_LABEL}：{unit.name}", st.unit)
    if split < last:
        _merge(ws, _UNIT, split + 1, last, _legend(cols), st.legend)
    ws.set_row(_UNIT, 24)
    for c, col in enumerate(cols):
        ws.write_string(_HEADER, c, col.name, st.header_required if col.required or col.required_for else st.header)
    ws.set_row(_HEADER, 36)

    for c, col in enumerate(cols):
        dv = _validation(col, year=year, rules=rules, media_source=media_source,
                         section_source=section_source, sections=sections, lists=lists)
        ws.data_validation(_FIRST, c, _LAST, c, dv)

    ws.freeze_panes(_FIRST, 0)
    ws.autofilter(_HEADER, 0, _LAST, last)
    ws.protect("", dict(_DATA_PROTECTION))
    _print_setup(ws, title=title, landscape=True, repeat=(_TITLE, _HEADER))
    ws.hide_gridlines(0)  # show and print the grid: data rows have no borders of their own
    ws.set_selection(_FIRST, 0, _FIRST, 0)


def _merge(ws, row: int, first: int, last: int, text: str, fmt) -> None:
    if last > first:
        ws.merge_range(row, first, row, last, text, fmt)
    else:
        ws.write_string(row, first, text, fmt)


def _unit_span(cols: tuple[Column, ...]) -> int:
    """Last column index of the merged 填报单位 cell: about 40 characters wide."""
    width = 0.0
    for c, col in enumerate(cols):
        width += col.width
        if width >= 40:
            return c
    return len(cols) - 1


def _legend(cols: tuple[Column, ...]) -> str:
    # Conditional requirements (“媒体名称” not for 批示…) are in each column's input title.
    return f"红字表头为必填项；从第{FIRST_DATA_ROW}行起填写，一行一条"


def _print_setup(ws, *, title: str, landscape: bool, repeat: tuple[int, int] | None) -> None:
    ws.set_paper(9)  # A4
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.fit_to_pages(1, 0)
    if repeat is not None:
        ws.repeat_rows(*repeat)
    ws.set_margins(left=0.5, right=0.5, top=0.8, bottom=0.7)
    ws.center_horizontally()
    # Size before font name: "&12" directly followed by "2026年…" would read as size 122026.
    ws.set_header(f'&C&12&"{FONT},加粗"{_escape_hf(title)}', {"margin": 0.3})
    ws.set_footer(f'&C&9&"{FONT},常规"第 &P 页，共 &N 页', {"margin": 0.3})


def _escape_hf(text: str) -> str:
    return text.replace("&", "&&")


# ----------------------------------------------------------------- 填报说明


def _of_kind(schema: SheetSchema, kind: str) -> Column | None:
    for col in schema.columns:
        if col.kind == kind:
            return col
    return None


def _named(schema: SheetSchema, name: str) -> Column | None:
    try:
        return schema.column(name)
    except KeyError:
        return None


def _steps(unit: Unit, year: int, rules: Rules) -> list[str]:
    """The numbered instructions, built from the schema and the rules."""
    sub, ev = SUBMISSION_SHEET, EVENT_SHEET
    q = lambda c: f"“{c.name}”"
    req = lambda s: "、".join(q(c) for c in s.required)
    steps = [
        f"本文件是{unit.name}{year}年度组工信息报送、录用情况登记表。请在“{sub.name}”“{ev.name}”两张表中填写，"
        f"从表头下方第{FIRST_DATA_ROW}行起，一行填一条；红字表头为必填项。单击单元格可看到填写提示，"
        "带下拉箭头的单元格请从列表中选择。",
        f"“{sub.name}”：每向上级组织部门报送一篇稿件填一行，必填{req(sub)}。",
        f"“{ev.name}”：每一次录用填一行，必填{req(ev)}。同一篇稿件被3家媒体录用，就填3行（每家媒体一行，分别计分）。",
    ]
    form = _of_kind(ev, "choice")
    level = next((c for c in ev.columns if c.required_for and c.kind == "choice" and c is not form), None)
    if form is not None:
        steps.append(f"{q(form)}从下拉列表选择（{'/'.join(rules.forms)}）。{form.prompt.rstrip('。')}。")
    media = _of_kind(ev, "media")
    date = _of_kind(ev, "date")
    if level is not None:
        endorse = "、".join(f for f in level.required_for if f in rules.forms)
        if endorse:
            parts = [f"每个{endorse}单独填一行：{q(form) if form else '录用形式'}选“{endorse}”，"
                     f"{q(level)}填作出{endorse}的领导的级别（{'/'.join(rules.levels)}，中央级即国家领导）"]
            if date is not None:
                parts.append(f"{q(date)}填{endorse}日期")
            if media is not None and media.required_for and endorse not in media.required_for:
                parts.append(f"{q(media)}可不填")
            steps.append("，".join(parts) + f"。同一稿件同一级别的{endorse}只计一次。")
    if media is not None:
        steps.append(
            f"{q(media)}从下拉列表选择（列表即“{CATALOG_SHEET}”表），媒体级别按媒体目录认定。"
            "列表中没有的媒体可以直接输入，并在“备注”中注明媒体级别，由区委组织部核定后计分。"
        )
    count, minutes = _of_kind(ev, "count"), _of_kind(ev, "minutes")
    if rules.multiplier_forms and (count or minutes):
        what = []
        if count is not None:
            what.append(f"文字稿件超过{rules.text_chars_over}字")
        if minutes is not None:
            what.append(f"影像报道超过{points_text(rules.video_minutes_over)}分钟")
        fill = "、".join(q(c) for c in (count, minutes) if c is not None)
        steps.append(
            f"{'、'.join(rules.multiplier_forms)}的{'、'.join(what)}的，按{points_text(rules.multiplier_factor)}倍计分"
            f"（恰好{rules.text_chars_over}字或{points_text(rules.video_minutes_over)}分钟不加倍），请如实填写{fill}。"
            + (f"{q(minutes)}填分钟数，可带小数，也可写“1分30秒”。" if minutes is not None else "")
        )
    section = _of_kind(ev, "section") or _of_kind(sub, "section")
    if section is not None:
        steps.append(
            f"{q(section)}：稿件经区委组织部对口科室向上报送的，从下拉列表选择该科室（两张表都可填）；"
            f"经对口科室报送并被录用的稿件，本单位全额计分，该科室另按{points_text(rules.credit_fraction)}计分。没有的留空。"
        )
    org = _named(ev, "是否组织工作")
    if org is not None:
        steps.append(f"{q(org)}：不属于组织工作范畴或角度的稿件选“否”，该条不计分；空白视为“是”。")
    serious = _named(ev, "严重失实或政治性问题")
    if serious is not None:
        effect = "倒扣相应分值" if rules.serious_problem == "negate" else "该条不计分"
        steps.append(f"{q(serious)}：稿件因严重失实或政治性问题造成不良影响的选“是”，{effect}；空白视为“否”。")
    steps += [
        f"日期按常见写法填写即可，如 {year}-3-5、{year}/3/5、{year}年3月5日，须是{year}年内的日期；"
        "录用日期决定计入哪个月份和年度。",
        "请不要修改工作表名称和表头文字，不要删除本文件中的任何工作表，不要给文件设置密码或只读保护。"
        "可以插入或删除行、排序、筛选、调整列宽和行高。",
        "报送方式：可以每月只填当月，也可以在同一个文件中累计填写全年——每次把整个文件发回即可，"
        "重复的行只计一次。请保存为 .xlsx 格式发送（不要另存为 .xls、.et、.wps 或 PDF），文件名可不改。",
        "填写中如有疑问，请与区委组织部负责组工信息工作的同志联系。",
    ]
    return steps


def _targets(unit: Unit, rules: Rules) -> str | None:
    cat = rules.categories.get(unit.category)
    if cat is None:
        return None
    dests = "、".join(cat.counts_destinations)
    parts = [f"全年积分不少于{points_text(cat.annual_points)}分"]
    if cat.monthly_submissions:
        parts.append(f"每月向{dests}报送信息合计不少于{cat.monthly_submissions}条")
    if cat.yearly_submissions:
        parts.append(f"全年向{dests}报送信息合计不少于{cat.yearly_submissions}条")
    if cat.provincial_adoptions:
        where = "、".join(cat.provincial_outlets) or "省级组织部门刊物"
        how = "、".join(cat.provincial_forms)
        parts.append(f"全年被{where}录用" + (f"（{how}）" if how else "") + f"不少于{cat.provincial_adoptions}条")
    return f"本单位考核类别为“{cat.name}”：" + "；".join(parts) + "。"


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _write_instructions(ws, st: _Styles, *, unit: Unit, year: int, rules: Rules) -> None:
    levels = list(rules.levels)
    ncols = 1 + max(len(levels), 4)  # column B (form) + one column per level
    last = ncols  # column A holds the numbers
    widths = [5, 20] + [14] * (ncols - 1)
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    text_width = sum(widths[1:])

    def para(row: int, text: str, fmt, number: str = "") -> int:
        if number:
            ws.write_string(row, 0, number, st.number)
        ws.merge_range(row, 1, row, last, text, fmt)
        # Merged cells never auto-fit: size the row from the text (a CJK character ≈ 2 units).
        lines = max(1, -(-_display_width(text) // int(text_width * 0.92)))
        ws.set_row(row, 15 * lines + 5)
        return row + 1

    row = 0
    ws.merge_range(row, 0, row, last, f"{year}年度组工信息报送登记表填报说明", st.title)
    ws.set_row(row, 34)
    row += 1
    ws.merge_range(row, 0, row, last, f"{UNIT_LABEL}：{unit.name}    年度：{year}", st.unit)
    ws.set_row(row, 24)
    row += 2

    row = para(row, "一、填写方法", st.text_bold)
    for i, step in enumerate(_steps(unit, year, rules), start=1):
        row = para(row, step, st.text, f"{i}.")
    row += 1

    row = para(row, "二、计分标准（每条录用的基本分值）", st.text_bold)
    ws.write_string(row, 1, "录用形式＼级别", st.header)
    for c, level in enumerate(levels, start=2):
        ws.write_string(row, c, level, st.header)
    ws.set_row(row, 22)
    row += 1
    for form in rules.forms:
        ws.write_string(row, 1, form, st.cell_center)
        for c, level in enumerate(levels, start=2):
            ws.write_string(row, c, points_text(rules.points.get(form, {}).get(level, 0)), st.cell_center)
        ws.set_row(row, 20)
        row += 1
    notes = []
    if rules.district_adopters:
        notes.append(f"{levels[0]}媒体中，只有{'、'.join(rules.district_adopters)}的采用计分。")
    if rules.not_org_work_points == 0:
        notes.append("非组织工作范畴的稿件不计分；严重失实或有政治性问题的稿件"
                     + ("倒扣相应分值。" if rules.serious_problem == "negate" else "不计分。"))
    notes.append("媒体级别以“媒体目录”为准；最终分值以区委组织部汇总核定为准。")
    for note in notes:
        row = para(row, note, st.text, "•")
    row += 1

    target = _targets(unit, rules)
    if target:
        row = para(row, "三、本单位考核要求", st.text_bold)
        row = para(row, target, st.text, "•")

    ws.protect("", dict(_READ_ONLY_PROTECTION))
    _print_setup(ws, title=f"{year}年度组工信息报送登记表填报说明", landscape=False, repeat=None)
    ws.print_area(0, 0, row, last)
    ws.hide_gridlines(2)
    ws.set_selection(0, 0, 0, 0)
