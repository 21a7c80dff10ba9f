"""Property: for any mix of returns, every non-blank data row ends in exactly one outcome.

Returns get random blank rows, moved columns, junk cells and duplicate rows;
``rows.read`` must equal both the sum of the outcomes and the number of
non-blank rows under the headers, and every file must be listed.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factory import YEAR, score
from zg_excel.intake.raw import FileFailure, RawBook, RawSheet
from zg_excel.model import OUTCOMES
from zg_excel.schema import EVENT_SHEET, META_SHEET, SUBMISSION_SHEET

UNITS = ["峡窝镇党委", "区直机关工委", "组织科", "干部科"]
junk = st.one_of(
    st.none(), st.just(""), st.just("   "), st.text(max_size=8),
    st.integers(-5, 3_000_000), st.floats(allow_nan=True, allow_infinity=True),
    st.dates(dt.date(2024, 1, 1), dt.date(2027, 12, 31)), st.booleans(),
    st.sampled_from(["采用", "综合", "批示", "郑州日报", "人民网", "2026.13.5", "1200字", "是", "否", "市级",
                     "干部科", "区委组织部", "=1+1", "1分30秒"]),
)
good_event = st.fixed_dictionaries({
    "稿件标题": st.sampled_from(["甲", "乙", "丙", "《丁》"]),
    "录用形式": st.sampled_from(["采用", "综合", "批示"]),
    "媒体名称": st.sampled_from(["郑州日报", "上街区党建网", "《河南组工信息》", "人民网", None]),
    "媒体级别": st.sampled_from([None, "市级", "省级"]),
    "录用日期": st.dates(dt.date(YEAR - 1, 11, 1), dt.date(YEAR, 12, 31)),
    "字数": st.sampled_from([None, 800, 1000, 1001, "1200字"]),
    "经对口处室": st.sampled_from([None, "干部科", "组织科", "不存在科"]),
    "是否组织工作": st.sampled_from([None, "是", "否"]),
})


def is_blank(row) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


@st.composite
def returns(draw):
    files: dict[str, RawBook | FileFailure] = {}
    expected = 0
    for i in range(draw(st.integers(1, 5))):
        unit = draw(st.sampled_from(UNITS))
        cols = [c.name for c in EVENT_SHEET.columns]
        order = draw(st.permutations(cols))
        rows = []
        for _ in range(draw(st.integers(0, 12))):
            kind = draw(st.sampled_from(["good", "good", "junk", "blank", "dup"]))
            if kind == "blank":
                rows.append([None] * len(order))
            elif kind == "junk":
                rows.append([draw(junk) for _ in order])
            elif kind == "dup" and rows:
                rows.append(list(draw(st.sampled_from(rows))))
            else:
                rec = draw(good_event)
                rows.append([rec.get(c) for c in order])
        expected += sum(1 for r in rows if not is_blank(r))
        grid = [["标题"], [f"填报单位：{unit}"], list(order)] + rows
        sub_grid = [["标题"], [f"填报单位：{unit}"], [c.name for c in SUBMISSION_SHEET.columns]]
        sheets = [RawSheet(SUBMISSION_SHEET.name, sub_grid), RawSheet(EVENT_SHEET.name, grid),
                  RawSheet(META_SHEET, [["zg-excel", "fingerprint"], ["unit", unit], ["year", YEAR]], hidden=True)]
        saved = dt.datetime(YEAR, 10, 1) + dt.timedelta(hours=draw(st.integers(0, 3)))
        files[f"{i:02d}-{unit}.xlsx"] = RawBook(path=f"/x/{i}.xlsx", format="xlsx", sheets=sheets, saved_time=saved)
    if draw(st.booleans()):
        files["zz-broken.xlsx"] = FileFailure("/x/zz.xlsx", "corrupt", "文件已损坏")
    return files, expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(returns())
def test_every_row_ends_in_exactly_one_outcome(case):
    files, expected = case
    result = score(files)
    rows = result.rows
    assert rows["read"] == sum(rows[k] for k in OUTCOMES)
    assert rows["read"] == expected
    assert {f.relpath for f in result.files} == set(files)
    assert all(e.outcome in OUTCOMES for e in result.events)
    # a junk value never becomes points silently: each invalid row has an error issue on its row
    errors = {(i.file, i.row) for i in result.issues if i.severity == "error"}
    for e in result.events:
        if e.outcome == "invalid":
            assert (e.source.file, e.source.row) in errors
    # what was found wrong in a superseded file is listed but not counted again (RULES.md §6)
    superseded = {r.relpath for r in result.returns if r.superseded_by}
    assert all(i.severity == "info" for i in result.issues if i.file in superseded)
    # every row scored is of a file kept
    assert all(e.source.file not in superseded for e in result.events if e.outcome == "scored")
