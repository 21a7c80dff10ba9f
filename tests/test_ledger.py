"""Issue 16: the 台帐 — every 市级以上 adoption matched to its proof (file, link or 期号版面), notices for
the rows without, the renamed copies in output/台帐/<季度>/<单位>/ and their index, [ledger] proof_required."""

from __future__ import annotations

import datetime as dt
import zlib
from fractions import Fraction
from pathlib import Path

import openpyxl
import pytest

from tests.fill import fill_return
from zg_excel.ledger import LEDGER_FILE, MISSING, NOT_FOUND, sniff_proof
from zg_excel.merge import merge
from zg_excel.outputs.write import write_outputs
from zg_excel.result import SKIPPED
from zg_excel.schema import EVENTS, HEADER_ROW
from zg_excel.template import write_template
from zg_excel.workspace import Workspace, init_workspace

AS_OF = dt.date(2026, 9, 30)
TOWN, OTHER = "峡窝镇党委", "济源路街道党工委"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", (1).to_bytes(4, "big") * 2 + b"\x08\x00\x00\x00\x00")
            + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))


def row(title, outlet, date, **kw):
    return {"稿件标题": title, "录用形式": "采用", "媒体名称": outlet, "录用日期": date, "字数": 800, **kw}


TOWN_ROWS = [
    row("峡窝镇甲文件证明", "郑州日报", dt.date(2026, 8, 5), 证明材料="郑州日报0805.pdf"),
    row("峡窝镇乙只有链接", "郑州日报", dt.date(2026, 8, 6), 链接="https://zzrb.example.cn/a/1.html"),
    row("峡窝镇丙什么都没有", "郑州日报", dt.date(2026, 8, 7)),
    row("峡窝镇丁同一文件", "河南日报", dt.date(2026, 8, 8), 证明材料="郑州日报0805.PDF；截图.png", 期号版面="8月8日第3版"),
    row("峡窝镇戊区级有证明", "上街区党建网", dt.date(2026, 8, 9), 证明材料="区级.png"),
    row("峡窝镇己区级没证明", "上街区党建网", dt.date(2026, 8, 10)),
    row("峡窝镇庚文件在别单位", "郑州日报", dt.date(2026, 8, 11), 证明材料="别处.pdf"),
    row("峡窝镇辛太大", "郑州日报", dt.date(2026, 8, 12), 证明材料="太大.pdf"),
    row("峡窝镇壬不是证明类型", "郑州日报", dt.date(2026, 8, 13), 证明材料="假的.pdf"),
]


def build(tmp: Path, *, rules_extra: dict[str, str] | None = None) -> Path:
    root = tmp / "w"
    init_workspace(root)
    ws = Workspace(root)
    text = ws.rules_file.read_text(encoding="utf-8")
    for old, new in (rules_extra or {}).items():
        assert old in text
        text = text.replace(old, new)
    ws.rules_file.write_text(text, encoding="utf-8")
    rules, roster, catalog = ws.load()
    inbox = ws.inbox
    for unit, rows in ((TOWN, TOWN_ROWS), (OTHER, [row("济源路甲", "郑州日报", dt.date(2026, 7, 1), 链接="http://x.cn")])):
        tpl = tmp / f"tpl-{unit}.xlsx"
        write_template(tpl, unit=unit, year=2026, roster=roster, catalog=catalog, rules=rules)
        fill_return(tpl, inbox / unit / f"{unit}-三季度.xlsx", events=rows)
    town = inbox / TOWN
    (town / "郑州日报0805.pdf").write_bytes(PDF)
    (town / "截图.png").write_bytes(png())
    (town / "区级.png").write_bytes(png())
    (town / "未点名.png").write_bytes(png())
    (town / "太大.pdf").write_bytes(PDF + b"%" * 3000)
    (town / "假的.pdf").write_bytes(b"this is no pdf at all\n" * 10)
    (inbox / OTHER / "别处.pdf").write_bytes(PDF)
    (inbox / "lone.wps").write_bytes(b"\x00\x01binary stuff" * 20)
    (inbox / "矿山街道党工委").mkdir()  # a unit that sent only a document, no return
    (inbox / "矿山街道党工委" / "矿山街道党工委9月.wps").write_bytes(b"\x00\x01binary stuff" * 20)
    return root


@pytest.fixture(scope="module")
def merged(tmp_path_factory):
    root = build(tmp_path_factory.mktemp("ledger"), rules_extra={"max_proof_mb = 50": "max_proof_mb = 0.002"})
    result = merge(root, year=2026, as_of=AS_OF)
    write_outputs(result, Workspace(root).output, bulletin_template=Workspace(root).bulletin_template(), docx=False)
    return root, result


def _row(result, title):
    return next(e for e in result.events if e.title == title)


def _issues(result, code, title=None):
    out = [i for i in result.issues if i.code == code]
    if title is not None:
        line = _row(result, title).line
        out = [i for i in out if i.row == line and i.unit == TOWN]
    return out


def _folder(root: Path) -> Path:
    return Workspace(root).output / "台帐" / "2026年第三季度"


def test_sniff_by_magic_bytes_not_name():
    assert sniff_proof(PDF[:16], "a.pdf") == "PDF"
    assert sniff_proof(png()[:16], "a.jpg") == "图片"
    assert sniff_proof(b"not a pdf", "a.pdf") == ""
    assert sniff_proof(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 8, "a.wps") == "Word/WPS文档"
    assert sniff_proof(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 8, "a.xls") == ""


def test_proof_columns_read(merged):
    _, result = merged
    d = _row(result, "峡窝镇丁同一文件")
    assert d.proof_files == ("郑州日报0805.PDF", "截图.png")
    assert d.issue_page == "8月8日第3版"
    assert _row(result, "峡窝镇乙只有链接").link == "https://zzrb.example.cn/a/1.html"


def test_matching_file_copied_renamed(merged):
    root, result = merged
    a = _row(result, "峡窝镇甲文件证明")
    proof = result.ledger.of(a)
    assert [f.relpath for f in proof.usable_files] == [f"{TOWN}/郑州日报0805.pdf"]
    assert proof.found and not _issues(result, MISSING, "峡窝镇甲文件证明")
    copy = _folder(root) / TOWN / "2026-08-05-郑州日报-峡窝镇甲文件证明.pdf"
    assert copy.read_bytes() == PDF


def test_file_named_by_two_rows_copied_for_each(merged):
    root, result = merged
    d = _row(result, "峡窝镇丁同一文件")
    names = sorted(f.name for f in result.ledger.of(d).usable_files)
    assert names == ["截图.png", "郑州日报0805.pdf"]  # case-insensitive match of 郑州日报0805.PDF
    folder = _folder(root) / TOWN
    assert (folder / "2026-08-08-河南日报-峡窝镇丁同一文件.pdf").read_bytes() == PDF
    assert (folder / "2026-08-08-河南日报-峡窝镇丁同一文件.png").read_bytes() == png()
    assert (folder / "2026-08-05-郑州日报-峡窝镇甲文件证明.pdf").is_file()


def test_link_only_and_neither(merged):
    root, result = merged
    assert not _issues(result, MISSING, "峡窝镇乙只有链接")
    missing = _issues(result, MISSING, "峡窝镇丙什么都没有")
    assert len(missing) == 1 and missing[0].severity == "info"
    c = _row(result, "峡窝镇丙什么都没有")
    assert c.points == Fraction(5)  # a notice, never a change of points
    wb = openpyxl.load_workbook(Workspace(root).summary_path(2026))
    ws = wb["台帐"]
    head = [c.value for c in ws[3]]
    col = head.index("台帐证明")
    by_title = {r[2].value: r[col].value for r in ws.iter_rows(min_row=4) if r[2].value}
    assert by_title["峡窝镇丙什么都没有"] == "缺"
    assert by_title["峡窝镇乙只有链接"] == "https://zzrb.example.cn/a/1.html"
    assert by_title["峡窝镇甲文件证明"] == "2026-08-05-郑州日报-峡窝镇甲文件证明.pdf"
    link = next(r[col + 1].hyperlink for r in ws.iter_rows(min_row=4) if r[2].value == "峡窝镇甲文件证明")
    assert link.target.replace("\\", "/") == f"台帐/2026年第三季度/{TOWN}/2026-08-05-郑州日报-峡窝镇甲文件证明.pdf"


def test_file_in_wrong_units_folder_not_matched(merged):
    _, result = merged
    g = _row(result, "峡窝镇庚文件在别单位")
    assert not result.ledger.of(g).files
    assert _issues(result, NOT_FOUND, "峡窝镇庚文件在别单位")
    assert _issues(result, MISSING, "峡窝镇庚文件在别单位")
    other = next(f for f in result.ledger.files if f.name == "别处.pdf")
    assert other.unit == OTHER and not other.rows
    report = next(f for f in result.files if f.relpath == f"{OTHER}/别处.pdf")
    assert report.status == LEDGER_FILE


def test_district_rows_get_no_notice(merged):
    _, result = merged
    for title in ("峡窝镇戊区级有证明", "峡窝镇己区级没证明"):
        assert result.ledger.of(_row(result, title)) is None
        assert not _issues(result, MISSING, title) and not _issues(result, NOT_FOUND, title)


def test_oversized_and_wrong_type_listed_not_copied(merged):
    root, result = merged
    for title, name in (("峡窝镇辛太大", "太大.pdf"), ("峡窝镇壬不是证明类型", "假的.pdf")):
        f = next(f for f in result.ledger.files if f.name == name)
        assert not f.usable and f.problem
        assert _issues(result, MISSING, title)  # the file does not count as proof
        assert not any(p.name.endswith(title + ".pdf") for p in _folder(root).rglob("*"))
    index = openpyxl.load_workbook(_folder(root) / "台帐索引.xlsx")
    listed = {r[1].value: r[4].value for r in index["未列入台帐的材料"].iter_rows(min_row=2)}
    assert "超过上限" in listed[f"{TOWN}/太大.pdf"]
    assert "不是PDF" in listed[f"{TOWN}/假的.pdf"]
    assert f"{TOWN}/未点名.png" in listed and f"{OTHER}/别处.pdf" in listed


def test_proof_files_are_not_failed_returns_but_a_lone_file_is(merged):
    _, result = merged
    status = {f.relpath: f.status for f in result.files}
    assert status[f"{TOWN}/郑州日报0805.pdf"] == LEDGER_FILE
    assert status[f"{TOWN}/未点名.png"] == LEDGER_FILE
    assert status["lone.wps"] == SKIPPED
    only = "矿山街道党工委/矿山街道党工委9月.wps"
    assert status[only] != LEDGER_FILE
    assert only in result.unit("矿山街道党工委").received_non_spreadsheet
    proofs = {f.relpath for f in result.ledger.files}
    assert not any(i.file in proofs and i.code.startswith("not_") for i in result.issues)


def test_index_lists_every_row(merged):
    root, _ = merged
    ws = openpyxl.load_workbook(_folder(root) / "台帐索引.xlsx")["台帐索引"]
    titles = [r[2].value for r in ws.iter_rows(min_row=3)]
    assert titles.count("峡窝镇丁同一文件") == 2  # one line per copy
    assert "峡窝镇丙什么都没有" in titles and "峡窝镇戊区级有证明" not in titles


def test_proof_required_scores_zero_with_reason(tmp_path):
    root = build(tmp_path, rules_extra={"proof_required = false": "proof_required = true"})
    result = merge(root, year=2026, as_of=AS_OF)
    c = _row(result, "峡窝镇丙什么都没有")
    assert c.points == 0 and "缺少台帐证明材料" in c.explanation
    assert _row(result, "峡窝镇乙只有链接").points == Fraction(5)
    assert _row(result, "峡窝镇甲文件证明").points == Fraction(5)
    missing = _issues(result, MISSING, "峡窝镇丙什么都没有")
    assert missing[0].action == "按规定计0分"
    # the tally counts the zeroed rows as 0 (the decision comes before it)
    town = result.unit(TOWN)
    scored = sum(e.points for e in result.events if e.unit == TOWN and e.outcome == "scored")
    assert town.points == scored


def test_old_template_without_columns_read_as_before(tmp_path):
    root = tmp_path / "w"
    init_workspace(root)
    ws = Workspace(root)
    rules, roster, catalog = ws.load()
    tpl = tmp_path / "tpl.xlsx"
    write_template(tpl, unit=TOWN, year=2026, roster=roster, catalog=catalog, rules=rules)
    wb = openpyxl.load_workbook(tpl)
    sheet = wb[EVENTS]
    heads = [c.value for c in sheet[HEADER_ROW]]
    for name in ("证明材料", "链接", "期号版面"):
        assert name in heads
        sheet.delete_cols(heads.index(name) + 1)
        heads = [c.value for c in sheet[HEADER_ROW]]
    old = tmp_path / "old.xlsx"
    wb.save(old)
    fill_return(old, ws.inbox / "old.xlsx", events=[row("旧模板", "郑州日报", dt.date(2026, 8, 5))])
    result = merge(root, year=2026, as_of=AS_OF)
    e = _row(result, "旧模板")
    assert e.outcome == "scored" and e.points == Fraction(5)
    assert e.proof_files == () and e.link is None and e.issue_page is None
    assert not [i for i in result.issues if i.code == "missing_optional_column"]
    assert len(_issues(result, MISSING)) == 1


def test_notice_on_return_slip(merged, tmp_path):
    root, _ = merged
    assert not Workspace(root).returnslip_path(TOWN).exists()  # notices alone send nothing back
    root2 = build(tmp_path, rules_extra={"proof_required = false": "proof_required = true"})
    result2 = merge(root2, year=2026, as_of=AS_OF)
    ws = Workspace(root2)
    write_outputs(result2, ws.output, bulletin_template=ws.bulletin_template(), docx=False)
    rows = [[c.value for c in r] for r in openpyxl.load_workbook(ws.returnslip_path(TOWN)).active.iter_rows()]
    problems = [r[5] for r in rows[5:] if r[5]]
    assert sum("缺少台帐证明材料" in p for p in problems) == len(_issues(result2, MISSING)) > 0
    assert "按规定计0分" in rows[2][0]


def test_merge_ledger_zip(tmp_path):
    import zipfile

    from click.testing import CliRunner

    from zg_excel.cli import cli

    root = build(tmp_path)
    res = CliRunner().invoke(cli, ["merge", "-w", str(root), "--year", "2026", "--as-of", "2026-09-30", "-q",
                                   "--ledger-zip"])
    assert res.exit_code in (0, 1), res.output
    target = Workspace(root).ledger_dir / "2026年第三季度.zip"
    names = zipfile.ZipFile(target).namelist()
    assert "2026年第三季度/台帐索引.xlsx" in names
    assert f"2026年第三季度/{TOWN}/2026-08-05-郑州日报-峡窝镇甲文件证明.pdf" in names
