"""The 通报 (bulletin): a rendering context built from the ``Result``, a jinja2 template, .txt and .docx.

The context is the documented interface for districts that write their own
template (README, 通报模板); every number in it comes from the ``Result`` and is
formatted once here, so the text, the .docx and the workbook agree. District
figures shared with the workbook come from ``outputs.report``, period texts
from ``result.period``, dates and points from ``text``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from ..issues import ERROR
from ..text import date_cn, months_text, round_half_up
from ..files import atomic_write_bytes
from .report import month_counts, overview, period_label, previous_of

if TYPE_CHECKING:
    from ..result import Result

CN_DIGITS = "零一二三四五六七八九十"


def cn(n: int) -> str:
    """1 → 一, 12 → 十二 (numbers used in headings)."""
    if n <= 10:
        return CN_DIGITS[n]
    if n < 20:
        return "十" + (CN_DIGITS[n - 10] if n > 10 else "")
    tens, ones = divmod(n, 10)
    return CN_DIGITS[tens] + "十" + (CN_DIGITS[ones] if ones else "")


def inert(text: str) -> str:
    """Text that no spreadsheet or mail client will take for a formula (OWASP CSV injection)."""
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


def bulletin_title(result: Result) -> str:
    """``关于2026年第三季度全区…的通报`` / ``关于2026年度全区…的通报``: the period as ``Period`` names it."""
    return f"关于{result.period.heading}{_district(result)}组工信息宣传工作情况的通报"


def _district(result: Result) -> str:
    return result.rules.bulletin.district


def attachment_title(result: Result) -> str:
    """``2026年第三季度组工信息考核积分排名表`` / ``2026年度…`` (one 年: the period as ``Period`` names it)."""
    return f"{result.period.heading}组工信息考核积分排名表"


def _units_text(rows: list[dict]) -> str:
    return "、".join(r["text"] for r in rows)


def _change(then: int, now: int, unit: str = "个") -> str:
    """``由15个增加到16个`` / ``由16个减少到15个`` / ``保持15个``."""
    if now > then:
        return f"由{then}{unit}增加到{now}{unit}"
    if now < then:
        return f"由{then}{unit}减少到{now}{unit}"
    return f"保持{now}{unit}"


def _points_change(diff, result: Result) -> str:
    """``增加535分`` / ``减少5分`` / ``持平``."""
    if diff > 0:
        return f"增加{result.points_text(diff)}分"
    if diff < 0:
        return f"减少{result.points_text(-diff)}分"
    return "持平"


def build_context(result: Result, *, issued: dt.date | None = None) -> dict:
    """Everything the bulletin template may use (documented in the README).

    Every figure comes from the ``Result`` through :func:`summary.overview` or the
    unit tallies, formatted once here, so that the text agrees with the 排名总表
    and the 图表 sheet cell by cell.
    """
    conf = result.rules.bulletin
    ov = overview(result)
    units = result.units
    top = conf.praise_top
    rise = conf.praise_rise
    prev = ov.previous
    goal = "全年目标" if result.final else "序时目标"
    # 存在问题: each list names only what the rules require of the unit's category.
    short_months, zero_months, short_yearly, short_provincial = [], [], [], []
    for t in units:
        if not t.returned:
            continue
        cat = result.rules.categories[t.category]
        # t.short_months holds only the months judged against a monthly minimum (none without one):
        # those with some reports are 月度报送不足, those with none are listed once, as 零报送.
        some = [m for m in t.short_months if t.submissions_by_month.get(m, 0) > 0]
        zero = [m for m in t.short_months if t.submissions_by_month.get(m, 0) == 0]
        if some:
            short_months.append({"unit": inert(t.unit), "months": some, "months_text": months_text(some),
                                 "text": f"{inert(t.unit)}（{month_counts(t, some)}）"})
        if zero:
            zero_months.append({"unit": inert(t.unit), "months": zero, "months_text": months_text(zero),
                                "text": f"{inert(t.unit)}（{months_text(zero)}）"})
        if result.final and cat.yearly_submissions and t.submissions_year < cat.yearly_submissions:
            short_yearly.append({"unit": inert(t.unit), "text": f"{inert(t.unit)}（{t.submissions_year}条）"})
        if result.final and cat.provincial_adoptions and t.provincial_org_adoptions < cat.provincial_adoptions:
            short_provincial.append({"unit": inert(t.unit),
                                     "text": f"{inert(t.unit)}（{t.provincial_org_adoptions}条）"})
    criticised = {s["unit"] for s in short_months + zero_months + short_yearly + short_provincial}
    with_errors = {i.unit for i in result.issues if i.severity == ERROR and i.unit}

    def praisable(t) -> bool:
        """表扬 only a unit this document does not criticise: points above 0, on track (at year end: the
        annual target), no short or zero month, no yearly/provincial shortfall, and no error-level
        problem in its returns (a unit being sent a 退回单 is not praised in the same run)."""
        return (t.returned and t.total > 0 and not t.behind_prorated and inert(t.unit) not in criticised
                and t.unit not in with_errors)

    categories, behind, risers = [], [], []
    for cat in result.rules.categories:
        group = sorted((t for t in units if t.category == cat), key=lambda t: (t.rank, t.order))
        if not group:
            continue
        rows = []
        for t in group:
            change = prev.rank_change(t) if prev is not None else None
            rows.append({"unit": inert(t.unit), "rank": t.rank, "total": result.points_text(t.total), "points": result.points_text(t.points),
                         "credit": result.points_text(t.credit), "target": result.points_text(t.prorated_target), "annual": result.points_text(t.annual_target),
                         "submissions": t.submissions_year, "returned": t.returned, "on_track": not t.behind_prorated,
                         "praisable": praisable(t),
                         "rank_change": change, "text": f"{inert(t.unit)}（{result.points_text(t.total)}分）"})
        praised = [r for r in rows if r["praisable"]][:top]
        lagging = [{"unit": inert(t.unit), "total": result.points_text(t.total), "target": result.points_text(t.prorated_target),
                    "text": f"{inert(t.unit)}（{result.points_text(t.total)}分，{goal}{result.points_text(t.prorated_target)}分）"}
                   for t in group if t.returned and t.behind_prorated]
        categories.append({"name": cat, "units": rows, "praised": praised})
        if lagging:
            behind.append({"name": cat, "units": lagging, "text": f"{cat}：{_units_text(lagging)}"})
        if prev is not None:
            for t in group:
                change = prev.rank_change(t)
                p = prev.get(t.unit)
                if change is not None and p is not None and change >= rise and t.returned:
                    risers.append({"unit": inert(t.unit), "category": cat, "rank": t.rank, "previous_rank": p.rank,
                                   "change": change,
                                   "text": f"{inert(t.unit)}（{cat}，由第{p.rank}名升至第{t.rank}名）"})
    issued = issued or dt.date.today()
    previous = None
    if prev is not None:
        on_then, on_now = len(ov.prev_units_on_track), len(ov.units_on_track)
        previous = {
            "period": prev.label,
            "as_of": prev.as_of,
            "as_of_text": date_cn(prev.as_of),
            "quarter": prev.quarter,
            "points_total": result.points_text(ov.prev_points_total),
            "points_added": result.points_text(ov.points_total - ov.prev_points_total),
            "points_change": _points_change(ov.points_total - ov.prev_points_total, result),
            "submissions_total": ov.prev_submissions_total,
            "submissions_added": ov.submissions_total - ov.prev_submissions_total,
            "events_scored": ov.prev_events_scored,
            "events_added": ov.events_scored - ov.prev_events_scored,
            "units_on_track": [inert(u) for u in ov.prev_units_on_track],
            "on_track_change": _change(on_then, on_now),
        }
    return {
        "title": bulletin_title(result),
        "addressees": conf.addressees,
        "issuer": conf.issuer,
        "method_name": conf.method_name,
        "district": _district(result),
        "year": result.year,
        "as_of": result.as_of,
        "as_of_text": date_cn(result.as_of),
        "period": period_label(result),
        "quarter": result.period.quarter,
        "final": result.final,
        "units_total": ov.units_total,
        "units_returned": ov.units_returned,
        "not_returned": [inert(u) for u in ov.not_returned],
        # of those, the units whose only files were no spreadsheet (said so, not called 未报送 plainly)
        "not_spreadsheet": [inert(t.unit) for t in result.units if not t.returned and t.received_non_spreadsheet],
        "submissions_total": ov.submissions_total,
        "events_scored": ov.events_scored,
        "by_level": dict(ov.by_level),
        "points_total": result.points_text(ov.points_total),
        "units_on_track": [inert(u) for u in ov.units_on_track],
        "categories": categories,
        "behind": behind,
        "risers": risers,
        "short_months": short_months,
        "zero_months": zero_months,
        "short_yearly": short_yearly,
        "short_provincial": short_provincial,
        "previous": previous,
        "attachment_title": attachment_title(result),
        "date_text": date_cn(issued),
    }


def render_text(result: Result, template_text: str, *, issued: dt.date | None = None) -> str:
    import jinja2

    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True,
                             trim_blocks=False, lstrip_blocks=False)
    env.filters["cn"] = cn
    text = env.from_string(template_text).render(**build_context(result, issued=issued))
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    out: list[str] = []
    for line in lines:  # at most one blank line in a row; no tabs as layout
        line = line.replace("\t", "")
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"


def rank_change_text(change: int | None) -> str:
    """``↑2`` / ``↓1`` / ``持平`` (as the 排名总表 shows it); ``—`` when unknown."""
    if change is None:
        return "—"
    return f"↑{change}" if change > 0 else f"↓{-change}" if change < 0 else "持平"


def attachment_table(result: Result) -> dict:
    """The 通报's attachment: the ranking by category (same figures as the 排名总表)."""
    prev = previous_of(result)
    header = ["排名"] + (["较上期"] if prev is not None else []) + [
        "单位", "报送条数", "本单位积分", "对口处室积分", "总积分", "序时目标" if not result.final else "年度目标",
        "完成进度"]
    rows: list[list[str]] = []
    for cat in result.rules.categories:
        group = sorted((t for t in result.units if t.category == cat), key=lambda t: (t.rank, t.order))
        if not group:
            continue
        rows.append([cat] + [""] * (len(header) - 1))
        for t in group:
            progress = f"{round_half_up(t.total / t.prorated_target * 100, 0)}%" if t.prorated_target else "—"
            row = [str(t.rank)]
            if prev is not None:
                row.append(rank_change_text(prev.rank_change(t)))
            row += [t.unit if t.returned else f"{t.unit}（未报送）", str(t.submissions_year),
                    result.points_text(t.points), result.points_text(t.credit), result.points_text(t.total),
                    result.points_text(t.prorated_target), progress]
            rows.append(row)
    # No widths: the .docx sizes every column for its longest text (numbers on one line, names take the rest).
    return {"title": attachment_title(result), "header": header, "rows": rows, "col_widths_mm": None}


def write_bulletin(result: Result, text: str, txt_path: Path, docx_path: Path | None = None) -> list[Path]:
    """Write 通报.txt (UTF-8 with BOM, CRLF: opens right in Windows Notepad) and 通报.docx."""
    written = []
    atomic_write_bytes(Path(txt_path), ("\ufeff" + text.replace("\n", "\r\n")).encode("utf-8"))
    written.append(Path(txt_path))
    if docx_path is not None:
        from .docx_bulletin import Fonts, write_bulletin_docx

        conf = result.rules.bulletin
        fonts = Fonts(title=conf.font_title, body=conf.font_body, heading1=conf.font_heading1,
                      heading2=conf.font_heading2)
        write_bulletin_docx(text, docx_path, attachment=attachment_table(result), seal=conf.seal, fonts=fonts)
        written.append(Path(docx_path))
    return written
