"""Issue 12, item 10: settings a clerk may get wrong are refused before any return is read.

Each case is the one the issue reproduced, run for real through ``zg-excel merge -w`` and
``zg-excel rules check -w`` on a folder made by ``init``: both exit 2 with the same clear
Chinese message naming the file (and key, row or line), no traceback, and the merge reads
nothing (no progress line) and writes nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from zg_excel.cli import cli

RETURN = "峡窝镇党委-2026年9月.xlsx"


def _run(args):
    return CliRunner().invoke(cli, args)


@pytest.fixture
def w(tmp_path) -> Path:
    w = tmp_path / "2026组工信息"
    assert _run(["init", str(w), "-q"]).exit_code == 0
    book = openpyxl.Workbook()
    book.active["A1"] = "not a return"
    book.save(w / "inbox" / RETURN)  # a merge that read it would show "[1/1] …"
    return w


def _refused(w: Path, *messages: str) -> None:
    check = _run(["rules", "check", "-w", str(w)])
    assert check.exit_code == 2, check.output
    merge = _run(["merge", "-w", str(w), "--as-of", "2026-09-30"])
    assert merge.exit_code == 2, merge.output
    for message in messages:
        assert message in check.output, check.output
        assert message in merge.output, merge.output
    for out in (check.output, merge.output):
        assert "Traceback" not in out and "程序内部错误" not in out and not re.search(r"[A-Z][a-z]+Error", out)
    assert RETURN not in merge.output and "[1/1]" not in merge.output
    assert not any((w / "output").iterdir())


def _set(w: Path, pattern: str, replacement: str) -> None:
    path = w / "rules.toml"
    text, n = re.subn(pattern, replacement, path.read_text(encoding="utf-8"), count=1, flags=re.MULTILINE)
    assert n == 1, pattern
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("pattern,replacement,message", [
    (r"^places = 2", "places = -1", "rounding.places：应为0 至 6 之间的整数，实际为 -1"),
    (r"^places = 2", "places = 400", "rounding.places：应为0 至 6 之间的整数，实际为 400"),
    (r"^monthly_submissions = 2", 'monthly_submissions = "三"',
     'categories.镇街.monthly_submissions：应为整数，实际为 "三"'),
    (r"^timeout_s = 60", "timeout_s = -1", "intake.timeout_s：应为大于 0 且不大于 86400 的数值"),
    (r"^memory_mb = 1024", "memory_mb = 1", "intake.memory_mb：应为64 至 1048576 之间的整数"),
    (r"^annual_points = 50", "annual_points = -5", "categories.镇街.annual_points：应为0 至 100000 之间的数值"),
    (r"^workers = 0", "workers = 64", "intake.workers：应为0 至 16 之间的整数"),
])
def test_a_rules_value_out_of_range(w, pattern, replacement, message):
    _set(w, pattern, replacement)
    _refused(w, "rules.toml", message)


def test_workers_up_to_16_are_accepted(w):
    _set(w, r"^workers = 0", "workers = 16")
    assert _run(["rules", "check", "-w", str(w)]).exit_code == 0


def test_rules_file_that_is_a_folder(w):
    (w / "rules.toml").unlink()
    (w / "rules.toml").mkdir()
    _refused(w, "rules.toml 是一个文件夹，不是规则文件")


def test_readme_example_appended_to_the_init_rules(w):
    with open(w / "rules.toml", "a", encoding="utf-8") as fh:
        fh.write("[multiplier] text_chars_over = 1500\n")  # as a clerk copies it: one line
    _refused(w, "rules.toml", "规则文件格式错误：第")
    (w / "rules.toml").unlink()
    assert _run(["init", str(w), "-q"]).exit_code == 0
    with open(w / "rules.toml", "a", encoding="utf-8") as fh:
        fh.write("\n[multiplier]\ntext_chars_over = 1500\n")
    # Appended as the README shows it: read as meant (later value wins), with a warning naming the table.
    check = _run(["rules", "check", "-w", str(w)])
    assert check.exit_code == 0, check.output
    assert "表 [multiplier] 写了两次" in check.output and "按后面" in check.output
    from zg_excel.rules import load_rules

    assert load_rules(w / "rules.toml").text_chars_over == 1500


def _roster(w: Path, edit) -> None:
    book = openpyxl.load_workbook(w / "单位名册.xlsx")
    edit(book.worksheets[0])
    book.save(w / "单位名册.xlsx")


def test_roster_with_only_a_header_row(w):
    _roster(w, lambda ws: ws.delete_rows(2, ws.max_row))
    _refused(w, "单位名册只有表头，没有任何单位")


def test_a_unit_listed_twice_is_one_error(w):
    _roster(w, lambda ws: ws.append([c.value for c in ws[2]]))
    check = _run(["rules", "check", "-w", str(w)])
    name = openpyxl.load_workbook(w / "单位名册.xlsx").worksheets[0]["A2"].value
    assert check.output.count("已经出现过") == 1, check.output
    _refused(w, f"“{name}”在第2行已经出现过")


def test_two_unit_names_making_one_file_name(w):
    _roster(w, lambda ws: (ws.append(["甲/乙", "镇街"]), ws.append(["甲:乙", "镇街"])))
    message = "作为文件名是同一个（“甲_乙”）"
    _refused(w, "“甲/乙”", "“甲:乙”", message)
    made = _run(["template", "-w", str(w)])
    assert made.exit_code == 2 and message in made.output and "程序内部错误" not in made.output
    assert not list((w / "outbox").iterdir())


TEMPLATE = "templates/通报.txt.j2"


@pytest.mark.parametrize("text,message", [
    ("{{ title }\n", f"通报模板 {TEMPLATE} 第1行：多余或不配对的“}}”"),
    ("{{ title }}\n{% if final %}\n全年\n",
     f"通报模板 {TEMPLATE} 结尾处：有一个 {{% if %}} 没有结束，缺少结束标记（应有 {{% elif %}} 或 {{% else %}} 或 {{% endif %}}）"),
    ("{{ title }}\n\n{{ 单位总数 }}\n", f"通报模板 {TEMPLATE} 第3行：变量“单位总数”不存在"),
    # on a branch the sample does not take: still found
    ("{{ title }}\n{% if previous %}\n{{ last_year }}\n{% endif %}\n", f"通报模板 {TEMPLATE} 第3行：变量“last_year”不存在"),
    ("{{ title }}\n{{ period.no_such_field }}\n", f"通报模板 {TEMPLATE} 第2行：没有“no_such_field”这一项"),
    ("{% 表扬 %}\n", f"通报模板 {TEMPLATE} 第1行："),
])
def test_bulletin_template_errors(w, text, message):
    (w / TEMPLATE).write_text(text, encoding="utf-8")
    _refused(w, message, "修改方法")


def test_the_shipped_template_and_an_edited_one_pass(w):
    path = w / TEMPLATE
    path.write_text(path.read_text(encoding="utf-8") + "\n{{ issuer }}\n{{ units_total|cn }}个单位\n", encoding="utf-8")
    check = _run(["rules", "check", "-w", str(w)])
    assert check.exit_code == 0 and TEMPLATE not in check.output, check.output
