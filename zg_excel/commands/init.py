"""``zg-excel init``: create the working folder of one assessment year.

Only parses options, calls :func:`zg_excel.workspace.init_workspace` and
:func:`zg_excel.launchers.write_launchers`, and lists what was created.
"""

from __future__ import annotations

from pathlib import Path

import click

from .common import CONTEXT, quiet_option, say


@click.command("init", context_settings=CONTEXT)
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@quiet_option
def init(directory: Path, quiet: bool) -> None:
    """创建一个考核年度的工作目录。已存在的文件不会被覆盖。

    \b
    生成：单位名册.xlsx、媒体目录.xlsx、rules.toml（计分规则）、
          templates/通报.txt.j2（通报模板）、inbox/、outbox/、output/，
          以及双击即可运行的 生成模板.bat、合并汇总.bat、检查退回文件.bat（和 .sh）
    示例：zg-excel init 2026组工信息
    """
    from zg_excel.launchers import STATE_ZH, write_launchers
    from zg_excel.workspace import init_workspace

    for path, created in init_workspace(directory):
        say(quiet, f"{'已创建' if created else '已存在，未改动'}：{path}")
    for path, state in write_launchers(directory):  # ours, bound to this install: rewritten every time
        say(quiet, f"{STATE_ZH[state]}：{path}")
    say(quiet, f"\n下一步：核对 {directory / '单位名册.xlsx'}，然后运行 zg-excel template -w {directory}")
