"""Review of issues 15/16: proof files uploaded on the unit page, the refusal page of another unit's
return, and the signed parse cache (a tampered cache file is never unpickled)."""

from __future__ import annotations

import pickle
import shutil

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
    with pytest.raises(Exception):
        pickle.loads(blob)  # signed: not a bare pickle any more
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
    import zg_excel.intake.worker as worker

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
