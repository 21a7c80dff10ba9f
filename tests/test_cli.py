"""The zg-excel command through click's CliRunner: init, template, merge, exit codes, help."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from tests.conftest import copy_samples
from zg_excel.cli import cli


def run(*args, **kw):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False, **kw)


def test_help_is_chinese_with_examples():
    for cmd in ([], ["init"], ["template"], ["merge"]):
        out = run(*cmd, "--help").output
        assert re.search(r"[\u4e00-\u9fff]", out), cmd
        assert "zg-excel" in out and ("示例" in out or "流程" in out), cmd


def test_init_creates_folder_and_never_overwrites(tmp_path):
    w = tmp_path / "2026组工信息"
    r = run("init", w)
    assert r.exit_code == 0, r.output
    for name in ("单位名册.xlsx", "媒体目录.xlsx", "rules.toml", "templates/通报.txt.j2"):
        assert (w / name).is_file(), name
    for d in ("inbox", "outbox", "output"):
        assert (w / d).is_dir()
    (w / "rules.toml").write_text('[multiplier]\nfactor = 2\n', encoding="utf-8")
    before = (w / "单位名册.xlsx").read_bytes()
    r = run("init", w)
    assert r.exit_code == 0 and "已存在" in r.output
    assert (w / "rules.toml").read_text(encoding="utf-8") == '[multiplier]\nfactor = 2\n'
    assert (w / "单位名册.xlsx").read_bytes() == before


def test_roster_prefilled_with_categories(tmp_path):
    import openpyxl

    run("init", tmp_path / "w")
    wb = openpyxl.load_workbook(tmp_path / "w" / "单位名册.xlsx")
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert rows[0][:5] == ("单位名称", "类别", "别名", "联系人", "邮箱")
    cats = {r[0]: r[1] for r in rows[1:]}
    assert cats["峡窝镇党委"] == "镇街" and cats["组织科"] == "科室" and cats["区直机关工委"] == "其他党工委"
    assert sum(1 for c in cats.values() if c == "镇街") == 6


def test_template_writes_one_per_unit(tmp_path):
    w = tmp_path / "w"
    run("init", w)
    r = run("template", "-w", w, "--year", 2026)
    assert r.exit_code == 0, r.output
    files = sorted(p.name for p in (w / "outbox").iterdir())
    assert len(files) == 17
    assert "2026年组工信息报送登记表-峡窝镇党委.xlsx" in files


def test_merge_samples_end_to_end(tmp_path):
    w = tmp_path / "w"
    run("init", w)
    copy_samples(w / "inbox")
    r = run("merge", "-w", w, "--as-of", "2026-09-30", "--date", "2026-10-08")
    # the samples hold a bad date cell and an unknown outlet: errors listed, exit code 1
    assert r.exit_code == 1, r.output
    assert "[1/" in r.output and "未报送：矿山街道党工委" in r.output
    out = w / "output"
    assert (out / "2026年组工信息考核汇总表.xlsx").is_file()
    assert (out / "通报.txt").is_file() and (out / "通报.docx").is_file()
    data = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert data["year"] == 2026 and data["as_of"] == "2026-09-30"
    quiet = run("merge", "-w", w, "--as-of", "2026-09-30", "-q")
    assert "[1/" not in quiet.output and "已写出" not in quiet.output


def test_merge_exit_code_2_on_setup_errors(tmp_path):
    r = CliRunner().invoke(cli, ["merge", "-w", str(tmp_path / "nope")])
    assert r.exit_code == 2 and "工作目录不存在" in r.output
    w = tmp_path / "w"
    run("init", w)
    (w / "rules.toml").write_text('[multiplier]\nfactr = 3\n', encoding="utf-8")
    r = CliRunner().invoke(cli, ["merge", "-w", str(w)])
    assert r.exit_code == 2 and "multiplier.factr" in r.output
    r = CliRunner().invoke(cli, ["merge", "-w", str(w), "--as-of", "2026/9/31"])
    assert r.exit_code == 2 and "日期不存在" in r.output


def test_merge_exit_code_0_without_errors(tmp_path):
    w = tmp_path / "w"
    run("init", w)
    src = Path(__file__).resolve().parent.parent / "sample_workbooks" / "组织科-2026年前三季度.xlsx"
    (w / "inbox" / src.name).write_bytes(src.read_bytes())
    r = run("merge", "-w", w, "--as-of", "2026-09-30", "-q")
    assert r.exit_code == 0, r.output
