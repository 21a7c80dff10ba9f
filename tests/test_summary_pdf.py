"""The summary workbook as LibreOffice prints it: a 30-unit 排名总表 on one page, no header-only page,
no English key in a Chinese label of 计分口径, long unit names charted as horizontal bars (issue 13, items 13–15).

LibreOffice is installed where these tests run (``ZG_REQUIRE_TOOLS=1`` turns a skip into a failure).
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import uuid
import zipfile

import openpyxl
import pytest

from tests.factory import YEAR, book, ev
from tests.helpers import tool
from zg_excel.merge import score_books
from zg_excel.outputs import summary as S
from zg_excel.previous import previous_standings
from zg_excel.roster import Roster, Unit, load_catalog
from zg_excel.rules import load_rules

OUTLETS = ["郑州日报", "上街组工动态", "河南日报", "上街时讯"]
LONG = "区非公有制经济组织和社会组织党委第{}联合党支部"


def roster_of_30(rules) -> Roster:
    """30 units: 12 镇街, 10 其他党工委 with long names, 8 科室 (roster order interleaves nothing)."""
    units = []
    for i in range(12):
        units.append(Unit(name=f"第{i + 1}街道党工委", category="镇街"))
    for i in range(10):
        units.append(Unit(name=LONG.format(i + 1), category="其他党工委"))
    for i in range(8):
        units.append(Unit(name=f"第{i + 1}业务科", category="科室"))
    return Roster([Unit(u.name, u.category, order=i) for i, u in enumerate(units)], source="测试名册（30个单位）")


def result_of_30():
    rules = load_rules()
    roster = roster_of_30(rules)
    catalog = load_catalog(None, rules)
    items = []
    for n, u in enumerate(roster.units):
        events = [ev(f"{u.name}稿件{k}", "采用", OUTLETS[(n + k) % len(OUTLETS)], f"{YEAR}-{1 + (n + k) % 9:02d}-1{k}")
                  for k in range(n % 7)]
        items.append((f"{u.name}.xlsx", book(u.name, events), dt.datetime(YEAR, 10, 1)))
    result = score_books(items, year=YEAR, as_of=dt.date(YEAR, 9, 30), rules=rules, roster=roster, catalog=catalog)
    result.previous = previous_standings(result)
    return result


def to_pdf(path, out):
    profile = out / ("lo-" + uuid.uuid4().hex)
    done = subprocess.run([tool("soffice"), f"-env:UserInstallation={profile.as_uri()}", "--headless",
                           "--convert-to", "pdf", "--outdir", str(out), str(path)],
                          capture_output=True, text=True, timeout=300)
    target = out / (path.stem + ".pdf")
    assert done.returncode == 0 and target.is_file(), done.stderr
    return target


def page_texts(pdf) -> list[str]:
    info = subprocess.run([tool("pdfinfo"), str(pdf)], capture_output=True, text=True, timeout=60).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    return [subprocess.run([tool("pdftotext"), "-f", str(i), "-l", str(i), "-layout", str(pdf), "-"],
                           capture_output=True, text=True, timeout=60).stdout for i in range(1, pages + 1)]


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    result = result_of_30()
    out = tmp_path_factory.mktemp("pdf30")
    path = S.write_summary(result, out / "汇总表.xlsx")
    return result, path, page_texts(to_pdf(path, out))


def sheet_pages(pages: list[str], sheet: str) -> list[str]:
    """The pages whose footer names ``sheet`` (the footer's left part is the sheet name)."""
    return [p for p in pages if re.search(rf"^\s*{re.escape(sheet)}\s", p.strip().splitlines()[-1])]


def test_thirty_units_rank_on_one_page(printed):
    result, _, pages = printed
    assert len(result.units) == 30
    ranking = sheet_pages(pages, S.RANKING)
    assert len(ranking) == 1, [p[:200] for p in ranking]
    page = ranking[0]
    for t in result.units:
        assert t.unit[:8] in page, t.unit
    assert "合计" in page and "说明：总积分" in page


def test_no_page_holds_only_a_header(printed):
    """Every page has more than its page header, title rows and repeated table header: some data or a note."""
    _, _, pages = printed
    for i, text in enumerate(pages, start=1):
        lines = [ln for ln in text.splitlines() if ln.strip()]
        assert len(lines) >= 5, (i, text)


def test_rules_sheet_labels_are_chinese(printed):
    """Each 计分口径 row starts with a Chinese label; the key stands in its own column, values are Chinese."""
    _, path, pages = printed
    ws = openpyxl.load_workbook(path)[S.RULES]
    rows = [r for r in ws.iter_rows(min_row=4, values_only=True) if r[0]]
    assert rows
    for label, key, value, _ in rows:
        assert not re.search(r"[A-Za-z_]{3,}", label.replace("rules.toml", "").replace("zg-excel", "")
                             .replace("docx", "").replace("MB", "")), (label, key)
    shown = {key: value for _, key, value, _ in rows if key}
    assert shown["liaison.negative_credit"] == "是"
    assert shown["bulletin.seal"] == "否"
    assert shown["flags.serious_problem"] == "倒扣"
    assert shown["outlets.unknown_media"].startswith("排除")
    assert shown["rounding.mode"] == "四舍五入"
    assert shown["duplicates.event_key"] == "单位、标题、媒体、录用形式、日期"
    text = "\n".join(sheet_pages(pages, S.RULES))
    for word in ("True", "False", "half_up", "negate", "exclude", "months_subset"):
        assert word not in text, word
    assert "加倍积分的倍数" in text and "multiplier.factor" in text
    # No key cut across lines: every key is printed whole.
    for key in ("duplicates.warn_same_title_outlet_other_date", "liaison.submissions_count_for_section"):
        assert key in text, key


def test_long_names_chart_as_horizontal_bars(printed):
    result, path, pages = printed
    with zipfile.ZipFile(path) as z:
        charts = [z.read(n).decode() for n in z.namelist() if re.match(r"xl/charts/chart\d+\.xml$", n)]
    other = next(c for c in charts if "其他党工委：总积分与目标" in c)
    town = next(c for c in charts if "科室：总积分与目标" in c)  # short names: columns
    assert '<c:barDir val="bar"/>' in other
    assert '<c:barDir val="col"/>' in town
    assert 'rot="-2700000"' not in town  # names are not rotated 45°
    charts_text = "\n".join(sheet_pages(pages, S.CHARTS))
    assert "其他党工委：总积分与目标" in charts_text


def test_pages_look_right(printed, tmp_path):
    """Render the pages (as a reviewer would look at them) and check none is blank."""
    _, path, _ = printed
    pdf = path.with_suffix(".pdf")
    subprocess.run([tool("pdftoppm"), "-r", "30", "-png", str(pdf), str(tmp_path / "p")], check=True, timeout=120)
    pngs = sorted(tmp_path.glob("p-*.png"))
    assert pngs and all(p.stat().st_size > 2000 for p in pngs)
