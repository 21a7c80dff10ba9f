"""``zg-excel merge``: merge the inbox, score, write the summary workbook, bulletin and result.json.

Only parses options, calls :func:`zg_excel.merge.merge` and
:func:`zg_excel.outputs.write.write_outputs`, prints a short summary and sets
the exit code (1 when the result holds an error-level issue).
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
    quiet_option,
    resolve_run,
    workdir_option,
)

LOCK_WAIT_S = 10  # a second merge on the same folder waits this long, then refuses


@click.command("merge", context_settings=CONTEXT)
@workdir_option
@click.option("--year", type=int, default=None, help=YEAR_HELP)
@click.option("--as-of", "as_of", callback=parse_date, default=None, help=AS_OF_HELP)
@click.option("--date", "issued", callback=parse_date, default=None, help="通报的成文日期（默认今天）")
@click.option("--ledger-zip", "ledger_zip", is_flag=True,
              help="另把本季度台帐文件夹（output/台帐/<季度>/）打包为同名 .zip，便于移交")
@quiet_option
def merge(workdir: Path, year: int | None, as_of, issued, quiet: bool, ledger_zip: bool = False) -> None:
    """合并 inbox/ 中各单位报回的文件，计分，生成汇总表、通报和 result.json。

    \b
    示例：zg-excel merge -w 2026组工信息 --as-of 2026-09-30
    输出（output/）：2026年组工信息考核汇总表.xlsx、通报.txt、通报.docx、result.json
    不给 --as-of 时统计到上一个已结束月份的最后一天（12月2日运行即截至11月30日）。
    退出码：0 无错误；1 有需要处理的错误（见问题清单），或 inbox 中没有任何文件（不写出）；2 用法或设置错误
    """
    from zg_excel.merge import merge as merge_returns
    from zg_excel.outputs.write import check_outputs, write_outputs
    from zg_excel.runlock import workspace_lock
    from zg_excel.workspace import Workspace

    loaded = load_settings(workdir)
    from zg_excel.settings_check import bulletin_template_error

    if problem := bulletin_template_error(workdir, *loaded):  # the 通报 template, before any return is read
        raise SetupError(problem)
    ws = Workspace(workdir)
    year, as_of = resolve_run(workdir, year, as_of, quiet=quiet)
    if not ws.inbox.is_dir():
        raise SetupError(f"收件文件夹不存在：{ws.inbox}。运行 zg-excel init {workdir} 可重新创建（已有文件不会改动），"
                         f"再把各单位报回的文件放进去")

    def progress(stage: str, done: int, total: int, name: str) -> None:
        if stage == "read" and not quiet:
            click.echo(f"[{done}/{total}] {name}", err=True)

    with workspace_lock(ws, wait=LOCK_WAIT_S, command="合并"):
        check_outputs(ws, year or (as_of.year if as_of else None))  # before reading: an output open in WPS
        result = merge_returns(workdir, year=year, as_of=as_of, progress=progress, loaded=loaded)
        if not result.files:  # nothing to report on: never a 通报 calling every unit 未报送
            click.echo(f"收件文件夹 inbox 中没有任何文件（{ws.inbox}），没有写出汇总表和通报，output/ 中原有的文件未改动。"
                       f"请把各单位报回的文件放入 inbox 后再运行。", err=True)
            sys.exit(1)
        written = write_outputs(result, ws.output, bulletin_template=ws.bulletin_template(), issued=issued)
        if ledger_zip:  # issue 16: the quarter's 台帐 handed over as one file
            from zg_excel.outputs.ledger import ledger_label, zip_ledger

            written.append(zip_ledger(ws.output, ledger_label(result)))
    render_merge_summary(result, written, quiet)
    sys.exit(1 if result.issues.has_errors else 0)


def render_merge_summary(result, written, quiet: bool) -> None:
    """The console summary of a merge: counts and written files (unless quiet), then the first 20 errors."""
    from zg_excel.model import OUTCOME_ZH
    from zg_excel.text import round_half_up

    rows = result.rows
    returned = sum(1 for t in result.units if t.returned)
    errors = result.issues.count("error")
    if not quiet:
        click.echo("")
        click.echo(f"{result.year}年度，截至{result.as_of.isoformat()}：{returned}/{len(result.units)}个单位有报送文件，"
                   f"共{len(result.files)}个文件")
        click.echo(f"录用登记共读取{rows['read']}行：计分{rows['scored']}行" + "".join(
            f"，{OUTCOME_ZH[k]}{rows[k]}行" for k in rows if k not in ("read", "scored") and rows[k]))
        click.echo(f"合计积分 {round_half_up(sum((t.points for t in result.units), 0), result.rules.places)}；"
                   f"问题：错误{errors}个，警告{result.issues.count('warning')}个，提示{result.issues.count('info')}个")
        missing = [t.unit for t in result.units if not t.returned]
        if missing:
            click.echo("未报送：" + "、".join(missing))
        for p in written:
            click.echo(f"已写出：{p}")
        for i in result.issues:
            if i.code == "as_of_in_future":
                click.echo(f"注意：{i.message}")
    if errors:
        shown = [i for i in result.issues.sorted() if i.severity == "error"][:20]
        click.echo(f"有{errors}个错误需要处理（详见汇总表“问题清单”）：", err=True)
        for i in shown:
            click.echo(f"  {i.where()}：{i.message}", err=True)
        if errors > len(shown):
            click.echo(f"  ……另有{errors - len(shown)}个", err=True)
