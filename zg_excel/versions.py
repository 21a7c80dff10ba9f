"""Which files of a unit count, and which rows are the same event twice.

Files of one unit are taken newest first; a file whose months all lie within
the months of a newer file is superseded (a cumulative or corrected resend).
Duplicates are then decided over the rows of the files kept, in reading order
(files by name, rows top to bottom): the first is kept, the others listed.
All of it is linear in the number of rows: one dict lookup per row.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from .issues import INFO, WARNING, Issue
from .model import DUPLICATE, SUPERSEDED, EventRow, Return, SubmissionRow
from .rules import Rules
from .values import normalize_key, row_key

_EPOCH = dt.datetime(1900, 1, 1)


def _month_text(months: set[tuple[int, int]]) -> str:
    if not months:
        return "无日期"
    return "、".join(f"{y}年{m}月" for y, m in sorted(months))


def resolve_versions(returns: list[Return], rules: Rules) -> list[Issue]:
    """Mark superseded files (and all their rows); returns the issues listing them."""
    issues: list[Issue] = []
    if rules.supersede == "none":
        return issues
    by_unit: dict[str, list[Return]] = defaultdict(list)
    for r in returns:
        by_unit[r.unit or ""].append(r)
    for unit, files in by_unit.items():
        def when(r: Return) -> dt.datetime:
            t = r.saved_time if rules.time_source == "saved_time" and r.saved_time else r.file_time
            if t is not None and t.tzinfo is not None:  # saved times are UTC; file times are local
                t = t.astimezone().replace(tzinfo=None)
            return t or _EPOCH

        # Newest first; equal times by name, the later name counting as newer.
        files = sorted(files, key=lambda r: (when(r), r.relpath), reverse=True)
        months = [r.months for r in files]
        for i, r in enumerate(files):
            for j in range(i):
                newer = files[j]
                if months[i] <= months[j]:
                    r.superseded_by = newer.relpath
                    for row in (*r.events, *r.submissions):
                        row.outcome = SUPERSEDED
                    issues.append(Issue(INFO, "superseded",
                                        f"该文件（{_month_text(months[i])}，录用{len(r.events)}行、报送{len(r.submissions)}行）"
                                        f"已被更新的文件“{newer.relpath}”替代，不再重复计入",
                                        file=r.relpath, unit=unit, action="整个文件不计入（以更新文件为准）"))
                    break
    return issues


_EVENT_GETTERS = {
    "unit": lambda ev: ev.unit,
    "title": row_key,
    "outlet": lambda ev: ev.outlet or normalize_key(ev.outlet_text or ""),
    "form": lambda ev: ev.form,
    "date": lambda ev: ev.date,
    "level": lambda ev: ev.declared_level,
}
_SUBMISSION_GETTERS = {
    "title": row_key,
    "date": lambda sub: sub.date,
    "destination": lambda sub: sub.destination,
}


class RowKeys:
    """The ``[duplicates]`` keys as functions: which fields make two rows the same event,
    endorsement (批示) or submission. Rows are compared within one unit only."""

    def __init__(self, rules: Rules) -> None:
        keys = rules.duplicate_keys
        self._event = [_EVENT_GETTERS[f] for f in keys.event_key]
        self._loose = [_EVENT_GETTERS[f] for f in keys.event_key if f != "date"]
        self._endorsement = [_EVENT_GETTERS[f] for f in keys.endorsement_key]
        self._submission = keys.submission_key

    def event(self, ev: EventRow) -> tuple:
        if ev.form == "批示":
            return ("批示", *(g(ev) for g in self._endorsement))
        return tuple(g(ev) for g in self._event)

    def loose(self, ev: EventRow) -> tuple:
        """The event key without its date (same title and outlet on another day: a warning)."""
        return tuple(g(ev) for g in self._loose)

    def submission(self, unit: str, sub: SubmissionRow) -> tuple:
        """The key under which ``sub`` counts for ``unit`` (the unit itself or its 对口处室)."""
        return tuple(unit if f == "unit" else _SUBMISSION_GETTERS[f](sub) for f in self._submission)


def mark_duplicates(returns: list[Return], rules: Rules) -> list[Issue]:
    """Mark repeated events and submissions among the files kept, in reading order."""
    issues: list[Issue] = []
    first: dict[tuple, EventRow] = {}
    dates: dict[tuple, EventRow] = {}
    first_sub: dict[tuple, SubmissionRow] = {}
    # Every key starts with the unit (a row's unit is its file's), so the tables are kept for one
    # unit at a time: a city's 500,000 keys are never all alive at once.
    keys = RowKeys(rules)
    unit: object = None
    for r in sorted(returns, key=lambda r: (r.unit or "", r.relpath)):
        if r.superseded_by:
            continue
        if r.unit != unit:
            unit = r.unit
            first.clear()
            dates.clear()
            first_sub.clear()
        for ev in r.events:
            if ev.invalid:
                continue
            key = keys.event(ev)
            kept = first.get(key)
            if kept is not None:
                ev.outcome = DUPLICATE
                ev.explanation = f"与“{kept.source}”重复，不重复计分"
                issues.append(Issue(INFO, "duplicate_event", f"与“{kept.source}”是同一条录用，只计一次",
                                    file=ev.source.file, sheet=ev.source.sheet, row=ev.source.row,
                                    value=ev.title or "", action="该行不重复计分", unit=ev.unit))
                continue
            first[key] = ev
            if rules.warn_same_title_outlet_other_date and ev.form != "批示":
                loose = keys.loose(ev)
                other = dates.get(loose)
                if other is not None and other.date != ev.date:
                    issues.append(Issue(WARNING, "same_title_other_date",
                                        f"同一标题、同一媒体另有一条日期不同的录用（{other.source}，{other.date}），已分别计分",
                                        file=ev.source.file, sheet=ev.source.sheet, row=ev.source.row,
                                        column="录用日期", value=str(ev.date), action="照常计分，请核实",
                                        unit=ev.unit))
                dates.setdefault(loose, ev)
        for sub in r.submissions:
            if sub.invalid:
                continue
            key = keys.submission(r.unit or "", sub)
            kept_sub = first_sub.get(key)
            if kept_sub is not None:
                sub.outcome = DUPLICATE
                issues.append(Issue(INFO, "duplicate_submission", f"与“{kept_sub.source}”是同一条报送，只计一次",
                                    file=sub.source.file, sheet=sub.source.sheet, row=sub.source.row,
                                    value=sub.title or "", action="该行不重复计数", unit=sub.unit))
                continue
            first_sub[key] = sub
    return issues
