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


DATE_FORMS_ZH = "2026-9-30、2026/9/30、2026.9.30、2026年9月30日 或 20260930"


def parse_date(ctx, param, value):
    """click callback: a date as units type it (``2026-3-31``, ``2026/3/31``, ``2026.3.31``,
    ``2026年3月31日``, ``20260331``; read by ``values.parse_date``) → date, with a Chinese message
    otherwise; a date that does not exist (``2026-02-30``) is said to be one."""
    import re

    from zg_excel.values import Bad
    from zg_excel.values import parse_date as read_date

    if value is None:
        return None
    got = read_date(value)
    if isinstance(got, dt.date):
        return got
    text = str(value).strip()
    parts = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text) or re.fullmatch(
        r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?", text)
    if parts and 1 <= int(parts[2]) <= 12 and 1 <= int(parts[3]) <= 31:
        raise click.BadParameter(f"日期不存在：{text}（{int(parts[1])}年{int(parts[2])}月没有{int(parts[3])}日）")
    why = got.reason if isinstance(got, Bad) else f"日期无法识别：{text}"
    raise click.BadParameter(f"{why}；日期可写成 {DATE_FORMS_ZH}")


def workdir_option(f):
    """``-w/--workdir``: the folder ``zg-excel init`` created (default: the current folder)."""
    return click.option("-w", "--workdir", type=click.Path(file_okay=False, path_type=Path), default=".",
                        show_default=True, help="工作目录（zg-excel init 创建的文件夹；默认当前文件夹）")(f)


AS_OF_HELP = "统计截止日期，如 2026-9-30（默认：上一个已结束月份的最后一天；晚于考核年度时按该年度全年统计）"
YEAR_HELP = "考核年度（默认：工作目录记录的年度；与记录不一致时报错）"


def quiet_option(f):
    """``-q/--quiet``: show only errors."""
    return click.option("-q", "--quiet", is_flag=True, help="安静模式：只显示错误")(f)


def say(quiet: bool, text: str = "", **kw) -> None:
    """Echo ``text`` unless ``quiet``."""
    if not quiet:
        click.echo(text, **kw)


def load_settings(workdir: Path):
    """``(rules, roster, catalog)`` of the working folder (``Workspace.require``: a folder that is not
    one, or lacks its roster or catalog, is refused); a bad settings file, or settings that fail the
    checks spanning two files (``settings_check.settings_error``, the ones ``rules check`` lists), is a
    :class:`SetupError` — raised before any return is read. Every command loads its settings here."""
    from zg_excel.rules import ConfigError
    from zg_excel.settings_check import settings_error
    from zg_excel.workspace import Workspace

    try:
        ws = Workspace(workdir)
        ws.require()
        loaded = ws.load()
    except ConfigError as exc:
        raise SetupError(str(exc)) from None
    if problem := settings_error(*loaded):
        raise SetupError(problem)
    return loaded


def require_workdir(workdir: Path) -> None:
    """:class:`SetupError` unless ``workdir`` is a working folder (``Workspace.require``)."""
    from zg_excel.rules import ConfigError
    from zg_excel.workspace import Workspace

    try:
        Workspace(workdir).require()
    except ConfigError as exc:
        raise SetupError(str(exc)) from None


def resolve_run(workdir: Path, year: int | None, as_of: dt.date | None, *, quiet: bool = False,
                today: dt.date | None = None) -> tuple[int, dt.date]:
    """The run's year and as-of date: the folder's recorded year (recorded now from
    ``--year`` or the templates when an older folder has none, and said so), the as-of default, the
    year-end cap; a contradicting ``--year`` or an as-of date before the year is a :class:`SetupError`."""
    from zg_excel.period import PeriodError, current_date, default_as_of, resolve_period
    from zg_excel.rules import ConfigError
    from zg_excel.workspace import Workspace

    try:
        ws = Workspace(workdir)
        choice = ws.resolve_year(year)
        if choice is None:  # never guess: an as-of date in January would silently start the next year
            raise SetupError(f"工作目录没有记录考核年度（{ws.folder_file.name} 不存在，outbox 中也没有模板可以推断）。"
                             f"请加上 --year 运行一次，如 --year {default_as_of(as_of or today or current_date()).year}，"
                             f"年度会记入 {ws.folder_file.name}，以后不用再写")
        if choice.note:
            click.echo(choice.note, err=True)
        return resolve_period(choice.year, as_of, today)
    except (ConfigError, PeriodError) as exc:
        raise SetupError(str(exc)) from None


def workdir_year(workdir: Path, year: int | None) -> int:
    """The folder's year for commands that make its files (``template``): the record, else ``--year``,
    the templates' year or the current year — recorded now and said so; a contradiction is a :class:`SetupError`."""
    from zg_excel.period import current_date
    from zg_excel.rules import ConfigError
    from zg_excel.workspace import Workspace

    try:
        choice = Workspace(workdir).resolve_year(year, default=current_date().year)
    except ConfigError as exc:
        raise SetupError(str(exc)) from None
    assert choice is not None  # a default was given
    if choice.note:
        click.echo(choice.note, err=True)
    return choice.year
