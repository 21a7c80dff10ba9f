"""The 通报: structure, phrasing, and every number in its text checked against the summary workbook."""

from __future__ import annotations

import copy
import datetime as dt
import re

import openpyxl
import pytest

from tests.factory import YEAR, book, ev, score
from zg_excel.outputs import bulletin as B
from zg_excel.outputs import book as BK
from zg_excel.outputs import summary as S
from zg_excel.previous import previous_standings
from zg_excel.workspace import Workspace, default_text

ISSUED = dt.date(2026, 10, 8)
SECTIONS = ["一、总体情况", "二、表扬", "三、存在问题", "四、下步要求"]


def with_previous(result):
    r = copy.copy(result)
    r.previous = previous_standings(result)
    return r


def render(result) -> str:
    return B.render_text(result, default_text("通报.txt.j2"), issued=ISSUED)


@pytest.fixture(scope="module")
def published(sample_result, tmp_path_factory):
    """The bulletin text and the summary workbook of the same result, as a reader gets them."""
    result = with_previous(sample_result)
    out = tmp_path_factory.mktemp("bulletin")
    path = S.write_summary(result, Workspace.for_output(out).summary_path(result.year))
    return result, render(result), openpyxl.load_workbook(path)


class Book:
    """Cells of the summary workbook, looked up the way a reader would."""

    def __init__(self, wb):
        self.wb = wb
        ws = wb[S.RANKING]
        head = [c.value for c in ws[3]]
        self.col = {h: i for i, h in enumerate(head) if h}
        self.units: dict[str, dict] = {}
        for row in ws.iter_rows(min_row=4, values_only=True):
            if row[0] == "合计":
                self.total = {h: row[i] for h, i in self.col.items()}
            elif isinstance(row[self.col["排名"]], int):
                self.units[row[self.col["单位"]].removesuffix("（未报送）")] = {h: row[i] for h, i in self.col.items()}
        charts = wb[BK.CHARTS]
        self.overview = {}
        for row in charts.iter_rows(values_only=True):
            if row[0] and isinstance(row[1], (int, float)) and len(row) > 3:
                self.overview[row[0]] = row[1:4]
        monthly = wb[S.MONTHLY]
        mhead = [c.value for c in monthly[3]]
        self.months: dict[str, dict[int, int]] = {}
        for row in monthly.iter_rows(min_row=4, values_only=True):
            if row[1]:
                name = row[1].removesuffix("（未报送）")
                self.months[name] = {int(h[:-1]): row[i] for i, h in enumerate(mhead)
                                     if h and re.fullmatch(r"\d+月", h) and isinstance(row[i], int)}


def num(text: str) -> float:
    return float(text)


def test_structure_and_phrasing(published):
    result, text, _ = published
    lines = text.splitlines()
    assert lines[0] == "关于2026年第三季度全区组工信息宣传工作情况的通报"
    assert lines[2] == "各党（工）委，部机关各科室："
    positions = [lines.index(s) for s in SECTIONS]
    assert positions == sorted(positions)
    assert "现将有关情况通报如下。" in text
    assert "予以通报表扬" in text
    assert lines[-2:] == ["中共上街区委组织部", "2026年10月8日"]
    assert lines[-4] == "附件：2026年第三季度组工信息考核积分排名表"
    problems = text[text.index("三、存在问题"):text.index("四、下步要求")]
    for heading in ("积分未达到序时进度", "月度报送未达到规定条数", "未报送统计表"):
        assert heading in problems
    # the samples' zero months are all in 其他党工委, which has no monthly minimum: nothing to criticise
    assert "存在零报送月份" not in problems
    assert "矿山街道党工委截至2026年9月30日未报送" in problems
    assert "与上季度末（2026年6月30日）相比" in text
    assert "\t" not in text and "  " not in text


def test_every_number_in_the_text_agrees_with_the_workbook(published):
    """Each figure the bulletin names is found in the summary workbook; no other digit is left."""
    result, text, wb = published
    book_ = Book(wb)
    rest = text
    checked = 0

    def consume(pattern: str, check) -> None:
        nonlocal rest, checked
        for m in re.finditer(pattern, text):
            check(m)
            checked += 1
        rest = re.sub(pattern, "", rest)

    total = book_.total
    ov = book_.overview
    # 总体情况
    m = re.search(r"全区(\d+)个考核单位中，(\d+)个单位报送了统计表，(\d+)个单位未报送", text)
    assert (num(m[1]), num(m[2]), num(m[3])) == (ov["考核单位数"][0], ov["已报送单位数"][0], ov["未报送单位数"][0])
    assert num(m[1]) == len(book_.units)
    assert num(m[3]) == sum(1 for row in wb[S.RANKING].iter_rows(min_row=4, values_only=True)
                            if any(isinstance(v, str) and v.endswith("（未报送）") for v in row))
    rest = rest.replace(m[0], "")
    consume(r"共报送组工信息(\d+)条", lambda m: _eq(m[1], total["报送条数"], ov["报送条数（计入考核口径）"][0]))
    consume(r"录用（含综合、批示）(\d+)条次", lambda m: _eq(m[1], ov["计分录用条次（含综合、批示）"][0],
                                                      sum(total[f"{lv}录用"] for lv in result.rules.levels)))
    consume(r"(中央级|省级|市级|区级)(\d+)条次", lambda m: _eq(m[2], total[f"{m[1]}录用"]))
    consume(r"各单位合计积分([\d.]+)分", lambda m: _eq(m[1], total["本单位积分"], ov["合计积分（本单位积分之和）"][0]))
    consume(r"，(\d+)个单位达到序时进度", lambda m: _eq(m[1], total["序时进度"], ov["达到序时进度的单位数"][0]))
    # Against the previous period.
    consume(r"新增报送组工信息(\d+)条", lambda m: _eq(m[1], ov["报送条数（计入考核口径）"][2]))
    consume(r"录用(\d+)条次，", lambda m: _eq(m[1], ov["计分录用条次（含综合、批示）"][2]))
    consume(r"合计积分增加([\d.]+)分", lambda m: _eq(m[1], ov["合计积分（本单位积分之和）"][2]))
    consume(r"上季度末为([\d.]+)分", lambda m: _eq(m[1], ov["合计积分（本单位积分之和）"][1]))
    consume(r"单位(?:保持(\d+)个|由(\d+)个(?:增加|减少)到(\d+)个)",
            lambda m: _eq(m[1], ov["达到序时进度的单位数"][0], ov["达到序时进度的单位数"][1]) if m[1] else (
                _eq(m[2], ov["达到序时进度的单位数"][1]), _eq(m[3], ov["达到序时进度的单位数"][0])))
    # Units named with their totals (表扬, 存在问题) and targets.
    consume(r"([^（）、，。；：\n]+?)（([\d.]+)分，序时目标([\d.]+)分）",
            lambda m: (_eq(m[2], book_.units[m[1]]["总积分"]), _eq(m[3], book_.units[m[1]]["序时目标"])))
    consume(r"([^（）、，。；：\n]+?)（([\d.]+)分）", lambda m: _eq(m[2], book_.units[m[1]]["总积分"]))
    # Rank rises.
    consume(r"([^（）、，。；：\n]+?)（[^，（）]+，由第(\d+)名升至第(\d+)名）",
            lambda m: (_eq(m[3], book_.units[m[1]]["排名"]),
                       _eq(int(m[2]) - int(m[3]), book_.units[m[1]]["较上期"])))
    # Months below the minimum, with their counts; months with none.
    consume(r"([^（）、，。；：\n]+?)（((?:\d+月\d+条、?)+)）",
            lambda m: [_eq(n, book_.months[m[1]][int(mo)]) for mo, n in re.findall(r"(\d+)月(\d+)条", m[2])])

    def zero(m):
        months = _expand(m[2])
        assert months and all(book_.months[m[1]][mo] == 0 for mo in months), m[0]
        others = set(book_.months[m[1]]) - set(months)
        assert all(book_.months[m[1]][mo] > 0 for mo in others), m[0]
    consume(r"([^（）、，。；：\n]+?)（((?:\d+(?:—\d+)?月、?)+)）", zero)
    assert checked >= 15
    # What remains: dates, the period, the attachment's and title's year, and nothing else.
    for fixed in (r"\d{4}年\d{1,2}月\d{1,2}日", r"\d{4}年1月至\d{1,2}月", r"\d{4}年第.季度", r"\d{4}年度"):
        rest = re.sub(fixed, "", rest)
    assert not re.findall(r"\d+", rest), rest


def _eq(text, *cells) -> None:
    value = float(text)
    for cell in cells:
        assert cell is not None and abs(float(cell) - value) < 1e-9, (text, cells)


def _expand(spec: str) -> list[int]:
    out = []
    for part in re.findall(r"(\d+)(?:—(\d+))?月", spec):
        a, b = int(part[0]), int(part[1] or part[0])
        out.extend(range(a, b + 1))
    return out


def test_praise_and_problems_follow_the_result(published):
    result, text, _ = published
    ctx = B.build_context(result, issued=ISSUED)
    criticised = {s["unit"] for key in ("short_months", "zero_months", "short_yearly", "short_provincial")
                  for s in ctx[key]}
    with_errors = {i.unit for i in result.issues if i.severity == "error"}
    for cat in ctx["categories"]:
        for row in cat["praised"]:
            t = result.unit(row["unit"])
            assert row["on_track"] and not t.behind_prorated and t.total > 0
            assert t.unit not in criticised and t.unit not in with_errors
        assert [r["rank"] for r in cat["units"]] == sorted(r["rank"] for r in cat["units"])
    # 区直机关工委 (first of 其他党工委, on track) returned a file with an error: not praised in this run
    assert "区直机关工委" in with_errors and result.unit("区直机关工委").rank == 1
    assert "区直机关工委" not in {r["unit"] for c in ctx["categories"] for r in c["praised"]}
    behind = {u["unit"] for c in ctx["behind"] for u in c["units"]}
    assert behind == {t.unit for t in result.units if t.returned and t.behind_prorated}
    assert ctx["not_returned"] == [t.unit for t in result.units if not t.returned]
    zero = {z["unit"] for z in ctx["zero_months"]}
    monthly = {t.unit for t in result.units if result.rules.categories[t.category].monthly_submissions}
    assert zero == {t.unit for t in result.units if t.unit in monthly and t.returned
                    and any(t.submissions_by_month.get(m) == 0 for m in t.short_months)}
    assert ctx["previous"]["period"] == "2026年1月至6月"
    for r in ctx["risers"]:
        assert r["change"] >= 2 and r["rank"] == result.unit(r["unit"]).rank


def test_first_quarter_has_no_comparison():
    result = score({"a.xlsx": book("峡窝镇党委", [ev("稿", "采用", "郑州日报", "2026-02-03")])},
                   as_of=dt.date(YEAR, 3, 31))
    result.previous = previous_standings(result)
    assert result.previous is None
    text = render(result)
    assert "上季度末" not in text and "进步明显" not in text
    assert "第一季度" in text.splitlines()[0]


def test_year_end_wording():
    result = score({"a.xlsx": book("峡窝镇党委", [ev("稿", "采用", "郑州日报", "2026-11-03")])},
                   as_of=dt.date(YEAR, 12, 31))
    result.previous = previous_standings(result)
    text = render(result)
    assert "关于2026年度全区组工信息宣传工作情况的通报" == text.splitlines()[0]
    assert "完成全年积分目标" in text and "序时进度" not in text
    assert "全年积分未达到目标" in text


def test_works_without_previous_attribute(sample_result):
    result = copy.copy(sample_result)
    result.__dict__.pop("previous", None)
    text = render(result)
    assert "上季度末" not in text
    assert all(s in text for s in SECTIONS)


def test_readme_context_keys_all_exist(published):
    """A user template may use every variable the README documents."""
    result, _, _ = published
    template = (
        "{{ title }}{{ addressees }}{{ issuer }}{{ method_name }}{{ district }}{{ year }}{{ as_of }}"
        "{{ as_of_text }}{{ period }}{{ quarter }}{{ final }}{{ units_total }}{{ units_returned }}"
        "{{ not_returned | join }}{{ submissions_total }}{{ events_scored }}{{ by_level['省级'] }}{{ points_total }}"
        "{{ units_on_track | length }}"
        "{% for c in categories %}{{ c.name }}{% for u in c.units %}{{ u.unit }}{{ u.rank }}{{ u.rank_change }}"
        "{{ u.total }}{{ u.points }}{{ u.credit }}{{ u.target }}{{ u.annual }}{{ u.submissions }}{{ u.returned }}"
        "{{ u.on_track }}{{ u.text }}{% endfor %}{{ c.praised | length }}{% endfor %}"
        "{% for c in behind %}{{ c.name }}{{ c.text }}{% for u in c.units %}{{ u.unit }}{{ u.total }}{{ u.target }}"
        "{{ u.text }}{% endfor %}{% endfor %}"
        "{% for r in risers %}{{ r.unit }}{{ r.category }}{{ r.rank }}{{ r.previous_rank }}{{ r.change }}"
        "{{ r.text }}{% endfor %}"
        "{% for s in short_months %}{{ s.unit }}{{ s.months }}{{ s.months_text }}{{ s.text }}{% endfor %}"
        "{% for s in zero_months %}{{ s.unit }}{{ s.months }}{{ s.months_text }}{{ s.text }}{% endfor %}"
        "{% for s in short_yearly %}{{ s.unit }}{{ s.text }}{% endfor %}"
        "{% for s in short_provincial %}{{ s.unit }}{{ s.text }}{% endfor %}"
        "{{ previous.period }}{{ previous.as_of }}{{ previous.as_of_text }}{{ previous.quarter }}"
        "{{ previous.points_total }}{{ previous.points_added }}{{ previous.points_change }}"
        "{{ previous.submissions_total }}{{ previous.submissions_added }}{{ previous.events_scored }}"
        "{{ previous.events_added }}{{ previous.units_on_track | length }}{{ previous.on_track_change }}"
        "{{ attachment_title }}{{ date_text }}{{ 3 | cn }}"
    )
    assert B.render_text(result, template, issued=ISSUED).strip()


def test_user_template_is_used(sample_workdir):
    from zg_excel.workspace import Workspace

    ws = Workspace(sample_workdir)
    assert ws.bulletin_template() == (sample_workdir / "templates" / "通报.txt.j2").read_text(encoding="utf-8-sig")


def test_attachment_table_matches_the_ranking(published):
    result, _, wb = published
    book_ = Book(wb)
    att = B.attachment_table(result)
    assert att["header"][:3] == ["排名", "较上期", "单位"]
    assert att["col_widths_mm"] is None  # the .docx sizes the columns for their texts
    for row in att["rows"]:
        if row[1] == "":
            continue
        unit = row[2].removesuffix("（未报送）")
        assert int(row[0]) == book_.units[unit]["排名"]
        assert float(row[att["header"].index("总积分")]) == book_.units[unit]["总积分"]
        change = book_.units[unit]["较上期"]
        assert row[1] == ("持平" if change == 0 else f"↑{change}" if change > 0 else f"↓{-change}")


def test_write_bulletin_txt_and_docx(published, tmp_path):
    result, text, _ = published
    written = B.write_bulletin(result, text, tmp_path / "通报.txt", tmp_path / "通报.docx")
    raw = (tmp_path / "通报.txt").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw and b"\n\n" not in raw.replace(b"\r\n", b"")
    assert raw.decode("utf-8-sig").replace("\r\n", "\n") == text
    from docx import Document

    doc = Document(str(written[1]))
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "一、总体情况" in body and "二、表扬" in body
    assert any("较上期" in c.text.replace("\n", "") for t in doc.tables for c in t.rows[0].cells)


def test_seal_layout_is_a_setting(published, tmp_path):
    """[bulletin] seal = true gives the 加盖印章 layout (成文日期右空四字), false (shipped) the other."""
    import dataclasses

    from docx import Document

    result, text, _ = published

    def date_indent(seal: bool) -> str:
        rules = dataclasses.replace(result.rules, bulletin=dataclasses.replace(result.rules.bulletin, seal=seal))
        path = tmp_path / f"seal-{seal}.docx"
        B.write_bulletin(dataclasses.replace(result, rules=rules), text, tmp_path / "t.txt", path)
        paras = [p for p in Document(str(path)).paragraphs if p.text.strip()]
        date = next(p for p in paras if re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", p.text.strip()))
        ind = date._p.pPr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}ind")
        return ind.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}rightChars")

    assert result.rules.bulletin.seal is False
    assert date_indent(True) == "400"
    assert date_indent(False) != "400"


def test_seal_must_be_true_or_false(tmp_path):
    from zg_excel.rules import ConfigError, load_rules

    user = tmp_path / "rules.toml"
    user.write_text('[bulletin]\nseal = "是"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="bulletin.seal"):
        load_rules(user)


def _monthly_book(unit: str, months: dict[int, int], adoptions: int = 1):
    """A unit's book with ``months[m]`` submissions in month m and ``adoptions`` 人民日报 adoptions."""
    subs = [{"报送日期": f"2026-{m:02d}-{i + 2:02d}", "稿件标题": f"{unit}报送{m}-{i}", "报送对象": "区委组织部"}
            for m, n in months.items() for i in range(n)]
    events = [ev(f"{unit}大稿{i}", "采用", "人民日报", "2026-03-05") for i in range(adoptions)]
    return book(unit, events, subs)


def test_a_unit_is_never_praised_and_criticised_in_one_bulletin():
    """新安路 tops 镇街 on points but has four zero months: criticised, so not praised. A 其他党工委 unit
    (no monthly minimum) with empty months is not listed under 零报送 and may be praised."""
    files = {"新安路.xlsx": _monthly_book("新安路街道党工委", {m: (0 if m in (2, 4, 6, 8) else 3) for m in range(1, 10)}, 3),
             "中心路.xlsx": _monthly_book("中心路街道党工委", {m: 2 for m in range(1, 10)}, 2),
             "区直.xlsx": _monthly_book("区直机关工委", {m: (2 if m % 3 == 0 else 0) for m in range(1, 10)})}
    result = score(files, as_of=dt.date(YEAR, 9, 30))
    assert result.unit("新安路街道党工委").rank == 1 and not result.unit("新安路街道党工委").behind_prorated
    assert not result.unit("区直机关工委").behind_prorated
    ctx = B.build_context(result, issued=ISSUED)
    text = render(result)
    praised = {r["unit"] for c in ctx["categories"] for r in c["praised"]}
    zero = {z["unit"]: z["months"] for z in ctx["zero_months"]}
    assert zero == {"新安路街道党工委": [2, 4, 6, 8]}
    assert praised == {"中心路街道党工委", "区直机关工委"}
    praise = text[text.index("二、表扬"):text.index("三、存在问题")]
    problems = text[text.index("三、存在问题"):text.index("四、下步要求")]
    for unit in praised:
        assert unit not in problems
    assert "新安路街道党工委" not in praise and "新安路街道党工委（2月、4月、6月、8月）" in problems
    assert "区直机关工委" not in problems


def test_year_end_titles_have_one_nian(tmp_path):
    result = score({"a.xlsx": book("峡窝镇党委", [ev("稿", "采用", "郑州日报", "2026-11-03")])},
                   as_of=dt.date(YEAR, 12, 31))
    text = render(result)
    assert text.splitlines()[0] == "关于2026年度全区组工信息宣传工作情况的通报"
    assert "附件：2026年度组工信息考核积分排名表" in text
    assert "年年" not in text
    att = B.attachment_table(result)
    assert att["title"] == "2026年度组工信息考核积分排名表"
    assert "年度目标" in att["header"]


@pytest.mark.parametrize("value", ['""', '" 仿宋"', "5", '"仿宋,黑体"', '"' + "字" * 32 + '"'])
def test_font_settings_are_checked(tmp_path, value):
    from zg_excel.rules import ConfigError, load_rules

    user = tmp_path / "rules.toml"
    user.write_text(f"[bulletin]\nfont_body = {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="bulletin.font_body"):
        load_rules(user)


def test_font_settings_reach_the_docx(published, tmp_path):
    """[bulletin] font_* (GB/T 9704 names shipped) are the fonts the .docx names, East Asian attribute included."""
    from zg_excel.rules import load_rules

    result, text, _ = published
    shipped = result.rules.bulletin
    assert (shipped.font_title, shipped.font_body, shipped.font_heading1, shipped.font_heading2) == (
        "方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312")
    user = tmp_path / "rules.toml"
    user.write_text('[bulletin]\nfont_title = "华文中宋"\nfont_body = "仿宋"\nfont_heading2 = "楷体"\n', encoding="utf-8")
    rules = load_rules(user)
    import dataclasses
    import zipfile

    path = tmp_path / "通报.docx"
    B.write_bulletin(dataclasses.replace(result, rules=rules), text, tmp_path / "通报.txt", path)
    xml = zipfile.ZipFile(path).read("word/document.xml").decode("utf-8")
    east = set(re.findall(r'w:eastAsia="([^"]+)"', xml))
    assert east == {"华文中宋", "仿宋", "黑体", "楷体"}, east
