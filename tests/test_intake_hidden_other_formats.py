"""Hidden rows and columns are found in .ods and .xls returns too (not only in .xlsx).

The files are made the way units make them: a workbook saved by LibreOffice as .ods and as
Excel 97-2003 .xls, from an .xlsx with row 5 and column C hidden.
"""

from __future__ import annotations

import subprocess
import uuid

import openpyxl
import pytest

from tests.helpers import tool as _tool
from zg_excel.intake.raw import IntakeLimits
from zg_excel.intake.readers import read_book
from zg_excel.intake.readers.hidden import apply_hidden, ods_hidden


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    soffice = _tool("soffice")
    d = tmp_path_factory.mktemp("hidden")
    src = d / "hidden.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "录用登记"
    for r in range(1, 12):
        ws.append([f"r{r}c{c}" for c in range(1, 6)])
    ws.row_dimensions[5].hidden = True
    ws.column_dimensions["C"].hidden = True
    wb.save(src)
    out = {}
    profile = d / "lo" / uuid.uuid4().hex
    for fmt, filt in (("ods", "ods"), ("xls", "xls:MS Excel 97")):
        done = subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless",
                               "--convert-to", filt, "--outdir", str(d), str(src)],
                              capture_output=True, text=True, timeout=240, check=False)
        path = d / f"hidden.{fmt}"
        assert done.returncode == 0 and path.is_file(), done.stderr
        out[fmt] = path
    return out


@pytest.mark.parametrize("fmt", ["ods", "xls"])
def test_hidden_row_and_column_are_found(converted, fmt):
    book = read_book(str(converted[fmt]), IntakeLimits())
    sheet = next(s for s in book.sheets if s.name == "录用登记")
    assert sheet.rows[4][0] == "r5c1"  # the hidden row is still read
    assert 5 in sheet.hidden_rows and sheet.hidden_rows <= {5}
    assert 3 in sheet.hidden_cols and sheet.hidden_cols <= {3}


def test_repeated_hidden_rows_stay_one_run_and_are_clipped(tmp_path):
    """LibreOffice writes 'a million hidden rows below the table' as one repeated row."""
    import zipfile

    from zg_excel.intake.raw import RawSheet

    t = 'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
    content = (f'<?xml version="1.0"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:'
               f'xmlns:office:1.0" {t}><office:body><office:spreadsheet><table:table table:name="S">'
               '<table:table-column table:number-columns-repeated="2"/>'
               '<table:table-column table:visibility="collapse" table:number-columns-repeated="16000"/>'
               '<table:table-row><table:table-cell/></table:table-row>'
               '<table:table-row table:visibility="filter" table:number-rows-repeated="2"/>'
               '<table:table-row/>'
               '<table:table-row table:visibility="collapse" table:number-rows-repeated="1048570"/>'
               '</table:table></office:spreadsheet></office:body></office:document-content>')
    path = tmp_path / "c.ods"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("content.xml", content)
    with zipfile.ZipFile(path) as zf:
        runs = ods_hidden(zf)
    assert runs == {"S": ([[2, 3], [5, 1048574]], [[3, 16002]])}
    sheet = RawSheet(name="S", rows=[[None] * 4 for _ in range(6)])
    apply_hidden([sheet], runs)
    assert sheet.hidden_rows == {2, 3, 5, 6} and sheet.hidden_cols == {3, 4}
