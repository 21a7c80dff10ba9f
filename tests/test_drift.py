"""Template drift is listed: old version, other year, another unit's template, renamed / extra / moved columns.

Built in memory with tests/factory.py (the template's layout), plus one real template edited with
openpyxl the way a unit edits it and checked through ``check_files``. At the end: drift in files
without a fingerprint (the title's year, 填报单位 against the file name) and deleted optional columns.
"""

from __future__ import annotations

import datetime as dt


from tests.factory import book, ev, score
from zg_excel.issues import ERROR, INFO, WARNING
from zg_excel.schema import EVENTS, META_SHEET, SUBMISSIONS

A, B = "峡窝镇党委", "济源路街道党工委"
ROWS = [ev("党建引领基层治理", "采用", "郑州日报", 字数=1200), ev("年轻干部墩苗历练", "综合", "河南日报")]


def sheet(b, name):
    return next(s for s in b.sheets if s.name == name)


def issues(result, code):
    return [i for i in result.issues if i.code == code]


def points(result):
    return sorted((e.source.row, e.outcome, e.points) for e in result.events)


BASELINE = points(score({f"{A}.xlsx": book(A, ROWS)}))


def test_old_template_version():
    b = book(A, ROWS)
    meta = sheet(b, META_SHEET)
    meta.rows = [r if r[0] != "template_version" else ["template_version", "0"] for r in meta.rows]
    result = score({f"{A}.xlsx": b})
    [i] = issues(result, "old_template")
    assert i.severity == INFO and i.value == "0" and i.file == f"{A}.xlsx"
    assert points(result) == BASELINE


def test_other_year_template():
    result = score({f"{A}.xlsx": book(A, ROWS, year=2025)})
    [i] = issues(result, "other_year_template")
    assert i.severity == WARNING and "2025" in i.message and i.fix


def test_another_units_template_by_file_name():
    result = score({f"{B}-3月.xlsx": book(A, ROWS)})
    [i] = issues(result, "fingerprint_mismatch")
    assert i.severity == WARNING and A in i.message and B in i.message
    assert {e.unit for e in result.events} == {A}  # counted for the fingerprint's unit


def test_unit_cell_disagrees_with_fingerprint():
    b = book(A, ROWS)
    for name in (EVENTS, SUBMISSIONS):
        sheet(b, name).rows[1] = [f"填报单位：{B}"]
    result = score({f"{A}.xlsx": b})
    # neither name is guessed: an error naming both, the file not merged
    [i] = issues(result, "unit_identity_conflict")
    assert i.severity == ERROR and A in i.message and B in i.message
    assert result.events == [] and result.files[0].status == "未合并" and A in result.files[0].message


def test_renamed_column():
    b = book(A, ROWS)
    s = sheet(b, EVENTS)
    s.rows[2] = ["稿件题目" if h == "稿件标题" else "日期" if h == "录用日期" else h for h in s.rows[2]]
    result = score({f"{A}.xlsx": b})
    found = {(i.column, i.row) for i in issues(result, "renamed_column")}
    assert found == {("稿件题目", 3), ("日期", 3)}
    assert points(result) == BASELINE


def test_extra_column():
    b = book(A, ROWS)
    s = sheet(b, EVENTS)
    s.rows[2] = s.rows[2] + ["联系人"]
    for r in s.rows[3:]:
        r.append("张三")
    result = score({f"{A}.xlsx": b})
    [i] = issues(result, "extra_column")
    assert i.column == "联系人" and i.sheet == EVENTS and i.severity == INFO
    assert points(result) == BASELINE


def test_moved_columns():
    b = book(A, ROWS)
    s = sheet(b, EVENTS)
    s.rows[2:] = [[r[1], r[0], *r[2:]] for r in s.rows[2:]]  # 录用形式 before 稿件标题
    result = score({f"{A}.xlsx": b})
    [i] = issues(result, "moved_columns")
    assert i.sheet == EVENTS
    assert points(result) == BASELINE


def test_renamed_sheet_and_missing_required_column():
    b = book(A, ROWS)
    sheet(b, EVENTS).name = "录用情况"
    result = score({f"{A}.xlsx": b})
    assert issues(result, "renamed_sheet") and points(result) == BASELINE

    b = book(A, ROWS)
    s = sheet(b, EVENTS)
    s.rows[2] = ["文章" if h == "稿件标题" else h for h in s.rows[2]]
    result = score({f"{A}.xlsx": b})
    [i] = issues(result, "missing_column")
    assert i.severity == ERROR and i.column == "稿件标题"


def test_a_real_template_edited_by_a_unit_lists_every_drift(tmp_path):
    """A template from zg-excel, edited in a spreadsheet program: old version, renamed and extra columns."""
    import openpyxl

    from zg_excel.check import check_files, render_check_text
    from zg_excel.rules import load_rules
    from zg_excel.roster import load_catalog, load_roster
    from zg_excel.schema import FIRST_DATA_ROW, HEADER_ROW
    from zg_excel.template import write_template

    rules = load_rules()
    roster, catalog = load_roster(None, rules), load_catalog(None, rules)
    path = tmp_path / "2026 组工 信息" / f"{B}-3月 报送.xlsx"  # another unit's name on A's template
    path.parent.mkdir()
    write_template(path, unit=A, year=2025, roster=roster, catalog=catalog, rules=rules)
    wb = openpyxl.load_workbook(path)
    meta = wb[META_SHEET]
    for row in meta.iter_rows():
        if row[0].value == "template_version":
            row[1].value = "0"
    ws = wb[EVENTS]
    heads = [c.value for c in ws[HEADER_ROW]]
    ws.cell(HEADER_ROW, heads.index("稿件标题") + 1, "标题")
    ws.cell(HEADER_ROW, len(heads) + 1, "联系电话")
    values = {"标题": "党建引领基层治理", "录用形式": "采用", "媒体名称": "郑州日报", "录用日期": dt.date(2026, 3, 5)}
    for c, h in enumerate([c.value for c in ws[HEADER_ROW]], start=1):
        if h in values:
            ws.cell(FIRST_DATA_ROW, c, values[h])
    wb.save(path)

    report = check_files([path], tmp_path, year=2026, as_of=dt.date(2026, 9, 30))
    [fc] = report.files
    found = {i.code for i in fc.issues}
    assert {"old_template", "other_year_template", "fingerprint_mismatch", "renamed_column",
            "extra_column"} <= found, found
    assert fc.unit == A and fc.found_by == "模板标识" and fc.scoring == 1
    text = render_check_text(report)
    assert "请核实" in text and "2025" in text and "联系电话" in text


# ------------------------------------------------------------------ drift without a fingerprint

def test_deleted_size_column_is_reported():
    b = book(A, ROWS)
    s = sheet(b, EVENTS)
    i = s.rows[2].index("字数")
    s.rows[2:] = [r[:i] + r[i + 1:] for r in s.rows[2:]]
    result = score({f"{A}.xlsx": b})
    assert points(result) != BASELINE  # 1200 字 no longer ×3 ...
    assert any(i.column == "字数" for i in result.issues)  # ... and nothing says why


def test_other_year_title_without_fingerprint_is_reported():
    b = book(A, ROWS, year=2025, fingerprint=False)
    result = score({f"{A}.xlsx": b})
    assert issues(result, "other_year_template")


def test_unit_cell_against_file_name_without_fingerprint_is_reported():
    b = book(A, ROWS, fingerprint=False)
    result = score({f"{B}-3月.xlsx": b})
    assert {e.unit for e in result.events} == {A}
    assert any(i.severity == WARNING and i.file == f"{B}-3月.xlsx" and B in i.message for i in result.issues)
