"""退回单: one small printable workbook per unit whose files have errors.

Each slip lists, for one unit, every error-level problem of its files (file,
sheet, row, column, what was typed, the problem, how to fix it) and asks for
the whole file to be sent again. Problems of files that belong to no known
unit go on one slip, ``退回单-未识别单位.xlsx``. Slips live in
``output/退回/`` (names from ``Workspace.returnslip_path``); a slip of a unit that no longer has errors is removed, so
the folder always matches the latest merge. Rendered from the ``Result``
only; text is written as inert strings (no formulas, no links).
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from ..check import fix_text
from ..issues import ERROR, Issue
from ..ledger import MISSING as LEDGER_MISSING
from ..text import date_cn, wrapped_lines
from .rowstream import RowStream
from ..files import atomic_target
from ..workspace import UNKNOWN_UNIT, Workspace
from .report import period_label

if TYPE_CHECKING:
    from ..result import Result

FONT = "宋体"
COLUMNS = (("文件", 30), ("工作表", 10), ("行", 6), ("列", 14), ("填写内容", 18), ("问题", 40), ("修改方法", 44))
def slip_issues(result: Result) -> dict[str, list[Issue]]:
    """Error-level issues per unit (files of no known unit under ``未识别单位``), in roster order.

    Issues of superseded files are left out (the newer file is the one that
    counts); a file that could not be read at all is given to the unit its
    file name names, when the roster knows one.
    """
    superseded = {r.relpath for r in result.returns if r.superseded_by}
    file_unit = {f.relpath: f.unit for f in result.files if f.unit}
    found: dict[str, list[Issue]] = defaultdict(list)
    ledger: list[Issue] = []  # 缺少台帐证明材料: on a slip the unit gets anyway (or, when it costs points, on its own)
    for issue in result.issues.sorted():
        if issue.code == LEDGER_MISSING and issue.unit and issue.file not in superseded:
            ledger.append(issue)
            continue
        if issue.severity != ERROR or not issue.file or issue.file in superseded:
            continue
        unit = issue.unit or file_unit.get(issue.file, "")
        if not unit:
            guess = result.roster.find_in(Path(issue.file).stem)
            unit = guess.name if guess else UNKNOWN_UNIT
        found[unit].append(issue)
    for issue in ledger:
        if issue.unit in found or result.rules.proof_required:
            found[issue.unit].append(issue)
    order = {u.name: u.order for u in result.roster}
    return dict(sorted(found.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


def write_return_slips(result: Result, outdir: Path) -> list[Path]:
    """Write ``outdir/退回/退回单-<单位>.xlsx`` for every unit with errors; remove stale slips.

    ``outdir`` is the output folder of the merge. Returns the slips written.
    """
    ws = Workspace.for_output(Path(outdir))
    written: list[Path] = []
    for unit, issues in slip_issues(result).items():
        path = ws.returnslip_path(unit)
        _write_slip(path, result, unit, issues)
        written.append(path)
    keep = {p.name for p in written}
    for old in ws.returnslips():
        if old.name not in keep and old.is_file():
            old.unlink()
    return written


def _write_slip(path: Path, result: Result, unit: str, issues: list[Issue]) -> None:
    import xlsxwriter

    tmp = atomic_target(path)
    try:
        # constant_memory: the issue rows are streamed whole (RowStream); a unit with 400 台帐 notices
        # costs milliseconds instead of 3,000 per-cell calls. Scratch files go beside the slip.
        wb = xlsxwriter.Workbook(tmp, {"strings_to_formulas": False, "strings_to_urls": False,
                                       "strings_to_numbers": False, "constant_memory": True,
                                       "tmpdir": str(Path(tmp).parent)})
        issuer = result.rules.bulletin.issuer
        wb.set_properties({"title": f"关于{unit}报送文件问题的退回单", "author": issuer,
                           "created": dt.datetime.combine(result.as_of, dt.time(0))})
        ws = wb.add_worksheet("退回单")
        base = {"font_name": FONT, "valign": "vcenter"}
        title = wb.add_format({**base, "bold": True, "font_size": 16, "align": "center"})
        text = wb.add_format({**base, "font_size": 11, "text_wrap": True, "valign": "top"})
        head = wb.add_format({**base, "bold": True, "border": 1, "align": "center", "bg_color": "#DDEBF7",
                              "text_wrap": True})
        cell = wb.add_format({**base, "border": 1, "text_wrap": True, "font_size": 10})
        center = wb.add_format({**base, "border": 1, "align": "center", "font_size": 10})
        last = len(COLUMNS) - 1
        for c, (_, width) in enumerate(COLUMNS):
            ws.set_column(c, c, width)
        heading = "填报单位" if unit != UNKNOWN_UNIT else "未能确定填报单位的文件"
        ws.merge_range(0, 0, 0, last, f"关于{unit}报送文件问题的退回单" if unit != UNKNOWN_UNIT
                       else "关于未能确定填报单位的报送文件的退回单", title)
        ws.set_row(0, 30)
        files = list(dict.fromkeys(i.file for i in issues))
        ws.merge_range(1, 0, 1, last,
                       f"{heading}：{unit if unit != UNKNOWN_UNIT else '、'.join(files)}    "
                       f"统计期间：{period_label(result)}（截至{date_cn(result.as_of)}）"
                       f"    问题共{sum(i.code != LEDGER_MISSING for i in issues)}处"
                       + (f"，缺少台帐证明材料{notes}条" if (notes := sum(i.code == LEDGER_MISSING for i in issues))
                          else ""), text)
        ws.set_row(1, 32)
        intro = ("你单位报送的文件中有以下问题，相应的行（或整个文件）本次未能计分或计数。"
                 "请按“修改方法”逐条修改后，重新报送整个文件（不要只报送修改的行，也不要改动工作表名称和表头）。"
                 "修改后可用“检查退回文件”（zg-excel check）自行检查，确认无误再报送。")
        if any(i.code == LEDGER_MISSING for i in issues):  # 台帐 notices (zg_excel.ledger): never a change of points
            intro += ("“缺少台帐证明材料”" + ("的行按规定计0分" if result.rules.proof_required else "为提示，不影响计分")
                      + "：请补填期号版面、链接或证明材料，并随报表发送电子稿或扫描件。")
        ws.merge_range(2, 0, 2, last, intro, text)
        ws.set_row(2, 48 if len(intro) < 160 else 64)
        header_row = 4
        for c, (name, _) in enumerate(COLUMNS):
            ws.write_string(header_row, c, name, head)
        formats = [cell, center, center, cell, cell, cell, cell]
        with RowStream(ws, header_row + 1) as stream:
            for issue in issues:
                fix = fix_text(issue)
                texts = (issue.file, issue.sheet, str(issue.row or ""), issue.column, issue.value, issue.message, fix)
                # Neither Excel nor LibreOffice grows a row for wrapped text written by a program.
                lines = max(wrapped_lines(t or "", w) for t, (_, w) in zip(texts, COLUMNS))
                stream.add([issue.file or "", issue.sheet or "", issue.row or "", issue.column or "",
                            issue.value or "", issue.message or "", fix or ""],
                           formats, max(1, lines) * 13.5 + 3, blanks=True)
        end = header_row + len(issues) + 2
        day = result.generated.date() if isinstance(result.generated, dt.datetime) else dt.date.today()
        ws.merge_range(end, 0, end, last, f"{issuer}    {date_cn(day)}",
                       wb.add_format({**base, "align": "right"}))
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
        ws.repeat_rows(header_row)
        ws.center_horizontally()
        ws.set_footer("&C第 &P 页，共 &N 页")
        ws.print_area(0, 0, end, last)
        wb.close()
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
