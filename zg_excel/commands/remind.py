"""``zg-excel remind``: merge the inbox and write the 催报 texts (output/催报/).

Only parses options, calls :func:`zg_excel.merge.merge`,
:func:`zg_excel.outputs.reminders.build_reminders` and :func:`zg_excel.outputs.reminders.write_reminders`,
and prints the combined list.
"""

from __future__ import annotations

from pathlib import Path

import click

from .common import (
    AS_OF_HELP,
    CONTEXT,
    YEAR_HELP,
    load_settings,
    parse_date,
    resolve_run,
    workdir_option,
)


@click.command("remind", context_settings=CONTEXT)
@workdir_option
@click.option("--year", type=int, default=None, help=YEAR_HELP)
@click.option("--as-of", "as_of", callback=parse_date, default=None, help=AS_OF_HELP)
@click.option("--deadline", callback=parse_date, default=None,
              help="补报截止日期 YYYY-MM-DD（默认5天后，遇周末顺延到周一）")
@click.option("-q", "--quiet", is_flag=True, help="安静模式：不显示催报汇总")
def remind(workdir: Path, year: int | None, as_of, deadline, quiet: bool) -> None:
    """生成催报文本：对未报送、月度报送不足或积分低于序时进度的单位，各写一段可直接粘贴到微信或短信的提醒。

    \b
    先按 inbox/ 中的报表合并计分（与 merge 相同，但不写汇总表和通报），然后写出：
      output/催报/<单位>.txt   每个需要催报的单位一份（有联系人的称呼联系人）
      output/催报/催报汇总.txt  全部单位一览，可发到工作群
    用 zg-excel mail --to roster --kind remind 可把各单位的催报文本逐一发出。
    示例：zg-excel remind -w 2026组工信息 --as-of 2026-09-30
    退出码：0 完成；2 用法或设置错误
    """
    from ..files import check_writable
    from ..merge import merge
    from ..outputs.reminders import build_reminders, write_reminders
    from ..runlock import workspace_lock
    from ..workspace import Workspace

    loaded = load_settings(workdir)  # a missing folder, bad settings: named, exit 2
    ws = Workspace(workdir)
    year, as_of = resolve_run(workdir, year, as_of)
    with workspace_lock(ws, wait=10, command="催报"):
        check_writable(ws.output)  # before reading
        result = merge(workdir, year=year, as_of=as_of, loaded=loaded)
        reminders = build_reminders(result, deadline=deadline)
        paths = write_reminders(reminders, ws.output)
    if not quiet:
        click.echo(reminders.combined.rstrip("\n"))
        click.echo("")
        click.echo(f"共{len(reminders)}个单位需要催报；催报文本在 {paths[-1].parent}")
