"""Email the summary, the bulletin, the units' templates and reminders.

The library plans messages from plain data (a list of units with ``name``,
``aliases``, ``contact`` and ``email`` attributes, or a list of addresses),
then either writes each message as an Outlook draft (``.eml`` with
``X-Unsent: 1``) under ``output/mail/`` or sends it over SMTP. It never prints
and never exits: every outcome is a :class:`MessageResult` with a Chinese
message saying what was and was not sent, collected in a :class:`MailRunResult`.

Safety rules kept here rather than in the command:

* Nothing that comes from a workbook, a roster or a template reaches a header
  with CR, LF, NUL or another control character in it (:func:`clean_text`),
  and every address passes :func:`parse_address` (one address, ASCII,
  conservative syntax), so a crafted unit name cannot add a header or a
  recipient.
* The SMTP password is a parameter only: it is never read from ``mail.toml``,
  never stored in a result, a log line or an error message.
* TLS always verifies the server certificate (``ssl.create_default_context``);
  ``cafile`` adds a trusted CA, it never turns verification off.
* A sent-log (``output/mail/已发送记录.jsonl``) remembers, per recipient, the
  subject and attachment hashes already delivered, so a re-run does not send
  the same thing twice.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import os
import re
import smtplib
import socket
import ssl
import unicodedata
from dataclasses import dataclass, field
from email import policy as _email_policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import quote

import jinja2

from .workspace import atomic_write_bytes

try:  # Python 3.11+
    import tomllib as _toml
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as _toml  # type: ignore[no-redef]

__all__ = [
    "KIND_SUMMARY",
    "KIND_TEMPLATE",
    "KIND_REMIND",
    "KIND_BULLETIN",
    "KINDS",
    "KIND_ZH",
    "MailError",
    "MailConfigError",
    "MailSetupError",
    "AddressError",
    "Mailbox",
    "AttachmentFile",
    "OutgoingMessage",
    "MailPlan",
    "MessageResult",
    "MailRunResult",
    "SmtpSettings",
    "BulletinText",
    "OutputFiles",
    "clean_text",
    "parse_address",
    "parse_address_list",
    "load_smtp_settings",
    "read_bulletin_text",
    "find_output_files",
    "find_unit_template",
    "find_unit_reminder",
    "render_mail",
    "plan_summary",
    "plan_bulletin",
    "plan_templates",
    "plan_reminders",
    "plan_for_units",
    "plan_for_addresses",
    "build_email",
    "message_bytes",
    "write_drafts",
    "send_plan",
    "read_sent_log",
    "mail_dir",
    "sent_log_path",
]

KIND_SUMMARY = "summary"
KIND_TEMPLATE = "template"
KIND_REMIND = "remind"
KIND_BULLETIN = "bulletin"
KINDS = (KIND_SUMMARY, KIND_TEMPLATE, KIND_REMIND, KIND_BULLETIN)
KIND_ZH = {
    KIND_SUMMARY: "汇总表",
    KIND_TEMPLATE: "登记表",
    KIND_REMIND: "催报",
    KIND_BULLETIN: "通报",
}

CONFIG_NAME = "mail.toml"
MAIL_SUBDIR = Path("output") / "mail"
SENT_LOG_NAME = "已发送记录.jsonl"
REMIND_SUBDIR = Path("output") / "催报"
OUTBOX_SUBDIR = Path("outbox")
USER_TEMPLATE_SUBDIR = Path("templates")
SUBJECT_TEMPLATE = "mail_subject.j2"
BODY_TEMPLATE = "mail_body.j2"
DEFAULTS_DIR = Path(__file__).resolve().parent / "defaults"

SECURITY_CHOICES = ("ssl", "starttls", "none")
DEFAULT_PORTS = {"ssl": 465, "starttls": 587, "none": 25}
DEFAULT_TIMEOUT = 30.0

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

# Generation policy: CRLF, 78-column folding for headers Python builds, and
# headers we build ourselves (attachment parameters) written exactly as given.
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


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


class MailError(Exception):
    """Base class; ``str(exc)`` is a Chinese message for the user."""


class MailConfigError(MailError):
    """mail.toml or the ZG_SMTP_* environment variables are wrong."""


class MailSetupError(MailError):
    """A file the message needs is missing, or a mail template is broken."""


class AddressError(MailError, ValueError):
    """An email address is unusable."""


# --------------------------------------------------------------------------
# Text and address hygiene
# --------------------------------------------------------------------------

# C0 and C1 controls (tab handled separately), DEL, line/paragraph
# separators, the BOM and lone surrogates: nothing of this may reach a header.
_CONTROL_RE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff]")
_SPACES_RE = re.compile(r"[ \t]+")


def clean_text(value: object) -> str:
    """``value`` as one safe line: control characters (CR, LF, NUL, …) removed.

    Tabs become spaces; leading and trailing whitespace is stripped. Used on
    everything that may end up in a header or a file name.
    """
    text = "" if value is None else str(value)
    text = text.replace("\t", " ")
    text = _CONTROL_RE.sub("", text)
    return text.strip()


def _one_line(text: str) -> str:
    """Join a (rendered) multi-line text into one clean line."""
    lines = [line.strip() for line in str(text).splitlines()]
    joined = " ".join(line for line in lines if line)
    return _SPACES_RE.sub(" ", clean_text(joined))


_LOCAL_ATOM = r"[A-Za-z0-9_%+\-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
_ADDR_RE = re.compile(
    rf"{_LOCAL_ATOM}(?:\.{_LOCAL_ATOM})*@(?:{_LABEL}\.)+[A-Za-z](?:[A-Za-z0-9\-]{{0,61}}[A-Za-z0-9])"
)
_SEPARATORS = ",;"


@dataclass(frozen=True)
class Mailbox:
    """One validated address, with an optional (clean) display name."""

    addr: str
    name: str = ""

    @property
    def key(self) -> str:
        return self.addr.lower()

    def header(self) -> Address:
        return Address(display_name=self.name, addr_spec=self.addr)

    def __str__(self) -> str:
        return f"{self.name} <{self.addr}>" if self.name else self.addr


def parse_address(text: object, name: str = "") -> Mailbox:
    """Validate one address (``a@b.cn`` or ``张三 <a@b.cn>``).

    Full-width characters typed with a Chinese input method (＠, ．) are
    normalised first. Anything with CR/LF/NUL, a comma or semicolon (two
    addresses), non-ASCII in the address itself or a shape outside a
    conservative syntax raises :class:`AddressError`. ``name`` is a fallback
    display name (e.g. the unit's name).
    """
    if not isinstance(text, str):
        raise AddressError(f"邮箱地址应为文字，实际为：{text!r}")
    raw = unicodedata.normalize("NFKC", text)
    shown = clean_text(raw) or "（空）"
    if any(ch in raw for ch in "\r\n\x00"):
        raise AddressError(f"邮箱地址中含有换行或控制字符，已拒绝：{shown}")
    if _CONTROL_RE.search(raw.replace("\t", " ")):
        raise AddressError(f"邮箱地址中含有控制字符，已拒绝：{shown}")
    raw = raw.strip()
    if not raw:
        raise AddressError("邮箱地址为空")
    if any(ch in raw for ch in _SEPARATORS) or "、" in raw:
        raise AddressError(f"一处只能写一个邮箱地址，多个地址请分开填写：{shown}")
    display, addr = parseaddr(raw)
    addr = addr.strip()
    if (
        not addr
        or len(addr) > 254
        or addr not in raw
        or not _ADDR_RE.fullmatch(addr)
    ):
        raise AddressError(f"邮箱地址格式不对：{shown}")
    # Whatever is not the address must be a display name in front of <addr>.
    if raw != addr and not raw.endswith(f"<{addr}>"):
        raise AddressError(f"邮箱地址格式不对：{shown}")
    display = clean_text(display) or clean_text(name)
    return Mailbox(addr=addr, name=display)


_ROSTER_SPLIT_RE = re.compile(r"[,;、/\s]+")


def parse_address_list(text: object, name: str = "") -> tuple[list[Mailbox], list[str]]:
    """Split a roster's email cell into addresses: ``(good, bad)``.

    Units often write two addresses in one cell (``a@qq.com；b@163.com``);
    they are split on commas, semicolons, 、 and whitespace (full-width too).
    A cell with CR/LF/NUL is rejected as a whole. ``bad`` holds the rejected
    pieces, cleaned for display.
    """
    if text is None:
        return [], []
    raw = unicodedata.normalize("NFKC", str(text))
    if not raw.strip():
        return [], []
    if any(ch in raw for ch in "\r\n\x00"):
        return [], [clean_text(raw)]
    if not re.search(r"[,;、/]", raw):
        try:  # one address, possibly with a name: 张三 <a@b.cn>
            return [parse_address(raw, name=name)], []
        except AddressError:
            pass
    good: list[Mailbox] = []
    bad: list[str] = []
    seen: set[str] = set()
    for piece in _ROSTER_SPLIT_RE.split(raw):
        if not piece:
            continue
        try:
            box = parse_address(piece, name=name)
        except AddressError:
            bad.append(clean_text(piece))
            continue
        if box.key not in seen:
            seen.add(box.key)
            good.append(box)
    return good, bad


def _as_mailboxes(values: Iterable[object] | None) -> list[Mailbox]:
    out: list[Mailbox] = []
    seen: set[str] = set()
    for value in values or ():
        box = value if isinstance(value, Mailbox) else parse_address(value)
        if box.key not in seen:
            seen.add(box.key)
            out.append(box)
    return out


_WIN_BAD_RE = re.compile(r'[\\/:*?"<>|]')
_WIN_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"COM{i}" for i in range(1, 10)} | {
    f"LPT{i}" for i in range(1, 10)
}


def safe_filename(name: str, fallback: str = "邮件", limit: int = 80) -> str:
    """A Windows-safe file name stem made from ``name``."""
    text = _WIN_BAD_RE.sub("_", clean_text(name)).strip(" .")
    if not text:
        text = fallback
    if text.split(".")[0].upper() in _WIN_RESERVED:
        text = "_" + text
    return text[:limit].rstrip(" .") or fallback


# --------------------------------------------------------------------------
# SMTP settings
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send. The password is deliberately not a field."""

    host: str = ""
    port: int = 0
    security: str = "ssl"
    user: str = ""
    sender: Mailbox | None = None
    timeout: float = DEFAULT_TIMEOUT
    cafile: Path | None = None
    allow_plaintext_login: bool = False

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


_SECRET_KEYS = {"password", "passwd", "pass", "pwd", "secret", "token", "授权码", "密码"}


def _decode_text(raw: bytes) -> str:
    """UTF-8 (with or without BOM); files saved as ANSI on Chinese Windows
    are GBK, so fall back to GB18030."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="replace")


def _env(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def load_smtp_settings(
    workdir: Path | str,
    env: Mapping[str, str] | None = None,
    *,
    for_sending: bool = True,
) -> SmtpSettings:
    """Read ``<workdir>/mail.toml`` ``[smtp]``, overridden by ``ZG_SMTP_*``.

    Keys: ``host``, ``port``, ``security`` (``ssl`` | ``starttls`` | ``none``),
    ``user``, ``from``, ``timeout`` (seconds), ``cafile`` (an extra trusted CA,
    relative to the working folder), ``allow_plaintext_login`` (log in over
    ``none``; off by default). Environment: ``ZG_SMTP_HOST``, ``ZG_SMTP_PORT``,
    ``ZG_SMTP_SECURITY``, ``ZG_SMTP_USER``, ``ZG_SMTP_FROM``,
    ``ZG_SMTP_TIMEOUT``, ``ZG_SMTP_CAFILE``. A password in mail.toml is an
    error (use ``ZG_SMTP_PASSWORD`` or the prompt). With ``for_sending`` the
    host and the sender address are required.
    """
    workdir = Path(workdir)
    env = os.environ if env is None else env
    path = workdir / CONFIG_NAME
    table: dict[str, Any] = {}
    if path.is_file():
        try:
            data = _toml.loads(_decode_text(path.read_bytes()))
        except _toml.TOMLDecodeError as exc:
            raise MailConfigError(f"{CONFIG_NAME} 格式有误：{exc}") from None
        except OSError as exc:
            raise MailConfigError(f"无法读取 {CONFIG_NAME}：{exc.strerror or exc}") from None
        smtp = data.get("smtp", {})
        if not isinstance(smtp, dict):
            raise MailConfigError(f"{CONFIG_NAME} 中的 smtp 应为 [smtp] 一节")
        table = dict(smtp)
        secret = sorted(k for k in table if str(k).strip().lower() in _SECRET_KEYS)
        if secret:
            raise MailConfigError(
                f"{CONFIG_NAME} 中不能保存密码（{'、'.join(secret)}），请删除该项；"
                "发送时用环境变量 ZG_SMTP_PASSWORD 提供，或在运行时按提示输入"
            )

    def pick(key: str, env_name: str) -> Any:
        from_env = _env(env, env_name)
        if from_env is not None:
            return from_env
        return table.get(key)

    host = clean_text(pick("host", "ZG_SMTP_HOST") or "")
    if host and not re.fullmatch(r"[A-Za-z0-9.\-:\[\]]+", host):
        raise MailConfigError(f"邮件服务器地址 host 不对：{host}")

    security = clean_text(pick("security", "ZG_SMTP_SECURITY") or "ssl").lower()
    if security not in SECURITY_CHOICES:
        raise MailConfigError(
            f"security 只能是 ssl、starttls 或 none，现在是：{security}"
        )

    port_value = pick("port", "ZG_SMTP_PORT")
    if port_value in (None, ""):
        port = DEFAULT_PORTS[security]
    else:
        try:
            port = int(str(port_value).strip())
        except ValueError:
            raise MailConfigError(f"端口 port 应为数字，现在是：{clean_text(port_value)}") from None
        if not 0 < port < 65536:
            raise MailConfigError(f"端口 port 超出范围：{port}")

    timeout_value = pick("timeout", "ZG_SMTP_TIMEOUT")
    if timeout_value in (None, ""):
        timeout = DEFAULT_TIMEOUT
    else:
        try:
            timeout = float(str(timeout_value).strip())
        except ValueError:
            raise MailConfigError(f"超时 timeout 应为秒数，现在是：{clean_text(timeout_value)}") from None
        if not timeout > 0:
            raise MailConfigError("超时 timeout 应大于 0")

    user = clean_text(pick("user", "ZG_SMTP_USER") or "")

    sender: Mailbox | None = None
    from_value = pick("from", "ZG_SMTP_FROM")
    if from_value not in (None, ""):
        try:
            sender = parse_address(str(from_value))
        except AddressError as exc:
            raise MailConfigError(f"发件人 from 有误：{exc}") from None
    elif user:
        try:
            sender = parse_address(user)
        except AddressError:
            sender = None

    cafile: Path | None = None
    cafile_value = pick("cafile", "ZG_SMTP_CAFILE")
    if cafile_value not in (None, ""):
        cafile = Path(str(cafile_value))
        if not cafile.is_absolute():
            cafile = workdir / cafile
        if not cafile.is_file():
            raise MailConfigError(f"找不到证书文件 cafile：{cafile}")

    plain = table.get("allow_plaintext_login", False)
    if not isinstance(plain, bool):
        raise MailConfigError("allow_plaintext_login 应为 true 或 false")

    settings = SmtpSettings(
        host=host,
        port=port,
        security=security,
        user=user,
        sender=sender,
        timeout=timeout,
        cafile=cafile,
        allow_plaintext_login=plain,
    )
    if for_sending:
        if not host:
            raise MailConfigError(
                f"没有设置邮件服务器：请在工作目录的 {CONFIG_NAME} 中写 [smtp] host = \"…\"，"
                "或设置环境变量 ZG_SMTP_HOST"
            )
        if sender is None:
            raise MailConfigError(
                f"没有设置发件人地址：请在 {CONFIG_NAME} 的 [smtp] 中写 from = \"…\"，"
                "或设置环境变量 ZG_SMTP_FROM"
            )
        if user and security == "none" and not plain:
            raise MailConfigError(
                "security = \"none\" 时登录会明文传输密码，已拒绝。请改用 ssl 或 starttls；"
                f"确需在内网明文登录，可在 {CONFIG_NAME} 的 [smtp] 中写 allow_plaintext_login = true"
            )
    return settings


# --------------------------------------------------------------------------
# Files the messages are made of
# --------------------------------------------------------------------------


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


@dataclass(frozen=True)
class BulletinText:
    title: str = ""
    overview: str = ""


_HEADING_RE = re.compile(r"^[一二三四五六七八九十]+、")


def read_bulletin_text(path: Path | str) -> BulletinText:
    """Title and 总体情况 paragraph of ``通报.txt``.

    The title is the first non-empty line; the 总体情况 paragraph is the text
    after the line starting with ``一、`` up to the next line starting with
    ``二、`` (or the end).
    """
    text = _decode_text(Path(path).read_bytes())
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    title = next((clean_text(line) for line in lines if line), "")
    overview: list[str] = []
    inside = False
    for line in lines:
        if line.startswith("一、"):
            inside = True
            continue
        if inside and line.startswith("二、"):
            break
        if inside and line:
            overview.append(line)
    return BulletinText(title=title, overview="\n".join(overview))


@dataclass(frozen=True)
class OutputFiles:
    summary: Path | None = None
    bulletin_docx: Path | None = None
    bulletin_txt: Path | None = None


def _newest(paths: Iterable[Path]) -> Path | None:
    found = [p for p in paths if p.is_file() and not p.name.startswith(("~$", "."))]
    if not found:
        return None
    return max(found, key=lambda p: (p.stat().st_mtime, p.name))


def find_output_files(workdir: Path | str) -> OutputFiles:
    """The newest ``output/*汇总表*.xlsx``, ``output/*通报*.docx`` and ``.txt``."""
    out = Path(workdir) / "output"
    if not out.is_dir():
        return OutputFiles()
    docx = _newest(out.glob("*通报*.docx"))
    txt: Path | None = None
    if docx is not None and docx.with_suffix(".txt").is_file():
        txt = docx.with_suffix(".txt")
    if txt is None:
        txt = _newest(out.glob("*通报*.txt"))
    return OutputFiles(summary=_newest(out.glob("*汇总表*.xlsx")), bulletin_docx=docx, bulletin_txt=txt)


_TEMPLATE_NAME_RE = re.compile(r"^(\d{4})年组工信息报送登记表-(.+)\.xlsx$", re.IGNORECASE)
_YEAR_RE = re.compile(r"(20\d{2})年")


def _unit_names(unit: Any) -> list[str]:
    name = clean_text(getattr(unit, "name", ""))
    names = [name] if name else []
    for alias in getattr(unit, "aliases", ()) or ():
        alias = clean_text(alias)
        if alias and alias not in names:
            names.append(alias)
    return names


_TEMPLATE_UNSAFE_RE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def _name_forms(name: str) -> set[str]:
    """The ways a unit's name may appear in a file name: as is, NFKC, and
    made safe the way zg_excel.template.template_filename does it."""
    norm = unicodedata.normalize("NFKC", name).strip()
    forms = {name, norm, safe_filename(name, fallback=""), safe_filename(norm, fallback="")}
    for text in (name, norm):
        safe = _TEMPLATE_UNSAFE_RE.sub("_", text).strip().strip(".").strip()
        forms.add(re.sub(r"\s+", " ", safe)[:80])
    return forms - {""}


def find_unit_template(outbox: Path | str, unit: Any) -> Path | None:
    """``<year>年组工信息报送登记表-<单位名称>.xlsx`` for ``unit`` in ``outbox``.

    The unit's name must equal the part after the dash (its aliases are tried
    after the name), so 峡窝镇 never picks 峡窝镇中心校's file. The newest year
    wins; files in sub-folders are considered after top-level ones.
    """
    outbox = Path(outbox)
    if not outbox.is_dir():
        return None
    candidates: list[tuple[int, int, int, str, Path]] = []
    names = _unit_names(unit)
    for path in outbox.rglob("*.xlsx"):
        if path.name.startswith(("~$", ".")):
            continue
        match = _TEMPLATE_NAME_RE.match(unicodedata.normalize("NFKC", path.name))
        if not match:
            continue
        for rank, name in enumerate(names):
            if match.group(2).strip() in _name_forms(name):
                depth = len(path.relative_to(outbox).parts)
                candidates.append((-rank, int(match.group(1)), -depth, path.name, path))
                break
    if not candidates:
        return None
    return max(candidates)[-1]


def find_unit_reminder(workdir: Path | str, unit: Any) -> Path | None:
    """``output/催报/<单位>.txt`` (by name, then aliases)."""
    folder = Path(workdir) / REMIND_SUBDIR
    if not folder.is_dir():
        return None
    by_name = {unicodedata.normalize("NFKC", p.stem).strip(): p for p in folder.glob("*.txt")}
    for name in _unit_names(unit):
        for form in _name_forms(name):
            if form in by_name:
                return by_name[form]
    return None


# --------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------


def _template_env(workdir: Path) -> jinja2.Environment:
    user_dir = workdir / USER_TEMPLATE_SUBDIR

    def load(name: str):
        for folder in (user_dir, DEFAULTS_DIR):
            path = folder / name
            if path.is_file():
                source = _decode_text(path.read_bytes())
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
    subject = _one_line(rendered[0])
    if not subject:
        raise MailSetupError(f"邮件模板 {SUBJECT_TEMPLATE} 生成的主题为空")
    return subject, _tidy_body(rendered[1])


# --------------------------------------------------------------------------
# Planning
# --------------------------------------------------------------------------


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


@dataclass
class MailRunResult:
    mode: str  # "draft" | "send"
    results: list[MessageResult] = field(default_factory=list)

    @property
    def failed(self) -> list[MessageResult]:
        return [r for r in self.results if not r.ok]

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def without_address(self) -> list[MessageResult]:
        """Messages/units that have no usable address (drafted or not)."""
        return [r for r in self.results if r.missing_address]

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)


def _year_of(*texts: str | None) -> str:
    for text in texts:
        if text:
            match = _YEAR_RE.search(text)
            if match:
                return match.group(1)
    return str(_dt.date.today().year)


def _today_zh() -> str:
    today = _dt.date.today()
    return f"{today.year}年{today.month}月{today.day}日"


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
        "today": _today_zh(),
    }
    context.update(values)
    return context


def _subject_and_body(workdir: Path, context: dict[str, Any], subject: str | None) -> tuple[str, str]:
    rendered_subject, body = render_mail(workdir, context)
    if subject is not None and clean_text(subject):
        return clean_text(subject), body
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
    to_boxes = _as_mailboxes(to)
    if not to_boxes:
        raise AddressError("没有收件人地址")
    cc_boxes = [b for b in _as_mailboxes(cc) if b.key not in {t.key for t in to_boxes}]
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
    name = clean_text(getattr(unit, "name", ""))
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
    cc_boxes = _as_mailboxes(cc)
    plan = MailPlan(kind=kind)
    for unit in units:
        name = clean_text(getattr(unit, "name", ""))
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
        if to_boxes and bad:
            note = f"名册中部分邮箱无效，已忽略：{'、'.join(bad)}"
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
        to_boxes = _as_mailboxes(to)
        if not to_boxes:
            raise AddressError("没有收件人地址")
        cc_boxes = [b for b in _as_mailboxes(cc) if b.key not in {t.key for t in to_boxes}]
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
        context = _context(KIND_BULLETIN, unit=name, contact=clean_text(getattr(unit, "contact", "")), **base)
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
    outbox = workdir / OUTBOX_SUBDIR
    if not outbox.is_dir():
        raise MailSetupError("工作目录中没有 outbox 文件夹，请先生成各单位的登记表")

    def make(unit: Any, name: str):
        path = find_unit_template(outbox, unit)
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
            contact=clean_text(getattr(unit, "contact", "")),
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
    folder = workdir / REMIND_SUBDIR
    if not folder.is_dir():
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
            text = _decode_text(path.read_bytes())
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
            contact=clean_text(getattr(unit, "contact", "")),
            remind_text=text.replace("\x00", "").strip(),
        )
        return context, []

    return _per_unit_plan(workdir, KIND_REMIND, units, cc, subject, make)


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


# --------------------------------------------------------------------------
# Building messages
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
    text = clean_text(name).replace('"', "").replace("\\", "_")
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
    message: OutgoingMessage,
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
    msg.set_raw("Subject", _subject_value(clean_text(message.subject)))
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


# --------------------------------------------------------------------------
# Drafts
# --------------------------------------------------------------------------


def mail_dir(workdir: Path | str) -> Path:
    return Path(workdir) / MAIL_SUBDIR


def sent_log_path(workdir: Path | str) -> Path:
    return mail_dir(workdir) / SENT_LOG_NAME




def _coerce_sender(sender: Mailbox | str | None) -> Mailbox | None:
    if sender is None or isinstance(sender, Mailbox):
        return sender
    return parse_address(sender)


def _addrs(boxes: Iterable[Mailbox]) -> tuple[str, ...]:
    return tuple(box.addr for box in boxes)


def write_drafts(
    plan: MailPlan,
    workdir: Path | str,
    sender: Mailbox | str | None = None,
) -> MailRunResult:
    """Write each planned message as ``output/mail/<类别>-<单位或地址>.eml``.

    Messages without a recipient (unit without an address) are still written,
    so the user can type the address in Outlook; their result says so.
    """
    workdir = Path(workdir)
    box = _coerce_sender(sender)
    folder = mail_dir(workdir)
    result = MailRunResult(mode="draft")
    used: set[str] = set()
    for message in plan.items:
        if isinstance(message, MessageResult):
            result.results.append(message)
            continue
        stem = safe_filename(f"{KIND_ZH.get(message.kind, '邮件')}-{message.label}")
        name = f"{stem}.eml"
        n = 2
        while name.lower() in used:
            name = f"{stem}-{n}.eml"
            n += 1
        used.add(name.lower())
        path = folder / name
        common = dict(
            label=message.label,
            kind=message.kind,
            unit=message.unit,
            subject=message.subject,
            to=_addrs(message.recipients()),
            attachments=tuple(a.filename for a in message.attachments),
        )
        try:
            data = message_bytes(build_email(message, sender=box, draft=True))
            atomic_write_bytes(path, data)
        except PermissionError:
            result.results.append(
                MessageResult(
                    status=FAILED,
                    message=f"无法写入草稿 {name}：文件被占用（可能正在 Outlook 中打开），请关闭后重试",
                    **common,
                )
            )
            continue
        except OSError as exc:
            result.results.append(
                MessageResult(status=FAILED, message=f"无法写入草稿 {name}：{exc.strerror or exc}", **common)
            )
            continue
        text = f"已生成草稿 {name}"
        if not message.to:
            text += f"（{message.note or '没有收件人'}，请在草稿中填写收件人）"
        elif message.note:
            text += f"（{message.note}）"
        result.results.append(
            MessageResult(
                status=DRAFTED, message=text, draft_path=path, missing_address=not message.to, **common
            )
        )
    return result


# --------------------------------------------------------------------------
# Sent-log
# --------------------------------------------------------------------------


def read_sent_log(workdir: Path | str) -> set[tuple[str, str]]:
    """``{(address lower-cased, content fingerprint)}`` already delivered.

    Lines that cannot be read are ignored (a half-written last line after a
    crash must not stop the next run).
    """
    path = sent_log_path(workdir)
    done: set[tuple[str, str]] = set()
    if not path.is_file():
        return done
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return done
    for line in text.splitlines():
        try:
            entry = json.loads(line)
            fingerprint = str(entry["fingerprint"])
            for addr in entry.get("delivered", []):
                done.add((str(addr).lower(), fingerprint))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    return done


def _append_sent_log(workdir: Path, entry: dict[str, Any]) -> None:
    path = sent_log_path(workdir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8", newline="\n") as handle:
        handle.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


# --------------------------------------------------------------------------
# Sending
# --------------------------------------------------------------------------


class _Fatal(Exception):
    """The connection cannot be used: every remaining message fails."""


def _scrub(text: str, password: str | None) -> str:
    if password:
        text = text.replace(password, "******")
    return text


def _reply(code: Any, msg: Any) -> str:
    if isinstance(msg, bytes):
        msg = msg.decode("utf-8", errors="replace")
    text = clean_text(" ".join(str(msg).split()))
    return f"{code} {text}".strip() if code else text


def _open_connection(settings: SmtpSettings, password: str | None) -> smtplib.SMTP:
    where = settings.where
    context = ssl.create_default_context()
    if settings.cafile is not None:
        context.load_verify_locations(cafile=str(settings.cafile))
    smtp: smtplib.SMTP | None = None
    try:
        if settings.security == "ssl":
            smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
            smtp.ehlo()
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
            smtp.ehlo()
            if settings.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise _Fatal(
                        f"邮件服务器 {where} 不支持 STARTTLS 加密，未发送任何邮件。"
                        "请确认 security 与端口（465 一般用 ssl，587 用 starttls）"
                    )
                smtp.starttls(context=context)
                smtp.ehlo()
        if settings.user:
            if settings.security == "none" and not settings.allow_plaintext_login:
                raise _Fatal("未加密的连接上不发送密码，未发送任何邮件")
            smtp.login(settings.user, password or "")
        return_smtp, smtp = smtp, None
        return return_smtp
    except _Fatal:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise _Fatal(
            f"邮件服务器拒绝登录（用户 {settings.user}，服务器答复：{_scrub(_reply(exc.smtp_code, exc.smtp_error), password)}）。"
            "请检查用户名和密码；QQ、163 等邮箱须使用“授权码”而不是登录密码"
        ) from None
    except smtplib.SMTPNotSupportedError:
        raise _Fatal(f"邮件服务器 {where} 不支持登录（AUTH），请检查 security 设置或去掉 user") from None
    except smtplib.SMTPConnectError as exc:
        raise _Fatal(f"邮件服务器 {where} 拒绝连接（{_scrub(_reply(exc.smtp_code, exc.smtp_error), password)}）") from None
    except smtplib.SMTPServerDisconnected:
        raise _Fatal(
            f"邮件服务器 {where} 断开了连接。请确认 security 与端口是否匹配（465 一般用 ssl，587 用 starttls）"
        ) from None
    except smtplib.SMTPResponseException as exc:
        raise _Fatal(f"邮件服务器 {where} 出错：{_scrub(_reply(exc.smtp_code, exc.smtp_error), password)}") from None
    except smtplib.SMTPException as exc:
        raise _Fatal(f"邮件服务器 {where} 出错：{_scrub(str(exc), password)}") from None
    except ssl.SSLCertVerificationError as exc:
        raise _Fatal(
            f"邮件服务器 {where} 的证书验证失败（{clean_text(exc.verify_message or exc.reason or exc)}），"
            f"为安全起见未发送任何邮件。若单位邮箱使用内部证书，可在 {CONFIG_NAME} 的 [smtp] 中设置 cafile"
        ) from None
    except ssl.SSLError as exc:
        raise _Fatal(
            f"与邮件服务器 {where} 建立加密连接失败（{clean_text(exc.reason or exc)}）。"
            "请确认 security 与端口是否匹配（465 一般用 ssl，587 用 starttls）"
        ) from None
    except socket.gaierror:
        raise _Fatal(f"找不到邮件服务器 {settings.host}（域名解析失败），请检查 host 和网络") from None
    except (socket.timeout, TimeoutError):
        raise _Fatal(f"连接邮件服务器 {where} 超时（{settings.timeout:g} 秒），请检查网络、host 和端口") from None
    except ConnectionRefusedError:
        raise _Fatal(f"无法连接邮件服务器 {where}（连接被拒绝），请检查 host 和端口") from None
    except OSError as exc:
        raise _Fatal(f"无法连接邮件服务器 {where}：{clean_text(exc.strerror or exc)}") from None
    finally:
        if smtp is not None:
            try:
                smtp.close()
            except Exception:  # pragma: no cover - best effort
                pass


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except Exception:
        try:
            smtp.close()
        except Exception:  # pragma: no cover - best effort
            pass


def send_plan(
    plan: MailPlan,
    workdir: Path | str,
    settings: SmtpSettings,
    password: str | None = None,
    *,
    resend: bool = False,
) -> MailRunResult:
    """Send every planned message over one SMTP connection.

    Per recipient, content already in the sent-log is not sent again (unless
    ``resend``). A connection or login failure fails every remaining message
    with the same explanation, without retrying per message. Each delivery is
    appended to the sent-log right away.
    """
    workdir = Path(workdir)
    if not settings.host or settings.sender is None:
        raise MailConfigError("没有设置邮件服务器或发件人地址")
    sender = settings.sender
    done = set() if resend else read_sent_log(workdir)
    result = MailRunResult(mode="send")
    smtp: smtplib.SMTP | None = None
    fatal = ""
    try:
        for message in plan.items:
            if isinstance(message, MessageResult):
                result.results.append(message)
                continue
            recipients = message.recipients()
            common = dict(
                label=message.label,
                kind=message.kind,
                unit=message.unit,
                subject=message.subject,
                to=_addrs(recipients),
                attachments=tuple(a.filename for a in message.attachments),
            )
            if not message.to:
                # A unit without an address: not even the Cc copies go out,
                # the unit itself would not have received it.
                result.results.append(
                    MessageResult(
                        status=NO_ADDRESS,
                        message=f"{message.note or '没有收件人'}，未发送",
                        missing_address=True,
                        **common,
                    )
                )
                continue
            fingerprint = message.fingerprint()
            already = [b.addr for b in recipients if (b.key, fingerprint) in done]
            todo = [b.addr for b in recipients if (b.key, fingerprint) not in done]
            if not todo:
                result.results.append(
                    MessageResult(
                        status=ALREADY_SENT,
                        message="已发送过（同一收件人、同一主题、同一附件），本次未重复发送",
                        already_sent=tuple(already),
                        **common,
                    )
                )
                continue
            if fatal:
                result.results.append(MessageResult(status=FAILED, message=f"{fatal}。本封未发送", **common))
                continue
            if smtp is None:
                try:
                    smtp = _open_connection(settings, password)
                except _Fatal as exc:
                    fatal = str(exc)
                    result.results.append(MessageResult(status=FAILED, message=f"{fatal}。本封未发送", **common))
                    continue
            email = build_email(message, sender=sender, draft=False)
            message_id = str(email["Message-ID"])
            data = message_bytes(email)
            try:
                refused_map = smtp.sendmail(sender.addr, todo, data)
            except smtplib.SMTPRecipientsRefused as exc:
                refused = tuple((addr, _reply(*reply)) for addr, reply in exc.recipients.items())
                detail = "；".join(f"{addr}（{why}）" for addr, why in refused)
                result.results.append(
                    MessageResult(
                        status=FAILED,
                        message=f"收件人全部被服务器拒收，本封未发送：{detail}",
                        refused=refused,
                        already_sent=tuple(already),
                        **common,
                    )
                )
                continue
            except smtplib.SMTPSenderRefused as exc:
                fatal = f"邮件服务器拒绝了发件人 {sender.addr}（{_scrub(_reply(exc.smtp_code, exc.smtp_error), password)}）"
                result.results.append(MessageResult(status=FAILED, message=f"{fatal}。本封未发送", **common))
                continue
            except smtplib.SMTPDataError as exc:
                result.results.append(
                    MessageResult(
                        status=FAILED,
                        message=f"邮件服务器拒收本封邮件（{_scrub(_reply(exc.smtp_code, exc.smtp_error), password)}），本封未发送",
                        **common,
                    )
                )
                continue
            except (smtplib.SMTPException, OSError) as exc:
                _close(smtp)
                smtp = None
                result.results.append(
                    MessageResult(
                        status=FAILED,
                        message=f"发送时与邮件服务器的连接中断（{_scrub(clean_text(exc), password)}），本封未确认发出，可稍后重新运行",
                        **common,
                    )
                )
                continue
            refused = tuple((addr, _reply(*reply)) for addr, reply in (refused_map or {}).items())
            refused_keys = {addr.lower() for addr, _ in refused}
            delivered = tuple(addr for addr in todo if addr.lower() not in refused_keys)
            for addr in delivered:
                done.add((addr.lower(), fingerprint))
            log_problem = ""
            try:
                _append_sent_log(
                    workdir,
                    {
                        "time": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                        "message_id": message_id,
                        "kind": message.kind,
                        "unit": message.unit,
                        "subject": message.subject,
                        "to": list(_addrs(message.to)),
                        "cc": list(_addrs(message.cc)),
                        "delivered": list(delivered),
                        "refused": [addr for addr, _ in refused],
                        "attachments": [
                            {"name": a.filename, "sha256": a.sha256} for a in message.attachments
                        ],
                        "fingerprint": fingerprint,
                    },
                )
            except OSError as exc:
                log_problem = f"；注意：无法写入已发送记录（{exc.strerror or exc}），重新运行可能重复发送"
            text = f"已发送给 {'、'.join(delivered)}"
            if already:
                text += f"；{'、'.join(already)} 此前已发送过，本次未重复发送"
            if refused:
                text += "；未发送给 " + "；".join(f"{addr}（服务器拒收：{why}）" for addr, why in refused)
            if message.note:
                text += f"（{message.note}）"
            result.results.append(
                MessageResult(
                    status=PARTIAL if refused else SENT,
                    message=text + log_problem,
                    delivered=delivered,
                    refused=refused,
                    already_sent=tuple(already),
                    message_id=message_id,
                    **common,
                )
            )
    finally:
        _close(smtp)
    return result
