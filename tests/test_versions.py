"""Versions and duplicates (RULES.md §6): hand-worked cases.

A newer file supersedes an older one of the same unit only when the older file's months lie
within the newer one's AND the newer one is a resend of it (``versions.resend_share`` of its rows,
by title, sheet by sheet). Duplicates keep the newest file's row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from tests.factory import F, book, ev, score
from zg_excel.intake.readers.failures import not_spreadsheet
from zg_excel.issues import ERROR, INFO, WARNING
from zg_excel.rules import ConfigError, load_rules

A = "峡窝镇党委"
JULY = dt.datetime(2026, 8, 3, 9, 0)
AUGUST = dt.datetime(2026, 9, 3, 9, 0)


def _rules(tmp_path, text: str):
    p = tmp_path / "rules.toml"
    p.write_text(text, encoding="utf-8")
    return load_rules(p)


def codes(result, code):
    return [i for i in result.issues if i.code == code]


def sub(title, date, dest="区委组织部"):
    return {"报送日期": date, "稿件标题": title, "报送对象": dest}


# ---------------------------------------------------------------- July / August

JULY_EVENTS = [ev("七月稿一", "采用", "郑州日报", "2026-07-06"),       # 5
               ev("七月稿二", "采用", "河南日报", "2026-07-15"),       # 10
               ev("七月稿三", "综合", "郑州日报", "2026-07-20")]       # 3
JULY_SUBS = [sub("七月稿一", "2026-07-02"), sub("七月稿二", "2026-07-10")]
AUGUST_EVENTS = [ev("八月稿一", "采用", "郑州日报", "2026-08-04"),     # 5
                 ev("八月稿二", "综合", "河南日报", "2026-08-12"),     # 5
                 ev("七月补报", "采用", "郑州日报", "2026-07-30")]     # 5, a late July row
AUGUST_SUBS = [sub("八月稿一", "2026-08-01"), sub("八月稿二", "2026-08-05"), sub("七月补报", "2026-07-28")]


def _july_august_check(result):
    t = result.unit(A)
    # Hand-worked: July 5 + 10 + 3 = 18, August 5 + 5 + 5 = 15; nothing superseded.
    assert t.points == 33
    assert not any(r.superseded_by for r in result.returns)
    assert result.rows["superseded"] == 0 and result.rows["scored"] == 6
    assert t.submissions_by_month[7] == 3 and t.submissions_by_month[8] == 2
    assert 7 not in t.short_months and 8 not in t.short_months


def test_a_late_july_row_in_the_august_file_does_not_replace_july():
    result = score({f"{A}-7月.xlsx": book(A, JULY_EVENTS, JULY_SUBS, saved=JULY),
                    f"{A}-8月.xlsx": book(A, AUGUST_EVENTS, AUGUST_SUBS, saved=AUGUST)},
                   as_of=dt.date(2026, 9, 30))
    _july_august_check(result)


def test_july_august_end_to_end_on_real_files(tmp_path):
    """The same case through the template, real .xlsx files and ``merge``."""
    from tests.fill import fill_return
    from zg_excel.merge import merge
    from zg_excel.roster import load_catalog, load_roster
    from zg_excel.template import write_template
    from zg_excel.workspace import init_workspace

    w = tmp_path / "w"
    init_workspace(w)
    rules = load_rules()
    roster, catalog = load_roster(None, rules), load_catalog(None, rules)
    tpl = tmp_path / "tpl.xlsx"
    write_template(tpl, unit=A, year=2026, roster=roster, catalog=catalog, rules=rules)

    def real(rows):
        return [{k: (dt.date.fromisoformat(v) if k in ("录用日期", "报送日期") else v)
                 for k, v in r.items() if v is not None} for r in rows]

    fill_return(tpl, w / "inbox" / f"{A}-2026年7月.xlsx", events=real(JULY_EVENTS), submissions=real(JULY_SUBS),
                saved=JULY)
    fill_return(tpl, w / "inbox" / f"{A}-2026年8月.xlsx", events=real(AUGUST_EVENTS),
                submissions=real(AUGUST_SUBS), saved=AUGUST)
    result = merge(w, year=2026, as_of=dt.date(2026, 9, 30))
    _july_august_check(result)
    assert [f.status for f in result.files] == ["已合并", "已合并"]


def test_the_old_rule_would_have_dropped_july():
    """With resend_share at its smallest (any one row in common) July is replaced: the rule's second
    condition is what keeps it (guards the test above against passing for another reason)."""
    late = [*AUGUST_EVENTS, ev("七月稿一", "采用", "郑州日报", "2026-07-06")]
    files = {f"{A}-7月.xlsx": book(A, JULY_EVENTS, JULY_SUBS, saved=JULY),
             f"{A}-8月.xlsx": book(A, late, AUGUST_SUBS, saved=AUGUST)}
    assert score(files).unit(A).points == 33
    loose = dataclasses.replace(load_rules(), resend_share=F("0.01"))
    result = score(files, rules=loose)
    assert [r.relpath for r in result.returns if r.superseded_by] == [f"{A}-7月.xlsx"]
    assert result.unit(A).points == 20  # 5 + 5 + 5 + 5 (七月稿一 again): 七月稿二 and 七月稿三 lost
    [w] = codes(result, "superseded_rows_removed")
    assert "删去了4条" in w.message and "七月稿二" in w.message and "七月稿三" in w.message


# ---------------------------------------------------------------- corrected resend wins

def test_the_newest_files_row_wins_and_the_difference_is_listed():
    first = book(A, [ev("稿件甲", "采用", "河南日报", "2026-02-10", 字数=1200),
                     ev("长篇稿", "采用", "河南日报", "2026-03-05", 字数=800)], saved=dt.datetime(2026, 4, 1))
    # The correction covers March only (it dropped February): not a resend of the first file.
    fixed = book(A, [ev("长篇稿", "采用", "河南日报", "2026-03-05", 字数=1500)], saved=dt.datetime(2026, 4, 8))
    result = score({"a-更正.xlsx": fixed, "b-一季度.xlsx": first})  # the older file sorts last by name
    assert not any(r.superseded_by for r in result.returns)
    # 稿件甲 ×3 = 30; 长篇稿 from the correction: 1500字 → ×3 = 30 (not 800字 → 10)
    assert result.unit(A).points == 60
    kept = [e for e in result.events if e.title == "长篇稿" and e.outcome == "scored"]
    assert [e.source.file for e in kept] == ["a-更正.xlsx"] and kept[0].points == 30
    [w] = codes(result, "duplicate_event_differs")
    assert w.severity == WARNING and w.file == "b-一季度.xlsx" and w.row == 5
    assert "a-更正.xlsx" in w.message and "第4行" in w.message and "1500" in w.message and "800" in w.message
    assert not codes(result, "duplicate_event")


def test_equal_duplicates_stay_a_notice():
    rows = [ev("稿件甲", "采用", "河南日报", "2026-03-10")]
    result = score({"a.xlsx": book(A, rows + [ev("二月", "采用", "郑州日报", "2026-02-01")],
                                   saved=dt.datetime(2026, 4, 1)),
                    "b.xlsx": book(A, rows, saved=dt.datetime(2026, 4, 2))})
    [d] = codes(result, "duplicate_event")
    assert d.severity == INFO and d.file == "a.xlsx"  # the older file's row is the duplicate
    assert not codes(result, "duplicate_event_differs")
    assert result.unit(A).points == 15


def test_rows_within_one_file_keep_the_top_one():
    rows = [ev("稿件甲", "采用", "郑州日报", "2026-03-10", 字数=800),
            ev("稿件甲", "采用", "郑州日报", "2026-03-10", 字数=1500)]
    result = score({"a.xlsx": book(A, rows)})
    assert result.unit(A).points == 5
    [w] = codes(result, "duplicate_event_differs")
    assert w.row == 5


# ---------------------------------------------------------------- the same file three times

def test_a_return_dropped_three_times_reports_its_error_once():
    rows = [ev("日期写错", "采用", "郑州日报", "2026-3-45"), ev("好稿", "采用", "河南日报", "2026-03-05")]
    same = book(A, rows, [sub("好稿", "2026-03-01")], saved=dt.datetime(2026, 4, 1))
    result = score({f"{A}.xlsx": same, f"{A}(1).xlsx": same, f"{A}-副本.xlsx": same})
    assert result.unit(A).points == 10
    assert result.unit(A).submissions_by_month[3] == 1
    assert len([r for r in result.returns if r.superseded_by]) == 2
    errors = [i for i in result.issues if i.severity == ERROR]
    assert len(errors) == 1 and errors[0].code == "bad_date"
    assert errors[0].file not in {r.relpath for r in result.returns if r.superseded_by}
    kept_as_notice = [i for i in result.issues if i.code == "bad_date" and i.severity == INFO]
    assert len(kept_as_notice) == 2 and all("已被替代文件中的问题" in i.message for i in kept_as_notice)
    assert not codes(result, "superseded_rows_removed")


# ---------------------------------------------------------------- rows a resend removed

def test_rows_a_resend_removed_are_one_warning_per_unit():
    old = book(A, [ev("稿一", "采用", "郑州日报", "2026-03-02"), ev("稿二", "采用", "郑州日报", "2026-03-03"),
                   ev("稿三", "采用", "郑州日报", "2026-03-04"), ev("被删的稿", "采用", "河南日报", "2026-03-05")],
               [sub("被删的报送", "2026-03-06")], saved=dt.datetime(2026, 4, 1))
    new = book(A, [ev("稿一", "采用", "郑州日报", "2026-03-02"), ev("稿二", "采用", "郑州日报", "2026-03-03"),
                   ev("稿三", "采用", "郑州日报", "2026-03-04")], saved=dt.datetime(2026, 4, 5))
    result = score({"旧.xlsx": old, "新.xlsx": new})
    assert [r.relpath for r in result.returns if r.superseded_by] == ["旧.xlsx"]  # 3 of 5 rows resent
    assert result.unit(A).points == 15
    [w] = codes(result, "superseded_rows_removed")
    assert w.severity == WARNING and w.unit == A and w.value == "2"
    assert "删去了2条" in w.message and "被删的稿" in w.message and "被删的报送" in w.message
    assert "稿一" not in w.message


def test_a_row_the_resend_moved_to_another_kept_file_is_not_called_removed():
    old = book(A, [ev("稿一", "采用", "郑州日报", "2026-03-02"), ev("稿二", "采用", "郑州日报", "2026-03-03")],
               saved=dt.datetime(2026, 4, 1))
    new = book(A, [ev("稿一", "采用", "郑州日报", "2026-03-02")], saved=dt.datetime(2026, 4, 5))
    april = book(A, [ev("稿二", "采用", "郑州日报", "2026-03-03"), ev("四月", "采用", "郑州日报", "2026-04-03")],
                 saved=dt.datetime(2026, 5, 1))
    result = score({"旧.xlsx": old, "新.xlsx": new, "四月.xlsx": april})
    assert [r.relpath for r in result.returns if r.superseded_by] == ["旧.xlsx"]
    assert not codes(result, "superseded_rows_removed")
    assert result.unit(A).points == 15


# ---------------------------------------------------------------- the share

def test_exactly_the_share_is_a_resend_and_the_share_is_a_setting(tmp_path):
    old = book(A, [ev("稿一", "采用", "郑州日报", "2026-03-02"), ev("稿二", "采用", "郑州日报", "2026-03-03")],
               saved=dt.datetime(2026, 4, 1))
    new = book(A, [ev("稿一", "采用", "郑州日报", "2026-03-02"), ev("新稿", "采用", "郑州日报", "2026-03-09")],
               saved=dt.datetime(2026, 4, 5))
    files = {"旧.xlsx": old, "新.xlsx": new}
    assert score(files).unit(A).points == 10  # 1 of 2 = 0.5: superseded
    strict = _rules(tmp_path, "[versions]\nresend_share = 0.6\n")
    assert strict.resend_share == F("0.6")
    assert score(files, rules=strict).unit(A).points == 15  # merged, 稿一 once


def test_a_file_without_rows_counts_as_resent():
    empty = book(A, [], saved=dt.datetime(2026, 4, 1))
    full = book(A, [ev("稿一", "采用", "郑州日报", "2026-03-02")], saved=dt.datetime(2026, 4, 5))
    result = score({"空.xlsx": empty, "满.xlsx": full})
    assert [r.relpath for r in result.returns if r.superseded_by] == ["空.xlsx"]


def test_titles_compare_normalized_and_sheet_by_sheet():
    old = book(A, [ev("《稿一》", "采用", "郑州日报", "2026-03-02")], [sub("稿二", "2026-03-01")],
               saved=dt.datetime(2026, 4, 1))
    # 稿一 is in the new 录用 sheet (spaces and brackets aside); 稿二 only in its 录用 sheet, not in 报送.
    new = book(A, [ev(" 稿 一 ", "采用", "郑州日报", "2026-03-02"), ev("稿二", "采用", "郑州日报", "2026-03-05")],
               saved=dt.datetime(2026, 4, 5))
    result = score({"旧.xlsx": old, "新.xlsx": new})
    assert [r.relpath for r in result.returns if r.superseded_by] == ["旧.xlsx"]  # 1 of 2
    three = book(A, [ev("《稿一》", "采用", "郑州日报", "2026-03-02")],
                 [sub("稿二", "2026-03-01"), sub("稿三", "2026-03-01")], saved=dt.datetime(2026, 4, 1))
    result = score({"旧.xlsx": three, "新.xlsx": new})
    assert not any(r.superseded_by for r in result.returns)  # 1 of 3


@pytest.mark.parametrize("value", ["0", "-0.5", "1.5", '"半"'])
def test_resend_share_out_of_range_is_refused(tmp_path, value):
    with pytest.raises(ConfigError) as e:
        _rules(tmp_path, f"[versions]\nresend_share = {value}\n")
    assert "resend_share" in str(e.value)


def test_resend_share_of_one_is_accepted(tmp_path):
    assert _rules(tmp_path, "[versions]\nresend_share = 1\n").resend_share == 1


# ---------------------------------------------------------------- values read with an assumption

def test_a_date_without_year_and_an_approximate_count_are_scored_with_a_notice():
    result = score({"a.xlsx": book(A, [ev("无年份", "采用", "郑州日报", "3月7日", 字数="约1000字"),
                                       ev("约数超过", "采用", "郑州日报", "2026-03-08", 字数="1200字左右")],
                                   [sub("无年份", "3月1日")])})
    first, second = result.events
    assert first.date == dt.date(2026, 3, 7) and first.chars == 1000 and first.points == 5
    assert second.chars == 1200 and second.points == 15
    assert result.submissions[0].date == dt.date(2026, 3, 1)
    years = codes(result, "assumed_year")
    assert {(i.sheet, i.row, i.column) for i in years} == {("录用登记", 4, "录用日期"), ("报送登记", 4, "报送日期")}
    assert all(i.severity == INFO and "日期未写年份，按2026年计" in i.message for i in years)
    counts = codes(result, "approximate_count")
    assert [(i.row, i.column, i.severity) for i in counts] == [(4, "字数", INFO), (5, "字数", INFO)]
    assert "按1000字计" in counts[0].message and "未超过1000字" in counts[0].message
    assert "按1200字计" in counts[1].message and "按倍数计分" in counts[1].message
    assert not result.issues.has_errors


# ---------------------------------------------------------------- a non-spreadsheet named for a unit

def test_a_word_file_named_for_a_unit_is_a_warning_and_not_plain_not_returned():
    failed = not_spreadsheet(f"/inbox/{A}-9月.doc", "word")
    assert failed.skipped
    result = score({f"{A}-9月.doc": failed, "组织科.xlsx": book("组织科", [ev("x", "采用", "郑州日报")])})
    [w] = [i for i in result.issues if i.file == f"{A}-9月.doc"]
    assert w.severity == WARNING and w.unit == A
    assert w.message == f"收到了文件“{A}-9月.doc”，但不是电子表格，请该单位用模板重新报送"
    t = result.unit(A)
    assert not t.returned and t.received_non_spreadsheet == [f"{A}-9月.doc"]
    [nr] = [i for i in codes(result, "not_returned") if i.unit == A]
    assert "报送的文件不是电子表格" in nr.message and f"{A}-9月.doc" in nr.message
    other = [i for i in codes(result, "not_returned") if i.unit == "干部科"]
    assert "收件文件夹中没有该单位的文件" in other[0].message
    from zg_excel.outputs.result_json import result_dict

    by_unit = {u["unit"]: u for u in result_dict(result)["units"]}
    assert by_unit[A]["received_non_spreadsheet"] == [f"{A}-9月.doc"]
    assert by_unit["干部科"]["received_non_spreadsheet"] == []


def test_a_word_file_beside_the_units_return_stays_a_notice():
    result = score({f"{A}-9月.doc": not_spreadsheet(f"/inbox/{A}-9月.doc", "word"),
                    f"{A}.xlsx": book(A, [ev("x", "采用", "郑州日报")])})
    [n] = [i for i in result.issues if i.file == f"{A}-9月.doc"]
    assert n.severity == INFO and n.unit == A
    assert result.unit(A).returned and not [i for i in codes(result, "not_returned") if i.unit == A]


def test_the_bulletin_and_the_reminder_say_the_file_was_no_spreadsheet():
    from zg_excel.outputs.bulletin import render_text
    from zg_excel.outputs.reminders import build_reminders
    from zg_excel.workspace import default_text

    result = score({f"{A}-9月.doc": not_spreadsheet(f"/inbox/{A}-9月.doc", "word"),
                    "组织科.xlsx": book("组织科", [ev("x", "采用", "郑州日报")])})
    text = render_text(result, default_text("通报.txt.j2"), issued=dt.date(2026, 10, 9))
    [line] = [s for s in text.splitlines() if "未报送统计表" in s]
    assert f"{A}报送的文件不是电子表格，未能统计，请用模板重新报送。" in line
    assert "干部科" in line.split("截至")[0]  # the others are still plainly 未报送
    assert f"{A}、" not in line.split("截至")[0] and f"、{A}" not in line.split("截至")[0]
    [r] = [r for r in build_reminders(result, issued=dt.date(2026, 10, 9)).items if r.unit == A]
    assert f"报送的文件“{A}-9月.doc”不是电子表格" in r.text and "尚未报送" not in r.text


def test_the_shipped_bulletin_template_passes_its_own_check(tmp_path):
    """The 未报送 line's new wording uses only names the bulletin's context has."""
    from zg_excel.roster import load_catalog, load_roster
    from zg_excel.settings_check import bulletin_template_issues
    from zg_excel.workspace import init_workspace

    init_workspace(tmp_path / "w")
    rules = load_rules()
    assert bulletin_template_issues(tmp_path / "w", rules, load_roster(None, rules), load_catalog(None, rules)) == []
