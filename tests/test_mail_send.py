"""Drafts and sending over a real SMTP server (aiosmtpd, in-process on 127.0.0.1), with the sent-log (zg_excel.mail.send)."""

from __future__ import annotations

import json
import os

import pytest

from zg_excel.mail.addresses import parse_address
from zg_excel.mail.compose import AttachmentFile
from zg_excel.mail.kinds import KIND_BULLETIN
from zg_excel.mail.plan import (
    ALREADY_SENT,
    FAILED,
    NO_ADDRESS,
    PARTIAL,
    SENT,
    MailPlan,
    OutgoingMessage,
    plan_bulletin,
    plan_summary,
    plan_templates,
)
from zg_excel.mail.errors import MailConnectionError
from zg_excel.mail.send import send_plan, write_drafts
from zg_excel.mail.settings import SmtpSettings
from zg_excel.workspace import Workspace
from tests.mail_support import (  # noqa: F401, F811 - fixtures are used by name
    _clean_env,
    LOOPBACK,
    USER,
    PASSWORD,
    SUMMARY_NAME,
    BULLETIN_DOCX,
    SUMMARY_BYTES,
    BULLETIN_BYTES,
    _unit,
    workdir,
    units,
    _free_port,
    RecordingHandler,
    _authenticator,
    smtp_server,
    certs,
    _settings,
    _parse,
    _attachments,
    _rfc2047_names,
)


def test_drafts_are_eml_with_x_unsent(workdir, units):
    plan = plan_bulletin(workdir, units=units, cc=["copy@example.cn"])
    result = write_drafts(plan, workdir, sender="zzb@example.cn")
    assert result.ok
    folder = workdir / "output" / "mail"
    files = sorted(p.name for p in folder.iterdir())
    assert files == sorted(f"通报-{u.name}.eml" for u in units)  # no temp files left behind
    msg = _parse((folder / "通报-峡窝镇.eml").read_bytes())
    assert msg["X-Unsent"] == "1"
    assert msg["To"].addresses[0].addr_spec == "xiawo@example.cn"
    assert msg["To"].addresses[0].display_name == "峡窝镇"
    assert msg["Cc"].addresses[0].addr_spec == "copy@example.cn"
    assert msg["From"].addresses[0].addr_spec == "zzb@example.cn"
    assert msg["Message-ID"] is None
    assert _attachments(msg) == {BULLETIN_DOCX: BULLETIN_BYTES}
    nobody = _parse((folder / "通报-城关街道.eml").read_bytes())
    assert nobody["To"] is None
    assert {r.label for r in result.without_address} == {"城关街道", "新区管委会"}
    assert any("名册中该单位的邮箱无效" in r.message for r in result.results if r.unit == "新区管委会")
    # A re-run overwrites in place.
    again = write_drafts(plan, workdir)
    assert again.ok and sorted(p.name for p in folder.iterdir()) == files


# --------------------------------------------------------------------------
# Sending over a real SMTP server
# --------------------------------------------------------------------------


def test_send_summary_plain_and_no_resend(workdir, smtp_server):
    server = smtp_server()
    settings = _settings(server)
    plan = plan_summary(workdir, ["leader@example.cn", "deputy@example.cn"], cc=["copy@example.cn"])
    result = send_plan(plan, workdir, settings)
    assert result.ok, result.results
    (item,) = result.results
    assert item.status == SENT and item.message_id
    assert item.delivered == ("leader@example.cn", "deputy@example.cn", "copy@example.cn")
    (got,) = server.received
    assert got.mail_from == "zzb@example.cn"
    assert got.rcpt_tos == ["leader@example.cn", "deputy@example.cn", "copy@example.cn"]
    msg = _parse(got.content)
    assert msg["Message-ID"] == item.message_id
    assert msg["X-Unsent"] is None
    assert _attachments(msg) == {SUMMARY_NAME: SUMMARY_BYTES, BULLETIN_DOCX: BULLETIN_BYTES}
    assert _rfc2047_names(got.content) == [SUMMARY_NAME, BULLETIN_DOCX]

    log = [json.loads(line) for line in Workspace(workdir).sent_log.read_text(encoding="utf-8").splitlines()]
    assert len(log) == 1
    assert log[0]["message_id"] == item.message_id
    assert log[0]["delivered"] == list(item.delivered)
    assert {a["sha256"] for a in log[0]["attachments"]} == {
        AttachmentFile("x", SUMMARY_BYTES).sha256,
        AttachmentFile("x", BULLETIN_BYTES).sha256,
    }

    # Same recipients, subject and attachments: nothing is sent again.
    again = send_plan(plan_summary(workdir, ["leader@example.cn", "deputy@example.cn"], cc=["copy@example.cn"]), workdir, settings)
    assert again.ok and again.results[0].status == ALREADY_SENT
    assert "已发送过" in again.results[0].message
    assert len(server.received) == 1

    # A new recipient gets it; the others are not sent it twice.
    more = send_plan(plan_summary(workdir, ["leader@example.cn", "new@example.cn"]), workdir, settings)
    assert more.results[0].status == SENT
    assert server.received[-1].rcpt_tos == ["new@example.cn"]
    assert "leader@example.cn 此前已发送过" in more.results[0].message

    # Changed attachment: sent again.
    (workdir / "output" / SUMMARY_NAME).write_bytes(SUMMARY_BYTES + b"v2")
    changed = send_plan(plan_summary(workdir, ["leader@example.cn"]), workdir, settings)
    assert changed.results[0].status == SENT
    assert len(server.received) == 3


def test_send_per_unit_reports_missing_addresses(workdir, units, smtp_server):
    server = smtp_server()
    result = send_plan(plan_templates(workdir, units), workdir, _settings(server))
    statuses = {r.label: r.status for r in result.results}
    assert statuses == {
        "峡窝镇": SENT,
        "峡窝镇中心校": SENT,
        "城关街道": NO_ADDRESS,
        "新区管委会": FAILED,  # no template in outbox
    }
    assert [r.label for r in result.results] == [u.name for u in units]  # roster order
    assert not result.ok
    assert {r.label for r in result.without_address} == {"城关街道"}
    assert sorted(tuple(r.rcpt_tos) for r in server.received) == [
        ("ZXX@example.cn", "second@example.cn"),
        ("xiawo@example.cn",),
    ]
    for got in server.received:
        msg = _parse(got.content)
        (name, data), = _attachments(msg).items()
        unit = name.split("-", 1)[1][: -len(".xlsx")]
        assert data == (workdir / "outbox" / name).read_bytes()
        assert unit in msg["Subject"]


def test_header_injection_through_unit_name(workdir, smtp_server):
    server = smtp_server()
    evil = _unit("峡窝镇\r\nBcc: evil@x.com", "xiawo@example.cn")
    evil_email = _unit("城关街道", "cg@example.cn\r\nBcc: evil@x.com")
    plan = plan_bulletin(workdir, units=[evil, evil_email], subject="通报\r\nBcc: evil@x.com")
    drafts = write_drafts(plan, workdir)
    result = send_plan(plan, workdir, _settings(server))
    assert [r.status for r in result.results] == [SENT, NO_ADDRESS]
    (got,) = server.received
    assert got.rcpt_tos == ["xiawo@example.cn"]
    draft_bytes = [r.draft_path.read_bytes() for r in drafts.results]
    for raw in [got.content, *draft_bytes]:
        assert b"\nBcc" not in raw and b"\rBcc" not in raw
        msg = _parse(raw)
        assert msg["Bcc"] is None
        assert "Bcc" not in msg.keys()
        for header in ("To", "Cc", "From"):
            if msg[header] is not None:
                assert all(a.addr_spec != "evil@x.com" for a in msg[header].addresses)
        assert msg["Subject"] == "通报Bcc: evil@x.com"
    sent = _parse(got.content)
    assert [a.addr_spec for a in sent["To"].addresses] == ["xiawo@example.cn"]
    assert sent["To"].addresses[0].display_name == "峡窝镇Bcc: evil@x.com"


def test_send_starttls_with_auth(workdir, smtp_server, certs):
    server = smtp_server(
        tls_context=certs.server_ctx,
        require_starttls=True,
        authenticator=_authenticator,
        auth_required=True,
    )
    settings = _settings(server, security="starttls", user=USER, cafile=certs.ca)
    result = send_plan(plan_summary(workdir, ["leader@example.cn"]), workdir, settings, password=PASSWORD)
    assert result.ok, result.results
    (got,) = server.received
    assert got.tls and got.authenticated
    assert _attachments(_parse(got.content))[SUMMARY_NAME] == SUMMARY_BYTES
    assert PASSWORD not in Workspace(workdir).sent_log.read_text(encoding="utf-8")


def test_send_starttls_refused_login(workdir, smtp_server, certs):
    server = smtp_server(
        tls_context=certs.server_ctx,
        require_starttls=True,
        authenticator=_authenticator,
        auth_required=True,
    )
    settings = _settings(server, security="starttls", user=USER, cafile=certs.ca)
    wrong = "wrong-password-123"
    plan = plan_bulletin(workdir, to=["a@example.cn"])
    plan.items.extend(plan_summary(workdir, ["b@example.cn"]).items)
    with pytest.raises(MailConnectionError) as caught:
        send_plan(plan, workdir, settings, password=wrong)
    message = str(caught.value)
    assert "拒绝登录" in message and "未发送任何邮件" in message
    assert wrong not in message and PASSWORD not in message
    assert server.received == []
    assert not Workspace(workdir).sent_log.exists()


def test_send_starttls_untrusted_certificate(workdir, smtp_server, certs):
    server = smtp_server(tls_context=certs.server_ctx, require_starttls=True)
    with pytest.raises(MailConnectionError, match="证书验证失败"):
        send_plan(plan_summary(workdir, ["a@example.cn"]), workdir, _settings(server, security="starttls"))
    assert server.received == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_send_implicit_ssl(workdir, smtp_server, certs):
    # aiosmtpd only knows about STARTTLS; on an implicit-TLS listener AUTH must be
    # allowed explicitly (the connection is TLS all the same).
    server = smtp_server(
        ssl_context=certs.server_ctx, authenticator=_authenticator, auth_required=True, auth_require_tls=False
    )
    settings = _settings(server, security="ssl", user=USER, cafile=certs.ca)
    result = send_plan(plan_summary(workdir, ["a@example.cn"]), workdir, settings, password=PASSWORD)
    assert result.ok, result.results
    assert server.received[0].authenticated


def test_starttls_not_offered(workdir, smtp_server, certs):
    server = smtp_server()
    settings = _settings(server, security="starttls", cafile=certs.ca)
    with pytest.raises(MailConnectionError, match="STARTTLS"):
        send_plan(plan_summary(workdir, ["a@example.cn"]), workdir, settings)


def test_recipient_refused_partially_and_fully(workdir, smtp_server):
    server = smtp_server(RecordingHandler(refuse=["bad@example.cn"]))
    settings = _settings(server)
    plan = plan_summary(workdir, ["good@example.cn", "bad@example.cn"])
    (item,) = send_plan(plan, workdir, settings).results
    assert item.status == PARTIAL and not item.ok
    assert item.delivered == ("good@example.cn",)
    assert [a for a, _ in item.refused] == ["bad@example.cn"]
    assert "已发送给 good@example.cn" in item.message and "未发送给 bad@example.cn" in item.message
    assert "550" in item.message
    assert [r.rcpt_tos for r in server.received] == [["good@example.cn"]]

    # Re-run: good@ is not sent twice; bad@ is tried again and refused again.
    (again,) = send_plan(plan, workdir, settings).results
    assert again.status == FAILED
    assert "全部被服务器拒收" in again.message and again.already_sent == ("good@example.cn",)
    assert len(server.received) == 1

    # Connection stays usable after a refusal: the next message still goes.
    plan2 = plan_bulletin(workdir, to=["bad@example.cn"])
    plan2.items.extend(plan_bulletin(workdir, to=["other@example.cn"]).items)
    results = send_plan(plan2, workdir, settings).results
    assert [r.status for r in results] == [FAILED, SENT]


def test_unreachable_server(workdir, units):
    port = _free_port()  # nothing listens there
    settings = SmtpSettings(
        host=LOOPBACK, port=port, security="none", sender=parse_address("zzb@example.cn"), timeout=5
    )
    with pytest.raises(MailConnectionError) as caught:
        send_plan(plan_bulletin(workdir, units=units), workdir, settings)
    assert f"无法连接邮件服务器 {LOOPBACK}:{port}" in str(caught.value) and "未发送任何邮件" in str(caught.value)
    assert not Workspace(workdir).sent_log.exists()


def test_draft_names_are_safe_file_names(workdir):
    message = OutgoingMessage(kind=KIND_BULLETIN, label='a/b:c*?"<>|.', subject="s", body="b")
    result = write_drafts(MailPlan(kind=KIND_BULLETIN, items=[message, message]), workdir)
    assert result.ok
    assert [r.draft_path.name for r in result.results] == ["通报-a_b_c_.eml", "通报-a_b_c_-2.eml"]
    assert all(r.draft_path.is_file() and r.missing_address for r in result.results)


# --------------------------------------------------------------------------
# Issue 12 item 11: the real command with the server down; item 12: a roster cell with CR/LF.
# --------------------------------------------------------------------------

def _zg(*args, cwd):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "zg_excel", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8"}, timeout=120)


def _folder_with_emails(tmp_path, cells: dict[int, str] | None = None):
    import openpyxl

    wd = tmp_path / "2026组工信息"
    done = _zg("init", str(wd), "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    book = openpyxl.load_workbook(wd / "单位名册.xlsx")
    sheet = book.worksheets[0]
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row, 5).value = (cells or {}).get(row, f"u{row}@example.cn")
    book.save(wd / "单位名册.xlsx")
    return wd


def test_cli_send_with_server_down_exits_2_naming_the_server(tmp_path):
    wd = _folder_with_emails(tmp_path)
    port = _free_port()  # nothing listens there
    (wd / "mail.toml").write_text(f'[smtp]\nhost = "{LOOPBACK}"\nport = {port}\nsecurity = "none"\n'
                                  'from = "zzb@example.cn"\n', encoding="utf-8")
    assert _zg("template", "-w", str(wd), "-q", cwd=tmp_path).returncode == 0
    done = _zg("mail", "-w", str(wd), "--to", "roster", "--kind", "template", "--send", "--yes", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"无法连接邮件服务器 {LOOPBACK}:{port}" in done.stderr and "未发送任何邮件" in done.stderr
    assert "Traceback" not in done.stderr and "项未完成" not in done.stdout
    assert not Workspace(wd).sent_log.exists()


def test_cli_send_with_failures_exits_1(tmp_path, smtp_server):
    wd = _folder_with_emails(tmp_path)
    server = smtp_server(RecordingHandler(refuse=["u3@example.cn"]))
    (wd / "mail.toml").write_text(f'[smtp]\nhost = "{server.host}"\nport = {server.port}\nsecurity = "none"\n'
                                  'from = "zzb@example.cn"\n', encoding="utf-8")
    assert _zg("template", "-w", str(wd), "-q", cwd=tmp_path).returncode == 0
    done = _zg("mail", "-w", str(wd), "--to", "roster", "--kind", "template", "--send", "--yes", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 项未完成" in done.stdout and "u3@example.cn" in done.stdout
    assert len(server.received) == 16


BCC_CELL = "a@x.cn\r\nBcc: evil@attacker.example"


@pytest.mark.parametrize("cell", [BCC_CELL, "a@x.cn\nevil@attacker.example"])
def test_roster_email_cell_with_line_break_is_refused(tmp_path, cell):
    wd = _folder_with_emails(tmp_path, {2: cell})
    check = _zg("rules", "check", "-w", str(wd), cwd=tmp_path)
    assert check.returncode == 2
    assert "单位名册.xlsx / 第2行 / 邮箱" in check.stdout and "换行" in check.stdout
    done = _zg("mail", "-w", str(wd), "--to", "roster", "--kind", "bulletin", cwd=tmp_path)
    assert done.returncode == 2 and "第2行" in done.stderr and "换行" in done.stderr
    assert not list((wd / "output").rglob("*.eml"))


def test_mailer_never_sends_to_part_of_a_bad_cell(workdir):
    for cell in (BCC_CELL, "a@x.cn Bcc: evil@attacker.example", "a@x.cn\nevil@attacker.example"):
        plan = plan_bulletin(workdir, units=[_unit("峡窝镇", cell)])
        (item,) = plan.items
        assert item.to == () and "evil" not in "".join(b.addr for b in item.recipients())
        assert "无效" in item.note


def test_roster_and_mailer_agree_on_a_list_with_names(workdir):
    cell = "a@example.gov.cn; 张三 <b@example.gov.cn>"  # accepted by the roster check (test_settings_validation)
    (item,) = plan_bulletin(workdir, units=[_unit("峡窝镇", cell)]).items
    assert [(b.addr, b.name) for b in item.to] == [("a@example.gov.cn", "峡窝镇"), ("b@example.gov.cn", "张三")]
