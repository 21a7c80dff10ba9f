"""``zg-excel check``: check returns one by one, as the merge would read and score them.

Only parses options, calls :func:`zg_excel.check.check_files` and prints
:func:`zg_excel.check.render_check_text`; the exit code comes from the report.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import (
    AS_OF_HELP,
    CONTEXT,
    YEAR_HELP,
    SetupError,
    load_settings,
    parse_date,
    resolve_run,
    workdir_option,
)


@click.command("check", context_settings=CONTEXT)
@click.argument("files", nargs=-1, required=False,
                type=click.Path(exists=True, path_type=Path))
@workdir_option
@click.option("--year", type=int, default=None, help=YEAR_HELP)
@click.option("--as-of", "as_of", callback=parse_date, default=None, help=AS_OF_HELP)
@click.option("-q", "--quiet", is_flag=True, help="不显示读取进度")
def check(files: tuple[Path, ...], workdir: Path, year: int | None, as_of, quiet: bool) -> None:
    """逐个检查报表文件：能否读取、算哪个单位、哪些行能计分、哪里要改。

    与合并（merge）用同一套读取和计分方法，但每个文件单独检查，不需要其他单位的文件。
    可以给文件，也可以给文件夹（检查其中所有文件）；不给则检查工作目录的 inbox/ 中的全部文件
    （与“检查退回文件”启动文件相同）。不会修改任何文件。

    \b
    示例：zg-excel check 峡窝镇党委-2026年9月.xlsx
          zg-excel check -w 2026组工信息 2026组工信息/inbox --as-of 2026-09-30
    退出码：0 可以报送；1 有填写问题使某些行不能计分（请修改后重新报送）；2 用法或设置错误
    """
    from zg_excel.check import check_files, render_check_text
    from zg_excel.rules import ConfigError

    def progress(done: int, total: int, name: str) -> None:
        if not quiet and total > 1:
            click.echo(f"[{done}/{total}] {name}", err=True)

    load_settings(workdir)  # a bad folder or settings (the checks every command runs): exit 2, nothing read
    if not files:  # as the 检查退回文件 launcher: nothing given means the whole inbox
        from zg_excel.workspace import Workspace

        files = (Workspace(workdir).inbox,)
    year, as_of = resolve_run(workdir, year, as_of)
    try:
        report = check_files(list(files), workdir, year=year, as_of=as_of, progress=progress)
    except ConfigError as exc:
        raise SetupError(str(exc)) from None
    click.echo(render_check_text(report))
    sys.exit(1 if report.has_blocking else 0)
