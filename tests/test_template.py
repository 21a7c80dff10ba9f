"""The per-unit template: layout, protection, dropdowns, fingerprint, determinism, LibreOffice round trip."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import subprocess
import uuid
from fractions import Fraction
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter, range_boundaries

from zg_excel import TEMPLATE_VERSION
from zg_excel.rules import ConfigError, load_rules
from zg_excel.roster import load_catalog, load_roster
from zg_excel.schema import (
    CATALOG_SHEET,
    DATA_SHEETS,
    EVENT_SHEET,
    FIRST_DATA_ROW,
    HEADER_ROW,
    INSTRUCTIONS,
    META_SHEET,
    SUBMISSION_SHEET,
    SUBMISSIONS,
    EVENTS,
    TITLE_ROW,
    UNIT_LABEL,
    UNIT_ROW,
)
from zg_excel.template import DATA_ROWS, template_filename, write_template, write_templates

YEAR = 2026
LAST_DATA_ROW = FIRST_DATA_ROW + DATA_ROWS - 1
ALLOWED = ("formatCells", "formatColumns", "formatRows", "insertRows", "deleteRows", "sort", "autoFilter",
           "selectLockedCells", "selectUnlockedCells")


@pytest.fixture(scope="module")
def setup():
    rules = load_rules()
    return rules, load_roster(None, rules), load_catalog(None, rules)


@pytest.fixture(scope="module")
def unit(setup):
    _, roster, _ = setup
    return roster.units[0]


@pytest.fixture(scope="module")
def template(setup, unit, tmp_path_factory) -> Path:
    rules, roster, catalog = setup
    path = tmp_path_factory.mktemp("tpl") / template_filename(unit.name, YEAR)
    write_template(path, unit=unit, year=YEAR, roster=roster, catalog=catalog, rules=rules)
    return path


@pytest.fixture(scope="module")
def wb(template):
    book = openpyxl.load_workbook(template)
    yield book
    book.close()


def _validations(ws) -> dict[str, object]:
    """Data validations by column letter (each covers one column)."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            min_col, min_row, max_col, max_row = range_boundaries(rng)
            assert min_col == max_col
            out[get_column_letter(min_col)] = (dv, min_row, max_row)
    return out


def _range_values(wb, formula: str) -> list:
    sheet, rng = formula.lstrip("=").rsplit("!", 1)
    ws = wb[sheet.strip("'")]
    return [c.value for row in ws[rng.replace("$", "")] for c in row]


# ---------------------------------------------------------------- names and files


def test_filename():
    assert template_filename("峡窝镇党委", 2026) == "2026年组工信息报送登记表-峡窝镇党委.xlsx"
    name = template_filename('a/b\\c:d*e?"f<g>h|', 2026)
    assert not set('/\\:*?"<>|') & set(name[:-5]) and name.endswith(".xlsx")
    assert template_filename("  ", 2026) == "2026年组工信息报送登记表-未命名单位.xlsx"


def test_sheet_order_and_hidden_meta(wb):
    assert wb.sheetnames == [INSTRUCTIONS, SUBMISSIONS, EVENTS, CATALOG_SHEET, META_SHEET]
    states = {ws.title: ws.sheet_state for ws in wb.worksheets}
    assert states.pop(META_SHEET) == "hidden"
    assert set(states.values()) == {"visible"}


# ---------------------------------------------------------------- data sheets


@pytest.mark.parametrize("schema", DATA_SHEETS, ids=lambda s: s.name)
def test_layout(wb, unit, schema):
    ws = wb[schema.name]
    headers = [ws.cell(HEADER_ROW, c + 1).value for c in range(len(schema.columns))]
    assert headers == [c.name for c in schema.columns]
    assert ws.cell(HEADER_ROW, len(schema.columns) + 1).value is None
    assert ws.cell(TITLE_ROW, 1).value == schema.title.format(year=YEAR)
    assert ws.cell(UNIT_ROW, 1).value == f"{UNIT_LABEL}：{unit.name}"
    for c, col in enumerate(schema.columns, start=1):
        cell = ws.cell(HEADER_ROW, c)
        red = cell.font.color is not None and cell.font.color.rgb == "FFC00000"
        assert red == bool(col.required or col.required_for), col.name
        assert ws.column_dimensions[get_column_letter(c)].width == pytest.approx(col.width, abs=0.8)
    assert ws.freeze_panes == f"A{FIRST_DATA_ROW}"
    assert ws.auto_filter.ref == f"A{HEADER_ROW}:{get_column_letter(len(schema.columns))}{LAST_DATA_ROW}"
    assert ws.cell(HEADER_ROW, 1).font.name == "宋体"


@pytest.mark.parametrize("schema", DATA_SHEETS, ids=lambda s: s.name)
def test_protection(wb, schema):
    ws = wb[schema.name]
    prot = ws.protection
    assert prot.sheet and not prot.password
    for option in ALLOWED:  # openpyxl: False = not protected = allowed
        assert getattr(prot, option) is False, option
    assert prot.insertColumns and prot.deleteColumns
    n = len(schema.columns)
    for row in (TITLE_ROW, UNIT_ROW, HEADER_ROW):
        for c in range(1, n + 1):
            assert ws.cell(row, c).protection.locked, (row, c)
    for c in range(1, n + 1):  # the data area: whole columns unlocked
        assert ws.column_dimensions[get_column_letter(c)].protection.locked is False
    assert ws.cell(FIRST_DATA_ROW, 1).has_style is False  # no written cells below the header


@pytest.mark.parametrize("schema", DATA_SHEETS, ids=lambda s: s.name)
def test_validations(wb, setup, schema):
    rules, roster, catalog = setup
    ws = wb[schema.name]
    dvs = _validations(ws)
    assert len(dvs) == len(schema.columns)
    lists = {"录用形式": rules.forms, "媒体级别": rules.levels, "报送对象": rules.destinations}
    for c, col in enumerate(schema.columns, start=1):
        dv, first, last = dvs[get_column_letter(c)]
        assert (first, last) == (FIRST_DATA_ROW, LAST_DATA_ROW)
        assert dv.promptTitle.startswith(col.name)
        assert (dv.prompt or "") == col.prompt
        assert dv.showInputMessage
        if col.kind == "date":
            assert dv.type == "date" and dv.operator in (None, "between")
            base = dt.date(1899, 12, 30)
            assert int(dv.formula1) == (dt.date(YEAR, 1, 1) - base).days
            assert int(dv.formula2) == (dt.date(YEAR, 12, 31) - base).days
            assert dv.errorStyle == "warning"
        elif col.kind == "choice":
            assert dv.type == "list" and dv.errorStyle in (None, "stop")
            assert dv.formula1 == '"' + ",".join(lists[col.name]) + '"'
        elif col.kind == "yesno":
            assert dv.type == "list" and dv.formula1 == '"是,否"'
        elif col.kind == "media":
            assert dv.type == "list" and dv.errorStyle == "information"
            assert dv.formula1.lstrip("=").split("!")[0].strip("'") == CATALOG_SHEET
            assert _range_values(wb, dv.formula1) == [o.name for o in catalog.outlets]
        elif col.kind == "section":
            assert dv.type == "list" and dv.errorStyle == "warning"
            assert dv.formula1.lstrip("=").split("!")[0].strip("'") == META_SHEET
            assert _range_values(wb, dv.formula1) == [u.name for u in roster.sections(rules.section_category)]
        elif col.kind == "count":
            assert dv.type == "whole" and dv.operator == "greaterThanOrEqual" and dv.formula1 == "0"
        elif col.kind == "minutes":
            assert dv.type == "decimal" and dv.operator == "greaterThanOrEqual" and dv.formula1 == "0"
            assert dv.errorStyle == "information"
        elif col.kind == "url":  # 台帐 链接: a URL, kept when it is not one
            cell = f"{get_column_letter(c)}{FIRST_DATA_ROW}"
            assert dv.type == "custom" and dv.errorStyle == "information"
            assert dv.formula1 == f'OR(LEFT({cell},7)="http://",LEFT({cell},8)="https://")'
        elif col.kind == "files":  # 台帐 证明材料: file names, ;-separated
            assert dv.type == "textLength" and dv.errorStyle == "warning" and "“;”" in dv.error
        else:
            assert dv.type is None


def test_dropdowns_follow_the_rules(setup, unit, tmp_path):
    rules, roster, catalog = setup
    custom = dataclasses.replace(rules, forms=("采用", "转载", "综合", "批示"), destinations=("区委组织部", "市委组织部"))
    path = tmp_path / "t.xlsx"
    write_template(path, unit=unit, year=YEAR, roster=roster, catalog=catalog, rules=custom)
    book = openpyxl.load_workbook(path)
    col = [c.name for c in EVENT_SHEET.columns].index("录用形式") + 1
    dv, _, _ = _validations(book[EVENTS])[get_column_letter(col)]
    assert dv.formula1 == '"采用,转载,综合,批示"'
    col = [c.name for c in SUBMISSION_SHEET.columns].index("报送对象") + 1
    dv, _, _ = _validations(book[SUBMISSIONS])[get_column_letter(col)]
    assert dv.formula1 == '"区委组织部,市委组织部"'


def test_catalog_sheet(wb, setup):
    _, _, catalog = setup
    ws = wb[CATALOG_SHEET]
    assert [ws.cell(1, c).value for c in range(1, 5)] == ["媒体名称", "级别", "类别", "别名"]
    n = len(catalog.outlets)
    rows = list(ws.iter_rows(min_row=2, max_row=n + 1, max_col=4, values_only=True))
    assert ws.cell(n + 2, 1).value is None  # the dropdown range ends at the last outlet
    assert [r[0] for r in rows] == [o.name for o in catalog.outlets]
    assert [r[1] for r in rows] == [o.level for o in catalog.outlets]
    assert ws.protection.sheet and not ws.protection.password


def test_print_settings(wb):
    for schema in DATA_SHEETS:
        ws = wb[schema.name]
        assert ws.page_setup.orientation == "landscape"
        assert int(ws.page_setup.paperSize) == 9
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0
        assert ws.print_title_rows == f"$1:${HEADER_ROW}"
        assert ws.print_options.gridLines
        assert ws.oddHeader.center.text == schema.title.format(year=YEAR)
        assert ws.oddFooter.center.text == "第 &P 页，共 &N 页"
    help_ws = wb[INSTRUCTIONS]
    assert help_ws.page_setup.orientation == "portrait" and help_ws.sheet_properties.pageSetUpPr.fitToPage


# ---------------------------------------------------------------- instructions


def test_instructions(wb, setup, unit):
    rules, _, _ = setup
    ws = wb[INSTRUCTIONS]
    text = "\n".join(str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None)
    assert unit.name in text and str(YEAR) in text
    for needle in ("3行", "批示", "字数", "经对口处室", "是否组织工作", "严重失实", ".xlsx", "密码", "表头", "累计"):
        assert needle in text, needle
    assert ws.protection.sheet
    # The points table, straight from the rules.
    header = next(r for r in ws.iter_rows(values_only=True) if "录用形式＼级别" in r)
    assert list(rules.levels) == [v for v in header[2:] if v]
    table = {r[1]: r[2:2 + len(rules.levels)] for r in ws.iter_rows(values_only=True) if r[1] in rules.forms}
    assert table["综合"][0] == "0.5" and table["采用"][-1] == "30"


def test_instructions_points_come_from_the_rules(setup, unit, tmp_path):
    rules, roster, catalog = setup
    points = {f: dict(t) for f, t in rules.points.items()}
    points["采用"]["中央级"] = Fraction(45)
    points["综合"]["区级"] = Fraction(1, 4)
    path = tmp_path / "t.xlsx"
    write_template(path, unit=unit, year=YEAR, roster=roster, catalog=catalog,
                   rules=dataclasses.replace(rules, points=points))
    ws = openpyxl.load_workbook(path)[INSTRUCTIONS]
    table = {r[1]: r[2:2 + len(rules.levels)] for r in ws.iter_rows(values_only=True) if r[1] in rules.forms}
    assert table["采用"][-1] == "45" and table["综合"][0] == "0.25"


# ---------------------------------------------------------------- fingerprint


def test_fingerprint_sheet(wb, unit):
    ws = wb[META_SHEET]
    pairs = [(r[0], r[1]) for r in ws.iter_rows(min_row=1, max_row=5, max_col=2, values_only=True)]
    assert pairs == [
        ("zg-excel", "fingerprint"),
        ("unit", unit.name),
        ("year", YEAR),
        ("template_version", TEMPLATE_VERSION),
        ("category", unit.category),
    ]
    assert isinstance(pairs[2][1], int)


def test_custom_properties(wb, unit):
    props = {p.name: p.value for p in wb.custom_doc_props.props}
    assert props["zg_unit"] == unit.name
    assert props["zg_year"] == YEAR
    assert props["zg_template_version"] == TEMPLATE_VERSION
    assert wb.properties.created == dt.datetime(YEAR, 1, 1)


# ---------------------------------------------------------------- determinism and files


def test_byte_identical(setup, unit, tmp_path, template):
    rules, roster, catalog = setup
    again = tmp_path / "again.xlsx"
    write_template(again, unit=unit.name, year=YEAR, roster=roster, catalog=catalog, rules=rules)
    assert again.read_bytes() == template.read_bytes()
    write_template(again, unit=unit, year=YEAR, roster=roster, catalog=catalog, rules=rules)  # overwrite
    assert again.read_bytes() == template.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.xlsx"]  # no temp file left


def test_other_year(setup, unit, tmp_path):
    rules, roster, catalog = setup
    path = tmp_path / "t.xlsx"
    write_template(path, unit=unit, year=2027, roster=roster, catalog=catalog, rules=rules)
    book = openpyxl.load_workbook(path)
    assert book[EVENTS].cell(TITLE_ROW, 1).value == EVENT_SHEET.title.format(year=2027)
    assert book[META_SHEET]["B3"].value == 2027
    col = next(i for i, c in enumerate(EVENT_SHEET.columns, start=1) if c.kind == "date")
    dv, _, _ = _validations(book[EVENTS])[get_column_letter(col)]
    assert int(dv.formula1) == (dt.date(2027, 1, 1) - dt.date(1899, 12, 30)).days


def test_unknown_unit(setup, tmp_path):
    rules, roster, catalog = setup
    with pytest.raises(ConfigError, match="没有"):
        write_template(tmp_path / "x.xlsx", unit="不存在的单位", year=YEAR, roster=roster, catalog=catalog, rules=rules)
    assert not list(tmp_path.iterdir())


def test_write_templates(setup, tmp_path):
    rules, roster, catalog = setup
    done: list[Path] = []
    out = tmp_path / "模板"
    paths = write_templates(out, year=YEAR, roster=roster, catalog=catalog, rules=rules, on_done=done.append)
    assert paths == done
    assert [p.name for p in paths] == [template_filename(u.name, YEAR) for u in roster.units]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)
    for u, p in zip(roster.units, paths):
        assert u.name in p.name
    book = openpyxl.load_workbook(paths[-1], read_only=True)
    assert book[META_SHEET]["B2"].value == roster.units[-1].name
    book.close()
    some = write_templates(tmp_path / "some", year=YEAR, roster=roster, catalog=catalog, rules=rules,
                           units=[roster.units[2].name, roster.units[0]])
    assert [p.name for p in some] == [template_filename(roster.units[i].name, YEAR) for i in (2, 0)]


# ---------------------------------------------------------------- LibreOffice round trip


@pytest.fixture(scope="module")
def lo_copy(template, tmp_path_factory) -> Path:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice（soffice）不在 PATH 上：跳过 LibreOffice 另存往返测试")
    base = tmp_path_factory.mktemp("lo")
    src = base / "src" / template.name
    src.parent.mkdir()
    shutil.copy(template, src)
    out = base / "out"
    profile = Path("/tmp") / f"lo_profile_{uuid.uuid4().hex}"
    try:
        proc = subprocess.run(
            [soffice, "--headless", f"-env:UserInstallation={profile.as_uri()}", "--convert-to", "xlsx",
             "--outdir", str(out), str(src)],
            capture_output=True, text=True, timeout=120,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    result = out / template.name
    assert result.exists(), f"soffice failed: {proc.returncode} {proc.stdout} {proc.stderr}"
    return result


@pytest.mark.slow
def test_libreoffice_keeps_fingerprint(lo_copy, unit):
    from python_calamine import CalamineWorkbook

    cw = CalamineWorkbook.from_path(str(lo_copy))
    vis = {m.name: str(m.visible) for m in cw.sheets_metadata}
    assert list(vis) == [INSTRUCTIONS, SUBMISSIONS, EVENTS, CATALOG_SHEET, META_SHEET]
    assert vis[META_SHEET].lower().endswith("hidden") and vis[EVENTS].lower().endswith("visible")
    meta = cw.get_sheet_by_name(META_SHEET).to_python()
    pairs = {r[0]: r[1] for r in meta[:5]}
    assert pairs["zg-excel"] == "fingerprint"
    assert pairs["unit"] == unit.name
    assert int(pairs["year"]) == YEAR
    assert str(pairs["template_version"]) == TEMPLATE_VERSION
    for schema in DATA_SHEETS:
        rows = cw.get_sheet_by_name(schema.name).to_python()
        assert rows[UNIT_ROW - 1][0] == f"{UNIT_LABEL}：{unit.name}"
        assert rows[HEADER_ROW - 1][: len(schema.columns)] == [c.name for c in schema.columns]


@pytest.mark.slow
def test_libreoffice_keeps_validations_and_protection(lo_copy, setup):
    rules, _, catalog = setup
    book = openpyxl.load_workbook(lo_copy)
    assert book[META_SHEET].sheet_state == "hidden"
    for schema in DATA_SHEETS:
        ws = book[schema.name]
        dvs = _validations(ws)
        for c, col in enumerate(schema.columns, start=1):
            dv, first, last = dvs[get_column_letter(c)]
            assert (first, last) == (FIRST_DATA_ROW, LAST_DATA_ROW)
            assert (dv.prompt or "") == col.prompt
            expected = {"date": "date", "choice": "list", "yesno": "list", "media": "list", "section": "list",
                        "count": "whole", "minutes": "decimal", "url": "custom", "files": "textLength"}.get(col.kind)
            assert dv.type == expected, col.name
            if col.kind == "media":
                assert _range_values(book, dv.formula1) == [o.name for o in catalog.outlets]
                assert dv.errorStyle == "information"
        assert ws.protection.sheet and not ws.protection.password
        assert all(getattr(ws.protection, o) is False for o in ALLOWED)
        assert ws.cell(UNIT_ROW, 1).protection.locked
    # Custom document properties survive a LibreOffice save (the year may come back as a float).
    props = {p.name: p.value for p in book.custom_doc_props.props}
    assert props["zg_unit"] == book[META_SHEET]["B2"].value
    assert int(props["zg_year"]) == YEAR


def test_ledger_columns_and_instructions(wb):
    """Issue 16: the three 台帐 proof columns follow the scored columns, before 备注; 填报说明 explains them."""
    heads = [c.value for c in wb[EVENTS][HEADER_ROW] if c.value]
    assert heads[-4:] == ["期号版面", "链接", "证明材料", "备注"]
    assert heads.index("期号版面") > heads.index("严重失实或政治性问题")
    text = "".join(str(c.value) for r in wb[INSTRUCTIONS].iter_rows() for c in r if c.value)
    assert "市级以上媒体录用" in text and "“证明材料”" in text and "“链接”" in text
