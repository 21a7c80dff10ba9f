"""Planning: what to send to whom, as :class:`OutgoingMessage` objects in a :class:`MailPlan`.

A plan is made from plain data (units with ``name``, ``aliases``, ``contact``
and ``email`` attributes, or addresses) and the files :mod:`.sources` finds; a
unit that cannot get a message (no template, nothing to remind) is a
:class:`MessageResult` in the plan, in roster order.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..text import date_cn
from ..workspace import Workspace
from .addresses import Mailbox, as_mailboxes, decode_text, header_text, parse_address_list
from .compose import AttachmentFile, render_mail
from .errors import AddressError, MailSetupError
from .kinds import KIND_BULLETIN, KIND_LINKS, KIND_REMIND, KIND_SUMMARY, KIND_TEMPLATE, KIND_ZH
from .sources import (
    BulletinText,
    OutputFiles,
    find_output_files,
    find_unit_reminder,
    find_unit_template,
    read_bulletin_text,
)


# Statuses of a MessageResult.
DRAFTED = "drafted"
SENT = "sent"
PARTIAL = "partial"
ALREADY_SENT = "already_sent"
FAILED = "failed"
NO_ADDRESS = "no_address"
SKIPPED = "skipped"
STATUS_ZH = {
    DRAFTED: "已生成草稿",
    SENT: "已发送",
    PARTIAL: "部分发送",
    ALREADY_SENT: "已发送过",
    FAILED: "失败",
    NO_ADDRESS: "无邮箱",
    SKIPPED: "未发送",
}
_OK_STATUSES = frozenset({DRAFTED, SENT, ALREADY_SENT, SKIPPED})


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to build, draft or send."""

    kind: str
    label: str
    subject: str
    body: str
    to: tuple[Mailbox, ...] = ()
    cc: tuple[Mailbox, ...] = ()
    attachments: tuple[AttachmentFile, ...] = ()
    unit: str = ""
    note: str = ""

    def recipients(self) -> list[Mailbox]:
        seen: set[str] = set()
        out: list[Mailbox] = []
        for box in (*self.to, *self.cc):
            if box.key not in seen:
                seen.add(box.key)
                out.append(box)
        return out

    def fingerprint(self) -> str:
        """Identity of the content for the sent-log: subject + attachment
        hashes (+ the body when there is no attachment, e.g. reminders)."""
        payload = {
            "subject": self.subject,
            "attachments": sorted(a.sha256 for a in self.attachments),
        }
        if not self.attachments:
            payload["body"] = hashlib.sha256(self.body.encode("utf-8")).hexdigest()
        raw = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class MessageResult:
    """What happened to one message (or one unit that got none)."""

    label: str
    kind: str
    status: str
    message: str
    unit: str = ""
    subject: str = ""
    to: tuple[str, ...] = ()  # every recipient, To and Cc
    delivered: tuple[str, ...] = ()
    refused: tuple[tuple[str, str], ...] = ()
    already_sent: tuple[str, ...] = ()
    attachments: tuple[str, ...] = ()
    draft_path: Path | None = None
    message_id: str = ""
    missing_address: bool = False

    @property
    def ok(self) -> bool:
        return self.status in _OK_STATUSES

    @property
    def status_zh(self) -> str:
        return STATUS_ZH.get(self.status, self.status)


@dataclass
class MailPlan:
    """What to send, in roster order: a message, or the result of a unit
    that cannot get one (no template, nothing to remind)."""

    kind: str
    items: list[OutgoingMessage | MessageResult] = field(default_factory=list)

    @property
    def messages(self) -> list[OutgoingMessage]:
        return [item for item in self.items if isinstance(item, OutgoingMessage)]

    @property
    def problems(self) -> list[MessageResult]:
        return [item for item in self.items if isinstance(item, MessageResult)]



_YEAR_RE = re.compile(r"(20\d{2})年")


def _year_of(*texts: str | None) -> str:
    for text in texts:
        if text:
            match = _YEAR_RE.search(text)
            if match:
                return match.group(1)
    return str(_dt.date.today().year)


def _context(kind: str, **values: Any) -> dict[str, Any]:
    context = {
        "kind": kind,
        "kind_name": KIND_ZH[kind],
        "year": "",
        "unit": "",
        "contact": "",
        "title": "",
        "overview": "",
        "remind_text": "",
        "attachments": [],
        "today": date_cn(_dt.date.today()),
    }
    context.update(values)
    return context


def _subject_and_body(workdir: Path, context: dict[str, Any], subject: str | None) -> tuple[str, str]:
    rendered_subject, body = render_mail(workdir, context)
    if subject is not None and header_text(subject):
        return header_text(subject), body
    return rendered_subject, body


def _address_label(boxes: Sequence[Mailbox]) -> str:
    if not boxes:
        return "（无收件人）"
    if len(boxes) == 1:
        return boxes[0].addr
    return f"{boxes[0].addr}等{len(boxes)}个地址"


def _bulletin(files: OutputFiles) -> BulletinText:
    if files.bulletin_txt is None:
        return BulletinText()
    try:
        return read_bulletin_text(files.bulletin_txt)
    except OSError as exc:
        raise MailSetupError(f"无法读取 {files.bulletin_txt.name}：{exc.strerror or exc}") from None


def plan_summary(
    workdir: Path | str,
    to: Sequence[object],
    cc: Sequence[object] = (),
    subject: str | None = None,
) -> MailPlan:
    """One message with the summary workbook and the bulletin to ``to``."""
    workdir = Path(workdir)
    to_boxes = as_mailboxes(to)
    if not to_boxes:
        raise AddressError("没有收件人地址")
    cc_boxes = [b for b in as_mailboxes(cc) if b.key not in {t.key for t in to_boxes}]
    files = find_output_files(workdir)
    if files.summary is None:
        raise MailSetupError("output 文件夹中没有汇总表（*汇总表*.xlsx），请先生成汇总表")
    attachments = [AttachmentFile.from_path(files.summary)]
    note = ""
    if files.bulletin_docx is not None:
        attachments.append(AttachmentFile.from_path(files.bulletin_docx))
    else:
        note = "output 中没有通报（*通报*.docx），只附汇总表"
    text = _bulletin(files)
    context = _context(
        KIND_SUMMARY,
        year=_year_of(files.summary.name, text.title),
        title=text.title,
        overview=text.overview,
        attachments=[a.filename for a in attachments],
    )
    subj, body = _subject_and_body(workdir, context, subject)
    message = OutgoingMessage(
        kind=KIND_SUMMARY,
        label=_address_label(to_boxes),
        subject=subj,
        body=body,
        to=tuple(to_boxes),
        cc=tuple(cc_boxes),
        attachments=tuple(attachments),
        note=note,
    )
    return MailPlan(kind=KIND_SUMMARY, items=[message])


def _unit_recipients(unit: Any) -> tuple[list[Mailbox], list[str]]:
    name = header_text(getattr(unit, "name", ""))
    return parse_address_list(getattr(unit, "email", "") or "", name=name)


def _no_address_note(bad: Sequence[str]) -> str:
    if bad:
        return f"名册中该单位的邮箱无效（{'、'.join(bad)}）"
    return "名册中没有该单位的邮箱"


def _per_unit_plan(
    workdir: Path,
    kind: str,
    units: Sequence[Any],
    cc: Sequence[object],
    subject: str | None,
    make,
) -> MailPlan:
    cc_boxes = as_mailboxes(cc)
    plan = MailPlan(kind=kind)
    for unit in units:
        name = header_text(getattr(unit, "name", ""))
        if not name:
            continue
        made = make(unit, name)
        if isinstance(made, MessageResult):
            plan.items.append(made)
            continue
        context, attachments = made
        subj, body = _subject_and_body(workdir, context, subject)
        to_boxes, bad = _unit_recipients(unit)
        keys = {b.key for b in to_boxes}
        note = "" if to_boxes else _no_address_note(bad)
        plan.items.append(
            OutgoingMessage(
                kind=kind,
                label=name,
                subject=subj,
                body=body,
                to=tuple(to_boxes),
                cc=tuple(b for b in cc_boxes if b.key not in keys),
                attachments=tuple(attachments),
                unit=name,
                note=note,
            )
        )
    return plan


def plan_bulletin(
    workdir: Path | str,
    *,
    units: Sequence[Any] | None = None,
    to: Sequence[object] = (),
    cc: Sequence[object] = (),
    subject: str | None = None,
) -> MailPlan:
    """The bulletin: one message per unit (``units``) or one to ``to``."""
    workdir = Path(workdir)
    files = find_output_files(workdir)
    if files.bulletin_docx is None:
        raise MailSetupError("output 文件夹中没有通报（*通报*.docx），请先生成通报")
    attachment = AttachmentFile.from_path(files.bulletin_docx)
    text = _bulletin(files)
    year = _year_of(files.bulletin_docx.name, text.title, files.summary.name if files.summary else None)
    base = dict(year=year, title=text.title, overview=text.overview, attachments=[attachment.filename])
    if units is None:
        to_boxes = as_mailboxes(to)
        if not to_boxes:
            raise AddressError("没有收件人地址")
        cc_boxes = [b for b in as_mailboxes(cc) if b.key not in {t.key for t in to_boxes}]
        subj, body = _subject_and_body(workdir, _context(KIND_BULLETIN, **base), subject)
        message = OutgoingMessage(
            kind=KIND_BULLETIN,
            label=_address_label(to_boxes),
            subject=subj,
            body=body,
            to=tuple(to_boxes),
            cc=tuple(cc_boxes),
            attachments=(attachment,),
        )
        return MailPlan(kind=KIND_BULLETIN, items=[message])

    def make(unit: Any, name: str):
        context = _context(KIND_BULLETIN, unit=name, contact=header_text(getattr(unit, "contact", "")), **base)
        return context, [attachment]

    return _per_unit_plan(workdir, KIND_BULLETIN, units, cc, subject, make)


def plan_templates(
    workdir: Path | str,
    units: Sequence[Any],
    cc: Sequence[object] = (),
    subject: str | None = None,
) -> MailPlan:
    """Each unit its own ``outbox/<year>年组工信息报送登记表-<单位>.xlsx``."""
    workdir = Path(workdir)
    if not Workspace(workdir).outbox.is_dir():
        raise MailSetupError("工作目录中没有 outbox 文件夹，请先生成各单位的登记表")

    def make(unit: Any, name: str):
        path = find_unit_template(workdir, unit)
        if path is None:
            return MessageResult(
                label=name,
                kind=KIND_TEMPLATE,
                status=FAILED,
                unit=name,
                message=f"outbox 中找不到该单位的登记表（应为“…年组工信息报送登记表-{name}.xlsx”），未生成邮件",
            )
        attachment = AttachmentFile.from_path(path)
        context = _context(
            KIND_TEMPLATE,
            year=_year_of(path.name),
            unit=name,
            contact=header_text(getattr(unit, "contact", "")),
            attachments=[attachment.filename],
        )
        return context, [attachment]

    return _per_unit_plan(workdir, KIND_TEMPLATE, units, cc, subject, make)


def plan_reminders(
    workdir: Path | str,
    units: Sequence[Any],
    cc: Sequence[object] = (),
    subject: str | None = None,
) -> MailPlan:
    """Each unit that has ``output/催报/<单位>.txt`` gets that text as body."""
    workdir = Path(workdir)
    if not Workspace(workdir).reminders_dir.is_dir():
        raise MailSetupError("output/催报 文件夹不存在，请先生成催报文本")
    files = find_output_files(workdir)
    year_hint = files.summary.name if files.summary else None

    def make(unit: Any, name: str):
        path = find_unit_reminder(workdir, unit)
        if path is None:
            return MessageResult(
                label=name,
                kind=KIND_REMIND,
                status=SKIPPED,
                unit=name,
                message="output/催报 中没有该单位的催报文本，无需催报",
            )
        try:
            text = decode_text(path.read_bytes())
        except OSError as exc:
            return MessageResult(
                label=name,
                kind=KIND_REMIND,
                status=FAILED,
                unit=name,
                message=f"无法读取催报文本 {path.name}：{exc.strerror or exc}",
            )
        context = _context(
            KIND_REMIND,
            year=_year_of(year_hint, text),
            unit=name,
            contact=header_text(getattr(unit, "contact", "")),
            remind_text=text.replace("\x00", "").strip(),
        )
        return context, []

    return _per_unit_plan(workdir, KIND_REMIND, units, cc, subject, make)


def plan_links(
    workdir: Path | str,
    units: Sequence[Any],
    cc: Sequence[object] = (),
    subject: str | None = None,
) -> MailPlan:
    """Each unit gets its own personal link of ``zg-excel serve`` (``serve.tokens.unit_links``), and no other."""
    from ..serve.tokens import unit_links

    workdir = Path(workdir)
    links = unit_links(workdir)
    if not links:
        raise MailSetupError("还没有网页报送链接，请先运行 zg-excel serve 生成（网页报送/网页报送链接.txt）")

    def make(unit: Any, name: str):
        url = links.get(name)
        if url is None:
            return MessageResult(
                label=name,
                kind=KIND_LINKS,
                status=SKIPPED,
                unit=name,
                message="没有该单位的网页报送链接（重新运行 zg-excel serve 即可生成）",
            )
        context = _context(
            KIND_LINKS,
            year=str(_dt.date.today().year),
            unit=name,
            contact=header_text(getattr(unit, "contact", "")),
            link=url,
        )
        return context, []

    return _per_unit_plan(workdir, KIND_LINKS, units, cc, subject, make)


def plan_for_units(
    workdir: Path | str,
    kind: str,
    units: Sequence[Any],
    cc: Sequence[object] = (),
    subject: str | None = None,
) -> MailPlan:
    """Per-unit messages for ``kind`` in template / remind / bulletin."""
    if kind == KIND_TEMPLATE:
        return plan_templates(workdir, units, cc, subject)
    if kind == KIND_REMIND:
        return plan_reminders(workdir, units, cc, subject)
    if kind == KIND_BULLETIN:
        return plan_bulletin(workdir, units=units, cc=cc, subject=subject)
    if kind == KIND_LINKS:
        return plan_links(workdir, units, cc, subject)
    raise MailSetupError("汇总表只发给指定的地址，不按名册逐单位发送")


def plan_for_addresses(
    workdir: Path | str,
    kind: str,
    to: Sequence[object],
    cc: Sequence[object] = (),
    subject: str | None = None,
) -> MailPlan:
    """One message to the given addresses for ``kind`` in summary / bulletin."""
    if kind == KIND_SUMMARY:
        return plan_summary(workdir, to, cc, subject)
    if kind == KIND_BULLETIN:
        return plan_bulletin(workdir, to=to, cc=cc, subject=subject)
    raise MailSetupError(f"{KIND_ZH.get(kind, kind)}按单位分别发送，收件人请用名册（roster）")
