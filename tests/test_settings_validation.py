"""Every key of the shipped rules.toml is checked by type and range, the same way by ``rules check`` and ``merge``.

The cases are generated from ``defaults/rules.toml``: a key added there without
a check fails here. For each case both commands exit 2 with the same Chinese
message naming the key, and the merge reads no return (no progress line, no output).
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from zg_excel.cli import cli
from zg_excel.rules import CATEGORY_KEYS, FIXED_KEYS, default_rules_text, rules_issues

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover
    import tomli as tomllib  # type: ignore[no-redef]

DEFAULTS = tomllib.loads(default_rules_text())


def _literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)  # strings, numbers and lists of strings are valid TOML


def _toml(key_parts: list[str], value) -> str:
    *table, last = key_parts
    head = ("[" + ".".join(f'"{p}"' for p in table) + "]\n") if table else ""
    return f'{head}"{last}" = {_literal(value)}\n'


def _is_number(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    try:
        Fraction(str(value))
        return True
    except ValueError:
        return False


def _paths(data: dict, prefix=()):
    for key, value in data.items():
        here = (*prefix, key)
        if isinstance(value, dict):
            yield from _paths(value, here)
        else:
            yield here, value


def _cases():
    for parts, value in _paths(DEFAULTS):
        key = ".".join(parts)
        if isinstance(value, bool):
            wrong = "是"
        elif _is_number(value):
            wrong = "three"
        elif isinstance(value, str):
            wrong = 12345
        else:  # a list of names
            wrong = 5
        yield pytest.param(parts, wrong, id=f"{key}=type")
        spec = FIXED_KEYS.get(key) or (CATEGORY_KEYS.get(parts[-1]) if parts[0] == "categories" else None)
        if isinstance(value, bool):  # a wrong value of the right look: quoted, as people write it
            yield pytest.param(parts, "true", id=f"{key}=quoted-bool")
        elif isinstance(value, str) and not _is_number(value):
            if spec is not None and spec.kind == "choice":
                yield pytest.param(parts, "banana", id=f"{key}=unknown-choice")
            else:  # text and font names go into one line of the 通报
                yield pytest.param(parts, "第一行\n第二行", id=f"{key}=two-lines")
        elif isinstance(value, list):
            yield pytest.param(parts, [*value, ""] if value else [""], id=f"{key}=blank-name")
            if spec is not None and spec.choices:
                yield pytest.param(parts, ["banana"], id=f"{key}=unknown-choice")
        if _is_number(value):
            yield pytest.param(parts, -1, id=f"{key}=negative")
            spec = FIXED_KEYS.get(key)
            if spec is not None and spec.high is not None:
                yield pytest.param(parts, int(spec.high) + 1, id=f"{key}=too-high")


def test_the_cases_cover_every_shipped_key():
    assert {".".join(p) for p, _ in _paths(DEFAULTS)} == {c.values[0] and ".".join(c.values[0]) for c in _cases()}
    assert len(list(_paths(DEFAULTS))) > 60


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    w = tmp_path_factory.mktemp("settings") / "2026组工信息"
    assert _run(["init", str(w), "-q"]).exit_code == 0  # a real working folder: roster and catalog present
    wb = openpyxl.Workbook()
    wb.active["A1"] = "not a return"
    wb.save(w / "inbox" / "峡窝镇党委-2026年9月.xlsx")  # a merge that read it would show "[1/1] …"
    return w


def _run(args):
    return CliRunner().invoke(cli, args)


def _assert_setup_error(w: Path, message: str) -> None:
    check = _run(["rules", "check", "-w", str(w)])
    assert check.exit_code == 2, check.output
    assert message in check.output
    merge = _run(["merge", "-w", str(w), "--as-of", "2026-09-30"])
    assert merge.exit_code == 2, merge.output
    assert message in merge.output
    assert "[1/1]" not in merge.output and "程序内部错误" not in merge.output
    assert not (w / "output").exists() or not any((w / "output").iterdir())


@pytest.mark.parametrize("parts,wrong", list(_cases()))
def test_a_wrong_value_is_a_setup_error_for_check_and_merge(folder, parts, wrong):
    (folder / "rules.toml").write_text(_toml(list(parts), wrong), encoding="utf-8")
    issues = [i for i in rules_issues(folder / "rules.toml") if i.severity == "error"]
    key = ".".join(parts)
    assert issues, f"{key} = {wrong!r} passes the check"
    first = issues[0]
    assert key in first.message or first.column in key, first
    assert any("\u4e00" <= ch <= "\u9fff" for ch in first.message)
    _assert_setup_error(folder, first.message)


def test_praise_top_three_is_named_not_an_internal_error(folder):
    (folder / "rules.toml").write_text('[bulletin]\npraise_top = "three"\n', encoding="utf-8")
    _assert_setup_error(folder, '规则文件 bulletin.praise_top：应为整数，实际为 "three"')


def test_the_readme_example_appended_to_an_init_file_is_read_as_meant(tmp_path):
    """The README's example appended to the full file ``init`` wrote: the later value wins, with a warning."""
    from zg_excel.rules import load_rules

    _run(["init", str(tmp_path / "w"), "-q"])
    w = tmp_path / "w"
    with open(w / "rules.toml", "a", encoding="utf-8") as fh:
        fh.write("\n[multiplier]\ntext_chars_over = 1500\n")
    rules = load_rules(w / "rules.toml")
    assert rules.text_chars_over == 1500 and rules.multiplier_factor == 3
    out = _run(["rules", "check", "-w", str(w)]).output
    assert "表 [multiplier] 写了两次" in out and "Cannot declare" not in out
    # A table written twice with another syntax error in it is still that syntax error.
    with open(w / "rules.toml", "a", encoding="utf-8") as fh:
        fh.write("\n[multiplier\n")
    _assert_setup_error(w, "规则文件格式错误")


def test_syntax_error_and_folder_are_chinese(folder, tmp_path):
    (folder / "rules.toml").write_text("[multiplier\nfactor = 3\n", encoding="utf-8")
    _assert_setup_error(folder, "规则文件格式错误：第1行")
    w = _init(tmp_path)
    (w / "rules.toml").unlink()
    (w / "rules.toml").mkdir()
    _assert_setup_error(w, "rules.toml 是一个文件夹，不是规则文件")


@pytest.mark.parametrize("text,key", [
    ('[period]\ncount_by = "录用日期"\n', "period.count_by"),
    ('[rounding]\nplaces = 2\nmode = "half_up"\n', "rounding.mode"),
    ('[outlets]\nunknown_media = "exclude"\nlevel_source = "catalog"\n', "outlets.level_source"),
])
def test_a_retired_key_still_loads_with_a_warning(folder, text, key):
    from zg_excel.rules import load_rules

    (folder / "rules.toml").write_text(text, encoding="utf-8")
    check = _run(["rules", "check", "-w", str(folder)])
    assert check.exit_code == 0 and key in check.output and "[警告]" in check.output
    load_rules(folder / "rules.toml")  # loads
    assert key not in {".".join(p) for p, _ in _paths(DEFAULTS)}  # and is no longer shipped


def _init(tmp_path: Path) -> Path:
    w = tmp_path / "w"
    assert _run(["init", str(w), "-q"]).exit_code == 0
    return w


def _roster(w: Path, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["单位名称", "类别", "别名", "联系人", "邮箱", "备注"])
    for row in rows:
        ws.append(list(row))
    wb.save(w / "单位名册.xlsx")


@pytest.mark.parametrize("rows,message", [
    ([], "单位名册只有表头，没有任何单位"),
    ([("组织科", "科室"), ("峡窝镇党委", "")], "“峡窝镇党委”没有填写类别"),
    ([("组织科", "科室"), ("峡窝镇党委", "镇街", "", "", "xiawo at example")], "“峡窝镇党委”的邮箱“xiawo at example”不是邮箱地址"),
    ([("组织科", "科室"), ("峡窝镇党委", "镇街"), ("峡窝镇党委", "镇街")], "“峡窝镇党委”在第3行已经出现过"),
])
def test_roster_rows_are_checked_the_same_way_by_check_and_merge(tmp_path, rows, message):
    w = _init(tmp_path)
    _roster(w, rows)
    _assert_setup_error(w, message)


def test_several_addresses_in_one_cell_are_fine(tmp_path):
    w = _init(tmp_path)
    _roster(w, [("组织科", "科室", "", "", "a@example.gov.cn; 张三 <b@example.gov.cn>")])
    r = _run(["rules", "check", "-w", str(w)])
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("text,message", [
    ('[liaison]\nsection_category = "不存在的类别"\n',
     "对口处室类别 liaison.section_category = “不存在的类别”不是考核类别"),
    ('[categories."镇街"]\nprovincial_outlets = ["不存在的报纸"]\n',
     "categories.镇街.provincial_outlets 中的“不存在的报纸”不在媒体目录中"),
    ('[district]\nadopters = ["不存在的网站"]\n', "district.adopters 中的“不存在的网站”不在媒体目录中"),
])
def test_checks_spanning_two_files_refuse_every_command_before_reading(folder, text, message):
    """The cross-file checks of ``rules check`` are the ones every command runs when it loads the settings."""
    (folder / "rules.toml").write_text(text, encoding="utf-8")
    _assert_setup_error(folder, message)
    for args in (["remind", "-q", "--as-of", "2026-09-30"], ["template", "-q"], ["check", "-q", "--as-of", "2026-09-30"]):
        r = _run([*args, "-w", str(folder)])
        assert r.exit_code == 2 and message in r.output and "[1/1]" not in r.output, (args, r.output)
