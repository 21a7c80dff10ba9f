"""Build in-memory returns (RawBook) in the template's layout, for tests that need no file I/O."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from zg_excel import TEMPLATE_VERSION
from zg_excel.rules import load_rules
from zg_excel.intake.raw import RawBook, RawSheet
from zg_excel.merge import score_books
from zg_excel.roster import load_catalog, load_roster
from zg_excel.schema import EVENT_SHEET, META_SHEET, SUBMISSION_SHEET

YEAR = 2026


def sheet(schema, unit: str, rows: list[dict], year: int = YEAR) -> RawSheet:
    names = [c.name for c in schema.columns]
    grid: list[list] = [[schema.title.format(year=year)], [f"填报单位：{unit}"], list(names)]
    for rec in rows:
        unknown = set(rec) - set(names)
        assert not unknown, unknown
        grid.append([rec.get(n) for n in names])
    return RawSheet(name=schema.name, rows=grid)


def book(unit: str, events: list[dict] = (), submissions: list[dict] = (), *, year: int = YEAR,
         fingerprint: bool = True, saved: dt.datetime | None = None) -> RawBook:
    sheets = [sheet(SUBMISSION_SHEET, unit, list(submissions), year), sheet(EVENT_SHEET, unit, list(events), year)]
    if fingerprint:
        sheets.append(RawSheet(name=META_SHEET, hidden=True, rows=[
            ["zg-excel", "fingerprint"], ["unit", unit], ["year", year], ["template_version", TEMPLATE_VERSION]]))
    return RawBook(path=f"/inbox/{unit}.xlsx", format="xlsx", sheets=sheets, saved_time=saved)


def score(files: dict[str, RawBook], *, as_of=dt.date(YEAR, 9, 30), rules=None):
    rules = rules or load_rules()
    roster, catalog = load_roster(None, rules), load_catalog(None, rules)
    items = [(name, b, dt.datetime(YEAR, 10, 1)) for name, b in files.items()]
    return score_books(items, year=YEAR, as_of=as_of, rules=rules, roster=roster, catalog=catalog)


def ev(title, form, outlet=None, date="2026-03-05", **kw) -> dict:
    rec = {"稿件标题": title, "录用形式": form, "媒体名称": outlet, "录用日期": date}
    rec.update(kw)
    return rec


def F(x) -> Fraction:
    return Fraction(str(x))
