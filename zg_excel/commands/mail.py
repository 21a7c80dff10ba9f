"""``zg-excel mail``: email the summary, the bulletin, templates or reminders.

Only parses options, calls :mod:`zg_excel.mail` and renders its results. The package is
imported when the command runs, so ``--help`` stays fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from zg_excel.mail.kinds import KIND_LINKS, KIND_REMIND, KIND_SUMMARY, KIND_TEMPLATE, KINDS

from .common import CONTEXT, SetupError, load_settings, quiet_option, workdir_option

HELP = """把汇总表、通报、登记表或催报通过邮件发出。

\b
默认只生成草稿：每封邮件一个 .eml 文件，放在 output/mail/，
用 Outlook 双击打开即可检查后发送。加 --send 才直接发送。

\b
--kind 决定发什么：
  summary   汇总表和通报，发给 --to 指定的地址（默认）
  template  各单位各自的登记表（outbox/ 中），需 --to roster
  remind    各单位的催报文本（output/催报/<单位>.txt），需 --to roster
  bulletin  通报；--to roster 时逐单位分别发送
  links     各单位的网页报送链接（zg-excel serve 生成），需 --to roster

\b
直接发送时，邮件服务器写在工作目录的 mail.toml：
  [smtp]
  host = "smtp.example.gov.cn"
  port = 465
  security = "ssl"        # ssl / starttls / none
  user = "zzb@example.gov.cn"
  from = "zzb@example.gov.cn"
密码不写进文件：用环境变量 ZG_SMTP_PASSWORD，或运行时按提示输入。
已发送的邮件记在 output/mail/已发送记录.jsonl，重新运行不会重复发送。

\b
示例：
  zg-excel mail --to buzhang@example.gov.cn
  zg-excel mail --to roster --kind template
  zg-excel mail --to roster --kind remind --send
"""


def _load_units(workdir: Path) -> list:
    """The roster's units (the folder's 单位名册.xlsx, else the shipped default)."""
    _rules, roster, _catalog = load_settings(workdir)
    return list(roster.units)


def _shown_path(path: Path | None, workdir: Path) -> str:
    if path is None:
        return ""
    try:
        return str(path.relative_to(workdir))
    except ValueError:
        return str(path)


def _render(result, workdir: Path, quiet: bool) -> None:
    from zg_excel.mail.plan import ALREADY_SENT, DRAFTED, PARTIAL, SENT
    from zg_excel.workspace import Workspace

    for item in result.results:
        if quiet and item.ok and not item.missing_address:
            continue
        if item.ok:
            click.echo(f"  {item.label}：{item.message}")
        else:
            click.echo(f"【{item.status_zh}】{item.label}：{item.message}")
    missing = [r.label for r in result.without_address]
    if missing:
        click.echo(f"以下单位没有可用的邮箱地址（请补充名册）：{'、'.join(missing)}")
    if result.mode == "draft":
        drafted = result.count(DRAFTED)
        text = f"共生成草稿 {drafted} 封"
        if drafted:
            text += f"，在 {_shown_path(Workspace(workdir).mail_dir, workdir)} 中，用 Outlook 打开后发送"
    else:
        text = (
            f"已发送 {result.count(SENT)} 封，部分发送 {result.count(PARTIAL)} 封，"
            f"此前已发送过 {result.count(ALREADY_SENT)} 封"
        )
    failed = len(result.failed)
    if failed:
        text += f"；{failed} 项未完成，见上方说明"
    click.echo(text)


def _preview(plan, settings) -> None:
    from zg_excel.mail.plan import MessageResult

    click.echo(f"发件人：{settings.sender}　服务器：{settings.where}（{settings.security}）")
    for item in plan.items:
        if isinstance(item, MessageResult):
            click.echo(f"  {item.label}：{item.message}")
            continue
        who = "、".join(b.addr for b in item.recipients()) if item.to else "（无邮箱，不发送）"
        files = "、".join(a.filename for a in item.attachments) or "无附件"
        click.echo(f"  {item.label} → {who}　主题：{item.subject}　附件：{files}")


@click.command("mail", help=HELP, context_settings=CONTEXT)
@workdir_option
@click.option("--to", "to", multiple=True, metavar="地址|roster", help="收件人地址，可重复；写 roster 表示名册中的各单位")
@click.option("--cc", "cc", multiple=True, metavar="地址", help="抄送地址，可重复")
@click.option("--subject", default=None, help="邮件主题（不写则按模板生成）")
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    default=KIND_SUMMARY,
    show_default=True,
    help="发送内容：summary 汇总表+通报 / template 登记表 / remind 催报 / bulletin 通报 / links 网页报送链接",
)
@click.option("--send", "send", is_flag=True, help="直接通过邮件服务器发送（默认只生成草稿）")
@click.option("--yes", "yes", is_flag=True, help="发送前不再确认")
@quiet_option
@click.pass_context
def mail(
    ctx: click.Context,
    workdir: Path,
    to: tuple[str, ...],
    cc: tuple[str, ...],
    subject: str | None,
    kind: str,
    send: bool,
    yes: bool,
    quiet: bool,
) -> None:
    if not workdir.is_dir():
        raise click.UsageError(f"工作目录不存在：{workdir}")
    if not to:
        raise click.UsageError("请用 --to 指定收件人：邮箱地址，或 roster（名册中的各单位）")
    use_roster = [t for t in to if t.strip().lower() == "roster"]
    if use_roster and len(use_roster) != len(to):
        raise click.UsageError("--to roster 不能与具体地址混用；需要同时发给其他人请用 --cc")
    if use_roster and kind == KIND_SUMMARY:
        raise click.UsageError(
            "汇总表只发给指定地址（--to 地址）；给各单位发送请用 --kind template、remind 或 bulletin"
        )
    if not use_roster and kind in (KIND_TEMPLATE, KIND_REMIND, KIND_LINKS):
        raise click.UsageError(f"--kind {kind} 按单位分别发送，请用 --to roster")

    from zg_excel.mail.errors import AddressError, MailError
    from zg_excel.mail.plan import plan_for_addresses, plan_for_units
    from zg_excel.mail.send import MailRunResult, send_plan, write_drafts
    from zg_excel.mail.settings import load_smtp_settings

    try:
        settings = load_smtp_settings(workdir, os.environ, for_sending=send)
        if use_roster:
            units = _load_units(workdir)
            plan = plan_for_units(workdir, kind, units, cc=cc, subject=subject)
        else:
            plan = plan_for_addresses(workdir, kind, to, cc=cc, subject=subject)
    except AddressError as exc:
        raise click.UsageError(str(exc)) from None
    except MailError as exc:
        raise SetupError(str(exc)) from None

    if not send:
        result = write_drafts(plan, workdir, sender=settings.sender)
    else:
        if not plan.messages:
            result = MailRunResult(mode="send", results=list(plan.problems))  # nothing to send
        else:
            if not quiet or not yes:
                _preview(plan, settings)
            if not yes and not click.confirm(f"确认发送以上 {len(plan.messages)} 封邮件？", default=False):
                raise click.Abort()
            password = os.environ.get("ZG_SMTP_PASSWORD")
            if settings.user and password is None:
                password = click.prompt(f"邮箱 {settings.user} 的密码（或授权码）", hide_input=True)
            try:
                result = send_plan(plan, workdir, settings, password=password)
            except MailError as exc:
                raise SetupError(str(exc)) from None
    _render(result, workdir, quiet)
    if not result.ok:
        sys.exit(1)  # ctx.exit's code is lost under standalone_mode=False
