"""The ``zg-excel`` command group: the entry point, the lazy command table and the exit codes.

Each command lives in its own module under ``zg_excel/commands/`` and is
imported only when it runs; the group keeps each one's one-line help so that
``zg-excel --help`` imports none of them.

Exit codes: 0 = done with no error-level issue; 1 = done, some errors listed;
2 = usage or set-up error (bad option, missing folder, bad rules/roster/catalog, an output that
cannot be written); 130 / 143 = stopped by Ctrl-C (SIGINT) / SIGTERM, previous outputs intact.
"""

from __future__ import annotations

import contextlib
import signal
import sys

import click

from . import __version__
from .cli_zh import install as _install_chinese
from .cli_zh import localize as _localize
from .commands.common import CONTEXT

_install_chinese()


class LazyGroup(click.Group):
    """Subcommands kept in their own modules, imported only when used (``zg-excel --help`` stays fast)."""

    lazy = {  # name: (module, attribute, the one-line help shown in the command list)
        "init": ("zg_excel.commands.init", "init", "创建一个考核年度的工作目录。已存在的文件不会被覆盖。"),
        "template": ("zg_excel.commands.template", "template", "为名册中的每个单位生成填报模板，放在 outbox/ 中。"),
        "merge": ("zg_excel.commands.merge", "merge", "合并 inbox/ 中各单位报回的文件，计分，生成汇总表、通报和 result.json。"),
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


_localize(cli)


class Interrupted(KeyboardInterrupt):
    """SIGTERM (``timeout``, a closed terminal, a service stop) raised like Ctrl-C, so every
    ``finally`` runs: workers stopped, staging and temporary files removed, the lock released."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _raise_interrupted(signum, frame) -> None:
    raise Interrupted(signum)


def install_signal_handlers() -> dict:
    """SIGINT and SIGTERM (and SIGHUP where it exists) end the run through ``Interrupted``;
    returns the handlers they replace (``main`` puts them back for in-process callers)."""
    previous = {}
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            if signal.getsignal(sig) in (signal.SIG_IGN,) and name != "SIGTERM":
                continue  # nohup / background job: keep ignoring
            previous[sig] = signal.signal(sig, _raise_interrupted)
        except (ValueError, OSError):  # not the main thread
            pass
    return previous


def interrupted_exit(exc: KeyboardInterrupt) -> int:
    """Say the run stopped and whether outputs changed; the exit code 128 + signal number."""
    from .files import COMMITTED

    signum = getattr(exc, "signum", signal.SIGINT)
    if COMMITTED:  # the signal came while the finished set was being moved into place
        click.echo("\n已中断。本次的输出文件已全部写好并替换了上一次的结果。", err=True)
    else:
        click.echo("\n已中断。输出文件没有更新，原有的汇总表、通报仍是上一次的结果（未完成的临时文件已清除）。", err=True)
    return 128 + int(signum)


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
    from .files import COMMITTED, OutputError

    COMMITTED.clear()
    previous = install_signal_handlers()
    try:
        cli.main(args=args, prog_name="zg-excel", standalone_mode=False)
    except KeyboardInterrupt as exc:
        sys.exit(interrupted_exit(exc))
    except click.exceptions.Abort as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, KeyboardInterrupt):  # click turns Ctrl-C into Abort
            sys.exit(interrupted_exit(cause))
        click.echo("已取消", err=True)
        sys.exit(1)
    except OutputError as exc:
        click.echo(str(exc), err=True)
        sys.exit(exc.exit_code)
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
    finally:
        for sig, handler in previous.items():
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(sig, handler)


if __name__ == "__main__":  # pragma: no cover
    main()
