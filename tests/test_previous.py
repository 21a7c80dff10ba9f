"""The previous period's standings, recomputed from the current run's rows."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from tests.factory import YEAR, book, ev, score
from zg_excel.period import previous_quarter_end
from zg_excel.previous import Previous, previous_standings


def sub(title, date, dest="区委组织部", **kw):
    rec = {"报送日期": date, "稿件标题": title, "报送对象": dest}
    rec.update(kw)
    return rec


@pytest.mark.parametrize("as_of, end", [
    ("2026-01-31", None), ("2026-03-31", None), ("2026-04-01", "2026-03-31"), ("2026-06-30", "2026-03-31"),
    ("2026-07-15", "2026-06-30"), ("2026-09-30", "2026-06-30"), ("2026-12-31", "2026-09-30"),
])
def test_previous_quarter_end(as_of, end):
    got = previous_quarter_end(dt.date.fromisoformat(as_of))
    assert got == (dt.date.fromisoformat(end) if end else None)


def test_none_in_the_first_quarter():
    result = score({"a.xlsx": book("峡窝镇党委", [ev("稿一", "采用", "郑州日报", "2026-02-03")])},
                   as_of=dt.date(YEAR, 3, 31))
    assert previous_standings(result) is None


def _books():
    return {
        "峡窝.xlsx": book("峡窝镇党委", [
            ev("一季度稿", "采用", "郑州日报", "2026-02-03"),                 # 5
            ev("二季度稿", "采用", "河南日报", "2026-05-10", 经对口处室="干部科"),  # 10, 干部科 +2
            ev("三季度稿", "采用", "人民日报", "2026-08-01"),                 # 30, after June
        ], [sub("报一", "2026-01-05"), sub("报二", "2026-06-30"), sub("报三", "2026-07-01")]),
        "济源.xlsx": book("济源路街道党工委", [
            ev("济一", "采用", "郑州日报", "2026-03-01"),                     # 5
            ev("济二", "综合", "河南日报", "2026-06-30", 经对口处室="组织科"),   # 5, 组织科 +1
        ]),
        "中心.xlsx": book("中心路街道党工委", [
            ev("中一", "采用", "河南日报", "2026-04-01"),                     # 10
            ev("中二", "采用", "河南日报", "2026-09-01"),                     # 10
            ev("中三", "采用", "河南日报", "2026-06-15", 是否组织工作="否"),     # not scored
        ]),
        "新安.xlsx": book("新安路街道党工委", [
            ev("新一", "采用", "郑州日报", "2026-03-01"),                     # 5
            ev("新二", "采用", "郑州日报", "2026-03-02"),                     # 5
            ev("新三", "采用", "郑州日报", "2026-07-02", 严重失实或政治性问题="是"),  # -5 after June
        ]),
    }


def test_previous_equals_a_run_at_the_previous_quarter_end():
    """Recomputed from a September run, June's standings are those of a June run of the same files."""
    now = score(_books(), as_of=dt.date(YEAR, 9, 30))
    then = score(_books(), as_of=dt.date(YEAR, 6, 30))
    prev = previous_standings(now)
    assert isinstance(prev, Previous)
    assert prev.as_of == dt.date(YEAR, 6, 30) and prev.quarter == 2
    assert prev.label == "2026年1月至6月" and prev.as_of_text == "2026年6月30日"
    assert list(prev.units) == [t.unit for t in now.units]  # roster order
    for t in then.units:
        p = prev.get(t.unit)
        assert (p.points, p.credit, p.total, p.rank) == (t.points, t.credit, t.total, t.rank), t.unit
        assert p.submissions == t.submissions_year, t.unit
        assert p.prorated_target == t.prorated_target
        assert p.events_scored == sum(t.adoptions_by_level.values())
        assert p.on_track == (t.returned and not t.behind_prorated)
    assert prev.points_total == sum((t.points for t in then.units), Fraction(0))
    assert prev.units_on_track == [t.unit for t in then.units if t.returned and not t.behind_prorated]


def test_values_of_the_worked_books():
    prev = previous_standings(score(_books(), as_of=dt.date(YEAR, 9, 30)))
    assert prev.get("峡窝镇党委").points == 15
    assert prev.get("干部科").credit == 2 and prev.get("组织科").credit == 1
    assert prev.get("济源路街道党工委").total == 10
    assert prev.get("中心路街道党工委").total == 10
    assert prev.get("新安路街道党工委").total == 10
    assert prev.get("峡窝镇党委").submissions == 2
    # Competition ranking within the category: 15 first, three units tied at 10 share second place.
    ranks = {u: prev.get(u).rank for u in ("峡窝镇党委", "济源路街道党工委", "中心路街道党工委", "新安路街道党工委",
                                            "工业路街道党工委", "矿山街道党工委")}
    assert ranks == {"峡窝镇党委": 1, "济源路街道党工委": 2, "中心路街道党工委": 2, "新安路街道党工委": 2,
                     "工业路街道党工委": 5, "矿山街道党工委": 5}


def test_rank_change_and_points_added():
    now = score(_books(), as_of=dt.date(YEAR, 9, 30))
    prev = previous_standings(now)
    xw = now.unit("峡窝镇党委")
    zx = now.unit("中心路街道党工委")
    xa = now.unit("新安路街道党工委")
    assert (xw.rank, zx.rank, xa.rank) == (1, 2, 4)
    assert prev.rank_change(xw) == 0
    assert prev.rank_change(zx) == 0  # 2nd (tied) → 2nd
    assert prev.rank_change(xa) == -2  # 2nd (tied) → 4th
    assert prev.added(xw) == 30 and prev.added(xa) == -5


def test_superseded_rows_do_not_count():
    """A file replaced by a newer one of the same unit counts neither now nor then."""
    old = book("峡窝镇党委", [ev("旧稿", "采用", "郑州日报", "2026-02-03")], saved=dt.datetime(2026, 3, 1))
    new = book("峡窝镇党委", [ev("旧稿", "采用", "河南日报", "2026-02-04")], saved=dt.datetime(2026, 4, 1))  # a resend
    now = score({"a.xlsx": old, "b.xlsx": new}, as_of=dt.date(YEAR, 9, 30))
    prev = previous_standings(now)
    assert now.unit("峡窝镇党委").points == 10
    assert prev.get("峡窝镇党委").points == 10


def test_sample_previous_period(sample_result):
    prev = previous_standings(sample_result)
    assert prev is not None and prev.label == "2026年1月至6月"
    for t in sample_result.units:
        p = prev.get(t.unit)
        assert p.total <= t.total or any(e.points < 0 for r in sample_result.returns for e in r.events)
        assert p.submissions <= t.submissions_year
        assert 1 <= p.rank <= sum(1 for u in sample_result.units if u.category == t.category)
    assert not prev.get("矿山街道党工委").on_track
