"""The summary workbook: ranking, charts, ledger, print setup, and a LibreOffice PDF of it."""

from __future__ import annotations

import copy
import datetime as dt
import re
import subprocess
import uuid
import zipfile

import openpyxl
import pytest

from tests.factory import YEAR, book, ev, score
from tests.helpers import tool as _tool
from zg_excel.model import SCORED
from zg_excel.outputs import report as R
from zg_excel.outputs import book as BK
from zg_excel.outputs import summary as S
from zg_excel.previous import previous_standings
from zg_excel.text import months_text, round_half_up
from zg_excel.workspace import Workspace

SHEETS = [S.RANKING, BK.CHARTS, S.DETAILS, S.LEDGER, S.MONTHLY, S.CREDITS, S.ISSUES, S.FILES, S.RULES]


def with_previous(result, previous="compute"):
    """A shallow copy of the session's result with ``previous`` set (or None), the original untouched."""
    r = copy.copy(result)
    r.previous = previous_standings(result) if previous == "compute" else previous
    return r


def ranking_rows(ws) -> tuple[dict[str, int], dict[str, dict]]:
    """(header → column index, unit → {header: value}) of the 排名总表."""
    head = [c.value for c in ws[3]]
    col = {h: i for i, h in enumerate(head) if h}
    rows = {}
    for row in ws.iter_rows(min_row=4, values_only=True):
        unit = row[col["单位"]]
        if isinstance(row[col["排名"]], int) and unit:
            name = unit.removesuffix("（未报送）")
            rows[name] = {h: row[i] for h, i in col.items()}
    return col, rows


def total_row(ws) -> dict:
    head = [c.value for c in ws[3]]
    for row in ws.iter_rows(min_row=4, values_only=True):
        if row[0] == "合计":
            return {h: row[i] for i, h in enumerate(head) if h}
    raise AssertionError("no 合计 row")


@pytest.fixture(scope="module")
def workbook(sample_result, tmp_path_factory):
    result = with_previous(sample_result)
    path = S.write_summary(result, tmp_path_factory.mktemp("summary") / Workspace(tmp_path_factory.getbasetemp()).summary_path(result.year).name)
    return result, path


def test_sheets_in_order(workbook):
    _, path = workbook
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == SHEETS


def test_ranking_renders_the_result(workbook):
    result, path = workbook
    ws = openpyxl.load_workbook(path)[S.RANKING]
    col, rows = ranking_rows(ws)
    prev = result.previous
    assert set(rows) == {t.unit for t in result.units}
    for t in result.units:
        row = rows[t.unit]
        assert row["排名"] == t.rank
        assert row["总积分"] == float(round_half_up(t.total))
        assert row["本单位积分"] == float(round_half_up(t.points))
        assert row["对口处室积分"] == float(round_half_up(t.credit))
        assert row["报送条数"] == t.submissions_year
        assert row["序时目标"] == float(round_half_up(t.prorated_target))
        p = prev.get(t.unit)
        assert row["上期总积分"] == float(round_half_up(p.total))
        assert row["较上期"] == p.rank - t.rank
        assert row["本期新增积分"] == float(round_half_up(t.total - p.total))
        assert row["序时进度"] == ("✗" if t.behind_prorated else "✓")
        assert row["积分目标"] == ("✓" if t.targets["points"] else "✗")
        if "monthly" in t.targets:
            assert row["每月报送"] == ("✓" if t.targets["monthly"] else "✗")
        else:
            assert row["每月报送"] == "—"
        if "provincial" in t.targets:
            assert row["省委组织部录用"].startswith(f"{t.provincial_org_adoptions}条")
        assert (row["报送不足月份"] or "") == months_text(t.short_months)
    # Within each category band, units are in rank order.
    order = [r for r in ws.iter_rows(min_row=4, values_only=True)]
    assert any(isinstance(v, str) and v.startswith("镇街（") for r in order for v in r if v)


def test_rank_change_shows_arrows(workbook):
    _, path = workbook
    ws = openpyxl.load_workbook(path)[S.RANKING]
    col, _ = ranking_rows(ws)
    fmt = ws.cell(row=5, column=col["较上期"] + 1).number_format
    assert "↑" in fmt and "↓" in fmt and "持平" in fmt


def test_total_row_sums_the_units(workbook):
    result, path = workbook
    ws = openpyxl.load_workbook(path)[S.RANKING]
    total = total_row(ws)
    ov = R.overview(result)
    assert total["报送条数"] == sum(t.submissions_year for t in result.units)
    assert total["本单位积分"] == float(round_half_up(sum(t.points for t in result.units)))
    for lv in result.rules.levels:
        assert total[f"{lv}录用"] == sum(t.adoptions_by_level.get(lv, 0) for t in result.units)
    assert total["序时进度"] == len(ov.units_on_track)


def test_ranking_has_bars_and_colour_scale(workbook):
    _, path = workbook
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert '<cfRule type="dataBar"' in xml
    assert '<cfRule type="colorScale"' in xml


def test_without_previous_the_columns_are_left_out(sample_result, tmp_path):
    """Outputs work on a Result that has no ``previous`` attribute at all (before the lead wires it)."""
    result = copy.copy(sample_result)
    result.__dict__.pop("previous", None)
    assert R.previous_of(result) is None
    path = S.write_summary(result, tmp_path / "s.xlsx")
    ws = openpyxl.load_workbook(path)[S.RANKING]
    head = [c.value for c in ws[3]]
    assert "较上期" not in head and "上期总积分" not in head
    charts = openpyxl.load_workbook(path)[BK.CHARTS]
    assert any(c.value == "第一季度统计，无上期数据。" for row in charts.iter_rows() for c in row)


def test_charts_are_native_and_plot_the_ranking(workbook):
    result, path = workbook
    cats = [c for c in result.rules.categories if any(t.category == c for t in result.units)]
    with zipfile.ZipFile(path) as z:
        charts = sorted(n for n in z.namelist() if re.match(r"xl/charts/chart\d+\.xml$", n))
        texts = [z.read(n).decode() for n in charts]
        drawing_rels = [n for n in z.namelist() if n.startswith("xl/drawings/_rels/")]
    assert len(charts) == 2 + len(cats)  # levels, months, one per category
    assert len(drawing_rels) == 1  # all on the 图表 sheet
    joined = "\n".join(texts)
    assert "<c:barChart>" in joined and "<c:lineChart>" in joined
    for cat in cats:
        assert any(f"{cat}：总积分与目标" in t and "排名总表" in t for t in texts)
    assert any("各月报送条数趋势" in t for t in texts)
    assert any("各级别媒体录用条次" in t for t in texts)


def test_chart_tables(workbook):
    result, path = workbook
    ws = openpyxl.load_workbook(path)[BK.CHARTS]
    cells = {(c.row, c.column): c.value for row in ws.iter_rows() for c in row if c.value is not None}
    labels = {v: r for (r, c), v in cells.items() if c == 1}
    ov = R.overview(result)
    assert cells[(labels["报送条数（计入考核口径）"], 2)] == ov.submissions_total
    assert cells[(labels["报送条数（计入考核口径）"], 3)] == result.previous.submissions_total
    assert cells[(labels["计分录用条次（含综合、批示）"], 2)] == ov.events_scored
    assert cells[(labels["9月"], 2 + len(ov.monthly_by_category))] == sum(
        t.submissions_by_month[9] for t in result.units)


def test_ledger_is_the_quarter_at_city_level_or_above(workbook):
    result, path = workbook
    ws = openpyxl.load_workbook(path)[S.LEDGER]
    head = [c.value for c in ws[3]]
    got = [r for r in ws.iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)]
    expected = S.ledger_events(result)
    assert len(got) == len(expected) > 0
    start = dt.date(YEAR, 7, 1)
    for row, e in zip(got, expected):
        assert row[head.index("单位")] == e.unit and row[head.index("稿件标题")] == e.title
        assert e.outcome == SCORED and start <= e.date <= result.as_of
        assert e.level != result.rules.levels[0]
        assert row[head.index("录用日期")].date() == e.date
    assert {id(e) for e in S.ledger_events(result)} >= {
        id(e) for e in result.events if e.outcome == SCORED and e.form != "批示" and e.date and e.date >= start
        and e.level in ("市级", "省级", "中央级")}
    assert "复印件或电子稿" in head


def test_ledger_lists_endorsements_after_adoptions(tmp_path):
    result = score({"a.xlsx": book("峡窝镇党委", [
        ev("稿一", "批示", None, "2026-08-02", 媒体级别="市级"),
        ev("稿一", "采用", "郑州日报", "2026-08-01"),
        ev("稿二", "采用", "上街组工动态", "2026-08-03"),
        ev("稿三", "采用", "河南日报", "2026-05-01"),
        ev("稿四", "批示", None, "2026-08-04", 媒体级别="区级"),
    ])})
    rows = S.ledger_events(result)
    assert [(e.title, e.form) for e in rows] == [("稿一", "采用"), ("稿一", "批示")]
    path = S.write_summary(result, tmp_path / "s.xlsx")
    ws = openpyxl.load_workbook(path)[S.LEDGER]
    assert ws["E5"].value == "市级领导批示"
    assert "市级以上领导批示1条" in ws["A2"].value


def test_every_list_sheet_is_print_ready(workbook):
    """Lists fit the page width; the 排名总表 also its height (one page up to 30 units: issue 13 item 13)."""
    _, path = workbook
    wb = openpyxl.load_workbook(path)
    for name in SHEETS:
        ws = wb[name]
        assert ws.page_setup.paperSize == 9, name
        assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text, name
        assert ws.oddHeader.left.text, name
        assert "宋体" in (ws.oddHeader.left.font or ""), name
        if name == BK.CHARTS:
            assert ws.page_setup.orientation == "portrait"
            assert not ws.sheet_properties.pageSetUpPr or not ws.sheet_properties.pageSetUpPr.fitToPage
            assert (ws.page_setup.scale or 100) <= 100
            assert ws.row_breaks.brk, "blocks of the chart sheet are kept whole by page breaks"
            continue
        assert ws.sheet_properties.pageSetUpPr.fitToPage, name
        tall = S.ranking_pages(len(workbook[0].units)) if name == S.RANKING else 0
        height = 1 if ws.page_setup.fitToHeight is None else ws.page_setup.fitToHeight  # 1: not written
        assert ws.page_setup.fitToWidth in (1, None) and height == tall, name
        assert ws.print_title_rows == "$3:$3", name
        assert ws.freeze_panes == "A4", name
        assert ws.auto_filter.ref, name
    assert wb[S.RANKING].page_setup.orientation == "landscape"
    assert wb[S.RULES].page_setup.orientation == "landscape"  # label, key, value, source side by side
    assert [S.ranking_pages(n) for n in (1, 30, 31, 60, 61)] == [1, 1, 2, 2, 3]


def test_cells_use_a_cjk_font_and_columns_fit_their_values(workbook):
    """No '#####': every number and date cell is narrower than its column."""
    _, path = workbook
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows(min_row=3):
            for c in row:
                if c.value is None or c.coordinate in ws.merged_cells:
                    continue
                assert c.font.name == BK.FONT, (ws.title, c.coordinate)
                if isinstance(c.value, (int, float)) and not isinstance(c.value, bool):
                    if "%" in c.number_format:
                        shown = f"{c.value:.0%}"
                    elif "0.00" in c.number_format:
                        shown = f"{c.value:+.2f}" if "+" in c.number_format else f"{c.value:.2f}"
                    else:
                        shown = str(c.value)
                    width = ws.column_dimensions[c.column_letter].width
                    assert len(shown) + 1 <= width, (ws.title, c.coordinate, shown, width)
                elif isinstance(c.value, dt.datetime):
                    assert ws.column_dimensions[c.column_letter].width >= 11, (ws.title, c.coordinate)


def test_output_is_deterministic(workbook, tmp_path):
    result, path = workbook
    again = S.write_summary(result, tmp_path / "again.xlsx")
    assert again.read_bytes() == path.read_bytes()


def test_months_text():
    assert months_text([1, 2, 3, 5]) == "1—3月、5月"
    assert months_text([2, 7]) == "2月、7月"
    assert months_text([4, 5]) == "4月、5月"
    assert months_text(range(1, 10)) == "1—9月"
    assert months_text([]) == ""


def test_text_lines_grow_rows():
    assert S.text_lines("短", 10) == 1
    assert S.text_lines("很长的标题" * 6, 20) >= 3
    assert S.text_lines("a\nb", 20) == 2
    # CJK (and full-width dashes/quotes) count two units, ASCII one: 11 CJK = 22 units fill two lines of 20.
    assert S.text_units("组织科2026—“x”") == 3 * 2 + 4 + 2 + 2 * 2 + 1
    assert S.text_lines("信" * 11, 20) == 2 and S.text_lines("a" * 19, 20) == 1


def test_ledger_rows_tall_enough_and_links_apart(workbook):
    """Every 台帐 row is as tall as its longest wrapped cell needs; a proof's link sits in the 链接 column
    (its 台帐证明 cell is plain text, which LibreOffice wraps)."""
    _, path = workbook
    ws = openpyxl.load_workbook(path)[S.LEDGER]
    head = [c.value for c in ws[3]]
    widths = {}  # column index → width as set (xlsxwriter writes equal neighbours as one <col min max>)
    for dim in ws.column_dimensions.values():
        for c in range(dim.min, dim.max + 1):
            widths[c - 1] = dim.width - 0.71  # less the padding xlsxwriter adds
    proof, link = head.index("台帐证明"), head.index(S.LEDGER_LINK)
    checked = linked = 0
    for row in ws.iter_rows(min_row=4, max_row=ws.max_row - 2):
        if not isinstance(row[0].value, int):
            continue
        need = max(S.text_lines(c.value, widths[c.column - 1]) for c in row
                   if isinstance(c.value, str) and c.alignment.wrap_text)
        height = ws.row_dimensions[row[0].row].height or 15
        assert height >= need * BK.LINE_PT, (row[0].row, need, height)
        assert row[proof].hyperlink is None
        if row[link].hyperlink is not None:
            assert row[link].value == S.LINK_TEXT and row[proof].value not in ("缺", None)
            linked += 1
        checked += 1
    assert checked > 10 and linked >= 2


# ------------------------------------------------------------------ LibreOffice


@pytest.fixture(scope="module")
def pdf(workbook, tmp_path_factory):
    soffice = _tool("soffice")
    _, path = workbook
    out = tmp_path_factory.mktemp("pdf")
    profile = tmp_path_factory.mktemp("lo-profile") / uuid.uuid4().hex
    done = subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless",
                           "--convert-to", "pdf", "--outdir", str(out), str(path)],
                          capture_output=True, text=True, timeout=240)
    target = out / (path.stem + ".pdf")
    assert done.returncode == 0 and target.is_file(), done.stderr
    return target


def test_libreoffice_prints_every_sheet(workbook, pdf):
    result, _ = workbook
    info = subprocess.run([_tool("pdfinfo"), str(pdf)], capture_output=True, text=True, timeout=60).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= len(SHEETS)
    assert "A4" in info
    per_page = []
    for i in range(1, pages + 1):
        per_page.append(subprocess.run([_tool("pdftotext"), "-f", str(i), "-l", str(i), "-layout", str(pdf), "-"],
                                       capture_output=True, text=True, timeout=60).stdout)
    text = "\n".join(per_page)
    titles = {
        S.RANKING: f"{R.period_label(result)}组工信息考核积分排名",
        BK.CHARTS: f"{R.period_label(result)}组工信息考核统计图表",
        S.DETAILS: f"{R.period_label(result)}组工信息录用明细",
        S.LEDGER: f"{YEAR}年第三季度市级以上媒体录用台帐",
        S.MONTHLY: f"{R.period_label(result)}各单位月度报送情况",
        S.CREDITS: f"{R.period_label(result)}对口处室积分明细",
        S.ISSUES: f"{R.period_label(result)}报送文件问题清单",
        S.FILES: f"收件文件夹中的全部文件（{len(result.files)}个）",
        S.RULES: "本次统计使用的计分口径与运行参数",
    }
    for sheet, title in titles.items():
        assert title in text, sheet
    # Each sheet starts on its own page (its name is in the footer), in order.
    first_pages = [next(i for i, t in enumerate(per_page) if title in t) for title in titles.values()]
    assert first_pages == sorted(first_pages)
    assert "###" not in text
    assert "第 1 页，共" in per_page[0]
    # Chart text rendered (titles drawn by LibreOffice, not just the cells).
    assert "各月报送条数趋势" in text


def test_pages_render_to_png(pdf, tmp_path):
    subprocess.run([_tool("pdftoppm"), "-r", "60", "-f", "1", "-l", "3", "-png", str(pdf), str(tmp_path / "p")],
                   check=True, timeout=120)
    pngs = sorted(tmp_path.glob("p-*.png"))
    assert len(pngs) == 3 and all(p.stat().st_size > 5000 for p in pngs)


@pytest.mark.parametrize("as_of", [dt.date(YEAR, 1, 15), dt.date(YEAR, 12, 31)])
def test_empty_inbox_and_year_end_still_write(tmp_path, as_of):
    """Nothing returned (January) or the year-end run: every sheet is written, with and without a previous period."""
    result = score({}, as_of=as_of)
    result.previous = previous_standings(result)
    path = S.write_summary(result, tmp_path / "s.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == SHEETS
    head = [c.value for c in wb[S.RANKING][3]]
    assert ("序时目标" in head) == (not result.final)
    assert ("较上期" in head) == (result.previous is not None)
    assert wb[S.LEDGER]["A4"].value == "本季度暂无市级以上媒体录用或领导批示。"


# ------------------------------------------------------------------ issue 13, items 15–18


def test_every_rules_key_has_a_chinese_label():
    """计分口径 names each key in Chinese: one label per key and per choice, kept beside the keys in rules.py."""
    from zg_excel import rules as RL

    assert set(RL.FIXED_KEYS) <= set(RL.KEY_LABELS), set(RL.FIXED_KEYS) - set(RL.KEY_LABELS)
    assert set(RL.CATEGORY_KEYS) <= set(RL.CATEGORY_KEY_LABELS)
    choices = {c for spec in RL.FIXED_KEYS.values() for c in spec.choices}
    assert choices <= set(RL.VALUE_LABELS), choices - set(RL.VALUE_LABELS)
    for key in list(RL.KEY_LABELS.values()) + list(RL.CATEGORY_KEY_LABELS.values()):
        assert re.search(r"[\u4e00-\u9fff]", key), key
    assert S.rule_label("categories.镇街.annual_points") == "类别“镇街”：全年积分目标"
    assert S.rule_label("points.采用.市级") == "分值：采用 / 市级"
    assert S.rule_value(True) == "是" and S.rule_value(["unit", "title"]) == "单位、标题"


def _rows(ws, first=4):
    head = [c.value for c in ws[3]]
    return head, [r for r in ws.iter_rows(min_row=first, values_only=True) if any(v is not None for v in r)]


def test_details_sorted_by_category_unit_then_date(tmp_path):
    """October's file name sorts before January's; the rows still read January first, units in roster order."""
    result = score({
        "峡窝镇党委-10月.xlsx": book("峡窝镇党委", [ev("十月稿", "采用", "郑州日报", "2026-10-05")]),
        "峡窝镇党委-1月.xlsx": book("峡窝镇党委", [ev("一月稿", "采用", "郑州日报", "2026-01-05")]),
        "办公室.xlsx": book("办公室", [ev("科室稿", "采用", "郑州日报", "2026-02-01")]),
        "济源路街道党工委.xlsx": book("济源路街道党工委", [ev("济源稿", "采用", "郑州日报", "2026-03-01")]),
    }, as_of=dt.date(YEAR, 12, 31))
    path = S.write_summary(result, tmp_path / "s.xlsx")
    head, rows = _rows(openpyxl.load_workbook(path)[S.DETAILS])
    titles = [r[head.index("稿件标题")] for r in rows if r[head.index("稿件标题")]]
    assert titles == ["一月稿", "十月稿", "济源稿", "科室稿"]


def test_monthly_groups_a_unit_added_to_the_roster_with_its_category(tmp_path):
    from zg_excel.merge import score_books
    from zg_excel.roster import Roster, Unit, load_catalog, load_roster
    from zg_excel.rules import load_rules

    rules = load_rules()
    base = load_roster(None, rules)
    units = list(base.units) + [Unit("新设镇党委", "镇街", order=len(base.units))]
    roster = Roster(units, source="名册")
    result = score_books([], year=YEAR, as_of=dt.date(YEAR, 9, 30), rules=rules, roster=roster,
                         catalog=load_catalog(None, rules))
    path = S.write_summary(result, tmp_path / "s.xlsx")
    _, rows = _rows(openpyxl.load_workbook(path)[S.MONTHLY])
    cats = [r[0] for r in rows if r[0] in rules.categories]
    groups = [c for i, c in enumerate(cats) if i == 0 or cats[i - 1] != c]
    assert len(groups) == len(set(groups)), groups  # each category one contiguous group
    names = [r[1].removesuffix("（未报送）") for r in rows if r[0] == "镇街"]
    assert names[-1] == "新设镇党委"


def test_every_row_and_total_says_why(sample_result, tmp_path):
    """Superseded rows, a 区级 endorsement, issues without an action and the credit totals all explain themselves."""
    path = S.write_summary(sample_result, tmp_path / "s.xlsx")
    wb = openpyxl.load_workbook(path)
    head, rows = _rows(wb[S.DETAILS])
    col = head.index("计分说明")
    superseded = [r for r in rows if r[head.index("结果")] == "已被更新文件替代"]
    assert superseded and all(r[col] for r in superseded)
    assert all(r[col] for r in rows if r[head.index("稿件标题")])
    head, rows = _rows(wb[S.ISSUES])
    assert rows and all(r[head.index("处理")] for r in rows if r[head.index("问题")])
    texts = [v for row in wb[S.CREDITS].iter_rows(values_only=True) for v in row if isinstance(v, str)]
    assert any("四舍五入一次" in t for t in texts)
    assert any(t.startswith("对口积分合计") for t in texts)

    endorsed = score({"a.xlsx": book("峡窝镇党委", [ev("稿四", "批示", None, "2026-08-04", 媒体级别="区级")])})
    e = next(e for e in endorsed.events if e.form == "批示")
    assert "不加分" in S.explanation(e, {})
    from zg_excel.issues import Issue

    assert S.issue_action(Issue("warning", "unit_cell_mismatch", "…", unit="峡窝镇党委")) == "已照常计入“峡窝镇党委”，请核实"
    assert S.issue_action(Issue("info", "x", "…")) == "仅提示，不影响计分"
