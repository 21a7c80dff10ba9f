"""What the views share: district totals, the previous period, the period texts of a ``Result``.

The summary workbook, the 通报, the 退回单 and the 催报 all render one ``Result``;
the figures more than one of them shows are computed here once (``overview``),
so that the workbook and the 通报 always agree. Period arithmetic and labels
themselves belong to ``zg_excel.period`` (``result.period``); text conventions
to ``zg_excel.text``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING

from ..text import month_cn

if TYPE_CHECKING:
    from ..previous import Previous
    from ..result import Result


def period_label(result: Result) -> str:
    """``2026年1月至9月`` (or ``2026年全年`` at year end)."""
    return result.period.label


def month_counts(t, months) -> str:
    """``5月1条``, ``2月1条、7月1条``: each month of a unit tally with its count (as in 月度报送)."""
    return "、".join(f"{month_cn(m)}{t.submissions_by_month.get(m, 0)}条" for m in months)


def previous_of(result: Result) -> Previous | None:
    """The previous period's standings (``zg_excel.previous.Previous``) when the merge set them."""
    return getattr(result, "previous", None)


def levels_high_first(result: Result) -> list[str]:
    return list(reversed(result.rules.levels))


@dataclass(frozen=True)
class Overview:
    """The district-wide figures the 图表 sheet and the 通报's 总体情况 both show."""

    units_total: int
    units_returned: int
    not_returned: list[str]
    submissions_total: int
    events_scored: int  # scored rows with points > 0, as the ranking's 录用 columns
    by_level: dict[str, int]  # highest level first
    by_category_level: dict[str, dict[str, int]]
    points_total: Fraction  # the units' own points (credit is a share of them: not added)
    credit_total: Fraction
    units_on_track: list[str]
    monthly_by_category: dict[str, dict[int, int]]
    previous: Previous | None = None
    prev_submissions_total: int | None = None
    prev_events_scored: int | None = None
    prev_points_total: Fraction | None = None
    prev_credit_total: Fraction | None = None
    prev_units_on_track: list[str] = field(default_factory=list)


def overview(result: Result) -> Overview:
    """Sums of the units' tallies; the one place the 通报 and the workbook take them from."""
    units = result.units
    levels = levels_high_first(result)
    by_cat_level: dict[str, dict[str, int]] = {}
    monthly: dict[str, dict[int, int]] = {}
    for cat in result.rules.categories:
        group = [t for t in units if t.category == cat]
        if not group:
            continue
        by_cat_level[cat] = {lv: sum(t.adoptions_by_level.get(lv, 0) for t in group) for lv in levels}
        monthly[cat] = {m: sum(t.submissions_by_month.get(m, 0) for t in group)
                        for m in result.period.months}
    by_level = {lv: sum(c[lv] for c in by_cat_level.values()) for lv in levels}
    prev = previous_of(result)
    extra = {}
    if prev is not None:
        extra = dict(previous=prev, prev_submissions_total=prev.submissions_total,
                     prev_events_scored=prev.events_scored, prev_points_total=prev.points_total,
                     prev_credit_total=sum((u.credit for u in prev.units.values()), Fraction(0)),
                     prev_units_on_track=list(prev.units_on_track))
    return Overview(
        units_total=len(units),
        units_returned=sum(1 for t in units if t.returned),
        not_returned=[t.unit for t in units if not t.returned],
        submissions_total=sum(t.submissions_year for t in units),
        events_scored=sum(by_level.values()),
        by_level=by_level,
        by_category_level=by_cat_level,
        points_total=sum((t.points for t in units), Fraction(0)),
        credit_total=sum((t.credit for t in units), Fraction(0)),
        units_on_track=[t.unit for t in units if t.returned and not t.behind_prorated],
        monthly_by_category=monthly,
        **extra,
    )
