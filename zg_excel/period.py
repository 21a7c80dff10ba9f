"""The assessment period of one merge: year, as-of date, quarter, months elapsed, labels, pro-rating.

Every piece of quarter and month arithmetic lives here; ``Result.period`` gives
the outputs one ``Period`` so that none of them recomputes it. What counts as
an elapsed month is decided in :attr:`Period.months_elapsed` alone (today: the
as-of month counts when ``targets.as_of_month_elapsed`` is set).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from .text import date_cn

if TYPE_CHECKING:
    from .rules import Rules

QUARTER_NAMES = ("第一季度", "第二季度", "第三季度", "第四季度")


def quarter_of(d: dt.date) -> int:
    """1–4: the calendar quarter holding ``d``."""
    return (d.month - 1) // 3 + 1


def quarter_end(year: int, quarter: int) -> dt.date:
    """The last day of ``quarter`` (1–4) of ``year``."""
    month = 3 * quarter
    return dt.date(year, month, 30 if month in (6, 9) else 31)


def year_end(year: int) -> dt.date:
    return dt.date(year, 12, 31)


def resolve_period(year: int | None, as_of: dt.date | None, today: dt.date | None = None) -> tuple[int, dt.date]:
    """Year and as-of date of a run: the year defaults to the as-of date's (or today's), the as-of
    date to today; an as-of date after the year's 31 December is capped there (the year-end run)."""
    today = today or dt.date.today()
    if year is None:
        year = as_of.year if as_of else today.year
    if as_of is None:
        as_of = today
    return year, min(as_of, year_end(year))


def previous_quarter_end(as_of: dt.date) -> dt.date | None:
    """The last day of the quarter before the one holding ``as_of``; None in the first quarter."""
    q = quarter_of(as_of)
    return None if q == 1 else quarter_end(as_of.year, q - 1)


@dataclass(frozen=True)
class Period:
    """The period a merge counts: 1 January of ``year`` to ``as_of``.

    ``as_of_month_elapsed`` and ``prorate`` are the rules' ``targets`` switches
    (:meth:`of` reads them).
    """

    year: int
    as_of: dt.date
    as_of_month_elapsed: bool = True
    prorate: bool = True

    @classmethod
    def of(cls, year: int, as_of: dt.date, rules: Rules) -> Period:
        return cls(year=year, as_of=as_of, as_of_month_elapsed=rules.as_of_month_elapsed,
                   prorate=rules.prorate_before_year_end)

    @property
    def quarter(self) -> int:
        """1–4: the quarter holding ``as_of``."""
        return quarter_of(self.as_of)

    @property
    def quarter_name(self) -> str:
        """``第三季度``."""
        return QUARTER_NAMES[self.quarter - 1]

    @property
    def quarter_start(self) -> dt.date:
        """The first day of the quarter holding ``as_of``."""
        return dt.date(self.year, 3 * self.quarter - 2, 1)

    @property
    def final(self) -> bool:
        """The whole year is counted (``as_of`` is 31 December or later)."""
        return self.as_of >= year_end(self.year)

    @property
    def months_elapsed(self) -> int:
        """Months of the year the targets count (12 once the year is over)."""
        if self.as_of.year > self.year:
            return 12
        return self.as_of.month if self.as_of_month_elapsed else self.as_of.month - 1

    @property
    def months(self) -> range:
        """The elapsed months, 1-based."""
        return range(1, self.months_elapsed + 1)

    def share(self, annual: Fraction | int) -> Fraction:
        """The elapsed months' share of an annual quantity (the whole at year end)."""
        annual = Fraction(annual)
        if self.final:
            return annual
        return annual * self.months_elapsed / 12

    def prorated(self, annual: Fraction | int) -> Fraction:
        """The points target due by ``as_of``: ``share`` when the rules pro-rate, else the whole."""
        return self.share(annual) if self.prorate else Fraction(annual)

    @property
    def label(self) -> str:
        """``2026年1月至9月`` (``2026年1月`` in January, ``2026年全年`` at year end)."""
        if self.final:
            return f"{self.year}年全年"
        if self.as_of.month > 1:
            return f"{self.year}年1月至{self.as_of.month}月"
        return f"{self.year}年1月"

    @property
    def span_text(self) -> str:
        """``2026年1—9月`` (``2026年1月`` in January), as the reminders write it."""
        m = self.as_of.month
        return f"{self.year}年1—{m}月" if m > 1 else f"{self.year}年1月"

    @property
    def as_of_text(self) -> str:
        """``2026年9月30日``."""
        return date_cn(self.as_of)

    @property
    def title_text(self) -> str:
        """``第三季度``, or ``年度`` at year end (the 通报 and its attachment title)."""
        return "年度" if self.final else self.quarter_name

    def previous_quarter_end(self) -> dt.date | None:
        """The last day of the quarter before the one holding ``as_of``; None in the first quarter."""
        return previous_quarter_end(self.as_of)

    def previous(self) -> Period | None:
        """The period to the previous quarter's end (the rank changes compare with it); None in Q1."""
        end = self.previous_quarter_end()
        if end is None:
            return None
        return Period(self.year, end, self.as_of_month_elapsed, self.prorate)
