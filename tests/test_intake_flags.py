"""What the returns layer makes of odd but readable returns: merged two-row headers, hidden rows and
sheets, formulas without a cached value — each read and flagged on its cell, through the real merge."""

from __future__ import annotations

import datetime as dt

from tests import hostile as H
from zg_excel.merge import merge
from zg_excel.workspace import init_workspace

D = dt.date(2026, 3, 5)


def _merge_one(tmp_path, name, sheets):
    w = tmp_path / "w"
    init_workspace(w)
    H.write_xlsx(str(w / "inbox" / name), sheets)
    return merge(w, year=2026, as_of=dt.date(2026, 9, 30))


def test_two_row_header_with_merged_cells_is_read(tmp_path):
    rows = [["2026年度组工信息录用登记表", None, None, None, None, None],
            ["填报单位：峡窝镇党委", None, None, None, None, None],
            ["稿件标题", "录用情况", None, None, "稿件篇幅", None],
            [None, "录用形式", "媒体名称", "录用日期", "字数", "视频时长（分钟）"],
            ["合并表头的稿件", "采用", "郑州日报", D, 1500, None]]
    merged = ["A1:F1", "A2:F2", "A3:A4", "B3:D3", "E3:F3"]
    result = _merge_one(tmp_path, "峡窝镇党委.xlsx", [H.Sheet("录用登记", rows, merged=merged)])
    [e] = result.events
    assert (e.title, e.form, e.outlet, e.date, e.chars, e.points) == ("合并表头的稿件", "采用", "郑州日报", D, 1500, 15)


def test_hidden_rows_and_sheets_are_read_and_flagged(tmp_path):
    rows = [["录用登记"], ["填报单位：峡窝镇党委"],
            ["稿件标题", "录用形式", "媒体名称", "录用日期", "字数"],
            ["一", "采用", "郑州日报", D, 800],
            ["二（隐藏行）", "采用", "郑州日报", D, 800],
            ["三", "采用", "河南日报", D, 800]]
    result = _merge_one(tmp_path, "峡窝镇党委.xlsx",
                        [H.Sheet("录用登记", rows, hidden_rows={5}, state="hidden")])
    assert [e.title for e in result.events] == ["一", "二（隐藏行）", "三"]
    assert all(e.outcome == "scored" for e in result.events)
    codes = {i.code: i for i in result.issues}
    assert "第5行" in codes["hidden_rows"].message and codes["hidden_rows"].sheet == "录用登记"
    assert "hidden_sheet" in codes


def test_formula_without_cached_value_is_an_error_on_its_cell(tmp_path):
    rows = [["录用登记"], ["填报单位：峡窝镇党委"],
            ["稿件标题", "录用形式", "媒体名称", "录用日期", "字数"],
            ["公式日期", "采用", "郑州日报", H.F("=DATE(2026,3,5)"), 800],
            ["公式有值", "采用", "郑州日报", H.F("=DATE(2026,3,5)", (D - dt.date(1899, 12, 30)).days), 800]]
    result = _merge_one(tmp_path, "峡窝镇党委.xlsx", [H.Sheet("录用登记", rows)])
    first, second = result.events
    assert first.outcome == "invalid" and second.outcome == "scored"
    [issue] = [i for i in result.issues if i.code == "formula_no_value"]
    assert (issue.sheet, issue.row, issue.column, issue.severity) == ("录用登记", 4, "录用日期", "error")
    assert "DATE(2026,3,5)" in issue.message
