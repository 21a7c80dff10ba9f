"""The ``zg-excel`` command: parse options, call the library, render its result, set the exit code.

Exit codes: 0 = done with no error-level issue; 1 = done, some errors listed;
2 = usage or set-up error (bad option, missing folder, bad rules/roster/catalog).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from . import __version__
from .cli_zh import install as _install_chinese
from .cli_zh import localize as _localize
from .commands.common import CONTEXT, SetupError, parse_date

_install_chinese()


def _workdir_option(f):
    return click.option("-w", "--workdir", type=click.Path(file_okay=False, path_type=Path), default=".",
                        show_default=True, help="工作目录（zg-excel init 创建的文件夹）")(f)


def _quiet_option(f):
    return click.option("-q", "--quiet", is_flag=True, help="安静模式：只显示错误")(f)


def _say(quiet: bool, text: str = "", **kw) -> None:
    if not quiet:
        click.echo(text, **kw)


def _load(workdir: Path):
    from .rules import ConfigError
    from .workspace import Workspace

    try:
        return Workspace(workdir).load()
    except ConfigError as exc:
        raise SetupError(str(exc)) from None


class LazyGroup(click.Group):
    """Subcommands kept in their own modules, imported only when used (``zg-excel --help`` stays fast)."""

    lazy = {  # name: (module, attribute, the one-line help shown in the command list)
        "check": ("zg_excel.commands.check", "check", "逐个检查报表文件：能否读取、算哪个单位、哪些行能计分、哪里要改。"),
        "remind": ("zg_excel.commands.remind", "remind", "生成催报文本：对未报送、月度报送不足或积分低于序时进度的单位各写一段提醒。"),
        "mail": ("zg_excel.commands.mail", "mail", "把汇总表、通报、登记表或催报通过邮件发出。"),
        "rules": ("zg_excel.commands.rules", "rules", "计分规则、单位名册、媒体目录的设置检查。"),
        "serve": ("zg_excel.commands.serve", "serve", "启动网页报送：各单位用浏览器上传报表，立即看到检查和计分结果。"),
    }

    def format_commands(self, ctx, formatter):
        """The command list without importing the lazy commands (the mailer alone costs 0.18 s)."""
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.commands.get(name)
            rows.append((name, cmd.get_short_help_str(limit=formatter.width - 20) if cmd else self.lazy[name][2]))
        if rows:
            from .cli_zh import ZH

            with formatter.section(ZH["Commands"]):
                formatter.write_dl(rows)

    def list_commands(self, ctx):
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx, name):
        cmd = super().get_command(ctx, name)
        if cmd is None and name in self.lazy:
            import importlib

            module, attr, _ = self.lazy[name]
            cmd = getattr(importlib.import_module(module), attr)
            _localize(cmd)
            self.add_command(cmd, name)
        return cmd


@click.group(cls=LazyGroup, context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="zg-excel")
@click.option("--debug", is_flag=True, help="出错时显示完整的程序调用栈（供开发人员排查）")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """组工信息报送与考核计分工具。

    \b
    一年的工作流程：
      zg-excel init 2026组工信息        创建工作目录（单位名册、媒体目录、计分规则）
      zg-excel template -w 2026组工信息  为每个单位生成填报模板（outbox/）
      （各单位填好后发回，把文件放进 inbox/）
      zg-excel merge -w 2026组工信息     合并、计分，生成汇总表、通报和 result.json（output/）
    """
    ctx.obj = {"debug": debug}


@cli.command("init", context_settings=CONTEXT)
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@_quiet_option
def init_cmd(directory: Path, quiet: bool) -> None:
    """创建一个考核年度的工作目录。已存在的文件不会被覆盖。

    \b
    生成：单位名册.xlsx、媒体目录.xlsx、rules.toml（计分规则）、
          templates/通报.txt.j2（通报模板）、inbox/、outbox/、output/，
          以及双击即可运行的 生成模板.bat、合并汇总.bat、检查退回文件.bat（和 .sh）
    示例：zg-excel init 2026组工信息
    """
    from .launchers import write_launchers
    from .workspace import init_workspace

    for path, created in [*init_workspace(directory), *write_launchers(directory)]:
        _say(quiet, f"{'已创建' if created else '已存在，未改动'}：{path}")
    _say(quiet, f"\n下一步：核对 {directory / '单位名册.xlsx'}，然后运行 zg-excel template -w {directory}")


@cli.command("template", context_settings=CONTEXT)
@_workdir_option
@click.option("--year", type=int, default=None, help="考核年度（默认今年）")
@click.option("--unit", "units", multiple=True, help="只为这些单位生成（可多次指定）")
@_quiet_option
def template_cmd(workdir: Path, year: int | None, units: tuple[str, ...], quiet: bool) -> None:
    """为名册中的每个单位生成填报模板，放在 outbox/ 中。

    \b
    示例：zg-excel template -w 2026组工信息 --year 2026
          zg-excel template -w 2026组工信息 --unit 峡窝镇党委
    """
    from .template import write_templates
    from .workspace import Workspace

    rules, roster, catalog = _load(workdir)
    year = year or dt.date.today().year
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
        _say(quiet, f"  已生成 {path.name}")

    paths = write_templates(ws.outbox, year=year, roster=roster, catalog=catalog, rules=rules,
                            units=chosen, on_done=done)
    _say(quiet, f"共生成 {len(paths)} 个模板：{ws.outbox}")


@cli.command("merge", context_settings=CONTEXT)
@_workdir_option
@click.option("--year", type=int, default=None, help="考核年度（默认为截止日期所在年度）")
@click.option("--as-of", "as_of", callback=parse_date, default=None,
              help="统计截止日期 YYYY-MM-DD（默认今天，不晚于该年12月31日）")
@click.option("--date", "issued", callback=parse_date, default=None, help="通报的成文日期（默认今天）")
@_quiet_option
def merge_cmd(workdir: Path, year: int | None, as_of, issued, quiet: bool) -> None:
    """合并 inbox/ 中各单位报回的文件，计分，生成汇总表、通报和 result.json。

    \b
    示例：zg-excel merge -w 2026组工信息 --as-of 2026-09-30
    输出（output/）：2026年组工信息考核汇总表.xlsx、通报.txt、通报.docx、result.json
    退出码：0 无错误；1 有需要处理的错误（见问题清单）；2 用法或设置错误
    """
    from .merge import merge
    from .outputs.write import write_outputs
    from .workspace import Workspace

    loaded = _load(workdir)
    ws = Workspace(workdir)

    def progress(stage: str, done: int, total: int, name: str) -> None:
        if stage == "read" and not quiet:
            click.echo(f"[{done}/{total}] {name}", err=True)

    result = merge(workdir, year=year, as_of=as_of, progress=progress, loaded=loaded)
    written = write_outputs(result, ws.output, bulletin_template=ws.bulletin_template(), issued=issued)
    _render_merge_summary(result, written, quiet)
    sys.exit(1 if result.issues.has_errors else 0)


def _render_merge_summary(result, written, quiet: bool) -> None:
    from .model import OUTCOME_ZH
    from .rules import round_half_up

    rows = result.rows
    returned = sum(1 for t in result.units if t.returned)
    errors = result.issues.count("error")
    if not quiet:
        click.echo("")
        click.echo(f"{result.year}年度，截至{result.as_of.isoformat()}：{returned}/{len(result.units)}个单位有报送文件，"
                   f"共{len(result.files)}个文件")
        click.echo(f"录用登记共读取{rows['read']}行：计分{rows['scored']}行" + "".join(
            f"，{OUTCOME_ZH[k]}{rows[k]}行" for k in rows if k not in ("read", "scored") and rows[k]))
        click.echo(f"合计积分 {round_half_up(sum((t.points for t in result.units), 0))}；"
                   f"问题：错误{errors}个，警告{result.issues.count('warning')}个，提示{result.issues.count('info')}个")
        missing = [t.unit for t in result.units if not t.returned]
        if missing:
            click.echo("未报送：" + "、".join(missing))
        for p in written:
            click.echo(f"已写出：{p}")
    if errors:
        shown = [i for i in result.issues.sorted() if i.severity == "error"][:20]
        click.echo(f"有{errors}个错误需要处理（详见汇总表“问题清单”）：", err=True)
        for i in shown:
            click.echo(f"  {i.where()}：{i.message}", err=True)
        if errors > len(shown):
            click.echo(f"  ……另有{errors - len(shown)}个", err=True)


_localize(cli)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: never let an unencodable character crash a GBK console."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="replace")  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            pass
    args = sys.argv[1:] if argv is None else argv
    # A merge keeps 100,000s of row objects alive; the default GC threshold (700
    # allocations) re-walks them all every few milliseconds. Collect less often.
    import gc

    gc.set_threshold(100_000, 50, 100)
    try:
        cli.main(args=args, prog_name="zg-excel", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("已取消", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    except Exception as exc:  # a bug: say so plainly, traceback only with --debug
        if "--debug" in args:
            raise
        click.echo(f"程序内部错误：{type(exc).__name__}: {exc}\n（加 --debug 可查看详细信息，请将其反馈给维护人员）", err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
