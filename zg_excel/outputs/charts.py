"""The 图表 sheet of the summary workbook: monthly counts, and per category a chart of points
against targets, sized to its units and placed so that each printed page is used."""

from __future__ import annotations

import math
import unicodedata
from typing import TYPE_CHECKING

from ..text import wrapped_lines
from .report import period_label

if TYPE_CHECKING:
    from ..result import Result

from ..text import month_cn
from .book import CHARTS, FONT, LINE_PT, RANKING, Book, put_text
from .report import levels_high_first, overview

ROW_PT = 16.0  # every row of the 图表 sheet (fixed, so that page breaks can be planned)
CHART_ROWS = 14  # a chart's height in rows
UNIT_CHART_ROWS = 12  # a category's column chart (units side by side) in rows
CHART_SQUEEZE = 0.85  # a chart may shrink to this share of its height to use the rest of a page
PAGE_PT = 736.0  # usable height of a portrait A4 page at 100 % (842 pt less 0.7 + 0.6 inch margins, 748 pt)
PAGE_WIDTH_PX = 690  # usable width of a portrait A4 page at 100 % (96 dpi), with some room
WIDEST_PX_PER_UNIT = 9.4  # a column-width unit where Calibri is missing (LibreOffice falls back to DejaVu)


def col_px(width: float) -> int:
    """A column's width in pixels as Excel (and xlsxwriter's drawing anchors) count it."""
    return int(width * 7 + 0.5) + 5


CJK_PX_8PT = 11.0  # one CJK character of an 8-point axis label, in pixels (Latin: about half)


def names_too_long(names: list[str], chart_px: int) -> bool:
    """True when some name is wider than its column's slot in a column chart (it would be rotated)."""
    if not names:
        return False
    slot = (chart_px - 60) / len(names)  # less the value axis
    widest = max(sum(CJK_PX_8PT if unicodedata.east_asian_width(ch) in "WF" else CJK_PX_8PT / 2 for ch in n)
                 for n in names)
    return widest > slot * 0.9


def bar_chart_rows(units: int, series: int = 2) -> int:
    """Rows of a horizontal bar chart for ``units`` units of ``series`` bars each: six for title, axis and
    legend, half a row (8 pt) a bar and at least 1.25 rows a unit (its name's line)."""
    return 6 + math.ceil(units * max(series * 0.5, 1.25))


def _chart_font(size: int = 9, bold: bool = False) -> dict:
    return {"name": FONT, "size": size, "bold": bold}


def _gridlines() -> dict:
    return {"visible": True, "line": {"color": "#D9D9D9"}}


class _Flow:
    """Rows of a sheet laid out top to bottom in blocks that never straddle a page break."""

    def __init__(self, ws, row: int, used_pt: float, page_pt: float = PAGE_PT):
        self.ws = ws
        self.page_pt = page_pt
        self.row = row
        self.used = used_pt
        self.breaks: list[int] = []

    def room(self) -> int:
        """Rows (less the spacer) still free on the current page."""
        return int((self.page_pt - self.used) // ROW_PT) - 1

    def block(self, rows: int) -> int:
        """Reserve ``rows`` rows (plus one spacer); start a new page first if they would not fit."""
        height = (rows + 1) * ROW_PT
        if self.used + height > self.page_pt and self.used > 0:
            self.breaks.append(self.row)
            self.used = 0.0
        first = self.row
        for r in range(first, first + rows + 1):
            self.ws.set_row(r, ROW_PT)
        self.row += rows + 1
        self.used += height
        return first


def pick_block(pending: list[tuple[str, bool, int]], flow: _Flow) -> int:
    """Which pending category chart to place next: the first that fits the rest of the page (whole, else
    a little shorter), so a page is not left half empty while a later, smaller chart would fill it; the
    first one when none fits (it starts a new page)."""
    if not flow.used:
        return 0
    room = flow.room()
    for need in (lambda h: 1 + h, lambda h: 1 + math.ceil(h * CHART_SQUEEZE)):
        for i, (_, _, height) in enumerate(pending):
            if need(height) <= room:
                return i
    return 0


def write_charts(book: Book, result: Result) -> None:
    """The district figures as small tables and native charts, one block per figure (portrait A4).

    The per-category charts plot the 排名总表's own cells (units, 总积分, 序时目标,
    年度目标), so a chart can never disagree with the ranking.
    """
    ov = overview(result)
    prev = ov.previous
    cats = list(ov.by_category_level)
    ncols = max(4, len(cats) + 2)
    title = f"{period_label(result)}组工信息考核统计图表"
    ws = book.wb.add_worksheet(CHARTS)
    ws.hide_gridlines(2)
    widths = [28.0] + [11.0] * (ncols - 1)
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    # A fixed scale, small enough for the widest rendering of these columns: Excel ignores manual
    # page breaks under "fit to page", and each block must stay whole on its page.
    scale = min(100, int(100 * PAGE_WIDTH_PX / (WIDEST_PX_PER_UNIT * sum(widths))))
    # Charts span the table's columns exactly (anchored to cells, they scale with them in every program).
    chart_px = sum(col_px(w) for w in widths) - 6
    book.print_setup(ws, title, landscape=False, fit=False)
    ws.set_print_scale(scale)
    ws.merge_range(0, 0, 0, ncols - 1, title, book.title)
    ws.set_row(0, 28)
    sub = f"统计期：{period_label(result)}（截至{result.as_of.isoformat()}）"
    if prev is not None:
        sub += f"；上期：{prev.label}（截至{prev.as_of.isoformat()}）"
    ws.merge_range(1, 0, 1, ncols - 1, sub, book.subtitle)
    ws.set_row(1, 2 * LINE_PT + 2 if wrapped_lines(sub, 28 + 11 * (ncols - 1)) > 1 else ROW_PT)
    flow = _Flow(ws, 3, 28 + 2 * LINE_PT + 2 + ROW_PT, PAGE_PT * 100 / scale)
    counter = iter("一二三四五六七八九十")

    def heading(r: int, text: str, heads: list[str] | None) -> None:
        label = next(counter, "")
        ws.merge_range(r, 0, r, ncols - 1, f"{label}、{text}" if label else text, book.section)
        if heads:
            for c, h in enumerate(heads):
                put_text(ws, r + 1, c, h, book.head)

    def place(r: int, chart, height_rows: int = CHART_ROWS) -> None:
        chart.set_size({"width": chart_px, "height": int(height_rows * ROW_PT * 4 / 3)})
        chart.set_legend({"position": "bottom", "font": _chart_font()})
        chart.set_chartarea({"border": {"color": "#BFBFBF"}})
        ws.insert_chart(r, 0, chart, {"x_offset": 2, "y_offset": 0, "object_position": 1})

    # 1. 总体情况 (no chart): this period, the previous one, and the change.
    rows = [
        ("考核单位数", ov.units_total, ov.units_total if prev is not None else None, "int"),
        ("已报送单位数", ov.units_returned, None, "int"),
        ("未报送单位数", len(ov.not_returned), None, "int"),
        ("报送条数（计入考核口径）", ov.submissions_total, ov.prev_submissions_total, "int"),
        ("计分录用条次（含综合、批示）", ov.events_scored, ov.prev_events_scored, "int"),
        ("合计积分（本单位积分之和）", ov.points_total, ov.prev_points_total, "pts"),
        ("对口处室积分之和", ov.credit_total, ov.prev_credit_total, "pts"),
        ("达到序时进度的单位数", len(ov.units_on_track),
         len(ov.prev_units_on_track) if prev is not None else None, "int"),
    ]
    r = flow.block(len(rows) + 3)
    heading(r, "总体情况", ["指标", "本期", "上期", "较上期"])
    for i, (label, now, then, kind) in enumerate(rows):
        rr = r + 2 + i
        fmt = book.int if kind == "int" else book.pts
        put_text(ws, rr, 0, label, book.text)
        ws.write_number(rr, 1, now if kind == "int" else result.points_number(now), fmt)
        if then is None:
            put_text(ws, rr, 2, "—", book.grey)
            put_text(ws, rr, 3, "—", book.grey)
        else:
            ws.write_number(rr, 2, then if kind == "int" else result.points_number(then), fmt)
            diff = now - then
            ws.write_number(rr, 3, result.points_number(diff) if kind == "pts" else diff,
                            book.added if kind == "pts" else book.up if diff > 0 else book.down if diff < 0
                            else book.same)
    put_text(ws, r + 2 + len(rows), 0,
       f"上期为{prev.label}，按本次收到的报表重新计算；已报送单位数不分期统计。" if prev is not None
       else "第一季度统计，无上期数据。", book.note)

    # 2. Adoptions by outlet level: table + stacked columns by category.
    levels = levels_high_first(result)
    r = flow.block(2 + len(levels) + 1 + 1 + CHART_ROWS)
    heading(r, "各级别媒体录用条次（含综合、批示）", ["级别"] + cats + ["合计"])
    for i, lv in enumerate(levels):
        rr = r + 2 + i
        put_text(ws, rr, 0, lv, book.center)
        for j, cat in enumerate(cats):
            ws.write_number(rr, 1 + j, ov.by_category_level[cat][lv], book.int)
        ws.write_number(rr, 1 + len(cats), ov.by_level[lv], book.int)
    rr = r + 2 + len(levels)
    put_text(ws, rr, 0, "合计", book.total_text)
    for j, cat in enumerate(cats):
        ws.write_number(rr, 1 + j, sum(ov.by_category_level[cat].values()), book.total_int)
    ws.write_number(rr, 1 + len(cats), ov.events_scored, book.total_int)
    chart = book.wb.add_chart({"type": "column", "subtype": "stacked"})
    for j, cat in enumerate(cats):
        chart.add_series({"name": [CHARTS, r + 1, 1 + j],
                          "categories": [CHARTS, r + 2, 0, r + 1 + len(levels), 0],
                          "values": [CHARTS, r + 2, 1 + j, r + 1 + len(levels), 1 + j],
                          "gap": 80})
    chart.set_title({"name": "各级别媒体录用条次", "name_font": _chart_font(11, True)})
    chart.set_x_axis({"num_font": _chart_font()})
    chart.set_y_axis({"num_font": _chart_font(), "major_gridlines": _gridlines(), "min": 0})
    place(rr + 2, chart)

    # 3. Monthly submissions trend: table + one line per category and the total.
    months = list(result.period.months)
    r = flow.block(2 + len(months) + 1 + CHART_ROWS)
    heading(r, "各月报送条数（计入考核口径）", ["月份"] + cats + ["合计"])
    for i, m in enumerate(months):
        rr = r + 2 + i
        put_text(ws, rr, 0, month_cn(m), book.center)
        for j, cat in enumerate(cats):
            ws.write_number(rr, 1 + j, ov.monthly_by_category[cat][m], book.int)
        ws.write_number(rr, 1 + len(cats), sum(ov.monthly_by_category[c][m] for c in cats), book.int)
    if months:
        chart = book.wb.add_chart({"type": "line"})
        for j in range(len(cats) + 1):
            total = j == len(cats)
            chart.add_series({"name": [CHARTS, r + 1, 1 + j],
                              "categories": [CHARTS, r + 2, 0, r + 1 + len(months), 0],
                              "values": [CHARTS, r + 2, 1 + j, r + 1 + len(months), 1 + j],
                              "marker": {"type": "circle", "size": 5},
                              "line": {"width": 2.25 if total else 1.5, "dash_type": "dash" if total else "solid"}})
        chart.set_title({"name": "各月报送条数趋势", "name_font": _chart_font(11, True)})
        chart.set_x_axis({"num_font": _chart_font()})
        chart.set_y_axis({"num_font": _chart_font(), "min": 0, "major_gridlines": _gridlines()})
        place(r + 3 + len(months), chart)

    # 4… Points against targets, one chart per category, plotted from the 排名总表's cells. Columns when
    # every name fits under its column unrotated; otherwise horizontal bars, as tall as the units need.
    spans = book.ranking_spans
    pending = []
    for cat in cats:
        if cat not in spans:
            continue
        units = [t for t in result.units if t.category == cat]
        horizontal = names_too_long([t.unit if t.returned else f"{t.unit}（未报送）" for t in units], chart_px)
        series = 3 if "序时目标" in spans[cat][2] else 2
        pending.append((cat, horizontal, bar_chart_rows(len(units), series) if horizontal else UNIT_CHART_ROWS))
    while pending:
        cat, horizontal, height = pending.pop(pick_block(pending, flow))
        first, last, col = spans[cat]
        if flow.used and 1 + height > flow.room() >= 1 + math.ceil(height * CHART_SQUEEZE):
            height = flow.room() - 1  # a little shorter rather than leave the rest of the page empty
        r = flow.block(1 + height)
        heading(r, f"{cat}总积分与目标（数据见“{RANKING}”）", None)
        names = [RANKING, first, col["单位"], last, col["单位"]]
        # Targets are series of their own, styled apart from 总积分 (light fill, dashed coloured outline) and
        # drawn beside its bar: the 总积分 labels sit at the end of their own bars, on no target.
        targets = [("年度目标", "#E7E6E6", "#7F7F7F")]
        if "序时目标" in col:
            targets.insert(0, ("序时目标", "#FBE5D6", "#C00000"))
        chart = book.wb.add_chart({"type": "bar" if horizontal else "column"})
        chart.add_series({"name": "总积分", "categories": names,
                          "values": [RANKING, first, col["总积分"], last, col["总积分"]],
                          "fill": {"color": "#5B9BD5"}, "gap": 60, "overlap": -25,  # bars apart within a unit
                          "data_labels": {"value": True, "num_format": "0.##", "position": "outside_end",
                                          "font": _chart_font(7)}})
        for head, fill, edge in targets:
            chart.add_series({"name": head, "categories": names,
                              "values": [RANKING, first, col[head], last, col[head]],
                              "fill": {"color": fill}, "border": {"color": edge, "width": 1.25,
                                                                  "dash_type": "dash"}})
        if horizontal:
            # In a bar chart xlsxwriter's y axis is the (vertical) category axis: first-ranked unit on top.
            # Every unit's name is shown (interval 1): a chart program may otherwise skip crowded names.
            chart.set_y_axis({"num_font": _chart_font(8), "reverse": True, "interval_unit": 1})
            chart.set_x_axis({"num_font": _chart_font(), "min": 0, "major_gridlines": _gridlines()})
        else:
            chart.set_x_axis({"num_font": dict(_chart_font(8), rotation=0), "interval_unit": 1})
            chart.set_y_axis({"num_font": _chart_font(), "min": 0, "major_gridlines": _gridlines()})
        chart.set_title({"name": f"{cat}：总积分与目标", "name_font": _chart_font(11, True)})
        place(r + 1, chart, height)
    if flow.breaks:
        ws.set_h_pagebreaks(flow.breaks)


# ------------------------------------------------------------------ 录用明细 / 台帐


