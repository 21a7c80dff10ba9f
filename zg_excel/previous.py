"""The previous period's standings, recomputed from this run's rows (no old files kept).

The previous period (``Period.previous()``) is the year to the end of the
quarter before the one that holds ``as_of`` (as-of 2026-09-30 → 2026年1月至6月,
to 2026-06-30); its label and pro-rated targets come from ``period``. It is
computed from ``result.returns`` only: an event counts for the previous period
when its outcome is ``scored`` and its date is on or before that quarter end;
a liaison section's credit likewise through the row's ``credit`` and
``section``; submissions from the units' ``submissions_by_month``. Ranks use
the same competition ranking as :mod:`zg_excel.tally` (equal totals share a
rank, within the category).

The figures are the previous period *as the current inbox tells it*: a return
received late, or a corrected resend, changes the previous standings too. The
previous 通报 as published may therefore differ; what is compared is like with
like (the same files, the same rules).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction

from .model import SCORED
from .period import Period, year_end
from .scoring import PerObject
from .tally import FractionSum, competition_ranks
from .text import date_cn


@dataclass(frozen=True)
class PreviousUnit:
    """One unit's standing at the end of the previous period."""

    unit: str
    category: str
    points: Fraction
    credit: Fraction
    submissions: int
    events_scored: int  # scored rows with points > 0 (as the ranking's 录用 columns)
    prorated_target: Fraction
    rank: int
    returned: bool

    @property
    def total(self) -> Fraction:
        return self.points + self.credit

    @property
    def on_track(self) -> bool:
        """At or above the pro-rated target of the previous period (as 序时进度 is read now)."""
        return self.returned and self.total >= self.prorated_target


@dataclass(frozen=True)
class Previous:
    """The previous period: its label, end date and every roster unit's standing."""

    year: int
    quarter: int  # the quarter whose end closes the previous period (1–3)
    as_of: dt.date
    label: str  # 2026年1月至6月
    units: dict[str, PreviousUnit]  # roster order

    @property
    def as_of_text(self) -> str:
        return date_cn(self.as_of)

    def get(self, unit: str) -> PreviousUnit | None:
        return self.units.get(unit)

    def rank_change(self, tally) -> int | None:
        """Places gained since the previous period (positive: moved up), for a ``UnitTally``."""
        prev = self.units.get(tally.unit)
        return None if prev is None else prev.rank - tally.rank

    def added(self, tally) -> Fraction | None:
        """Total points added since the previous period, for a ``UnitTally``."""
        prev = self.units.get(tally.unit)
        return None if prev is None else tally.total - prev.total

    @property
    def points_total(self) -> Fraction:
        return sum((u.points for u in self.units.values()), Fraction(0))

    @property
    def submissions_total(self) -> int:
        return sum(u.submissions for u in self.units.values())

    @property
    def events_scored(self) -> int:
        return sum(u.events_scored for u in self.units.values())

    @property
    def units_on_track(self) -> list[str]:
        return [u.unit for u in self.units.values() if u.on_track]


def previous_standings(result) -> Previous | None:
    """Per-unit previous total and rank within category; None when ``as_of`` is in the first quarter.

    ``result`` is a ``zg_excel.result.Result`` (a layer above this one, so not imported here).
    """
    as_of = min(result.as_of, year_end(result.year))
    if as_of.year != result.year:
        return None
    period = Period.of(result.year, as_of, result.rules).previous()
    if period is None:
        return None
    end = period.as_of
    rules = result.rules
    tallies = {t.unit: t for t in result.units}
    sums: dict[str, FractionSum] = defaultdict(FractionSum)
    credit_sums: dict[str, FractionSum] = defaultdict(FractionSum)
    events: dict[str, int] = defaultdict(int)
    positive = PerObject(lambda p: p > 0)
    for r in result.returns:
        if r.unit not in tallies or r.superseded_by:
            continue
        for ev in r.events:
            if ev.outcome != SCORED or ev.date is None or ev.date > end:
                continue
            p = ev.points
            sums[r.unit].add(p)
            if positive(p) and ev.level:
                events[r.unit] += 1
            if ev.section in tallies and ev.credit:
                credit_sums[ev.section].add(ev.credit)
    points = {unit: s.total() for unit, s in sums.items()}
    credit = {unit: s.total() for unit, s in credit_sums.items()}
    standings: dict[str, PreviousUnit] = {}
    for t in result.units:
        annual = rules.categories[t.category].annual_points
        target = period.prorated(annual)
        standings[t.unit] = PreviousUnit(
            unit=t.unit, category=t.category, points=points.get(t.unit, Fraction(0)),
            credit=credit.get(t.unit, Fraction(0)),
            submissions=sum(n for m, n in t.submissions_by_month.items() if m <= end.month),
            events_scored=events[t.unit], prorated_target=target, rank=0, returned=t.returned)
    by_cat: dict[str, list[PreviousUnit]] = defaultdict(list)
    for u in standings.values():
        by_cat[u.category].append(u)
    for group in by_cat.values():  # competition ranking, as tally: equal totals share a rank
        for u, rank in zip(group, competition_ranks([u.total for u in group])):
            standings[u.unit] = PreviousUnit(**{**u.__dict__, "rank": rank})
    return Previous(year=result.year, quarter=period.quarter, as_of=end, label=period.label,
                    units=standings)
