"""Composing a message: subject and body from the jinja2 templates, then the MIME message and its bytes.

Generation policy: CRLF, 78-column folding for headers Python builds, and
headers we build ourselves (the Subject, attachment parameters) written exactly
as given, so Outlook and Foxmail show Chinese names right.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from email import policy as _email_policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, Mapping, Protocol, Sequence
from urllib.parse import quote

import jinja2

from ..workspace import Workspace
from .addresses import Mailbox, decode_text, header_text, one_line
from .errors import MailSetupError

SUBJECT_TEMPLATE = "mail_subject.j2"
BODY_TEMPLATE = "mail_body.j2"
DEFAULTS_DIR = Path(__file__).resolve().parent.parent / "defaults"

_POLICY = _email_policy.SMTP.clone(refold_source="none")

_MIME_TYPES = {
    ".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ".xlsm": ("application", "vnd.ms-excel.sheet.macroEnabled.12"),
    ".xls": ("application", "vnd.ms-excel"),
    ".docx": ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ".doc": ("application", "msword"),
    ".pdf": ("application", "pdf"),
    ".zip": ("application", "zip"),
}


@dataclass(frozen=True)
class AttachmentFile:
    """An attachment: the name shown to the recipient and the exact bytes."""

    filename: str
    data: bytes = field(repr=False)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @classmethod
    def from_path(cls, path: Path | str) -> "AttachmentFile":
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise MailSetupError(f"无法读取附件 {path.name}：{exc.strerror or exc}") from None
        return cls(filename=path.name, data=data)


class Composable(Protocol):
    """What :func:`build_email` reads of a planned message (a ``plan.OutgoingMessage``)."""

    subject: str
    body: str
    to: Sequence[Mailbox]
    cc: Sequence[Mailbox]
    attachments: Sequence[AttachmentFile]


# --------------------------------------------------------------------------
# Subject and body
# --------------------------------------------------------------------------


def _template_env(workdir: Path) -> jinja2.Environment:
    user_dir = Workspace(workdir).templates

    def load(name: str):
        for folder in (user_dir, DEFAULTS_DIR):
            path = folder / name
            if path.is_file():
                source = decode_text(path.read_bytes())
                return source, str(path), lambda: False
        return None

    return jinja2.Environment(
        loader=jinja2.FunctionLoader(load),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def _tidy_body(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    body = "\n".join(lines).replace("\ufeff", "").replace("\x00", "")
    body = re.sub(r"\n{3,}", "\n\n", body).strip("\n")
    return body + "\n"


def render_mail(workdir: Path | str, context: Mapping[str, Any]) -> tuple[str, str]:
    """Render ``(subject, body)`` from mail_subject.j2 / mail_body.j2.

    ``<workdir>/templates/<name>`` wins over the packaged default, file by file.
    Undefined variables are errors (:class:`MailSetupError`). The subject is
    joined into one clean line.
    """
    env = _template_env(Path(workdir))
    rendered = []
    for name in (SUBJECT_TEMPLATE, BODY_TEMPLATE):
        try:
            rendered.append(env.get_template(name).render(**context))
        except jinja2.TemplateNotFound:
            raise MailSetupError(f"找不到邮件模板 {name}") from None
        except jinja2.TemplateSyntaxError as exc:
            raise MailSetupError(
                f"邮件模板 {exc.filename or name} 第 {exc.lineno} 行有语法错误：{exc.message}"
            ) from None
        except jinja2.TemplateError as exc:
            raise MailSetupError(f"邮件模板 {name} 无法生成：{exc}") from None
    subject = one_line(rendered[0])
    if not subject:
        raise MailSetupError(f"邮件模板 {SUBJECT_TEMPLATE} 生成的主题为空")
    return subject, _tidy_body(rendered[1])


# --------------------------------------------------------------------------
# MIME
# --------------------------------------------------------------------------


def _encoded_words(text: str, limit: int = 42) -> list[str]:
    """RFC 2047 ``=?utf-8?b?…?=`` words, each from whole characters and at
    most ``limit`` UTF-8 bytes (so every folded line stays under 78)."""
    chunks: list[str] = []
    current = ""
    for ch in text:
        if current and len((current + ch).encode("utf-8")) > limit:
            chunks.append(current)
            current = ch
        else:
            current += ch
    if current:
        chunks.append(current)
    return ["=?utf-8?b?" + base64.b64encode(c.encode("utf-8")).decode("ascii") + "?=" for c in chunks]


def _subject_value(subject: str) -> str:
    """The Subject as we fold it ourselves: plain when short ASCII, else
    RFC 2047 words of whole characters. (The email package's folder can drop
    a space at a fold between encoded words.)"""
    if subject.isascii() and len(subject) <= 60 and "=?" not in subject:
        return subject
    return "\r\n ".join(_encoded_words(subject))


def _attachment_filename(name: str) -> str:
    text = header_text(name).replace('"', "").replace("\\", "_")
    return text or "附件"


def _content_type_value(maintype: str, subtype: str, filename: str) -> str:
    """``type/subtype; name="…"`` with an RFC 2047 name for Outlook/Foxmail."""
    if filename.isascii():
        return f'{maintype}/{subtype};\r\n name="{filename}"'
    words = _encoded_words(filename)
    return f'{maintype}/{subtype};\r\n name="' + "\r\n ".join(words) + '"'


def _disposition_value(filename: str) -> str:
    """``attachment; filename*=utf-8''…`` (RFC 2231), continued if very long."""
    if filename.isascii():
        return f'attachment;\r\n filename="{filename}"'
    encoded = quote(filename.encode("utf-8"), safe="")
    if len(encoded) <= 900:
        return "attachment;\r\n filename*=utf-8''" + encoded
    # Continuations of at most 50 characters, never splitting a %XX triplet.
    tokens = re.findall(r"%[0-9A-F]{2}|.", encoded)
    pieces: list[str] = [""]
    for token in tokens:
        if len(pieces[-1]) + len(token) > 50:
            pieces.append("")
        pieces[-1] += token
    params = [f"filename*{i}*=" + ("utf-8''" if i == 0 else "") + p for i, p in enumerate(pieces)]
    return "attachment;\r\n " + ";\r\n ".join(params)


def _attachment_part(attachment: AttachmentFile) -> EmailMessage:
    filename = _attachment_filename(attachment.filename)
    maintype, subtype = _MIME_TYPES.get(Path(filename).suffix.lower(), ("application", "octet-stream"))
    part = EmailMessage(policy=_POLICY)
    part.set_content(attachment.data, maintype=maintype, subtype=subtype, cte="base64")
    # Replace the headers set_content made: set_raw keeps our own folding
    # (the policy would re-encode the name as RFC 2231 only).
    for name in list(part.keys()):
        del part[name]
    part.set_raw("Content-Type", _content_type_value(maintype, subtype, filename))
    part.set_raw("Content-Disposition", _disposition_value(filename))
    part.set_raw("Content-Transfer-Encoding", "base64")
    return part


def build_email(
    message: Composable,
    *,
    sender: Mailbox | None = None,
    draft: bool = False,
) -> EmailMessage:
    """The :class:`EmailMessage` for ``message``.

    Drafts carry ``X-Unsent: 1`` (Outlook opens them ready to send) and no
    Message-ID/Date; sent messages get both. Text is UTF-8 in base64, so the
    whole message is 7-bit and needs no SMTPUTF8.
    """
    msg = EmailMessage(policy=_POLICY)
    if sender is not None:
        msg["From"] = sender.header()
    if message.to:
        msg["To"] = [box.header() for box in message.to]
    if message.cc:
        msg["Cc"] = [box.header() for box in message.cc]
    msg.set_raw("Subject", _subject_value(header_text(message.subject)))
    if draft:
        msg["X-Unsent"] = "1"
    else:
        msg["Date"] = formatdate(localtime=True)
        domain = sender.addr.rsplit("@", 1)[1] if sender is not None else "zg-excel.local"
        msg["Message-ID"] = make_msgid(domain=domain)
    body = message.body.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    msg.set_content(body, subtype="plain", charset="utf-8", cte="base64")
    if message.attachments:
        msg.make_mixed()
        for attachment in message.attachments:
            msg.attach(_attachment_part(attachment))
    return msg


def message_bytes(msg: EmailMessage) -> bytes:
    """The wire form (CRLF line ends) used for drafts and for SMTP."""
    return msg.as_bytes(policy=_POLICY)

