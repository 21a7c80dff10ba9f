"""``check_files`` / ``zg-excel check``: one file at a time, exactly as the merge reads and scores it."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tests.conftest import SAMPLES
from zg_excel.check import check_files, fix_text, render_check_text
from zg_excel.commands.check import check
from zg_excel.issues import ERROR
from zg_excel.result import FAILED, MERGED, REJECTED, SKIPPED
from zg_excel.model import DUPLICATE, SCORED
from zg_excel.workspace import init_workspace

AS_OF = dt.date(2026, 9, 30)
BAD_DATE = "工业路街道党工委报送统计表.xlsx"  # a 2026.13.5 date cell
CLEAN = "组织科-2026年前三季度.xlsx"
BY_UNIT_CELL = "卫健系统报送情况.xlsx"  # rows copied into a new workbook: no fingerprint


def cli():
    group = click.Group()
    group.add_command(check)
    return group


def run(*args):
    return CliRunner().invoke(cli(), ["check", *[str(a) for a in args]], catch_exceptions=False)


@pytest.fixture()
def here(tmp_path) -> Path:
    """A working folder whose path has Chinese characters and spaces."""
    w = tmp_path / "2026 组工 信息"
    init_workspace(w)
    return w


def copy(name: str, folder: Path, as_name: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (as_name or name)
    shutil.copy2(SAMPLES / name, target)
    return target


def test_a_bad_cell_is_located_with_a_fix_and_blocks(here):
    f = copy(BAD_DATE, here / "收到 的 文件")
    report = check_files([f], here, year=2026, as_of=AS_OF)
    [fc] = report.files
    assert fc.status == MERGED and fc.unit == "工业路街道党工委" and fc.found_by == "模板标识"
    assert fc.events == 9 and fc.scoring == 8 and fc.outcomes == {"scored": 8, "invalid": 1}
    assert fc.points > 0 and fc.blocked_rows == 1
    [err] = fc.errors
    assert (err.sheet, err.row, err.column, err.value) == ("录用登记", 5, "录用日期", "2026.13.5")
    assert "2026-03-05" in fix_text(err)
    assert report.has_blocking
    text = render_check_text(report)
    for part in ("【1】工业路街道党工委报送统计表.xlsx", "填报单位：工业路街道党工委", "需要修改", "第5行", "“录用日期”列",
                 "修改方法", "重新报送整个文件", "可计分8行"):
        assert part in text, part
    text.encode("gbk")  # every character shows on a Chinese Windows console


def test_a_clean_file_exits_0(here):
    f = copy(CLEAN, here / "inbox")
    r = run("-w", here, "--as-of", "2026-09-30", f)
    assert r.exit_code == 0, r.output
    assert "未发现问题，可以报送" in r.output and "组织科" in r.output


def test_cli_exit_1_when_rows_are_kept_out(here):
    f = copy(BAD_DATE, here / "inbox")
    r = run("-w", here, "--as-of", "2026-09-30", f)
    assert r.exit_code == 1
    assert "2026.13.5" in r.output


def test_unit_found_by_unit_cell_and_by_file_name(here, tmp_path):
    f = copy(BY_UNIT_CELL, here / "inbox")
    [fc] = check_files([f], here, year=2026, as_of=AS_OF).files
    assert fc.found_by == "填报单位" and fc.unit == "区卫生健康系统党委"
    assert "按表头上方的“填报单位”认定" in render_check_text(check_files([f], here, year=2026, as_of=AS_OF))

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "录用登记"
    ws.append(["稿件标题", "录用形式", "媒体名称", "录用日期"])
    ws.append(["峡窝镇召开党建工作会", "采用", "郑州日报", "2026-03-05"])
    named = here / "inbox" / "峡窝镇党委 补报 3月.xlsx"
    wb.save(named)
    [fc] = check_files([named], here, year=2026, as_of=AS_OF).files
    assert (fc.unit, fc.found_by, fc.scoring, fc.points) == ("峡窝镇党委", "文件名", 1, 5)
    assert not fc.has_blocking


def test_unknown_unit_and_unreadable_file_block(here):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "录用登记"
    ws.append(["稿件标题", "录用形式", "媒体名称", "录用日期"])
    ws.append(["某稿件", "采用", "郑州日报", "2026-03-05"])
    nobody = here / "inbox" / "无名 单位.xlsx"
    nobody.parent.mkdir(exist_ok=True)
    wb.save(nobody)
    broken = here / "inbox" / "坏 文件.xlsx"
    broken.write_bytes(b"PK\x03\x04 this is not a zip")
    report = check_files([nobody, broken], here, year=2026, as_of=AS_OF)
    by_name = {f.name: f for f in report.files}
    assert by_name["无名 单位.xlsx"].status == REJECTED
    assert by_name["无名 单位.xlsx"].errors[0].code == "unit_unknown"
    assert "本单位的模板" in fix_text(by_name["无名 单位.xlsx"].errors[0])
    assert by_name["坏 文件.xlsx"].status == FAILED and by_name["坏 文件.xlsx"].has_blocking
    assert report.has_blocking
    text = render_check_text(report)
    assert "这个文件不能合并" in text
    r = run("-w", here, nobody, broken)
    assert r.exit_code == 1


def test_a_lock_file_is_skipped_and_does_not_block(here):
    f = copy("~$峡窝镇党委-2026年9月.xlsx", here / "inbox")
    report = check_files([f], here, year=2026, as_of=AS_OF)
    assert report.files[0].status == SKIPPED and not report.has_blocking
    assert "不是报送文件" in render_check_text(report)


def test_a_folder_stands_for_its_files_and_each_is_checked_alone(here):
    inbox = here / "inbox"
    for name in ("中心路街道党工委-1至6月.xlsx", "中心路街道党工委-1至6月（更正）.xlsx", CLEAN):
        copy(name, inbox / "子 文件夹" if name == CLEAN else inbox)
    report = check_files([inbox], here, year=2026, as_of=AS_OF)
    names = [f.name for f in report.files]
    assert names == ["中心路街道党工委-1至6月.xlsx", "中心路街道党工委-1至6月（更正）.xlsx", f"子 文件夹/{CLEAN}"]
    # a file is never superseded by another one checked with it: each stands alone
    assert all(f.status == MERGED for f in report.files)
    assert all("superseded" not in f.outcomes for f in report.files)
    assert not any(i.code == "not_returned" for i in report.issues)


def test_a_folder_with_a_pipe_and_a_link_out_reports_both_as_merge_does(here, tmp_path):
    import os

    inbox = here / "inbox"
    copy(CLEAN, inbox)
    os.mkfifo(inbox / "管道.xlsx")  # never opened: opening a FIFO blocks
    outside = copy(CLEAN, tmp_path / "别处", "外面.xlsx")
    (inbox / "链接.xlsx").symlink_to(outside)
    report = check_files([inbox], here, year=2026, as_of=AS_OF)
    by_name = {f.name: f for f in report.files}
    assert by_name[CLEAN].status == MERGED
    assert by_name["管道.xlsx"].status in (FAILED, SKIPPED) and "不是普通文件" in by_name["管道.xlsx"].message
    assert by_name["链接.xlsx"].status in (FAILED, SKIPPED) and "以外" in by_name["链接.xlsx"].message
    assert "外面.xlsx" not in by_name


def test_points_equal_the_merge_of_the_same_file(here):
    """The same reader and scorer: a file alone scores what it scores in the merge."""
    from zg_excel.merge import merge

    for name in ("峡窝镇党委-2026年3月.xlsx", "新安路街道党工委-三季度（LibreOffice保存）.xlsx", BAD_DATE, CLEAN):
        copy(name, here / "inbox")
    result = merge(here, year=2026, as_of=AS_OF)
    report = check_files([here / "inbox"], here, year=2026, as_of=AS_OF)
    for fc in report.files:
        events = [e for e in result.events if e.source.file == fc.name]
        assert not any(e.outcome == DUPLICATE for e in events)
        assert fc.scoring == sum(1 for e in events if e.outcome == SCORED), fc.name
        assert fc.points == sum(e.points for e in events if e.outcome == SCORED), fc.name
        merged = sorted((i.code, i.row or 0) for i in result.issues if i.file == fc.name)
        assert sorted((i.code, i.row or 0) for i in fc.issues) == merged, fc.name


def test_rules_of_the_working_folder_are_used(here):
    f = copy(CLEAN, here / "inbox")
    before = check_files([f], here, year=2026, as_of=AS_OF).files[0].points
    (here / "rules.toml").write_text('[points]\n"采用" = { "区级" = 2, "市级" = 6, "省级" = 11, "中央级" = 31 }\n',
                                     encoding="utf-8")
    after = check_files([f], here, year=2026, as_of=AS_OF).files[0].points
    assert after != before


def test_without_a_working_folder_the_shipped_settings_are_used(tmp_path):
    f = copy(CLEAN, tmp_path / "桌面")
    report = check_files([f], tmp_path / "没有这个文件夹", year=2026, as_of=AS_OF)
    assert report.files[0].unit == "组织科" and "默认名册" in report.roster_source


def test_year_defaults_like_merge(here):
    f = copy(CLEAN, here / "inbox")
    report = check_files([f], here, as_of=AS_OF)
    assert (report.year, report.as_of) == (2026, AS_OF)


def test_usage_and_setup_errors_exit_2(here):
    assert CliRunner().invoke(cli(), ["check"]).exit_code == 2  # no file
    assert CliRunner().invoke(cli(), ["check", str(here / "没有.xlsx")]).exit_code == 2
    f = copy(CLEAN, here / "inbox")
    assert CliRunner().invoke(cli(), ["check", "--as-of", "2026/9/30", str(f)]).exit_code == 2
    (here / "rules.toml").write_text("[multiplier]\nfactr = 3\n", encoding="utf-8")
    r = CliRunner().invoke(cli(), ["check", "-w", str(here), str(f)])
    assert r.exit_code == 2 and "multiplier.factr" in r.output and "Traceback" not in r.output


def test_help_is_chinese_with_an_example():
    r = CliRunner().invoke(cli(), ["check", "--help"])
    assert r.exit_code == 0
    assert "示例" in r.output and "zg-excel check" in r.output and "退出码" in r.output


def test_every_error_of_the_samples_has_a_fix(tmp_path):
    """Whatever stops a row, the information officer is told what to change."""
    files = [p for p in SAMPLES.iterdir() if p.suffix == ".xlsx"]
    report = check_files(files, tmp_path, year=2026, as_of=AS_OF)
    for fc in report.files:
        for issue in fc.errors:
            assert fix_text(issue) or "请" in issue.message, issue
            assert issue.severity == ERROR


# ------------------------------------------------------------------ issue 13, items 20 and 21


def test_check_without_files_checks_the_inbox(here):
    """``check -w DIR`` with no file does what the 检查退回文件 launcher does: the whole inbox."""
    copy(CLEAN, here / "inbox")
    copy(BAD_DATE, here / "inbox" / "子文件夹")
    result = run("-w", here, "--as-of", "2026-09-30", "-q")
    assert "缺少参数" not in result.output
    assert "共检查2个文件" in result.output
    assert CLEAN in result.output and BAD_DATE in result.output
    assert result.exit_code == 1  # the bad date blocks a row


def test_an_old_unit_name_gets_the_closest_roster_names():
    """A file headed with a unit's old name (the roster renamed it) is refused with the closest names offered."""
    from tests.factory import book
    from zg_excel.merge import score_books
    from zg_excel.roster import Roster, Unit, load_catalog, load_roster
    from zg_excel.rules import load_rules

    rules = load_rules()
    units = [u if u.name != "峡窝镇党委" else Unit("上街区峡窝镇党工委", "镇街", ("峡窝镇党工委",), order=u.order)
             for u in load_roster(None, rules).units]
    roster = Roster(units)
    assert roster.closest("峡窝镇党委") == ["上街区峡窝镇党工委"]
    assert roster.closest("完全无关的名字abc") == []
    old = book("峡窝镇党委", fingerprint=False)
    result = score_books([("旧名称.xlsx", old, dt.datetime(2026, 10, 1))], year=2026, as_of=AS_OF, rules=rules,
                         roster=roster, catalog=load_catalog(None, rules))
    [err] = [i for i in result.issues.sorted() if i.code == "unit_unknown"]
    assert "“峡窝镇党委”不在单位名册中" in err.message
    assert "最接近的名册单位：上街区峡窝镇党工委" in err.message


def test_roster_checks_say_what_to_fill(tmp_path):
    """An empty 类别 asks for one of the categories (never ``[categories.""]``); ``not-an-email`` is flagged."""
    from zg_excel.roster import ROSTER, validate_rows
    from zg_excel.rules import load_rules

    rules = load_rules()
    issues = validate_rows([(2, {"单位名称": "甲单位", "类别": "", "邮箱": ""}),
                            (3, {"单位名称": "乙单位", "类别": "镇街", "邮箱": "not-an-email"})], ROSTER, rules)
    by_code = {i.code: i for i in issues}
    empty = by_code["roster_no_category"]
    assert empty.row == 2 and empty.column == "类别"
    assert "[categories" not in empty.fix and "镇街" in empty.fix
    email = by_code["roster_bad_email"]
    assert (email.row, email.column, email.value) == (3, "邮箱", "not-an-email")


# ------------------------------------------------------------------ issue 13, item 22


def test_captured_output_reads_in_order(tmp_path):
    """``zg-excel merge > log.txt 2>&1``: the progress first, then the summary, then the errors, never mixed."""
    import subprocess
    import sys

    from tests.conftest import copy_samples

    w = tmp_path / "工作目录"
    init_workspace(w)
    copy_samples(w / "inbox")
    log = tmp_path / "log.txt"
    with open(log, "wb") as out:
        done = subprocess.run([sys.executable, "-m", "zg_excel", "merge", "-w", str(w), "--year", "2026",
                               "--as-of", "2026-09-30"], stdout=out, stderr=subprocess.STDOUT, timeout=300)
    assert done.returncode == 1  # the samples' two deliberate errors
    lines = log.read_text(encoding="utf-8").splitlines()
    progress = [i for i, ln in enumerate(lines) if ln.startswith("[") and "/" in ln.split("]")[0]]
    summary = next(i for i, ln in enumerate(lines) if ln.startswith("2026年度，截至"))
    written = [i for i, ln in enumerate(lines) if ln.startswith("已写出")]
    errors = next(i for i, ln in enumerate(lines) if ln.startswith("有2个错误"))
    assert progress and max(progress) < summary < min(written) <= max(written) < errors
    assert all(ln.startswith("  ") for ln in lines[errors + 1:] if ln)


def test_another_units_name_in_its_template_is_not_guessed(here):
    """A unit typed its own name into another unit's template: an error naming both, not merged."""
    import openpyxl

    f = copy(CLEAN, here / "收到", as_name="干部科-前三季度.xlsx")
    wb = openpyxl.load_workbook(f)
    for name in ("报送登记", "录用登记"):
        wb[name]["A2"] = "填报单位：干部科"
    wb.save(f)
    report = check_files([f], here, year=2026, as_of=AS_OF)
    [fc] = report.files
    assert fc.status == REJECTED and fc.has_blocking
    [err] = fc.errors
    assert err.code == "unit_identity_conflict" and "干部科" in err.message and "组织科" in err.message
    assert "干部科" in fix_text(err) and "组织科" in fix_text(err)
    assert run("-w", here, f).exit_code == 1


def test_a_date_without_year_is_a_notice_that_does_not_block(here):
    import openpyxl

    f = copy(CLEAN, here / "收到")
    wb = openpyxl.load_workbook(f)
    ws = wb["录用登记"]
    col = [c.value for c in ws[3]].index("录用日期") + 1
    ws.cell(4, col, "3月7日")
    wb.save(f)
    report = check_files([f], here, year=2026, as_of=AS_OF)
    [fc] = report.files
    assert not fc.has_blocking and fc.status == MERGED
    [note] = [i for i in fc.issues if i.code == "assumed_year"]
    assert (note.sheet, note.row, note.column, note.severity) == ("录用登记", 4, "录用日期", "info")
    assert "按2026年计" in note.message


def test_the_readme_demo_folder_is_ignored_by_git():
    """The README's first line makes demo/ in the repository: git must not offer it for a commit."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    first = (root / "README.md").read_text(encoding="utf-8").splitlines()[0]
    assert "init demo" in first
    if (root / ".git").exists():
        done = subprocess.run(["git", "check-ignore", "-q", "demo/inbox/x.xlsx"], cwd=root, timeout=30)
        assert done.returncode == 0
    else:
        assert "demo/" in (root / ".gitignore").read_text(encoding="utf-8").splitlines()


# ------------------------------------------------------------------ 台帐 proof files (as merge decides them)


def _return_naming_a_proof(root: Path, out: Path) -> Path:
    from tests.fill import fill_return
    from zg_excel.template import write_template
    from zg_excel.workspace import Workspace

    rules, roster, catalog = Workspace(root).load()
    tpl = root.parent / "tpl.xlsx"
    write_template(tpl, unit="峡窝镇党委", year=2026, roster=roster, catalog=catalog, rules=rules)
    events = [{"稿件标题": "有证明", "录用形式": "采用", "媒体名称": "郑州日报", "录用日期": dt.date(2026, 8, 5),
               "证明材料": "x.pdf"},
              {"稿件标题": "没证明", "录用形式": "采用", "媒体名称": "郑州日报", "录用日期": dt.date(2026, 8, 6)}]
    return fill_return(tpl, out, events=events)


def _proof_issues(fc) -> list[str]:
    return [f"{i.message}：{i.value}" for i in fc.issues if i.code.startswith("ledger")]


@pytest.mark.parametrize("how", ["inbox", "files", "files_apart"])
def test_check_agrees_with_merge_about_proof_files(here, how):
    from tests.test_ledger import PDF
    from zg_excel.merge import merge

    inbox = here / "inbox" / "峡窝镇党委"
    inbox.mkdir(parents=True)
    ret = _return_naming_a_proof(here, inbox / "峡窝镇党委-8月.xlsx")
    proof = inbox / "x.pdf"
    proof.write_bytes(PDF)
    if how == "inbox":
        result = run("-w", here, "--year", 2026, "--as-of", AS_OF)
        report = check_files([here / "inbox"], here, year=2026, as_of=AS_OF)
    else:
        if how == "files_apart":  # the return on the desk, its proof in another folder
            (here / "desk").mkdir()
            proof = proof.rename(here / "desk" / "x.pdf")
        result = run("-w", here, "--year", 2026, "--as-of", AS_OF, ret, proof)
        report = check_files([ret, proof], here, year=2026, as_of=AS_OF)
    by_status = {fc.status: fc for fc in report.files}
    assert set(by_status) == {MERGED, "台帐材料"}
    back, pdf = by_status[MERGED], by_status["台帐材料"]
    assert _proof_issues(back) == ["市级媒体“郑州日报”录用的稿件缺少台帐证明材料：没证明"]  # only the row without
    assert pdf.unit == "峡窝镇党委" and pdf.format == "PDF" and not pdf.issues and not pdf.has_blocking
    assert [ev.title for _, ev in pdf.proves] == ["有证明"]
    text = result.output
    assert "没有随报表收到" not in text and "不是电子表格" not in text and "按未报送统计" not in text
    assert "台帐证明材料（PDF），属于峡窝镇党委" in text and "“有证明”" in text and "1个台帐证明材料" in text
    if how == "inbox":  # merge says the same
        merged = merge(here, year=2026, as_of=AS_OF)
        assert [f"{i.message}：{i.value}" for i in merged.issues if i.code.startswith("ledger")] == _proof_issues(back)


def test_a_proof_file_checked_alone_is_reported_as_before(here):
    from tests.test_ledger import PDF

    (here / "x.pdf").write_bytes(PDF)
    [fc] = check_files([here / "x.pdf"], here, year=2026, as_of=AS_OF).files
    assert fc.status == SKIPPED and "PDF 文件" in fc.message
