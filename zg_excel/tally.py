"""Per unit: points, liaison credit, monthly submissions, targets and ranks.

The judged months, the in-progress month and the pro-rated target come from
``period.Period``; this module only sums the scored rows of the kept files per roster unit.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction

from .model import (
    COUNTED,
    DUPLICATE,
    INVALID,
    NOT_COUNTED,
    OUT_OF_PERIOD,
    SCORED,
    SUPERSEDED,
    EventRow,
    Return,
)
from .period import Period
from .roster import Roster
from .rules import Rules
from .scoring import PerObject, credit_for, shared
from .values import normalize_key
from .versions import RowKeys

_ZERO = Fraction(0)


@dataclass
class CreditLine:
    """One row of the 对口处室积分 sheet: a section's share of a unit's scored row."""

    section: str
    event: EventRow
    credit: Fraction


@dataclass
class UnitTally:
    unit: str
    category: str
    order: int
    returned: bool = False
    files: list[str] = field(default_factory=list)
    received_non_spreadsheet: list[str] = field(default_factory=list)  # files named for it that are no spreadsheet
    points: Fraction = Fraction(0)
    credit: Fraction = Fraction(0)
    adoptions_by_level: dict[str, int] = field(default_factory=dict)  # scored rows with points > 0
    events_scored: int = 0
    submissions_by_month: dict[int, int] = field(default_factory=dict)  # the judged months only
    submissions_in_progress: int | None = None  # the in-progress month's count so far (never judged)
    submissions_year: int = 0
    provincial_org_adoptions: int = 0
    short_months: list[int] = field(default_factory=list)
    targets: dict[str, bool] = field(default_factory=dict)
    annual_target: Fraction = Fraction(0)
    prorated_target: Fraction = Fraction(0)
    rank: int = 0

    @property
    def total(self) -> Fraction:
        return self.points + self.credit

    @property
    def behind_prorated(self) -> bool:
        return self.total < self.prorated_target


class FractionSum:
    """An exact sum of many ``Fraction``s that are a few shared objects (scoring shares them):
    rows are counted per object and each object is multiplied once. Adding a row is an ``id``
    and a dict update instead of Fraction arithmetic (and its hashing) per row."""

    __slots__ = ("_counts", "_values")

    def __init__(self) -> None:
        self._counts: dict[int, int] = {}
        self._values: dict[int, Fraction] = {}  # holding the objects keeps their ids from reuse

    def add(self, value: Fraction) -> None:
        key = id(value)
        n = self._counts.get(key)
        if n is None:
            self._values[key] = value
            self._counts[key] = 1
        else:
            self._counts[key] = n + 1

    def total(self) -> Fraction:
        return sum((self._values[k] * n for k, n in self._counts.items()), Fraction(0))


def tally(returns: list[Return], roster: Roster, rules: Rules, *, year: int,
          as_of: dt.date) -> tuple[list[UnitTally], list[CreditLine]]:
    """Aggregate the scored rows of the kept files per roster unit."""
    units = {u.name: UnitTally(unit=u.name, category=u.category, order=u.order) for u in roster}
    credits: list[CreditLine] = []
    provincial = {name: {normalize_key(o) for o in c.provincial_outlets} for name, c in rules.categories.items()}
    points = {name: FractionSum() for name in units}
    credit_sums = {name: FractionSum() for name in units}
    def implied(p: Fraction) -> tuple:  # what a scored row's points imply: (> 0, credit, credit ≠ 0)
        credit = shared(credit_for(p, rules))
        return p > 0, credit, credit != 0

    per_points = PerObject(implied)
    for r in sorted(returns, key=lambda r: r.relpath):
        t = units.get(r.unit or "")
        if t is None:
            continue
        t.returned = True
        t.files.append(r.relpath)
        if r.superseded_by:
            continue
        for ev in r.events:
            if ev.outcome != SCORED:
                continue
            positive, credit, has_credit = per_points(ev.points)
            points[t.unit].add(ev.points)
            t.events_scored += 1
            if positive and ev.level:
                t.adoptions_by_level[ev.level] = t.adoptions_by_level.get(ev.level, 0) + 1
            cat = rules.categories[t.category]
            if (cat.provincial_outlets and positive and ev.form in cat.provincial_forms
                    and ev.outlet and normalize_key(ev.outlet) in provincial[t.category]):
                t.provincial_org_adoptions += 1
            if not ev.section:  # only a row naming a liaison section gives credit (its share: credit_for)
                credit, has_credit = _ZERO, False
            ev.credit = credit
            if has_credit and ev.section in units:
                credit_sums[ev.section].add(credit)
                credits.append(CreditLine(section=ev.section, event=ev, credit=credit))
    for name, t in units.items():
        t.points += points[name].total()
        t.credit += credit_sums[name].total()

    _count_submissions(returns, units, rules, year=year, as_of=as_of)

    period = Period.of(year, as_of, rules)
    current = period.in_progress_month
    for t in units.values():
        cat = rules.categories[t.category]
        t.annual_target = cat.annual_points
        t.prorated_target = period.prorated(cat.annual_points)
        counted = t.submissions_by_month
        t.submissions_by_month = {m: counted.get(m, 0) for m in period.months}
        t.submissions_in_progress = counted.get(current, 0) if current else None
        t.submissions_year = sum(t.submissions_by_month.values()) + (t.submissions_in_progress or 0)
        if cat.monthly_submissions:
            t.short_months = [m for m, n in t.submissions_by_month.items() if n < cat.monthly_submissions]
        targets = {"points": t.total >= cat.annual_points}
        if cat.monthly_submissions:
            targets["monthly"] = not t.short_months
        if cat.yearly_submissions:
            targets["yearly"] = t.submissions_year >= cat.yearly_submissions
        if cat.provincial_adoptions:
            targets["provincial"] = t.provincial_org_adoptions >= cat.provincial_adoptions
        t.targets = targets

    ordered = sorted(units.values(), key=lambda t: t.order)
    by_cat: dict[str, list[UnitTally]] = defaultdict(list)
    for t in ordered:
        by_cat[t.category].append(t)
    for group in by_cat.values():
        ranks = competition_ranks([t.total for t in group])
        for t, rank in zip(group, ranks):
            t.rank = rank
    return ordered, credits


def competition_ranks(totals: list) -> list[int]:
    """Rank of each total, highest first; equal totals share a rank (1, 2, 2, 4). One sort."""
    order = sorted(range(len(totals)), key=lambda i: -totals[i])
    ranks = [0] * len(totals)
    for pos, i in enumerate(order):
        ranks[i] = ranks[order[pos - 1]] if pos and totals[i] == totals[order[pos - 1]] else pos + 1
    return ranks


def _count_submissions(returns, units, rules: Rules, *, year: int, as_of: dt.date) -> None:
    """Submission outcomes and per-month counts; the same unit, normalized title, date and destination
    count once."""
    seen: set[tuple] = set()
    keys = RowKeys(rules)
    for r in sorted(returns, key=lambda r: r.relpath):
        if r.unit not in units:
            continue
        for sub in r.submissions:
            if sub.outcome in (SUPERSEDED, DUPLICATE):
                continue
            if sub.invalid:
                sub.outcome = INVALID
                continue
            if sub.date is None or sub.date.year != year or sub.date > as_of:
                sub.outcome = OUT_OF_PERIOD
                continue
            counters = [r.unit]
            if sub.section and rules.submissions_count_for_section and sub.section in units:
                counters.append(sub.section)
            for name in counters:
                cat = rules.categories[units[name].category]
                if sub.destination not in cat.counts_destinations:
                    continue
                key = keys.submission(name, sub)
                if key in seen:
                    continue
                seen.add(key)
                t = units[name]
                t.submissions_by_month[sub.date.month] = t.submissions_by_month.get(sub.date.month, 0) + 1
                sub.counted_for.append(name)
            sub.outcome = COUNTED if r.unit in sub.counted_for else NOT_COUNTED
