"""Review of issues 15/16: proof files uploaded on the unit page, the refusal page of another unit's
return, and the signed parse cache (a tampered cache file is never unpickled)."""

from __future__ import annotations

import datetime as dt
import pickle
import shutil

import openpyxl
import pytest

from tests.serve_kit import AS_OF, UNIT_A, UNIT_B, YEAR, good_return, make_workdir
from tests.test_serve_security import Site
from zg_excel.serve.store import BookCache, Desk


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = make_workdir(tmp_path_factory.mktemp("files") / "w")
    d = root.parent
    return {"good_a": good_return(root, UNIT_A, d / "good_a.xlsx"),
            "good_b": good_return(root, UNIT_B, d / "good_b.xlsx", title="乙")}


@pytest.fixture
def site(tmp_path):
    return Site(make_workdir(tmp_path / "w"))


# ------------------------------------------------------------------ the parse cache


class Boom:
    """Unpickling this runs code: a tampered cache file must never get that far."""

    def __reduce__(self):
        return (_exploded, ())


EXPLODED: list[int] = []


def _exploded():
    EXPLODED.append(1)
    return "exploded"


def test_a_tampered_cache_file_is_ignored_and_the_return_read_again(site, files):
    shutil.copy(files["good_b"], site.root / "inbox" / "乙.xlsx")
    [entry] = site.desk.scan()
    cached = site.root / "网页报送" / ".cache" / f"{entry.sha}.pickle"
    assert cached.exists()
    blob = cached.read_bytes()
    assert blob[32:33] == b"\x80" and blob[:1] != b"\x80"  # a 32-byte signature, then the pickle
    evil = pickle.dumps(Boom())
    for tampered in (evil,  # an unsigned file
                     blob[:32] + evil,  # a signature taken from another file
                     blob[:-1] + bytes([blob[-1] ^ 1])):  # one byte changed
        cached.write_bytes(tampered)
        fresh = Desk(site.root, site.settings, year=YEAR, as_of=AS_OF)  # a restart: memory empty
        [e] = fresh.scan()
        assert e.unit == UNIT_B  # read again from the return
        assert EXPLODED == []
        assert fresh.cache.get(e.sha).__class__.__name__ == "RawBook"
        assert cached.read_bytes() != tampered  # rewritten, signed
    # the rewritten file is loaded by the next restart without reading the inbox again
    from zg_excel.intake import worker

    real = worker.read_books
    try:
        worker.read_books = lambda *a, **k: (_ for _ in ()).throw(AssertionError("re-read"))
        again = Desk(site.root, site.settings, year=YEAR, as_of=AS_OF)
        assert [e.unit for e in again.scan()] == [UNIT_B]
    finally:
        worker.read_books = real


def test_without_the_servers_secret_nothing_is_read_from_disk(tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / ("0" * 64 + ".pickle")).write_bytes(pickle.dumps(Boom()))
    cache = BookCache(folder, key=lambda: b"")
    assert cache.get("0" * 64) is None and EXPLODED == []
    other = BookCache(folder, key=lambda: b"k" * 32)
    assert other.get("0" * 64) is None and EXPLODED == []


# ------------------------------------------------------------------ another unit's return


def test_another_units_return_is_refused_with_only_why_and_what_to_do(site, files):
    r = site.upload(UNIT_A, [(files["good_b"], "乙单位八月.xlsx")])
    assert r.status_code == 200 and site.inbox_files() == []
    text = r.text
    body = text[text.index("<main>"):text.index("上传报表")]
    assert "未保存" in body and f"这个文件是“{UNIT_B}”的报表" in body and UNIT_A in body  # both units named
    assert f"请使用下发给本单位（{UNIT_A}）的模板" in body and "用自己的链接上传" in body  # what to do
    for wrong in ("已按模板标识计入", "计入“", "网页报送-", "涉及月份", "无日期", "填报单位：", "录用登记", "积分"):
        assert wrong not in body, wrong
    [audit] = site.audit()
    assert audit["result"] == "refused" and audit["stored"] == ""


# ------------------------------------------------------------------ what a non-spreadsheet is called


def test_pdf_image_and_word_are_named_for_what_they_are(tmp_path):
    from tests.test_ledger import PDF, png
    from zg_excel.intake.raw import IntakeLimits
    from zg_excel.intake.readers import read_book
    from zg_excel.intake.sniff import sniff_bytes

    assert sniff_bytes(PDF, "x.xlsx").detail == "pdf" and sniff_bytes(png(), "x").detail == "image"
    assert sniff_bytes(b"BM,name\n1,2\n" * 3, "a.csv").kind == "text"  # a CSV starting with BM stays text
    for name, data, what in (("x.pdf", PDF, "PDF 文件"), ("y.png", png(), "图片")):
        (tmp_path / name).write_bytes(data)
        got = read_book(str(tmp_path / name), IntakeLimits())
        assert got.code == "not_spreadsheet" and f"（{what}）" in got.message and "纯文本" not in got.message


# ------------------------------------------------------------------ 台帐 proof files uploaded on the unit page


def _return_naming(site, out, proof_name: str):
    from tests.fill import fill_return
    from tests.serve_kit import template_for

    events = [{"稿件标题": "有证明的稿件", "录用形式": "采用", "媒体名称": "郑州日报", "录用日期": dt.date(YEAR, 8, 5),
               "证明材料": proof_name},
              {"稿件标题": "另一篇", "录用形式": "采用", "媒体名称": "郑州日报", "录用日期": dt.date(YEAR, 8, 6)}]
    return fill_return(template_for(site.root, UNIT_A), out, events=events, saved=dt.datetime(YEAR, 9, 2, 9, 0))


def _section(text: str, name: str) -> str:
    start = text.index(f". {name}</h2>")
    return text[start:text.index("</section>", start)]


def test_a_proof_file_uploaded_beside_the_return_is_matched_by_merge(site, tmp_path):
    from tests.test_ledger import PDF
    from zg_excel.serve.store import run_merge
    from zg_excel.workspace import Workspace

    page = site.client.get(site.path(UNIT_A)).text
    assert ".pdf" in page and ".png" in page and ".docx" in page  # the file input accepts proof files
    ret = _return_naming(site, tmp_path / "八月.xlsx", "x.pdf")
    r = site.upload(UNIT_A, [(ret, "八月.xlsx"), (PDF, "x.pdf")])
    assert "2 个已保存，0 个未保存" in r.text
    proof = _section(r.text, "x.pdf")
    assert "已收到台帐证明材料（PDF），保存为：台帐/x.pdf" in proof
    assert "第4行“有证明的稿件”" in proof or "“有证明的稿件”" in proof
    assert "另一篇" not in proof
    assert f"{UNIT_A}/台帐/x.pdf" in site.inbox_files()
    audit = {a["name"]: a for a in site.audit()}
    assert audit["x.pdf"]["result"] == "accepted" and audit["x.pdf"]["stored"] == f"{UNIT_A}/台帐/x.pdf"
    assert audit["x.pdf"]["kind"] == "台帐证明材料" and audit["x.pdf"]["sha256"]
    # the unit page lists it
    assert "台帐/x.pdf" in site.client.get(site.path(UNIT_A)).text

    # the merge counts it as the unit's proof file and matches the row
    result, _ = run_merge(site.root, year=YEAR, as_of=AS_OF)
    row = next(e for e in result.events if e.title == "有证明的稿件")
    proof_of = result.ledger.of(row)
    assert [f.relpath for f in proof_of.usable_files] == [f"{UNIT_A}/台帐/x.pdf"]
    assert [f.status for f in result.files if f.relpath.endswith("x.pdf")] == ["台帐材料"]
    assert not [i for i in result.issues if i.code == "ledger_missing" and i.row == row.line]
    assert not [i for i in result.issues if i.code == "not_spreadsheet"]
    wb = openpyxl.load_workbook(Workspace(site.root).summary_path(YEAR))
    ws = wb["台帐"]
    head = [c.value for c in ws[3]]
    col = head.index("台帐证明")
    shown = {r[2].value: r[col].value for r in ws.iter_rows(min_row=4) if r[2].value}
    assert shown["有证明的稿件"].endswith("有证明的稿件.pdf") and shown["另一篇"] == "缺"


def test_proof_uploaded_again_is_numbered_and_one_named_by_no_row_says_so(site, tmp_path):
    from tests.test_ledger import PDF, png

    site.upload(UNIT_A, [(_return_naming(site, tmp_path / "八月.xlsx", "x.pdf"), "八月.xlsx")])
    site.upload(UNIT_A, [(PDF, "x.pdf")])
    r = site.upload(UNIT_A, [(PDF + b"%2", "/home/me/x.pdf"), (png(), "../../截图 .png")])
    stored = site.inbox_files()
    assert f"{UNIT_A}/台帐/x.pdf" in stored and f"{UNIT_A}/台帐/x（2）.pdf" in stored  # never overwritten
    assert f"{UNIT_A}/台帐/截图 .png" in stored
    assert (site.root / "inbox" / UNIT_A / "台帐" / "x.pdf").read_bytes() == PDF
    assert "没有哪一行的“证明材料”填写了“截图 .png”" in _section(r.text, "截图 .png")


def test_a_proof_before_any_return_waits_for_it(site):
    from tests.test_ledger import PDF

    r = site.upload(UNIT_A, [(PDF, "x.pdf")])
    assert "已收到台帐证明材料" in r.text and "还没有收到本单位的报表" in r.text


def test_anything_else_or_too_large_is_refused_and_nothing_stored(site):
    import io
    import zipfile

    from tests.test_ledger import PDF

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", "x")
    exe = b"MZ\x90\x00" + b"\x00" * 200
    rules = site.root / "rules.toml"
    text = rules.read_text(encoding="utf-8")
    assert "max_proof_mb = 50" in text
    rules.write_text(text.replace("max_proof_mb = 50", "max_proof_mb = 0.001"), encoding="utf-8")
    small = Site(site.root)  # the server restarted with the new rules
    r = small.upload(UNIT_A, [(exe, "x.exe"), (buf.getvalue(), "证明.zip"), (PDF + b"%" * 2000, "大.pdf")])
    assert "0 个已保存，3 个未保存" in r.text
    assert "不是台帐证明材料" in _section(r.text, "x.exe") and "不是台帐证明材料" in _section(r.text, "证明.zip")
    assert "台帐证明材料过大" in _section(r.text, "大.pdf") and "上限 0.001 MB" in r.text
    assert small.inbox_files() == []
    assert [a["result"] for a in small.audit()] == ["refused"] * 3
