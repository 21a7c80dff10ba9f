"""``zg-excel init``: create the working folder of one assessment year.

Only parses options, calls :func:`zg_excel.workspace.init_workspace` and
:func:`zg_excel.launchers.write_launchers`, and lists what was created.
"""

from __future__ import annotations

from pathlib import Path

import click

from .common import CONTEXT, SetupError, quiet_option, say


@click.command("init", context_settings=CONTEXT)
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--year", type=click.IntRange(1990, 2100), default=None,
              help="本工作目录的考核年度（默认今年），记在 zg-excel.toml 中")
@quiet_option
def init(directory: Path, year: int | None, quiet: bool) -> None:
    """创建一个考核年度的工作目录。已存在的文件不会被覆盖，缺少的文件会重新生成。

    \b
    生成：zg-excel.toml（考核年度）、单位名册.xlsx、媒体目录.xlsx、rules.toml（计分规则）、
          templates/通报.txt.j2（通报模板）、inbox/、outbox/、output/，
          以及双击即可运行的 生成模板.bat、合并汇总.bat、检查退回文件.bat（和 .sh）
    示例：zg-excel init 2026组工信息 --year 2026
    """
    from zg_excel.launchers import STATE_ZH, write_launchers
    from zg_excel.rules import ConfigError
    from zg_excel.workspace import Workspace, init_workspace

    try:
        made = init_workspace(directory, year)
    except ConfigError as exc:
        raise SetupError(str(exc)) from None
    for path, created in made:
        say(quiet, f"{'已创建' if created else '已存在，未改动'}：{path}")
    for path, state in write_launchers(directory):  # ours, bound to this install: rewritten every time
        say(quiet, f"{STATE_ZH[state]}：{path}")
    say(quiet, f"\n下一步：核对 {Workspace(directory).roster_file}，然后运行 zg-excel template -w {directory}")
