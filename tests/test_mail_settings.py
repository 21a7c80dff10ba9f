"""SMTP settings: mail.toml and ZG_SMTP_* (zg_excel.mail.settings)."""

from __future__ import annotations

import shutil

import pytest

from zg_excel.mail.errors import MailConfigError
from zg_excel.mail.settings import load_smtp_settings
from tests.mail_support import (  # noqa: F401, F811 - fixtures are used by name
    _clean_env,
    PASSWORD,
    certs,
)


def test_settings_from_toml_and_env(tmp_path, certs):
    shutil.copy(certs.ca, tmp_path / "ca.pem")
    (tmp_path / "mail.toml").write_text(
        '[smtp]\nhost = "smtp.example.cn"\nsecurity = "starttls"\nuser = "zzb@example.cn"\n'
        'timeout = 12\ncafile = "ca.pem"\n',
        encoding="utf-8",
    )
    settings = load_smtp_settings(tmp_path, {})
    assert (settings.host, settings.port, settings.security, settings.timeout) == ("smtp.example.cn", 587, "starttls", 12)
    assert settings.sender.addr == "zzb@example.cn"  # from defaults to user
    assert settings.cafile == tmp_path / "ca.pem"
    env = {
        "ZG_SMTP_HOST": "mail.example.cn",
        "ZG_SMTP_PORT": "2465",
        "ZG_SMTP_SECURITY": "SSL",
        "ZG_SMTP_USER": "other@example.cn",
        "ZG_SMTP_FROM": "组织部 <office@example.cn>",
        "ZG_SMTP_PASSWORD": PASSWORD,
    }
    settings = load_smtp_settings(tmp_path, env)
    assert (settings.host, settings.port, settings.security, settings.user) == (
        "mail.example.cn", 2465, "ssl", "other@example.cn"
    )
    assert str(settings.sender) == "组织部 <office@example.cn>"
    assert PASSWORD not in repr(settings)


@pytest.mark.parametrize(
    "toml, words",
    [
        ('[smtp]\nhost = "h.example.cn"\nfrom = "a@example.cn"\npassword = "hunter2"\n', "不能保存密码"),
        ('[smtp]\nhost = "h.example.cn"\nfrom = "a@example.cn"\nsecurity = "tls"\n', "security"),
        ('[smtp]\nhost = "h.example.cn"\nfrom = "a@example.cn"\nport = "abc"\n', "port"),
        ('[smtp]\nfrom = "a@example.cn"\n', "host"),
        ('[smtp]\nhost = "h.example.cn"\n', "from"),
        ('[smtp]\nhost = "h.example.cn"\nfrom = "a@example.cn\\r\\nBcc: x@y.cn"\n', "from"),
        ('[smtp]\nhost = "h.example.cn"\nfrom = "a@example.cn"\ncafile = "missing.pem"\n', "cafile"),
        ('[smtp]\nhost = "h.example.cn"\nfrom = "a@example.cn"\nuser = "a"\nsecurity = "none"\n', "明文"),
        ("[smtp\n", "格式有误"),
    ],
)
def test_settings_errors(tmp_path, toml, words):
    (tmp_path / "mail.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(MailConfigError) as info:
        load_smtp_settings(tmp_path, {})
    assert words in str(info.value)
    assert "hunter2" not in str(info.value)


def test_settings_for_drafts_need_no_server(tmp_path):
    settings = load_smtp_settings(tmp_path, {}, for_sending=False)
    assert settings.host == "" and settings.sender is None
