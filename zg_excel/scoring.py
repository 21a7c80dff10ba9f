"""One event → its outcome, points and a sentence a person can check by hand.

Everything comes from the rules data (points per level and form, the multiplier for long
texts and videos, the deduction for serious errors); arithmetic is exact
(``Fraction``); the explanation spells out the rule that fired, e.g.
``市级采用 5分 ×3(超1000字) = 15``. Points become text only through
``text.points_text``.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from .issues import WARNING, Issue
from .model import (
    DUPLICATE,
    INVALID,
    NOT_ORG_WORK,
    OUT_OF_PERIOD,
    SCORED,
    SUPERSEDED,
    UNKNOWN_OUTLET,
    EventRow,
)
from .rules import Rules
from .text import points_text

ENDORSEMENT = "批示"
_ZERO = Fraction(0)  # one object for the many rows that score nothing (a city has 500,000 rows)
_ONE = Fraction(1)


def _multiplier(ev: EventRow, rules: Rules) -> tuple[Fraction, str]:
    if ev.form not in rules.multiplier_forms:
        return _ONE, ""
    if ev.chars is not None and ev.chars > rules.text_chars_over:
        return rules.multiplier_factor, f" ×{points_text(rules.multiplier_factor)}(超{rules.text_chars_over}字)"
    if ev.minutes is not None and ev.minutes > rules.video_minutes_over:
        return rules.multiplier_factor, f" ×{points_text(rules.multiplier_factor)}(超{points_text(rules.video_minutes_over)}分钟)"
    return _ONE, ""


def score_event(ev: EventRow, rules: Rules, *, year: int, as_of: dt.date) -> list[Issue]:
    """Give a row that is neither superseded, invalid nor duplicate its outcome and points.

    Order of outcomes (each row ends in exactly one): superseded → invalid →
    duplicate (decided before) → unknown outlet → out of period → not
    organisation work → scored (possibly 0 or negative).
    """
    issues: list[Issue] = []
    def warn(code: str, message: str, column: str = "", value: str = "", action: str = "") -> None:
        issues.append(Issue(WARNING, code, message, file=ev.where[0], sheet=ev.where[1], row=ev.line,
                            column=column, value=value, action=action, unit=ev.unit))

    ev.points = _ZERO
    if ev.outcome in (SUPERSEDED, DUPLICATE):
        return issues
    if ev.invalid:
        ev.outcome = INVALID
        ev.explanation = "填写有误，未计分（见问题清单）"
        return issues

    # The level that scores: the leader's for an endorsement, else the catalog's.
    if ev.form == ENDORSEMENT:
        level = ev.declared_level
        level_note = ""
    elif ev.outlet is not None:
        level = ev.outlet_level
        level_note = ""
        if ev.declared_level and ev.declared_level != ev.outlet_level:
            warn("level_mismatch", f"填报的媒体级别“{ev.declared_level}”与媒体目录不一致，按目录“{ev.outlet_level}”计分",
                 column="媒体级别", value=ev.declared_level, action="按媒体目录级别计分")
    elif rules.unknown_media == "declared_level" and ev.declared_level:
        level = ev.declared_level
        level_note = f"媒体“{ev.outlet_text}”不在目录中，按填报级别计："
        warn("unknown_outlet_declared", f"媒体“{ev.outlet_text}”不在媒体目录中，按填报的“{level}”计分",
             column="媒体名称", value=ev.outlet_text or "", action="按填报级别计分")
    else:
        ev.outcome = UNKNOWN_OUTLET
        ev.explanation = shared(f"媒体“{ev.outlet_text}”不在媒体目录中，未计分")
        return issues
    ev.level = level

    if ev.date is None or ev.date.year != year or ev.date > as_of:
        ev.outcome = OUT_OF_PERIOD
        when = f"{year}年度" if ev.date is None or ev.date.year != year else f"截止日期{as_of.isoformat()}前"
        ev.explanation = shared(f"录用日期{ev.date.isoformat() if ev.date else ''}不在{when}统计期内，本次不计分")
        return issues

    if not ev.org_work:
        ev.outcome = NOT_ORG_WORK
        ev.points = rules.not_org_work_points
        ev.explanation = f"非组织工作范畴或角度的稿件，计{points_text(ev.points)}分"
        return issues

    assert level is not None and ev.form is not None
    base = rules.points[ev.form][level]
    ev.outcome = SCORED
    if ev.form == ENDORSEMENT:
        ev.multiplier, mult_text = _ONE, ""
        if base == 0:
            warn("district_endorsement", f"{level}批示按考核办法不加分（只对国家、省、市领导批示加分）",
                 column="媒体级别", value=level, action="计0分")
    else:
        ev.multiplier, mult_text = _multiplier(ev, rules)
        if (ev.form == "采用" and level == rules.levels[0] and rules.district_adopters
                and ev.outlet not in rules.district_adopters):
            adopters = "、".join(rules.district_adopters)
            ev.points = _ZERO
            ev.explanation = f"{level}媒体“{ev.outlet}”的采用不计分（{level}只计{adopters}）= 0"
            warn("district_outlet", f"{level}媒体“{ev.outlet}”的采用按考核办法不计分（只计{adopters}）",
                 column="媒体名称", value=ev.outlet_text or "", action="计0分")
            return issues
    # The points and the sentence depend only on these (a few dozen combinations over a
    # city's 500,000 rows): computed once each, then shared by every row that has them.
    key = (id(rules), ev.form, level, level_note, mult_text, ev.serious)
    got = _SCORED.get(key)
    if got is None or got[0] is not rules:
        points = base * ev.multiplier
        text = f"{level_note}{level}{ev.form} {points_text(base)}分{mult_text} = {points_text(points)}"
        if ev.serious:
            if rules.serious_problem == "negate":
                points = -points
                text += f"，严重失实或政治性问题倒扣 → {points_text(points)}"
            else:
                points = _ZERO
                text += "，严重失实或政治性问题不计分 → 0"
        if len(_SCORED) > 10_000:
            _SCORED.clear()
        got = _SCORED[key] = (rules, shared(points), shared(text))  # holding rules keeps its id from reuse
    ev.points, ev.explanation = got[1], got[2]
    return issues


_SCORED: dict[tuple, tuple] = {}
_SHARED: dict = {}


def shared(value):
    """One object per distinct explanation or points value (a handful over 100,000s of rows)."""
    if len(_SHARED) > 10_000:
        _SHARED.clear()
    return _SHARED.setdefault(value, value)


class PerObject:
    """``fn(value)`` worked out once per object: rows share a few Fraction objects (``shared``),
    and an ``id`` lookup is cheaper than hashing a Fraction or redoing its arithmetic per row."""

    __slots__ = ("fn", "seen")

    def __init__(self, fn) -> None:
        self.fn = fn
        self.seen: dict[int, tuple] = {}

    def __call__(self, value):
        got = self.seen.get(id(value))
        if got is None or got[0] is not value:
            got = self.seen[id(value)] = (value, self.fn(value))  # holding the value keeps its id from reuse
        return got[1]


def credit_for(points: Fraction, rules: Rules) -> Fraction:
    """The liaison section's share of a scored row's ``points`` (``rules.credit_fraction``, 1/5 by
    default; negative rows give negative credit unless the rules say otherwise)."""
    if points == 0:
        return _ZERO
    credit = points * rules.credit_fraction
    if credit < 0 and not rules.negative_credit:
        return _ZERO
    return credit
