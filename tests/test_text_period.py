"""The conventions' owners: text.py (file names, dates, rounding, points text) and period.py."""

from __future__ import annotations

import re

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest

from zg_excel.period import Period, previous_quarter_end, quarter_end, quarter_of
from zg_excel.text import date_cn, months_text, points_number, points_text, round_half_up, safe_filename
from zg_excel.workspace import Workspace

# ---------------------------------------------------------------- safe_filename


@pytest.mark.parametrize("name, expected", [
    ("城关镇", "城关镇"),
    ('a\\b/c:d*e?f"g<h>i|j', "a_b_c_d_e_f_g_h_i_j"),
    ("a//b", "a_b"),  # a run of unsafe characters is one _
    ("del\x7fhere", "del_here"),
    ("tab\there", "tab_here"),  # control characters are unsafe, not white space
    ("nul\x00c1\x85", "nul_c1_"),
    ("  many   spaces  ", "many spaces"),
    ("..dots..", "dots"),
    (" . x . ", "x"),
    ("CON", "CON_"),
    ("com1.txt", "com1.txt_"),
    ("CONSOLE", "CONSOLE"),
    ("", "未命名"),
    ("///", "_"),
    ("...", "未命名"),
])
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


def test_safe_filename_limit_and_fallback():
    long = "郑州市中原区" * 30  # 180 CJK characters
    got = safe_filename(long)  # at most 150 bytes of UTF-8, cut short with a hash mark
    assert len(got.encode("utf-8")) <= 150 and got.startswith(long[:40]) and re.fullmatch(r".+~[0-9a-f]{6}", got)
    assert safe_filename(long, limit=10) == long[:10]
    assert safe_filename("abc.  def", limit=4) == "abc"  # no trailing dot or space after the cut
    assert safe_filename("", fallback="未识别单位") == "未识别单位"
    assert safe_filename("?", fallback="x") == "_"


def test_workspace_names_use_the_one_sanitiser(tmp_path):
    ws = Workspace(tmp_path)
    assert ws.template_path("a/b", 2026).name == "2026年组工信息报送登记表-a_b.xlsx"
    assert ws.template_path("", 2026).name == "2026年组工信息报送登记表-未命名单位.xlsx"
    assert ws.returnslip_path("").name == "退回单-未识别单位.xlsx"
    assert ws.reminder_path("x\x7fy").name == "x_y.txt"
    assert ws.summary_path(2026).name == "2026年组工信息考核汇总表.xlsx"
    assert ws.reminders_combined.name == "催报汇总.txt"
    assert ws.sent_log == tmp_path / "output" / "mail" / "已发送记录.jsonl"
    assert Workspace.for_output(tmp_path / "elsewhere").result_json == tmp_path / "elsewhere" / "result.json"


def test_find_template_by_name_then_alias_newest_year(tmp_path):
    ws = Workspace(tmp_path)
    ws.outbox.mkdir()
    for name, year in (("峡窝镇", 2025), ("峡窝镇", 2026), ("峡窝镇中心校", 2026), ("组织科", 2026)):
        ws.template_path(name, year).write_bytes(b"x")
    assert ws.find_template(["峡窝镇"]) == ws.template_path("峡窝镇", 2026)
    assert ws.find_template(["峡窝镇"], 2025) == ws.template_path("峡窝镇", 2025)
    assert ws.find_template(["区委组织部组织科", "组织科"]) == ws.template_path("组织科", 2026)
    assert ws.find_template(["峡窝"]) is None
    assert Workspace(tmp_path / "none").find_template(["峡窝镇"]) is None


def test_find_reminder(tmp_path):
    ws = Workspace(tmp_path)
    ws.reminders_dir.mkdir(parents=True)
    ws.reminder_path("a/b").write_text("x", encoding="utf-8")
    ws.reminders_combined.write_text("x", encoding="utf-8")
    assert ws.find_reminder(["nope", "a/b"]) == ws.reminder_path("a/b")
    assert ws.find_reminder(["催报汇总"]) is None
    assert ws.find_reminder(["nope"]) is None

# ---------------------------------------------------------------- dates, rounding, points text


def test_date_cn():
    assert date_cn(dt.date(2026, 9, 30)) == "2026年9月30日"
    assert date_cn(dt.date(2026, 1, 5)) == "2026年1月5日"


@pytest.mark.parametrize("x, places, expected", [
    (Fraction(5, 1000), 2, "0.01"),  # .005 rounds up
    (Fraction(4999, 1000000), 2, "0.00"),  # just below .005
    (Fraction(-5, 1000), 2, "-0.01"),  # half away from zero
    (Fraction(-4, 1000), 2, "0.00"),  # no negative zero
    (Fraction(1005, 1000), 2, "1.01"),  # binary floats give 1.00 here
    (Fraction(2675, 1000), 2, "2.68"),
    (Fraction(1, 3), 2, "0.33"),
    (Fraction(2, 3), 2, "0.67"),
    (Fraction(5, 2), 0, "3"),
    (Fraction(-5, 2), 0, "-3"),
    (Fraction(25, 2), 2, "12.50"),
    (7, 2, "7.00"),
])
def test_round_half_up(x, places, expected):
    got = round_half_up(x, places)
    assert isinstance(got, Decimal) and str(got) == expected


@pytest.mark.parametrize("x, expected", [
    (Fraction(50), "50"),
    (Fraction(75, 2), "37.5"),
    (Fraction(-1, 2), "-0.5"),
    (Fraction(1, 4), "0.25"),
    (Fraction(1, 10), "0.1"),
    (Fraction(1, 3), "0.33"),
    (Fraction(5, 1000), "0.01"),  # .005 boundary: rounded, half up
    (Fraction(15, 1000), "0.02"),
    (Fraction(-15, 1000), "-0.02"),
    (Fraction(1, 1000), "0.00"),
    (Fraction(12345, 1000), "12.35"),
])
def test_points_text(x, expected):
    assert points_text(x) == expected


def test_points_number():
    assert points_number(Fraction(75, 2)) == 37.5
    assert points_number(Fraction(5, 1000)) == 0.01
    assert points_number(Fraction(1, 3)) == 0.33
    assert points_number(7) == 7.0


def test_months_text():
    assert months_text([1, 2, 3, 5]) == "1—3月、5月"
    assert months_text([5, 4]) == "4月、5月"
    assert months_text([]) == ""

# ---------------------------------------------------------------- period


@pytest.mark.parametrize("day, quarter", [("2026-01-01", 1), ("2026-03-31", 1), ("2026-04-01", 2),
                                          ("2026-09-30", 3), ("2026-10-01", 4), ("2026-12-31", 4)])
def test_quarter_of(day, quarter):
    assert quarter_of(dt.date.fromisoformat(day)) == quarter


def test_quarter_end():
    assert [quarter_end(2026, q) for q in (1, 2, 3, 4)] == [
        dt.date(2026, 3, 31), dt.date(2026, 6, 30), dt.date(2026, 9, 30), dt.date(2026, 12, 31)]
    assert previous_quarter_end(dt.date(2026, 2, 28)) is None
    assert previous_quarter_end(dt.date(2026, 5, 1)) == dt.date(2026, 3, 31)
    assert previous_quarter_end(dt.date(2026, 12, 31)) == dt.date(2026, 9, 30)


def test_period_mid_year():
    p = Period(2026, dt.date(2026, 9, 30))
    assert (p.quarter, p.quarter_name, p.quarter_start, p.final) == (3, "第三季度", dt.date(2026, 7, 1), False)
    assert p.months_elapsed == 9 and list(p.months) == list(range(1, 10))
    assert p.label == "2026年1月至9月" and p.span_text == "2026年1—9月" and p.title_text == "第三季度"
    assert date_cn(p.as_of) == "2026年9月30日"
    assert p.prorated(100) == 75  # 100 × 9/12
    assert p.prorated(Fraction(10)) == Fraction(15, 2)
    prev = p.previous()
    assert prev.as_of == dt.date(2026, 6, 30) and prev.label == "2026年1月至6月" and prev.quarter == 2
    assert prev.prorated(100) == 50


def test_period_switches():
    p = Period(2026, dt.date(2026, 9, 15))  # September in progress: 8 complete months
    assert p.months_elapsed == 8 and p.prorated(120) == 80 and p.in_progress_month == 9
    judged = Period(2026, dt.date(2026, 9, 15), judge_incomplete_month=True)
    assert judged.months_elapsed == 9 and judged.prorated(120) == 90 and judged.in_progress_month is None
    no_prorate = Period(2026, dt.date(2026, 9, 15), prorate=False)
    assert no_prorate.prorated(120) == 120
    assert no_prorate.share(120) == 80  # the yearly submission minimum is always shared out (8 complete months)


def test_period_january_and_year_end():
    jan = Period(2026, dt.date(2026, 1, 20))
    assert jan.label == "2026年1月" and jan.span_text == "2026年1月" and jan.previous() is None
    end = Period(2026, dt.date(2026, 12, 31))
    assert end.final and end.label == "2026年全年" and end.title_text == "年度" and end.heading == "2026年度"
    assert end.months_elapsed == 12 and end.prorated(100) == 100  # the whole target once the year is over
    later = Period(2026, dt.date(2027, 2, 1))
    assert later.final and later.months_elapsed == 12


# ------------------------------------------------ dates and months: one owner (text.py / period.py)


def test_date_and_month_texts():
    from zg_excel.text import (date_span_cn, month_cn, month_day_cn, month_day_weekday_cn, year_month_cn,
                               year_months_grouped, year_months_text)

    d = dt.date(2026, 9, 30)
    assert (date_cn(d), month_day_cn(d), month_cn(9), year_month_cn(2026, 9)) == (
        "2026年9月30日", "9月30日", "9月", "2026年9月")
    assert date_span_cn(dt.date(2026, 7, 1), d) == "7月1日至9月30日"
    assert month_day_weekday_cn(d) == "9月30日（星期三）"
    assert month_day_weekday_cn(dt.date(2026, 10, 4)) == "10月4日（星期日）"
    assert year_months_text({(2026, 4), (2025, 12), (2026, 3)}) == "2025年12月、2026年3月、2026年4月"
    assert year_months_text(set(), "无日期") == "无日期"
    assert year_months_grouped([(2026, 3), (2026, 4), (2027, 1)]) == "2026年3月、4月；2027年1月"
    assert year_months_grouped([]) == ""


def test_quarter_span_and_heading():
    running = Period(2026, dt.date(2026, 10, 31))
    assert running.quarter_span_text == "10月1日至10月31日"
    assert running.quarter_heading == "2026年第四季度（10月1日至10月31日）"
    done = Period(2026, dt.date(2026, 9, 30))
    assert (done.quarter_span_text, done.quarter_heading) == ("7月1日至9月30日", "2026年第三季度")


def test_month_counts_of_a_tally():
    from types import SimpleNamespace

    from zg_excel.outputs.report import month_counts

    t = SimpleNamespace(submissions_by_month={2: 1, 7: 0})
    assert month_counts(t, [2, 5, 7]) == "2月1条、5月0条、7月0条"
