"""``zg-excel serve`` as the office runs it: a subprocess, over HTTPS with a self-signed certificate."""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.serve_kit import make_workdir
from zg_excel.serve.tokens import unit_links

OPENSSL = shutil.which("openssl")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str):
    parts = urlsplit(url)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    c = http.client.HTTPSConnection(parts.hostname, parts.port, context=ctx, timeout=30)
    c.request("GET", parts.path)
    r = c.getresponse()
    return r.status, dict(r.getheaders()), r.read().decode("utf-8")


@pytest.mark.skipif(not OPENSSL, reason="openssl is needed to make a test certificate")
def test_serve_over_https_prints_the_office_link_and_writes_the_units_links(tmp_path):
    root = make_workdir(tmp_path / "2026组工信息")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    port = _free_port()
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.Popen([sys.executable, "-m", "zg_excel", "serve", "-w", str(root), "--port", str(port),
                             "--cert", str(cert), "--key", str(key)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=env, text=True, encoding="utf-8")
    try:
        lines = []
        deadline = time.time() + 60
        while time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Ctrl+C" in line:
                break
        out = "".join(lines)
        assert f"网页报送已启动：https://127.0.0.1:{port}/" in out, out
        office = next(l.split("：", 1)[1].strip() for l in lines if l.startswith("办公室管理页面"))
        assert office.startswith(f"https://127.0.0.1:{port}/o/")
        links = unit_links(root)
        assert len(links) == 17 and all(u.startswith(f"https://127.0.0.1:{port}/u/") for u in links.values())
        status, headers, page = _get(office)
        assert status == 200 and "区委组织部办公室" in page
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "no-referrer"
        status, _, page = _get(links["峡窝镇党委"])
        assert status == 200 and "峡窝镇党委" in page and "上传并检查" in page
        status, _, _ = _get(f"https://127.0.0.1:{port}/u/{'x' * 43}/")
        assert status == 404
    finally:
        proc.terminate()
        proc.wait(20)
    # started again: the same links (tokens recovered from the links file, checked against the hashes)
    assert unit_links(root) == links


def test_cert_without_key_is_a_setup_error(tmp_path):
    root = make_workdir(tmp_path / "w")
    cert = tmp_path / "c.pem"
    cert.write_text("x")
    r = subprocess.run([sys.executable, "-m", "zg_excel", "serve", "-w", str(root), "--cert", str(cert)],
                       capture_output=True, text=True, encoding="utf-8", env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert r.returncode == 2 and "--cert 和 --key 须同时给出" in r.stderr
