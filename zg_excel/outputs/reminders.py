"""催报: a short reminder per unit that is behind, ready to paste into WeChat or a text message.

A unit gets a reminder when it has sent no return at all, when a month is
below its category's monthly minimum (or, where only a yearly minimum applies,
when a month has no submission at all, or the year-to-date count is behind the
pro-rated yearly minimum), or when its points are below the pro-rated target.
The text names the unit's 联系人 from the roster when there is one, says what
is missing and by when, in the polite tone of an office notice; the combined
list (催报汇总) is the same facts, one line per unit, for a group chat.

An output like the 通报 and the 退回单: nothing here rescores anything, every
figure is the ``Result``'s, the period texts are ``result.period``'s and the
file names ``Workspace``'s. :func:`write_reminders` writes
``output/催报/<单位>.txt`` (read by ``zg-excel mail --to roster --kind remind``)
and ``output/催报/催报汇总.txt``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..text import date_cn, month_day_weekday_cn, months_text
from ..files import Staging, atomic_write_bytes, new_run_id
from ..workspace import Workspace
from .report import month_counts

if TYPE_CHECKING:
    from ..result import Result
    from ..tally import UnitTally

DEFAULT_DEADLINE_DAYS = 5

# Kinds of reason (stable names, for the mailer and for tests).
NOT_RETURNED = "not_returned"
SHORT_MONTHS = "short_months"
ZERO_MONTHS = "zero_months"
YEARLY_BEHIND = "yearly_behind"
POINTS_BEHIND = "points_behind"

@dataclass(frozen=True)
class Reminder:
    """One unit's reminder: why, and the message to send."""

    unit: str
    category: str
    contact: str
    kinds: tuple[str, ...]
    reasons: tuple[str, ...]  # short phrases, e.g. "5月报送1条，低于每月2条的要求"
    text: str  # the message, ready to paste

    @property
    def line(self) -> str:
        """The unit's line of the combined list."""
        who = f"（联系人：{self.contact}）" if self.contact else ""
        return f"{self.unit}{who}：{'；'.join(self.reasons)}。"


@dataclass(frozen=True)
class Reminders:
    """Every reminder of one run, in roster order, and the combined list."""

    year: int
    as_of: dt.date
    deadline: dt.date
    issued: dt.date
    items: list[Reminder]
    combined: str
    roster_units: tuple[str, ...] = field(default=())  # every roster unit (to clear stale files)

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def get(self, unit: str) -> Reminder | None:
        return next((r for r in self.items if r.unit == unit), None)


def default_deadline(issued: dt.date, days: int = DEFAULT_DEADLINE_DAYS) -> dt.date:
    """``days`` calendar days after ``issued``, moved to the Monday after when it falls on a weekend."""
    d = issued + dt.timedelta(days=days)
    while d.weekday() >= 5:
        d += dt.timedelta(days=1)
    return d


def _reasons(t: UnitTally, result: Result) -> list[tuple[str, str]]:
    """(kind, phrase) for one unit's tally; empty when nothing needs reminding."""
    cat = result.rules.categories[t.category]
    if not t.returned and t.received_non_spreadsheet:
        files = "、".join(f"“{f}”" for f in t.received_non_spreadsheet)
        return [(NOT_RETURNED, f"报送的文件{files}不是电子表格，未能统计，请用模板重新报送{result.period.span_text}组工信息统计表")]
    if not t.returned:
        return [(NOT_RETURNED, f"尚未报送{result.period.span_text}组工信息统计表")]
    out: list[tuple[str, str]] = []
    if cat.monthly_submissions and t.short_months:
        counts = month_counts(t, t.short_months)
        out.append((SHORT_MONTHS, f"报送条数{counts}，低于每月{cat.monthly_submissions}条的要求"))
    elif not cat.monthly_submissions:
        zero = [m for m, n in sorted(t.submissions_by_month.items()) if n == 0]
        if zero:
            out.append((ZERO_MONTHS, f"{months_text(zero)}没有报送组工信息"))
    if cat.yearly_submissions:
        need = result.period.share(cat.yearly_submissions)
        if t.submissions_year < need:
            out.append((YEARLY_BEHIND, f"已报送{t.submissions_year}条，全年应不少于{cat.yearly_submissions}条"))
    if t.behind_prorated:
        if result.final:
            out.append((POINTS_BEHIND, f"积分{result.points_text(t.total)}分，未达到全年目标{result.points_text(t.annual_target)}分"))
        else:
            out.append((POINTS_BEHIND, f"积分{result.points_text(t.total)}分，低于序时进度目标{result.points_text(t.prorated_target)}分"
                                       f"（全年目标{result.points_text(t.annual_target)}分）"))
    return out


def _ask(kinds: set[str], deadline: dt.date) -> str:
    """What the unit is asked to do, by when (one sentence per kind of problem)."""
    when = month_day_weekday_cn(deadline)
    if NOT_RETURNED in kinds:
        return f"请于{when}前将统计表报送区委组织部。"
    asks = []
    if kinds & {SHORT_MONTHS, ZERO_MONTHS}:
        asks.append(f"请核实上述月份的报送登记是否漏填，如有漏填，请补充后于{when}前重新报送统计表；"
                    "今后请按月报送，杜绝零报送。")
    if YEARLY_BEHIND in kinds:
        asks.append("请抓紧报送组工信息，确保完成全年报送任务。")
    if POINTS_BEHIND in kinds:
        asks.append("请加大组工信息撰写和报送力度，对照全年目标抓紧补齐差距"
                    + ("。" if asks else f"，新的录用情况请于{when}前登记报送。"))
    return "".join(asks)


def _message(unit: str, contact: str, reasons: list[tuple[str, str]], *, result: Result, deadline: dt.date,
             issuer: str, issued: dt.date) -> str:
    greeting = f"{contact}同志：您好！" if contact else f"{unit}：您好！"
    kinds = {k for k, _ in reasons}
    if NOT_RETURNED in kinds:
        body = [f"截至{date_cn(result.as_of)}，你单位（{unit}）{reasons[0][1]}。"]
    else:
        body = [f"截至{date_cn(result.as_of)}，你单位（{unit}）{result.year}年组工信息报送情况如下："]
        body += [f"{i}. {phrase}{'；' if i < len(reasons) else '。'}"
                 for i, (_, phrase) in enumerate(reasons, start=1)]
    lines = [greeting, *body, _ask(kinds, deadline) + "如已报送，请忽略本提醒。谢谢！"]
    if issuer:
        lines.append(issuer)
    lines.append(date_cn(issued))
    return "\n".join(lines) + "\n"


def build_reminders(result: Result, *, deadline: dt.date | None = None, issued: dt.date | None = None) -> Reminders:
    """A reminder for every unit that is behind, in roster order, and the combined list."""
    issuer = result.rules.bulletin.issuer
    issued = issued or dt.date.today()
    days = result.rules.remind.deadline_days
    deadline = deadline or default_deadline(issued, days)
    contacts = {u.name: (u.contact or "").strip() for u in result.roster}
    items: list[Reminder] = []
    for t in sorted(result.units, key=lambda t: t.order):
        reasons = _reasons(t, result)
        if not reasons:
            continue
        contact = contacts.get(t.unit, "")
        items.append(Reminder(
            unit=t.unit, category=t.category, contact=contact,
            kinds=tuple(k for k, _ in reasons), reasons=tuple(p for _, p in reasons),
            text=_message(t.unit, contact, reasons, result=result, deadline=deadline, issuer=issuer,
                          issued=issued)))
    if items:
        lines = [f"各单位：截至{date_cn(result.as_of)}，以下{len(items)}个单位的组工信息报送存在不足，"
                 f"请相关单位于{month_day_weekday_cn(deadline)}前核实补报，并将更新后的统计表报送区委组织部。"]
        lines += [f"{i}. {r.line}" for i, r in enumerate(items, start=1)]
        lines.append("如已报送，请忽略本提醒。谢谢！")
    else:
        lines = [f"截至{date_cn(result.as_of)}，各单位组工信息报送均符合要求，无需催报。"]
    if issuer:
        lines.append(issuer)
    lines.append(date_cn(issued))
    return Reminders(year=result.year, as_of=result.as_of, deadline=deadline, issued=issued, items=items,
                     combined="\n".join(lines) + "\n", roster_units=tuple(u.name for u in result.roster))


def _bytes(text: str) -> bytes:
    """UTF-8 with BOM and CRLF: opens right in Windows Notepad and pastes cleanly."""
    return ("\ufeff" + text.replace("\r\n", "\n").replace("\n", "\r\n")).encode("utf-8")


def write_reminders(reminders: Reminders, outdir: Path) -> list[Path]:
    """Write ``<outdir>/催报/<单位>.txt`` per reminder and ``催报汇总.txt``; return the paths written.

    ``outdir`` is the working folder's ``output/``. A roster unit's file left from
    an earlier run is removed when that unit no longer needs a reminder, so that
    ``zg-excel mail --kind remind`` never sends a stale one; other files stay.
    """
    ws = Workspace.for_output(Path(outdir))
    written: list[Path] = []
    with Staging(ws.output, new_run_id()) as staging:  # all the texts replace the old ones together
        for r in reminders.items:
            path = ws.reminder_path(r.unit)
            atomic_write_bytes(staging.path(path), _bytes(r.text))
            written.append(path)
        current = {p.name for p in written}
        stale = [ws.reminder_path(unit) for unit in reminders.roster_units]
        combined = ws.reminders_combined
        atomic_write_bytes(staging.path(combined), _bytes(reminders.combined))
        written.append(combined)
        staging.commit(remove=[p for p in stale if p.name not in current])
    return written
