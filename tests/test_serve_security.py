"""Request-level tests of ``zg-excel serve`` (Flask test client): every security point of issue 15."""

from __future__ import annotations

import hashlib
import json
import re
import threading

import pytest

from tests.serve_kit import AS_OF, UNIT_A, UNIT_B, YEAR, bad_return, good_return, make_workdir
from zg_excel.serve import store as store_mod
from zg_excel.serve import tokens as tokens_mod
from zg_excel.serve.app import NOT_FOUND_BODY, create_app
from zg_excel.serve.settings import ServeSettings, load_settings
from zg_excel.serve.store import Desk
from zg_excel.serve.tokens import ensure_links, load_store, token_hash, unit_links

BASE = "http://127.0.0.1:8080"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Good and bad returns of units A and B (made once: filling costs ~0.3 s a file)."""
    root = make_workdir(tmp_path_factory.mktemp("files") / "w")
    d = root.parent
    return {"good_a": good_return(root, UNIT_A, d / "good_a.xlsx"),
            "good_a2": good_return(root, UNIT_A, d / "good_a2.xlsx", month=7, n=2, title="七月"),
            "bad_a": bad_return(root, UNIT_A, d / "bad_a.xlsx"),
            "good_b": good_return(root, UNIT_B, d / "good_b.xlsx", title="乙")}


class Site:
    def __init__(self, root, settings=None):
        self.root = root
        self.settings = settings or ServeSettings()
        self.desk = Desk(root, self.settings, year=YEAR, as_of=AS_OF)
        self.links = ensure_links(root, self.desk.units, BASE)
        self.app = create_app(root, self.settings, desk=self.desk)
        self.client = self.app.test_client()

    def path(self, unit=None) -> str:
        url = self.links.office if unit is None else self.links.units[unit]
        return url[len(BASE):]

    def csrf(self, unit=None) -> str:
        r = self.client.get(self.path(unit))
        assert r.status_code == 200
        return re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)

    def upload(self, unit, named: list[tuple], csrf=None, headers=None):
        data = {"csrf": self.csrf(unit) if csrf is None else csrf,
                "files": [(open(p, "rb") if not isinstance(p, bytes) else __import__("io").BytesIO(p), name)
                          for p, name in named]}
        return self.client.post(self.path(unit) + "upload", data=data, content_type="multipart/form-data",
                                headers=headers or {})

    def inbox_files(self):
        return sorted(p.relative_to(self.root / "inbox").as_posix() for p in (self.root / "inbox").rglob("*")
                      if p.is_file())

    def audit(self):
        p = self.root / "网页报送" / "报送日志.jsonl"
        return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines()] if p.exists() else []


@pytest.fixture
def site(tmp_path):
    return Site(make_workdir(tmp_path / "w"))


def routes(site, token_unit=None, *, office_token=None):
    """Every route with the given token in it: (method, path)."""
    u = site.path(token_unit or UNIT_A)
    o = office_token or site.path()
    return [("GET", u), ("POST", u + "upload"), ("GET", o), ("POST", o + "merge"), ("GET", o + "download/summary"),
            ("GET", o + "download/bulletin-txt"), ("GET", o + "download/bulletin-docx")]


def call(site, method, path, **kw):
    return site.client.open(path, method=method, **kw)


# ------------------------------------------------------------------ tokens


def test_tokens_are_stored_only_as_hashes(site):
    store_text = (site.root / "网页报送" / "令牌.json").read_text(encoding="utf-8")
    store = load_store(site.root)
    tokens = [u.rstrip("/").rsplit("/", 1)[1] for u in [site.links.office, *site.links.units.values()]]
    assert len(set(tokens)) == len(tokens) == len(site.desk.units) + 1
    for t in tokens:
        assert len(t) >= 43  # 256 random bits, url-safe
        assert t not in store_text
    assert set(store.units.values()) == {token_hash(t) for t in tokens[1:]}
    assert store.office == hashlib.sha256(tokens[0].encode()).hexdigest()


def test_token_check_compares_every_hash_in_constant_time(site, monkeypatch):
    calls = []
    real = tokens_mod.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(tokens_mod.hmac, "compare_digest", spy)
    store = load_store(site.root)
    token_a = site.links.units[UNIT_A].rstrip("/").rsplit("/", 1)[1]
    assert store.find("u", token_a) == UNIT_A
    assert len(calls) == len(store.units)  # not stopping at the match
    calls.clear()
    assert store.find("u", "x" * 43) is None
    assert len(calls) == len(store.units)


def test_links_survive_a_restart_and_can_be_reissued(site):
    again = ensure_links(site.root, site.desk.units, BASE)
    assert again.units == site.links.units and again.office == site.links.office and again.new == []
    assert unit_links(site.root) == site.links.units
    moved = ensure_links(site.root, site.desk.units, "https://10.0.0.5:8443")
    assert all(url.startswith("https://10.0.0.5:8443/u/") for url in moved.units.values())
    assert {u: url.rsplit("/", 2)[1] for u, url in moved.units.items()} == \
        {u: url.rsplit("/", 2)[1] for u, url in site.links.units.items()}
    new = ensure_links(site.root, site.desk.units, BASE, reissue=True)
    assert set(new.new) == {*site.desk.units, "办公室"}
    assert not set(new.units.values()) & set(site.links.units.values())
    app = create_app(site.root, site.settings, desk=site.desk)
    assert app.test_client().get(site.path(UNIT_A)).status_code == 404  # the old link is dead


def test_links_file_lists_every_unit_for_a_notice(site):
    text = (site.root / "网页报送" / "网页报送链接.txt").read_text(encoding="utf-8")
    for unit, url in site.links.units.items():
        assert f"{unit}：{url}" in text
    assert site.links.office not in text  # the office's address is kept apart
    import openpyxl

    ws = openpyxl.load_workbook(site.root / "网页报送" / "网页报送链接.xlsx").active
    assert {r[0]: r[1] for r in ws.iter_rows(min_row=2, values_only=True)} == site.links.units


def test_a_forged_link_in_the_links_file_is_not_trusted(site):
    path = site.root / "网页报送" / "网页报送链接.txt"
    text = path.read_text(encoding="utf-8").replace(site.links.units[UNIT_B], f"{BASE}/u/{'A' * 43}/")
    path.write_text(text, encoding="utf-8")
    assert UNIT_B not in unit_links(site.root) and UNIT_A in unit_links(site.root)


# ------------------------------------------------------------------ 404 for anything not granted


def test_wrong_token_gets_the_same_answer_as_a_missing_page(site):
    missing = site.client.get("/no/such/page")
    assert missing.status_code == 404
    fake = "Z" * 43
    for method, path in routes(site) + [("GET", "/"), ("GET", "/u/"), ("GET", "/o/")]:
        for bad in (path.replace(path.split("/")[2], fake) if path.count("/") > 2 else path,):
            r = call(site, method, bad, data={"csrf": "x"})
            assert r.status_code == 404, (method, bad)
            assert r.data == missing.data == NOT_FOUND_BODY.encode()


def test_a_units_token_opens_nothing_of_the_office_and_the_office_token_nothing_of_a_unit(site):
    token_a = site.path(UNIT_A).split("/")[2]
    token_o = site.path().split("/")[2]
    as_office = f"/o/{token_a}/"
    for method, path in [("GET", as_office), ("POST", as_office + "merge"), ("GET", as_office + "download/summary")]:
        r = call(site, method, path, data={"csrf": site.csrf(UNIT_A)})
        assert r.status_code == 404 and r.data == NOT_FOUND_BODY.encode()
    for method, path in [("GET", f"/u/{token_o}/"), ("POST", f"/u/{token_o}/upload")]:
        r = call(site, method, path, data={"csrf": site.csrf()})
        assert r.status_code == 404 and r.data == NOT_FOUND_BODY.encode()


def test_wrong_methods_and_nothing_of_the_working_folder_are_served(site, files):
    site.upload(UNIT_A, [(files["good_a"], "good.xlsx")])
    o = site.path()
    for method, path in [("POST", site.path(UNIT_A)), ("GET", site.path(UNIT_A) + "upload"),
                         ("POST", o), ("GET", o + "merge"), ("GET", o + "download/result.json"),
                         ("GET", o + "download/..%2Frules.toml"), ("GET", o + "download/../rules.toml"),
                         ("GET", o + "download/"), ("GET", "/网页报送/令牌.json"), ("GET", "/inbox/"),
                         ("GET", "/rules.toml"), ("GET", "/static/x"), ("GET", f"/u/{site.path(UNIT_A).split('/')[2]}/"
                                                                       f"{UNIT_A}/")]:
        r = call(site, method, path)
        assert r.status_code == 404 and r.data == NOT_FOUND_BODY.encode(), (method, path)


# ------------------------------------------------------------------ a unit sees and writes only its own


def test_a_unit_page_shows_only_its_own_files(site, files):
    assert site.upload(UNIT_B, [(files["good_b"], "乙的文件.xlsx")]).status_code == 200
    assert site.upload(UNIT_A, [(files["good_a"], "甲的文件.xlsx")]).status_code == 200
    page_a = site.client.get(site.path(UNIT_A)).text
    page_b = site.client.get(site.path(UNIT_B)).text
    assert f"{UNIT_A}-网页报送-" in page_a and UNIT_B not in page_a
    assert f"{UNIT_B}-网页报送-" in page_b and f"{UNIT_A}-网页报送" not in page_b
    assert "15" in page_a  # its points: 3 rows × 5


def test_a_unit_cannot_upload_another_units_return(site, files):
    r = site.upload(UNIT_A, [(files["good_b"], "good_b.xlsx")])
    assert r.status_code == 200
    assert f"这个文件是“{UNIT_B}”的报表" in r.text and "未保存" in r.text
    assert site.inbox_files() == []
    assert [(a["unit"], a["result"]) for a in site.audit()] == [(UNIT_A, "refused")]


def test_a_unit_mismatch_is_refused(site, files, tmp_path):
    import openpyxl

    wb = openpyxl.load_workbook(files["good_a"])
    for ws in wb.worksheets:
        for row in ws.iter_rows(max_row=3):
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("填报单位"):
                    c.value = f"填报单位：{UNIT_B}"
    mixed = tmp_path / "mixed.xlsx"
    wb.save(mixed)
    r = site.upload(UNIT_A, [(mixed, "mixed.xlsx")])
    assert "0 个已保存，1 个未保存" in r.text
    assert "无法确定是哪个单位" in r.text or "单位标识与表头“填报单位”不一致" in r.text  # merge's words, or ours
    assert site.inbox_files() == [] and site.audit()[0]["result"] == "refused"


# ------------------------------------------------------------------ CSRF


def test_every_post_needs_the_pages_csrf_token(site, files):
    r = site.client.post(site.path(UNIT_A) + "upload", data={"files": [(open(files["good_a"], "rb"), "g.xlsx")]},
                         content_type="multipart/form-data")
    assert r.status_code == 403
    assert site.upload(UNIT_A, [(files["good_a"], "g.xlsx")], csrf=site.csrf(UNIT_B)).status_code == 403
    assert site.upload(UNIT_A, [(files["good_a"], "g.xlsx")], csrf=site.csrf()).status_code == 403
    good = site.csrf(UNIT_A)
    ts, mac = good.split(".")
    assert site.upload(UNIT_A, [(files["good_a"], "g.xlsx")], csrf=f"{int(ts) + 1}.{mac}").status_code == 403
    assert site.upload(UNIT_A, [(files["good_a"], "g.xlsx")], csrf=good,
                       headers={"Origin": "http://evil.example"}).status_code == 403
    assert site.client.post(site.path() + "merge", data={}).status_code == 403
    assert site.client.post(site.path() + "merge", data={"csrf": site.csrf(UNIT_A)}).status_code == 403
    assert site.inbox_files() == [] and not (site.root / "output" / "通报.txt").exists()
    assert site.upload(UNIT_A, [(files["good_a"], "g.xlsx")], csrf=good,
                       headers={"Sec-Fetch-Site": "cross-site", "Origin": "null"}).status_code == 403
    assert site.inbox_files() == []
    assert site.upload(UNIT_A, [(files["good_a"], "g.xlsx")], csrf=good,
                       headers={"Origin": "http://localhost"}).status_code == 200
    assert site.upload(UNIT_A, [(files["good_a"], "g.xlsx")], csrf=good,
                       headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"}).status_code == 200


def test_an_old_form_token_expires(site, files, monkeypatch):
    good = site.csrf(UNIT_A)
    import time as real_time

    later = real_time.time() + site.settings.csrf_hours * 3600 + 60
    monkeypatch.setattr("zg_excel.serve.app.time.time", lambda: later)
    assert site.upload(UNIT_A, [(files["good_a"], "g.xlsx")], csrf=good).status_code == 403
    assert site.inbox_files() == []


# ------------------------------------------------------------------ limits


def test_a_file_over_the_size_limit_is_refused_and_not_stored(tmp_path, files):
    root = make_workdir(tmp_path / "w")
    (root / "serve.toml").write_text("[serve]\nmax_file_mb = 0.01\n", encoding="utf-8")
    site = Site(root, load_settings(root))
    r = site.upload(UNIT_A, [(files["good_a"], "g.xlsx")])
    assert r.status_code == 200 and "文件过大" in r.text
    assert site.inbox_files() == [] and site.audit()[0]["result"] == "refused"
    big = b"PK\x03\x04" + b"\0" * (site.settings.max_request_bytes + 10)
    r = site.upload(UNIT_A, [(big, "huge.xlsx")])
    assert r.status_code == 413 and "过大" in r.text
    assert "Content-Security-Policy" in r.headers
    assert site.inbox_files() == []


def test_too_many_files_at_once_and_too_often_are_refused(tmp_path, files):
    root = make_workdir(tmp_path / "w")
    (root / "serve.toml").write_text("[serve]\nmax_files = 2\nuploads_per_window = 3\nwindow_seconds = 3600\n",
                                     encoding="utf-8")
    site = Site(root, load_settings(root))
    r = site.upload(UNIT_A, [(files["good_a"], f"{k}.xlsx") for k in range(3)])
    assert r.status_code == 400 and "一次最多上传 2 个文件" in r.text
    assert site.upload(UNIT_A, [(files["good_a"], "1.xlsx"), (files["good_a2"], "2.xlsx")]).status_code == 200
    r = site.upload(UNIT_A, [(files["good_a"], "3.xlsx"), (files["good_a2"], "4.xlsx")])
    assert r.status_code == 429 and "上传过于频繁" in r.text
    assert site.upload(UNIT_B, [(files["good_b"], "b.xlsx")]).status_code == 200  # per token
    assert len(site.inbox_files()) == 3


def test_settings_file_is_checked(tmp_path):
    from zg_excel.rules import ConfigError

    assert load_settings(tmp_path) == ServeSettings()
    (tmp_path / "serve.toml").write_text("[serve]\nmax_file_mb = 5\n", encoding="utf-8")
    assert load_settings(tmp_path).max_file_bytes == 5 * 1024 * 1024
    for bad in ("max_file_mb = -1", "max_files = 'many'", "upload_limit = 3"):
        (tmp_path / "serve.toml").write_text(f"[serve]\n{bad}\n", encoding="utf-8")
        with pytest.raises(ConfigError, match="serve"):
            load_settings(tmp_path)


# ------------------------------------------------------------------ content and names


def test_content_is_sniffed_whatever_the_extension(site, files, tmp_path):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    docx = tmp_path / "a.docx"
    import docx as python_docx

    python_docx.Document().save(docx)
    r = site.upload(UNIT_A, [(png, "照片.xlsx"), (docx, "通知.xlsx"), (b"", "空.xlsx"), (files["good_a"], "报表.txt")])
    assert r.status_code == 200
    audit = site.audit()
    assert [a["result"] for a in audit] == ["accepted", "refused", "refused", "accepted"]
    assert all(a["reason"] for a in audit[1:3])
    assert "文件是空的" in r.text
    stored = site.inbox_files()  # named by their content, not by the client: a picture is a 台帐 proof file
    assert len(stored) == 2 and stored[1].endswith(".xlsx") and stored[0] == f"{UNIT_A}/台帐/照片.png"
    assert [a["kind"] for a in audit] == ["台帐证明材料", "报表", "报表", "报表"]


def test_no_client_path_reaches_the_file_system(site, files):
    names = ["../../../evil.xlsx", "..\\..\\evil.xlsx", "C:\\Windows\\evil.xlsx", "/etc/evil.xlsx",
             f"../{UNIT_B}/x.xlsx", "con.xlsx", "a\0b.xlsx"]
    r = site.upload(UNIT_A, [(files["good_a"], n) for n in names])
    assert r.status_code == 200
    stored = site.inbox_files()
    assert len(stored) == len(names)
    for rel in stored:
        assert re.fullmatch(rf"{UNIT_A}/{UNIT_A}-网页报送-\d{{8}}-\d{{6}}-[0-9a-f]{{8}}(-\d+)?\.xlsx", rel), rel
    assert not any("evil" in p.name for p in site.root.parent.rglob("*"))
    assert not (site.root / "inbox" / UNIT_B).exists()


def test_uploads_never_overwrite_and_the_audit_log_matches_the_inbox(site, files):
    for _ in range(3):
        site.upload(UNIT_A, [(files["good_a"], "same.xlsx"), (files["good_a"], "same.xlsx")])
    stored = site.inbox_files()
    assert len(stored) == 6 and len(set(stored)) == 6
    audit = site.audit()
    assert sorted(a["stored"] for a in audit) == stored
    want = hashlib.sha256(files["good_a"].read_bytes()).hexdigest()
    for a in audit:
        assert a["sha256"] == want and a["size"] == files["good_a"].stat().st_size and a["unit"] == UNIT_A
        assert a["client"] == "127.0.0.1" and a["time"]
        assert hashlib.sha256((site.root / "inbox" / a["stored"]).read_bytes()).hexdigest() == want
    assert not list((site.root / "网页报送" / ".staging").iterdir())


def test_the_result_shows_rows_problems_and_the_change_in_points(site, files):
    r = site.upload(UNIT_A, [(files["good_a"], "八月.xlsx")])
    text = r.text
    assert "填报单位：<b>峡窝镇党委</b>（按模板中的单位标识认定）" in text
    assert "涉及月份：2026年8月" in text and "录用登记：共3行，可计分3行；可计分的合计15分" in text
    assert text.count("<td class=\"num\">5</td><td>市级采用 5分 = 5</td>") == 3  # each row's 计分说明
    assert "报送前 <b>0</b> 分，加上本文件后 <b>15</b> 分，增加15分。" in text
    r = site.upload(UNIT_A, [(files["good_a2"], "七月.xlsx"), (files["bad_a"], "坏.xlsx")])
    text = r.text
    assert "报送前 <b>15</b> 分，加上本文件后 <b>25</b> 分" in text
    assert "日期无法识别" in text and "请填写有效日期" in text and "火星日报" in text
    assert "请从模板的下拉列表或“媒体目录”工作表中选择媒体名称" in text  # check's own fix words
    assert "第4行" in text and "“录用日期”列" in text


# ------------------------------------------------------------------ headers


def test_every_response_has_the_security_headers(site, files):
    site.upload(UNIT_A, [(files["good_a"], "g.xlsx")])
    site.client.post(site.path() + "merge", data={"csrf": site.csrf()})
    responses = [site.client.get(site.path(UNIT_A)), site.client.get(site.path()), site.client.get("/x"),
                 site.client.post(site.path(UNIT_A) + "upload", data={}),
                 site.upload(UNIT_A, [(files["good_a"], "g.xlsx")]),
                 site.client.get(site.path() + "download/summary")]
    for r in responses:
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "no-referrer"
        assert r.headers["Cache-Control"] == "no-store"
    assert "<script" not in responses[0].text and "<script" not in responses[1].text


# ------------------------------------------------------------------ office


def test_office_page_status_merge_and_downloads(site, files):
    r = site.client.get(site.path())
    site.desk.wait_snapshot()
    assert site.upload(UNIT_A, [(files["good_a"], "g.xlsx"), (files["bad_a"], "b.xlsx")]).status_code == 200
    site.desk.snapshot(wait=True)
    text = site.client.get(site.path()).text
    unsent = re.search(r"催报名单）</h3>\s*<p>([^<]*)</p>", text).group(1)
    assert UNIT_A not in unsent and UNIT_B in unsent
    assert "日期无法识别" in text  # errors waiting for the unit
    assert re.search(rf"<td class=\"num\">1</td><td>{UNIT_A}</td><td class=\"num\">15</td>", text)
    assert "还没有合并结果" in text
    r = site.client.post(site.path() + "merge", data={"csrf": site.csrf()})
    assert r.status_code == 200 and "合并完成" in r.text
    for key in ("summary", "bulletin-txt", "bulletin-docx"):
        assert f"download/{key}" in r.text
        d = site.client.get(site.path() + f"download/{key}")
        assert d.status_code == 200 and "attachment" in d.headers["Content-Disposition"] and d.data
    assert "峡窝镇党委" in site.client.get(site.path() + "download/bulletin-txt").data.decode("utf-8")


def test_one_merge_at_a_time(site):
    assert store_mod._MERGE_LOCK.acquire(blocking=False)
    try:
        r = site.client.post(site.path() + "merge", data={"csrf": site.csrf()})
        assert r.status_code == 409 and "已有一次合并正在进行" in r.text
        with pytest.raises(store_mod.MergeBusy):
            store_mod.run_merge(site.root)
    finally:
        store_mod._MERGE_LOCK.release()
    assert not (site.root / "output" / "通报.txt").exists()


def test_a_merge_from_the_command_line_holds_off_the_button(site):
    from zg_excel.runlock import workspace_lock
    from zg_excel.workspace import Workspace

    with workspace_lock(Workspace(site.root), command="合并"):
        r = site.client.post(site.path() + "merge", data={"csrf": site.csrf()})
    assert r.status_code == 409 and "工作目录正被另一次运行占用" in r.text
    assert not (site.root / "output" / "通报.txt").exists()


def test_a_file_the_office_drops_into_the_inbox_is_seen_without_rereading(site, files, monkeypatch):
    import shutil

    shutil.copy(files["good_b"], site.root / "inbox" / "乙单位邮件报来.xlsx")
    snap, stale = site.desk.snapshot(wait=True)
    assert not stale and [e.unit for e in snap.entries] == [UNIT_B]
    page = site.client.get(site.path(UNIT_B)).text
    assert "乙单位邮件报来.xlsx" in page and "本单位当前积分：<b>15</b>" in page
    assert "乙单位邮件报来" not in site.client.get(site.path(UNIT_A)).text

    # pages never read the inbox again: the books come from the content-hash cache
    import zg_excel.intake.worker as worker

    def no_reading(*a, **k):
        raise AssertionError("a page re-read the inbox")

    monkeypatch.setattr(worker, "read_books", no_reading)
    assert site.client.get(site.path()).status_code == 200
    assert site.client.get(site.path(UNIT_B)).status_code == 200
    fresh = Desk(site.root, site.settings, year=YEAR, as_of=AS_OF)  # a restart: the on-disk cache
    assert [e.unit for e in fresh.scan()] == [UNIT_B]
