"""The ``zg-excel mail`` command."""

from __future__ import annotations

import shutil
import subprocess
import sys
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from zg_excel.commands.mail import mail as mail_command
from tests.mail_support import (  # noqa: F401, F811 - fixtures are used by name
    _clean_env,
    USER,
    PASSWORD,
    SUMMARY_NAME,
    BULLETIN_DOCX,
    SUMMARY_BYTES,
    BULLETIN_BYTES,
    workdir,
    units,
    RecordingHandler,
    _authenticator,
    smtp_server,
    certs,
    _parse,
    _attachments,
)


def _run(args, **kwargs):
    return CliRunner().invoke(mail_command, args, catch_exceptions=False, **kwargs)


def test_cli_drafts_to_addresses(workdir):
    result = _run(["-w", str(workdir), "--to", "领导 <leader@example.cn>", "--cc", "copy@example.cn"])
    assert result.exit_code == 0, result.output
    assert "已生成草稿" in result.output
    (path,) = (workdir / "output" / "mail").glob("*.eml")
    assert path.name == "汇总表-leader@example.cn.eml"
    msg = _parse(path.read_bytes())
    assert msg["X-Unsent"] == "1"
    assert msg["To"].addresses[0].display_name == "领导"
    assert _attachments(msg) == {SUMMARY_NAME: SUMMARY_BYTES, BULLETIN_DOCX: BULLETIN_BYTES}


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--to", "roster"],
        ["--to", "roster", "--to", "a@example.cn", "--kind", "bulletin"],
        ["--to", "a@example.cn, b@example.cn"],
        ["--to", "a@example.cn\r\nBcc: evil@x.com"],
        ["--to", "a@example.cn", "--kind", "template"],
        ["--to", "a@example.cn", "--kind", "nonsense"],
    ],
)
def test_cli_usage_errors(workdir, args):
    result = _run(["-w", str(workdir), *args])
    assert result.exit_code == 2, result.output
    assert not (workdir / "output" / "mail").exists()


def test_cli_setup_error_exit_2(tmp_path):
    result = _run(["-w", str(tmp_path), "--to", "a@example.cn"])
    assert result.exit_code == 2
    assert "汇总表" in result.output


@pytest.fixture
def fake_roster(monkeypatch, units):
    """The roster the command loads is replaced by the plain test units."""
    from zg_excel.commands import mail as command

    monkeypatch.setattr(command, "load_settings", lambda workdir: (None, SimpleNamespace(units=units), None))


def test_cli_roster_templates_drafts(workdir, fake_roster):
    result = _run(["-w", str(workdir), "--to", "roster", "--kind", "template"])
    assert result.exit_code == 1, result.output  # 新区管委会 has no template
    names = sorted(p.name for p in (workdir / "output" / "mail").glob("*.eml"))
    assert names == ["登记表-城关街道.eml", "登记表-峡窝镇.eml", "登记表-峡窝镇中心校.eml"]
    assert "城关街道" in result.output and "没有可用的邮箱地址" in result.output
    assert "找不到该单位的登记表" in result.output


def test_cli_roster_reminders_drafts_ok(workdir, fake_roster):
    result = _run(["-w", str(workdir), "--to", "roster", "--kind", "remind", "-q"])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (workdir / "output" / "mail").glob("*.eml"))
    assert names == ["催报-城关街道.eml", "催报-峡窝镇.eml"]


def test_cli_roster_real_default_roster(workdir):
    """The roster ``init`` writes (the shipped one) has no addresses, so every draft is flagged and listed."""
    from zg_excel.workspace import init_workspace

    init_workspace(workdir)  # a working folder needs its roster: the shipped lists are only init's
    result = _run(["-w", str(workdir), "--to", "roster", "--kind", "bulletin"])
    assert result.exit_code == 0, result.output
    drafts = sorted((workdir / "output" / "mail").glob("通报-*.eml"))
    assert len(drafts) > 5 and any("峡窝镇" in p.name for p in drafts)
    assert "没有可用的邮箱地址" in result.output and "峡窝镇党委" in result.output
    result = _run(["-w", str(workdir), "--to", "roster", "--kind", "template"])
    # outbox has 峡窝镇 (an alias of 峡窝镇党委) but not the other units
    assert result.exit_code == 1
    assert (workdir / "output" / "mail" / "登记表-峡窝镇党委.eml").exists()


def test_cli_send_with_mail_toml(workdir, smtp_server, fake_roster):
    server = smtp_server(RecordingHandler(refuse=["second@example.cn"]))
    (workdir / "mail.toml").write_text(
        f'[smtp]\nhost = "{server.host}"\nport = {server.port}\nsecurity = "none"\nfrom = "zzb@example.cn"\ntimeout = 10\n',
        encoding="utf-8",
    )
    result = _run(["-w", str(workdir), "--to", "leader@example.cn", "--send", "--yes"])
    assert result.exit_code == 0, result.output
    assert "已发送" in result.output and len(server.received) == 1
    result = _run(["-w", str(workdir), "--to", "leader@example.cn", "--send", "--yes"])
    assert result.exit_code == 0 and "已发送过" in result.output
    assert len(server.received) == 1
    # Without --yes the user is asked; answering no sends nothing.
    result = _run(["-w", str(workdir), "--to", "other@example.cn", "--send"], input="n\n")
    assert result.exit_code == 1 and len(server.received) == 1
    # Per-unit sending with a partial refusal: exit code 1.
    result = _run(["-w", str(workdir), "--to", "roster", "--kind", "bulletin", "--send", "--yes"])
    assert result.exit_code == 1
    assert "未发送给 second@example.cn" in result.output


def test_cli_send_prompts_for_password(workdir, smtp_server, certs):
    server = smtp_server(
        tls_context=certs.server_ctx, require_starttls=True, authenticator=_authenticator, auth_required=True
    )
    shutil.copy(certs.ca, workdir / "ca.pem")
    (workdir / "mail.toml").write_text(
        f'[smtp]\nhost = "{server.host}"\nport = {server.port}\nsecurity = "starttls"\n'
        f'user = "{USER}"\ncafile = "ca.pem"\n',
        encoding="utf-8",
    )
    result = _run(["-w", str(workdir), "--to", "a@example.cn", "--send", "--yes"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert server.received[0].authenticated
    result = _run(
        ["-w", str(workdir), "--to", "b@example.cn", "--send", "--yes"],
        env={"ZG_SMTP_PASSWORD": "nope-wrong"},
    )
    assert result.exit_code == 2  # refused before any message: a set-up error
    assert "拒绝登录" in result.output and "nope-wrong" not in result.output


def test_help_does_not_load_the_mail_package():
    """``zg-excel --help`` never imports zg_excel.mail; ``zg-excel mail --help`` only its kinds."""
    code = (
        "import sys\n"
        "from zg_excel.cli import cli\n"
        "for args in (['--help'], ['mail', '--help']):\n"
        "    try:\n"
        "        cli(args, prog_name='zg-excel')\n"
        "    except SystemExit:\n"
        "        pass\n"
        "    print(sorted(m for m in sys.modules if m.startswith('zg_excel.mail') or m == 'jinja2'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    lines = [line for line in out.splitlines() if line.startswith("[")]
    assert lines == ["[]", "['zg_excel.mail', 'zg_excel.mail.kinds']"]
    assert "--kind" in out and "summary" in out
