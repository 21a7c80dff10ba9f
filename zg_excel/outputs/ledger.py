"""The quarter's 台帐 folder: ``output/台帐/<2026年第三季度>/<单位>/`` with a renamed copy of every
proof file (``日期-媒体-标题.ext``, one copy per row it proves) and ``台帐索引.xlsx``.

What is copied and where is planned once (:func:`ledger_plan`), so the summary's 台帐 sheet links
to the same copies. Rendered from the ``Result`` only; the inbox files are read, never changed.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from ..files import atomic_target
from ..ledger import Proof, ProofFile, copy_name
from ..workspace import Workspace
from .summary import ledger_events

if TYPE_CHECKING:
    from ..model import EventRow
    from ..result import Result


@dataclass
class Entry:
    """One 台帐 row: the row, its proof and the copies made for it (paths relative to the output folder)."""

    row: EventRow
    proof: Proof | None
    copies: list[tuple[ProofFile, str]] = field(default_factory=list)


def ledger_label(result: Result) -> str:
    """The quarter's label (its folder's name is ``Workspace.ledger_period_dir``'s): ``2026年第三季度`` (``2026年第四季度（10月1日至10月31日）`` before its end)."""
    return result.period.quarter_heading


def ledger_plan(result: Result) -> list[Entry]:
    """The quarter's 台帐 rows (as the summary's 台帐 sheet lists them) and where each proof file is copied."""
    ws = Workspace.for_output(Path("."))
    label = ledger_label(result)
    taken: set[str] = set()
    out: list[Entry] = []
    for ev in ledger_events(result):
        proof = result.ledger.of(ev)
        entry = Entry(ev, proof)
        for f in proof.usable_files if proof else ():
            stem, suffix = copy_name(ev, f)
            n = 1
            while (rel := ws.ledger_copy_path(label, ev.unit, stem, suffix, n).as_posix()).casefold() in taken:
                n += 1
            taken.add(rel.casefold())
            entry.copies.append((f, rel))
        out.append(entry)
    return out


def proof_text(entry: Entry) -> str:
    """What proves the row, in words: the copies' names, else the link, else 期号版面; ``缺`` when none."""
    if entry.copies:
        return "；".join(PurePosixPath(rel).name for _, rel in entry.copies)
    ev = entry.row
    return ev.link or ev.issue_page or "缺"


def write_ledger(result: Result, outdir: Path) -> list[Path]:
    """Write the quarter's 台帐 folder into ``outdir`` (the staged output folder); the files written."""
    plan = ledger_plan(result)
    written: list[Path] = []
    for entry in plan:
        for f, rel in entry.copies:
            dest = Path(outdir) / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f.path, dest)
            written.append(dest)
    ws = Workspace.for_output(Path(outdir))
    label = ledger_label(result)
    if plan or result.ledger.files:
        index = ws.ledger_index(label)
        index.parent.mkdir(parents=True, exist_ok=True)
        _write_index(index, result, plan, label)
        written.append(index)
    return written


def _write_index(path: Path, result: Result, plan: list[Entry], label: str) -> None:
    import xlsxwriter

    tmp = atomic_target(path)
    try:
        wb = xlsxwriter.Workbook(tmp, {"strings_to_formulas": False, "strings_to_urls": False,
                                       "strings_to_numbers": False, "in_memory": True})
        base = {"font_name": "宋体", "font_size": 10, "valign": "vcenter"}
        title = wb.add_format({**base, "bold": True, "font_size": 14, "align": "center"})
        head = wb.add_format({**base, "bold": True, "border": 1, "align": "center", "bg_color": "#DDEBF7",
                              "text_wrap": True})
        cell = wb.add_format({**base, "border": 1, "text_wrap": True})
        link = wb.add_format({**base, "border": 1, "text_wrap": True, "font_color": "blue", "underline": 1})
        missing = wb.add_format({**base, "border": 1, "font_color": "#C00000", "bold": True, "align": "center"})
        ws = wb.add_worksheet("台帐索引")
        cols = [("序号", 5), ("单位", 16), ("稿件标题", 32), ("媒体 / 批示", 16), ("级别", 6), ("录用日期", 11),
                ("证明", 26), ("台帐文件", 34), ("原文件", 26), ("来源（文件 / 行）", 26)]
        for c, (_, w) in enumerate(cols):
            ws.set_column(c, c, w)
        ws.merge_range(0, 0, 0, len(cols) - 1, f"{label}市级以上媒体录用台帐索引", title)
        for c, (name, _) in enumerate(cols):
            ws.write_string(1, c, name, head)
        prefix = Workspace.for_output(Path(".")).ledger_period_dir(label).as_posix() + "/"
        r = 2
        for i, entry in enumerate(plan, start=1):
            ev = entry.row
            outlet = f"{ev.level}领导批示" if ev.form == "批示" else (ev.outlet or ev.outlet_text or "")
            proof = "；".join(x for x in (ev.issue_page, ev.link) if x) or ("" if entry.copies else "缺")
            copies = entry.copies or [(None, "")]
            for f, rel in copies:
                ws.write_number(r, 0, i, cell)
                for c, v in enumerate((ev.unit, ev.title or "", outlet, ev.level or "",
                                       ev.date.isoformat() if ev.date else ""), start=1):
                    ws.write_string(r, c, v, cell)
                ws.write_string(r, 6, proof, missing if proof == "缺" else cell)
                if rel:
                    ws.write_url(r, 7, f"external:{rel.removeprefix(prefix)}", link, string=PurePosixPath(rel).name)
                else:
                    ws.write_string(r, 7, "", cell)
                ws.write_string(r, 8, f.relpath if f else "", cell)
                ws.write_string(r, 9, f"{ev.where[0]} 第{ev.line}行", cell)
                r += 1
        ws.freeze_panes(2, 0)
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(1)
        other = wb.add_worksheet("未列入台帐的材料")
        ocols = [("单位", 16), ("文件", 40), ("大小（KB）", 10), ("类型", 12), ("说明", 44)]
        for c, (name, w) in enumerate(ocols):
            other.set_column(c, c, w)
            other.write_string(0, c, name, head)
        r = 1
        copied = {id(f) for e in plan for f, _ in e.copies}
        for f in result.ledger.files:
            if id(f) in copied:
                continue
            why = f.problem or ("未对应到本季度已计分的市级以上录用行" if not f.rows else "对应的录用行不在本季度")
            for c, v in enumerate((f.unit, f.relpath)):
                other.write_string(r, c, v, cell)
            other.write_number(r, 2, round(f.size / 1024, 1), cell)
            other.write_string(r, 3, f.kind or "其他", cell)
            other.write_string(r, 4, why, cell)
            r += 1
        wb.close()
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def zip_ledger(output: Path, label: str) -> Path:
    """``output/台帐/<label>.zip``: the quarter's 台帐 folder as one file to hand over."""
    ws = Workspace.for_output(Path(output))
    folder = ws.ledger_period_dir(label)
    target = ws.ledger_zip(label)
    tmp = atomic_target(target)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in ws.ledger_files(label):
                zf.write(p, p.relative_to(folder.parent).as_posix())
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target
