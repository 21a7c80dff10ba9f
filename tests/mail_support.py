"""What the tests of zg_excel.mail share: a working folder with outputs, units, a real SMTP server.

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

from zg_excel.mail.addresses import parse_address
from zg_excel.mail.settings import SmtpSettings
from zg_excel.workspace import Workspace

LOOPBACK = "127.0.0.1"
USER = "zzb@example.cn"
PASSWORD = "S3cret-pass-word"

YEAR = 2026
SUMMARY_NAME = Workspace(Path(".")).summary_path(YEAR).name  # 2026年组工信息考核汇总表.xlsx
BULLETIN_DOCX = Workspace(Path(".")).bulletin_docx.name
BULLETIN_TXT = Workspace(Path(".")).bulletin_txt.name
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
    (out / "result.json").write_text(json.dumps({"year": YEAR}), encoding="utf-8")
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
    aiosmtpd_smtp = pytest.importorskip("aiosmtpd.smtp")
    good = (
        isinstance(auth_data, aiosmtpd_smtp.LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return aiosmtpd_smtp.AuthResult(success=good, handled=False)  # handled=False: server answers 535


@pytest.fixture
def smtp_server():
    aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
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
        sender=parse_address("组织部 <zzb@example.cn>"),
        timeout=10,
    )
    values.update(kwargs)
    return SmtpSettings(**values)


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
