"""Load on a real cheroot server (127.0.0.1, ephemeral port): 20 concurrent clients × 50 uploads.

No upload is lost and the audit log agrees with the inbox file for file."""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from tests.serve_kit import AS_OF, YEAR, good_return, make_workdir
from zg_excel.serve.app import create_app
from zg_excel.serve.server import make_server
from zg_excel.serve.settings import load_settings
from zg_excel.serve.store import Desk
from zg_excel.serve.tokens import ensure_links

CLIENTS = 20
UPLOADS = 50
UNITS = ("峡窝镇党委", "中心路街道党工委", "新安路街道党工委", "工业路街道党工委", "矿山街道党工委")


def _multipart(fields: dict[str, str], files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for k, v in fields.items():
        parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n".encode())
    for name, data in files:
        parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
                     "Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def live(tmp_path):
    root = make_workdir(tmp_path / "w")
    (root / "serve.toml").write_text("[serve]\nuploads_per_window = 1000\n", encoding="utf-8")
    settings = load_settings(root)
    desk = Desk(root, settings, year=YEAR, as_of=AS_OF)
    server = make_server(create_app(root, settings, desk=desk, store=None), "127.0.0.1", 0, threads=CLIENTS)
    server.prepare()
    port = server.bind_addr[1]
    links = ensure_links(root, desk.units, f"http://127.0.0.1:{port}")
    # the app read the token store before the links existed: make it again with them
    server.wsgi_app = create_app(root, settings, desk=desk)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    yield root, port, links, desk
    server.stop()
    thread.join(10)


def _get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("GET", path)
    r = c.getresponse()
    return r.status, r.read().decode("utf-8")


def test_concurrent_uploads_lose_nothing_and_the_log_matches_the_inbox(live):
    root, port, links, desk = live
    returns = {}
    for k, unit in enumerate(UNITS):  # two distinct returns a unit
        for m in (7, 8):
            p = good_return(root, unit, root.parent / f"{k}-{m}.xlsx", month=m, n=2, title=f"月{m}")
            returns[(unit, m)] = p.read_bytes()
    jobs = [(UNITS[i % len(UNITS)], 7 + (i // len(UNITS)) % 2) for i in range(UPLOADS)]

    def upload(job):
        unit, month = job
        path = urlsplit(links.units[unit]).path
        status, page = _get(port, path)
        assert status == 200
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        body, ctype = _multipart({"csrf": csrf}, [(f"{month}月.xlsx", returns[(unit, month)])])
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        c.request("POST", path + "upload", body=body, headers={"Content-Type": ctype})
        r = c.getresponse()
        text = r.read().decode("utf-8")
        return r.status, text

    with ThreadPoolExecutor(CLIENTS) as pool:
        got = list(pool.map(upload, jobs))
    assert [s for s, _ in got] == [200] * UPLOADS
    assert all("1 个已保存" in text for _, text in got)

    stored = sorted(p.relative_to(root / "inbox").as_posix() for p in (root / "inbox").rglob("*") if p.is_file())
    log = [json.loads(line) for line in (root / "网页报送" / "报送日志.jsonl").read_text("utf-8").splitlines()]
    assert len(stored) == len(set(stored)) == UPLOADS
    assert len(log) == UPLOADS and all(a["result"] == "accepted" for a in log)
    assert sorted(a["stored"] for a in log) == stored
    for a in log:
        data = (root / "inbox" / a["stored"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == a["sha256"] and len(data) == a["size"]
        assert a["stored"].startswith(a["unit"] + "/")
    per_unit = {u: sum(1 for a in log if a["unit"] == u) for u in UNITS}
    assert per_unit == {u: UPLOADS // len(UNITS) for u in UNITS}
    assert not list((root / "网页报送" / ".staging").iterdir())
    # the office sees every unit as uploaded
    desk.snapshot(wait=True)
    status, page = _get(port, urlsplit(links.office).path)
    assert status == 200
    unsent = re.search(r"催报名单）</h3>\s*<p>([^<]*)</p>", page).group(1)
    assert not any(u in unsent for u in UNITS)
