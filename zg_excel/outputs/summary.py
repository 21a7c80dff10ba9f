"""The summary workbook leaders read: rankings, charts, details, ledger, months, credits, issues, rules.

Rendered from the ``Result`` only (no number is rescored here), with
xlsxwriter in constant-memory mode (each sheet written top to bottom; charts
are drawings and may be placed anywhere), every text written as inert text (no
formulas, no links from untrusted strings), and written to a temporary name
then renamed.

Every sheet prints on A4 (landscape where wide), fitted to the page width, with
its header row repeated, its title and period in the page header and page
numbers in the footer. The 图表 sheet is printed at a fixed scale instead, so
that its page breaks (which Excel ignores under "fit to page") keep each chart
whole.

The previous period (rank change, points added) comes from
``result.previous`` (:func:`zg_excel.previous.previous_standings`) when the
merge set it; without it those columns are left out. Figures the 通报 shows
too come from ``outputs.report``; period texts from ``result.period``; points
are rounded by ``text.round_half_up`` (``Result.points_number``, at ``rules.places``) and the file name is
``Workspace.summary_path``.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..files import atomic_target
from ..issues import ERROR, SEVERITY_ZH, WARNING
from ..model import OUTCOME_ZH, SCORED, SUPERSEDED
from ..rules import (
    CATEGORY_KEY_LABELS,
    KEY_LABELS,
    TABLE_LABELS,
    VALUE_LABELS,
    default_rules_text,
    flatten,
)
from ..text import month_cn, months_text, points_text
from .report import levels_high_first, overview, period_label, previous_of

if TYPE_CHECKING:
    from ..result import Result

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]
from .book import (
    CREDITS,
    DETAILS,
    ENDORSEMENT,
    FILES,
    ISSUES,
    LEDGER,
    LEDGER_LINK,
    LINK_TEXT,
    MONTHLY,
    MONTHS,
    ON_TRACK_HEAD,
    RANKING,
    RULES,
    TARGET_HEAD,
    TARGET_ORDER,
    Book,
    fit_row,
    put_text,
    text_lines,
    text_units,
    wrapped_height,
)
from .charts import write_charts


def write_summary(result: Result, path: Path) -> Path:
    path = Path(path)
    tmp = atomic_target(path)
    try:
        book = Book(tmp, result)
        _ranking(book, result)
        write_charts(book, result)
        _details(book, result)
        _ledger(book, result)
        _monthly(book, result)
        _credits(book, result)
        _issues(book, result)
        _files(book, result)
        _rules(book, result)
        book.close()
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


# ------------------------------------------------------------------ 排名总表


def target_keys(result: Result) -> list[str]:
    """The targets any category has, in a fixed order (one ✓/✗ column each)."""
    found = {k for c in result.rules.categories.values() for k in c.target_keys}
    return [k for k in TARGET_ORDER if k in found] + sorted(found - set(TARGET_ORDER))


def target_head(key: str) -> str:
    return TARGET_HEAD.get(key, key)


def ranking_columns(result: Result) -> list[tuple[str, float]]:
    """The 排名总表 columns (header, width), for this run (previous period, year end)."""
    prev = previous_of(result)
    cols = [("排名", 5)]
    if prev is not None:
        cols.append(("较上期", 6))
    cols += [("单位", 24), ("报送条数", 5)]
    cols += [(f"{lv}录用", 5) for lv in levels_high_first(result)]
    cols += [("本单位积分", 8), ("对口处室积分", 7), ("总积分", 9)]
    if prev is not None:
        cols += [("上期总积分", 8), ("本期新增积分", 8)]
    cols.append(("年度目标", 6))
    if not result.final:
        cols.append(("序时目标", 6))
    cols.append(("完成进度", 6))
    if not result.final:
        cols.append((ON_TRACK_HEAD, 5))
    for key in target_keys(result):
        cols.append((target_head(key), 7 if key == "provincial" else 5))
    # Wide enough for the longest value on one line: a wrapped "10—12月" would split a number.
    longest = max((text_units(months_text(t.short_months)) for t in result.units), default=0)
    cols.append(("报送不足月份", max(10, math.ceil(longest) + 2)))
    return cols


RANKING_UNITS_PER_PAGE = 30  # units the 排名总表 keeps on one landscape A4 page (with its bands, total and note)


def ranking_pages(units: int) -> int:
    """Pages high the 排名总表 is fitted to: one for up to 30 units, one more per 30 after that."""
    return max(1, math.ceil(units / RANKING_UNITS_PER_PAGE))


def _note(book: Book, ws, r: int, cols: list[tuple[str, float]], text: str) -> None:
    """A grey explanatory paragraph under a table, across all its columns, tall enough for its text."""
    ws.merge_range(r, 0, r, len(cols) - 1, text, book.note)
    fit_row(ws, r, text_lines(text, sum(w for _, w in cols) * 0.95))


def _mark(book: Book, ws, r: int, c: int, ok: bool | None, *, final_fail: bool, prefix: str = "") -> None:
    if ok is None:
        put_text(ws, r, c, "—", book.grey)
    elif ok:
        put_text(ws, r, c, f"{prefix}✓", book.good_c)
    else:
        put_text(ws, r, c, f"{prefix}✗", book.bad_c if final_fail else book.warn_c)


def _ranking(book: Book, result: Result) -> None:
    prev = previous_of(result)
    levels = levels_high_first(result)
    cols = ranking_columns(result)
    index = {h: i for i, (h, _) in enumerate(cols)}
    ws = book.sheet(RANKING, f"{period_label(result)}组工信息考核积分排名", cols,
                    tall=ranking_pages(len(result.units)))
    keys = target_keys(result)
    r = 3
    first = r
    for cat in result.rules.categories:
        group = sorted((t for t in result.units if t.category == cat), key=lambda t: (t.rank, t.order))
        if not group:
            continue
        annual = result.rules.categories[cat].annual_points
        ws.merge_range(r, 0, r, len(cols) - 1, f"{cat}（{len(group)}个单位，全年积分目标{result.points_text(annual)}分）",
                       book.band)
        r += 1
        book.ranking_spans[cat] = (r, r + len(group) - 1, index)
        for t in group:
            cat_rules = result.rules.categories[t.category]
            ws.write_number(r, index["排名"], t.rank, book.int)
            if prev is not None:
                change = prev.rank_change(t)
                if change is None:
                    put_text(ws, r, index["较上期"], "—", book.grey)
                else:
                    ws.write_number(r, index["较上期"], change,
                                    book.up if change > 0 else book.down if change < 0 else book.same)
            if t.returned:
                put_text(ws, r, index["单位"], t.unit, book.wrap)
            else:
                put_text(ws, r, index["单位"], f"{t.unit}（未报送）", book.bad_left)
            ws.write_number(r, index["报送条数"], t.submissions_year, book.int)
            for lv in levels:
                ws.write_number(r, index[f"{lv}录用"], t.adoptions_by_level.get(lv, 0), book.int)
            ws.write_number(r, index["本单位积分"], result.points_number(t.points), book.pts)
            ws.write_number(r, index["对口处室积分"], result.points_number(t.credit), book.pts)
            behind = t.behind_prorated
            ws.write_number(r, index["总积分"], result.points_number(t.total), book.bad if behind else book.pts)
            if prev is not None:
                p = prev.get(t.unit)
                if p is None:
                    put_text(ws, r, index["上期总积分"], "—", book.grey)
                    put_text(ws, r, index["本期新增积分"], "—", book.grey)
                else:
                    ws.write_number(r, index["上期总积分"], result.points_number(p.total), book.pts)
                    ws.write_number(r, index["本期新增积分"], result.points_number(prev.added(t)), book.added)
            ws.write_number(r, index["年度目标"], result.points_number(t.annual_target), book.pts)
            if not result.final:
                ws.write_number(r, index["序时目标"], result.points_number(t.prorated_target), book.pts)
            progress = float(t.total / t.prorated_target) if t.prorated_target else 0.0
            ws.write_number(r, index["完成进度"], progress, book.pct)
            if not result.final:
                _mark(book, ws, r, index[ON_TRACK_HEAD], not behind, final_fail=True)
            for key in keys:
                # A missed month cannot be made up; the annual targets are only final at year end.
                prefix = ""
                if key == "provincial" and cat_rules.provincial_adoptions:
                    prefix = f"{t.provincial_org_adoptions}条"
                _mark(book, ws, r, index[target_head(key)], t.targets.get(key),
                      final_fail=result.final or key == "monthly", prefix=prefix)
            short = months_text(t.short_months)
            put_text(ws, r, index["报送不足月份"], short, book.bad_wrap if short else book.center)
            r += 1
    last = max(r - 1, first)
    tc = index["总积分"]
    ws.conditional_format(first, tc, last, tc, {"type": "data_bar", "bar_color": "#63BE7B", "bar_solid": True})
    pc = index["完成进度"]
    ws.conditional_format(first, pc, last, pc, {
        "type": "3_color_scale", "min_type": "num", "min_value": 0, "min_color": "#F8696B",
        "mid_type": "num", "mid_value": 0.5, "mid_color": "#FFEB84",
        "max_type": "num", "max_value": 1, "max_color": "#63BE7B"})
    ws.autofilter(2, 0, last, len(cols) - 1)

    # The district total (outside the filter range): the figures the 通报's 总体情况 cites.
    ov = overview(result)
    r += 1
    for c in range(len(cols)):
        ws.write_blank(r, c, None, book.total_text)
    put_text(ws, r, index["排名"], "合计", book.total_text)
    put_text(ws, r, index["单位"], f"全区{ov.units_total}个单位（{ov.units_returned}个已报送）", book.total_text)
    ws.write_number(r, index["报送条数"], ov.submissions_total, book.total_int)
    for lv in levels:
        ws.write_number(r, index[f"{lv}录用"], ov.by_level[lv], book.total_int)
    ws.write_number(r, index["本单位积分"], result.points_number(ov.points_total), book.total_pts)
    ws.write_number(r, index["对口处室积分"], result.points_number(ov.credit_total), book.total_pts)
    ws.write_number(r, index["总积分"], result.points_number(ov.points_total + ov.credit_total), book.total_pts)
    if prev is not None:
        then = ov.prev_points_total + ov.prev_credit_total
        ws.write_number(r, index["上期总积分"], result.points_number(then), book.total_pts)
        ws.write_number(r, index["本期新增积分"], result.points_number(ov.points_total + ov.credit_total - then), book.total_pts)
    if not result.final:
        ws.write_number(r, index[ON_TRACK_HEAD], len(ov.units_on_track), book.total_count)
    for key in keys:
        ws.write_number(r, index[target_head(key)], sum(1 for t in result.units if t.targets.get(key)),
                        book.total_count)
    total_row = r

    note = ("说明：总积分 = 本单位积分 + 对口处室积分（对口处室积分是经该科室报送稿件积分的分成，"
            "全区合计积分只计本单位积分之和）；")
    if result.final:
        note += "完成进度 = 总积分 ÷ 年度目标。✓ 达到，✗ 未达到。"
    else:
        note += ("完成进度 = 总积分 ÷ 序时目标，序时目标 = 年度目标 × 已满月数 ÷ 12。"
                 "✓ 达到，✗ 未达到：红色为已确定未达到（任一月报送不足，或积分低于序时目标），"
                 "黄色为截至目前尚未达到全年目标、不作最终判定。")
    if "provincial" in keys:
        outlets = sorted({o for c in result.rules.categories.values() for o in c.provincial_outlets})
        note += f"省委组织部录用为全年被{'、'.join(outlets) or '省委组织部刊物'}录用（采用、综合）的条数。"
    note += "合计行中“个”为达到该项的单位数。"
    if prev is not None:
        note += (f"较上期：与{prev.label}（截至{prev.as_of.isoformat()}，按本次收到的全部报表重新计算）的名次相比，"
                 "↑ 上升、↓ 下降的名次数。")
    if result.final:
        note += "未完成任一项年度目标的单位不得参加组织系统评先评优（考核办法第六条第5款）。"
    _note(book, ws, total_row + 2, cols, note)


# ------------------------------------------------------------------ 图表

def _event_columns():
    return [("单位", 16), ("稿件标题", 30), ("录用形式", 6), ("媒体名称（填报）", 16), ("目录媒体", 16),
            ("级别", 6), ("录用日期", 11), ("字数", 6), ("时长（分钟）", 6), ("倍数", 5), ("得分", 7),
            ("经对口处室", 8), ("对口积分", 7), ("结果", 11), ("计分说明", 30), ("来源文件", 20),
            ("工作表", 8), ("行号", 5)]


_EXCEL_EPOCH = dt.date(1899, 12, 30)


def category_order(result: Result) -> dict[str, int]:
    """Category → its place: the order the roster first lists each category, then the rules' order."""
    order: dict[str, int] = {}
    for t in sorted(result.units, key=lambda t: t.order):
        order.setdefault(t.category, len(order))
    for cat in result.rules.categories:
        order.setdefault(cat, len(order))
    return order


def unit_order(result: Result) -> dict[str, tuple[int, int]]:
    """Unit → (its category's place, its roster place): every per-unit listing is grouped by category."""
    cats = category_order(result)
    return {t.unit: (cats.get(t.category, len(cats)), t.order) for t in result.units}


_LAST = (10**6, 10**6)


def _events_in_order(result: Result):
    """录用明细 order: category and unit (roster order), then 录用日期, then the source file and row."""
    order = unit_order(result)
    return sorted(result.events, key=lambda e: (order.get(e.unit, _LAST), e.date is None, e.date or _EXCEL_EPOCH,
                                                e.where[0], e.where[1], e.line))


def explanation(e, superseded_by: dict[str, str]) -> str:
    """The row's 计分说明; one the scoring left empty (or without its reason) is said here from the outcome."""
    text = e.explanation
    if e.outcome == SUPERSEDED and not text:
        newer = superseded_by.get(e.where[0])
        return f"所在文件已被更新文件“{newer}”替代，本行不再计分" if newer else "所在文件已被更新文件替代，本行不再计分"
    if e.outcome == SCORED and e.form == ENDORSEMENT and e.points == 0 and "不加分" not in text:
        return f"{text}（考核办法对{e.level or ''}批示不加分）"
    if not text:
        return OUTCOME_ZH.get(e.outcome, e.outcome)
    return text


def superseded_files(result: Result) -> dict[str, str]:
    """File → the newer file that superseded it (from the returns)."""
    return {r.relpath: r.superseded_by for r in getattr(result, "returns", ()) or ()
            if getattr(r, "superseded_by", None)}


def _details(book: Book, result: Result) -> None:
    """录用明细: one plain row per event (100,000 at W1), streamed whole rows at a time."""
    from ..scoring import PerObject
    from .rowstream import RowStream

    cols = _event_columns()
    ws = book.sheet(DETAILS, f"{period_label(result)}组工信息录用明细", cols)
    t, c, g, i = book.text, book.center, book.pts_g, book.int
    formats = [t, t, c, t, t, c, book.date, i, g, c, g, c, g, c, t, t, c, i]
    bad = formats.copy()
    bad[13] = book.bad_c
    number = PerObject(result.points_number)  # rows share a few Fraction objects
    times: dict = {}
    newer = superseded_files(result)

    with RowStream(ws, 3, inline=(1,)) as rows:  # titles: nearly all distinct
        add = rows.add
        for e in _events_in_order(result):
            m = e.multiplier
            minutes = e.minutes
            if minutes is not None:
                minutes = times.get(minutes) or times.setdefault(minutes, float(minutes))
            where = e.where
            add([e.unit, e.title, e.form, e.outlet_text, e.outlet, e.level or e.outlet_level,
                 (e.date - _EXCEL_EPOCH).days if e.date else None, e.chars, minutes,
                 f"×{points_text(m)}" if m != 1 else None, number(e.points), e.section,
                 number(e.credit) if e.credit else None, OUTCOME_ZH.get(e.outcome, e.outcome),
                 explanation(e, newer), where[0], where[1], e.line],
                formats if e.outcome == SCORED else bad)
    ws.autofilter(2, 0, max(rows.row - 1, 3), len(cols) - 1)


def ledger_period(result: Result) -> tuple[dt.date, dt.date]:
    """First day of the as-of date's quarter, and the as-of date."""
    return result.period.quarter_start, result.as_of


def ledger_events(result: Result) -> list:
    """The 台帐 rows (the ledger the method asks each quarter): scored rows of the quarter at 市级 or above.

    Adoptions and digests by 市级-or-higher outlets come first; the quarter's
    endorsements by 市级-or-higher leaders follow (the 批示件 is kept on file
    like the clipping, and it is where the endorsement's points come from).
    Rows of 区级 outlets or leaders are not in the ledger.
    """
    start, end = ledger_period(result)
    order = {t.unit: t.order for t in result.units}
    lowest = result.rules.levels[0]
    rows = [e for e in result.events
            if e.outcome == SCORED and e.level and e.level != lowest and e.date and start <= e.date <= end]
    return sorted(rows, key=lambda e: (e.form == ENDORSEMENT, order.get(e.unit, 10**6), e.date,
                                       e.where[0], e.line))


def _ledger(book: Book, result: Result) -> None:
    """台帐: the quarter's 市级-and-above adoptions, then endorsements; print-ready, with a column to tick."""
    start, end = ledger_period(result)
    cols = [("序号", 5), ("单位", 18), ("稿件标题", 34), ("录用形式", 6), ("媒体 / 批示", 18), ("级别", 6),
            ("录用日期", 11), ("字数", 6), ("时长（分钟）", 6), ("得分", 7), ("经对口处室", 8),
            ("来源（文件 / 行）", 24), ("台帐证明", 24), (LEDGER_LINK, 5), ("复印件或电子稿", 9)]
    from .ledger import ledger_plan, proof_text

    plan = ledger_plan(result)
    rows = [entry.row for entry in plan]
    adoptions = sum(1 for e in rows if e.form != ENDORSEMENT)
    ws = book.sheet(LEDGER, f"{result.period.quarter_heading}市级以上媒体录用台帐", cols,
                    subtitle=f"录用日期 {start.isoformat()} 至 {end.isoformat()}：市级以上媒体采用、综合{adoptions}条，"
                             f"市级以上领导批示{len(rows) - adoptions}条。依据考核办法第六条第3款，"
                             "请各单位留存复印件或电子稿，每季度报信息调研科；收到后在末列打“✓”。")
    widths = [w for _, w in cols]
    base = [book.int, book.wrap, book.wrap, book.center, book.wrap, book.center, book.date, book.int,
            book.pts_g, book.pts_g, book.center, book.wrap, book.wrap, book.link, book.center]
    negative = base.copy()
    negative[9] = book.bad
    r = 3
    for i, entry in enumerate(plan, start=1):  # a quarter's few hundred rows: cell by cell, for the links
        e = entry.row
        proof = proof_text(entry)
        values = [i, e.unit, e.title, e.form,
                  f"{e.level}领导批示" if e.form == ENDORSEMENT else (e.outlet or e.outlet_text), e.level,
                  (e.date - _EXCEL_EPOCH).days if e.date else None, e.chars,
                  float(e.minutes) if e.minutes is not None else None, result.points_number(e.points), e.section,
                  f"{e.source.file} 第{e.source.row}行", proof, None, None]
        formats = negative if e.points < 0 else base
        height = wrapped_height(values, formats, widths)
        if height is not None:
            ws.set_row(r, height)
        for c, (v, fmt) in enumerate(zip(values, formats)):
            # The proof is printed as plain wrapped text: LibreOffice draws a link cell as one unbreakable
            # field, cut at the cell's edge. The link itself sits in the narrow column beside it.
            if c == 13 and entry.copies:
                ws.write_url(r, c, f"external:{entry.copies[0][1]}", book.link, string=LINK_TEXT)
            elif c == 13 and e.link and proof == e.link and e.link.lower().startswith(("http://", "https://")):
                ws.write_url(r, c, e.link, book.link, string=LINK_TEXT)
            elif v is None or v == "":
                ws.write_blank(r, c, None, fmt)
            elif isinstance(v, str):
                ws.write_string(r, c, v, fmt)
            else:
                ws.write_number(r, c, v, fmt)
        r += 1
    if not rows:
        ws.merge_range(r, 0, r, len(cols) - 1, "本季度暂无市级以上媒体录用或领导批示。", book.center)
        r += 1
    ws.autofilter(2, 0, max(r - 1, 3), len(cols) - 1)
    _note(book, ws, r + 1, cols,
          f"说明：只列本季度（{result.period.quarter_span_text}）录用日期内已计分的记录；"
                   "区级媒体和区级批示不列入台帐；得分为本单位得分（含加倍，负数为倒扣），计分说明见“录用明细”。"
                   "“台帐证明”列为随报表找到的证明材料（证明文件名、链接或期号版面），“缺”为未找到，"
                   f"“{LEDGER_LINK}”列可打开证明文件（已复制到台帐文件夹）或网页链接。")


# ------------------------------------------------------------------ 月度报送 and the rest


def _monthly(book: Book, result: Result) -> None:
    cols = [("类别", 9), ("单位", 26)] + [(month_cn(m), 5) for m in MONTHS] + [("合计", 6), ("月度下限", 6),
                                                                          ("全年下限", 6), ("零报送月数", 6)]
    ws = book.sheet(MONTHLY, f"{period_label(result)}各单位月度报送情况", cols)
    elapsed = result.months_elapsed
    current = result.period.in_progress_month  # 进行中: its count so far, never judged
    if current:
        ws.set_column(1 + current, 1 + current, 7)
        ws.write_string(2, 1 + current, f"{month_cn(current)}\n进行中", book.head)
    r = 3
    order = unit_order(result)
    for t in sorted(result.units, key=lambda t: order[t.unit]):
        cat = result.rules.categories[t.category]
        put_text(ws, r, 0, t.category, book.center)
        put_text(ws, r, 1, t.unit if t.returned else f"{t.unit}（未报送）", book.text if t.returned else book.bad_c)
        for m in MONTHS:
            if m == current:
                ws.write_number(r, 1 + m, t.submissions_in_progress or 0, book.warn_c)
                continue
            if m > elapsed:
                put_text(ws, r, 1 + m, "", book.grey)
                continue
            n = t.submissions_by_month.get(m, 0)
            short = (cat.monthly_submissions and n < cat.monthly_submissions) or n == 0
            ws.write_number(r, 1 + m, n, book.bad_c if short else book.int)
        ws.write_number(r, 14, t.submissions_year,
                        book.bad_c if cat.yearly_submissions and t.submissions_year < cat.yearly_submissions
                        else book.int)
        for c, v in ((15, cat.monthly_submissions), (16, cat.yearly_submissions)):
            if v:
                ws.write_number(r, c, v, book.int)
            else:
                put_text(ws, r, c, "—", book.grey)
        zero = sum(1 for m, n in t.submissions_by_month.items() if n == 0)
        ws.write_number(r, 17, zero, book.bad_c if zero else book.int)
        r += 1
    ws.autofilter(2, 0, max(r - 1, 3), len(cols) - 1)
    _note(book, ws, r + 1, cols,
          "说明：按报送日期统计，同一单位同一标题同一日期同一报送对象只计一次；只计入本类别口径的报送对象"
                   "（科室为市委组织部及以上）。红色为低于月度下限或当月零报送，灰色为截止日期之后的月份"
          + (f"；黄色为{month_cn(current)}（进行中：截止日期所在月尚未结束，只列截至当日的条数，不判断是否达到下限）" if current else "")
          + "。")


ROUNDED_ONCE = ("说明：每行对口积分 = 来源单位得分 × 比例，按精确值计算、显示时四舍五入到两位小数；合计按各行精确值相加后"
                "只四舍五入一次，所以合计可能与各行显示值之和相差0.01（如0.06 + 0.06显示合计0.13，精确值为0.0625 + 0.0625 = 0.125）。")


def _credits(book: Book, result: Result) -> None:
    cols = [("对口处室", 10), ("来源单位", 18), ("稿件标题", 32), ("媒体", 16), ("录用日期", 11),
            ("单位得分", 8), ("比例", 6), ("对口积分", 8), ("说明", 30), ("来源文件", 22), ("行号", 5)]
    ws = book.sheet(CREDITS, f"{period_label(result)}对口处室积分明细", cols)

    frac = result.rules.credit_fraction
    ratio = f"{frac.numerator}/{frac.denominator}"
    order = {t.unit: t.order for t in result.units}
    from .rowstream import RowStream

    t = book.text
    formats = [book.center, t, t, t, book.date, book.pts_g, book.center, book.pts_g, t, t, book.int]
    with RowStream(ws, 3) as stream:
        for line in sorted(result.credits, key=lambda c: (order.get(c.section, 0), order.get(c.event.unit, 0),
                                                           c.event.where[0], c.event.line)):
            e = line.event  # plain cells: this sheet has a row per credited adoption (thousands)
            stream.add([line.section, e.unit, e.title or "", e.outlet or e.outlet_text or "",
                        (e.date - _EXCEL_EPOCH).days if e.date else None, result.points_number(e.points), ratio,
                        result.points_number(line.credit), f"{e.unit}得{result.points_text(e.points)}分 × {ratio} = {result.points_text(line.credit)}",
                        e.where[0], e.line], formats, blanks=True)
    r = stream.row
    if r == 3:
        ws.merge_range(r, 0, r, len(cols) - 1, "本期没有经对口处室报送并被录用的稿件。", book.center)
        r += 1
    ws.autofilter(2, 0, r - 1, len(cols) - 1)
    r += 1
    for t in sorted(result.units, key=lambda t: t.order):
        if t.category == result.rules.section_category:
            put_text(ws, r, 0, t.unit, book.total_text)
            ws.merge_range(r, 1, r, 6, "对口积分合计（精确值相加后四舍五入一次）", book.total_text)
            ws.write_number(r, 7, result.points_number(t.credit), book.total_pts)
            n = sum(1 for c in result.credits if c.section == t.unit)
            put_text(ws, r, 8, f"{n}条对口积分之和 = {result.points_text(t.credit)}", book.total_text)
            r += 1
    _note(book, ws, r + 1, cols, ROUNDED_ONCE)


def issue_action(i) -> str:
    """What the run did about an issue that does not say so itself (from its severity and unit)."""
    if i.severity == ERROR:
        return "见问题说明，相关内容未计分"
    if i.severity == WARNING:
        return f"已照常计入“{i.unit}”，请核实" if i.unit else "已照常处理，请核实"
    return "仅提示，不影响计分"


def _issues(book: Book, result: Result) -> None:
    cols = [("严重程度", 7), ("单位", 16), ("文件", 22), ("工作表", 8), ("行", 5), ("列", 10), ("值", 14),
            ("问题", 40), ("处理", 18), ("修改建议", 30)]
    ws = book.sheet(ISSUES, f"{period_label(result)}报送文件问题清单", cols)
    from .rowstream import RowStream

    widths = [w for _, w in cols]
    w = book.wrap
    with RowStream(ws, 3) as stream:
        for i in result.issues.sorted():
            values = [SEVERITY_ZH.get(i.severity, i.severity), i.unit, i.file, i.sheet, i.row or None,
                      i.column, i.value, i.message, i.action or issue_action(i), i.fix]
            values = [str(v) if v is not None and type(v) is not str and k != 4 else v
                      for k, v in enumerate(values)]
            formats = [book.sev.get(i.severity, book.center), w, w, book.center, book.int, book.center_wrap,
                       w, w, w, w]
            stream.add(values, formats, wrapped_height(values, formats, widths), blanks=True)
    r = stream.row
    if r == 3:
        ws.merge_range(r, 0, r, len(cols) - 1, "没有发现问题。", book.center)
        r += 1
    ws.autofilter(2, 0, r - 1, len(cols) - 1)


def _files(book: Book, result: Result) -> None:
    cols = [("文件", 36), ("状态", 9), ("单位", 22), ("格式", 6), ("识别依据", 9), ("录用行数", 7),
            ("报送行数", 7), ("说明", 40)]
    ws = book.sheet(FILES, f"收件文件夹中的全部文件（{len(result.files)}个）", cols)
    r = 3
    for f in result.files:
        put_text(ws, r, 0, f.relpath, book.wrap)
        put_text(ws, r, 1, f.status, book.center if f.status == "已合并" else book.bad_c)
        put_text(ws, r, 2, f.unit, book.wrap)
        put_text(ws, r, 3, f.format, book.center)
        put_text(ws, r, 4, f.found_by, book.center)
        ws.write_number(r, 5, f.events, book.int)
        ws.write_number(r, 6, f.submissions, book.int)
        put_text(ws, r, 7, f.message, book.wrap)
        r += 1
    if r == 3:
        ws.merge_range(r, 0, r, len(cols) - 1, "收件文件夹中没有文件。", book.center)
        r += 1
    ws.autofilter(2, 0, r - 1, len(cols) - 1)


def rule_label(key: str) -> str:
    """The Chinese name of a dotted rules key (from ``rules.KEY_LABELS`` and its tables)."""
    if key in KEY_LABELS:
        return KEY_LABELS[key]
    parts = key.split(".")
    if parts[0] == "categories" and len(parts) == 3:
        return f"类别“{parts[1]}”：{CATEGORY_KEY_LABELS.get(parts[2], parts[2])}"
    if parts[0] in TABLE_LABELS and len(parts) >= 2:
        return TABLE_LABELS[parts[0]].format(" / ".join(parts[1:]))
    return key


def rule_value(value) -> str:
    """A rules value in Chinese: 是/否, choices and field names by ``rules.VALUE_LABELS``, lists joined by 、."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(rule_value(v) for v in value)
    if isinstance(value, str):
        return VALUE_LABELS.get(value, value)
    return str(value)


def _rules(book: Book, result: Result) -> None:
    cols = [("项目", 30), ("规则键（rules.toml）", 46), ("取值", 40), ("来源", 16)]
    ws = book.sheet(RULES, "本次统计使用的计分口径与运行参数", cols,
                    subtitle="依据考核办法；规则文件中每一项均可由工作目录的 rules.toml 修改（按“规则键”查找）")
    prev = previous_of(result)
    rows = [
        ("考核年度", "", str(result.year), "运行参数"),
        ("统计截止日期", "", result.as_of.isoformat(), "运行参数"),
        ("已满月数（按完整月份计算序时进度）", "", str(result.months_elapsed), "运行参数"),
        ("上期（排名比较）", "", f"{prev.label}，截至{prev.as_of.isoformat()}" if prev is not None else "无（第一季度）",
         "运行参数"),
        ("单位名册", "", result.roster.source, "运行参数"),
        ("媒体目录", "", result.catalog.source, "运行参数"),
        ("收件文件数", "", str(len(result.files)), "运行参数"),
        ("程序版本", "", f"zg-excel {__version__}", "运行参数"),
    ]
    defaults = dict(flatten(tomllib.loads(default_rules_text())))
    for key, value in flatten(result.rules.data):
        # init copies the whole default file into the folder: only a changed value is the user's.
        changed = key in result.rules.overridden and defaults.get(key, object()) != value
        rows.append((rule_label(key), key, rule_value(value), "工作目录 rules.toml（已修改）" if changed else "默认"))
    r = 3
    for a, k, b, c in rows:
        put_text(ws, r, 0, a, book.wrap)
        put_text(ws, r, 1, k, book.wrap)
        put_text(ws, r, 2, b, book.wrap)
        put_text(ws, r, 3, c, book.center_wrap)
        r += 1
    ws.autofilter(2, 0, r - 1, len(cols) - 1)
