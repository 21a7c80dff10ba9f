"""The size refusal counts a sheet's real columns (issue 12, item 14).

A grid is refused when rows x columns would make calamine allocate too much; the
columns used to be assumed to be 26 whenever every column letter was single, so a
4-column return of 160,001 rows (640,004 cells, under the cell limit) was refused as
"延伸到 Z160001". A stray value far away is still refused before calamine sees it.
"""

from __future__ import annotations

import zipfile

import pytest

from tests import hostile as H
from zg_excel.intake.raw import FileFailure, IntakeLimits, RawBook
from zg_excel.intake.readers import ooxml, read_book
from zg_excel.intake.readers.scan import scan_sheet

ROWS = 160_001


def _tall_xlsx(path, n_rows: int, letters: str = "ABCD") -> str:
    """A plain n_rows x len(letters) workbook written as raw XML (fast, exact shape)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml",
                    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                    '<Default Extension="xml" ContentType="application/xml"/>'
                    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                    '</Types>')
        zf.writestr("_rels/.rels",
                    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
                    '</Relationships>')
        zf.writestr("xl/workbook.xml",
                    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
                    '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
        zf.writestr("xl/_rels/workbook.xml.rels",
                    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                    '</Relationships>')
        parts = ['<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>']
        for r in range(1, n_rows + 1):
            cells = "".join(f'<c r="{c}{r}"><v>{r}</v></c>' for c in letters)
            parts.append(f'<row r="{r}">{cells}</row>')
        parts.append("</sheetData></worksheet>")
        zf.writestr("xl/worksheets/sheet1.xml", "".join(parts))
    return str(path)


@pytest.fixture(scope="module")
def tall(tmp_path_factory):
    return _tall_xlsx(tmp_path_factory.mktemp("tall") / "四列160001行.xlsx", ROWS)


def test_scan_counts_single_letter_columns(tall):
    with zipfile.ZipFile(tall) as zf:
        scan = scan_sheet(zf, "xl/worksheets/sheet1.xml", IntakeLimits())
    assert (scan.max_row, scan.max_col) == (ROWS, 4)


def test_four_columns_of_160001_rows_are_read(tall):
    book = read_book(tall, IntakeLimits())
    assert isinstance(book, RawBook), book
    (sheet,) = book.sheets
    assert len(sheet.rows) == ROWS and len(sheet.rows[-1]) == 4
    assert sheet.rows[-1][3] == ROWS


@pytest.mark.parametrize("ref", ["D1048576", "Z160001", "XFD1048576"])
def test_far_stray_cell_is_still_refused(tmp_path, monkeypatch, ref):
    path = H.far_stray_cell(str(tmp_path / "far.xlsx"), ref)
    monkeypatch.setattr(ooxml, "calamine_sheets", lambda *a, **k: pytest.fail("calamine called"))
    got = read_book(path, IntakeLimits())
    assert isinstance(got, FileFailure) and got.code == "too_large", got
    assert ref in got.message and "远处" in got.message


def test_small_sheet_with_single_letters_is_not_taken_for_26_columns(tmp_path):
    path = _tall_xlsx(tmp_path / "small.xlsx", 5, letters="AC")
    with zipfile.ZipFile(path) as zf:
        assert scan_sheet(zf, "xl/worksheets/sheet1.xml", IntakeLimits()).max_col == 3
