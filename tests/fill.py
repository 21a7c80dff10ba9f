"""Fill a unit's template the way a person does in Excel (used by the samples, the benchmark and tests).

openpyxl keeps the template's validations, protection and fingerprint, as
Excel does when a unit types into the sheet and saves.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

from zg_excel.schema import EVENTS, FIRST_DATA_ROW, HEADER_ROW, SUBMISSIONS


def fill_return(template: Path, out: Path, *, submissions: list[dict] = (), events: list[dict] = (),
                saved: dt.datetime | None = None) -> Path:
    """Copy ``template`` to ``out`` with rows written under the headers (dict keys = column names).

    ``saved`` becomes the workbook's own last-saved time (docProps/core.xml)
    and the file's modification time, as if the unit had saved it then.
    """
    import openpyxl

    wb = openpyxl.load_workbook(template)
    for name, rows in ((SUBMISSIONS, submissions), (EVENTS, events)):
        ws = wb[name]
        cols = {str(c.value): c.column for c in ws[HEADER_ROW] if c.value is not None}
        for r, rec in enumerate(rows, start=FIRST_DATA_ROW):
            for key, value in rec.items():
                ws.cell(row=r, column=cols[key], value=value)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    if saved is not None:
        set_saved_time(out, saved)
    return out


def set_saved_time(path: Path, saved: dt.datetime) -> None:
    """Rewrite dcterms:modified of an xlsx and set the file's mtime to ``saved``."""
    stamp = saved.strftime("%Y-%m-%dT%H:%M:%SZ")
    fd, tmp = tempfile.mkstemp(suffix=".xlsx", dir=Path(path).parent)
    os.close(fd)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = data.decode("utf-8")
                text = re.sub(r"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rf"\g<1>{stamp}\g<2>", text)
                data = text.encode("utf-8")
            dst.writestr(info, data)
    os.chmod(tmp, 0o644)
    shutil.move(tmp, path)
    ts = saved.replace(tzinfo=dt.timezone.utc).timestamp() if saved.tzinfo is None else saved.timestamp()
    os.utime(path, (ts, ts))
