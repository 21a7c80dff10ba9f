"""The assessment period of one merge: year, as-of date, quarter, months elapsed, labels, pro-rating.

Every piece of quarter and month arithmetic lives here; ``Result.period`` gives
the outputs one ``Period`` so that none of them recomputes it. The rule:
only complete months are judged (a month is complete when the as-of date is on
or after its last day; :attr:`Period.months_elapsed`); the as-of month, when the
as-of date falls inside it, is in progress (:attr:`Period.in_progress_month`),
unless the rules' ``period.judge_incomplete_month`` judges it too. The as-of
date defaults to the last day of the last complete month (:func:`default_as_of`);
an as-of date after the year is that year's year-end run, one before it is
refused (:func:`resolve_period`, :class:`PeriodError`).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from .text import date_span_cn

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


def current_date() -> dt.date:
    """Today (one place, so that tests can set the day a run happens)."""
    return dt.date.today()


class PeriodError(ValueError):
    """An as-of date or year that cannot make a period (a usage error: the CLI exits 2)."""


def month_end(year: int, month: int) -> dt.date:
    """The last day of ``month`` of ``year``."""
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def is_month_end(d: dt.date) -> bool:
    return d == month_end(d.year, d.month)


def is_quarter_end(d: dt.date) -> bool:
    return d.month % 3 == 0 and is_month_end(d)


def default_as_of(today: dt.date) -> dt.date:
    """The last day of the last complete month before ``today`` (``today`` itself on a month's last day)."""
    if is_month_end(today):
        return today
    return today.replace(day=1) - dt.timedelta(days=1)


def resolve_period(year: int | None, as_of: dt.date | None, today: dt.date | None = None) -> tuple[int, dt.date]:
    """Year and as-of date of a run.

    The as-of date defaults to :func:`default_as_of`; the year (the working
    folder's, when the caller knows it) to the as-of date's. An as-of date after
    the year's 31 December is capped there (the year-end run of that year, never
    the next year); one before the year raises :class:`PeriodError`.
    """
    today = today or current_date()
    if as_of is None:
        as_of = default_as_of(today)
    if year is None:
        year = as_of.year
    if as_of < dt.date(year, 1, 1):
        raise PeriodError(f"统计截止日期 {as_of.isoformat()} 早于考核年度{year}年，"
                          f"请给出{year}年内的截止日期（如 --as-of {year}-09-30）")
    return year, min(as_of, year_end(year))


def previous_quarter_end(as_of: dt.date) -> dt.date | None:
    """The last day of the quarter before the one holding ``as_of``; None in the first quarter."""
    q = quarter_of(as_of)
    return None if q == 1 else quarter_end(as_of.year, q - 1)


@dataclass(frozen=True)
class Period:
    """The period a merge counts: 1 January of ``year`` to ``as_of``.

    ``judge_incomplete_month`` (``period.judge_incomplete_month``) and
    ``prorate`` (``targets.prorate_before_year_end``) are the rules' switches
    (:meth:`of` reads them).
    """

    year: int
    as_of: dt.date
    judge_incomplete_month: bool = False
    prorate: bool = True

    @classmethod
    def of(cls, year: int, as_of: dt.date, rules: Rules) -> Period:
        return cls(year=year, as_of=as_of, judge_incomplete_month=rules.judge_incomplete_month,
                   prorate=rules.prorate_before_year_end)

    @property
    def quarter(self) -> int:
        """1–4: the quarter holding ``as_of``."""
        return quarter_of(min(self.as_of, year_end(self.year)))

    @property
    def quarter_name(self) -> str:
        """``第三季度``."""
        return QUARTER_NAMES[self.quarter - 1]

    @property
    def quarter_start(self) -> dt.date:
        """The first day of the quarter holding ``as_of``."""
        return dt.date(self.year, 3 * self.quarter - 2, 1)

    @property
    def at_quarter_end(self) -> bool:
        """``as_of`` is a quarter's last day (or the year is over): the run may be called 第N季度."""
        return self.final or is_quarter_end(self.as_of)

    @property
    def final(self) -> bool:
        """The whole year is counted (``as_of`` is 31 December or later)."""
        return self.as_of >= year_end(self.year)

    @property
    def last_month(self) -> int:
        """The last month the period reaches into (the as-of month; 12 once the year is over)."""
        return 12 if self.as_of.year > self.year else self.as_of.month

    @property
    def complete_months(self) -> int:
        """Months of the year whose last day is on or before ``as_of``."""
        m = self.last_month
        return m if self.final or is_month_end(self.as_of) else m - 1

    @property
    def in_progress_month(self) -> int | None:
        """The as-of month when ``as_of`` falls inside it and it is not judged (shown as 进行中); else None."""
        if self.judge_incomplete_month or self.complete_months == self.last_month:
            return None
        return self.last_month

    @property
    def months_elapsed(self) -> int:
        """Months judged and pro-rated: the complete months (plus the as-of month when the rules judge it)."""
        return self.last_month if self.judge_incomplete_month else self.complete_months

    @property
    def months(self) -> range:
        """The judged months, 1-based (the in-progress month is not among them)."""
        return range(1, self.months_elapsed + 1)

    def share(self, annual: Fraction | int) -> Fraction:
        """The judged months' share of an annual quantity (the whole at year end)."""
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
        m = self.last_month
        return f"{self.year}年1—{m}月" if m > 1 else f"{self.year}年1月"

    @property
    def title_text(self) -> str:
        """What the 通报 calls the run after ``2026年``: ``年度`` at year end, ``第三季度`` on a quarter's
        last day, otherwise the months (``1月至10月``)."""
        if self.final:
            return "年度"
        if self.at_quarter_end:
            return self.quarter_name
        return self.label[len(f"{self.year}年"):]

    @property
    def heading(self) -> str:
        """``2026年第三季度``, ``2026年1月至10月`` or ``2026年度`` (titles that start with the year)."""
        return f"{self.year}{self.title_text}" if self.final else f"{self.year}年{self.title_text}"

    @property
    def quarter_text(self) -> str:
        """The quarter holding ``as_of`` as far as it goes: ``第三季度``, or ``第四季度（10月1日至10月31日）``
        before the quarter's last day (the 台帐 covers the quarter so far)."""
        if self.at_quarter_end:
            return self.quarter_name
        return f"{self.quarter_name}（{self.quarter_span_text}）"

    @property
    def quarter_span_text(self) -> str:
        """The quarter holding ``as_of`` from its first day to ``as_of``: ``7月1日至9月30日``."""
        return date_span_cn(self.quarter_start, min(self.as_of, year_end(self.year)))

    @property
    def quarter_heading(self) -> str:
        """``2026年第三季度`` (``2026年第四季度（10月1日至10月31日）`` before its end): the 台帐's label."""
        return f"{self.year}年{self.quarter_text}"

    def previous_quarter_end(self) -> dt.date | None:
        """The last day of the quarter before the one holding ``as_of``; None in the first quarter."""
        return previous_quarter_end(min(self.as_of, year_end(self.year)))

    def previous(self) -> Period | None:
        """The period to the previous quarter's end (the rank changes compare with it); None in Q1."""
        end = self.previous_quarter_end()
        if end is None:
            return None
        return Period(self.year, end, self.judge_incomplete_month, self.prorate)
