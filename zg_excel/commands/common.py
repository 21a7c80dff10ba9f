"""What every command shares, declared once: context settings, the set-up error, date options."""

from __future__ import annotations

import datetime as dt

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
