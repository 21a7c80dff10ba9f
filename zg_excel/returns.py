"""One raw workbook → a unit's return: located rows and issues.

Columns are found by name wherever they are (a unit may insert, move or hide
columns, add blank rows, or retitle a header slightly: aliases, spaces,
full-width brackets and line breaks do not matter); values go through
``values``; every problem becomes an ``Issue`` naming file, sheet, row and
column, and the row is kept (marked invalid) rather than dropped.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from . import TEMPLATE_VERSION
from .intake.raw import RawBook, RawSheet
from .issues import ERROR, INFO, WARNING, Issue
from .model import EventRow, Return, Source, SubmissionRow
from .roster import Catalog, Roster
from .rules import Rules
from .schema import (
    DATA_SHEETS,
    EVENTS,
    HEADER_ROW,
    META_SHEET,
    SUBMISSIONS,
    UNIT_LABEL,
    Column,
    SheetSchema,
)
from .values import (
    Bad,
    clean_text,
    normalize_header,
    parse_count,
    parse_date,
    parse_minutes,
    parse_yes_no,
    title_digest,
)

HEADER_SCAN_ROWS = 30
SKIP_ROW = "该行不计分"


@dataclass
class _Located:
    schema: SheetSchema
    sheet: RawSheet
    header_row: int  # 0-based index into sheet.rows
    columns: dict[str, int]  # column name -> 0-based index
    headers: dict[str, str]  # column name -> header text as the unit wrote it


class _Ctx:
    """What every row parser needs: where we are, and where issues go."""

    def __init__(self, relpath: str, rules: Rules, roster: Roster, catalog: Catalog, year: int):
        self.relpath = relpath
        self.rules = rules
        self.roster = roster
        self.catalog = catalog
        self.year = year
        self.issues: list[Issue] = []
        self.unit = ""
        self.reported: set[str] = set()  # columns of the current row already reported (no second issue)

    def issue(self, severity: str, code: str, message: str, **where) -> None:
        where.setdefault("file", self.relpath)
        where.setdefault("unit", self.unit)
        self.issues.append(Issue(severity=severity, code=code, message=message, **where))


def _header_cells(sheet: RawSheet, r: int) -> list:
    """Row ``r`` (0-based) with merged header cells filled from their top-left cell."""
    row = list(sheet.rows[r]) if r < len(sheet.rows) else []
    for (r1, c1, r2, c2) in sheet.merged:
        if r1 - 1 <= r <= r2 - 1:
            top_left = sheet.rows[r1 - 1][c1 - 1] if r1 - 1 < len(sheet.rows) and c1 - 1 < len(sheet.rows[r1 - 1]) else None
            for c in range(c1 - 1, c2):
                while len(row) <= c:
                    row.append(None)
                if row[c] is None:
                    row[c] = top_left
    return row


def _match_header(row: list, schema: SheetSchema) -> tuple[dict[str, int], dict[str, str], list[tuple[int, str]]]:
    """Map schema columns to positions in a candidate header row.

    Exact (normalized) name or alias first; then a header that contains a
    column's name (``稿件标题（必填）``). Returns matches, the header texts and
    the unmatched non-empty header cells.
    """
    keys = [(c, c.header_keys()) for c in schema.columns]
    found: dict[str, int] = {}
    texts: dict[str, str] = {}
    loose: list[tuple[int, str, str]] = []
    for i, v in enumerate(row):
        h = normalize_header(v)
        if not h:
            continue
        for col, ks in keys:
            if h in ks and col.name not in found:
                found[col.name] = i
                texts[col.name] = clean_text(v) or ""
                break
        else:
            loose.append((i, h, clean_text(v) or ""))
    extra: list[tuple[int, str]] = []
    for i, h, text in loose:
        for col, ks in keys:
            if col.name not in found and normalize_header(col.name) in h:
                found[col.name] = i
                texts[col.name] = text
                break
        else:
            extra.append((i, text))
    return found, texts, extra


def _locate(book: RawBook, schema: SheetSchema, taken: set[str]) -> _Located | None:
    names = {normalize_header(n) for n in (schema.name, *schema.aliases)}
    candidates = [s for s in book.sheets if normalize_header(s.name) in names and s.name not in taken]
    by_name = bool(candidates)
    if not candidates:  # a unit copied its rows into another workbook: find the sheet by its header
        candidates = [s for s in book.sheets if s.name not in taken and s.name != META_SHEET]
    best: tuple[int, _Located] | None = None
    required = {c.name for c in schema.required}
    complete = len(schema.columns) + 2 * len(required)
    for sheet in candidates:
        # The template's header row first: a return that kept its layout is found at once.
        rows = [HEADER_ROW - 1] + [r for r in range(min(HEADER_SCAN_ROWS, len(sheet.rows))) if r != HEADER_ROW - 1]
        for r in rows:
            if r >= len(sheet.rows):
                continue
            found, texts, _ = _match_header(_header_cells(sheet, r), schema)
            score = len(found) + 2 * len(required & set(found))
            if not by_name and not required <= set(found):
                continue
            if found and (best is None or score > best[0]):
                best = (score, _Located(schema, sheet, r, found, texts))
                if score == complete:
                    return best[1]
    return best[1] if best else None


def _fingerprint(book: RawBook) -> dict[str, str]:
    meta = book.sheet(META_SHEET)
    fp: dict[str, str] = {}
    if meta is not None:
        for row in meta.rows[:20]:
            if len(row) >= 2 and row[0] is not None:
                k = clean_text(row[0]) or ""
                v = clean_text(row[1]) or ""
                fp[k] = v
        if fp.get("zg-excel") != "fingerprint":
            fp = {}
    if not fp:
        props = book.properties or {}
        if props.get("zg_unit"):
            fp = {"unit": props.get("zg_unit", ""), "year": props.get("zg_year", ""),
                  "template_version": props.get("zg_template_version", "")}
    return fp


_YEAR_IN_TITLE = re.compile(r"((?:19|20)\d\d)\s*年")


def _title_years(loc: _Located) -> set[str]:
    """Years named in the title rows above the header (``2025年度…``)."""
    found: set[str] = set()
    for r in range(loc.header_row):
        for v in loc.sheet.rows[r]:
            if isinstance(v, str) and UNIT_LABEL not in v:
                found.update(_YEAR_IN_TITLE.findall(v))
    return found


def _unit_cell(loc: _Located) -> str | None:
    """The value of the 填报单位 cell above the header."""
    for r in range(loc.header_row):
        row = loc.sheet.rows[r]
        for i, v in enumerate(row):
            text = clean_text(v)
            if text and UNIT_LABEL in text:
                rest = text.split(UNIT_LABEL, 1)[1].lstrip("：: ").strip()
                if rest:
                    return rest
                for w in row[i + 1:]:
                    if clean_text(w):
                        return clean_text(w)
    return None


def read_return(book: RawBook, relpath: str, *, year: int, rules: Rules, roster: Roster,
                catalog: Catalog, file_time: dt.datetime | None = None) -> tuple[Return | None, list[Issue]]:
    """Read one workbook as a return. ``None`` when it cannot be one (issues say why)."""
    ctx = _Ctx(relpath, rules, roster, catalog, year)
    taken: set[str] = set()
    located: dict[str, _Located] = {}
    for schema in (DATA_SHEETS[1], DATA_SHEETS[0]):  # 录用登记 first: it is the one that scores
        loc = _locate(book, schema, taken)
        if loc is not None:
            located[schema.name] = loc
            taken.add(loc.sheet.name)

    if not located:
        ctx.issue(ERROR, "no_data_sheet",
                  f"文件中找不到“{EVENTS}”或“{SUBMISSIONS}”工作表（也没有含“稿件标题”等列的表格），未合并",
                  action="整个文件未合并", fix="请使用下发的模板填报，不要改动工作表名称和表头")
        return None, ctx.issues

    # Unit: the template's stored identity (fingerprint, survives a save in any office
    # suite), else the 填报单位 cell, else the file name, each against the roster's names
    # and aliases; no unit found -> the file is an error and is not merged.
    fp = _fingerprint(book)
    unit = None
    found_by = ""
    fp_unit = roster.find(fp.get("unit")) if fp else None
    cell_texts = [t for t in (_unit_cell(loc) for loc in located.values()) if t]
    cell_unit = next((u for u in (roster.find(t) for t in cell_texts) if u), None)
    if cell_unit is None:
        cell_unit = next((u for u in (roster.find_in(t) for t in cell_texts) if u), None)
    name_unit = roster.find_in(relpath.rsplit(".", 1)[0])
    if fp_unit:
        unit, found_by = fp_unit, "模板标识"
    elif cell_unit:
        unit, found_by = cell_unit, "填报单位"
    elif name_unit:
        unit, found_by = name_unit, "文件名"
    if unit is None:
        shown = fp.get("unit") or (cell_texts[0] if cell_texts else "")
        near = roster.closest(shown or relpath.rsplit("/", 1)[-1].rsplit(".", 1)[0])
        ctx.issue(ERROR, "unit_unknown",
                  "无法确定填报单位" + (f"（“{shown}”不在单位名册中）" if shown else "（模板标识、填报单位、文件名均无法对应名册）")
                  + (f"；最接近的名册单位：{'、'.join(near)}" if near else ""),
                  value=shown, action="整个文件未合并",
                  fix="请在“填报单位”处填写名册中的单位全称，或在单位名册中为该单位增加别名")
        return None, ctx.issues
    ctx.unit = unit.name
    if fp_unit and cell_unit and cell_unit.name != fp_unit.name:
        # The stored identity and the visible 填报单位 name two roster units: neither is guessed.
        ctx.issue(ERROR, "unit_identity_conflict",
                  f"填报单位写的是“{cell_unit.name}”，但模板标识属于“{fp_unit.name}”，无法确定是哪个单位的报送，"
                  f"该文件未合并",
                  value=f"{cell_unit.name} / {fp_unit.name}", unit="", action="整个文件未合并，待核实后处理",
                  fix=f"请核实该文件属于哪个单位：如是“{cell_unit.name}”用了“{fp_unit.name}”的模板，"
                      f"请“{cell_unit.name}”用本单位模板重新报送；如填报单位写错，请改正后重新报送")
        return None, ctx.issues

    # Template drift (issue: renamed/extra columns, other year, other unit's file, old version).
    if fp:
        if fp_unit is None:
            ctx.issue(WARNING, "fingerprint_unknown_unit",
                      f"模板标识中的单位“{fp.get('unit')}”不在名册中，按{found_by}认定为“{unit.name}”",
                      value=fp.get("unit", ""))
        if fp.get("year") and fp.get("year") != str(year):
            ctx.issue(WARNING, "other_year_template",
                      f"这是{fp.get('year')}年度的模板，本次统计{year}年度；不在本年度的录用不计分",
                      value=fp.get("year", ""), fix=f"请使用{year}年度模板填报")
        if fp.get("template_version") and fp.get("template_version") != TEMPLATE_VERSION:
            ctx.issue(INFO, "old_template",
                      f"模板版本为{fp.get('template_version')}，当前为{TEMPLATE_VERSION}；已按列名读取",
                      value=fp.get("template_version", ""))
    if fp_unit and name_unit and name_unit.name != fp_unit.name:
        ctx.issue(WARNING, "fingerprint_mismatch",
                  f"文件名像是“{name_unit.name}”的，但模板标识属于“{fp_unit.name}”，已按模板标识计入“{fp_unit.name}”",
                  value=relpath, fix="请确认是否用了其他单位的模板；如是，请用本单位模板重新填报")
    if not fp_unit and cell_unit and name_unit and cell_unit.name != name_unit.name:
        ctx.issue(WARNING, "unit_cell_mismatch",
                  f"“填报单位”写的是“{cell_unit.name}”，但文件名像是“{name_unit.name}”的，已按填报单位计入“{cell_unit.name}”",
                  value=cell_unit.name, fix="请确认文件是否发错；如填报单位写错，请改正后重新报送")
    if not fp:
        years = {y for loc in located.values() for y in _title_years(loc)}
        if years and str(year) not in years:
            shown = "、".join(sorted(years))
            ctx.issue(WARNING, "other_year_template",
                      f"表格标题写的是{shown}年度，本次统计{year}年度；不在本年度的录用不计分",
                      value=shown, fix=f"请使用{year}年度模板填报")

    missing: list[str] = []
    for name in (EVENTS, SUBMISSIONS):
        loc = located.get(name)
        if loc is None:
            ctx.issue(WARNING, "missing_sheet", f"未找到“{name}”工作表，按无{name[:2]}记录处理",
                      sheet=name, fix="请使用下发的模板，保留全部工作表")
            continue
        for col in loc.schema.required:
            if col.name not in loc.columns:
                missing.append(col.name)
                ctx.issue(ERROR, "missing_column", f"“{loc.sheet.name}”缺少必填列“{col.name}”",
                          sheet=loc.sheet.name, row=loc.header_row + 1, column=col.name,
                          action="整个文件未合并", fix=f"请恢复“{col.name}”列（可在模板中复制表头）")
    if missing:
        return None, ctx.issues

    ret = Return(path=book.path, relpath=relpath, unit=unit.name, format=book.format,
                 saved_time=book.saved_time, file_time=file_time, fingerprint=fp, found_by=found_by)
    for loc in located.values():
        _report_layout(ctx, loc, by_fingerprint=bool(fp))
        if loc.schema.name == EVENTS:
            ret.events = list(_rows(ctx, loc, _event))
        else:
            ret.submissions = list(_rows(ctx, loc, _submission))
    for note in book.notes:
        ctx.issue(INFO, "reader_note", note)
    return ret, ctx.issues


def _report_layout(ctx: _Ctx, loc: _Located, by_fingerprint: bool) -> None:
    sheet = loc.sheet
    if sheet.name != loc.schema.name:
        ctx.issue(INFO, "renamed_sheet", f"工作表名为“{sheet.name}”，已按表头认定为“{loc.schema.name}”",
                  sheet=sheet.name)
    if sheet.hidden:
        ctx.issue(WARNING, "hidden_sheet", f"工作表“{sheet.name}”被隐藏，已照常读取", sheet=sheet.name)
    for name, text in loc.headers.items():
        if normalize_header(text) != normalize_header(name):
            ctx.issue(INFO, "renamed_column", f"列名“{text}”已按“{name}”读取", sheet=sheet.name,
                      row=loc.header_row + 1, column=text)
    _, _, extra = _match_header(_header_cells(sheet, loc.header_row), loc.schema)
    for _, text in extra:
        ctx.issue(INFO, "extra_column", f"模板之外的列“{text}”未读取", sheet=sheet.name,
                  row=loc.header_row + 1, column=text)
    order = [loc.columns[c.name] for c in loc.schema.columns if c.name in loc.columns]
    if by_fingerprint and order != sorted(order):
        ctx.issue(INFO, "moved_columns", "列的顺序与模板不同，已按列名读取", sheet=sheet.name)
    for col in loc.schema.columns:
        if col.name not in loc.columns and not col.required and col.name != "备注" and not col.ledger:
            ctx.issue(WARNING, "missing_optional_column",
                      f"“{sheet.name}”没有“{col.name}”列，按该列全部为空处理"
                      + ("（超过规定字数/时长的稿件不能按倍数计分）" if col.kind in ("count", "minutes") else ""),
                      sheet=sheet.name, row=loc.header_row + 1, column=col.name,
                      fix=f"如有需要，请从模板中恢复“{col.name}”列后重新报送")
    hidden = sorted(r for r in sheet.hidden_rows if r > loc.header_row + 1)
    if hidden:
        shown = "、".join(str(r) for r in hidden[:20]) + ("等" if len(hidden) > 20 else "")
        ctx.issue(WARNING, "hidden_rows", f"有{len(hidden)}行被隐藏（第{shown}行），已照常读取并计分",
                  sheet=sheet.name, fix="如这些行不应计分，请删除而不是隐藏")
    hidden_cols = sorted(c for c in sheet.hidden_cols if c - 1 in loc.columns.values())
    if hidden_cols:
        ctx.issue(WARNING, "hidden_columns", f"有{len(hidden_cols)}列被隐藏，已照常读取", sheet=sheet.name)


def _rows(ctx: _Ctx, loc: _Located, parse):
    sheet = loc.sheet
    wanted = set(loc.columns.values())
    headers = {v: k for k, v in loc.columns.items()}
    header_keys = {normalize_header(c.name) for c in loc.schema.columns}
    header_texts = {n for c in loc.schema.columns for n in (c.name, *c.aliases)}
    positions = list(loc.columns.items())
    formulas = {(r, c): f for (r, c), f in sheet.formulas_without_value.items() if c - 1 in wanted}
    for r in range(loc.header_row + 1, len(sheet.rows)):
        row = sheet.rows[r]
        if not any(v is not None and (not isinstance(v, str) or v.strip()) for v in row):
            continue
        excel_row = r + 1
        width = len(row)
        cells = {name: (row[i] if i < width else None) for name, i in positions}
        if (isinstance(cells.get("稿件标题"), str) and cells["稿件标题"].strip() in header_texts
                and sum(1 for v in cells.values() if isinstance(v, str) and normalize_header(v) in header_keys)
                >= max(2, len(cells) // 2)):
            ctx.issue(INFO, "repeated_header", "重复的表头行，已跳过", sheet=sheet.name, row=excel_row)
            continue
        bad_formula = False
        ctx.reported = set()
        for (fr, fc), f in formulas.items():
            if fr == excel_row:
                ctx.reported.add(headers[fc - 1])
                ctx.issue(ERROR, "formula_no_value", f"单元格是公式（{f}）但没有保存计算结果，无法读取",
                          sheet=sheet.name, row=excel_row, column=headers[fc - 1], value=f"={f}" if not
                          f.startswith("=") else f, action=SKIP_ROW,
                          fix="请在 Excel/WPS 中打开后保存一次，或把公式改为数值后重新报送")
                cells[headers[fc - 1]] = None
                bad_formula = True
        item = parse(ctx, Source(ctx.relpath, sheet.name, excel_row), cells, loc)
        if bad_formula:
            item.invalid = True
        yield item


def _problem(ctx: _Ctx, src: Source, col: str, value, message: str, fix: str, severity: str = ERROR,
             action: str = SKIP_ROW, code: str = "bad_value") -> None:
    ctx.issue(severity, code, message, sheet=src.sheet, row=src.row, column=col,
              value=clean_text(value) or "", action=action, fix=fix)


def _required(ctx, src, cells, col: Column, loc: _Located) -> bool:
    if clean_text(cells.get(col.name)) is None:
        if col.name in ctx.reported:
            return False
        _problem(ctx, src, loc.headers.get(col.name, col.name), None, f"必填项“{col.name}”为空",
                 f"请填写“{col.name}”", code="missing_value")
        return False
    return True


def _assumed(ctx, src, col: str, value, notes: list[str], action: str, fix: str, code: str) -> None:
    """A value read with an assumption: scored as read, the assumption listed on its cell."""
    for note in notes:
        _problem(ctx, src, col, value, note, fix, severity=INFO, action=action, code=code)


def _date(ctx, src, cells, name: str, loc: _Located):
    v = cells.get(name)
    notes: list[str] = []
    d = parse_date(v, year_hint=ctx.year, notes=notes)
    if isinstance(d, Bad):
        _problem(ctx, src, loc.headers.get(name, name), v, d.reason,
                 "请填写有效日期，如 2026-03-05", code="bad_date")
        return None, False
    _assumed(ctx, src, loc.headers.get(name, name), v, notes, f"按{d.isoformat()}计" if d else "",
             f"请填写完整日期，如 {ctx.year}-03-05", "assumed_year")
    return d, True


def _section(ctx, src, cells, loc: _Located, item) -> None:
    text = clean_text(cells.get("经对口处室"))
    if not text:
        return
    unit = ctx.roster.find(text)
    if unit is None or unit.category != ctx.rules.section_category:
        names = "、".join(u.name for u in ctx.roster.sections(ctx.rules.section_category))
        _problem(ctx, src, loc.headers.get("经对口处室", "经对口处室"), text,
                 f"对口处室“{text}”不是名册中的{ctx.rules.section_category}",
                 f"请从下拉列表选择：{names}", action="本单位照常计分，不给任何科室计对口积分或报送条数",
                 code="unknown_section")
        return
    if unit.name == ctx.unit:
        return  # a section naming itself gets no extra credit
    item.section = unit.name


def _event(ctx: _Ctx, src: Source, cells: dict, loc: _Located) -> EventRow:
    rules = ctx.rules
    ev = EventRow.at(src, unit=ctx.unit)
    col = loc.schema.column
    ok = True
    ev.title = clean_text(cells.get("稿件标题"))
    ev.title_key = title_digest(ev.title)
    ok &= _required(ctx, src, cells, col("稿件标题"), loc)
    form_text = clean_text(cells.get("录用形式"))
    if form_text is None:
        ok &= _required(ctx, src, cells, col("录用形式"), loc)
    else:
        ev.form = rules.form_of(form_text)
        if ev.form is None:
            ok = False
            _problem(ctx, src, loc.headers.get("录用形式", "录用形式"), form_text,
                     f"录用形式“{form_text}”无法识别", f"请选择：{'/'.join(rules.forms)}", code="bad_choice")
    ev.outlet_text = clean_text(cells.get("媒体名称"))
    level_text = clean_text(cells.get("媒体级别"))
    if level_text:
        ev.declared_level = rules.level_of(level_text)
        if ev.declared_level is None:
            severity = ERROR if ev.form == "批示" else WARNING
            ok &= severity != ERROR
            _problem(ctx, src, loc.headers.get("媒体级别", "媒体级别"), level_text,
                     f"媒体级别“{level_text}”无法识别", f"请选择：{'/'.join(rules.levels)}",
                     severity=severity, action=SKIP_ROW if severity == ERROR else "按媒体目录认定级别",
                     code="bad_choice")
    if ev.form and ev.form in col("媒体名称").required_for and ev.outlet_text is None:
        ok &= _required(ctx, src, cells, col("媒体名称"), loc)
    if ev.form and ev.form in col("媒体级别").required_for and level_text is None:
        _problem(ctx, src, loc.headers.get("媒体级别", "媒体级别"), None,
                 f"{ev.form}须填写领导级别（媒体级别）", f"请选择：{'/'.join(rules.levels)}（中央级=国家）",
                 code="missing_value")
        ok = False
    if ev.outlet_text:
        outlet = ctx.catalog.find(ev.outlet_text)
        if outlet:
            ev.outlet, ev.outlet_level = outlet.name, outlet.level
        elif ev.form != "批示" and ctx.rules.unknown_media == "exclude":
            near = ctx.catalog.suggest(ev.outlet_text)
            _problem(ctx, src, loc.headers.get("媒体名称", "媒体名称"), ev.outlet_text,
                     f"媒体“{ev.outlet_text}”不在媒体目录中" + (f"（最接近：{'、'.join(near)}）" if near else ""),
                     "如确为考核范围内的媒体，请在媒体目录中增加该媒体或别名后重新合并",
                     code="unknown_outlet")
    d, good = _date(ctx, src, cells, "录用日期", loc)
    ev.date = d
    ok &= good
    if good and d is None:
        ok &= _required(ctx, src, cells, col("录用日期"), loc)
    needs_size = ev.form in rules.multiplier_forms
    for name, parser, attr in (("字数", parse_count, "chars"), ("视频时长（分钟）", parse_minutes, "minutes")):
        v = cells.get(name)
        notes: list[str] = []
        parsed = parse_count(v, notes=notes) if parser is parse_count else parser(v)
        if notes and isinstance(parsed, int):
            over = rules.text_chars_over
            if not needs_size:
                effect = "该行不按字数加倍"
            elif parsed > over:
                effect = f"超过{over}字，按倍数计分"
            else:
                effect = f"未超过{over}字，不按倍数计分"
            _assumed(ctx, src, loc.headers.get(name, name), v, [f"{n}，{effect}" for n in notes],
                     f"按{parsed}字计", "如实际字数不同，请填写准确字数后重新报送", "approximate_count")
        if isinstance(parsed, Bad):
            _problem(ctx, src, loc.headers.get(name, name), v, parsed.reason,
                     "请填写数字，如 1200 或 1.5" if name == "字数" else "请填写分钟数，如 1.5 或 1分30秒",
                     severity=ERROR if needs_size else WARNING,
                     action=SKIP_ROW if needs_size else "该值不影响本行计分", code="bad_number")
            ok &= not needs_size
        else:
            setattr(ev, attr, parsed)
    for name, attr, blank in (("是否组织工作", "org_work", True), ("严重失实或政治性问题", "serious", False)):
        v = cells.get(name)
        parsed = parse_yes_no(v)
        if isinstance(parsed, Bad):
            _problem(ctx, src, loc.headers.get(name, name), v, parsed.reason, "请选择“是”或“否”",
                     code="bad_choice")
            ok = False
        else:
            setattr(ev, attr, blank if parsed is None else parsed)
    _section(ctx, src, cells, loc, ev)
    ev.note = clean_text(cells.get("备注"))
    ev.issue_page = clean_text(cells.get("期号版面"))  # the three 台帐 proof columns (zg_excel.ledger matches them)
    ev.link = clean_text(cells.get("链接"))
    names = clean_text(cells.get("证明材料"))
    ev.proof_files = tuple(n.strip() for n in re.split(r"[;；\n]+", names) if n.strip()) if names else ()
    ev.invalid = not ok
    return ev


def _submission(ctx: _Ctx, src: Source, cells: dict, loc: _Located) -> SubmissionRow:
    rules = ctx.rules
    sub = SubmissionRow.at(src, unit=ctx.unit)
    col = loc.schema.column
    ok = True
    sub.title = clean_text(cells.get("稿件标题"))
    sub.title_key = title_digest(sub.title)
    ok &= _required(ctx, src, cells, col("稿件标题"), loc)
    d, good = _date(ctx, src, cells, "报送日期", loc)
    sub.date = d
    ok &= good
    if good and d is None:
        ok &= _required(ctx, src, cells, col("报送日期"), loc)
    text = clean_text(cells.get("报送对象"))
    if text is None:
        ok &= _required(ctx, src, cells, col("报送对象"), loc)
    else:
        sub.destination = rules.destination_of(text)
        if sub.destination is None:
            ok = False
            _problem(ctx, src, loc.headers.get("报送对象", "报送对象"), text, f"报送对象“{text}”无法识别",
                     f"请选择：{'/'.join(rules.destinations)}", code="bad_choice")
    _section(ctx, src, cells, loc, sub)
    sub.note = clean_text(cells.get("备注"))
    sub.invalid = not ok
    return sub
