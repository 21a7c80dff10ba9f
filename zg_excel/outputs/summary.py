"""The summary workbook leaders read: rankings, details, months, credits, issues, rules used.

Rendered from the ``Result`` only (no number is recomputed here), with
xlsxwriter in constant-memory mode (each sheet written top to bottom), every
text written as inert text (no formulas, no links from untrusted strings), and
written to a temporary name then renamed.
"""

from __future__ import annotations

import datetime as dt
import os
from fractions import Fraction
from pathlib import Path

from .. import __version__
from ..config import flatten, round_half_up
from ..issues import SEVERITY_ZH
from ..model import OUTCOME_ZH, SCORED
from ..workspace import atomic_target

FONT = "宋体"
MONTHS = range(1, 13)


def summary_filename(result) -> str:
    return f"{result.year}年组工信息考核汇总表.xlsx"


def period_label(result) -> str:
    """``2026年1月至9月`` (or ``2026年全年`` at year end)."""
    if result.final:
        return f"{result.year}年全年"
    return f"{result.year}年1月至{result.as_of.month}月" if result.as_of.month > 1 else f"{result.year}年1月"


def num(value: Fraction, places: int = 2) -> float:
    """A points value as the number Excel shows: rounded once, half up."""
    return float(round_half_up(value, places))


class _Book:
    """Thin wrapper: formats made once, and the print setup every sheet shares."""

    def __init__(self, path: str, result):
        import xlsxwriter

        self.result = result
        self.wb = xlsxwriter.Workbook(path, {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "nan_inf_to_errors": True,
        })
        created = dt.datetime.combine(result.as_of, dt.time(0))
        self.wb.set_properties({
            "title": f"{period_label(result)}组工信息考核汇总表",
            "subject": "组工信息考核",
            "author": "zg-excel",
            "company": "",
            "comments": f"zg-excel {__version__}",
            "created": created,
        })
        self.wb.set_calc_mode("auto")
        base = {"font_name": FONT, "font_size": 10, "valign": "vcenter"}
        border = dict(base, border=1, border_color="#A6A6A6")
        f = self.wb.add_format
        self.title = f(dict(base, bold=True, font_size=16, align="center"))
        self.subtitle = f(dict(base, font_color="#595959", align="center"))
        self.head = f(dict(border, bold=True, bg_color="#DDEBF7", align="center", text_wrap=True))
        self.text = f(border)
        self.wrap = f(dict(border, text_wrap=True))
        self.center = f(dict(border, align="center"))
        self.int = f(dict(border, num_format="0", align="center"))
        self.pts = f(dict(border, num_format="0.00"))
        self.pts_g = f(dict(border, num_format="General"))
        self.pct = f(dict(border, num_format="0%", align="center"))
        self.bad = f(dict(border, bg_color="#FFC7CE", font_color="#9C0006", num_format="0.00"))
        self.bad_c = f(dict(border, bg_color="#FFC7CE", font_color="#9C0006", align="center"))
        self.good_c = f(dict(border, bg_color="#C6EFCE", font_color="#006100", align="center"))
        self.grey = f(dict(border, bg_color="#F2F2F2", font_color="#A6A6A6", align="center"))
        self.band = f(dict(border, bold=True, bg_color="#FCE4D6"))
        self.note = f(dict(base, font_color="#7F7F7F", text_wrap=True))
        self.date = f(dict(border, num_format="yyyy-mm-dd", align="center"))
        self.sev = {
            "error": f(dict(border, bg_color="#FFC7CE", font_color="#9C0006", align="center")),
            "warning": f(dict(border, bg_color="#FFEB9C", font_color="#9C5700", align="center")),
            "info": f(dict(border, align="center")),
        }

    def sheet(self, name: str, title: str, columns: list[tuple[str, float]], *, landscape: bool = True,
              subtitle: str = ""):
        """A sheet with a title row, a subtitle row and a header row (frozen, filtered, printed)."""
        ws = self.wb.add_worksheet(name)
        ws.hide_gridlines(2)
        last = len(columns) - 1
        ws.merge_range(0, 0, 0, last, title, self.title)
        ws.set_row(0, 28)
        sub = subtitle or f"统计期：{period_label(self.result)}（截至{self.result.as_of.isoformat()}）"
        ws.merge_range(1, 0, 1, last, sub, self.subtitle)
        for c, (head, width) in enumerate(columns):
            ws.set_column(c, c, width)
            ws.write_string(2, c, head, self.head)
        ws.set_row(2, 30)
        ws.freeze_panes(3, 0)
        ws.set_paper(9)
        if landscape:
            ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(2)
        ws.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.75)
        ws.set_header(f"&L&\"{FONT}\"{title}&R&\"{FONT}\"{self.result.year}年度")
        ws.set_footer(f"&C&\"{FONT}\"第 &P 页，共 &N 页")
        return ws

    def close(self) -> None:
        self.wb.close()


def _s(ws, r: int, c: int, value, fmt) -> None:
    """Write text as text, whatever it looks like (formulas and links stay inert)."""
    if value is None or value == "":
        ws.write_blank(r, c, None, fmt)
    else:
        ws.write_string(r, c, str(value), fmt)


def write_summary(result, path: Path) -> Path:
    path = Path(path)
    tmp = atomic_target(path)
    try:
        book = _Book(tmp, result)
        _ranking(book, result)
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


TARGET_ZH = {"points": "积分", "monthly": "月度报送", "yearly": "全年报送", "provincial": "省委组织部录用"}


def _ranking(book: _Book, result) -> None:
    levels = list(result.rules.levels)
    cols = [("类别", 10), ("排名", 6), ("单位", 26), ("是否报送", 8), ("报送条数", 8)]
    cols += [(f"{lv}录用", 7) for lv in levels]
    cols += [("本单位积分", 10), ("对口处室积分", 10), ("总积分", 10), ("年度目标", 8),
             ("序时目标", 8), ("完成进度", 8), ("报送不足月份", 14), ("省委组织部录用", 9),
             ("目标完成情况", 26)]
    ws = book.sheet("排名总表", f"{period_label(result)}组工信息考核积分排名", cols)
    r = 3
    for cat in result.rules.categories:
        group = sorted((t for t in result.units if t.category == cat), key=lambda t: (t.rank, t.order))
        if not group:
            continue
        ws.merge_range(r, 0, r, len(cols) - 1, f"{cat}（{len(group)}个单位）", book.band)
        r += 1
        for t in group:
            c = 0
            _s(ws, r, c, t.category, book.center); c += 1
            ws.write_number(r, c, t.rank, book.int); c += 1
            _s(ws, r, c, t.unit, book.text); c += 1
            _s(ws, r, c, "是" if t.returned else "未报送", book.center if t.returned else book.bad_c); c += 1
            ws.write_number(r, c, t.submissions_year, book.int); c += 1
            for lv in levels:
                ws.write_number(r, c, t.adoptions_by_level.get(lv, 0), book.int); c += 1
            ws.write_number(r, c, num(t.points), book.pts); c += 1
            ws.write_number(r, c, num(t.credit), book.pts); c += 1
            behind = t.behind_prorated
            ws.write_number(r, c, num(t.total), book.bad if behind else book.pts); c += 1
            ws.write_number(r, c, num(t.annual_target), book.pts); c += 1
            ws.write_number(r, c, num(t.prorated_target), book.pts); c += 1
            progress = float(t.total / t.prorated_target) if t.prorated_target else 0.0
            ws.write_number(r, c, progress, book.pct); c += 1
            short = "、".join(f"{m}月" for m in t.short_months)
            _s(ws, r, c, short, book.bad_c if short else book.center); c += 1
            cat_rules = result.rules.categories[t.category]
            if cat_rules.provincial_adoptions:
                ws.write_number(r, c, t.provincial_org_adoptions, book.int)
            else:
                _s(ws, r, c, "—", book.center)
            c += 1
            marks = []
            for key, ok in t.targets.items():
                marks.append(f"{TARGET_ZH.get(key, key)}{'✓' if ok else '✗'}")
            text = " ".join(marks) if result.final else "进度" + ("✓" if not behind else "✗") + "；" + " ".join(marks)
            _s(ws, r, c, text, book.good_c if all(t.targets.values()) else book.text)
            r += 1
    total_col = 5 + len(levels) + 2
    if r > 3:
        ws.conditional_format(3, total_col, r - 1, total_col, {"type": "data_bar", "bar_color": "#63BE7B",
                                                               "bar_solid": True})
    ws.autofilter(2, 0, max(r - 1, 3), len(cols) - 1)
    note = ("说明：总积分 = 本单位积分 + 对口处室积分；序时目标 = 年度目标 × 已过月数 ÷ 12；"
            "红色为低于序时目标或报送不足；年度目标在年底统计时判定是否完成。")
    if not result.final:
        note += f" 本次为{result.as_of.month}月底前的阶段统计，✗ 表示尚未达到全年目标，不作最终判定。"
    ws.merge_range(r + 1, 0, r + 1, len(cols) - 1, note, book.note)
    ws.set_row(r + 1, 42)


def _event_columns():
    return [("单位", 22), ("稿件标题", 40), ("录用形式", 8), ("媒体名称（填报）", 20), ("目录媒体", 20),
            ("级别", 7), ("录用日期", 11), ("字数", 7), ("时长（分钟）", 8), ("倍数", 5), ("得分", 8),
            ("经对口处室", 10), ("对口积分", 8), ("结果", 14), ("计分说明", 46), ("来源文件", 30),
            ("工作表", 9), ("行号", 6)]


def _write_event(book: _Book, ws, r: int, e) -> None:
    from ..scoring import fmt

    _s(ws, r, 0, e.unit, book.text)
    _s(ws, r, 1, e.title, book.text)
    _s(ws, r, 2, e.form, book.center)
    _s(ws, r, 3, e.outlet_text, book.text)
    _s(ws, r, 4, e.outlet, book.text)
    _s(ws, r, 5, e.level or e.outlet_level, book.center)
    if e.date:
        ws.write_datetime(r, 6, dt.datetime.combine(e.date, dt.time(0)), book.date)
    else:
        ws.write_blank(r, 6, None, book.date)
    if e.chars is not None:
        ws.write_number(r, 7, e.chars, book.int)
    else:
        ws.write_blank(r, 7, None, book.int)
    if e.minutes is not None:
        ws.write_number(r, 8, float(e.minutes), book.pts_g)
    else:
        ws.write_blank(r, 8, None, book.pts_g)
    _s(ws, r, 9, f"×{fmt(e.multiplier)}" if e.multiplier != 1 else "", book.center)
    ws.write_number(r, 10, num(e.points), book.pts_g)
    _s(ws, r, 11, e.section, book.center)
    if e.credit:
        ws.write_number(r, 12, num(e.credit), book.pts_g)
    else:
        ws.write_blank(r, 12, None, book.pts_g)
    _s(ws, r, 13, OUTCOME_ZH.get(e.outcome, e.outcome), book.center if e.outcome == SCORED else book.bad_c)
    _s(ws, r, 14, e.explanation, book.text)
    _s(ws, r, 15, e.source.file, book.text)
    _s(ws, r, 16, e.source.sheet, book.center)
    ws.write_number(r, 17, e.source.row, book.int)


def _events_in_order(result):
    order = {t.unit: t.order for t in result.units}
    return sorted(result.events, key=lambda e: (order.get(e.unit, 10**6), e.source.file, e.source.row))


def _details(book: _Book, result) -> None:
    cols = _event_columns()
    ws = book.sheet("录用明细", f"{period_label(result)}组工信息录用明细", cols)
    r = 3
    for e in _events_in_order(result):
        _write_event(book, ws, r, e)
        r += 1
    ws.autofilter(2, 0, max(r - 1, 3), len(cols) - 1)


def _ledger(book: _Book, result) -> None:
    """台帐: every scored adoption by 市级 or higher outlets in the quarter of the as-of date (method §六.3)."""
    q = (result.as_of.month - 1) // 3 + 1
    start = dt.date(result.year, 3 * q - 2, 1)
    cols = _event_columns()
    ws = book.sheet("台帐", f"{result.year}年第{'一二三四'[q - 1]}季度市级以上媒体录用台帐", cols,
                    subtitle=f"录用日期 {start.isoformat()} 至 {result.as_of.isoformat()}；按考核办法第六条第3款，"
                             "请各单位留存复印件或电子稿")
    min_rank = 1  # 市级 and above: every level above the lowest
    r = 3
    for e in _events_in_order(result):
        if (e.outcome == SCORED and e.form != "批示" and e.level and e.date and e.date >= start
                and result.rules.level_rank(e.level) >= min_rank):
            _write_event(book, ws, r, e)
            r += 1
    ws.autofilter(2, 0, max(r - 1, 3), len(cols) - 1)


def _monthly(book: _Book, result) -> None:
    cols = [("类别", 10), ("单位", 26)] + [(f"{m}月", 5) for m in MONTHS] + [("合计", 6), ("月度下限", 8),
                                                                           ("全年下限", 8)]
    ws = book.sheet("月度报送", f"{period_label(result)}各单位月度报送情况", cols)
    elapsed = result.months_elapsed
    r = 3
    for t in sorted(result.units, key=lambda t: t.order):
        cat = result.rules.categories[t.category]
        _s(ws, r, 0, t.category, book.center)
        _s(ws, r, 1, t.unit, book.text)
        for m in MONTHS:
            if m > elapsed:
                _s(ws, r, 1 + m, "", book.grey)
                continue
            n = t.submissions_by_month.get(m, 0)
            short = cat.monthly_submissions and n < cat.monthly_submissions
            ws.write_number(r, 1 + m, n, book.bad_c if short else book.int)
        ws.write_number(r, 14, t.submissions_year,
                        book.bad_c if cat.yearly_submissions and t.submissions_year < cat.yearly_submissions
                        else book.int)
        for c, v in ((15, cat.monthly_submissions), (16, cat.yearly_submissions)):
            if v:
                ws.write_number(r, c, v, book.int)
            else:
                _s(ws, r, c, "—", book.center)
        r += 1
    ws.merge_range(r + 1, 0, r + 1, len(cols) - 1,
                   "说明：按报送日期统计、同一单位同一标题同一日期同一报送对象只计一次；只计入本类别口径的报送对象"
                   "（科室为市委组织部及以上）；红色为低于月度下限，灰色为截止日期之后的月份。", book.note)
    ws.set_row(r + 1, 30)


def _credits(book: _Book, result) -> None:
    cols = [("对口处室", 12), ("来源单位", 24), ("稿件标题", 40), ("媒体", 20), ("录用日期", 11),
            ("单位得分", 9), ("比例", 6), ("对口积分", 9), ("说明", 40), ("来源文件", 30), ("行号", 6)]
    ws = book.sheet("对口处室积分", f"{period_label(result)}对口处室积分明细", cols)
    from ..scoring import fmt

    frac = result.rules.credit_fraction
    order = {t.unit: t.order for t in result.units}
    r = 3
    for line in sorted(result.credits, key=lambda c: (order.get(c.section, 0), order.get(c.event.unit, 0),
                                                       c.event.source.file, c.event.source.row)):
        e = line.event
        _s(ws, r, 0, line.section, book.center)
        _s(ws, r, 1, e.unit, book.text)
        _s(ws, r, 2, e.title, book.text)
        _s(ws, r, 3, e.outlet or e.outlet_text, book.text)
        ws.write_datetime(r, 4, dt.datetime.combine(e.date, dt.time(0)), book.date)
        ws.write_number(r, 5, num(e.points), book.pts_g)
        _s(ws, r, 6, f"{frac.numerator}/{frac.denominator}", book.center)
        ws.write_number(r, 7, num(line.credit), book.pts_g)
        _s(ws, r, 8, f"{e.unit}得{fmt(e.points)}分 × {frac.numerator}/{frac.denominator} = {fmt(line.credit)}",
           book.text)
        _s(ws, r, 9, e.source.file, book.text)
        ws.write_number(r, 10, e.source.row, book.int)
        r += 1
    r += 1
    for t in sorted(result.units, key=lambda t: t.order):
        if t.category == result.rules.section_category:
            _s(ws, r, 0, t.unit, book.band)
            _s(ws, r, 1, "对口积分合计", book.band)
            ws.write_number(r, 7, num(t.credit), book.pts)
            r += 1


def _issues(book: _Book, result) -> None:
    cols = [("严重程度", 8), ("单位", 22), ("文件", 30), ("工作表", 9), ("行", 5), ("列", 12), ("值", 18),
            ("问题", 50), ("处理", 22), ("修改建议", 36)]
    ws = book.sheet("问题清单", f"{period_label(result)}报送文件问题清单", cols)
    r = 3
    for i in result.issues.sorted():
        _s(ws, r, 0, SEVERITY_ZH.get(i.severity, i.severity), book.sev.get(i.severity, book.center))
        _s(ws, r, 1, i.unit, book.text)
        _s(ws, r, 2, i.file, book.text)
        _s(ws, r, 3, i.sheet, book.center)
        if i.row:
            ws.write_number(r, 4, i.row, book.int)
        else:
            ws.write_blank(r, 4, None, book.int)
        _s(ws, r, 5, i.column, book.center)
        _s(ws, r, 6, i.value, book.text)
        _s(ws, r, 7, i.message, book.wrap)
        _s(ws, r, 8, i.action, book.text)
        _s(ws, r, 9, i.fix, book.wrap)
        r += 1
    ws.autofilter(2, 0, max(r - 1, 3), len(cols) - 1)


def _files(book: _Book, result) -> None:
    cols = [("文件", 40), ("状态", 10), ("单位", 24), ("格式", 6), ("识别依据", 10), ("录用行数", 8),
            ("报送行数", 8), ("说明", 50)]
    ws = book.sheet("文件清单", f"收件文件夹中的全部文件（{len(result.files)}个）", cols)
    r = 3
    for f in result.files:
        _s(ws, r, 0, f.relpath, book.text)
        _s(ws, r, 1, f.status, book.center if f.status == "已合并" else book.bad_c)
        _s(ws, r, 2, f.unit, book.text)
        _s(ws, r, 3, f.format, book.center)
        _s(ws, r, 4, f.found_by, book.center)
        ws.write_number(r, 5, f.events, book.int)
        ws.write_number(r, 6, f.submissions, book.int)
        _s(ws, r, 7, f.message, book.text)
        r += 1


def _rules(book: _Book, result) -> None:
    cols = [("项目", 34), ("取值", 60), ("来源", 16)]
    ws = book.sheet("计分口径", "本次统计使用的计分口径与运行参数", cols, landscape=False,
                    subtitle="依据《上街区组工信息宣传工作考核办法》；规则文件中每一项均可由工作目录的 rules.toml 修改")
    rows = [
        ("考核年度", str(result.year), "运行参数"),
        ("统计截止日期", result.as_of.isoformat(), "运行参数"),
        ("已过月数", str(result.months_elapsed), "运行参数"),
        ("单位名册", result.roster.source, "运行参数"),
        ("媒体目录", result.catalog.source, "运行参数"),
        ("收件文件数", str(len(result.files)), "运行参数"),
        ("程序版本", f"zg-excel {__version__}", "运行参数"),
    ]
    for key, value in flatten(result.rules.data):
        shown = "、".join(map(str, value)) if isinstance(value, list) else str(value)
        rows.append((key, shown, "工作目录 rules.toml" if key in result.rules.overridden else "默认"))
    r = 3
    for a, b, c in rows:
        _s(ws, r, 0, a, book.text)
        _s(ws, r, 1, b, book.wrap)
        _s(ws, r, 2, c, book.center)
        r += 1
