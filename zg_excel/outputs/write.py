"""Write every output of a merge as one set: staged in ``output/.zg-staging-<run id>/``, then moved
into place together (:class:`zg_excel.files.Staging`), at the paths ``Workspace`` names.

Every output carries the run's id (``Result.run_id``): result.json's ``run_id``, the summary
workbook's and the 通报.docx's document properties; result.json also records 通报.txt's sha256,
so ``mail`` can refuse to send files of two different runs.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..files import Staging, check_writable, new_run_id, sha256_file
from ..memory import release_memory
from ..workspace import Workspace
from .bulletin import render_text, write_bulletin
from .ledger import ledger_label, write_ledger
from .result_json import write_result_json
from .returnslips import slip_issues, write_return_slips
from .summary import write_summary

if TYPE_CHECKING:
    from ..result import Result


def output_targets(ws: Workspace, year: int) -> list[Path]:
    """The files a merge replaces (for checking, before reading, that none is open or locked)."""
    return [ws.summary_path(year), ws.bulletin_txt, ws.bulletin_docx, ws.result_json, *ws.returnslips()]


def check_outputs(ws: Workspace, year: int | None = None) -> None:
    """``OutputError`` now, before any file is read, if an output cannot be replaced."""
    year = year or dt.date.today().year
    targets = output_targets(ws, year)
    check_writable(ws.output, [t for t in targets if t.parent == ws.output])
    if ws.returnslips_dir.is_dir():
        check_writable(ws.returnslips_dir, ws.returnslips())


DOCX_RUN_ID = "dc:identifier"  # the core property of 通报.docx that holds the run id


def stamp_docx(path: Path, run_id: str) -> None:
    """Set ``run_id`` as 通报.docx's identifier (core property), keeping every other part byte for byte."""
    import zipfile

    with zipfile.ZipFile(path) as zin:
        parts = [(info, zin.read(info)) for info in zin.infolist()]
    tmp = path.with_name(".~" + path.name)
    with zipfile.ZipFile(tmp, "w") as zout:
        for info, data in parts:
            if info.filename == "docProps/core.xml":
                text = data.decode("utf-8")
                text = re.sub(r"<dc:identifier>.*?</dc:identifier>|<dc:identifier/>", "", text)
                text = text.replace("</cp:coreProperties>",
                                    f"<{DOCX_RUN_ID}>{run_id}</{DOCX_RUN_ID}></cp:coreProperties>")
                data = text.encode("utf-8")
            zout.writestr(info, data)
    os.replace(tmp, path)


def docx_available() -> bool:
    """Whether python-docx and its compiled lxml are installed (the 完整版)."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("docx", "lxml"))


def write_outputs(result: Result, outdir: Path, *, bulletin_template: str, issued: dt.date | None = None,
                  docx: bool = True) -> list[Path]:
    """Summary workbook, 通报.txt/.docx, result.json and the 退回单, all rendered from ``result``,
    replacing the previous set together or not at all (``OutputError`` says why)."""
    ws = Workspace.for_output(Path(outdir))
    if docx and not docx_available():  # the pure-Python install (no lxml wheel): said once, the rest is the same
        docx = False
        result.issues.info("docx_missing", "未安装 python-docx，未生成通报.docx",
                           fix="通报.txt 已生成；需要 Word 版通报请安装完整版（见 安装说明.txt）")
    result.run_id = result.run_id or new_run_id()
    with Staging(ws.output, result.run_id) as staging:
        st = Workspace.for_output(staging.dir)
        # The 通报 first: its .docx (lxml) and the summary (xlsxwriter's tables) are the two large
        # transient allocations; each starts from the memory in use, not from the other's leftovers.
        text = render_text(result, bulletin_template, issued=issued)
        write_bulletin(result, text, st.bulletin_txt, st.bulletin_docx if docx else None)
        if docx:
            stamp_docx(st.bulletin_docx, result.run_id)
        release_memory(collect=docx)
        write_summary(result, st.summary_path(result.year))
        release_memory()
        write_return_slips(result, staging.dir)
        write_result_json(result, st.result_json, files={ws.bulletin_txt.name: sha256_file(st.bulletin_txt)})
        keep = {ws.returnslip_path(unit).name for unit in slip_issues(result)}
        stale = [p for p in ws.returnslips() if p.name not in keep]
        label = ledger_label(result)  # the quarter's 台帐 folder: copies of the proof files and their index
        copied = {p.relative_to(staging.dir) for p in write_ledger(result, staging.dir)}
        stale += [p for p in ws.ledger_files(label) if p.relative_to(ws.output) not in copied]
        written = staging.commit(remove=stale)
    first = [ws.summary_path(result.year), ws.bulletin_txt, ws.bulletin_docx, ws.result_json]
    return [p for p in first if p in written] + [p for p in written if p not in first]
