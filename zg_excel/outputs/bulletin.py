"""The 通报 (bulletin): a rendering context built from the ``Result``, a jinja2 template, .txt and .docx.

The context is the documented interface for districts that write their own
template (README, 通报模板); every number in it comes from the ``Result`` and is
formatted once here, so the text, the .docx and the workbook agree.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..config import round_half_up
from ..model import SCORED
from ..workspace import atomic_write_bytes
from .summary import period_label

CN_DIGITS = "零一二三四五六七八九十"
QUARTERS = ("第一季度", "第二季度", "第三季度", "第四季度")


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


def date_cn(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def pts(value) -> str:
    from ..scoring import fmt

    return fmt(value)


def bulletin_title(result) -> str:
    if result.final:
        return f"关于{result.year}年度{_district(result)}组工信息宣传工作情况的通报"
    q = QUARTERS[(result.as_of.month - 1) // 3]
    return f"关于{result.year}年{q}{_district(result)}组工信息宣传工作情况的通报"


def _district(result) -> str:
    return result.rules.data.get("bulletin", {}).get("district", "全区")


def attachment_title(result) -> str:
    q = "年度" if result.final else QUARTERS[(result.as_of.month - 1) // 3]
    return f"{result.year}年{q}组工信息考核积分排名表"


def build_context(result, *, issued: dt.date | None = None) -> dict:
    """Everything the bulletin template may use (documented in the README)."""
    conf = result.rules.data.get("bulletin", {})
    levels = result.rules.levels
    by_level = {lv: 0 for lv in levels}
    events_scored = 0
    for e in result.events:
        if e.outcome == SCORED and e.points > 0:
            events_scored += 1
            if e.level in by_level:
                by_level[e.level] += 1
    units = result.units
    top = int(conf.get("praise_top", 3))
    categories, behind = [], []
    for cat in result.rules.categories:
        group = sorted((t for t in units if t.category == cat), key=lambda t: (t.rank, t.order))
        if not group:
            continue
        rows = [{"unit": inert(t.unit), "rank": t.rank, "total": pts(t.total), "points": pts(t.points),
                 "credit": pts(t.credit), "target": pts(t.prorated_target), "annual": pts(t.annual_target),
                 "submissions": t.submissions_year, "returned": t.returned,
                 "text": f"{inert(t.unit)}（{pts(t.total)}分）"} for t in group]
        praised = [r for r, t in zip(rows, group) if t.total > 0 and not t.behind_prorated][:top]
        lagging = [{"unit": inert(t.unit), "total": pts(t.total), "target": pts(t.prorated_target),
                    "text": f"{inert(t.unit)}（{pts(t.total)}分，序时目标{pts(t.prorated_target)}分）"}
                   for t in group if t.returned and t.behind_prorated]
        categories.append({"name": cat, "units": rows, "praised": praised})
        if lagging:
            behind.append({"name": cat, "units": lagging})
    short_months = [{"unit": inert(t.unit), "months": list(t.short_months),
                     "text": f"{inert(t.unit)}（{'、'.join(f'{m}月' for m in t.short_months)}）"}
                    for t in units if t.returned and t.short_months]
    short_yearly = []
    for t in units:
        need = result.rules.categories[t.category].yearly_submissions
        if t.returned and need and result.final and t.submissions_year < need:
            short_yearly.append({"unit": inert(t.unit), "text": f"{inert(t.unit)}（{t.submissions_year}条）"})
    issued = issued or dt.date.today()
    previous = None
    prev = getattr(result, "previous", None)
    if prev:
        previous = {"period": prev["period"], "points_added": pts(sum((t.total for t in units), 0) - prev["total"])}
    return {
        "title": bulletin_title(result),
        "addressees": conf.get("addressees", ""),
        "issuer": conf.get("issuer", ""),
        "method_name": conf.get("method_name", ""),
        "district": _district(result),
        "year": result.year,
        "as_of": result.as_of,
        "as_of_text": date_cn(result.as_of),
        "period": period_label(result),
        "quarter": (result.as_of.month - 1) // 3 + 1,
        "final": result.final,
        "units_total": len(units),
        "units_returned": sum(1 for t in units if t.returned),
        "not_returned": [inert(t.unit) for t in units if not t.returned],
        "submissions_total": sum(t.submissions_year for t in units),
        "events_scored": events_scored,
        "by_level": by_level,
        "points_total": pts(sum((t.points for t in units), 0)),
        "units_on_track": [inert(t.unit) for t in units if t.returned and not t.behind_prorated],
        "categories": categories,
        "behind": behind,
        "short_months": short_months,
        "short_yearly": short_yearly,
        "previous": previous,
        "attachment_title": attachment_title(result),
        "date_text": date_cn(issued),
    }


def render_text(result, template_text: str, *, issued: dt.date | None = None) -> str:
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


def attachment_table(result) -> dict:
    header = ["排名", "单位", "报送条数", "本单位积分", "对口处室积分", "总积分", "序时目标", "完成进度"]
    rows: list[list[str]] = []
    for cat in result.rules.categories:
        group = sorted((t for t in result.units if t.category == cat), key=lambda t: (t.rank, t.order))
        if not group:
            continue
        rows.append([cat] + [""] * (len(header) - 1))
        for t in group:
            progress = f"{round_half_up(t.total / t.prorated_target * 100, 0)}%" if t.prorated_target else "—"
            rows.append([str(t.rank), t.unit if t.returned else f"{t.unit}（未报送）", str(t.submissions_year),
                         pts(t.points), pts(t.credit), pts(t.total), pts(t.prorated_target), progress])
    return {"title": attachment_title(result), "header": header, "rows": rows,
            "col_widths_mm": [12, 50, 16, 18, 18, 16, 16, 16]}


def write_bulletin(result, text: str, txt_path: Path, docx_path: Path | None = None) -> list[Path]:
    """Write 通报.txt (UTF-8 with BOM, CRLF: opens right in Windows Notepad) and 通报.docx."""
    written = []
    atomic_write_bytes(Path(txt_path), ("\ufeff" + text.replace("\n", "\r\n")).encode("utf-8"))
    written.append(Path(txt_path))
    if docx_path is not None:
        from .docx_bulletin import write_bulletin_docx

        write_bulletin_docx(text, docx_path, attachment=attachment_table(result))
        written.append(Path(docx_path))
    return written
