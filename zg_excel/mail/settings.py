"""SMTP settings: ``<workdir>/mail.toml`` ``[smtp]``, overridden by ``ZG_SMTP_*``; never a password."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ..workspace import MAIL_SETTINGS, Workspace
from .addresses import Mailbox, decode_text, header_text, parse_address
from .errors import AddressError, MailConfigError

try:  # Python 3.11+
    import tomllib as _toml
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as _toml  # type: ignore[no-redef]

CONFIG_NAME = MAIL_SETTINGS  # the file's name, as messages say it (Workspace.mail_settings is its path)
SECURITY_CHOICES = ("ssl", "starttls", "none")
DEFAULT_PORTS = {"ssl": 465, "starttls": 587, "none": 25}
DEFAULT_TIMEOUT = 30.0


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
    path = Workspace(workdir).mail_settings
    table: dict[str, Any] = {}
    if path.is_file():
        try:
            data = _toml.loads(decode_text(path.read_bytes()))
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

    host = header_text(pick("host", "ZG_SMTP_HOST") or "")
    if host and not re.fullmatch(r"[A-Za-z0-9.\-:\[\]]+", host):
        raise MailConfigError(f"邮件服务器地址 host 不对：{host}")

    security = header_text(pick("security", "ZG_SMTP_SECURITY") or "ssl").lower()
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
            raise MailConfigError(f"端口 port 应为数字，现在是：{header_text(port_value)}") from None
        if not 0 < port < 65536:
            raise MailConfigError(f"端口 port 超出范围：{port}")

    timeout_value = pick("timeout", "ZG_SMTP_TIMEOUT")
    if timeout_value in (None, ""):
        timeout = DEFAULT_TIMEOUT
    else:
        try:
            timeout = float(str(timeout_value).strip())
        except ValueError:
            raise MailConfigError(f"超时 timeout 应为秒数，现在是：{header_text(timeout_value)}") from None
        if not timeout > 0:
            raise MailConfigError("超时 timeout 应大于 0")

    user = header_text(pick("user", "ZG_SMTP_USER") or "")

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
