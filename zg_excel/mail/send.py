"""Running a plan: Outlook drafts, or SMTP with a sent-log so a re-run never sends the same thing twice.

Every outcome is a :class:`~.plan.MessageResult` collected in a
:class:`MailRunResult`. The password is a parameter only, scrubbed from every
message; TLS always verifies the server certificate.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..text import safe_filename
from ..files import atomic_write_bytes
from ..workspace import Workspace
from .addresses import Mailbox, header_text, parse_address
from .compose import build_email, message_bytes
from .errors import MailConfigError, MailConnectionError
from .kinds import KIND_ZH
from .plan import (
    ALREADY_SENT,
    DRAFTED,
    FAILED,
    NO_ADDRESS,
    PARTIAL,
    SENT,
    MailPlan,
    MessageResult,
)
from .settings import CONFIG_NAME, SmtpSettings


@dataclass
class MailRunResult:
    """Every outcome of one run, in plan order."""

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


# --------------------------------------------------------------------------
# Drafts
# --------------------------------------------------------------------------


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
    folder = Workspace(workdir).mail_dir
    result = MailRunResult(mode="draft")
    used: set[str] = set()
    for message in plan.items:
        if isinstance(message, MessageResult):
            result.results.append(message)
            continue
        stem = safe_filename(f"{KIND_ZH.get(message.kind, '邮件')}-{message.label}", "邮件")
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
    path = Workspace(Path(workdir)).sent_log
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
    path = Workspace(workdir).sent_log
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
    text = header_text(" ".join(str(msg).split()))
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
            f"邮件服务器 {where} 的证书验证失败（{header_text(exc.verify_message or exc.reason or exc)}），"
            f"为安全起见未发送任何邮件。若单位邮箱使用内部证书，可在 {CONFIG_NAME} 的 [smtp] 中设置 cafile"
        ) from None
    except ssl.SSLError as exc:
        raise _Fatal(
            f"与邮件服务器 {where} 建立加密连接失败（{header_text(exc.reason or exc)}）。"
            "请确认 security 与端口是否匹配（465 一般用 ssl，587 用 starttls）"
        ) from None
    except socket.gaierror:
        raise _Fatal(f"找不到邮件服务器 {settings.host}（域名解析失败），请检查 host 和网络") from None
    except (socket.timeout, TimeoutError):
        raise _Fatal(f"连接邮件服务器 {where} 超时（{settings.timeout:g} 秒），请检查网络、host 和端口") from None
    except ConnectionRefusedError:
        raise _Fatal(f"无法连接邮件服务器 {where}（连接被拒绝），请检查 host 和端口") from None
    except OSError as exc:
        raise _Fatal(f"无法连接邮件服务器 {where}：{header_text(exc.strerror or exc)}") from None
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
    ``resend``). A connection or login failure before any message went out
    raises :class:`MailConnectionError` (naming the server); after some went
    out, it fails every remaining message with the same explanation, without
    retrying per message. Each delivery is
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
                    if not any(r.status in (SENT, PARTIAL) for r in result.results):
                        raise MailConnectionError(f"{fatal}；未发送任何邮件，可在修好后重新运行") from None
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
                        message=f"发送时与邮件服务器的连接中断（{_scrub(header_text(exc), password)}），本封未确认发出，可稍后重新运行",
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
