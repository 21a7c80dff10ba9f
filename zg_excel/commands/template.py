"""``zg-excel template``: one fill-in workbook per roster unit, in outbox/.

Only parses options, calls :func:`zg_excel.template.write_templates` and lists the files.
"""

from __future__ import annotations

from pathlib import Path

import click

from .common import (
    CONTEXT,
    SetupError,
    load_settings,
    quiet_option,
    say,
    workdir_option,
    workdir_year,
)


@click.command("template", context_settings=CONTEXT)
@workdir_option
@click.option("--year", type=int, default=None,
              help="考核年度（默认：工作目录记录的年度；还没有记录时为今年，并记入工作目录）")
@click.option("--unit", "units", multiple=True, help="只为这些单位生成（可多次指定）")
@quiet_option
def template(workdir: Path, year: int | None, units: tuple[str, ...], quiet: bool) -> None:
    """为名册中的每个单位生成填报模板，放在 outbox/ 中。

    \b
    示例：zg-excel template -w 2026组工信息 --year 2026
          zg-excel template -w 2026组工信息 --unit 峡窝镇党委
    """
    from zg_excel.template import write_templates
    from zg_excel.workspace import Workspace

    rules, roster, catalog = load_settings(workdir)
    year = workdir_year(workdir, year)
    chosen = None
    if units:
        chosen = []
        for name in units:
            u = roster.find(name)
            if u is None:
                raise SetupError(f"单位“{name}”不在单位名册中")
            chosen.append(u)
    ws = Workspace(workdir)

    def done(path: Path) -> None:
        say(quiet, f"  已生成 {path.name}")

    from zg_excel.runlock import workspace_lock

    with workspace_lock(ws, wait=10, command="模板生成"):
        paths = write_templates(ws.outbox, year=year, roster=roster, catalog=catalog, rules=rules,
                                units=chosen, on_done=done)
    say(quiet, f"共生成 {len(paths)} 个模板：{ws.outbox}")
