"""RULES.md §7/§8 (revised): the as-of default, the working folder's year, complete months only
(the as-of month 进行中), pro-rating by complete months, 第N季度 only at a quarter's end; the
working-folder checks, the empty inbox and the date forms of --as-of (issue 12 items 1–3,
issue 13 items 11 and 19)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from fractions import Fraction

import pytest
from click.testing import CliRunner

from tests.conftest import SAMPLES, copy_samples
from tests.factory import book, score
from zg_excel.cli import cli
from zg_excel.outputs.bulletin import attachment_title, bulletin_title
from zg_excel.outputs.result_json import result_dict
from zg_excel.period import Period, PeriodError, default_as_of, resolve_period
from zg_excel.rules import ConfigError, load_rules
from zg_excel.workspace import FOLDER_FILE, Workspace, init_workspace

D = dt.date


def run(*args, **kw):
    return CliRunner().invoke(cli, [str(a) for a in args], **kw)


def on_day(monkeypatch, day: dt.date) -> None:
    """Make ``day`` today for the run's defaults."""
    import zg_excel.period

    monkeypatch.setattr(zg_excel.period, "current_date", lambda: day)


# ------------------------------------------------------------------ the as-of default


@pytest.mark.parametrize(("today", "as_of"), [
    (D(2026, 12, 2), D(2026, 11, 30)),   # the issue's day: November, not a December in progress
    (D(2026, 10, 8), D(2026, 9, 30)),
    (D(2026, 10, 31), D(2026, 10, 31)),  # a month's last day is itself complete
    (D(2026, 3, 1), D(2026, 2, 28)),
    (D(2028, 3, 1), D(2028, 2, 29)),     # leap year
    (D(2027, 1, 15), D(2026, 12, 31)),   # mid-January: last year's year-end
    (D(2026, 12, 31), D(2026, 12, 31)),
])
def test_as_of_default_is_the_last_complete_month(today, as_of):
    assert default_as_of(today) == as_of
    assert resolve_period(None, None, today) == (as_of.year, as_of)


def test_year_end_cap_and_as_of_before_the_year():
    today = D(2027, 2, 10)
    assert resolve_period(2026, None, today) == (2026, D(2026, 12, 31))
    assert resolve_period(2026, D(2027, 1, 15), today) == (2026, D(2026, 12, 31))
    assert resolve_period(None, D(2026, 9, 30), today) == (2026, D(2026, 9, 30))
    with pytest.raises(PeriodError, match="早于考核年度2026年"):
        resolve_period(2026, D(2025, 12, 31), today)


# ------------------------------------------------------------------ Period: complete months, labels


def test_complete_months_and_in_progress():
    p = Period(2026, D(2026, 10, 8))
    assert (p.complete_months, p.months_elapsed, p.in_progress_month) == (9, 9, 10)
    assert list(p.months) == list(range(1, 10)) and p.last_month == 10
    assert p.prorated(120) == 90  # 120 × 9/12
    month_end = Period(2026, D(2026, 10, 31))
    assert (month_end.months_elapsed, month_end.in_progress_month) == (10, None)
    jan = Period(2026, D(2026, 1, 15))
    assert (jan.months_elapsed, jan.in_progress_month, jan.prorated(60)) == (0, 1, 0)
    judged = Period(2026, D(2026, 10, 8), judge_incomplete_month=True)
    assert (judged.months_elapsed, judged.in_progress_month, judged.prorated(120)) == (10, None, 100)
    after = Period(2026, D(2027, 1, 15))
    assert after.final and after.months_elapsed == 12 and after.in_progress_month is None


@pytest.mark.parametrize(("as_of", "title", "heading"), [
    (D(2026, 9, 30), "第三季度", "2026年第三季度"),
    (D(2026, 3, 31), "第一季度", "2026年第一季度"),
    (D(2026, 10, 31), "1月至10月", "2026年1月至10月"),
    (D(2026, 10, 8), "1月至10月", "2026年1月至10月"),
    (D(2026, 12, 2), "1月至12月", "2026年1月至12月"),
    (D(2026, 1, 31), "1月", "2026年1月"),
    (D(2026, 12, 31), "年度", "2026年度"),
])
def test_quarter_named_only_at_a_quarter_end(as_of, title, heading):
    p = Period(2026, as_of)
    assert p.title_text == title and p.heading == heading
    assert p.quarter_text.startswith(p.quarter_name)
    assert ("（" in p.quarter_text) == (not p.at_quarter_end)


# ------------------------------------------------------------------ tally: complete months only


def _sub(day: str) -> dict:
    return {"报送日期": day, "稿件标题": f"稿件{day}", "报送对象": "区委组织部"}


def _monthly_unit(extra: list[str]):
    """峡窝镇党委 (镇街: 2 a month) with 2 submissions in each of January–September, plus ``extra``."""
    subs = [_sub(f"2026-{m:02d}-{d:02d}") for m in range(1, 10) for d in (5, 15)] + [_sub(x) for x in extra]
    return {"峡窝镇党委.xlsx": book("峡窝镇党委", submissions=subs)}


def test_the_as_of_month_is_in_progress_never_flagged():
    result = score(_monthly_unit(["2026-10-03"]), as_of=D(2026, 10, 8))
    t = result.unit("峡窝镇党委")
    assert t.short_months == [] and t.targets["monthly"]  # October (1 so far < 2) is not judged
    assert sorted(t.submissions_by_month) == list(range(1, 10))
    assert t.submissions_in_progress == 1 and t.submissions_year == 19
    cat = result.rules.categories["镇街"]
    assert t.prorated_target == Fraction(cat.annual_points) * 9 / 12
    data = result_dict(result, issues=False)
    assert data["in_progress_month"] == 10
    unit = next(u for u in data["units"] if u["unit"] == "峡窝镇党委")
    assert unit["submissions_in_progress"] == 1 and "10" not in unit["submissions_by_month"]
    assert bulletin_title(result).startswith("关于2026年1月至10月") and "季度" not in bulletin_title(result)
    assert attachment_title(result) == "2026年1月至10月组工信息考核积分排名表"


def test_a_complete_month_below_the_minimum_is_flagged():
    result = score(_monthly_unit(["2026-10-03"]), as_of=D(2026, 10, 31))
    t = result.unit("峡窝镇党委")
    assert t.short_months == [10] and t.submissions_in_progress is None
    assert result_dict(result, issues=False)["in_progress_month"] is None


def test_judge_incomplete_month_judges_the_partial_month(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text("[period]\njudge_incomplete_month = true\n", encoding="utf-8")
    rules = load_rules(path)
    assert rules.judge_incomplete_month
    result = score(_monthly_unit(["2026-10-03"]), as_of=D(2026, 10, 8), rules=rules)
    t = result.unit("峡窝镇党委")
    assert t.short_months == [10] and t.submissions_by_month[10] == 1 and t.submissions_in_progress is None
    assert t.prorated_target == Fraction(result.rules.categories["镇街"].annual_points) * 10 / 12


def test_old_rules_key_is_a_retired_warning_not_an_error(tmp_path):
    from zg_excel.rules import rules_issues

    path = tmp_path / "rules.toml"
    path.write_text("[targets]\nprorate_before_year_end = true\nas_of_month_elapsed = true\n", encoding="utf-8")
    rules = load_rules(path)
    assert not rules.judge_incomplete_month
    found = rules_issues(path)
    assert [i.code for i in found] == ["rules_retired_key"] and "judge_incomplete_month" in found[0].message


# ------------------------------------------------------------------ the working folder's year


def test_init_records_the_year(tmp_path):
    w = tmp_path / "2026组工信息"
    r = run("init", w, "--year", 2026)
    assert r.exit_code == 0, r.output
    text = (w / FOLDER_FILE).read_text(encoding="utf-8")
    assert "year = 2026" in text and "考核年度" in text
    assert Workspace(w).recorded_year() == 2026
    r = run("init", w, "--year", 2027)  # a folder is one year
    assert r.exit_code == 2 and "2027" in r.output and "2026" in r.output
    assert Workspace(w).recorded_year() == 2026


def test_init_defaults_to_the_current_year(tmp_path):
    init_workspace(tmp_path / "w")
    assert Workspace(tmp_path / "w").recorded_year() == dt.date.today().year


def _sample_folder(tmp_path, year: int | None = 2026):
    w = tmp_path / "2026组工信息"
    init_workspace(w, year)
    copy_samples(w / "inbox")
    return w


def test_year_end_run_in_january_keeps_the_folders_year(tmp_path):
    w = _sample_folder(tmp_path)
    r = run("merge", "-w", w, "--as-of", "2027-01-15", "-q", "--date", "2027-01-15")
    assert r.exit_code in (0, 1), r.output
    data = json.loads((w / "output" / "result.json").read_text(encoding="utf-8"))
    assert data["year"] == 2026 and data["as_of"] == "2026-12-31" and data["final"]
    assert sum(float(u["points"]) for u in data["units"]) > 0  # rows were not put out of period
    assert (w / "output" / "2026年组工信息考核汇总表.xlsx").is_file()
    assert not (w / "output" / "2027年组工信息考核汇总表.xlsx").exists()
    text = (w / "output" / "通报.txt").read_text(encoding="utf-8")
    assert text.lstrip("\ufeff").splitlines()[0].startswith("关于2026年度")


def test_year_contradicting_the_record_and_as_of_before_the_year(tmp_path):
    w = _sample_folder(tmp_path)
    r = run("merge", "-w", w, "--year", 2027, "--as-of", "2027-03-31")
    assert r.exit_code == 2 and "2027" in r.output and "2026年" in r.output and "Traceback" not in r.output
    r = run("merge", "-w", w, "--as-of", "2025-12-31")
    assert r.exit_code == 2 and "早于考核年度2026年" in r.output
    assert not (w / "output" / "result.json").exists()


def test_default_as_of_on_the_issues_day(tmp_path, monkeypatch):
    w = _sample_folder(tmp_path)
    on_day(monkeypatch, D(2026, 12, 2))
    r = run("merge", "-w", w, "-q", "--date", "2026-12-02")
    assert r.exit_code in (0, 1), r.output
    data = json.loads((w / "output" / "result.json").read_text(encoding="utf-8"))
    assert data["as_of"] == "2026-11-30" and data["in_progress_month"] is None
    title = (w / "output" / "通报.txt").read_text(encoding="utf-8-sig").splitlines()[0]
    assert "2026年1月至11月" in title and "季度" not in title


def test_old_folder_takes_the_year_from_its_templates(tmp_path, monkeypatch):
    w = tmp_path / "w"
    init_workspace(w, 2026)
    (w / FOLDER_FILE).unlink()  # made by an older version
    assert run("template", "-w", w, "--year", 2026, "--unit", "组织科").exit_code == 0
    (w / FOLDER_FILE).unlink()
    src = SAMPLES / "组织科-2026年前三季度.xlsx"
    shutil.copy2(src, w / "inbox" / src.name)
    on_day(monkeypatch, D(2027, 1, 20))
    r = run("merge", "-w", w, "--as-of", "2027-01-15", "-q")
    assert r.exit_code == 0, r.output
    assert "模板文件名上的年份记为2026年" in r.output
    assert Workspace(w).recorded_year() == 2026
    data = json.loads((w / "output" / "result.json").read_text(encoding="utf-8"))
    assert data["year"] == 2026 and data["final"]


def test_old_folder_records_year_given(tmp_path):
    w = tmp_path / "w"
    init_workspace(w, 2026)
    (w / FOLDER_FILE).unlink()
    src = SAMPLES / "组织科-2026年前三季度.xlsx"
    shutil.copy2(src, w / "inbox" / src.name)
    r = run("merge", "-w", w, "--year", 2026, "--as-of", "2026-09-30", "-q")
    assert r.exit_code == 0, r.output
    assert "按 --year 记为2026年" in r.output and Workspace(w).recorded_year() == 2026


def test_template_uses_and_guards_the_record(tmp_path):
    w = tmp_path / "w"
    init_workspace(w, 2025)
    r = run("template", "-w", w, "--unit", "组织科")
    assert r.exit_code == 0, r.output
    assert [p.name for p in (w / "outbox").iterdir()] == ["2025年组工信息报送登记表-组织科.xlsx"]
    r = run("template", "-w", w, "--year", 2026, "--unit", "组织科")
    assert r.exit_code == 2 and "2025" in r.output and "2026" in r.output


def test_a_broken_record_is_a_setup_error(tmp_path):
    w = tmp_path / "w"
    init_workspace(w, 2026)
    (w / FOLDER_FILE).write_text("year = 'x'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="zg-excel.toml"):
        Workspace(w).recorded_year()
    r = run("merge", "-w", w, "--as-of", "2026-09-30")
    assert r.exit_code == 2 and FOLDER_FILE in r.output


# ------------------------------------------------------------------ not a working folder, missing files


def test_not_a_working_folder(tmp_path):
    here = tmp_path / "somewhere"
    here.mkdir()
    for args in (["merge", "--as-of", "2026-03-31"], ["remind"], ["template"], ["rules", "check"],
                 ["check", str(SAMPLES / "组织科-2026年前三季度.xlsx")]):
        r = _in(here, args)
        assert r.exit_code == 2, (args, r.output)
        assert "当前文件夹" in r.output and "不是工作目录" in r.output and "-w" in r.output, args
    assert list(here.iterdir()) == []  # nothing written


def _in(folder, args):
    import os

    old = os.getcwd()
    os.chdir(folder)
    try:
        return CliRunner().invoke(cli, args)
    finally:
        os.chdir(old)


@pytest.mark.parametrize("name", ["单位名册.xlsx", "媒体目录.xlsx"])
def test_missing_roster_or_catalog_is_named(tmp_path, name):
    w = _sample_folder(tmp_path)
    (w / name).unlink()
    r = run("merge", "-w", w, "--as-of", "2026-09-30")
    assert r.exit_code == 2 and name in r.output and "zg-excel init" in r.output
    assert not (w / "output" / "result.json").exists()
    assert run("init", w).exit_code == 0 and (w / name).is_file()  # init restores only what is missing


def test_missing_rules_uses_the_shipped_rules(tmp_path):
    w = tmp_path / "w"
    init_workspace(w, 2026)
    (w / "rules.toml").unlink()
    src = SAMPLES / "组织科-2026年前三季度.xlsx"
    shutil.copy2(src, w / "inbox" / src.name)
    r = run("merge", "-w", w, "--as-of", "2026-09-30", "-q")
    assert r.exit_code == 0, r.output


# ------------------------------------------------------------------ empty inbox


def test_empty_inbox_writes_nothing(tmp_path):
    w = tmp_path / "w"
    init_workspace(w, 2026)
    (w / "output" / "通报.txt").write_text("上次的通报\n", encoding="utf-8")
    r = run("merge", "-w", w, "--as-of", "2026-09-30")
    assert r.exit_code == 1
    assert "收件文件夹 inbox 中没有任何文件" in r.output and "未改动" in r.output
    assert (w / "output" / "通报.txt").read_text(encoding="utf-8") == "上次的通报\n"
    assert sorted(p.name for p in (w / "output").iterdir()) == ["通报.txt"]


# ------------------------------------------------------------------ --as-of as units type dates


@pytest.mark.parametrize("typed", ["2026-3-31", "2026-03-31", "2026/3/31", "2026.3.31", "2026年3月31日",
                                   "20260331"])
def test_as_of_forms(tmp_path, typed):
    w = tmp_path / "w"
    init_workspace(w, 2026)
    src = SAMPLES / "组织科-2026年前三季度.xlsx"
    shutil.copy2(src, w / "inbox" / src.name)
    r = run("merge", "-w", w, "--as-of", typed, "-q")
    assert r.exit_code in (0, 1), r.output
    assert json.loads((w / "output" / "result.json").read_text(encoding="utf-8"))["as_of"] == "2026-03-31"


@pytest.mark.parametrize(("typed", "said"), [("2026-02-30", "日期不存在：2026-02-30"),
                                             ("2026-13-01", "日期无法识别"), ("九月底", "日期无法识别")])
def test_bad_as_of(tmp_path, typed, said):
    w = tmp_path / "w"
    init_workspace(w, 2026)
    r = run("merge", "-w", w, "--as-of", typed)
    assert r.exit_code == 2 and said in r.output and "YYYY-MM-DD" not in r.output


def test_summary_monthly_sheet_shows_the_month_in_progress(tmp_path):
    import openpyxl

    from zg_excel.outputs.summary import MONTHLY, write_summary

    result = score(_monthly_unit(["2026-10-03"]), as_of=D(2026, 10, 8))
    ws = openpyxl.load_workbook(write_summary(result, tmp_path / "s.xlsx"))[MONTHLY]
    head = [c.value for c in ws[3]]
    col = head.index("10月\n进行中") + 1
    assert head[col - 2] == "9月" and head[col] == "11月"
    row = next(r for r in range(4, ws.max_row + 1) if ws.cell(r, 2).value == "峡窝镇党委")
    cell = ws.cell(row, col)
    assert cell.value == 1 and cell.fill.fgColor.rgb.endswith("FFEB9C")  # shown, not red: not judged
    assert ws.cell(row, col - 1).value == 2 and ws.cell(row, col + 1).value in (None, "")
    notes = " ".join(str(c.value) for r in ws.iter_rows(min_row=row) for c in r if c.value)
    assert "进行中" in notes


def test_library_merge_takes_the_folders_year(tmp_path):
    from zg_excel.merge import merge

    w = tmp_path / "w"
    init_workspace(w, 2026)
    src = SAMPLES / "组织科-2026年前三季度.xlsx"
    shutil.copy2(src, w / "inbox" / src.name)
    result = merge(w, as_of=D(2027, 1, 15))
    assert (result.year, result.as_of, result.final) == (2026, D(2026, 12, 31), True)
    assert result.unit("组织科").points > 0


def test_an_as_of_date_after_today_is_honoured_with_a_warning(tmp_path):
    """A year-end run made on 2 December: the as-of date the user gave, and a word that December is not over."""
    import datetime as dt

    from tests.conftest import copy_samples
    from zg_excel.merge import merge
    from zg_excel.workspace import init_workspace

    root = tmp_path / "w"
    init_workspace(root)
    copy_samples(root / "inbox")
    early = merge(root, year=2026, as_of=dt.date(2026, 12, 31), today=dt.date(2026, 12, 2))
    assert early.as_of == dt.date(2026, 12, 31)
    [w] = [i for i in early.issues if i.code == "as_of_in_future"]
    assert w.severity == "warning" and "2026年12月31日晚于今天（2026年12月2日）" in w.message
    late = merge(root, year=2026, as_of=dt.date(2026, 12, 31), today=dt.date(2027, 1, 15))
    assert not [i for i in late.issues if i.code == "as_of_in_future"]
    assert [t.points for t in late.units] == [t.points for t in early.units]


def test_a_folder_whose_year_record_is_gone_is_never_switched_to_the_as_of_year(tmp_path):
    """zg-excel.toml deleted and no templates to tell the year: merge refuses and says how, never a 2027 report."""
    from click.testing import CliRunner

    from tests.conftest import copy_samples
    from zg_excel.cli import cli
    from zg_excel.workspace import Workspace, init_workspace

    root = tmp_path / "w"
    init_workspace(root, 2026)
    copy_samples(root / "inbox")
    Workspace(root).folder_file.unlink()
    res = CliRunner().invoke(cli, ["merge", "-w", str(root), "--as-of", "2027-01-15", "-q"])
    assert res.exit_code == 2, res.output
    assert "没有记录考核年度" in res.output and "--year 2026" in res.output
    assert not list((root / "output").glob("*汇总表*"))
    res = CliRunner().invoke(cli, ["merge", "-w", str(root), "--year", "2026", "--as-of", "2027-01-15", "-q"])
    assert res.exit_code in (0, 1), res.output
    assert Workspace(root).recorded_year() == 2026
    assert [p.name for p in (root / "output").glob("*汇总表*.xlsx")] == ["2026年组工信息考核汇总表.xlsx"]
