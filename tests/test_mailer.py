"""Tests for zg_excel.mailer and the ``mail`` command.

Sending is tested against a real SMTP server (aiosmtpd) running in-process on
127.0.0.1; TLS uses a CA and server certificate made in the test with the
``openssl`` command (or, when that is missing, the ``cryptography`` package
that msoffcrypto-tool already depends on).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import socket
import ssl
import subprocess
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zg_excel import mailer
from zg_excel.commands.mail import mail as mail_command

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
aiosmtpd_smtp = pytest.importorskip("aiosmtpd.smtp")

LOOPBACK = "127.0.0.1"
USER = "zzb@example.cn"
PASSWORD = "S3cret-pass-word"

SUMMARY_NAME = "2026年组工信息汇总表.xlsx"
BULLETIN_DOCX = "2026年组工信息通报.docx"
BULLETIN_TXT = "2026年组工信息通报.txt"
SUMMARY_BYTES = bytes(range(256)) * 40 + "汇总".encode("utf-8") + b"\r\n.\r\n\x00end"
BULLETIN_BYTES = b"PK\x03\x04" + bytes(reversed(range(256))) * 17 + b"\n.\n"
BULLETIN_TEXT = (
    "\n"
    "关于2026年第一季度组工信息报送情况的通报\n"
    "\n"
    "各镇（街道）党（工）委，区直各单位党组织：\n"
    "  一、总体情况\n"
    "　　第一季度，全区共报送组工信息120条，\n"
    "被市级以上采用30条。\n"
    "二、得分排名\n"
    "峡窝镇 30分\n"
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("ZG_SMTP_"):
            monkeypatch.delenv(name, raising=False)


def _unit(name, email="", aliases=(), contact="", category="镇街"):
    return SimpleNamespace(name=name, category=category, aliases=tuple(aliases), contact=contact, email=email)


@pytest.fixture
def workdir(tmp_path):
    wd = tmp_path / "work"
    out = wd / "output"
    out.mkdir(parents=True)
    (out / SUMMARY_NAME).write_bytes(SUMMARY_BYTES)
    (out / BULLETIN_DOCX).write_bytes(BULLETIN_BYTES)
    (out / BULLETIN_TXT).write_text(BULLETIN_TEXT, encoding="utf-8")
    (out / ("~$" + SUMMARY_NAME)).write_bytes(b"lock")  # Excel lock file: ignored
    outbox = wd / "outbox"
    outbox.mkdir()
    for name in ("峡窝镇", "峡窝镇中心校", "城关街道"):
        data = f"template for {name}".encode("utf-8") + bytes(range(256))
        (outbox / f"2026年组工信息报送登记表-{name}.xlsx").write_bytes(data)
    (outbox / "2025年组工信息报送登记表-峡窝镇.xlsx").write_bytes(b"old year")
    remind = out / "催报"
    remind.mkdir()
    (remind / "峡窝镇.txt").write_text("峡窝镇：\n你单位第一季度尚未报送组工信息，请于5月10日前报送。\n", encoding="utf-8")
    (remind / "城关街道.txt").write_bytes("城关街道：\n请尽快报送。\n".encode("gbk"))
    return wd


@pytest.fixture
def units():
    return [
        _unit("峡窝镇", "xiawo@example.cn", contact="张三"),
        _unit("峡窝镇中心校", "ＺＸＸ＠example．cn；second@example.cn"),  # full-width, two addresses
        _unit("城关街道", ""),
        _unit("新区管委会", "not-an-address"),
    ]


# --------------------------------------------------------------------------
# SMTP server helpers
# --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


class RecordingHandler:
    def __init__(self, refuse=()):
        self.refuse = {a.lower() for a in refuse}
        self.received = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(
            SimpleNamespace(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                content=envelope.original_content or envelope.content,
                tls=session.ssl is not None,
                authenticated=bool(session.authenticated),
            )
        )
        return "250 Message accepted for delivery"


def _authenticator(server, session, envelope, mechanism, auth_data):
    good = (
        isinstance(auth_data, aiosmtpd_smtp.LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return aiosmtpd_smtp.AuthResult(success=good, handled=False)  # handled=False: server answers 535


@pytest.fixture
def smtp_server():
    started = []

    def start(handler=None, **kwargs):
        handler = handler or RecordingHandler()
        port = _free_port()
        controller = aiosmtpd_controller.Controller(handler, hostname=LOOPBACK, port=port, **kwargs)
        controller.start()
        started.append(controller)
        return SimpleNamespace(host=LOOPBACK, port=port, handler=handler, received=handler.received)

    yield start
    for controller in started:
        controller.stop()


def _make_certs_openssl(folder: Path) -> None:
    openssl = shutil.which("openssl")
    run = lambda *args: subprocess.run([openssl, *args], cwd=folder, check=True, capture_output=True)  # noqa: E731
    (folder / "ca.ext").write_text(
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
        "subjectKeyIdentifier=hash\n",
        encoding="ascii",
    )
    (folder / "server.ext").write_text(
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
        encoding="ascii",
    )
    run("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.csr", "-subj", "/CN=zg-excel test CA")
    run("x509", "-req", "-in", "ca.csr", "-signkey", "ca.key", "-out", "ca.pem", "-days", "2", "-extfile", "ca.ext")
    run("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    run(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-extfile", "server.ext",
    )


def _make_certs_cryptography(folder: Path) -> None:  # pragma: no cover - used without openssl
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = _dt.datetime.now(_dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "zg-excel test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(minutes=5)).not_valid_after(now + _dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(minutes=5)).not_valid_after(now + _dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK)), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "server.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("certs")
    if shutil.which("openssl"):
        _make_certs_openssl(folder)
    else:  # pragma: no cover
        pytest.importorskip("cryptography")
        _make_certs_cryptography(folder)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(str(folder / "server.pem"), str(folder / "server.key"))
    return SimpleNamespace(ca=folder / "ca.pem", server_ctx=server_ctx)


def _settings(server, **kwargs):
    values = dict(
        host=server.host,
        port=server.port,
        security="none",
        sender=mailer.parse_address("组织部 <zzb@example.cn>"),
        timeout=10,
    )
    values.update(kwargs)
    return mailer.SmtpSettings(**values)


def _parse(raw: bytes):
    return message_from_bytes(raw, policy=policy.default)


def _attachments(msg):
    return {part.get_filename(): part.get_content() for part in msg.iter_attachments()}


def _rfc2047_names(raw: bytes) -> list[str]:
    """The attachments' Content-Type ``name`` as Outlook/Foxmail read it:
    the raw parameter (compat32 keeps it undecoded), RFC 2047 decoded."""
    names = []
    for part in message_from_bytes(raw, policy=policy.compat32).walk():
        if part.get_content_disposition() != "attachment":
            continue
        value = part.get_param("name")
        assert isinstance(value, str), value
        if not value.isascii() or "=?" in value:
            assert value.startswith("=?utf-8?b?"), value
        names.append(str(make_header(decode_header(value))))
    return names


# --------------------------------------------------------------------------
# Addresses and text hygiene
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, addr, name",
    [
        ("zzb@example.cn", "zzb@example.cn", ""),
        ("  组织部 <zzb@example.gov.cn> ", "zzb@example.gov.cn", "组织部"),
        ("ｚｚｂ＠example．cn", "zzb@example.cn", ""),
        ("first.last+tag@mail.example.cn", "first.last+tag@mail.example.cn", ""),
    ],
)
def test_parse_address_accepts(text, addr, name):
    box = mailer.parse_address(text)
    assert (box.addr, box.name) == (addr, name)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "zzb@example.cn\r\nBcc: evil@x.com",
        "zzb@example.cn\nBcc: evil@x.com",
        "zzb@example.cn\x00",
        "a@example.cn, b@example.cn",
        "a@example.cn;b@example.cn",
        "a@example.cn，b@example.cn",
        "no-at-sign",
        "a@localhost",
        "a@@example.cn",
        ".a@example.cn",
        "a b@example.cn",
        "张三@example.cn",
        "a@example.cn <b@example.cn>",
        "a@example.cn (comment)",
        "<a@exam_ple.cn>",
    ],
)
def test_parse_address_rejects(text):
    with pytest.raises(mailer.AddressError):
        mailer.parse_address(text)


def test_parse_address_list_splits_roster_cells():
    good, bad = mailer.parse_address_list("a@example.cn；Ｂ@example.cn、 a@example.cn  oops", name="峡窝镇")
    assert [b.addr for b in good] == ["a@example.cn", "B@example.cn"]
    assert all(b.name == "峡窝镇" for b in good)
    assert bad == ["oops"]
    assert mailer.parse_address_list("a@example.cn\r\nBcc: evil@x.com") == ([], ["a@example.cnBcc: evil@x.com"])
    assert mailer.parse_address_list("") == ([], [])
    (box,), bad = mailer.parse_address_list("张三 <zs@example.cn>", name="峡窝镇")
    assert (box.addr, box.name, bad) == ("zs@example.cn", "张三", [])


def test_clean_text_removes_line_breaks_and_nul():
    assert mailer.clean_text("峡窝镇\r\nBcc: evil@x.com\x00\u2028") == "峡窝镇Bcc: evil@x.com"
    assert mailer.safe_filename('a/b:c*?"<>|.') == "a_b_c______"
    assert mailer.safe_filename("CON") == "_CON"


def test_read_bulletin_text(workdir):
    text = mailer.read_bulletin_text(workdir / "output" / BULLETIN_TXT)
    assert text.title == "关于2026年第一季度组工信息报送情况的通报"
    assert text.overview == "第一季度，全区共报送组工信息120条，\n被市级以上采用30条。"
    gbk = workdir / "gbk.txt"
    gbk.write_bytes(BULLETIN_TEXT.encode("gbk"))
    assert mailer.read_bulletin_text(gbk) == text


_FRAGMENTS = ["峡窝镇", "党委", " ", ":", "<", ">", "@", ",", ";", '"', "'", "\\", "=?", "?=", "\r", "\n",
              "\r\n", "\x00", "\x0b", "\x0c", "\x85", "\u2028", "\u2029", "\t", "Bcc: evil@x.com", "To: x@y.cn"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.characters()), min_size=1, max_size=20).map("".join))
def test_no_header_injection_from_any_unit_name(name):
    subject = "通报" + name
    message = mailer.OutgoingMessage(
        kind=mailer.KIND_BULLETIN,
        label=name,
        subject=subject,
        body="正文",
        to=(mailer.Mailbox("unit@example.cn", mailer.clean_text(name)),),
        attachments=(mailer.AttachmentFile(name + ".docx", b"data"),),
        unit=name,
    )
    raw = mailer.message_bytes(mailer.build_email(message, draft=True))
    assert raw.isascii()
    msg = _parse(raw)
    assert list(msg.keys()) == ["To", "Subject", "X-Unsent", "MIME-Version", "Content-Type"]
    assert [a.addr_spec for a in msg["To"].addresses] == ["unit@example.cn"]
    assert msg["Subject"] == mailer.clean_text(subject)
    (part,) = msg.iter_attachments()
    assert part.get_content() == b"data"


# --------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------


def test_settings_from_toml_and_env(tmp_path, certs):
    shutil.copy(certs.ca, tmp_path / "ca.pem")
    (tmp_path / "mail.toml").write_text(
        '[smtp]\nhost = "smtp.example.cn"\nsecurity = "starttls"\nuser = "zzb@example.cn"\n'
        'timeout = 12\ncafile = "ca.pem"\n',
        encoding="utf-8",
    )
    settings = mailer.load_smtp_settings(tmp_path, {})
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
    settings = mailer.load_smtp_settings(tmp_path, env)
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
    with pytest.raises(mailer.MailConfigError) as info:
        mailer.load_smtp_settings(tmp_path, {})
    assert words in str(info.value)
    assert "hunter2" not in str(info.value)


def test_settings_for_drafts_need_no_server(tmp_path):
    settings = mailer.load_smtp_settings(tmp_path, {}, for_sending=False)
    assert settings.host == "" and settings.sender is None


# --------------------------------------------------------------------------
# Message building
# --------------------------------------------------------------------------


def test_message_attachments_round_trip(workdir):
    long_name = "2026年组工信息报送登记表-峡窝镇人民政府党委组织委员办公室（含下属村社区）.xlsx"
    (workdir / "output" / SUMMARY_NAME).unlink()
    (workdir / "output" / ("2026年" + long_name[5:].replace("报送登记表", "汇总表"))).write_bytes(SUMMARY_BYTES)
    plan = mailer.plan_summary(workdir, ["领导 <leader@example.cn>"], cc=["leader@example.cn", "copy@example.cn"])
    (message,) = plan.messages
    assert [b.addr for b in message.to] == ["leader@example.cn"]
    assert [b.addr for b in message.cc] == ["copy@example.cn"]  # duplicate of To dropped
    raw = mailer.message_bytes(mailer.build_email(message, sender=mailer.parse_address("zzb@example.cn")))
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
    message = mailer.OutgoingMessage(
        kind=mailer.KIND_BULLETIN,
        label="x",
        subject="s",
        body="b",
        to=(mailer.parse_address("a@example.cn"),),
        attachments=(mailer.AttachmentFile("plain.xlsx", b"1"), mailer.AttachmentFile(long, b"2")),
    )
    raw = mailer.message_bytes(mailer.build_email(message))
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
    plan = mailer.plan_summary(workdir, ["a@example.cn"])
    assert plan.messages[0].subject == "【汇总表】2026 第二行"
    assert "请查阅" in plan.messages[0].body  # body still the default
    (tpl / "mail_body.j2").write_bytes("{{ unit }}您好，{{ 未定义 }}".encode("gbk"))
    with pytest.raises(mailer.MailSetupError) as info:
        mailer.plan_summary(workdir, ["a@example.cn"])
    assert "mail_body.j2" in str(info.value)
    (tpl / "mail_body.j2").write_text("{% if %}", encoding="utf-8")
    with pytest.raises(mailer.MailSetupError):
        mailer.plan_summary(workdir, ["a@example.cn"])


def test_missing_summary_is_a_setup_error(tmp_path):
    with pytest.raises(mailer.MailSetupError):
        mailer.plan_summary(tmp_path, ["a@example.cn"])
    with pytest.raises(mailer.MailSetupError):
        mailer.plan_bulletin(tmp_path, to=["a@example.cn"])


def test_plan_templates_matches_exact_unit_name(workdir, units):
    plan = mailer.plan_templates(workdir, units)
    by_unit = {m.unit: m for m in plan.messages}
    assert by_unit["峡窝镇"].attachments[0].filename == "2026年组工信息报送登记表-峡窝镇.xlsx"
    assert by_unit["峡窝镇中心校"].attachments[0].filename == "2026年组工信息报送登记表-峡窝镇中心校.xlsx"
    assert [b.addr for b in by_unit["峡窝镇中心校"].to] == ["ZXX@example.cn", "second@example.cn"]
    assert by_unit["城关街道"].to == () and "没有" in by_unit["城关街道"].note
    (problem,) = plan.problems
    assert problem.unit == "新区管委会" and problem.status == mailer.FAILED and "找不到" in problem.message


def test_plan_reminders(workdir, units):
    plan = mailer.plan_reminders(workdir, units)
    by_unit = {m.unit: m for m in plan.messages}
    assert set(by_unit) == {"峡窝镇", "城关街道"}
    assert "5月10日前报送" in by_unit["峡窝镇"].body and by_unit["峡窝镇"].attachments == ()
    assert "请尽快报送" in by_unit["城关街道"].body  # GBK text file
    assert {p.unit: p.status for p in plan.problems} == {
        "峡窝镇中心校": mailer.SKIPPED,
        "新区管委会": mailer.SKIPPED,
    }


# --------------------------------------------------------------------------
# Drafts
# --------------------------------------------------------------------------


def test_drafts_are_eml_with_x_unsent(workdir, units):
    plan = mailer.plan_bulletin(workdir, units=units, cc=["copy@example.cn"])
    result = mailer.write_drafts(plan, workdir, sender="zzb@example.cn")
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
    again = mailer.write_drafts(plan, workdir)
    assert again.ok and sorted(p.name for p in folder.iterdir()) == files


# --------------------------------------------------------------------------
# Sending over a real SMTP server
# --------------------------------------------------------------------------


def test_send_summary_plain_and_no_resend(workdir, smtp_server):
    server = smtp_server()
    settings = _settings(server)
    plan = mailer.plan_summary(workdir, ["leader@example.cn", "deputy@example.cn"], cc=["copy@example.cn"])
    result = mailer.send_plan(plan, workdir, settings)
    assert result.ok, result.results
    (item,) = result.results
    assert item.status == mailer.SENT and item.message_id
    assert item.delivered == ("leader@example.cn", "deputy@example.cn", "copy@example.cn")
    (got,) = server.received
    assert got.mail_from == "zzb@example.cn"
    assert got.rcpt_tos == ["leader@example.cn", "deputy@example.cn", "copy@example.cn"]
    msg = _parse(got.content)
    assert msg["Message-ID"] == item.message_id
    assert msg["X-Unsent"] is None
    assert _attachments(msg) == {SUMMARY_NAME: SUMMARY_BYTES, BULLETIN_DOCX: BULLETIN_BYTES}
    assert _rfc2047_names(got.content) == [SUMMARY_NAME, BULLETIN_DOCX]

    log = [json.loads(line) for line in mailer.sent_log_path(workdir).read_text(encoding="utf-8").splitlines()]
    assert len(log) == 1
    assert log[0]["message_id"] == item.message_id
    assert log[0]["delivered"] == list(item.delivered)
    assert {a["sha256"] for a in log[0]["attachments"]} == {
        mailer.AttachmentFile("x", SUMMARY_BYTES).sha256,
        mailer.AttachmentFile("x", BULLETIN_BYTES).sha256,
    }

    # Same recipients, subject and attachments: nothing is sent again.
    again = mailer.send_plan(mailer.plan_summary(workdir, ["leader@example.cn", "deputy@example.cn"], cc=["copy@example.cn"]), workdir, settings)
    assert again.ok and again.results[0].status == mailer.ALREADY_SENT
    assert "已发送过" in again.results[0].message
    assert len(server.received) == 1

    # A new recipient gets it; the others are not sent it twice.
    more = mailer.send_plan(mailer.plan_summary(workdir, ["leader@example.cn", "new@example.cn"]), workdir, settings)
    assert more.results[0].status == mailer.SENT
    assert server.received[-1].rcpt_tos == ["new@example.cn"]
    assert "leader@example.cn 此前已发送过" in more.results[0].message

    # Changed attachment: sent again.
    (workdir / "output" / SUMMARY_NAME).write_bytes(SUMMARY_BYTES + b"v2")
    changed = mailer.send_plan(mailer.plan_summary(workdir, ["leader@example.cn"]), workdir, settings)
    assert changed.results[0].status == mailer.SENT
    assert len(server.received) == 3


def test_send_per_unit_reports_missing_addresses(workdir, units, smtp_server):
    server = smtp_server()
    result = mailer.send_plan(mailer.plan_templates(workdir, units), workdir, _settings(server))
    statuses = {r.label: r.status for r in result.results}
    assert statuses == {
        "峡窝镇": mailer.SENT,
        "峡窝镇中心校": mailer.SENT,
        "城关街道": mailer.NO_ADDRESS,
        "新区管委会": mailer.FAILED,  # no template in outbox
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
    plan = mailer.plan_bulletin(workdir, units=[evil, evil_email], subject="通报\r\nBcc: evil@x.com")
    drafts = mailer.write_drafts(plan, workdir)
    result = mailer.send_plan(plan, workdir, _settings(server))
    assert [r.status for r in result.results] == [mailer.SENT, mailer.NO_ADDRESS]
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
    result = mailer.send_plan(mailer.plan_summary(workdir, ["leader@example.cn"]), workdir, settings, password=PASSWORD)
    assert result.ok, result.results
    (got,) = server.received
    assert got.tls and got.authenticated
    assert _attachments(_parse(got.content))[SUMMARY_NAME] == SUMMARY_BYTES
    assert PASSWORD not in mailer.sent_log_path(workdir).read_text(encoding="utf-8")


def test_send_starttls_refused_login(workdir, smtp_server, certs):
    server = smtp_server(
        tls_context=certs.server_ctx,
        require_starttls=True,
        authenticator=_authenticator,
        auth_required=True,
    )
    settings = _settings(server, security="starttls", user=USER, cafile=certs.ca)
    wrong = "wrong-password-123"
    plan = mailer.plan_bulletin(workdir, to=["a@example.cn"])
    plan.items.extend(mailer.plan_summary(workdir, ["b@example.cn"]).items)
    result = mailer.send_plan(plan, workdir, settings, password=wrong)
    assert [r.status for r in result.results] == [mailer.FAILED, mailer.FAILED]
    assert all("拒绝登录" in r.message and "未发送" in r.message for r in result.results)
    assert all(wrong not in r.message and PASSWORD not in r.message for r in result.results)
    assert server.received == []
    assert not mailer.sent_log_path(workdir).exists()


def test_send_starttls_untrusted_certificate(workdir, smtp_server, certs):
    server = smtp_server(tls_context=certs.server_ctx, require_starttls=True)
    result = mailer.send_plan(
        mailer.plan_summary(workdir, ["a@example.cn"]), workdir, _settings(server, security="starttls")
    )
    (item,) = result.results
    assert item.status == mailer.FAILED and "证书验证失败" in item.message
    assert server.received == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_send_implicit_ssl(workdir, smtp_server, certs):
    # aiosmtpd only knows about STARTTLS; on an implicit-TLS listener AUTH must be
    # allowed explicitly (the connection is TLS all the same).
    server = smtp_server(
        ssl_context=certs.server_ctx, authenticator=_authenticator, auth_required=True, auth_require_tls=False
    )
    settings = _settings(server, security="ssl", user=USER, cafile=certs.ca)
    result = mailer.send_plan(mailer.plan_summary(workdir, ["a@example.cn"]), workdir, settings, password=PASSWORD)
    assert result.ok, result.results
    assert server.received[0].authenticated


def test_starttls_not_offered(workdir, smtp_server, certs):
    server = smtp_server()
    settings = _settings(server, security="starttls", cafile=certs.ca)
    (item,) = mailer.send_plan(mailer.plan_summary(workdir, ["a@example.cn"]), workdir, settings).results
    assert item.status == mailer.FAILED and "STARTTLS" in item.message


def test_recipient_refused_partially_and_fully(workdir, smtp_server):
    server = smtp_server(RecordingHandler(refuse=["bad@example.cn"]))
    settings = _settings(server)
    plan = mailer.plan_summary(workdir, ["good@example.cn", "bad@example.cn"])
    (item,) = mailer.send_plan(plan, workdir, settings).results
    assert item.status == mailer.PARTIAL and not item.ok
    assert item.delivered == ("good@example.cn",)
    assert [a for a, _ in item.refused] == ["bad@example.cn"]
    assert "已发送给 good@example.cn" in item.message and "未发送给 bad@example.cn" in item.message
    assert "550" in item.message
    assert [r.rcpt_tos for r in server.received] == [["good@example.cn"]]

    # Re-run: good@ is not sent twice; bad@ is tried again and refused again.
    (again,) = mailer.send_plan(plan, workdir, settings).results
    assert again.status == mailer.FAILED
    assert "全部被服务器拒收" in again.message and again.already_sent == ("good@example.cn",)
    assert len(server.received) == 1

    # Connection stays usable after a refusal: the next message still goes.
    plan2 = mailer.plan_bulletin(workdir, to=["bad@example.cn"])
    plan2.items.extend(mailer.plan_bulletin(workdir, to=["other@example.cn"]).items)
    results = mailer.send_plan(plan2, workdir, settings).results
    assert [r.status for r in results] == [mailer.FAILED, mailer.SENT]


def test_unreachable_server(workdir, units):
    port = _free_port()  # nothing listens there
    settings = mailer.SmtpSettings(
        host=LOOPBACK, port=port, security="none", sender=mailer.parse_address("zzb@example.cn"), timeout=5
    )
    result = mailer.send_plan(mailer.plan_bulletin(workdir, units=units), workdir, settings)
    by_unit = {r.label: r for r in result.results}
    for name in ("峡窝镇", "峡窝镇中心校"):
        assert by_unit[name].status == mailer.FAILED
        assert "无法连接邮件服务器" in by_unit[name].message and "未发送" in by_unit[name].message
    assert by_unit["城关街道"].status == mailer.NO_ADDRESS
    assert not result.ok
    assert not mailer.sent_log_path(workdir).exists()


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


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
    roster = pytest.importorskip("zg_excel.roster")
    monkeypatch.setattr(roster, "load_roster", lambda workdir, rules=None: SimpleNamespace(units=units))


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
    """Without 单位名册.xlsx the shipped default roster is used; its units have
    no addresses, so every draft is flagged and listed."""
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
    assert result.exit_code == 1
    assert "拒绝登录" in result.output and "nope-wrong" not in result.output
