"""What every command shares, declared once: context settings, the set-up error, common options, loading."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class SetupError(click.ClickException):
    """A set-up error (missing folder, bad rules/roster/catalog): shown without a traceback, exit code 2."""

    exit_code = 2

    def format_message(self) -> str:
        return self.message


def parse_date(ctx, param, value):
    """click callback: ``YYYY-MM-DD`` → date, with a Chinese message otherwise."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"日期格式应为 YYYY-MM-DD，如 2026-09-30（收到：{value}）") from None


def workdir_option(f):
    """``-w/--workdir``: the folder ``zg-excel init`` created (default: the current folder)."""
    return click.option("-w", "--workdir", type=click.Path(file_okay=False, path_type=Path), default=".",
                        show_default=True, help="工作目录（zg-excel init 创建的文件夹）")(f)


def quiet_option(f):
    """``-q/--quiet``: show only errors."""
    return click.option("-q", "--quiet", is_flag=True, help="安静模式：只显示错误")(f)


def say(quiet: bool, text: str = "", **kw) -> None:
    """Echo ``text`` unless ``quiet``."""
    if not quiet:
        click.echo(text, **kw)


def load_settings(workdir: Path):
    """``(rules, roster, catalog)`` of the work folder; a bad settings file is a :class:`SetupError`."""
    from zg_excel.rules import ConfigError
    from zg_excel.workspace import Workspace

    try:
        return Workspace(workdir).load()
    except ConfigError as exc:
        raise SetupError(str(exc)) from None
