"""Cross-unit claims: the same article in the returns of two or more units (a warning, scores unchanged)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import time
from fractions import Fraction


from tests.factory import book, ev, score
from zg_excel.claims import CODE, WINDOW, find_claims
from zg_excel.rules import load_rules
from zg_excel.issues import WARNING
from zg_excel.model import SCORED, EventRow, Return, Source

A, B, C = "峡窝镇党委", "济源路街道党工委", "区直机关工委"
TITLE = "峡窝镇：“三个一”工作法激活基层治理末梢"


def claims_of(files, rules=None, **kw):
    result = score(files, rules=rules, **kw)
    points = [(e.source, e.outcome, e.points) for e in result.events]
    found = find_claims(result.returns, result.rules)
    assert [(e.source, e.outcome, e.points) for e in result.events] == points  # scores untouched
    return found, result


def test_same_title_outlet_date_in_two_units_is_one_warning_listing_both():
    found, result = claims_of({
        "a.xlsx": book(A, [ev(TITLE, "采用", "郑州日报"), ev("别的稿件", "采用", "郑州日报")]),
        # spaces, quotes and full-width forms do not hide the same title
        "b.xlsx": book(B, [ev("其他", "采用", "上街时讯"), ev(" 峡窝镇:三个一 工作法激活基层治理末梢", "采用", "郑州日报")]),
    })
    assert len(found) == 1
    issue = found[0]
    assert issue.code == CODE and issue.severity == WARNING
    assert (issue.file, issue.sheet, issue.row, issue.unit) == ("a.xlsx", "录用登记", 4, A)
    for part in (A, B, "a.xlsx", "b.xlsx", "第4行", "第5行", "郑州日报", "2026-03-05"):
        assert part in issue.message, part
    assert "分值未自动调整" in issue.message and issue.fix
    assert all(e.outcome == SCORED for e in result.events)


def test_near_identical_titles_are_matched_fuzzily():
    found, _ = claims_of({
        "a.xlsx": book(A, [ev("上街区创新推行“党员积分制”管理激发党员队伍活力", "采用", "河南日报")]),
        "b.xlsx": book(B, [ev("上街区创新推行党员积分制管理 激发党员队伍新活力", "采用", "河南日报")]),
        "c.xlsx": book(C, [ev("上街区召开2026年度基层党建述职评议会", "采用", "河南日报")]),
    })
    assert len(found) == 1
    assert A in found[0].message and B in found[0].message and C not in found[0].message


def test_threshold_comes_from_the_rules():
    files = {
        "a.xlsx": book(A, [ev("上街区推进党建引领基层治理工作", "采用", "河南日报")]),
        "b.xlsx": book(B, [ev("上街区推进党建引领基层治理", "采用", "河南日报")]),
    }
    rules = load_rules()
    strict = dataclasses.replace(rules, title_similarity=100.0)
    loose = dataclasses.replace(rules, title_similarity=80.0)
    assert claims_of(files, rules=strict)[0] == []
    assert len(claims_of(files, rules=loose)[0]) == 1


def test_other_date_or_outlet_is_another_article_when_outlet_is_required():
    found, _ = claims_of({
        "a.xlsx": book(A, [ev(TITLE, "采用", "郑州日报", date="2026-03-05"),
                           ev(TITLE, "采用", "河南日报", date="2026-03-05")]),
        "b.xlsx": book(B, [ev(TITLE, "采用", "郑州日报", date="2026-03-06"),
                           ev(TITLE, "采用", "大河报", date="2026-03-05")]),
    })
    assert found == []


def test_without_outlet_required_the_title_alone_decides():
    rules = dataclasses.replace(load_rules(), same_outlet_required=False)
    found, _ = claims_of({
        "a.xlsx": book(A, [ev(TITLE, "采用", "郑州日报", date="2026-03-05")]),
        "b.xlsx": book(B, [ev(TITLE + "！", "采用", "河南日报", date="2026-04-09")]),
    }, rules=rules)
    assert len(found) == 1 and A in found[0].message and B in found[0].message


def test_three_units_make_one_group():
    found, _ = claims_of({
        "a.xlsx": book(A, [ev(TITLE, "采用", "郑州日报")]),
        "b.xlsx": book(B, [ev(TITLE, "采用", "郑州日报")]),
        "c.xlsx": book(C, [ev(TITLE, "采用", "郑州日报")]),
    })
    assert len(found) == 1 and "被3个单位填报" in found[0].message


def test_one_unit_in_two_files_is_not_a_claim():
    found, _ = claims_of({
        "a-3月.xlsx": book(A, [ev(TITLE, "采用", "郑州日报")]),
        "a-4月.xlsx": book(A, [ev("另一篇", "采用", "郑州日报", date="2026-04-02"),
                              ev(TITLE + "。", "采用", "郑州日报")]),
    })
    assert found == []


def test_only_rows_that_count_are_claims():
    found, result = claims_of({
        "a.xlsx": book(A, [ev(TITLE, "采用", "郑州日报", date="2025-03-05"),  # out of period
                           ev(TITLE, "采用", "郑州日报", date="2026-13-05"),  # invalid
                           ev(TITLE, "采用", "郑州日刊")]),  # unknown outlet
        "b.xlsx": book(B, [ev(TITLE, "采用", "郑州日报", date="2025-03-05"),
                           ev(TITLE, "采用", "郑州日报", date="2026-13-05"),
                           ev(TITLE, "采用", "郑州日刊")]),
    })
    assert {e.outcome for e in result.events} == {"out_of_period", "invalid", "unknown_outlet"}
    assert found == []


def test_not_org_work_rows_count_as_claims():
    found, _ = claims_of({
        "a.xlsx": book(A, [ev(TITLE, "采用", "郑州日报", 是否组织工作="否")]),
        "b.xlsx": book(B, [ev(TITLE, "采用", "郑州日报")]),
    })
    assert len(found) == 1


def test_superseded_files_do_not_count():
    old = dt.datetime(2026, 4, 1)
    new = dt.datetime(2026, 5, 1)
    found, result = claims_of({
        # a resend (half of the old rows are in the new file) that corrected one title
        "a-旧.xlsx": book(A, [ev(TITLE, "采用", "郑州日报"), ev("另一篇", "采用", "河南日报")], saved=old),
        "a-新.xlsx": book(A, [ev("改正后的标题完全不同", "采用", "郑州日报"), ev("另一篇", "采用", "河南日报")],
                         saved=new),
        "b.xlsx": book(B, [ev(TITLE, "采用", "郑州日报")]),
    })
    assert [r.relpath for r in result.returns if r.superseded_by] == ["a-旧.xlsx"]
    assert found == []


def test_a_digest_shared_by_units_is_normal_but_not_with_an_adoption():
    shared = {
        "a.xlsx": book(A, [ev("郑州市各区县推进基层党建工作综述", "综合", "郑州日报")]),
        "b.xlsx": book(B, [ev("郑州市各区县推进基层党建工作综述", "综合", "郑州日报")]),
    }
    assert claims_of(shared)[0] == []
    shared["c.xlsx"] = book(C, [ev("郑州市各区县推进基层党建工作综述", "采用", "郑州日报")])
    found = claims_of(shared)[0]
    assert len(found) == 1 and all(u in found[0].message for u in (A, B, C))


def test_endorsements_of_one_manuscript_by_two_units():
    found, _ = claims_of({
        "a.xlsx": book(A, [ev(TITLE, "批示", None, 媒体级别="市级")]),
        "b.xlsx": book(B, [ev(TITLE, "批示", None, 媒体级别="市级")]),
    })
    assert len(found) == 1


# ------------------------------------------------------------------ complexity

def _synthetic(n_units: int, rows_per_unit: int, seed: int = 7, n_outlets: int = 24,
               days: int = 300) -> list[Return]:
    """Returns of ``n_units`` units: outlets and dates at random, titles distinct."""
    rng = random.Random(seed)
    outlets = [f"媒体{i}" for i in range(n_outlets)]
    verbs = ["召开", "推进", "深化", "开展", "举办", "部署", "落实", "强化"]
    topics = ["基层党建工作会议", "党员教育培训", "干部队伍建设", "人才引进工作", "党建引领基层治理"]
    out = []
    for u in range(n_units):
        unit = f"单位{u}"
        r = Return(path=f"/x/{unit}.xlsx", relpath=f"{unit}.xlsx", unit=unit)
        for k in range(rows_per_unit):
            d = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(days))
            title = f"{unit}{rng.choice(verbs)}{rng.choice(topics)}第{k}期"
            r.events.append(EventRow.at(Source(r.relpath, "录用登记", k + 4), unit=unit, title=title,
                                     form="采用", outlet=rng.choice(outlets), outlet_level="市级", date=d,
                                     outcome=SCORED, points=Fraction(5)))
        out.append(r)
    return out


def test_rows_are_compared_within_blocks_not_all_pairs(monkeypatch):
    import rapidfuzz.process

    calls = {"queries": 0, "pairs": 0}
    real = rapidfuzz.process.extract

    def counting(query, choices, **kw):
        calls["queries"] += 1
        calls["pairs"] += len(choices)
        return real(query, choices, **kw)

    monkeypatch.setattr(rapidfuzz.process, "extract", counting)
    rules = load_rules()
    per_row = []
    for units in (100, 500):
        calls.update(queries=0, pairs=0)
        returns = _synthetic(units, 40)
        find_claims(returns, rules)
        n = units * 40
        assert calls["pairs"] < n * n / 200  # far from all pairs (n²/2)
        assert calls["pairs"] <= 2 * WINDOW * n
        per_row.append(calls["queries"] / n)
    assert all(q <= 1 for q in per_row)  # at most one rapidfuzz call per row


def test_one_huge_block_stays_bounded():
    """Thousands of rows of one outlet on one day (not seen in real data) still finish quickly."""
    rules = load_rules()
    rows = []
    r = Return(path="/x/a.xlsx", relpath="a.xlsx", unit="甲")
    for k in range(6000):
        r.events.append(EventRow.at(Source("a.xlsx", "录用登记", k + 4), unit=f"单位{k % 50}",
                                 title=f"标题{k:05d}号稿件关于党建工作的报道{k * 7919 % 10007}", form="采用",
                                 outlet="郑州日报", date=dt.date(2026, 3, 5), outcome=SCORED))
    rows.append(r)
    start = time.perf_counter()
    find_claims(rows, rules)
    assert time.perf_counter() - start < 10


def test_near_identical_titles_in_a_crowded_block_are_still_found():
    """Beyond ALL_PAIRS titles a block is compared by sorted neighbours; near-duplicates sort together."""
    words = "春夏秋冬东南西北山水林田湖草沙星月云雷风雨雪霜露金木火土日天地人和"
    rng = random.Random(3)
    filler = [ev("".join(rng.sample(words, 10)), "采用", "上街区党建网") for _ in range(40)]
    found, _ = claims_of({
        "a.xlsx": book(A, filler[:20] + [ev("上街区创新推行党员积分制管理激发党员队伍活力", "采用", "上街区党建网")]),
        "b.xlsx": book(B, filler[20:] + [ev("上街区创新推行党员积分制管理激发党员队伍新活力", "采用", "上街区党建网")]),
    })
    assert len(found) == 1 and "积分制" in found[0].message


def test_time_per_row_does_not_grow_with_more_files():
    """5× more files (of as many rows each) take about 5× the time, not 25×."""
    rules = load_rules()

    def per_row(units: int) -> float:
        # crowded like the benchmark's workloads: about 20 and 100 rows per outlet and day
        returns = _synthetic(units, 30, n_outlets=3, days=50)
        best = float("inf")
        for _ in range(5):  # CPU time, best of 5: other processes on the machine do not count
            start = time.process_time()
            find_claims(returns, rules)
            best = min(best, time.process_time() - start)
        return best / (units * 30)

    small, large = per_row(100), per_row(500)
    assert large <= 1.6 * small, (small, large)
