"""退回单: one printable slip per unit with errors, stale slips removed, unknown units on one slip."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from tests.factory import book, ev, score
from zg_excel.intake.raw import FileFailure
from zg_excel.outputs.returnslips import slip_issues, write_return_slips
from zg_excel.workspace import RETURNSLIPS_DIR as FOLDER
from zg_excel.workspace import UNKNOWN_UNIT, Workspace


def slip_filename(unit: str) -> str:
    return Workspace(Path("w")).returnslip_path(unit).name

A, B = "峡窝镇党委", "济源路街道党工委"


def result_with_errors():
    items = {
        f"{A}-3月.xlsx": book(A, [ev("好稿件", "采用", "郑州日报"),
                                 ev("日期写错", "采用", "郑州日报", date="2026.13.5"),
                                 ev("媒体不在目录", "采用", "人民网")]),
        f"{B}-1至9月.xlsx": book(B, [ev("全部正确", "采用", "河南日报")]),
        "不知道是谁的.xlsx": book("某某单位", [ev("x", "采用", "郑州日报")], fingerprint=False),
    }
    result = score(items)
    # a file of A that cannot be read at all: it goes on A's slip, by its file name
    from zg_excel.merge import score_books

    rows = [(name, b, dt.datetime(2026, 10, 1)) for name, b in items.items()]
    rows.append((f"{A}-4月.xlsx", FileFailure(f"/inbox/{A}-4月.xlsx", "corrupt", "文件已损坏或格式不完整，无法打开。"), None))
    result = score_books(rows, year=2026, as_of=dt.date(2026, 9, 30), rules=result.rules, roster=result.roster,
                         catalog=result.catalog)
    return result


def read(path):
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    return ws, list(ws.iter_rows(values_only=True))


def test_one_slip_per_unit_with_errors(tmp_path):
    out = tmp_path / "2026 组工 信息" / "output"
    result = result_with_errors()
    written = write_return_slips(result, out)
    names = sorted(p.name for p in written)
    assert names == sorted([slip_filename(A), slip_filename(UNKNOWN_UNIT)])
    assert all(p.parent == out / FOLDER for p in written)
    assert slip_filename(A) == f"退回单-{A}.xlsx"

    ws, rows = read(out / FOLDER / slip_filename(A))
    assert rows[0][0] == f"关于{A}报送文件问题的退回单"
    assert "2026年1月至9月" in rows[1][0] and "问题共3处" in rows[1][0]
    assert "重新报送整个文件" in rows[2][0]
    assert rows[4] == ("文件", "工作表", "行", "列", "填写内容", "问题", "修改方法")
    body = [r for r in rows[5:] if r[0]]
    by_file = {(r[0], r[2] or None): r for r in body}
    bad_date = by_file[(f"{A}-3月.xlsx", 5)]
    assert bad_date[1] == "录用登记" and bad_date[3] == "录用日期" and bad_date[4] == "2026.13.5"
    assert "2026-03-05" in bad_date[6]
    unknown = by_file[(f"{A}-3月.xlsx", 6)]
    assert "人民网" in unknown[5] and "下拉列表" in unknown[6]  # a fix the unit can do itself
    broken = by_file[(f"{A}-4月.xlsx", None)]
    assert "损坏" in broken[5] and "另存为" in broken[6]
    # print-ready: A4 landscape, one page wide, header row repeated
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1)  # 1 = default
    assert ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows.replace("$", "") == "5:5"

    ws, rows = read(out / FOLDER / slip_filename(UNKNOWN_UNIT))
    assert "未能确定填报单位" in rows[0][0] and "不知道是谁的.xlsx" in rows[1][0]
    assert any(r[0] == "不知道是谁的.xlsx" and "本单位的模板" in (r[6] or "") for r in rows[5:])


def test_stale_slips_are_removed_and_nothing_else(tmp_path):
    out = tmp_path / "output"
    folder = out / FOLDER
    folder.mkdir(parents=True)
    (folder / slip_filename(B)).write_bytes(b"old")  # B has no errors any more
    (folder / "退回单-说明.docx").write_bytes(b"keep")
    (folder / "备忘.txt").write_text("keep", encoding="utf-8")
    write_return_slips(result_with_errors(), out)
    left = sorted(p.name for p in folder.iterdir())
    assert slip_filename(B) not in left
    assert "退回单-说明.docx" in left and "备忘.txt" in left and slip_filename(A) in left
    assert not [p for p in folder.iterdir() if p.name.startswith(".~")]  # no temporary files left


def test_no_errors_no_slips(tmp_path):
    result = score({f"{B}.xlsx": book(B, [ev("全部正确", "采用", "河南日报")])})
    assert write_return_slips(result, tmp_path) == []


def test_superseded_files_are_not_sent_back():
    old = book(A, [ev("日期写错", "采用", "郑州日报", date="2026.3.45"), ev("x", "采用", "郑州日报")],
               saved=dt.datetime(2026, 4, 1))
    new = book(A, [ev("x", "采用", "郑州日报"), ev("改好了", "采用", "郑州日报", date="2026-03-15")],
               saved=dt.datetime(2026, 5, 1))
    result = score({"a-旧.xlsx": old, "a-新.xlsx": new})
    assert any(r.superseded_by for r in result.returns)
    assert slip_issues(result) == {}


def test_text_is_inert(tmp_path):
    """A value like =HYPERLINK(...) typed by a unit is written as text, never as a formula."""
    result = score({f"{A}.xlsx": book(A, [ev("t", "采用", "=HYPERLINK(\"http://x\")")])})
    [path] = write_return_slips(result, tmp_path)
    wb = openpyxl.load_workbook(path)
    values = [c.value for row in wb.worksheets[0].iter_rows() for c in row if c.value]
    assert any(isinstance(v, str) and v.startswith("=HYPERLINK") for v in values)
    assert all(c.data_type != "f" for row in wb.worksheets[0].iter_rows() for c in row)


@pytest.mark.slow
def test_libreoffice_prints_a_slip_on_one_page_width(tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        pytest.skip("LibreOffice not installed")
    [path, *_] = write_return_slips(result_with_errors(), tmp_path)
    done = subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                           "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                          capture_output=True, timeout=180)
    pdf = tmp_path / (path.stem + ".pdf")
    assert done.returncode == 0 and pdf.is_file(), done.stderr
    assert pdf.read_bytes().count(b"/Type /Page\n") + pdf.read_bytes().count(b"/Type/Page") >= 1
