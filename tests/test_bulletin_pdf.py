"""The 通报.docx as a reader sees it: rendered to PDF by LibreOffice, its text read back with pdftotext.

Three runs (the samples at 30 September with rank changes, the samples' year-end run, and a district
with long unit names and three-digit points) and one table of four-digit decimals: every number of
the attachment table must come back whole (a number split over two lines of its cell comes back as
two tokens), the table must keep within the page, and no English word may reach the reader.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import copy_samples
from tests.factory import YEAR, book, ev
from zg_excel.outputs import bulletin as B
from zg_excel.outputs.docx_bulletin import write_bulletin_docx
from zg_excel.previous import previous_standings
from zg_excel.workspace import default_text

pytestmark = pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                                reason="未安装 LibreOffice（soffice）或 poppler-utils（pdftotext），无法检查通报 PDF")

ISSUED = dt.date(2026, 10, 8)
NUMBER = re.compile(r"\d+(?:\.\d+)?%?")
LONG_NAMES = {
    "镇街": ["郑州市上街区峡窝镇党委员会（含原马固村片区）", "郑州市上街区济源路街道党工委", "郑州市上街区中心路街道党工委",
             "郑州市上街区新安路街道党工委"],
    "其他党工委": ["中共郑州市上街区非公有制经济组织和社会组织工作委员会", "郑州市上街区卫生健康系统党委",
                   "郑州市上街区区直机关工作委员会"],
    "科室": ["信息调研科", "干部监督科", "组织科"],
}


def _long_names_result():
    """Long unit names, three-digit totals (中央级 adoptions ×3) and 科室 credit with decimals."""
    from zg_excel.merge import score_books
    from zg_excel.roster import Roster, Unit, load_catalog
    from zg_excel.rules import load_rules

    rules = load_rules()
    units = [Unit(name=n, category=c, order=i)
             for i, (c, n) in enumerate((c, n) for c, names in LONG_NAMES.items() for n in names)]
    roster = Roster(units=units, source="测试名册")
    items = []
    for k, u in enumerate(units):
        events = [ev(f"{u.name}稿{i}", "采用", "人民日报", f"2026-0{1 + i % 8}-05", 字数=1500)
                  for i in range(1 + k % 4)]
        events += [ev(f"{u.name}区稿{i}", "采用", "上街区党建网", "2026-03-05", 经对口处室="干部监督科")
                   for i in range(k % 3)]
        items.append((f"{u.name}.xlsx", book(u.name, events), dt.datetime(YEAR, 10, 1)))
    result = score_books(items, year=YEAR, as_of=dt.date(YEAR, 9, 30), rules=rules, roster=roster,
                         catalog=load_catalog(None, rules))
    result.previous = None
    return result


def _sample_result(workdir: Path, as_of: dt.date):
    from zg_excel.merge import merge
    from zg_excel.workspace import init_workspace

    init_workspace(workdir)
    copy_samples(workdir / "inbox")
    result = merge(workdir, year=2026, as_of=as_of)
    result = copy.copy(result)
    result.previous = previous_standings(result)
    return result


def _wide_decimals_attachment() -> dict:
    header = ["排名", "较上期", "单位", "报送条数", "本单位积分", "对口处室积分", "总积分", "序时目标", "完成进度"]
    rows = [["镇街"] + [""] * 8]
    for i in range(1, 13):
        rows.append([str(i), f"↑{i}", f"第{i}个名称很长很长的街道党工委员会", str(100 + i), f"{1000 + i * 11.25:.2f}",
                     f"{i * 3.75:.2f}", f"{1000 + i * 15:.2f}", "1037.5", f"{100 + i * 7}%"])
    return {"title": "2026年第三季度组工信息考核积分排名表", "header": header, "rows": rows, "col_widths_mm": None}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """name -> (attachment dict, PDF text) for each case, all converted by one LibreOffice run."""
    out = tmp_path_factory.mktemp("bulletin_pdf")
    cases = {
        "sample": _sample_result(out / "q3", dt.date(2026, 9, 30)),
        "year_end": _sample_result(out / "ye", dt.date(2026, 12, 31)),
        "long_names": _long_names_result(),
    }
    docs, attachments = [], {}
    for name, result in cases.items():
        text = B.render_text(result, default_text("通报.txt.j2"), issued=ISSUED)
        path = out / f"{name}.docx"
        B.write_bulletin(result, text, out / f"{name}.txt", path)
        docs.append(path)
        attachments[name] = B.attachment_table(result)
    text = B.render_text(cases["sample"], default_text("通报.txt.j2"), issued=ISSUED)
    attachments["decimals"] = _wide_decimals_attachment()
    write_bulletin_docx(text, out / "decimals.docx", attachment=attachments["decimals"])
    docs.append(out / "decimals.docx")
    profile = out / "lo_profile"
    cmd = ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
           "--convert-to", "pdf", "--outdir", str(out), *map(str, docs)]
    subprocess.run(cmd, capture_output=True, timeout=300, check=False, env={**os.environ, "HOME": str(out)})
    texts = {}
    for path in docs:
        pdf = path.with_suffix(".pdf")
        assert pdf.exists(), f"LibreOffice 未生成 {pdf.name}"
        got = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True)
        texts[path.stem] = got.stdout.decode("utf-8")
    return {name: (attachments[name], texts[name], cases.get(name)) for name in attachments}


def _table_region(pdf_text: str, title: str) -> str:
    """The PDF text from the attachment title on, without the title and the page numbers."""
    spaced = re.sub(r"\s+", "", title)
    lines = pdf_text.splitlines()
    start = max(i for i, line in enumerate(lines) if re.sub(r"\s+", "", line) == spaced)
    body = [line for line in lines[start + 1:] if not re.fullmatch(r"\s*—\s*\d+\s*—\s*", line.replace("\f", ""))]
    return "\n".join(body)


@pytest.mark.parametrize("name", ["sample", "year_end", "long_names", "decimals"])
def test_every_number_of_the_attachment_table_is_on_one_line(rendered, name):
    att, pdf_text, _ = rendered[name]
    region = _table_region(pdf_text, att["title"])
    expected = Counter(tok for row in att["rows"] for cell in row for tok in NUMBER.findall(cell))
    got = Counter(NUMBER.findall(region))
    assert got == expected, (got - expected, expected - got, region)
    # the long values are there whole: e.g. 1056.25 never comes back as "1056." + "25"
    assert not re.search(r"\d\.\s*\n|\n\s*\.\d", region)


@pytest.mark.parametrize("name", ["sample", "year_end", "long_names", "decimals"])
def test_no_english_reaches_the_reader(rendered, name):
    _, pdf_text, _ = rendered[name]
    assert not re.findall(r"[A-Za-z_]{2,}", pdf_text)


def test_year_end_pdf_has_one_nian(rendered):
    att, pdf_text, _ = rendered["year_end"]
    flat = re.sub(r"\s+", "", pdf_text)
    assert "2026年度组工信息考核积分排名表" in flat and "年年" not in flat
    assert att["title"] == "2026年度组工信息考核积分排名表" and "年度目标" in att["header"]


def test_long_names_fit_the_page(rendered):
    """Three-digit totals and long names: every unit is in the table, the names wrapped, not the numbers."""
    att, pdf_text, result = rendered["long_names"]
    assert max(len(result.points_text(t.total)) for t in result.units) >= 3
    region = re.sub(r"\s+", "", _table_region(pdf_text, att["title"]))
    for names in LONG_NAMES.values():
        for n in names:
            assert n in region or all(part in region for part in (n[:6], n[-4:])), n
