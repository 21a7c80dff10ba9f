"""Floors: the least any tool must spend on the same input and output.

    python bench/floor.py read WORKDIR [OUT.xlsx]
    python bench/floor.py templates WORKDIR OUTDIR

``read``: python-calamine reads 报送登记 and 录用登记 of every file of
``WORKDIR/inbox`` (one process, files in name order), then xlsxwriter in
constant_memory mode writes one sheet with one row per 录用登记 row read and 18
columns (as the summary's 录用明细), no formats. No validation, no scoring.

``templates``: xlsxwriter writes, for every unit of the working folder's
roster, a workbook with the template's five sheets and cell texts (填报说明,
报送登记, 录用登记, 媒体目录, _zg) but no styles, no data validation, no
protection, no print setup, no fsync: the baseline of ``zg-excel template``.

Both print one JSON line.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

SHEETS = ("报送登记", "录用登记")
HEADER_ROWS = 3  # title, 填报单位, header
DETAIL_COLUMNS = 18


def floor_read(workdir: Path, out: Path) -> dict:
    from python_calamine import CalamineWorkbook
    import xlsxwriter

    t0 = time.perf_counter()
    files = failed = subs = 0
    events: list[tuple[str, int, list]] = []
    paths = []
    for dirpath, _, names in os.walk(workdir / "inbox"):
        paths += [Path(dirpath) / n for n in names if n.lower().endswith(".xlsx") and not n.startswith("~$")]
    for path in sorted(paths):
        try:
            wb = CalamineWorkbook.from_path(str(path))
            sub_rows = wb.get_sheet_by_name(SHEETS[0]).to_python()
            ev_rows = wb.get_sheet_by_name(SHEETS[1]).to_python()
            wb.close()
        except Exception:  # noqa: BLE001
            failed += 1
            continue
        files += 1
        subs += sum(1 for r in sub_rows[HEADER_ROWS:] if any(v != "" for v in r))
        name = path.name
        for i, r in enumerate(ev_rows[HEADER_ROWS:], start=HEADER_ROWS + 1):
            if any(v != "" for v in r):
                events.append((name, i, r))
    t_read = time.perf_counter() - t0
    out.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(out), {"constant_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "strings_to_numbers": False})
    ws = wb.add_worksheet("录用明细")
    # The cheapest public calls: one typed write per non-empty cell (no write() dispatch).
    by_type = {str: ws.write_string, int: ws.write_number, float: ws.write_number, bool: ws.write_boolean,
               dt.date: ws.write_datetime, dt.datetime: ws.write_datetime, dt.time: ws.write_datetime}
    for r, (name, row_no, vals) in enumerate(events):
        vals = list(vals[:11]) + [""] * (11 - len(vals))
        cells = [name, *vals, SHEETS[1], row_no, name, vals[2], vals[4], vals[1]]
        assert len(cells) == DETAIL_COLUMNS
        for c, v in enumerate(cells):
            if v != "" and v is not None:
                by_type.get(type(v), ws.write)(r, c, v)
    wb.close()
    return {"files": files, "failed": failed, "events": len(events), "submissions": subs,
            "read_s": round(t_read, 3), "total_s": round(time.perf_counter() - t0, 3)}


def floor_templates(workdir: Path, outdir: Path) -> dict:
    import xlsxwriter

    from zg_excel.schema import CATALOG_SHEET, DATA_SHEETS, INSTRUCTIONS, META_SHEET, UNIT_LABEL
    from zg_excel.template import template_filename
    from zg_excel.workspace import Workspace

    t0 = time.perf_counter()
    year = 2026
    rules, roster, catalog = Workspace(workdir).load()
    try:  # the template's own instruction texts, when the private helper is there
        from zg_excel.template import _steps
    except ImportError:  # pragma: no cover
        _steps = None
    sections = [u.name for u in roster.sections(rules.section_category)]
    outdir.mkdir(parents=True, exist_ok=True)
    n = 0
    for unit in roster.units:
        wb = xlsxwriter.Workbook(str(outdir / template_filename(unit.name, year)),
                                 {"strings_to_formulas": False, "strings_to_urls": False})
        ws = wb.add_worksheet(INSTRUCTIONS)
        ws.write_string(0, 0, f"{year}年度组工信息报送登记表填报说明")
        ws.write_string(1, 0, f"{UNIT_LABEL}：{unit.name}    年度：{year}")
        steps = _steps(unit, year, rules) if _steps else ["填写说明" * 20] * 14
        r = 3
        for i, step in enumerate(steps, start=1):
            ws.write_string(r, 0, f"{i}.")
            ws.write_string(r, 1, step)
            r += 1
        for form in rules.forms:
            ws.write_string(r, 1, form)
            for c, level in enumerate(rules.levels, start=2):
                ws.write_string(r, c, str(rules.points.get(form, {}).get(level, 0)))
            r += 1
        for schema in DATA_SHEETS:
            ds = wb.add_worksheet(schema.name)
            ds.write_string(0, 0, schema.title.format(year=year))
            ds.write_string(1, 0, f"{UNIT_LABEL}：{unit.name}")
            for c, col in enumerate(schema.columns):
                ds.write_string(2, c, col.name)
        cs = wb.add_worksheet(CATALOG_SHEET)
        for c, h in enumerate(("媒体名称", "级别", "类别", "别名", "备注")):
            cs.write_string(0, c, h)
        for r, o in enumerate(catalog.outlets, start=1):
            for c, v in enumerate((o.name, o.level, o.group, "；".join(o.aliases), o.note)):
                cs.write_string(r, c, v)
        ms = wb.add_worksheet(META_SHEET)
        for r, (k, v) in enumerate((("zg-excel", "fingerprint"), ("unit", unit.name), ("year", str(year)),
                                    ("template_version", "1"), ("category", unit.category))):
            ms.write_string(r, 0, k)
            ms.write_string(r, 1, v)
        ms.write_string(0, 3, "list:sections")
        for r, s in enumerate(sections, start=1):
            ms.write_string(r, 3, s)
        wb.close()
        n += 1
    return {"templates": n, "total_s": round(time.perf_counter() - t0, 3)}


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in ("read", "templates"):
        raise SystemExit(__doc__)
    mode, workdir = args[0], Path(args[1])
    if mode == "read":
        out = Path(args[2]) if len(args) > 2 else workdir / "output" / "floor.xlsx"
        got = floor_read(workdir, out)
    else:
        sys.path.append(str(Path(__file__).resolve().parent.parent))  # after PYTHONPATH (run.py --snapshot)
        outdir = Path(args[2]) if len(args) > 2 else workdir / "floor_templates"
        got = floor_templates(workdir, outdir)
    print(json.dumps(got, ensure_ascii=False))


if __name__ == "__main__":
    main()
