"""``check_settings`` / ``zg-excel rules check``: every problem of rules, roster and catalog at once."""

from __future__ import annotations

from pathlib import Path

import click
import openpyxl
import pytest
from click.testing import CliRunner

from zg_excel.commands.rules import rules
from zg_excel.issues import ERROR
from zg_excel.settings_check import check_settings as check_rules
from zg_excel.workspace import init_workspace


@pytest.fixture()
def here(tmp_path) -> Path:
    w = tmp_path / "2026 组工 信息"
    init_workspace(w)
    return w


def codes(issues, severity=ERROR):
    return sorted(i.code for i in issues if i.severity == severity)


def append_rows(path: Path, *rows):
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    first = ws.max_row + 1
    for row in rows:
        ws.append(list(row))
    wb.save(path)
    return first


def set_cell(path: Path, row: int, col: int, value):
    wb = openpyxl.load_workbook(path)
    wb.worksheets[0].cell(row=row, column=col, value=value)
    wb.save(path)


def cli():
    g = click.Group()
    g.add_command(rules)
    return g


def test_a_fresh_folder_has_no_problem(here):
    assert codes(check_rules(here)) == []
    r = CliRunner().invoke(cli(), ["rules", "check", "-w", str(here)])
    assert r.exit_code == 0 and "检查通过" in r.output


def test_missing_files_use_the_shipped_defaults(tmp_path):
    issues = check_rules(tmp_path)
    assert codes(issues) == []
    assert codes(issues, "info") == ["default_used"] * 3


def test_every_rules_problem_is_named_at_once(here):
    (here / "rules.toml").write_text(
        'levels = ["区级", "市级", "省级", "中央级", "乡镇级"]\n'
        "[multiplier]\nfactr = 3\n"
        '[categories."镇街"]\ncounts_destinations = ["县委组织部"]\n', encoding="utf-8")
    issues = check_rules(here)
    found = codes(issues)
    assert "rules_unknown_key" in found and "rules_unknown_destination" in found
    assert found.count("rules_missing_points") == 3  # 采用, 综合, 批示 lack 乡镇级
    key = next(i for i in issues if i.code == "rules_unknown_key")
    assert key.file == "rules.toml" and key.column == "multiplier.factr"
    dest = next(i for i in issues if i.code == "rules_unknown_destination")
    assert "县委组织部" in dest.message and dest.fix


def test_a_toml_syntax_error_is_one_issue(here):
    (here / "rules.toml").write_text("[multiplier\nfactor = 3\n", encoding="utf-8")
    assert codes(check_rules(here)) == ["rules_syntax"]


def test_roster_problems_with_rows(here):
    roster = here / "单位名册.xlsx"
    first = append_rows(roster, ("测试单位", "街道", "峡窝镇"), ("", "镇街"), ("组织科", "科室"))
    issues = check_rules(here)
    by_code = {}
    for i in issues:
        by_code.setdefault(i.code, []).append(i)
    [cat] = by_code["roster_unknown_category"]
    assert (cat.file, cat.row, cat.column, cat.value) == ("单位名册.xlsx", first, "类别", "街道")
    assert by_code["roster_no_name"][0].row == first + 1
    clashes = {(i.row, i.value) for i in by_code["roster_alias_conflict"]}
    assert (first, "峡窝镇") in clashes  # an alias of 峡窝镇党委 given to another unit
    assert [(i.row, i.value) for i in by_code["roster_duplicate"]] == [(first + 2, "组织科")]  # the same unit twice


def test_catalog_problems_with_rows(here):
    catalog = here / "媒体目录.xlsx"
    first = append_rows(catalog, ("某某报", "乡级"), ("新报", "市级", "", "郑州日报"), ("", "市级"))
    issues = check_rules(here)
    assert [(i.row, i.value) for i in issues if i.code == "catalog_unknown_level"] == [(first, "乡级")]
    assert [(i.row, i.value) for i in issues if i.code == "catalog_alias_conflict"] == [(first + 1, "郑州日报")]
    assert [i.row for i in issues if i.code == "catalog_no_name"] == [first + 2]


def test_rules_naming_outlets_not_in_the_catalog(here):
    (here / "rules.toml").write_text(
        '[categories."科室"]\nprovincial_outlets = ["《河南组工通讯》"]\n'
        '[district]\nadopters = ["上街区党建网", "上街新闻", "郑州日报"]\n', encoding="utf-8")
    issues = check_rules(here)
    assert codes(issues) == ["district_adopter_unknown", "provincial_outlet_unknown"]
    assert codes(issues, "warning") == ["district_adopter_level"]  # 郑州日报 is 市级
    prov = next(i for i in issues if i.code == "provincial_outlet_unknown")
    assert prov.column == "categories.科室.provincial_outlets" and prov.value == "《河南组工通讯》"


def test_liaison_sections_must_exist(here):
    roster = here / "单位名册.xlsx"
    wb = openpyxl.load_workbook(roster)
    ws = wb.worksheets[0]
    for row in ws.iter_rows(min_row=2):
        if row[1].value == "科室":
            row[1].value = "其他党工委"
    wb.save(roster)
    assert "no_section_units" in codes(check_rules(here))
    (here / "rules.toml").write_text('[liaison]\nsection_category = "处室"\n', encoding="utf-8")
    assert "section_category_unknown" in codes(check_rules(here))


def test_an_unreadable_roster_is_named(here):
    (here / "单位名册.xlsx").write_bytes(b"not a workbook")
    issues = check_rules(here)
    assert "table_unreadable" in codes(issues)


def test_cli_lists_everything_and_exits_2_as_a_setup_error(here, tmp_path):
    append_rows(here / "单位名册.xlsx", ("测试单位", "街道"))
    (here / "rules.toml").write_text("[multiplier]\nfactr = 3\n", encoding="utf-8")
    r = CliRunner().invoke(cli(), ["rules", "check", "-w", str(here)])
    assert r.exit_code == 2
    assert "multiplier.factr" in r.output and "街道" in r.output and "修改方法" in r.output
    r = CliRunner().invoke(cli(), ["rules", "check", "-w", str(tmp_path / "没有")])
    assert r.exit_code == 2 and "工作目录不存在" in r.output


def test_help_is_chinese_with_an_example():
    for args in (["rules", "--help"], ["rules", "check", "--help"]):
        r = CliRunner().invoke(cli(), args)
        assert r.exit_code == 0 and "示例" in r.output and "zg-excel rules check" in r.output
