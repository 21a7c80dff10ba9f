"""Write every output of a merge into the output folder, each atomically."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..memory import release_memory
from .bulletin import render_text, write_bulletin
from .result_json import write_result_json
from .returnslips import write_return_slips
from .summary import summary_filename, write_summary

RESULT_JSON = "result.json"
BULLETIN_TXT = "通报.txt"
BULLETIN_DOCX = "通报.docx"


def write_outputs(result, outdir: Path, *, bulletin_template: str, issued: dt.date | None = None,
                  docx: bool = True) -> list[Path]:
    """Summary workbook, 通报.txt/.docx, result.json and the 退回单, all rendered from ``result``."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    # The 通报 first: its .docx (lxml) and the summary (xlsxwriter's tables) are the two large
    # transient allocations; each starts from the memory in use, not from the other's leftovers.
    text = render_text(result, bulletin_template, issued=issued)
    bulletin = write_bulletin(result, text, outdir / BULLETIN_TXT, outdir / BULLETIN_DOCX if docx else None)
    release_memory(collect=docx)
    written = [write_summary(result, outdir / summary_filename(result)), *bulletin]
    release_memory()
    written.append(write_result_json(result, outdir / RESULT_JSON))
    written += write_return_slips(result, outdir)
    return written
