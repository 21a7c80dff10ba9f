"""Sniffing and in-process reading of odd and hostile files (tests/hostile.py)."""

from __future__ import annotations

import datetime as dt
import os
import re
import time

import pytest

from tests import hostile as H
from zg_excel.intake.raw import FileFailure, IntakeLimits, RawBook
from zg_excel.intake.readers import ooxml, read_book
from zg_excel.intake.sniff import biff_has_filepass, sniff_bytes

LIMITS = IntakeLimits()


def book(path: str, limits: IntakeLimits = LIMITS) -> RawBook:
    r = read_book(path, limits)
    assert isinstance(r, RawBook), r
    return r


def fail(path: str, code: str, limits: IntakeLimits = LIMITS) -> FileFailure:
    r = read_book(path, limits)
    assert isinstance(r, FileFailure), r
    assert r.code == code, r
    assert re.search("[\u4e00-\u9fff]", r.message), r.message  # a Chinese message for the unit
    return r


# ----------------------------------------------------------------- sniffing ---

def _sniff(path: str):
    """What the readers and the web page do with a file: sniff its bytes under its name."""
    with open(path, "rb") as fh:
        return sniff_bytes(fh.read(), path)


@pytest.mark.parametrize("maker, name, kind", [
    (H.plain_return, "a.xlsx", "xlsx"),
    (H.plain_return, "a_renamed.xls", "xlsx"),
    (lambda p: H.write_xlsx(p, [H.Sheet("S", [[1]])], macro=True), "m.xlsm", "xlsm"),
    (H.ods_file, "a.ods", "ods"),
    (H.xls_file, "a.xls", "xls"),
    (H.xls_file, "wps.et", "xls"),
    (H.xls_file, "xls_named.xlsx", "xls"),
    (H.biff2_raw, "old.xls", "biff"),
    (H.encrypted_xlsx, "enc.xlsx", "encrypted"),
    (H.cfb_encrypted_package, "enc.xlsb", "encrypted"),
    (lambda p: H.xls_file(p, filepass=True), "pw.xls", "encrypted"),
    (lambda p: H.ods_file(p, encrypted=True), "pw.ods", "encrypted"),
    (H.numbers_like, "a.numbers", "numbers"),
    (H.html_table, "web.xls", "html"),
    (H.spreadsheetml_2003, "x2003.xls", "html"),
    (H.csv_file, "c.xlsx", "text"),
    (lambda p: H.csv_file(p, "gbk"), "gbk.xls", "text"),
    (H.plain_text, "note.xls", "text"),
    (H.empty_file, "zero.xlsx", "empty"),
    (H.lock_file, "~$a.xlsx", "lock_file"),
    (H.lock_file, "owner_without_tilde.xlsx", "lock_file"),
    (H.random_binary, "junk.xlsx", "not_spreadsheet"),
    (H.docx_like, "a.docx", "not_spreadsheet"),
    (H.word_doc, "a.doc", "not_spreadsheet"),
    (H.zip_of_files, "a.zip", "not_spreadsheet"),
])
def test_sniff_kinds(tmp_path, maker, name, kind):
    path = maker(str(tmp_path / name))
    assert _sniff(path).kind == kind


def test_sniff_does_not_trust_is_zipfile():
    # a CFB file that embeds a zip somewhere is still CFB
    data = H.CFB_SIG + b"\x00" * 600 + b"PK\x03\x04" + b"\x00" * 100
    assert sniff_bytes(data, "x.xls").kind in ("xls", "corrupt")


def test_sniff_zip_without_workbook_is_corrupt_when_named_as_workbook(tmp_path):
    p = H.zip_of_files(str(tmp_path / "report.xlsx"))
    assert _sniff(p).kind == "corrupt"


def test_sniff_markup_kinds(tmp_path):
    assert _sniff(H.html_table(str(tmp_path / "a.xls"))).detail == "html"
    assert _sniff(H.spreadsheetml_2003(str(tmp_path / "b.xls"))).detail == "spreadsheetml2003"


def test_filepass_scan():
    assert biff_has_filepass(H.biff8_stream([[1]], filepass=True))
    assert not biff_has_filepass(H.biff8_stream([[1]]))
    assert not biff_has_filepass(b"\x09\x08\x10")  # truncated: no crash


# ----------------------------------------------------------------- failures ---

def test_lock_file_skipped_without_opening(tmp_path):
    p = tmp_path / "~$汇总表.xlsx"
    p.write_bytes(b"not even an owner file")
    r = fail(str(p), "lock_file")
    assert r.skipped


def test_owner_file_shape_is_lock_file(tmp_path):
    r = fail(H.lock_file(str(tmp_path / "owner.xlsx")), "lock_file")
    assert r.skipped


def test_empty_file(tmp_path):
    r = fail(H.empty_file(str(tmp_path / "a.xlsx")), "empty")
    assert not r.skipped


def test_encrypted_xlsx_is_encrypted_not_corrupt(tmp_path):
    r = fail(H.encrypted_xlsx(str(tmp_path / "pw.xlsx")), "encrypted")
    assert r.message == "文件已加密（设置了打开密码），无法读取。请取消密码后重新报送。"


@pytest.mark.parametrize("maker", [
    H.cfb_encrypted_package,
    lambda p: H.xls_file(p, filepass=True),
    lambda p: H.ods_file(p, encrypted=True),
])
def test_other_encryptions(tmp_path, maker):
    fail(maker(str(tmp_path / "f.bin.xls")), "encrypted")


def test_structure_protection_is_not_encryption(tmp_path):
    b = book(H.protected_structure(str(tmp_path / "prot.xlsx")))
    assert b.sheets[0].rows[0] == H.HEADER


def test_numbers(tmp_path):
    r = fail(H.numbers_like(str(tmp_path / "a.numbers")), "numbers")
    assert "Numbers" in r.message


def test_html_renamed(tmp_path):
    r = fail(H.html_table(str(tmp_path / "export.xls")), "html")
    assert "网页" in r.message and ".xls" in r.message and "另存为" in r.message and ".xlsx" in r.message


def test_spreadsheetml_2003(tmp_path):
    r = fail(H.spreadsheetml_2003(str(tmp_path / "x.xls")), "html")
    assert "XML" in r.message and "另存为" in r.message


def test_plain_text_is_not_spreadsheet(tmp_path):
    r = fail(H.plain_text(str(tmp_path / "a.xls")), "not_spreadsheet")
    assert not r.skipped  # named like a return: an error the unit must fix


def test_stray_non_spreadsheet_is_skipped(tmp_path):
    assert fail(H.docx_like(str(tmp_path / "说明.docx")), "not_spreadsheet").skipped
    assert fail(H.random_binary(str(tmp_path / "a.bin")), "not_spreadsheet").skipped
    assert not fail(H.docx_like(str(tmp_path / "报表.xlsx")), "not_spreadsheet").skipped


def test_broken_zip_is_corrupt(tmp_path):
    p = tmp_path / "cut.xlsx"
    full = open(H.plain_return(str(tmp_path / "full.xlsx")), "rb").read()
    p.write_bytes(full[: len(full) // 2])
    r = fail(str(p), "corrupt")
    assert "另存为" in r.message


def test_unreadable_path(tmp_path):
    fail(str(tmp_path / "missing.xlsx"), "unreadable")


# ------------------------------------------------------------------ bounds ---

def test_file_size_limit(tmp_path):
    p = H.plain_return(str(tmp_path / "a.xlsx"), 2000)
    r = fail(p, "too_large", IntakeLimits(max_file_mb=0.01))
    assert "MB" in r.message


def test_zip_bomb_refused_before_parsing(tmp_path, monkeypatch):
    p = H.zip_bomb(str(tmp_path / "bomb.xlsx"), mb=64)
    assert os.path.getsize(p) < 1_000_000

    def boom(*a, **k):
        raise AssertionError("a parser was called on a zip bomb")

    monkeypatch.setattr(ooxml, "calamine_sheets", boom)
    monkeypatch.setattr(ooxml, "openpyxl_sheets", boom)
    t = time.perf_counter()
    r = fail(p, "too_large")
    assert time.perf_counter() - t < 2.0
    assert "压缩炸弹" in r.message


def test_total_uncompressed_limit(tmp_path):
    p = H.many_cells(str(tmp_path / "big.xlsx"), 2000, 20)
    r = fail(p, "too_large", IntakeLimits(max_uncompressed_mb=0.5, max_ratio=10_000))
    assert "解压后" in r.message


def test_lying_zip_sizes_are_corrupt_not_inflated(tmp_path):
    src = H.many_rows_bomb(str(tmp_path / "rows.xlsx"), mb=32)
    liar = H.lie_about_size(src, str(tmp_path / "liar.xlsx"))
    t = time.perf_counter()
    fail(liar, "corrupt")
    assert time.perf_counter() - t < 5.0


@pytest.mark.parametrize("maker", [H.xxe_billion_laughs, H.xxe_external])
def test_xml_entities_never_expanded(tmp_path, maker):
    r = fail(maker(str(tmp_path / "x.xlsx")), "corrupt")
    assert "实体" in r.message


def test_cell_cap(tmp_path):
    p = H.many_cells(str(tmp_path / "m.xlsx"), 100, 10)
    r = fail(p, "too_large", IntakeLimits(max_cells=500))
    assert "500" in r.message
    assert isinstance(read_book(p, IntakeLimits(max_cells=1000)), RawBook)


def test_far_stray_cell_refused_before_calamine(tmp_path, monkeypatch):
    # one value in XFD1048576 would make calamine allocate 17 G cells and abort
    p = H.far_stray_cell(str(tmp_path / "far.xlsx"))
    monkeypatch.setattr(ooxml, "calamine_sheets", lambda *a, **k: pytest.fail("calamine called"))
    r = fail(p, "too_large")
    assert "XFD1048576" in r.message


def test_shared_string_amplification_refused(tmp_path):
    big = "长" * 200_000
    sst = (H.XML_DECL + f'<sst xmlns="{H.NS_MAIN}" count="1" uniqueCount="1"><si><t>{big}</t></si></sst>')
    cells = "".join(f'<row r="{r}">' + "".join(f'<c r="{H.col_letters(c)}{r}" t="s"><v>0</v></c>' for c in range(1, 11))
                    + "</row>" for r in range(1, 301))
    xml = H.XML_DECL + f'<worksheet xmlns="{H.NS_MAIN}"><sheetData>{cells}</sheetData></worksheet>'
    p = H.write_xlsx(str(tmp_path / "amp.xlsx"), [H.Sheet("S", xml=xml)], sst=sst)
    r = fail(p, "too_large")
    assert "重复引用" in r.message


def test_one_long_shared_string_among_many_short_ones_reads(tmp_path):
    # the cheap bound (references x longest item) trips; the exact sum does not
    long_item = "长" * 100_000
    sst = (H.XML_DECL + f'<sst xmlns="{H.NS_MAIN}" count="2" uniqueCount="2"><si><t>短</t></si>'
           f"<si><t>{long_item}</t></si></sst>")
    cells = "".join(f'<row r="{r}">' + "".join(f'<c r="{H.col_letters(c)}{r}" t="s"><v>0</v></c>' for c in range(1, 21))
                    + "</row>" for r in range(1, 1001))
    cells += '<row r="1001"><c r="A1001" t="s"><v>1</v></c></row>'
    xml = H.XML_DECL + f'<worksheet xmlns="{H.NS_MAIN}"><sheetData>{cells}</sheetData></worksheet>'
    p = H.write_xlsx(str(tmp_path / "ok.xlsx"), [H.Sheet("S", xml=xml)], sst=sst)
    b = book(p, IntakeLimits(max_uncompressed_mb=50))
    assert len(b.sheets[0].rows) == 1001 and b.sheets[0].rows[1000][0] == long_item[:32767]


def test_long_string_truncated_with_note(tmp_path):
    b = book(H.long_string(str(tmp_path / "l.xlsx"), 40_000), IntakeLimits(max_string_chars=1000))
    assert len(b.sheets[0].rows[1][0]) == 1000
    assert any("A2" in n and "截断" in n for n in b.notes)


def _timed(path: str) -> tuple[float, RawBook]:
    t = time.perf_counter()
    b = book(path)
    return time.perf_counter() - t, b


def test_formatted_blank_rows_and_xfd_dimension_bounded(tmp_path):
    t_col, b_col = _timed(H.formatted_blank_rows(str(tmp_path / "rows.xlsx")))
    t_xfd, b_xfd = _timed(H.xfd_dimension(str(tmp_path / "xfd.xlsx")))
    for b in (b_col, b_xfd):
        assert b.sheets[0].rows == [["数据1", 1.0]]  # nothing padded to the claimed dimension
    # the claimed width must not matter (openpyxl read-only: 7.8 s vs 55 s)
    assert t_xfd < 3 * t_col + 1.0
    assert t_col < 20 and t_xfd < 20  # hang guard


def test_wps_wrong_dimension_read_whole(tmp_path):
    b = book(H.wps_wrong_dimension(str(tmp_path / "wps.xlsx")))
    rows = b.sheets[0].rows
    assert len(rows) == 30 and len(rows[0]) == 5
    assert rows[29][4] == 290


# ---------------------------------------------------------------- contents ---

def test_plain_return_values_and_properties(tmp_path):
    b = book(H.plain_return(str(tmp_path / "r.xlsx"), 5))
    assert b.format == "xlsx"
    s = b.sheets[0]
    assert s.name == "报送" and not s.hidden
    assert s.rows[0] == ["单位", "标题", "报送日期", "字数"]
    assert s.rows[1][2] == dt.date(2024, 3, 2) and s.rows[1][3] == 801
    assert len(s.rows) == 6
    assert b.saved_time == dt.datetime(2024, 3, 5, 8, 30, tzinfo=dt.timezone.utc)
    assert b.properties == {"单位": "峡窝镇", "版本": "1"}


def test_grid_origin_is_a1(tmp_path):
    rows = [[None, None, None], [None, None, None], [None, None, "C3"], [None, "B4", None]]
    b = book(H.write_xlsx(str(tmp_path / "o.xlsx"), [H.Sheet("S", rows)]))
    g = b.sheets[0].rows
    assert g[2][2] == "C3" and g[3][1] == "B4"
    assert g[0] == [None, None, None]
    assert all(len(r) == 3 for r in g)


def test_trailing_empty_rows_dropped(tmp_path):
    rows = [["a"], ["b"]]
    b = book(H.write_xlsx(str(tmp_path / "t.xlsx"), [H.Sheet("S", rows, extra_rows_xml='<row r="50" s="1" customFormat="1"/>')]))
    assert b.sheets[0].rows == [["a"], ["b"]]


def test_hidden_rows_columns_and_sheets(tmp_path):
    b = book(H.hidden_things(str(tmp_path / "h.xlsx")))
    main, hid, very = b.sheets
    assert main.hidden_rows == {3, 5} and main.hidden_cols == {2} and not main.hidden
    assert hid.hidden and very.hidden
    assert hid.rows == [["秘密", 1]]


def test_hidden_rows_clipped_to_grid(tmp_path):
    # "hide every unused row" must not cost an entry per row of the sheet
    below = "".join(f'<row r="{r}" hidden="1"/>' for r in range(13, 20_000))
    p = H.write_xlsx(str(tmp_path / "h.xlsx"), [H.Sheet("S", [["a"]] * 12, hidden_rows={11}, extra_rows_xml=below)])
    assert book(p).sheets[0].hidden_rows == {11}


def test_formulas_without_cached_value(tmp_path):
    b = book(H.formulas_without_value(str(tmp_path / "f.xlsx")))
    s = b.sheets[0]
    assert s.formulas_without_value == {(2, 3): "=B2*2", (5, 2): "=SUM(B2:B4)", (5, 3): "=SUM(C2:C4)"}
    assert s.rows[2][2] == 6 and s.rows[3][2] == "多"  # cached values kept


def test_rows_and_cells_without_r_attributes(tmp_path):
    b = book(H.no_row_numbers(str(tmp_path / "n.xlsx")))
    s = b.sheets[0]
    assert s.rows == [["h1", "h2"], [1, None], [3, 4]]
    assert s.hidden_rows == {2}
    assert s.formulas_without_value == {(2, 2): "=A2*2"}


def test_prefixed_namespace(tmp_path):
    s = book(H.prefixed_namespace(str(tmp_path / "p.xlsx"))).sheets[0]
    assert s.rows == [["k"], [5]]
    assert s.hidden_rows == {2}
    assert s.formulas_without_value == {(1, 2): "=1+1"}


def test_merged_header_cells(tmp_path):
    s = book(H.merged_header(str(tmp_path / "m.xlsx"))).sheets[0]
    assert sorted(s.merged) == [(1, 1, 1, 4), (2, 1, 3, 1), (2, 2, 2, 3), (2, 4, 3, 4)]
    assert s.rows[0][0] == "2024年第一季度信息报送表" and s.rows[0][1] is None


def test_error_cells_stay_strings(tmp_path):
    s = book(H.error_cells(str(tmp_path / "e.xlsx"))).sheets[0]
    assert s.rows[1][1] == "#DIV/0!" and s.rows[2][1] == "#VALUE!"
    assert s.rows[3][2] == "#N/A"  # outside calamine's range: the grid grows to hold it


def test_csv_utf8_and_gbk(tmp_path):
    for enc, name in (("utf-8-sig", "c.xlsx"), ("gbk", "报表.xls"), ("gb18030", "g.csv")):
        b = book(H.csv_file(str(tmp_path / name), enc))
        assert b.format == "csv"
        s = b.sheets[0]
        assert s.name == os.path.splitext(name)[0]
        assert s.rows[0] == ["单位", "标题", "字数"]
        assert s.rows[2] == ["第二党支部", "含,逗号", "900"]
        assert s.rows[3][0] == "=1+2"  # text, never a formula


def test_utf16_tab_separated(tmp_path):
    b = book(H.csv_file(str(tmp_path / "t.xls"), "utf-16", delimiter="\t"))
    assert b.sheets[0].rows[2] == ["第二党支部", "含，逗号", "900"]


def test_ods(tmp_path):
    b = book(H.ods_file(str(tmp_path / "a.ods")))
    assert b.format == "ods"
    assert b.sheets[0].rows == [["单位", "数量"], ["甲", 3]]
    assert b.properties == {"单位": "峡窝镇"}
    assert b.saved_time is not None and b.saved_time.year == 2024


def test_xls_and_raw_biff(tmp_path):
    b = book(H.xls_file(str(tmp_path / "a.xls"), hidden=True))
    assert b.format == "xls"
    assert b.sheets[0].rows == [["单位", "数量"], ["甲", 1], ["乙", 2.5]]
    assert b.sheets[0].hidden
    b2 = book(H.biff2_raw(str(tmp_path / "old.xls")))
    assert b2.format == "xls" and b2.sheets[0].rows == [[42, "abc"]]


def test_xls_error_values_stay_strings(tmp_path):
    rows = [["a", "b"], [1, H.Err("#DIV/0!")], [2, H.F("=1", H.Err("#N/A"))]]
    b = book(H.xls_file(str(tmp_path / "e.xls"), rows))
    assert b.sheets[0].rows == [["a", "b"], [1, "#DIV/0!"], [2, "#N/A"]]


def test_xls_named_xlsx_and_back(tmp_path):
    assert book(H.xls_file(str(tmp_path / "really_xls.xlsx"))).format == "xls"
    assert book(H.plain_return(str(tmp_path / "really_xlsx.xls"))).format == "xlsx"
