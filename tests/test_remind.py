"""催报: who gets a reminder, what it says, the files the mailer reads, and the ``remind`` command."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from click.testing import CliRunner

from tests.conftest import copy_samples
from tests.factory import YEAR, book, ev
from zg_excel.outputs import reminders as R
from zg_excel.text import points_text
from zg_excel.workspace import Workspace
from zg_excel.rules import load_rules
from zg_excel.merge import score_books
from zg_excel.roster import Roster, load_catalog, load_roster

ISSUED = dt.date(2026, 10, 8)  # a Thursday


def sub(title, date, dest="区委组织部"):
    return {"报送日期": date, "稿件标题": title, "报送对象": dest}


def scored(files, *, contacts=None, as_of=dt.date(YEAR, 9, 30)):
    rules = load_rules()
    roster = load_roster(None, rules)
    if contacts:
        roster = Roster([dataclasses.replace(u, contact=contacts.get(u.name, "")) for u in roster.units])
    items = [(name, b, dt.datetime(YEAR, 10, 1)) for name, b in files.items()]
    return score_books(items, year=YEAR, as_of=as_of, rules=rules, roster=roster,
                       catalog=load_catalog(None, rules))


def test_sample_reminders(sample_result):
    rs = R.build_reminders(sample_result, issued=ISSUED)
    by_unit = {r.unit: r for r in rs}
    expected = {t.unit for t in sample_result.units
                if not t.returned or t.short_months or t.behind_prorated
                or (not sample_result.rules.categories[t.category].monthly_submissions
                    and 0 in t.submissions_by_month.values())}
    assert set(by_unit) == expected
    assert [r.unit for r in rs] == [t.unit for t in sample_result.units if t.unit in expected]  # roster order
    assert by_unit["矿山街道党工委"].kinds == (R.NOT_RETURNED,)
    assert "尚未报送2026年1—9月组工信息统计表" in by_unit["矿山街道党工委"].text
    for t in sample_result.units:  # each reason named exactly when the tally says so
        if t.unit not in by_unit or not t.returned:
            continue
        kinds = by_unit[t.unit].kinds
        if sample_result.rules.categories[t.category].monthly_submissions:
            assert (R.SHORT_MONTHS in kinds) == bool(t.short_months), t.unit
        else:
            assert (R.ZERO_MONTHS in kinds) == (0 in t.submissions_by_month.values()), t.unit
        assert (R.POINTS_BEHIND in kinds) == t.behind_prorated, t.unit
    assert R.SHORT_MONTHS in by_unit["济源路街道党工委"].kinds
    assert "5月1条，低于每月2条的要求" in by_unit["济源路街道党工委"].text
    edu = sample_result.unit("区委教育工委")
    assert R.POINTS_BEHIND in by_unit["区委教育工委"].kinds
    assert (f"积分{points_text(edu.total)}分，低于序时进度目标15分（全年目标20分）"
            in by_unit["区委教育工委"].text)
    assert "2月1条、7月1条" in by_unit["干部监督科"].text
    assert "中心路街道党工委" not in by_unit


def test_message_tone_deadline_and_sign_off(sample_result):
    rs = R.build_reminders(sample_result, issued=ISSUED)
    assert rs.deadline == dt.date(2026, 10, 13)
    for r in rs:
        lines = r.text.splitlines()
        assert lines[0] == f"{r.unit}：您好！"  # no contact in the default roster
        assert f"你单位（{r.unit}）" in r.text  # the register of the 退回单 too (issue 13 item 21)
        assert "10月13日（星期二）前" in r.text
        assert "谢谢！" in r.text
        assert lines[-2:] == ["中共上街区委组织部", "2026年10月8日"]
        assert len(r.text) < 400  # fits a WeChat / 短信 message


def test_contact_is_named_and_deadline_can_be_set():
    files = {"a.xlsx": book("峡窝镇党委", [ev("稿", "采用", "郑州日报", "2026-02-03")],
                            [sub("报一", "2026-01-05"), sub("报二", "2026-01-06")])}
    result = scored(files, contacts={"峡窝镇党委": "王明", "矿山街道党工委": "李芳"})
    rs = R.build_reminders(result, issued=ISSUED, deadline=dt.date(2026, 10, 20))
    xw = rs.get("峡窝镇党委")
    assert xw.contact == "王明" and xw.text.startswith("王明同志：您好！")
    assert "2月0条" in xw.text and R.SHORT_MONTHS in xw.kinds and R.POINTS_BEHIND in xw.kinds
    assert "10月20日（星期二）前" in xw.text
    assert rs.get("矿山街道党工委").text.startswith("李芳同志：您好！")
    assert "王明" in rs.combined and "（联系人：王明）" in rs.combined


def test_default_deadline_skips_the_weekend():
    assert R.default_deadline(dt.date(2026, 10, 8)) == dt.date(2026, 10, 13)
    assert R.default_deadline(dt.date(2026, 10, 9)) == dt.date(2026, 10, 14)
    assert R.default_deadline(dt.date(2026, 10, 6)) == dt.date(2026, 10, 12)  # Sunday 11th → Monday


def test_nobody_behind_means_no_reminders():
    subs = [sub(f"报{m}-{i}", f"2026-{m:02d}-0{i}") for m in (1, 2, 3) for i in (1, 2)]
    files = {}
    for unit in ("峡窝镇党委", "济源路街道党工委", "中心路街道党工委", "新安路街道党工委", "工业路街道党工委",
                 "矿山街道党工委"):
        files[f"{unit}.xlsx"] = book(unit, [ev(f"{unit}稿", "采用", "人民日报", "2026-02-03")], subs)
    result = scored(files, as_of=dt.date(YEAR, 3, 31))
    rs = R.build_reminders(result, issued=ISSUED)
    assert not any(r.category == "镇街" for r in rs)


def test_combined_list(sample_result):
    rs = R.build_reminders(sample_result, issued=ISSUED)
    lines = rs.combined.splitlines()
    assert lines[0].startswith(f"各单位：截至2026年9月30日，以下{len(rs)}个单位")
    for i, r in enumerate(rs, start=1):
        assert lines[i] == f"{i}. {r.line}"
    assert "贵单位" not in rs.combined


def test_write_reminders(sample_result, tmp_path):
    rs = R.build_reminders(sample_result, issued=ISSUED)
    out = tmp_path / "output"
    (out / "催报").mkdir(parents=True)
    stale = out / "催报" / "中心路街道党工委.txt"
    stale.write_text("旧的催报", encoding="utf-8")
    mine = out / "催报" / "说明.txt"
    mine.write_text("用户自己的文件", encoding="utf-8")
    paths = R.write_reminders(rs, out)
    assert [p.name for p in paths] == [f"{r.unit}.txt" for r in rs] + ["催报汇总.txt"]
    for p, r in zip(paths, rs):
        raw = p.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
        assert raw.decode("utf-8-sig").replace("\r\n", "\n") == r.text
    assert paths[-1].read_bytes().decode("utf-8-sig").replace("\r\n", "\n") == rs.combined
    assert not stale.exists()  # a unit no longer behind: the mailer must not send its old text
    assert mine.exists()
    assert not list((out / "催报").glob(".~*"))  # atomic writes leave no temporary files


def test_mailer_finds_the_reminders(sample_result, tmp_path):
    from zg_excel.mail.sources import find_unit_reminder

    rs = R.build_reminders(sample_result, issued=ISSUED)
    R.write_reminders(rs, tmp_path / "output")
    for unit in sample_result.roster:
        found = find_unit_reminder(tmp_path, unit)
        assert (found is not None) == (rs.get(unit.name) is not None), unit.name


def test_filename_is_safe(tmp_path):
    assert Workspace(tmp_path).reminder_path("a/b:c").name == "a_b_c.txt"


# ------------------------------------------------------------------ the command


def _cli():
    from zg_excel.commands.remind import remind

    return remind


@pytest.fixture()
def fresh_workdir(tmp_path):
    from zg_excel.workspace import init_workspace

    root = tmp_path / "2026组工信息"
    init_workspace(root)
    copy_samples(root / "inbox")
    return root


def test_command_writes_and_prints(fresh_workdir):
    res = CliRunner().invoke(_cli(), ["-w", str(fresh_workdir), "--year", "2026", "--as-of", "2026-09-30",
                                      "--deadline", "2026-10-20"])
    assert res.exit_code == 0, res.output
    assert "各单位：截至2026年9月30日" in res.output
    assert "矿山街道党工委" in res.output
    folder = fresh_workdir / "output" / "催报"
    assert (folder / "催报汇总.txt").is_file() and (folder / "矿山街道党工委.txt").is_file()
    assert "10月20日" in (folder / "矿山街道党工委.txt").read_text(encoding="utf-8-sig")


def test_command_quiet(fresh_workdir):
    res = CliRunner().invoke(_cli(), ["-w", str(fresh_workdir), "--as-of", "2026-09-30", "-q"])
    assert res.exit_code == 0 and res.output == ""
    assert (fresh_workdir / "output" / "催报" / "催报汇总.txt").is_file()


def test_command_setup_errors(tmp_path, fresh_workdir):
    res = CliRunner().invoke(_cli(), ["-w", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "工作目录不存在" in res.output
    res = CliRunner().invoke(_cli(), ["-w", str(fresh_workdir), "--as-of", "2026-13-01"])
    assert res.exit_code == 2 and "日期无法识别：2026-13-01" in res.output
    (fresh_workdir / "rules.toml").write_text("[nonsense]\nx = 1\n", encoding="utf-8")
    res = CliRunner().invoke(_cli(), ["-w", str(fresh_workdir)])
    assert res.exit_code == 2 and "nonsense" in res.output


def test_command_help_is_chinese_with_an_example():
    res = CliRunner().invoke(_cli(), ["--help"])
    assert res.exit_code == 0
    assert "催报" in res.output and "示例：zg-excel remind -w" in res.output
    for option in ("--workdir", "--year", "--as-of", "--deadline", "--quiet"):
        assert option in res.output


def test_unit_facing_texts_use_one_register(sample_result, tmp_path):
    """催报, 退回单 and the template mail are addressed by the 组织部 to its units: all say 你单位, none 贵单位."""
    from importlib import resources

    from zg_excel.outputs.returnslips import write_return_slips

    rs = R.build_reminders(sample_result, issued=ISSUED)
    texts = [r.text for r in rs] + [rs.combined]
    texts.append(resources.files("zg_excel").joinpath("defaults/mail_body.j2").read_text(encoding="utf-8"))
    import openpyxl

    for path in write_return_slips(sample_result, tmp_path):
        wb = openpyxl.load_workbook(path)
        texts.append("\n".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True)
                               for v in row if v))
    assert any("你单位" in t for t in texts)
    assert not any("贵单位" in t for t in texts)
