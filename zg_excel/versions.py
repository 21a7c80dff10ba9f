"""Which files of a unit count, and which rows are the same event twice.

Files of one unit are taken newest first (the workbook's own saved time, else the
file's time). An older file is superseded by a newer one when its months all lie
within the newer file's months AND the newer file is a resend of it: at least
``rules.resend_share`` of its rows (录用 and 报送 rows, each against the same sheet of
the newer file, by normalized title) appear in the newer file. Otherwise both count
(monthly returns; a monthly file carrying a late row of an earlier month).
Duplicates are then decided over the rows of the files kept, newest file first
(rows top to bottom within a file): the first is kept, so a corrected resend wins.
All of it is linear in the number of rows: one dict lookup per row.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from fractions import Fraction

from .issues import INFO, WARNING, Issue
from .model import DUPLICATE, SUPERSEDED, EventRow, Return, SubmissionRow
from .rules import Rules
from .text import year_months_text
from .values import normalize_key, row_key

_EPOCH = dt.datetime(1900, 1, 1)
_TITLES_SHOWN = 10  # titles named in the "removed rows" warning


def newest_first(files: list[Return], rules: Rules) -> list[Return]:
    """The files (of one unit) newest first: the workbook's saved time (``versions.time_source``),
    else the file's time; equal times by name, the later name counting as newer."""
    def when(r: Return) -> dt.datetime:
        t = r.saved_time if rules.time_source == "saved_time" and r.saved_time else r.file_time
        if t is not None and t.tzinfo is not None:  # saved times are UTC; file times are local
            t = t.astimezone().replace(tzinfo=None)
        return t or _EPOCH

    return sorted(files, key=lambda r: (when(r), r.relpath), reverse=True)


def _by_unit(returns: list[Return]) -> dict[str, list[Return]]:
    by_unit: dict[str, list[Return]] = defaultdict(list)
    for r in returns:
        by_unit[r.unit or ""].append(r)
    return by_unit


def _titles(r: Return) -> tuple[set[int], set[int]]:
    """The normalized titles (digests) of a return's 录用 rows and of its 报送 rows."""
    return {row_key(e) for e in r.events}, {row_key(s) for s in r.submissions}


def resent_share(old: Return, new: Return, titles: tuple[set[int], set[int]] | None = None) -> Fraction:
    """The share of ``old``'s rows that appear in ``new``: 录用 rows among ``new``'s 录用 titles,
    报送 rows among its 报送 titles (normalized); 1 when ``old`` has no rows. ``titles``:
    ``new``'s, when already at hand."""
    total = len(old.events) + len(old.submissions)
    if total == 0:
        return Fraction(1)
    event_titles, sub_titles = titles or _titles(new)
    held = sum(1 for e in old.events if row_key(e) in event_titles)
    held += sum(1 for s in old.submissions if row_key(s) in sub_titles)
    return Fraction(held, total)


def resolve_versions(returns: list[Return], rules: Rules) -> list[Issue]:
    """Mark superseded files (and all their rows); returns the issues listing them, and one
    warning per unit naming the rows a superseded file held that no file kept holds."""
    issues: list[Issue] = []
    if rules.supersede == "none":
        return issues
    keys = RowKeys(rules)
    for unit, files in _by_unit(returns).items():
        files = newest_first(files, rules)
        months = [r.months for r in files]
        titles: dict[int, tuple[set[int], set[int]]] = {}  # by position: each file's titles built once
        for i, r in enumerate(files):
            for j in range(i):
                newer = files[j]
                if months[i] <= months[j] and resent_share(
                        r, newer, titles.get(j) or titles.setdefault(j, _titles(newer))) >= rules.resend_share:
                    r.superseded_by = newer.relpath
                    for row in (*r.events, *r.submissions):
                        row.outcome = SUPERSEDED
                    issues.append(Issue(INFO, "superseded",
                                        f"该文件（{year_months_text(months[i], '无日期')}，录用{len(r.events)}行、报送{len(r.submissions)}行）"
                                        f"已被更新的文件“{newer.relpath}”替代，不再重复计入",
                                        file=r.relpath, unit=unit, action="整个文件不计入（以更新文件为准）"))
                    break
        removed = _removed_rows(files, unit, keys)
        if removed is not None:
            issues.append(removed)
    return issues


def _removed_rows(files: list[Return], unit: str, keys: RowKeys) -> Issue | None:
    """The rows of this unit's superseded files that no kept file holds (by the event or
    submission key; a row that could not be read, by its title): one warning, or None."""
    old = [r for r in files if r.superseded_by]
    if not old:
        return None
    kept = [r for r in files if not r.superseded_by]
    event_keys = {keys.event(e) for r in kept for e in r.events if not e.invalid}
    sub_keys = {keys.submission(unit, s) for r in kept for s in r.submissions if not s.invalid}
    event_titles = {row_key(e) for r in kept for e in r.events}
    sub_titles = {row_key(s) for r in kept for s in r.submissions}
    gone: list[tuple[str, str]] = []  # (title, sheet) in reading order, oldest file last
    for r in old:
        for e in r.events:
            held = row_key(e) in event_titles if e.invalid else keys.event(e) in event_keys
            if not held:
                gone.append((e.title or "（无标题）", e.where[1]))
        for s in r.submissions:
            held = row_key(s) in sub_titles if s.invalid else keys.submission(unit, s) in sub_keys
            if not held:
                gone.append((s.title or "（无标题）", s.where[1]))
    if not gone:
        return None
    shown = "、".join(f"“{t}”（{sheet}）" for t, sheet in gone[:_TITLES_SHOWN])
    more = f"等{len(gone)}条" if len(gone) > _TITLES_SHOWN else ""
    successors = "、".join(dict.fromkeys(f"“{r.superseded_by}”" for r in old))
    olds = "、".join(f"“{r.relpath}”" for r in old)
    return Issue(WARNING, "superseded_rows_removed",
                 f"更新文件中删去了{len(gone)}条：{shown}{more}。这些行在被替代的文件{olds}中，"
                 f"但更新文件{successors}及本单位其他文件中都没有，本次不计入",
                 file=old[0].superseded_by or "", unit=unit, value=str(len(gone)),
                 action="不计入（以更新文件为准）",
                 fix="如这些行是误删，请把它们补进最新文件后重新报送")


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


# The fields of an event that scoring reads beyond its key: two duplicates that differ in one
# are listed (the newest file's row is kept). (label, attribute, read only for multiplied forms)
_SCORED_FIELDS = (
    ("字数", "chars", True),
    ("视频时长", "minutes", True),
    ("媒体级别", "declared_level", False),
    ("经对口处室", "section", False),
    ("是否组织工作", "org_work", False),
    ("严重失实或政治性问题", "serious", False),
)


def _shown(attr: str, value) -> str:
    if value is None:
        return "空"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Fraction):
        return str(value.numerator) if value.denominator == 1 else str(float(value))
    return str(value)


def _differences(kept: EventRow, dropped: EventRow, rules: Rules) -> list[str]:
    out = []
    for label, attr, multiplied_only in _SCORED_FIELDS:
        if multiplied_only and kept.form not in rules.multiplier_forms:
            continue
        a, b = getattr(kept, attr), getattr(dropped, attr)
        if a != b:
            out.append(f"{label}（保留“{_shown(attr, a)}”，舍去“{_shown(attr, b)}”）")
    return out


def mark_duplicates(returns: list[Return], rules: Rules) -> list[Issue]:
    """Mark repeated events and submissions among the files kept: files of a unit newest first,
    rows top to bottom, the first row of a key kept (a corrected resend wins)."""
    issues: list[Issue] = []
    first: dict[tuple, EventRow] = {}
    dates: dict[tuple, EventRow] = {}
    first_sub: dict[tuple, SubmissionRow] = {}
    # Every key starts with the unit (a row's unit is its file's), so the tables are kept for one
    # unit at a time: a city's 500,000 keys are never all alive at once.
    keys = RowKeys(rules)
    by_unit = _by_unit(returns)
    for unit in sorted(by_unit):
        first.clear()
        dates.clear()
        first_sub.clear()
        for r in newest_first(by_unit[unit], rules):
            if r.superseded_by:
                continue
            for ev in r.events:
                if ev.invalid:
                    continue
                key = keys.event(ev)
                kept = first.get(key)
                if kept is not None:
                    ev.outcome = DUPLICATE
                    ev.explanation = f"与“{kept.source}”重复，不重复计分"
                    differ = _differences(kept, ev, rules)
                    if differ:
                        same_file = kept.where[0] == ev.where[0]
                        which = "上面一行" if same_file else f"较新的文件“{kept.where[0]}”"
                        issues.append(Issue(
                            WARNING, "duplicate_event_differs",
                            f"与“{kept.source}”是同一条录用，只计一次，按{which}计分；"
                            f"两行填写不同：{'；'.join(differ)}",
                            file=ev.source.file, sheet=ev.source.sheet, row=ev.source.row,
                            value=ev.title or "", action=f"该行不重复计分，以{which}为准", unit=ev.unit,
                            fix="请核实哪一行正确，删去另一行" if same_file
                            else "请核实哪一行正确；如较新文件有误，请改正后重新报送"))
                    else:
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
