"""RULES.md §9: every worked example, scored through the real intake → scoring → tally path."""

import pytest

from tests.factory import F, book, ev, score

TOWN = "峡窝镇党委"          # 镇街
OTHER = "区直机关工委"        # 其他党工委
SECTION = "信息调研科"        # 科室

EXAMPLES = [
    # (#, unit, rows, expected points of the last row, expected outcome, credit section, credit)
    (1, TOWN, [ev("一", "采用", "上街区党建网", 字数=800)], "1", "scored", None, None),
    (2, TOWN, [ev("二", "采用", "郑州日报", 字数="1200字")], "15", "scored", None, None),
    (3, OTHER, [ev("三", "采用", "河南电视台", **{"视频时长（分钟）": "1分30秒"})], "30", "scored", None, None),
    (4, TOWN, [ev("四", "综合", "《河南组工信息》", 字数=3000)], "5", "scored", None, None),
    (5, TOWN, [ev("五", "采用", "《郑州组工通讯》", 字数=900, 经对口处室="干部科")], "5", "scored", "干部科", "1"),
    (6, TOWN, [ev("五", "采用", "《郑州组工通讯》", 字数=900, 经对口处室="干部科"),
               ev("五", "批示", None, 媒体级别="市级")], "10", "scored", None, None),
    (7, TOWN, [ev("五", "采用", "《郑州组工通讯》", 字数=900, 经对口处室="干部科"),
               ev("五", "批示", None, 媒体级别="市级"),
               ev("五", "批示", None, date="2026-03-09", 媒体级别="市")], "0", "duplicate", None, None),
    (8, SECTION, [ev("八", "采用", "人民日报", 字数=1000)], "30", "scored", None, None),
    (9, OTHER, [ev("九", "采用", "中组部《组工信息》", 字数=2000, 经对口处室="组织科",
                   严重失实或政治性问题="是")], "-90", "scored", "组织科", "-18"),
    (10, TOWN, [ev("十", "综合", "上街组工动态")], "0.5", "scored", None, None),
    (11, TOWN, [ev("十一", "采用", "人民网")], "0", "unknown_outlet", None, None),
    (12, TOWN, [ev("十二", "采用", "新华社", 是否组织工作="否")], "0", "not_org_work", None, None),
]


@pytest.mark.parametrize("n,unit,rows,points,outcome,section,credit", EXAMPLES, ids=[f"ex{e[0]}" for e in EXAMPLES])
def test_worked_example(n, unit, rows, points, outcome, section, credit):
    result = score({f"{unit}.xlsx": book(unit, rows)})
    last = result.events[-1]
    assert last.outcome == outcome
    assert last.points == F(points)
    assert last.explanation  # every row explains itself
    if section:
        assert result.unit(section).credit == F(credit)
        assert last.credit == F(credit)
    # the unit's own points are the sum of its rows, exactly
    assert result.unit(unit).points == sum((e.points for e in result.events if e.outcome == "scored"), F(0))


def test_example_explanations_read_like_the_rule():
    result = score({"a.xlsx": book(TOWN, [ev("二", "采用", "郑州日报", 字数="1200字")])})
    assert result.events[0].explanation == "市级采用 5分 ×3(超1000字) = 15"
    result = score({"a.xlsx": book(OTHER, [ev("九", "采用", "中组部《组工信息》", 字数=2000, 严重失实或政治性问题="是")])})
    assert result.events[0].explanation.endswith("倒扣 → -90")


def test_unknown_outlet_suggests_catalog_names_and_is_an_error():
    result = score({"a.xlsx": book(TOWN, [ev("x", "采用", "人民网")])})
    assert result.rows["unknown_outlet"] == 1
    [issue] = [i for i in result.issues if i.code == "unknown_outlet"]
    assert issue.severity == "error" and issue.row == 4 and issue.column == "媒体名称"
    assert issue.value == "人民网" and "最接近" in issue.message


def test_competition_ranks_share_equal_totals():
    from zg_excel.tally import competition_ranks

    assert competition_ranks([F(5), F(9), F(9), F("0.5"), F(5)]) == [3, 1, 1, 5, 3]
    assert competition_ranks([]) == []
