"""Subject, body and MIME: no header injection, attachment names Outlook reads (zg_excel.mail.compose)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zg_excel.mail.addresses import Mailbox, header_text, parse_address
from zg_excel.mail.compose import AttachmentFile, build_email, message_bytes
from zg_excel.mail.errors import MailSetupError
from zg_excel.mail.kinds import KIND_BULLETIN
from zg_excel.mail.plan import OutgoingMessage, plan_summary
from tests.mail_support import (  # noqa: F401, F811 - fixtures are used by name
    SUMMARY_NAME,
    BULLETIN_DOCX,
    SUMMARY_BYTES,
    BULLETIN_BYTES,
    workdir,
    _parse,
    _rfc2047_names,
)


_FRAGMENTS = ["峡窝镇", "党委", " ", ":", "<", ">", "@", ",", ";", '"', "'", "\\", "=?", "?=", "\r", "\n",
              "\r\n", "\x00", "\x0b", "\x0c", "\x85", "\u2028", "\u2029", "\t", "Bcc: evil@x.com", "To: x@y.cn"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.characters()), min_size=1, max_size=20).map("".join))
def test_no_header_injection_from_any_unit_name(name):
    subject = "通报" + name
    message = OutgoingMessage(
        kind=KIND_BULLETIN,
        label=name,
        subject=subject,
        body="正文",
        to=(Mailbox("unit@example.cn", header_text(name)),),
        attachments=(AttachmentFile(name + ".docx", b"data"),),
        unit=name,
    )
    raw = message_bytes(build_email(message, draft=True))
    assert raw.isascii()
    msg = _parse(raw)
    assert list(msg.keys()) == ["To", "Subject", "X-Unsent", "MIME-Version", "Content-Type"]
    assert [a.addr_spec for a in msg["To"].addresses] == ["unit@example.cn"]
    assert msg["Subject"] == header_text(subject)
    (part,) = msg.iter_attachments()
    assert part.get_content() == b"data"


def test_message_attachments_round_trip(workdir):
    long_name = "2026年组工信息汇总表-峡窝镇人民政府党委组织委员办公室（含下属村社区）.xlsx"
    plan = plan_summary(workdir, ["领导 <leader@example.cn>"], cc=["leader@example.cn", "copy@example.cn"])
    (message,) = plan.messages
    assert [a.filename for a in message.attachments] == [SUMMARY_NAME, BULLETIN_DOCX]
    # A long Chinese attachment name: folded into RFC 2047 words and an RFC 2231 parameter.
    summary, bulletin = message.attachments
    message = dataclasses.replace(message, attachments=(AttachmentFile(long_name, summary.data), bulletin))
    assert [b.addr for b in message.to] == ["leader@example.cn"]
    assert [b.addr for b in message.cc] == ["copy@example.cn"]  # duplicate of To dropped
    raw = message_bytes(build_email(message, sender=parse_address("zzb@example.cn")))
    assert raw.isascii()  # 7-bit clean: no SMTPUTF8/8BITMIME needed
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    msg = _parse(raw)
    assert msg["Subject"] == "2026年组工信息汇总表及通报"
    body = msg.get_body(("plain",)).get_content()
    assert "关于2026年第一季度组工信息报送情况的通报" in body
    assert "第一季度，全区共报送组工信息120条，" in body and "二、" not in body
    parts = list(msg.iter_attachments())
    names = [p.get_filename() for p in parts]
    assert names[1] == BULLETIN_DOCX
    assert names[0].endswith(".xlsx") and "峡窝镇人民政府党委组织委员办公室（含下属村社区）" in names[0]
    assert parts[0].get_content() == SUMMARY_BYTES
    assert parts[1].get_content() == BULLETIN_BYTES
    assert _rfc2047_names(raw) == names
    assert raw.count(b"filename*=utf-8''") == 2  # RFC 2231
    for part in parts:
        assert part.get_param("name") == part.get_filename()  # modern parser decodes it too


def test_ascii_attachment_name_and_long_rfc2231():
    long = "附" * 120 + ".docx"
    message = OutgoingMessage(
        kind=KIND_BULLETIN,
        label="x",
        subject="s",
        body="b",
        to=(parse_address("a@example.cn"),),
        attachments=(AttachmentFile("plain.xlsx", b"1"), AttachmentFile(long, b"2")),
    )
    raw = message_bytes(build_email(message))
    assert b'filename="plain.xlsx"' in raw and b'name="plain.xlsx"' in raw
    assert b"filename*0*=utf-8''" in raw
    assert all(len(line) <= 78 for line in raw.split(b"\r\n") if b"filename*" in line)
    parts = list(_parse(raw).iter_attachments())
    assert [p.get_filename() for p in parts] == ["plain.xlsx", long]
    assert _rfc2047_names(raw) == ["plain.xlsx", long]


def test_user_templates_override_and_strict(workdir):
    tpl = workdir / "templates"
    tpl.mkdir()
    (tpl / "mail_subject.j2").write_text("\ufeff【{{ kind_name }}】{{ year }}\n第二行\n", encoding="utf-8")
    plan = plan_summary(workdir, ["a@example.cn"])
    assert plan.messages[0].subject == "【汇总表】2026 第二行"
    assert "请查阅" in plan.messages[0].body  # body still the default
    (tpl / "mail_body.j2").write_bytes("{{ unit }}您好，{{ 未定义 }}".encode("gbk"))
    with pytest.raises(MailSetupError) as info:
        plan_summary(workdir, ["a@example.cn"])
    assert "mail_body.j2" in str(info.value)
    (tpl / "mail_body.j2").write_text("{% if %}", encoding="utf-8")
    with pytest.raises(MailSetupError):
        plan_summary(workdir, ["a@example.cn"])
