"""The summary workbook's frame: its sheet names, the workbook with its shared formats and
page setup (``Book``), and the one way text goes into a cell (``put_text``: inert, rows sized to fit)."""

from __future__ import annotations

import datetime as dt
import os
from typing import TYPE_CHECKING

from .. import __version__
from ..text import display_width, wrapped_lines
from .report import period_label

if TYPE_CHECKING:
    from ..result import Result

FONT = "宋体"
MONTHS = range(1, 13)
ENDORSEMENT = "批示"

# Sheet names (stable: tests and users refer to them).
RANKING = "排名总表"
CHARTS = "图表"
DETAILS = "录用明细"
LEDGER = "台帐"
MONTHLY = "月度报送"
CREDITS = "对口处室积分"
ISSUES = "问题清单"
FILES = "文件清单"
RULES = "计分口径"

TARGET_HEAD = {"points": "积分目标", "monthly": "每月报送", "yearly": "全年报送", "provincial": "省委组织部录用"}
TARGET_ORDER = ("points", "monthly", "yearly", "provincial")
ON_TRACK_HEAD = "序时进度"
LEDGER_LINK = "链接"  # the 台帐 column holding each proof's link (file copy or URL)
LINK_TEXT = "打开"




def _hf(text: str) -> str:
    """Text for a page header/footer: '&' is a control character there."""
    return text.replace("&", "&&")


class Book:
    """Thin wrapper: formats made once, and the print setup every sheet shares."""

    def __init__(self, path: str, result: Result):
        import xlsxwriter

        self.result = result
        self.wb = xlsxwriter.Workbook(path, {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "nan_inf_to_errors": True,
            "tmpdir": os.path.dirname(os.path.abspath(path)),  # scratch files go (and go away) with the output
        })
        if result.run_id:
            self.wb.set_custom_property("zg_run_id", result.run_id)
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
        self.ranking_spans: dict[str, tuple[int, int, dict[str, int]]] = {}  # category → rows, columns
        base = {"font_name": FONT, "font_size": 10, "valign": "vcenter"}
        border = dict(base, border=1, border_color="#A6A6A6")
        f = self.wb.add_format
        self.title = f(dict(base, bold=True, font_size=16, align="center"))
        self.subtitle = f(dict(base, font_color="#595959", align="center", text_wrap=True))
        self.head = f(dict(border, bold=True, bg_color="#DDEBF7", align="center", text_wrap=True))
        self.text = f(border)
        self.wrap = f(dict(border, text_wrap=True))
        self.center = f(dict(border, align="center"))
        self.center_wrap = f(dict(border, align="center", text_wrap=True))
        self.link = f(dict(border, align="center", font_color="#0563C1", underline=1))
        self.int = f(dict(border, num_format="0", align="center"))
        self.pts = f(dict(border, num_format="0.00"))
        self.pts_g = f(dict(border, num_format="General"))
        self.pct = f(dict(border, num_format="0%", align="center"))
        self.bad = f(dict(border, bg_color="#FFC7CE", font_color="#9C0006", num_format="0.00"))
        self.bad_left = f(dict(border, bg_color="#FFC7CE", font_color="#9C0006", text_wrap=True))
        self.bad_c = f(dict(border, bg_color="#FFC7CE", font_color="#9C0006", align="center"))
        self.bad_wrap = f(dict(border, bg_color="#FFC7CE", font_color="#9C0006", align="center", text_wrap=True))
        self.good_c = f(dict(border, bg_color="#C6EFCE", font_color="#006100", align="center"))
        self.warn_c = f(dict(border, bg_color="#FFEB9C", font_color="#9C5700", align="center"))
        self.grey = f(dict(border, bg_color="#F2F2F2", font_color="#A6A6A6", align="center"))
        self.band = f(dict(border, bold=True, bg_color="#FCE4D6"))
        self.total_text = f(dict(border, bold=True, bg_color="#EDEDED"))
        self.total_int = f(dict(border, bold=True, bg_color="#EDEDED", num_format="0", align="center"))
        self.total_pts = f(dict(border, bold=True, bg_color="#EDEDED", num_format="0.00"))
        self.total_count = f(dict(border, bold=True, bg_color="#EDEDED", num_format='0"个"', align="center"))
        change = '"↑"0;"↓"0;"持平"'
        self.up = f(dict(border, num_format=change, align="center", font_color="#006100"))
        self.down = f(dict(border, num_format=change, align="center", font_color="#9C0006"))
        self.same = f(dict(border, num_format=change, align="center", font_color="#595959"))
        self.added = f(dict(border, num_format='+0.00;-0.00;0.00'))
        self.section = f(dict(base, bold=True, font_size=12))
        self.note = f(dict(base, font_color="#7F7F7F", text_wrap=True, valign="top"))
        self.date = f(dict(border, num_format="yyyy-mm-dd", align="center"))
        self.sev = {
            "error": f(dict(border, bg_color="#FFC7CE", font_color="#9C0006", align="center")),
            "warning": f(dict(border, bg_color="#FFEB9C", font_color="#9C5700", align="center")),
            "info": f(dict(border, align="center")),
        }

    def print_setup(self, ws, title: str, *, landscape: bool = True, fit: bool = True, tall: int = 0) -> None:
        """A4, margins, title/period in the page header, page numbers in the footer.

        ``tall``: the sheet is fitted to the page width and to that many pages high
        (the 排名总表: its rows on as few pages as they need, never a page of only
        the repeated header and the note).
        """
        ws.set_paper(9)
        if landscape:
            ws.set_landscape()
        else:
            ws.set_portrait()
        if fit:
            ws.fit_to_pages(1, tall)
        ws.center_horizontally()
        if tall:
            ws.set_margins(left=0.3, right=0.3, top=0.55, bottom=0.5)
        else:
            ws.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.6)
        hf = f'&9&"{FONT},Regular"'  # size first: digits after "&9" would be read as the size
        ws.set_header(f"&L{hf}{_hf(title)}&R{hf}{_hf(period_label(self.result))}（截至{self.result.as_of.isoformat()}）",
                      {"margin": 0.3})
        issuer = _hf(self.result.rules.bulletin.issuer)
        ws.set_footer(f"&L{hf}&A&C{hf}第 &P 页，共 &N 页&R{hf}{issuer}", {"margin": 0.3})

    def sheet(self, name: str, title: str, columns: list[tuple[str, float]], *, landscape: bool = True,
              subtitle: str = "", tall: int = 0):
        """A sheet with a title row, a subtitle row and a header row (frozen, filtered, printed)."""
        ws = self.wb.add_worksheet(name)
        ws.hide_gridlines(2)
        last = len(columns) - 1
        ws.merge_range(0, 0, 0, last, title, self.title)
        ws.set_row(0, 28)
        sub = subtitle or f"统计期：{period_label(self.result)}（截至{self.result.as_of.isoformat()}）"
        ws.merge_range(1, 0, 1, last, sub, self.subtitle)
        fit_row(ws, 1, wrapped_lines(sub, sum(w for _, w in columns) * 0.9))
        for c, (head, width) in enumerate(columns):
            ws.set_column(c, c, width)
            ws.write_string(2, c, head, self.head)
        ws.set_row(2, max(30, max(wrapped_lines(h, w) for h, w in columns) * LINE_PT + 3))
        ws.__dict__["_zg_widths"] = [w for _, w in columns]
        ws.freeze_panes(3, 0)
        ws.repeat_rows(2)
        self.print_setup(ws, title, landscape=landscape, tall=tall)
        return ws

    def close(self) -> None:
        self.wb.close()


LINE_PT = 14.5  # one line of 10-point CJK text (宋体 in Excel, Noto CJK in LibreOffice)


text_lines = wrapped_lines  # rows of wrapped cells are sized by the one owner of text widths
text_units = display_width


def fit_row(ws, r: int, lines: int, *, line_pt: float = LINE_PT) -> None:
    """Make row ``r`` at least ``lines`` lines tall (never shrinks a row already set)."""
    heights = ws.__dict__.setdefault("_zg_heights", {})
    height = round(lines * line_pt + 3, 1)
    if lines > 1 and height > heights.get(r, 15):
        heights[r] = height
        ws.set_row(r, height)


def wrapped_height(values, formats, widths) -> float | None:
    """Row height for a streamed row whose wrapped cells need more than one line (as ``fit_row``)."""
    lines = 1
    for v, f, w in zip(values, formats, widths):
        if type(v) is str and v and f is not None and getattr(f, "text_wrap", 0):
            lines = max(lines, wrapped_lines(v, w))
    return round(lines * LINE_PT + 3, 1) if lines > 1 else None


def put_text(ws, r: int, c: int, value, fmt) -> None:
    """Write text as text, whatever it looks like (formulas and links stay inert).

    A wrapped cell of a sheet whose column widths are known grows its row to fit.
    """
    if value is None or value == "":
        ws.write_blank(r, c, None, fmt)
        return
    ws.write_string(r, c, str(value), fmt)
    widths = ws.__dict__.get("_zg_widths")
    if widths and fmt is not None and getattr(fmt, "text_wrap", 0) and c < len(widths):
        fit_row(ws, r, wrapped_lines(str(value), widths[c]))


