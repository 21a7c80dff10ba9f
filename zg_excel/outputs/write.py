"""Write every output of a merge into the output folder, each atomically, at the paths ``Workspace`` names."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from ..memory import release_memory
from ..workspace import Workspace
from .bulletin import render_text, write_bulletin
from .result_json import write_result_json
from .returnslips import write_return_slips
from .summary import write_summary

if TYPE_CHECKING:
    from ..result import Result


def write_outputs(result: Result, outdir: Path, *, bulletin_template: str, issued: dt.date | None = None,
                  docx: bool = True) -> list[Path]:
    """Summary workbook, 通报.txt/.docx, result.json and the 退回单, all rendered from ``result``."""
    ws = Workspace.for_output(Path(outdir))
    ws.output.mkdir(parents=True, exist_ok=True)
    # The 通报 first: its .docx (lxml) and the summary (xlsxwriter's tables) are the two large
    # transient allocations; each starts from the memory in use, not from the other's leftovers.
    text = render_text(result, bulletin_template, issued=issued)
    bulletin = write_bulletin(result, text, ws.bulletin_txt, ws.bulletin_docx if docx else None)
    release_memory(collect=docx)
    written = [write_summary(result, ws.summary_path(result.year)), *bulletin]
    release_memory()
    written.append(write_result_json(result, ws.result_json))
    written += write_return_slips(result, outdir)
    return written
