"""``zg-excel rules check``: list every problem of the rules file, roster and catalog at once.

Only parses options, calls :func:`zg_excel.settings_check.check_settings` and prints the issues.
A settings error is a set-up error, as for every other command: exit code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from zg_excel.issues import ERROR, SEVERITY_ZH

from .common import CONTEXT, require_workdir, workdir_option


@click.group("rules", context_settings=CONTEXT)
def rules() -> None:
    """计分规则、单位名册、媒体目录的设置检查。

    \b
    示例：zg-excel rules check -w 2026组工信息
    """


@rules.command("check", context_settings=CONTEXT)
@workdir_option
def rules_check(workdir: Path) -> None:
    """一次列出 rules.toml、单位名册.xlsx、媒体目录.xlsx 中的全部问题（含行号或键名）。

    检查：写错的键、缺少的分值、未知的类别和报送对象、重复的名称和别名、
    对口处室（科室）是否在名册中、考核用到的刊物和区级计分媒体是否在媒体目录中。

    \b
    示例：zg-excel rules check -w 2026组工信息
    退出码：0 没有错误；2 有错误（逐条列出，与 merge 等命令遇到设置错误时相同）或工作目录不存在
    """
    from zg_excel.settings_check import check_settings

    require_workdir(workdir)  # not a working folder, or no roster/catalog: named, exit 2
    issues = check_settings(workdir)
    errors = [i for i in issues if i.severity == ERROR]
    for i in sorted(issues, key=lambda i: i.sort_key()):
        where = i.where()
        click.echo(f"[{SEVERITY_ZH.get(i.severity, i.severity)}] " + (f"{where}：" if where else "") + i.message)
        if i.fix and i.severity != "info":
            click.echo(f"        修改方法：{i.fix}")
    warnings = sum(1 for i in issues if i.severity == "warning")
    if errors:
        click.echo(f"\n共{len(errors)}个错误、{warnings}个警告，请改正后再运行合并。")
    else:
        click.echo("\n规则文件、单位名册、媒体目录检查通过" + (f"（{warnings}个警告请核实）" if warnings else "") + "。")
    sys.exit(2 if errors else 0)
