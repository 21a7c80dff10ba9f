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
from zg_excel.outputs import book as BK
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
    assert shown["versions.time_source"] == "工作簿保存时间"
    assert "rounding.mode" not in shown and "outlets.level_source" not in shown  # retired
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
    charts_text = "\n".join(sheet_pages(pages, BK.CHARTS))
    assert "其他党工委：总积分与目标" in charts_text


def test_pages_look_right(printed, tmp_path):
    """Render the pages (as a reviewer would look at them) and check none is blank."""
    _, path, _ = printed
    pdf = path.with_suffix(".pdf")
    subprocess.run([tool("pdftoppm"), "-r", "30", "-png", str(pdf), str(tmp_path / "p")], check=True, timeout=120)
    pngs = sorted(tmp_path.glob("p-*.png"))
    assert pngs and all(p.stat().st_size > 2000 for p in pngs)


# ------------------------------------------------------------------ the samples, as a reviewer prints them


def pdf_words(pdf, page: int) -> tuple[float, float, list[tuple[float, float, float, float, str]]]:
    """(page width, page height, words with their boxes) of one page, from ``pdftotext -bbox``."""
    html = subprocess.run([tool("pdftotext"), "-f", str(page), "-l", str(page), "-bbox", str(pdf), "-"],
                          capture_output=True, text=True, timeout=60, check=True).stdout
    size = re.search(r'<page width="([\d.]+)" height="([\d.]+)"', html)
    words = [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in
             re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', html)]
    return float(size.group(1)), float(size.group(2)), words


def raw_text(pdf, page: int) -> str:
    return subprocess.run([tool("pdftotext"), "-f", str(page), "-l", str(page), "-raw", str(pdf), "-"],
                          capture_output=True, text=True, timeout=60, check=True).stdout


def page_numbers(pages: list[str], sheet: str) -> list[int]:
    return [i for i, p in enumerate(pages, start=1) if p in sheet_pages(pages, sheet)]


@pytest.fixture(scope="module", params=["2026-09-30", "2026-12-31"])
def samples_printed(request, tmp_path_factory):
    """The sample returns merged as of a quarter end and the year end, the summary printed by LibreOffice."""
    from click.testing import CliRunner

    from tests.conftest import copy_samples
    from zg_excel.cli import cli
    from zg_excel.workspace import init_workspace

    root = tmp_path_factory.mktemp("samples") / "2026组工信息"
    init_workspace(root)
    copy_samples(root / "inbox")
    res = CliRunner().invoke(cli, ["merge", "-w", str(root), "--year", "2026", "--as-of", request.param,
                                   "--date", "2026-10-09", "-q"])
    assert res.exit_code in (0, 1), res.output
    path = next(p for p in (root / "output").glob("*汇总表*.xlsx") if not p.name.startswith("."))
    pdf = to_pdf(path, path.parent)
    return request.param, path, pdf, page_texts(pdf)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_ledger_cells_print_whole(samples_printed):
    """Every 台帐 cell's full text is printed, and a proof's text stays inside its column (issue 16 column)."""
    as_of, path, pdf, pages = samples_printed
    numbers = page_numbers(pages, S.LEDGER)
    assert numbers
    printed = _squash("".join(raw_text(pdf, n) for n in numbers))
    ws = openpyxl.load_workbook(path)[S.LEDGER]
    head = [c.value for c in ws[3]]
    cells = [str(c.value) for row in ws.iter_rows(min_row=4) for c in row
             if isinstance(c.value, str) and c.value.strip()]
    for text in cells:
        assert _squash(text) in printed, text
    assert "“缺”为未找到" in printed
    if as_of != "2026-09-30":
        return  # the samples have no fourth-quarter adoptions: an empty 台帐
    assert len(cells) > 20
    proofs = [r[head.index("台帐证明")].value for r in ws.iter_rows(min_row=4)]
    assert any(p and p.endswith(".pdf") for p in proofs) and any(p and p.endswith(".png") for p in proofs)
    for n in numbers:
        _, _, words = pdf_words(pdf, n)
        proof_head = next(w for w in words if w[4] == "台帐证明")
        link_head = next(w for w in words if w[4] == S.LEDGER_LINK)
        inside = [w for w in words if proof_head[0] - 60 < w[0] < link_head[0] and w[1] > proof_head[3]]
        assert inside
        for w in inside:
            assert w[2] < link_head[0], w  # no text runs past the 台帐证明 cell into the 链接 column


def test_short_months_never_split(samples_printed):
    """Each 报送不足月份 value of the 排名总表 is printed whole (no '10' / '—12月' across lines), on one page."""
    as_of, path, pdf, pages = samples_printed
    numbers = page_numbers(pages, S.RANKING)
    assert len(numbers) == 1
    raw = raw_text(pdf, numbers[0])
    ws = openpyxl.load_workbook(path)[S.RANKING]
    col = [c.value for c in ws[3]].index("报送不足月份")
    values = [r[col].value for r in ws.iter_rows(min_row=4) if isinstance(r[col].value, str) and "月" in r[col].value]
    assert values
    if as_of == "2026-12-31":
        assert any("—" in v and "、" in v for v in values)  # the long kind: "2月、7月、10—12月"
    for v in values:
        assert v in raw, v


def assert_chart_pages_used(pdf, pages: list[str]) -> list[int]:
    numbers = page_numbers(pages, BK.CHARTS)
    assert 1 <= len(numbers) <= 3, numbers
    for n in numbers[:-1]:
        _, height, words = pdf_words(pdf, n)
        body = [w for w in words if w[3] < height - 0.6 * 72]  # less the footer
        assert max(w[3] for w in body) > 0.7 * height, (n, max(w[3] for w in body) / height)
    return numbers


def test_chart_pages_are_used(samples_printed):
    """The 图表 pages: as few as the blocks need, and every page but the last filled to its lower part."""
    _, _, pdf, pages = samples_printed
    numbers = assert_chart_pages_used(pdf, pages)
    text = "\n".join(pages[n - 1] for n in numbers)
    for cat in ("镇街", "其他党工委", "科室"):
        assert f"{cat}：总积分与目标" in text


def test_charts_show_targets_apart_from_labels(printed):
    """Every per-category chart has 总积分 labelled outside its bars and each target as an unlabelled series."""
    _, path, _ = printed
    with zipfile.ZipFile(path) as z:
        charts = [z.read(n).decode() for n in z.namelist() if re.match(r"xl/charts/chart\d+\.xml$", n)]
    units = [c for c in charts if "总积分与目标" in c]
    assert len(units) == 3
    for c in units:
        series = re.findall(r"<c:ser>.*?</c:ser>", c, re.DOTALL)
        names = [re.search(r"<c:f>[^<]*</c:f>|<c:v>([^<]*)</c:v>", s).group(0) for s in series]
        assert len(series) == 3, names  # 总积分, 序时目标, 年度目标 (a quarter-end run)
        assert "<c:showVal val=\"1\"/>" in series[0]  # at the bar's end (the default, written only if not)
        assert re.findall(r'<c:dLblPos val="(\w+)"/>', series[0]) in ([], ["outEnd"])
        assert all("<c:dLbls>" not in s for s in series[1:])
        assert all("<a:prstDash" in s for s in series[1:])  # dashed outline: a target, not a score


def test_thirty_units_chart_pages_are_used(printed):
    """30 units (12 镇街 and 10 long 其他党工委 names as bars): three full pages, a smaller chart moved up
    into a gap rather than a half-empty page."""
    _, path, _ = printed
    pdf = path.with_suffix(".pdf")
    pages = page_texts(pdf)
    numbers = assert_chart_pages_used(pdf, pages)
    assert len(numbers) == 3
