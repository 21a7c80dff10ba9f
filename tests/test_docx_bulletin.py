"""Tests for zg_excel.outputs.docx_bulletin (GB/T 9704-2012 layout of the 通报)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from docx import Document
from lxml import etree

from zg_excel.outputs.docx_bulletin import write_bulletin_docx

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W}


def wq(name: str) -> str:
    return f"{{{W}}}{name}"


TITLE = "关于2026年第三季度全区组工信息宣传工作情况的通报"
INTRO = (
    "为进一步做好组工信息宣传工作，充分调动各单位报送信息的积极性，根据《上街区组工信息考核办法》，"
    "现将2026年1月至9月全区组工信息宣传工作情况通报如下。"
)
EQ_LINE = "=SUM(A1:A9)+1 这一行以等号开头"

SAMPLE = f"""{TITLE}

各党（工）委，部机关各科室：
{INTRO}
一、总体情况
截至2026年9月30日，全区17个单位中有16个单位报送了组工信息，共报送信息312条，被区级以上媒体采用158条。
二、表扬
（一）镇街
峡窝镇党委、中心路街道党工委、济源路街道党工委报送数量多、质量高，予以表扬。
（二）其他党工委
区直机关工委、教育工委报送积极，予以表扬。
三、存在问题
1.未达到序时进度的单位：某某街道党工委、某某镇党委。
2．部分单位信息质量不高，内容同质化，被采用率偏低。
{EQ_LINE}
-5 个单位未报送
@所有单位 请按时报送
+1 单位新增
四、下步要求
（一）提高思想认识。各单位要充分认识组工信息工作的重要性，把信息报送作为展示工作成效的重要窗口。
（二）突出工作重点
围绕中心工作，深入挖掘基层党建工作中的好经验、好做法。

附件：2026年第三季度组工信息考核积分排名表

中共上街区委组织部
2026年10月8日
"""

ATTACHMENT = {
    "title": "2026年第三季度组工信息考核积分排名表",
    "header": ["排名", "单位", "报送数", "采用数", "积分"],
    "rows": [["镇街", "", "", "", ""]]
    + [[str(i), f"第{i}镇街党（工）委", str(30 - i), str(10 - i // 2), f"{100 - i * 3.5:.1f}"] for i in range(1, 9)]
    + [["其他党工委", "", "", "", ""]]
    + [[str(i), f"区直单位{i}党委", "5", "2", "12.0"] for i in range(1, 10)],
    "col_widths_mm": None,
}
N_TABLE_ROWS = 1 + len(ATTACHMENT["rows"])


# ------------------------------------------------------------------ helpers


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bulletin") / "通报.docx"
    write_bulletin_docx(SAMPLE, path, attachment=ATTACHMENT)
    return path


def part_xml(path: Path, name: str) -> etree._Element:
    with zipfile.ZipFile(path) as zf:
        return etree.fromstring(zf.read(name))


def body_paragraphs(path: Path) -> list[etree._Element]:
    """Top-level paragraphs of the body (not inside the table)."""
    body = part_xml(path, "word/document.xml").find(wq("body"))
    return body.findall(wq("p"))


def ptext(p: etree._Element) -> str:
    return "".join(t.text or "" for t in p.iter(wq("t")))


def para_by_text(path: Path, start: str) -> etree._Element:
    for p in body_paragraphs(path):
        if ptext(p).startswith(start):
            return p
    raise AssertionError(f"no paragraph starting with {start!r}")


def run_fonts(p: etree._Element) -> list[tuple[str, str]]:
    """(text, eastAsia font) per text-bearing run."""
    out = []
    for r in p.findall(wq("r")):
        text = "".join(t.text or "" for t in r.findall(wq("t")))
        if not text:
            continue
        fonts = r.find("w:rPr/w:rFonts", NS)
        assert fonts is not None, f"run {text!r} has no w:rFonts"
        out.append((text, fonts.get(wq("eastAsia"))))
    return out


def run_size(p: etree._Element) -> int:
    sizes = {int(r.find("w:rPr/w:sz", NS).get(wq("val"))) for r in p.findall(wq("r")) if r.find(wq("t")) is not None}
    assert len(sizes) == 1, sizes
    return sizes.pop()


def ppr_attr(p: etree._Element, child: str, attr: str) -> str | None:
    el = p.find(f"w:pPr/w:{child}", NS)
    return None if el is None else el.get(wq(attr))


def jc(p: etree._Element) -> str | None:
    return ppr_attr(p, "jc", "val")


def style_el(path: Path, style_id: str) -> etree._Element:
    styles = part_xml(path, "word/styles.xml")
    for st in styles.findall(wq("style")):
        if st.get(wq("styleId")) == style_id:
            return st
    raise AssertionError(style_id)


# ------------------------------------------------------------------ page set-up


def test_page_is_a4_with_gbt9704_margins(built):
    sec = Document(str(built)).sections[0]
    assert round(sec.page_width.mm) == 210
    assert round(sec.page_height.mm) == 297
    assert abs(sec.top_margin.mm - 37) < 0.2
    assert abs(sec.bottom_margin.mm - 35) < 0.2
    assert abs(sec.left_margin.mm - 28) < 0.2
    assert abs(sec.right_margin.mm - 26) < 0.2
    # 版心 156 mm x 225 mm
    assert abs(sec.page_width.mm - sec.left_margin.mm - sec.right_margin.mm - 156) < 0.3
    assert abs(sec.page_height.mm - sec.top_margin.mm - sec.bottom_margin.mm - 225) < 0.3
    grid = part_xml(built, "word/document.xml").find(".//w:sectPr/w:docGrid", NS)
    assert grid.get(wq("linePitch")) == "579"


def test_east_asian_language_is_zh_cn(built):
    styles = part_xml(built, "word/styles.xml")
    lang = styles.find("w:docDefaults/w:rPrDefault/w:rPr/w:lang", NS)
    assert lang.get(wq("eastAsia")) == "zh-CN"
    assert b"ja-JP" not in zipfile.ZipFile(built).read("word/styles.xml")
    settings = part_xml(built, "word/settings.xml")
    assert settings.find("w:themeFontLang", NS).get(wq("eastAsia")) == "zh-CN"


# ------------------------------------------------------------------ fonts


def test_every_run_has_explicit_east_asian_font(built):
    for name in ("word/document.xml", "word/footer1.xml", "word/footer2.xml"):
        root = part_xml(built, name)
        for r in root.iter(wq("r")):
            fonts = r.find("w:rPr/w:rFonts", NS)
            assert fonts is not None, name
            for attr in ("eastAsia", "ascii", "hAnsi"):
                assert fonts.get(wq(attr)), (name, attr)


def test_styles_carry_east_asian_fonts(built):
    expected = {"Normal": "仿宋_GB2312", "Heading1": "黑体", "Heading2": "楷体_GB2312"}
    for style_id, font in expected.items():
        st = style_el(built, style_id)
        fonts = st.find("w:rPr/w:rFonts", NS)
        assert fonts.get(wq("eastAsia")) == font
        assert fonts.get(wq("ascii")) == font
        assert fonts.get(wq("asciiTheme")) is None  # theme fonts would override
        assert st.find("w:rPr/w:sz", NS).get(wq("val")) == "32"
        assert st.find("w:rPr/w:b", NS) is None
        assert st.find("w:rPr/w:color", NS) is None
    defaults = part_xml(built, "word/styles.xml").find("w:docDefaults/w:rPrDefault/w:rPr/w:rFonts", NS)
    assert defaults.get(wq("eastAsia")) == "仿宋_GB2312"


def test_title_font_size_alignment_and_line_break(built):
    p = body_paragraphs(built)[0]
    assert ptext(p) == TITLE
    assert {f for _, f in run_fonts(p)} == {"方正小标宋简体"}
    assert run_size(p) == 44  # 2号 = 22 pt
    assert jc(p) == "center"
    # 梯形 break at a word end, each line within the 20 characters of a 2号 line
    breaks = p.findall(".//w:br", NS)
    assert len(breaks) == 1
    texts = [t for t, _ in run_fonts(p)]
    assert texts == ["关于2026年第三季度", "全区组工信息宣传工作情况的通报"]
    # one blank line below the title
    assert ptext(body_paragraphs(built)[1]) == ""


def test_heading_levels_fonts(built):
    h1 = para_by_text(built, "一、总体情况")
    assert run_fonts(h1) == [("一、总体情况", "黑体")]
    assert ppr_attr(h1, "pStyle", "val") == "Heading1"
    assert run_size(h1) == 32
    h2 = para_by_text(built, "（一）镇街")
    assert run_fonts(h2) == [("（一）镇街", "楷体_GB2312")]
    assert ppr_attr(h2, "pStyle", "val") == "Heading2"
    h3 = para_by_text(built, "1.未达到")
    assert {f for _, f in run_fonts(h3)} == {"仿宋_GB2312"}
    h3b = para_by_text(built, "2．部分单位")
    assert {f for _, f in run_fonts(h3b)} == {"仿宋_GB2312"}
    # run-in heading: only the heading sentence is 楷体
    mixed = para_by_text(built, "（一）提高思想认识。")
    assert run_fonts(mixed) == [
        ("（一）提高思想认识。", "楷体_GB2312"),
        ("各单位要充分认识组工信息工作的重要性，把信息报送作为展示工作成效的重要窗口。", "仿宋_GB2312"),
    ]
    assert ppr_attr(mixed, "pStyle", "val") is None


def test_body_paragraph_format(built):
    for start in (INTRO[:10], "截至2026年9月30日", "一、总体情况", "（一）镇街", "1.未达到"):
        p = para_by_text(built, start)
        spacing = p.find("w:pPr/w:spacing", NS)
        assert spacing.get(wq("lineRule")) == "exact"
        assert abs(int(spacing.get(wq("line"))) - 579) <= 1  # 28.95 pt
        assert spacing.get(wq("before")) == "0" and spacing.get(wq("after")) == "0"
        assert ppr_attr(p, "ind", "firstLineChars") == "200"
        assert ppr_attr(p, "ind", "firstLine") == "640"  # 32 pt
        assert jc(p) == "both"
        assert run_size(p) == 32  # 3号
    body = para_by_text(built, INTRO[:10])
    assert run_fonts(body) == [(INTRO, "仿宋_GB2312")]


def test_addressee_is_flush_left(built):
    p = para_by_text(built, "各党（工）委，部机关各科室：")
    assert ptext(p) == "各党（工）委，部机关各科室："
    assert ppr_attr(p, "ind", "firstLine") == "0"
    assert ppr_attr(p, "ind", "left") in (None, "0")
    assert jc(p) == "left"


def test_text_starting_with_formula_characters_stays_literal(built):
    for line in (EQ_LINE, "-5 个单位未报送", "@所有单位 请按时报送", "+1 单位新增"):
        p = para_by_text(built, line[:3])
        assert ptext(p) == line
    xml = zipfile.ZipFile(built).read("word/document.xml").decode("utf-8")
    assert "fldSimple" not in xml and "instrText" not in xml


# ------------------------------------------------------------------ closing block


def test_attachment_note_placement(built):
    paras = body_paragraphs(built)
    idx = next(i for i, p in enumerate(paras) if ptext(p).startswith("附件："))
    note = paras[idx]
    assert ptext(note) == "附件：2026年第三季度组工信息考核积分排名表"
    assert ptext(paras[idx - 1]) == ""  # 正文下空一行
    assert ptext(paras[idx - 2]).startswith("围绕中心工作")
    # 左空二字: hanging indent so the first line starts 2 chars in, wraps align after "附件："
    assert ppr_attr(note, "ind", "leftChars") == "500"
    assert ppr_attr(note, "ind", "hangingChars") == "300"


def test_signature_and_date_no_seal_layout(built):
    paras = body_paragraphs(built)
    idx = next(i for i, p in enumerate(paras) if ptext(p) == "中共上街区委组织部")
    sig, date = paras[idx], paras[idx + 1]
    assert ptext(date) == "2026年10月8日"
    assert ptext(paras[idx - 1]) == "" and ptext(paras[idx - 2]).startswith("附件：")
    assert jc(sig) == "right" and jc(date) == "right"
    # 7.3.5.2: 署名右空二字; date's first char 2 chars right of the 署名's first char:
    # 署名 9 chars, date 6.5 chars (7 half-width digits) -> date 右空 2.5 chars
    assert ppr_attr(sig, "ind", "rightChars") == "200"
    assert ppr_attr(date, "ind", "rightChars") == "250"
    assert ppr_attr(sig, "ind", "right") == "640"
    assert ppr_attr(date, "ind", "right") == "800"
    assert {f for _, f in run_fonts(sig) + run_fonts(date)} == {"仿宋_GB2312"}
    assert sig.find("w:pPr/w:keepNext", NS) is not None


def test_signature_seal_layout(tmp_path):
    path = tmp_path / "seal.docx"
    write_bulletin_docx(SAMPLE, path, seal=True)
    paras = body_paragraphs(path)
    idx = next(i for i, p in enumerate(paras) if ptext(p) == "中共上街区委组织部")
    sig, date = paras[idx], paras[idx + 1]
    # 7.3.5.1: 成文日期右空四字, 署名 centred on the date: 4 + (6.5 - 9) / 2 = 2.75
    assert ppr_attr(date, "ind", "rightChars") == "400"
    assert ppr_attr(sig, "ind", "rightChars") == "275"
    assert ptext(paras[idx - 1]) == "" and ptext(paras[idx - 2]) == ""


def test_long_date_shifts_signature_left(tmp_path):
    path = tmp_path / "short_sig.docx"
    write_bulletin_docx("标题\n正文。\n组织部\n2026年12月28日\n", path)
    paras = body_paragraphs(path)
    sig, date = paras[-2], paras[-1]
    # date (7 chars) longer than 署名 (3): date 右空二字, 署名 4 + 7 - 3 = 8 chars
    assert ppr_attr(date, "ind", "rightChars") == "200"
    assert ppr_attr(sig, "ind", "rightChars") == "800"


def test_without_signature_block_everything_is_body(tmp_path):
    path = tmp_path / "plain.docx"
    write_bulletin_docx("标题\n第一段。\n第二段。", path)
    paras = body_paragraphs(path)
    assert [ptext(p) for p in paras] == ["标题", "", "第一段。", "第二段。"]
    assert jc(paras[-1]) == "both"
    cp = Document(str(path)).core_properties
    assert cp.created == dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    assert cp.author == ""


# ------------------------------------------------------------------ page numbers


def test_page_numbers_odd_right_even_left(built):
    doc_root = part_xml(built, "word/document.xml")
    sect = doc_root.find(".//w:sectPr", NS)
    refs = {ref.get(wq("type")): ref.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id")
            for ref in sect.findall("w:footerReference", NS)}
    assert set(refs) == {"default", "even"}
    rels = part_xml(built, "word/_rels/document.xml.rels")
    target = {r.get("Id"): r.get("Target") for r in rels}
    settings = part_xml(built, "word/settings.xml")
    assert settings.find("w:evenAndOddHeaders", NS) is not None
    for kind, align, side in (("default", "right", "right"), ("even", "left", "left")):
        ftr = part_xml(built, "word/" + target[refs[kind]])
        p = ftr.find("w:p", NS)
        assert jc(p) == align
        assert ppr_attr(p, "ind", side) == "280"  # 一字 of 4号
        instr = "".join(t.text for t in ftr.iter(wq("instrText")))
        assert instr.strip() == "PAGE"
        kinds = [f.get(wq("fldCharType")) for f in ftr.iter(wq("fldChar"))]
        assert kinds == ["begin", "separate", "end"]
        assert ptext(p) == "— 1 —"
        for r in p.findall("w:r", NS):
            assert r.find("w:rPr/w:sz", NS).get(wq("val")) == "28"  # 4号
            assert r.find("w:rPr/w:rFonts", NS).get(wq("eastAsia")) == "宋体"


# ------------------------------------------------------------------ attachment


def test_attachment_starts_new_page_with_label_and_title(built):
    paras = body_paragraphs(built)
    idx = next(i for i, p in enumerate(paras) if ptext(p) == "附件")
    label = paras[idx]
    assert label.find("w:pPr/w:pageBreakBefore", NS) is not None
    assert run_fonts(label) == [("附件", "黑体")]
    assert ppr_attr(label, "ind", "firstLine") == "0"
    assert ptext(paras[idx + 1]) == ""  # title in line 3
    title = paras[idx + 2]
    assert ptext(title) == ATTACHMENT["title"]
    assert jc(title) == "center"
    assert {f for _, f in run_fonts(title)} == {"方正小标宋简体"}
    assert run_size(title) == 44


def test_attachment_table(built):
    doc = Document(str(built))
    assert len(doc.tables) == 1
    table = doc.tables[0]
    assert len(table.rows) == N_TABLE_ROWS
    assert [c.text for c in table.rows[0].cells] == ATTACHMENT["header"]
    assert [c.text for c in table.rows[2].cells] == ATTACHMENT["rows"][1]
    tbl = part_xml(built, "word/document.xml").find(".//w:tbl", NS)
    trs = tbl.findall("w:tr", NS)
    assert trs[0].find("w:trPr/w:tblHeader", NS) is not None
    assert all(tr.find("w:trPr/w:tblHeader", NS) is None for tr in trs[1:])
    assert all(tr.find("w:trPr/w:cantSplit", NS) is not None for tr in trs)
    borders = tbl.find("w:tblPr/w:tblBorders", NS)
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        assert borders.find(f"w:{side}", NS).get(wq("val")) == "single"
    # category group rows are merged across the table
    group = trs[1]
    assert ptext(group) == "镇街"
    assert group.find(".//w:gridSpan", NS).get(wq("val")) == str(len(ATTACHMENT["header"]))
    # widths fit the 版心 (156 mm = 8845 twips)
    widths = [int(g.get(wq("w"))) for g in tbl.findall("w:tblGrid/w:gridCol", NS)]
    assert len(widths) == 5 and abs(sum(widths) - 8845) <= 5
    assert widths[1] == max(widths)  # the 单位 column is the widest
    # 仿宋 4号, header 黑体; cell paragraphs not indented
    for tr_i, tr in enumerate(trs[:3]):
        for p in tr.iter(wq("p")):
            for text, font in run_fonts(p):
                assert font == ("黑体" if tr_i < 2 else "仿宋_GB2312"), text
            if ptext(p):
                assert run_size(p) == 28
                assert ppr_attr(p, "ind", "firstLine") == "0"


def test_attachment_explicit_widths_are_scaled_to_text_block(tmp_path):
    path = tmp_path / "w.docx"
    att = dict(ATTACHMENT, col_widths_mm=[30, 90, 30, 30, 32])  # 212 mm > 156 mm
    write_bulletin_docx(SAMPLE, path, attachment=att)
    tbl = part_xml(path, "word/document.xml").find(".//w:tbl", NS)
    widths = [int(g.get(wq("w"))) for g in tbl.findall("w:tblGrid/w:gridCol", NS)]
    assert abs(sum(widths) - 8845) <= 5
    assert abs(widths[1] / widths[0] - 3) < 0.01
    att = dict(ATTACHMENT, col_widths_mm=[20, 60, 20, 20, 20])  # 140 mm, kept
    write_bulletin_docx(SAMPLE, path, attachment=att)
    tbl = part_xml(path, "word/document.xml").find(".//w:tbl", NS)
    widths = [int(g.get(wq("w"))) for g in tbl.findall("w:tblGrid/w:gridCol", NS)]
    assert widths == [1134, 3402, 1134, 1134, 1134]


def test_bad_input_raises_chinese_value_error(tmp_path):
    path = tmp_path / "bad.docx"
    with pytest.raises(ValueError, match="为空"):
        write_bulletin_docx(" \n\u3000\n", path)
    with pytest.raises(ValueError, match="列宽"):
        write_bulletin_docx(SAMPLE, path, attachment=dict(ATTACHMENT, col_widths_mm=[10, 20]))
    with pytest.raises(ValueError, match="多于表头"):
        write_bulletin_docx(SAMPLE, path, attachment=dict(ATTACHMENT, rows=[["1", "2", "3", "4", "5", "6"]]))
    with pytest.raises(ValueError, match="表头"):
        write_bulletin_docx(SAMPLE, path, attachment={"title": "x", "header": [], "rows": []})
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []  # no temp files left behind


def test_control_characters_are_dropped(tmp_path):
    path = tmp_path / "ctl.docx"
    write_bulletin_docx("标题\x07\n正文\x00内容。\x1b", path, attachment=dict(ATTACHMENT, rows=[["1\x01", "单位"]]))
    paras = body_paragraphs(path)
    assert ptext(paras[0]) == "标题"
    assert ptext(paras[2]) == "正文内容。"
    assert Document(str(path)).tables[0].rows[1].cells[0].text == "1"


# ------------------------------------------------------------------ metadata, determinism


def test_core_properties(built):
    cp = Document(str(built)).core_properties
    assert cp.title == TITLE
    assert cp.author == "中共上街区委组织部"
    assert cp.last_modified_by == "中共上街区委组织部"
    assert cp.created == dt.datetime(2026, 10, 8, tzinfo=dt.timezone.utc)
    assert cp.modified == dt.datetime(2026, 10, 8, tzinfo=dt.timezone.utc)
    assert cp.language == "zh-CN"
    assert "python-docx" not in (cp.comments or "")
    names = zipfile.ZipFile(built).namelist()
    assert "docProps/thumbnail.jpeg" not in names


def test_explicit_timestamp(tmp_path):
    path = tmp_path / "ts.docx"
    stamp = dt.datetime(2026, 10, 9, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    write_bulletin_docx(SAMPLE, path, timestamp=stamp)
    assert Document(str(path)).core_properties.created == dt.datetime(2026, 10, 9, 0, 30, tzinfo=dt.timezone.utc)


def test_output_is_deterministic(tmp_path, built):
    a, b = tmp_path / "a.docx", tmp_path / "sub" / "b.docx"
    b.parent.mkdir()
    write_bulletin_docx(SAMPLE, a, attachment=ATTACHMENT)
    write_bulletin_docx(SAMPLE, b, attachment=ATTACHMENT)
    assert a.read_bytes() == b.read_bytes() == built.read_bytes()
    with zipfile.ZipFile(a) as zf:
        assert zf.namelist()[0] == "[Content_Types].xml"
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_atomic_overwrite(tmp_path):
    path = tmp_path / "out.docx"
    path.write_bytes(b"old content")
    write_bulletin_docx(SAMPLE, str(path))
    assert zipfile.is_zipfile(path)
    assert [p.name for p in tmp_path.iterdir()] == ["out.docx"]


# ------------------------------------------------------------------ LibreOffice


def _page_count(pdf: Path) -> int:
    if shutil.which("pdfinfo"):
        out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, timeout=60).stdout
        m = re.search(r"^Pages:\s+(\d+)", out, re.M)
        if m:
            return int(m.group(1))
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes()))


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="未安装 LibreOffice（soffice），跳过 PDF 转换测试")
def test_libreoffice_converts_to_pdf(built, tmp_path):
    src = tmp_path / "bulletin.docx"
    shutil.copyfile(built, src)
    profile = tmp_path / "lo_profile"
    cmd = [
        "soffice",
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        "pdf",
        "--outdir",
        str(tmp_path),
        str(src),
    ]
    try:
        subprocess.run(cmd, capture_output=True, timeout=240, check=False, env={**os.environ, "HOME": str(tmp_path)})
    except subprocess.TimeoutExpired:
        pytest.fail("LibreOffice 转换超时")
    pdf = tmp_path / "bulletin.pdf"
    assert pdf.exists(), "LibreOffice 未生成 PDF"
    # body (~1-2 pages) + attachment on its own page
    assert _page_count(pdf) >= 2


@pytest.mark.parametrize(
    ("title", "lines"),
    [
        ("短标题", ["短标题"]),
        ("2026年第三季度组工信息考核积分排名表", ["2026年第三季度组工信息考核积分排名表"]),
        ("关于2025年度全区组工信息宣传工作情况的通报", ["关于2025年度", "全区组工信息宣传工作情况的通报"]),
        ("关于2026年上半年全区组工信息宣传工作情况的通报", ["关于2026年上半年", "全区组工信息宣传工作情况的通报"]),
        (
            "关于进一步加强和改进新时代组工信息宣传工作推动全区组织工作高质量发展的通报通知",
            ["关于进一步加强和", "改进新时代组工信息宣传工作推动", "全区组织工作高质量发展的通报通知"],
        ),
    ],
)
def test_title_line_breaking(title, lines):
    from zg_excel.outputs.docx_bulletin import _title_lines

    assert _title_lines(title, 20) == lines


def test_lone_surrogates_are_dropped(tmp_path):
    path = tmp_path / "sur.docx"
    write_bulletin_docx("标题\n正文\ud800。", path)
    assert ptext(body_paragraphs(path)[2]) == "正文。"


def test_copied_body_rows_are_the_rows_python_docx_builds(tmp_path, monkeypatch):
    """Body rows after the first are copies of a template row with their texts set: the
    document must be byte for byte what building every row with python-docx gives."""
    import zg_excel.outputs.docx_bulletin as D

    rows = [["镇街", "", "", "", ""]]
    rows += [[str(i), f"单位{i}", "" if i % 3 == 0 else f"{i}.50", " 前后空格 " if i == 4 else "x",
              "a\tb" if i == 5 else ""] for i in range(1, 9)]
    rows += [["部门", "", "", "", ""], ["9", "单位9", "2", "3", "4"]]
    att = dict(ATTACHMENT, rows=rows)
    fast, slow = tmp_path / "fast.docx", tmp_path / "slow.docx"
    write_bulletin_docx(SAMPLE, fast, attachment=att)
    monkeypatch.setattr(D, "_plain_text", lambda value: False)  # every row through python-docx
    write_bulletin_docx(SAMPLE, slow, attachment=att)
    with zipfile.ZipFile(fast) as a, zipfile.ZipFile(slow) as b:
        assert a.read("word/document.xml") == b.read("word/document.xml")
    table = Document(str(fast)).tables[-1]
    assert [c.text for c in table.rows[4].cells] == ["3", "单位3", "", "x", ""]


# ------------------------------------------------------------ font settings


def test_fonts_per_role_are_used_with_east_asian_attribute(tmp_path):
    """An office without the GB/T 9704 fonts names its own: every run, style and the font table use them."""
    from zg_excel.outputs.docx_bulletin import Fonts

    fonts = Fonts(title="华文中宋", body="仿宋", heading1="黑体", heading2="楷体")
    path = tmp_path / "fonts.docx"
    write_bulletin_docx(SAMPLE, path, attachment=ATTACHMENT, fonts=fonts)
    assert {f for _, f in run_fonts(body_paragraphs(path)[0])} == {"华文中宋"}
    assert run_fonts(para_by_text(path, "一、总体情况")) == [("一、总体情况", "黑体")]
    assert run_fonts(para_by_text(path, "（一）镇街")) == [("（一）镇街", "楷体")]
    assert {f for _, f in run_fonts(para_by_text(path, INTRO[:10]))} == {"仿宋"}
    doc = part_xml(path, "word/document.xml")
    used = {r.get(wq("eastAsia")) for r in doc.iter(wq("rFonts"))}
    assert used <= {"华文中宋", "仿宋", "黑体", "楷体"}, used
    for r in doc.iter(wq("rFonts")):
        assert r.get(wq("eastAsia")) == r.get(wq("ascii"))
    assert style_el(path, "Normal").find("w:rPr/w:rFonts", NS).get(wq("eastAsia")) == "仿宋"
    declared = {f.get(wq("name")) for f in part_xml(path, "word/fontTable.xml").findall(wq("font"))}
    assert {"华文中宋", "仿宋", "黑体", "楷体"} <= declared
    assert "方正小标宋简体" not in declared and "仿宋_GB2312" not in declared


def test_attachment_columns_fit_their_numbers_and_the_type_area(tmp_path):
    """Numeric columns hold their longest value on one line at the chosen size; the table is 156 mm."""
    from zg_excel.outputs.docx_bulletin import TABLE_CELL_MARGIN_TW, _auto_widths, _cell_em

    header = ["排名", "较上期", "单位", "报送条数", "本单位积分", "对口处室积分", "总积分", "序时目标", "完成进度"]
    rows = [["镇街"] + [""] * 8] + [[str(i), "↑2", "中共郑州市上街区非公有制经济组织和社会组织工作委员会", "245",
                                     "1222.25", "12.5", "1234.75", "37.5", "1800%"] for i in range(1, 4)]
    widths, size = _auto_widths(header, rows)
    assert abs(sum(widths) - 156) < 0.01
    em_mm = size * 25.4 / 72
    pad = 2 * TABLE_CELL_MARGIN_TW * 25.4 / 1440
    for j in (0, 1, 3, 4, 5, 6, 7, 8):
        assert widths[j] >= max(_cell_em(r[j]) for r in rows[1:]) * em_mm + pad, header[j]
    assert widths[2] >= 4 * em_mm + pad  # the names take the rest, at least four characters
    # short names and few columns: the largest size (4号)
    widths, size = _auto_widths(["排名", "单位", "总积分"], [["1", "组织科", "93.5"]])
    assert size == 14.0 and abs(sum(widths) - 156) < 0.01
